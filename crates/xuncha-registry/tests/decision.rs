//! The `license.missing` decision over a registry of a few hundred invented agencies.

use std::sync::Arc;

use xuncha_core::{Category, Posting, Publisher, PublisherKind, Severity};
use xuncha_registry::synthetic::agencies;
use xuncha_registry::{
    check, publishers_with_many_companies, CheckInput, Checker, Date, Entry, LicenceCheck,
    MatchedBy, Outcome, Registry, SignalKind,
};

fn day() -> Date {
    Date::new(2026, 6, 1).unwrap()
}

/// 300 generated agencies plus a few whose registered names carry bracketed regions.
fn registry() -> Registry {
    let mut entries = agencies(300, 7);
    for (i, city) in ["厦门", "成都", "济南"].iter().enumerate() {
        entries.push(
            Entry::new(
                &format!("示例括号{i}人力资源（{city}）有限公司"),
                &format!("99000{i}RL0001"),
            )
            .unwrap()
            .with_scope("职业中介活动（开展网络招聘服务）")
            .with_region(&format!("{city}市")),
        );
    }
    Registry::from_entries(entries)
}

fn checker() -> Checker {
    Checker::new(Some(Arc::new(registry()))).as_of(day())
}

fn posting(publisher: Option<&str>, company: Option<&str>, text: &str) -> Posting {
    let mut p = Posting::from_text("p", text);
    p.publisher = publisher.map(|n| Publisher {
        name: Some(n.to_string()),
        ..Publisher::default()
    });
    p.company = company.map(str::to_string);
    p
}

fn good(e: &Entry) -> bool {
    !e.is_expired_on(day()) && e.covers_online() != Some(false)
}

fn assert_outcome(c: &LicenceCheck, want: Outcome, what: &str) {
    assert_eq!(c.outcome, want, "{what}: {}", c.summary());
    assert_eq!(c.is_violation(), want.is_violation(), "{what}");
}

#[test]
fn listed_agencies_raise_nothing_under_their_names_and_variants() {
    let reg = registry();
    let ck = checker();
    let mut checked = 0;
    for e in reg.entries().iter().filter(|e| good(e)) {
        let name = e.name();
        let mut variants = vec![
            (name.to_string(), None),
            (format!("{name}西安分公司"), Some(MatchedBy::Branch)),
            (format!("{name}（高新营业部）"), Some(MatchedBy::Branch)),
            (format!(" {name} "), Some(MatchedBy::ExactName)),
        ];
        if let Some(stem) = name.strip_suffix("有限责任公司") {
            variants.push((format!("{stem}有限公司"), Some(MatchedBy::NormalisedName)));
        } else if let Some(stem) = name.strip_suffix("股份有限公司") {
            variants.push((format!("{stem}有限公司"), Some(MatchedBy::NormalisedName)));
        } else if let Some(stem) = name.strip_suffix("有限公司") {
            variants.push((
                format!("{stem}有限责任公司"),
                Some(MatchedBy::NormalisedName),
            ));
        }
        if let Some(stem) = name.strip_suffix("有限公司") {
            // Brackets and width: a full-width space and half-width brackets.
            variants.push((format!("{stem}　有限公司"), Some(MatchedBy::NormalisedName)));
        }
        for (variant, by) in variants {
            let p = posting(
                Some(&variant),
                Some("某电子厂"),
                "代招普工，推荐进厂，包吃住",
            );
            let c = ck.check_posting(&p);
            assert_outcome(&c, Outcome::Licensed, &variant);
            assert_eq!(c.entry.as_ref().unwrap().name(), name);
            if let Some(by) = by {
                assert_eq!(c.matched_by, Some(by), "{variant}");
            }
            checked += 1;
        }
    }
    assert!(checked > 800, "{checked}");
}

#[test]
fn bracketed_regions_and_dropped_city_prefixes_still_match() {
    let ck = checker();
    for (variant, listed) in [
        (
            "示例括号0人力资源(厦门)有限责任公司",
            "示例括号0人力资源（厦门）有限公司",
        ),
        (
            "示例括号1人力资源【成都】有限公司",
            "示例括号1人力资源（成都）有限公司",
        ),
        (
            "成都示例括号1人力资源有限公司",
            "示例括号1人力资源（成都）有限公司",
        ),
        (
            "济南市示例括号2人力资源有限公司",
            "示例括号2人力资源（济南）有限公司",
        ),
    ] {
        let c = ck.check_posting(&posting(Some(variant), None, "代理招聘，各大厂普工"));
        assert_outcome(&c, Outcome::Licensed, variant);
        assert_eq!(c.entry.as_ref().unwrap().name(), listed);
    }
    // Generated names with a city prefix, posted without it.
    let reg = registry();
    let with_city: Vec<&Entry> = reg
        .entries()
        .iter()
        .filter(|e| good(e) && e.name().starts_with(|c| "西厦广成济郑".contains(c)))
        .collect();
    assert!(with_city.len() > 30);
    for e in with_city {
        let stripped: String = e.name().chars().skip(2).collect();
        let c = ck.check_posting(&posting(Some(&stripped), None, "代招"));
        assert_outcome(&c, Outcome::Licensed, &stripped);
        assert_eq!(c.matched_by, Some(MatchedBy::NameWithoutRegion));
    }
}

