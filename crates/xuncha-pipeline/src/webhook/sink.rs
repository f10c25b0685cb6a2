use std::collections::{HashSet, VecDeque};
use std::error::Error as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use url::Url;
use xuncha_core::{Lead, Severity};

use super::config::{redact, Format, WebhookConfig};
use super::encoder::{self, Message};
use super::throttle::{Summary, Throttle};
use crate::stage::LeadSink;

/// Longest wait between two attempts that the backoff grows to.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Longest `Retry-After` honoured: a receiver asking for more is retried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Robot errcodes that mean "too fast, try later": 企业微信 45009 (api freq out of limit),
/// 钉钉 130101 (send too fast), and -1 (system busy) on both.
const ROBOT_RETRY_ERRCODES: &[i64] = &[45009, 130101, -1];

/// Least time between two "queue full" warnings of one webhook; the metric counts every drop.
const DROP_WARN_EVERY: Duration = Duration::from_secs(10);

/// Metrics of the alert webhooks, labelled by webhook name.
#[derive(Clone)]
pub struct AlertMetrics {
    /// Leads by outcome: `sent`, `failed` (after every retry), `dropped` (queue full or
    /// shut down), `suppressed` (throttled, in a summary instead), `duplicate` (alerted
    /// before), `under_review` (found only by demoted rules: filed for review, not
    /// alerted).
    pub alerts: IntCounterVec,
    /// Summary messages by outcome: `sent`, `failed`.
    pub summaries: IntCounterVec,
    /// Attempts retried.
    pub retries: IntCounterVec,
}

impl AlertMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<AlertMetrics> {
        let m = AlertMetrics {
            alerts: IntCounterVec::new(
                Opts::new(
                    "xuncha_alerts_total",
                    "Leads offered to alert webhooks, by webhook and outcome",
                ),
                &["webhook", "outcome"],
            )?,
            summaries: IntCounterVec::new(
                Opts::new(
                    "xuncha_alert_summaries_total",
                    "Throttle summary messages, by webhook and outcome",
                ),
                &["webhook", "outcome"],
            )?,
            retries: IntCounterVec::new(
                Opts::new(
                    "xuncha_alert_retries_total",
                    "Webhook requests retried, by webhook",
                ),
                &["webhook"],
            )?,
        };
        registry.register(Box::new(m.alerts.clone()))?;
        registry.register(Box::new(m.summaries.clone()))?;
        registry.register(Box::new(m.retries.clone()))?;
        Ok(m)
    }
}

/// The counters of one webhook, resolved once.
#[derive(Clone)]
struct Counters {
    sent: IntCounter,
    failed: IntCounter,
    dropped: IntCounter,
    suppressed: IntCounter,
    duplicate: IntCounter,
    summaries_sent: IntCounter,
    summaries_failed: IntCounter,
    retries: IntCounter,
}

impl Counters {
    fn new(m: &AlertMetrics, name: &str) -> Counters {
        let a = |o: &str| m.alerts.with_label_values(&[name, o]);
        let s = |o: &str| m.summaries.with_label_values(&[name, o]);
        Counters {
            sent: a("sent"),
            failed: a("failed"),
            dropped: a("dropped"),
            suppressed: a("suppressed"),
            duplicate: a("duplicate"),
            summaries_sent: s("sent"),
            summaries_failed: s("failed"),
            retries: m.retries.with_label_values(&[name]),
        }
    }
}

/// Alert webhooks: each has its own queue and task, so a slow or dead receiver delays only
/// its own alerts, and [`Alerts::offer`] never waits on any of them.
///
/// Cloning is cheap and every clone feeds the same webhooks.
#[derive(Clone)]
pub struct Alerts {
    inner: Arc<Inner>,
}

struct Inner {
    hooks: Vec<Hook>,
    closing: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// The offering side of one webhook.
struct Hook {
    name: String,
    min_severity: Severity,
    tx: mpsc::Sender<Arc<Lead>>,
    dropped: IntCounter,
    under_review: IntCounter,
    warn: DropWarn,
}

/// Rate-limits the "queue full" warning: at a flood, one line per interval with a count.
struct DropWarn {
    epoch: Instant,
    /// Milliseconds since `epoch` of the last warning, `u64::MAX` before the first.
    last_ms: AtomicU64,
    since_last: AtomicU64,
}

impl DropWarn {
    fn new() -> DropWarn {
        DropWarn {
            epoch: Instant::now(),
            last_ms: AtomicU64::new(u64::MAX),
            since_last: AtomicU64::new(0),
        }
    }

