//! The crawler against the fixture site, over real HTTP on 127.0.0.1.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Fixture, FIRST_ID};
use prometheus::Registry;
use tempfile::TempDir;
use tokio::sync::mpsc;
use xuncha_core::{sha256_hex, Posting};
use xuncha_crawler::{Capture, CrawlStats, Crawler, CrawlerConfig, OperatorRecord, SiteProfile};

const JOBS: u32 = 12;
const PER_PAGE: u32 = 5;

fn shipped_profile(file: &str) -> SiteProfile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/sites")
        .join(file);
    SiteProfile::load(&path).unwrap()
}

/// The shipped job-board profile, pointed at the fixture server: loopback allowed, no
/// politeness delay, every posting due for a re-fetch.
fn jobboard(addr: SocketAddr) -> SiteProfile {
    let mut p = shipped_profile("jobboard.toml");
    p.start_urls = vec![format!("http://{addr}/jobs/?city=440300&page=1")];
    p.allow_hosts = vec!["127.0.0.1".into()];
    p.homepage = Some(format!("http://{addr}/"));
    p.about_urls = vec![format!("http://{addr}/about/licence.html")];
    p.allow_private_addresses = true;
    p.rate_per_sec = 0.0;
    p.recrawl_after = Duration::ZERO;
    p.validate().unwrap();
    p
}

/// The job-board profile starting at another list page of the server.
fn special(addr: SocketAddr, name: &str, path: &str) -> SiteProfile {
    let mut p = jobboard(addr);
    p.name = name.into();
    p.start_urls = vec![format!("http://{addr}{path}")];
    p.validate().unwrap();
    p
}

fn config(dir: &TempDir) -> CrawlerConfig {
    CrawlerConfig {
        concurrency: 8,
        connect_timeout: Duration::from_secs(1),
        response_timeout: Duration::from_secs(2),
        max_retries: 2,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_secs(3),
        max_redirects: 5,
        max_body_bytes: 256 * 1024,
        state_path: dir.path().join("crawl.db"),
        evidence_dir: dir.path().join("evidence"),
        ..CrawlerConfig::default()
    }
}

async fn site(jobs: u32) -> (Arc<Fixture>, SocketAddr) {
    let fx = Fixture::new(jobs, PER_PAGE);
    let addr = common::serve(fx.clone(), 0).await;
    (fx, addr)
}

/// Runs one pass and collects what it sent.
async fn crawl(crawler: &Crawler) -> (Vec<Posting>, CrawlStats) {
    let (tx, mut rx) = mpsc::channel(64);
    let collect = tokio::spawn(async move {
        let mut out = Vec::new();
        while let Some(p) = rx.recv().await {
            out.push(p);
        }
        out
    });
    let stats = crawler.run(tx, true).await.unwrap();
    let mut postings = collect.await.unwrap();
    postings.sort_by(|a, b| a.id.cmp(&b.id));
    (postings, stats)
}

fn ids(postings: &[Posting]) -> Vec<String> {
    postings.iter().map(|p| p.id.clone()).collect()
}

fn errors(stats: &CrawlStats) -> Vec<String> {
    stats.errors.iter().map(|e| e.error.clone()).collect()
}

/// The value of counter `name` with every label in `labels`, summed over the rest.
fn metric(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> f64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| {
            labels.iter().all(|(k, v)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == *k && l.value() == *v)
            })
        })
        .map(|m| {
            if m.get_histogram().get_sample_count() > 0 {
                m.get_histogram().get_sample_count() as f64
            } else {
                m.get_counter().get_value()
            }
        })
        .sum()
}

