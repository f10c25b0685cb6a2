//! The grouping on a generated set (xuncha_campaigns::synthetic): 2,000 postings, 20 rings
//! each reusing one contact handle in varied evasive forms across sites and publisher
//! accounts, every other posting with a handle of its own, every site's hotline on every
//! page. Filed in batches as the scan loop files them, on both databases: every ring is
//! found whole, no two rings share a campaign, and the hotlines tie nothing.

mod support {
    pub mod postgres;
    pub mod stores;
}

use std::collections::{BTreeSet, HashMap};

use support::stores::on_both;
use xuncha_campaigns::synthetic::{self, pairwise};
use xuncha_cases::CampaignQuery;
use xuncha_core::{Category, Lead};

#[test]
fn twenty_rings_among_two_thousand_postings_are_found_whole_and_apart() {
    let set = synthetic::postings(2026, 2000, 20);
    let rings: BTreeSet<usize> = set.iter().filter_map(|g| g.ring).collect();
    assert_eq!(rings.len(), 20);
    let leads: Vec<Lead> = set
        .iter()
        .enumerate()
        .map(|(i, g)| synthetic::lead(&g.posting, Category::ALL[i % Category::ALL.len()]))
        .collect();
    on_both(|s| {
        let q = &s.q;
        for batch in leads.chunks(50) {
            q.upsert(batch, "2026-11-30T08:00:00Z").unwrap();
        }
        let campaign: Vec<i64> = leads
            .iter()
            .map(|l| q.campaign_of_lead(&l.lead_id).unwrap().unwrap().0)
            .collect();
        let mut of_ring: HashMap<usize, BTreeSet<i64>> = HashMap::new();
        let mut rings_in: HashMap<i64, BTreeSet<usize>> = HashMap::new();
        for (g, c) in set.iter().zip(&campaign) {
            if let Some(r) = g.ring {
                of_ring.entry(r).or_default().insert(*c);
                rings_in.entry(*c).or_default().insert(r);
            }
        }
        for (r, cs) in &of_ring {
            assert_eq!(cs.len(), 1, "ring {r} is split over campaigns {cs:?}");
        }
        for (c, rs) in &rings_in {
            assert_eq!(rs.len(), 1, "campaign {c} holds rings {rs:?}");
        }
        let groups: Vec<u64> = campaign.iter().map(|c| *c as u64).collect();
        let truth: Vec<Option<usize>> = set.iter().map(|g| g.ring).collect();
        let (precision, recall) = pairwise(&truth, &groups);
        eprintln!("pairwise precision {precision:.4}, recall {recall:.4}");
        assert_eq!(recall, 1.0);
        assert!(precision > 0.99, "{precision}");
        // Every hotline was seen with more publishers than the bound: too common.
        assert_eq!(
            s.scalar("SELECT COUNT(*) FROM common_keys WHERE key LIKE 'landline:400%'"),
            synthetic::SITES.len() as i64
        );
        // The campaigns listed are the rings, each tied by its own key.
        let listed = q
            .campaigns(&CampaignQuery {
                limit: 100,
                ..CampaignQuery::default()
            })
            .unwrap();
        for c in &listed {
            let ring = rings_in.get(&c.id).and_then(|rs| rs.iter().next());
            let Some(r) = ring else {
                panic!(
                    "campaign {} of {} postings is no ring: {:?}",
                    c.id, c.postings, c.keys
                );
            };
            let want = set
                .iter()
                .find(|g| g.ring == Some(*r))
                .unwrap()
                .key
                .clone()
                .unwrap();
            assert_eq!(c.keys[0].key, want);
        }
        assert_eq!(listed.len(), 20);
    });
}