    fn dropped(&self, webhook: &str, why: &str) {
        self.since_last.fetch_add(1, Ordering::Relaxed);
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_ms.load(Ordering::Relaxed);
        let due =
            last == u64::MAX || now.saturating_sub(last) >= DROP_WARN_EVERY.as_millis() as u64;
        if due
            && self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let n = self.since_last.swap(0, Ordering::Relaxed);
            tracing::warn!(
                webhook,
                dropped = n,
                "alerts {why}: {n} lead(s) not alerted (they are in the case queue)"
            );
        }
    }
}

impl Alerts {
    /// Starts one task per webhook, and registers [`AlertMetrics`] in `registry`.
    ///
    /// Must be called inside a tokio runtime. Fails on an invalid config (the error names
    /// the webhook) or a webhook name used twice.
    pub fn start(configs: Vec<WebhookConfig>, registry: &Registry) -> anyhow::Result<Alerts> {
        Alerts::start_with_record(configs, registry, None)
    }

    /// [`Alerts::start`], remembering deliveries in `record` across restarts.
    pub fn start_with_record(
        configs: Vec<WebhookConfig>,
        registry: &Registry,
        record: Option<Arc<dyn AlertRecord>>,
    ) -> anyhow::Result<Alerts> {
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("Alerts::start must run inside a tokio runtime"))?;
        let mut names = HashSet::new();
        let mut checked = Vec::with_capacity(configs.len());
        for cfg in configs {
            let url = cfg.validate()?;
            anyhow::ensure!(
                names.insert(cfg.name.clone()),
                "alerts.webhook `{}`: the name is used by another webhook",
                cfg.name
            );
            let client = reqwest::Client::builder()
                .timeout(cfg.timeout)
                .connect_timeout(cfg.timeout)
                .user_agent(concat!("xuncha/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| anyhow::anyhow!("alerts.webhook `{}`: HTTP client: {e}", cfg.name))?;
            checked.push((cfg, url, client));
        }
        let metrics = AlertMetrics::new(registry)
            .map_err(|e| anyhow::anyhow!("registering the alert metrics: {e}"))?;
        let (closing, _) = watch::channel(false);
        let mut hooks = Vec::new();
        let mut tasks = Vec::new();
        for (cfg, url, client) in checked {
            let (tx, rx) = mpsc::channel(cfg.queue);
            let counters = Counters::new(&metrics, &cfg.name);
            hooks.push(Hook {
                name: cfg.name.clone(),
                min_severity: cfg.min_severity,
                tx,
                dropped: counters.dropped.clone(),
                under_review: metrics
                    .alerts
                    .with_label_values(&[cfg.name.as_str(), "under_review"]),
                warn: DropWarn::new(),
            });
            let worker = Worker {
                throttle: Throttle::new(cfg.per_publisher, cfg.per_rule),
                dedupe: Dedupe::new(cfg.dedupe),
                record: record.clone(),
                cfg,
                url,
                client,
                counters,
            };
            tasks.push(rt.spawn(worker.run(rx, closing.subscribe())));
        }
        Ok(Alerts {
            inner: Arc::new(Inner {
                hooks,
                closing,
                tasks: Mutex::new(tasks),
            }),
        })
    }

    /// Queues `leads` for every webhook whose `min_severity` they reach. Never blocks nor
    /// waits: a lead that finds a webhook's queue full is dropped for that webhook, counted
    /// (`xuncha_alerts_total{outcome="dropped"}`) and warned about at most every 10 s.
    pub fn offer<'a>(&self, leads: impl IntoIterator<Item = &'a Lead>) {
        for lead in leads {
            let mut shared: Option<Arc<Lead>> = None;
            for hook in &self.inner.hooks {
                if lead.severity < hook.min_severity {
                    continue;
                }
                let l = shared.get_or_insert_with(|| Arc::new(lead.clone())).clone();
                match hook.tx.try_send(l) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        hook.dropped.inc();
                        hook.warn.dropped(&hook.name, "queue full");
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        hook.dropped.inc();
                        hook.warn.dropped(&hook.name, "shut down");
                    }
                }
            }
        }
    }

    /// Counts `leads` as held back for review (`xuncha_alerts_total{outcome="under_review"}`)
    /// on every webhook whose `min_severity` they reach: what would have been sent.
    pub fn held_for_review(&self, leads: &[&Lead]) {
        for hook in &self.inner.hooks {
            let n = leads
                .iter()
                .filter(|l| l.severity >= hook.min_severity)
                .count();
            hook.under_review.inc_by(n as u64);
        }
    }

    /// The names of the webhooks.
    pub fn webhooks(&self) -> impl Iterator<Item = &str> {
        self.inner.hooks.iter().map(|h| h.name.as_str())
    }

    /// Stops taking leads, sends what is queued and the summaries of every throttled key,
    /// and waits for that at most `deadline`; what is still unsent then is abandoned
    /// (logged with its count). Leads offered afterwards, through any clone, are dropped.
    pub async fn shutdown(self, deadline: Duration) {
        self.inner.closing.send_replace(true);
        let tasks = std::mem::take(&mut *self.inner.tasks.lock().expect("tasks lock"));
        let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
        match tokio::time::timeout(deadline, futures::future::join_all(tasks)).await {
            Ok(done) => {
                for (r, hook) in done.into_iter().zip(&self.inner.hooks) {
                    if let Err(e) = r {
                        tracing::error!(webhook = hook.name, "alert task failed: {e}");
                    }
                }
            }
            Err(_) => {
                for (a, hook) in aborts.iter().zip(&self.inner.hooks) {
                    a.abort();
                    let queued = hook.tx.max_capacity() - hook.tx.capacity();
                    tracing::warn!(
                        webhook = hook.name,
                        queued,
                        "alerts: shutdown deadline of {deadline:?} passed; {queued} queued \
                         lead(s) and any pending summary not sent"
                    );
                }
            }
        }
    }
}

