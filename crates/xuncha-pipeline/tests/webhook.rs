//! Alert webhooks against a loopback receiver that records every request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use prometheus::Registry;
use serde_json::Value;
use sha2::Sha256;
use xuncha_core::{
    lead_id, sha256_hex, Category, Finding, Lead, LegalRef, PostingRef, PublisherKind, Severity,
    Span, LEAD_SCHEMA,
};
use xuncha_pipeline::webhook::{Alerts, Format, Limit, WebhookConfig, WithAlerts};
use xuncha_pipeline::LeadSink;

/// Generous bound for a flush; reaching it is a hang, not slowness.
const FLUSH: Duration = Duration::from_secs(60);

/// How the receiver answers.
#[derive(Clone, Copy)]
enum Answer {
    /// HTTP 200 `{"errcode":0}`.
    Ok,
    /// HTTP 500 to the first `n` requests, then as `Ok`.
    FailFirst(usize),
    /// HTTP 429 with `Retry-After: 0` to the first request, then as `Ok`.
    TooManyOnce,
    /// HTTP 200 with this robot errcode.
    Errcode(i64),
    /// Never answers.
    Hang,
}

#[derive(Debug, Clone)]
struct Req {
    path: String,
    query: String,
    body: Value,
}

#[derive(Clone)]
struct Receiver {
    log: Arc<Mutex<Vec<Req>>>,
    seen: Arc<AtomicUsize>,
    answer: Answer,
}

impl Receiver {
    fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    fn at(&self, path: &str) -> Vec<Req> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn record(State(rx): State<Receiver>, uri: Uri, body: Bytes) -> Response {
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("request to {uri} is not JSON: {e}"));
    rx.log.lock().unwrap().push(Req {
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        body,
    });
    let n = rx.seen.fetch_add(1, Ordering::SeqCst);
    let ok = (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#).into_response();
    match rx.answer {
        Answer::Ok => ok,
        Answer::FailFirst(k) if n < k => {
            (StatusCode::INTERNAL_SERVER_ERROR, "busy").into_response()
        }
        Answer::FailFirst(_) => ok,
        Answer::TooManyOnce if n == 0 => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "0")],
            "slow down",
        )
            .into_response(),
        Answer::TooManyOnce => ok,
        Answer::Errcode(code) => (
            StatusCode::OK,
            format!(r#"{{"errcode":{code},"errmsg":"refused"}}"#),
        )
            .into_response(),
        Answer::Hang => std::future::pending().await,
    }
}

/// A receiver on 127.0.0.1 and its base URL.
async fn receiver(answer: Answer) -> (Receiver, String) {
    let rx = Receiver {
        log: Arc::default(),
        seen: Arc::default(),
        answer,
    };
    let app = Router::new().fallback(record).with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (rx, format!("http://{addr}"))
}

/// A lead of posting `n` by `publisher`, with two findings, legal basis and penalty.
fn lead(n: usize, publisher: &str, severity: Severity, category: Category) -> Lead {
    let id = format!("site-a:{n}");
    let sha = sha256_hex(id.as_bytes());
    Lead {
        schema: LEAD_SCHEMA.into(),
        lead_id: lead_id(&id, category, &sha),
        category,
        severity,
        score: 0.9,
        findings: vec![
            Finding {
                rule_id: "FEE-DEP-001".into(),
                field: "description".into(),
                span: Span::new(12, 27),
                matched: "入职交押金500元".into(),
                context: "本岗位入职交押金500元，离职退还".into(),
            },
            Finding {
                rule_id: "FEE-DEP-002".into(),
                field: "title".into(),
                span: Span::new(0, 12),
                matched: "先交服装费".into(),
                context: "先交服装费再上岗".into(),
            },
        ],
        findings_unexamined: 0,
        legal_basis: vec![LegalRef {
            key: "JYFW-14".into(),
            law: "就业服务与就业管理规定".into(),
            article: "第十四条第（四）项".into(),
            text: "不得以担保或者其他名义向劳动者收取财物".into(),
        }],
        penalty: Some(LegalRef {
            key: "JYFW-67".into(),
            law: "就业服务与就业管理规定".into(),
            article: "第六十七条".into(),
            text: "由劳动保障行政部门责令限期退还".into(),
        }),
        posting: PostingRef {
            id: id.clone(),
            url: Some(format!("https://jobs.example.com/p/{n}")),
            source: Some("site-a".into()),
            fetched_at: Some("2026-11-27T08:00:00Z".into()),
            content_sha256: sha,
            title: Some("仓库分拣员".into()),
            company: Some("某某物流有限公司".into()),
            location: None,
            publisher: Some(publisher.into()),
            publisher_kind: Some(PublisherKind::Agency),
            ..PostingRef::default()
        },
        detected_at: "2026-11-27T08:00:01Z".into(),
        rules_version: "test".into(),
        scanner_version: "test".into(),
        licence: None,
    }
}

