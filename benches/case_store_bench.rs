//! The case store's throughput and latency on both databases, with figures printed:
//!
//! - filing: leads per second through `CaseQueue::upsert` in batches of 500 (the scan
//!   loop's and the filer's batch), into a fresh SQLite file and a fresh PostgreSQL database;
//! - `leads list` on a queue of N leads: the first page of 50 under each analyst's filter
//!   (none, category, status, source, region, rule, a combination, and the 20th page by
//!   cursor), median and worst of 20 runs;
//! - `leads count` by category and by region;
//! - `rules stats` over the whole queue (60 rules), and a verdict with its demotion test
//!   (an aggregate over the judged rule's ~1/60 of the queue), median and worst of 20.
//!
//! ```sh
//! cargo run --release -p xuncha-benches --bin case-store-bench -- 1000000
//! ```
//!
//! PostgreSQL is a throwaway cluster started here (Debian's server, `scripts/postgres.sh`),
//! with fsync on, as a real one runs. Leads are synthetic: realistic sizes (a few findings,
//! legal bases stored once), spread over 40 sites, 5,000 publishers, 30 divisions, 60
//! rules and a year of filing times.

#[path = "../crates/xuncha-cases/tests/support/postgres.rs"]
mod postgres_cluster;

use std::time::{Duration, Instant};

use xuncha_cases::{CaseQueue, Change, Cursor, Facet, Filter, Location, Status, Verdict};
use xuncha_core::Category;

use xuncha_benches::case_store::{fill, lead, BATCH};

fn time_it(mut f: impl FnMut()) -> (Duration, Duration) {
    let mut runs: Vec<Duration> = (0..20)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    runs.sort();
    (runs[runs.len() / 2], runs[runs.len() - 1])
}

fn measure(name: &str, q: &CaseQueue, n: usize) {
    println!("\n== {name}: {n} leads");
    let rate = fill(q, n);
    println!("filing: {rate:.0} leads/s (batches of {BATCH})");
    let page = |f: Filter| Filter {
        limit: Some(50),
        ..f
    };
    let mut twentieth = page(Filter::default());
    for _ in 0..19 {
        let rows = q.list(&twentieth).unwrap();
        twentieth.after = rows.last().map(Cursor::after);
    }
    let cases: Vec<(&str, Filter)> = vec![
        ("no filter", page(Filter::default())),
        (
            "category",
            page(Filter {
                category: Some(Category::FeeDeposit),
                ..Filter::default()
            }),
        ),
        (
            "status new",
            page(Filter {
                status: Some(Status::New),
                ..Filter::default()
            }),
        ),
        (
            "source",
            page(Filter {
                source: Some("site-7".into()),
                ..Filter::default()
            }),
        ),
        (
            "region",
            page(Filter {
                region: Some("210000".into()),
                ..Filter::default()
            }),
        ),
        (
            "rule",
            page(Filter {
                rule: Some("R-042".into()),
                ..Filter::default()
            }),
        ),
        (
            "region + rule + since",
            page(Filter {
                region: Some("210000".into()),
                rule: Some("R-010".into()),
                since: Some("2026-01-15".into()),
                ..Filter::default()
            }),
        ),
        ("20th page by cursor", twentieth),
    ];
    for (what, f) in cases {
        let mut got = 0;
        let (median, worst) = time_it(|| got = q.list(&f).unwrap().len());
        println!("list, {what:<22} {got:>3} rows  median {median:>10.2?}  worst {worst:>10.2?}");
    }
    for facet in [Facet::Category, Facet::Region] {
        let mut groups = 0;
        let (median, worst) =
            time_it(|| groups = q.counts(&Filter::default(), facet).unwrap().len());
        println!(
            "count by {facet:<10} {groups:>3} groups  median {median:>10.2?}  worst {worst:>10.2?}"
        );
    }
    let mut rules = 0;
    let (median, worst) = time_it(|| {
        rules = q
            .rule_stats("2000-01-01T00:00:00Z", None, 1000)
            .unwrap()
            .len()
    });
    println!(
        "rules stats, whole queue {rules:>3} rules  median {median:>10.2?}  worst {worst:>10.2?}"
    );
    // Each verdict changes (confirmed, then false positive, …), so each runs the test.
    let judged = lead(7).0.lead_id;
    let mut flip = false;
    let (median, worst) = time_it(|| {
        flip = !flip;
        let v = if flip {
            Verdict::Confirmed
        } else {
            Verdict::FalsePositive
        };
        let at = xuncha_core::now_rfc3339();
        q.apply(&judged, &Change::Verdict(v), "bench", None, &at)
            .unwrap()
            .expect("the lead exists");
    });
    println!(
        "verdict + demotion test ({} leads of its rule)  median {median:>10.2?}  worst {worst:>10.2?}",
        n / 60
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the number of leads"))
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = CaseQueue::open(dir.path().join("bench.db")).unwrap();
    measure("SQLite", &sqlite, n);
    drop(sqlite);

    let pg = postgres_cluster::Postgres::start_durable();
    let url = pg.new_database();
    let postgres = CaseQueue::open_at(&Location::Postgres(url)).unwrap();
    measure("PostgreSQL", &postgres, n);
}
