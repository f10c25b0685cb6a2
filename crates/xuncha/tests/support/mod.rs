//! A Tansu broker and `xuncha run` processes for the integration tests, all on 127.0.0.1.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Message};
use xuncha_core::Posting;
use xuncha_matcher::Matcher;
use xuncha_pipeline::{Licensing, Scanner as LeadScanner};
use xuncha_rules::RuleSet;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The broker binary: `TANSU_BIN`, or the cache `scripts/broker.sh install` fills.
pub fn tansu_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TANSU_BIN") {
        return PathBuf::from(p);
    }
    let out = Command::new("bash")
        .arg(repo().join("scripts/broker.sh"))
        .arg("path")
        .output()
        .unwrap();
    let p = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(
        p.exists(),
        "no Tansu broker at {}: run `bash scripts/broker.sh install` (scripts/test.sh does)",
        p.display()
    );
    p
}

/// A Tansu broker with SQLite storage in its own directory, so it can be stopped and started
/// again with its data and committed offsets.
pub struct Broker {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Broker {
    pub fn start() -> Broker {
        let mut b = Broker {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        b.restart();
        b
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none());
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("broker.log"))
            .unwrap();
        let child = Command::new(tansu_bin())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "sqlite://tansu.db",
            ])
            .current_dir(self.dir.path())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "broker did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("broker.log")).unwrap_or_default()
    }

    pub fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.addr());
        c
    }

    pub async fn create_topics(&self, names: &[&str], partitions: i32) {
        let admin: AdminClient<DefaultClientContext> = self.config().create().unwrap();
        let topics: Vec<NewTopic<'_>> = names
            .iter()
            .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(1)))
            .collect();
        for r in admin
            .create_topics(&topics, &AdminOptions::new())
            .await
            .unwrap()
        {
            r.unwrap();
        }
    }

    pub fn producer(&self) -> FutureProducer {
        self.config()
            .set("enable.idempotence", "true")
            .set("message.max.bytes", "10000000")
            .set("message.timeout.ms", "120000")
            .set("linger.ms", "5")
            .create()
            .unwrap()
    }

    /// Produces `(key, value)` pairs and waits for every acknowledgement.
    pub async fn produce(
        &self,
        producer: &FutureProducer,
        topic: &str,
        items: &[(String, Vec<u8>)],
    ) {
        let futs = items.iter().map(|(k, v)| {
            producer.send(
                FutureRecord::to(topic).key(k).payload(v),
                Timeout::After(Duration::from_secs(120)),
            )
        });
        for r in futures::future::join_all(futs).await {
            r.map_err(|(e, _)| e).unwrap();
        }
    }

    /// Produces `(key, value)` pairs stamped with `timestamp_ms`.
    pub async fn produce_at(
        &self,
        producer: &FutureProducer,
        topic: &str,
        items: &[(String, Vec<u8>)],
        timestamp_ms: i64,
    ) {
        let futs = items.iter().map(|(k, v)| {
            producer.send(
                FutureRecord::to(topic)
                    .key(k)
                    .payload(v)
                    .timestamp(timestamp_ms),
                Timeout::After(Duration::from_secs(120)),
            )
        });
        for r in futures::future::join_all(futs).await {
            r.map_err(|(e, _)| e).unwrap();
        }
    }

    /// The offsets `group` has committed on each partition of `topic`, read without
    /// joining the group.
    pub fn committed(&self, group: &str, topic: &str, partitions: i32) -> Vec<(i32, i64)> {
        let consumer: BaseConsumer = self.config().set("group.id", group).create().unwrap();
        let mut tpl = rdkafka::TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p);
        }
        consumer
            .committed_offsets(tpl, Duration::from_secs(30))
            .unwrap()
            .elements()
            .iter()
            .map(|e| (e.partition(), e.offset().to_raw().unwrap_or(-1)))
            .collect()
    }

    /// Reads a topic from the start (no group offsets kept) until `done(records)` holds or
    /// the time runs out; returns every (key, value).
    pub fn read_until(
        &self,
        topic: &str,
        within: Duration,
        mut done: impl FnMut(&[(String, Vec<u8>)]) -> bool,
    ) -> Vec<(String, Vec<u8>)> {
        let consumer: BaseConsumer = self
            .config()
            .set("group.id", format!("reader-{}", free_port()))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        let mut out = Vec::new();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline && !done(&out) {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                let key = m
                    .key()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .unwrap_or_default();
                out.push((key, m.payload().unwrap_or_default().to_vec()));
            }
        }
        out
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Unique topic names for one test.
pub struct Topics {
    pub postings: String,
    pub leads: String,
    pub dlq: String,
    pub group: String,
}

