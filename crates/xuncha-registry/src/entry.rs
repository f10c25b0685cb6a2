//! One row of a licensed-agency list.

use std::fmt;
use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::Date;

/// Words in a licence scope that cover recruiting online. The 44号 reissue notices write
/// the scope as "职业中介活动（开展网络招聘服务）"; some lists say 网上招聘 or 互联网招聘.
const ONLINE_SCOPE: [&str; 3] = ["网络招聘", "网上招聘", "互联网招聘"];

/// Where an entry was read from: file and 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file as given to the import.
    pub file: Arc<str>,
    /// Its line (for JSON arrays, the line the object starts on).
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A licensed agency as a 名录 lists it. An entry always has a name and a licence
/// number; everything else may be unknown (empty), as it often is in published lists.
///
/// ```
/// use xuncha_registry::{Date, Entry};
/// let e = Entry::new("示例人力资源有限公司", "990100120105")
///     .unwrap()
///     .with_scope("职业中介活动（开展网络招聘服务）")
///     .with_valid_until(Date::new(2028, 12, 31));
/// assert_eq!(e.covers_online(), Some(true));
/// assert!(!e.is_expired_on(Date::new(2028, 12, 31).unwrap()));
/// assert!(e.is_expired_on(Date::new(2029, 1, 1).unwrap()));
/// assert!(Entry::new(" ", "990100120105").is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    name: String,
    credit_code: Option<String>,
    licence_no: String,
    scope: Arc<str>,
    authority: Arc<str>,
    valid_until: Option<Date>,
    region: Arc<str>,
    origin: Option<Origin>,
}

/// Why an entry cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The name is empty.
    #[error("the agency name is empty")]
    NoName,
    /// The licence number is empty.
    #[error("the licence number is empty")]
    NoLicenceNo,
}

fn empty() -> Arc<str> {
    Arc::from("")
}

impl Entry {
    /// An entry with a name and a licence number (both trimmed, neither empty).
    pub fn new(name: &str, licence_no: &str) -> Result<Entry, EntryError> {
        let (name, licence_no) = (name.trim(), licence_no.trim());
        if name.is_empty() {
            return Err(EntryError::NoName);
        }
        if licence_no.is_empty() {
            return Err(EntryError::NoLicenceNo);
        }
        Ok(Entry {
            name: name.to_string(),
            credit_code: None,
            licence_no: licence_no.to_string(),
            scope: empty(),
            authority: empty(),
            valid_until: None,
            region: empty(),
            origin: None,
        })
    }

    /// Sets the 统一社会信用代码 (upper-cased; empty means unknown). It is kept as the list
    /// gives it even if its check character is wrong: the import warns about that.
    pub fn with_credit_code(mut self, code: &str) -> Entry {
        let code = code.trim().to_ascii_uppercase();
        self.credit_code = (!code.is_empty()).then_some(code);
        self
    }

    /// Sets the licensed scope (许可范围).
    pub fn with_scope(mut self, scope: &str) -> Entry {
        self.scope = Arc::from(scope.trim());
        self
    }

    /// Sets the issuing authority (发证机关).
    pub fn with_authority(mut self, authority: &str) -> Entry {
        self.authority = Arc::from(authority.trim());
        self
    }

    /// Sets the last day of validity; `None` is a licence without end date.
    pub fn with_valid_until(mut self, date: Option<Date>) -> Entry {
        self.valid_until = date;
        self
    }

    /// Sets the region (所在地区) as the list writes it.
    pub fn with_region(mut self, region: &str) -> Entry {
        self.region = Arc::from(region.trim());
        self
    }

    /// Sets where the entry was read from.
    pub fn with_origin(mut self, origin: Origin) -> Entry {
        self.origin = Some(origin);
        self
    }

    /// Registered name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 统一社会信用代码, if the list gives one.
    pub fn credit_code(&self) -> Option<&str> {
        self.credit_code.as_deref()
    }

    /// 人力资源服务许可证 number as the list writes it.
    pub fn licence_no(&self) -> &str {
        &self.licence_no
    }

    /// Licensed scope; empty if the list does not say.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// Issuing authority; empty if the list does not say.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Last day of validity; `None`: no end date.
    pub fn valid_until(&self) -> Option<Date> {
        self.valid_until
    }

    /// Region; empty if the list does not say.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Where it was read from.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// Whether the licence had run out by `day` (it is valid through `valid_until`).
    pub fn is_expired_on(&self, day: Date) -> bool {
        self.valid_until.is_some_and(|u| u < day)
    }

    /// Whether the scope covers recruiting online (网络招聘服务); `None` if the list gives
    /// no scope, which is not evidence either way.
    pub fn covers_online(&self) -> Option<bool> {
        (!self.scope.is_empty()).then(|| ONLINE_SCOPE.iter().any(|w| self.scope.contains(w)))
    }

    // Sharing the repetitive columns keeps a national registry small in memory.
    pub(crate) fn intern(&mut self, pool: &mut std::collections::HashSet<Arc<str>>) {
        for s in [&mut self.scope, &mut self.authority, &mut self.region] {
            *s = intern(pool, s);
        }
        if let Some(o) = &mut self.origin {
            o.file = intern(pool, &o.file);
        }
    }
}

fn intern(pool: &mut std::collections::HashSet<Arc<str>>, s: &Arc<str>) -> Arc<str> {
    if let Some(x) = pool.get(&**s) {
        return x.clone();
    }
    pool.insert(s.clone());
    s.clone()
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Entry", 8)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("credit_code", &self.credit_code)?;
        st.serialize_field("licence_no", &self.licence_no)?;
        st.serialize_field("scope", &*self.scope)?;
        st.serialize_field("authority", &*self.authority)?;
        st.serialize_field("valid_until", &self.valid_until)?;
        st.serialize_field("region", &*self.region)?;
        st.serialize_field("origin", &self.origin.as_ref().map(|o| o.to_string()))?;
        st.end()
    }
}

/// The key licence numbers are compared by: ASCII letters and digits only, full-width
/// folded, upper-cased. Lists and pages write the same number with different brackets,
/// 第/号 and spaces (`职介证字[2023]第01130052号` and `职介证字〔2023〕01130052` are one
/// number), and the digits are what the authority assigns. A number with no letters or
/// digits at all is its own key, without spaces.
///
/// ```
/// use xuncha_registry::licence_key;
/// assert_eq!(licence_key("职介证字[2023]第01130052号"), "202301130052");
/// assert_eq!(licence_key("职介证字〔２０２３〕01130052"), "202301130052");
/// assert_eq!(licence_key("350200rl1010"), "350200RL1010");
/// ```
pub fn licence_key(no: &str) -> String {
    let key: String = no
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF5A}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if key.is_empty() {
        no.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        key
    }
}