#[tokio::test]
async fn extracts_every_posting_with_its_fields() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let crawler = Crawler::new(config(&dir), vec![jobboard(addr)]).unwrap();
    let (postings, stats) = crawl(&crawler).await;

    assert!(stats.errors.is_empty(), "{:?}", errors(&stats));
    let want: Vec<String> = (FIRST_ID..FIRST_ID + JOBS)
        .map(|id| format!("jobboard-{id}"))
        .collect();
    assert_eq!(ids(&postings), want);

    let p = &postings[0];
    assert_eq!(p.source.as_deref(), Some("jobboard"));
    assert_eq!(
        p.url.as_deref(),
        Some(format!("http://{addr}/job/1001.html").as_str())
    );
    assert_eq!(p.title.as_deref(), Some("普工（长白班）"));
    assert_eq!(p.company.as_deref(), Some("深圳市华强电子科技有限公司"));
    assert_eq!(p.salary.as_deref(), Some("5000-8000元/月"));
    assert_eq!(
        p.location.as_deref(),
        Some("深圳市宝安区福永街道福海工业区A栋")
    );
    assert_eq!(
        p.description.as_deref(),
        Some(
            "岗位职责： 1. 负责普工（长白班）相关工作，服从主管安排； 2. 做好交接班记录。 \
             任职要求： 1. 年龄18-35岁，限男性； 2. 能适应两班倒； 福利待遇：五险一金、包住、节日福利。"
        )
    );
    assert_eq!(p.contact.as_deref(), Some("联系方式：王先生 138****5678"));
    let publisher = p.publisher.as_ref().unwrap();
    assert_eq!(publisher.name.as_deref(), Some("张女士 · 招聘经理"));
    assert_eq!(publisher.licence_no, None);
    time::OffsetDateTime::parse(
        p.fetched_at.as_deref().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    // The agency's posting shows its permit number.
    let agency = postings.iter().find(|p| p.id == "jobboard-1003").unwrap();
    assert_eq!(
        agency.publisher.as_ref().unwrap().licence_no.as_deref(),
        Some("人力资源服务许可证：440306210045")
    );

    // Each list page and each posting page fetched once (the duplicate link, with its
    // tracking parameter, is the same canonical URL); the off-site link never followed.
    for page in 1..=3 {
        assert_eq!(fx.hits(&format!("/jobs/?city=440300&page={page}")), 1);
    }
    for id in FIRST_ID..FIRST_ID + JOBS {
        assert_eq!(fx.hits_under(&format!("/job/{id}.html")), 1, "{id}");
    }
    assert_eq!(
        stats.hosts.keys().collect::<Vec<_>>(),
        vec![&addr.to_string()]
    );
    let s = &stats.sites["jobboard"];
    assert_eq!((s.pages, s.emitted, s.unchanged), (3 + 12, 12, 0));
}

#[tokio::test]
async fn robots_disallow_is_honoured() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let registry = Registry::new();
    let crawler = Crawler::builder(config(&dir))
        .sites(vec![jobboard(addr)])
        .metrics(&registry)
        .build()
        .unwrap();
    let (postings, stats) = crawl(&crawler).await;
    assert_eq!(postings.len(), JOBS as usize);
    assert_eq!(fx.hits_under("/private/"), 0);
    assert_eq!(fx.hits("/robots.txt"), 1);
    assert_eq!(stats.sites["jobboard"].robots_refused, 1);
    assert_eq!(
        metric(&registry, "xuncha_crawler_robots_refusals_total", &[]),
        1.0
    );
}

#[tokio::test]
async fn gbk_pages_are_decoded_by_header_meta_or_detection() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let mut p = shipped_profile("fenlei-gbk.toml");
    p.start_urls = vec![format!("http://{addr}/gbk/list_1.html")];
    p.allow_hosts = vec!["127.0.0.1".into()];
    p.allow_private_addresses = true;
    p.rate_per_sec = 0.0;
    let crawler = Crawler::new(config(&dir), vec![p]).unwrap();
    let (postings, stats) = crawl(&crawler).await;
    assert!(stats.errors.is_empty(), "{:?}", errors(&stats));
    let mut titles: Vec<_> = postings.iter().map(|p| p.title.clone().unwrap()).collect();
    titles.sort();
    assert_eq!(
        titles,
        vec!["急招保安", "招聘仓管", "招聘普工包吃住", "招聘服务员"]
    );
    for p in &postings {
        assert!(
            p.id.starts_with("fenlei-") && p.id.len() == "fenlei-".len() + 16,
            "{}",
            p.id
        );
        assert_eq!(p.location.as_deref(), Some("东莞市长安镇"));
        assert!(
            p.description.as_deref().unwrap().contains("包吃包住"),
            "{p:?}"
        );
        assert!(p.company.as_deref().unwrap().starts_with("东莞市"), "{p:?}");
    }
}

