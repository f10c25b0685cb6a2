//! Whether a publisher recruits for others (职业中介), which is what needs the licence.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use xuncha_core::Span;

use crate::name::normalize_name;

xuncha_core::str_enum! {
    /// What kind of sign of recruiting for others.
    #[derive(PartialOrd, Ord)]
    pub enum SignalKind("agency signal") {
        /// 代招, 代理招聘, 委托招聘.
        RecruitsForOthers => "recruits_for_others",
        /// 劳务中介, 职业中介, 中介公司.
        Intermediary => "intermediary",
        /// 推荐入职, 推荐进厂, 介绍入职, 安排进厂, 包进厂 (not 安排入职 or 安排上岗, which
        /// employers say of their own hires).
        Referral => "referral",
        /// 劳务输送, 输送人员 (not 输送带, a conveyor).
        LabourSupply => "labour_supply",
        /// 各大厂, 多家工厂, 多家企业: jobs at many employers.
        ManyEmployers => "many_employers",
        /// Several employers named in one posting.
        SeveralEmployers => "several_employers",
        /// The publisher's or company's name is that of an intermediary: 人力资源, 职业介绍,
        /// 人才服务, 猎头, 中介.
        AgencyName => "agency_name",
        /// 劳务派遣 in the name. Weak: a dispatch company holds a different licence
        /// (劳务派遣经营许可证) and is the employer of the workers it recruits, so this alone
        /// does not make a publisher an agency.
        DispatchName => "dispatch_name",
    }
}

impl SignalKind {
    /// Whether the signal alone shows that the publisher recruits for others.
    pub fn is_strong(self) -> bool {
        self != SignalKind::DispatchName
    }
}

/// A sign that a publisher recruits for others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgencySignal {
    /// What kind.
    pub kind: SignalKind,
    /// Where, in bytes of the text searched.
    pub span: Span,
    /// The words.
    pub matched: String,
}

static TEXT_SIGNALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<recruits>代招|代理招聘|代理招工|委托招聘|受托招聘|帮企业招)
      | (?P<intermediary>劳务中介|职业中介|人力中介|中介公司|中介机构)
      | (?P<referral>推荐入职|推荐进厂|介绍入职|介绍进厂|安排进厂|包进厂|送进厂)
      | (?P<supply>(?:劳务|人员|人力|员工|工人)输送|输送(?:人员|员工|工人|劳务|到|至|进))
      | (?P<many>各大厂|各大工厂|各大企业|等大厂|多家工厂|多家企业|多家名企|多家厂)
        ",
    )
    .unwrap()
});

static NAME_SIGNALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<agency>人力资源|职业介绍|人才服务|人才中介|猎头|中介)|(?P<dispatch>劳务派遣)")
        .unwrap()
});

/// Words right before a phrase that deny it: 非劳务中介, 谢绝中介公司, 不是中介机构.
const DENIALS: [&str; 9] = [
    "非", "不是", "并非", "无", "谢绝", "拒绝", "杜绝", "严禁", "不做",
];

fn chars_before(text: &str, at: usize, n: usize) -> &str {
    let from = text[..at]
        .char_indices()
        .rev()
        .nth(n - 1)
        .map_or(0, |(i, _)| i);
    &text[from..at]
}

fn chars_after(text: &str, at: usize, n: usize) -> &str {
    let to = text[at..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| at + i);
    &text[at..to]
}

