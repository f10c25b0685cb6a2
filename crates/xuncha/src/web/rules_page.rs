//! The console's rules pages: what the analysts' verdicts say of each rule (its leads,
//! confirmed, false positives, undecided, precision with its Wilson 95% interval) and
//! where it stands, a page of rules at a time; one rule's figures and the history of its
//! demotions; and the form with which an admin lifts a demotion.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use serde::Deserialize;
use time::OffsetDateTime;
use xuncha_cases::{DemotionPolicy, Interval, RuleEvent, RuleStats, Session, MAX_NOTE_CHARS};
use xuncha_core::{format_duration, parse_duration, rfc3339_seconds};

use super::pages::{href, layout};
use super::{blocking, App, WebError};

/// Rules on one page of the list.
pub const PAGE: usize = 100;

/// Demotions and lifts shown on a rule's page, newest first.
const HISTORY: usize = 50;

fn rule_href(id: &str) -> String {
    href("/rules/", id)
}

fn bad_request(e: impl std::fmt::Display) -> WebError {
    WebError::status(StatusCode::BAD_REQUEST, e.to_string())
}

/// The window the figures count, `since=` (`30d`) else the demotion window, and the time
/// it starts.
fn window(
    q: &HashMap<String, String>,
    policy: &DemotionPolicy,
) -> Result<(Duration, String), WebError> {
    let window = match q.get("since").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(s) => parse_duration(s).map_err(bad_request)?,
        None => policy.window,
    };
    Ok((window, rfc3339_seconds(OffsetDateTime::now_utc() - window)))
}

fn interval(i: Option<Interval>) -> String {
    i.map_or("—".into(), |i| format!("{:.2}–{:.2}", i.low, i.high))
}

fn precision(p: Option<f64>) -> String {
    p.map_or("—".into(), |p| format!("{p:.2}"))
}

/// A time to the second, as the tables show it.
fn short(t: &str) -> &str {
    t.get(..19).unwrap_or(t)
}

fn standing(s: &RuleStats) -> Markup {
    html! {
        @if s.demoted {
            b.error { "已降级 demoted" } " " (short(s.standing_since.as_deref().unwrap_or("")))
        } @else if let Some(l) = &s.lifted_at {
            "已恢复 lifted " (short(l))
        }
    }
}

/// What the figures mean and when a rule is demoted, in one paragraph.
fn policy_note(p: &DemotionPolicy) -> Markup {
    html! {
        p {
            "精确率 Precision = 确认 confirmed / (确认 + 误报 false positives)，附 Wilson 95% 区间。"
            @if p.enabled {
                " 降级 A rule is demoted when, over at least " b { (p.min_verdicts) }
                " verdicts on leads first seen within " b { (format_duration(p.window)) }
                " (and after its last lift), the upper bound of that interval is below "
                b { (format!("{:.2}", p.floor)) }
                ": its new leads are then filed under_review and not alerted until an admin lifts it."
            } @else {
                " 降级已关闭 Demotion is off ([demotion] enabled = false)."
            }
        }
    }
}

/// `GET /rules`: every rule with leads in the window, or ever demoted, a page at a time.
pub async fn list(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let policy = app.queue.demotion_policy().clone();
    let (window, from) = window(&q, &policy)?;
    let after = q.get("after").filter(|a| !a.is_empty()).cloned();
    let rows = {
        let (from, after) = (from.clone(), after.clone());
        blocking(&app, move |q| q.rule_stats(&from, after.as_deref(), PAGE)).await?
    };
    let next = rows.last().filter(|_| rows.len() == PAGE).map(|last| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("since", &format_duration(window));
        url.append_pair("after", &last.rule_id);
        format!("/rules?{}", url.finish())
    });
    let body = html! {
        h1 { "规则 Rules" }
        (policy_note(&policy))
        form.filters method="get" action="/rules" {
            label { "时间窗 window (30d, 12h)" input name="since" value=(format_duration(window)) size="10"; }
            button type="submit" { "统计 Count" }
        }
        p { "首次发现于 " (from) " 之后的线索 Leads first seen since " (from) "." }
        div.scroll {
            table.queue {
                thead {
                    tr {
                        th { "规则 Rule" } th { "线索 Leads" } th { "确认 Confirmed" }
                        th { "误报 False positives" } th { "未定 Undecided" }
                        th { "精确率 Precision" } th { "95% 区间 Interval" } th { "状态 Standing" }
                    }
                }
                tbody {
                    @for s in &rows {
                        tr {
                            td { a href=(rule_href(&s.rule_id)) { code { (s.rule_id) } } }
                            td { (s.leads) } td { (s.confirmed) } td { (s.false_positives) }
                            td { (s.undecided) } td { (precision(s.precision)) }
                            td { (interval(s.interval)) } td { (standing(s)) }
                        }
                    }
                }
            }
        }
        @if rows.is_empty() { p { "窗口内没有线索 No rule has leads in this window." } }
        @if let Some(n) = next { p { a href=(n) rel="next" accesskey="n" { "下一页 Next page →" } } }
    };
    Ok(layout("规则 Rules", Some(&session), body).into_response())
}

