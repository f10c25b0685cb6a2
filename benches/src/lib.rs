//! Shared inputs of the benchmarks: the real-posting corpus and anchor sets of given sizes.
//!
//! The corpus is read from `XUNCHA_CORPUS` (default `../shared/corpus`, beside the
//! checkout); it is evaluation data and is never copied into the repository.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use xuncha_core::Posting;

/// Where the corpus is.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("XUNCHA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
}

/// The rules directory of this checkout.
pub fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

/// Every posting of every `*.jsonl` file in the corpus, in file order.
pub fn corpus() -> Vec<Posting> {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus at {}: {e} (set XUNCHA_CORPUS)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            out.push(serde_json::from_str(line).unwrap());
        }
    }
    out
}

/// Bytes of text the matcher reads in `postings`.
pub fn text_bytes(postings: &[Posting]) -> u64 {
    postings
        .iter()
        .flat_map(|p| p.text_fields())
        .map(|(_, t)| t.len() as u64)
        .sum()
}

/// The text fields of every posting joined by newlines: the haystack of the bare automaton.
pub fn haystack(postings: &[Posting]) -> String {
    let mut s = String::new();
    for p in postings {
        for (_, t) in p.text_fields() {
            s.push_str(t);
            s.push('\n');
        }
    }
    s
}

/// `n` distinct Chinese literals: the rule set's own anchors first, then two- to four-
/// character windows of Han text taken at a fixed stride from `hay` (deterministic, and
/// realistic: they occur in job ads at natural rates).
pub fn anchors(base: &[String], hay: &str, n: usize) -> Vec<String> {
    let mut set: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for a in base {
        if out.len() == n {
            return out;
        }
        if set.insert(a.clone()) {
            out.push(a.clone());
        }
    }
    let han: Vec<char> = hay
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .collect();
    let mut i = 0usize;
    let mut len = 2;
    while out.len() < n && i + 4 < han.len() {
        let s: String = han[i..i + len].iter().collect();
        if set.insert(s.clone()) {
            out.push(s);
        }
        i += 7919;
        len = 2 + (len - 1) % 3;
        if i + 4 >= han.len() {
            i = i % 7919 + 1;
        }
    }
    out
}
