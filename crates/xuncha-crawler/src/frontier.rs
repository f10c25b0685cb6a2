//! The frontier: the URLs a pass still has to fetch.
//!
//! One crawler process uses [`LocalFrontier`], kept in the crawl-state database so a
//! restart resumes the pass. Several processes share the topic `xuncha.frontier`, keyed
//! by host: Kafka gives each host's partition to exactly one process of the consumer
//! group, so that process alone fetches the host and alone keeps its politeness. That
//! implementation, `xuncha_pipeline::kafka::KafkaFrontier`, lives in the pipeline crate
//! (this crate does not depend on Kafka); it implements [`Frontier`] like this:
//!
//! - [`push`](Frontier::push) produces each entry to `xuncha.frontier`, key = `host`,
//!   value = the entry as JSON (`{"site":…,"url":…,"host":…,"kind":"list"|"posting"}`);
//! - [`pop`](Frontier::pop) consumes from the partitions this process owns, drops URLs
//!   already seen in the current pass (the owner of a host is the only one who can
//!   tell), and returns `None` once nothing has arrived for the site for a while;
//! - [`done`](Frontier::done) commits the entry's offset, so an entry is re-delivered if
//!   the process dies before it is fetched (at-least-once, like every other stage);
//! - [`begin`](Frontier::begin) and [`finish`](Frontier::finish) bracket a pass of one site.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::politeness::lock;
use crate::state::{CrawlState, StateError};

pub use xuncha_core::{BoxFuture, Frontier, FrontierEntry, FrontierError, PageKind};

impl From<StateError> for FrontierError {
    fn from(e: StateError) -> Self {
        FrontierError(Box::new(e))
    }
}

/// The in-process frontier, persisted in the crawl-state database.
pub struct LocalFrontier {
    state: Arc<CrawlState>,
    sites: Mutex<HashMap<String, Arc<SiteQueue>>>,
}

#[derive(Default)]
struct SiteQueue {
    queues: Mutex<Queues>,
    changed: Notify,
}

#[derive(Default)]
struct Queues {
    lists: VecDeque<FrontierEntry>,
    postings: VecDeque<FrontierEntry>,
    in_flight: usize,
}

impl Queues {
    fn add(&mut self, e: FrontierEntry) {
        match e.kind {
            PageKind::List => self.lists.push_back(e),
            PageKind::Posting => self.postings.push_back(e),
        }
    }
}

impl LocalFrontier {
    /// A frontier kept in `state`.
    pub fn new(state: Arc<CrawlState>) -> LocalFrontier {
        LocalFrontier {
            state,
            sites: Mutex::new(HashMap::new()),
        }
    }

    fn queue(&self, site: &str) -> Option<Arc<SiteQueue>> {
        lock(&self.sites).get(site).cloned()
    }
}

impl Frontier for LocalFrontier {
    fn begin<'a>(
        &'a self,
        site: &'a str,
        seeds: Vec<FrontierEntry>,
    ) -> BoxFuture<'a, Result<bool, FrontierError>> {
        Box::pin(async move {
            let (resumed, entries) = match self.state.frontier_pending(site)? {
                Some(pending) => (true, pending),
                None => (false, self.state.frontier_add(seeds)?),
            };
            let q = Arc::new(SiteQueue::default());
            {
                let mut qs = lock(&q.queues);
                for e in entries {
                    qs.add(e);
                }
            }
            lock(&self.sites).insert(site.to_owned(), q);
            Ok(resumed)
        })
    }

    fn push(&self, entries: Vec<FrontierEntry>) -> BoxFuture<'_, Result<(), FrontierError>> {
        Box::pin(async move {
            if entries.is_empty() {
                return Ok(());
            }
            for e in self.state.frontier_add(entries)? {
                if let Some(q) = self.queue(&e.site) {
                    lock(&q.queues).add(e);
                    q.changed.notify_waiters();
                }
            }
            Ok(())
        })
    }

    fn pop<'a>(&'a self, site: &'a str) -> BoxFuture<'a, Option<FrontierEntry>> {
        Box::pin(async move {
            let q = self.queue(site)?;
            loop {
                // Registered before looking, so a push or done in between still wakes us.
                let changed = q.changed.notified();
                {
                    let mut qs = lock(&q.queues);
                    if let Some(e) = qs.lists.pop_front().or_else(|| qs.postings.pop_front()) {
                        qs.in_flight += 1;
                        return Some(e);
                    }
                    if qs.in_flight == 0 {
                        return None;
                    }
                }
                changed.await;
            }
        })
    }

    fn done<'a>(&'a self, entry: &'a FrontierEntry) -> BoxFuture<'a, Result<(), FrontierError>> {
        Box::pin(async move {
            let result = self.state.frontier_done(&entry.site, &entry.url);
            if let Some(q) = self.queue(&entry.site) {
                let mut qs = lock(&q.queues);
                qs.in_flight = qs.in_flight.saturating_sub(1);
                drop(qs);
                q.changed.notify_waiters();
            }
            Ok(result?)
        })
    }

    fn finish<'a>(&'a self, site: &'a str) -> BoxFuture<'a, Result<(), FrontierError>> {
        Box::pin(async move {
            lock(&self.sites).remove(site);
            Ok(self.state.frontier_clear(site)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str, kind: PageKind) -> FrontierEntry {
        FrontierEntry {
            site: "s".into(),
            url: url.into(),
            host: "h".into(),
            kind,
        }
    }

    #[tokio::test]
    async fn drains_lists_first_dedups_and_resumes() {
        let state = Arc::new(CrawlState::open_in_memory().unwrap());
        let f = LocalFrontier::new(state.clone());
        assert!(!f
            .begin("s", vec![entry("l1", PageKind::List)])
            .await
            .unwrap());
        let l1 = f.pop("s").await.unwrap();
        f.push(vec![
            entry("p1", PageKind::Posting),
            entry("l2", PageKind::List),
            entry("l1", PageKind::List),
        ])
        .await
        .unwrap();
        f.done(&l1).await.unwrap();
        assert_eq!(f.pop("s").await.unwrap().url, "l2");

        // A second process (a restart) resumes with what was not done.
        let g = LocalFrontier::new(state);
        assert!(g
            .begin("s", vec![entry("l1", PageKind::List)])
            .await
            .unwrap());
        let mut urls = Vec::new();
        while let Some(e) = g.pop("s").await {
            g.done(&e).await.unwrap();
            urls.push(e.url);
        }
        assert_eq!(urls, vec!["l2", "p1"]);
        g.finish("s").await.unwrap();
        assert!(!g.begin("s", vec![]).await.unwrap());
    }

    #[tokio::test]
    async fn pop_waits_for_work_in_flight() {
        let state = Arc::new(CrawlState::open_in_memory().unwrap());
        let f = Arc::new(LocalFrontier::new(state));
        f.begin("s", vec![entry("l1", PageKind::List)])
            .await
            .unwrap();
        let l1 = f.pop("s").await.unwrap();
        let f2 = f.clone();
        let waiter = tokio::spawn(async move { f2.pop("s").await.map(|e| e.url) });
        tokio::task::yield_now().await;
        f.push(vec![entry("p1", PageKind::Posting)]).await.unwrap();
        assert_eq!(waiter.await.unwrap().as_deref(), Some("p1"));
        f.done(&l1).await.unwrap();
    }
}
