//! What a posting or an operator page says about its licence: numbers shown, and
//! statements that there is none.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use xuncha_core::Span;

/// A licence number shown in text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LicenceMention {
    /// The number as shown, including a 证字 prefix that is part of it
    /// (`职介证字[2023]第01130052号`), without the label before it.
    pub number: String,
    /// Where the number is, in bytes of the text searched.
    pub span: Span,
    /// The label that introduced it (`人力资源服务许可证编号`, `许可证号`…), if the number
    /// did not carry its own (`人服证字…`).
    pub label: Option<String>,
}

const OPEN: &str = r"[\[(（〔【［]";
const CLOSE: &str = r"[\])）〕】］]";
const BODY: &str = r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ\[\]［］()（）〔〕【】\-－—第号]{4,40}";

static LICENCE: LazyLock<Regex> = LazyLock::new(|| {
    let province = format!(r"(?:{OPEN}\p{{Han}}{{1,2}}{CLOSE})?");
    Regex::new(&format!(
        r"(?P<label>人力资源服务许可证(?:编号|号码|号)?|许可证(?:编号|号码|号))[\s:：]*(?P<a>{province}(?:\p{{Han}}{{0,3}}(?:证字|许字))?{BODY})|(?P<b>{province}(?:人服证字|职介证字){BODY})"
    ))
    .unwrap()
});

/// Kinds of licence whose label ends like ours but which are not the
/// 人力资源服务许可证 (劳务派遣经营许可证 is a different licence under a different law).
const OTHER_LICENCES: [&str; 12] = [
    "劳务派遣",
    "经营",
    "电信",
    "食品",
    "卫生",
    "道路",
    "运输",
    "出版",
    "文化",
    "ICP",
    "办学",
    "排污",
];

fn other_licence_before(text: &str, at: usize) -> bool {
    let from = text[..at].char_indices().rev().nth(9).map_or(0, |(i, _)| i);
    let before = &text[from..at];
    OTHER_LICENCES.iter().any(|w| before.contains(w))
}

fn ascii_alnum_count(s: &str) -> usize {
    s.chars()
        .filter(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ')
        })
        .count()
}

fn is_open(c: char) -> bool {
    matches!(c, '[' | '(' | '（' | '〔' | '【' | '［')
}

fn is_close(c: char) -> bool {
    matches!(c, ']' | ')' | '）' | '〕' | '】' | '］')
}

/// Cuts what the lenient body took beyond the number: trailing openers, dashes and 第,
/// and closing brackets that close nothing inside it (the `)` of `(许可证号：123…)`).
fn trim_number(s: &str) -> &str {
    let mut s = s;
    loop {
        let Some(last) = s.chars().next_back() else {
            return s;
        };
        let opens = s.chars().filter(|c| is_open(*c)).count();
        let closes = s.chars().filter(|c| is_close(*c)).count();
        if is_open(last)
            || matches!(last, '-' | '－' | '—' | '第')
            || (is_close(last) && closes > opens)
        {
            s = &s[..s.len() - last.len_utf8()];
        } else {
            return s;
        }
    }
}

/// Licence numbers shown in text, leniently: after a label (人力资源服务许可证, 许可证编号,
/// 许可证号) or carrying their own (`人服证字…`, `职介证字…`, with a `(京)`-style province
/// before it), with 8–20 letters or digits in the number. There is no national number
/// format, so the form of a number says nothing about its validity: look it up.
/// Numbers after the label of another licence (劳务派遣经营许可证, 增值电信业务经营许可证…)
/// are left out.
///
/// ```
/// use xuncha_registry::find_licence_numbers;
/// let text = "西安市人力资源服务许可证编号：610100120105 | 职介证字[2023]第01130052号";
/// let found = find_licence_numbers(text);
/// let numbers: Vec<&str> = found.iter().map(|m| m.number.as_str()).collect();
/// assert_eq!(numbers, ["610100120105", "职介证字[2023]第01130052号"]);
/// let m = &found[0];
/// assert_eq!(&text[m.span.start()..m.span.end()], "610100120105");
/// assert_eq!(m.label.as_deref(), Some("人力资源服务许可证编号"));
/// ```
pub fn find_licence_numbers(text: &str) -> Vec<LicenceMention> {
    let mut out = Vec::new();
    for c in LICENCE.captures_iter(text) {
        let (m, label) = match (c.name("a"), c.name("b")) {
            (Some(a), _) => (a, c.name("label")),
            (None, Some(b)) => (b, None),
            _ => continue,
        };
        if let Some(l) = label {
            if !l.as_str().starts_with("人力资源") && other_licence_before(text, l.start()) {
                continue;
            }
        }
        let number = trim_number(m.as_str());
        if !(8..=20).contains(&ascii_alnum_count(number)) {
            continue;
        }
        out.push(LicenceMention {
            number: number.to_string(),
            span: Span::new(m.start(), m.start() + number.len()),
            label: label.map(|l| l.as_str().to_string()),
        });
    }
    out
}

/// What a statement says about the licence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoLicenceKind {
    /// Applied for, not granted: 许可证申请中, 资质在审批.
    Pending,
    /// There is none: 暂无许可证, 尚未取得许可证, 许可证：无.
    Absent,
    /// None is needed: 无需许可证. Counts only for a publisher that recruits for others
    /// (an employer recruiting for itself indeed needs none).
    NotNeeded,
}

