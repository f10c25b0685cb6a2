//! The console in a real browser: headless Chromium, driven over WebDriver by Debian's
//! chromedriver (`bash scripts/chromium.sh` installs both; CI exports `CHROMIUM`), against
//! the real `xuncha serve` on a loopback port. An analyst logs in, filters the queue, opens
//! a lead and sees its marks, gives a verdict with a note and finds it in the timeline,
//! rechecks the posting now, and opens the stored page, a hostile one, as text: no
//! script of the posting or of its page runs anywhere.
//!
//! Screenshots of each step go to `$TMPDIR/xuncha-browser/`, outside the repository.

mod process;
mod serve;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use process::{checkout, free_port, ok, repo, xuncha};
use serde_json::json;

const ANALYST: (&str, &str) = ("li", "analyst password 1");

/// `$CHROMIUM`, else Debian's; the driver `$CHROMEDRIVER`, else Debian's. Missing ones
/// fail the test: it runs in CI, which installs them.
fn browser_binaries() -> (PathBuf, PathBuf) {
    let pick = |var: &str, default: &str| {
        let p = std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(default));
        assert!(
            p.exists(),
            "no {} at {}: run `bash scripts/chromium.sh` (it installs chromium and chromium-driver), or set {var}",
            default.rsplit('/').next().unwrap_or(default),
            p.display()
        );
        p
    };
    (
        pick("CHROMIUM", "/usr/bin/chromium"),
        pick("CHROMEDRIVER", "/usr/bin/chromedriver"),
    )
}

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver(bin: &Path) -> Driver {
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen in 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Where the screenshots go: outside the repository.
fn shots() -> PathBuf {
    let dir = std::env::temp_dir().join("xuncha-browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

/// Whether any script of a posting or of its page ran in this document: they all set
/// `window.pwned`. Asked through the driver, which runs beside the page's own policy
/// (also in the sandboxed stored page); what it could not ask is shown as its error.
async fn pwned(c: &Client) -> serde_json::Value {
    c.execute("return typeof window.pwned;", vec![])
        .await
        .unwrap_or_else(|e| json!(format!("the driver could not ask: {e}")))
}

/// Types `text` into the first element `css` finds.
async fn type_into(c: &Client, css: &str, text: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    e.send_keys(text).await.unwrap();
}

/// Clicks the first element `css` finds.
async fn click(c: &Client, css: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    e.click().await.unwrap();
}

/// The text of the first element `css` finds once it satisfies `ready` (a form's answer
/// arrives after the click that sent it returns).
/// The text of the page's body as the browser renders it.
async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn wait_for_text(c: &Client, css: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if ready(&t) {
                    return t;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no `{css}` as awaited after 90 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A store with the example postings, one posting of a hostile site (`source`
/// `hostile`) whose page that site serves on a loopback port, and a ring of two postings
/// on two sites that share a phone number written two ways.
fn store() -> tempfile::TempDir {
    let dir = checkout();
    let d = dir.path();
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    let mut postings = std::fs::read_to_string(repo().join("examples/postings.jsonl")).unwrap();
    let site = serve::hostile_site();
    postings.push_str(&format!("{}\n", serve::hostile_posting(site, "site-9")));
    // A ring: one mobile number written two ways on two sites.
    for (id, source, contact) in [
        ("ring-1", "ring-a", "电话 139 1234 5678"),
        ("ring-2", "ring-b", "加薇：一三九一二三四五六七八"),
    ] {
        let p = json!({
            "id": id,
            "source": source,
            "title": "日结兼职",
            "description": format!("入职先交300元押金，{contact}"),
        });
        postings.push_str(&format!("{p}\n"));
    }
    std::fs::write(d.join("data/inbox/batch.jsonl"), postings).unwrap();
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    serve::add_user(d, ANALYST.0, ANALYST.1, "analyst");
    dir
}

#[test]
fn an_analyst_works_a_lead_in_chromium() {
    let (chromium, chromedriver) = browser_binaries();
    let dir = store();
    let console = serve::serve(dir.path(), &[]);
    let base = format!("http://127.0.0.1:{}", console.port);
    let driver = start_driver(&chromedriver);
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1280,1600",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&driver.url)
            .await
            .expect("a WebDriver session in headless Chromium");
        let r = work_a_lead(&c, &base).await;
        shot(&c, "last").await;
        c.close().await.unwrap();
        r
    });
    println!("screenshots in {}", shots().display());
}

async fn work_a_lead(c: &Client, base: &str) {
    // Log in.
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    type_into(c, "input[name=name]", ANALYST.0).await;
    type_into(c, "input[name=password]", ANALYST.1).await;
    click(c, "form button[type=submit]").await;
    wait_for_text(c, "h1", |t| t.contains("Queue")).await;
    let queue = c.find(Locator::Css("table.queue")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/");
    let all = queue
        .find_all(Locator::Css("tbody tr"))
        .await
        .unwrap()
        .len();
    assert!(all >= 2, "{all} leads in the queue");
    shot(c, "1-queue").await;

    // Filter: deposits of the hostile site.
    c.find(Locator::Css("select[name=category]"))
        .await
        .unwrap()
        .select_by_value("fee.deposit")
        .await
        .unwrap();
    type_into(c, "input[name=source]", "hostile").await;
    click(c, "form.filters button[type=submit]").await;
    wait_for_text(c, "b.total", |t| t == "1").await;
    let url = c.current_url().await.unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(
        query.contains(&("category".into(), "fee.deposit".into())),
        "{url}"
    );
    assert!(
        query.contains(&("source".into(), "hostile".into())),
        "{url}"
    );
    let rows = c
        .find_all(Locator::Css("table.queue tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one deposit lead of the hostile site");
    assert!(rows[0].text().await.unwrap().contains("hostile"));
    shot(c, "2-filtered").await;

    // Open it: the posting with its finding marked, nothing of it run.
    click(c, "a.lead").await;
    wait_for_text(c, "h2", |t| t.contains("Posting text")).await;
    let lead_path = c.current_url().await.unwrap().path().to_string();
    assert!(lead_path.starts_with("/leads/"), "{lead_path}");
    let marks = c
        .find_all(Locator::Css("blockquote.posting mark"))
        .await
        .unwrap();
    assert!(!marks.is_empty(), "the posting text shows its marks");
    let mut marked = String::new();
    for m in &marks {
        marked.push_str(&m.text().await.unwrap());
    }
    assert!(marked.contains("押金"), "{marked}");
    let title = c.find(Locator::Css("section.lead dd")).await.unwrap();
    assert!(title
        .text()
        .await
        .unwrap()
        .contains("<script>window.pwned = 3</script>"));
    assert_eq!(
        pwned(c).await,
        json!("undefined"),
        "a script of the posting ran"
    );
    shot(c, "3-lead").await;

    // A verdict with a note, then the timeline.
    let note = "押金属实，已截图 <i>存档</i>";
    type_into(c, "form.act textarea[name=note]", note).await;
    click(c, "button[value=confirmed]").await;
    wait_for_text(c, "dd.verdict", |t| t == "confirmed").await;
    assert_eq!(c.current_url().await.unwrap().path(), lead_path);
    let mut timeline = Vec::new();
    for e in c.find_all(Locator::Css("ol.timeline li")).await.unwrap() {
        timeline.push(e.text().await.unwrap());
    }
    assert!(
        timeline
            .iter()
            .any(|l| l.contains("li verdict confirmed") && l.contains(note)),
        "{timeline:?}"
    );
    shot(c, "4-verdict").await;

    // Recheck now: the page is fetched again and recorded.
    click(c, "form.act button[accesskey=r]").await;
    let outcome = wait_for_text(c, "table.history td.outcome", |_| true).await;
    assert_eq!(outcome, "online");
    shot(c, "5-rechecked").await;

    // The stored page, hostile HTML, opens as text; none of its scripts ran.
    let links = c.find_all(Locator::Css("a.evidence")).await.unwrap();
    let page = links.last().expect("a link to the stored page");
    let href = page.attr("href").await.unwrap().unwrap();
    c.goto(&format!("{base}{href}")).await.unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains("<script>window.pwned = 1; document.title = \"pwned\";</script>"),
        "{text}"
    );
    assert!(text.contains("<img src=x onerror="), "{text}");
    assert!(c.find_all(Locator::Css("img")).await.unwrap().is_empty());
    assert_ne!(c.title().await.unwrap(), "pwned");
    let asked = pwned(c).await;
    println!("window.pwned on the stored page: {asked}");
    assert_eq!(asked, json!("undefined"), "a script of the stored page ran");
    shot(c, "6-evidence").await;
    // The ring's campaign: both postings, the number as each wrote it.
    c.goto(&format!("{base}/campaigns")).await.unwrap();
    wait_for_text(c, "h1", |t| t.contains("Campaigns")).await;
    let mut opened = false;
    for row in c
        .find_all(Locator::Css("table.queue tbody tr"))
        .await
        .unwrap()
    {
        if row.text().await.unwrap().contains("日结兼职") {
            row.find(Locator::Css("a"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            opened = true;
            break;
        }
    }
    assert!(opened, "the ring is listed as a campaign");
    wait_for_text(c, "h2", |t| t.contains("Keys")).await;
    let page = body_text(c).await;
    for written in [
        "139 1234 5678",
        "一三九一二三四五六七八",
        "ring-1",
        "ring-2",
    ] {
        assert!(
            page.contains(written),
            "{written} on the campaign page: {page}"
        );
    }
    shot(c, "7-campaign").await;
}
