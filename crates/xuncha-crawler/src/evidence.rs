//! The content-addressed evidence store: the bytes of every captured page, named by their
//! SHA-256, so that a lead can be proved later by hashing the file.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xuncha_core::sha256_hex;

use crate::fetch::Response;

/// How a page was captured; written beside the body as `<sha256>.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    /// The URL asked for.
    pub url: String,
    /// The URL answered, after redirects.
    pub final_url: String,
    /// HTTP status.
    pub status: u16,
    /// Response headers as received, in order.
    pub headers: Vec<(String, String)>,
    /// Capture time, RFC 3339 UTC.
    pub captured_at: String,
    /// The crawler's `User-Agent`.
    pub user_agent: String,
    /// SHA-256 of the body file.
    pub sha256: String,
    /// Length of the body file.
    pub bytes: usize,
    /// The page was longer than the crawler reads: the body file is its first part.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// Files under a directory, `<dir>/<first two hex digits>/<sha256>`.
///
/// The body is the response as the server sent it, decoded from its content coding
/// (gzip, brotli) but not from its charset: the same page always yields the same file
/// whatever compression the server chose, and the `Content-Encoding` header in the
/// sidecar says how it travelled.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = xuncha_crawler::EvidenceStore::new(dir.path());
/// let capture = store.capture("http://a.example/1", "http://a.example/1", 200, vec![], "2026-01-01T00:00:00Z", "ua", b"<p>hi</p>");
/// let sha = store.put(b"<p>hi</p>", &capture).unwrap();
/// let bytes = std::fs::read(store.body_path(&sha)).unwrap();
/// assert_eq!(xuncha_core::sha256_hex(&bytes), sha);
/// ```
#[derive(Clone, Debug)]
pub struct EvidenceStore {
    dir: PathBuf,
}

impl EvidenceStore {
    /// A store rooted at `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> EvidenceStore {
        EvidenceStore { dir: dir.into() }
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the body with hash `sha256` is.
    pub fn body_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Where the capture record of `sha256` is.
    pub fn capture_path(&self, sha256: &str) -> PathBuf {
        self.body_path(sha256).with_extension("json")
    }

    /// A capture record for `body`.
    #[allow(clippy::too_many_arguments)]
    pub fn capture(
        &self,
        url: &str,
        final_url: &str,
        status: u16,
        headers: Vec<(String, String)>,
        captured_at: &str,
        user_agent: &str,
        body: &[u8],
    ) -> Capture {
        Capture {
            url: url.to_owned(),
            final_url: final_url.to_owned(),
            status,
            headers,
            captured_at: captured_at.to_owned(),
            user_agent: user_agent.to_owned(),
            sha256: sha256_hex(body),
            bytes: body.len(),
            truncated: false,
        }
    }

    /// Keeps a fetched response (the URL asked for, as `asked`): its body and capture
    /// record; returns the body's SHA-256.
    pub(crate) fn keep(
        &self,
        asked: &str,
        resp: &Response,
        user_agent: &str,
    ) -> io::Result<String> {
        let captured_at = xuncha_core::rfc3339(resp.captured_at);
        let mut capture = self.capture(
            asked,
            resp.final_url.as_str(),
            resp.status,
            resp.headers.clone(),
            &captured_at,
            user_agent,
            &resp.body,
        );
        capture.truncated = resp.truncated;
        self.put(&resp.body, &capture)
    }

    /// Stores `body` and its capture record; returns the body's SHA-256. Files are
    /// written once and made read-only: an identical body captured again keeps its first
    /// capture record (the crawl state records later fetches).
    pub fn put(&self, body: &[u8], capture: &Capture) -> io::Result<String> {
        let sha = capture.sha256.clone();
        debug_assert_eq!(sha, sha256_hex(body));
        let path = self.body_path(&sha);
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().expect("body path has a parent");
        // Captured pages may hold applicants' personal data: the operator's alone.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let record = serde_json::to_vec_pretty(capture).map_err(io::Error::other)?;
        // The record first, the body last: a body on disk always has its record.
        write_once(&self.capture_path(&sha), &record)?;
        write_once(&path, body)?;
        Ok(sha)
    }
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_once(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tmp{}", fastrand::u64(..)));
    // Private from the first byte, then read-only for the owner: evidence is never edited.
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.set_permissions(fs::Permissions::from_mode(0o400))?;
    drop(f);
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn evidence_is_readable_by_its_owner_alone() {
        let root = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(root.path().join("evidence"));
        let body = b"<p>hi</p>";
        let capture = store.capture(
            "http://a.example/1",
            "http://a.example/1",
            200,
            vec![],
            "2026-01-01T00:00:00Z",
            "ua",
            body,
        );
        let sha = store.put(body, &capture).unwrap();
        assert_eq!(mode(&store.body_path(&sha)), 0o400);
        assert_eq!(mode(&store.capture_path(&sha)), 0o400);
        assert_eq!(mode(store.body_path(&sha).parent().unwrap()), 0o700);
        assert_eq!(mode(store.dir()), 0o700);
    }
}
