//! Logs (tracing) and the HTTP endpoint for Prometheus and health checks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::Request;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus::{Encoder, IntGauge, Registry, TextEncoder};
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Sets up logging to stderr; `RUST_LOG` filters (default `info`).
pub fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[derive(Clone)]
struct AppState {
    registry: Registry,
    ready: IntGauge,
}

/// Most connections the endpoint holds at once; more wait in the kernel's backlog. A
/// scraper and a probe need a handful: the limit keeps idle clients from taking the file
/// descriptors the inbox and the database need.
pub const MAX_CONNECTIONS: usize = 64;
/// A client must send a request's headers within this time, idle keep-alive included.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// No connection lives longer than this, whatever it does.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// Serves `/metrics`, `/healthz` and `/readyz` on `addr` until the process ends; returns
/// the bound address (`:0` picks a free port).
pub async fn serve(addr: &str, registry: Registry, ready: IntGauge) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the HTTP endpoint to {addr}"))?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(AppState { registry, ready });
    tokio::spawn(accept_loop(listener, app));
    Ok(bound)
}

/// Accepts connections while fewer than [`MAX_CONNECTIONS`] are open, each with a header
/// timeout and a lifetime. An accept error (out of descriptors) is waited out, never fatal.
/// Each request carries its client's address as `ConnectInfo` (the console's login limit
/// is kept per address).
pub(crate) async fn accept_loop(listener: tokio::net::TcpListener, app: Router) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "HTTP endpoint cannot accept; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        tokio::spawn(async move {
            let _slot = slot;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let conn = http.serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        });
    }
}

async fn metrics(State(s): State<AppState>) -> (StatusCode, String) {
    let mut buf = Vec::new();
    match TextEncoder::new().encode(&s.registry.gather(), &mut buf) {
        Ok(()) => (StatusCode::OK, String::from_utf8_lossy(&buf).into_owned()),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn readyz(State(s): State<AppState>) -> (StatusCode, &'static str) {
    if s.ready.get() == 1 {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}
