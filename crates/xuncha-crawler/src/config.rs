//! Crawler-wide settings (per-site settings are in the [`SiteProfile`](crate::SiteProfile)).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Settings shared by every site. Deserialisable, so a `[crawler]` table of the service
/// configuration can carry it; every field has a default.
///
/// ```
/// let c: xuncha_crawler::CrawlerConfig = toml::from_str(r#"
///     concurrency = 32
///     response_timeout = "20s"
/// "#).unwrap();
/// assert_eq!(c.concurrency, 32);
/// assert_eq!(c.response_timeout.as_secs(), 20);
/// assert_eq!(c.max_redirects, 5);
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlerConfig {
    /// `User-Agent` header. Its first token (up to `/`) is the name robots.txt rules are
    /// matched against.
    pub user_agent: String,
    /// Requests in flight at once, over all sites and hosts.
    pub concurrency: usize,
    /// Time allowed to open a connection.
    #[serde(deserialize_with = "xuncha_core::deserialize_duration")]
    pub connect_timeout: Duration,
    /// Time allowed for a whole response, headers and body.
    #[serde(deserialize_with = "xuncha_core::deserialize_duration")]
    pub response_timeout: Duration,
    /// Retries after a timeout, a 429 or a 5xx (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// First retry delay; doubled each attempt, with jitter.
    #[serde(deserialize_with = "xuncha_core::deserialize_duration")]
    pub backoff_base: Duration,
    /// Longest wait before a retry. A `Retry-After` longer than this is not waited out:
    /// the page is given up for this pass.
    #[serde(deserialize_with = "xuncha_core::deserialize_duration")]
    pub backoff_max: Duration,
    /// Redirects followed before a fetch fails.
    pub max_redirects: usize,
    /// Largest body read, counted both as received and after gzip/deflate/brotli decoding.
    pub max_body_bytes: usize,
    /// How long robots.txt rules are trusted before being fetched again.
    #[serde(deserialize_with = "xuncha_core::deserialize_duration")]
    pub robots_ttl: Duration,
    /// Crawl state (SQLite): frontier of unfinished passes, validators and hashes of
    /// fetched pages.
    pub state_path: PathBuf,
    /// Content-addressed evidence store.
    pub evidence_dir: PathBuf,
}

impl Default for CrawlerConfig {
    fn default() -> Self {
        CrawlerConfig {
            user_agent: format!(
                "xuncha/{} (labour-inspection patrol; obeys robots.txt)",
                env!("CARGO_PKG_VERSION")
            ),
            concurrency: 16,
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            max_redirects: 5,
            max_body_bytes: 5 * 1024 * 1024,
            robots_ttl: Duration::from_secs(24 * 3600),
            state_path: PathBuf::from("data/crawl.db"),
            evidence_dir: PathBuf::from("data/evidence"),
        }
    }
}

impl CrawlerConfig {
    /// The product token robots.txt groups are matched against.
    pub fn robots_agent(&self) -> &str {
        self.user_agent
            .split(['/', ' '])
            .next()
            .filter(|t| !t.is_empty())
            .unwrap_or("xuncha")
    }
}