/// Phrases in posting text that show recruiting for others: 代招, 代理招聘, 劳务中介,
/// 推荐入职/进厂, 劳务输送, 各大厂普工. A phrase denied just before it (非劳务中介, 谢绝中介公司)
/// or followed by 勿扰 does not count, nor does a staff referral bonus (推荐入职奖励).
///
/// ```
/// use xuncha_registry::{find_agency_signals, SignalKind};
/// let s = find_agency_signals("代招各大厂普工，推荐进厂，加微信");
/// let kinds: Vec<SignalKind> = s.iter().map(|s| s.kind).collect();
/// assert_eq!(kinds, [SignalKind::RecruitsForOthers, SignalKind::ManyEmployers, SignalKind::Referral]);
/// assert!(find_agency_signals("本公司直招，非劳务中介；输送带操作工").is_empty());
/// ```
pub fn find_agency_signals(text: &str) -> Vec<AgencySignal> {
    let mut out = Vec::new();
    for c in TEXT_SIGNALS.captures_iter(text) {
        let groups = [
            ("recruits", SignalKind::RecruitsForOthers),
            ("intermediary", SignalKind::Intermediary),
            ("referral", SignalKind::Referral),
            ("supply", SignalKind::LabourSupply),
            ("many", SignalKind::ManyEmployers),
        ];
        let Some((kind, m)) = groups.iter().find_map(|(g, k)| c.name(g).map(|m| (*k, m))) else {
            continue;
        };
        let before = chars_before(text, m.start(), 3);
        let after = chars_after(text, m.end(), 8);
        if DENIALS.iter().any(|d| before.ends_with(d)) || after.starts_with("勿扰") {
            continue;
        }
        if kind == SignalKind::Referral && after.contains('奖') {
            continue;
        }
        out.push(AgencySignal {
            kind,
            span: Span::new(m.start(), m.end()),
            matched: m.as_str().to_string(),
        });
    }
    out
}

/// Signs in a publisher's or company's *name* that it is an intermediary: 人力资源,
/// 职业介绍, 人才服务, 猎头, 中介 ([`SignalKind::AgencyName`]) or 劳务派遣
/// ([`SignalKind::DispatchName`], weak). A company's own HR department
/// (`…公司人力资源部`) and the 人力资源和社会保障 authorities are not agencies.
///
/// ```
/// use xuncha_registry::{agency_name_signals, SignalKind};
/// assert_eq!(agency_name_signals("示例人力资源有限公司")[0].kind, SignalKind::AgencyName);
/// assert!(agency_name_signals("示例科技有限公司人力资源部").is_empty());
/// assert!(!agency_name_signals("示例劳务派遣有限公司")[0].kind.is_strong());
/// ```
pub fn agency_name_signals(name: &str) -> Vec<AgencySignal> {
    let mut out = Vec::new();
    for c in NAME_SIGNALS.captures_iter(name) {
        let (kind, m) = match (c.name("agency"), c.name("dispatch")) {
            (Some(m), _) => (SignalKind::AgencyName, m),
            (None, Some(m)) => (SignalKind::DispatchName, m),
            _ => continue,
        };
        let after = chars_after(name, m.end(), 5);
        if m.as_str() == "人力资源"
            && (after.starts_with(['部', '处', '科', '组'])
                || after.starts_with("和社会保障")
                || after.starts_with("社会保障")
                || after.starts_with("管理部"))
        {
            continue;
        }
        out.push(AgencySignal {
            kind,
            span: Span::new(m.start(), m.end()),
            matched: m.as_str().to_string(),
        });
    }
    out
}

static EMPLOYER_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{Han}A-Za-z0-9()（）]{2,24}?(?:有限责任公司|股份有限公司|有限公司|电子厂)")
        .unwrap()
});

/// Employer names in text (`…有限公司`, `…股份有限公司`, `…电子厂`), one per employer:
/// the same employer written twice, once with words glued before it (`欢迎加入示例电子有限公司`),
/// is reported once. Chinese has no spaces, so a name's start is a guess; the dedup by
/// ending copes with that.
///
/// ```
/// use xuncha_registry::employers_named;
/// let e = employers_named("为示例电子有限公司、样例科技有限公司招普工；示例电子有限公司包吃住");
/// assert_eq!(e.len(), 2);
/// ```
pub fn employers_named(text: &str) -> Vec<(Span, String)> {
    let mut out: Vec<(Span, String, String)> = Vec::new();
    for m in EMPLOYER_NAME.find_iter(text) {
        let key = normalize_name(m.as_str());
        if out
            .iter()
            .any(|(_, _, k)| k.ends_with(&key) || key.ends_with(k.as_str()))
        {
            continue;
        }
        out.push((Span::new(m.start(), m.end()), m.as_str().to_string(), key));
    }
    out.into_iter().map(|(s, n, _)| (s, n)).collect()
}

