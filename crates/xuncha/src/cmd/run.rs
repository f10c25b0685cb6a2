//! `xuncha run`: continuous monitoring, embedded or distributed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use prometheus::Registry;
use tokio::sync::mpsc;
use tokio::sync::watch;
use xuncha_core::Posting;
use xuncha_crawler::{Crawler, CrawlerConfig, Frontier, SiteProfile};
use xuncha_matcher::{Matcher, PrefilterKind};
use xuncha_pipeline::channel::ChannelSource;
use xuncha_pipeline::jsonl::InboxSource;
use xuncha_pipeline::kafka::{
    ensure_topics, KafkaDeadLetterSink, KafkaLeadSink, KafkaPostingSink, KafkaSource,
};
use xuncha_pipeline::sqlite::{CaseQueue, SqliteSink};
use xuncha_pipeline::{LoopConfig, Metrics, SharedMatcher};
use xuncha_rules::RuleSet;

use crate::config::{Config, Crawl, LogFormat, Mode};
use crate::telemetry;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Settings file (default: config/default.toml, the embedded mode).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Log format (overrides the settings file).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Embedded mode: stop once the inbox is empty instead of waiting for more files.
    #[arg(long)]
    pub once: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    telemetry::init_logs(args.log_format.unwrap_or(config.log.format));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(monitor(config, args.once))?;
    Ok(ExitCode::SUCCESS)
}

async fn monitor(config: Config, once: bool) -> anyhow::Result<()> {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: finishing the batch in hand");
        let _ = stop_tx.send(true);
    });
    let frontier = match config.crawl.enabled {
        true => crate::cmd::crawl::frontier(&config).await?,
        false => None,
    };
    let crawled = start_crawler(&config.crawl, &registry, frontier, stop_rx.clone())?;
    let addr = telemetry::serve(&config.http.addr, registry, metrics.ready.clone()).await?;
    tracing::info!(%addr, "serving /metrics /healthz /readyz");

    let rules = RuleSet::load(&config.rules).map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = rules.version.clone();
    let matcher = SharedMatcher::new(Matcher::with_prefilter(
        Arc::new(rules),
        PrefilterKind::default(),
    )?);
    tracing::info!(rules_version = %version, mode = ?config.mode, "rules loaded");

    let loop_config = LoopConfig {
        batch_size: config.scan.batch_size,
        max_record_bytes: config.scan.max_record_bytes,
    };
    let stats = match config.mode {
        Mode::Embedded => {
            let queue = Arc::new(CaseQueue::open(&config.db)?);
            let sink = SqliteSink(queue);
            let source = InboxSource::new(config.inbox.clone(), once)?;
            metrics.ready.set(1);
            tracing::info!(inbox = %config.inbox.dir.display(), db = %config.db.display(), "watching the inbox");
            let inbox = xuncha_pipeline::run(
                source,
                &sink,
                &sink,
                &matcher,
                &metrics,
                &loop_config,
                stop_rx.clone(),
            );
            match crawled {
                // Crawled postings go through the same loop and sinks as the inbox's.
                Some(rx) => {
                    let crawl = xuncha_pipeline::run(
                        ChannelSource::new(rx),
                        &sink,
                        &sink,
                        &matcher,
                        &metrics,
                        &loop_config,
                        stop_rx,
                    );
                    let (a, b) = tokio::try_join!(inbox, crawl)?;
                    xuncha_pipeline::Stats {
                        records: a.records + b.records,
                        postings: a.postings + b.postings,
                        leads: a.leads + b.leads,
                        dead_letters: a.dead_letters + b.dead_letters,
                    }
                }
                None => inbox.await?,
            }
        }
        Mode::Kafka => {
            let k = &config.kafka;
            ensure_topics(k, &[]).await?;
            if let Some(rx) = crawled {
                // The crawler feeds the postings topic; the scanners (this one among them)
                // take it from there.
                let sink = KafkaPostingSink::new(k)?;
                tokio::spawn(async move {
                    match sink.forward(rx).await {
                        Ok(n) => tracing::info!(postings = n, "crawler output forwarded"),
                        Err(e) => {
                            tracing::error!(error = %format!("{e:#}"), "forwarding crawled postings failed")
                        }
                    }
                });
            }
            let source = KafkaSource::new(k, metrics.clone())?;
            let leads = KafkaLeadSink::new(k)?;
            let dead = KafkaDeadLetterSink::new(k)?;
            metrics.ready.set(1);
            tracing::info!(brokers = %k.brokers, group = %k.group, topic = %k.topics.postings, "consuming");
            xuncha_pipeline::run(
                source,
                &leads,
                &dead,
                &matcher,
                &metrics,
                &loop_config,
                stop_rx,
            )
            .await?
        }
    };
    metrics.ready.set(0);
    tracing::info!(
        records = stats.records,
        postings = stats.postings,
        leads = stats.leads,
        dead_letters = stats.dead_letters,
        "stopped"
    );
    Ok(())
}

/// Starts crawling the site profiles if the settings ask for it; the postings arrive on
/// the returned channel, which closes when the crawl stops (on `stop`).
fn start_crawler(
    c: &Crawl,
    registry: &Registry,
    frontier: Option<Arc<dyn Frontier>>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<mpsc::Receiver<Posting>>> {
    if !c.enabled {
        return Ok(None);
    }
    let sites = SiteProfile::load_dir(&c.sites_dir)?;
    anyhow::ensure!(
        !sites.is_empty(),
        "crawling is on but {} holds no site profile",
        c.sites_dir.display()
    );
    let config = CrawlerConfig {
        concurrency: c.concurrency.max(1),
        state_path: c.state.clone(),
        evidence_dir: c.evidence.clone(),
        ..CrawlerConfig::default()
    };
    let names: Vec<String> = sites.iter().map(|s| s.name.clone()).collect();
    let mut builder = Crawler::builder(config).sites(sites).metrics(registry);
    if let Some(frontier) = frontier {
        builder = builder.frontier(frontier);
    }
    let crawler = builder
        .build()
        .with_context(|| format!("starting the crawler (state {})", c.state.display()))?;
    let cancel = crawler.cancel_token();
    tokio::spawn(async move {
        let _ = stop.wait_for(|s| *s).await;
        cancel.cancel();
    });
    let (tx, rx) = mpsc::channel(1024);
    tracing::info!(sites = ?names, "crawling");
    tokio::spawn(async move {
        match crawler.run(tx, false).await {
            Ok(stats) => tracing::info!(?stats, "crawl stopped"),
            Err(e) => tracing::error!(error = %e, "crawl failed"),
        }
    });
    Ok(Some(rx))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
