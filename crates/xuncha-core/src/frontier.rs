//! The crawl frontier's records and interface: the URLs a pass still has to fetch.
//!
//! The crawler keeps a local frontier; the pipeline implements the same interface over the
//! `xuncha.frontier` topic, keyed by host, so several crawler processes share one crawl.
//! The contract a distributed implementation keeps is in the crawler's `frontier` module.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// A boxed future, so that [`Frontier`] can be used as `Arc<dyn Frontier>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a page is to the crawler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// A list page: its posting links and its next-page link are followed.
    List,
    /// A posting page: its fields become a `Posting`.
    Posting,
}

/// A URL waiting to be fetched; the value of a `xuncha.frontier` message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontierEntry {
    /// Site key of the profile that found it.
    pub site: String,
    /// Canonical URL.
    pub url: String,
    /// Politeness key (`host` or `host:port`); the message key on `xuncha.frontier`.
    pub host: String,
    /// List or posting page.
    pub kind: PageKind,
}

/// A frontier that failed; wraps the implementation's own error.
#[derive(Debug)]
pub struct FrontierError(pub Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for FrontierError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "frontier: {}", self.0)
    }
}

impl std::error::Error for FrontierError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

/// The URLs still to fetch in the current pass of each site. See the module docs for
/// the contract a distributed implementation keeps.
pub trait Frontier: Send + Sync {
    /// Starts a pass over `site`. If an unfinished pass is stored, resumes it and returns
    /// `true`; otherwise adds `seeds` and returns `false`.
    fn begin<'a>(
        &'a self,
        site: &'a str,
        seeds: Vec<FrontierEntry>,
    ) -> BoxFuture<'a, Result<bool, FrontierError>>;

    /// Offers discovered URLs; those already seen in this pass are dropped.
    fn push(&self, entries: Vec<FrontierEntry>) -> BoxFuture<'_, Result<(), FrontierError>>;

    /// The next entry of `site` for this process, or `None` when the pass has nothing
    /// left (no entry queued, none in flight). List pages come first: they are what
    /// keeps the frontier full. Cancel-safe: dropping the future loses no entry.
    fn pop<'a>(&'a self, site: &'a str) -> BoxFuture<'a, Option<FrontierEntry>>;

    /// Marks a popped entry as processed, whatever the outcome.
    fn done<'a>(&'a self, entry: &'a FrontierEntry) -> BoxFuture<'a, Result<(), FrontierError>>;

    /// Ends the pass of `site`: its seen-set is forgotten and the next `begin` starts anew.
    fn finish<'a>(&'a self, site: &'a str) -> BoxFuture<'a, Result<(), FrontierError>>;
}
