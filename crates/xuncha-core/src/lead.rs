use serde::{Deserialize, Serialize};

use crate::{Category, Posting, PublisherKind, Severity};

/// The `schema` value of a lead record.
pub const LEAD_SCHEMA: &str = "xuncha.lead/1";

/// A byte range `[start, end)` into the original text of one field. It cannot be built
/// inverted.
///
/// ```
/// use xuncha_core::Span;
/// let s = Span::new(3, 9);
/// assert_eq!((s.start(), s.end(), s.len()), (3, 9, 6));
/// assert!(Span::try_new(9, 3).is_none());
/// ```
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
#[serde(try_from = "RawSpan")]
pub struct Span {
    start: usize,
    end: usize,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct RawSpan {
    start: usize,
    end: usize,
}

impl TryFrom<RawSpan> for Span {
    type Error = String;
    fn try_from(r: RawSpan) -> Result<Self, String> {
        Span::try_new(r.start, r.end)
            .ok_or_else(|| format!("span end {} < start {}", r.end, r.start))
    }
}

impl Span {
    /// A span; panics if `end < start`.
    pub fn new(start: usize, end: usize) -> Span {
        assert!(start <= end, "span end {end} < start {start}");
        Span { start, end }
    }

    /// A span, or `None` if `end < start`.
    pub fn try_new(start: usize, end: usize) -> Option<Span> {
        (start <= end).then_some(Span { start, end })
    }

    /// First byte.
    pub fn start(&self) -> usize {
        self.start
    }

    /// One past the last byte.
    pub fn end(&self) -> usize {
        self.end
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span is empty.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A legal provision: the law, the article, and a short quote of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LegalRef {
    /// Short key used in rule files (`WRL-43`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// Name of the instrument.
    pub law: String,
    /// Article (and clause).
    pub article: String,
    /// Quote.
    pub text: String,
}

/// One piece of evidence: a rule matched this text in this field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// The rule that matched.
    pub rule_id: String,
    /// The field of the posting (`title`, `description`, …).
    pub field: String,
    /// Where, in bytes of the original field text.
    #[serde(flatten)]
    pub span: Span,
    /// The original text of the span.
    pub matched: String,
    /// The original text around the span, for a reader.
    pub context: String,
}

/// What a lead records of its posting.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PostingRef {
    /// Posting id.
    pub id: String,
    /// Page address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Site key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Capture time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
    /// Content hash at the time of the scan.
    pub content_sha256: String,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Employer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Work location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Publisher name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Publisher kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_kind: Option<PublisherKind>,
    /// Administrative divisions (six-digit codes, each with its ancestors) the location
    /// names, as the rules' division table resolves it: where the case belongs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub divisions: Vec<String>,
    /// What ties the posting to others of one campaign: its contact handles, company and
    /// credit codes, each with where it is written (xuncha-campaigns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handles: Vec<Handle>,
    /// MinHash signature of the posting's normalised title and description (32 positions
    /// of 8 hex digits), which finds near-identical text; none for a text too short to
    /// tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minhash: Option<String>,
}

/// What kind of thing a [`Handle`] is.
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
pub enum HandleKind {
    /// A mainland mobile number (11 digits); also a WeChat id that is one.
    Phone,
    /// A fixed line with its area code, or a 400/800 number.
    Landline,
    /// A WeChat id.
    Wechat,
    /// A QQ number.
    Qq,
    /// A Telegram user name.
    Telegram,
    /// An e-mail address.
    Email,
    /// A web address: host and path.
    Url,
    /// A 统一社会信用代码 whose check character is right.
    CreditCode,
    /// The posting's company, its name normalised.
    Company,
}

impl HandleKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [HandleKind] = &[
        HandleKind::Phone,
        HandleKind::Landline,
        HandleKind::Wechat,
        HandleKind::Qq,
        HandleKind::Telegram,
        HandleKind::Email,
        HandleKind::Url,
        HandleKind::CreditCode,
        HandleKind::Company,
    ];

    /// The kind as written in keys and records.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleKind::Phone => "phone",
            HandleKind::Landline => "landline",
            HandleKind::Wechat => "wechat",
            HandleKind::Qq => "qq",
            HandleKind::Telegram => "telegram",
            HandleKind::Email => "email",
            HandleKind::Url => "url",
            HandleKind::CreditCode => "credit_code",
            HandleKind::Company => "company",
        }
    }
}

impl std::fmt::Display for HandleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A contact handle (or company, or credit code) found in a posting, normalised to a
/// canonical value, with where it was written: the evidence that ties postings together.
///
/// ```
/// use xuncha_core::{Handle, HandleKind, Span};
/// let h = Handle {
///     kind: HandleKind::Phone,
///     value: "13912345678".into(),
///     field: "description".into(),
///     span: Span::new(6, 25),
///     text: "vx：139 1234 5678".into(),
/// };
/// assert_eq!(h.key(), "phone:13912345678");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Handle {
    /// What it is.
    pub kind: HandleKind,
    /// The canonical value: every way of writing one handle gives the same.
    pub value: String,
    /// The posting field it is written in.
    pub field: String,
    /// Where, in bytes of the original field text.
    #[serde(flatten)]
    pub span: Span,
    /// The original text of the span, as written (the cue word included).
    pub text: String,
}

