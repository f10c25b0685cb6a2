//! Rechecks of posting pages that leads were raised on: is the posting still online, is
//! the flagged text still on it, or is it gone?
//!
//! A fine for content left online after a correction order needs proof that it stayed
//! online; a case closes when it is gone. A [`Rechecker`] fetches each page once (through
//! the same [`Fetcher`] as the crawl: SSRF guard, robots.txt, per-host rate, body limits),
//! keeps the bytes in the [`EvidenceStore`] so "still online on date X" can be proved by
//! hashing a file, and says what it found as a [`RecheckResult`]. It knows nothing of the
//! case queue: the caller gives URLs with what the lead expects to find there.
//!
//! How a page is judged:
//! - HTTP 404 or 410: [`RecheckOutcome::Gone`].
//! - A page that no longer shows the posting: with a site profile for the host, none of
//!   the posting's title and description selectors match, or the page carries another
//!   posting's native id; without one, a redirect to the site's home page, to a parent
//!   path (a list page) or to another host. Also `Gone`.
//! - The posting is shown: [`RecheckOutcome::Online`] if any of the flagged strings is
//!   still in its text (whitespace ignored), [`RecheckOutcome::Changed`] if none is. A lead
//!   without flagged text is `Online` while the bytes hash as before, `Changed` after.
//! - Anything else (5xx after retries, timeouts, network failures, robots.txt refusal, a
//!   non-HTML answer, an evidence store that cannot write): [`RecheckOutcome::Error`], which
//!   never counts as gone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use prometheus::{IntCounterVec, Opts, Registry};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;
use xuncha_core::{Posting, RecheckOutcome};

use crate::charset::decode_html;
use crate::crawler::{build_posting, entry, CrawlError};
use crate::evidence::EvidenceStore;
use crate::extract::{element_text, page_text, parse, posting_fields, Fields};
use crate::fetch::{FetchErrorKind, FetchRequest, Fetched, Fetcher, PrivateHosts, Response};
use crate::frontier::PageKind;
use crate::metrics::CrawlMetrics;
use crate::net::{canonicalize, check_url, host_key};
use crate::profile::{Site, SiteProfile};
use crate::robots::{RobotsCache, Rules};
use crate::CrawlerConfig;

/// A posting page to recheck, with what its lead expects to find there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecheckTarget {
    /// The posting page.
    pub url: String,
    /// The posting's id (`<site>-<native id>` for crawled postings): a page that now
    /// shows another native id shows another posting.
    pub posting_id: Option<String>,
    /// The content hash the lead was raised on: for crawled postings the SHA-256 of the
    /// page's bytes.
    pub content_sha256: Option<String>,
    /// The flagged text: the findings' `matched` strings.
    pub flagged: Vec<String>,
}

/// The result of rechecking one [`RecheckTarget`].
#[derive(Clone, Debug, PartialEq)]
pub struct RecheckResult {
    /// The URL asked for, as the target gave it.
    pub url: String,
    /// When the answer came (or the attempt ended).
    pub checked_at: OffsetDateTime,
    /// What was found.
    pub outcome: RecheckOutcome,
    /// HTTP status, when an answer came.
    pub http_status: Option<u16>,
    /// The URL that answered, after redirects.
    pub final_url: Option<String>,
    /// SHA-256 of the bytes fetched.
    pub content_sha256: Option<String>,
    /// The bytes in the evidence store, `sha256:<hex>`.
    pub evidence: Option<String>,
    /// The flagged strings found on the page (a subset of the target's, in its order).
    pub flagged_found: Vec<String>,
    /// Whether any flagged string is on the page; `None` when the posting was not read
    /// (gone, error) or the target had no flagged text.
    pub flagged_present: Option<bool>,
    /// Why the outcome is `gone` or `error`, beyond the status; starts with the URL.
    pub error: Option<String>,
    /// The site profile the page was judged by, if one allows its host.
    pub site: Option<String>,
}

