//! Rechecks of open leads for the case file: the case queue says which posting pages are
//! due, the crawler's [`Rechecker`] fetches and judges them, and each outcome goes back
//! into the lead's history. A fine for content left online after a correction order (条例
//! Art. 43, 妇女权益保障法 Art. 83) needs that history: when the flagged text was last seen
//! online, and when the posting was first found gone.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus::Registry;
use time::OffsetDateTime;
use tokio::sync::watch;
use xuncha_cases::{CaseQueue, DueLead, Recheck, RecheckOutcome};
use xuncha_crawler::{
    canonicalize, CrawlerConfig, GenericSite, RecheckResult, RecheckTarget, Rechecker, SiteProfile,
};

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundSummary {
    /// Leads rechecked.
    pub leads: usize,
    /// Distinct pages among them.
    pub pages: usize,
    /// Flagged content still online.
    pub online: usize,
    /// Posting shown without its flagged text.
    pub changed: usize,
    /// Posting gone.
    pub gone: usize,
    /// Nothing concluded.
    pub errors: usize,
}

impl std::fmt::Display for RoundSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rechecked {} lead(s) on {} page(s): {} online, {} changed, {} gone, {} error(s)",
            self.leads, self.pages, self.online, self.changed, self.gone, self.errors
        )
    }
}

/// A rechecker for the profiles in `sites_dir` (none if the directory does not exist),
/// keeping what it fetches in `evidence_dir`.
pub fn build_rechecker(
    sites_dir: &Path,
    evidence_dir: &Path,
    crawler: CrawlerConfig,
    generic: GenericSite,
    registry: Option<&Registry>,
) -> anyhow::Result<Rechecker> {
    let sites = if sites_dir.exists() {
        SiteProfile::load_dir(sites_dir)?
    } else {
        tracing::info!(
            "no site profile directory {}: every page is read as a whole",
            sites_dir.display()
        );
        Vec::new()
    };
    let mut b = Rechecker::builder(CrawlerConfig {
        evidence_dir: evidence_dir.to_path_buf(),
        ..crawler
    })
    .sites(sites)
    .generic(generic);
    if let Some(r) = registry {
        b = b.metrics(r);
    }
    b.build().context("starting the rechecker")
}

/// Rechecks `due` and records each outcome in the lead's history. `on_result` sees each
/// lead with its result (the command prints them).
pub async fn recheck_leads(
    queue: &Arc<CaseQueue>,
    rechecker: &Rechecker,
    due: Vec<DueLead>,
    mut on_result: impl FnMut(&DueLead, &RecheckResult),
) -> anyhow::Result<RoundSummary> {
    let targets: Vec<RecheckTarget> = due
        .iter()
        .map(|d| RecheckTarget {
            url: d.url.clone(),
            posting_id: Some(d.posting_id.clone()),
            content_sha256: Some(d.content_sha256.clone()),
            flagged: d.flagged.clone(),
        })
        .collect();
    let results = rechecker.check_all(&targets).await;
    let mut summary = RoundSummary {
        leads: due.len(),
        // As the rechecker fetched them: once per canonical URL.
        pages: due
            .iter()
            .map(|d| {
                url::Url::parse(&d.url)
                    .map(|u| canonicalize(&u).to_string())
                    .unwrap_or_else(|_| d.url.clone())
            })
            .collect::<std::collections::HashSet<_>>()
            .len(),
        ..RoundSummary::default()
    };
    let mut rows = Vec::with_capacity(due.len());
    for (d, r) in due.iter().zip(&results) {
        on_result(d, r);
        match r.outcome {
            RecheckOutcome::Online => summary.online += 1,
            RecheckOutcome::Changed => summary.changed += 1,
            RecheckOutcome::Gone => summary.gone += 1,
            RecheckOutcome::Error => summary.errors += 1,
        }
        rows.push(row(d, r));
    }
    let q = queue.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for r in &rows {
            q.record_recheck(r)
                .with_context(|| format!("recording the recheck of lead {}", r.lead_id))?;
        }
        Ok(())
    })
    .await??;
    Ok(summary)
}

/// One round: the leads due at `now` (at most `limit`), rechecked and recorded.
pub async fn recheck_round(
    queue: &Arc<CaseQueue>,
    rechecker: &Rechecker,
    after: Duration,
    limit: Option<usize>,
    on_result: impl FnMut(&DueLead, &RecheckResult),
) -> anyhow::Result<RoundSummary> {
    let q = queue.clone();
    let due = tokio::task::spawn_blocking(move || {
        q.due_for_recheck(OffsetDateTime::now_utc(), after, limit)
    })
    .await??;
    if due.is_empty() {
        return Ok(RoundSummary::default());
    }
    recheck_leads(queue, rechecker, due, on_result).await
}

