//! The matcher's semantics on a small rule set written for these tests: offsets into the
//! original text, negation, exceptions, word boundaries, scope, numbers, jurisdictions,
//! signatures, and lead identity.

use std::fs;
use std::sync::Arc;

use xuncha_core::{Category, Posting, Severity};
use xuncha_matcher::{Matcher, PrefilterKind};
use xuncha_rules::RuleSet;

const LAWS: &str = r#"
[law.A]
law = "甲法"
article = "第一条"
text = "不得歧视。"
[law.B]
law = "乙法"
article = "第二条"
text = "罚款。"
[law.SH]
law = "上海市规定"
article = "第二十二条"
text = "不得以年龄为由拒绝录用。"
"#;

const LEXICON: &str = r#"
[pinyin]
yj = "押金"
[homophones]
"压金" = "押金"
[scope]
duty = ["负责"]
warning = ["谨防", "骗局"]
[attributes]
sex = ["男女", "性别"]
age = ["年龄"]
"#;

const DIVISIONS: &str = "code,name,short,level,parent\n310000,上海市,上海,province,\n310104,徐汇区,徐汇,district,310000\n440000,广东省,广东,province,\n";

const EX: &str = r#"
[rule.examples]
match = ["x1", "x2", "x3", "x4", "x5"]
no_match = ["y1", "y2", "y3", "y4", "y5"]
"#;

fn pack() -> String {
    let rules = [
        r#"id = "SEX"
category = "discrimination.gender"
severity = "illegal"
legal_basis = ["A"]
penalty = "B"
anchors = ["男", "女"]
patterns = ['(限|只招|仅招)(男|女)(性|生)?', '(男|女)(性|生|士)?(优先|勿扰)']
negations = ['不限', '均可']
exceptions = ['联系人']
attribute = "sex"
word_boundary = true"#,
        r#"id = "DEPOSIT"
category = "fee.deposit"
severity = "illegal"
legal_basis = ["A"]
penalty = "B"
anchors = ["押金"]
patterns = ['押金\d*元?']
negations = ['不收', '无需', '免']
unless = ['样本测试']
scope = "applicant""#,
        r#"id = "AGE"
category = "discrimination.age"
severity = "disfavoured"
legal_basis = ["A"]
penalty = "B"
anchors = ["岁"]
patterns = ['(?P<n>\d{2})(周)?岁以下']
number = { group = "n", min = 20, max = 50 }
negations = ['不限']
attribute = "age"
[[rule.local]]
jurisdictions = ["310000"]
severity = "locally_illegal"
legal_basis = ["SH"]
penalty = "SH""#,
        r#"id = "GD-ONLY"
category = "discrimination.other"
severity = "locally_illegal"
jurisdictions = ["440000"]
legal_basis = ["A"]
penalty = "B"
anchors = ["属虎"]
patterns = ['属虎']"#,
        r#"id = "HIGHPAY"
kind = "signature"
category = "fake.high_pay_low_bar"
severity = "indicator"
legal_basis = ["A"]
penalty = "B"
threshold = 1.0
[[rule.signal]]
name = "low_bar"
weight = 0.5
anchors = ["无需经验", "宝妈"]
patterns = ['无需经验', '宝妈']
[[rule.signal]]
name = "pay"
weight = 0.6
salary_monthly_min = 20000"#,
    ];
    let mut s = String::from("[pack]\nfamily = \"test\"\nversion = \"1\"\n");
    for r in rules {
        s.push_str("\n[[rule]]\n");
        s.push_str(r);
        s.push_str(EX);
    }
    s
}

fn matcher(kind: PrefilterKind) -> Matcher {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("laws.toml"), LAWS).unwrap();
    fs::write(dir.path().join("lexicon.toml"), LEXICON).unwrap();
    fs::write(dir.path().join("divisions.csv"), DIVISIONS).unwrap();
    fs::write(dir.path().join("test.toml"), pack()).unwrap();
    let set = RuleSet::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    Matcher::with_prefilter(Arc::new(set), kind).unwrap()
}

