//! The distributed mode against a real Kafka-protocol broker (Tansu, started by the tests
//! from the binary `scripts/broker.sh install` builds), all on 127.0.0.1.
//!
//! The tests share one machine's two cores, so they run one at a time.

#[path = "../../xuncha-cases/tests/support/postgres.rs"]
mod postgres_cluster;
mod support;
// The crawler's fixture job board.
#[path = "../../xuncha-crawler/tests/common/mod.rs"]
mod fixture;

use std::collections::BTreeSet;
use std::time::Duration;

use support::*;

/// Waits until the leads topic holds every expected id; returns what it read.
fn await_leads(
    broker: &Broker,
    t: &Topics,
    expected: &BTreeSet<String>,
    within: Duration,
) -> BTreeSet<String> {
    let records = broker.read_until(&t.leads, within, |got| {
        got.len() >= expected.len()
            && lead_ids(got)
                .keys()
                .filter(|k| expected.contains(*k))
                .count()
                == expected.len()
    });
    lead_ids(&records).into_keys().collect()
}

fn assert_same(got: &BTreeSet<String>, expected: &BTreeSet<String>, logs: &str) {
    let missing: Vec<_> = expected.difference(got).take(5).collect();
    let extra: Vec<_> = got.difference(expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} expected, {} got; missing e.g. {missing:?}; unexpected e.g. {extra:?}\n{logs}",
        expected.len(),
        got.len()
    );
}

fn tail(path: &std::path::Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[test]
fn ten_thousand_postings_yield_every_lead_once() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let t = Topics::new("all");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 6));
    let postings = postings(10_000);
    let expected = expected_leads(&matcher(), &postings);
    assert!(
        expected.len() > 500,
        "the mix should raise many leads: {}",
        expected.len()
    );
    rt.block_on(broker.produce(&broker.producer(), &t.postings, &messages(&postings)));

    let logs = tempfile::tempdir().unwrap();
    let scanner = Scanner::start(&broker, &t, logs.path(), "s1");
    let records = broker.read_until(&t.leads, Duration::from_secs(180), |got| {
        lead_ids(got).len() >= expected.len()
    });
    let counts = lead_ids(&records);
    let got: BTreeSet<String> = counts.keys().cloned().collect();
    assert_same(&got, &expected, &tail(&scanner.log));
    assert!(
        counts.values().all(|&n| n == 1),
        "a single clean run writes each lead once"
    );
    assert_eq!(scanner.metric("xuncha_postings_in_total"), 10_000.0);
    assert_eq!(scanner.metric("xuncha_ready"), 1.0);
}

#[test]
fn a_killed_scanner_resumes_from_its_last_commit_without_losing_a_lead() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let t = Topics::new("kill");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 6));
    let postings = postings(10_000);
    let expected = expected_leads(&matcher(), &postings);
    rt.block_on(broker.produce(&broker.producer(), &t.postings, &messages(&postings)));

    let logs = tempfile::tempdir().unwrap();
    // The restarted scanner comes back under the same static member id, as a restarted pod
    // would: the group hands it the dead member's partitions at once (Tansu never expires
    // a member that died without leaving).
    let mut first = Scanner::start_as(&broker, &t, logs.path(), "first", Some("kill-1"));
    // Kill it once part of the stream is through.
    let partial = broker.read_until(&t.leads, Duration::from_secs(120), |got| {
        got.len() >= expected.len() / 4
    });
    assert!(!partial.is_empty(), "{}", tail(&first.log));
    first.kill9();
    let _second = Scanner::start_as(&broker, &t, logs.path(), "second", Some("kill-1"));
    let got = await_leads(&broker, &t, &expected, Duration::from_secs(180));
    assert_same(&got, &expected, &tail(&logs.path().join("second.log")));
}