/// Runs a round now and then every `every` until `stop` turns true; a round in flight
/// when it does is dropped (what it had recorded stays). A failed round is logged and
/// the next one tried.
pub async fn run_periodically(
    queue: Arc<CaseQueue>,
    rechecker: Rechecker,
    after: Duration,
    every: Duration,
    limit: Option<usize>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let round = recheck_round(&queue, &rechecker, after, limit, |_, _| {});
        tokio::select! {
            r = round => match r {
                Ok(s) if s.leads > 0 => tracing::info!(db = %queue.location(), "{s}"),
                Ok(_) => tracing::debug!("no lead due for a recheck"),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "recheck round failed"),
            },
            _ = stop.wait_for(|s| *s) => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Starts [`run_periodically`] for `xuncha run` if `config.enabled`, with the crawl
/// settings' site profiles, evidence store and concurrency.
// Called by `run` once its settings carry a `[recheck]` table.
pub fn spawn(
    config: &crate::config::RecheckConfig,
    crawl: &crate::config::Crawl,
    queue: Arc<CaseQueue>,
    registry: &Registry,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if !config.enabled {
        return Ok(None);
    }
    let (after, every) = (config.after, config.every);
    let rechecker = build_rechecker(
        &crawl.sites_dir,
        &crawl.evidence,
        CrawlerConfig {
            concurrency: crawl.concurrency.max(1),
            ..CrawlerConfig::default()
        },
        GenericSite::default(),
        Some(registry),
    )?;
    tracing::info!(after = ?config.after, every = ?config.every, "rechecking open leads");
    Ok(Some(tokio::spawn(run_periodically(
        queue,
        rechecker,
        after,
        every,
        Some(config.max_per_round.max(1)),
        stop,
    ))))
}

fn row(d: &DueLead, r: &RecheckResult) -> Recheck {
    let outcome = r.outcome;
    let read = r.flagged_present.is_some();
    Recheck {
        lead_id: d.lead_id.clone(),
        checked_at: xuncha_core::rfc3339_seconds(r.checked_at),
        outcome,
        http_status: r.http_status,
        final_url: r.final_url.clone(),
        content_sha256: r.content_sha256.clone(),
        evidence: r.evidence.clone(),
        flagged_present: r.flagged_present,
        flagged_found: read.then_some(r.flagged_found.len() as u32),
        flagged_total: read.then_some(d.flagged.len() as u32),
        error: r.error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RecheckConfig;
    use figment::providers::{Format, Serialized, Toml};
    use figment::Figment;

    #[test]
    fn settings_default_and_read_from_toml() {
        let c: RecheckConfig = Figment::from(Serialized::defaults(RecheckConfig::default()))
            .merge(Toml::string("enabled = true\nafter = \"2d\"\n"))
            .extract()
            .unwrap();
        assert!(c.enabled);
        assert_eq!(c.after.as_secs(), 2 * 86_400);
        assert_eq!(c.every.as_secs(), 3600);
        let typo = Figment::from(Toml::string("every = \"1 hr-ish\"")).extract::<RecheckConfig>();
        assert!(typo.unwrap_err().to_string().contains("1 hr-ish"));
        let bad = Figment::from(Toml::string("aftr = \"2d\"")).extract::<RecheckConfig>();
        assert!(bad.unwrap_err().to_string().contains("aftr"));
    }

    /// A lead whose page is on a port nobody listens on: every recheck is an error.
    fn queue_with_unreachable_lead(dir: &Path) -> (Arc<CaseQueue>, String) {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let lead: xuncha_core::Lead = serde_json::from_value(serde_json::json!({
            "schema": "xuncha.lead/1",
            "lead_id": "l1",
            "category": "fee.deposit",
            "severity": "illegal",
            "score": 0.9,
            "findings": [{"rule_id": "R", "field": "description", "start": 0, "end": 6,
                          "matched": "押金", "context": "押金"}],
            "legal_basis": [],
            "posting": {"id": "p1", "url": format!("http://127.0.0.1:{port}/job/1.html"),
                        "content_sha256": "00"},
            "detected_at": "2026-11-01T00:00:00Z",
            "rules_version": "t",
            "scanner_version": "t"
        }))
        .unwrap();
        let q = Arc::new(CaseQueue::open(dir.join("q.db")).unwrap());
        q.upsert(&[lead], "2026-11-01T00:00:00Z").unwrap();
        (q, "l1".into())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn periodic_rounds_record_until_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let (q, lead) = queue_with_unreachable_lead(dir.path());
        let rechecker = build_rechecker(
            &dir.path().join("no-sites"),
            &dir.path().join("evidence"),
            CrawlerConfig {
                max_retries: 0,
                connect_timeout: Duration::from_secs(2),
                ..CrawlerConfig::default()
            },
            GenericSite {
                rate_per_sec: 0.0,
                allow_private_addresses: true,
            },
            None,
        )
        .unwrap();
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run_periodically(
            q.clone(),
            rechecker,
            Duration::ZERO,
            Duration::from_millis(20),
            None,
            stop_rx,
        ));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let history = loop {
            let h = q.history(&lead).unwrap();
            if h.len() >= 2 {
                break h;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no second round: {h:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(history
            .iter()
            .all(|r| r.outcome == RecheckOutcome::Error && r.http_status.is_none()));
        assert!(q.get(&lead).unwrap().unwrap().gone_at.is_none());
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("the loop ends once stopped")
            .unwrap();
    }
}
