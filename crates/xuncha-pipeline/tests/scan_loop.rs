//! The scan loop when its sink fails: readiness follows the sink, and a run that must end
//! gives up instead of retrying forever, acknowledging nothing it did not write; a record
//! over its time budget becomes a dead letter.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::Registry;
use tokio::sync::{mpsc, watch};
use xuncha_core::{Lead, Posting};
use xuncha_judge::{Licensing, Scanner};
use xuncha_matcher::Matcher;
use xuncha_pipeline::channel::ChannelSource;
use xuncha_pipeline::{
    DeadLetter, DeadLetterSink, LeadSink, LoopConfig, Metrics, Reason, SharedScanner,
};
use xuncha_rules::RuleSet;

/// Fails its first `failures` writes; records the readiness it saw at each call.
struct FlakySink {
    failures: u32,
    calls: AtomicU32,
    ready_seen: Mutex<Vec<i64>>,
    metrics: Arc<Metrics>,
}

impl LeadSink for FlakySink {
    async fn write(&self, _leads: &[Lead]) -> anyhow::Result<()> {
        self.ready_seen
            .lock()
            .unwrap()
            .push(self.metrics.ready.get());
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        anyhow::ensure!(n >= self.failures, "database disk image is malformed");
        Ok(())
    }
    fn name(&self) -> &'static str {
        "flaky"
    }
}

struct NoDead;
impl DeadLetterSink for NoDead {
    async fn write(&self, _dead: &[DeadLetter]) -> anyhow::Result<()> {
        Ok(())
    }
    fn name(&self) -> &'static str {
        "none"
    }
}

fn scanner() -> SharedScanner {
    let rules = RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
    SharedScanner::new(Scanner::new(
        Matcher::new(Arc::new(rules)).unwrap(),
        Licensing::without_registry(),
    ))
}

async fn run(failures: u32, give_up_after: Option<u32>) -> (anyhow::Result<()>, Vec<i64>, i64) {
    let metrics = Arc::new(Metrics::new(&Registry::new()).unwrap());
    metrics.ready.set(1);
    let sink = FlakySink {
        failures,
        calls: AtomicU32::new(0),
        ready_seen: Mutex::new(Vec::new()),
        metrics: metrics.clone(),
    };
    let (tx, rx) = mpsc::channel(4);
    tx.send(Posting::from_text("p", "入职需交押金500元"))
        .await
        .unwrap();
    drop(tx);
    let (_stop, stop_rx) = watch::channel(false);
    let config = LoopConfig {
        give_up_after,
        ..LoopConfig::default()
    };
    let r = xuncha_pipeline::run(
        ChannelSource::new(rx),
        &sink,
        &NoDead,
        &scanner(),
        &metrics,
        &config,
        stop_rx,
    )
    .await
    .map(|_| ());
    let seen = sink.ready_seen.lock().unwrap().clone();
    (r, seen, metrics.ready.get())
}

#[tokio::test]
async fn readiness_drops_while_the_sink_fails_and_returns_when_it_heals() {
    let (r, seen, after) = run(4, None).await;
    r.unwrap();
    assert_eq!(seen, [1, 1, 1, 0, 0], "not ready from the third failure on");
    assert_eq!(after, 1, "ready again once a write succeeded");
}

#[tokio::test]
async fn a_run_that_must_end_gives_up_on_a_sink_that_never_heals() {
    let (r, seen, after) = run(u32::MAX, Some(4)).await;
    let e = format!("{:#}", r.unwrap_err());
    assert!(
        e.contains("4 writes failed") && e.contains("malformed"),
        "{e}"
    );
    assert_eq!(seen.len(), 4);
    assert_eq!(after, 0);
}

/// Keeps what it is given.
#[derive(Default)]
struct Kept {
    leads: Mutex<Vec<Lead>>,
    dead: Mutex<Vec<DeadLetter>>,
}

impl LeadSink for Kept {
    async fn write(&self, leads: &[Lead]) -> anyhow::Result<()> {
        self.leads.lock().unwrap().extend_from_slice(leads);
        Ok(())
    }
    fn name(&self) -> &'static str {
        "kept"
    }
}

impl DeadLetterSink for Kept {
    async fn write(&self, dead: &[DeadLetter]) -> anyhow::Result<()> {
        self.dead.lock().unwrap().extend_from_slice(dead);
        Ok(())
    }
    fn name(&self) -> &'static str {
        "kept"
    }
}

#[tokio::test]
async fn a_record_over_its_time_budget_is_dead_lettered_with_that_reason() {
    let metrics = Metrics::new(&Registry::new()).unwrap();
    let (tx, rx) = mpsc::channel(4);
    // The clock is looked at between clauses, every few dozen: many clauses with a key
    // phrase each, so the budget is certainly consulted.
    let text = "入职需交押金500元。".repeat(400);
    tx.send(Posting::from_text("slow", &text)).await.unwrap();
    drop(tx);
    let (_stop, stop_rx) = watch::channel(false);
    let config = LoopConfig {
        record_budget: Duration::ZERO,
        ..LoopConfig::default()
    };
    let kept = Kept::default();
    let stats = xuncha_pipeline::run(
        ChannelSource::new(rx),
        &kept,
        &kept,
        &scanner(),
        &metrics,
        &config,
        stop_rx,
    )
    .await
    .unwrap();
    assert!(kept.leads.lock().unwrap().is_empty());
    let dead = kept.dead.lock().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].reason, Reason::OverBudget);
    assert!(dead[0].detail.contains("budget"), "{}", dead[0].detail);
    assert_eq!(stats.dead_letters, 1);
}