#[test]
fn malformed_messages_go_to_the_dead_letter_topic_and_the_stream_goes_on() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let t = Topics::new("dlq");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 1));
    let good = postings(40);
    let mut msgs = messages(&good[..20]);
    msgs.push(("bad-json".into(), b"{\"id\": \"x\", \"text\": ".to_vec()));
    msgs.push(("bad-utf8".into(), vec![b'{', 0xff, 0xfe, b'}']));
    let mut big =
        serde_json::to_vec(&serde_json::json!({"id": "big", "text": "押金".repeat(900_000)}))
            .unwrap();
    // 5 MB. (Tansu 0.6 stops serving a partition at a message of about 5.2 MB; Apache Kafka
    // refuses anything over 1 MB at produce unless configured otherwise.)
    big.truncate(5_000_000);
    msgs.push(("big".into(), big));
    msgs.push((
        "no-text".into(),
        br#"{"id": "no-text", "salary": ""}"#.to_vec(),
    ));
    msgs.extend(messages(&good[20..]));
    rt.block_on(broker.produce(&broker.producer(), &t.postings, &msgs));
    let expected = expected_leads(&matcher(), &good);

    let logs = tempfile::tempdir().unwrap();
    let scanner = Scanner::start(&broker, &t, logs.path(), "s");
    let dead = broker.read_until(&t.dlq, Duration::from_secs(90), |got| got.len() >= 4);
    let mut reasons: Vec<(String, String, i64)> = dead
        .iter()
        .map(|(k, v)| {
            let d: serde_json::Value = serde_json::from_slice(v).unwrap();
            assert_eq!(d["schema"], "xuncha.dlq/1");
            assert_eq!(d["source"]["topic"], t.postings.as_str());
            assert_eq!(k, &format!("{}/0/{}", t.postings, d["source"]["offset"]));
            (
                d["reason"].as_str().unwrap().to_string(),
                d["detail"].as_str().unwrap().to_string(),
                d["source"]["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    reasons.sort_by_key(|r| r.2);
    let kinds: Vec<&str> = reasons.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        kinds,
        ["bad_json", "invalid_utf8", "too_large", "no_text"],
        "{reasons:?}\n{}",
        tail(&scanner.log)
    );
    assert_eq!(
        reasons.iter().map(|r| r.2).collect::<Vec<_>>(),
        [20, 21, 22, 23]
    );
    let big = dead
        .iter()
        .find(|(_, v)| String::from_utf8_lossy(v).contains("too_large"))
        .unwrap();
    let big: serde_json::Value = serde_json::from_slice(&big.1).unwrap();
    assert_eq!(big["original_bytes"], 5_000_000);
    assert_eq!(big["truncated"], true);
    let utf8: serde_json::Value = serde_json::from_slice(
        &dead
            .iter()
            .find(|(_, v)| String::from_utf8_lossy(v).contains("invalid_utf8"))
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(utf8["original_base64"], "e//+fQ==");
    // The good postings after the bad ones were scanned too.
    let got = await_leads(&broker, &t, &expected, Duration::from_secs(60));
    assert_same(&got, &expected, &tail(&scanner.log));
    assert_eq!(scanner.metric("xuncha_dead_letters_total"), 4.0);
}

#[test]
fn two_scanners_in_one_group_split_the_partitions() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let t = Topics::new("group");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 6));
    let logs = tempfile::tempdir().unwrap();
    let a = Scanner::start(&broker, &t, logs.path(), "a");
    let b = Scanner::start(&broker, &t, logs.path(), "b");
    // Let both join before the stream starts, so the split is visible in what each scans.
    std::thread::sleep(Duration::from_secs(8));
    let postings = postings(6_000);
    let expected = expected_leads(&matcher(), &postings);
    rt.block_on(broker.produce(&broker.producer(), &t.postings, &messages(&postings)));
    let got = await_leads(&broker, &t, &expected, Duration::from_secs(180));
    assert_same(
        &got,
        &expected,
        &format!("{}\n{}", tail(&a.log), tail(&b.log)),
    );
    let (na, nb) = (
        a.metric("xuncha_postings_in_total"),
        b.metric("xuncha_postings_in_total"),
    );
    assert!(na > 0.0 && nb > 0.0, "both members scanned: {na} and {nb}");
    assert!(na + nb >= 6_000.0, "{na} + {nb}");
}

