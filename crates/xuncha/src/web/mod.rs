//! The analysts' console: the case queue as server-rendered pages (axum, maud), on the
//! same case store as `xuncha leads`, and the rules as the verdicts judge them.
//!
//! Postings are hostile input and the console is where people read them, so every page is
//! a maud template (every value escaped), the Content-Security-Policy lets nothing run or
//! load, and only `/healthz` answers without a session. The store blocks (SQLite, or a
//! PostgreSQL client), so each call to it runs on the blocking pool, never on a thread
//! that drives requests.

pub mod auth;
pub mod campaigns;
pub mod pages;
pub mod routes;
pub mod rules_page;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use xuncha_cases::CaseQueue;

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    pub queue: Arc<CaseQueue>,
    pub logins: Arc<auth::LoginLimiter>,
    /// Password checks running at once: each takes an argon2 pass of 19 MiB, and many
    /// addresses trying at once must queue, not exhaust memory.
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Whether cookies carry `Secure` (off only for plain HTTP on purpose).
    pub secure_cookies: bool,
}

/// A page that could not be made: its status and what the user is told.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    message: String,
}

impl WebError {
    pub fn status(status: StatusCode, message: impl Into<String>) -> WebError {
        WebError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        (self.status, pages::message(title, &self.message)).into_response()
    }
}

/// Runs `f` on the case store on the blocking pool. A store failure is logged and shown
/// as a 500 without its detail.
pub async fn blocking<R: Send + 'static>(
    app: &App,
    f: impl FnOnce(&CaseQueue) -> anyhow::Result<R> + Send + 'static,
) -> Result<R, WebError> {
    let q = app.queue.clone();
    match tokio::task::spawn_blocking(move || f(&q)).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "console: case store");
            Err(WebError::status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the case store failed; see the server log",
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "console: a store call panicked");
            Err(WebError::status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            ))
        }
    }
}

/// Serves the console on `addr` until the process ends; returns the bound address.
pub async fn serve(
    addr: &str,
    queue: Arc<CaseQueue>,
    secure_cookies: bool,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the console to {addr}"))?;
    let bound = listener.local_addr()?;
    let logins = Arc::new(auth::login_limiter());
    // Addresses that stopped trying are forgotten, so the table stays small.
    let forget = logins.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            forget.retain_recent();
            forget.shrink_to_fit();
        }
    });
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let app = routes::router(App {
        queue,
        logins,
        hashing: Arc::new(tokio::sync::Semaphore::new(cores)),
        secure_cookies,
    });
    tokio::spawn(crate::telemetry::accept_loop(listener, app));
    Ok(bound)
}
