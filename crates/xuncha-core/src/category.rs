use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! categories {
    ($( $variant:ident => $name:literal, $family:ident; )*) => {
        /// The label taxonomy of docs/labels.md: what kind of unlawful or suspicious content a
        /// lead is about.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum Category {
            $(
                #[doc = concat!("`", $name, "`")]
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl Category {
            /// Every category, in taxonomy order.
            pub const ALL: &'static [Category] = &[$(Category::$variant),*];

            /// The dotted name used in rule files, JSON and metrics.
            pub fn as_str(self) -> &'static str {
                match self { $(Category::$variant => $name,)* }
            }

            /// The family the category belongs to.
            pub fn family(self) -> Family {
                match self { $(Category::$variant => Family::$family,)* }
            }
        }

        impl FromStr for Category {
            type Err = ParseCategoryError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Category::$variant),)*
                    _ => Err(ParseCategoryError(s.to_string())),
                }
            }
        }
    };
}

categories! {
    DiscriminationGender => "discrimination.gender", Discrimination;
    DiscriminationAge => "discrimination.age", Discrimination;
    DiscriminationRegion => "discrimination.region", Discrimination;
    DiscriminationHealth => "discrimination.health", Discrimination;
    DiscriminationEthnicityReligion => "discrimination.ethnicity_religion", Discrimination;
    DiscriminationMaritalPregnancy => "discrimination.marital_pregnancy", Discrimination;
    DiscriminationOther => "discrimination.other", Discrimination;
    FeeDeposit => "fee.deposit", Fee;
    FeeTraining => "fee.training", Fee;
    FeeOther => "fee.other", Fee;
    FakeTaskScam => "fake.task_scam", Fake;
    FakeHighPayLowBar => "fake.high_pay_low_bar", Fake;
    FakeOverseas => "fake.overseas", Fake;
    FakeOther => "fake.other", Fake;
    LicenseMissing => "license.missing", License;
    LicenseUndisplayed => "license.undisplayed", License;
}

impl Category {
    /// Whether a single posting can raise this category (`license.undisplayed` is raised
    /// from an operator's pages, not from a posting).
    pub fn is_posting_level(self) -> bool {
        self != Category::LicenseUndisplayed
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown category name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseCategoryError(pub String);

impl fmt::Display for ParseCategoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown category `{}` (expected one of: ", self.0)?;
        for (i, c) in Category::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(c.as_str())?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for ParseCategoryError {}

crate::str_enum! {
    /// The families categories group into, for reporting.
    #[derive(PartialOrd, Ord, Deserialize, schemars::JsonSchema)]
    pub enum Family("family") {
        /// Discriminatory requirements.
        Discrimination => "discrimination",
        /// Fees and deposits charged to job seekers.
        Fee => "fee",
        /// Fake-job and fraud signatures.
        Fake => "fake",
        /// Unlicensed operators.
        License => "license",
    }
}

/// Legal status of what a rule detects (docs/labels.md). Ordered from least to
/// most serious, so `max` gives a lead's severity and `--min-severity` is a comparison.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Only policy disfavours it: for a human look, never a 违法线索 on its own.
    Disfavoured,
    /// A fraud signal, to combine with others or refer to the police.
    Indicator,
    /// Forbidden only by a provincial or municipal rule, and the posting is located there.
    LocallyIllegal,
    /// Forbidden by a national law, administrative regulation or ministry rule.
    Illegal,
}

impl Severity {
    /// Every severity, least serious first.
    pub const ALL: &'static [Severity] = &[
        Severity::Disfavoured,
        Severity::Indicator,
        Severity::LocallyIllegal,
        Severity::Illegal,
    ];

    /// The snake-case name used in rule files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Disfavoured => "disfavoured",
            Severity::Indicator => "indicator",
            Severity::LocallyIllegal => "locally_illegal",
            Severity::Illegal => "illegal",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown severity name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSeverityError(pub String);

impl fmt::Display for ParseSeverityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown severity `{}` (expected illegal, locally_illegal, disfavoured or indicator)",
            self.0
        )
    }
}

impl std::error::Error for ParseSeverityError {}

impl FromStr for Severity {
    type Err = ParseSeverityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ParseSeverityError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
        assert_eq!(Category::ALL.len(), 16);
        assert_eq!(
            Category::ALL
                .iter()
                .filter(|c| c.is_posting_level())
                .count(),
            15
        );
    }

    #[test]
    fn unknown_category_names_the_choices() {
        let err = "discrimination.sex".parse::<Category>().unwrap_err();
        assert!(err.to_string().contains("discrimination.gender"));
    }

    #[test]
    fn severity_orders_by_legal_weight() {
        assert!(Severity::Illegal > Severity::LocallyIllegal);
        assert!(Severity::LocallyIllegal > Severity::Indicator);
        assert!(Severity::Indicator > Severity::Disfavoured);
        assert_eq!(
            "locally_illegal".parse::<Severity>().unwrap(),
            Severity::LocallyIllegal
        );
        assert!("severe".parse::<Severity>().is_err());
    }
}
