//! A Tansu broker for the integration tests, on 127.0.0.1: shared by the test suites of
//! `xuncha-pipeline` and `xuncha` and by the pipeline benchmark (included with `#[path]`).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Message};

/// Kafka tests share the machine's cores and one broker harness: one at a time per test
/// binary.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A multi-threaded runtime for a test's async parts.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The repository root: the nearest folder above the including crate that holds
/// `scripts/broker.sh` (crates sit at different depths).
pub fn repo() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("scripts/broker.sh").exists())
        .unwrap_or(&here)
        .to_path_buf()
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
        // A group that has committed nothing (yet) reads as -1 on each partition.
        match consumer.committed_offsets(tpl, Duration::from_secs(30)) {
            Ok(t) => t
                .elements()
                .iter()
                .map(|e| match e.offset() {
                    rdkafka::Offset::Offset(o) => (e.partition(), o),
                    _ => (e.partition(), -1),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
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
