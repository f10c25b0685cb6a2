//! Campaigns on both databases: postings that share a handle, however written, or
//! near-identical text, grouped as their leads are filed; merges recorded; keys seen with
//! too many publishers ignored and the campaigns they glued split again.

mod support {
    pub mod postgres;
    pub mod stores;
}

use support::stores::{on_both, Store};
use xuncha_cases::{CampaignQuery, CaseQueue, Filter};
use xuncha_core::{Category, Lead, Posting, Publisher};

const AT: &str = "2026-11-02T08:00:00Z";

/// A posting as a site shows it.
fn posting(id: &str, publisher: &str, text: &str) -> Posting {
    Posting {
        id: id.into(),
        source: Some(id.split('-').next().unwrap_or("site").into()),
        title: Some("急招普工".into()),
        publisher: Some(Publisher {
            name: Some(publisher.into()),
            ..Publisher::default()
        }),
        description: Some(text.into()),
        ..Posting::default()
    }
}

/// The lead a scan would file for `p`, with its campaign keys, as the judge writes them
/// (its id readable here: posting and category).
fn lead_of(p: &Posting, category: Category) -> Lead {
    Lead {
        lead_id: format!("{}:{}", p.id, category.as_str()),
        ..xuncha_campaigns::synthetic::lead(p, category)
    }
}

fn file(q: &CaseQueue, postings: &[Posting]) {
    let leads: Vec<Lead> = postings
        .iter()
        .map(|p| lead_of(p, Category::FeeDeposit))
        .collect();
    q.upsert(&leads, AT).unwrap();
}

/// The campaign of each posting (by its lead).
fn campaign(q: &CaseQueue, posting_id: &str) -> i64 {
    q.campaign_of_lead(&format!("{posting_id}:fee.deposit"))
        .unwrap()
        .unwrap()
        .0
}

fn all(q: &CaseQueue) -> Vec<xuncha_cases::Campaign> {
    q.campaigns(&CampaignQuery::default()).unwrap()
}

#[test]
fn one_number_in_any_form_makes_one_campaign_and_a_lawful_number_none() {
    on_both(|s| {
        let q = &s.q;
        file(
            q,
            &[
                posting("a-1", "甲", "日结兼职，联系电话 139 1234 5678"),
                posting("b-2", "乙", "在家打字，加薇：一三九一二三四五六七八"),
                posting("c-3", "丙", "手机操作，vx：１３９-１２３４-５６７８"),
                posting(
                    "d-4",
                    "丁",
                    "招仓管，月薪13000-15000元，2024年入职，电话13800001111",
                ),
                posting(
                    "e-5",
                    "戊",
                    "招司机，月薪13000-15000元，2024年入职，电话13700002222",
                ),
            ],
        );
        let c = campaign(q, "a-1");
        assert_eq!(campaign(q, "b-2"), c);
        assert_eq!(campaign(q, "c-3"), c);
        assert_ne!(campaign(q, "d-4"), c);
        assert_ne!(
            campaign(q, "d-4"),
            campaign(q, "e-5"),
            "a salary range is no key"
        );
        let listed = all(q);
        assert_eq!(listed.len(), 1, "{listed:?}");
        let one = &listed[0];
        assert_eq!((one.id, one.postings, one.leads), (c, 3, 3));
        assert_eq!(one.keys[0].key, "phone:13912345678");
        assert_eq!(one.keys[0].postings, 3);
        assert_eq!(one.sites, ["a", "b", "c"]);
        assert_eq!(one.categories[0].category, "fee.deposit");
        assert_eq!(one.lead_ids.len(), 3);

        let page = q.campaign(c).unwrap().unwrap();
        assert_eq!(page.members.len(), 3);
        let written: Vec<&str> = page
            .evidence
            .iter()
            .filter(|w| w.key == "phone:13912345678")
            .map(|w| w.text.as_str())
            .collect();
        assert!(
            written.contains(&"薇：一三九一二三四五六七八"),
            "{written:?}"
        );
        for w in &page.evidence {
            let m = page
                .members
                .iter()
                .find(|m| m.posting.id == w.posting_id)
                .unwrap();
            assert!(m
                .posting
                .handles
                .iter()
                .any(|h| h.text == w.text && h.span.start() as i64 == w.start));
        }
    });
}

