//! Plain HTTP/1.0 requests to the console on loopback, and its login form: for the
//! console's tests and its load benchmark (benches/console_bench.rs).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;

/// The port a starting `xuncha serve` (its standard error piped) says it listens on,
/// waiting up to two minutes; what it said instead if it never does.
pub fn console_port(child: &mut Child) -> u16 {
    let stderr = BufReader::new(child.stderr.take().expect("standard error piped"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(addr) = line.split("console listening on http://").nth(1) {
                let _ = tx.send(Ok(addr.trim().to_string()));
            } else {
                let _ = tx.send(Err(line));
            }
        }
    });
    let mut said = Vec::new();
    let addr = loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(addr)) => break addr,
            Ok(Err(line)) => said.push(line),
            Err(_) => panic!("the console did not start: {}", said.join("\n")),
        }
    };
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `NAME=VALUE` of the cookie `name` this answer sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_string())
    }

    /// The value of the first hidden `csrf` field of the page.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect(&self.body) + 19;
        self.body[at..at + 64].to_string()
    }
}

/// One HTTP/1.0 request on the console's port, with extra header lines.
pub fn request_with(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = form.unwrap_or("");
    if form.is_some() || method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    Resp {
        status: status.parse().unwrap(),
        headers: lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
        body: body.to_string(),
    }
}

/// One HTTP/1.0 request on the console's port.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Resp {
    match cookie {
        Some(c) => request_with(port, method, path, &[("Cookie", c)], form),
        None => request_with(port, method, path, &[], form),
    }
}

pub fn get(port: u16, path: &str, cookie: &str) -> Resp {
    request(port, "GET", path, Some(cookie), None)
}

/// Percent-encodes every byte but ASCII letters and digits.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The answer to a login form filled with `name` and `password`.
pub fn try_login(port: u16, name: &str, password: &str) -> Resp {
    let page = request(port, "GET", "/login", None, None);
    assert_eq!(page.status, 200);
    let pairing = page.cookie("xuncha_login").expect("a login cookie");
    let form = format!(
        "csrf={}&name={}&password={}",
        page.csrf(),
        enc(name),
        enc(password)
    );
    request(port, "POST", "/login", Some(&pairing), Some(&form))
}

/// A session cookie (`xuncha_session=…`) for `user`.
pub fn login(port: u16, (name, password): (&str, &str)) -> String {
    let r = try_login(port, name, password);
    assert_eq!(r.status, 303, "{r:?}");
    r.cookie("xuncha_session").expect("a session cookie")
}
