//! Campaign grouping, measured (figures printed, nothing asserted):
//!
//! - on generated postings (`xuncha_campaigns::synthetic`: rings that reuse one handle in
//!   varied evasive forms across sites and accounts, other postings with handles of their
//!   own, every site's hotline on every page), filed into a fresh SQLite case store in
//!   batches of 50: pairwise precision and recall of the grouping against the rings, the
//!   keys found too common, and the filing rate;
//! - on the real corpus (`XUNCHA_CORPUS`, default `../shared/corpus`; skipped, saying so,
//!   when it is missing): every posting filed as a lead, then the postings that the
//!   shipped rules raise leads on, and the largest campaigns of each with the key that
//!   ties them and a title.
//!
//! ```sh
//! cargo run --release -p xuncha-benches --bin campaigns-bench -- [POSTINGS [RINGS [SEED]]]
//! ```

use std::sync::Arc;
use std::time::Instant;

use xuncha_campaigns::synthetic::{self, pairwise};
use xuncha_cases::{CampaignQuery, CaseQueue};
use xuncha_core::{Category, Lead, Posting};

const BATCH: usize = 50;
const AT: &str = "2026-12-01T08:00:00Z";

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .map(|a| a.parse().expect("a number"))
        .unwrap_or(default)
}

fn file(q: &CaseQueue, leads: &[Lead]) -> f64 {
    let start = Instant::now();
    for batch in leads.chunks(BATCH) {
        q.upsert(batch, AT).unwrap();
    }
    leads.len() as f64 / start.elapsed().as_secs_f64()
}

fn generated(postings: usize, rings: usize, seed: u64) {
    let set = synthetic::postings(seed, postings, rings);
    let leads: Vec<Lead> = set
        .iter()
        .enumerate()
        .map(|(i, g)| synthetic::lead(&g.posting, Category::ALL[i % Category::ALL.len()]))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let q = CaseQueue::open(dir.path().join("campaigns.db")).unwrap();
    let rate = file(&q, &leads);
    let groups: Vec<u64> = leads
        .iter()
        .map(|l| q.campaign_of_lead(&l.lead_id).unwrap().unwrap().0 as u64)
        .collect();
    let truth: Vec<Option<usize>> = set.iter().map(|g| g.ring).collect();
    let (precision, recall) = pairwise(&truth, &groups);
    let listed = q
        .campaigns(&CampaignQuery {
            limit: 1000,
            ..CampaignQuery::default()
        })
        .unwrap();
    let in_rings = set.iter().filter(|g| g.ring.is_some()).count();
    println!(
        "generated: {postings} postings, {rings} rings ({in_rings} postings in rings), seed {seed}"
    );
    println!("  pairwise precision {precision:.4}, recall {recall:.4}");
    println!(
        "  campaigns of 2+ postings: {} (largest {} postings)",
        listed.len(),
        listed.first().map_or(0, |c| c.postings)
    );
    println!("  filed {rate:.0} leads/s (SQLite, batches of {BATCH})");
}

fn largest(q: &CaseQueue, what: &str) {
    let top = q
        .campaigns(&CampaignQuery {
            limit: 15,
            ..CampaignQuery::default()
        })
        .unwrap();
    let all = q
        .campaigns(&CampaignQuery {
            limit: 100_000,
            ..CampaignQuery::default()
        })
        .unwrap();
    let grouped: u64 = all.iter().map(|c| c.postings).sum();
    println!(
        "  {what}: {} campaigns of 2+ postings hold {grouped} postings; the largest:",
        all.len()
    );
    println!(
        "  {:>8}  {:>6}  {:<44}  {:<24}  title",
        "postings", "sites", "key (postings)", "sites"
    );
    for c in &top {
        let key = c
            .keys
            .iter()
            .find(|k| !k.too_common)
            .map_or("-".to_string(), |k| format!("{} ({})", k.key, k.postings));
        let sites: String = c.sites.join(",").chars().take(24).collect();
        let title: String = c.title.as_deref().unwrap_or("-").chars().take(30).collect();
        println!(
            "  {:>8}  {:>6}  {:<44}  {:<24}  {title}",
            c.postings,
            c.sites.len(),
            key,
            sites
        );
    }
}

fn corpus() {
    let dir = xuncha_benches::corpus_dir();
    if !dir.is_dir() {
        println!("real corpus: {} is missing; skipped", dir.display());
        return;
    }
    let mut postings: Vec<Posting> = xuncha_benches::corpus();
    for p in &mut postings {
        p.ensure_content_hash();
        // The corpus names its site in `site`; the posting's own field is `source`.
        if let Some(site) = p.extra.get("site").and_then(|s| s.as_str()) {
            p.source = Some(site.to_string());
        }
    }
    println!(
        "real corpus: {} postings from {}",
        postings.len(),
        dir.display()
    );
    let tmp = tempfile::tempdir().unwrap();

    let every: Vec<Lead> = postings
        .iter()
        .map(|p| synthetic::lead(p, Category::FakeOther))
        .collect();
    let handles: usize = every.iter().map(|l| l.posting.handles.len()).sum();
    let signed = every.iter().filter(|l| l.posting.minhash.is_some()).count();
    println!("  {handles} handles found, {signed} texts signed");
    let q = CaseQueue::open(tmp.path().join("every.db")).unwrap();
    let start = Instant::now();
    let rate = file(&q, &every);
    println!(
        "  every posting filed as a lead: {:.1} s, {rate:.0} leads/s",
        start.elapsed().as_secs_f64()
    );
    largest(&q, "every posting");
    drop(q);

    let rules = xuncha_rules::RuleSet::load(xuncha_benches::rules_dir()).unwrap();
    let matcher = xuncha_matcher::Matcher::new(Arc::new(rules)).unwrap();
    let mut raised = Vec::new();
    for p in &postings {
        let mut leads = matcher.leads(p, AT);
        xuncha_campaigns::annotate(&mut leads, p);
        raised.extend(leads);
    }
    let q = CaseQueue::open(tmp.path().join("leads.db")).unwrap();
    file(&q, &raised);
    largest(&q, &format!("the {} leads the rules raise", raised.len()));
}

fn main() {
    let postings = arg(1, 2000) as usize;
    let rings = arg(2, 20) as usize;
    let seed = arg(3, 2026);
    generated(postings, rings, seed);
    corpus();
}
