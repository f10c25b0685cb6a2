//! One module per subcommand.

pub mod campaigns;
pub mod crawl;
pub mod eval;
pub mod file;
pub mod fit;
pub mod leads;
pub mod registry;
pub mod rules;
pub mod rules_from_verdicts;
pub mod run;
pub mod scan;
pub mod schema;
pub mod serve;
pub mod users;

use std::sync::Arc;

use anyhow::Context;
use xuncha_judge::Licensing;
use xuncha_matcher::{Matcher, PrefilterKind};
use xuncha_rules::RuleSet;

/// Where pages are fetched with and kept: shared by `crawl`, `scan --url` and
/// `leads recheck`.
#[derive(clap::Args, Debug)]
pub struct PageArgs {
    /// Site profiles (one TOML file per site): pages on their hosts are fetched with their
    /// politeness and read with their selectors.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "config/sites",
        env = "XUNCHA_SITES_DIR"
    )]
    pub sites_dir: std::path::PathBuf,
    /// Evidence store: the bytes of every page fetched, named by their SHA-256.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "data/evidence",
        env = "XUNCHA_EVIDENCE"
    )]
    pub evidence: std::path::PathBuf,
}

/// The settings file of the commands that record verdicts or show what they did to the
/// rules: they read its `[demotion]`.
#[derive(clap::Args, Debug, Clone)]
pub struct SettingsArg {
    /// Settings file whose `[demotion]` verdicts are judged by (default:
    /// config/default.toml when it exists; `XUNCHA_DEMOTION__*` override it).
    #[arg(long = "config", value_name = "FILE", global = true)]
    pub file: Option<std::path::PathBuf>,
}

impl SettingsArg {
    /// The demotion settings, checked.
    pub fn demotion(&self) -> anyhow::Result<xuncha_cases::DemotionPolicy> {
        let c = crate::config::Config::load(self.file.as_deref())?;
        c.demotion.validate()?;
        Ok(c.demotion)
    }
}

/// Loads the rule set in `dir` and builds a matcher, or says every problem with file:line.
pub fn load_matcher(dir: &std::path::Path, kind: PrefilterKind) -> anyhow::Result<Matcher> {
    let rules = RuleSet::load(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    Matcher::with_prefilter(Arc::new(rules), kind)
        .with_context(|| format!("building the matcher for {}", dir.display()))
}

/// The licence check: against the registry at `path` (a database made by `xuncha
/// registry import`, or a published list as CSV/JSON read directly), or, with no path,
/// on what the postings themselves say.
pub fn load_licensing(path: Option<&std::path::Path>) -> anyhow::Result<Licensing> {
    let Some(path) = path else {
        return Ok(Licensing::without_registry());
    };
    anyhow::ensure!(
        path.exists(),
        "registry {} does not exist (import a 名录 with `xuncha registry import FILE`)",
        path.display()
    );
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let registry = if matches!(ext.as_str(), "csv" | "tsv" | "json" | "jsonl") {
        let (entries, report) = xuncha_registry::read_file(path)?;
        for p in &report.problems {
            tracing::warn!("{p}");
        }
        xuncha_registry::Registry::from_entries(entries)
    } else {
        xuncha_registry::RegistryStore::open(path)?.load()?
    };
    anyhow::ensure!(
        !registry.is_empty(),
        "registry {} holds no agencies",
        path.display()
    );
    Ok(Licensing::with_registry(
        Arc::new(registry),
        &path.display().to_string(),
    ))
}

/// Settings loaded and checked, logs started, and a multi-threaded runtime for a long-running
/// command (`run`, `file`).
pub(crate) fn service(
    config: Option<&std::path::Path>,
    log_format: Option<crate::config::LogFormat>,
) -> anyhow::Result<(crate::config::Config, tokio::runtime::Runtime)> {
    use anyhow::Context;
    let config = crate::config::Config::load(config)?;
    config.validate()?;
    crate::telemetry::init_logs(log_format.unwrap_or(config.log.format));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok((config, rt))
}

/// The case store the settings name, opened (and migrated) off the async threads: its
/// calls block, and a PostgreSQL client must not block a thread that drives tasks.
pub(crate) async fn open_store(
    config: &crate::config::Config,
) -> anyhow::Result<Arc<xuncha_cases::CaseQueue>> {
    let db = config.db.clone();
    let gone_after = config.recheck.confirm_gone_after;
    let bound = config.campaigns.max_publishers_per_key;
    let demotion = config.demotion.clone();
    let q = tokio::task::spawn_blocking(move || {
        xuncha_cases::CaseQueue::open_url(&db).map(|q| {
            q.confirm_gone_after(gone_after)
                .max_publishers_per_key(bound)
                .demotion(demotion)
        })
    })
    .await??;
    Ok(Arc::new(q))
}
