//! The embedded default: `xuncha run` watches an inbox folder and files leads in SQLite;
//! `xuncha leads` reads them back. No Kafka.

mod process;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process::{checkout, feed_examples, free_port, http_get, ok, repo, wait_for, xuncha};

fn lead_lines(dir: &Path) -> Vec<String> {
    let out = ok(xuncha(dir, &["leads", "list"]).output().unwrap());
    out.lines().skip(1).map(String::from).collect()
}

#[test]
fn inbox_files_become_leads_once_and_a_rerun_adds_no_duplicate() {
    let dir = checkout();
    let d = dir.path();
    feed_examples(d, "batch-1.jsonl");
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    assert!(
        d.join("data/done/batch-1.jsonl").exists(),
        "the file moves to done/"
    );
    assert!(
        d.join("data/xuncha.db").exists(),
        "the default case queue path"
    );
    let first = lead_lines(d);
    assert!(first.len() >= 10, "{first:?}");
    assert!(first.iter().all(|l| l.contains(" new ")), "{first:?}");

    // The same postings again: same lead ids, seen twice, nothing new.
    feed_examples(d, "batch-2.jsonl");
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    let second = lead_lines(d);
    assert_eq!(second.len(), first.len());
    assert!(
        second.iter().all(|l| l.trim_end().ends_with(" 2")),
        "seen_count 2: {second:?}"
    );

    // show, mark, export
    let id = first[0].split_whitespace().next().unwrap().to_string();
    let shown = ok(xuncha(d, &["leads", "show", &id]).output().unwrap());
    assert!(
        shown.contains("依据") && shown.contains("first seen") && shown.contains("content hash"),
        "{shown}"
    );
    ok(xuncha(d, &["leads", "mark", &id, "false_positive"])
        .output()
        .unwrap());
    let fp = ok(xuncha(d, &["leads", "list", "--status", "false_positive"])
        .output()
        .unwrap());
    assert_eq!(fp.lines().count(), 2, "{fp}");

    // Who did what: an assignment with a note, in the timeline with its actor.
    let other = first[1].split_whitespace().next().unwrap().to_string();
    ok(xuncha(
        d,
        &[
            "leads",
            "mark",
            &other,
            "assigned",
            "--to",
            "李四",
            "--note",
            "请核实\u{1b}[31m",
            "--as",
            "张三",
        ],
    )
    .output()
    .unwrap());
    ok(
        xuncha(d, &["leads", "mark", &other, "confirmed", "--as", "李四"])
            .output()
            .unwrap(),
    );
    let shown: serde_json::Value =
        serde_json::from_str(&ok(xuncha(d, &["leads", "show", &other, "--json"])
            .output()
            .unwrap()))
        .unwrap();
    assert_eq!(shown["status"], "assigned");
    assert_eq!(shown["verdict"], "confirmed");
    assert_eq!(shown["assigned_to"], "李四");
    let events: Vec<String> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e["actor"], e["action"], e["to"]))
        .collect();
    assert_eq!(
        events,
        [
            r#""scan" "filed" null"#,
            r#""张三" "assign" "李四""#,
            r#""张三" "status" "assigned""#,
            r#""李四" "verdict" "confirmed""#,
        ]
    );
    let text = ok(xuncha(d, &["leads", "show", &other]).output().unwrap());
    assert!(
        text.contains("张三 assign → 李四: 请核实") || text.contains("张三 assign 李四: 请核实"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "the note is neutralised: {text}");
    let mine = ok(xuncha(
        d,
        &[
            "leads",
            "list",
            "--assigned-to",
            "李四",
            "--verdict",
            "confirmed",
        ],
    )
    .output()
    .unwrap());
    assert_eq!(mine.lines().count(), 2, "{mine}");
    // The case list for the 执法 team says where each lead stands.
    let list = ok(xuncha(
        d,
        &[
            "leads",
            "export",
            "--format",
            "csv",
            "--assigned-to",
            "李四",
        ],
    )
    .output()
    .unwrap());
    let mut rows = list.lines();
    assert!(
        rows.next()
            .unwrap()
            .ends_with("status,verdict,assigned_to,first_seen,last_seen,gone_at"),
        "{list}"
    );
    let row = rows.next().unwrap();
    assert!(
        row.contains(&other) && row.contains(",assigned,confirmed,李四,"),
        "{row}"
    );
    let csv = ok(xuncha(
        d,
        &[
            "leads",
            "export",
            "--format",
            "csv",
            "--min-severity",
            "illegal",
        ],
    )
    .output()
    .unwrap());
    assert!(
        csv.lines().count() > 1 && csv.lines().skip(1).all(|l| l.contains(",illegal,")),
        "{csv}"
    );
}

