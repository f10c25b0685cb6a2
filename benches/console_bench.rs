//! The console's queue page under load, with figures printed: a SQLite case store of N
//! synthetic leads (the case-store benchmark's), the release `xuncha serve` on
//! 127.0.0.1, 20 users logged in through the login form, each requesting the queue page
//! back to back for a fixed time: without a filter, with one (category and status), most
//! serious first, and with a filter that changes on every request (a site and a category
//! out of 40 × 16; seven combinations in eight match nothing, since the synthetic sites
//! and categories coincide only every eighth lead, the worst case of a filter: every index
//! entry of it is read). Latency p50/p95/p99 and requests/s, over every request of the
//! 20 users. A filter's counts are shared for 10 s, as the console shares them.
//!
//! ```sh
//! cargo build --release -p xuncha
//! cargo run --release -p xuncha-benches --bin console-bench -- 1000000 30
//! ```
//!
//! The filled store is kept in the system's temporary folder
//! (`xuncha-console-bench-N.db`) and used again by the next run with the same N.

#[path = "../crates/xuncha/tests/serve/http.rs"]
mod http;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use xuncha_benches::case_store::fill;
use xuncha_cases::{CaseQueue, Role};

const USERS: usize = 20;
/// Every request is refused past this many per user, whatever the time left.
const MAX_REQUESTS_PER_USER: usize = 100_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Console(Child);

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(db: &std::path::Path) -> (Console, u16) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let xuncha = target.join("release/xuncha");
    assert!(
        xuncha.exists(),
        "build it first: cargo build --release -p xuncha"
    );
    let mut child = Command::new(&xuncha)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--insecure-cookies",
            "--db",
        ])
        .arg(db)
        .arg("--rules")
        .arg(repo().join("rules"))
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let port = http::console_port(&mut child);
    (Console(child), port)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// 20 users requesting `path_of(user, i)` back to back for `secs`; prints the figures.
fn load(port: u16, cookies: &[String], secs: u64, what: &str, path_of: fn(usize, usize) -> String) {
    let until = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let handles: Vec<_> = cookies
        .iter()
        .cloned()
        .enumerate()
        .map(|(u, cookie)| {
            std::thread::spawn(move || {
                let mut times = Vec::new();
                for i in 0..MAX_REQUESTS_PER_USER {
                    if Instant::now() >= until {
                        break;
                    }
                    let path = path_of(u, i);
                    let t = Instant::now();
                    let r = http::get(port, &path, &cookie);
                    times.push(t.elapsed());
                    assert_eq!(r.status, 200, "{path}: {:?}", r.headers);
                }
                times
            })
        })
        .collect();
    let mut times: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    times.sort();
    println!(
        "{what:<44} {:>6} requests  {:>7.1} req/s  p50 {:>9.2?}  p95 {:>9.2?}  p99 {:>9.2?}  max {:>9.2?}",
        times.len(),
        times.len() as f64 / elapsed,
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default(),
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse().expect("the number of leads"))
        .unwrap_or(1_000_000);
    let secs: u64 = args
        .next()
        .map(|a| a.parse().expect("seconds of load per case"))
        .unwrap_or(30);
    let db = std::env::temp_dir().join(format!("xuncha-console-bench-{n}.db"));
    {
        let q = CaseQueue::open(&db).unwrap();
        let have = q.count().unwrap() as usize;
        if have == n {
            println!("store {}: {n} leads, filled before", db.display());
        } else {
            assert_eq!(
                have,
                0,
                "{} holds {have} leads, not {n}: remove it",
                db.display()
            );
            let rate = fill(&q, n);
            println!(
                "store {}: {n} leads filed at {rate:.0} leads/s",
                db.display()
            );
        }
        let known: Vec<String> = q.users().unwrap().into_iter().map(|u| u.name).collect();
        for u in 0..USERS {
            let name = format!("bench{u:02}");
            if !known.contains(&name) {
                q.add_user(&name, Role::Analyst, "bench password").unwrap();
            }
        }
    }
    let (_console, port) = serve(&db);
    // All at once, as a team starting its day.
    let logins: Vec<_> = (0..USERS)
        .map(|u| {
            std::thread::spawn(move || {
                http::login(port, (&format!("bench{u:02}"), "bench password"))
            })
        })
        .collect();
    let cookies: Arc<Vec<String>> =
        Arc::new(logins.into_iter().map(|h| h.join().unwrap()).collect());
    println!("{USERS} users logged in; {secs} s of load per case");
    load(port, &cookies, secs, "queue, no filter", |_, _| "/".into());
    load(port, &cookies, secs, "queue, category + status", |_, _| {
        "/?category=fee.deposit&status=new".into()
    });
    load(port, &cookies, secs, "queue, by severity", |_, _| {
        "/?sort=severity".into()
    });
    load(
        port,
        &cookies,
        secs,
        "queue, a new site + category each request",
        |u, i| {
            let k = u * 7919 + i;
            let cat = xuncha_core::Category::ALL[k % 16].as_str();
            format!("/?source=site-{}&category={cat}", (k / 16) % 40)
        },
    );
}