#[tokio::test]
async fn retries_429_after_retry_after_and_500_then_200() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let registry = Registry::new();
    let crawler = Crawler::builder(config(&dir))
        .sites(vec![special(addr, "flaky", "/flaky/list.html")])
        .metrics(&registry)
        .build()
        .unwrap();
    let started = Instant::now();
    let (postings, stats) = crawl(&crawler).await;
    assert!(stats.errors.is_empty(), "{:?}", errors(&stats));
    assert_eq!(postings.len(), 2);
    assert_eq!(fx.hits("/flaky/429.html"), 2);
    assert_eq!(fx.hits("/flaky/500.html"), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not waited out"
    );
    let host = addr.to_string();
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_retries_total",
            &[("host", &host)]
        ),
        2.0
    );
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_fetches_total",
            &[("class", "4xx")]
        ),
        1.0
    );
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_fetches_total",
            &[("class", "5xx")]
        ),
        1.0
    );
}

#[tokio::test]
async fn hanging_responses_time_out() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let cfg = CrawlerConfig {
        response_timeout: Duration::from_millis(300),
        max_retries: 1,
        ..config(&dir)
    };
    let crawler = Crawler::new(cfg, vec![special(addr, "hang", "/hang/list.html")]).unwrap();
    let started = Instant::now();
    let (postings, stats) = crawl(&crawler).await;
    assert!(postings.is_empty());
    let errs = errors(&stats);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e.ends_with("timed out")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains("/hang/headers.html")));
    assert!(errs.iter().any(|e| e.contains("/hang/body.html")));
    // Timeouts are retried: two attempts each.
    assert_eq!(fx.hits("/hang/headers.html"), 2);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn oversized_body_and_gzip_bomb_are_cut_at_the_limit_and_their_start_kept() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let registry = Registry::new();
    let crawler = Crawler::builder(config(&dir))
        .sites(vec![special(addr, "big", "/big/list.html")])
        .metrics(&registry)
        .build()
        .unwrap();
    let started = Instant::now();
    let (postings, stats) = crawl(&crawler).await;
    // Padding a page does not hide it: each is read up to the limit, marked truncated,
    // and whatever of a posting it holds is sent or reported by URL.
    let errs = errors(&stats);
    let padded = postings
        .iter()
        .find(|p| {
            p.url
                .as_deref()
                .is_some_and(|u| u.ends_with("/big/padded.html"))
        })
        .expect("the padded posting is sent");
    assert_eq!(padded.title.as_deref(), Some("普工（长白班）"));
    for page in ["/big/endless.html", "/big/bomb.html", "/big/padded.html"] {
        let sent = postings
            .iter()
            .find(|p| p.url.as_deref().is_some_and(|u| u.ends_with(page)));
        match sent {
            Some(p) => {
                assert_eq!(p.extra["truncated"], true, "{page}");
                let sha = p.content_sha256.as_deref().unwrap();
                let kept = std::fs::read(crawler.evidence().body_path(sha)).unwrap();
                assert_eq!(
                    kept.len(),
                    262_144,
                    "{page}: the first part is the evidence"
                );
                let capture: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(crawler.evidence().capture_path(sha)).unwrap(),
                )
                .unwrap();
                assert_eq!(capture["truncated"], true, "{capture}");
            }
            None => assert!(
                errs.iter()
                    .any(|e| e.contains(page) && e.contains("selectors")),
                "{page}: neither sent nor reported: {errs:?}"
            ),
        }
    }
    // Reading stopped near the limit: the endless body would be 1 GiB.
    let received = metric(&registry, "xuncha_crawler_bytes_total", &[]);
    assert!(received < 1_000_000.0, "{received} bytes read");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn brotli_bodies_are_decoded_and_a_brotli_bomb_is_cut() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let crawler = Crawler::new(config(&dir), vec![special(addr, "br", "/br/list.html")]).unwrap();
    let (postings, stats) = crawl(&crawler).await;
    let errs = errors(&stats);
    assert_eq!(errs.len(), 1, "{errs:?}");
    // The bomb is read up to the limit: its start holds no posting, and it is reported.
    assert!(
        errs[0].contains("/br/bomb.html") && errs[0].contains("selectors matched"),
        "{errs:?}"
    );
    assert_eq!(ids(&postings), vec!["br-1001"]);
    assert_eq!(postings[0].title.as_deref(), Some("普工（长白班）"));
    // The evidence is the decoded page, so its hash does not depend on the compression.
    let sha = postings[0].content_sha256.as_deref().unwrap();
    let page = std::fs::read(crawler.evidence().body_path(sha)).unwrap();
    assert_eq!(page, common::detail_page(FIRST_ID, 0).into_bytes());
}

