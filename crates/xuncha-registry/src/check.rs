//! The decision: does this posting's publisher recruit for others without a licence the
//! 名录 confirms?

use std::sync::{Arc, LazyLock};

use regex::Regex;
use serde::Serialize;
use xuncha_core::{Category, Finding, Posting, PublisherKind, Severity, Span};

use crate::agency::{agency_name_signals, employers_named, find_agency_signals, same_employer};
use crate::credit_code::{find_credit_codes, CreditCodeMention};
use crate::registry::{sort_best_first, Match, MatchedBy, Registry};
use crate::text::{find_licence_numbers, find_no_licence_statements, LicenceMention};
use crate::{
    normalize_name, AgencySignal, Date, Entry, NoLicenceKind, NoLicenceStatement, SignalKind,
};

/// Rule id of findings about a missing, unlisted, mismatched or expired licence
/// (docs/labels.md, `license.missing`).
pub const RULE_NO_LICENCE: &str = "LIC-NOLICENSE-001";
/// Rule id of findings about a licence whose scope lacks 网络招聘服务.
pub const RULE_SCOPE: &str = "LIC-SCOPE-001";

xuncha_core::str_enum! {
    /// What the check concluded.
    pub enum Outcome("licence outcome") {
        /// Nothing shows that the publisher recruits for others: no licence is needed.
        NotAnAgency => "not_an_agency",
        /// A public employment or talent service (公共就业和人才服务机构, 人社部门, a school's
        /// 就业指导中心): not a 经营性 agency, so the licence duty does not apply.
        PublicService => "public_service",
        /// Listed, valid on the day, and in scope.
        Licensed => "licensed",
        /// An agency the registry does not list (by the numbers, codes and names shown).
        NotFound => "not_found",
        /// The publisher is listed, but the licence number the posting shows is not.
        NumberNotListed => "number_not_listed",
        /// The licence number or credit code shown is listed under another organisation's name.
        NameMismatch => "name_mismatch",
        /// Listed, but the licence had expired on the day.
        Expired => "expired",
        /// Listed and valid, but the scope does not include 网络招聘服务 and it recruits online.
        ScopeLacksOnline => "scope_lacks_online",
        /// The text itself says there is no licence (申请中, 暂无, 无需…) and the registry
        /// does not contradict it.
        SaysNoLicence => "says_no_licence",
        /// An agency, but no registry was consulted, so only its own statements could tell.
        NoRegistry => "no_registry",
    }
}

impl Outcome {
    /// Whether this outcome is a `license.missing` violation.
    pub fn is_violation(self) -> bool {
        matches!(
            self,
            Outcome::NotFound
                | Outcome::NumberNotListed
                | Outcome::NameMismatch
                | Outcome::Expired
                | Outcome::ScopeLacksOnline
                | Outcome::SaysNoLicence
        )
    }
}

/// A piece of evidence and the field it is in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InField<T> {
    /// Field name, as [`Posting::text_fields`] names them, or `publisher.licence_no`.
    pub field: &'static str,
    /// The field text around the evidence, for the case file.
    pub context: String,
    /// The evidence; its span is in bytes of the field text.
    #[serde(flatten)]
    pub item: T,
}

/// What one posting shows about its publisher's licence, and the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct LicenceCheck {
    /// The verdict.
    pub outcome: Outcome,
    /// The day validity was judged on.
    pub as_of: Date,
    /// Signs that the publisher recruits for others.
    pub agency_signals: Vec<InField<AgencySignal>>,
    /// Licence numbers shown.
    pub licences_shown: Vec<InField<LicenceMention>>,
    /// Credit codes shown, each with whether its check character is right.
    pub credit_codes_shown: Vec<InField<CreditCodeMention>>,
    /// Statements that there is no licence.
    pub no_licence_statements: Vec<InField<NoLicenceStatement>>,
    /// The registry entry the verdict rests on, if one was found.
    pub entry: Option<Entry>,
    /// How it was found.
    pub matched_by: Option<MatchedBy>,
    /// What was looked up (numbers, then names), for the case file: a `not_found` is
    /// only as good as these.
    pub queried: Vec<String>,
    /// The publisher's name as checked, if the posting gives one.
    pub publisher: Option<String>,
}

impl LicenceCheck {
    /// Whether it is a `license.missing` violation.
    pub fn is_violation(&self) -> bool {
        self.outcome.is_violation()
    }

