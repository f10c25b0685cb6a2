//! Rechecks of posting pages against the fixture job board, over real HTTP on 127.0.0.1:
//! online, corrected, taken down, broken.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{Fixture, PageState, FIRST_ID};
use tempfile::TempDir;
use xuncha_core::sha256_hex;
use xuncha_crawler::{
    CrawlerConfig, GenericSite, RecheckOutcome, RecheckTarget, Rechecker, SiteProfile,
};

/// The shipped job-board profile pointed at the fixture: loopback allowed, no delay.
fn jobboard(addr: SocketAddr) -> SiteProfile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sites/jobboard.toml");
    let mut p = SiteProfile::load(&path).unwrap();
    p.start_urls = vec![format!("http://{addr}/jobs/?city=440300&page=1")];
    p.allow_hosts = vec!["127.0.0.1".into()];
    p.homepage = None;
    p.about_urls = vec![];
    p.allow_private_addresses = true;
    p.rate_per_sec = 0.0;
    p.validate().unwrap();
    p
}

fn config(dir: &TempDir) -> CrawlerConfig {
    CrawlerConfig {
        concurrency: 4,
        connect_timeout: Duration::from_secs(1),
        response_timeout: Duration::from_secs(3),
        max_retries: 1,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        state_path: dir.path().join("crawl.db"),
        evidence_dir: dir.path().join("evidence"),
        ..CrawlerConfig::default()
    }
}

async fn setup() -> (Arc<Fixture>, SocketAddr, TempDir, Rechecker) {
    let fx = Fixture::new(6, 5);
    let addr = common::serve(fx.clone(), 0).await;
    let dir = tempfile::tempdir().unwrap();
    let rechecker = Rechecker::builder(config(&dir))
        .sites(vec![jobboard(addr)])
        .build()
        .unwrap();
    (fx, addr, dir, rechecker)
}

/// The posting 1001 as its lead sees it: "限男性" and the age limit flagged.
fn target(addr: SocketAddr, id: u32) -> RecheckTarget {
    RecheckTarget {
        url: format!("http://{addr}/job/{id}.html"),
        posting_id: Some(format!("jobboard-{id}")),
        content_sha256: Some(sha256_hex(common::detail_page(id, 0).as_bytes())),
        flagged: vec!["限男性".into(), "年龄18-35岁".into()],
    }
}

#[tokio::test]
async fn an_online_posting_keeps_its_flagged_text_and_its_bytes_as_evidence() {
    let (_fx, addr, _dir, rechecker) = setup().await;
    let r = rechecker.check(&target(addr, FIRST_ID)).await;
    assert_eq!(r.outcome, RecheckOutcome::Online, "{r:?}");
    assert_eq!(r.http_status, Some(200));
    assert_eq!(r.flagged_present, Some(true));
    assert_eq!(r.flagged_found, ["限男性", "年龄18-35岁"]);
    assert_eq!(r.site.as_deref(), Some("jobboard"));
    let sha = r.content_sha256.clone().unwrap();
    assert_eq!(sha, sha256_hex(common::detail_page(FIRST_ID, 0).as_bytes()));
    assert_eq!(r.evidence, Some(format!("sha256:{sha}")));
    let kept = std::fs::read(rechecker.evidence().body_path(&sha)).unwrap();
    assert_eq!(
        sha256_hex(&kept),
        sha,
        "the evidence file hashes to the recorded hash"
    );
    let capture: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rechecker.evidence().capture_path(&sha)).unwrap())
            .unwrap();
    assert_eq!(capture["url"], r.url);
    assert_eq!(capture["status"], 200);
}

#[tokio::test]
async fn an_edited_posting_that_still_says_it_is_online() {
    let (fx, addr, _dir, rechecker) = setup().await;
    fx.edit(FIRST_ID);
    let r = rechecker.check(&target(addr, FIRST_ID)).await;
    assert_eq!(r.outcome, RecheckOutcome::Online, "{r:?}");
    assert_ne!(
        r.content_sha256,
        target(addr, FIRST_ID).content_sha256,
        "the bytes changed, the flagged text did not"
    );
}

#[tokio::test]
async fn a_corrected_posting_is_changed_without_its_flagged_text() {
    let (fx, addr, _dir, rechecker) = setup().await;
    fx.set_state(FIRST_ID, PageState::Corrected);
    let r = rechecker.check(&target(addr, FIRST_ID)).await;
    assert_eq!(r.outcome, RecheckOutcome::Changed, "{r:?}");
    assert_eq!(r.flagged_present, Some(false));
    assert!(r.flagged_found.is_empty());
    let sha = r.content_sha256.unwrap();
    let kept = std::fs::read(rechecker.evidence().body_path(&sha)).unwrap();
    assert!(String::from_utf8(kept).unwrap().contains("男女不限"));
}

