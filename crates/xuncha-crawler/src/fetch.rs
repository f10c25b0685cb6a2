//! One fetch: SSRF guard, politeness, conditional GET, retries with backoff, a bounded
//! body decoded from its content coding, all within a deadline.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use time::OffsetDateTime;
use tokio::time::Instant;
use url::Url;

use crate::metrics::{class, CrawlMetrics};
use crate::net::{self, host_key, GuardedResolver, SsrfRefused};
use crate::politeness::HostGates;
use crate::{CrawlerConfig, SiteProfile};

/// Why a URL could not be fetched. Its message starts with the URL.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {kind}")]
pub struct FetchError {
    /// The URL asked for.
    pub url: String,
    /// What went wrong.
    pub kind: FetchErrorKind,
}

/// What went wrong with a fetch.
#[derive(Debug, thiserror::Error)]
pub enum FetchErrorKind {
    /// No complete response within `response_timeout` (or no connection within
    /// `connect_timeout`), after every retry.
    #[error("timed out")]
    Timeout,
    /// A status that is not success (after every retry for 429 and 5xx).
    #[error("HTTP status {0}")]
    Status(u16),
    /// Too many redirects, a redirect loop, or a redirect to a refused address.
    #[error("redirect: {0}")]
    Redirect(String),
    /// The SSRF guard refused the address.
    #[error("{0}")]
    Refused(String),
    /// The server asked to wait longer than `backoff_max`.
    #[error("server asked to retry after {0:?}, longer than backoff_max; given up for now")]
    RetryAfterTooLong(Duration),
    /// The body could not be decoded from its content coding.
    #[error("content decoding: {0}")]
    Decode(String),
    /// Any other transport failure.
    #[error("{0}")]
    Http(String),
}

/// Validators of an earlier response, for a conditional GET.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// Which hosts of a fetch may have private addresses. The exemption is judged for every
/// hop of a redirect chain: a profile's own host may be on the regulator's network (a test
/// board on 127.0.0.1), a host it redirects to may not.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PrivateHosts<'a> {
    /// None: every hop is guarded.
    None,
    /// The hosts a site profile allows (it set `allow_private_addresses`).
    Of(&'a SiteProfile),
    /// Only the host of this URL (an ad hoc fetch allowed private addresses).
    Only(&'a Url),
}

impl PrivateHosts<'_> {
    /// The exemption a profile asks for.
    pub fn of(p: &SiteProfile) -> PrivateHosts<'_> {
        if p.allow_private_addresses {
            PrivateHosts::Of(p)
        } else {
            PrivateHosts::None
        }
    }

    /// Whether `url`'s host may be a private address.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        match self {
            PrivateHosts::None => false,
            PrivateHosts::Of(p) => p.allows_host(host),
            PrivateHosts::Only(first) => first.host_str() == Some(host),
        }
    }
}

pub(crate) struct FetchRequest<'a> {
    pub url: &'a Url,
    pub private: PrivateHosts<'a>,
    pub rate_per_sec: f64,
    pub validators: Option<&'a Validators>,
    /// Skip (without reading the body) anything that is not HTML.
    pub html_only: bool,
}

/// A response as captured, body decoded from its content coding but not from its charset.
pub(crate) struct Response {
    pub final_url: Url,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub captured_at: OffsetDateTime,
    /// The body was longer than `max_body_bytes` (as sent or once decoded): `body` holds
    /// its first `max_body_bytes`, so padding a page cannot hide what it starts with.
    pub truncated: bool,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.header("etag").map(str::to_owned),
            last_modified: self.header("last-modified").map(str::to_owned),
        }
    }
}

pub(crate) enum Fetched {
    Page(Response),
    /// 304 to a conditional GET.
    NotModified,
    /// Not HTML; the body was not read.
    NotHtml(String),
}

enum AttemptError {
    /// A redirect, to be judged as a new hop.
    Redirect(Url),
    Timeout,
    Retryable {
        status: u16,
        retry_after: Option<Duration>,
    },
    Fatal(FetchErrorKind),
}

pub(crate) struct Fetcher {
    guarded: reqwest::Client,
    open: reqwest::Client,
    cfg: Arc<CrawlerConfig>,
    metrics: CrawlMetrics,
    pub gates: HostGates,
}

