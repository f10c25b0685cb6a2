//! The console's routes, from one list: the router is built from [`ROUTES`] alone, and
//! `xuncha serve --routes` prints it, so the test that every page but the anonymous ones
//! sends a stranger to the login page covers every route there is.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::{Extension, Form, Router};
use serde::Deserialize;
use xuncha_cases::{
    Change, Cursor, Filter, Session, Status, Verdict, MAX_ACTOR_CHARS, MAX_NOTE_CHARS,
};

use super::pages::{self, FilterValues};
use super::{auth, blocking, campaigns, dashboard, evidence, recheck, rules_page, App, WebError};

/// One route of the console.
pub struct Route {
    pub method: &'static str,
    /// As axum writes it (`{id}` a path parameter).
    pub path: &'static str,
    /// Whether it answers without a session.
    pub anonymous: bool,
    handler: fn() -> MethodRouter<App>,
}

/// Every route the console serves.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/healthz",
        anonymous: true,
        handler: || get(|| async { "ok\n" }),
    },
    Route {
        method: "GET",
        path: "/login",
        anonymous: true,
        handler: || get(auth::login_page),
    },
    Route {
        method: "POST",
        path: "/login",
        anonymous: true,
        handler: || post(auth::login),
    },
    Route {
        method: "POST",
        path: "/logout",
        anonymous: false,
        handler: || post(auth::logout),
    },
    Route {
        method: "GET",
        path: "/",
        anonymous: false,
        handler: || get(queue),
    },
    Route {
        method: "GET",
        path: "/leads/{id}",
        anonymous: false,
        handler: || get(lead),
    },
    Route {
        method: "POST",
        path: "/leads/{id}/mark",
        anonymous: false,
        handler: || post(mark),
    },
    Route {
        method: "GET",
        path: "/campaigns",
        anonymous: false,
        handler: || get(campaigns::list),
    },
    Route {
        method: "GET",
        path: "/campaigns/{id}",
        anonymous: false,
        handler: || get(campaigns::show),
    },
    Route {
        method: "POST",
        path: "/campaigns/{id}/assign",
        anonymous: false,
        handler: || post(campaigns::assign),
    },
    Route {
        method: "GET",
        path: "/rules",
        anonymous: false,
        handler: || get(rules_page::list),
    },
    Route {
        method: "GET",
        path: "/rules/{id}",
        anonymous: false,
        handler: || get(rules_page::rule),
    },
    Route {
        method: "POST",
        path: "/rules/{id}/lift",
        anonymous: false,
        handler: || post(rules_page::lift),
    },
    Route {
        method: "POST",
        path: "/leads/{id}/recheck",
        anonymous: false,
        handler: || post(recheck::now),
    },
    Route {
        method: "GET",
        path: "/leads/{id}/evidence/{sha}",
        anonymous: false,
        handler: || get(evidence::page),
    },
    Route {
        method: "GET",
        path: "/dashboard",
        anonymous: false,
        handler: || get(dashboard::page),
    },
];

/// Leads on one page of the queue.
pub const PAGE: usize = 50;

/// The console's router. A path both anonymous and not under different methods would
/// need its session check per method; [`ROUTES`] has none.
pub fn router(app: App) -> Router {
    let mut by_path: Vec<(&str, bool, MethodRouter<App>)> = Vec::new();
    for r in ROUTES {
        let m = (r.handler)();
        match by_path.iter_mut().find(|(p, _, _)| *p == r.path) {
            Some((_, anonymous, existing)) => {
                assert_eq!(
                    *anonymous, r.anonymous,
                    "{} mixes anonymous and not",
                    r.path
                );
                *existing = std::mem::take(existing).merge(m);
            }
            None => by_path.push((r.path, r.anonymous, m)),
        }
    }
    let session = middleware::from_fn_with_state(app.clone(), auth::require_session);
    let mut router = Router::new();
    for (path, anonymous, m) in by_path {
        let m = if anonymous {
            m
        } else {
            m.route_layer(session.clone())
        };
        router = router.route(path, m);
    }
    // Anything else is not found, but a stranger is not told even that.
    let not_found = any(|| async { WebError::status(StatusCode::NOT_FOUND, "no such page") })
        .layer(session)
        .with_state(app.clone());
    router
        .fallback_service(not_found)
        .layer(middleware::map_response(security_headers))
        .with_state(app)
}

