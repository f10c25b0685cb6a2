//! robots.txt (RFC 9309), fetched once per origin and trusted for `robots_ttl`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use texting_robots::Robot;
use tokio::sync::OnceCell;
use tokio::time::Instant;
use url::Url;

use crate::fetch::{FetchErrorKind, FetchRequest, Fetched, Fetcher, PrivateHosts};
use crate::politeness::lock;

/// The rules of one origin.
pub(crate) enum Rules {
    AllowAll,
    /// The file could not be fetched (5xx, timeout): RFC 9309 §2.3.1.3 says assume
    /// complete disallow until it can.
    DisallowAll(String),
    Parsed(Box<Robot>),
}

impl Rules {
    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::DisallowAll(_) => false,
            Rules::Parsed(robot) => robot.allowed(url),
        }
    }

    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Rules::Parsed(robot) => robot
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d.min(60.0))),
            _ => None,
        }
    }
}

type Slot = Arc<OnceCell<Arc<Rules>>>;

/// How soon a robots.txt that could not be read is asked for again.
const RETRY_FAILED: Duration = Duration::from_secs(300);

#[derive(Default)]
pub(crate) struct RobotsCache {
    entries: Mutex<HashMap<String, (Instant, Slot)>>,
}

impl RobotsCache {
    /// The rules for `url`'s origin, fetching them (once, however many tasks ask at the
    /// same time) when missing or older than `ttl`.
    pub async fn rules(
        &self,
        fetcher: &Fetcher,
        url: &Url,
        agent: &str,
        private: PrivateHosts<'_>,
        rate_per_sec: f64,
        ttl: Duration,
    ) -> Arc<Rules> {
        let origin = url.origin().ascii_serialization();
        let slot = {
            let mut entries = lock(&self.entries);
            let now = Instant::now();
            let entry = entries
                .entry(origin.clone())
                .or_insert_with(|| (now, Slot::default()));
            // A failure to read the file blocks the origin, so ask again soon rather
            // than after a whole ttl.
            let failed = entry
                .1
                .get()
                .is_some_and(|r| matches!(**r, Rules::DisallowAll(_)));
            let age = now.duration_since(entry.0);
            if age > ttl || (failed && age > ttl.min(RETRY_FAILED)) {
                *entry = (now, Slot::default());
            }
            entry.1.clone()
        };
        slot.get_or_init(|| async {
            let robots_url = match url.join("/robots.txt") {
                Ok(u) => u,
                Err(_) => return Arc::new(Rules::AllowAll),
            };
            let req = FetchRequest {
                url: &robots_url,
                private,
                rate_per_sec,
                validators: None,
                html_only: false,
            };
            Arc::new(match fetcher.fetch(&req).await {
                Ok(Fetched::Page(resp)) => match Robot::new(agent, &resp.body) {
                    Ok(robot) => Rules::Parsed(Box::new(robot)),
                    // An unparsable file says nothing we can obey; RFC 9309 treats
                    // unparsable lines as absent.
                    Err(_) => Rules::AllowAll,
                },
                Ok(_) => Rules::AllowAll,
                // 4xx: "unavailable", crawl as if there were no file.
                Err(e) if matches!(e.kind, FetchErrorKind::Status(s) if (400..500).contains(&s) && s != 429) => {
                    Rules::AllowAll
                }
                Err(e) => {
                    tracing::warn!("{e}; treating {origin} as disallowed until robots.txt can be read");
                    Rules::DisallowAll(e.to_string())
                }
            })
        })
        .await
        .clone()
    }
}
