//! The telemetry endpoint under a hostile client: idle and slow connections are closed,
//! and however many arrive, the monitoring goes on.

mod process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use process::{free_port, http_get, repo, wait_for};

/// `xuncha run` in `dir` with at most `limit` file descriptors.
fn run_with_descriptors(dir: &Path, port: u16, limit: u32) -> std::process::Child {
    std::fs::create_dir_all(dir.join("data/inbox")).unwrap();
    let child = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n {limit} && exec {} run",
            env!("CARGO_BIN_EXE_xuncha")
        ))
        .current_dir(dir)
        .env("XUNCHA_RULES", repo().join("rules"))
        .env("XUNCHA_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("XUNCHA_INBOX__SETTLE_MS", "100")
        .env_remove("XUNCHA_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the endpoint", || {
        http_get(port, "/healthz").is_some_and(|b| b.contains("ok"))
    });
    child
}

/// One posting with a lead, into the inbox.
fn feed_one(dir: &Path) {
    std::fs::write(
        dir.join("data/inbox/feed.jsonl"),
        "{\"id\":\"a\",\"text\":\"入职需交押金500元\"}\n",
    )
    .unwrap();
}

/// SIGTERM, and a clean exit.
fn stop(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    assert!(child.wait().unwrap().success());
}

#[test]
fn idle_connections_cannot_exhaust_descriptors_and_slow_ones_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let mut child = run_with_descriptors(d, port, 256);
    // More idle connections than the process has descriptors.
    let idle: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert!(idle.len() >= 250, "the kernel's backlog took them");
    // A slowloris: half a request, then nothing.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    feed_one(d);
    wait_for("the inbox file to be scanned", || {
        d.join("data/done/feed.jsonl").exists()
    });
    assert!(child.try_wait().unwrap().is_none(), "the process is alive");
    // Held connections are closed by the header timeout, so the endpoint answers again.
    drop(idle);
    wait_for("the endpoint to answer again", || {
        http_get(port, "/healthz").is_some_and(|b| b.contains("ok"))
    });
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 64];
    let started = Instant::now();
    let n = slow.read(&mut buf).unwrap_or(0);
    assert!(
        n == 0 || String::from_utf8_lossy(&buf[..n]).contains("408"),
        "the slow client was cut off"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(child.try_wait().unwrap().is_none(), "the process is alive");
    stop(child);
}

/// Fewer descriptors than the endpoint's connection cap: accepting runs out of descriptors
/// before the cap is reached, and the inbox cannot open a file while the connections hold
/// them. Both wait; nothing exits; once the connections time out the file is scanned.
#[test]
fn running_out_of_descriptors_is_waited_out_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let mut child = run_with_descriptors(d, port, 48);
    let idle: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    feed_one(d);
    std::thread::sleep(Duration::from_secs(2));
    assert!(child.try_wait().unwrap().is_none(), "alive while starved");
    drop(idle);
    wait_for("the inbox file to be scanned", || {
        d.join("data/done/feed.jsonl").exists()
    });
    wait_for("the endpoint to answer again", || {
        http_get(port, "/healthz").is_some_and(|b| b.contains("ok"))
    });
    assert!(child.try_wait().unwrap().is_none(), "the process is alive");
    stop(child);
}