fn rules_hit(m: &Matcher, p: &Posting) -> Vec<String> {
    let mut ids: Vec<String> = m
        .scan(p)
        .iter()
        .map(|h| m.rules().rules[h.rule].id.clone())
        .collect();
    ids.sort();
    ids
}

fn hits(m: &Matcher, text: &str) -> Vec<String> {
    rules_hit(m, &Posting::from_text("t", text))
}

#[test]
fn evidence_offsets_point_into_the_original_text() {
    for kind in [PrefilterKind::Charwise, PrefilterKind::ByteDfa] {
        let m = matcher(kind);
        let text = "岗位：保安。入职需交 压 金 五百元，限 男 性。";
        let leads = m.leads(&Posting::from_text("p1", text), "2026-11-27T00:00:00Z");
        assert_eq!(leads.len(), 2, "{leads:#?}");
        for lead in &leads {
            for f in &lead.findings {
                assert_eq!(&text[f.span.start()..f.span.end()], f.matched);
                assert!(f.context.contains(&f.matched));
            }
        }
        let dep = leads
            .iter()
            .find(|l| l.category == Category::FeeDeposit)
            .unwrap();
        assert_eq!(dep.findings[0].matched, "压 金 五百元");
        let sex = leads
            .iter()
            .find(|l| l.category == Category::DiscriminationGender)
            .unwrap();
        assert_eq!(sex.findings[0].matched, "限 男 性");
        assert_eq!(sex.severity, Severity::Illegal);
        assert_eq!(sex.legal_basis[0].law, "甲法");
        assert_eq!(sex.penalty.as_ref().unwrap().article, "第二条");
    }
}

#[test]
fn invisible_characters_between_letters_hide_nothing() {
    let m = matcher(PrefilterKind::default());
    let hiders = [
        '\u{202E}',
        '\u{2066}',
        '\u{2069}',
        '\u{1}',
        '\u{1b}',
        '\u{7f}',
        '\u{9b}',
        '\u{115F}',
        '\u{1160}',
        '\u{3164}',
        '\u{FFA0}',
        '\u{200B}',
        '\u{2800}',
        '\u{E0041}',
        '\u{180E}',
    ];
    for c in hiders {
        let text = format!("入职需交押{c}金500元");
        let leads = m.leads(&Posting::from_text("p", &text), "2026-12-02T00:00:00Z");
        let f = leads
            .iter()
            .find(|l| l.category == Category::FeeDeposit)
            .unwrap_or_else(|| panic!("U+{:04X} hid the deposit", c as u32))
            .findings[0]
            .clone();
        assert_eq!(&text[f.span.start()..f.span.end()], f.matched);
        assert!(f.matched.starts_with('押') && f.matched.contains(c));
    }
}

#[test]
fn a_repeated_phrase_keeps_a_few_findings_and_counts_the_rest() {
    let m = matcher(PrefilterKind::default());
    for sep in ["。", ""] {
        let text = vec!["入职需交押金500元"; 5000].join(sep);
        let leads = m.leads(&Posting::from_text("rep", &text), "2026-12-02T00:00:00Z");
        let dep = leads
            .iter()
            .find(|l| l.category == Category::FeeDeposit)
            .expect("flagged");
        assert_eq!(dep.findings.len(), xuncha_matcher::MAX_FINDINGS_PER_RULE);
        assert!(dep.findings_unexamined > 0, "the rest is counted");
        for f in &dep.findings {
            assert_eq!(&text[f.span.start()..f.span.end()], f.matched);
        }
    }
}

#[test]
fn a_posting_over_its_time_budget_is_given_up() {
    let m = matcher(PrefilterKind::default());
    // Many clauses, each a candidate of several rules: more than one check of the clock.
    let text = vec!["限男性，押金500元，35岁以下，无需经验"; 2000].join("。");
    let p = Posting::from_text("slow", &text);
    assert_eq!(
        m.leads_within(&p, "t", std::time::Duration::ZERO),
        Err(xuncha_matcher::OverBudget)
    );
    let within = m
        .leads_within(&p, "t", std::time::Duration::from_secs(3600))
        .unwrap();
    assert_eq!(within, m.leads(&p, "t"));
}