fn event_row(e: &RuleEvent) -> Markup {
    html! {
        tr {
            td { (short(&e.at)) }
            td { (e.action.as_str()) }
            td { (e.actor) }
            td { (e.verdicts.leads) " / " (e.verdicts.confirmed) " / " (e.verdicts.false_positives) }
            td { (interval(e.interval)) }
            td { (short(&e.counted_from)) }
            td { (e.note) }
        }
    }
}

/// `GET /rules/{id}`: one rule's figures, its demotions and lifts, and for an admin the
/// form that lifts a demotion.
pub async fn rule(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let policy = app.queue.demotion_policy().clone();
    let (window, from) = window(&q, &policy)?;
    let (stats, events) = {
        let (id, from) = (id.clone(), from.clone());
        blocking(&app, move |q| {
            Ok((
                q.rule_stats_of(&id, &from)?,
                q.rule_events(Some(&id), HISTORY)?,
            ))
        })
        .await?
    };
    let action = format!("{}/lift", rule_href(&id));
    let body = html! {
        h1 { "规则 Rule " code { (id) } }
        (policy_note(&policy))
        dl.meta {
            dt { "时间窗 Window" } dd { (format_duration(window)) " (since " (from) ")" }
            dt { "线索 Leads" } dd { (stats.leads) }
            dt { "确认 Confirmed" } dd { (stats.confirmed) }
            dt { "误报 False positives" } dd { (stats.false_positives) }
            dt { "未定 Undecided" } dd { (stats.undecided) }
            dt { "精确率 Precision" } dd { (precision(stats.precision)) " (95% " (interval(stats.interval)) ")" }
            dt { "状态 Standing" } dd { (standing(&stats)) @if !stats.demoted && stats.lifted_at.is_none() { "—" } }
        }
        p { a href=(format!("/?rule={}", url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())) { "此规则的线索 This rule's leads" } }
        @if stats.demoted {
            @if session.role.may_lift_demotions() {
                form.act method="post" action=(action) {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label { "恢复理由 Why the demotion is lifted" textarea name="note" maxlength="4000" required {} }
                    button type="submit" { "恢复规则 Lift the demotion" }
                }
            } @else {
                p { "只有管理员可以恢复规则。Only an admin lifts a demotion." }
            }
        }
        h2 { "降级记录 Demotions and lifts" }
        @if events.is_empty() { p { "没有记录 None." } }
        @else {
            table.queue {
                thead {
                    tr {
                        th { "时间 At" } th { "动作 Action" } th { "人 Actor" }
                        th { "线索/确认/误报 Leads/confirmed/FP" } th { "95% 区间 Interval" }
                        th { "计自 Counted from" } th { "理由 Reason" }
                    }
                }
                tbody { @for e in &events { (event_row(e)) } }
            }
        }
    };
    Ok(layout("规则 Rule", Some(&session), body).into_response())
}

#[derive(Deserialize)]
pub struct LiftForm {
    #[serde(default)]
    note: String,
}

/// `POST /rules/{id}/lift`: an admin lifts a rule's demotion, with a note; recorded with
/// the admin as its actor.
pub async fn lift(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Form(form): Form<LiftForm>,
) -> Result<Response, WebError> {
    if !session.role.may_lift_demotions() {
        return Err(WebError::status(
            StatusCode::FORBIDDEN,
            "only an admin lifts a rule's demotion",
        ));
    }
    let note = form.note.trim().to_string();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Err(bad_request(format!(
            "say why the demotion is lifted, in at most {MAX_NOTE_CHARS} characters"
        )));
    }
    let (rule, actor) = (id.clone(), session.name.clone());
    let lifted = blocking(&app, move |q| {
        q.lift_demotion(&rule, &actor, &note, &xuncha_core::now_rfc3339())
    })
    .await?;
    match lifted {
        Some(_) => {
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, rule_href(&id))]).into_response())
        }
        None => Err(WebError::status(
            StatusCode::CONFLICT,
            "this rule is not demoted",
        )),
    }
}