    /// `Some(Category::LicenseMissing)` for a violation.
    pub fn category(&self) -> Option<Category> {
        self.is_violation().then_some(Category::LicenseMissing)
    }

    /// The legal status of a violation: `illegal` (条例 Art. 18 → 42), except a scope
    /// without 网络招聘服务, which is a provincial requirement:
    /// `locally_illegal`, to apply only where the province requires it.
    pub fn severity(&self) -> Option<Severity> {
        match self.outcome {
            Outcome::ScopeLacksOnline => Some(Severity::LocallyIllegal),
            o if o.is_violation() => Some(Severity::Illegal),
            _ => None,
        }
    }

    /// Rule id for findings: [`RULE_SCOPE`] or [`RULE_NO_LICENCE`].
    pub fn rule_id(&self) -> Option<&'static str> {
        match self.outcome {
            Outcome::ScopeLacksOnline => Some(RULE_SCOPE),
            o if o.is_violation() => Some(RULE_NO_LICENCE),
            _ => None,
        }
    }

    /// Whether anything shows that the publisher recruits for others.
    pub fn is_agency(&self) -> bool {
        !matches!(self.outcome, Outcome::NotAnAgency)
    }

    /// The evidence of a violation as findings for a `license.missing` lead: the
    /// statements, licence numbers, credit codes and agency signals, in that order, or
    /// the publisher's name if there is nothing else. Empty when it is not a violation.
    pub fn findings(&self) -> Vec<Finding> {
        let Some(rule) = self.rule_id() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut push = |field: &str, span: Span, matched: &str, context: &str| {
            out.push(Finding {
                rule_id: rule.to_string(),
                field: field.to_string(),
                span,
                matched: matched.to_string(),
                context: context.to_string(),
            });
        };
        for s in &self.no_licence_statements {
            push(s.field, s.item.span, &s.item.matched, &s.context);
        }
        for l in &self.licences_shown {
            push(l.field, l.item.span, &l.item.number, &l.context);
        }
        for c in &self.credit_codes_shown {
            push(c.field, c.item.span, &c.item.code, &c.context);
        }
        for a in &self.agency_signals {
            push(a.field, a.item.span, &a.item.matched, &a.context);
        }
        // A verdict from the registry alone (an account the platform marks as an agency,
        // with an expired licence) still points at whom it is about.
        let evidence = self.no_licence_statements.len()
            + self.licences_shown.len()
            + self.credit_codes_shown.len()
            + self.agency_signals.len();
        if evidence == 0 {
            if let Some(name) = &self.publisher {
                push("publisher.name", Span::new(0, name.len()), name, name);
            }
        }
        out
    }

    /// One line for people: outcome, entry and how it matched.
    pub fn summary(&self) -> String {
        let mut s = self.outcome.to_string();
        if let (Some(e), Some(by)) = (&self.entry, self.matched_by) {
            s.push_str(&format!(
                ": {} ({}; by {by}; valid until {})",
                e.name(),
                e.licence_no(),
                e.valid_until()
                    .map_or_else(|| "no end".to_string(), |d| d.to_string())
            ));
        } else if !self.queried.is_empty() {
            s.push_str(&format!(": looked up {}", self.queried.join(", ")));
        }
        s
    }
}

/// One posting's publisher, company and text, as the check reads them.
#[derive(Clone, Debug)]
pub struct CheckInput<'a> {
    /// The publishing account or organisation.
    pub publisher: Option<&'a str>,
    /// What the platform says the publisher is.
    pub publisher_kind: PublisherKind,
    /// The licence number the platform shows for the publisher.
    pub publisher_licence_no: Option<&'a str>,
    /// The employer the posting names.
    pub company: Option<&'a str>,
    /// Text fields to search for signals, numbers and statements, with their names.
    pub fields: Vec<(&'static str, &'a str)>,
    /// Whether the posting was published online (then the licence scope must include
    /// 网络招聘服务). Postings crawled from sites are.
    pub online: bool,
}

