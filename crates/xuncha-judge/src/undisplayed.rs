//! `license.undisplayed` leads from the crawler's operator records: a site whose homepage
//! and about pages show neither its 营业执照 nor its 人力资源服务许可证 breaks the duty to
//! display them on the homepage (网络招聘服务管理规定; 条例 Art. 32 → 44).
//! Raised per site, not per posting.

use xuncha_core::OperatorRecord;
use xuncha_core::{lead_id, Category, Finding, Lead, LicenceLookup, PostingRef, Severity, Span};
use xuncha_matcher::{Matcher, SCANNER_VERSION};

/// Rule id of these leads.
pub(crate) const RULE: &str = "LIC-NODISPLAY-001";
const BASIS: [&str; 2] = ["NR44-DISPLAY", "HRM-32"];
const PENALTY: &str = "HRM-44";
/// Every law key these leads cite.
pub(crate) const LAW_KEYS: [&str; 3] = [BASIS[0], BASIS[1], PENALTY];

/// The lead for `record`, if its pages were read and show neither licence. A site whose
/// pages could not be read raises nothing: absence is only evidence where the page was
/// seen.
pub(crate) fn lead(record: &OperatorRecord, matcher: &Matcher, detected_at: &str) -> Option<Lead> {
    let rules = matcher.rules();
    if record.business_licence.shown || record.hr_service_licence.shown {
        return None;
    }
    let read: Vec<_> = record
        .pages
        .iter()
        .filter(|p| (200..300).contains(&p.status))
        .collect();
    let home = read.first()?;
    let hash = home.evidence.trim_start_matches("sha256:").to_string();
    let findings = read
        .iter()
        .map(|p| {
            let context = format!(
                "{}：未见营业执照、人力资源服务许可证（HTTP {}，证据 {}）",
                p.url, p.status, p.evidence
            );
            Finding {
                rule_id: RULE.to_string(),
                field: "operator.page".to_string(),
                span: Span::new(0, p.url.len()),
                matched: p.url.clone(),
                context,
            }
        })
        .collect();
    let id = format!("operator:{}", record.source);
    let disclosures = if record.disclosures.is_empty() {
        "无".to_string()
    } else {
        record.disclosures.join("、")
    };
    Some(Lead {
        schema: xuncha_core::LEAD_SCHEMA.to_string(),
        lead_id: lead_id(&id, Category::LicenseUndisplayed, &hash),
        category: Category::LicenseUndisplayed,
        severity: Severity::Illegal,
        score: 0.8,
        findings,
        findings_unexamined: 0,
        legal_basis: BASIS
            .iter()
            .filter_map(|k| rules.laws.get(*k).cloned())
            .collect(),
        penalty: rules.laws.get(PENALTY).cloned(),
        posting: PostingRef {
            id,
            url: Some(home.url.clone()),
            source: Some(record.source.clone()),
            fetched_at: Some(record.checked_at.clone()),
            content_sha256: hash,
            publisher: Some(record.source.clone()),
            ..PostingRef::default()
        },
        detected_at: detected_at.to_string(),
        rules_version: rules.version.clone(),
        scanner_version: SCANNER_VERSION.to_string(),
        licence: Some(LicenceLookup {
            outcome: "undisplayed".to_string(),
            registry: None,
            operator: Some(record.source.clone()),
            queried: Vec::new(),
            entry: None,
            summary: format!(
                "{} 页面未公示营业执照和人力资源服务许可证；其他公示事项：{disclosures}",
                read.len()
            ),
        }),
    })
}
