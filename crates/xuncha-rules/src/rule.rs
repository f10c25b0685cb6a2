use std::collections::BTreeMap;
use std::path::PathBuf;

use regex::Regex;
use xuncha_core::{Category, LegalRef, Severity};

/// Where a rule was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The pack file.
    pub file: PathBuf,
    /// 1-based line of the rule's `id`.
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A validated rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique, stable id.
    pub id: String,
    /// What it detects.
    pub category: Category,
    /// Legal status of what it detects, outside any `local` jurisdiction.
    pub severity: Severity,
    /// One-line title.
    pub title: String,
    /// Longer explanation for analysts.
    pub description: Option<String>,
    /// Provisions breached.
    pub legal_basis: Vec<LegalRef>,
    /// Provision that sanctions it.
    pub penalty: Option<LegalRef>,
    /// Score of a lead raised by this rule alone.
    pub confidence: f64,
    /// How it matches.
    pub body: RuleBody,
    /// For `locally_illegal` rules: division codes where the rule applies at all.
    pub jurisdictions: Vec<String>,
    /// Escalations where a local rule forbids what is otherwise less serious.
    pub local: Vec<LocalSeverity>,
    /// Texts it must and must not match.
    pub examples: Examples,
    /// Where it was written.
    pub origin: Origin,
}

/// How a rule matches.
#[derive(Debug, Clone)]
// Rules are built once per load and a few hundred at most: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum RuleBody {
    /// A phrase verified in its clause.
    Phrase(Phrase),
    /// A weighted combination of signals.
    Signature(Signature),
}

/// A phrase matcher: anchors gate it, patterns verify it in the clause.
#[derive(Debug, Clone, Default)]
pub struct Phrase {
    /// Literals that gate the rule (as written; the matcher normalises them).
    pub anchors: Vec<String>,
    /// Regexes over the normalised clause; one must match over an anchor hit.
    pub patterns: Vec<Regex>,
    /// Regexes that cancel a match within `negation_window` characters of it.
    pub negations: Vec<Regex>,
    /// Characters either side of a match searched for negations.
    pub negation_window: usize,
    /// Regexes that cancel every match in their clause.
    pub exceptions: Vec<Regex>,
    /// Regexes of which one must also match in the clause (if any are given).
    pub requires_clause: Vec<Regex>,
    /// Regexes of which one must match somewhere in the posting (if any are given).
    pub requires: Vec<Regex>,
    /// The match must start and end on word boundaries.
    pub word_boundary: bool,
    /// Which clauses the rule may match in.
    pub scope: Scope,
    /// Bounds on a number captured by the pattern.
    pub number: Option<NumberRange>,
    /// The attribute the rule is about (a key of the lexicon's `[attributes]`): a negation
    /// written right next to another attribute's head word (`男女不限` beside an age cap)
    /// does not cancel it.
    pub attribute: Option<String>,
    /// Regexes of which one anywhere in the posting, outside quoted ad text, cancels the
    /// rule's matches outside quoted ad text.
    pub unless: Vec<Regex>,
    /// The rule also matches in questions: asking is what it detects (`你结婚了吗?`).
    /// Otherwise a question (`要交押金吗?`) offers nothing and is passed over.
    pub questions: bool,
}

/// Which clauses a phrase may match in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// Any clause.
    #[default]
    Any,
    /// Only clauses about the applicant, not the job's own duties.
    Applicant,
}

/// Bounds on a captured number.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberRange {
    /// Name of the capture group.
    pub group: String,
    /// Smallest accepted value.
    pub min: Option<f64>,
    /// Largest accepted value.
    pub max: Option<f64>,
}

impl NumberRange {
    /// Whether `v` is within the bounds.
    pub fn contains(&self, v: f64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
}

/// A weighted combination of signals.
#[derive(Debug, Clone)]
pub struct Signature {
    /// Sum of weights at which the rule fires.
    pub threshold: f64,
    /// The signals.
    pub signals: Vec<Signal>,
    /// Where the weights came from, when they were fitted rather than set by hand.
    pub fit: Option<Fit>,
}

/// The record of a fit of a signature's weights on labelled postings (`xuncha rules fit`),
/// read from a rule's `[rule.fit]` table.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fit {
    /// Day of the fit (`2026-12-02`).
    pub date: String,
    /// Labelled records fitted on.
    pub records: usize,
    /// Of them, records labelled with the rule's category.
    pub positives: usize,
    /// Folds of the cross-validation.
    pub folds: usize,
    /// Cross-validated precision of the rule alone on its category.
    pub cv_precision: f64,
    /// Cross-validated recall of the rule alone on its category.
    pub cv_recall: f64,
    /// The files fitted on.
    #[serde(default)]
    pub data: Vec<String>,
}