#[tokio::test]
async fn redirect_loops_and_long_chains_stop() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let crawler = Crawler::new(
        config(&dir),
        vec![special(addr, "redirects", "/redirect/list.html")],
    )
    .unwrap();
    let (postings, stats) = crawl(&crawler).await;
    let errs = errors(&stats);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e.contains("loop-a.html: redirect: redirect loop back to")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("chain/9: redirect: more than 5 redirects")),
        "{errs:?}"
    );
    // Three redirects are within the limit; the posting records where it ended up.
    assert_eq!(postings.len(), 1);
    let p = &postings[0];
    assert!(p.url.as_deref().unwrap().ends_with("/redirect/chain/3"));
    assert_eq!(
        p.extra["final_url"].as_str(),
        Some(format!("http://{addr}/redirect/chain/0").as_str())
    );
}

#[tokio::test]
async fn non_html_is_skipped_unread() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let registry = Registry::new();
    let crawler = Crawler::builder(config(&dir))
        .sites(vec![special(addr, "misc", "/misc/list.html")])
        .metrics(&registry)
        .build()
        .unwrap();
    let (postings, stats) = crawl(&crawler).await;
    assert!(stats.errors.is_empty(), "{:?}", errors(&stats));
    assert_eq!(stats.sites["misc"].not_html, 1);
    assert_eq!(ids(&postings), vec!["misc-1004"]);
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_skipped_total",
            &[("reason", "not_html")]
        ),
        1.0
    );
}

#[tokio::test]
async fn unchanged_pages_are_not_re_emitted_and_changed_ones_are() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let registry = Registry::new();
    let crawler = Crawler::builder(config(&dir))
        .sites(vec![jobboard(addr)])
        .metrics(&registry)
        .build()
        .unwrap();
    let (first, _) = crawl(&crawler).await;
    assert_eq!(first.len(), JOBS as usize);

    // Nothing changed: ETag pages answer 304, Last-Modified pages 304, the rest come back
    // whole and match by content hash. Nothing is sent.
    let (second, stats) = crawl(&crawler).await;
    assert!(second.is_empty(), "{:?}", ids(&second));
    assert_eq!(stats.sites["jobboard"].unchanged, JOBS as u64);
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_fetches_total",
            &[("class", "3xx")]
        ),
        8.0
    );
    assert_eq!(
        metric(&registry, "xuncha_crawler_postings_unchanged_total", &[]),
        12.0
    );

    // Edit one page with an ETag and one without validators.
    fx.edit(1005);
    fx.edit(1004);
    let (third, stats) = crawl(&crawler).await;
    assert_eq!(ids(&third), vec!["jobboard-1004", "jobboard-1005"]);
    assert_eq!(stats.sites["jobboard"].unchanged, JOBS as u64 - 2);
    for p in &third {
        let before = first.iter().find(|f| f.id == p.id).unwrap();
        assert_ne!(p.content_sha256, before.content_sha256);
        assert!(p.description.as_deref().unwrap().contains("第1次更新"));
    }
}

