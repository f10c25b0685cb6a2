//! The dashboard: what today brought (leads first seen since midnight, Beijing time) by
//! category and severity, with the chart the HTML report draws, by status, and the open
//! queue behind it.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::html;
use time::{OffsetDateTime, UtcOffset};
use xuncha_cases::{Facet, Filter, Session, Status};
use xuncha_core::{Category, Severity};

use super::{blocking, pages, App, WebError};
use crate::report;

/// The day starts at midnight in China (UTC+8), where the departments work.
const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The start of the Beijing day of `now`, as the store writes times (UTC, seconds).
pub fn day_start(now: OffsetDateTime) -> String {
    let local = now.to_offset(BEIJING);
    let midnight = local.replace_time(time::Time::MIDNIGHT);
    xuncha_core::rfc3339_seconds(midnight.to_offset(UtcOffset::UTC))
}

/// The whole store's counts the dashboard shows.
struct Figures {
    since: String,
    today: Vec<(String, String, u64)>,
    today_status: Vec<(String, u64)>,
    open: Vec<(String, u64)>,
}

pub async fn page(
    State(app): State<App>,
    Extension(session): Extension<Session>,
) -> Result<Response, WebError> {
    let since = day_start(OffsetDateTime::now_utc());
    let figures = blocking(&app, move |q| {
        let today = Filter {
            since: Some(since.clone()),
            ..Filter::default()
        };
        Ok(Figures {
            today: q.category_severity_counts(&today)?,
            today_status: q.counts(&today, Facet::Status)?,
            open: q.counts(&Filter::default(), Facet::Status)?,
            since,
        })
    })
    .await?;
    let total: u64 = figures.today.iter().map(|r| r.2).sum();
    let known: Vec<(Category, Severity, usize)> = figures
        .today
        .iter()
        .filter_map(|(c, s, n)| Some((c.parse().ok()?, s.parse().ok()?, *n as usize)))
        .collect();
    let today_href = |status: &str| {
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        u.append_pair("since", &figures.since);
        if !status.is_empty() {
            u.append_pair("status", status);
        }
        format!("/?{}", u.finish())
    };
    let body = html! {
        h1 { "今日概况 Today" }
        p.muted { "自 Since " (figures.since) " (北京时间零点 midnight, Beijing time) · "
            a href=(today_href("")) { (total) " 条新线索 new leads" } }
        h2 { "按类别和严重程度 By category and severity" }
        @if known.is_empty() { p { "今日尚无线索 No leads yet today." } }
        @else { (report::summary(known)) }
        h2 { "按状态 By status" }
        table.queue {
            thead { tr { th { "状态 Status" } th.num { "今日 Today" } th.num { "全部 All" } } }
            tbody {
                @for s in Status::ALL {
                    @let find = |v: &[(String, u64)]| v.iter().find(|(k, _)| k == s.as_str()).map_or(0, |r| r.1);
                    tr {
                        td { a href=(today_href(s.as_str())) { (s.as_str()) } }
                        td.num { (find(&figures.today_status)) }
                        td.num { (find(&figures.open)) }
                    }
                }
            }
        }
    };
    Ok(pages::page("今日概况 Dashboard", &session, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_starts_at_beijing_midnight() {
        let t = OffsetDateTime::parse(
            "2026-12-02T17:30:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        // 01:30 on the 3rd in Beijing: the day began at 16:00 UTC on the 2nd.
        assert_eq!(day_start(t), "2026-12-02T16:00:00Z");
        let t = OffsetDateTime::parse(
            "2026-12-02T15:59:59Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(day_start(t), "2026-12-01T16:00:00Z");
    }
}
