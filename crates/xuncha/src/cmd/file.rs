//! `xuncha file`: the distributed mode's filer, from the leads topic into the case store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use prometheus::Registry;
use xuncha_cases::{CaseSink, Location};
use xuncha_pipeline::filing;
use xuncha_pipeline::kafka::{ensure_topics, KafkaDeadLetterSink, KafkaSource};
use xuncha_pipeline::{LoopConfig, Metrics};

use crate::config::{Config, LogFormat};
use crate::telemetry;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Settings file: the Kafka brokers and topics, and `db`, the case store (default:
    /// config/kafka.toml).
    #[arg(long, default_value = "config/kafka.toml")]
    pub config: PathBuf,
    /// Log format (overrides the settings file).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (config, rt) = super::service(Some(&args.config), args.log_format)?;
    let stats = rt.block_on(file(config))?;
    tracing::info!(
        records = stats.records,
        new = stats.new,
        again = stats.again,
        dead_letters = stats.dead_letters,
        "filer stopped"
    );
    Ok(ExitCode::SUCCESS)
}

async fn file(config: Config) -> anyhow::Result<filing::FilingStats> {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry)?;
    let stop_rx = super::run::stop_on_signal();
    let store = CaseSink(super::open_store(&config).await?);
    let k = &config.kafka;
    ensure_topics(k, &[]).await?;
    let source = KafkaSource::subscribe(k, &k.topics.leads, &k.filer_group, metrics.clone())?;
    let dead = KafkaDeadLetterSink::new(k)?;
    let addr = telemetry::serve(&config.http.addr, registry.clone(), metrics.ready.clone()).await?;
    tracing::info!(%addr, "serving /metrics /healthz /readyz");
    metrics.ready.set(1);
    tracing::info!(brokers = %k.brokers, group = %k.filer_group, topic = %k.topics.leads, db = %Location::parse(&config.db), "filing");
    let loop_config = LoopConfig {
        batch_size: config.scan.batch_size,
        max_record_bytes: config.scan.max_record_bytes,
        record_budget: Duration::from_millis(config.scan.record_budget_ms),
        give_up_after: None,
    };
    filing::file(source, &store, &dead, &metrics, &loop_config, stop_rx).await
}
