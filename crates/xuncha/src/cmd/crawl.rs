//! `xuncha crawl`: crawl the site profiles, writing each new or changed posting as JSONL.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;
use xuncha_crawler::{
    parse_duration, CrawlError, CrawlStats, Crawler, CrawlerConfig, Frontier, SiteProfile,
};
use xuncha_pipeline::kafka::{crawler_group, ensure_topics, KafkaFrontier, KafkaPostingSink};

use crate::config::{Config, FrontierKind};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Crawl only this site (repeatable); default: every profile in the sites directory.
    #[arg(long = "site", value_name = "NAME")]
    pub sites: Vec<String>,
    #[command(flatten)]
    pub pages: super::PageArgs,
    /// One pass over each site, then exit (default: a new pass after each site's
    /// pass_interval, until Ctrl-C).
    #[arg(long)]
    pub once: bool,
    /// Write the postings to this file as JSONL instead of standard output.
    #[arg(long, value_name = "FILE.jsonl")]
    pub out: Option<PathBuf>,
    /// Produce the postings to the postings topic of the settings' `[kafka]` (key: posting
    /// id), for the scanners, instead of writing JSONL: a crawler process of the
    /// distributed mode.
    #[arg(long, conflicts_with = "out")]
    pub kafka: bool,
    /// Also read each site's homepage and about pages and write what they show of their
    /// licences to this file as JSONL.
    #[arg(long, value_name = "FILE.jsonl")]
    pub operators: Option<PathBuf>,
    /// Crawl state (SQLite): validators, content hashes, unfinished passes.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "data/crawl.db",
        env = "XUNCHA_CRAWL_DB"
    )]
    pub state: PathBuf,
    /// Requests in flight at once, over all sites.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Time allowed for a whole response (e.g. 30s).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// User-Agent; robots.txt rules are matched against its first word.
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Settings file, read as `run` reads it (default: config/default.toml if it exists,
    /// then XUNCHA_* variables). Its `[crawl] frontier` picks the frontier; with `kafka`,
    /// its `[kafka]` section says where (several `xuncha crawl` processes then share the
    /// sites' hosts).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Config::load(args.config.as_deref())?;
    let mut sites = SiteProfile::load_dir(&args.pages.sites_dir)?;
    if !args.sites.is_empty() {
        if let Some(missing) = args
            .sites
            .iter()
            .find(|n| !sites.iter().any(|s| &s.name == *n))
        {
            let known: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
            anyhow::bail!(
                "no site {missing:?} in {} (sites: {})",
                args.pages.sites_dir.display(),
                known.join(", ")
            );
        }
        sites.retain(|s| args.sites.contains(&s.name));
    }
    if sites.is_empty() {
        anyhow::bail!("no site profiles in {}", args.pages.sites_dir.display());
    }
    let defaults = CrawlerConfig::default();
    let config = CrawlerConfig {
        concurrency: args.concurrency.max(1),
        response_timeout: args.timeout.unwrap_or(defaults.response_timeout),
        user_agent: args
            .user_agent
            .clone()
            .unwrap_or(defaults.user_agent.clone()),
        state_path: args.state.clone(),
        evidence_dir: args.pages.evidence.clone(),
        ..defaults
    };
    let out: Box<dyn Write + Send> = match &args.out {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(io::stdout()),
    };
    let operators = args
        .operators
        .as_ref()
        .map(|path| File::create(path).with_context(|| format!("creating {}", path.display())))
        .transpose()?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let stats = rt.block_on(async {
        let frontier = frontier(&settings).await?;
        let out = match args.kafka {
            true => {
                let k = &settings.kafka;
                ensure_topics(k, &[]).await?;
                tracing::info!(brokers = %k.brokers, topic = %k.topics.postings, "postings to Kafka");
                Output::Kafka(KafkaPostingSink::new(k)?)
            }
            false => Output::Jsonl(out),
        };
        crawl(config, sites, frontier, args.once, out, operators).await
    })?;
    Ok(if stats.errors_total > 0 && emitted(&stats) == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The frontier `[crawl] frontier` asks for: `None` for the crawler's own local one, or the
/// Kafka one (its topic created if missing). Also used by `run`.
pub(crate) async fn frontier(settings: &Config) -> anyhow::Result<Option<Arc<dyn Frontier>>> {
    match settings.crawl.frontier {
        FrontierKind::Local => Ok(None),
        FrontierKind::Kafka => {
            let idle = parse_duration(&settings.crawl.frontier_idle)
                .map_err(|e| anyhow::anyhow!("[crawl] frontier_idle: {e}"))?;
            let k = &settings.kafka;
            ensure_topics(k, &[&k.topics.frontier]).await?;
            let frontier = KafkaFrontier::new(k, idle)?;
            tracing::info!(brokers = %k.brokers, topic = %k.topics.frontier, group = %crawler_group(k), "frontier in Kafka");
            Ok(Some(Arc::new(frontier)))
        }
    }
}

async fn crawl(
    config: CrawlerConfig,
    sites: Vec<SiteProfile>,
    frontier: Option<Arc<dyn Frontier>>,
    once: bool,
    out: Output,
    operators: Option<File>,
) -> anyhow::Result<CrawlStats> {
    let state = config.state_path.clone();
    let mut builder = Crawler::builder(config).sites(sites);
    if let Some(frontier) = frontier {
        builder = builder.frontier(frontier);
    }
    let (otx, orx) = mpsc::channel(16);
    if operators.is_some() {
        builder = builder.operator_sink(otx);
    } else {
        drop(otx);
    }
    let crawler = builder
        .build()
        .with_context(|| format!("starting the crawler (state {})", state.display()))?;

    let cancel = crawler.cancel_token();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("xuncha: stopping; pages in flight finish, the pass resumes next time");
            cancel.cancel();
        }
    });

    let (tx, rx) = mpsc::channel(1024);
    let writer = match out {
        Output::Jsonl(out) => tokio::task::spawn_blocking(move || write_jsonl(rx, out)),
        Output::Kafka(sink) => tokio::spawn(async move {
            let sent = sink.forward(rx).await.map_err(io::Error::other)?;
            Ok(sent as usize)
        }),
    };
    let op_writer = tokio::task::spawn_blocking(move || match operators {
        Some(file) => write_jsonl(orx, Box::new(file)),
        None => Ok(0),
    });

    let progress = Progress::new();
    let result = {
        let run = crawler.run(tx, once);
        tokio::pin!(run);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                r = &mut run => break r,
                _ = tick.tick() => progress.update(&crawler.progress()),
            }
        }
    };
    let last = crawler.progress();
    // The crawler holds the operator records' sender; their writer ends when it goes.
    drop(crawler);
    let written = writer.await?.context("writing postings")?;
    op_writer.await?.context("writing operator records")?;
    let stats = match result {
        // The reader of standard output went away (`| head`): a normal end.
        Err(CrawlError::SinkClosed) => last,
        other => other?,
    };
    progress.finish(&stats, written);
    Ok(stats)
}