impl<'a> CheckInput<'a> {
    /// Only text, as a `description`: publisher and company unknown.
    pub fn text(text: &'a str) -> CheckInput<'a> {
        CheckInput {
            publisher: None,
            publisher_kind: PublisherKind::Unknown,
            publisher_licence_no: None,
            company: None,
            fields: vec![("description", text)],
            online: true,
        }
    }

    /// A posting's publisher, company, and title, description and contact fields.
    pub fn from_posting(p: &'a Posting) -> CheckInput<'a> {
        let publisher = p.publisher.as_ref();
        CheckInput {
            publisher: publisher.and_then(|p| p.name.as_deref()),
            publisher_kind: publisher.map_or(PublisherKind::Unknown, |p| p.kind),
            publisher_licence_no: publisher.and_then(|p| p.licence_no.as_deref()),
            company: p.company.as_deref(),
            fields: [
                ("title", p.title.as_deref()),
                ("description", p.description.as_deref()),
                ("contact", p.contact.as_deref()),
            ]
            .into_iter()
            .filter_map(|(n, v)| v.filter(|v| !v.is_empty()).map(|v| (n, v)))
            .collect(),
            online: true,
        }
    }

    /// Sets the publisher.
    pub fn with_publisher(mut self, name: &'a str) -> CheckInput<'a> {
        self.publisher = Some(name);
        self
    }

    /// Sets the company.
    pub fn with_company(mut self, name: &'a str) -> CheckInput<'a> {
        self.company = Some(name);
        self
    }
}

/// Checks postings against an optional registry; the one call per posting the scanner
/// makes. Cheap to clone and share across threads.
///
/// ```
/// use std::sync::Arc;
/// use xuncha_core::{Posting, Publisher};
/// use xuncha_registry::{Checker, Date, Entry, Outcome, Registry};
///
/// let reg = Arc::new(Registry::from_entries([
///     Entry::new("示例人力资源有限公司", "990100120105").unwrap()
///         .with_scope("职业中介活动（开展网络招聘服务）"),
/// ]));
/// let checker = Checker::new(Some(reg)).as_of(Date::new(2026, 6, 1).unwrap());
///
/// let mut p = Posting::from_text("a", "代招各大厂普工，介绍费由企业支付");
/// p.publisher = Some(Publisher { name: Some("示例人力资源有限责任公司".into()), ..Default::default() });
/// assert_eq!(checker.check_posting(&p).outcome, Outcome::Licensed);
///
/// p.publisher = Some(Publisher { name: Some("样例劳务有限公司".into()), ..Default::default() });
/// let c = checker.check_posting(&p);
/// assert_eq!(c.outcome, Outcome::NotFound);
/// assert!(c.is_violation());
/// assert!(!c.findings().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Checker {
    registry: Option<Arc<Registry>>,
    as_of: Option<Date>,
}

impl Checker {
    /// A checker over `registry` (`None`: no registry consulted). Validity is judged on
    /// the day each posting was fetched (its `fetched_at`), or today if it does not say.
    pub fn new(registry: Option<Arc<Registry>>) -> Checker {
        Checker {
            registry,
            as_of: None,
        }
    }

    /// Judges validity on this day instead, for every posting.
    pub fn as_of(mut self, day: Date) -> Checker {
        self.as_of = Some(day);
        self
    }

    /// The registry, if any.
    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_deref()
    }

    /// Checks one posting.
    pub fn check_posting(&self, p: &Posting) -> LicenceCheck {
        let day = self
            .as_of
            .or_else(|| {
                p.fetched_at
                    .as_deref()
                    .and_then(|t| t.get(..10))
                    .and_then(|d| d.parse().ok())
            })
            .unwrap_or_else(Date::today);
        check(&CheckInput::from_posting(p), self.registry(), day)
    }
}

/// Words of a public employment or talent service in a publisher's name.
const PUBLIC_SERVICE: [&str; 14] = [
    "公共就业",
    "公共招聘",
    "人力资源和社会保障",
    "人力资源社会保障",
    "人社局",
    "人社厅",
    "就业服务中心",
    "就业服务局",
    "就业和人才服务",
    "人才服务中心",
    "人才交流中心",
    "就业指导中心",
    "就业创业指导",
    "就业指导服务中心",
];

/// Whether a name is that of a public employment or talent service (and not a company
/// that borrowed the words).
pub fn is_public_service(name: &str) -> bool {
    !name.contains("公司") && PUBLIC_SERVICE.iter().any(|w| name.contains(w))
}

static COMPANY_IN_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[\p{Han}A-Za-z0-9()（）【】\[\]〔〕]{2,40}?(?:有限责任公司|股份有限公司|有限公司|公司)(?:[（(【\[〔]?\p{Han}{1,12}?(?:分公司|分店|营业部)[)）】\]〕]?)?",
    )
    .unwrap()
});

