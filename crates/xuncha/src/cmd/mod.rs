//! One module per subcommand.

pub mod crawl;
pub mod eval;
pub mod leads;
pub mod registry;
pub mod rules;
pub mod run;
pub mod scan;

use std::sync::Arc;

use anyhow::Context;
use xuncha_matcher::{Matcher, PrefilterKind};
use xuncha_rules::RuleSet;

/// Loads the rule set in `dir` and builds a matcher, or says every problem with file:line.
pub fn load_matcher(dir: &std::path::Path, kind: PrefilterKind) -> anyhow::Result<Matcher> {
    let rules = RuleSet::load(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    Matcher::with_prefilter(Arc::new(rules), kind)
        .with_context(|| format!("building the matcher for {}", dir.display()))
}

/// Now, RFC 3339, for `detected_at`.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