/// Settings for hosts no site profile allows (postings that came in through the inbox
/// or Kafka rather than the crawler).
#[derive(Clone, Debug)]
pub struct GenericSite {
    /// Requests per second to each such host.
    pub rate_per_sec: f64,
    /// Allow private and loopback addresses. Only for tests.
    pub allow_private_addresses: bool,
}

impl Default for GenericSite {
    fn default() -> Self {
        GenericSite {
            rate_per_sec: 1.0,
            allow_private_addresses: false,
        }
    }
}

/// Builds a [`Rechecker`].
pub struct RecheckerBuilder {
    config: CrawlerConfig,
    sites: Vec<SiteProfile>,
    generic: GenericSite,
    registry: Option<Registry>,
}

impl RecheckerBuilder {
    /// Site profiles: a page on a host a profile allows is fetched with its politeness
    /// and read with its selectors.
    pub fn sites(mut self, sites: Vec<SiteProfile>) -> Self {
        self.sites = sites;
        self
    }

    /// Settings for hosts no profile allows.
    pub fn generic(mut self, generic: GenericSite) -> Self {
        self.generic = generic;
        self
    }

    /// Registers `xuncha_rechecks_total{outcome}` in `registry`. The fetch metrics stay
    /// in a private registry, so a crawler can register its own in the same one.
    pub fn metrics(mut self, registry: &Registry) -> Self {
        self.registry = Some(registry.clone());
        self
    }

    /// Compiles the profiles and builds the HTTP clients.
    pub fn build(self) -> Result<Rechecker, CrawlError> {
        let sites = self
            .sites
            .into_iter()
            .map(Site::new)
            .collect::<Result<Vec<_>, _>>()?;
        let outcomes = IntCounterVec::new(
            Opts::new(
                "xuncha_rechecks_total",
                "Rechecks of posting pages by outcome (online, changed, gone, error).",
            ),
            &["outcome"],
        )?;
        if let Some(registry) = &self.registry {
            registry.register(Box::new(outcomes.clone()))?;
        }
        let fetch_metrics = CrawlMetrics::new(&Registry::new())?;
        let config = Arc::new(self.config);
        let fetcher = Fetcher::new(config.clone(), fetch_metrics)?;
        Ok(Rechecker {
            inner: Arc::new(Inner {
                semaphore: Arc::new(Semaphore::new(config.concurrency.max(1))),
                evidence: EvidenceStore::new(config.evidence_dir.clone()),
                cfg: config,
                sites,
                generic: self.generic,
                fetcher,
                robots: RobotsCache::default(),
                outcomes,
            }),
        })
    }
}

/// Fetches posting pages again and judges them. Cheap to clone.
#[derive(Clone)]
pub struct Rechecker {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: Arc<CrawlerConfig>,
    sites: Vec<Site>,
    generic: GenericSite,
    fetcher: Fetcher,
    robots: RobotsCache,
    evidence: EvidenceStore,
    semaphore: Arc<Semaphore>,
    outcomes: IntCounterVec,
}

/// A page fetched and kept as evidence.
struct Kept {
    url: Url,
    site: Option<String>,
    resp: Response,
    sha256: String,
}

/// A fetch that gave no page to read: gone by status, or an error.
#[derive(Clone, Debug)]
struct Unread {
    outcome: RecheckOutcome,
    at: OffsetDateTime,
    status: Option<u16>,
    message: Option<String>,
    site: Option<String>,
}

/// One fetch of one URL, before it is judged against a target.
#[derive(Clone, Debug)]
enum Page {
    /// No page to read.
    Unread(Unread),
    /// A page was fetched and kept as evidence.
    Read {
        at: OffsetDateTime,
        status: u16,
        final_url: String,
        sha256: String,
        site: Option<String>,
        shown: Reading,
    },
}

#[derive(Clone, Debug)]
enum Reading {
    /// The posting's text, whitespace removed.
    Posting {
        text: String,
        native_id: Option<String>,
    },
    /// Why the page does not show the posting.
    Elsewhere(String),
    /// The page could not be parsed.
    Unreadable(String),
}

