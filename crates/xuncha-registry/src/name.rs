//! Company-name normalisation for matching a posting's publisher against the 名录.
//!
//! Two keys are derived from a name:
//!
//! - the **normalised** key ([`normalize_name`]): the same company written differently;
//! - the **region-free** key: the normalised key without a leading province or city
//!   name and without a bracketed one (`西安市示例人力资源有限公司`,
//!   `示例人力资源（西安）有限公司` and `示例人力资源有限公司` share it).
//!
//! The first is safe: it only removes differences of writing. The second is not quite:
//! in a registered name (企业名称 = 行政区划 + 字号 + 行业 + 组织形式) the region is part
//! of the name, and two companies differing only by region are different legal persons.
//! So a registry accepts a region-free match only when
//!
//! - what is left still has a 字号 (`人力资源` alone names no one);
//! - the regions do not contradict each other: a name that lost 郑州 is not the one that
//!   lost 西安 or is registered in 陕西省西安市 (a side without a region says nothing);
//! - every entry sharing the key is one organisation (see [`Registry`](crate::Registry)),
//!
//! and reports it as such ([`MatchedBy::NameWithoutRegion`](crate::MatchedBy)) so an
//! analyst can see it was not an exact match. Only province names and city-level names
//! (ending in 市, 自治州) are removed, never district names, which are too often part of a
//! 字号.

use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Organisational forms, longest first, removed from the end of a name. Posters and
/// lists write 有限公司 for 有限责任公司 and drop 股份; the 字号 is what identifies.
const FORMS: [&str; 5] = [
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "公司",
];

/// Branch suffixes: `…有限公司西安分公司` is matched as its parent `…有限公司`.
const BRANCHES: [&str; 3] = ["分公司", "分店", "营业部"];

/// Longest branch label kept between the parent name and the branch suffix.
const MAX_BRANCH_LABEL: usize = 12;

/// Provinces and province-level divisions, full and short forms.
const PROVINCES: [(&str, &str); 34] = [
    ("北京市", "北京"),
    ("天津市", "天津"),
    ("上海市", "上海"),
    ("重庆市", "重庆"),
    ("河北省", "河北"),
    ("山西省", "山西"),
    ("辽宁省", "辽宁"),
    ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"),
    ("江苏省", "江苏"),
    ("浙江省", "浙江"),
    ("安徽省", "安徽"),
    ("福建省", "福建"),
    ("江西省", "江西"),
    ("山东省", "山东"),
    ("河南省", "河南"),
    ("湖北省", "湖北"),
    ("湖南省", "湖南"),
    ("广东省", "广东"),
    ("海南省", "海南"),
    ("四川省", "四川"),
    ("贵州省", "贵州"),
    ("云南省", "云南"),
    ("陕西省", "陕西"),
    ("甘肃省", "甘肃"),
    ("青海省", "青海"),
    ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"),
    ("广西壮族自治区", "广西"),
    ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"),
    ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"),
    ("澳门特别行政区", "澳门"),
];

/// Normalises a company name for matching: full-width letters, digits and brackets
/// folded to half-width, ASCII letters upper-cased, spaces and punctuation removed
/// (bracket *contents* are kept), a branch suffix (`…有限公司XX分公司`, `…公司XX分店`,
/// `…公司XX营业部`) cut back to the parent, and the organisational form
/// (股份有限公司, 有限责任公司, 有限公司, 股份公司, 公司) removed. Regions are kept: see the
/// module documentation.
///
/// ```
/// use xuncha_registry::normalize_name;
/// let k = normalize_name("示例人力资源（西安）有限公司");
/// assert_eq!(k, normalize_name("示例人力资源(西安)有限责任公司"));
/// assert_eq!(k, normalize_name("示例人力资源 (西安) 有限公司 雁塔分公司"));
/// assert_eq!(k, "示例人力资源西安");
/// assert_ne!(k, normalize_name("示例人力资源有限公司"));
/// ```
pub fn normalize_name(name: &str) -> String {
    keys(name, &RegionTokens::default()).norm
}

