//! A lead's stored pages, from the evidence store, as inert text.
//!
//! A captured page is the hostile site's own HTML: served as a page it would run its
//! scripts on the console's origin. It is served as `text/plain; charset=utf-8` (decoded
//! from its charset as the crawler read it), with `nosniff` so no browser guesses HTML,
//! `inline` so it is shown rather than saved, and a `sandbox` policy so that even a
//! browser that rendered it would give it no origin and no scripts. Only a page the lead
//! names (its capture's hash, or a recheck's) is served; the name must be a SHA-256, the
//! file must lie inside the evidence directory once links are resolved, and at most
//! [`MAX_EVIDENCE_BYTES`] of it is read.

use std::io::Read;
use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use xuncha_crawler::{decode_html, Capture, EvidenceStore};

use super::{blocking, App, WebError};

/// The most of a stored page read: the crawler keeps at most 5 MiB of a page.
pub const MAX_EVIDENCE_BYTES: u64 = 6 * 1024 * 1024;
/// The most of a capture record read.
const MAX_CAPTURE_BYTES: u64 = 256 * 1024;

/// The policy of an evidence answer: no origin, no scripts, nothing loaded.
pub const EVIDENCE_CSP: &str = "sandbox; default-src 'none'";

/// Whether `s` can name a file of the evidence store: 64 lowercase hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The hashes of the pages a lead names: its capture, then each recheck's page.
pub fn named_by(content_sha256: &str, rechecks: &[xuncha_cases::Recheck]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let evidence = rechecks
        .iter()
        .filter_map(|r| r.evidence.as_deref())
        .map(|e| e.trim_start_matches("sha256:"));
    for sha in std::iter::once(content_sha256).chain(evidence) {
        if is_sha256(sha) && !out.iter().any(|o| o == sha) {
            out.push(sha.to_string());
        }
    }
    out
}

/// `/leads/ID/evidence/SHA`.
pub fn href(lead_href: &str, sha: &str) -> String {
    format!("{lead_href}/evidence/{sha}")
}

/// Why a stored page cannot be served.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No file by that name.
    Missing,
    /// The name resolves outside the evidence directory (a link planted in it).
    Outside,
}

/// The body file of `sha` in `store`, if it is there and inside the store's directory.
pub fn confined(store: &EvidenceStore, sha: &str) -> Result<PathBuf, Refusal> {
    let root = store.dir().canonicalize().map_err(|_| Refusal::Missing)?;
    let path = store
        .body_path(sha)
        .canonicalize()
        .map_err(|_| Refusal::Missing)?;
    if !path.starts_with(&root) || !path.is_file() {
        return Err(Refusal::Outside);
    }
    Ok(path)
}

/// At most `limit` bytes of `path`, and whether there was more.
fn read_bounded(path: &Path, limit: u64) -> std::io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    let cut = bytes.len() as u64 > limit;
    bytes.truncate(limit as usize);
    Ok((bytes, cut))
}