/// Lead ids alerted recently, so that rescanning an unchanged posting (same `lead_id`)
/// does not alert its people again.
struct Dedupe {
    cap: usize,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Dedupe {
    fn new(cap: usize) -> Dedupe {
        Dedupe {
            cap,
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether `id` is new; remembers it.
    fn first_time(&mut self, id: &str) -> bool {
        if self.cap == 0 {
            return true;
        }
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == self.cap {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.seen.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }
}

/// Where the alerts already delivered are remembered across restarts, so a replay after a
/// crash or a rescan does not alert people again (the case queue keeps it in the embedded
/// mode). Without one, only the in-memory window of recent lead ids guards against it.
pub trait AlertRecord: Send + Sync {
    /// Whether `webhook` has already delivered `lead_id`.
    fn delivered(&self, webhook: &str, lead_id: &str) -> anyhow::Result<bool>;
    /// Remembers that `webhook` delivered `lead_id`.
    fn record_delivery(&self, webhook: &str, lead_id: &str) -> anyhow::Result<()>;
}

/// Which rules are demoted: the analysts' verdicts put their precision below the floor,
/// so a lead that only they found is filed for review and not alerted
/// ([`Lead::found_only_by`]). The case store answers, from a cache a few seconds old at
/// most, the same answer its filing used.
pub trait Demotions: Send + Sync {
    /// The ids of the rules demoted now. May block (a database read).
    fn demoted_rules(&self) -> anyhow::Result<Arc<HashSet<String>>>;
}

/// The delivering side of one webhook.
struct Worker {
    cfg: WebhookConfig,
    url: Url,
    client: reqwest::Client,
    throttle: Throttle,
    dedupe: Dedupe,
    record: Option<Arc<dyn AlertRecord>>,
    counters: Counters,
}

/// What one HTTP attempt came to.
enum Attempt {
    Done,
    Retry { wait: Option<Duration>, why: String },
    Fail(String),
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::Receiver<Arc<Lead>>, mut closing: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.throttle.tick());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                // The watch guard is not `Send`: drop it inside. A dropped sender closes too.
                () = async { let _ = closing.wait_for(|c| *c).await; } => break,
                lead = rx.recv() => match lead {
                    Some(lead) => self.handle(&lead).await,
                    None => break,
                },
                _ = tick.tick() => {
                    self.throttle.expire(Instant::now());
                    self.send_summaries().await;
                }
            }
        }
        // Closing: refuse new leads, send those already queued, then every summary owed.
        rx.close();
        while let Some(lead) = rx.recv().await {
            self.handle(&lead).await;
        }
        self.throttle.flush();
        self.send_summaries().await;
    }

