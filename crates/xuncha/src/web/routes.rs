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
    Change, Cursor, Facet, Filter, Session, Status, Verdict, MAX_ACTOR_CHARS, MAX_NOTE_CHARS,
};

use super::pages::{self, FilterValues};
use super::{auth, blocking, campaigns, rules_page, App, WebError};

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
/// leaks to another site, no answer is kept in a cache.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ),
    );
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
fn filter_of(q: &HashMap<String, String>) -> Result<(Filter, FilterValues), WebError> {
    let mut f = Filter::default();
    let mut shown = FilterValues::default();
    for name in [
        "category",
        "severity",
        "status",
        "verdict",
        "assignee",
        "source",
        "publisher",
        "region",
        "rule",
    ] {
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
            "region" => f.region = Some(v.into()),
            _ => f.rule = Some(v.into()),
        }
        shown.pairs.push((name, v.to_string()));
    }
    Ok((f, shown))
}

async fn queue(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let (filter, shown) = filter_of(&q)?;
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
    let (counts, rows) = blocking(&app, move |q| {
        Ok((q.counts(&counts_filter, Facet::Category)?, q.list(&page)?))
    })
    .await?;
    let next = rows.last().filter(|_| rows.len() == PAGE).map(|last| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &shown.pairs {
            url.append_pair(k, v);
        }
        url.append_pair("after", &Cursor::after(last).to_string());
        format!("/?{}", url.finish())
    });
    Ok(pages::queue(&session, &shown, &counts, &rows, next).into_response())
}

async fn lead(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let found = blocking(&app, move |q| {
        let Some(row) = q.get(&id)? else {
            return Ok(None);
        };
        let campaign = q.campaign_of_lead(&id)?.filter(|c| c.1 > 1);
        Ok(Some((row, q.history(&id)?, q.events(&id)?, campaign)))
    })
    .await?;
    let Some((row, history, events, campaign)) = found else {
        return Err(WebError::status(StatusCode::NOT_FOUND, "no such lead"));
    };
    Ok(pages::lead(&session, &row, &history, &events, campaign).into_response())
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
        let _ = router(App {
            queue: Arc::new(queue),
            logins: Arc::new(auth::login_limiter()),
            hashing: Arc::new(tokio::sync::Semaphore::new(1)),
            secure_cookies: true,
        });
        let healthz = ROUTES.iter().filter(|r| r.anonymous).map(|r| r.path);
        assert!(healthz.eq(["/healthz", "/login", "/login"]));
    }

    #[test]
    fn lead_links_hold_any_id() {
        assert_eq!(pages::lead_href("ab12-x_y"), "/leads/ab12-x_y");
        assert_eq!(pages::lead_href("a/b?c"), "/leads/a%2Fb%3Fc");
    }
}