#[tokio::test]
async fn fresh_postings_are_not_fetched_again() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let mut p = jobboard(addr);
    p.recrawl_after = Duration::from_secs(3600);
    let crawler = Crawler::new(config(&dir), vec![p]).unwrap();
    crawl(&crawler).await;
    let (second, stats) = crawl(&crawler).await;
    assert!(second.is_empty());
    assert_eq!(stats.sites["jobboard"].fresh, JOBS as u64);
    assert_eq!(fx.hits_under("/job/1001.html"), 1);
    assert_eq!(
        fx.hits("/jobs/?city=440300&page=1"),
        2,
        "list pages are read every pass"
    );
}

#[tokio::test]
async fn a_restart_resumes_the_unfinished_pass() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let cfg = CrawlerConfig {
        concurrency: 1,
        ..config(&dir)
    };

    // The first process is stopped after three postings.
    let first = Crawler::new(cfg.clone(), vec![jobboard(addr)]).unwrap();
    let cancel = first.cancel_token();
    let (tx, mut rx) = mpsc::channel::<Posting>(1);
    let collect = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(p) = rx.recv().await {
            got.push(p.id);
            if got.len() == 3 {
                cancel.cancel();
            }
        }
        got
    });
    let stats = first.run(tx, true).await.unwrap();
    let before = collect.await.unwrap();
    drop(first);
    assert!(
        before.len() >= 3 && before.len() < JOBS as usize,
        "{before:?}"
    );
    assert!(!stats.sites["jobboard"].resumed);

    // The second picks up where it stopped: nothing fetched twice, nothing missed.
    let second = Crawler::new(cfg, vec![jobboard(addr)]).unwrap();
    let (after, stats) = crawl(&second).await;
    assert!(stats.sites["jobboard"].resumed);
    let all: BTreeSet<String> = before.iter().cloned().chain(ids(&after)).collect();
    assert_eq!(all.len(), JOBS as usize);
    assert_eq!(
        before.len() + after.len(),
        JOBS as usize,
        "a posting was sent twice"
    );
    assert_eq!(fx.hits("/jobs/?city=440300&page=1"), 1);
    for id in FIRST_ID..FIRST_ID + JOBS {
        assert_eq!(fx.hits_under(&format!("/job/{id}.html")), 1, "{id}");
    }

    // The pass is finished: a third run starts a new one.
    let (_, stats) = crawl(&second).await;
    assert!(!stats.sites["jobboard"].resumed);
}

#[tokio::test]
async fn evidence_file_hashes_to_the_postings_content_sha256() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let crawler = Crawler::new(config(&dir), vec![jobboard(addr)]).unwrap();
    let (postings, _) = crawl(&crawler).await;
    let store = crawler.evidence();
    for p in &postings {
        let sha = p.content_sha256.as_deref().unwrap();
        assert_eq!(
            p.extra["evidence"].as_str(),
            Some(format!("sha256:{sha}").as_str())
        );
        let path = store.body_path(sha);
        assert!(path.starts_with(dir.path().join("evidence").join(&sha[..2])));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(sha256_hex(&bytes), sha);
        let capture: Capture =
            serde_json::from_slice(&std::fs::read(store.capture_path(sha)).unwrap()).unwrap();
        assert_eq!(capture.url, *p.url.as_ref().unwrap());
        assert_eq!(capture.final_url, capture.url);
        assert_eq!(capture.status, 200);
        assert_eq!(capture.sha256, sha);
        assert_eq!(capture.bytes, bytes.len());
        assert!(capture
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "text/html; charset=utf-8"));
        assert_eq!(Some(&capture.captured_at), p.fetched_at.as_ref());
    }
}

