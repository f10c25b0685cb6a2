//! The console's campaign pages: the list of campaigns and one campaign with its postings,
//! sites, first and last sighting, keys with how each was written, categories and
//! history; a supervisor assigns all its leads at once.
//!
//! Handles are written by the postings' authors, so they are hostile text like the rest:
//! every value goes through maud's escaping, and no handle becomes a link.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use serde::Deserialize;
use xuncha_cases::{
    Campaign, CampaignDetail, CampaignQuery, Session, MAX_ACTOR_CHARS, MAX_MEMBER_LEADS,
    MAX_NOTE_CHARS,
};

use super::pages::{layout, lead_href};
use super::{blocking, App, WebError};
use crate::report;

/// Campaigns on one page of the list.
pub const PAGE: usize = 50;

/// `/campaigns/ID`.
pub fn campaign_href(id: i64) -> String {
    format!("/campaigns/{id}")
}

fn categories(c: &Campaign) -> Markup {
    html! {
        @for x in &c.categories {
            @let label = x.category.parse().map(report::category_label).unwrap_or("");
            span.cat { (label) " " code { (x.category) } " " b { (x.leads) } } " "
        }
    }
}

/// The list: largest campaigns first, a page at a time.
pub async fn list(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let page: usize = match q.get("page").filter(|p| !p.is_empty()) {
        Some(p) => p
            .parse()
            .map_err(|_| WebError::status(StatusCode::BAD_REQUEST, "page is a number"))?,
        None => 0,
    };
    let query = CampaignQuery {
        limit: PAGE,
        offset: page.saturating_mul(PAGE),
        ..CampaignQuery::default()
    };
    let found = blocking(&app, move |q| q.campaigns(&query)).await?;
    let more = found.len() == PAGE;
    let body = html! {
        h1 { "团伙线索 Campaigns" }
        p.muted {
            "Leads whose postings share a contact handle, a company or credit code, or near-identical text. "
            "Keys seen with too many publishers (a site's hotline) tie nothing."
        }
        div.scroll {
            table.queue {
                thead { tr {
                    th { "团伙 Campaign" } th { "岗位 Postings" } th { "线索 Leads" }
                    th { "网站 Sites" } th { "关联 Tied by" } th { "类别 Categories" }
                    th { "首次 First seen" } th { "最近 Last seen" } th { "示例 Title" }
                } }
                tbody {
                    @for c in &found {
                        tr {
                            td { a href=(campaign_href(c.id)) { "#" (c.id) } }
                            td { (c.postings) }
                            td { (c.leads) }
                            td { (c.sites.join(", ")) }
                            td { @for k in c.keys.iter().filter(|k| !k.too_common).take(3) { code { (k.key) } " ×" (k.postings) br; } }
                            td { (categories(c)) }
                            td { (c.first_seen.get(..19).unwrap_or(&c.first_seen)) }
                            td { (c.last_seen.get(..19).unwrap_or(&c.last_seen)) }
                            td.title { (c.title.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
        @if found.is_empty() { p { "没有团伙 No campaigns of two postings or more." } }
        @if more { p { a href=(format!("/campaigns?page={}", page + 1)) rel="next" accesskey="n" { "下一页 Next page →" } } }
    };
    Ok(layout("团伙线索 Campaigns", Some(&session), body).into_response())
}

/// One campaign; a merged campaign's id leads to the one it joined.
pub async fn show(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let found = blocking(&app, move |q| match q.resolve_campaign(id)? {
        Some(now) if now != id => Ok(Err(now)),
        Some(_) => Ok(Ok(q.campaign(id)?)),
        None => Ok(Ok(None)),
    })
    .await?;
    match found {
        Err(now) => Ok((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, campaign_href(now))],
        )
            .into_response()),
        Ok(Some(d)) => Ok(page(&session, &d).into_response()),
        Ok(None) => Err(WebError::status(StatusCode::NOT_FOUND, "no such campaign")),
    }
}

fn page(session: &Session, d: &CampaignDetail) -> Markup {
    let c = &d.campaign;
    let title = format!("团伙 Campaign #{}", c.id);
    let body = html! {
        h1 { (title) }
        dl.meta {
            dt { "岗位 Postings" } dd { (c.postings) }
            dt { "线索 Leads" } dd { (c.leads) }
            dt { "网站 Sites" } dd { (c.sites.join(", ")) }
            dt { "首次发现 First seen" } dd { (c.first_seen) }
            dt { "最近发现 Last seen" } dd { (c.last_seen) }
            dt { "类别 Categories" } dd { (categories(c)) }
        }
        @if session.role.may_assign() {
            form.act method="post" action=(format!("{}/assign", campaign_href(c.id))) {
                input type="hidden" name="csrf" value=(session.csrf);
                label { "全部分派给 Assign all its leads to " input name="to" required maxlength=(MAX_ACTOR_CHARS); }
                " "
                label { "备注 Note " input name="note" maxlength=(MAX_NOTE_CHARS); }
                " "
                button type="submit" { "全部分派 Assign all" }
            }
        }
        h2 { "关联 Keys" }
        div.scroll {
            table.queue {
                thead { tr { th { "键 Key" } th { "岗位 Postings" } th { "原文 As written (posting · field [bytes])" } } }
                tbody {
                    @for k in &d.all_keys {
                        tr {
                            td {
                                code { (k.key) }
                                @if k.too_common { br; small.muted { "too common: ties nothing" } }
                            }
                            td { (k.postings) }
                            td {
                                @for w in d.evidence.iter().filter(|w| w.key == k.key).take(5) {
                                    q { (w.text) } " "
                                    small.muted { (w.posting_id) " · " (w.field) " [" (w.start) ".." (w.end) "]" }
                                    br;
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "岗位 Postings" }
        div.scroll {
            table.queue {
                thead { tr {
                    th { "岗位 Posting" } th { "网站 Site" } th { "发布者 Publisher" } th { "公司 Company" }
                    th { "首次 First seen" } th { "最近 Last seen" } th { "线索 Leads" }
                } }
                tbody {
                    @for m in &d.members {
                        @let p = &m.posting;
                        tr {
                            td.title { (p.title.as_deref().unwrap_or("—")) br; small.muted { code { (p.id) } } }
                            td { (p.source.as_deref().unwrap_or("—")) }
                            td { (p.publisher.as_deref().unwrap_or("—")) }
                            td { (p.company.as_deref().unwrap_or("—")) }
                            td { (m.first_seen.get(..19).unwrap_or(&m.first_seen)) }
                            td { (m.last_seen.get(..19).unwrap_or(&m.last_seen)) }
                            td {
                                @for l in &m.leads {
                                    a href=(lead_href(&l.lead_id)) { code { (l.lead_id.get(..12).unwrap_or(&l.lead_id)) } }
                                    " " (l.category) " · " (l.status)
                                    @if let Some(a) = &l.assigned_to { " · " (a) }
                                    br;
                                }
                            }
                        }
                    }
                }
            }
        }
        @if c.truncated { p.muted { "Only the first " (MAX_MEMBER_LEADS) " of " (c.leads) " leads are listed." } }
        h2 { "历史 History" }
        @if d.events.is_empty() { p.muted { "No merges, splits or assignments." } }
        ol.timeline {
            @for e in &d.events {
                li {
                    (e.at) " · " b { (e.actor) } " " (e.action)
                    @if let Some(o) = e.other { " " a href=(campaign_href(o)) { "#" (o) } }
                    @if let Some(k) = &e.key { " by " code { (k) } }
                    @if let Some(n) = &e.note { ": " (n) }
                }
            }
        }
    };
    layout(&title, Some(session), body)
}

#[derive(Deserialize)]
pub struct AssignForm {
    to: String,
    #[serde(default)]
    note: String,
}

/// Assigns every lead of a campaign as the logged-in supervisor or admin.
pub async fn assign(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Form(form): Form<AssignForm>,
) -> Result<Response, WebError> {
    if !session.role.may_assign() {
        return Err(WebError::status(
            StatusCode::FORBIDDEN,
            "only a supervisor or an admin assigns leads",
        ));
    }
    let to = form.to.trim().to_string();
    let note = Some(form.note.trim().to_string()).filter(|n| !n.is_empty());
    // Checked here so that what the store then refuses is its own failure, not the form's.
    if to.is_empty() || to.chars().count() > MAX_ACTOR_CHARS {
        return Err(WebError::status(StatusCode::BAD_REQUEST, "assign to whom?"));
    }
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS - 40)
    {
        return Err(WebError::status(
            StatusCode::BAD_REQUEST,
            format!("a note has at most {} characters", MAX_NOTE_CHARS - 40),
        ));
    }
    let actor = session.name.clone();
    let done = blocking(&app, move |q| {
        q.assign_campaign(
            id,
            &to,
            &actor,
            note.as_deref(),
            &xuncha_core::now_rfc3339(),
        )
    })
    .await?;
    match done {
        Some(_) => Ok((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, campaign_href(id))],
        )
            .into_response()),
        None => Err(WebError::status(StatusCode::NOT_FOUND, "no such campaign")),
    }
}