/// What every answer carries: nothing in a page may run, load or be framed, no address
/// leaks to another site, no answer is kept in a cache. An answer with a stricter policy
/// of its own (a stored page's `sandbox`) keeps it.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn bad_request(e: impl std::fmt::Display) -> WebError {
    WebError::status(StatusCode::BAD_REQUEST, e.to_string())
}

/// The queue's query parameters as a store filter; empty fields are no filter.
fn filter_of(
    q: &HashMap<String, String>,
    divisions: &[xuncha_rules::Division],
) -> Result<(Filter, FilterValues), WebError> {
    let mut f = Filter::default();
    let mut shown = FilterValues::default();
    for name in FilterValues::NAMES {
        let Some(v) = q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            continue;
        };
        match name {
            "category" => f.category = Some(v.parse().map_err(bad_request)?),
            "severity" => f.min_severity = Some(v.parse().map_err(bad_request)?),
            "status" => f.status = Some(v.parse().map_err(bad_request)?),
            "verdict" => f.verdict = Some(v.parse().map_err(bad_request)?),
            "assignee" => f.assigned_to = Some(v.into()),
            "source" => f.source = Some(v.into()),
            "publisher" => f.publisher = Some(v.into()),
            "region" => {
                f.region = Some(
                    crate::cmd::leads::division_code(divisions, v)
                        .map_err(|e| bad_request(format!("region: {e:#}")))?,
                )
            }
            "since" => f.since = Some(time_bound("since", v)?),
            "until" => f.until = Some(time_bound("until", v)?),
            "sort" => f.order = v.parse().map_err(bad_request)?,
            _ => f.rule = Some(v.into()),
        }
        shown.pairs.push((name, v.to_string()));
    }
    Ok((f, shown))
}

/// A time filter as the store compares it: a date as given (it sorts before every time
/// of that day), a time in UTC to the second as the store writes times.
fn time_bound(name: &str, v: &str) -> Result<String, WebError> {
    use time::format_description::well_known::Rfc3339;
    let date = time::macros::format_description!("[year]-[month]-[day]");
    if time::Date::parse(v, &date).is_ok() {
        return Ok(v.to_string());
    }
    time::OffsetDateTime::parse(v, &Rfc3339)
        .map(|t| xuncha_core::rfc3339_seconds(t.to_offset(time::UtcOffset::UTC)))
        .map_err(|_| {
            bad_request(format!(
                "{name}: `{v}` is neither a date (2026-11-01) nor a time (2026-11-01T08:00:00+08:00)"
            ))
        })
}

async fn queue(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let (filter, shown) = filter_of(&q, &app.divisions)?;
    let order = filter.order;
    let after: Option<Cursor> = q
        .get("after")
        .filter(|a| !a.is_empty())
        .map(|a| a.parse().map_err(bad_request))
        .transpose()?;
    let counts_filter = filter.clone();
    let page = Filter {
        after,
        limit: Some(PAGE),
        ..filter
    };
    // A cursor of another order is the user's mistake, not the store's.
    let rows = match blocking(&app, move |q| Ok(q.list(&page))).await? {
        Ok(rows) => rows,
        Err(e) => return Err(bad_request(format!("{e:#}"))),
    };
    let counts = app
        .counts
        .by_category(&app, shown.counts_key(), counts_filter)
        .await?;
    let next = rows.last().filter(|_| rows.len() == PAGE).map(|last| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &shown.pairs {
            url.append_pair(k, v);
        }
        url.append_pair("after", &Cursor::after_in(last, order).to_string());
        format!("/?{}", url.finish())
    });
    let first = q.contains_key("after").then(|| shown.href());
    Ok(pages::queue(&session, &shown, &counts, &rows, first, next).into_response())
}

