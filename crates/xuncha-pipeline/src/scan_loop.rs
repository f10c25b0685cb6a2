//! The scan loop: batch in, leads and dead letters durable, then acknowledge.
//!
//! A batch is scanned on every core (rayon), its leads and dead letters are written and
//! awaited until durable, and only then is the batch acknowledged to its source. Batches
//! are acknowledged strictly in order, so a committed offset never passes a record whose
//! leads are not yet durable; a crash replays from the last commit, and deterministic lead
//! ids make the replay harmless.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tokio::sync::watch;
use xuncha_core::{now_rfc3339, Lead};
use xuncha_matcher::Matcher;

use crate::decode::decode;
use crate::metrics::Metrics;
use crate::record::{DeadLetter, Record};
use crate::stage::{DeadLetterSink, LeadSink, Source};
use xuncha_judge::Scanner;

/// The scanner in use, swapped whole when rules are reloaded.
#[derive(Clone)]
pub struct SharedScanner(Arc<RwLock<Arc<Scanner>>>);

impl SharedScanner {
    /// Shares `s`.
    pub fn new(s: Scanner) -> SharedScanner {
        SharedScanner(Arc::new(RwLock::new(Arc::new(s))))
    }

    /// The current scanner.
    pub fn get(&self) -> Arc<Scanner> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the rules, keeping the licence check; batches already scanning finish
    /// with the old rules.
    pub fn swap_matcher(&self, m: Matcher) {
        let mut cur = self.0.write().unwrap_or_else(|e| e.into_inner());
        *cur = Arc::new(cur.with_matcher(m));
    }
}

/// Settings of the loop.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// Most records a batch.
    pub batch_size: usize,
    /// Largest record scanned.
    pub max_record_bytes: usize,
    /// Longest a record may take to scan; one that takes longer is dead-lettered.
    pub record_budget: Duration,
    /// Failed writes in a row after which the loop gives up with an error; `None` retries
    /// until shutdown (monitoring), a number suits a run that must end (`run --once`).
    pub give_up_after: Option<u32>,
}

/// Failed writes in a row after which readiness is withdrawn until a write succeeds.
pub const NOT_READY_AFTER: u32 = 3;