/// Where crawled postings go.
enum Output {
    /// JSON lines to a file or stdout.
    Jsonl(Box<dyn Write + Send>),
    /// The postings topic.
    Kafka(KafkaPostingSink),
}

/// Writes each record as one JSON line; a closed stdout (`| head`) ends the crawl.
fn write_jsonl<T: serde::Serialize>(
    mut rx: mpsc::Receiver<T>,
    out: Box<dyn Write + Send>,
) -> io::Result<usize> {
    let mut out = BufWriter::new(out);
    let mut n = 0;
    let mut write = || -> io::Result<()> {
        while let Some(record) = rx.blocking_recv() {
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n")?;
            n += 1;
            if rx.is_empty() {
                out.flush()?;
            }
        }
        out.flush()
    };
    match write() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(n),
        other => other.map(|()| n),
    }
}

fn emitted(stats: &CrawlStats) -> u64 {
    stats.sites.values().map(|s| s.emitted).sum()
}

/// Progress on stderr: one line per host, errors as they come. Drawn only on a terminal;
/// the final summary is printed either way.
struct Progress {
    multi: MultiProgress,
    bars: std::sync::Mutex<BTreeMap<String, ProgressBar>>,
    errors_shown: std::sync::atomic::AtomicUsize,
    started: Instant,
    tty: bool,
}

impl Progress {
    fn new() -> Progress {
        let tty = io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Progress {
            multi,
            bars: Default::default(),
            errors_shown: Default::default(),
            started: Instant::now(),
            tty,
        }
    }

    fn update(&self, stats: &CrawlStats) {
        use std::sync::atomic::Ordering;
        let shown = self.errors_shown.load(Ordering::Relaxed);
        for e in stats.errors.iter().skip(shown) {
            self.println(&format!("error: {}", e.error));
        }
        self.errors_shown
            .store(stats.errors.len(), Ordering::Relaxed);
        let mut bars = xuncha_core::lock(&self.bars);
        for (host, h) in &stats.hosts {
            let bar = bars.entry(host.clone()).or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:30} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(host.clone());
                bar
            });
            bar.set_message(host_line(h));
            bar.tick();
        }
    }

    fn println(&self, line: &str) {
        if self.tty {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self, stats: &CrawlStats, written: usize) {
        self.update(stats);
        for bar in xuncha_core::lock(&self.bars).values() {
            bar.finish_and_clear();
        }
        let secs = self.started.elapsed().as_secs_f64();
        for (host, h) in &stats.hosts {
            eprintln!("{host:30} {}", host_line(h));
        }
        for (site, s) in &stats.sites {
            eprintln!(
                "site {site}: {} pages, {} postings emitted, {} unchanged, {} fresh (not due), {} refused by robots.txt, {} not HTML, {} errors{}{}",
                s.pages,
                s.emitted,
                s.unchanged,
                s.fresh,
                s.robots_refused,
                s.not_html,
                s.errors,
                if s.capped { ", stopped at max_pages" } else { "" },
                if s.resumed { ", resumed an unfinished pass" } else { "" },
            );
        }
        let pages: u64 = stats.hosts.values().map(|h| h.pages).sum();
        eprintln!(
            "{pages} pages in {secs:.1} s ({:.0} pages/s), {written} postings written, {} errors",
            pages as f64 / secs.max(1e-9),
            stats.errors_total
        );
    }
}

fn host_line(h: &xuncha_crawler::HostStats) -> String {
    format!(
        "{} pages  {} postings  {} errors  {:.1} MB",
        h.pages,
        h.emitted,
        h.errors,
        h.bytes as f64 / 1e6
    )
}