    async fn handle(&mut self, lead: &Lead) {
        if !self.dedupe.first_time(&lead.lead_id) {
            self.counters.duplicate.inc();
            return;
        }
        if let Some(record) = self.record.clone() {
            // The record is a database: its calls block, so they run off the async threads.
            let (name, id) = (self.cfg.name.clone(), lead.lead_id.clone());
            let delivered = tokio::task::spawn_blocking(move || record.delivered(&name, &id))
                .await
                .unwrap_or_else(|e| Err(anyhow::anyhow!("alert record lookup: {e}")));
            match delivered {
                Ok(true) => {
                    self.counters.duplicate.inc();
                    return;
                }
                Ok(false) => {}
                // Better a second alert than a lost one.
                Err(e) => {
                    tracing::warn!(webhook = self.cfg.name, error = %format!("{e:#}"), "alert record unreadable")
                }
            }
        }
        if self.throttle.admit(lead, Instant::now()) {
            match self.deliver(&Message::Lead(lead)).await {
                Ok(()) => {
                    self.counters.sent.inc();
                    if let Some(record) = self.record.clone() {
                        let (name, id) = (self.cfg.name.clone(), lead.lead_id.clone());
                        let recorded =
                            tokio::task::spawn_blocking(move || record.record_delivery(&name, &id))
                                .await
                                .unwrap_or_else(|e| Err(anyhow::anyhow!("alert record: {e}")));
                        if let Err(e) = recorded {
                            tracing::warn!(webhook = self.cfg.name, error = %format!("{e:#}"), "alert delivered but not recorded");
                        }
                    }
                }
                Err(why) => {
                    self.counters.failed.inc();
                    tracing::warn!(
                        webhook = self.cfg.name,
                        url = %redact(self.url.as_str()),
                        lead_id = lead.lead_id,
                        "alert not delivered: {why}"
                    );
                }
            }
        } else {
            self.counters.suppressed.inc();
        }
        self.send_summaries().await;
    }

    async fn send_summaries(&mut self) {
        for s in self.throttle.take_summaries() {
            self.send_summary(&s).await;
        }
    }

    async fn send_summary(&self, s: &Summary) {
        match self.deliver(&Message::Summary(s)).await {
            Ok(()) => self.counters.summaries_sent.inc(),
            Err(why) => {
                self.counters.summaries_failed.inc();
                tracing::warn!(
                    webhook = self.cfg.name,
                    url = %redact(self.url.as_str()),
                    key = s.key,
                    not_sent = s.not_sent(),
                    "alert summary not delivered: {why}"
                );
            }
        }
    }

    /// Sends `msg`, retrying what may pass later; the error says why the last attempt failed.
    async fn deliver(&self, msg: &Message<'_>) -> Result<(), String> {
        let body = encoder::encode(self.cfg.format, msg);
        let mut attempt = 0;
        loop {
            match self.attempt(&body).await {
                Attempt::Done => return Ok(()),
                Attempt::Fail(why) => return Err(format!("{why} (attempt {})", attempt + 1)),
                Attempt::Retry { wait, why } => {
                    if attempt >= self.cfg.retries {
                        return Err(format!("{why} (after {} attempts)", attempt + 1));
                    }
                    let wait = wait.unwrap_or_else(|| backoff(self.cfg.backoff, attempt));
                    tracing::debug!(
                        webhook = self.cfg.name,
                        "alert attempt {} failed: {why}; retrying in {wait:?}",
                        attempt + 1
                    );
                    self.counters.retries.inc();
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, body: &[u8]) -> Attempt {
        let url = match (&self.cfg.format, &self.cfg.secret) {
            // Signed afresh each attempt: 钉钉 refuses a timestamp an hour old.
            (Format::Dingtalk, Some(secret)) => encoder::dingtalk_url(&self.url, secret, now_ms()),
            _ => self.url.clone(),
        };
        let resp = match self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_vec())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    wait: None,
                    why: chain(&e),
                }
            }
        };
        let status = resp.status();
        if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
            let wait = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after);
            return Attempt::Retry {
                wait,
                why: format!("HTTP {status}"),
            };
        }
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => {
                return Attempt::Retry {
                    wait: None,
                    why: format!("HTTP {status}, reading the answer: {}", chain(&e)),
                }
            }
        };
        if !status.is_success() {
            return Attempt::Fail(format!("HTTP {status}: {}", snippet(&text)));
        }
        if self.cfg.format.is_robot() {
            robot_answer(&text)
        } else {
            Attempt::Done
        }
    }
}

/// A robot's HTTP 200 answer: `{"errcode":0,…}` is success.
fn robot_answer(text: &str) -> Attempt {
    #[derive(serde::Deserialize)]
    struct Answer {
        errcode: i64,
        #[serde(default)]
        errmsg: String,
    }
    match serde_json::from_str::<Answer>(text) {
        Ok(a) if a.errcode == 0 => Attempt::Done,
        Ok(a) if ROBOT_RETRY_ERRCODES.contains(&a.errcode) => Attempt::Retry {
            wait: None,
            why: format!("robot errcode {}: {}", a.errcode, a.errmsg),
        },
        Ok(a) => Attempt::Fail(format!("robot errcode {}: {}", a.errcode, a.errmsg)),
        Err(_) => Attempt::Fail(format!(
            "robot answered HTTP 200 without an errcode: {}",
            snippet(text)
        )),
    }
}