fn illegal(n: usize, publisher: &str) -> Lead {
    lead(n, publisher, Severity::Illegal, Category::FeeDeposit)
}

/// A webhook at `base` + `path`, retrying fast, with no throttling unless a test sets it.
fn hook(name: &str, base: &str, path: &str, format: Format) -> WebhookConfig {
    let mut c = WebhookConfig::new(name, format!("{base}{path}"), format);
    c.backoff = Duration::from_millis(10);
    c.per_publisher = Limit::off();
    c.per_rule = Limit::off();
    c
}

/// The value of counter `name` with these labels.
fn metric(registry: &Registry, name: &str, labels: &[(&str, &str)]) -> u64 {
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
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

fn alerts(reg: &Registry, webhook: &str, outcome: &str) -> u64 {
    metric(
        reg,
        "xuncha_alerts_total",
        &[("webhook", webhook), ("outcome", outcome)],
    )
}

fn content(r: &Req) -> &str {
    r.body["markdown"]["content"]
        .as_str()
        .expect("markdown.content")
}

#[tokio::test]
async fn wecom_markdown_carries_the_evidence_and_the_posting_url() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let a = Alerts::start(
        vec![hook(
            "wecom",
            &base,
            "/cgi-bin/webhook/send?key=k",
            Format::Wecom,
        )],
        &reg,
    )
    .unwrap();
    let mut l = illegal(1, "某某人力");
    l.licence = Some(xuncha_core::LicenceLookup {
        outcome: "not_found".into(),
        summary: "not_found: looked up 某某人力".into(),
        ..Default::default()
    });
    // Many long findings: the message must still fit the robot's limit.
    let mut long = illegal(2, "另一家");
    long.findings = (0..50)
        .map(|i| Finding {
            rule_id: format!("R-{i}"),
            field: "description".into(),
            span: Span::new(0, 900),
            matched: "押".repeat(300),
            context: String::new(),
        })
        .collect();
    a.offer(&[l.clone(), long]);
    a.shutdown(FLUSH).await;

    let got = rx.at("/cgi-bin/webhook/send");
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].query, "key=k");
    assert_eq!(got[0].body["msgtype"], "markdown");
    let c = content(&got[0]);
    for needle in [
        "「入职交押金500元」",
        "「先交服装费」",
        "https://jobs.example.com/p/1",
        "FEE-DEP-001",
        "fee.deposit",
        "违法",
        "某某人力",
        "某某物流有限公司",
        "2026-11-27T08:00:00Z",
        "《就业服务与就业管理规定》第十四条第（四）项",
        "第六十七条",
        "名录核查",
        "not_found: looked up 某某人力",
        l.lead_id.as_str(),
    ] {
        assert!(c.contains(needle), "`{needle}` missing from:\n{c}");
    }
    let big = content(&got[1]);
    assert!(big.len() <= 4096, "{} bytes", big.len());
    assert!(big.contains("另有 40 处命中"), "{big}");
    assert_eq!(alerts(&reg, "wecom", "sent"), 2);
}