/// The keys of one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameKeys {
    /// The normalised key.
    pub norm: String,
    /// The region-free key (equal to `norm` when the name has no region to remove).
    pub bare: String,
    /// Whether a branch suffix was cut.
    pub branch: bool,
    /// The region names removed for `bare`, in short form (西安市 → 西安).
    pub regions: Vec<String>,
}

/// Province and city names that may be removed from names for the region-free key.
/// The provinces are always in; `cities` are those of the regions given.
#[derive(Debug, Clone, Default)]
pub(crate) struct RegionTokens {
    cities: Vec<String>,
}

static PROVINCE_TOKENS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| PROVINCES.iter().flat_map(|(f, s)| [*f, *s]).collect());

impl RegionTokens {
    /// The provinces plus the city-level names in the given region cells.
    pub fn from_regions<'a>(regions: impl IntoIterator<Item = &'a str>) -> RegionTokens {
        let mut set = BTreeSet::new();
        for r in regions {
            set.extend(region_tokens(r));
        }
        RegionTokens {
            cities: set.into_iter().collect(),
        }
    }

    fn tokens(&self) -> impl Iterator<Item = &str> {
        self.cities
            .iter()
            .map(String::as_str)
            .chain(PROVINCE_TOKENS.iter().copied())
    }

    /// `s` without its longest leading region name, if at least two characters remain.
    fn strip_prefix<'s>(&self, s: &'s str) -> Option<&'s str> {
        self.tokens()
            .filter(|t| s.starts_with(t))
            .max_by_key(|t| t.len())
            .map(|t| &s[t.len()..])
            .filter(|rest| rest.chars().count() >= 2)
    }

    fn is_region(&self, s: &str) -> bool {
        self.tokens().any(|t| t == s)
    }
}

/// City-level and province tokens of one region cell (`陕西省西安市雁塔区` → 陕西省, 陕西,
/// 西安市, 西安). District and county names are left out on purpose.
pub(crate) fn region_tokens(region: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in region.split(|c: char| !c.is_alphanumeric()) {
        let mut cur = String::new();
        let chars: Vec<char> = piece.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            cur.push(c);
            let ends_unit = matches!(c, '省' | '市' | '县' | '区')
                || (c == '州' && i >= 2 && chars[i - 2..i] == ['自', '治']);
            if ends_unit {
                push_unit(&mut out, std::mem::take(&mut cur));
            }
        }
    }
    out
}

fn push_unit(out: &mut Vec<String>, unit: String) {
    let n = unit.chars().count();
    if n < 3 {
        return;
    }
    if unit.ends_with("自治州") {
        out.push(unit.chars().take(2).collect());
        out.push(unit);
    } else if unit.ends_with('市') || unit.ends_with('省') {
        out.push(unit.chars().take(n - 1).collect());
        out.push(unit);
    } else if unit.ends_with("自治区") {
        // Province-level ones are in PROVINCES already.
        out.push(unit);
    }
}

fn fold(c: char) -> Option<char> {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    match c {
        '(' | '[' | '{' | '【' | '〔' | '〖' => Some('('),
        ')' | ']' | '}' | '】' | '〕' | '〗' => Some(')'),
        c if c.is_alphanumeric() => Some(c.to_ascii_uppercase()),
        _ => None,
    }
}

fn strip_branch(s: &str) -> (&str, bool) {
    for suffix in BRANCHES {
        if let Some(head) = s.strip_suffix(suffix) {
            if let Some(at) = head.rfind("公司") {
                let end = at + "公司".len();
                if head[end..].chars().count() <= MAX_BRANCH_LABEL {
                    return (&head[..end], true);
                }
            }
        }
    }
    (s, false)
}

fn strip_form(s: &str) -> &str {
    FORMS
        .iter()
        .find_map(|f| s.strip_suffix(f))
        .filter(|rest| rest.chars().count() >= 2)
        .unwrap_or(s)
}