#[test]
fn bad_lines_are_kept_as_dead_letters_and_the_run_watches_until_stopped() {
    let dir = checkout();
    let d = dir.path();
    let child = xuncha(d, &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written under another name and renamed into place, as a feeder should.
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    let part = d.join("data/inbox/late.jsonl.part");
    std::fs::write(
        &part,
        "{\"id\":\"a\",\"text\":\"入职需交押金500元\"}\nnot json\n{\"id\":\"b\"}\n",
    )
    .unwrap();
    std::fs::rename(&part, d.join("data/inbox/late.jsonl")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !d.join("data/done/late.jsonl").exists() {
        assert!(
            Instant::now() < deadline,
            "the running scanner did not pick the file up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "SIGTERM is a clean stop: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leads = lead_lines(d);
    assert_eq!(leads.len(), 1, "{leads:?}");
    assert!(leads[0].contains("fee.deposit"));
    let dead = ok(xuncha(d, &["leads", "dead-letters"]).output().unwrap());
    let dead: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(
        (
            dead[0]["reason"].as_str(),
            dead[0]["source"]["line"].as_u64()
        ),
        (Some("bad_json"), Some(2))
    );
    assert_eq!(dead[0]["original"], "not json");
    assert_eq!(
        (
            dead[1]["reason"].as_str(),
            dead[1]["source"]["line"].as_u64()
        ),
        (Some("no_text"), Some(3))
    );
}

const LIST: &str = r#"<html><body><ul class="jobs">
<li><a class="job" href="/job/1">仓库管理员</a></li>
<li><a class="job" href="/job/2">Java开发</a></li>
</ul></body></html>"#;

fn detail(id: &str) -> String {
    let (title, text) = match id {
        "1" => ("仓库管理员", "仓库管理员，限男性，入职需交押金500元。"),
        _ => (
            "Java开发",
            "Java开发工程师，男女不限，五险一金，不收取任何费用。",
        ),
    };
    format!(
        r#"<html><body><div class="job"><h1>{title}</h1><p class="co">示例物流有限公司</p>
<span class="pay">6-8千/月</span><span class="addr">广州</span><div class="text">{text}</div></div></body></html>"#
    )
}

#[test]
fn run_crawls_the_configured_sites_into_the_case_queue() {
    use axum::extract::Path as UrlPath;
    use axum::response::Html;
    use axum::routing::get;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/robots.txt", get(|| async { "User-agent: *\nAllow: /\n" }))
        .route("/jobs", get(|| async { Html(LIST) }))
        .route(
            "/job/{id}",
            get(|UrlPath(id): UrlPath<String>| async move { Html(detail(&id)) }),
        );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = checkout();
    let d = dir.path();
    std::fs::create_dir_all(d.join("config/sites")).unwrap();
    std::fs::write(
        d.join("config/sites/local.toml"),
        format!(
            r#"name = "local"
start_urls = ["http://127.0.0.1:{port}/jobs"]
allow_hosts = ["127.0.0.1"]
link_selector = "ul.jobs a.job"
rate_per_sec = 50
allow_private_addresses = true
homepage = "http://127.0.0.1:{port}/jobs"

[fields]
title = "div.job h1"
company = "div.job .co"
salary = "div.job .pay"
location = "div.job .addr"
description = "div.job .text"
"#
        ),
    )
    .unwrap();
    let child = xuncha(d, &["run"])
        .env("XUNCHA_CRAWL__ENABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut leads = Vec::new();
    while leads.len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
        if d.join("data/xuncha.db").exists() {
            leads = lead_lines(d);
        }
    }
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let cats: Vec<&str> = leads
        .iter()
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert_eq!(leads.len(), 3, "{leads:?}\n{log}");
    assert!(
        cats.contains(&"discrimination.gender") && cats.contains(&"fee.deposit"),
        "{cats:?}"
    );
    // The homepage (here the list page) shows no licence.
    assert!(cats.contains(&"license.undisplayed"), "{cats:?}");
    let id = leads
        .iter()
        .find(|l| l.contains("discrimination.gender"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap();
    let shown = ok(xuncha(d, &["leads", "show", id]).output().unwrap());
    assert!(
        shown.contains(&format!("http://127.0.0.1:{port}/job/1")),
        "{shown}"
    );
    assert!(
        shown.contains("captured"),
        "crawled postings carry their capture time: {shown}"
    );
    assert!(
        std::fs::read_dir(d.join("data/evidence"))
            .unwrap()
            .next()
            .is_some(),
        "the page is kept as evidence"
    );
}

/// A copy of the repository's rules in `dir/rules`, for a test to change.
fn copy_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for e in std::fs::read_dir(repo().join("rules")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, rules.join(p.file_name().unwrap())).unwrap();
        }
    }
    rules
}

/// A rule pack the running rules do not have: handedness requirements.
const HANDEDNESS: &str = r#"[pack]
family = "discrimination"
version = "2026.11.28"
description = "惯用手要求"

[[rule]]
id = "DISC-HAND-001"
category = "discrimination.other"
severity = "disfavoured"
title = "限定惯用手"
description = "只招左撇子/右撇子与岗位无关。"
legal_basis = ["EPL-3"]
penalty = "NO-SANCTION"
confidence = 0.9
anchors = ["撇子"]
patterns = ['(只招|只要|限|仅限)[^,。;!?]{0,2}(左|右)撇子PATTERN_END']
negations = ['不限']

[rule.examples]
match = ["只招左撇子", "限右撇子", "仅限左撇子应聘", "只要左撇子", "前台限左撇子"]
no_match = ["左撇子也可以", "左右撇子不限", "欢迎左撇子", "左撇子剪刀", "右撇子鼠标"]
"#;

#[test]
fn a_broken_rule_file_keeps_the_running_rules_and_a_fixed_one_is_picked_up() {
    let dir = checkout();
    let d = dir.path();
    let rules = copy_rules(d);
    let inbox = d.join("data/inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let port = free_port();
    let mut child = xuncha(d, &["run"])
        .env("XUNCHA_RULES", &rules)
        .env("XUNCHA_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("XUNCHA_RELOAD__INTERVAL_MS", "200")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let metrics = || http_get(port, "/metrics").unwrap_or_default();
    let leads_of = |id: &str| -> Vec<serde_json::Value> {
        if !d.join("data/xuncha.db").exists() {
            return Vec::new();
        }
        ok(xuncha(d, &["leads", "export", "--format", "jsonl"])
            .output()
            .unwrap())
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["posting"]["id"] == id)
        .collect()
    };
    let drop_posting = |id: &str, text: &str| {
        let line = serde_json::json!({"id": id, "description": text}).to_string();
        std::fs::write(inbox.join(format!("{id}.tmp")), line + "\n").unwrap();
        std::fs::rename(
            inbox.join(format!("{id}.tmp")),
            inbox.join(format!("{id}.jsonl")),
        )
        .unwrap();
    };
    wait_for("the scanner", || metrics().contains("xuncha_ready 1"));
    let started = metrics();

    drop_posting("a", "招聘前台，限男性，只招左撇子。");
    wait_for("lead a", || !leads_of("a").is_empty());
    let v1 = leads_of("a")[0]["rules_version"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(started.contains(&format!("xuncha_rules_info{{version=\"{v1}\"}} 1")));

    // A broken pack: the reload fails, is counted, and the running rules stay.
    std::fs::write(
        rules.join("hand.toml"),
        HANDEDNESS.replace("PATTERN_END", "(("),
    )
    .unwrap();
    wait_for("the failed reload", || {
        metrics().contains("xuncha_rules_reloads_total{outcome=\"failed\"} 1")
    });
    drop_posting("b", "招聘文员，限男性，只招左撇子。");
    wait_for("lead b", || !leads_of("b").is_empty());
    let b = leads_of("b");
    assert_eq!(b.len(), 1, "only the gender lead: {b:?}");
    assert_eq!(b[0]["rules_version"], v1.as_str());

    // Fixed: picked up, and the new rule finds what the old set could not.
    std::fs::write(
        rules.join("hand.toml"),
        HANDEDNESS.replace("PATTERN_END", ""),
    )
    .unwrap();
    wait_for("the reload", || {
        metrics().contains("xuncha_rules_reloads_total{outcome=\"ok\"} 1")
    });
    drop_posting("c", "招聘出纳，限男性，只招左撇子。");
    wait_for("leads c", || leads_of("c").len() >= 2);
    let c = leads_of("c");
    let other = c
        .iter()
        .find(|l| l["category"] == "discrimination.other")
        .expect("the new rule's lead");
    assert_eq!(other["findings"][0]["rule_id"], "DISC-HAND-001");
    let v2 = other["rules_version"].as_str().unwrap();
    assert_ne!(v2, v1);
    assert!(metrics().contains(&format!("xuncha_rules_info{{version=\"{v2}\"}} 1")));

    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(status.success(), "{log}");
    assert!(
        log.contains("rule reload failed") && log.contains("hand.toml:"),
        "the log names the file and line: {log}"
    );
}

#[test]
fn serious_leads_are_pushed_to_a_webhook_as_well_as_filed() {
    use std::sync::{Arc, Mutex};

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let sink = got.clone();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap());
                "ok"
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = checkout();
    let d = dir.path();
    let mut config = std::fs::read_to_string(d.join("config/default.toml")).unwrap();
    config.push_str(&format!(
        "\n[[alerts.webhook]]\nname = \"duty\"\nurl = \"http://127.0.0.1:{port}/hook\"\nformat = \"json\"\nmin_severity = \"illegal\"\nper_publisher = {{ count = 0, window = \"10m\" }}\nper_rule = {{ count = 0, window = \"10m\" }}\n"
    ));
    std::fs::write(d.join("config/default.toml"), config).unwrap();
    feed_examples(d, "batch.jsonl");
    ok(xuncha(d, &["run", "--once"]).output().unwrap());

    let filed = ok(xuncha(
        d,
        &[
            "leads",
            "export",
            "--format",
            "jsonl",
            "--min-severity",
            "illegal",
        ],
    )
    .output()
    .unwrap());
    let mut want: Vec<String> = filed
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["lead_id"].as_str().unwrap().to_string()
        })
        .collect();
    want.sort();
    let mut pushed: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|v| v["lead_id"].as_str().unwrap().to_string())
        .collect();
    pushed.sort();
    assert!(!want.is_empty());
    assert_eq!(pushed, want, "every illegal lead once, nothing else");

    // The same postings again, in a new process: filed again, alerted never again.
    feed_examples(d, "batch-again.jsonl");
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    assert!(d.join("data/done/batch-again.jsonl").exists());
    assert_eq!(got.lock().unwrap().len(), want.len(), "no alert sent twice");
}

#[test]
fn sighup_reloads_the_rules_when_watching_is_off() {
    let dir = checkout();
    let d = dir.path();
    let rules = copy_rules(d);
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    let port = free_port();
    let mut child = xuncha(d, &["run"])
        .env("XUNCHA_RULES", &rules)
        .env("XUNCHA_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("XUNCHA_RELOAD__WATCH", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let metrics = || http_get(port, "/metrics").unwrap_or_default();
    wait_for("the scanner", || metrics().contains("xuncha_ready 1"));
    std::fs::write(
        rules.join("hand.toml"),
        HANDEDNESS.replace("PATTERN_END", ""),
    )
    .unwrap();
    // Not watched: nothing happens until the signal (longer than the default interval a
    // watching run would have reloaded within).
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!metrics().contains("xuncha_rules_reloads_total{outcome=\"ok\"}"));
    Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    wait_for("the reload on SIGHUP", || {
        metrics().contains("xuncha_rules_reloads_total{outcome=\"ok\"} 1")
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_damaged_case_queue_is_refused_at_start_and_once_ends_with_failure() {
    let dir = checkout();
    let d = dir.path();
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    std::fs::write(
        d.join("data/inbox/a.jsonl"),
        "{\"id\":\"a\",\"text\":\"入职需交押金500元\"}\n",
    )
    .unwrap();
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    // Pages overwritten, as a failing disk or a stray write leaves them.
    let db = d.join("data/xuncha.db");
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8192);
    for b in &mut bytes[4096..8192] {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    let _ = std::fs::remove_file(d.join("data/xuncha.db-wal"));
    std::fs::write(
        d.join("data/inbox/b.jsonl"),
        "{\"id\":\"b\",\"text\":\"入职需交押金600元\"}\n",
    )
    .unwrap();
    let started = Instant::now();
    let out = xuncha(d, &["run", "--once"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("damaged") && err.contains("xuncha.db"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no endless retry"
    );
    assert!(
        d.join("data/inbox/b.jsonl").exists(),
        "the file waits for a good queue"
    );
}

/// What an analyst asks of a queue: how many by region and rule, the leads of one city by
/// its name, and a long list a page at a time.
#[test]
fn leads_are_counted_filtered_by_region_and_rule_and_paged() {
    let dir = checkout();
    let d = dir.path();
    feed_examples(d, "batch-1.jsonl");
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    let all = lead_lines(d).len();

    let counts: Vec<serde_json::Value> =
        ok(xuncha(d, &["leads", "count", "--by", "region", "--json"])
            .output()
            .unwrap())
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let shanghai = counts
        .iter()
        .find(|c| c["key"] == "310000")
        .expect("Shanghai postings are in the examples");
    let n = shanghai["leads"].as_u64().unwrap() as usize;
    assert!(n >= 1 && n < all, "{counts:?}");
    let by_name = ok(xuncha(d, &["leads", "list", "--region", "上海"])
        .output()
        .unwrap());
    assert_eq!(by_name.lines().count() - 1, n, "{by_name}");
    let by_code = ok(xuncha(d, &["leads", "list", "--region", "310000"])
        .output()
        .unwrap());
    assert_eq!(by_code, by_name);
    let unknown = xuncha(d, &["leads", "list", "--region", "亚特兰蒂斯"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no division named"));

    let rules = ok(xuncha(d, &["leads", "count", "--by", "rule", "--json"])
        .output()
        .unwrap());
    let first: serde_json::Value = serde_json::from_str(rules.lines().next().unwrap()).unwrap();
    let rule = first["key"].as_str().unwrap();
    let listed = ok(xuncha(d, &["leads", "list", "--rule", rule])
        .output()
        .unwrap());
    assert_eq!(
        (listed.lines().count() - 1) as u64,
        first["leads"].as_u64().unwrap()
    );

    // Pages of 4 until the end: every lead once, in the order of the whole list.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args = vec!["leads", "list", "--limit", "4"];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let out = xuncha(d, &args).output().unwrap();
        let stdout = ok(out.clone());
        paged.extend(stdout.lines().skip(1).map(String::from));
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        match stderr.split("next page: --after ").nth(1) {
            Some(rest) => after = Some(rest.trim().to_string()),
            None => break,
        }
    }
    assert_eq!(paged, lead_lines(d));
}

#[path = "../../xuncha-cases/tests/support/postgres.rs"]
mod postgres_cluster;

/// The embedded mode and every analyst's command on a PostgreSQL case store: the same
/// steps as on the SQLite file, with `XUNCHA_DB` a `postgres://` URL.
#[test]
fn run_and_the_analysts_commands_work_on_postgres() {
    let pg = postgres_cluster::Postgres::start();
    let url = pg.new_database();
    let dir = checkout();
    let d = dir.path();
    let on_pg = |args: &[&str]| {
        let mut c = xuncha(d, args);
        c.env("XUNCHA_DB", &url);
        c
    };
    feed_examples(d, "batch-1.jsonl");
    ok(on_pg(&["run", "--once"]).output().unwrap());
    assert!(
        !d.join("data/xuncha.db").exists(),
        "nothing filed in SQLite"
    );
    let list = ok(on_pg(&["leads", "list"]).output().unwrap());
    let ids: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(ids.len() >= 10, "{list}");
    ok(on_pg(&[
        "leads",
        "mark",
        ids[0],
        "confirmed",
        "--note",
        "核实",
        "--as",
        "王敏",
    ])
    .output()
    .unwrap());
    let shown: serde_json::Value =
        serde_json::from_str(&ok(on_pg(&["leads", "show", ids[0], "--json"])
            .output()
            .unwrap()))
        .unwrap();
    assert_eq!(shown["verdict"], "confirmed");
    let last = shown["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["actor"].as_str(), last["note"].as_str()),
        (Some("王敏"), Some("核实"))
    );
    let html = d.join("cases.html");
    ok(on_pg(&[
        "leads",
        "export",
        "--verdict",
        "confirmed",
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ])
    .output()
    .unwrap());
    assert!(std::fs::read_to_string(&html).unwrap().contains(ids[0]));
    let counted = ok(on_pg(&["leads", "count", "--by", "verdict", "--json"])
        .output()
        .unwrap());
    assert!(
        counted.contains(r#""key":"confirmed","leads":1"#),
        "{counted}"
    );
    // A second run over the same postings files nothing new.
    feed_examples(d, "batch-2.jsonl");
    ok(on_pg(&["run", "--once"]).output().unwrap());
    let again = ok(on_pg(&["leads", "list"]).output().unwrap());
    assert_eq!(again.lines().count(), list.lines().count());
}