/// A stored page of a lead.
pub async fn page(
    State(app): State<App>,
    UrlPath((id, sha)): UrlPath<(String, String)>,
) -> Result<Response, WebError> {
    if !is_sha256(&sha) {
        return Err(WebError::status(
            StatusCode::BAD_REQUEST,
            "an evidence page is named by its SHA-256 (64 hex digits)",
        ));
    }
    let store = EvidenceStore::new(app.evidence_dir.clone());
    let wanted = sha.clone();
    let found = blocking(&app, move |q| {
        let Some(row) = q.get(&id)? else {
            return Ok(None);
        };
        let named = named_by(&row.lead.posting.content_sha256, &q.history(&id)?);
        if !named.contains(&wanted) {
            return Ok(None);
        }
        let path = match confined(&store, &wanted) {
            Ok(p) => p,
            Err(r) => return Ok(Some(Err(r))),
        };
        let (body, cut) = read_bounded(&path, MAX_EVIDENCE_BYTES)?;
        let capture: Option<Capture> =
            read_bounded(&store.capture_path(&wanted), MAX_CAPTURE_BYTES)
                .ok()
                .and_then(|(b, _)| serde_json::from_slice(&b).ok());
        Ok(Some(Ok((body, cut, capture))))
    })
    .await?;
    let (body, cut, capture) = match found {
        None => {
            return Err(WebError::status(
                StatusCode::NOT_FOUND,
                "this lead names no such evidence page",
            ))
        }
        Some(Err(Refusal::Missing)) => {
            return Err(WebError::status(
                StatusCode::NOT_FOUND,
                "that page is not in the evidence store",
            ))
        }
        Some(Err(Refusal::Outside)) => {
            tracing::warn!(sha = %sha, "console: an evidence name resolves outside the evidence directory");
            return Err(WebError::status(
                StatusCode::FORBIDDEN,
                "that evidence file lies outside the evidence store",
            ));
        }
        Some(Ok(found)) => found,
    };
    let content_type = capture.as_ref().and_then(|c| {
        c.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone())
    });
    let (mut text, _, _) = decode_html(&body, content_type.as_deref(), None);
    if cut {
        text.push_str(&format!(
            "\n\n[xuncha: shown up to {MAX_EVIDENCE_BYTES} bytes; the stored file is longer]\n"
        ));
    }
    let mut res = (StatusCode::OK, text).into_response();
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "inline"),
        (header::CONTENT_SECURITY_POLICY, EVIDENCE_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(v) = HeaderValue::from_str(&sha) {
        h.insert("x-evidence-sha256", v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha256_names_pass() {
        assert!(is_sha256(&"ab".repeat(32)));
        for bad in [
            "../../etc/passwd".to_string(),
            "AB".repeat(32),
            "ab".repeat(31),
            format!("{}/x", "a".repeat(62)),
            String::new(),
        ] {
            assert!(!is_sha256(&bad), "{bad}");
        }
    }

    #[test]
    fn a_link_out_of_the_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(dir.path().join("evidence"));
        let inside = "a1".repeat(32);
        let outside = "b2".repeat(32);
        std::fs::create_dir_all(dir.path().join("evidence/a1")).unwrap();
        std::fs::create_dir_all(dir.path().join("evidence/b2")).unwrap();
        std::fs::write(store.body_path(&inside), "page").unwrap();
        std::fs::write(dir.path().join("secret"), "not evidence").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), store.body_path(&outside)).unwrap();
        assert!(confined(&store, &inside).is_ok());
        assert_eq!(confined(&store, &outside), Err(Refusal::Outside));
        assert_eq!(confined(&store, &"c3".repeat(32)), Err(Refusal::Missing));
    }

    #[test]
    fn reads_stop_at_their_bound() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![b'x'; 100]).unwrap();
        assert_eq!(read_bounded(&p, 10).unwrap(), (vec![b'x'; 10], true));
        assert!(!read_bounded(&p, 100).unwrap().1);
    }

    #[test]
    fn a_lead_names_its_capture_and_its_rechecks_pages() {
        let r = |e: Option<&str>| xuncha_cases::Recheck {
            lead_id: "l".into(),
            checked_at: "t".into(),
            outcome: xuncha_cases::RecheckOutcome::Online,
            http_status: Some(200),
            final_url: None,
            content_sha256: None,
            evidence: e.map(Into::into),
            flagged_present: None,
            flagged_found: None,
            flagged_total: None,
            error: None,
        };
        let a = "aa".repeat(32);
        let b = format!("sha256:{}", "bb".repeat(32));
        let named = named_by(&a, &[r(Some(&b)), r(None), r(Some("sha256:../x"))]);
        assert_eq!(named, [a, "bb".repeat(32)]);
        // A hash of the fields (an inbox posting) that is no file is still a name; the
        // store says whether it holds it.
        assert!(named_by("00", &[]).is_empty());
    }
}