impl Handle {
    /// `kind:value`: what postings are grouped by.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.value)
    }
}

impl PostingRef {
    /// The reference to `p`; `content_sha256` is the given hash.
    pub fn of(p: &Posting, content_sha256: &str) -> PostingRef {
        PostingRef {
            id: p.id.clone(),
            url: p.url.clone(),
            source: p.source.clone(),
            fetched_at: p.fetched_at.clone(),
            content_sha256: content_sha256.to_string(),
            title: p.title.clone(),
            company: p.company.clone(),
            location: p.location.clone(),
            publisher: p.publisher.as_ref().and_then(|x| x.name.clone()),
            publisher_kind: p.publisher.as_ref().map(|x| x.kind),
            divisions: Vec::new(),
            handles: Vec::new(),
            minhash: None,
        }
    }
}

/// What the licence registry (名录) said about a lead's operator: the lookup result and
/// its source, so a `license.missing` lead shows what it rests on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LicenceLookup {
    /// The verdict (`not_found`, `expired`, `says_no_licence`, `no_registry`, …).
    pub outcome: String,
    /// The registry consulted (file and size), or `None` when none was: then only the
    /// posting's own words could tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// The operator as checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// What was looked up: numbers and codes shown, then names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queried: Vec<String>,
    /// The registry entry the verdict rests on (name, licence, validity, scope, source
    /// file), if one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// One line for people.
    pub summary: String,
}

/// A lead of unlawful or suspicious conduct: one per (posting, category), with its evidence
/// and legal basis (docs/data-contracts.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Lead {
    /// Always [`LEAD_SCHEMA`].
    pub schema: String,
    /// [`crate::lead_id`] of (posting id, category, content hash).
    pub lead_id: String,
    /// What it is about.
    pub category: Category,
    /// The most serious legal status among its findings.
    pub severity: Severity,
    /// How sure the matcher is, 0..1.
    pub score: f64,
    /// The evidence.
    pub findings: Vec<Finding>,
    /// Further places of the lead's rules left unexamined once each rule had enough
    /// evidence (a posting that repeats a phrase); 0 when every place was examined.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub findings_unexamined: u64,
    /// The provisions breached.
    pub legal_basis: Vec<LegalRef>,
    /// The provision that sanctions it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<LegalRef>,
    /// The posting.
    pub posting: PostingRef,
    /// When the scan found it, RFC 3339.
    pub detected_at: String,
    /// Version of the rule set that found it.
    pub rules_version: String,
    /// Version of the scanner that found it.
    pub scanner_version: String,
    /// For `license.*` leads: what the licence registry said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<LicenceLookup>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Lead {
    /// The ids of the rules behind the findings, deduplicated, in order.
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for f in &self.findings {
            if !ids.contains(&f.rule_id.as_str()) {
                ids.push(&f.rule_id);
            }
        }
        ids
    }

    /// Whether the lead has findings and every one of them comes from one of `rules`: a
    /// lead that only demoted rules found is filed for review and not alerted, while one
    /// that any other rule backs stands as usual.
    ///
    /// ```
    /// # use std::collections::HashSet;
    /// # use xuncha_core::{Category, Finding, Lead, PostingRef, Severity, Span, LEAD_SCHEMA};
    /// let finding = |rule: &str| Finding {
    ///     rule_id: rule.into(), field: "description".into(), span: Span::new(0, 3),
    ///     matched: "押金".into(), context: "押金".into(),
    /// };
    /// let mut lead = Lead {
    ///     schema: LEAD_SCHEMA.into(), lead_id: "l".into(), category: Category::FeeDeposit,
    ///     severity: Severity::Illegal, score: 0.9, findings: vec![finding("A")],
    ///     findings_unexamined: 0, legal_basis: vec![], penalty: None,
    ///     posting: PostingRef::default(), detected_at: String::new(),
    ///     rules_version: String::new(), scanner_version: String::new(), licence: None,
    /// };
    /// let demoted: HashSet<String> = ["A".to_string()].into();
    /// assert!(lead.found_only_by(&demoted));
    /// lead.findings.push(finding("B"));
    /// assert!(!lead.found_only_by(&demoted), "B still backs it");
    /// lead.findings.clear();
    /// assert!(!lead.found_only_by(&demoted), "no finding, no rule to blame");
    /// ```
    pub fn found_only_by(&self, rules: &std::collections::HashSet<String>) -> bool {
        !self.findings.is_empty() && self.findings.iter().all(|f| rules.contains(&f.rule_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "span end")]
    fn span_cannot_be_inverted() {
        let _ = Span::new(5, 4);
    }

    #[test]
    fn inverted_span_is_refused_when_read() {
        let err = serde_json::from_str::<Span>(r#"{"start":5,"end":4}"#).unwrap_err();
        assert!(err.to_string().contains("span end 4 < start 5"), "{err}");
    }

    #[test]
    fn finding_serialises_flat_offsets() {
        let f = Finding {
            rule_id: "R".into(),
            field: "description".into(),
            span: Span::new(0, 6),
            matched: "押金".into(),
            context: "押金500".into(),
        };
        let v: serde_json::Value = serde_json::to_value(&f).unwrap();
        assert_eq!(v["start"], 0);
        assert_eq!(v["end"], 6);
        let back: Finding = serde_json::from_value(v).unwrap();
        assert_eq!(back, f);
    }
}
