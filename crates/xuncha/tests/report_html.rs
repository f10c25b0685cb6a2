//! `xuncha scan -o report.html`: the HTML report holds every lead of the JSONL output with
//! its evidence marked, shows hostile postings as text, and renders in headless Chromium
//! (Debian's `chromium`; `bash scripts/chromium.sh` installs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use scraper::{Html, Selector};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn xuncha(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(args)
        .current_dir(repo())
        .env_remove("XUNCHA_RULES")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xuncha {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The leads of `input` as JSONL, and the HTML report of the same scan written to `dir`
/// (the format chosen by the `.html` name alone).
fn scan(input: &Path, dir: &Path) -> (Vec<Value>, PathBuf) {
    let input = input.to_str().unwrap();
    let jsonl = xuncha(&["scan", input, "--format", "jsonl"]);
    let leads: Vec<Value> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let report = dir.join("report.html");
    let out = xuncha(&["scan", input, "-o", report.to_str().unwrap()]);
    assert!(out.stdout.is_empty(), "-o still wrote to stdout");
    (leads, report)
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn findings(leads: &[Value]) -> usize {
    leads
        .iter()
        .map(|l| l["findings"].as_array().unwrap().len())
        .sum()
}

fn severity_rank(s: &str) -> usize {
    ["illegal", "locally_illegal", "indicator", "disfavoured"]
        .iter()
        .position(|x| *x == s)
        .unwrap_or_else(|| panic!("unknown severity {s}"))
}

/// Every lead has its section with its evidence marked and its provenance; the marks are
/// exactly the findings.
fn assert_report_holds(doc: &Html, leads: &[Value]) {
    let marks = doc.select(&sel("mark")).count();
    assert_eq!(marks, findings(leads), "one <mark> per finding");
    for l in leads {
        let id = l["lead_id"].as_str().unwrap();
        let section = doc
            .select(&sel(&format!("section.lead#lead-{id}")))
            .next()
            .unwrap_or_else(|| panic!("no section for lead {id}"));
        let marked: Vec<(String, String)> = section
            .select(&sel("mark"))
            .map(|m| {
                let rule = m.value().attr("data-rule").unwrap_or_default().to_string();
                (rule, m.text().collect())
            })
            .collect();
        let want: Vec<(String, String)> = l["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap().to_string();
                (s("rule_id"), s("matched"))
            })
            .collect();
        assert_eq!(marked, want, "marks of lead {id}");
        let text: String = section.text().collect();
        let p = &l["posting"];
        // (`detected_at` is left out: the two scans ran at different times.)
        for field in [&p["content_sha256"], &p["fetched_at"], &p["id"]] {
            if let Some(field) = field.as_str() {
                assert!(text.contains(field), "lead {id} lacks {field}");
            }
        }
        if let Some(summary) = l["licence"]["summary"].as_str() {
            assert!(
                text.contains(summary),
                "lead {id} lacks its registry lookup"
            );
        }
        for b in l["legal_basis"].as_array().unwrap() {
            let article = b["article"].as_str().unwrap();
            assert!(text.contains(article), "lead {id} lacks {article}");
        }
        if let Some(url) = p["url"].as_str().filter(|u| u.starts_with("http")) {
            let href = sel(&format!("a[href=\"{url}\"]"));
            assert!(section.select(&href).next().is_some(), "lead {id}: no link");
        }
    }
}

#[test]
fn report_holds_every_lead_with_its_evidence_marked() {
    let dir = tempfile::tempdir().unwrap();
    let (leads, report) = scan(Path::new("examples/postings.jsonl"), dir.path());
    assert!(leads.len() > 5, "the examples raise leads");
    let doc = Html::parse_document(&std::fs::read_to_string(&report).unwrap());
    assert_report_holds(&doc, &leads);

    // Most serious first.
    let order: Vec<usize> = doc
        .select(&sel("section.lead .badge"))
        .map(|b| {
            let class = b.value().classes().find(|c| *c != "badge").unwrap();
            severity_rank(class)
        })
        .collect();
    assert_eq!(order.len(), leads.len());
    assert!(order.is_sorted(), "sections not by severity: {order:?}");

    // The summary counts every lead, and the chart draws a bar for each category.
    let total = doc.select(&sel("table.counts tfoot td b")).next().unwrap();
    assert_eq!(total.text().collect::<String>(), leads.len().to_string());
    let mut categories: Vec<&str> = leads
        .iter()
        .map(|l| l["category"].as_str().unwrap())
        .collect();
    categories.sort();
    categories.dedup();
    let bar_titles: Vec<String> = doc
        .select(&sel("svg.chart rect title"))
        .map(|t| t.text().collect())
        .collect();
    for c in &categories {
        assert!(
            bar_titles.iter().any(|t| t.starts_with(&format!("{c} "))),
            "no bar for {c} in {bar_titles:?}"
        );
    }
    let header: String = doc.select(&sel("header")).next().unwrap().text().collect();
    assert!(header.contains("examples/postings.jsonl"), "{header}");
}

#[test]
fn hostile_posting_is_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.jsonl");
    let posting = serde_json::json!({
        "id": "evil-1",
        "url": "javascript:alert(2)",
        "title": "仓管<img src=x onerror=alert(3)>",
        "description": "招聘仓管，限男性<script>alert(1)</script>，月薪5000。",
    });
    std::fs::write(&input, format!("{posting}\n")).unwrap();
    let (leads, report) = scan(&input, dir.path());
    assert!(!leads.is_empty(), "限男性 raises a lead");
    let doc = Html::parse_document(&std::fs::read_to_string(&report).unwrap());
    assert_report_holds(&doc, &leads);
    assert_eq!(doc.select(&sel("script")).count(), 0, "a script element");
    assert_eq!(doc.select(&sel("img")).count(), 0, "an img element");
    assert_eq!(doc.select(&sel("a[href^=javascript]")).count(), 0);
    let text: String = doc.root_element().text().collect();
    for shown in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(3)>",
        "javascript:alert(2)",
    ] {
        assert!(text.contains(shown), "{shown} not shown as text");
    }
}