/// Exponential backoff from `base` with jitter (half fixed, half random), so that webhooks
/// failing together do not retry in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let d = base
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(MAX_BACKOFF);
    d / 2 + d.mul_f64(fastrand::f64() / 2.0)
}

/// `Retry-After` as seconds or an HTTP date, at most [`MAX_RETRY_AFTER`].
fn retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    let d = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(v)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(d.min(MAX_RETRY_AFTER))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An error with its causes: reqwest's own message alone hides the connect or TLS reason.
fn chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

fn snippet(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A [`LeadSink`] that alerts too: it writes to the inner sink and, only once that has
/// succeeded, offers the leads to [`Alerts`]. Alerting never blocks the write and never
/// fails it; the inner sink's errors come back unchanged. With [`WithAlerts::demotions`],
/// the leads only demoted rules found are held back.
pub struct WithAlerts<S> {
    inner: S,
    alerts: Alerts,
    demotions: Option<Arc<dyn Demotions>>,
}

impl<S: LeadSink> WithAlerts<S> {
    /// `inner`, alerting through `alerts`.
    pub fn new(inner: S, alerts: Alerts) -> WithAlerts<S> {
        WithAlerts {
            inner,
            alerts,
            demotions: None,
        }
    }

    /// Holds back the leads that only rules `demotions` names demoted have found: the case
    /// store files them `under_review`, and nobody is woken for them.
    pub fn demotions(mut self, demotions: Arc<dyn Demotions>) -> WithAlerts<S> {
        self.demotions = Some(demotions);
        self
    }

    /// The sink written to.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The alerts offered to.
    pub fn alerts(&self) -> &Alerts {
        &self.alerts
    }

    /// Both parts, for example to [`Alerts::shutdown`] after the scan loop has ended.
    pub fn into_parts(self) -> (S, Alerts) {
        (self.inner, self.alerts)
    }

    /// The demoted rules now; none when unknown. A store that cannot say is logged and
    /// every lead alerted: better an alert too many than a silenced true lead.
    async fn demoted(&self) -> Option<Arc<HashSet<String>>> {
        let d = self.demotions.clone()?;
        match tokio::task::spawn_blocking(move || d.demoted_rules()).await {
            Ok(Ok(set)) => Some(set),
            Ok(Err(e)) => {
                tracing::warn!(error = %format!("{e:#}"), "demoted rules unknown; alerting every lead");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "demoted rules unknown; alerting every lead");
                None
            }
        }
    }
}

impl<S: LeadSink> LeadSink for WithAlerts<S> {
    async fn write(&self, leads: &[Lead]) -> anyhow::Result<()> {
        self.inner.write(leads).await?;
        match self.demoted().await.filter(|d| !d.is_empty()) {
            None => self.alerts.offer(leads),
            Some(demoted) => {
                let (held, alerted): (Vec<&Lead>, Vec<&Lead>) =
                    leads.iter().partition(|l| l.found_only_by(&demoted));
                self.alerts.held_for_review(&held);
                self.alerts.offer(alerted);
            }
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stops_growing() {
        let base = Duration::from_millis(100);
        for attempt in 0..4 {
            let full = base * 2u32.pow(attempt);
            let d = backoff(base, attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(base, 30) <= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("99999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn robot_answers_are_classified() {
        assert!(matches!(
            robot_answer(r#"{"errcode":0,"errmsg":"ok"}"#),
            Attempt::Done
        ));
        assert!(matches!(
            robot_answer(r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#),
            Attempt::Retry { .. }
        ));
        match robot_answer(r#"{"errcode":310000,"errmsg":"sign not match"}"#) {
            Attempt::Fail(why) => assert!(why.contains("310000"), "{why}"),
            _ => panic!("a wrong signature is not retried"),
        }
        assert!(matches!(robot_answer("<html>"), Attempt::Fail(_)));
    }

    #[test]
    fn dedupe_forgets_the_oldest_beyond_its_capacity() {
        let mut d = Dedupe::new(2);
        assert!(d.first_time("a"));
        assert!(!d.first_time("a"));
        assert!(d.first_time("b"));
        assert!(d.first_time("c"));
        assert!(d.first_time("a"), "a was forgotten");
        let mut off = Dedupe::new(0);
        assert!(off.first_time("x") && off.first_time("x"), "0 turns it off");
    }
}
