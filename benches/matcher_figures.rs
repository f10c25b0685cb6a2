//! The matcher's stages over the real-posting corpus, on one thread, as figures:
//!
//! ```sh
//! cargo run --release -p xuncha-benches --bin matcher-figures [ROUNDS]
//! ```
//!
//! - normalise: every text field through the normaliser alone;
//! - bare prefilter: the automaton over the *normalised* text, every hit counted (the
//!   reference the issue of speed is stated against);
//! - prefilter + candidates: normalise and prefilter each field and count the candidates
//!   (rule phrases to verify) per posting;
//! - full scan: `Matcher::scan_with` with one warm cache;
//!
//! each as MB/s of posting text (original bytes) and the full scan as a share of the bare
//! pass. Also the time to build a matcher from the rule files and to load it and scan one
//! posting. The best of ROUNDS (default 5) runs is printed, so a busy machine shows less.

use std::sync::Arc;
use std::time::{Duration, Instant};

use xuncha_benches::{corpus, corpus_dir, rules_dir, text_bytes};
use xuncha_matcher::{Matcher, NormText, ScanCache};
use xuncha_rules::RuleSet;

fn best(rounds: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut out = (Duration::MAX, 0);
    for _ in 0..rounds {
        let t = Instant::now();
        let n = std::hint::black_box(f());
        let d = t.elapsed();
        if d < out.0 {
            out = (d, n);
        }
    }
    out
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("ROUNDS is a number"))
        .unwrap_or(5);
    if !corpus_dir().exists() {
        eprintln!(
            "matcher-figures: no corpus at {} (set XUNCHA_CORPUS); nothing measured",
            corpus_dir().display()
        );
        return;
    }
    let t = Instant::now();
    let rules = Arc::new(RuleSet::load(rules_dir()).expect("rules load"));
    let loaded = t.elapsed();
    let t = Instant::now();
    let m = Matcher::new(rules).expect("matcher builds");
    let built = t.elapsed();
    let postings = corpus();
    let bytes = text_bytes(&postings);
    println!(
        "{} postings, {:.1} MB of text; {} literals; rules loaded in {:.0} ms, matcher built in {:.0} ms",
        postings.len(),
        bytes as f64 / 1e6,
        m.literals().len(),
        loaded.as_secs_f64() * 1e3,
        built.as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let mut cache = ScanCache::default();
    let first = m.scan_with(&mut cache, &postings[0]).len();
    println!(
        "first posting scanned in {:.0} ms ({first} hits; lazily built parts included)",
        t.elapsed().as_secs_f64() * 1e3
    );
    m.warm_up();

    // The normalised corpus, field by field, for the bare pass.
    let mut norm = NormText::default();
    let mut normalised = String::new();
    for p in &postings {
        for (_, t) in p.text_fields() {
            m.normalizer()
                .normalize(t, &mut norm, &mut Default::default());
            normalised.push_str(norm.as_str());
            normalised.push('\n');
        }
    }

    let mut scratch = Default::default();
    let (normalise, _) = best(rounds, || {
        let mut n = 0;
        for p in &postings {
            for (_, t) in p.text_fields() {
                m.normalizer().normalize(t, &mut norm, &mut scratch);
                n += norm.as_str().len();
            }
        }
        n
    });
    let (bare, hits) = best(rounds, || m.prefilter().count(&normalised));
    let (prefilter, candidates) = best(rounds, || {
        let mut n = 0;
        for p in &postings {
            for (_, t) in p.text_fields() {
                m.normalizer().normalize(t, &mut norm, &mut scratch);
                m.prefilter().for_each(norm.as_str(), |lit, _, _| {
                    n += m.gated_units(lit);
                });
            }
        }
        n
    });
    let (full, found) = best(rounds, || {
        postings
            .iter()
            .map(|p| m.scan_with(&mut cache, p).len())
            .sum()
    });
    println!("stage                         time      MB/s of text");
    for (name, d) in [
        ("normalise", normalise),
        ("bare prefilter (normalised)", bare),
        ("normalise + prefilter", prefilter),
        ("full scan", full),
    ] {
        println!(
            "{name:<28} {:>7.0} ms {:>9.1}",
            d.as_secs_f64() * 1e3,
            mbps(bytes, d)
        );
    }
    println!(
        "anchor hits {hits} ({:.1} a posting), candidates {candidates} ({:.1} a posting), rule hits {found}",
        hits as f64 / postings.len() as f64,
        candidates as f64 / postings.len() as f64
    );
    println!(
        "full scan / bare prefilter: {:.3}",
        bare.as_secs_f64() / full.as_secs_f64()
    );
}
