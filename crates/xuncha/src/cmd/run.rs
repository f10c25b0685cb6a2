//! `xuncha run`: continuous monitoring, embedded or distributed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus::Registry;
use tokio::sync::mpsc;
use tokio::sync::watch;
use xuncha_cases::CaseSink;
use xuncha_core::Posting;
use xuncha_crawler::{Crawler, CrawlerConfig, Frontier, OperatorRecord, SiteProfile};
use xuncha_judge::Scanner;
use xuncha_matcher::{Matcher, PrefilterKind};
use xuncha_pipeline::channel::ChannelSource;
use xuncha_pipeline::jsonl::InboxSource;
use xuncha_pipeline::kafka::{
    ensure_topics, KafkaDeadLetterSink, KafkaLeadSink, KafkaPostingSink, KafkaSource,
};
use xuncha_pipeline::webhook::{AlertRecord, Alerts, WithAlerts};
use xuncha_pipeline::{LeadSink, LoopConfig, Metrics, SharedScanner};
use xuncha_rules::RuleSet;

use crate::config::{Config, Crawl, LogFormat, Mode};
use crate::reload::{self, ReloadMetrics};
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
    let (config, rt) = super::service(args.config.as_deref(), args.log_format)?;
    rt.block_on(monitor(config, args.once))?;
    Ok(ExitCode::SUCCESS)
}

