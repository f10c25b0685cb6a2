//! The crawl loop: one task per site runs passes; each pass takes entries from the
//! frontier and processes each page in its own task, within the global concurrency limit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use prometheus::Registry;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;
use xuncha_core::{sha256_hex, Posting, Publisher, POSTING_SCHEMA};

use crate::charset::decode_html;
use crate::evidence::EvidenceStore;
use crate::extract::{base_url, links, parse, posting_fields, Fields};
use crate::fetch::{FetchErrorKind, FetchRequest, Fetched, Fetcher, PrivateHosts, Response};
use crate::frontier::{Frontier, FrontierEntry, FrontierError, LocalFrontier, PageKind};
use crate::metrics::CrawlMetrics;
use crate::net::{canonicalize, check_url, host_key};
use crate::operator::{scan_page, OperatorPage, OperatorRecord, OPERATOR_SCHEMA};
use crate::politeness::lock;
use crate::profile::{ProfileError, Site, SiteProfile};
use crate::robots::{RobotsCache, Rules};
use crate::state::{CrawlState, PageRecord, StateError};
use crate::CrawlerConfig;

/// Error messages kept in [`CrawlStats::errors`]; later ones are only counted.
const MAX_ERRORS_KEPT: usize = 1000;

/// A crawl that cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// A site profile is unusable.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The crawl-state database failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The frontier failed.
    #[error(transparent)]
    Frontier(#[from] FrontierError),
    /// The metrics could not be registered (registered twice in one registry?).
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// Whoever consumed the postings went away.
    #[error("the posting channel was closed; crawl stopped")]
    SinkClosed,
    /// A crawl task panicked.
    #[error("crawl task failed: {0}")]
    Task(String),
}

/// Counts of one run, per host and per site, and the errors met. Also the live progress
/// ([`Crawler::progress`]).
#[derive(Clone, Debug, Default, Serialize)]
pub struct CrawlStats {
    /// Per politeness key (`host` or `host:port`).
    pub hosts: BTreeMap<String, HostStats>,
    /// Per site key.
    pub sites: BTreeMap<String, SiteStats>,
    /// The first errors met, each naming its URL.
    pub errors: Vec<PageError>,
    /// All errors, including those not kept.
    pub errors_total: u64,
}

/// Counts for one host.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HostStats {
    /// Responses received (any status that ended a fetch, 304 included).
    pub pages: u64,
    /// Body bytes received, after content decoding.
    pub bytes: u64,
    /// Fetches that failed.
    pub errors: u64,
    /// Postings sent on.
    pub emitted: u64,
}

/// Counts for one site.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SiteStats {
    /// Whether the last pass resumed an unfinished one.
    pub resumed: bool,
    /// Pages fetched.
    pub pages: u64,
    /// New or changed postings sent on.
    pub emitted: u64,
    /// Re-fetched postings that had not changed.
    pub unchanged: u64,
    /// Postings not re-fetched because they are younger than `recrawl_after`.
    pub fresh: u64,
    /// Pages robots.txt disallowed.
    pub robots_refused: u64,
    /// Responses skipped because they were not HTML.
    pub not_html: u64,
    /// Pages that failed.
    pub errors: u64,
    /// Whether a pass stopped at `max_pages`.
    pub capped: bool,
    /// Operator records sent.
    pub operator_records: u64,
}

/// One failed page.
#[derive(Clone, Debug, Serialize)]
pub struct PageError {
    /// Site key.
    pub site: String,
    /// The URL.
    pub url: String,
    /// What went wrong (starts with the URL when it came from a fetch).
    pub error: String,
}

/// Builds a [`Crawler`]; only the configuration and the sites are required.
pub struct CrawlerBuilder {
    config: CrawlerConfig,
    sites: Vec<SiteProfile>,
    registry: Option<Registry>,
    state: Option<Arc<CrawlState>>,
    frontier: Option<Arc<dyn Frontier>>,
    operators: Option<mpsc::Sender<OperatorRecord>>,
}

impl CrawlerBuilder {
    /// The sites to crawl.
    pub fn sites(mut self, sites: Vec<SiteProfile>) -> Self {
        self.sites = sites;
        self
    }

    /// Registers the crawler's metrics in `registry` (default: a private registry).
    pub fn metrics(mut self, registry: &Registry) -> Self {
        self.registry = Some(registry.clone());
        self
    }