#[test]
fn negation_is_judged_near_the_match_and_within_its_clause() {
    let m = matcher(PrefilterKind::default());
    assert!(hits(&m, "性别不限男女均可").is_empty());
    assert!(hits(&m, "我司不收押金").is_empty());
    assert!(hits(&m, "无需交任何押金").is_empty());
    // The negation of one clause does not cancel the next.
    assert_eq!(hits(&m, "男女不限，但女生优先"), vec!["SEX"]);
    assert_eq!(hits(&m, "不收报名费，需交押金500元"), vec!["DEPOSIT"]);
    assert_eq!(hits(&m, "交yj500元"), vec!["DEPOSIT"]);
}

#[test]
fn exceptions_word_boundaries_and_scope_refuse_look_alikes() {
    let m = matcher(PrefilterKind::default());
    assert!(hits(&m, "联系人：王女士优先回复").is_empty());
    assert!(
        hits(&m, "只招女装设计师").is_empty(),
        "只招女 ends inside 女装"
    );
    assert_eq!(hits(&m, "只招女生"), vec!["SEX"]);
    assert!(hits(&m, "负责押金台账管理").is_empty());
    assert_eq!(hits(&m, "需缴纳押金300元"), vec!["DEPOSIT"]);
}

#[test]
fn numbers_and_jurisdictions_decide_severity() {
    let m = matcher(PrefilterKind::default());
    assert_eq!(hits(&m, "年龄35岁以下"), vec!["AGE"]);
    assert!(
        hits(&m, "年龄60岁以下").is_empty(),
        "60 is outside the rule's bounds"
    );
    assert!(hits(&m, "年龄16岁以下").is_empty());

    let mut p = Posting::from_text("p", "年龄三十五岁以下");
    let lead = &m.leads(&p, "now")[0];
    assert_eq!(lead.severity, Severity::Disfavoured);
    p.location = Some("上海-徐汇区".into());
    let lead = &m.leads(&p, "now")[0];
    assert_eq!(lead.severity, Severity::LocallyIllegal);
    assert!(lead.legal_basis.iter().any(|l| l.key == "SH"));
    assert_eq!(lead.penalty.as_ref().unwrap().key, "SH");

    let mut p = Posting::from_text("p", "属虎的不要");
    assert!(
        rules_hit(&m, &p).is_empty(),
        "a Guangdong-only rule is silent elsewhere"
    );
    p.location = Some("广东".into());
    assert_eq!(rules_hit(&m, &p), vec!["GD-ONLY"]);
}

#[test]
fn signatures_need_enough_weight_and_a_phrase() {
    let m = matcher(PrefilterKind::default());
    assert!(hits(&m, "宝妈可做").is_empty(), "0.5 < threshold");
    assert_eq!(hits(&m, "宝妈可做，月入3万"), vec!["HIGHPAY"]);
    let mut p = Posting::from_text("p", "无需经验");
    p.salary = Some("2-3万/月".into());
    let leads = m.leads(&p, "now");
    assert_eq!(leads[0].category, Category::FakeHighPayLowBar);
    assert!(leads[0].findings.iter().any(|f| f.field == "salary"));
    let mut p = Posting::from_text("p", "架构师，十年经验");
    p.salary = Some("5-8万/月".into());
    assert!(rules_hit(&m, &p).is_empty(), "pay alone never flags");
}

#[test]
fn lead_ids_are_stable_per_content_version() {
    let m = matcher(PrefilterKind::default());
    let p = Posting::from_text("site-1", "需交押金500元");
    let a = m.leads(&p, "t1");
    let b = m.leads(&p, "t2");
    assert_eq!(a[0].lead_id, b[0].lead_id);
    let mut q = p.clone();
    q.description = Some("需交押金800元".into());
    assert_ne!(m.leads(&q, "t1")[0].lead_id, a[0].lead_id);
    assert_eq!(a[0].posting.content_sha256, p.compute_content_sha256());
}

