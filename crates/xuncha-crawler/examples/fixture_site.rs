//! The integration tests' fixture job board as a standalone server on 127.0.0.1, for the
//! crawl benchmark (`benches/crawl/run.sh`) and for trying a profile by hand.
//!
//! ```sh
//! cargo run --release -p xuncha-crawler --example fixture_site -- --jobs 5000 --port 18431
//! ```
//!
//! `GET /__stats` gives the requests served and the time from the first to the last;
//! `GET /__reset` zeroes them.

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let mut jobs = 2000u32;
    let mut per_page = 20u32;
    let mut port = 0u16;
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&format!("{flag} needs a number")))
        };
        match flag.as_str() {
            "--jobs" => jobs = value() as u32,
            "--per-page" => per_page = value().max(1) as u32,
            "--port" => port = value() as u16,
            "--threads" => threads = value().max(1) as usize,
            _ => usage(&format!("unknown argument {flag}")),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let fixture = common::Fixture::new(jobs, per_page);
        let addr = common::serve(fixture, port).await;
        println!("http://{addr}/jobs/?city=440300&page=1");
        eprintln!("fixture job board: {jobs} postings, {per_page} a page, on http://{addr}/");
        std::future::pending::<()>().await;
    });
}

fn usage(problem: &str) -> ! {
    eprintln!("fixture_site: {problem}\nusage: fixture_site [--jobs N] [--per-page N] [--port P] [--threads T]");
    std::process::exit(2);
}
