//! Pay, parsed from the salary field or the text, scaled to yuan a month.
//!
//! Fake-job signatures weigh pay against the stated bar, so `日结300-800`, `月入3万`,
//! `30-50千·15薪` and `150-200元/天` must all land on one scale. Input is normalised text
//! (`k`/`w` already read as 千/万, Chinese numerals as digits).

use std::sync::LazyLock;

use regex::Regex;

/// Working days a month, for day and hour rates.
const DAYS_A_MONTH: f64 = 22.0;
const HOURS_A_DAY: f64 = 8.0;

/// Parsed pay: the upper end, in yuan a month, and where it was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pay {
    /// Upper end of the range, yuan a month.
    pub monthly_max: f64,
    /// Byte range in the normalised text.
    pub start: usize,
    /// End of that range.
    pub end: usize,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Period {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

static AMOUNT: &str = r"(?P<a>\d+(?:\.\d+)?)(?P<ua>万|千)?(?:元|块)?(?:\s*(?:-|~|到|至)\s*(?P<b>\d+(?:\.\d+)?))?(?P<u>万|千)?(?:元|块)?(?:\s*(?:/|每|一|一个)?\s*(?P<p>小时|时|天|日|周|月|年))?";

static FIELD: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("^\\s*{AMOUNT}")).unwrap());

static TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?P<ctx>月薪|月入|月赚|月收入|日薪|日入|日赚|日结|时薪|年薪|年入|年收入|工资|薪资|薪水|底薪|保底|收入|每天|1天|一天|每月|1个月|一个月|待遇|佣金|轻松赚|赚)[^\d,。;!?]{{0,4}}{AMOUNT}"
    ))
    .unwrap()
});

fn period_of(word: &str) -> Option<Period> {
    Some(match word {
        "小时" | "时" | "时薪" => Period::Hour,
        "天" | "日" | "日薪" | "日入" | "日赚" | "日结" | "每天" | "一天" | "1天" => {
            Period::Day
        }
        "周" => Period::Week,
        "月" | "月薪" | "月入" | "月赚" | "月收入" | "每月" | "一个月" | "1个月" => {
            Period::Month
        }
        "年" | "年薪" | "年入" | "年收入" => Period::Year,
        _ => return None,
    })
}

fn scale(unit: Option<&str>) -> f64 {
    match unit {
        Some("万") => 10_000.0,
        Some("千") => 1_000.0,
        _ => 1.0,
    }
}

fn monthly(caps: &regex::Captures<'_>, ctx_period: Option<Period>) -> Option<f64> {
    let a: f64 = caps.name("a")?.as_str().parse().ok()?;
    let b: Option<f64> = caps.name("b").and_then(|m| m.as_str().parse().ok());
    let unit = caps.name("u").or(caps.name("ua")).map(|m| m.as_str());
    let top = b.unwrap_or(a) * scale(unit);
    let period = caps
        .name("p")
        .and_then(|m| period_of(m.as_str()))
        .or(ctx_period)
        .unwrap_or(if top < 1000.0 {
            Period::Day
        } else {
            Period::Month
        });
    let v = match period {
        Period::Hour => top * HOURS_A_DAY * DAYS_A_MONTH,
        Period::Day => top * DAYS_A_MONTH,
        Period::Week => top * 4.3,
        Period::Month => top,
        Period::Year => top / 12.0,
    };
    // A run of digits (a phone number after 工资, a thousand digits) is no pay.
    (v.is_finite() && v <= MAX_MONTHLY).then_some(v)
}

/// More than this a month is not pay anyone states, however boastful: 10 million yuan.
const MAX_MONTHLY: f64 = 1e7;

/// Pay written in a salary field (`1.5-3万/月`, `150-200元/天`, `30-50千·15薪`).
pub fn parse_field(text: &str) -> Option<Pay> {
    let caps = FIELD.captures(text)?;
    let m = caps.get(0)?;
    let v = monthly(&caps, None)?;
    (v > 0.0).then_some(Pay {
        monthly_max: v,
        start: m.start(),
        end: m.end(),
    })
}

/// The highest pay a text states with a pay word before it (`日结300-800`, `月入3万`).
pub fn parse_text(text: &str) -> Option<Pay> {
    let mut best: Option<Pay> = None;
    for caps in TEXT.captures_iter(text) {
        let ctx = caps.name("ctx").map(|m| m.as_str()).unwrap_or("");
        let Some(v) = monthly(&caps, period_of(ctx)) else {
            continue;
        };
        let m = caps.get(0).expect("match");
        if best.is_none_or(|b| v > b.monthly_max) {
            best = Some(Pay {
                monthly_max: v,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> f64 {
        parse_field(s).map(|p| p.monthly_max).unwrap_or(-1.0)
    }

    fn text(s: &str) -> f64 {
        parse_text(s).map(|p| p.monthly_max).unwrap_or(-1.0)
    }

    #[test]
    fn digit_runs_are_no_pay() {
        assert_eq!(field(&"500".repeat(200)), -1.0);
        assert_eq!(parse_text("工资13800138000"), None);
        assert!(parse_text("月入100万").is_some());
    }

    #[test]
    fn salary_fields_scale_to_a_month() {
        assert_eq!(field("1.5-3万/月"), 30_000.0);
        assert_eq!(field("2000-4000/月"), 4000.0);
        assert_eq!(field("10000.0-15000.0"), 15_000.0);
        assert_eq!(field("30-50千·15薪"), 50_000.0);
        assert_eq!(field("150-200元/天"), 200.0 * 22.0);
        assert_eq!(field("2万-3万"), 30_000.0);
        assert_eq!(field("年薪80万-120万"), -1.0);
        assert_eq!(field("80-120万/年"), 100_000.0);
        assert_eq!(field("面议"), -1.0);
    }

    #[test]
    fn pay_words_in_text() {
        assert_eq!(text("日结300-800,手机就能做"), 800.0 * 22.0);
        assert_eq!(text("包吃包住,月入3万"), 30_000.0);
        assert_eq!(text("时薪25元"), 25.0 * 8.0 * 22.0);
        // Normalisation has already read 一天 as 1天.
        assert_eq!(text("1天800"), 800.0 * 22.0);
        assert_eq!(text("年薪80万-120万"), 100_000.0);
        assert_eq!(text("五险一金"), -1.0);
        assert_eq!(text("工资8000-12000,月入过万"), 12_000.0);
    }
}