async fn lead(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let store = xuncha_crawler::EvidenceStore::new(app.evidence_dir.clone());
    let found = blocking(&app, move |q| {
        let Some(row) = q.get(&id)? else {
            return Ok(None);
        };
        let history = q.history(&id)?;
        // The pages of the lead that the evidence store holds, to link to.
        let stored: Vec<String> = evidence::named_by(&row.lead.posting.content_sha256, &history)
            .into_iter()
            .filter(|sha| evidence::confined(&store, sha).is_ok())
            .collect();
        let campaign = q.campaign_of_lead(&id)?.filter(|c| c.1 > 1);
        Ok(Some((row, history, q.events(&id)?, stored, campaign)))
    })
    .await?;
    let Some((row, history, events, stored, campaign)) = found else {
        return Err(WebError::status(StatusCode::NOT_FOUND, "no such lead"));
    };
    let laws = app.rule_laws.per_finding(&row.lead);
    Ok(pages::lead(&session, &row, &history, &events, campaign, &stored, laws).into_response())
}

#[derive(Deserialize)]
struct MarkForm {
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    to: String,
}

/// Acts on a lead as the logged-in user; assigning and reopening are for supervisors
/// and admins.
async fn mark(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Form(form): Form<MarkForm>,
) -> Result<Response, WebError> {
    let restricted = matches!(form.action.as_str(), "assign" | "reopen");
    if restricted && !session.role.may_assign() {
        return Err(WebError::status(
            StatusCode::FORBIDDEN,
            "only a supervisor or an admin assigns and reopens leads",
        ));
    }
    let change = match form.action.as_str() {
        "confirmed" => Change::Verdict(Verdict::Confirmed),
        "false_positive" => Change::Verdict(Verdict::FalsePositive),
        "close" => Change::Status(Status::Closed),
        "reopen" => Change::Status(Status::New),
        "note" => Change::Note,
        "assign" => Change::Assign(form.to.trim().to_string()),
        other => return Err(bad_request(format!("unknown action `{other}`"))),
    };
    let note = Some(form.note.trim().to_string()).filter(|n| !n.is_empty());
    // Checked here so that what the store then refuses is its own failure, not the form's.
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(bad_request(format!(
            "a note has at most {MAX_NOTE_CHARS} characters"
        )));
    }
    match &change {
        Change::Note if note.is_none() => return Err(bad_request("a note needs its text")),
        Change::Assign(to) if to.is_empty() || to.chars().count() > MAX_ACTOR_CHARS => {
            return Err(bad_request("assign to whom?"))
        }
        _ => {}
    }
    let actor = session.name.clone();
    let lead_id = id.clone();
    let changed = blocking(&app, move |q| {
        q.change(
            &lead_id,
            &change,
            &actor,
            note.as_deref(),
            &xuncha_core::now_rfc3339(),
        )
    })
    .await?;
    match changed {
        Some(_) => Ok((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, pages::lead_href(&id))],
        )
            .into_response()),
        None => Err(WebError::status(StatusCode::NOT_FOUND, "no such lead")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_router_is_built_from_every_route() {
        let dir = tempfile::tempdir().unwrap();
        let queue = xuncha_cases::CaseQueue::open(dir.path().join("q.db")).unwrap();
        // Building panics on a route axum cannot take (a bad path, a layer on nothing).
        let _ = router(App::new(
            Arc::new(queue),
            super::super::Options {
                secure_cookies: true,
                recheck: recheck::RecheckSettings {
                    sites_dir: dir.path().join("sites"),
                    evidence_dir: dir.path().join("evidence"),
                    allow_private_addresses: false,
                },
                proxy: None,
                divisions: Vec::new(),
                rule_laws: Default::default(),
            },
        ));
        let healthz = ROUTES.iter().filter(|r| r.anonymous).map(|r| r.path);
        assert!(healthz.eq(["/healthz", "/login", "/login"]));
    }

    #[test]
    fn time_filters_are_dates_or_times_in_utc() {
        assert_eq!(time_bound("since", "2026-11-01").unwrap(), "2026-11-01");
        assert_eq!(
            time_bound("since", "2026-11-01T08:00:00+08:00").unwrap(),
            "2026-11-01T00:00:00Z"
        );
        assert!(time_bound("until", "yesterday").is_err());
        assert!(time_bound("until", "2026-13-01").is_err());
    }

    #[test]
    fn lead_links_hold_any_id() {
        assert_eq!(pages::lead_href("ab12-x_y"), "/leads/ab12-x_y");
        assert_eq!(pages::lead_href("a/b?c"), "/leads/a%2Fb%3Fc");
    }
}