#[tokio::test]
async fn removed_deleted_and_redirected_postings_are_gone() {
    let (fx, addr, _dir, rechecker) = setup().await;
    fx.set_state(FIRST_ID, PageState::Removed);
    fx.set_state(FIRST_ID + 1, PageState::Deleted);
    fx.set_state(FIRST_ID + 2, PageState::ToHome);
    let r = rechecker.check(&target(addr, FIRST_ID)).await;
    assert_eq!(
        (r.outcome, r.http_status),
        (RecheckOutcome::Gone, Some(404)),
        "{r:?}"
    );
    assert_eq!(r.flagged_present, None);
    let r = rechecker.check(&target(addr, FIRST_ID + 1)).await;
    assert_eq!(
        (r.outcome, r.http_status),
        (RecheckOutcome::Gone, Some(410)),
        "{r:?}"
    );
    let r = rechecker.check(&target(addr, FIRST_ID + 2)).await;
    assert_eq!(r.outcome, RecheckOutcome::Gone, "{r:?}");
    assert_eq!(r.final_url, Some(format!("http://{addr}/")));
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .contains("no longer shows the posting"),
        "{r:?}"
    );
    assert!(r.evidence.is_some(), "the page it redirected to is kept");
}

#[tokio::test]
async fn a_server_error_is_an_error_never_gone() {
    let (fx, addr, _dir, rechecker) = setup().await;
    fx.set_state(FIRST_ID, PageState::Failing);
    let r = rechecker.check(&target(addr, FIRST_ID)).await;
    assert_eq!(r.outcome, RecheckOutcome::Error, "{r:?}");
    assert_eq!(r.http_status, Some(500));
    assert!(
        r.error.as_deref().unwrap().contains("/job/1001.html"),
        "{r:?}"
    );
    assert_eq!(
        fx.hits("/job/1001.html"),
        2,
        "retried once (max_retries = 1) before giving up"
    );

    // Nothing listening: a network error, not gone.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut t = target(addr, FIRST_ID);
    t.url = format!("http://127.0.0.1:{port}/job/1001.html");
    let r = rechecker.check(&t).await;
    assert_eq!(
        (r.outcome, r.http_status),
        (RecheckOutcome::Error, None),
        "{r:?}"
    );
}

#[tokio::test]
async fn another_posting_at_the_url_means_this_one_is_gone() {
    let (_fx, addr, _dir, rechecker) = setup().await;
    let mut t = target(addr, FIRST_ID);
    t.url = format!("http://{addr}/job/{}.html", FIRST_ID + 1);
    let r = rechecker.check(&t).await;
    assert_eq!(r.outcome, RecheckOutcome::Gone, "{r:?}");
    assert!(r.error.unwrap().contains("jobboard-1002"));
}

#[tokio::test]
async fn a_url_shared_by_several_leads_is_fetched_once() {
    let (fx, addr, _dir, rechecker) = setup().await;
    let mut age = target(addr, FIRST_ID);
    age.flagged = vec!["年龄18-35岁".into()];
    let mut fee = target(addr, FIRST_ID);
    // Tracking parameters do not make another page.
    fee.url.push_str("?spm=list.1");
    fee.flagged = vec!["押金".into()];
    let got = rechecker.check_all(&[age, fee]).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].outcome, RecheckOutcome::Online);
    assert_eq!(got[1].outcome, RecheckOutcome::Changed, "{:?}", got[1]);
    assert_eq!(
        got[1].url,
        format!("http://{addr}/job/1001.html?spm=list.1")
    );
    assert_eq!(fx.hits_under("/job/"), 1);
}

#[tokio::test]
async fn a_host_without_a_profile_is_read_as_a_whole_page() {
    let fx = Fixture::new(6, 5);
    let addr = common::serve(fx.clone(), 0).await;
    let dir = tempfile::tempdir().unwrap();
    let build = |allow_private_addresses| {
        Rechecker::builder(config(&dir))
            .generic(GenericSite {
                rate_per_sec: 0.0,
                allow_private_addresses,
            })
            .build()
            .unwrap()
    };
    let t = target(addr, FIRST_ID);
    // The SSRF guard refuses loopback unless told otherwise.
    let r = build(false).check(&t).await;
    assert_eq!(r.outcome, RecheckOutcome::Error, "{r:?}");
    assert!(r.error.unwrap().contains("loopback"));
    assert_eq!(fx.total_hits(), 0, "not even robots.txt is asked for");

    let rechecker = build(true);
    let r = rechecker.check(&t).await;
    assert_eq!(
        (r.outcome, r.site.clone()),
        (RecheckOutcome::Online, None),
        "{r:?}"
    );
    fx.set_state(FIRST_ID, PageState::ToHome);
    let r = rechecker.check(&t).await;
    assert_eq!(r.outcome, RecheckOutcome::Gone, "{r:?}");
    assert!(r.error.unwrap().contains("to the home page"));
}
