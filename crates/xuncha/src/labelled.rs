//! Verdicts as labelled records: each judged posting written with gold `labels`, in the
//! form `xuncha eval` reads (tests/eval/README.md), so that what analysts confirm and
//! dismiss grows the evaluation set.
//!
//! A lead is one category of one posting; the judged leads of a posting (same id and
//! content hash) make one record, whose labels are the categories confirmed (a false
//! positive adds no label for its category). The case store keeps a lead's evidence, not
//! its whole posting: a record carries the posting's title, company, location and
//! publisher as the leads recorded them, and for every other field the context of each
//! finding in it, the text the analyst judged. Its provenance: `style` "verdict", `batch`
//! "verdicts-<date of the latest verdict>", `writer` the analyst who gave it, and in
//! `origin` every lead and verdict it rests on.

use serde_json::{json, Map};
use xuncha_cases::{Event, LeadRow, Verdict};
use xuncha_core::{Posting, Publisher};

/// The `style` of every record made from verdicts.
pub const STYLE: &str = "verdict";

/// The eval records of judged leads, each given with the event of its standing verdict:
/// one per posting, in the order the postings first appear. Leads without a verdict, and
/// of a category not judged on postings (a site's licence display), make none.
pub fn records(judged: &[(&LeadRow, &Event)]) -> Vec<Posting> {
    let mut groups: Vec<Vec<(&LeadRow, Verdict, &Event)>> = Vec::new();
    for (row, event) in judged {
        let Some(v) = row.verdict else { continue };
        if !row.lead.category.is_posting_level() {
            continue;
        }
        let key = |r: &LeadRow| {
            (
                r.lead.posting.id.clone(),
                r.lead.posting.content_sha256.clone(),
            )
        };
        match groups.iter_mut().find(|g| key(g[0].0) == key(row)) {
            Some(g) => g.push((row, v, event)),
            None => groups.push(vec![(row, v, event)]),
        }
    }
    groups.iter().map(|g| record(g)).collect()
}

/// One posting's record from its judged leads (at least one).
fn record(leads: &[(&LeadRow, Verdict, &Event)]) -> Posting {
    let p = &leads[0].0.lead.posting;
    let mut posting = Posting {
        id: p.id.clone(),
        source: p.source.clone(),
        url: p.url.clone(),
        fetched_at: p.fetched_at.clone(),
        title: p.title.clone(),
        company: p.company.clone(),
        location: p.location.clone(),
        publisher: p.publisher.as_ref().map(|name| Publisher {
            name: Some(name.clone()),
            kind: p.publisher_kind.unwrap_or_default(),
            licence_no: None,
        }),
        ..Posting::default()
    };
    // Fields the leads kept whole are taken as they are; of the others, the context of
    // each finding, each once, a line apiece.
    for f in leads.iter().flat_map(|(r, ..)| &r.lead.findings) {
        let slot = match f.field.as_str() {
            "salary" => &mut posting.salary,
            "contact" => &mut posting.contact,
            "title" | "company" | "publisher.name" => continue,
            _ => &mut posting.description,
        };
        let text = slot.get_or_insert_with(String::new);
        if !text.lines().any(|l| l == f.context) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&f.context);
        }
    }
    let mut labels: Vec<&str> = leads
        .iter()
        .filter(|(_, v, _)| *v == Verdict::Confirmed)
        .map(|(r, ..)| r.lead.category.as_str())
        .collect();
    labels.sort_unstable();
    labels.dedup();
    // The latest verdict names the batch and the writer.
    let (_, _, last) = leads
        .iter()
        .max_by(|a, b| a.2.at.cmp(&b.2.at))
        .expect("a record is made of at least one lead");
    let date = last.at.get(..10).unwrap_or(&last.at);
    let judged: Vec<serde_json::Value> = leads
        .iter()
        .map(|(r, v, e)| {
            json!({
                "lead_id": r.lead.lead_id,
                "category": r.lead.category.as_str(),
                "verdict": v.as_str(),
                "by": e.actor,
                "at": e.at,
            })
        })
        .collect();
    let mut extra = Map::new();
    extra.insert("labels".into(), json!(labels));
    extra.insert("style".into(), json!(STYLE));
    extra.insert("batch".into(), json!(format!("verdicts-{date}")));
    extra.insert("writer".into(), json!(last.actor));
    extra.insert(
        "origin".into(),
        json!({ "kind": "case_store", "url": p.url, "date": date, "verdicts": judged }),
    );
    posting.extra = extra;
    posting
}