    /// Uses an already open crawl state instead of opening `config.state_path`.
    pub fn state(mut self, state: Arc<CrawlState>) -> Self {
        self.state = Some(state);
        self
    }

    /// Uses another frontier (the Kafka one, for several crawler processes) instead of
    /// the in-process [`LocalFrontier`].
    pub fn frontier(mut self, frontier: Arc<dyn Frontier>) -> Self {
        self.frontier = Some(frontier);
        self
    }

    /// Reads each site's operator pages once a pass and sends an [`OperatorRecord`] here.
    pub fn operator_sink(mut self, sink: mpsc::Sender<OperatorRecord>) -> Self {
        self.operators = Some(sink);
        self
    }

    /// Checks every profile, opens the state and builds the HTTP clients.
    pub fn build(self) -> Result<Crawler, CrawlError> {
        let sites = self
            .sites
            .into_iter()
            .map(|p| Site::new(p).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let registry = self.registry.unwrap_or_default();
        let metrics = CrawlMetrics::new(&registry)?;
        let state = match self.state {
            Some(s) => s,
            None => Arc::new(CrawlState::open(&self.config.state_path)?),
        };
        let frontier = self
            .frontier
            .unwrap_or_else(|| Arc::new(LocalFrontier::new(state.clone())));
        let config = Arc::new(self.config);
        let fetcher = Fetcher::new(config.clone(), metrics.clone())?;
        Ok(Crawler {
            inner: Arc::new(Inner {
                semaphore: Arc::new(Semaphore::new(config.concurrency.max(1))),
                evidence: EvidenceStore::new(config.evidence_dir.clone()),
                cfg: config,
                sites,
                fetcher,
                robots: RobotsCache::default(),
                state,
                frontier,
                metrics,
                cancel: CancellationToken::new(),
                stats: Mutex::new(CrawlStats::default()),
                operators: self.operators,
            }),
        })
    }
}

/// The crawler. Cheap to share: clone the [`cancel_token`](Crawler::cancel_token) to stop
/// it from elsewhere, poll [`progress`](Crawler::progress) to watch it.
pub struct Crawler {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: Arc<CrawlerConfig>,
    sites: Vec<Arc<Site>>,
    fetcher: Fetcher,
    robots: RobotsCache,
    state: Arc<CrawlState>,
    frontier: Arc<dyn Frontier>,
    evidence: EvidenceStore,
    metrics: CrawlMetrics,
    semaphore: Arc<Semaphore>,
    cancel: CancellationToken,
    stats: Mutex<CrawlStats>,
    operators: Option<mpsc::Sender<OperatorRecord>>,
}

/// Counters of one pass of one site.
#[derive(Default)]
struct Pass {
    fetched: AtomicUsize,
    capped: AtomicBool,
}

enum Stop {
    Drained,
    Capped,
    Cancelled,
}

impl Crawler {
    /// A builder with `config` and no sites yet.
    pub fn builder(config: CrawlerConfig) -> CrawlerBuilder {
        CrawlerBuilder {
            config,
            sites: Vec::new(),
            registry: None,
            state: None,
            frontier: None,
            operators: None,
        }
    }

    /// A crawler of `sites` with the default state, frontier and a private metrics registry.
    pub fn new(config: CrawlerConfig, sites: Vec<SiteProfile>) -> Result<Crawler, CrawlError> {
        Crawler::builder(config).sites(sites).build()
    }

    /// Crawls every site, sending each new or changed posting into `sink`. With `once`,
    /// returns after one pass over each site; otherwise starts a new pass
    /// `pass_interval` after each one ends, until cancelled. A cancelled pass stays in
    /// the crawl state and the next run resumes it.
    pub async fn run(
        &self,
        sink: mpsc::Sender<Posting>,
        once: bool,
    ) -> Result<CrawlStats, CrawlError> {
        *lock(&self.inner.stats) = CrawlStats::default();
        let mut tasks = JoinSet::new();
        for site in &self.inner.sites {
            let (inner, site, sink) = (self.inner.clone(), site.clone(), sink.clone());
            tasks.spawn(async move { inner.site_loop(site, sink, once).await });
        }
        drop(sink);
        let mut failure = None;
        while let Some(joined) = tasks.join_next().await {
            let result = joined
                .map_err(|e| CrawlError::Task(e.to_string()))
                .and_then(|r| r);
            if let Err(e) = result {
                self.inner.cancel.cancel();
                failure.get_or_insert(e);
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(self.progress()),
        }
    }

    /// A token that stops the crawl: no new page is started, pages in flight finish
    /// (within `response_timeout`), and `run` returns.
    pub fn cancel_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// The counts of the current (or last) run so far.
    pub fn progress(&self) -> CrawlStats {
        lock(&self.inner.stats).clone()
    }

    /// The evidence store postings refer to.
    pub fn evidence(&self) -> &EvidenceStore {
        &self.inner.evidence
    }
}

impl Inner {
    async fn site_loop(
        self: Arc<Self>,
        site: Arc<Site>,
        sink: mpsc::Sender<Posting>,
        once: bool,
    ) -> Result<(), CrawlError> {
        loop {
            self.pass(&site, &sink).await?;
            if once || self.cancel.is_cancelled() {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(site.profile.pass_interval) => {}
                _ = self.cancel.cancelled() => return Ok(()),
            }
        }
    }

