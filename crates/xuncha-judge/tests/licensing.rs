//! The scanner's licence verdicts: the shipped rules plus a registry of a few hundred
//! invented agencies, merged into one `license.missing` lead per posting.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use xuncha_core::{Category, Lead, Posting, Publisher, Severity};
use xuncha_judge::{Licensing, Scanner};
use xuncha_matcher::Matcher;
use xuncha_registry::synthetic::agencies;
use xuncha_registry::{Date, Entry, Registry};
use xuncha_rules::RuleSet;

const NOW: &str = "2026-06-01T08:00:00Z";
/// Text an agency writes: every rule-based agency cue fires on it.
const AGENCY_TEXT: &str = "代招各大厂普工，包吃包住，月薪6000，推荐进厂，不收任何费用。";

fn day() -> Date {
    Date::new(2026, 6, 1).unwrap()
}

fn matcher() -> Matcher {
    static RULES: OnceLock<Arc<RuleSet>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        Arc::new(RuleSet::load(&dir).expect("shipped rules load"))
    });
    Matcher::new(rules.clone()).expect("matcher builds")
}

fn entries() -> Vec<Entry> {
    agencies(300, 7)
}

fn with_registry() -> Scanner {
    let reg = Registry::from_entries(entries());
    Scanner::new(
        matcher(),
        Licensing::with_registry(Arc::new(reg), "synthetic.csv").as_of(day()),
    )
}

fn posting(id: &str, publisher: &str, text: &str) -> Posting {
    let mut p = Posting::from_text(id, text);
    p.url = Some(format!("https://jobs.example/{id}"));
    p.fetched_at = Some(NOW.into());
    p.publisher = Some(Publisher {
        name: Some(publisher.to_string()),
        ..Publisher::default()
    });
    p
}

fn licence_leads(leads: &[Lead]) -> Vec<&Lead> {
    leads
        .iter()
        .filter(|l| l.category == Category::LicenseMissing)
        .collect()
}

/// The only `license.missing` lead of `p`, checked for what every such lead must carry.
fn the_lead(scanner: &Scanner, p: &Posting) -> Lead {
    let leads = scanner.leads(p, NOW);
    let found = licence_leads(&leads);
    assert_eq!(found.len(), 1, "{}: {leads:#?}", p.id);
    let l = found[0].clone();
    assert!(!l.findings.is_empty(), "{}: no evidence", p.id);
    for f in &l.findings {
        let text = p
            .text_fields()
            .find(|(name, _)| *name == f.field)
            .map(|(_, t)| t.to_string())
            .unwrap_or_else(|| panic!("{}: finding in unknown field {}", p.id, f.field));
        assert_eq!(
            &text[f.span.start()..f.span.end()],
            f.matched,
            "{}: offsets",
            p.id
        );
    }
    assert!(l
        .legal_basis
        .iter()
        .any(|r| r.key == "HRM-18" || r.key == "NR44-LIC"));
    assert_eq!(l.penalty.as_ref().map(|r| r.key.as_str()), Some("HRM-42"));
    l
}