#[test]
fn a_posting_that_links_two_campaigns_merges_them_and_the_merge_is_recorded() {
    on_both(|s| {
        let q = &s.q;
        file(
            q,
            &[
                posting("a-1", "甲", "电话13912345678"),
                posting("a-2", "乙", "电话 139 1234 5678"),
                posting("b-1", "丙", "微信：ring_abc123"),
            ],
        );
        let (big, small) = (campaign(q, "a-1"), campaign(q, "b-1"));
        assert_ne!(big, small);
        file(
            q,
            &[posting("x-1", "丁", "电话13912345678，微信 ring_abc123")],
        );
        let now = campaign(q, "b-1");
        assert_eq!(now, big, "the smaller campaign joins the larger");
        assert_eq!(campaign(q, "x-1"), big);
        assert_eq!(q.resolve_campaign(small).unwrap(), Some(big));
        assert!(q.campaign(small).unwrap().is_none());
        let page = q.campaign(big).unwrap().unwrap();
        assert_eq!(page.campaign.postings, 4);
        let merged: Vec<_> = page
            .events
            .iter()
            .filter(|e| e.action == "merged")
            .collect();
        assert_eq!(merged.len(), 1, "{:?}", page.events);
        assert_eq!(merged[0].other, Some(small));
        assert_eq!(merged[0].key.as_deref(), Some("wechat:ring_abc123"));
        assert_eq!(all(q).len(), 1);
        // The record of a merge cannot be rewritten.
        assert!(s.raw("UPDATE campaign_events SET key = 'x'").is_err());
        assert!(s.raw("DELETE FROM campaign_events").is_err());
    });
}

#[test]
fn a_key_on_too_many_publishers_ties_nothing_and_what_it_glued_comes_apart() {
    on_both(|s| {
        let q = s.reopen().max_publishers_per_key(3);
        let hotline = "客服热线 400-820-1234";
        // Two rings on one site, the site's hotline on every page.
        file(
            &q,
            &[
                posting("s-1", "甲", &format!("电话13912345678。{hotline}")),
                posting("s-2", "甲", &format!("电话 139-1234-5678。{hotline}")),
                posting("s-3", "乙", &format!("微信：ring_abc123。{hotline}")),
            ],
        );
        // Until the bound, the hotline glues.
        assert_eq!(campaign(&q, "s-1"), campaign(&q, "s-3"));
        file(
            &q,
            &[
                posting("s-4", "乙", &format!("薇信 ring_abc123。{hotline}")),
                posting("s-5", "丙", &format!("电话13700001111。{hotline}")),
            ],
        );
        assert_eq!(campaign(&q, "s-4"), campaign(&q, "s-3"));
        // A fourth publisher: the hotline is too common, and the rings come apart.
        file(
            &q,
            &[posting("s-6", "丁", &format!("电话13600002222。{hotline}"))],
        );
        let (r1, r2) = (campaign(&q, "s-1"), campaign(&q, "s-3"));
        assert_ne!(r1, r2);
        assert_eq!(campaign(&q, "s-2"), r1);
        assert_eq!(campaign(&q, "s-4"), r2);
        for alone in ["s-5", "s-6"] {
            let c = campaign(&q, alone);
            assert!(![r1, r2].contains(&c), "{alone}");
        }
        assert_ne!(campaign(&q, "s-5"), campaign(&q, "s-6"));
        let listed = all(&q);
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(listed.iter().all(|c| c.postings == 2));
        assert_eq!(
            s.scalar("SELECT COUNT(*) FROM common_keys WHERE key = 'landline:4008201234'"),
            1
        );
        let splits = s.scalar("SELECT COUNT(*) FROM campaign_events WHERE action = 'split'");
        assert!(splits >= 1);
        // From now on it ties nothing.
        file(
            &q,
            &[posting("s-7", "戊", &format!("电话13500003333。{hotline}"))],
        );
        assert!(![r1, r2].contains(&campaign(&q, "s-7")));
        // It is still shown, as too common.
        let page = q.campaign(r1).unwrap().unwrap();
        let hot = page
            .all_keys
            .iter()
            .find(|k| k.key == "landline:4008201234")
            .unwrap();
        assert!(hot.too_common);
    });
}

#[test]
fn near_identical_text_is_a_key_and_different_text_is_not() {
    on_both(|s| {
        let q = &s.q;
        let ad = "高薪招聘网络兼职打字员，手机电脑均可操作，时间自由，在家就能做，日结工资二百到五百元，无需经验，名额有限先到先得，";
        file(
            q,
            &[
                posting("t-1", "甲", &format!("{ad}电话13912345678")),
                posting("t-2", "乙", &format!("{ad}电话13800001111")),
                posting("t-3", "丙", "招聘仓库管理员，负责货物出入库登记与盘点，要求熟练使用电脑办公软件，有叉车证者优先，五险一金，电话13700002222"),
            ],
        );
        assert_eq!(campaign(q, "t-1"), campaign(q, "t-2"));
        assert_ne!(campaign(q, "t-1"), campaign(q, "t-3"));
        let listed = all(q);
        assert_eq!(listed.len(), 1);
        assert!(
            listed[0].keys[0].key.starts_with("text:"),
            "{:?}",
            listed[0].keys
        );
    });
}