/// Both keys of a name. `tokens` are the region names that may be removed.
pub(crate) fn keys(name: &str, tokens: &RegionTokens) -> NameKeys {
    let folded = folded(name);
    let (norm, branch) = norm_of_folded(&folded);
    let (bare, regions) = bare_of_folded(&folded, tokens, &norm);
    NameKeys {
        norm,
        bare,
        branch,
        regions,
    }
}

/// The name with its characters folded, brackets kept as `(` and `)`.
pub(crate) fn folded(name: &str) -> String {
    name.chars().filter_map(fold).collect()
}

/// The normalised key of a folded name, and whether a branch suffix was cut.
pub(crate) fn norm_of_folded(folded: &str) -> (String, bool) {
    let plain: String = folded.chars().filter(|c| !matches!(c, '(' | ')')).collect();
    let (parent, branch) = strip_branch(&plain);
    (strip_form(parent).to_string(), branch)
}

/// The region-free key of a folded name whose normalised key is `norm`, and the region
/// names removed (short forms).
pub(crate) fn bare_of_folded(
    folded: &str,
    tokens: &RegionTokens,
    norm: &str,
) -> (String, Vec<String>) {
    let mut regions = Vec::new();
    // Bracketed regions out, then leading region names.
    let mut unbracketed = String::with_capacity(folded.len());
    let mut rest = folded;
    while let Some(open) = rest.find('(') {
        unbracketed.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(')') {
            Some(close) => {
                let inside = &after[..close];
                if is_region_like(inside, tokens) {
                    regions.push(short_region(inside));
                } else {
                    unbracketed.push_str(inside);
                }
                rest = &after[close + 1..];
            }
            None => {
                rest = after;
            }
        }
    }
    unbracketed.push_str(rest);
    unbracketed.retain(|c| c != ')');
    let mut s = unbracketed.as_str();
    for _ in 0..3 {
        match tokens.strip_prefix(s) {
            Some(r) => {
                regions.push(short_region(&s[..s.len() - r.len()]));
                s = r;
            }
            None => break,
        }
    }
    let (parent, _) = strip_branch(s);
    let bare = strip_form(parent);
    if bare.chars().count() < 2 || FORMS.contains(&bare) {
        (norm.to_string(), Vec::new())
    } else {
        (bare.to_string(), regions)
    }
}

/// The short form of a region name: 陕西省 → 陕西, 西安市 → 西安, 广西壮族自治区 → 广西,
/// 延边朝鲜族自治州 → 延边.
fn short_region(t: &str) -> String {
    if let Some((_, short)) = PROVINCES.iter().find(|(full, _)| *full == t) {
        return short.to_string();
    }
    if t.ends_with("自治州") {
        return t.chars().take(2).collect();
    }
    let n = t.chars().count();
    if n >= 3 && (t.ends_with('市') || t.ends_with('省')) {
        return t.chars().take(n - 1).collect();
    }
    t.to_string()
}

