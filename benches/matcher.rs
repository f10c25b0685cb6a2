//! Matcher throughput over the real-posting corpus.
//!
//! - `matcher/full`: every posting through normalisation, prefilter and verification;
//! - `matcher/prefilter_only`: the bare automaton over the same raw text;
//! - `stages/{normalise,prefilter_normalised,full_warm_cache}`: the normaliser alone, the
//!   bare automaton over the *normalised* text (what the full scan is compared against),
//!   and the whole scan with one warm [`ScanCache`];
//! - `prefilter/{charwise,dfa}/N`: the two automata with N = 100, 1,000, 10,000 anchors.
//!
//! Throughput is bytes of posting text a second. The anchor sets are also written to
//! `target/bench-anchors-N.txt`, one a line, for `benches/hyperscan_bench.py`.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use xuncha_benches::{anchors, corpus, haystack, rules_dir, text_bytes};
use xuncha_matcher::{Matcher, NormText, Prefilter, PrefilterKind, ScanCache, Scratch};
use xuncha_rules::RuleSet;

fn bench(c: &mut Criterion) {
    let postings = corpus();
    let hay = haystack(&postings);
    let bytes = text_bytes(&postings);
    let rules = Arc::new(RuleSet::load(rules_dir()).expect("rules load"));

    let mut g = c.benchmark_group("matcher");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2));
    for kind in [PrefilterKind::Charwise, PrefilterKind::ByteDfa] {
        let m = Matcher::with_prefilter(rules.clone(), kind).unwrap();
        g.bench_function(BenchmarkId::new("full", kind), |b| {
            b.iter(|| postings.iter().map(|p| m.scan(p).len()).sum::<usize>())
        });
        let pf = Prefilter::new(kind, m.literals()).unwrap();
        g.bench_function(BenchmarkId::new("prefilter_only", kind), |b| {
            b.iter(|| pf.count(&hay))
        });
    }
    g.finish();

    let m = Matcher::new(rules.clone()).unwrap();
    m.warm_up();
    let (mut norm, mut scratch) = (NormText::default(), Scratch::default());
    let mut normalised = String::new();
    for p in &postings {
        for (_, t) in p.text_fields() {
            m.normalizer().normalize(t, &mut norm, &mut scratch);
            normalised.push_str(norm.as_str());
            normalised.push('\n');
        }
    }
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("normalise", |b| {
        b.iter(|| {
            let mut n = 0;
            for p in &postings {
                for (_, t) in p.text_fields() {
                    m.normalizer().normalize(t, &mut norm, &mut scratch);
                    n += norm.as_str().len();
                }
            }
            n
        })
    });
    g.bench_function("prefilter_normalised", |b| {
        b.iter(|| m.prefilter().count(&normalised))
    });
    let mut cache = ScanCache::default();
    g.bench_function("full_warm_cache", |b| {
        b.iter(|| {
            postings
                .iter()
                .map(|p| m.scan_with(&mut cache, p).len())
                .sum::<usize>()
        })
    });
    g.finish();

    let base = m.literals().to_vec();
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let mut g = c.benchmark_group("prefilter");
    g.throughput(Throughput::Bytes(hay.len() as u64));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    for n in [100, 1_000, 10_000] {
        let lits = anchors(&base, &hay, n);
        let _ = std::fs::write(
            target.join(format!("bench-anchors-{n}.txt")),
            lits.join("\n") + "\n",
        );
        for kind in [PrefilterKind::Charwise, PrefilterKind::ByteDfa] {
            let pf = Prefilter::new(kind, &lits).unwrap();
            g.bench_with_input(BenchmarkId::new(kind.to_string(), n), &hay, |b, hay| {
                b.iter(|| pf.count(hay))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
