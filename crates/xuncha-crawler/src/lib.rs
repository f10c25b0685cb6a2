//! The crawler of xuncha: site profiles, frontier, robots.txt, politeness, fetch,
//! evidence and extraction into [`Posting`](xuncha_core::Posting)s.
//!
//! Sites are data: a TOML [`SiteProfile`] per site gives its start pages, the CSS
//! selectors of posting links, of the next page and of each field, and its politeness.
//! A [`Crawler`] runs passes over every site: list pages lead to posting pages, each
//! posting page becomes a `Posting` sent into a `tokio::sync::mpsc` channel (the
//! pipeline forwards it to the scanner in process, or to `xuncha.postings` in Kafka
//! mode). The crawler obeys robots.txt, keeps a rate per host and a global concurrency
//! limit, retries what is worth retrying, and refuses private addresses (SSRF) unless a
//! test profile allows them.
//!
//! # The decision that shapes it: the raw page is the evidence
//!
//! A crawled posting is worth something to a regulator only if it can be proved later
//! that the page said what the lead quotes. So every posting page's bytes go to a
//! content-addressed [`EvidenceStore`] (`data/evidence/<aa>/<sha256>`, with a JSON
//! record of URL, final URL, status, headers and capture time), and the posting's
//! `content_sha256` is **the SHA-256 of those bytes**, not the hash over the canonical
//! text fields that docs/data-contracts.md describes for postings from other sources. Hashing the
//! evidence file gives back the posting's hash; `extra.evidence` holds the reference
//! (`"sha256:<hex>"`). The same hash drives incremental recrawl: a page whose bytes
//! did not change is not sent again, and a changed one gets a new hash and so, in the
//! scanner, new lead ids. The bytes are the body as sent, decoded from its content coding
//! (gzip, brotli) but not from its charset, so a server's choice of compression does not
//! change the hash.
//!
//! The same evidence rule holds after a lead is raised: a [`Rechecker`] fetches a
//! lead's posting page again (to prove it stayed online after a correction order, or to
//! date its removal), keeps those bytes too, and says whether the flagged text is still
//! there or the posting is gone.
//!
//! # State and resumption
//!
//! The crawl state is a SQLite file (`data/crawl.db`, beside the case queue): for each
//! page its validators (ETag, Last-Modified), content hash and fetch time, and the
//! frontier of any unfinished pass. A restarted crawler resumes that pass. Several
//! crawler processes share a [`Frontier`] instead; see its module for the contract.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use xuncha_crawler::{Crawler, CrawlerConfig, SiteProfile};
//! let sites = SiteProfile::load_dir("config/sites".as_ref())?;
//! let registry = prometheus::Registry::new();
//! let crawler = Crawler::builder(CrawlerConfig::default())
//!     .sites(sites)
//!     .metrics(&registry)
//!     .build()?;
//! let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
//! let consumer = tokio::spawn(async move {
//!     while let Some(posting) = rx.recv().await {
//!         println!("{}", serde_json::to_string(&posting).unwrap());
//!     }
//! });
//! let stats = crawler.run(tx, true).await?;
//! consumer.await?;
//! eprintln!("{} errors", stats.errors_total);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod charset;
mod config;
mod crawler;
mod evidence;
mod extract;
mod fetch;
pub mod frontier;
mod metrics;
mod net;
mod operator;
mod politeness;
mod profile;
mod recheck;
mod robots;
mod state;

pub use charset::{decode_html, CharsetSource};
pub use config::CrawlerConfig;
pub use crawler::{
    CrawlError, CrawlStats, Crawler, CrawlerBuilder, HostStats, PageError, SiteStats,
};
pub use evidence::{Capture, EvidenceStore};
pub use extract::normalize_whitespace;
pub use fetch::{FetchError, FetchErrorKind};
pub use frontier::{Frontier, FrontierEntry, FrontierError, LocalFrontier, PageKind};
pub use metrics::CrawlMetrics;
pub use net::{canonicalize, is_forbidden_ip};
pub use operator::{LicenceDisplay, OperatorPage, OperatorRecord, OPERATOR_SCHEMA};
pub use profile::{FieldSelectors, FieldSpec, ProfileError, SiteProfile};
pub use recheck::{GenericSite, RecheckResult, RecheckTarget, Rechecker, RecheckerBuilder};
pub use state::{CrawlState, StateError};
pub use xuncha_core::{parse_duration, RecheckOutcome};

/// The Kafka topic of postings (key: posting id).
pub const POSTINGS_TOPIC: &str = "xuncha.postings";
/// The Kafka topic of the shared frontier (key: host).
pub const FRONTIER_TOPIC: &str = "xuncha.frontier";