    async fn pass(
        self: &Arc<Self>,
        site: &Arc<Site>,
        sink: &mpsc::Sender<Posting>,
    ) -> Result<(), CrawlError> {
        let name = site.profile.name.clone();
        let seeds = site
            .profile
            .start_urls
            .iter()
            .filter_map(|u| Url::parse(u).ok())
            .map(|u| entry(&name, &canonicalize(&u), PageKind::List))
            .collect();
        let resumed = self.frontier.begin(&name, seeds).await?;
        self.site_stats(&name, |s| s.resumed = resumed);
        if resumed {
            tracing::info!(site = %name, "resuming an unfinished pass");
        }
        if self.operators.is_some() && !resumed {
            self.operator_pass(site).await;
        }

        let pass = Arc::new(Pass::default());
        let mut tasks: JoinSet<Result<(), CrawlError>> = JoinSet::new();
        let mut failure = None;
        let stop = loop {
            if pass.capped.load(Ordering::Relaxed) {
                break Stop::Capped;
            }
            let next = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break Stop::Cancelled,
                e = self.frontier.pop(&name) => e,
            };
            let Some(entry) = next else {
                break if pass.capped.load(Ordering::Relaxed) {
                    Stop::Capped
                } else {
                    Stop::Drained
                };
            };
            let permit = tokio::select! {
                biased;
                // The popped entry stays pending in the state: a restart fetches it.
                _ = self.cancel.cancelled() => break Stop::Cancelled,
                p = self.semaphore.clone().acquire_owned() => p.expect("semaphore never closed"),
            };
            let (inner, site, sink, pass) =
                (self.clone(), site.clone(), sink.clone(), pass.clone());
            tasks.spawn(async move {
                let _permit = permit;
                let work = inner.process(&site, &entry, &sink, &pass);
                // On cancel, work in flight gets a grace period to finish, then is
                // dropped undone (and so fetched again after a restart).
                let grace = async {
                    inner.cancel.cancelled().await;
                    tokio::time::sleep(inner.cfg.response_timeout).await;
                };
                tokio::select! {
                    r = work => {
                        inner.frontier.done(&entry).await?;
                        r
                    }
                    _ = grace => Ok(()),
                }
            });
            while let Some(joined) = tasks.try_join_next() {
                if let Err(e) = joined
                    .map_err(|e| CrawlError::Task(e.to_string()))
                    .and_then(|r| r)
                {
                    self.cancel.cancel();
                    failure.get_or_insert(e);
                }
            }
        };
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined
                .map_err(|e| CrawlError::Task(e.to_string()))
                .and_then(|r| r)
            {
                self.cancel.cancel();
                failure.get_or_insert(e);
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        match stop {
            Stop::Capped => {
                self.site_stats(&name, |s| s.capped = true);
                self.frontier.finish(&name).await?;
            }
            Stop::Drained => self.frontier.finish(&name).await?,
            Stop::Cancelled => {}
        }
        Ok(())
    }

