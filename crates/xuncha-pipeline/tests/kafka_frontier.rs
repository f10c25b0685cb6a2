//! The Kafka frontier against a real Kafka-protocol broker (Tansu, started by the tests from
//! the binary `scripts/broker.sh install` builds) and two fixture job boards, all on
//! 127.0.0.1. The boards listen on two ports, so they are two hosts to the crawler.
//!
//! The tests share one machine's cores and the broker harness, so they run one at a time.

#[path = "support/broker.rs"]
mod broker;
#[path = "../../xuncha-crawler/tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use broker::{rt, serial, Broker};
use common::{Fixture, FIRST_ID};
use rdkafka::producer::FutureRecord;
use rdkafka::util::Timeout;
use tokio::sync::mpsc;
use xuncha_core::Posting;
use xuncha_crawler::{Crawler, CrawlerConfig, Frontier, FrontierEntry, PageKind, SiteProfile};
use xuncha_pipeline::kafka::{KafkaConfig, KafkaFrontier};

const JOBS: u32 = 12;
const PER_PAGE: u32 = 5;
/// Short, so a crawler that owns none of a site's hosts ends its pass soon.
const IDLE: Duration = Duration::from_secs(2);

/// The shipped job-board profile pointed at a fixture board: loopback allowed, no
/// politeness delay, every posting due.
fn board(name: &str, addr: SocketAddr) -> SiteProfile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sites/jobboard.toml");
    let mut p = SiteProfile::load(&path).unwrap();
    p.name = name.into();
    p.start_urls = vec![format!("http://{addr}/jobs/?city=440300&page=1")];
    p.allow_hosts = vec!["127.0.0.1".into()];
    p.homepage = None;
    p.about_urls = Vec::new();
    p.allow_private_addresses = true;
    p.rate_per_sec = 0.0;
    p.recrawl_after = Duration::ZERO;
    p.validate().unwrap();
    p
}

fn kafka(broker: &Broker, topic: &str, group: &str, instance: &str) -> KafkaConfig {
    let mut k = KafkaConfig {
        brokers: broker.addr(),
        group: group.into(),
        // Tansu never expires a member that went away without leaving; static ids let a
        // restarted member take its partitions back.
        instance_id: Some(instance.into()),
        ..KafkaConfig::default()
    };
    k.topics.frontier = topic.into();
    k
}

/// Waits until every frontier owns at least one partition and together they own `all`,
/// each partition once.
async fn await_split(frontiers: &[&KafkaFrontier], all: &[i32]) -> Vec<Vec<i32>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let owned: Vec<Vec<i32>> = frontiers.iter().map(|f| f.assignment()).collect();
        let mut union: Vec<i32> = owned.iter().flatten().copied().collect();
        union.sort_unstable();
        if union == all && owned.iter().all(|o| !o.is_empty()) {
            return owned;
        }
        assert!(
            Instant::now() < deadline,
            "the group never settled on {all:?}: {owned:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn crawler_config(dir: &Path, agent: &str) -> CrawlerConfig {
    CrawlerConfig {
        user_agent: agent.into(),
        concurrency: 4,
        connect_timeout: Duration::from_secs(1),
        response_timeout: Duration::from_secs(5),
        state_path: dir.join("crawl.db"),
        evidence_dir: dir.join("evidence"),
        ..CrawlerConfig::default()
    }
}

/// One pass of every site through `frontier`; returns what was emitted.
async fn crawl(
    config: CrawlerConfig,
    sites: Vec<SiteProfile>,
    frontier: Arc<KafkaFrontier>,
) -> Vec<Posting> {
    let crawler = Crawler::builder(config)
        .sites(sites)
        .frontier(frontier)
        .build()
        .unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let collect = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(p) = rx.recv().await {
            out.push(p);
        }
        out
    });
    let stats = crawler.run(tx, true).await.unwrap();
    assert!(
        stats.errors.iter().all(|e| !e.url.contains("/job/")),
        "no posting page failed: {:?}",
        stats.errors
    );
    drop(crawler);
    collect.await.unwrap()
}

