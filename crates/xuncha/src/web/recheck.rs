//! "Recheck now" on a lead: the recheck `xuncha leads recheck --lead ID` runs, for one
//! lead, asked from its page.
//!
//! The fetch runs on a thread of the blocking pool with a runtime of its own, so a slow
//! site never holds a thread that serves pages; at most [`RECHECKS_AT_ONCE`] run at once
//! (more are told to wait), and each is given [`RECHECK_LIMIT`]. The outcome goes into
//! the lead's recheck history as any recheck's does, and a note in its timeline names who
//! asked for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use xuncha_cases::{Change, Session};
use xuncha_crawler::{CrawlerConfig, GenericSite};

use super::{blocking, pages, App, WebError};

/// Rechecks running at once, over all users.
pub const RECHECKS_AT_ONCE: usize = 2;
/// The longest one recheck may take, its fetch's retries included.
pub const RECHECK_LIMIT: Duration = Duration::from_secs(45);

/// Where rechecks fetch with and keep what they fetch.
#[derive(Debug, Clone)]
pub struct RecheckSettings {
    /// Site profiles (pages on their hosts are read with their selectors).
    pub sites_dir: PathBuf,
    /// The evidence store.
    pub evidence_dir: PathBuf,
    /// Whether hosts no profile covers may be private or loopback addresses (a test site).
    pub allow_private_addresses: bool,
}

/// Rechecks one lead now and returns to its page.
pub async fn now(
    State(app): State<App>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let Ok(permit) = app.rechecks.clone().try_acquire_owned() else {
        return Err(WebError::status(
            StatusCode::TOO_MANY_REQUESTS,
            "other rechecks are running; try again in a minute",
        ));
    };
    let lead_id = id.clone();
    let Some(due) = blocking(&app, move |q| q.due_lead(&lead_id)).await? else {
        return Err(WebError::status(
            StatusCode::NOT_FOUND,
            "no such lead, or its posting has no address to fetch",
        ));
    };
    let settings = app.recheck.clone();
    let queue = app.queue.clone();
    let ran = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let _permit = permit;
        let rechecker = crate::recheck::build_rechecker(
            &settings.sites_dir,
            &settings.evidence_dir,
            CrawlerConfig {
                max_retries: 1,
                ..CrawlerConfig::default()
            },
            GenericSite {
                allow_private_addresses: settings.allow_private_addresses,
                ..GenericSite::default()
            },
            None,
        )?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let mut said = String::new();
        let round = crate::recheck::recheck_leads(&queue, &rechecker, vec![due], |_, r| {
            said = match (r.http_status, &r.error) {
                (Some(s), _) => format!("{} (HTTP {s})", r.outcome),
                (None, Some(e)) => format!("{} ({e})", r.outcome),
                (None, None) => r.outcome.to_string(),
            };
        });
        match rt.block_on(tokio::time::timeout(RECHECK_LIMIT, round)) {
            Ok(r) => r.map(|_| said),
            Err(_) => anyhow::bail!("the recheck took longer than {RECHECK_LIMIT:?}"),
        }
    })
    .await;
    let note = match ran {
        Ok(Ok(said)) => format!("立即复查 recheck now: {said}"),
        Ok(Err(e)) => {
            tracing::warn!(lead = %id, error = %format!("{e:#}"), "console: recheck now");
            format!("立即复查未完成 recheck now did not finish: {e:#}")
        }
        Err(e) => {
            tracing::error!(lead = %id, error = %e, "console: a recheck panicked");
            "立即复查未完成 recheck now did not finish".to_string()
        }
    };
    let (lead_id, actor) = (id.clone(), session.name.clone());
    blocking(&app, move |q| {
        q.change(
            &lead_id,
            &Change::Note,
            &actor,
            Some(&note),
            &xuncha_core::now_rfc3339(),
        )
    })
    .await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            format!("{}#rechecks", pages::lead_href(&id)),
        )],
    )
        .into_response())
}

/// The semaphore of [`RECHECKS_AT_ONCE`].
pub fn slots() -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(RECHECKS_AT_ONCE))
}