#[test]
fn a_name_of_another_city_or_an_industry_word_alone_is_not_cleared() {
    let ck = checker();
    for name in [
        "成都示例括号0人力资源有限公司",
        "示例括号0人力资源（郑州）有限公司",
        "西安人力资源有限公司",
        "人力资源有限公司",
    ] {
        let c = ck.check_posting(&posting(Some(name), None, "代招普工"));
        assert_outcome(&c, Outcome::NotFound, name);
    }
    let reg = registry();
    let e = reg
        .entries()
        .iter()
        .find(|e| e.name().starts_with("西安"))
        .unwrap();
    let elsewhere = e.name().replacen("西安", "郑州", 1);
    let c = ck.check_posting(&posting(Some(&elsewhere), None, "代招"));
    assert_outcome(&c, Outcome::NotFound, &elsewhere);
}

#[test]
fn a_listed_licence_number_clears_a_person_account_and_a_disclosed_fee() {
    let reg = registry();
    let ck = checker();
    for e in reg.entries().iter().filter(|e| good(e)).take(60) {
        let text = format!(
            "推荐入职，成功入职后收取服务费500元。人力资源服务许可证编号：{}",
            e.licence_no()
        );
        let c = ck.check_posting(&posting(Some("王经理"), None, &text));
        assert_outcome(&c, Outcome::Licensed, &text);
        assert_eq!(c.matched_by, Some(MatchedBy::LicenceNo));
        // The same number with other brackets and 第/号 left out.
        let respelled = e
            .licence_no()
            .replace('[', "〔")
            .replace(']', "〕")
            .replace(['第', '号'], "");
        let text = format!("代招。许可证号：{respelled}");
        let c = ck.check_posting(&posting(Some(e.name()), None, &text));
        assert_outcome(&c, Outcome::Licensed, &text);
    }
}

#[test]
fn unlisted_agencies_are_violations() {
    let ck = checker();
    for (publisher, text) in [
        (Some("样例未登记人力资源有限公司"), "代招普工，包吃住"),
        (Some("王经理"), "代招各大厂普工，加我微信报名"),
        (None, "专业劳务中介，推荐进厂，收取介绍费"),
        (Some("示例邦安安速聘劳务有限公司"), "劳务输送，日结"),
        (
            Some("样例猎头"),
            "猎头服务，成功入职后向求职者收取一个月工资",
        ),
    ] {
        let c = ck.check_posting(&posting(publisher, None, text));
        assert_outcome(&c, Outcome::NotFound, text);
        assert_eq!(c.category(), Some(Category::LicenseMissing));
        assert_eq!(c.severity(), Some(Severity::Illegal));
        let findings = c.findings();
        assert!(!findings.is_empty(), "{text}");
        for f in &findings {
            let field = match f.field.as_str() {
                "description" => text,
                "publisher.name" => publisher.unwrap(),
                other => panic!("{other}"),
            };
            assert_eq!(&field[f.span.start()..f.span.end()], f.matched);
        }
    }
}

#[test]
fn several_employers_in_one_posting_make_an_agency() {
    let ck = checker();
    let text = "急招：示例电子有限公司普工、样例食品有限公司包装工，均可安排";
    let c = ck.check_posting(&posting(Some("李先生"), None, text));
    assert_outcome(&c, Outcome::NotFound, text);
    let several = c
        .agency_signals
        .iter()
        .filter(|s| s.item.kind == SignalKind::SeveralEmployers)
        .count();
    assert_eq!(several, 2);
    // An employer naming itself twice is one employer.
    let text = "示例电子有限公司招聘普工。欢迎加入示例电子有限公司";
    let c = ck.check_posting(&posting(None, Some("示例电子有限公司"), text));
    assert_outcome(&c, Outcome::NotAnAgency, text);
}