impl Fetcher {
    pub fn new(cfg: Arc<CrawlerConfig>, metrics: CrawlMetrics) -> Result<Fetcher, reqwest::Error> {
        // Redirects are followed by `fetch`, one hop at a time, each hop judged anew.
        let build = |resolver: GuardedResolver| {
            reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .connect_timeout(cfg.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(cfg.concurrency.max(1))
                // A proxy would resolve names itself, out of the guard's reach.
                .no_proxy()
                .dns_resolver(Arc::new(resolver))
                .build()
        };
        Ok(Fetcher {
            guarded: build(GuardedResolver::Strict)?,
            open: build(GuardedResolver::AllowPrivate)?,
            cfg,
            metrics,
            gates: HostGates::default(),
        })
    }

    /// Fetches `req.url`, following redirects hop by hop: each hop is checked against the
    /// SSRF guard with the exemption of its own host (see [`PrivateHosts`]), and counted
    /// against `max_redirects`; a loop is refused.
    pub async fn fetch(&self, req: &FetchRequest<'_>) -> Result<Fetched, FetchError> {
        let mut url = req.url.clone();
        let mut seen: Vec<Url> = Vec::new();
        loop {
            let hop = FetchRequest {
                url: &url,
                private: req.private,
                rate_per_sec: req.rate_per_sec,
                validators: req.validators,
                html_only: req.html_only,
            };
            let next = match self.fetch_hop(&hop).await {
                Ok(Hop::Done(f)) => return Ok(f),
                Ok(Hop::Redirect(next)) => next,
                Err(mut e) => {
                    if !seen.is_empty() {
                        e.url = format!("{} (redirected to {url})", req.url);
                        if let FetchErrorKind::Refused(m) = e.kind {
                            e.kind = FetchErrorKind::Redirect(format!("to {url}: {m}"));
                        }
                    }
                    return Err(e);
                }
            };
            let fail = |m: String| FetchError {
                url: req.url.to_string(),
                kind: FetchErrorKind::Redirect(m),
            };
            seen.push(url);
            if seen.len() > self.cfg.max_redirects {
                return Err(fail(format!(
                    "more than {} redirects (last to {next})",
                    self.cfg.max_redirects
                )));
            }
            if seen.contains(&next) {
                return Err(fail(format!("redirect loop back to {next}")));
            }
            url = next;
        }
    }

    /// Fetches one hop, retrying timeouts, 429 and 5xx with exponential backoff and
    /// jitter, honouring `Retry-After`.
    async fn fetch_hop(&self, req: &FetchRequest<'_>) -> Result<Hop, FetchError> {
        let err = |kind| FetchError {
            url: req.url.to_string(),
            kind,
        };
        let exempt = req.private.allows(req.url);
        net::check_url(req.url, exempt).map_err(|m| err(FetchErrorKind::Refused(m)))?;
        let host = host_key(req.url);
        let gate = self.gates.get(&host, req.rate_per_sec);
        let client = if exempt { &self.open } else { &self.guarded };
        let mut attempt = 0u32;
        loop {
            gate.ready().await;
            let started = Instant::now();
            let result =
                tokio::time::timeout(self.cfg.response_timeout, self.attempt(client, req, &host))
                    .await
                    .unwrap_or(Err(AttemptError::Timeout));
            self.metrics
                .latency
                .with_label_values(&[&host])
                .observe(started.elapsed().as_secs_f64());
            let (kind, retry_after) = match result {
                Ok(fetched) => return Ok(Hop::Done(fetched)),
                Err(AttemptError::Redirect(next)) => return Ok(Hop::Redirect(next)),
                Err(AttemptError::Fatal(kind)) => {
                    return Err(err(kind));
                }
                Err(AttemptError::Timeout) => {
                    self.metrics
                        .fetches
                        .with_label_values(&[&host, "error"])
                        .inc();
                    (FetchErrorKind::Timeout, None)
                }
                Err(AttemptError::Retryable {
                    status,
                    retry_after,
                }) => (FetchErrorKind::Status(status), retry_after),
            };
            if attempt >= self.cfg.max_retries {
                return Err(err(kind));
            }
            match retry_after {
                Some(wait) if wait > self.cfg.backoff_max => {
                    gate.pause_until(Instant::now() + wait);
                    return Err(err(FetchErrorKind::RetryAfterTooLong(wait)));
                }
                // The server asked the whole host to wait, not only this page.
                Some(wait) => gate.pause_until(Instant::now() + wait),
                None => {
                    tokio::time::sleep(backoff(
                        attempt,
                        self.cfg.backoff_base,
                        self.cfg.backoff_max,
                    ))
                    .await
                }
            }
            self.metrics.retries.with_label_values(&[&host]).inc();
            tracing::debug!(url = %req.url, attempt, "retrying after {kind}");
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        client: &reqwest::Client,
        req: &FetchRequest<'_>,
        host: &str,
    ) -> Result<Fetched, AttemptError> {
        let mut rb = client
            .get(req.url.clone())
            .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
            .header(
                header::ACCEPT,
                "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            )
            .header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9");
        let conditional = req.validators.filter(|v| !v.is_empty());
        if let Some(v) = conditional {
            if let Some(etag) = &v.etag {
                rb = rb.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                rb = rb.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut resp = rb.send().await.map_err(|e| {
            self.metrics
                .fetches
                .with_label_values(&[host, "error"])
                .inc();
            classify(&e)
        })?;
        let status = resp.status().as_u16();
        self.metrics
            .fetches
            .with_label_values(&[host, class(status)])
            .inc();
        let captured_at = OffsetDateTime::now_utc();
        let final_url = resp.url().clone();
        let headers = header_pairs(resp.headers());
        let response = |body, truncated| Response {
            final_url: final_url.clone(),
            status,
            headers: headers.clone(),
            body,
            captured_at,
            truncated,
        };
        if status == 304 && conditional.is_some() {
            return Ok(Fetched::NotModified);
        }
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            let next = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|loc| final_url.join(loc).ok());
            return match next {
                Some(next) => Err(AttemptError::Redirect(next)),
                None => Err(AttemptError::Fatal(FetchErrorKind::Redirect(format!(
                    "HTTP {status} without a usable Location"
                )))),
            };
        }
        if status == 429 || (500..=599).contains(&status) {
            return Err(AttemptError::Retryable {
                status,
                retry_after: retry_after(resp.headers(), OffsetDateTime::now_utc()),
            });
        }
        if !(200..=299).contains(&status) {
            return Err(AttemptError::Fatal(FetchErrorKind::Status(status)));
        }
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if req.html_only && !content_type.is_empty() && !is_html(&content_type) {
            return Ok(Fetched::NotHtml(content_type));
        }
        let limit = self.cfg.max_body_bytes;
        let coding = resp
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let mut decoder = Decoder::new(&coding, limit).map_err(AttemptError::Fatal)?;
        let mut received = 0usize;
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
            received += chunk.len();
            self.metrics
                .bytes
                .with_label_values(&[host])
                .inc_by(chunk.len() as u64);
            match decoder.write(&chunk) {
                Ok(()) => {}
                // Past the limit, as sent or once decoded: keep what fits, read no more.
                Err(Stop::Full) => {
                    truncated = true;
                    break;
                }
                Err(Stop::Bad(e)) => return Err(AttemptError::Fatal(e)),
            }
            if received > limit {
                truncated = true;
                break;
            }
        }
        if !truncated {
            match decoder.finish() {
                Ok(()) => {}
                Err(Stop::Full) => truncated = true,
                Err(Stop::Bad(e)) => return Err(AttemptError::Fatal(e)),
            }
        }
        let body = decoder.into_kept();
        if req.html_only && content_type.is_empty() && !looks_like_html(&body) {
            return Ok(Fetched::NotHtml("(none; body is not markup)".into()));
        }
        Ok(Fetched::Page(response(body, truncated)))
    }
}

/// What one hop gave.
enum Hop {
    Done(Fetched),
    Redirect(Url),
}

fn classify(e: &reqwest::Error) -> AttemptError {
    if e.is_timeout() {
        return AttemptError::Timeout;
    }
    // reqwest's own message repeats the URL; the causes say what happened.
    let mut causes = Vec::new();
    let mut refused = false;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        refused |= s.is::<SsrfRefused>();
        let text = s.to_string();
        if causes.last() != Some(&text) {
            causes.push(text);
        }
        source = s.source();
    }
    let message = if causes.is_empty() {
        e.to_string()
    } else {
        causes.join(": ")
    };
    // No redirect error can come from reqwest: its policy is `none` and hops are ours.
    AttemptError::Fatal(if refused {
        FetchErrorKind::Refused(causes.last().cloned().unwrap_or(message))
    } else {
        FetchErrorKind::Http(message)
    })
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn is_html(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/html")
        || essence.eq_ignore_ascii_case("application/xhtml+xml")
}

fn looks_like_html(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    body.get(start) == Some(&b'<') || body.starts_with(b"\xEF\xBB\xBF<")
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    let now: std::time::SystemTime = now.into();
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with "equal jitter": half the delay fixed, half random, so that
/// many crawlers retrying one host do not come back in step.
fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20)).min(max);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

/// A `Write` sink that refuses to grow past a limit, so decoding stops at the limit
/// however small the compressed input was.
struct Limited {
    buf: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl Write for Limited {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            // Keep what fits: the start of an oversized page is still evidence.
            let room = self.limit - self.buf.len();
            self.buf.extend_from_slice(&data[..room]);
            self.exceeded = true;
            return Err(io::Error::other("body limit reached"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a decoder stopped taking bytes.
#[derive(Debug)]
enum Stop {
    /// The kept body reached its limit, as sent or once decoded: a truncated page, not an error.
    Full,
    /// The content coding is broken.
    Bad(FetchErrorKind),
}

enum Decoder {
    Identity(Limited),
    Gzip(flate2::write::GzDecoder<Limited>),
    Deflate(flate2::write::ZlibDecoder<Limited>),
    Brotli(Box<brotli_decompressor::DecompressorWriter<Limited>>),
}

impl Decoder {
    fn new(coding: &str, limit: usize) -> Result<Decoder, FetchErrorKind> {
        let sink = Limited {
            buf: Vec::with_capacity(limit.min(64 * 1024)),
            limit,
            exceeded: false,
        };
        Ok(match coding {
            "" | "identity" => Decoder::Identity(sink),
            "gzip" | "x-gzip" => Decoder::Gzip(flate2::write::GzDecoder::new(sink)),
            "deflate" => Decoder::Deflate(flate2::write::ZlibDecoder::new(sink)),
            "br" => Decoder::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(
                sink,
                16 * 1024,
            ))),
            other => {
                return Err(FetchErrorKind::Decode(format!(
                    "unsupported Content-Encoding {other:?}"
                )))
            }
        })
    }

    /// The decoded bytes kept so far (at most the limit), for a body cut short.
    fn into_kept(mut self) -> Vec<u8> {
        let sink = match &mut self {
            Decoder::Identity(s) => s,
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Deflate(d) => d.get_mut(),
            Decoder::Brotli(d) => d.get_mut(),
        };
        std::mem::take(&mut sink.buf)
    }

    fn sink(&self) -> &Limited {
        match self {
            Decoder::Identity(s) => s,
            Decoder::Gzip(d) => d.get_ref(),
            Decoder::Deflate(d) => d.get_ref(),
            Decoder::Brotli(d) => d.get_ref(),
        }
    }

    fn error(&self, e: io::Error) -> Stop {
        if self.sink().exceeded {
            Stop::Full
        } else {
            Stop::Bad(FetchErrorKind::Decode(e.to_string()))
        }
    }

    fn write(&mut self, chunk: &[u8]) -> Result<(), Stop> {
        let r = match self {
            Decoder::Identity(s) => s.write_all(chunk),
            Decoder::Gzip(d) => d.write_all(chunk),
            Decoder::Deflate(d) => d.write_all(chunk),
            Decoder::Brotli(d) => d.write_all(chunk),
        };
        r.map_err(|e| self.error(e))
    }

    /// Ends the stream; the body is then [`Decoder::into_kept`].
    fn finish(&mut self) -> Result<(), Stop> {
        let r = match self {
            Decoder::Identity(_) => Ok(()),
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Deflate(d) => d.try_finish(),
            Decoder::Brotli(d) => d.close(),
        };
        r.map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "7".parse().unwrap());
        let now = OffsetDateTime::now_utc();
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let later: std::time::SystemTime = (now + time::Duration::seconds(120)).into();
        h.insert(
            header::RETRY_AFTER,
            httpdate::fmt_http_date(later).parse().unwrap(),
        );
        let got = retry_after(&h, now).unwrap();
        assert!((118..=120).contains(&got.as_secs()), "{got:?}");
        h.insert(header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_grows_within_bounds() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for attempt in 0..8 {
            let d = backoff(attempt, base, max);
            let full = base.saturating_mul(1 << attempt).min(max);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'a'; 4 << 20]).unwrap();
        let bomb = enc.finish().unwrap();
        assert!(bomb.len() < 16 * 1024);
        let mut d = Decoder::new("gzip", 64 * 1024).unwrap();
        let err = bomb
            .chunks(1024)
            .map(|c| d.write(c))
            .find_map(Result::err)
            .expect("cut");
        assert!(matches!(err, Stop::Full), "{err:?}");
        assert_eq!(d.into_kept(), vec![b'a'; 64 * 1024], "the start is kept");
        let mut d = Decoder::new("gzip", 8 << 20).unwrap();
        d.write(&bomb).unwrap();
        d.finish().unwrap();
        assert_eq!(d.into_kept().len(), 4 << 20);
    }

    #[test]
    fn unknown_coding_is_an_error() {
        assert!(matches!(
            Decoder::new("zstd", 10),
            Err(FetchErrorKind::Decode(_))
        ));
    }

    #[test]
    fn html_is_recognised() {
        assert!(is_html("text/html; charset=gbk"));
        assert!(is_html("application/xhtml+xml"));
        assert!(!is_html("application/pdf"));
        assert!(looks_like_html(b"\n  <!doctype html>"));
        assert!(!looks_like_html(b"%PDF-1.4"));
    }
}
