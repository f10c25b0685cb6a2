//! `xuncha crawl` end to end: a two-posting site on 127.0.0.1, `--once --out`, JSONL in the
//! DESIGN.md §3 format, and the progress summary on stderr.

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

fn server() -> std::net::SocketAddr {
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

#[test]
fn crawl_once_writes_postings_as_jsonl() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let sites = dir.path().join("sites");
    std::fs::create_dir(&sites).unwrap();
    std::fs::write(
        sites.join("tiny.toml"),
        PROFILE.replace("ADDR", &addr.to_string()),
    )
    .unwrap();
    let out = dir.path().join("postings.jsonl");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_xuncha"))
            .current_dir(dir.path())
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
    let dir = tempfile::tempdir().unwrap();
    let sites = dir.path().join("sites");
    std::fs::create_dir(&sites).unwrap();
    std::fs::write(
        sites.join("tiny.toml"),
        PROFILE.replace("ADDR", "127.0.0.1:9"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .current_dir(dir.path())
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