/// Short forms of the province and city names in a region cell.
pub(crate) fn region_short_forms(region: &str) -> Vec<String> {
    let mut out: Vec<String> = region_tokens(region)
        .iter()
        .map(|t| short_region(t))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a name that lost the regions `query` can be the one that lost `entry` (or is
/// registered in them): a name of 西安 is not the one of 成都. Either side without a
/// region says nothing against it.
pub(crate) fn regions_compatible(query: &[String], entry: &[String]) -> bool {
    query.is_empty() || entry.is_empty() || query.iter().any(|q| entry.contains(q))
}

/// Industry words that end names, longest first.
const INDUSTRIES: [&str; 14] = [
    "人力资源服务",
    "人力资源",
    "人才服务",
    "职业介绍",
    "劳务派遣",
    "劳务服务",
    "企业管理",
    "管理咨询",
    "信息咨询",
    "劳务",
    "人才",
    "猎头",
    "咨询",
    "服务",
];

/// Whether a region-free key still has a 字号 (two characters or more besides industry
/// words). `人力资源` or `人才服务` alone names no one, and must not match whichever single
/// agency happens to be 某市人力资源有限公司.
pub(crate) fn has_trade_name(bare: &str) -> bool {
    let mut s = bare;
    for _ in 0..2 {
        match INDUSTRIES.iter().find_map(|w| s.strip_suffix(w)) {
            Some(rest) => s = rest,
            None => break,
        }
    }
    s.chars().count() >= 2
}

fn is_region_like(inside: &str, tokens: &RegionTokens) -> bool {
    let n = inside.chars().count();
    tokens.is_region(inside)
        || ((2..=8).contains(&n) && (inside.ends_with('市') || inside.ends_with('省')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> RegionTokens {
        RegionTokens::from_regions(["陕西省西安市雁塔区", "福建省 厦门市", "延边朝鲜族自治州"])
    }

    #[test]
    fn region_cells_give_city_and_province_names_only() {
        let t = region_tokens("陕西省西安市雁塔区");
        assert_eq!(t, ["陕西", "陕西省", "西安", "西安市"]);
        assert_eq!(
            region_tokens("延边朝鲜族自治州"),
            ["延边", "延边朝鲜族自治州"]
        );
        assert!(region_tokens("610100").is_empty());
    }

    #[test]
    fn width_case_space_and_brackets() {
        assert_eq!(
            normalize_name("ＡＢＣ 示例　人力（西安）有限公司"),
            "ABC示例人力西安"
        );
        assert_eq!(
            normalize_name("abc示例人力【西安】有限公司"),
            "ABC示例人力西安"
        );
    }

    #[test]
    fn forms_and_branches() {
        let k = normalize_name("示例人力资源有限公司");
        for v in [
            "示例人力资源有限责任公司",
            "示例人力资源股份有限公司",
            "示例人力资源公司",
            "示例人力资源有限公司西安分公司",
            "示例人力资源有限公司（雁塔分公司）",
            "示例人力资源有限公司高新营业部",
            "示例人力资源有限公司钟楼分店",
        ] {
            assert_eq!(normalize_name(v), k, "{v}");
        }
        // Without a parent form the branch cannot be told from the 字号.
        assert_eq!(normalize_name("示例人力西安分店"), "示例人力西安分店");
        // A name that is only a form keeps it.
        assert_eq!(normalize_name("公司"), "公司");
    }

    #[test]
    fn region_free_key() {
        let t = tokens();
        let a = keys("西安市示例人力资源有限公司", &t);
        let b = keys("示例人力资源（西安）有限公司", &t);
        let c = keys("陕西省西安市示例人力资源有限公司", &t);
        let d = keys("示例人力资源有限公司", &t);
        assert_eq!(a.bare, "示例人力资源");
        assert_eq!(b.bare, a.bare);
        assert_eq!(c.bare, a.bare);
        assert_eq!(d.bare, d.norm);
        assert_ne!(a.norm, d.norm);
        // District names stay: 雁塔 is not a token.
        assert_eq!(keys("雁塔示例有限公司", &t).bare, "雁塔示例");
        // A region alone is not a name.
        assert_eq!(keys("西安市有限公司", &t).bare, "西安市");
        assert_eq!(a.regions, ["西安"]);
        assert_eq!(b.regions, ["西安"]);
        assert_eq!(c.regions, ["陕西", "西安"]);
        assert!(regions_compatible(&c.regions, &a.regions));
        assert!(regions_compatible(&d.regions, &a.regions));
        assert!(has_trade_name("示例人力资源"));
        assert!(!has_trade_name("人力资源服务"));
        assert!(!has_trade_name("人才劳务"));
        let e = keys("厦门示例人力资源有限公司", &t);
        assert!(!regions_compatible(&e.regions, &a.regions));
    }
}