#[tokio::test]
async fn dingtalk_requests_are_signed_with_the_secret() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let mut c = hook(
        "ding",
        &base,
        "/robot/send?access_token=t",
        Format::Dingtalk,
    );
    c.secret = Some("SEC0123456789abcdef".into());
    let a = Alerts::start(vec![c], &reg).unwrap();
    let l = illegal(1, "某某人力");
    a.offer(std::slice::from_ref(&l));
    a.shutdown(FLUSH).await;

    let got = rx.at("/robot/send");
    assert_eq!(got.len(), 1, "{got:?}");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(got[0].query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no `{k}` in {pairs:?}"))
    };
    assert_eq!(get("access_token"), "t");
    let ts: u64 = get("timestamp").parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now.abs_diff(ts) < 3_600_000, "timestamp {ts} is not now");
    let sign = base64::engine::general_purpose::STANDARD
        .decode(get("sign"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"SEC0123456789abcdef").unwrap();
    mac.update(format!("{ts}\nSEC0123456789abcdef").as_bytes());
    mac.verify_slice(&sign)
        .expect("sign is HMAC-SHA256(secret, timestamp\\nsecret)");

    let md = &got[0].body["markdown"];
    assert_eq!(got[0].body["msgtype"], "markdown");
    assert!(
        md["title"].as_str().unwrap().contains("fee.deposit"),
        "{md}"
    );
    let text = md["text"].as_str().unwrap();
    assert!(text.contains("「入职交押金500元」"), "{text}");
    assert!(text.contains(&l.lead_id), "{text}");
}

#[tokio::test]
async fn json_format_sends_the_lead_itself() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let a = Alerts::start(vec![hook("json", &base, "/leads", Format::Json)], &reg).unwrap();
    let l = illegal(7, "某某人力");
    a.offer(std::slice::from_ref(&l));
    a.shutdown(FLUSH).await;

    let got = rx.at("/leads");
    assert_eq!(got.len(), 1);
    let back: Lead = serde_json::from_value(got[0].body.clone()).unwrap();
    assert_eq!(back, l);
}

#[tokio::test]
async fn leads_below_min_severity_are_not_sent() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let mut c = hook("json", &base, "/leads", Format::Json);
    c.min_severity = Severity::LocallyIllegal;
    let a = Alerts::start(vec![c], &reg).unwrap();
    let leads: Vec<Lead> = [
        Severity::Disfavoured,
        Severity::Indicator,
        Severity::LocallyIllegal,
        Severity::Illegal,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, s)| lead(i, "P", s, Category::DiscriminationGender))
    .collect();
    a.offer(&leads);
    a.shutdown(FLUSH).await;

    let ids: Vec<String> = rx
        .at("/leads")
        .iter()
        .map(|r| r.body["lead_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        vec![leads[2].lead_id.clone(), leads[3].lead_id.clone()]
    );
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_alert_once_on_the_third_try() {
    let (rx, base) = receiver(Answer::FailFirst(2)).await;
    let reg = Registry::new();
    let a = Alerts::start(vec![hook("wecom", &base, "/send", Format::Wecom)], &reg).unwrap();
    a.offer(&[illegal(1, "P")]);
    a.shutdown(FLUSH).await;

    let got = rx.requests();
    assert_eq!(got.len(), 3, "two 500s, then the delivery");
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same alert each time"
    );
    assert_eq!(alerts(&reg, "wecom", "sent"), 1);
    assert_eq!(alerts(&reg, "wecom", "failed"), 0);
    assert_eq!(
        metric(&reg, "xuncha_alert_retries_total", &[("webhook", "wecom")]),
        2
    );
}

#[tokio::test]
async fn retry_after_is_honoured_over_the_backoff() {
    let (rx, base) = receiver(Answer::TooManyOnce).await;
    let reg = Registry::new();
    let mut c = hook("json", &base, "/json", Format::Json);
    // Were the backoff used, the retry would wait at least 30 s (half of its 60 s cap):
    // after the shutdown deadline.
    c.backoff = Duration::from_secs(3600);
    let a = Alerts::start(vec![c], &reg).unwrap();
    a.offer(&[illegal(1, "P")]);
    a.shutdown(Duration::from_secs(20)).await;
    assert_eq!(rx.requests().len(), 2, "a 429, then the delivery");
    assert_eq!(alerts(&reg, "json", "sent"), 1);
}