impl Rechecker {
    /// A builder with `config` (its `evidence_dir`, timeouts, retries, body limit and
    /// concurrency apply), no profiles and the default [`GenericSite`].
    pub fn builder(config: CrawlerConfig) -> RecheckerBuilder {
        RecheckerBuilder {
            config,
            sites: Vec::new(),
            generic: GenericSite::default(),
            registry: None,
        }
    }

    /// The evidence store rechecked pages go to.
    pub fn evidence(&self) -> &EvidenceStore {
        &self.inner.evidence
    }

    /// Rechecks one target.
    pub async fn check(&self, target: &RecheckTarget) -> RecheckResult {
        let page = self.inner.clone().fetch_page(target.url.clone()).await;
        self.inner.judge(target, &page)
    }

    /// Fetches one posting page, keeps it as evidence and extracts the posting: with the
    /// site profile that allows its host, or else generically (the page's `<title>` or
    /// first heading as the title, its whole text as the description). For an analyst's
    /// ad hoc `xuncha scan --url`.
    pub async fn fetch_posting(&self, url: &str) -> Result<Posting, String> {
        let k = match self.inner.fetch_kept(url.to_owned()).await {
            Ok(k) => k,
            Err(Unread {
                status, message, ..
            }) => {
                return Err(message.unwrap_or_else(|| {
                    format!(
                        "{url}: HTTP {}",
                        status.map_or("?".into(), |s| s.to_string())
                    )
                }))
            }
        };
        let (html, _, _) = decode_html(
            &k.resp.body,
            k.resp.header("content-type"),
            k.url.domain().and_then(|d| d.rsplit('.').next()),
        );
        let doc = parse(&html).map_err(|why| format!("{url}: {why}"))?;
        let fetched_at = xuncha_core::rfc3339(k.resp.captured_at);
        let site = k.site.as_deref().and_then(|n| self.inner.site_named(n));
        let host = k.url.host_str().unwrap_or("url").to_owned();
        let (name, fields) = match site {
            Some(site) => (
                site.profile.name.clone(),
                posting_fields(&doc, &site.selectors),
            ),
            None => {
                let title = ["title", "h1"].iter().find_map(|css| {
                    let sel = scraper::Selector::parse(css).ok()?;
                    let t = doc.select(&sel).next().map(element_text)?;
                    (!t.is_empty()).then_some(t)
                });
                let fields = Fields {
                    title,
                    description: Some(page_text(&doc)).filter(|t| !t.is_empty()),
                    ..Fields::default()
                };
                (host, fields)
            }
        };
        if fields.is_empty() {
            return Err(format!(
                "{url}: no posting text on the page (site {name:?})"
            ));
        }
        let entry = entry(&name, &k.url, PageKind::Posting);
        Ok(build_posting(
            &name, &entry, &k.resp, fields, &k.sha256, fetched_at,
        ))
    }

    /// Rechecks every target, fetching each distinct (canonical) URL once, at most
    /// `concurrency` at a time. The results are in the targets' order.
    pub async fn check_all(&self, targets: &[RecheckTarget]) -> Vec<RecheckResult> {
        let mut tasks = JoinSet::new();
        let mut started: HashSet<String> = HashSet::new();
        for t in targets {
            let key = url_key(&t.url);
            if started.insert(key.clone()) {
                let inner = self.inner.clone();
                let url = t.url.clone();
                tasks.spawn(async move { (key, inner.fetch_page(url).await) });
            }
        }
        let mut pages: HashMap<String, Page> = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((key, page)) => {
                    pages.insert(key, page);
                }
                Err(e) => tracing::error!("recheck task failed: {e}"),
            }
        }
        targets
            .iter()
            .map(|t| match pages.get(&url_key(&t.url)) {
                Some(page) => self.inner.judge(t, page),
                None => self.inner.judge(
                    t,
                    &Page::Unread(Unread {
                        outcome: RecheckOutcome::Error,
                        at: OffsetDateTime::now_utc(),
                        status: None,
                        message: Some(format!("{}: the recheck task failed", t.url)),
                        site: None,
                    }),
                ),
            })
            .collect()
    }
}

