//! Request bodies, one function per [`Format`], and the 钉钉 URL signature.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use url::Url;
use xuncha_core::{Lead, LegalRef, Severity};

use super::config::Format;
use super::throttle::{KeyKind, Summary};

/// The `schema` of a summary in the `json` format.
pub const SUMMARY_SCHEMA: &str = "xuncha.alert_summary/1";

/// Most bytes of a 企业微信 robot's markdown `content`.
pub const WECOM_MAX_BYTES: usize = 4096;

/// Most bytes of a 钉钉 markdown `text`. 钉钉 publishes no firm limit; this keeps a message
/// readable in a group and well below what its robots have been seen to accept.
pub const DINGTALK_MAX_BYTES: usize = 4096;

/// Findings quoted in a message; the rest are counted, and the case queue has them all.
const MAX_FINDINGS: usize = 10;

/// Bytes of one quoted `matched` text.
const MAX_MATCHED_BYTES: usize = 200;

/// What one request carries.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// One lead.
    Lead(&'a Lead),
    /// What a throttled key held back in one window.
    Summary(&'a Summary),
}

/// The body for `format`, serialised.
pub fn encode(format: Format, msg: &Message<'_>) -> Vec<u8> {
    let v = match format {
        Format::Wecom => wecom(msg),
        Format::Dingtalk => dingtalk(msg),
        Format::Json => json(msg),
    };
    serde_json::to_vec(&v).expect("a JSON value serialises")
}

/// 企业微信 group robot: `{"msgtype":"markdown","markdown":{"content":…}}`, the content cut
/// to [`WECOM_MAX_BYTES`] on a character boundary.
pub fn wecom(msg: &Message<'_>) -> Value {
    let (_, lines) = markdown(msg);
    let mut content = lines.join("\n");
    truncate(&mut content, WECOM_MAX_BYTES);
    json!({"msgtype": "markdown", "markdown": {"content": content}})
}

/// 钉钉 group robot: `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`. 钉钉 needs a
/// blank line to break a line. The signature goes in the URL: [`dingtalk_url`].
pub fn dingtalk(msg: &Message<'_>) -> Value {
    let (title, lines) = markdown(msg);
    let mut text = lines.join("\n\n");
    truncate(&mut text, DINGTALK_MAX_BYTES);
    json!({"msgtype": "markdown", "markdown": {"title": title, "text": text}})
}

/// Plain JSON: the lead as on every other wire (docs/data-contracts.md), or a summary object with
/// `"schema": "xuncha.alert_summary/1"`.
pub fn json(msg: &Message<'_>) -> Value {
    match msg {
        Message::Lead(lead) => serde_json::to_value(lead).expect("a lead serialises"),
        Message::Summary(s) => json!({
            "schema": SUMMARY_SCHEMA,
            "key_kind": s.kind.as_str(),
            "key": s.key,
            "window": humantime::format_duration(s.window).to_string(),
            "opened_at": s.opened_at,
            "total": s.total,
            "sent": s.sent,
            "not_sent": s.not_sent(),
            "categories": s.categories.iter()
                .map(|(c, n)| (c.as_str().to_string(), json!(n)))
                .collect::<serde_json::Map<_, _>>(),
        }),
    }
}

/// The 钉钉 signature of `timestamp_ms`: base64 of HMAC-SHA256 keyed by `secret` over
/// `"{timestamp_ms}\n{secret}"`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: u64) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `url` with `timestamp` and the URL-encoded `sign` appended, as a signed 钉钉 robot
/// requires (it refuses a timestamp more than an hour off).
pub fn dingtalk_url(url: &Url, secret: &str, timestamp_ms: u64) -> Url {
    let mut u = url.clone();
    u.query_pairs_mut()
        .append_pair("timestamp", &timestamp_ms.to_string())
        .append_pair("sign", &dingtalk_sign(secret, timestamp_ms));
    u
}

/// The title and the lines of a robot message.
fn markdown(msg: &Message<'_>) -> (String, Vec<String>) {
    match msg {
        Message::Lead(lead) => lead_markdown(lead),
        Message::Summary(s) => summary_markdown(s),
    }
}

fn severity_zh(s: Severity) -> &'static str {
    match s {
        Severity::Illegal => "违法",
        Severity::LocallyIllegal => "违反地方规定",
        Severity::Disfavoured => "不提倡（需人工查看）",
        Severity::Indicator => "风险信号",
    }
}

fn legal(r: &LegalRef) -> String {
    let law = r.law.trim_start_matches('《').trim_end_matches('》');
    format!("《{law}》{}", r.article)
}