impl Default for LoopConfig {
    fn default() -> Self {
        LoopConfig {
            batch_size: 2048,
            max_record_bytes: crate::decode::DEFAULT_MAX_RECORD_BYTES,
            record_budget: Duration::from_secs(10),
            give_up_after: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records read.
    pub records: u64,
    /// Postings scanned.
    pub postings: u64,
    /// Leads written.
    pub leads: u64,
    /// Dead letters written.
    pub dead_letters: u64,
}

/// Runs until the source ends or `shutdown` turns true; the batch in hand when shutdown
/// comes is finished and acknowledged first.
pub async fn run<S, L, D>(
    mut source: S,
    leads: &L,
    dead: &D,
    scanner: &SharedScanner,
    metrics: &Metrics,
    config: &LoopConfig,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Stats>
where
    S: Source,
    L: LeadSink,
    D: DeadLetterSink,
{
    let mut stats = Stats::default();
    loop {
        let batch = match next_batch(&mut source, config, metrics, &mut shutdown).await? {
            Next::Stop => break,
            Next::Nothing => continue,
            Next::Batch(b) => b,
        };
        let started = Instant::now();
        let m = scanner.get();
        let (max, budget) = (config.max_record_bytes, config.record_budget);
        let now = now_rfc3339();
        let (batch, out) = tokio::task::spawn_blocking(move || {
            let out: Vec<Result<Vec<Lead>, Box<DeadLetter>>> = batch
                .par_iter()
                .map(|r| scan_one(&m, r, (max, budget), &now))
                .collect();
            (batch, out)
        })
        .await?;
        metrics
            .scan_seconds
            .observe(started.elapsed().as_secs_f64());
        let mut found: Vec<Lead> = Vec::new();
        let mut dead_letters: Vec<DeadLetter> = Vec::new();
        for r in out {
            match r {
                Ok(ls) => {
                    stats.postings += 1;
                    found.extend(ls);
                }
                Err(d) => dead_letters.push(*d),
            }
        }
        stats.records += batch.len() as u64;
        metrics
            .postings_in
            .with_label_values(&[source.name()])
            .inc_by((batch.len() - dead_letters.len()) as u64);
        if !found.is_empty() {
            retry(leads.name(), metrics, config, &mut shutdown, || {
                leads.write(&found)
            })
            .await?;
        }
        if !dead_letters.is_empty() {
            retry(dead.name(), metrics, config, &mut shutdown, || {
                dead.write(&dead_letters)
            })
            .await?;
        }
        for l in &found {
            for rule in l.rule_ids() {
                metrics
                    .leads_out
                    .with_label_values(&[l.category.as_str(), rule])
                    .inc();
            }
        }
        count_dead_letters(metrics, &dead_letters);
        stats.leads += found.len() as u64;
        stats.dead_letters += dead_letters.len() as u64;
        source.ack(&batch).await?;
    }
    Ok(stats)
}

/// What [`next_batch`] got.
pub(crate) enum Next {
    /// Shutdown, or the source ended.
    Stop,
    /// Nothing this time (a consumer error the source rides out).
    Nothing,
    /// Records to work on.
    Batch(Vec<Record>),
}

/// The next batch of `source`, unless shutdown comes first.
pub(crate) async fn next_batch<S: Source>(
    source: &mut S,
    config: &LoopConfig,
    metrics: &Metrics,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<Next> {
    if *shutdown.borrow() {
        return Ok(Next::Stop);
    }
    let batch = tokio::select! {
        b = source.next_batch(config.batch_size) => b?,
        _ = shutdown.changed() => return Ok(Next::Stop),
    };
    Ok(match batch {
        None => Next::Stop,
        Some(b) if b.is_empty() => Next::Nothing,
        Some(b) => {
            metrics.batch_size.observe(b.len() as f64);
            Next::Batch(b)
        }
    })
}

/// Counts and logs dead letters once they are durable.
pub(crate) fn count_dead_letters(metrics: &Metrics, dead: &[DeadLetter]) {
    for d in dead {
        metrics
            .dead_letters
            .with_label_values(&[d.reason.as_str()])
            .inc();
        tracing::warn!(origin = %d.source, reason = %d.reason, detail = %d.detail, "dead-lettered");
    }
}

fn scan_one(
    m: &Scanner,
    r: &Record,
    (max, budget): (usize, Duration),
    now: &str,
) -> Result<Vec<Lead>, Box<DeadLetter>> {
    match decode(r, max) {
        Ok(p) => m.leads_within(&p, now, budget).map_err(|_| {
            Box::new(DeadLetter::of_record(
                r,
                crate::record::Reason::OverBudget,
                format!("scanning took longer than the budget of {budget:?}"),
                now,
            ))
        }),
        Err((reason, detail)) => Err(Box::new(DeadLetter::of_record(r, reason, detail, now))),
    }
}

/// Retries a sink write with capped exponential backoff until it succeeds. Giving up would
/// mean acknowledging records whose leads are not durable, so the only other ways out are
/// shutdown and `give_up_after`, both of which leave the batch unacknowledged for the next
/// start to replay. After [`NOT_READY_AFTER`] failures in a row the process reports itself
/// not ready, so an orchestrator sees a sink that is down.
pub(crate) async fn retry<F, Fut, T>(
    sink: &str,
    metrics: &Metrics,
    config: &LoopConfig,
    shutdown: &mut watch::Receiver<bool>,
    mut write: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut delay = Duration::from_millis(100);
    let mut failures = 0u32;
    loop {
        match write().await {
            Ok(done) => {
                if failures >= NOT_READY_AFTER {
                    metrics.ready.set(1);
                    tracing::info!(sink, "sink writes again; ready");
                }
                return Ok(done);
            }
            Err(e) => {
                failures += 1;
                metrics.sink_errors.with_label_values(&[sink]).inc();
                tracing::error!(sink, error = %format!("{e:#}"), failures, retry_in = ?delay, "sink write failed");
                if failures == NOT_READY_AFTER {
                    metrics.ready.set(0);
                }
                if *shutdown.borrow() {
                    anyhow::bail!("{sink}: write failed during shutdown: {e:#}");
                }
                if config.give_up_after.is_some_and(|n| failures >= n) {
                    anyhow::bail!("{sink}: {failures} writes failed in a row, giving up: {e:#}");
                }
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