#[tokio::test]
async fn a_refusing_robot_is_not_retried_and_the_failure_is_counted() {
    let (rx, base) = receiver(Answer::Errcode(310000)).await;
    let reg = Registry::new();
    let a = Alerts::start(vec![hook("ding", &base, "/send", Format::Dingtalk)], &reg).unwrap();
    a.offer(&[illegal(1, "P")]);
    a.shutdown(FLUSH).await;

    assert_eq!(rx.requests().len(), 1);
    assert_eq!(alerts(&reg, "ding", "failed"), 1);
    assert_eq!(alerts(&reg, "ding", "sent"), 0);
}

#[tokio::test]
async fn an_unreachable_receiver_fails_after_the_retries() {
    // Bind, then close: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let reg = Registry::new();
    let mut c = hook(
        "gone",
        &format!("http://127.0.0.1:{port}"),
        "/",
        Format::Json,
    );
    c.retries = 2;
    let a = Alerts::start(vec![c], &reg).unwrap();
    a.offer(&[illegal(1, "P")]);
    a.shutdown(FLUSH).await;

    assert_eq!(alerts(&reg, "gone", "failed"), 1);
    assert_eq!(
        metric(&reg, "xuncha_alert_retries_total", &[("webhook", "gone")]),
        2
    );
}

#[tokio::test]
async fn a_burst_of_1000_from_one_publisher_is_held_to_the_limit_with_one_summary() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let limit = Limit::new(5, Duration::from_secs(3600));
    let mut json = hook("json", &base, "/json", Format::Json);
    json.per_publisher = limit;
    let mut wecom = hook("wecom", &base, "/wecom", Format::Wecom);
    wecom.per_publisher = limit;
    let a = Alerts::start(vec![json, wecom], &reg).unwrap();

    let burst: Vec<Lead> = (0..1000)
        .map(|i| {
            let cat = if i % 5 == 0 {
                Category::FeeTraining
            } else {
                Category::FeeDeposit
            };
            lead(i, "某某人力", Severity::Illegal, cat)
        })
        .collect();
    for batch in burst.chunks(100) {
        a.offer(batch);
    }
    a.shutdown(FLUSH).await;

    let got = rx.at("/json");
    let (individual, summaries): (Vec<&Req>, Vec<&Req>) = got
        .iter()
        .partition(|r| r.body["schema"] == "xuncha.lead/1");
    assert_eq!(individual.len(), 5, "{got:?}");
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    let s = &summaries[0].body;
    assert_eq!(s["schema"], "xuncha.alert_summary/1");
    assert_eq!(s["key_kind"], "publisher");
    assert_eq!(s["key"], "某某人力");
    assert_eq!(
        (s["total"].as_u64(), s["sent"].as_u64()),
        (Some(1000), Some(5))
    );
    assert_eq!(s["not_sent"], 995);
    let by_cat = s["categories"].as_object().unwrap();
    let sum: u64 = by_cat.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, 995);
    assert!(by_cat.contains_key("fee.training") && by_cat.contains_key("fee.deposit"));

    let got = rx.at("/wecom");
    assert_eq!(got.len(), 6, "5 leads and one summary");
    let summary = content(&got[5]);
    for needle in ["某某人力", "1,000", "995", "fee.deposit", "案件队列"] {
        assert!(
            summary.contains(needle),
            "`{needle}` missing from:\n{summary}"
        );
    }
    for name in ["json", "wecom"] {
        assert_eq!(alerts(&reg, name, "sent"), 5);
        assert_eq!(alerts(&reg, name, "suppressed"), 995);
        assert_eq!(
            metric(
                &reg,
                "xuncha_alert_summaries_total",
                &[("webhook", name), ("outcome", "sent")]
            ),
            1
        );
    }
}

