//! The console's pages. Every value from a posting, a note or a name goes through maud's
//! escaping; the only unescaped text is the style sheet, a constant. The lead itself is
//! drawn by the HTML report's template, so the console and the report show evidence the
//! same way.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use xuncha_cases::{Event, LeadRow, Recheck, Session, Status, Verdict};
use xuncha_core::{Category, Severity};

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
                        a href="/rules" accesskey="r" { "规则 Rules" }
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

/// The queue: filters, counts by category, one page of leads, the link to the next.
pub fn queue(
    session: &Session,
    filters: &FilterValues,
    counts: &[(String, u64)],
    rows: &[LeadRow],
    next: Option<String>,
) -> Markup {
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let severities: Vec<&str> = Severity::ALL.iter().map(|c| c.as_str()).collect();
    let statuses: Vec<&str> = Status::ALL.iter().map(|c| c.as_str()).collect();
    let verdicts: Vec<&str> = Verdict::ALL.iter().map(|c| c.as_str()).collect();
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
                (text_filter("地区代码 region", "region", filters.get("region")))
                (text_filter("规则 rule", "rule", filters.get("rule")))
                button type="submit" accesskey="f" { "筛选 Filter" }
                a href="/" { "清除 Clear" }
            }
            h2 { "按类别 By category " small { (total) } }
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
                        @for r in rows {
                            @let l = &r.lead;
                            tr {
                                td { a href=(lead_href(&l.lead_id)) { code { (l.lead_id.get(..12).unwrap_or(&l.lead_id)) } } }
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
            @if let Some(n) = next { p { a href=(n) rel="next" accesskey="n" { "下一页 Next page →" } } }
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

/// One lead: its evidence as the report draws it, where it stands, its rechecks and
/// timeline, and what the user may do to it.
pub fn lead(
    session: &Session,
    r: &LeadRow,
    history: &[Recheck],
    events: &[Event],
    campaign: Option<(i64, u64)>,
) -> Markup {
    let action = format!("{}/mark", lead_href(&r.lead.lead_id));
    layout(
        "线索 Lead",
        Some(session),
        html! {
            (report::lead_section(&r.lead))
            h2 { "办理 Case" }
            dl.meta {
                dt { "状态 Status" } dd { (r.status.as_str()) }
                dt { "结论 Verdict" } dd { (r.verdict.map_or("—", Verdict::as_str)) }
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
                button type="submit" name="action" value="confirmed" { "确认违法 Confirm" } " "
                button type="submit" name="action" value="false_positive" { "误报 False positive" } " "
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
            h2 { "复查 Rechecks" }
            @if history.is_empty() { p { "尚未复查 Not rechecked yet." } }
            @else {
                table.queue.history {
                    thead { tr { th { "时间 Checked" } th { "结果 Outcome" } th { "HTTP" } th { "仍在 Flagged text" } th { "证据 Evidence" } } }
                    tbody {
                        @for h in history {
                            tr {
                                td { (h.checked_at) }
                                td { (h.outcome.as_str()) @if let Some(e) = &h.error { " (" (e) ")" } }
                                td { (h.http_status.map_or("—".to_string(), |s| s.to_string())) }
                                td { (match h.flagged_present { Some(true) => "yes", Some(false) => "no", None => "—" }) }
                                td { code { (h.evidence.as_deref().unwrap_or("—")) } }
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