#[test]
fn the_scanner_rides_out_a_broker_outage() {
    let _g = serial();
    let rt = rt();
    let mut broker = Broker::start();
    let t = Topics::new("outage");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 6));
    let postings = postings(3_000);
    let expected = expected_leads(&matcher(), &postings);
    let msgs = messages(&postings);
    let producer = broker.producer();
    rt.block_on(broker.produce(&producer, &t.postings, &msgs[..1000]));

    let logs = tempfile::tempdir().unwrap();
    let scanner = Scanner::start(&broker, &t, logs.path(), "s");
    let some = broker.read_until(&t.leads, Duration::from_secs(60), |got| !got.is_empty());
    assert!(!some.is_empty(), "{}", tail(&scanner.log));

    broker.stop();
    // Postings produced during the outage wait in the producer's queue.
    let during = rt.spawn({
        let producer = producer.clone();
        let topic = t.postings.clone();
        let items = msgs[1000..2000].to_vec();
        let addr = broker.addr();
        async move {
            let futs = items.iter().map(|(k, v)| {
                producer.send(
                    rdkafka::producer::FutureRecord::to(&topic)
                        .key(k)
                        .payload(v),
                    rdkafka::util::Timeout::After(Duration::from_secs(120)),
                )
            });
            for r in futures::future::join_all(futs).await {
                r.map_err(|(e, _)| format!("{addr}: {e}")).unwrap();
            }
        }
    });
    std::thread::sleep(Duration::from_secs(10));
    broker.restart();
    rt.block_on(during).unwrap();
    rt.block_on(broker.produce(&producer, &t.postings, &msgs[2000..]));

    let got = await_leads(&broker, &t, &expected, Duration::from_secs(180));
    assert_same(
        &got,
        &expected,
        &format!("{}\n{}", tail(&scanner.log), broker.log()),
    );
}

#[test]
fn a_time_range_rescan_returns_the_leads_of_that_range_and_commits_nothing() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let t = Topics::new("range");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 3));
    // Three days of postings, stamped with their day: 2026-11-01, -02 and -03 at noon,
    // Beijing time.
    let all = postings(900);
    let noon = |day: i64| 1_793_505_600_000 + (day - 1) * 86_400_000;
    let producer = broker.producer();
    for (i, day) in all.chunks(300).zip(1..) {
        rt.block_on(broker.produce_at(&producer, &t.postings, &messages(i), noon(day)));
    }
    // The monitoring group has read and committed everything.
    let logs = tempfile::tempdir().unwrap();
    let mut scanner = Scanner::start(&broker, &t, logs.path(), "s1");
    let everything = expected_leads(&matcher(), &all);
    await_leads(&broker, &t, &everything, Duration::from_secs(180));
    assert!(scanner.terminate().success());
    let committed = broker.committed(&t.group, &t.postings, 3);
    assert_eq!(
        committed.iter().map(|(_, o)| o).sum::<i64>(),
        900,
        "{committed:?}"
    );

    let rescan = std::process::Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .current_dir(repo())
        .args(["scan", "--topic", &t.postings, "--format", "jsonl"])
        .args(["--since", "2026-11-02", "--until", "2026-11-03T00:00"])
        .args(["--brokers", &broker.addr()])
        .env("XUNCHA_RULES", repo().join("rules"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&rescan.stderr);
    assert!(rescan.status.success(), "{stderr}");
    assert!(stderr.contains("scanned 300 postings"), "{stderr}");
    let got: BTreeSet<String> = String::from_utf8_lossy(&rescan.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["lead_id"].as_str().unwrap().to_string()
        })
        .collect();
    let day2 = expected_leads(&matcher(), &all[300..600]);
    assert!(!day2.is_empty());
    assert_same(&got, &day2, &stderr);
    assert_eq!(
        broker.committed(&t.group, &t.postings, 3),
        committed,
        "the rescan moved the group's offsets"
    );
}