/// Whether two names are one employer, for [`employers_named`]-style names whose start
/// may carry glued words: one normalised name ends with the other.
pub(crate) fn same_employer(a: &str, b: &str) -> bool {
    let (a, b) = (normalize_name(a), normalize_name(b));
    !a.is_empty() && !b.is_empty() && (a.ends_with(&b) || b.ends_with(&a))
}

/// The default number of distinct companies above which [`CompanySpread`] flags an
/// account.
pub const DEFAULT_MIN_COMPANIES: usize = 3;

/// A publisher account that posts jobs for several companies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublisherSpread {
    /// The account as first seen.
    pub publisher: String,
    /// The distinct companies (other than itself and its branches), as first written.
    pub companies: Vec<String>,
    /// How many postings were seen from it.
    pub postings: usize,
}

/// Collects (publisher, company) pairs of many postings and flags publisher accounts
/// that post jobs for several distinct companies: an account recruiting for others,
/// whatever its postings say (an employer's own
/// account may post only its own and its branches' jobs). Names are compared
/// normalised, so a branch counts as its parent and `有限责任公司` as `有限公司`.
///
/// ```
/// use xuncha_registry::CompanySpread;
/// let mut s = CompanySpread::new();
/// for (p, c) in [("王经理", "示例电子有限公司"), ("王经理", "样例科技有限公司"),
///                ("王经理", "例子食品有限公司"), ("示例电子有限公司", "示例电子有限公司西安分公司")] {
///     s.add(p, c);
/// }
/// let flagged = s.flagged(3);
/// assert_eq!(flagged.len(), 1);
/// assert_eq!(flagged[0].publisher, "王经理");
/// ```
#[derive(Debug, Default)]
pub struct CompanySpread {
    publishers: HashMap<String, Seen>,
}

#[derive(Debug)]
struct Seen {
    display: String,
    companies: BTreeMap<String, String>,
    postings: usize,
}

impl CompanySpread {
    /// Empty.
    pub fn new() -> CompanySpread {
        CompanySpread::default()
    }

    /// Records one posting's publisher and company.
    pub fn add(&mut self, publisher: &str, company: &str) {
        let (publisher, company) = (publisher.trim(), company.trim());
        if publisher.is_empty() {
            return;
        }
        let seen = self
            .publishers
            .entry(normalize_name(publisher))
            .or_insert_with(|| Seen {
                display: publisher.to_string(),
                companies: BTreeMap::new(),
                postings: 0,
            });
        seen.postings += 1;
        if company.is_empty() || same_employer(publisher, company) {
            return;
        }
        seen.companies
            .entry(normalize_name(company))
            .or_insert_with(|| company.to_string());
    }

    /// Accounts with at least `min_companies` distinct other companies, most first.
    pub fn flagged(&self, min_companies: usize) -> Vec<PublisherSpread> {
        let mut out: Vec<PublisherSpread> = self
            .publishers
            .values()
            .filter(|s| s.companies.len() >= min_companies.max(1))
            .map(|s| PublisherSpread {
                publisher: s.display.clone(),
                companies: s.companies.values().cloned().collect(),
                postings: s.postings,
            })
            .collect();
        out.sort_by(|a, b| {
            b.companies
                .len()
                .cmp(&a.companies.len())
                .then_with(|| a.publisher.cmp(&b.publisher))
        });
        out
    }
}

/// [`CompanySpread`] over a batch of pairs.
pub fn publishers_with_many_companies<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    min_companies: usize,
) -> Vec<PublisherSpread> {
    let mut s = CompanySpread::new();
    for (p, c) in pairs {
        s.add(p, c);
    }
    s.flagged(min_companies)
}