impl Topics {
    pub fn new(test: &str) -> Topics {
        Topics {
            postings: format!("{test}.postings"),
            leads: format!("{test}.leads"),
            dlq: format!("{test}.dlq"),
            group: format!("{test}-scanner"),
        }
    }
}

/// A `xuncha run` process in Kafka mode.
pub struct Scanner {
    child: Child,
    pub http: u16,
    pub log: PathBuf,
}

impl Scanner {
    pub fn start(broker: &Broker, t: &Topics, log_dir: &Path, name: &str) -> Scanner {
        Scanner::start_as(broker, t, log_dir, name, None)
    }

    /// A scanner with a static group membership id.
    pub fn start_as(
        broker: &Broker,
        t: &Topics,
        log_dir: &Path,
        name: &str,
        instance: Option<&str>,
    ) -> Scanner {
        let http = free_port();
        let log = log_dir.join(format!("{name}.log"));
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_xuncha"))
            .args([
                "run",
                "--config",
                "config/kafka.toml",
                "--log-format",
                "json",
            ])
            .current_dir(repo())
            .env("XUNCHA_KAFKA_BROKERS", broker.addr())
            .env("XUNCHA_KAFKA_GROUP", &t.group)
            .env("XUNCHA_KAFKA__TOPICS__POSTINGS", &t.postings)
            .env("XUNCHA_KAFKA__TOPICS__LEADS", &t.leads)
            .env("XUNCHA_KAFKA__TOPICS__DLQ", &t.dlq)
            .env("XUNCHA_HTTP_ADDR", format!("127.0.0.1:{http}"))
            .env("XUNCHA_RULES", repo().join("rules"))
            .env("RUST_LOG", "info,librdkafka=warn,rdkafka=warn")
            .envs(instance.map(|i| ("XUNCHA_KAFKA__INSTANCE_ID", i)))
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        Scanner { child, http, log }
    }

    /// SIGKILL: no drain, no commit.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().unwrap()
    }

    /// A counter or gauge from `/metrics`, summed over its labels.
    pub fn metric(&self, name: &str) -> f64 {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.http)) else {
            return 0.0;
        };
        use std::io::{Read, Write};
        let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        let mut body = String::new();
        let _ = s.read_to_string(&mut body);
        body.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What `xuncha run` scans with (the shipped rules, no registry configured), to compute
/// the leads it must emit.
pub fn matcher() -> LeadScanner {
    let rules = RuleSet::load(repo().join("rules")).unwrap();
    LeadScanner::new(
        Matcher::new(Arc::new(rules)).unwrap(),
        Licensing::without_registry(),
    )
}

/// `n` postings: real ones from the shared corpus, with every tenth replaced by a posting
/// from the labelled development set (most of which violate something).
pub fn postings(n: usize) -> Vec<Posting> {
    let corpus = std::env::var_os("XUNCHA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/corpus"));
    let mut real: Vec<Posting> = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("the shared corpus at {}: {e}", corpus.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    'files: for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            real.push(serde_json::from_str(line).unwrap());
            if real.len() >= n {
                break 'files;
            }
        }
    }
    let dev: Vec<Posting> = std::fs::read_to_string(repo().join("tests/eval/dev.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (0..n)
        .map(|i| {
            if i % 10 == 0 {
                let mut p = dev[(i / 10) % dev.len()].clone();
                p.id = format!("v-{i}");
                p
            } else {
                real[i % real.len()].clone()
            }
        })
        .collect()
}

/// The lead ids the scanner gives `postings`.
pub fn expected_leads(m: &LeadScanner, postings: &[Posting]) -> BTreeSet<String> {
    postings
        .iter()
        .flat_map(|p| m.leads(p, "t"))
        .map(|l| l.lead_id)
        .collect()
}

/// Postings as Kafka messages keyed by posting id.
pub fn messages(postings: &[Posting]) -> Vec<(String, Vec<u8>)> {
    postings
        .iter()
        .map(|p| (p.id.clone(), serde_json::to_vec(p).unwrap()))
        .collect()
}

/// Lead ids in messages read from the leads topic; checks each key is its lead id.
pub fn lead_ids(records: &[(String, Vec<u8>)]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (k, v) in records {
        let lead: serde_json::Value = serde_json::from_slice(v).unwrap();
        assert_eq!(
            lead["lead_id"].as_str().unwrap(),
            k,
            "a lead's key is its lead_id"
        );
        *out.entry(k.clone()).or_insert(0) += 1;
    }
    out
}
