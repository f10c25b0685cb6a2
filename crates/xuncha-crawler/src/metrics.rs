//! Prometheus metrics of the crawler, registered into a registry the caller owns so the
//! binary can serve them on `/metrics` with everything else.

use prometheus::{exponential_buckets, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The crawler's metrics. Hosts label fetch metrics (bounded: only hosts a profile
/// allows are fetched); sites label posting metrics.
#[derive(Clone)]
pub struct CrawlMetrics {
    /// `xuncha_crawler_fetches_total{host, class}`: responses by status class (`2xx`,
    /// `3xx`, `4xx`, `5xx`) and failures without a response (`error`).
    pub fetches: IntCounterVec,
    /// `xuncha_crawler_bytes_total{host}`: body bytes received, before decoding.
    pub bytes: IntCounterVec,
    /// `xuncha_crawler_retries_total{host}`.
    pub retries: IntCounterVec,
    /// `xuncha_crawler_robots_refusals_total{host}`: pages robots.txt did not allow.
    pub robots_refusals: IntCounterVec,
    /// `xuncha_crawler_postings_emitted_total{site}`: new or changed postings sent on.
    pub emitted: IntCounterVec,
    /// `xuncha_crawler_postings_unchanged_total{site}`: re-fetched postings that had not
    /// changed (304, or the same content hash).
    pub unchanged: IntCounterVec,
    /// `xuncha_crawler_skipped_total{site, reason}`: pages not processed (`not_html`,
    /// `fresh`, `ssrf`).
    pub skipped: IntCounterVec,
    /// `xuncha_crawler_fetch_duration_seconds{host}`: one attempt, request to last byte.
    pub latency: HistogramVec,
}

impl CrawlMetrics {
    /// Creates the metrics and registers them into `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<CrawlMetrics> {
        let counter =
            |name: &str, help: &str, labels: &[&str]| -> prometheus::Result<IntCounterVec> {
                let c = IntCounterVec::new(Opts::new(name, help), labels)?;
                registry.register(Box::new(c.clone()))?;
                Ok(c)
            };
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "xuncha_crawler_fetch_duration_seconds",
                "Time of one fetch attempt, request to last body byte.",
            )
            .buckets(exponential_buckets(0.005, 2.0, 14)?),
            &["host"],
        )?;
        registry.register(Box::new(latency.clone()))?;
        Ok(CrawlMetrics {
            fetches: counter(
                "xuncha_crawler_fetches_total",
                "Fetches by host and status class (2xx, 3xx, 4xx, 5xx, error).",
                &["host", "class"],
            )?,
            bytes: counter(
                "xuncha_crawler_bytes_total",
                "Body bytes received, before content decoding.",
                &["host"],
            )?,
            retries: counter(
                "xuncha_crawler_retries_total",
                "Retried fetches.",
                &["host"],
            )?,
            robots_refusals: counter(
                "xuncha_crawler_robots_refusals_total",
                "Pages not fetched because robots.txt disallows them.",
                &["host"],
            )?,
            emitted: counter(
                "xuncha_crawler_postings_emitted_total",
                "New or changed postings sent on.",
                &["site"],
            )?,
            unchanged: counter(
                "xuncha_crawler_postings_unchanged_total",
                "Re-fetched postings that had not changed.",
                &["site"],
            )?,
            skipped: counter(
                "xuncha_crawler_skipped_total",
                "Pages not processed, by reason.",
                &["site", "reason"],
            )?,
            latency,
        })
    }
}

/// The status class label of an HTTP status.
pub(crate) fn class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}
