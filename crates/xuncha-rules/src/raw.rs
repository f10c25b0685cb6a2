//! The rule files as written, before validation. `Spanned` keeps byte offsets so that
//! every later refusal can name its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    pub pack: PackHeader,
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackHeader {
    #[allow(dead_code)]
    pub family: String,
    pub version: String,
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: Spanned<String>,
    #[serde(default)]
    pub kind: Option<Spanned<String>>,
    pub category: Spanned<String>,
    pub severity: Spanned<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub legal_basis: Vec<Spanned<String>>,
    #[serde(default)]
    pub penalty: Option<Spanned<String>>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub jurisdictions: Vec<Spanned<String>>,
    #[serde(default)]
    pub local: Vec<Spanned<RawLocal>>,
    #[serde(default)]
    pub anchors: Vec<Spanned<String>>,
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    #[serde(default)]
    pub negations: Vec<Spanned<String>>,
    #[serde(default)]
    pub negation_window: Option<usize>,
    #[serde(default)]
    pub exceptions: Vec<Spanned<String>>,
    #[serde(default)]
    pub requires_clause: Vec<Spanned<String>>,
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    #[serde(default)]
    pub word_boundary: bool,
    #[serde(default)]
    pub scope: Option<Spanned<String>>,
    #[serde(default)]
    pub number: Option<Spanned<RawNumber>>,
    #[serde(default)]
    pub attribute: Option<Spanned<String>>,
    #[serde(default)]
    pub unless: Vec<Spanned<String>>,
    #[serde(default)]
    pub questions: bool,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub signal: Vec<Spanned<RawSignal>>,
    #[serde(default)]
    pub fit: Option<crate::Fit>,
    #[serde(default)]
    pub examples: Option<Spanned<RawExamples>>,
}

/// The phrase part of a rule or signal, moved out of it once parsed. (`#[serde(flatten)]`
/// would lose the spans, so the fields are repeated in both and taken by `phrase!`.)
#[derive(Debug, Default)]
pub struct RawPhrase {
    pub anchors: Vec<Spanned<String>>,
    pub patterns: Vec<Spanned<String>>,
    pub negations: Vec<Spanned<String>>,
    pub negation_window: Option<usize>,
    pub exceptions: Vec<Spanned<String>>,
    pub requires_clause: Vec<Spanned<String>>,
    pub requires: Vec<Spanned<String>>,
    pub word_boundary: bool,
    pub scope: Option<Spanned<String>>,
    pub number: Option<Spanned<RawNumber>>,
    pub attribute: Option<Spanned<String>>,
    pub unless: Vec<Spanned<String>>,
    pub questions: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNumber {
    #[serde(default = "default_group")]
    pub group: String,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

fn default_group() -> String {
    "n".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignal {
    pub name: String,
    pub weight: f64,
    #[serde(default)]
    pub salary_monthly_min: Option<f64>,
    #[serde(default)]
    pub anchors: Vec<Spanned<String>>,
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    #[serde(default)]
    pub negations: Vec<Spanned<String>>,
    #[serde(default)]
    pub negation_window: Option<usize>,
    #[serde(default)]
    pub exceptions: Vec<Spanned<String>>,
    #[serde(default)]
    pub requires_clause: Vec<Spanned<String>>,
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    #[serde(default)]
    pub word_boundary: bool,
    #[serde(default)]
    pub scope: Option<Spanned<String>>,
    #[serde(default)]
    pub number: Option<Spanned<RawNumber>>,
    #[serde(default)]
    pub attribute: Option<Spanned<String>>,
    #[serde(default)]
    pub unless: Vec<Spanned<String>>,
    #[serde(default)]
    pub questions: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLocal {
    pub jurisdictions: Vec<Spanned<String>>,
    pub severity: Spanned<String>,
    #[serde(default)]
    pub legal_basis: Vec<Spanned<String>>,
    #[serde(default)]
    pub penalty: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExamples {
    #[serde(default, rename = "match")]
    pub must_match: Vec<String>,
    #[serde(default)]
    pub no_match: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LawsFile {
    #[serde(default)]
    pub law: BTreeMap<String, Spanned<RawLaw>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLaw {
    pub law: String,
    pub article: String,
    pub text: String,
    #[serde(default)]
    #[allow(dead_code)]
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconFile {
    #[serde(default)]
    pub pinyin: BTreeMap<String, RawReplacement>,
    #[serde(default)]
    pub english: BTreeMap<String, RawReplacement>,
    #[serde(default)]
    pub homophones: BTreeMap<String, String>,
    #[serde(default)]
    pub scope: RawScope,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawReplacement {
    Plain(String),
    Guarded {
        to: String,
        #[serde(default)]
        not_before: Vec<String>,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScope {
    #[serde(default)]
    pub duty: Vec<String>,
    #[serde(default)]
    pub warning: Vec<String>,
    #[serde(default)]
    pub warning_header: Vec<String>,
    #[serde(default)]
    pub applicant: Vec<String>,
}

/// Moves the phrase fields of a [`RawRule`] or [`RawSignal`] into a [`RawPhrase`].
macro_rules! take_phrase {
    ($raw:expr) => {
        $crate::raw::RawPhrase {
            anchors: std::mem::take(&mut $raw.anchors),
            patterns: std::mem::take(&mut $raw.patterns),
            negations: std::mem::take(&mut $raw.negations),
            negation_window: $raw.negation_window.take(),
            exceptions: std::mem::take(&mut $raw.exceptions),
            requires_clause: std::mem::take(&mut $raw.requires_clause),
            requires: std::mem::take(&mut $raw.requires),
            word_boundary: $raw.word_boundary,
            scope: $raw.scope.take(),
            number: $raw.number.take(),
            attribute: $raw.attribute.take(),
            unless: std::mem::take(&mut $raw.unless),
            questions: $raw.questions,
        }
    };
}
pub(crate) use take_phrase;
