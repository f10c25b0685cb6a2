//! Credit-code check characters and licence-number extraction.

use xuncha_registry::credit_code::ALPHABET;
use xuncha_registry::synthetic::{credit_code, Rng};
use xuncha_registry::{
    find_credit_codes, find_licence_numbers, find_no_licence_statements, CreditCode,
    CreditCodeError, NoLicenceKind,
};

#[test]
fn generated_codes_are_valid_and_every_single_change_is_caught() {
    let mut rng = Rng::new(42);
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    for _ in 0..200 {
        let code = credit_code(&mut rng);
        let s: Vec<char> = code.as_str().chars().collect();
        assert!(CreditCode::parse(code.as_str()).is_ok(), "{code}");
        for pos in 0..18 {
            for &c in &alphabet {
                if c == s[pos] {
                    continue;
                }
                let mut t = s.clone();
                t[pos] = c;
                let t: String = t.into_iter().collect();
                assert!(CreditCode::parse(&t).is_err(), "{code} → {t}");
            }
        }
        // Swapping two different neighbours is caught too.
        for pos in 0..16 {
            if s[pos] != s[pos + 1] {
                let mut t = s.clone();
                t.swap(pos, pos + 1);
                let t: String = t.into_iter().collect();
                assert!(CreditCode::parse(&t).is_err(), "{code} → {t}");
            }
        }
    }
}

#[test]
fn codes_outside_the_alphabet_or_length_are_rejected() {
    let code = CreditCode::complete("91000000MA0000001").unwrap();
    for bad in ['I', 'O', 'S', 'V', 'Z'] {
        let t = format!("{}{}{}", &code.as_str()[..9], bad, &code.as_str()[10..]);
        assert!(
            matches!(
                CreditCode::parse(&t),
                Err(CreditCodeError::Character { pos: 10, .. })
            ),
            "{t}"
        );
    }
    assert!(matches!(
        CreditCode::parse(&code.as_str()[..17]),
        Err(CreditCodeError::Length(17))
    ));
    let wrong_check = format!(
        "{}{}",
        &code.as_str()[..17],
        if code.as_str().ends_with('0') {
            '1'
        } else {
            '0'
        }
    );
    assert!(matches!(
        CreditCode::parse(&wrong_check),
        Err(CreditCodeError::Check { .. })
    ));
    assert_eq!(code.division(), "000000");
}

#[test]
fn credit_codes_are_found_in_text() {
    let mut rng = Rng::new(3);
    let a = credit_code(&mut rng);
    let b = credit_code(&mut rng);
    let text = format!(
        "营业执照：{a}。另一家：{}，身份证 110101199001011234",
        b.as_str().to_lowercase()
    );
    let found = find_credit_codes(&text);
    let codes: Vec<&str> = found.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes, [a.as_str(), b.as_str()]);
    assert!(found[0].labelled && !found[1].labelled);
    for m in &found {
        assert_eq!(
            text[m.span.start()..m.span.end()].to_ascii_uppercase(),
            m.code
        );
    }
    // Labelled but wrong: reported, as invalid.
    let tampered = a.as_str().replacen(
        &a.as_str()[17..],
        if a.as_str().ends_with('0') { "1" } else { "0" },
        1,
    );
    let found = find_credit_codes(&format!("统一社会信用代码 {tampered}"));
    assert_eq!(found.len(), 1);
    assert!(!found[0].valid);
    // Glued into a longer run: not a code.
    assert!(find_credit_codes(&format!("X{a}")).is_empty());
}

fn numbers(text: &str) -> Vec<(String, String)> {
    find_licence_numbers(text)
        .into_iter()
        .map(|m| {
            assert_eq!(&text[m.span.start()..m.span.end()], m.number);
            (m.number, m.label.unwrap_or_default())
        })
        .collect()
}

#[test]
fn licence_numbers_in_the_published_formats() {
    for (text, number, label) in [
        (
            "西安市人力资源服务许可证编号：610100120105",
            "610100120105",
            "人力资源服务许可证编号",
        ),
        (
            "人力资源服务许可证：350200RL1010",
            "350200RL1010",
            "人力资源服务许可证",
        ),
        (
            "人力资源服务许可证：职介证字[2023]第01130052号",
            "职介证字[2023]第01130052号",
            "人力资源服务许可证",
        ),
        (
            "职介证字[2023]第01130052号",
            "职介证字[2023]第01130052号",
            "",
        ),
        (
            "人服证字〔2020〕第0105001234号 版权所有",
            "人服证字〔2020〕第0105001234号",
            "",
        ),
        (
            "许可证编号：(京)人服证字[2017]第0000000015号",
            "(京)人服证字[2017]第0000000015号",
            "许可证编号",
        ),
        (
            "许可证号 ６１０１００１２０１０５，地址",
            "６１０１００１２０１０５",
            "许可证号",
        ),
        (
            "人力资源服务许可证号码:440106 2023 0001",
            "440106",
            "人力资源服务许可证号码",
        ),
    ] {
        let got = numbers(text);
        if number == "440106" {
            // Spaces end a number: six digits are too few to be one.
            assert!(got.is_empty(), "{text}: {got:?}");
            continue;
        }
        assert_eq!(got, [(number.to_string(), label.to_string())], "{text}");
    }
}

#[test]
fn several_numbers_and_offsets() {
    let text = "公司A 人力资源服务许可证：350200RL1010；公司B 许可证编号：610100120105";
    let found = find_licence_numbers(text);
    assert_eq!(found.len(), 2);
    assert!(found[0].span.end() <= found[1].span.start());
    assert_eq!(
        &text[found[1].span.start()..found[1].span.end()],
        "610100120105"
    );
}

#[test]
fn what_is_not_a_licence_number() {
    for text in [
        "增值电信业务经营许可证：粤B2-20090059",
        "劳务派遣经营许可证编号：610100120105",
        "食品经营许可证号：JY14401060000001",
        "人力资源服务许可证：申请中",
        "许可证号：1234567",
        "人力资源服务许可证编号：123456789012345678901",
        "请出示人力资源服务许可证",
    ] {
        assert!(numbers(text).is_empty(), "{text}: {:?}", numbers(text));
    }
}

#[test]
fn statements_of_no_licence() {
    for (text, kind, matched) in [
        (
            "人力资源服务许可证：申请中",
            NoLicenceKind::Pending,
            "人力资源服务许可证：申请中",
        ),
        (
            "我司许可证正在办理中",
            NoLicenceKind::Pending,
            "许可证正在办理中",
        ),
        ("资质在审批", NoLicenceKind::Pending, "资质在审批"),
        (
            "暂无许可证，但合法经营",
            NoLicenceKind::Absent,
            "暂无许可证",
        ),
        (
            "尚未取得人力资源服务许可证",
            NoLicenceKind::Absent,
            "尚未取得人力资源服务许可证",
        ),
        ("许可证：无", NoLicenceKind::Absent, "许可证：无"),
        ("做劳务无需许可证", NoLicenceKind::NotNeeded, "无需许可证"),
    ] {
        let s = find_no_licence_statements(text);
        assert_eq!(s.len(), 1, "{text}");
        assert_eq!(
            (s[0].kind, s[0].matched.as_str()),
            (kind, matched),
            "{text}"
        );
        assert_eq!(&text[s[0].span.start()..s[0].span.end()], matched);
    }
    for text in [
        "谨防没有许可证的黑中介",
        "请勿相信暂无许可证的机构",
        "负责供应商资质审核",
        "许可证：无限期有效",
        "食品经营许可证申请中",
    ] {
        assert!(find_no_licence_statements(text).is_empty(), "{text}");
    }
}
