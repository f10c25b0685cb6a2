//! End-to-end throughput through a real Kafka-protocol broker (Tansu, SQLite storage),
//! beside a bare passthrough on the same broker and messages.
//!
//! ```sh
//! bash scripts/broker.sh install
//! cargo build --release -p xuncha
//! cargo run --release -p xuncha-benches --bin pipeline-bench [-- POSTINGS]
//! ```
//!
//! Both runs read the same postings topic in a consumer group of their own, in batches
//! (first message, then up to 20 ms or 2,048 more), write their output with an idempotent
//! producer (`acks=all`), wait for every acknowledgement and then commit: the passthrough
//! copies each message unchanged; the scanner (`xuncha run`, a separate process) scans it
//! and writes its leads. Throughput is measured from the group's first commit to the
//! commit of the last message, so start-up and the group join count for neither.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const PARTITIONS: i32 = 6;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sum of the group's committed offsets on `topic`.
fn committed(broker: &Broker, group: &str, topic: &str) -> i64 {
    broker
        .committed(group, topic, PARTITIONS)
        .iter()
        .map(|(_, o)| (*o).max(0))
        .sum()
}

/// Polls the group's commits until `n` messages are committed; returns the rate between
/// the first commit and the last.
fn measure(broker: &Broker, group: &str, topic: &str, n: i64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first: Option<(Instant, i64)> = None;
    loop {
        let c = committed(broker, group, topic);
        let now = Instant::now();
        if c > 0 && first.is_none() {
            first = Some((now, c));
        }
        if c >= n {
            let (t0, c0) = first.unwrap();
            let secs = now.duration_since(t0).as_secs_f64().max(1e-3);
            return (n - c0) as f64 / secs;
        }
        assert!(now < deadline, "{group}: only {c} of {n} committed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn passthrough(client: ClientConfig, from: String, to: String, n: i64) {
    let consumer: StreamConsumer = client
        .clone()
        .set("group.id", "bench-passthrough")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&from]).unwrap();
    let producer: FutureProducer = client
        .clone()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let mut done = 0i64;
    while done < n {
        let first = consumer.recv().await.unwrap().detach();
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + Duration::from_millis(20);
        while batch.len() < 2048 {
            match tokio::time::timeout_at(deadline, consumer.recv()).await {
                Ok(Ok(m)) => batch.push(m.detach()),
                _ => break,
            }
        }
        let futs = batch.iter().map(|m| {
            let rec = FutureRecord::to(&to)
                .key(m.key().unwrap_or_default())
                .payload(m.payload().unwrap_or_default());
            producer.send(rec, Timeout::Never)
        });
        for r in futures::future::join_all(futs).await {
            r.map_err(|(e, _)| e).unwrap();
        }
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        for m in &batch {
            let e = next.entry(m.partition()).or_insert(0);
            *e = (*e).max(m.offset() + 1);
        }
        let mut tpl = TopicPartitionList::new();
        for (p, o) in next {
            tpl.add_partition_offset(&from, p, Offset::Offset(o))
                .unwrap();
        }
        consumer.commit(&tpl, CommitMode::Async).unwrap();
        done += batch.len() as i64;
    }
    // Let the last asynchronous commit land.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

#[path = "../crates/xuncha-pipeline/tests/support/broker.rs"]
mod broker;

use broker::{repo, Broker};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(20_000);
    let xuncha = repo().join("target/release/xuncha");
    assert!(
        xuncha.exists(),
        "build it first: cargo build --release -p xuncha"
    );
    let broker = Broker::start();
    let brokers = broker.addr();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let corpus = xuncha_benches::corpus();
    let postings: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let mut p = corpus[i % corpus.len()].clone();
            p.id = format!("{}-{i}", p.id);
            (p.id.clone(), serde_json::to_vec(&p).unwrap())
        })
        .collect();
    let bytes: usize = postings.iter().map(|(_, v)| v.len()).sum();
    rt.block_on(async {
        broker
            .create_topics(
                &["bench.postings", "bench.copy", "bench.leads", "bench.dlq"],
                PARTITIONS,
            )
            .await;
        broker
            .produce(&broker.producer(), "bench.postings", &postings)
            .await;
    });
    eprintln!(
        "{n} postings ({:.1} MB) in bench.postings; passthrough first",
        bytes as f64 / 1e6
    );

    let task = rt.spawn(passthrough(
        broker.config(),
        "bench.postings".into(),
        "bench.copy".into(),
        n as i64,
    ));
    let pass = measure(&broker, "bench-passthrough", "bench.postings", n as i64);
    rt.block_on(task).unwrap();

    let scanner = Command::new(&xuncha)
        .args(["run", "--config", "config/kafka.toml"])
        .current_dir(repo())
        .env("XUNCHA_KAFKA_BROKERS", &brokers)
        .env("XUNCHA_KAFKA_GROUP", "bench-scanner")
        .env("XUNCHA_KAFKA__TOPICS__POSTINGS", "bench.postings")
        .env("XUNCHA_KAFKA__TOPICS__LEADS", "bench.leads")
        .env("XUNCHA_KAFKA__TOPICS__DLQ", "bench.dlq")
        .env("XUNCHA_HTTP_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _scanner = Killed(scanner);
    let scan = measure(&broker, "bench-scanner", "bench.postings", n as i64);

    println!(
        "postings                      {n} ({:.1} MB of JSON)",
        bytes as f64 / 1e6
    );
    println!("passthrough (consume→produce)  {pass:>9.0} msg/s");
    println!("xuncha run (consume→scan→leads) {scan:>8.0} postings/s");
    println!("ratio                          {:>9.2}", scan / pass);
}
