//! One way to write an enum whose values travel as fixed strings (statuses, verdicts,
//! outcomes), so that the names in the database, in JSON, on the command line and in error
//! messages cannot drift apart.

/// Declares an enum of unit variants, each with its string: `as_str`, `ALL`, `Display`
/// (padded, for tables), `FromStr` (whose error names every accepted value) and a serde
/// `Serialize` that writes the string. The crate using it must depend on serde.
///
/// ```
/// xuncha_core::str_enum! {
///     /// Whether a door is open.
///     pub enum Door("door state") {
///         /// Open.
///         Open => "open",
///         /// Shut.
///         Shut => "shut",
///     }
/// }
/// assert_eq!(Door::Open.as_str(), "open");
/// assert_eq!("shut".parse::<Door>(), Ok(Door::Shut));
/// assert_eq!(
///     "ajar".parse::<Door>().unwrap_err(),
///     "unknown door state `ajar` (open, shut)"
/// );
/// assert_eq!(format!("[{:<6}]", Door::Open), "[open  ]");
/// ```
#[macro_export]
macro_rules! str_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $s:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $s)] $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value's string, as stored and printed.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)*
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)*
                    _ => Err(format!(
                        "unknown {} `{s}` ({})",
                        $what,
                        [$($s),*].join(", ")
                    )),
                }
            }
        }
    };
}
