//! The analysts' console: the case queue as server-rendered pages (axum, maud), on the
//! same case store as `xuncha leads`, and the rules as the verdicts judge them.
//!
//! Postings are hostile input and the console is where people read them, so every page is
//! a maud template (every value escaped), the Content-Security-Policy lets nothing run or
//! load, captured pages are served as sandboxed plain text, and only `/healthz` answers
//! without a session. The store blocks (SQLite, or a PostgreSQL client), so each call to
//! it runs on the blocking pool, never on a thread that drives requests.

pub mod auth;
pub mod campaigns;
pub mod counts;
pub mod dashboard;
pub mod evidence;
pub mod laws;
pub mod marks;
pub mod pages;
pub mod proxy;
pub mod recheck;
pub mod routes;
pub mod rules_page;

use std::net::SocketAddr;
use std::path::PathBuf;
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
    /// The evidence store leads' pages are read from.
    pub evidence_dir: PathBuf,
    /// How "recheck now" fetches.
    pub recheck: Arc<recheck::RecheckSettings>,
    /// Rechecks running at once.
    pub rechecks: Arc<tokio::sync::Semaphore>,
    /// Single sign-on through a reverse proxy's header, when configured.
    pub proxy: Option<Arc<proxy::TrustedProxy>>,
    /// Division names the queue's region filter takes besides codes.
    pub divisions: Arc<Vec<xuncha_rules::Division>>,
    /// The queue's counts, shared for a few seconds.
    pub counts: Arc<counts::CountsCache>,
    /// The provisions each rule cites.
    pub rule_laws: Arc<laws::RuleLaws>,
}

/// How the console is served, beside its store.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether cookies carry `Secure`.
    pub secure_cookies: bool,
    /// The evidence store, and how "recheck now" fetches into it.
    pub recheck: recheck::RecheckSettings,
    /// Single sign-on through a reverse proxy's header.
    pub proxy: Option<proxy::TrustedProxy>,
    /// Division names for the region filter.
    pub divisions: Vec<xuncha_rules::Division>,
    /// The provisions each rule cites, for the lead page.
    pub rule_laws: laws::RuleLaws,
}

impl App {
    /// The shared state of a console on `queue`.
    pub fn new(queue: Arc<CaseQueue>, options: Options) -> App {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        App {
            queue,
            logins: Arc::new(auth::login_limiter()),
            hashing: Arc::new(tokio::sync::Semaphore::new(cores)),
            secure_cookies: options.secure_cookies,
            evidence_dir: options.recheck.evidence_dir.clone(),
            recheck: Arc::new(options.recheck),
            rechecks: recheck::slots(),
            proxy: options.proxy.map(Arc::new),
            divisions: Arc::new(options.divisions),
            counts: Arc::default(),
            rule_laws: Arc::new(options.rule_laws),
        }
    }
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
    options: Options,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the console to {addr}"))?;
    let bound = listener.local_addr()?;
    let app = App::new(queue, options);
    // Addresses that stopped trying are forgotten, so the table stays small.
    let forget = app.logins.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            forget.retain_recent();
            forget.shrink_to_fit();
        }
    });
    tokio::spawn(crate::telemetry::accept_loop(listener, routes::router(app)));
    Ok(bound)
}
