//! Fuzz targets for the normaliser, the matcher and the salary reader, as properties over
//! hostile text: any Unicode, and text built from the pieces evaders and broken feeds use
//! (anchors split by invisible characters, controls, quotes, numerals, huge repeats).
//!
//! CI runs each property a few hundred times; the long run sets `PROPTEST_CASES` (README,
//! "Reliability"). Every case must end within a second: a hang is a failure here, not a
//! speed figure.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use xuncha_core::Posting;
use xuncha_matcher::{salary, Matcher, MAX_FINDINGS_PER_RULE};
use xuncha_rules::RuleSet;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let rules = RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
        let m = Matcher::new(Arc::new(rules)).unwrap();
        // What is built on first use is built here, outside the cases' time limit.
        m.warm_up();
        m
    })
}

const PIECES: &[&str] = &[
    "押金",
    "押",
    "金",
    "代招",
    "岁",
    "以下",
    "35",
    "１８",
    "-",
    "—",
    "~",
    "元",
    "万",
    "千",
    "月薪",
    "日结",
    "三千",
    "叁佰",
    "男",
    "女",
    "限",
    "不限",
    "男女不限",
    "“",
    "”",
    "「",
    "」",
    "？",
    "?",
    "吗",
    "我：",
    "HR：",
    "\n",
    " ",
    "\t",
    "\u{200B}",
    "\u{202E}",
    "\u{2066}",
    "\u{1b}",
    "\u{7f}",
    "\u{3164}",
    "\u{FEFF}",
    "\u{E0041}",
    "😀",
    "ya",
    "jin",
    "vx",
    "薇",
    "ＶＸ",
    "0",
    "9",
    "。",
    "，",
    "谨防",
    "刷单",
    "缅甸",
    "培训费",
    "无需经验",
    "日入",
    "500",
    "保证金",
    "\u{301}",
    "ß",
    "İ",
];

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop::sample::select(PIECES), 0..200).prop_map(|v| v.concat()),
        (prop::sample::select(PIECES), 1..3000usize).prop_map(|(p, n)| p.repeat(n)),
    ]
}

// proptest's default reads PROPTEST_CASES, which makes the long run.
fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn normalised_spans_map_back_onto_the_original(text in hostile_text(), picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..8)) {
        let m = matcher();
        let started = Instant::now();
        let norm = m.normalizer().normalize_owned(&text);
        let n = norm.as_str();
        let bounds: Vec<usize> = n.char_indices().map(|(i, _)| i).chain([n.len()]).collect();
        for (a, b) in picks {
            let (mut s, mut e) = (bounds[a.index(bounds.len())], bounds[b.index(bounds.len())]);
            if s > e {
                std::mem::swap(&mut s, &mut e);
            }
            let (os, oe) = norm.original_range(s, e);
            prop_assert!(os <= oe && oe <= text.len(), "{s}..{e} -> {os}..{oe} of {}", text.len());
            prop_assert!(text.is_char_boundary(os) && text.is_char_boundary(oe));
            // Order is kept: a later start never maps before an earlier one.
            let (os2, _) = norm.original_range(e, e);
            prop_assert!(os2 >= os);
        }
        prop_assert!(started.elapsed() < Duration::from_secs(1), "hang: {:?}", started.elapsed());
    }

    #[test]
    fn every_finding_quotes_its_field_exactly(text in hostile_text(), title in hostile_text()) {
        let mut p = Posting::from_text("fuzz", text);
        p.title = Some(title);
        let m = matcher();
        let started = Instant::now();
        for lead in m.leads(&p, "2026-12-02T00:00:00Z") {
            let mut per_rule = std::collections::HashMap::new();
            for f in &lead.findings {
                let field = match f.field.as_str() {
                    "title" => p.title.as_deref().unwrap(),
                    "description" => p.description.as_deref().unwrap(),
                    other => panic!("unknown field {other}"),
                };
                let (s, e) = (f.span.start(), f.span.end());
                prop_assert!(s <= e && e <= field.len());
                prop_assert!(field.is_char_boundary(s) && field.is_char_boundary(e));
                prop_assert_eq!(&field[s..e], f.matched.as_str());
                *per_rule.entry(f.rule_id.clone()).or_insert(0usize) += 1;
            }
            // A signature's signals each keep their own few.
            prop_assert!(per_rule.values().all(|&n| n <= 4 * MAX_FINDINGS_PER_RULE));
        }
        prop_assert!(started.elapsed() < Duration::from_secs(1), "hang: {:?}", started.elapsed());
    }

    #[test]
    fn pay_is_read_within_the_text(text in hostile_text()) {
        let started = Instant::now();
        for pay in [salary::parse_text(&text), salary::parse_field(&text)].into_iter().flatten() {
            prop_assert!(pay.start <= pay.end && pay.end <= text.len());
            prop_assert!(text.is_char_boundary(pay.start) && text.is_char_boundary(pay.end));
            prop_assert!(pay.monthly_max.is_finite() && pay.monthly_max >= 0.0);
        }
        prop_assert!(started.elapsed() < Duration::from_secs(1), "hang: {:?}", started.elapsed());
    }
}
