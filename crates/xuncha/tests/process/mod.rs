//! `xuncha` as a child process in a throwaway checkout, for the tests that drive the binary.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The repository's root, for its rules and default settings.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `xuncha ARGS` in `dir` with the repository's rules, telemetry on a free port and the
/// default paths under `dir`. Inbox files are taken 100 ms after they settle: these tests
/// write them whole (tests/inbox.rs removes this to test the shipped setting).
pub fn xuncha(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xuncha"));
    c.args(args)
        .current_dir(dir)
        .env("XUNCHA_RULES", repo().join("rules"))
        .env("XUNCHA_HTTP_ADDR", "127.0.0.1:0")
        .env("XUNCHA_INBOX__SETTLE_MS", "100")
        .env_remove("XUNCHA_DB")
        .env_remove("XUNCHA_SITES_DIR")
        .env_remove("XUNCHA_EVIDENCE");
    c
}

/// The standard output of a run that must have succeeded; both streams on failure.
pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A fresh checkout's layout: config/ and the default paths under data/.
pub fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    std::fs::copy(
        repo().join("config/default.toml"),
        dir.path().join("config/default.toml"),
    )
    .unwrap();
    dir
}

/// The demo postings dropped into the inbox as `name`, ready for a `run`.
pub fn feed_examples(d: &Path, name: &str) {
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    std::fs::copy(
        repo().join("examples/postings.jsonl"),
        d.join("data/inbox").join(name),
    )
    .unwrap();
}

/// A checkout whose case queue `xuncha run --once` filled from the demo postings.
pub fn filed_examples() -> tempfile::TempDir {
    let dir = checkout();
    feed_examples(dir.path(), "examples.jsonl");
    ok(xuncha(dir.path(), &["run", "--once"]).output().unwrap());
    dir
}

/// A loopback port nobody listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The whole response to `GET path` on a loopback port; `None` if it cannot be had in 5 s.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// Polls `cond` until it holds; fails after a minute, naming `what`.
pub fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
