//! No format or control character hides a lead, checked against Unicode's general
//! categories as published (the `unicode-general-category` tables), not the normaliser's
//! own list of what it drops.

use std::sync::Arc;

use unicode_general_category::{get_general_category, GeneralCategory};
use xuncha_core::{Category, Posting};
use xuncha_matcher::Matcher;
use xuncha_rules::RuleSet;

fn matcher() -> Matcher {
    let rules = RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
    Matcher::new(Arc::new(rules)).unwrap()
}

fn finds_the_deposit(m: &Matcher, text: &str) -> bool {
    m.leads(&Posting::from_text("p", text), "2026-12-02T00:00:00Z")
        .iter()
        .any(|l| l.category == Category::FeeDeposit)
}

#[test]
fn no_format_or_control_character_between_the_characters_of_a_word_hides_it() {
    let m = matcher();
    assert!(finds_the_deposit(&m, "入职需交押金500元"));
    let hidden: Vec<String> = (0..=0x10FFFFu32)
        .filter_map(char::from_u32)
        .filter(|&c| {
            matches!(
                get_general_category(c),
                GeneralCategory::Format | GeneralCategory::Control
            )
        })
        // A line break and a tab are seen, and the normaliser reads both as the end of a
        // field (a tab separates columns), so they part 押 from 金 by design.
        .filter(|c| !matches!(c, '\t' | '\n'))
        .filter(|&c| !finds_the_deposit(&m, &format!("入职需交押{c}金500元")))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(hidden.is_empty(), "these hide 押金: {hidden:?}");
}