fn url_key(url: &str) -> String {
    Url::parse(url)
        .map(|u| canonicalize(&u).to_string())
        .unwrap_or_else(|_| url.to_owned())
}

impl Inner {
    fn site_for(&self, url: &Url) -> Option<&Site> {
        let host = url.host_str().unwrap_or("");
        self.sites.iter().find(|s| s.profile.allows_host(host))
    }

    /// Fetches `raw` the way the crawler would and keeps the answer as evidence; a page
    /// that cannot be read comes back as `Err`, already judged.
    async fn fetch_kept(&self, raw: String) -> Result<Kept, Unread> {
        let _permit = self
            .semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closed");
        let unread = |outcome, status, message: String, site: Option<String>| Unread {
            outcome,
            at: OffsetDateTime::now_utc(),
            status,
            message: Some(message),
            site,
        };
        let url = match Url::parse(&raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(_) => {
                return Err(unread(
                    RecheckOutcome::Error,
                    None,
                    format!("{raw}: only http and https are rechecked"),
                    None,
                ))
            }
            Err(e) => {
                return Err(unread(
                    RecheckOutcome::Error,
                    None,
                    format!("{raw}: not a URL: {e}"),
                    None,
                ))
            }
        };
        let site = self.site_for(&url);
        let site_name = site.map(|s| s.profile.name.clone());
        let (private, rate) = match site {
            Some(s) => (PrivateHosts::of(&s.profile), s.profile.rate_per_sec),
            None if self.generic.allow_private_addresses => {
                (PrivateHosts::Only(&url), self.generic.rate_per_sec)
            }
            None => (PrivateHosts::None, self.generic.rate_per_sec),
        };
        // Refused before robots.txt, which would otherwise be the first request to go.
        if let Err(why) = check_url(&url, private.allows(&url)) {
            return Err(unread(
                RecheckOutcome::Error,
                None,
                format!("{url}: {why}"),
                site_name,
            ));
        }
        let rules = self
            .robots
            .rules(
                &self.fetcher,
                &url,
                self.cfg.robots_agent(),
                private,
                rate,
                self.cfg.robots_ttl,
            )
            .await;
        if let Some(delay) = rules.crawl_delay() {
            self.fetcher
                .gates
                .get(&host_key(&url), rate)
                .slow_down(delay);
        }
        if !rules.allowed(url.as_str()) {
            let why = match &*rules {
                Rules::DisallowAll(why) => format!("robots.txt could not be read ({why})"),
                _ => "robots.txt disallows it".to_owned(),
            };
            return Err(unread(
                RecheckOutcome::Error,
                None,
                format!("{url}: not fetched: {why}"),
                site_name,
            ));
        }
        let req = FetchRequest {
            url: &url,
            private,
            rate_per_sec: rate,
            validators: None,
            html_only: true,
        };
        let resp = match self.fetcher.fetch(&req).await {
            Ok(Fetched::Page(resp)) => resp,
            Ok(Fetched::NotHtml(content_type)) => {
                return Err(unread(
                    RecheckOutcome::Error,
                    None,
                    format!("{url}: not HTML ({content_type})"),
                    site_name,
                ))
            }
            Ok(Fetched::NotModified) => {
                return Err(unread(
                    RecheckOutcome::Error,
                    Some(304),
                    format!("{url}: 304 to an unconditional request"),
                    site_name,
                ))
            }
            Err(e) => {
                return Err(match e.kind {
                    FetchErrorKind::Status(s @ (404 | 410)) => Unread {
                        outcome: RecheckOutcome::Gone,
                        at: OffsetDateTime::now_utc(),
                        status: Some(s),
                        message: None,
                        site: site_name,
                    },
                    FetchErrorKind::Status(s) => {
                        unread(RecheckOutcome::Error, Some(s), e.to_string(), site_name)
                    }
                    _ => unread(RecheckOutcome::Error, None, e.to_string(), site_name),
                });
            }
        };
        // An answer that cannot be kept proves nothing later: not a finding.
        let sha256 = match self
            .evidence
            .keep(url.as_str(), &resp, &self.cfg.user_agent)
        {
            Ok(sha) => sha,
            Err(e) => {
                return Err(unread(
                    RecheckOutcome::Error,
                    Some(resp.status),
                    format!(
                        "{url}: evidence store {}: {e}",
                        self.evidence.dir().display()
                    ),
                    site_name,
                ))
            }
        };
        let site = site.map(|s| s.profile.name.clone());
        Ok(Kept {
            url,
            site,
            resp,
            sha256,
        })
    }