    /// One page. Page-level failures are counted and reported, never returned: only a
    /// closed sink or a failing frontier stops the crawl.
    async fn process(
        &self,
        site: &Site,
        entry: &FrontierEntry,
        sink: &mpsc::Sender<Posting>,
        pass: &Pass,
    ) -> Result<(), CrawlError> {
        let p = &site.profile;
        let url = match Url::parse(&entry.url) {
            Ok(u) => u,
            Err(e) => {
                self.page_error(site, entry, format!("{}: not a URL: {e}", entry.url));
                return Ok(());
            }
        };
        let prev = match entry.kind {
            PageKind::List => None,
            PageKind::Posting => self.state.page(&entry.url).unwrap_or_else(|e| {
                self.page_error(site, entry, format!("{}: {e}", entry.url));
                None
            }),
        };
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if let Some(prev) = &prev {
            if now.saturating_sub(prev.fetched_at) < p.recrawl_after.as_secs() as i64 {
                self.metrics
                    .skipped
                    .with_label_values(&[&p.name, "fresh"])
                    .inc();
                self.site_stats(&p.name, |s| s.fresh += 1);
                return Ok(());
            }
        }
        // Refused before robots.txt, which would otherwise be the first request to go.
        if let Err(why) = check_url(&url, PrivateHosts::of(p).allows(&url)) {
            self.metrics
                .skipped
                .with_label_values(&[&p.name, "ssrf"])
                .inc();
            self.page_error(site, entry, format!("{url}: {why}"));
            return Ok(());
        }
        if !self.robots_allow(site, &url, &entry.host).await {
            return Ok(());
        }
        if pass.fetched.fetch_add(1, Ordering::Relaxed) >= p.max_pages {
            pass.capped.store(true, Ordering::Relaxed);
            return Ok(());
        }
        let req = FetchRequest {
            url: &url,
            private: PrivateHosts::of(p),
            rate_per_sec: p.rate_per_sec,
            validators: prev.as_ref().map(|r| &r.validators),
            html_only: true,
        };
        let resp = match self.fetcher.fetch(&req).await {
            Ok(Fetched::Page(resp)) => resp,
            Ok(Fetched::NotModified) => {
                self.fetched(&p.name, &entry.host, 0);
                if let Err(e) = self.state.touch_page(&entry.url, now) {
                    self.page_error(site, entry, format!("{}: {e}", entry.url));
                }
                self.unchanged(&p.name);
                return Ok(());
            }
            Ok(Fetched::NotHtml(content_type)) => {
                self.fetched(&p.name, &entry.host, 0);
                self.metrics
                    .skipped
                    .with_label_values(&[&p.name, "not_html"])
                    .inc();
                self.site_stats(&p.name, |s| s.not_html += 1);
                tracing::debug!(url = %url, %content_type, "skipped: not HTML");
                return Ok(());
            }
            Err(e) => {
                if matches!(e.kind, FetchErrorKind::Refused(_)) {
                    self.metrics
                        .skipped
                        .with_label_values(&[&p.name, "ssrf"])
                        .inc();
                }
                self.host_stats(&entry.host, |h| h.errors += 1);
                self.page_error(site, entry, e.to_string());
                return Ok(());
            }
        };
        self.fetched(&p.name, &entry.host, resp.body.len() as u64);
        match entry.kind {
            PageKind::List => {
                let found = self.list_entries(site, &url, &resp);
                self.frontier.push(found).await?;
                Ok(())
            }
            PageKind::Posting => self.posting(site, entry, prev, resp, sink, now).await,
        }
    }

    async fn robots_allow(&self, site: &Site, url: &Url, host: &str) -> bool {
        let p = &site.profile;
        let rules = self
            .robots
            .rules(
                &self.fetcher,
                url,
                self.cfg.robots_agent(),
                PrivateHosts::of(p),
                p.rate_per_sec,
                self.cfg.robots_ttl,
            )
            .await;
        if let Some(delay) = rules.crawl_delay() {
            self.fetcher
                .gates
                .get(host, p.rate_per_sec)
                .slow_down(delay);
        }
        let allowed = rules.allowed(url.as_str());
        if let Rules::DisallowAll(why) = &*rules {
            self.record_error(
                &p.name,
                url.as_str(),
                format!("{url}: not fetched: robots.txt could not be read ({why})"),
            );
        }
        if !allowed {
            self.metrics
                .robots_refusals
                .with_label_values(&[host])
                .inc();
            self.site_stats(&p.name, |s| s.robots_refused += 1);
            tracing::debug!(url = %url, "robots.txt disallows");
        }
        allowed
    }

