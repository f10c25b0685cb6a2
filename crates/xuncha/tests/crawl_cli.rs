//! `xuncha crawl` end to end: a two-posting site on 127.0.0.1, `--once --out`, JSONL in the
//! docs/data-contracts.md format, and the progress summary on stderr.

use std::process::Command;

use axum::response::Html;
use axum::routing::get;
use axum::Router;

const PROFILE: &str = r#"
name = "tiny"
start_urls = ["http://ADDR/list.html"]
allow_hosts = ["127.0.0.1"]
link_selector = "a.job"
rate_per_sec = 0
recrawl_after = "0s"
allow_private_addresses = true
[fields]
id = { css = "div.job", attr = "data-id" }
title = "h1"
company = ".company"
salary = ".salary"
location = ".city"
description = ".desc"
"#;

fn detail(id: u32, title: &str) -> Html<String> {
    Html(format!(
        r#"<html><head><meta charset="utf-8"></head><body><div class="job" data-id="{id}">
        <h1>{title}</h1><p class="company">某某科技有限公司</p><p class="salary">6-8K</p>
        <p class="city">深圳</p><div class="desc"><p>限男性，</p><p>年龄35岁以下。</p></div></div></body></html>"#
    ))
}

/// A homepage that displays nothing of its licences.
const BARE_HOME: &str = "<html><body><h1>招聘</h1><p>联系我们：0755-12345678</p></body></html>";
/// A homepage with the usual footer display.
const LICENSED_HOME: &str = "<html><body><h1>招聘</h1><footer>营业执照：91440300MA5XXXXX0X \
    人力资源服务许可证编号：（粤）人服证字〔2024〕第0300001号 收费标准 监督电话 12333</footer></body></html>";

fn server() -> std::net::SocketAddr {
    server_with_home(BARE_HOME)
}

