//! A warm [`ScanCache`] makes a scan that finds nothing allocation-free: every allocation
//! of this test binary is counted, and the scans of a warm cache must add none.
//!
//! The binary holds this one test, so no other test's allocations are counted with it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use xuncha_core::Posting;
use xuncha_matcher::{Matcher, ScanCache};
use xuncha_rules::RuleSet;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn posting(id: &str, title: &str, description: &str, salary: &str) -> Posting {
    Posting {
        id: id.into(),
        title: Some(title.into()),
        salary: Some(salary.into()),
        description: Some(description.into()),
        ..Posting::default()
    }
}

#[test]
fn a_warm_cache_scans_postings_that_raise_nothing_without_allocating() {
    let rules = RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
    let m = Matcher::new(Arc::new(rules)).unwrap();
    m.warm_up();
    // Ordinary text with spaces, punctuation, ASCII letters and numerals, so that every
    // normalisation pass runs; none of it is an anchor.
    let postings = [
        posting(
            "quiet-1",
            "Java 后端开发（中级）",
            "1. 负责订单系统的设计与开发；\n2. 熟悉 Spring Boot、MySQL、Redis。\n\
             3. 三年以上 Java 经验，本科及以上学历。",
            "15-25K·13薪",
        ),
        posting(
            "quiet-2",
            "仓储物流主管",
            "负责仓库日常运营，优化拣货流程，提高库存准确率。熟练使用 WMS 系统。",
            "8000-12000元/月",
        ),
    ];
    let mut cache = ScanCache::default();
    // The first scans grow the cache's buffers to these postings' size.
    for p in &postings {
        assert!(
            m.scan_with(&mut cache, p).is_empty(),
            "{} raises nothing",
            p.id
        );
    }
    for p in &postings {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let mut found = 0;
        for _ in 0..100 {
            found += m.scan_with(&mut cache, p).len();
        }
        let allocated = ALLOCATIONS.load(Ordering::Relaxed) - before;
        assert_eq!(found, 0);
        assert_eq!(
            allocated, 0,
            "100 warm scans of {} allocated {allocated} times",
            p.id
        );
    }

    // The counter does count: a scan that finds something allocates its findings.
    let loud = posting("loud", "普工", "入职先交300元押金，限男性。", "5000元/月");
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(!m.scan_with(&mut cache, &loud).is_empty());
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > before);
}
