//! The leads over every labelled posting of tests/eval/ stay what tests/eval/expected-leads.tsv
//! records: work on speed or structure must not change what is found. A change of the
//! rules or of detection changes them on purpose; then rewrite the file with
//! `XUNCHA_BLESS=1 cargo test -p xuncha --test golden` and let the diff show what moved.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use xuncha_core::Posting;
use xuncha_judge::{Licensing, Scanner};
use xuncha_matcher::Matcher;
use xuncha_rules::RuleSet;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One line per record that raises a lead: its id, then each lead's category with its
/// findings as rule@field:start-end, sorted.
fn leads_of_the_eval_sets() -> Vec<String> {
    let rules = RuleSet::load(repo().join("rules")).unwrap();
    let scanner = Scanner::new(
        Matcher::new(Arc::new(rules)).unwrap(),
        Licensing::without_registry(),
    );
    let mut files = Vec::new();
    for dir in ["tests/eval/dev", "tests/eval/blind"] {
        for e in std::fs::read_dir(repo().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "jsonl") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = BTreeMap::new();
    for f in files {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let p: Posting = serde_json::from_str(line).unwrap();
            let mut leads: Vec<String> = scanner
                .leads(&p, "2026-01-01T00:00:00Z")
                .iter()
                .map(|l| {
                    let mut f: Vec<String> = l
                        .findings
                        .iter()
                        .map(|f| {
                            format!(
                                "{}@{}:{}-{}",
                                f.rule_id,
                                f.field,
                                f.span.start(),
                                f.span.end()
                            )
                        })
                        .collect();
                    f.sort();
                    format!("{} {}", l.category.as_str(), f.join(" "))
                })
                .collect();
            leads.sort();
            if !leads.is_empty() {
                out.insert(p.id.clone(), format!("{}\t{}", p.id, leads.join("\t")));
            }
        }
    }
    out.into_values().collect()
}

#[test]
fn the_eval_sets_raise_the_recorded_leads() {
    let path = repo().join("tests/eval/expected-leads.tsv");
    let got = leads_of_the_eval_sets();
    if std::env::var_os("XUNCHA_BLESS").is_some() {
        std::fs::write(&path, got.join("\n") + "\n").unwrap();
        return;
    }
    let want: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let (w, g): (std::collections::BTreeSet<_>, std::collections::BTreeSet<_>) =
        (want.iter().collect(), got.iter().collect());
    let lost: Vec<_> = w.difference(&g).take(5).collect();
    let new: Vec<_> = g.difference(&w).take(5).collect();
    assert!(
        lost.is_empty() && new.is_empty(),
        "{} records differ from tests/eval/expected-leads.tsv; recorded but not found now, e.g. {lost:#?}\nfound now but not recorded, e.g. {new:#?}\n(XUNCHA_BLESS=1 rewrites the file when the change is meant)",
        w.symmetric_difference(&g).count()
    );
}