#[test]
fn licence_pending_or_absent_is_a_violation_with_or_without_registry() {
    let ck = checker();
    let none = Checker::new(None).as_of(day());
    for text in [
        "人力资源服务许可证：申请中，代招普工",
        "许可证申请中",
        "推荐进厂，资质在审批，暂不影响入职",
        "暂无许可证，代招保安",
        "我们是劳务公司，代招普工，无需许可证",
    ] {
        let p = posting(Some("样例未登记劳务有限公司"), None, text);
        assert_outcome(&ck.check_posting(&p), Outcome::SaysNoLicence, text);
        assert_outcome(&none.check_posting(&p), Outcome::SaysNoLicence, text);
        assert!(!ck.check_posting(&p).findings().is_empty());
    }
    // 无需许可证 from an employer recruiting for itself is true, not a violation.
    let p = posting(None, Some("示例科技有限公司"), "本公司直招，无需许可证");
    assert_outcome(&ck.check_posting(&p), Outcome::NotAnAgency, "employer");
}

#[test]
fn expired_and_wrong_scope_licences_are_violations() {
    let reg = registry();
    let ck = checker();
    let expired: Vec<&Entry> = reg
        .entries()
        .iter()
        .filter(|e| e.is_expired_on(day()))
        .collect();
    let offline: Vec<&Entry> = reg
        .entries()
        .iter()
        .filter(|e| !e.is_expired_on(day()) && e.covers_online() == Some(false))
        .collect();
    assert!(expired.len() >= 20 && offline.len() >= 20);
    for e in expired {
        let c = ck.check_posting(&posting(Some(e.name()), None, "代招"));
        assert_outcome(&c, Outcome::Expired, e.name());
        assert_eq!(c.severity(), Some(Severity::Illegal));
    }
    for e in offline {
        let c = ck.check_posting(&posting(Some(e.name()), None, "代招"));
        assert_outcome(&c, Outcome::ScopeLacksOnline, e.name());
        assert_eq!(c.severity(), Some(Severity::LocallyIllegal));
        assert_eq!(c.rule_id(), Some("LIC-SCOPE-001"));
        // Offline work (a posting on a shop window) needs no online scope.
        let mut input = CheckInput::text("代招").with_publisher(e.name());
        input.online = false;
        assert_outcome(
            &check(&input, Some(&reg), day()),
            Outcome::Licensed,
            e.name(),
        );
    }
    // The day decides: an entry that expires later is fine before.
    let e = reg
        .entries()
        .iter()
        .find(|e| e.is_expired_on(day()))
        .unwrap();
    let before = Date::new(2019, 1, 1).unwrap();
    let c = check(
        &CheckInput::text("代招").with_publisher(e.name()),
        Some(&reg),
        before,
    );
    assert!(matches!(
        c.outcome,
        Outcome::Licensed | Outcome::ScopeLacksOnline
    ));
}

#[test]
fn fetched_at_sets_the_day() {
    let reg = Arc::new(registry());
    let ck = Checker::new(Some(reg.clone()));
    let e = reg
        .entries()
        .iter()
        .find(|e| e.is_expired_on(day()) && e.covers_online() == Some(true))
        .unwrap();
    let mut p = posting(Some(e.name()), None, "代招");
    p.fetched_at = Some("2019-03-01T08:00:00+08:00".into());
    assert_eq!(ck.check_posting(&p).outcome, Outcome::Licensed);
    p.fetched_at = Some("2026-03-01T08:00:00+08:00".into());
    assert_eq!(ck.check_posting(&p).outcome, Outcome::Expired);
}

#[test]
fn numbers_not_listed_and_numbers_of_others() {
    let reg = registry();
    let ck = checker();
    let listed = reg.entries().iter().find(|e| good(e)).unwrap();
    let other = reg.entries().iter().filter(|e| good(e)).nth(5).unwrap();

    let text = "代招。人力资源服务许可证：990000000001";
    let c = ck.check_posting(&posting(Some("样例未登记人力资源有限公司"), None, text));
    assert_outcome(&c, Outcome::NotFound, "unlisted number, unlisted name");
    assert!(c.queried.contains(&"990000000001".to_string()));

    let c = ck.check_posting(&posting(Some(listed.name()), None, text));
    assert_outcome(&c, Outcome::NumberNotListed, "unlisted number, listed name");

    let text = format!("代招。人力资源服务许可证：{}", other.licence_no());
    let c = ck.check_posting(&posting(Some(listed.name()), None, &text));
    assert_outcome(&c, Outcome::NameMismatch, "someone else's number");
    assert_eq!(c.entry.as_ref().unwrap().name(), other.name());

    // The platform's licence field counts as shown.
    let mut p = posting(Some(listed.name()), None, "招聘普工");
    p.publisher.as_mut().unwrap().licence_no = Some(other.licence_no().to_string());
    assert_outcome(
        &ck.check_posting(&p),
        Outcome::NameMismatch,
        "platform field",
    );
    p.publisher.as_mut().unwrap().licence_no = Some(listed.licence_no().to_string());
    assert_outcome(&ck.check_posting(&p), Outcome::Licensed, "platform field");
}

