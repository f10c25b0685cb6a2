//! Prometheus metrics of the scan loop, registered into a registry the binary serves.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// The scanner's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Postings read, by source.
    pub postings_in: IntCounterVec,
    /// Leads written, by category and rule.
    pub leads_out: IntCounterVec,
    /// Dead letters, by reason.
    pub dead_letters: IntCounterVec,
    /// Seconds to scan one batch.
    pub scan_seconds: Histogram,
    /// Records per batch.
    pub batch_size: Histogram,
    /// Messages behind the high watermark, by topic and partition.
    pub consumer_lag: IntGaugeVec,
    /// Failed sink writes (each retried), by sink.
    pub sink_errors: IntCounterVec,
    /// Leads filed into the case store, by outcome: `new`, or `again` for a lead the
    /// store already held.
    pub leads_filed: IntCounterVec,
    /// 1 once rules are loaded and the source is connected.
    pub ready: IntGauge,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<Metrics> {
        let m = Metrics {
            postings_in: IntCounterVec::new(
                Opts::new("xuncha_postings_in_total", "Postings read, by source"),
                &["source"],
            )?,
            leads_out: IntCounterVec::new(
                Opts::new(
                    "xuncha_leads_out_total",
                    "Leads written, by category and rule",
                ),
                &["category", "rule"],
            )?,
            dead_letters: IntCounterVec::new(
                Opts::new(
                    "xuncha_dead_letters_total",
                    "Records dead-lettered, by reason",
                ),
                &["reason"],
            )?,
            scan_seconds: Histogram::with_opts(
                HistogramOpts::new("xuncha_scan_batch_seconds", "Seconds to scan one batch")
                    .buckets(prometheus::exponential_buckets(0.0005, 2.0, 16)?),
            )?,
            batch_size: Histogram::with_opts(
                HistogramOpts::new("xuncha_batch_records", "Records per batch")
                    .buckets(prometheus::exponential_buckets(1.0, 2.0, 14)?),
            )?,
            consumer_lag: IntGaugeVec::new(
                Opts::new("xuncha_consumer_lag", "Messages behind the high watermark"),
                &["topic", "partition"],
            )?,
            sink_errors: IntCounterVec::new(
                Opts::new(
                    "xuncha_sink_errors_total",
                    "Failed sink writes (retried), by sink",
                ),
                &["sink"],
            )?,
            leads_filed: IntCounterVec::new(
                Opts::new(
                    "xuncha_leads_filed_total",
                    "Leads filed into the case store, by outcome (new, again)",
                ),
                &["outcome"],
            )?,
            ready: IntGauge::new(
                "xuncha_ready",
                "1 once rules are loaded and the source is connected",
            )?,
        };
        registry.register(Box::new(m.postings_in.clone()))?;
        registry.register(Box::new(m.leads_out.clone()))?;
        registry.register(Box::new(m.dead_letters.clone()))?;
        registry.register(Box::new(m.scan_seconds.clone()))?;
        registry.register(Box::new(m.batch_size.clone()))?;
        registry.register(Box::new(m.consumer_lag.clone()))?;
        registry.register(Box::new(m.sink_errors.clone()))?;
        registry.register(Box::new(m.leads_filed.clone()))?;
        registry.register(Box::new(m.ready.clone()))?;
        Ok(m)
    }

    /// Metrics registered nowhere (tests, one-off tools).
    pub fn unregistered() -> Metrics {
        Metrics::new(&Registry::new()).expect("fresh registry")
    }
}
