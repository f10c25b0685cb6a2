//! `xuncha serve` as a child process on a loopback port, plain HTTP requests to it, and a
//! hostile job site whose pages the console's rechecks fetch: what the console tests and
//! the browser tests share.

#![allow(dead_code)]

pub mod http;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::process::{ok, xuncha};

/// A console on a free port, stopped when dropped.
pub struct Console {
    child: Child,
    pub port: u16,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `xuncha serve` in `dir` (its store and evidence under `dir/data`) with `extra`
/// arguments; rechecks may fetch loopback pages.
pub fn serve(dir: &Path, extra: &[&str]) -> Console {
    let mut args = vec![
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--insecure-cookies",
        "--allow-private-addresses",
    ];
    args.extend_from_slice(extra);
    let mut child = xuncha(dir, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let port = http::console_port(&mut child);
    Console { child, port }
}

/// Adds an account to the store in `dir`, its password on standard input.
pub fn add_user(dir: &Path, name: &str, password: &str, role: &str) {
    let mut add = xuncha(dir, &["users", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{password}").unwrap();
    ok(add.wait_with_output().unwrap());
}

/// The page a hostile job site serves for every posting: a script that would mark the
/// window, and the deposit demand the lead flagged.
pub const HOSTILE_PAGE: &str =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>招聘普工</title></head>\
<body><script>window.pwned = 1; document.title = \"pwned\";</script>\
<img src=x onerror=\"window.pwned = 2\"><p>普工，入职先交300元押金。</p></body></html>";

/// A job site on a loopback port that answers every posting page with [`HOSTILE_PAGE`]
/// (and robots.txt with 404: everything allowed), for as long as the test process runs.
pub fn hostile_site() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let (status, body) = if head.starts_with("GET /robots.txt") {
                    ("404 Not Found", "")
                } else {
                    ("200 OK", HOSTILE_PAGE)
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    addr
}

/// A posting of the hostile site, as a feeder hands it in: its page's address and the
/// deposit demand.
pub fn hostile_posting(site: SocketAddr, id: &str) -> serde_json::Value {
    serde_json::json!({
        "schema": "xuncha.posting/1",
        "id": id,
        "source": "hostile",
        "url": format!("http://{site}/job/{id}.html"),
        "title": "招聘普工<script>window.pwned = 3</script>",
        "company": "某某劳务",
        "description": "普工，入职先交300元押金。<img src=x onerror=\"window.pwned = 4\">包吃住。",
    })
}
