//! The licensed-agency registry at national scale: 100,000 invented agencies.
//!
//! - `registry/load_sqlite`: reading every row of `registry.db` and building the indexes;
//! - `registry/index`: building the indexes from entries already in memory;
//! - `lookup/{exact_name,normalised_name,branch,licence_no,credit_code,unknown_name}`:
//!   10,000 lookups an iteration (throughput is lookups a second);
//! - `check/posting`: the whole `license.missing` decision for 10,000 postings, half of
//!   them agencies' (what the scanner pays per posting).
//!
//! Before the benchmarks it prints the memory of the loaded registry: heap bytes live
//! after the load minus before (counted by a wrapping global allocator), and the change
//! in resident set size from /proc/self/statm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use xuncha_core::{Posting, Publisher};
use xuncha_registry::synthetic::agencies;
use xuncha_registry::{Checker, Date, Entry, Registry, RegistryStore};

/// Counts live heap bytes, so the registry's size is measured exactly rather than through
/// the allocator's retained pages.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 100_000;
const BATCH: usize = 10_000;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn mib(b: f64) -> String {
    format!("{:.1} MiB", b / (1024.0 * 1024.0))
}

/// A query for every 10th entry, so lookups spread over the whole index.
fn sample(entries: &[Entry]) -> Vec<&Entry> {
    entries.iter().step_by(N / BATCH).collect()
}

fn postings(entries: &[Entry]) -> Vec<Posting> {
    sample(entries)
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (publisher, text) = if i % 2 == 0 {
                (
                    e.name().to_string(),
                    format!(
                        "代招各大厂普工，包吃包住，月薪6000-8000。人力资源服务许可证：{}",
                        e.licence_no()
                    ),
                )
            } else {
                (
                    "示例制造有限公司".to_string(),
                    "本公司直招操作工，五险一金，双休，工作地点西安高新区。".to_string(),
                )
            };
            let mut p = Posting::from_text(format!("p{i}"), text);
            p.publisher = Some(Publisher {
                name: Some(publisher),
                ..Publisher::default()
            });
            p
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("registry.db");
    let entries = agencies(N, 1);
    let t = Instant::now();
    let mut store = RegistryStore::open(&db).unwrap();
    store.insert(&entries).unwrap();
    let import = t.elapsed();
    let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(db.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);

    let (rss0, live0) = (rss_bytes(), LIVE.load(Ordering::Relaxed));
    let t = Instant::now();
    let registry = store.load().unwrap();
    let load = t.elapsed();
    let (rss1, live1) = (rss_bytes(), LIVE.load(Ordering::Relaxed));
    let heap = (live1 - live0) as f64;
    eprintln!(
        "registry: {N} entries; import into SQLite {import:.2?}, {}; load {load:.2?}; \
         heap {} ({:.0} bytes an entry); RSS +{}",
        mib(db_bytes as f64),
        mib(heap),
        heap / N as f64,
        rss0.zip(rss1)
            .map_or("?".into(), |(a, b)| mib(b.saturating_sub(a) as f64)),
    );

    let mut g = c.benchmark_group("registry");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("load_sqlite", |b| b.iter(|| store.load().unwrap().len()));
    g.bench_function("index", |b| {
        b.iter_batched(
            || entries.clone(),
            |e| Registry::from_entries(e).len(),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let picked = sample(&entries);
    let exact: Vec<String> = picked.iter().map(|e| e.name().to_string()).collect();
    let normalised: Vec<String> = picked
        .iter()
        .map(|e| {
            let n = e.name();
            if let Some(stem) = n.strip_suffix("有限责任公司") {
                format!("{stem}（有限公司）")
            } else if let Some(stem) = n.strip_suffix("股份有限公司") {
                format!("{stem}股份公司")
            } else {
                format!("{} 有限责任公司", n.strip_suffix("有限公司").unwrap_or(n))
            }
        })
        .collect();
    let branch: Vec<String> = picked
        .iter()
        .map(|e| format!("{}西安高新分公司", e.name()))
        .collect();
    let licence: Vec<String> = picked.iter().map(|e| e.licence_no().to_string()).collect();
    let code: Vec<String> = picked
        .iter()
        .map(|e| e.credit_code().unwrap().to_string())
        .collect();
    let unknown: Vec<String> = (0..BATCH)
        .map(|i| format!("样例未登记{i}劳务有限公司"))
        .collect();
    for (label, qs) in [
        ("exact_name", &exact),
        ("normalised_name", &normalised),
        ("branch", &branch),
        ("unknown_name", &unknown),
    ] {
        let found = qs
            .iter()
            .filter(|q| !registry.by_name(q).is_empty())
            .count();
        let want = if label == "unknown_name" { 0 } else { BATCH };
        assert_eq!(found, want, "{label}");
    }

    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for (label, qs) in [
        ("exact_name", &exact),
        ("normalised_name", &normalised),
        ("branch", &branch),
        ("unknown_name", &unknown),
    ] {
        g.bench_function(label, |b| {
            b.iter(|| qs.iter().map(|q| registry.by_name(q).len()).sum::<usize>())
        });
    }
    g.bench_function("licence_no", |b| {
        b.iter(|| {
            licence
                .iter()
                .map(|q| registry.by_licence_no(q).len())
                .sum::<usize>()
        })
    });
    g.bench_function("credit_code", |b| {
        b.iter(|| {
            code.iter()
                .map(|q| registry.by_credit_code(q).len())
                .sum::<usize>()
        })
    });
    g.finish();

    let checker = Checker::new(Some(Arc::new(registry))).as_of(Date::new(2026, 6, 1).unwrap());
    let posts = postings(&entries);
    let mut g = c.benchmark_group("check");
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("posting", |b| {
        b.iter(|| {
            posts
                .iter()
                .filter(|p| checker.check_posting(p).is_violation())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
