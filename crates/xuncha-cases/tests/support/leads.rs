//! Leads made up for the store's tests: only what the store reads of them is filled in.

#![allow(dead_code)]

use xuncha_core::{Category, Finding, Lead, PostingRef, Severity, Span, LEAD_SCHEMA};

/// A lead of posting `p-ID` with one finding of rule `R` for each of `matched`.
pub fn lead(id: &str, url: Option<&str>, matched: &[&str]) -> Lead {
    Lead {
        schema: LEAD_SCHEMA.into(),
        lead_id: id.into(),
        category: Category::DiscriminationGender,
        severity: Severity::Illegal,
        score: 0.9,
        findings: matched
            .iter()
            .map(|m| Finding {
                rule_id: "R".into(),
                field: "description".into(),
                span: Span::new(0, m.len()),
                matched: (*m).into(),
                context: (*m).into(),
            })
            .collect(),
        findings_unexamined: 0,
        legal_basis: vec![],
        penalty: None,
        posting: PostingRef {
            id: format!("p-{id}"),
            url: url.map(String::from),
            content_sha256: "ab".repeat(32),
            ..PostingRef::default()
        },
        detected_at: "2026-11-01T00:00:00Z".into(),
        rules_version: "t".into(),
        scanner_version: "t".into(),
        licence: None,
    }
}

/// A lead with one finding of each of `rules`.
pub fn found_by(id: &str, rules: &[&str]) -> Lead {
    let mut l = lead(id, None, &vec!["押金"; rules.len()]);
    for (f, r) in l.findings.iter_mut().zip(rules) {
        f.rule_id = (*r).into();
    }
    l
}