/// The company name in a publisher's display name (`示例人力资源有限公司-王经理` →
/// `示例人力资源有限公司`), or `None` if it names no company (a person, a brand).
fn company_in(name: &str) -> Option<&str> {
    COMPANY_IN_NAME
        .find_iter(name)
        .map(|m| m.as_str())
        // A bare form (`有限公司` after a space or a bracket the class stops at) is no name.
        .find(|m| !normalize_name(m).ends_with("公司"))
}

fn context(text: &str, span: Span) -> String {
    let from = text[..span.start()]
        .char_indices()
        .rev()
        .nth(19)
        .map_or(0, |(i, _)| i);
    let to = text[span.end()..]
        .char_indices()
        .nth(20)
        .map_or(text.len(), |(i, _)| span.end() + i);
    text[from..to].to_string()
}

fn in_field<T>(field: &'static str, text: &str, span: Span, item: T) -> InField<T> {
    InField {
        field,
        context: context(text, span),
        item,
    }
}

/// Checks one posting: finds the signs that its publisher recruits for others, the
/// licence numbers, credit codes and no-licence statements it shows, looks the publisher
/// up and decides. See the crate documentation for the order of the decision.
///
/// ```
/// use xuncha_registry::{check, CheckInput, Date, Outcome};
/// let day = Date::new(2026, 6, 1).unwrap();
/// let c = check(&CheckInput::text("本公司直招仓库管理员，五险一金"), None, day);
/// assert_eq!(c.outcome, Outcome::NotAnAgency);
/// let c = check(&CheckInput::text("代招普工，人力资源服务许可证：申请中"), None, day);
/// assert_eq!(c.outcome, Outcome::SaysNoLicence);
/// let c = check(&CheckInput::text("代招普工，包吃包住"), None, day);
/// assert_eq!(c.outcome, Outcome::NoRegistry);
/// assert!(!c.is_violation());
/// ```
pub fn check(input: &CheckInput<'_>, registry: Option<&Registry>, as_of: Date) -> LicenceCheck {
    let publisher = input.publisher.map(str::trim).filter(|s| !s.is_empty());
    let company = input.company.map(str::trim).filter(|s| !s.is_empty());

    let mut signals = Vec::new();
    for (field, name) in [("publisher.name", publisher), ("company", company)] {
        if let Some(name) = name {
            for s in agency_name_signals(name) {
                signals.push(in_field(field, name, s.span, s));
            }
        }
    }
    let mut licences = Vec::new();
    if let Some(no) = input.publisher_licence_no.filter(|s| !s.trim().is_empty()) {
        let span = Span::new(0, no.len());
        let m = LicenceMention {
            number: no.trim().to_string(),
            span,
            label: None,
        };
        licences.push(in_field("publisher.licence_no", no, span, m));
    }
    let mut codes = Vec::new();
    let mut statements = Vec::new();
    let mut employers: Vec<InField<(Span, String)>> = Vec::new();
    for &(field, text) in &input.fields {
        for s in find_agency_signals(text) {
            signals.push(in_field(field, text, s.span, s));
        }
        for m in find_licence_numbers(text) {
            licences.push(in_field(field, text, m.span, m));
        }
        for c in find_credit_codes(text) {
            codes.push(in_field(field, text, c.span, c));
        }
        for s in find_no_licence_statements(text) {
            statements.push(in_field(field, text, s.span, s));
        }
        for (span, name) in employers_named(text) {
            let own = [publisher, company]
                .into_iter()
                .flatten()
                .any(|o| same_employer(o, &name));
            let known = employers.iter().any(|e| same_employer(&e.item.1, &name));
            if !own && !known {
                employers.push(in_field(field, text, span, (span, name)));
            }
        }
    }
    if employers.len() >= 2 {
        for e in employers {
            signals.push(InField {
                field: e.field,
                context: e.context,
                item: AgencySignal {
                    kind: SignalKind::SeveralEmployers,
                    span: e.item.0,
                    matched: e.item.1,
                },
            });
        }
    }

    let mut result = LicenceCheck {
        outcome: Outcome::NotAnAgency,
        as_of,
        agency_signals: signals,
        licences_shown: licences,
        credit_codes_shown: codes,
        no_licence_statements: statements,
        entry: None,
        matched_by: None,
        queried: Vec::new(),
        publisher: publisher.map(str::to_string),
    };

    let strong = result
        .agency_signals
        .iter()
        .any(|s| s.item.kind.is_strong());
    let concedes = result
        .no_licence_statements
        .iter()
        .any(|s| s.item.kind != NoLicenceKind::NotNeeded);
    let agency = strong
        || concedes
        || matches!(
            input.publisher_kind,
            PublisherKind::Agency | PublisherKind::Platform
        )
        || !result.licences_shown.is_empty();
    if !agency {
        return result;
    }
    if publisher.or(company).is_some_and(is_public_service) {
        result.outcome = Outcome::PublicService;
        return result;
    }
    let Some(reg) = registry else {
        result.outcome = if result.no_licence_statements.is_empty() {
            Outcome::NoRegistry
        } else {
            Outcome::SaysNoLicence
        };
        return result;
    };
    decide(&mut result, reg, publisher, company, input.online);
    result
}