#[test]
fn one_lead_per_category_with_all_its_evidence() {
    let m = matcher(PrefilterKind::default());
    let leads = m.leads(
        &Posting::from_text("p", "限男性。男生优先。押金500元"),
        "now",
    );
    assert_eq!(leads.len(), 2);
    let sex = leads
        .iter()
        .find(|l| l.category == Category::DiscriminationGender)
        .unwrap();
    assert_eq!(sex.findings.len(), 2);
}

#[test]
fn a_negation_beside_another_attribute_does_not_cancel() {
    let m = matcher(PrefilterKind::default());
    assert_eq!(
        hits(&m, "男女不限 30岁以下"),
        vec!["AGE"],
        "不限 is about sex"
    );
    assert_eq!(hits(&m, "性别不限 30岁以下"), vec!["AGE"]);
    assert!(
        hits(&m, "不限 30岁以下").is_empty(),
        "a bare 不限 still negates"
    );
    assert!(
        hits(&m, "年龄不限 30岁以下").is_empty(),
        "its own attribute negates"
    );
    assert!(hits(&m, "男女不限").is_empty());
}

#[test]
fn quoted_ads_are_judged_on_their_own_and_warnings_are_no_offers() {
    let m = matcher(PrefilterKind::default());
    // A warning sentence names a scheme: no offer.
    assert!(hits(&m, "谨防押金500元的骗局").is_empty());
    // The ad it quotes is an offer, whatever frames it.
    assert_eq!(hits(&m, "谨防“入职先交押金500元”骗局"), vec!["DEPOSIT"]);
    // A short quoted term is no ad.
    assert!(hits(&m, "谨防“押金”骗局").is_empty());
    // An exception in the frame does not reach into the quote.
    assert_eq!(hits(&m, "联系人说：“只招男生，女生勿扰”"), vec!["SEX"]);
    assert!(hits(&m, "联系人说只招男生").is_empty());
    // The next sentence is not warned.
    assert_eq!(hits(&m, "谨防骗局。押金500元"), vec!["DEPOSIT"]);
}

#[test]
fn unless_cancels_a_rule_anywhere_but_inside_quoted_ads() {
    let m = matcher(PrefilterKind::default());
    assert!(hits(&m, "样本测试：押金500元").is_empty());
    assert_eq!(hits(&m, "样本测试：“入职先交押金500元”"), vec!["DEPOSIT"]);
}

#[test]
fn explain_names_the_stage_that_stopped_each_rule() {
    use xuncha_matcher::Stage;
    let m = matcher(PrefilterKind::default());
    let stage = |text: &str, id: &str| {
        let p = Posting::from_text("t", text);
        let i = m.rules().rules.iter().position(|r| r.id == id).unwrap();
        m.explain(&p)[i].stage
    };
    assert_eq!(stage("不限 30岁以下", "AGE"), Stage::Negated);
    assert_eq!(stage("60岁以下", "AGE"), Stage::Number);
    assert_eq!(stage("学龄岁以下", "AGE"), Stage::NoPattern);
    assert_eq!(stage("五险一金", "AGE"), Stage::NoAnchor);
    assert_eq!(stage("谨防押金500元的骗局", "DEPOSIT"), Stage::Warned);
    assert_eq!(stage("联系人只招男生", "SEX"), Stage::Excepted);
    assert_eq!(stage("负责押金500元", "DEPOSIT"), Stage::Duty);
    assert_eq!(stage("30岁以下", "AGE"), Stage::Fired);
    let p = Posting::from_text("t", "宝妈可做");
    let i = m
        .rules()
        .rules
        .iter()
        .position(|r| r.id == "HIGHPAY")
        .unwrap();
    let e = &m.explain(&p)[i];
    assert_eq!(e.stage, Stage::BelowThreshold);
    assert_eq!(e.present, vec![true, false]);
    assert!((e.sum - 0.5).abs() < 1e-9);
}
