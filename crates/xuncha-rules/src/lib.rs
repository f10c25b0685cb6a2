//! Rule packs: the data that says what xuncha flags and on what legal basis.
//!
//! Rules are data files in `rules/` (format: `rules/README.md`), loaded into an immutable
//! [`RuleSet`]. The decision that shapes this crate: **a rule set either loads whole or
//! not at all, and every refusal names `file:line`.** [`RuleSet::load`] collects every
//! problem it finds (bad regex, unknown category, missing legal basis, too few examples)
//! instead of stopping at the first, so a rule author fixes a pack in one pass, and a
//! running scanner that fails to reload keeps the set it has.
//!
//! This crate knows nothing of how text is normalised or searched: anchors and patterns
//! are handed to `xuncha-matcher` as written.
#![deny(missing_docs)]

mod edit;
mod error;
mod load;
mod raw;
mod rule;

pub use edit::write_fit;
pub use error::{LoadError, LoadErrors};
pub use load::PATTERN_SIZE_LIMIT;
pub use rule::{
    Division, Examples, Fit, Lexicon, LocalSeverity, NumberRange, Origin, Phrase, Replacement,
    Rule, RuleBody, RuleSet, Scope, Signal, Signature,
};