    async fn fetch_page(self: Arc<Self>, raw: String) -> Page {
        let k = match self.fetch_kept(raw).await {
            Ok(k) => k,
            Err(unread) => return Page::Unread(unread),
        };
        let site = k.site.as_deref().and_then(|n| self.site_named(n));
        Page::Read {
            at: k.resp.captured_at,
            status: k.resp.status,
            final_url: k.resp.final_url.to_string(),
            shown: read_page(site, &k.url, &k.resp),
            sha256: k.sha256,
            site: k.site,
        }
    }

    fn site_named(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.profile.name == name)
    }

    fn judge(&self, target: &RecheckTarget, page: &Page) -> RecheckResult {
        let mut r = RecheckResult {
            url: target.url.clone(),
            checked_at: OffsetDateTime::now_utc(),
            outcome: RecheckOutcome::Error,
            http_status: None,
            final_url: None,
            content_sha256: None,
            evidence: None,
            flagged_found: Vec::new(),
            flagged_present: None,
            error: None,
            site: None,
        };
        match page {
            Page::Unread(Unread {
                outcome,
                at,
                status,
                message,
                site,
            }) => {
                r.checked_at = *at;
                r.outcome = *outcome;
                r.http_status = *status;
                r.error = message.clone();
                r.site = site.clone();
            }
            Page::Read {
                at,
                status,
                final_url,
                sha256,
                site,
                shown,
            } => {
                r.checked_at = *at;
                r.http_status = Some(*status);
                r.final_url = Some(final_url.clone());
                r.content_sha256 = Some(sha256.clone());
                r.evidence = Some(format!("sha256:{sha256}"));
                r.site = site.clone();
                match shown {
                    Reading::Unreadable(why) => {
                        r.outcome = RecheckOutcome::Error;
                        r.error = Some(format!("{}: {why}", target.url));
                    }
                    Reading::Elsewhere(why) => {
                        r.outcome = RecheckOutcome::Gone;
                        r.error = Some(format!("{}: {why}", target.url));
                    }
                    Reading::Posting { text, native_id } => {
                        let other = other_posting(site.as_deref(), native_id, target);
                        if let Some(other) = other {
                            r.outcome = RecheckOutcome::Gone;
                            r.error = Some(format!(
                                "{}: the page now shows another posting ({other})",
                                target.url
                            ));
                        } else {
                            r.flagged_found = target
                                .flagged
                                .iter()
                                .filter(|f| {
                                    let f = squeeze(f);
                                    !f.is_empty() && text.contains(&f)
                                })
                                .cloned()
                                .collect();
                            let still = if target.flagged.is_empty() {
                                target
                                    .content_sha256
                                    .as_deref()
                                    .is_none_or(|expected| expected == sha256)
                            } else {
                                r.flagged_present = Some(!r.flagged_found.is_empty());
                                !r.flagged_found.is_empty()
                            };
                            r.outcome = if still {
                                RecheckOutcome::Online
                            } else {
                                RecheckOutcome::Changed
                            };
                        }
                    }
                }
            }
        }
        self.outcomes.with_label_values(&[r.outcome.as_str()]).inc();
        r
    }
}

/// The id of the posting the page shows, when it is not the target's.
fn other_posting(
    site: Option<&str>,
    native_id: &Option<String>,
    target: &RecheckTarget,
) -> Option<String> {
    let (site, native, expected) = (site?, native_id.as_deref()?, target.posting_id.as_deref()?);
    // Only ids the crawler made from this site's native ids can be compared.
    expected.strip_prefix(site)?.strip_prefix('-')?;
    let shown = format!("{site}-{native}");
    (shown != expected).then_some(shown)
}

