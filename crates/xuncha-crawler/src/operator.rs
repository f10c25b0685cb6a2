//! Operator pages: what a site shows of its 营业执照 and 人力资源服务许可证
//! for the licence checks (`license.undisplayed`,
//! `license.missing`). Extraction is lenient on purpose: there is no national number
//! format, so a number is taken as shown and validated later by lookup, never rejected here.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Selector;
use url::Url;

use crate::extract::{base_url, page_text, parse};

pub use xuncha_core::{LicenceDisplay, OperatorPage, OperatorRecord, OPERATOR_SCHEMA};

const BUSINESS_LABELS: &[&str] = &["营业执照", "统一社会信用代码"];
const HR_LABELS: &[&str] = &[
    "人力资源服务许可证",
    "人服证字",
    "职介证字",
    "职业中介许可证",
];
const DISCLOSURES: &[&str] = &["服务项目", "收费标准", "监督机关", "监督电话"];

static CREDIT_CODE: LazyLock<Regex> = LazyLock::new(|| {
    // GB 32100-2015: registration authority, type, division code, organisation code,
    // check character; I, O, Z, S, V never occur.
    Regex::new(
        r"统一社会信用代码[^0-9A-Z]{0,6}([0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})",
    )
    .expect("static regex")
});
static HR_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    // The colon is required: "人力资源服务许可证　粤ICP备…" is a link label followed by
    // something else, not a number.
    Regex::new(
        r"(?:人力资源服务许可证|职业中介许可证|许可证)(?:编号|号码|号)?\s*[：:]\s*([^\s，,。；;|、）)]{6,40})",
    )
    .expect("static regex")
});
static HR_INLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:人服证字|职介证字)[^\s，,。；;|、]{4,30})").expect("static regex")
});
static ICP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\p{Han}ICP[备证]\s*[0-9]+号(?:-[0-9]+)?").expect("static regex"));

/// Adds what one page shows to `record`.
pub(crate) fn scan_page(record: &mut OperatorRecord, html: &str, page_url: &Url) {
    let doc = match parse(html) {
        Ok(doc) => doc,
        Err(why) => {
            record.errors.push(format!("{page_url}: {why}"));
            return;
        }
    };
    let text = page_text(&doc);
    scan_text(record, &text);

    static LINKS: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("a[href], img[src]").expect("static selector"));
    let base = base_url(&doc, page_url);
    for el in doc.select(&LINKS) {
        let v = el.value();
        let label: String = [v.attr("alt"), v.attr("title")]
            .into_iter()
            .flatten()
            .map(str::to_owned)
            .chain(std::iter::once(el.text().collect::<String>()))
            .collect::<Vec<_>>()
            .join(" ");
        let target = v.attr("href").or_else(|| v.attr("src")).unwrap_or("");
        let Ok(target) = base.join(target.trim()) else {
            continue;
        };
        for (labels, display) in [
            (BUSINESS_LABELS, &mut record.business_licence),
            (HR_LABELS, &mut record.hr_service_licence),
        ] {
            if labels.iter().any(|l| label.contains(l))
                && !display.links.contains(&target.to_string())
            {
                display.shown = true;
                display.links.push(target.to_string());
            }
        }
    }
}

fn scan_text(record: &mut OperatorRecord, text: &str) {
    for (labels, display) in [
        (BUSINESS_LABELS, &mut record.business_licence),
        (HR_LABELS, &mut record.hr_service_licence),
    ] {
        if let Some(at) = labels.iter().filter_map(|l| text.find(l)).min() {
            display.shown = true;
            if display.context.is_none() {
                display.context = Some(context(text, at, 60));
            }
        }
    }
    if record.business_licence.number.is_none() {
        record.business_licence.number = CREDIT_CODE.captures(text).map(|c| c[1].to_owned());
    }
    if record.hr_service_licence.number.is_none() {
        // A number has digits; "人力资源服务许可证：见下图" is a mention, not a number.
        let has_digits = |s: &str| s.bytes().filter(u8::is_ascii_digit).count() >= 4;
        record.hr_service_licence.number = HR_NUMBER
            .captures_iter(text)
            .chain(HR_INLINE.captures_iter(text))
            .map(|c| c[1].to_owned())
            .find(|n| has_digits(n));
    }
    if record.icp.is_none() {
        record.icp = ICP.find(text).map(|m| m.as_str().to_owned());
    }
    for d in DISCLOSURES {
        if text.contains(d) && !record.disclosures.iter().any(|x| x == d) {
            record.disclosures.push((*d).to_owned());
        }
    }
}

/// Up to `chars` characters either side of byte offset `at`.
fn context(text: &str, at: usize, chars: usize) -> String {
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .nth(chars * 2)
        .map_or(text.len(), |(i, _)| at + i);
    text[start..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_licences_are_read() {
        let html = r#"<footer><p>深圳市某某人力资源有限公司 统一社会信用代码：91440300MA5F1234X7</p>
            <p>人力资源服务许可证编号：440305190010 | 粤ICP备12345678号-1 | 监督电话：12333</p>
            <a href="/zz/yyzz.jpg">营业执照</a></footer>"#;
        let mut r = OperatorRecord::default();
        scan_page(&mut r, html, &Url::parse("http://a.example/").unwrap());
        assert!(r.business_licence.shown);
        assert_eq!(
            r.business_licence.number.as_deref(),
            Some("91440300MA5F1234X7")
        );
        assert_eq!(
            r.business_licence.links,
            vec!["http://a.example/zz/yyzz.jpg"]
        );
        assert_eq!(r.hr_service_licence.number.as_deref(), Some("440305190010"));
        assert_eq!(r.icp.as_deref(), Some("粤ICP备12345678号-1"));
        assert_eq!(r.disclosures, vec!["监督电话"]);
    }

    #[test]
    fn local_number_formats_are_kept_as_shown() {
        for (text, want) in [
            ("人力资源服务许可证：350200RL1010", "350200RL1010"),
            (
                "人力资源服务许可证：职介证字[2023]第01130052号",
                "职介证字[2023]第01130052号",
            ),
            (
                "版权所有 人服证字[2021]第0106004515号",
                "人服证字[2021]第0106004515号",
            ),
            (
                "人力资源服务许可证　粤ICP备1234号 许可证编号：610100120105",
                "610100120105",
            ),
        ] {
            let mut r = OperatorRecord::default();
            scan_text(&mut r, text);
            assert_eq!(r.hr_service_licence.number.as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn nothing_shown_is_recorded_as_such() {
        let mut r = OperatorRecord::default();
        scan_page(
            &mut r,
            "<p>欢迎来到招聘网</p>",
            &Url::parse("http://a.example/").unwrap(),
        );
        assert!(!r.business_licence.shown && !r.hr_service_licence.shown);
        assert!(r.icp.is_none());
    }
}
