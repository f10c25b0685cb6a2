//! Writing fitted signature weights back into a pack file, with its comments and layout
//! kept: a fit changes numbers a rule author wrote by hand, so the rest of what they
//! wrote must survive it.

use std::path::Path;

use toml_edit::{value, Array, DocumentMut, Item, Table};

use crate::Fit;

/// Sets rule `rule_id`'s `threshold`, its signals' weights (by signal name) and its
/// `[rule.fit]` record in the pack at `path`.
pub fn write_fit(
    path: &Path,
    rule_id: &str,
    threshold: f64,
    weights: &[(String, f64)],
    fit: &Fit,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let rules = doc
        .get_mut("rule")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| format!("{}: no [[rule]] tables", path.display()))?;
    let rule = rules
        .iter_mut()
        .find(|t| t.get("id").and_then(|v| v.as_str()) == Some(rule_id))
        .ok_or_else(|| format!("{}: no rule `{rule_id}`", path.display()))?;
    rule["threshold"] = value(round(threshold));
    let signals = rule
        .get_mut("signal")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| format!("{}: rule `{rule_id}` has no signals", path.display()))?;
    for (name, w) in weights {
        let s = signals
            .iter_mut()
            .find(|t| t.get("name").and_then(|v| v.as_str()) == Some(name.as_str()))
            .ok_or_else(|| format!("{}: rule `{rule_id}`: no signal `{name}`", path.display()))?;
        s["weight"] = value(round(*w));
    }
    let mut t = Table::new();
    t["date"] = value(fit.date.clone());
    t["records"] = value(fit.records as i64);
    t["positives"] = value(fit.positives as i64);
    t["folds"] = value(fit.folds as i64);
    t["cv_precision"] = value(round(fit.cv_precision));
    t["cv_recall"] = value(round(fit.cv_recall));
    t["data"] = value(fit.data.iter().map(String::as_str).collect::<Array>());
    rule["fit"] = Item::Table(t);
    std::fs::write(path, doc.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Three decimals: what a fit can tell apart on a few thousand records.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACK: &str = r#"# a comment that must survive
[pack]
family = "fake"
version = "1"

[[rule]]
id = "A"
kind = "signature"
threshold = 1.0 # hand-set

[[rule.signal]]
name = "x"
weight = 0.5

[[rule.signal]]
name = "y"
weight = 0.6

[[rule]]
id = "B"
kind = "signature"
threshold = 2.0

[[rule.signal]]
name = "z"
weight = 1.0
"#;

    #[test]
    fn writes_weights_threshold_and_fit_and_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, PACK).unwrap();
        let fit = Fit {
            date: "2026-12-02".into(),
            records: 100,
            positives: 20,
            folds: 5,
            cv_precision: 0.91234,
            cv_recall: 0.8,
            data: vec!["tests/eval/dev.jsonl".into()],
        };
        let w = [("x".to_string(), 0.25), ("y".to_string(), 1.5)];
        write_fit(&path, "A", 1.2, &w, &fit).unwrap();
        let out = std::fs::read_to_string(&path).unwrap();
        assert!(out.starts_with("# a comment that must survive"));
        let v: toml::Value = toml::from_str(&out).unwrap();
        let r = &v["rule"][0];
        assert_eq!(r["threshold"].as_float(), Some(1.2));
        assert_eq!(r["signal"][0]["weight"].as_float(), Some(0.25));
        assert_eq!(r["signal"][1]["weight"].as_float(), Some(1.5));
        assert_eq!(r["fit"]["cv_precision"].as_float(), Some(0.912));
        assert_eq!(r["fit"]["records"].as_integer(), Some(100));
        assert!(v["rule"][1].get("fit").is_none(), "{out}");
        assert_eq!(v["rule"][1]["threshold"].as_float(), Some(2.0));
        assert!(write_fit(&path, "C", 1.0, &w, &fit).is_err());
    }
}
