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

/// A synthetic case queue for the store's and the console's benchmarks.
pub mod case_store {
    use std::time::Instant;

    use xuncha_cases::CaseQueue;
    use xuncha_core::{Category, Finding, Lead, LegalRef, PostingRef, Severity, Span, LEAD_SCHEMA};

    /// Leads filed in one call, as the scan loop and the filer batch them.
    pub const BATCH: usize = 500;

    /// Lead number `i` and its filing time: realistic sizes (a finding, legal bases stored
    /// once), spread over 16 categories, 40 sites, 5,000 publishers, 30 divisions, 60
    /// rules and a year of filing, newest last.
    pub fn lead(i: usize) -> (Lead, String) {
        let cats = Category::ALL;
        let category = cats[i % cats.len()];
        let rule = format!("R-{:03}", i % 60);
        let law = LegalRef {
            key: "EPL-3".into(),
            law: "中华人民共和国就业促进法".into(),
            article: "第三条".into(),
            text: "劳动者依法享有平等就业和自主择业的权利。".repeat(4),
        };
        let matched = "入职需交押金300元";
        let lead = Lead {
            schema: LEAD_SCHEMA.into(),
            lead_id: format!("{:032x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            category,
            severity: Severity::Illegal,
            score: 0.9,
            findings: vec![Finding {
                rule_id: rule,
                field: "description".into(),
                span: Span::new(0, matched.len()),
                matched: matched.into(),
                context: format!("岗位职责：仓库分拣，{matched}，包吃住，月薪六千。"),
            }],
            findings_unexamined: 0,
            legal_basis: vec![law.clone()],
            penalty: Some(law),
            posting: PostingRef {
                id: format!("site-{}:{i}", i % 40),
                url: Some(format!("https://jobs{}.example/p/{i}", i % 40)),
                source: Some(format!("site-{}", i % 40)),
                content_sha256: "ab".repeat(32),
                title: Some("仓库分拣员".into()),
                company: Some(format!("某某物流有限公司{}", i % 5000)),
                location: Some("深圳-南山区".into()),
                publisher: Some(format!("pub-{}", i % 5000)),
                divisions: vec![
                    format!("{}0000", 11 + (i % 30)),
                    format!("{}0100", 11 + (i % 30)),
                ],
                ..PostingRef::default()
            },
            detected_at: "2026-01-01T00:00:00Z".into(),
            rules_version: "bench".into(),
            scanner_version: "bench".into(),
            licence: None,
        };
        let t = time::OffsetDateTime::from_unix_timestamp(1_767_225_600 + (i as i64 * 31)).unwrap();
        (lead, xuncha_core::rfc3339_seconds(t))
    }

    /// Files leads `0..n` into `q` in batches of [`BATCH`]; returns leads per second.
    pub fn fill(q: &CaseQueue, n: usize) -> f64 {
        let start = Instant::now();
        let mut i = 0;
        while i < n {
            let end = (i + BATCH).min(n);
            // One batch shares its filing second, as a scan batch does.
            let (_, at) = lead(end - 1);
            let leads: Vec<Lead> = (i..end).map(|j| lead(j).0).collect();
            q.upsert(&leads, &at).unwrap();
            i = end;
        }
        n as f64 / start.elapsed().as_secs_f64()
    }
}
