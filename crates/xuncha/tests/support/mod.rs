//! A Tansu broker and `xuncha run` processes for the integration tests, all on 127.0.0.1.

#![allow(dead_code)]

#[path = "../../../xuncha-pipeline/tests/support/broker.rs"]
mod broker;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

pub use broker::{free_port, repo, rt, serial, Broker};
use xuncha_core::Posting;
use xuncha_judge::{Licensing, Scanner as LeadScanner};
use xuncha_matcher::Matcher;
use xuncha_rules::RuleSet;

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
        Scanner::spawn(
            broker,
            t,
            log_dir,
            name,
            &["run", "--config", "config/kafka.toml"],
            instance.map(|i| ("XUNCHA_KAFKA__INSTANCE_ID", i.to_string())),
        )
    }

    /// `xuncha file`: the leads topic into the case store at `db`.
    pub fn start_filer(
        broker: &Broker,
        t: &Topics,
        db: &str,
        log_dir: &Path,
        name: &str,
    ) -> Scanner {
        Scanner::start_filer_as(broker, t, db, log_dir, name, None)
    }

    /// A filer with a static group membership id, so that one restarted after a crash
    /// takes back its partitions at once.
    pub fn start_filer_as(
        broker: &Broker,
        t: &Topics,
        db: &str,
        log_dir: &Path,
        name: &str,
        instance: Option<&str>,
    ) -> Scanner {
        let mut env = vec![
            ("XUNCHA_DB", db.to_string()),
            ("XUNCHA_KAFKA__FILER_GROUP", format!("{}-filer", t.group)),
        ];
        if let Some(i) = instance {
            env.push(("XUNCHA_KAFKA__INSTANCE_ID", i.to_string()));
        }
        Scanner::spawn(broker, t, log_dir, name, &["file"], env)
    }

    fn spawn(
        broker: &Broker,
        t: &Topics,
        log_dir: &Path,
        name: &str,
        args: &[&str],
        env: impl IntoIterator<Item = (&'static str, String)>,
    ) -> Scanner {
        let http = free_port();
        let log = log_dir.join(format!("{name}.log"));
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_xuncha"))
            .args(args)
            .args(["--log-format", "json"])
            .current_dir(repo())
            .env("XUNCHA_KAFKA_BROKERS", broker.addr())
            .env("XUNCHA_KAFKA_GROUP", &t.group)
            .env("XUNCHA_KAFKA__TOPICS__POSTINGS", &t.postings)
            .env("XUNCHA_KAFKA__TOPICS__LEADS", &t.leads)
            .env("XUNCHA_KAFKA__TOPICS__DLQ", &t.dlq)
            .env("XUNCHA_HTTP_ADDR", format!("127.0.0.1:{http}"))
            .env("XUNCHA_RULES", repo().join("rules"))
            .env("RUST_LOG", "info,librdkafka=warn,rdkafka=warn")
            .envs(env)
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

/// `n` postings from the repository's labelled development corpus: nine in ten lawful
/// (many of them look-alikes written to resemble violations), one in ten from the set of
/// violations, each with an id of its own.
pub fn postings(n: usize) -> Vec<Posting> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/eval/dev"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let (mut lawful, mut violating): (Vec<Posting>, Vec<Posting>) = (Vec::new(), Vec::new());
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let p: Posting = serde_json::from_str(line).unwrap();
            let labelled = p
                .extra
                .get("labels")
                .and_then(|v| v.as_array())
                .is_some_and(|a| !a.is_empty());
            if labelled {
                violating.push(p);
            } else {
                lawful.push(p);
            }
        }
    }
    (0..n)
        .map(|i| {
            let mut p = if i % 10 == 0 {
                violating[(i / 10) % violating.len()].clone()
            } else {
                lawful[i % lawful.len()].clone()
            };
            p.id = format!("v-{i}");
            p
        })
        .collect()
}

/// The lead ids the matcher gives `postings`.
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