/// A job-board profile (the shipped example) pointed at a fixture board on 127.0.0.1.
fn board_profile(name: &str, addr: std::net::SocketAddr) -> String {
    let shipped = std::fs::read_to_string(repo().join("config/sites/jobboard.toml")).unwrap();
    shipped
        .lines()
        .filter(|l| !l.starts_with("homepage") && !l.starts_with("about_urls"))
        .map(|l| match l.split(" = ").next().unwrap_or("") {
            "name" => format!("name = \"{name}\""),
            "start_urls" => format!("start_urls = [\"http://{addr}/jobs/?city=440300&page=1\"]"),
            "allow_hosts" => "allow_hosts = [\"127.0.0.1\"]".into(),
            "allow_private_addresses" => "allow_private_addresses = true".into(),
            "rate_per_sec" => "rate_per_sec = 0".into(),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn two_crawl_processes_share_the_frontier_topic() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let topic = "crawlers.frontier";
    let postings = "crawlers.postings";
    rt.block_on(broker.create_topics(&[topic], 2));
    rt.block_on(broker.create_topics(&[postings], 3));
    let boards: Vec<_> = rt.block_on(async {
        let mut boards = Vec::new();
        for _ in 0..2 {
            let fx = fixture::Fixture::new(12, 5);
            let addr = fixture::serve(fx.clone(), 0).await;
            boards.push((fx, addr));
        }
        boards
    });
    let dir = tempfile::tempdir().unwrap();
    let sites = dir.path().join("sites");
    std::fs::create_dir(&sites).unwrap();
    for (i, (_, addr)) in boards.iter().enumerate() {
        std::fs::write(
            sites.join(format!("board{i}.toml")),
            board_profile(&format!("board{i}"), *addr),
        )
        .unwrap();
    }
    let d = dir.path();
    let mut crawlers: Vec<std::process::Child> = (1..=2)
        .map(|n| {
            std::process::Command::new(env!("CARGO_BIN_EXE_xuncha"))
                .current_dir(repo())
                .args(["crawl", "--once", "--config", "config/kafka.toml"])
                .arg("--sites-dir")
                .arg(&sites)
                // The first writes JSONL, the second produces to the postings topic, as a
                // crawler of the distributed mode does.
                .args(match n {
                    1 => vec!["--out".to_string(), format!("{}/out1.jsonl", d.display())],
                    _ => vec!["--kafka".to_string()],
                })
                .arg("--state")
                .arg(d.join(format!("state{n}.db")))
                .arg("--evidence")
                .arg(d.join(format!("evidence{n}")))
                .args(["--user-agent", &format!("crawler{n}/1.0")])
                .env("XUNCHA_KAFKA_BROKERS", broker.addr())
                .env("XUNCHA_KAFKA_GROUP", "crawlers")
                .env("XUNCHA_KAFKA__INSTANCE_ID", format!("crawler-{n}"))
                .env("XUNCHA_KAFKA__TOPICS__FRONTIER", topic)
                .env("XUNCHA_KAFKA__TOPICS__POSTINGS", postings)
                .env("XUNCHA_CRAWL__FRONTIER_IDLE", "3s")
                .stderr(std::fs::File::create(d.join(format!("crawl{n}.log"))).unwrap())
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    for (n, c) in crawlers.iter_mut().enumerate() {
        let status = loop {
            if let Some(s) = c.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = c.kill();
                break c.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            status.success(),
            "crawler {}: {status}\n{}\nthe other:\n{}",
            n + 1,
            tail(&d.join(format!("crawl{}.log", n + 1))),
            tail(&d.join(format!("crawl{}.log", 2 - n)))
        );
    }
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let out = std::fs::read_to_string(d.join("out1.jsonl")).unwrap();
    for line in out.lines() {
        let p: serde_json::Value = serde_json::from_str(line).unwrap();
        *counts
            .entry(p["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let from_jsonl = counts.values().sum::<usize>();
    let produced = broker.read_until(postings, Duration::from_secs(30), |got| {
        got.len() + from_jsonl >= 24
    });
    for (key, value) in &produced {
        let p: serde_json::Value = serde_json::from_slice(value).unwrap();
        assert_eq!(p["id"].as_str().unwrap(), key, "keyed by posting id");
        *counts.entry(key.clone()).or_default() += 1;
    }
    let want: BTreeSet<String> = (0..2)
        .flat_map(|i| {
            (fixture::FIRST_ID..fixture::FIRST_ID + 12).map(move |id| format!("board{i}-{id}"))
        })
        .collect();
    assert_eq!(counts.keys().cloned().collect::<BTreeSet<_>>(), want);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    for (i, (fx, _)) in boards.iter().enumerate() {
        assert_eq!(fx.agents().len(), 1, "board{i}: {:?}", fx.agents());
    }
}

/// Polls `/metrics` of `p` until `name` reaches `at_least`.
fn await_metric(p: &Scanner, name: &str, at_least: f64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while p.metric(name) < at_least {
        assert!(
            std::time::Instant::now() < deadline,
            "{name} stayed at {} (wanted {at_least})\n{}",
            p.metric(name),
            tail(&p.log)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_filer_files_each_lead_once_and_dead_letters_what_is_no_lead() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let t = Topics::new("file");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 1));
    let m = matcher();
    let good = postings(300);
    let leads: Vec<xuncha_core::Lead> = good
        .iter()
        .flat_map(|p| m.leads(p, "2026-11-01T00:00:00Z"))
        .collect();
    assert!(leads.len() >= 20, "{} leads", leads.len());
    let message = |l: &xuncha_core::Lead| (l.lead_id.clone(), serde_json::to_vec(l).unwrap());
    let mut msgs: Vec<(String, Vec<u8>)> = leads.iter().map(message).collect();
    msgs.push(("bad".into(), b"{\"schema\": ".to_vec()));
    msgs.push(("posting".into(), serde_json::to_vec(&good[0]).unwrap()));
    // A replay of the first ten: filed again, never twice.
    msgs.extend(leads[..10].iter().map(message));
    rt.block_on(broker.produce(&broker.producer(), &t.leads, &msgs));

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let mut filer = Scanner::start_filer(&broker, &t, db.to_str().unwrap(), dir.path(), "f1");
    await_metric(
        &filer,
        "xuncha_leads_filed_total",
        (leads.len() + 10) as f64,
    );
    let dead = broker.read_until(&t.dlq, Duration::from_secs(60), |got| got.len() >= 2);
    let reasons: BTreeSet<String> = dead
        .iter()
        .map(|(_, v)| {
            let d: serde_json::Value = serde_json::from_slice(v).unwrap();
            assert_eq!(d["source"]["topic"], t.leads.as_str());
            d["reason"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        reasons,
        BTreeSet::from(["bad_json".to_string(), "unknown_schema".to_string()])
    );
    assert!(filer.terminate().success(), "{}", tail(&filer.log));

    let q = xuncha_cases::CaseQueue::open(&db).unwrap();
    let distinct: BTreeSet<&str> = leads.iter().map(|l| l.lead_id.as_str()).collect();
    assert_eq!(q.count().unwrap() as usize, distinct.len());
    let first = q.get(&leads[0].lead_id).unwrap().unwrap();
    assert_eq!(first.seen_count, 2, "filed, then seen again in the replay");
    assert_eq!(
        first.lead.findings, leads[0].findings,
        "the evidence as scanned"
    );
    drop(q);

    // Offsets were committed: a new filer in the group reads only what comes after.
    let filer = Scanner::start_filer(&broker, &t, db.to_str().unwrap(), dir.path(), "f2");
    rt.block_on(broker.produce(&broker.producer(), &t.leads, &[message(&leads[0])]));
    await_metric(&filer, "xuncha_leads_filed_total", 1.0);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        filer.metric("xuncha_leads_filed_total"),
        1.0,
        "nothing replayed"
    );
    let q = xuncha_cases::CaseQueue::open(&db).unwrap();
    assert_eq!(q.get(&leads[0].lead_id).unwrap().unwrap().seen_count, 3);
    assert_eq!(q.count().unwrap() as usize, distinct.len());
}

/// The team's set-up end to end: 10,000 postings through a scanner, two `xuncha file`
/// processes in one group filing into PostgreSQL; one filer is killed with SIGKILL
/// mid-stream and restarted, and PostgreSQL is stopped for 10 s and started again while
/// leads flow. Every expected lead is in the store once, filed once (one `filed` event),
/// and nothing else is.
#[test]
fn the_team_files_into_postgres_through_a_killed_filer_and_a_database_restart() {
    let _g = serial();
    let rt = rt();
    let broker = Broker::start();
    let t = Topics::new("team");
    rt.block_on(broker.create_topics(&[&t.postings, &t.leads, &t.dlq], 4));
    let postings = postings(10_000);
    let expected = expected_leads(&matcher(), &postings);
    assert!(expected.len() > 500, "{} leads", expected.len());
    let mut pg = postgres_cluster::Postgres::start();
    let db = pg.new_database();

    let logs = tempfile::tempdir().unwrap();
    let mut f1 = Scanner::start_filer_as(&broker, &t, &db, logs.path(), "f1", Some("team-f1"));
    let _f2 = Scanner::start_filer_as(&broker, &t, &db, logs.path(), "f2", Some("team-f2"));
    // The first half of the postings, then the scanner.
    let (first, second) = postings.split_at(5_000);
    rt.block_on(broker.produce(&broker.producer(), &t.postings, &messages(first)));
    let _scanner = Scanner::start(&broker, &t, logs.path(), "s1");

    let count = |url: &str| -> i64 {
        postgres::Client::connect(url, postgres::NoTls)
            .and_then(|mut c| c.query_one("SELECT COUNT(*) FROM leads", &[]))
            .map(|r| r.get(0))
            .unwrap_or(-1)
    };
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(240);
        while !done() {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: {} of {} filed\nf2: {}\nf1-again: {}\ns1: {}",
                count(&db),
                expected.len(),
                tail(&logs.path().join("f2.log")),
                tail(&logs.path().join("f1-again.log")),
                tail(&logs.path().join("s1.log"))
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for("some leads filed", &|| count(&db) > 50);
    f1.kill9();
    let _f1_again =
        Scanner::start_filer_as(&broker, &t, &db, logs.path(), "f1-again", Some("team-f1"));

    // The database goes away while the second half flows.
    pg.stop();
    rt.block_on(broker.produce(&broker.producer(), &t.postings, &messages(second)));
    std::thread::sleep(Duration::from_secs(10));
    pg.restart();

    wait_for("every lead filed", &|| count(&db) >= expected.len() as i64);
    // Let replays of uncommitted batches land, then check nothing came twice.
    std::thread::sleep(Duration::from_secs(3));
    let mut c = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let got: BTreeSet<String> = c
        .query("SELECT lead_id FROM leads", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_same(&got, &expected, &tail(&logs.path().join("f1-again.log")));
    let filed_twice: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM (SELECT lead_id FROM lead_events WHERE action = 'filed'
                                   GROUP BY lead_id HAVING COUNT(*) > 1) twice",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(filed_twice, 0, "a lead filed twice");
    let filed: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM lead_events WHERE action = 'filed'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(filed as usize, expected.len());
}