#[test]
fn listed_agencies_raise_nothing_even_when_their_text_reads_like_an_agency() {
    let scanner = with_registry();
    let unflagged = matcher();
    let mut checked = 0;
    for e in entries()
        .iter()
        .filter(|e| !e.is_expired_on(day()) && e.covers_online() != Some(false))
        .take(40)
    {
        // The rules alone raise a licence lead on this text…
        let p = posting("p", e.name(), AGENCY_TEXT);
        assert!(
            !licence_leads(&unflagged.leads(&p, NOW)).is_empty(),
            "rules alone should flag {}",
            e.name()
        );
        // …which the registry answers: under the registered name, a variant of it, and
        // the licence number shown in the text.
        let variant = e
            .name()
            .replace("有限责任公司", "有限公司")
            .replace("股份有限公司", "有限公司");
        for (publisher, text) in [
            (e.name().to_string(), AGENCY_TEXT.to_string()),
            (format!(" {variant} "), AGENCY_TEXT.to_string()),
            (
                e.name().to_string(),
                format!("{AGENCY_TEXT}人力资源服务许可证：{}", e.licence_no()),
            ),
        ] {
            let leads = scanner.leads(&posting("p", &publisher, &text), NOW);
            assert!(
                licence_leads(&leads).is_empty(),
                "{publisher}: {:?}",
                leads[0].licence
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 120);
}

#[test]
fn unlisted_pending_expired_and_out_of_scope_agencies_raise_license_missing() {
    let scanner = with_registry();
    let all = entries();

    let unlisted = the_lead(&scanner, &posting("u", "样例无证劳务有限公司", AGENCY_TEXT));
    let lookup = unlisted.licence.as_ref().expect("lookup recorded");
    assert_eq!(lookup.outcome, "not_found");
    assert_eq!(
        lookup.registry.as_deref(),
        Some("synthetic.csv (300 entries)")
    );
    assert!(lookup.queried.iter().any(|q| q == "样例无证劳务有限公司"));
    assert_eq!(unlisted.severity, Severity::Illegal);

    let pending = the_lead(
        &scanner,
        &posting(
            "s",
            "样例无证劳务有限公司",
            "代招电子厂普工，人力资源服务许可证申请中。",
        ),
    );
    assert_eq!(pending.licence.unwrap().outcome, "says_no_licence");
    assert!(pending
        .findings
        .iter()
        .any(|f| f.matched.contains("申请中")));

    let expired = all
        .iter()
        .find(|e| e.is_expired_on(day()))
        .expect("the generator makes expired licences");
    let lead = the_lead(&scanner, &posting("e", expired.name(), AGENCY_TEXT));
    let lookup = lead.licence.unwrap();
    assert_eq!(lookup.outcome, "expired");
    assert!(lookup.entry.unwrap().contains(expired.licence_no()));

    let narrow = all
        .iter()
        .find(|e| !e.is_expired_on(day()) && e.covers_online() == Some(false))
        .expect("the generator makes licences without 网络招聘");
    let lead = the_lead(&scanner, &posting("n", narrow.name(), AGENCY_TEXT));
    assert_eq!(lead.licence.unwrap().outcome, "scope_lacks_online");
    assert_eq!(lead.severity, Severity::LocallyIllegal);
}

#[test]
fn an_agency_the_rules_miss_is_found_by_the_registry_and_merged_into_one_lead() {
    let scanner = with_registry();
    // A name that says 人力资源 and a posting that names two employers: no rule fires on
    // the text, but the registry check knows an agency when it sees one.
    let p = posting(
        "m",
        "样例未登记人力资源有限公司",
        "招聘仓库分拣员，工作地点在顺丰速运或京东物流，月薪5000。",
    );
    assert!(licence_leads(&matcher().leads(&p, NOW)).is_empty());
    let lead = the_lead(&scanner, &p);
    assert_eq!(lead.licence.unwrap().outcome, "not_found");
    // The rules and the registry both find this one: still one lead for (posting,
    // license.missing), carrying the rules' evidence and the registry's answer.
    let p = posting("two", "样例无证劳务有限公司", AGENCY_TEXT);
    let leads = scanner.leads(&p, NOW);
    assert_eq!(licence_leads(&leads).len(), 1);
    let lead = licence_leads(&leads)[0];
    assert!(lead.rule_ids().contains(&"LIC-AGENCY-001"), "{lead:#?}");
    assert_eq!(lead.licence.as_ref().unwrap().outcome, "not_found");
}

#[test]
fn direct_employers_raise_nothing() {
    let scanner = with_registry();
    for (name, text) in [
        (
            "样例精密制造有限公司",
            "本公司直招普工，月薪5500，包吃住，五险一金。",
        ),
        (
            "样例餐饮管理有限公司",
            "招聘服务员，试用期一个月，月休四天。",
        ),
    ] {
        let leads = scanner.leads(&posting("d", name, text), NOW);
        assert!(licence_leads(&leads).is_empty(), "{name}: {leads:#?}");
    }
}

#[test]
fn without_a_registry_the_text_still_counts_and_the_lead_says_no_registry_was_consulted() {
    let scanner = Scanner::new(matcher(), Licensing::without_registry());
    let p = posting(
        "s",
        "样例无证劳务有限公司",
        "代招电子厂普工，人力资源服务许可证申请中。",
    );
    let lead = the_lead(&scanner, &p);
    let lookup = lead.licence.unwrap();
    assert_eq!(lookup.registry, None);
    assert!(
        lookup.summary.contains("no registry consulted"),
        "{lookup:?}"
    );
    let direct = posting("d", "样例精密制造有限公司", "本公司直招普工，月薪5500。");
    assert!(licence_leads(&scanner.leads(&direct, NOW)).is_empty());
}

#[test]
fn without_a_registry_an_agencys_own_words_are_an_indicator_that_asks_for_the_register() {
    let scanner = Scanner::new(matcher(), Licensing::without_registry());
    let p = posting("a", "样例人力资源有限公司", "代招各大厂普工，加微信报名。");
    let lead = the_lead(&scanner, &p);
    assert_eq!(lead.severity, xuncha_core::Severity::Indicator, "{lead:?}");
    let lookup = lead.licence.unwrap();
    assert!(lookup.summary.contains("名录"), "{lookup:?}");
    // With the register, the same unlisted agency is a 违法线索.
    let lead = the_lead(&with_registry(), &p);
    assert_eq!(lead.severity, xuncha_core::Severity::Illegal, "{lead:?}");
}

#[test]
fn every_lead_of_a_posting_carries_its_handles_and_text_signature() {
    let scanner = Scanner::new(matcher(), Licensing::without_registry());
    let mut p = posting(
        "h1",
        "某某人力",
        "代招各大厂普工，包吃包住，月薪6000-8000元，推荐进厂，入职先交300元押金，名额有限，联系薇：一三九 1234 五六七八。",
    );
    p.title = Some("急招普工，包吃包住，月入过万".into());
    let leads = scanner.leads(&p, NOW);
    assert!(leads.len() >= 2, "{leads:?}");
    for l in &leads {
        let keys: Vec<String> = l.posting.handles.iter().map(|h| h.key()).collect();
        assert_eq!(keys, ["phone:13912345678"], "{}", l.category);
        let h = &l.posting.handles[0];
        let text = p.description.as_deref().unwrap();
        assert_eq!(
            &text[h.span.start()..h.span.end()],
            "薇：一三九 1234 五六七八"
        );
        assert_eq!(l.posting.minhash.as_ref().map(String::len), Some(256));
    }
    // A posting without leads is not read for handles at all.
    let clean = posting("h2", "某某公司", "招聘仓库管理员，电话13912345678");
    assert!(scanner.leads(&clean, NOW).is_empty());
}