fn lead_markdown(lead: &Lead) -> (String, Vec<String>) {
    let p = &lead.posting;
    let title = format!("巡查线索：{} {}", severity_zh(lead.severity), lead.category);
    let mut l = vec![
        format!("### {title}"),
        format!(
            "**严重程度**：{}（{}）",
            severity_zh(lead.severity),
            lead.severity
        ),
        format!("**类别**：{}", lead.category),
        format!("**规则**：{}", lead.rule_ids().join("，")),
        "**命中原文**：".to_string(),
    ];
    for f in lead.findings.iter().take(MAX_FINDINGS) {
        l.push(format!(
            "> 「{}」（{}，{}）",
            one_line(&f.matched, MAX_MATCHED_BYTES),
            f.field,
            f.rule_id
        ));
    }
    if lead.findings.len() > MAX_FINDINGS {
        l.push(format!(
            "> ……另有 {} 处命中，见案件队列",
            lead.findings.len() - MAX_FINDINGS
        ));
    }
    if let Some(x) = &p.publisher {
        let kind = p
            .publisher_kind
            .and_then(|k| serde_json::to_value(k).ok())
            .and_then(|v| v.as_str().map(str::to_string));
        match kind {
            Some(k) => l.push(format!("**发布者**：{}（{k}）", one_line(x, 200))),
            None => l.push(format!("**发布者**：{}", one_line(x, 200))),
        }
    }
    if let Some(x) = &p.company {
        l.push(format!("**企业**：{}", one_line(x, 200)));
    }
    if let Some(x) = &p.title {
        l.push(format!("**岗位**：{}", one_line(x, 200)));
    }
    match &p.url {
        Some(u) => l.push(format!("**链接**：[{u}]({u})")),
        None => l.push(format!("**岗位编号**：{}", p.id)),
    }
    if let Some(x) = &p.fetched_at {
        l.push(format!("**抓取时间**：{x}"));
    }
    if let Some(lic) = &lead.licence {
        l.push(format!("**名录核查**：{}", one_line(&lic.summary, 300)));
    }
    if !lead.legal_basis.is_empty() {
        let basis: Vec<String> = lead.legal_basis.iter().map(legal).collect();
        l.push(format!("**法律依据**：{}", basis.join("；")));
    }
    if let Some(pen) = &lead.penalty {
        l.push(format!("**罚则**：{}", legal(pen)));
    }
    l.push(format!("**线索编号**：`{}`", lead.lead_id));
    (title, l)
}

fn summary_markdown(s: &Summary) -> (String, Vec<String>) {
    let who = match s.kind {
        KeyKind::Publisher => format!("发布者 {}", one_line(&s.key, 200)),
        KeyKind::Rule => format!("规则 {}", s.key),
    };
    let title = format!("巡查告警汇总：{who}");
    let cats: Vec<String> = s
        .categories
        .iter()
        .map(|(c, n)| format!("{c} ×{}", thousands(*n)))
        .collect();
    let l = vec![
        format!("### {title}"),
        format!(
            "{who} 在 {} 内共 {} 条线索：{} 条已逐条推送，**{} 条未逐条推送**。",
            duration_zh(s.window),
            thousands(s.total),
            thousands(s.sent),
            thousands(s.not_sent())
        ),
        format!("**未推送类别**：{}", cats.join("，")),
        format!("**窗口开始**：{}", s.opened_at),
        "请到案件队列查看全部线索。".to_string(),
    ];
    (title, l)
}

/// `s` on one line, cut to `max` bytes: a newline in a quote would end the quote.
fn one_line(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(&mut out, max);
    out
}

/// Cuts `s` to at most `max` bytes on a character boundary, ending in `…` when cut.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let ellipsis = '…';
    let mut end = max.saturating_sub(ellipsis.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push(ellipsis);
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duration_zh(d: Duration) -> String {
    let secs = d.as_secs();
    let mut out = String::new();
    if d.subsec_millis() != 0 || secs == 0 {
        let _ = write!(out, "{} 毫秒", d.as_millis());
    } else if secs.is_multiple_of(3600) {
        let _ = write!(out, "{} 小时", secs / 3600);
    } else if secs.is_multiple_of(60) {
        let _ = write!(out, "{} 分钟", secs / 60);
    } else {
        let _ = write!(out, "{secs} 秒");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_characters_whole() {
        let mut s = "押".repeat(2000); // 6000 bytes
        truncate(&mut s, WECOM_MAX_BYTES);
        assert!(s.len() <= WECOM_MAX_BYTES, "{}", s.len());
        assert!(s.ends_with('…'));
        let mut short = "押金".to_string();
        truncate(&mut short, 100);
        assert_eq!(short, "押金");
    }

    #[test]
    fn numbers_and_durations_read_naturally() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(995), "995");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(duration_zh(Duration::from_secs(600)), "10 分钟");
        assert_eq!(duration_zh(Duration::from_secs(7200)), "2 小时");
        assert_eq!(duration_zh(Duration::from_secs(90)), "90 秒");
        assert_eq!(duration_zh(Duration::from_millis(300)), "300 毫秒");
    }

    #[test]
    fn dingtalk_signature_matches_a_known_vector() {
        // Computed apart: base64(HMAC-SHA256(key "SECabc", "1700000000000\nSECabc")).
        let sign = dingtalk_sign("SECabc", 1_700_000_000_000);
        assert_eq!(sign, "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM=");
        let url = dingtalk_url(
            &Url::parse("https://oapi.dingtalk.com/robot/send?access_token=t").unwrap(),
            "SECabc",
            1_700_000_000_000,
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("access_token".into(), "t".into()));
        assert_eq!(pairs[1], ("timestamp".into(), "1700000000000".into()));
        assert_eq!(pairs[2], ("sign".into(), sign));
    }
}