/// Two postings with one number, filed; the first also in a second category, whose lead
/// joins its posting's campaign.
fn two_postings_three_leads(q: &CaseQueue) -> [Posting; 2] {
    let ps = [
        posting("a-1", "甲", "电话13912345678"),
        posting("a-2", "乙", "电话 139 1234 5678"),
    ];
    file(q, &ps);
    q.upsert(&[lead_of(&ps[0], Category::FakeTaskScam)], AT)
        .unwrap();
    ps
}

#[test]
fn filing_again_moves_last_seen_and_adds_nothing() {
    on_both(|s| {
        let q = &s.q;
        let ps = two_postings_three_leads(q);
        let leads: Vec<Lead> = ps
            .iter()
            .map(|p| lead_of(p, Category::FeeDeposit))
            .collect();
        q.upsert(&leads, "2026-11-09T08:00:00Z").unwrap();
        let listed = all(q);
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].postings, listed[0].leads), (2, 3));
        assert_eq!(listed[0].first_seen, AT);
        assert_eq!(listed[0].last_seen, "2026-11-09T08:00:00Z");
        assert_eq!(s.scalar("SELECT COUNT(*) FROM campaigns"), 1);
    });
}

#[test]
fn a_campaign_is_assigned_whole_with_an_event_per_lead() {
    on_both(|s| {
        let q = &s.q;
        two_postings_three_leads(q);
        let c = campaign(q, "a-1");
        let done = q
            .assign_campaign(c, "李四", "王主任", None, "2026-11-03T08:00:00Z")
            .unwrap()
            .unwrap();
        assert_eq!(done.len(), 3);
        for a in &done {
            let lead = &a.lead_id;
            let events = q.events(lead).unwrap();
            let assign = events.iter().find(|e| e.action == "assign").unwrap();
            assert_eq!(assign.actor, "王主任");
            assert_eq!(assign.to.as_deref(), Some("李四"));
            assert_eq!(assign.note.as_deref(), Some(&*format!("campaign {c}")));
            assert_eq!(
                q.get(lead).unwrap().unwrap().assigned_to.as_deref(),
                Some("李四")
            );
        }
        let page = q.campaign(c).unwrap().unwrap();
        assert!(page.events.iter().any(|e| e.action == "assign"
            && e.actor == "王主任"
            && e.note.as_deref() == Some("李四")));
        assert!(q
            .assign_campaign(c + 100, "李四", "王主任", None, AT)
            .unwrap()
            .is_none());
        assert!(q.assign_campaign(c, "", "王主任", None, AT).is_err());
    });
}

#[test]
fn campaigns_are_listed_by_the_leads_they_hold() {
    on_both(|s| {
        let q = &s.q;
        file(
            q,
            &[
                posting("a-1", "甲", "电话13912345678"),
                posting("a-2", "乙", "电话 139 1234 5678"),
                posting("b-1", "丙", "微信：ring_abc123"),
            ],
        );
        let b2 = posting("b-2", "丁", "vx：ring_abc123");
        q.upsert(&[lead_of(&b2, Category::FakeTaskScam)], AT)
            .unwrap();
        let only = |category| CampaignQuery {
            leads: Some(Filter {
                category: Some(category),
                ..Filter::default()
            }),
            ..CampaignQuery::default()
        };
        let scams = q.campaigns(&only(Category::FakeTaskScam)).unwrap();
        assert_eq!(scams.len(), 1);
        assert_eq!(scams[0].id, campaign(q, "b-1"));
        assert_eq!(q.campaigns(&only(Category::FeeDeposit)).unwrap().len(), 2);
        let singles = q
            .campaigns(&CampaignQuery {
                min_postings: 1,
                limit: 1,
                offset: 1,
                ..CampaignQuery::default()
            })
            .unwrap();
        assert_eq!(singles.len(), 1);
    });
}

#[test]
fn two_filers_at_once_make_one_campaign_of_one_key() {
    on_both(|s: &Store| {
        let (q1, q2) = (s.reopen(), s.reopen());
        std::thread::scope(|sc| {
            for (q, side) in [(&q1, "a"), (&q2, "b")] {
                sc.spawn(move || {
                    for i in 0..20 {
                        let p = posting(&format!("{side}-{i}"), side, "电话13912345678");
                        q.upsert(&[lead_of(&p, Category::FeeDeposit)], AT).unwrap();
                    }
                });
            }
        });
        let listed = all(&s.q);
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].postings, 40);
    });
}