    /// Posting links and the next-page link of a list page, canonical and on allowed hosts.
    fn list_entries(&self, site: &Site, url: &Url, resp: &Response) -> Vec<FrontierEntry> {
        let p = &site.profile;
        let (html, _, _) = decode_html(&resp.body, resp.header("content-type"), tld(url));
        let doc = match parse(&html) {
            Ok(doc) => doc,
            Err(why) => {
                self.record_error(&p.name, url.as_str(), format!("{url}: {why}"));
                return Vec::new();
            }
        };
        let base = base_url(&doc, &resp.final_url);
        let mut found: Vec<FrontierEntry> = Vec::new();
        let next = site
            .selectors
            .next
            .as_ref()
            .map(|sel| links(&doc, sel, &base))
            .unwrap_or_default();
        for (kind, urls) in [
            (PageKind::List, next),
            (PageKind::Posting, links(&doc, &site.selectors.links, &base)),
        ] {
            for u in urls {
                let u = canonicalize(&u);
                if matches!(u.scheme(), "http" | "https")
                    && p.allows_host(u.host_str().unwrap_or(""))
                {
                    found.push(entry(&p.name, &u, kind));
                }
            }
        }
        found
    }

    async fn posting(
        &self,
        site: &Site,
        entry: &FrontierEntry,
        prev: Option<PageRecord>,
        resp: Response,
        sink: &mpsc::Sender<Posting>,
        now: i64,
    ) -> Result<(), CrawlError> {
        let p = &site.profile;
        let sha = sha256_hex(&resp.body);
        let record = PageRecord {
            validators: resp.validators(),
            content_sha256: Some(sha.clone()),
            fetched_at: now,
        };
        if prev.as_ref().and_then(|r| r.content_sha256.as_deref()) == Some(sha.as_str()) {
            if let Err(e) = self.state.record_page(&entry.url, &p.name, &record) {
                self.page_error(site, entry, format!("{}: {e}", entry.url));
            }
            self.unchanged(&p.name);
            return Ok(());
        }
        let url = Url::parse(&entry.url).expect("parsed before");
        let fields = {
            let (html, _, _) = decode_html(&resp.body, resp.header("content-type"), tld(&url));
            parse(&html).map(|doc| posting_fields(&doc, &site.selectors))
        };
        let fields = match fields {
            Ok(f) => f,
            Err(why) => {
                self.page_error(site, entry, format!("{}: {why}", entry.url));
                return Ok(());
            }
        };
        if fields.is_empty() {
            self.page_error(
                site,
                entry,
                format!(
                    "{}: none of the profile's field selectors matched; not a posting page?",
                    entry.url
                ),
            );
            return Ok(());
        }
        let captured_at = xuncha_core::rfc3339(resp.captured_at);
        // A posting whose page cannot be kept as evidence is not sent: a lead without
        // evidence cannot open a case.
        if let Err(e) = self.evidence.keep(&entry.url, &resp, &self.cfg.user_agent) {
            self.page_error(
                site,
                entry,
                format!(
                    "{}: evidence store {}: {e}",
                    entry.url,
                    self.evidence.dir().display()
                ),
            );
            return Ok(());
        }
        let posting = build_posting(&p.name, entry, &resp, fields, &sha, captured_at);
        sink.send(posting)
            .await
            .map_err(|_| CrawlError::SinkClosed)?;
        // Recorded only once sent: a crash in between re-sends (at-least-once), never loses.
        if let Err(e) = self.state.record_page(&entry.url, &p.name, &record) {
            self.page_error(site, entry, format!("{}: {e}", entry.url));
        }
        self.metrics.emitted.with_label_values(&[&p.name]).inc();
        self.site_stats(&p.name, |s| s.emitted += 1);
        self.host_stats(&entry.host, |h| h.emitted += 1);
        Ok(())
    }