#[cfg(test)]
mod tests {
    use super::*;
    use xuncha_cases::Status;
    use xuncha_core::{Category, Finding, Lead, PostingRef, Severity, Span, LEAD_SCHEMA};

    fn row(verdict: Option<Verdict>, category: Category) -> LeadRow {
        let finding = |field: &str, context: &str| Finding {
            rule_id: "R".into(),
            field: field.into(),
            span: Span::new(0, 3),
            matched: "押金".into(),
            context: context.into(),
        };
        LeadRow {
            lead: Lead {
                schema: LEAD_SCHEMA.into(),
                lead_id: "l1".into(),
                category,
                severity: Severity::Illegal,
                score: 0.9,
                findings: vec![
                    finding("description", "入职交押金500元"),
                    finding("description", "入职交押金500元"),
                    finding("title", "押金"),
                    finding("contact", "加微信交押金"),
                ],
                findings_unexamined: 0,
                legal_basis: vec![],
                penalty: None,
                posting: PostingRef {
                    id: "site:1".into(),
                    title: Some("普工 押金".into()),
                    content_sha256: "00".into(),
                    ..PostingRef::default()
                },
                detected_at: "2026-12-01T00:00:00Z".into(),
                rules_version: "t".into(),
                scanner_version: "t".into(),
                licence: None,
            },
            status: Status::Closed,
            first_seen: "2026-12-01T00:00:00Z".into(),
            last_seen: "2026-12-01T00:00:00Z".into(),
            seen_count: 1,
            last_checked_at: None,
            last_online_at: None,
            gone_at: None,
            assigned_to: None,
            verdict,
        }
    }

    fn event(actor: &str, at: &str) -> Event {
        Event {
            at: at.into(),
            actor: actor.into(),
            action: "verdict".into(),
            from: None,
            to: None,
            note: None,
        }
    }

    #[test]
    fn a_confirmed_lead_is_labelled_with_its_category_and_its_provenance() {
        let r = row(Some(Verdict::Confirmed), Category::FeeDeposit);
        let e = event("李四", "2026-12-03T09:30:00Z");
        let [p] = records(&[(&r, &e)]).try_into().unwrap();
        assert_eq!(p.extra["labels"], json!(["fee.deposit"]));
        assert_eq!(p.extra["style"], "verdict");
        assert_eq!(p.extra["batch"], "verdicts-2026-12-03");
        assert_eq!(p.extra["writer"], "李四");
        assert_eq!(p.extra["origin"]["verdicts"][0]["lead_id"], "l1");
        assert_eq!(p.title.as_deref(), Some("普工 押金"));
        assert_eq!(
            p.description.as_deref(),
            Some("入职交押金500元"),
            "each context once"
        );
        assert_eq!(p.contact.as_deref(), Some("加微信交押金"));
    }

    #[test]
    fn the_judged_leads_of_one_posting_make_one_record_of_the_confirmed_categories() {
        let confirmed = row(Some(Verdict::Confirmed), Category::FeeDeposit);
        let dismissed = row(Some(Verdict::FalsePositive), Category::DiscriminationAge);
        let mut other = row(Some(Verdict::FalsePositive), Category::FeeDeposit);
        other.lead.posting.id = "site:2".into();
        let (a, b) = (
            event("李四", "2026-12-03T09:30:00Z"),
            event("王五", "2026-12-04T10:00:00Z"),
        );
        let out = records(&[(&confirmed, &a), (&other, &a), (&dismissed, &b)]);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].extra["labels"],
            json!(["fee.deposit"]),
            "age dismissed"
        );
        assert_eq!(out[0].extra["writer"], "王五", "the latest verdict");
        assert_eq!(out[0].extra["batch"], "verdicts-2026-12-04");
        assert_eq!(out[1].id, "site:2");
        assert_eq!(out[1].extra["labels"], json!([]));
    }

    #[test]
    fn undecided_leads_and_site_licence_leads_make_no_record() {
        let e = event("x", "2026-12-03T09:30:00Z");
        let undecided = row(None, Category::FeeDeposit);
        let site = row(Some(Verdict::Confirmed), Category::LicenseUndisplayed);
        assert!(records(&[(&undecided, &e), (&site, &e)]).is_empty());
    }
}