/// Text saying the publisher has no licence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoLicenceStatement {
    /// What it says.
    pub kind: NoLicenceKind,
    /// Where, in bytes of the text searched.
    pub span: Span,
    /// The words.
    pub matched: String,
}

static NO_LICENCE: LazyLock<Regex> = LazyLock::new(|| {
    let lic = r"(?:人力资源服务)?(?:许可证|许可)";
    Regex::new(&format!(
        r"(?x)
        (?P<pending>
            {lic}[\s:：]*(?:正在|还在|尚在|仍在)?(?:申请|办理|审批|审核|申办)中
          | 资质(?:正在|还在|尚在|在)(?:申请|办理|审批|审核)
          | 资质(?:申请|办理|审批|审核)中
          | (?:正在|还在)(?:申请|办理){lic}
        )
      | (?P<absent>
            (?:暂无|暂未取得|尚未取得|暂未办理|尚未办理|没有|未取得|未办理){lic}
          | {lic}[\s:：]*(?:暂无|没有|无)(?:[\s,，。;；)）]|$)
        )
      | (?P<notneeded>(?:无需|不需要|不用|免)(?:办理)?{lic})
        "
    ))
    .unwrap()
});

/// Warnings to job seekers mention unlicensed agencies without being one
/// (谨防没有许可证的黑中介).
const WARNINGS: [&str; 11] = [
    "谨防",
    "警惕",
    "请勿",
    "不要相信",
    "远离",
    "防范",
    "举报",
    "谨慎",
    "提防",
    "识别",
    "小心",
];

/// Statements that the publisher has no 人力资源服务许可证: 许可证申请中 / 审批中,
/// 资质在审批, 暂无许可证, 尚未取得许可证, `许可证：无`, 无需许可证. Statements inside a
/// warning to job seekers (谨防没有许可证的中介) and about other licences
/// (劳务派遣经营许可证申请中) are left out.
///
/// ```
/// use xuncha_registry::{find_no_licence_statements, NoLicenceKind};
/// let s = find_no_licence_statements("人力资源服务许可证：申请中，先交报名费");
/// assert_eq!(s[0].kind, NoLicenceKind::Pending);
/// assert_eq!(s[0].matched, "人力资源服务许可证：申请中");
/// assert!(find_no_licence_statements("谨防没有许可证的黑中介").is_empty());
/// ```
pub fn find_no_licence_statements(text: &str) -> Vec<NoLicenceStatement> {
    let mut out = Vec::new();
    for c in NO_LICENCE.captures_iter(text) {
        let (kind, m) = if let Some(m) = c.name("pending") {
            (NoLicenceKind::Pending, m)
        } else if let Some(m) = c.name("absent") {
            (NoLicenceKind::Absent, m)
        } else if let Some(m) = c.name("notneeded") {
            (NoLicenceKind::NotNeeded, m)
        } else {
            continue;
        };
        let matched = m
            .as_str()
            .trim_end_matches(|c: char| c.is_whitespace() || ",，。;；)）".contains(c));
        let from = text[..m.start()]
            .char_indices()
            .rev()
            .nth(7)
            .map_or(0, |(i, _)| i);
        let before = &text[from..m.start()];
        if WARNINGS.iter().any(|w| before.contains(w)) || other_licence_before(text, m.start()) {
            continue;
        }
        out.push(NoLicenceStatement {
            kind,
            span: Span::new(m.start(), m.start() + matched.len()),
            matched: matched.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<String> {
        find_licence_numbers(text)
            .into_iter()
            .map(|m| m.number)
            .collect()
    }

    #[test]
    fn trims_what_is_not_the_number() {
        assert_eq!(numbers("（许可证号：350200RL1010）"), ["350200RL1010"]);
        assert_eq!(numbers("许可证编号：610100120105-"), ["610100120105"]);
    }

    #[test]
    fn other_licences_and_short_runs_are_not_numbers() {
        assert!(numbers("增值电信业务经营许可证：粤B2-20090059").is_empty());
        assert!(numbers("劳务派遣经营许可证编号：610100120105").is_empty());
        assert!(numbers("许可证号：1234567").is_empty());
        assert!(numbers("人力资源服务许可证：申请中").is_empty());
    }

    #[test]
    fn statements() {
        let kinds = |t: &str| -> Vec<NoLicenceKind> {
            find_no_licence_statements(t)
                .into_iter()
                .map(|s| s.kind)
                .collect()
        };
        assert_eq!(kinds("许可证申请中"), [NoLicenceKind::Pending]);
        assert_eq!(kinds("资质在审批，不影响入职"), [NoLicenceKind::Pending]);
        assert_eq!(kinds("暂无许可证"), [NoLicenceKind::Absent]);
        assert_eq!(kinds("人力资源服务许可证：无。"), [NoLicenceKind::Absent]);
        assert_eq!(
            kinds("我们是劳务公司，无需许可证"),
            [NoLicenceKind::NotNeeded]
        );
        assert!(kinds("负责供应商资质审核").is_empty());
        assert!(kinds("劳务派遣许可证申请中").is_empty());
        assert!(kinds("许可证：无限期").is_empty());
    }
}