/// Reads the posting off a page: with a profile, its fields; without, the page's text,
/// unless the request was redirected to a page that cannot be the posting.
fn read_page(site: Option<&Site>, url: &Url, resp: &Response) -> Reading {
    let tld = url.domain().and_then(|d| d.rsplit('.').next());
    let (html, _, _) = decode_html(&resp.body, resp.header("content-type"), tld);
    let doc = match parse(&html) {
        Ok(doc) => doc,
        Err(why) => return Reading::Unreadable(why),
    };
    match site {
        Some(site) => {
            let f = posting_fields(&doc, &site.selectors);
            if f.title.is_none() && f.description.is_none() {
                let to = if canonicalize(&resp.final_url) != canonicalize(url) {
                    format!(" (redirected to {})", resp.final_url)
                } else {
                    String::new()
                };
                return Reading::Elsewhere(format!(
                    "the page no longer shows the posting: no title or description where \
                     profile {:?} expects them{to}",
                    site.profile.name
                ));
            }
            let text = [
                &f.title,
                &f.company,
                &f.salary,
                &f.location,
                &f.description,
                &f.publisher,
                &f.licence_no,
                &f.contact,
            ]
            .into_iter()
            .flatten()
            .map(|s| squeeze(s))
            .collect::<Vec<_>>()
            .join("\n");
            Reading::Posting {
                text,
                native_id: f.native_id,
            }
        }
        None => {
            if let Some(why) = redirected_away(url, &resp.final_url) {
                return Reading::Elsewhere(why);
            }
            Reading::Posting {
                text: squeeze(&page_text(&doc)),
                native_id: None,
            }
        }
    }
}

/// Why a redirect from `asked` to `answered` means the posting is gone: to another host,
/// to the home page, or up to a parent path (the list the posting was on).
fn redirected_away(asked: &Url, answered: &Url) -> Option<String> {
    let (a, b) = (canonicalize(asked), canonicalize(answered));
    if a == b {
        return None;
    }
    let why = if a.host_str() != b.host_str() {
        "to another host"
    } else if b.path() == "/" || b.path().is_empty() {
        "to the home page"
    } else if a.path().starts_with(b.path()) && a.path() != b.path() {
        "up to a parent page"
    } else {
        return None;
    };
    Some(format!(
        "the page no longer shows the posting: redirected {why} ({answered})"
    ))
}

/// Text without any whitespace, so that line breaks and spaces a site moves around do
/// not hide a phrase that is still there.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_to_home_list_or_another_host_are_gone() {
        let u = |s: &str| Url::parse(s).unwrap();
        let job = u("http://a.example/jobs/123.html");
        assert!(redirected_away(&job, &u("http://a.example/")).is_some());
        assert!(redirected_away(&job, &u("http://a.example/jobs/")).is_some());
        assert!(redirected_away(&job, &u("http://b.example/jobs/123.html")).is_some());
        assert!(redirected_away(&job, &u("http://a.example/jobs/123.html?spm=x")).is_none());
        assert!(redirected_away(&job, &u("http://a.example/job/123-new.html")).is_none());
    }

    #[test]
    fn another_native_id_is_another_posting() {
        let t = RecheckTarget {
            posting_id: Some("board-1001".into()),
            ..RecheckTarget::default()
        };
        let id = |s: &str| Some(s.to_owned());
        assert_eq!(other_posting(Some("board"), &id("1001"), &t), None);
        assert_eq!(
            other_posting(Some("board"), &id("1002"), &t).as_deref(),
            Some("board-1002")
        );
        // An id the crawler did not make from this site cannot be compared.
        assert_eq!(other_posting(Some("other"), &id("1002"), &t), None);
        assert_eq!(other_posting(Some("board"), &None, &t), None);
    }

    #[test]
    fn whitespace_does_not_hide_a_phrase() {
        assert!(squeeze("限 男\u{3000}性\n").contains(&squeeze("限男性")));
    }
}
