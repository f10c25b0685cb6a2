//! Per-host politeness: a rate limit (governor) and pauses a server asked for with
//! `Retry-After`. Every request to a host, retries and robots.txt included, passes here.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// One host's gate.
pub(crate) struct HostGate {
    limiter: Mutex<Option<Arc<DefaultDirectRateLimiter>>>,
    interval: Mutex<Option<Duration>>,
    paused_until: Mutex<Option<Instant>>,
}

impl HostGate {
    fn new(rate_per_sec: f64) -> HostGate {
        let gate = HostGate {
            limiter: Mutex::new(None),
            interval: Mutex::new(None),
            paused_until: Mutex::new(None),
        };
        if rate_per_sec > 0.0 {
            gate.set_interval(Duration::from_secs_f64(1.0 / rate_per_sec));
        }
        gate
    }

    fn set_interval(&self, interval: Duration) {
        let Some(quota) = Quota::with_period(interval) else {
            return;
        };
        // A burst of one: requests are spaced evenly, never bunched after an idle spell.
        let quota = quota.allow_burst(NonZeroU32::MIN);
        *lock(&self.limiter) = Some(Arc::new(RateLimiter::direct(quota)));
        *lock(&self.interval) = Some(interval);
    }

    /// Slows the host down to at most one request per `interval` (robots.txt
    /// `Crawl-delay`); never speeds it up.
    pub fn slow_down(&self, interval: Duration) {
        let current = *lock(&self.interval);
        if current.is_none_or(|c| c < interval) {
            self.set_interval(interval);
        }
    }

    /// Holds every request to the host until `until`.
    pub fn pause_until(&self, until: Instant) {
        let mut p = lock(&self.paused_until);
        if p.is_none_or(|p| p < until) {
            *p = Some(until);
        }
    }

    /// Waits until the host may be sent one more request.
    pub async fn ready(&self) {
        loop {
            let paused = *lock(&self.paused_until);
            match paused {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        let limiter = lock(&self.limiter).clone();
        if let Some(l) = limiter {
            l.until_ready().await;
        }
    }
}

/// The gates of every host seen so far.
#[derive(Default)]
pub(crate) struct HostGates {
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
}

impl HostGates {
    /// The gate of `host`, created at `rate_per_sec` (0: no limit) on first use.
    pub fn get(&self, host: &str, rate_per_sec: f64) -> Arc<HostGate> {
        lock(&self.gates)
            .entry(host.to_owned())
            .or_insert_with(|| Arc::new(HostGate::new(rate_per_sec)))
            .clone()
    }
}

pub(crate) use xuncha_core::lock;
