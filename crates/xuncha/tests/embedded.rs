//! The embedded default: `xuncha run` watches an inbox folder and files leads in SQLite;
//! `xuncha leads` reads them back. No Kafka.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn xuncha(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xuncha"));
    c.args(args)
        .current_dir(dir)
        .env("XUNCHA_RULES", repo().join("rules"))
        .env("XUNCHA_HTTP_ADDR", "127.0.0.1:0")
        .env_remove("XUNCHA_DB");
    c
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A fresh checkout's layout: config/ and the default paths under data/.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    std::fs::copy(
        repo().join("config/default.toml"),
        dir.path().join("config/default.toml"),
    )
    .unwrap();
    dir
}

fn lead_lines(dir: &Path) -> Vec<String> {
    let out = ok(xuncha(dir, &["leads", "list"]).output().unwrap());
    out.lines().skip(1).map(String::from).collect()
}

#[test]
fn inbox_files_become_leads_once_and_a_rerun_adds_no_duplicate() {
    let dir = checkout();
    let d = dir.path();
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    std::fs::copy(
        repo().join("examples/postings.jsonl"),
        d.join("data/inbox/batch-1.jsonl"),
    )
    .unwrap();
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
    std::fs::copy(
        repo().join("examples/postings.jsonl"),
        d.join("data/inbox/batch-2.jsonl"),
    )
    .unwrap();
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
