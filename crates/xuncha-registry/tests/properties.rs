//! Fuzz targets for the licence-number and credit-code readers: any text, spans inside it
//! on character boundaries, never a panic; a code completed by its check character reads
//! back valid wherever it stands.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use xuncha_registry::{find_credit_codes, find_licence_numbers, CreditCode};

const PIECES: &[&str] = &[
    "人力资源服务许可证",
    "许可证编号",
    "许可证号：",
    "人服证字",
    "职介证字",
    "[2023]",
    "〔2024〕",
    "第",
    "号",
    "统一社会信用代码",
    "信用代码：",
    "营业执照",
    "91440300",
    "MA5",
    "0",
    "9",
    "Ｘ",
    "X",
    "I",
    "O",
    "Z",
    "：",
    ":",
    " ",
    "\n",
    "\u{200B}",
    "（",
    "）",
    "(",
    ")",
    "-",
    "—",
    "申请中",
    "无",
    "暂无许可证",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop::sample::select(PIECES), 0..80).prop_map(|v| v.concat()),
        "[0-9A-HJ-NP-RTUW-Y]{17}",
    ]
}

// proptest's default reads PROPTEST_CASES, which makes the long run.
proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mentions_are_spans_of_the_text(t in text()) {
        let started = Instant::now();
        for m in find_licence_numbers(&t) {
            let (s, e) = (m.span.start(), m.span.end());
            prop_assert!(s <= e && e <= t.len() && t.is_char_boundary(s) && t.is_char_boundary(e));
        }
        for m in find_credit_codes(&t) {
            let (s, e) = (m.span.start(), m.span.end());
            prop_assert!(s <= e && e <= t.len() && t.is_char_boundary(s) && t.is_char_boundary(e));
            prop_assert_eq!(m.valid, CreditCode::parse(&m.code).is_ok());
        }
        let _ = CreditCode::parse(&t);
        prop_assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_completed_code_is_found_valid_in_any_frame(first in "[0-9A-HJ-NP-RTUW-Y]{17}", before in text(), after in text()) {
        if let Ok(code) = CreditCode::complete(&first) {
            let t = format!("{before}统一社会信用代码：{} {after}", code.as_str());
            let found = find_credit_codes(&t);
            prop_assert!(found.iter().any(|m| m.code == code.as_str() && m.valid), "{found:?}");
        }
    }
}