#[tokio::test]
async fn a_window_that_ends_sends_its_summary_without_waiting_for_shutdown() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let mut c = hook("json", &base, "/json", Format::Json);
    c.per_publisher = Limit::new(2, Duration::from_millis(200));
    let a = Alerts::start(vec![c], &reg).unwrap();
    a.offer(&(0..6).map(|i| illegal(i, "P")).collect::<Vec<_>>());

    // Every lead is accounted for once each window has ended: sent, or in a summary.
    let accounted = || {
        rx.at("/json")
            .iter()
            .map(|r| match r.body["schema"].as_str() {
                Some("xuncha.lead/1") => 1,
                _ => r.body["not_sent"].as_u64().unwrap(),
            })
            .sum::<u64>()
    };
    let waited = tokio::time::timeout(FLUSH, async {
        while accounted() < 6 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "no summary came: {:?}", rx.requests());
    let before = rx.requests().len();
    a.shutdown(FLUSH).await;
    assert_eq!(rx.requests().len(), before, "nothing was left for shutdown");
    assert_eq!(accounted(), 6);
    assert!(alerts(&reg, "json", "suppressed") >= 1);
}

#[tokio::test]
async fn a_lead_seen_again_is_not_alerted_again() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let a = Alerts::start(vec![hook("json", &base, "/json", Format::Json)], &reg).unwrap();
    let l = illegal(1, "P");
    a.offer(std::slice::from_ref(&l));
    a.offer(std::slice::from_ref(&l));
    a.shutdown(FLUSH).await;
    assert_eq!(rx.requests().len(), 1);
    assert_eq!(alerts(&reg, "json", "duplicate"), 1);
}

/// A lead sink that keeps what it is given.
#[derive(Default)]
struct Memory(Mutex<Vec<Lead>>);

impl LeadSink for Memory {
    async fn write(&self, leads: &[Lead]) -> anyhow::Result<()> {
        self.0.lock().unwrap().extend_from_slice(leads);
        Ok(())
    }
    fn name(&self) -> &'static str {
        "memory"
    }
}

/// A lead sink that always fails.
struct Broken;

impl LeadSink for Broken {
    async fn write(&self, _: &[Lead]) -> anyhow::Result<()> {
        anyhow::bail!("case.db: disk full")
    }
    fn name(&self) -> &'static str {
        "broken"
    }
}

#[tokio::test]
async fn a_hanging_receiver_does_not_hold_up_the_main_sink() {
    let (rx, base) = receiver(Answer::Hang).await;
    let reg = Registry::new();
    let mut c = hook("hang", &base, "/", Format::Json);
    c.queue = 8;
    c.timeout = Duration::from_secs(3600);
    let sink = WithAlerts::new(Memory::default(), Alerts::start(vec![c], &reg).unwrap());
    assert_eq!(sink.name(), "memory");

    let leads: Vec<Lead> = (0..200).map(|i| illegal(i, &format!("P{i}"))).collect();
    for batch in leads.chunks(10) {
        sink.write(batch).await.unwrap();
    }
    let (inner, alerts_) = sink.into_parts();
    assert_eq!(
        *inner.0.lock().unwrap(),
        leads,
        "every lead reached the main sink"
    );
    // One request hangs, the queue holds 8: the rest were dropped from alerting, and counted.
    assert!(
        alerts(&reg, "hang", "dropped") >= 191,
        "{}",
        alerts(&reg, "hang", "dropped")
    );
    assert!(rx.requests().len() <= 1);
    // Shutdown gives up on the hanging receiver at its deadline.
    alerts_.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_failing_main_sink_fails_the_write_unchanged_and_alerts_nothing() {
    let (rx, base) = receiver(Answer::Ok).await;
    let reg = Registry::new();
    let sink = WithAlerts::new(
        Broken,
        Alerts::start(vec![hook("json", &base, "/json", Format::Json)], &reg).unwrap(),
    );
    let err = sink.write(&[illegal(1, "P")]).await.unwrap_err();
    assert_eq!(err.to_string(), "case.db: disk full");
    let (_, a) = sink.into_parts();
    a.shutdown(FLUSH).await;
    assert!(rx.requests().is_empty(), "{:?}", rx.requests());
}

#[tokio::test]
async fn start_refuses_a_name_used_twice() {
    let reg = Registry::new();
    let c = hook("dup", "http://127.0.0.1:9", "/", Format::Json);
    let err = Alerts::start(vec![c.clone(), c], &reg)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("alerts.webhook `dup`"), "{err}");
}