#[test]
fn two_crawlers_split_the_hosts_and_emit_every_posting_once() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let (topic, probe) = ("split.frontier", "split.probe");
    rt.block_on(broker.create_topics(&[topic, probe], 2));
    rt.block_on(async {
        // Two boards whose hosts hash to different partitions, found by producing their
        // keys to a topic of the same width (the frontier's producer partitions alike).
        let producer = broker.producer();
        let partition_of = |addr: SocketAddr| {
            let producer = producer.clone();
            async move {
                let key = addr.to_string();
                producer
                    .send(
                        FutureRecord::to(probe).key(&key).payload("probe"),
                        Timeout::After(Duration::from_secs(30)),
                    )
                    .await
                    .map_err(|(e, _)| e)
                    .unwrap()
                    .partition
            }
        };
        let fx_a = Fixture::new(JOBS, PER_PAGE);
        let addr_a = common::serve(fx_a.clone(), 0).await;
        let part_a = partition_of(addr_a).await;
        let fx_b = Fixture::new(JOBS, PER_PAGE);
        let mut addr_b = common::serve(fx_b.clone(), 0).await;
        for _ in 0..30 {
            if partition_of(addr_b).await != part_a {
                break;
            }
            addr_b = common::serve(fx_b.clone(), 0).await;
        }
        let part_b = partition_of(addr_b).await;
        assert_ne!(part_a, part_b, "no port of the second board hashed apart");

        let started = Instant::now();
        let one = Arc::new(
            KafkaFrontier::new(&kafka(&broker, topic, "split", "crawler-1"), IDLE).unwrap(),
        );
        let two = Arc::new(
            KafkaFrontier::new(&kafka(&broker, topic, "split", "crawler-2"), IDLE).unwrap(),
        );
        let owned = await_split(&[&one, &two], &[0, 1]).await;
        eprintln!("group settled in {:?}: {owned:?}", started.elapsed());

        let (dir1, dir2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sites = vec![board("board-a", addr_a), board("board-b", addr_b)];
        let (got1, got2) = tokio::join!(
            crawl(
                crawler_config(dir1.path(), "crawler-1/1.0"),
                sites.clone(),
                one.clone()
            ),
            crawl(
                crawler_config(dir2.path(), "crawler-2/1.0"),
                sites,
                two.clone()
            ),
        );
        eprintln!("crawled in {:?}", started.elapsed());

        // Every posting of both boards, none twice.
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for p in got1.iter().chain(&got2) {
            *counts.entry(p.id.clone()).or_default() += 1;
        }
        let want: BTreeSet<String> = ["board-a", "board-b"]
            .iter()
            .flat_map(|s| (FIRST_ID..FIRST_ID + JOBS).map(move |id| format!("{s}-{id}")))
            .collect();
        assert_eq!(counts.keys().cloned().collect::<BTreeSet<_>>(), want);
        assert!(
            counts.values().all(|&n| n == 1),
            "a posting emitted twice: {counts:?}"
        );

        // Each board was fetched by the crawler owning its host's partition, and only by it.
        let owner = |part: i32| {
            if owned[0].contains(&part) {
                "crawler-1/1.0"
            } else {
                "crawler-2/1.0"
            }
        };
        for (fx, part, name) in [(&fx_a, part_a, "board-a"), (&fx_b, part_b, "board-b")] {
            let agents: Vec<String> = fx.agents().into_keys().collect();
            assert_eq!(agents, vec![owner(part).to_owned()], "{name}'s requests");
            assert_eq!(
                fx.hits_under("/job/"),
                JOBS as usize,
                "{name}: each posting page fetched once"
            );
        }
        let emitted_by = |got: &[Posting]| {
            got.iter()
                .filter_map(|p| p.source.clone())
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            emitted_by(&got1).len(),
            1,
            "crawler 1 emitted one board's postings"
        );
        assert_eq!(
            emitted_by(&got2).len(),
            1,
            "crawler 2 emitted one board's postings"
        );
    });
}

fn entry(url: &str, kind: PageKind) -> FrontierEntry {
    FrontierEntry {
        site: "s".into(),
        url: url.into(),
        host: "h.example".into(),
        kind,
    }
}

#[test]
fn an_entry_popped_but_not_done_is_delivered_again_to_the_next_owner() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let topic = "again.frontier";
    rt.block_on(broker.create_topics(&[topic], 1));
    let config = kafka(&broker, topic, "again", "crawler-1");
    rt.block_on(async {
        let first = KafkaFrontier::new(&config, IDLE).unwrap();
        await_split(&[&first], &[0]).await;
        assert!(!first
            .begin("s", vec![entry("http://h.example/l1", PageKind::List)])
            .await
            .unwrap());
        let l1 = first.pop("s").await.unwrap();
        assert_eq!(l1.url, "http://h.example/l1");
        first
            .push(vec![
                entry("http://h.example/p1", PageKind::Posting),
                entry("http://h.example/p2", PageKind::Posting),
            ])
            .await
            .unwrap();
        first.done(&l1).await.unwrap();
        let p1 = first.pop("s").await.unwrap();
        let p2 = first.pop("s").await.unwrap();
        assert_eq!(
            (p1.url.as_str(), p2.url.as_str()),
            ("http://h.example/p1", "http://h.example/p2")
        );
        first.done(&p2).await.unwrap();
        // p1 is popped and never done: the process goes away mid-fetch.
        drop(first);

        // Its replacement (the same static member, as a restarted process would be) gets
        // the partition, and with it everything from the first entry not done.
        let second = KafkaFrontier::new(&config, IDLE).unwrap();
        await_split(&[&second], &[0]).await;
        second.begin("s", Vec::new()).await.unwrap();
        let mut urls = Vec::new();
        while let Some(e) = second.pop("s").await {
            second.done(&e).await.unwrap();
            urls.push(e.url);
        }
        assert_eq!(urls, ["http://h.example/p1", "http://h.example/p2"]);
        second.finish("s").await.unwrap();
    });
}