fn decide(
    r: &mut LicenceCheck,
    reg: &Registry,
    publisher: Option<&str>,
    company: Option<&str>,
    online: bool,
) {
    // The account holder: the company a publisher's display name names, else the
    // company field when its own name is an agency's. Only its name can contradict a
    // number shown; the company field is usually the client employer.
    let holder = publisher.and_then(company_in).or_else(|| {
        company.filter(|c| {
            agency_name_signals(c)
                .iter()
                .any(|s| s.kind == SignalKind::AgencyName)
        })
    });

    let mut by_number: Vec<Match<'_>> = Vec::new();
    for l in &r.licences_shown {
        r.queried.push(l.item.number.clone());
        by_number.extend(reg.by_licence_no(&l.item.number));
    }
    let number_unlisted = by_number.is_empty() && !r.licences_shown.is_empty();
    if by_number.is_empty() {
        for c in r.credit_codes_shown.iter().filter(|c| c.item.valid) {
            r.queried.push(c.item.code.clone());
            by_number.extend(reg.by_credit_code(&c.item.code));
        }
    }

    let mut names: Vec<&str> = Vec::new();
    for n in [publisher.and_then(company_in).or(publisher), company]
        .into_iter()
        .flatten()
    {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut by_name: Vec<Match<'_>> = Vec::new();
    if by_number.is_empty() {
        for n in &names {
            r.queried.push((*n).to_string());
            by_name = reg.by_name(n);
            if !by_name.is_empty() {
                break;
            }
        }
    }

    let from_number = !by_number.is_empty();
    let mut candidates = if from_number { by_number } else { by_name };
    if candidates.is_empty() {
        r.outcome = if r.no_licence_statements.is_empty() {
            Outcome::NotFound
        } else {
            Outcome::SaysNoLicence
        };
        return;
    }
    sort_best_first(&mut candidates);

    let mut mismatch = false;
    if from_number {
        if let Some(holder) = holder {
            let holder_matches = reg.by_name(holder);
            let consistent: Vec<Match<'_>> = candidates
                .iter()
                .filter(|c| holder_matches.iter().any(|h| same_entry(h.entry, c.entry)))
                .copied()
                .collect();
            if consistent.is_empty() {
                mismatch = true;
            } else {
                candidates = consistent;
            }
        }
    }

    let usable = |m: &&Match<'_>| {
        !(m.entry.is_expired_on(r.as_of) || (online && m.entry.covers_online() == Some(false)))
    };
    let best = *candidates
        .iter()
        .find(usable)
        .or_else(|| candidates.iter().find(|m| !m.entry.is_expired_on(r.as_of)))
        .unwrap_or(&candidates[0]);
    r.entry = Some(best.entry.clone());
    r.matched_by = Some(best.matched_by);
    r.outcome = if number_unlisted {
        Outcome::NumberNotListed
    } else if mismatch {
        Outcome::NameMismatch
    } else if best.entry.is_expired_on(r.as_of) {
        Outcome::Expired
    } else if online && best.entry.covers_online() == Some(false) {
        Outcome::ScopeLacksOnline
    } else {
        Outcome::Licensed
    };
}

fn same_entry(a: &Entry, b: &Entry) -> bool {
    std::ptr::eq(a, b)
        || (a.credit_code().is_some() && a.credit_code() == b.credit_code())
        || (a.name() == b.name() && a.licence_no() == b.licence_no())
}