#[tokio::test]
async fn private_addresses_are_refused_unless_the_profile_allows_them() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let mut by_ip = jobboard(addr);
    by_ip.allow_private_addresses = false;
    let mut by_name = special(addr, "by-name", "/jobs/?city=440300&page=1");
    by_name.start_urls = vec![format!("http://localhost:{}/jobs/?page=1", addr.port())];
    by_name.allow_hosts = vec!["localhost".into()];
    by_name.allow_private_addresses = false;
    let crawler = Crawler::new(config(&dir), vec![by_ip, by_name]).unwrap();
    let (postings, stats) = crawl(&crawler).await;
    assert!(postings.is_empty());
    assert_eq!(fx.total_hits(), 0, "the guard let a request through");
    let errs = errors(&stats);
    assert!(
        errs.iter()
            .any(|e| e.contains("refused: 127.0.0.1 is a private, loopback or link-local address")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("refused: localhost resolves only to private")),
        "{errs:?}"
    );
}

#[tokio::test]
async fn operator_pages_give_the_licences_displayed() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let (otx, mut orx) = mpsc::channel::<OperatorRecord>(4);
    let crawler = Crawler::builder(config(&dir))
        .sites(vec![jobboard(addr)])
        .operator_sink(otx)
        .build()
        .unwrap();
    crawl(&crawler).await;
    drop(crawler);
    let r = orx.recv().await.expect("an operator record");
    assert_eq!(r.schema, "xuncha.operator/1");
    assert_eq!(r.source, "jobboard");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.pages.len(), 2);
    assert!(r.business_licence.shown);
    assert_eq!(
        r.business_licence.number.as_deref(),
        Some("91440300MA5F1234X7")
    );
    assert_eq!(
        r.business_licence.links,
        vec![format!("http://{addr}/static/img/yyzz.jpg")]
    );
    assert!(r.hr_service_licence.shown);
    assert_eq!(r.hr_service_licence.number.as_deref(), Some("440305190010"));
    assert!(r
        .hr_service_licence
        .links
        .contains(&format!("http://{addr}/static/img/hrxk.jpg")));
    assert_eq!(r.icp.as_deref(), Some("粤ICP备12345678号-1"));
    assert_eq!(r.disclosures, vec!["服务项目", "监督电话", "收费标准"]);
    for page in &r.pages {
        let sha = page.evidence.strip_prefix("sha256:").unwrap();
        assert!(crawler_evidence(&dir, sha).exists());
    }
}

fn crawler_evidence(dir: &TempDir, sha: &str) -> std::path::PathBuf {
    dir.path().join("evidence").join(&sha[..2]).join(sha)
}

#[tokio::test]
async fn each_host_is_rate_limited() {
    let (fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let mut p = shipped_profile("fenlei-gbk.toml");
    p.start_urls = vec![format!("http://{addr}/gbk/list_1.html")];
    p.allow_hosts = vec!["127.0.0.1".into()];
    p.allow_private_addresses = true;
    p.rate_per_sec = 20.0;
    let crawler = Crawler::new(config(&dir), vec![p]).unwrap();
    let started = Instant::now();
    let (postings, _) = crawl(&crawler).await;
    assert_eq!(postings.len(), 4);
    // robots.txt, two list pages, four postings: six gaps of 50 ms at least.
    assert_eq!(fx.total_hits(), 7);
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn max_pages_caps_a_pass() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let mut p = jobboard(addr);
    p.max_pages = 4;
    let crawler = Crawler::new(config(&dir), vec![p]).unwrap();
    let (postings, stats) = crawl(&crawler).await;
    let s = &stats.sites["jobboard"];
    assert!(s.capped);
    assert_eq!(s.pages, 4);
    assert!(postings.len() <= 3);
}

#[tokio::test]
async fn fetch_latency_and_status_classes_are_measured() {
    let (_fx, addr) = site(JOBS).await;
    let dir = TempDir::new().unwrap();
    let registry = Registry::new();
    let crawler = Crawler::builder(config(&dir))
        .sites(vec![jobboard(addr)])
        .metrics(&registry)
        .build()
        .unwrap();
    crawl(&crawler).await;
    let host = addr.to_string();
    // robots.txt + 3 list pages + 12 postings.
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_fetches_total",
            &[("host", &host), ("class", "2xx")]
        ),
        16.0
    );
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_fetch_duration_seconds",
            &[("host", &host)]
        ),
        16.0
    );
    assert_eq!(
        metric(
            &registry,
            "xuncha_crawler_postings_emitted_total",
            &[("site", "jobboard")]
        ),
        12.0
    );
    assert!(metric(&registry, "xuncha_crawler_bytes_total", &[("host", &host)]) > 12.0 * 1500.0);
}

