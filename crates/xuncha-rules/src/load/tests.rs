use std::fs;

use super::*;

const LAWS: &str = r#"
[law.LCL-9]
law = "中华人民共和国劳动合同法"
article = "第九条"
text = "用人单位招用劳动者，不得……要求劳动者提供担保或者以其他名义向劳动者收取财物。"

[law.LCL-84]
law = "中华人民共和国劳动合同法"
article = "第八十四条"
text = "……由劳动行政部门责令限期退还劳动者本人，并以每人五百元以上二千元以下的标准处以罚款"
"#;

const DIVISIONS: &str = "code,name,short,level,parent\n310000,上海市,上海,province,\n";

fn rule(extra: &str) -> String {
    format!(
        r#"[pack]
family = "fee"
version = "2026.11.27"

[[rule]]
id = "FEE-T-001"
category = "fee.deposit"
severity = "illegal"
legal_basis = ["LCL-9"]
penalty = "LCL-84"
anchors = ["押金"]
patterns = ['押金']
{extra}
[rule.examples]
match = ["a", "b", "c", "d", "e"]
no_match = ["f", "g", "h", "i", "j"]
"#
    )
}

fn dir_with(pack: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("laws.toml"), LAWS).unwrap();
    fs::write(dir.path().join("divisions.csv"), DIVISIONS).unwrap();
    fs::write(dir.path().join("fees.toml"), pack).unwrap();
    dir
}

fn errors(pack: &str) -> Vec<String> {
    let dir = dir_with(pack);
    match RuleSet::load(dir.path()) {
        Ok(_) => Vec::new(),
        Err(e) => {
            e.0.iter()
                .map(|e| {
                    let file = e.file.file_name().unwrap().to_string_lossy().into_owned();
                    format!("{file}:{}: {}", e.line.unwrap_or(0), e.message)
                })
                .collect()
        }
    }
}

#[test]
fn a_valid_pack_loads_with_its_legal_basis() {
    let dir = dir_with(&rule(""));
    let set = RuleSet::load(dir.path()).unwrap();
    assert_eq!(set.rules.len(), 1);
    let r = &set.rules[0];
    assert_eq!(r.category, Category::FeeDeposit);
    assert_eq!(r.legal_basis[0].article, "第九条");
    assert_eq!(r.penalty.as_ref().unwrap().key, "LCL-84");
    assert_eq!(r.origin.line, 6);
    assert!(set.version.starts_with("2026.11.27+"), "{}", set.version);
}

#[test]
fn version_changes_with_content() {
    let a = RuleSet::load(dir_with(&rule("")).path()).unwrap().version;
    let b = RuleSet::load(dir_with(&rule("negations = ['不收']")).path())
        .unwrap()
        .version;
    assert_ne!(a, b);
}

#[test]
fn a_bad_regex_is_named_with_its_line() {
    let errs = errors(&rule("negations = ['(不收']"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("fees.toml:13: negation `(不收` is not a valid regex"),
        "{errs:?}"
    );
}

#[test]
fn a_pattern_too_costly_to_run_is_refused_with_its_line() {
    let errs = errors(&rule(r"negations = ['(\w+\s*){50}a']"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("fees.toml:13: negation `(\\w+\\s*){50}a` is too costly"),
        "{errs:?}"
    );
}

#[test]
fn a_rule_without_enough_examples_does_not_load() {
    let pack = rule("").replace(r#"match = ["a", "b", "c", "d", "e"]"#, r#"match = ["a"]"#);
    let errs = errors(&pack);
    assert!(
        errs.iter().any(|e| e.contains("at least 5 `match`")),
        "{errs:?}"
    );
    let pack = rule("").replace("[rule.examples]", "[rule.nothing]");
    let errs = errors(&pack);
    assert!(!errs.is_empty());
}

#[test]
fn unknown_category_severity_key_and_law_are_refused() {
    let pack = rule("")
        .replace("fee.deposit", "fee.bribe")
        .replace("\"illegal\"", "\"severe\"")
        .replace("\"LCL-84\"", "\"LCL-99\"");
    let errs = errors(&pack);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("fees.toml:7:") && e.contains("unknown category `fee.bribe`")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("fees.toml:8:") && e.contains("unknown severity")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("fees.toml:10:") && e.contains("`LCL-99` is not defined")),
        "{errs:?}"
    );
    let errs = errors(&rule("negatoins = ['不收']"));
    assert!(
        errs.iter()
            .any(|e| e.starts_with("fees.toml:13:") && e.contains("unknown field `negatoins`")),
        "{errs:?}"
    );
}

#[test]
fn duplicate_ids_and_unlocated_local_rules_are_refused() {
    let one = rule("");
    let body = one.split_once("[[rule]]").unwrap().1;
    let errs = errors(&format!("{one}\n[[rule]]{body}"));
    assert!(
        errs.iter()
            .any(|e| e.contains("`FEE-T-001` is already used at")),
        "{errs:?}"
    );
    let errs = errors(&rule("").replace("\"illegal\"", "\"locally_illegal\""));
    assert!(
        errs.iter()
            .any(|e| e.contains("must name its jurisdictions")),
        "{errs:?}"
    );
    let errs = errors(&rule("jurisdictions = [\"999999\"]"));
    assert!(
        errs.iter().any(|e| e.contains("`999999` is not a code")),
        "{errs:?}"
    );
    assert!(errors(&rule("jurisdictions = [\"310000\"]")).is_empty());
}

#[test]
fn a_broken_toml_file_names_its_line() {
    let errs = errors("[pack]\nfamily = \"fee\"\nversion = \n");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("fees.toml:3:"), "{errs:?}");
}

#[test]
fn signatures_need_a_phrase_signal_and_a_threshold() {
    let pack = r#"[pack]
family = "fake"
version = "1"

[[rule]]
id = "FAKE-T-001"
kind = "signature"
category = "fake.high_pay_low_bar"
severity = "indicator"
legal_basis = ["LCL-9"]
penalty = "LCL-84"
threshold = 1.0

[[rule.signal]]
name = "pay"
weight = 1.0
salary_monthly_min = 20000

[rule.examples]
match = ["a", "b", "c", "d", "e"]
no_match = ["f", "g", "h", "i", "j"]
"#;
    let errs = errors(pack);
    assert!(
        errs.iter()
            .any(|e| e.contains("at least one phrase signal")),
        "{errs:?}"
    );
    let ok = pack.replace(
        "salary_monthly_min = 20000",
        "salary_monthly_min = 20000\n\n[[rule.signal]]\nname = \"bar\"\nweight = 0.5\nanchors = [\"无需\"]\npatterns = ['无需经验']",
    );
    assert!(errors(&ok).is_empty(), "{:?}", errors(&ok));
}

#[test]
fn word_boundaries_are_ascii_so_english_ends_where_han_begins() {
    assert_eq!(ascii_word_boundaries(r"agent\b"), r"agent(?-u:\b)");
    assert_eq!(ascii_word_boundaries(r"a\\b\d"), r"a\\b\d");
    let re = Regex::new(&ascii_word_boundaries(r"\bagent\b")).unwrap();
    assert!(re.is_match("我们agent全程安排"));
    assert!(!re.is_match("agents"));
}

#[test]
fn an_attribute_the_lexicon_does_not_list_is_refused() {
    let errs = errors(&rule("attribute = \"shoe_size\""));
    assert!(
        errs.iter()
            .any(|e| e.contains("fees.toml:6: rule `FEE-T-001`: attribute `shoe_size`")),
        "{errs:?}"
    );
}
