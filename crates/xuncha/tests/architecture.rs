//! The crate graph stays as docs/architecture.md draws it: every workspace crate is in its
//! table, and no crate depends on a workspace crate the table does not allow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// crate → the workspace crates it may depend on, from the table's rows.
fn allowed(doc: &str) -> BTreeMap<String, BTreeSet<String>> {
    let names = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(|s| s.trim().trim_matches('`').to_string())
            .filter(|s| s.starts_with("xuncha"))
            .collect()
    };
    doc.lines()
        .filter(|l| l.starts_with("| `xuncha"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 3, "a crate row has three cells: {l}");
            (
                cells[0].trim().trim_matches('`').to_string(),
                names(cells[2]),
            )
        })
        .collect()
}

/// (package name, the workspace crates among its `[dependencies]`) of one manifest.
fn manifest(path: &Path) -> (String, BTreeSet<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let m: toml::Table = toml::from_str(&text).unwrap();
    let name = m["package"]["name"].as_str().unwrap().to_string();
    let deps = m
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| {
            d.keys()
                .filter(|k| k.starts_with("xuncha"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    (name, deps)
}

fn manifests() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("Cargo.toml"))
        .filter(|p| p.is_file())
        .collect();
    out.push(repo().join("benches/Cargo.toml"));
    out.sort();
    out
}

#[test]
fn every_crate_depends_only_on_what_the_architecture_allows() {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let allowed = allowed(&doc);
    assert!(
        allowed.len() >= 7,
        "the crate table was not found: {allowed:?}"
    );
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for path in manifests() {
        let (name, deps) = manifest(&path);
        seen.insert(name.clone());
        let Some(may) = allowed.get(&name) else {
            problems.push(format!("{name} ({}) is not in the table", path.display()));
            continue;
        };
        for d in deps.difference(may) {
            problems.push(format!(
                "{name} depends on {d}, which the table does not allow"
            ));
        }
    }
    for name in allowed.keys().filter(|n| !seen.contains(*n)) {
        problems.push(format!(
            "the table lists {name}, which is no crate of the workspace"
        ));
    }
    assert!(
        problems.is_empty(),
        "docs/architecture.md and the manifests disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_table_reader_sees_a_forbidden_dependency() {
    let doc = "| `xuncha-core` | types | – |\n| `xuncha-a` | a | `xuncha-core` |\n";
    let allowed = allowed(doc);
    assert!(allowed["xuncha-core"].is_empty());
    let deps: BTreeSet<String> = ["xuncha-core".into(), "xuncha-b".into()].into();
    let extra: Vec<_> = deps.difference(&allowed["xuncha-a"]).collect();
    assert_eq!(extra, ["xuncha-b"]);
}