/// Where the hostile board's postings redirect to: metadata and private addresses in every
/// spelling, and hosts outside the profile that resolve to loopback.
fn ssrf_targets(port: u16) -> Vec<(u16, String)> {
    vec![
        (302, "http://169.254.169.254/latest/meta-data/".into()),
        (302, "http://10.0.0.1/".into()),
        (302, "http://2852039166/".into()),
        (302, "http://0xA9FEA9FE/".into()),
        (302, "http://0251.0376.0251.0376/".into()),
        (302, "http://[::ffff:169.254.169.254]/".into()),
        (302, "http://127.0.0.1@169.254.169.254/".into()),
        (307, "http://10.0.0.1/job".into()),
        // Two hops: first to the board itself, which is allowed, then out.
        (302, "/hop/10.0.0.1".into()),
        (302, format!("http://localhost:{port}/job/1.html")),
        (302, format!("http://127.0.0.2:{port}/job/1.html")),
    ]
}

async fn hostile_board() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let outside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let targets = ssrf_targets(addr.port());
    let n = targets.len();
    let go = move |UrlPath(i): UrlPath<usize>| {
        let (code, to) = targets[i].clone();
        async move {
            (
                StatusCode::from_u16(code).unwrap(),
                [(header::LOCATION, to)],
            )
                .into_response()
        }
    };
    let app = axum::Router::new()
        .route(
            "/list.html",
            get(move || async move {
                let hrefs: Vec<String> = (0..n).map(|i| format!("/go/{i}")).collect();
                let refs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
                common::special_list(&refs)
            }),
        )
        .route("/go/{i}", get(go))
        .route(
            "/hop/{ip}",
            get(|UrlPath(ip): UrlPath<String>| async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("http://{ip}/"))],
                )
                    .into_response()
            }),
        )
        // Reached only through a host the profile does not name.
        .route(
            "/job/{f}",
            get(
                |State(c): State<Arc<std::sync::atomic::AtomicUsize>>| async move {
                    c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    axum::response::Html("<html><body>job</body></html>").into_response()
                },
            ),
        )
        .with_state(outside.clone());
    // The same board on 127.0.0.2, so a hop there would be answered: only the guard can
    // stop it, not a closed port.
    let other = tokio::net::TcpListener::bind(("127.0.0.2", addr.port()))
        .await
        .unwrap();
    let also = app.clone();
    tokio::spawn(async move { axum::serve(other, also).await.unwrap() });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, outside)
}

#[tokio::test]
async fn the_private_address_exemption_holds_for_the_profiles_own_hosts_hop_by_hop() {
    let (addr, outside) = hostile_board().await;
    let dir = TempDir::new().unwrap();
    // The profile may reach its own board on 127.0.0.1, and nothing else private.
    let crawler = Crawler::new(config(&dir), vec![special(addr, "hostile", "/list.html")]).unwrap();
    let (postings, stats) = crawl(&crawler).await;
    assert!(postings.is_empty(), "{postings:?}");
    let errs = errors(&stats);
    assert_eq!(errs.len(), ssrf_targets(addr.port()).len(), "{errs:#?}");
    // The guard's own words, which an OS "connection refused" does not have.
    for e in &errs {
        assert!(
            e.contains("is a link-local or cloud metadata address, never crawled")
                || e.contains("is a private, loopback or link-local address (set allow_private_addresses")
                || e.contains("resolves only to private, loopback or link-local addresses (set allow_private_addresses"),
            "not refused by the guard: {e}"
        );
    }
    assert_eq!(
        outside.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a host outside the profile was reached"
    );
}