    async fn operator_pass(&self, site: &Site) {
        let Some(sink) = &self.operators else { return };
        let p = &site.profile;
        let mut record = OperatorRecord {
            schema: OPERATOR_SCHEMA.to_owned(),
            source: p.name.clone(),
            checked_at: xuncha_core::now_rfc3339(),
            ..OperatorRecord::default()
        };
        for raw in p.operator_urls() {
            let Ok(url) = Url::parse(&raw).map(|u| canonicalize(&u)) else {
                record.errors.push(format!("{raw}: not a URL"));
                continue;
            };
            let host = host_key(&url);
            if !self.robots_allow(site, &url, &host).await {
                record
                    .errors
                    .push(format!("{url}: robots.txt disallows it"));
                continue;
            }
            let req = FetchRequest {
                url: &url,
                private: PrivateHosts::of(p),
                rate_per_sec: p.rate_per_sec,
                validators: None,
                html_only: true,
            };
            match self.fetcher.fetch(&req).await {
                Ok(Fetched::Page(resp)) => {
                    self.fetched(&p.name, &host, resp.body.len() as u64);
                    match self
                        .evidence
                        .keep(url.as_str(), &resp, &self.cfg.user_agent)
                    {
                        Ok(sha) => record.pages.push(OperatorPage {
                            url: url.to_string(),
                            status: resp.status,
                            evidence: format!("sha256:{sha}"),
                        }),
                        Err(e) => record.errors.push(format!("{url}: evidence store: {e}")),
                    }
                    let (html, _, _) =
                        decode_html(&resp.body, resp.header("content-type"), tld(&url));
                    scan_page(&mut record, &html, &resp.final_url);
                }
                Ok(_) => record.errors.push(format!("{url}: not an HTML page")),
                Err(e) => {
                    self.host_stats(&host, |h| h.errors += 1);
                    record.errors.push(e.to_string());
                }
            }
        }
        if sink.send(record).await.is_ok() {
            self.site_stats(&p.name, |s| s.operator_records += 1);
        }
    }

    fn fetched(&self, site: &str, host: &str, bytes: u64) {
        self.host_stats(host, |h| {
            h.pages += 1;
            h.bytes += bytes;
        });
        self.site_stats(site, |s| s.pages += 1);
    }

    fn unchanged(&self, site: &str) {
        self.metrics.unchanged.with_label_values(&[site]).inc();
        self.site_stats(site, |s| s.unchanged += 1);
    }

    fn page_error(&self, site: &Site, entry: &FrontierEntry, error: String) {
        self.record_error(&site.profile.name, &entry.url, error);
    }

    fn record_error(&self, site: &str, url: &str, error: String) {
        tracing::warn!("{error}");
        let mut stats = lock(&self.stats);
        stats.errors_total += 1;
        stats.sites.entry(site.to_owned()).or_default().errors += 1;
        if stats.errors.len() < MAX_ERRORS_KEPT {
            stats.errors.push(PageError {
                site: site.to_owned(),
                url: url.to_owned(),
                error,
            });
        }
    }

    fn site_stats(&self, site: &str, f: impl FnOnce(&mut SiteStats)) {
        f(lock(&self.stats).sites.entry(site.to_owned()).or_default());
    }

    fn host_stats(&self, host: &str, f: impl FnOnce(&mut HostStats)) {
        f(lock(&self.stats).hosts.entry(host.to_owned()).or_default());
    }
}

pub(crate) fn entry(site: &str, url: &Url, kind: PageKind) -> FrontierEntry {
    FrontierEntry {
        site: site.to_owned(),
        url: url.to_string(),
        host: host_key(url),
        kind,
    }
}

/// The top-level domain, a hint for charset detection (`cn` → GBK is likely).
fn tld(url: &Url) -> Option<&str> {
    url.domain().and_then(|d| d.rsplit('.').next())
}

pub(crate) fn build_posting(
    site: &str,
    entry: &FrontierEntry,
    resp: &Response,
    fields: Fields,
    sha: &str,
    fetched_at: String,
) -> Posting {
    let id = match &fields.native_id {
        Some(native) => format!("{site}-{native}"),
        None => format!("{site}-{}", &sha256_hex(entry.url.as_bytes())[..16]),
    };
    let publisher =
        (fields.publisher.is_some() || fields.licence_no.is_some()).then(|| Publisher {
            name: fields.publisher,
            licence_no: fields.licence_no,
            ..Publisher::default()
        });
    let mut extra = serde_json::Map::new();
    extra.insert("schema".into(), Value::String(POSTING_SCHEMA.into()));
    extra.insert("evidence".into(), Value::String(format!("sha256:{sha}")));
    if resp.final_url.as_str() != entry.url {
        extra.insert(
            "final_url".into(),
            Value::String(resp.final_url.to_string()),
        );
    }
    if resp.truncated {
        // Scanned and kept as far as it was read; the analyst should know there was more.
        extra.insert("truncated".into(), Value::Bool(true));
    }
    Posting {
        id,
        source: Some(site.to_owned()),
        url: Some(entry.url.clone()),
        fetched_at: Some(fetched_at),
        title: fields.title,
        company: fields.company,
        publisher,
        location: fields.location,
        salary: fields.salary,
        description: fields.description,
        contact: fields.contact,
        content_sha256: Some(sha.to_owned()),
        extra,
    }
}