/// Headless Chromium: `$CHROMIUM`, else Debian's `/usr/bin/chromium`.
fn chromium() -> PathBuf {
    let bin = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        bin.exists(),
        "no Chromium at {}: run `bash scripts/chromium.sh` (or set CHROMIUM)",
        bin.display()
    );
    bin
}

/// Runs Chromium headless on `page` with a fresh profile and `args`; its stdout.
fn run_chromium(page: &Path, args: &[String]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    // Output goes to files, not pipes: a DOM dump fills a pipe nobody reads while we wait.
    let (stdout, stderr) = (tmp.path().join("stdout"), tmp.path().join("stderr"));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("starting chromium");
    // A browser that hangs must not hang the suite.
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium {args:?} still running after 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "chromium {args:?}: {status}: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    std::fs::read_to_string(&stdout).unwrap()
}

#[test]
fn chromium_renders_the_marks_and_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let (leads, report) = scan(Path::new("examples/postings.jsonl"), dir.path());

    let dom = Html::parse_document(&run_chromium(&report, &["--dump-dom".into()]));
    assert_eq!(dom.select(&sel("mark")).count(), findings(&leads));
    assert_eq!(dom.select(&sel("section.lead")).count(), leads.len());
    let svg = dom.select(&sel("svg.chart")).next().expect("no chart");
    assert!(svg.select(&sel("rect")).count() >= 4, "chart has no bars");

    // The picture is for a person to look at; it stays out of the repository.
    let shots = std::env::var_os("XUNCHA_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("xuncha-report.png");
    let _ = std::fs::remove_file(&png);
    run_chromium(
        &report,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2400".into(),
        ],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    println!("screenshot: {}", png.display());
}