#[test]
fn credit_codes_identify_the_publisher() {
    let reg = registry();
    let ck = checker();
    let e = reg.entries().iter().find(|e| good(e)).unwrap();
    let text = format!("代招普工。统一社会信用代码：{}", e.credit_code().unwrap());
    let c = ck.check_posting(&posting(Some("赵主管"), None, &text));
    assert_outcome(&c, Outcome::Licensed, &text);
    assert_eq!(c.matched_by, Some(MatchedBy::CreditCode));
    assert!(c.credit_codes_shown[0].item.valid);
}

#[test]
fn direct_employers_raise_nothing() {
    let ck = checker();
    for (publisher, company, text) in [
        (
            None,
            Some("示例科技有限公司"),
            "本公司直招仓库管理员，五险一金，双休",
        ),
        (
            Some("示例科技有限公司人力资源部"),
            Some("示例科技有限公司"),
            "招聘专员（负责本公司招聘工作）",
        ),
        (
            None,
            Some("样例制造有限公司"),
            "人力资源经理岗位招聘，负责员工关系",
        ),
        (
            None,
            Some("样例制造有限公司"),
            "厂家直招，非劳务中介，谢绝中介公司",
        ),
        (
            None,
            Some("样例制造有限公司"),
            "输送带操作工，三班倒；推荐入职奖励500元",
        ),
        (
            None,
            Some("样例制造有限公司"),
            "谨防没有许可证的黑中介，本厂不收任何费用",
        ),
        (
            None,
            Some("样例制造有限公司"),
            "新闻：如何办理人力资源服务许可证",
        ),
        (
            Some("样例集团"),
            Some("样例制造有限公司西安分公司"),
            "为样例制造有限公司招聘焊工",
        ),
    ] {
        let mut p = posting(publisher, company, text);
        p.publisher.get_or_insert_with(Publisher::default).kind = PublisherKind::Employer;
        let c = ck.check_posting(&p);
        assert_outcome(&c, Outcome::NotAnAgency, text);
        assert!(c.findings().is_empty());
    }
}

#[test]
fn public_services_and_platform_kinds() {
    let ck = checker();
    let c = ck.check_posting(&posting(
        Some("西安市公共就业和人才服务中心"),
        None,
        "推荐入职，各大企业岗位汇总",
    ));
    assert_outcome(&c, Outcome::PublicService, "public");
    // An account the platform says is an agency is checked even without phrases, and
    // the lead points at the account.
    let mut p = posting(Some("样例未登记保安服务有限公司"), None, "招聘保安");
    p.publisher.as_mut().unwrap().kind = PublisherKind::Agency;
    let c = ck.check_posting(&p);
    assert_outcome(&c, Outcome::NotFound, "agency kind");
    let f = c.findings();
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].field.as_str(), f[0].matched.as_str()),
        ("publisher.name", "样例未登记保安服务有限公司")
    );
}

#[test]
fn without_a_registry_only_admissions_count() {
    let none = Checker::new(None).as_of(day());
    let c = none.check_posting(&posting(
        Some("样例未登记人力资源有限公司"),
        None,
        "代招普工",
    ));
    assert_outcome(&c, Outcome::NoRegistry, "no registry");
    assert!(c.is_agency());
    assert!(c.findings().is_empty());
}

#[test]
fn one_account_posting_for_many_companies_is_flagged() {
    let mut pairs = Vec::new();
    for c in [
        "示例电子有限公司",
        "样例食品有限公司",
        "示例物流有限公司",
        "样例纺织有限公司",
    ] {
        pairs.push(("速聘小王", c));
    }
    for c in [
        "示例电子有限公司",
        "示例电子有限责任公司",
        "示例电子有限公司苏州分公司",
    ] {
        pairs.push(("示例电子有限公司", c));
    }
    pairs.push(("样例食品有限公司", "样例食品有限公司"));
    let flagged = publishers_with_many_companies(pairs, 3);
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].publisher, "速聘小王");
    assert_eq!(flagged[0].companies.len(), 4);
    assert_eq!(flagged[0].postings, 4);
}
