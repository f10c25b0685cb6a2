//! Rule reload without a restart: when a file in the rules directory changes, or on
//! SIGHUP, the rules are loaded, their own examples run, and only a set that passes both is
//! swapped in (docs/architecture.md). A set that fails keeps the running one, says why in the
//! log (file:line for a load error, rule and example for a failed self-test) and counts it
//! in `xuncha_rules_reloads_total{outcome="failed"}`.
//!
//! The directory is polled (names, sizes, modification times) rather than watched with
//! inotify: a Kubernetes ConfigMap is updated by swapping a symlink, and network file
//! systems deliver no events, while a poll of a few files every couple of seconds costs
//! nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use tokio::sync::watch;
use xuncha_matcher::{Matcher, PrefilterKind};
use xuncha_pipeline::SharedScanner;
use xuncha_rules::RuleSet;

/// Reload counters and the version in use.
#[derive(Clone)]
pub struct ReloadMetrics {
    reloads: IntCounterVec,
    info: IntGaugeVec,
}

impl ReloadMetrics {
    /// Registers the metrics; `version` is the rule set loaded at start.
    pub fn new(registry: &Registry, version: &str) -> prometheus::Result<ReloadMetrics> {
        let m = ReloadMetrics {
            reloads: IntCounterVec::new(
                Opts::new(
                    "xuncha_rules_reloads_total",
                    "Rule reloads, by outcome (ok, failed)",
                ),
                &["outcome"],
            )?,
            info: IntGaugeVec::new(
                Opts::new("xuncha_rules_info", "1 for the rule set version in use"),
                &["version"],
            )?,
        };
        registry.register(Box::new(m.reloads.clone()))?;
        registry.register(Box::new(m.info.clone()))?;
        m.info.with_label_values(&[version]).set(1);
        Ok(m)
    }
}

/// What identifies the directory's content cheaply: each file's name, size and mtime.
type Fingerprint = Vec<(String, u64, Option<SystemTime>)>;

fn fingerprint(dir: &Path) -> std::io::Result<Fingerprint> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let path = e?.path();
        // `metadata` follows symlinks, so a ConfigMap's swapped `..data` link is seen.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_file() {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            out.push((name.into_owned(), meta.len(), meta.modified().ok()));
        }
    }
    out.sort();
    Ok(out)
}

/// Loads, self-tests and builds the rules in `dir`; the error says what is wrong where.
fn build(dir: &Path, kind: PrefilterKind) -> Result<Matcher, String> {
    let rules = RuleSet::load(dir).map_err(|e| e.to_string())?;
    let matcher = Matcher::with_prefilter(Arc::new(rules), kind).map_err(|e| format!("{e:#}"))?;
    let report = matcher.test_examples();
    if let Some(f) = report.failures.first() {
        return Err(format!(
            "{} of {} rule examples fail; first: {} ({}) {} 「{}」",
            report.failures.len(),
            report.run,
            f.rule_id,
            f.origin,
            if f.should_match {
                "does not match its example"
            } else {
                "matches its no_match example"
            },
            f.text
        ));
    }
    Ok(matcher)
}

/// Watches `dir` every `every` and listens for SIGHUP until `stop`, swapping reloaded
/// rules into `scanner`.
pub async fn watch(
    dir: PathBuf,
    scanner: SharedScanner,
    metrics: ReloadMetrics,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut seen = fingerprint(&dir).ok();
    let mut hup = hangups();
    loop {
        let forced = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(every) => false,
            _ = hup.recv() => true,
        };
        let now = fingerprint(&dir).ok();
        if !forced && now == seen {
            continue;
        }
        seen = now;
        let why = if forced { "SIGHUP" } else { "rules changed" };
        let (d, current) = (dir.clone(), scanner.get());
        let kind = current.matcher().prefilter().kind();
        let built = tokio::task::spawn_blocking(move || build(&d, kind))
            .await
            .unwrap_or_else(|e| Err(format!("the rule build panicked: {e}")));
        let old = current.matcher().rules().version.clone();
        match built {
            Ok(m) if m.rules().version == old => {
                tracing::debug!(version = %old, "rules unchanged");
            }
            Ok(m) => {
                let new = m.rules().version.clone();
                scanner.swap_matcher(m);
                metrics.reloads.with_label_values(&["ok"]).inc();
                metrics.info.reset();
                metrics.info.with_label_values(&[new.as_str()]).set(1);
                tracing::info!(%why, from = %old, to = %new, "rules reloaded");
            }
            Err(e) => {
                metrics.reloads.with_label_values(&["failed"]).inc();
                tracing::error!(%why, dir = %dir.display(), running = %old, "rule reload failed, the running rules stay: {e}");
            }
        }
    }
}

/// SIGHUP as a stream of wake-ups (never, where there are no signals).
fn hangups() -> tokio::sync::mpsc::Receiver<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut s) = signal(SignalKind::hangup()) else {
            return;
        };
        while s.recv().await.is_some() {
            if tx.send(()).await.is_err() {
                return;
            }
        }
    });
    #[cfg(not(unix))]
    drop(tx);
    rx
}
