//! The console's pages. Every value from a posting, a note or a name goes through maud's
//! escaping; the only unescaped text is the style sheet, a constant. The lead itself is
//! drawn by the HTML report's template, so the console and the report show evidence the
//! same way.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use xuncha_cases::{Event, LeadRow, Order, Recheck, Session, Status, Verdict};
use xuncha_core::{Category, Severity};

use super::counts::COUNTS_TTL;
use super::{evidence, marks};
use crate::report;

/// Extra styles of the console, on top of the report's.
const CONSOLE_CSS: &str = r#"
body { max-width: 80rem; }
nav.top { display: flex; gap: 1rem; align-items: center; border-bottom: 1px solid var(--line); padding-bottom: .5rem; margin-bottom: 1rem; }
nav.top .me { margin-left: auto; color: var(--muted); }
nav.top form { display: inline; }
form.filters { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: end; margin-bottom: 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
table.queue { border-collapse: collapse; width: 100%; font-size: .9rem; }
table.queue th, table.queue td { border-bottom: 1px solid var(--line); padding: .3rem .4rem; text-align: left; vertical-align: top; }
table.queue td.title { overflow-wrap: anywhere; max-width: 24rem; }
ul.counts { display: flex; flex-wrap: wrap; gap: .3rem 1rem; list-style: none; padding: 0; }
.error { color: #c62828; font-weight: bold; }
form.act { border: 1px solid var(--line); border-radius: 4px; padding: .6rem; margin: .6rem 0; }
form.act textarea { width: 100%; min-height: 4rem; }
ol.timeline li, table.history td { font-size: .9rem; }
.num { text-align: right; }
mark.overlap { background: #ffb300; }
div.field { margin: .4rem 0; }
nav.pages { display: flex; gap: 1.5rem; }
kbd { border: 1px solid var(--line); border-radius: 3px; padding: 0 .25rem; font-size: .8rem; }
"#;

/// A whole page; `session` draws the top bar (who is logged in, logout).
pub(crate) fn layout(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · xuncha" }
                style { (PreEscaped(report::CSS)) (PreEscaped(CONSOLE_CSS)) }
            }
            body {
                @if let Some(s) = session {
                    nav.top {
                        a href="/" accesskey="q" { "线索队列 Queue" }
                        a href="/campaigns" accesskey="c" { "团伙 Campaigns" }
                        a href="/rules" accesskey="u" { "规则 Rules" }
                        a href="/dashboard" accesskey="d" { "今日概况 Dashboard" }
                        span.me { (s.name) " (" (s.role.as_str()) ")" }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button type="submit" { "退出 Log out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page of the console for a logged-in user.
pub fn page(title: &str, session: &Session, body: Markup) -> Markup {
    layout(title, Some(session), body)
}

/// A short page saying one thing (errors, refusals).
pub fn message(title: &str, text: &str) -> Markup {
    layout(
        title,
        None,
        html! {
            h1 { (title) }
            p { (text) }
            p { a href="/" { "返回 Back to the queue" } }
        },
    )
}

/// The login form; `token` pairs it with the browser's login cookie.
pub fn login(token: &str, error: Option<&str>) -> Markup {
    layout(
        "登录 Log in",
        None,
        html! {
            h1 { "巡查控制台 xuncha console" }
            @if let Some(e) = error { p.error { (e) } }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                p { label { "用户名 Name " input name="name" autocomplete="username" required autofocus; } }
                p { label { "密码 Password " input type="password" name="password" autocomplete="current-password" required; } }
                p { button type="submit" { "登录 Log in" } }
            }
        },
    )
}

/// The filters as the queue page shows them back in its form.
#[derive(Debug, Default, Clone)]
pub struct FilterValues {
    pub pairs: Vec<(&'static str, String)>,
}

impl FilterValues {
    /// The queue's query parameters besides the cursor, in the order a URL writes them.
    pub const NAMES: [&'static str; 12] = [
        "category",
        "severity",
        "status",
        "verdict",
        "assignee",
        "source",
        "publisher",
        "region",
        "rule",
        "since",
        "until",
        "sort",
    ];

    /// The queue's first page under these filters.
    pub fn href(&self) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            url.append_pair(k, v);
        }
        let q = url.finish();
        if q.is_empty() {
            "/".into()
        } else {
            format!("/?{q}")
        }
    }

    /// What the counts depend on: every filter but the order.
    pub fn counts_key(&self) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.pairs.iter().filter(|(k, _)| *k != "sort") {
            url.append_pair(k, v);
        }
        url.finish()
    }

    pub fn get(&self, k: &str) -> &str {
        self.pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// `/leads/ID` with the id percent-encoded (ids are hex, but the path must hold whatever
/// the store returns).
pub fn lead_href(id: &str) -> String {
    href("/leads/", id)
}

/// `prefix` and `id` percent-encoded as one path segment.
pub fn href(prefix: &str, id: &str) -> String {
    let mut s = String::from(prefix);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn select(name: &str, current: &str, options: &[&str]) -> Markup {
    html! {
        select name=(name) {
            option value="" selected[current.is_empty()] { "—" }
            @for o in options {
                option value=(o) selected[*o == current] { (o) }
            }
        }
    }
}

fn text_filter(label: &str, name: &str, current: &str) -> Markup {
    html! { label { (label) input name=(name) value=(current) size="12"; } }
}

fn date_filter(label: &str, name: &str, current: &str) -> Markup {
    html! { label { (label) input name=(name) value=(current) size="20" placeholder="2026-11-01"; } }
}

/// The queue: filters, counts by category, one page of leads, the links to the first and
/// the next page. Keys: Alt+Shift (or the browser's access key) with F filters, N the next
/// page, H the first, 1–9 the leads of the page.
pub fn queue(
    session: &Session,
    filters: &FilterValues,
    counts: &[(String, u64)],
    rows: &[LeadRow],
    first: Option<String>,
    next: Option<String>,
) -> Markup {
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let severities: Vec<&str> = Severity::ALL.iter().map(|c| c.as_str()).collect();
    let statuses: Vec<&str> = Status::ALL.iter().map(|c| c.as_str()).collect();
    let verdicts: Vec<&str> = Verdict::ALL.iter().map(|c| c.as_str()).collect();
    let orders: Vec<&str> = Order::ALL.iter().map(|c| c.as_str()).collect();
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    layout(
        "线索队列 Queue",
        Some(session),
        html! {
            h1 { "线索队列 Queue" }
            form.filters method="get" action="/" {
                label { "类别 category" (select("category", filters.get("category"), &categories)) }
                label { "严重程度 ≥ severity" (select("severity", filters.get("severity"), &severities)) }
                label { "状态 status" (select("status", filters.get("status"), &statuses)) }
                label { "结论 verdict" (select("verdict", filters.get("verdict"), &verdicts)) }
                (text_filter("承办人 assignee", "assignee", filters.get("assignee")))
                (text_filter("网站 source", "source", filters.get("source")))
                (text_filter("发布者 publisher", "publisher", filters.get("publisher")))
                (text_filter("地区 region", "region", filters.get("region")))
                (text_filter("规则 rule", "rule", filters.get("rule")))
                (date_filter("首次发现自 since", "since", filters.get("since")))
                (date_filter("首次发现至 until", "until", filters.get("until")))
                label { "排序 sort" (select("sort", filters.get("sort"), &orders)) }
                button type="submit" accesskey="f" { "筛选 Filter" }
                a href="/" { "清除 Clear" }
            }
            h2 { "按类别 By category " small { "共 total " b.total { (total) } } }
            p.muted { small { "计数至多 " (COUNTS_TTL.as_secs()) " 秒前 Counted at most " (COUNTS_TTL.as_secs()) " s ago" } }
            ul.counts {
                @for (cat, n) in counts {
                    li {
                        @let label = cat.parse::<Category>().map(report::category_label).unwrap_or("");
                        (label) " " code { (cat) } " " b { (n) }
                    }
                }
            }
            div.scroll {
                table.queue {
                    thead {
                        tr {
                            th { "线索 Lead" } th { "严重程度 Severity" } th { "类别 Category" }
                            th { "岗位 Posting" } th { "网站 Source" } th { "发布者 Publisher" }
                            th { "状态 Status" } th { "结论 Verdict" } th { "承办人 Assignee" }
                            th { "首次发现 First seen" }
                        }
                    }
                    tbody {
                        @for (i, r) in rows.iter().enumerate() {
                            @let l = &r.lead;
                            @let key = (i < 9).then(|| (i + 1).to_string());
                            tr {
                                td { a.lead href=(lead_href(&l.lead_id)) accesskey=[key] { code { (l.lead_id.get(..12).unwrap_or(&l.lead_id)) } } }
                                td { span.badge.(l.severity.as_str()) { (report::severity_label(l.severity)) } }
                                td { (report::category_label(l.category)) }
                                td.title { (l.posting.title.as_deref().unwrap_or("—")) }
                                td { (l.posting.source.as_deref().unwrap_or("—")) }
                                td { (l.posting.publisher.as_deref().unwrap_or("—")) }
                                td { (r.status.as_str()) }
                                td { (r.verdict.map_or("—", Verdict::as_str)) }
                                td { (r.assigned_to.as_deref().unwrap_or("—")) }
                                td { (r.first_seen.get(..19).unwrap_or(&r.first_seen)) }
                            }
                        }
                    }
                }
            }
            @if rows.is_empty() { p { "没有线索 No leads match." } }
            nav.pages {
                @if let Some(f) = first { a href=(f) rel="first" accesskey="h" { "← 第一页 First page" } }
                @if let Some(n) = next { a href=(n) rel="next" accesskey="n" { "下一页 Next page →" } }
            }
            p.muted { "快捷键 Keys (浏览器访问键 the browser's access key, Alt or Alt+Shift): "
                kbd { "F" } " 筛选 filter · " kbd { "1" } "–" kbd { "9" } " 打开线索 open a lead · "
                kbd { "N" } " 下一页 next · " kbd { "H" } " 第一页 first · " kbd { "D" } " 概况 dashboard" }
        },
    )
}

fn event_line(e: &Event) -> Markup {
    html! {
        (e.at) " · " b { (e.actor) } " " (e.action)
        @match (&e.from, &e.to) {
            (Some(f), Some(t)) => { " " (f) " → " (t) }
            (None, Some(t)) => { " " (t) }
            _ => {}
        }
        @if let Some(n) = &e.note { ": " q { (n) } }
    }
}

/// One lead: its posting with every finding marked, its evidence as the report draws it,
/// the stored pages, where it stands, its rechecks and timeline, and what the user may do
/// to it. `stored` are the hashes of its pages the evidence store holds; `per_finding`
/// sets each finding beside the provisions its rule cites.
pub fn lead(
    session: &Session,
    r: &LeadRow,
    history: &[Recheck],
    events: &[Event],
    campaign: Option<(i64, u64)>,
    stored: &[String],
    per_finding: Markup,
) -> Markup {
    let href = lead_href(&r.lead.lead_id);
    let action = format!("{href}/mark");
    let page_link = |sha: &str| -> Markup {
        html! {
            @if stored.iter().any(|s| s == sha) {
                a.evidence href=(evidence::href(&href, sha)) { code { (sha.get(..12).unwrap_or(sha)) "…" } " (纯文本 as text)" }
            } @else {
                code { (sha.get(..12).unwrap_or(sha)) "…" } " (不在证据库 not in the evidence store)"
            }
        }
    };
    let capture = &r.lead.posting.content_sha256;
    layout(
        "线索 Lead",
        Some(session),
        html! {
            h2 { "岗位原文 Posting text" }
            (marks::render(&marks::fields(&r.lead)))
            h2 { "每条证据的法律依据 Each finding's legal basis and penalty" }
            div.scroll { (per_finding) }
            (report::lead_section(&r.lead))
            h2 { "证据页面 Stored pages" }
            ul {
                li { "采集时 At capture: "
                    @if evidence::is_sha256(capture) { (page_link(capture)) }
                    @else { "—" } }
                @for h in history {
                    @if let Some(e) = &h.evidence {
                        li { "复查 Recheck " (h.checked_at) ": " (page_link(e.trim_start_matches("sha256:"))) }
                    }
                }
            }
            h2 { "办理 Case" }
            dl.meta {
                dt { "状态 Status" } dd.status { (r.status.as_str()) }
                dt { "结论 Verdict" } dd.verdict { (r.verdict.map_or("—", Verdict::as_str)) }
                dt { "承办人 Assignee" } dd { (r.assigned_to.as_deref().unwrap_or("—")) }
                dt { "首次发现 First seen" } dd { (r.first_seen) }
                dt { "最近发现 Last seen" } dd { (r.last_seen) " (" (r.seen_count) ")" }
                dt { "最近在线 Last online" } dd { (r.last_online_at.as_deref().unwrap_or("—")) }
                dt { "已下线 Gone at" } dd { (r.gone_at.as_deref().unwrap_or("—")) }
                @if let Some((id, postings)) = campaign {
                    dt { "团伙 Campaign" }
                    dd { a href=(super::campaigns::campaign_href(id)) { "#" (id) } " (" (postings) " postings)" }
                }
            }
            form.act method="post" action=(action) {
                input type="hidden" name="csrf" value=(session.csrf);
                label { "备注 Note" textarea name="note" maxlength="4000" {} }
                button type="submit" name="action" value="confirmed" accesskey="y" { "确认违法 Confirm" } " "
                button type="submit" name="action" value="false_positive" accesskey="x" { "误报 False positive" } " "
                button type="submit" name="action" value="close" { "结案 Close" } " "
                button type="submit" name="action" value="note" { "仅备注 Note only" }
            }
            @if session.role.may_assign() {
                form.act method="post" action=(action) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label { "分派给 Assign to " input name="to" value=(r.assigned_to.as_deref().unwrap_or("")); }
                    " "
                    button type="submit" name="action" value="assign" { "分派 Assign" } " "
                    button type="submit" name="action" value="reopen" { "重新打开 Reopen" }
                }
            }
            h2 id="rechecks" { "复查 Rechecks" }
            form.act method="post" action=(format!("{href}/recheck")) {
                input type="hidden" name="csrf" value=(session.csrf);
                button type="submit" accesskey="r" { "立即复查 Recheck now" }
                " " small.muted { "重新抓取岗位页面，结果记入复查记录。Fetches the posting page again and records what it finds." }
            }
            @if history.is_empty() { p { "尚未复查 Not rechecked yet." } }
            @else {
                table.queue.history {
                    thead { tr { th { "时间 Checked" } th { "结果 Outcome" } th { "HTTP" } th { "仍在 Flagged text" } th { "证据 Evidence" } } }
                    tbody {
                        @for h in history {
                            tr {
                                td { (h.checked_at) }
                                td.outcome { (h.outcome.as_str()) @if let Some(e) = &h.error { " (" (e) ")" } }
                                td { (h.http_status.map_or("—".to_string(), |s| s.to_string())) }
                                td { (match h.flagged_present { Some(true) => "yes", Some(false) => "no", None => "—" }) }
                                td { @match &h.evidence { Some(e) => (page_link(e.trim_start_matches("sha256:"))), None => "—" } }
                            }
                        }
                    }
                }
            }
            h2 { "时间线 Timeline" }
            ol.timeline {
                @for e in events { li { (event_line(e)) } }
            }
        },
    )
}