fn server_with_home(home: &'static str) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new()
                .route("/", get(move || async move { Html(home) }))
                .route(
                    "/list.html",
                    get(|| async {
                        Html(r#"<a class="job" href="/job/1.html">1</a><a class="job" href="/job/2.html#top">2</a>"#)
                    }),
                )
                .route("/job/1.html", get(|| async { detail(1, "文员") }))
                .route("/job/2.html", get(|| async { detail(2, "仓管") }));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// A checkout-like folder with `sites/tiny.toml` pointed at `addr`.
fn tiny_site(addr: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sites = dir.path().join("sites");
    std::fs::create_dir(&sites).unwrap();
    std::fs::write(sites.join("tiny.toml"), PROFILE.replace("ADDR", addr)).unwrap();
    dir
}

/// `xuncha` run in `dir` with the repository's rules.
fn xuncha(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xuncha"));
    c.current_dir(dir).env(
        "XUNCHA_RULES",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules"),
    );
    c
}

#[test]
fn crawl_once_writes_postings_as_jsonl() {
    let addr = server();
    let dir = tiny_site(&addr.to_string());
    let out = dir.path().join("postings.jsonl");
    let run = || {
        xuncha(dir.path())
            .args([
                "crawl",
                "--once",
                "--sites-dir",
                "sites",
                "--out",
                "postings.jsonl",
            ])
            .output()
            .unwrap()
    };

    let output = run();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("site tiny: 3 pages, 2 postings emitted"),
        "{stderr}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let mut ids: Vec<&str> = lines.iter().map(|p| p["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["tiny-1", "tiny-2"]);
    for p in &lines {
        assert_eq!(p["schema"], "xuncha.posting/1");
        assert_eq!(p["source"], "tiny");
        assert_eq!(p["description"], "限男性， 年龄35岁以下。");
        let sha = p["content_sha256"].as_str().unwrap();
        assert_eq!(p["evidence"], format!("sha256:{sha}"));
        assert!(dir
            .path()
            .join("data/evidence")
            .join(&sha[..2])
            .join(sha)
            .exists());
    }
    assert!(dir.path().join("data/crawl.db").exists());

    // Nothing changed: a second crawl writes nothing.
    let output = run();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("0 postings emitted, 2 unchanged"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "");
}

#[test]
fn an_unknown_site_is_named() {
    let dir = tiny_site("127.0.0.1:9");
    let output = xuncha(dir.path())
        .args(["crawl", "--once", "--sites-dir", "sites", "--site", "nope"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"no site "nope" in sites (sites: tiny)"#),
        "{stderr}"
    );
}

#[test]
fn a_homepage_without_licence_display_raises_license_undisplayed() {
    let dir = tempfile::tempdir().unwrap();
    let sites = dir.path().join("sites");
    std::fs::create_dir(&sites).unwrap();
    for (name, home) in [("bare", BARE_HOME), ("shown", LICENSED_HOME)] {
        let addr = server_with_home(home);
        std::fs::write(
            sites.join(format!("{name}.toml")),
            PROFILE
                .replace("\"tiny\"", &format!("\"{name}\""))
                .replace("ADDR", &addr.to_string()),
        )
        .unwrap();
    }
    let crawl = xuncha(dir.path())
        .args(["crawl", "--once", "--sites-dir", "sites"])
        .args(["--out", "postings.jsonl", "--operators", "operators.jsonl"])
        .output()
        .unwrap();
    assert!(
        crawl.status.success(),
        "{}",
        String::from_utf8_lossy(&crawl.stderr)
    );
    let scan = xuncha(dir.path())
        .args(["scan", "operators.jsonl", "--format", "jsonl"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&scan.stderr);
    assert!(scan.status.success(), "{stderr}");
    assert!(
        stderr.contains("scanned 2 postings, 1 leads, 0 bad"),
        "{stderr}"
    );
    let lead: serde_json::Value =
        serde_json::from_slice(scan.stdout.trim_ascii()).expect("one lead");
    assert_eq!(lead["category"], "license.undisplayed");
    assert_eq!(lead["severity"], "illegal");
    assert_eq!(lead["posting"]["id"], "operator:bare");
    assert_eq!(lead["licence"]["outcome"], "undisplayed");
    assert_eq!(lead["penalty"]["article"], "第四十四条");
    // The homepage's bytes are in the evidence store under the hash the lead cites.
    let sha = lead["posting"]["content_sha256"].as_str().unwrap();
    let evidence = dir.path().join("data/evidence").join(&sha[..2]).join(sha);
    let bytes = std::fs::read(&evidence).expect("homepage evidence stored");
    assert!(String::from_utf8_lossy(&bytes).contains("联系我们"));
    assert!(lead["findings"][0]["context"]
        .as_str()
        .unwrap()
        .contains("未见营业执照"));
}

#[test]
fn scan_url_fetches_one_posting_through_the_crawler_and_scans_it() {
    let addr = server();
    let dir = tiny_site(&addr.to_string());
    let scan = |url: &str, sites_dir: &str| {
        xuncha(dir.path())
            .args(["scan", "--url", url, "--sites-dir", sites_dir])
            .args(["--format", "jsonl"])
            .output()
            .unwrap()
    };
    let url = format!("http://{addr}/job/1.html");
    let out = scan(&url, "sites");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let leads: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let gender = leads
        .iter()
        .find(|l| l["category"] == "discrimination.gender")
        .unwrap_or_else(|| panic!("{leads:?}\n{stderr}"));
    assert_eq!(gender["posting"]["id"], "tiny-1");
    assert_eq!(gender["posting"]["url"], url.as_str());
    assert_eq!(gender["findings"][0]["field"], "description");
    let sha = gender["posting"]["content_sha256"].as_str().unwrap();
    let kept = dir.path().join("data/evidence").join(&sha[..2]).join(sha);
    assert!(kept.exists(), "the fetched page is kept as evidence");

    // No profile allows the host: loopback is refused, and the scan says so by URL and
    // fails, since what it was asked to scan was not scanned.
    let out = scan(&url, "no-such-dir");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!("{url}: skipped: ")) && stderr.contains("1 bad lines"),
        "{stderr}"
    );
}
