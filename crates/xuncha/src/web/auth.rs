//! Who may see and do what: login with a per-address attempt budget, sessions in an
//! HttpOnly SameSite=Strict cookie, and the CSRF token every POST must carry.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use time::OffsetDateTime;
use xuncha_cases::Session;

use super::pages;
use super::{blocking, App, WebError};

/// The session cookie.
pub const SESSION_COOKIE: &str = "xuncha_session";
/// The cookie that pairs a login form with the browser that asked for it.
pub const LOGIN_COOKIE: &str = "xuncha_login";
/// How long a session lasts: a working day.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Login attempts one address may make at once; then one a minute.
pub const LOGIN_BURST: u32 = 20;
/// The largest form accepted: a note is at most a few thousand characters.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Login attempts per client address.
pub type LoginLimiter = DefaultKeyedRateLimiter<IpAddr>;

pub fn login_limiter() -> LoginLimiter {
    let burst = NonZeroU32::new(LOGIN_BURST).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_minute(NonZeroU32::MIN).allow_burst(burst))
}

/// The value of cookie `name` in the request's headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict (no other site
/// sends it along), Path=/, expiring after `max_age`; Secure unless the console is served
/// over plain HTTP on purpose.
fn set_cookie(app: &App, name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let secure = if app.secure_cookies { "; Secure" } else { "" };
    let v = format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        max_age.as_secs()
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares two tokens in time that does not depend on where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// In front of every page but the anonymous ones: a request without a live session goes
/// to the login page; a POST must carry the session's CSRF token in its `csrf` field.
/// The session is handed on to the page as an extension.
///
/// Behind a trusted single sign-on proxy, the user it names is logged in: their session
/// cookie is used if it is theirs, else a session is opened for them (the account must
/// exist and be enabled) and its cookie set on the answer. A POST must still carry the
/// token of the session its form was drawn for.
pub async fn require_session(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let token = cookie(req.headers(), SESSION_COOKIE);
    let proxied = app
        .proxy
        .as_ref()
        .and_then(|p| p.user(peer.ip(), req.headers()))
        .map(str::to_string);
    let found = match token {
        Some(token) => blocking(&app, move |q| q.session(&token, OffsetDateTime::now_utc())).await,
        None => Ok(None),
    };
    let mut opened: Option<String> = None;
    let session = match (found, proxied) {
        (Err(e), _) => return e.into_response(),
        (Ok(Some(s)), None) => s,
        (Ok(Some(s)), Some(name)) if s.name == name => s,
        (Ok(_), Some(name)) => match proxy_session(&app, name).await {
            Ok((token, s)) => {
                opened = Some(token);
                s
            }
            Err(e) => return e.into_response(),
        },
        (Ok(None), None) => return see_other("/login"),
    };
    let (parts, body) = req.into_parts();
    let body = if parts.method == Method::POST {
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return WebError::status(StatusCode::PAYLOAD_TOO_LARGE, "form too large")
                .into_response();
        };
        let sent = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        if !sent.is_some_and(|t| same_token(&t, &session.csrf)) {
            return WebError::status(StatusCode::FORBIDDEN, "missing or wrong form token")
                .into_response();
        }
        Body::from(bytes)
    } else {
        body
    };
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(session);
    let mut res = next.run(req).await;
    if let Some(token) = opened {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&app, SESSION_COOKIE, &token, SESSION_TTL),
        );
    }
    res
}

/// A new session for the user a trusted proxy named: 403 unless the account exists and
/// is enabled.
async fn proxy_session(app: &App, name: String) -> Result<(String, Session), WebError> {
    let opened = blocking(app, move |q| match q.user(&name)? {
        Some(u) if !u.disabled => q
            .create_session(&u.name, SESSION_TTL, OffsetDateTime::now_utc())
            .map(Some),
        _ => {
            tracing::warn!(user = %name, "console: the single sign-on proxy named no enabled account");
            Ok(None)
        }
    })
    .await?;
    opened.ok_or_else(|| {
        WebError::status(
            StatusCode::FORBIDDEN,
            "the single sign-on names no enabled account of this console",
        )
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// The login form, paired with this browser by a fresh token in a cookie.
pub async fn login_page(State(app): State<App>) -> Response {
    let token = xuncha_cases::random_token();
    let mut res = pages::login(&token, None).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, LOGIN_COOKIE, &token, Duration::from_secs(3600)),
    );
    res
}

/// Checks a login. An address past its attempt budget is answered 429 before any
/// password is looked at; an unknown name, a disabled account and a wrong password get
/// the same answer.
pub async fn login(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if app.logins.check_key(&peer.ip()).is_err() {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            pages::message(
                "登录尝试过多 Too many attempts",
                "请稍后再试。Try again later.",
            ),
        )
            .into_response();
    }
    let paired = cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_token(&c, &form.csrf));
    if !paired {
        return WebError::status(StatusCode::FORBIDDEN, "missing or wrong form token")
            .into_response();
    }
    let Ok(_hashing) = app.hashing.clone().acquire_owned().await else {
        return WebError::status(StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    };
    let (name, password) = (form.name, form.password);
    let opened = blocking(&app, move |q| {
        let Some(user) = q.verify_password(&name, &password)? else {
            return Ok(None);
        };
        q.create_session(&user.name, SESSION_TTL, OffsetDateTime::now_utc())
            .map(|(token, _)| Some(token))
    })
    .await;
    match opened {
        Ok(Some(token)) => {
            let mut res = see_other("/");
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, SESSION_COOKIE, &token, SESSION_TTL),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&app, LOGIN_COOKIE, "", Duration::ZERO),
            );
            res
        }
        Ok(None) => (
            StatusCode::UNAUTHORIZED,
            pages::login(&form.csrf, Some("用户名或密码错误 Wrong name or password")),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Ends the session and forgets its cookie.
pub async fn logout(
    State(app): State<App>,
    Extension(_session): Extension<Session>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = blocking(&app, move |q| q.delete_session(&token)).await {
            return e.into_response();
        }
    }
    let mut res = see_other("/login");
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, SESSION_COOKIE, "", Duration::ZERO),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("xuncha_session_old=a; xuncha_session=b"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("b"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
    }
}