/// One signal of a signature.
#[derive(Debug, Clone)]
pub struct Signal {
    /// Name, for evidence.
    pub name: String,
    /// Weight.
    pub weight: f64,
    /// Phrase that shows it, if it is a text signal.
    pub phrase: Option<Phrase>,
    /// Pay at or above this many yuan a month, if it is a pay signal.
    pub salary_monthly_min: Option<f64>,
}

/// A stricter status where a local rule applies.
#[derive(Debug, Clone)]
pub struct LocalSeverity {
    /// Division codes (`310000` a province, `440300` a city).
    pub jurisdictions: Vec<String>,
    /// Severity there.
    pub severity: Severity,
    /// Provisions breached there (added to the rule's own).
    pub legal_basis: Vec<LegalRef>,
    /// Sanctioning provision there.
    pub penalty: Option<LegalRef>,
}

/// A rule's own test cases.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    /// Texts it must match.
    pub must_match: Vec<String>,
    /// Texts it must not match.
    pub no_match: Vec<String>,
}

/// Normalisation data (`rules/lexicon.toml`).
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// Whole ASCII-letter tokens and what they stand for (`yj` → `押金`).
    pub pinyin: Vec<(String, Replacement)>,
    /// English words and what they stand for (`deposit` → `押金`), rewritten wherever they
    /// stand alone, not only next to Han text.
    pub english: Vec<(String, Replacement)>,
    /// Han spellings and what they stand for (`压金` → `押金`).
    pub homophones: Vec<(String, String)>,
    /// Words that mark a clause as the job's own duties (`负责`).
    pub duty_markers: Vec<String>,
    /// Words that mark a sentence as a warning about scams (`谨防`, `都是诈骗`): what it
    /// names outside quotation marks is not an offer.
    pub warning_markers: Vec<String>,
    /// Words that, in a text's first line, make the whole text a warning (`警方提醒：`,
    /// `【反诈课堂】`): outside quotation marks it offers nothing.
    pub warning_headers: Vec<String>,
    /// Line openings that mark a job seeker's words in a quoted chat (`我：`): what they
    /// say is no offer.
    pub applicant_speakers: Vec<String>,
    /// Attributes a requirement can be about and their head words (`age` → `年龄`,
    /// `岁数`), so a negation is bound to the attribute it stands next to.
    pub attributes: Vec<(String, Vec<String>)>,
}

/// A token rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// What the token stands for.
    pub to: String,
    /// Characters that, right after the token, mean it is something else (`sd卡`).
    pub not_before: Vec<char>,
}

/// An administrative division (GB/T 2260).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    /// Six-digit code.
    pub code: String,
    /// Full name (`上海市`).
    pub name: String,
    /// Short name (`上海`).
    pub short: String,
    /// `province`, `city` or `district`.
    pub level: String,
    /// Parent code, empty for provinces.
    pub parent: String,
}

/// An immutable, validated set of rules with everything they refer to.
///
/// ```
/// use xuncha_rules::RuleSet;
///
/// let rules = RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
/// // A rule's legal basis is resolved from the laws file when the set loads: a rule
/// // naming a key the laws lack is a load error, so every basis here has its text.
/// for rule in &rules.rules {
///     for law in &rule.legal_basis {
///         assert_eq!(rules.laws[&law.key].text, law.text);
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// `<newest pack version>+<hash of every file>`: changes whenever any rule file does.
    pub version: String,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// Legal references by key.
    pub laws: BTreeMap<String, LegalRef>,
    /// Normalisation data.
    pub lexicon: Lexicon,
    /// Administrative divisions.
    pub divisions: Vec<Division>,
    /// The directory it was loaded from.
    pub dir: PathBuf,
}

impl RuleSet {
    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}