async fn monitor(config: Config, once: bool) -> anyhow::Result<()> {
    let registry = Registry::new();
    let metrics = Metrics::new(&registry)?;
    let stop_rx = stop_on_signal();
    let rules = RuleSet::load(&config.rules).map_err(|e| anyhow::anyhow!("{e}"))?;
    let version = rules.version.clone();
    let licensing = super::load_licensing(config.registry.path.as_deref())?;
    if let Some(path) = &config.registry.path {
        tracing::info!(registry = %path.display(), "licence registry loaded");
    }
    let matcher = SharedScanner::new(Scanner::new(
        Matcher::with_prefilter(Arc::new(rules), PrefilterKind::default())?,
        licensing,
    ));
    tracing::info!(rules_version = %version, mode = ?config.mode, "rules loaded");
    let reload = ReloadMetrics::new(&registry, &version)?;
    let every = Duration::from_millis(if config.reload.watch {
        config.reload.interval_ms.max(100)
    } else {
        // SIGHUP only: an unchanged directory is not reloaded however often it is read.
        86_400_000
    });
    tokio::spawn(reload::watch(
        config.rules.clone(),
        matcher.clone(),
        reload,
        every,
        stop_rx.clone(),
    ));

    // The embedded case queue also remembers which alerts went out, across restarts.
    let queue = match config.mode {
        Mode::Embedded => Some(super::open_store(&config).await?),
        Mode::Kafka => None,
    };
    let alerts = Alerts::start_with_record(
        config.alerts.webhook.clone(),
        &registry,
        queue.clone().map(|q| q as Arc<dyn AlertRecord>),
    )?;
    for name in alerts.webhooks() {
        tracing::info!(webhook = %name, "alerting");
    }
    let frontier = match config.crawl.enabled {
        true => crate::cmd::crawl::frontier(&config).await?,
        false => None,
    };
    let crawled = start_crawler(&config.crawl, &registry, frontier, stop_rx.clone())?;
    let addr = telemetry::serve(&config.http.addr, registry.clone(), metrics.ready.clone()).await?;
    tracing::info!(%addr, "serving /metrics /healthz /readyz");

    let loop_config = LoopConfig {
        batch_size: config.scan.batch_size,
        max_record_bytes: config.scan.max_record_bytes,
        record_budget: Duration::from_millis(config.scan.record_budget_ms),
        // A run that must end cannot wait forever for a database that will not heal.
        give_up_after: once.then_some(5),
    };
    let stats = match config.mode {
        Mode::Embedded => {
            let queue = queue.expect("opened for the embedded mode");
            crate::recheck::spawn(
                &config.recheck,
                &config.crawl,
                queue.clone(),
                &registry,
                stop_rx.clone(),
            )?;
            let sink = CaseSink(queue.clone());
            // Leads only demoted rules found are filed under_review and not alerted.
            let leads =
                WithAlerts::new(CaseSink(queue.clone()), alerts.clone()).demotions(queue.clone());
            let source = InboxSource::new(config.inbox.clone(), once)?
                .max_record_bytes(config.scan.max_record_bytes);
            metrics.ready.set(1);
            tracing::info!(inbox = %config.inbox.dir.display(), db = %xuncha_cases::Location::parse(&config.db), "watching the inbox");
            let inbox = xuncha_pipeline::run(
                source,
                &leads,
                &sink,
                &matcher,
                &metrics,
                &loop_config,
                stop_rx.clone(),
            );
            match crawled {
                // Crawled postings go through the same loop and sinks as the inbox's.
                Some(c) => {
                    tokio::spawn(write_operator_leads(
                        c.operators,
                        CaseSink(queue.clone()),
                        matcher.clone(),
                    ));
                    let crawl = xuncha_pipeline::run(
                        ChannelSource::new(c.postings),
                        &leads,
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
            if let Some(c) = crawled {
                // The crawler feeds the postings topic; the scanners (this one among them)
                // take it from there.
                tokio::spawn(write_operator_leads(
                    c.operators,
                    KafkaLeadSink::new(k)?,
                    matcher.clone(),
                ));
                let sink = KafkaPostingSink::new(k)?;
                tokio::spawn(async move {
                    match sink.forward(c.postings).await {
                        Ok(n) => tracing::info!(postings = n, "crawler output forwarded"),
                        Err(e) => {
                            tracing::error!(error = %format!("{e:#}"), "forwarding crawled postings failed")
                        }
                    }
                });
            }
            let source = KafkaSource::new(k, metrics.clone())?;
            let mut leads = WithAlerts::new(KafkaLeadSink::new(k)?, alerts.clone());
            if let Some(store) = demotions_for_scanner(&config, &alerts).await {
                leads = leads.demotions(store);
            }
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
    alerts.shutdown(Duration::from_secs(10)).await;
    tracing::info!(
        records = stats.records,
        postings = stats.postings,
        leads = stats.leads,
        dead_letters = stats.dead_letters,
        "stopped"
    );
    Ok(())
}

/// Where a Kafka-mode scanner that alerts learns which rules are demoted: the team's case
/// store, when `db` names a PostgreSQL database (the one `xuncha file` fills). Without
/// one, or when it cannot be opened, its alerts cannot know (they go out, as before
/// demotions existed), and the log says so once: a scanner does not stop for it.
async fn demotions_for_scanner(
    config: &Config,
    alerts: &Alerts,
) -> Option<Arc<dyn xuncha_pipeline::webhook::Demotions>> {
    // Nothing to hold back without a webhook.
    alerts.webhooks().next()?;
    match xuncha_cases::Location::parse(&config.db) {
        xuncha_cases::Location::Postgres(_) => match super::open_store(config).await {
            Ok(store) => Some(store as Arc<dyn xuncha_pipeline::webhook::Demotions>),
            Err(e) => {
                tracing::warn!(
                    error = %format!("{e:#}"),
                    "the case store cannot be opened: this scanner's alerts do not know which \
                     rules are demoted"
                );
                None
            }
        },
        xuncha_cases::Location::Sqlite(_) => {
            tracing::warn!(
                "db names no PostgreSQL case store: this scanner's alerts do not know which rules \
                 are demoted (their leads are still filed under_review by `xuncha file`)"
            );
            None
        }
    }
}

/// Starts crawling the site profiles if the settings ask for it; the postings arrive on
/// the returned channel, which closes when the crawl stops (on `stop`).
fn start_crawler(
    c: &Crawl,
    registry: &Registry,
    frontier: Option<Arc<dyn Frontier>>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<Crawled>> {
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
    let (otx, operators) = mpsc::channel(64);
    let mut builder = Crawler::builder(config)
        .sites(sites)
        .metrics(registry)
        .operator_sink(otx);
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
    Ok(Some(Crawled {
        postings: rx,
        operators,
    }))
}

/// What the crawler sends the scanner: postings, and what each site shows of its licences.
struct Crawled {
    postings: mpsc::Receiver<Posting>,
    operators: mpsc::Receiver<OperatorRecord>,
}

/// Turns operator records into `license.undisplayed` leads and writes them to `sink`,
/// until the crawler stops. A lead that cannot be written is logged, not retried: the
/// next pass over the site reads its homepage again.
async fn write_operator_leads<L: LeadSink>(
    mut operators: mpsc::Receiver<OperatorRecord>,
    sink: L,
    scanner: SharedScanner,
) {
    while let Some(record) = operators.recv().await {
        let now = xuncha_core::now_rfc3339();
        if let Some(lead) = scanner.get().operator_lead(&record, &now) {
            tracing::info!(site = %record.source, lead_id = %lead.lead_id, "homepage shows no licence");
            if let Err(e) = sink.write(std::slice::from_ref(&lead)).await {
                tracing::error!(site = %record.source, error = %format!("{e:#}"), "writing a license.undisplayed lead failed");
            }
        }
    }
}

/// Turns true on SIGINT or SIGTERM; the loops then finish the batch in hand and stop.
pub(crate) fn stop_on_signal() -> watch::Receiver<bool> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: finishing the batch in hand");
        let _ = stop_tx.send(true);
    });
    stop_rx
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
