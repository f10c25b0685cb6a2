//! Calendar dates of licence validity.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Serialize, Serializer};

/// A calendar date (proleptic Gregorian), the unit in which licences expire. It cannot
/// hold an impossible day such as 2023-02-29.
///
/// ```
/// use xuncha_registry::Date;
/// let d: Date = "2028-12-31".parse().unwrap();
/// assert_eq!(d.to_string(), "2028-12-31");
/// assert!(Date::new(2023, 2, 29).is_none());
/// assert!(Date::new(2024, 2, 29).unwrap() < d);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    // Field order makes the derived ordering chronological.
    year: u16,
    month: u8,
    day: u8,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// The date, or `None` if there is no such day (years 1000–9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        ((1000..=9999).contains(&year) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Date { year, month, day })
    }

    /// Year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// Month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// Day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The date `days` days after 1970-01-01 (negative: before).
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }

    /// Today in China Standard Time (UTC+8), the clock the licensing authorities' expiry
    /// dates are written in.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date::from_unix_days((secs + 8 * 3600).div_euclid(86_400))
    }

    /// Reads a validity cell as the 名录 write it. `Ok(None)` means no end date: empty,
    /// 长期, 长期有效, 无固定期限, 永久. A range such as `2023-01-01至2028-12-31` gives its
    /// last date. Accepts `2028-12-31`, `2028/12/31`, `2028.12.31`, `2028年12月31日`.
    ///
    /// ```
    /// use xuncha_registry::Date;
    /// let d = Date::parse_validity("2023年1月1日至2028年12月31日").unwrap().unwrap();
    /// assert_eq!(d.to_string(), "2028-12-31");
    /// assert_eq!(Date::parse_validity("长期").unwrap(), None);
    /// assert!(Date::parse_validity("明年").is_err());
    /// ```
    pub fn parse_validity(cell: &str) -> Result<Option<Date>, ParseDateError> {
        let t = cell.trim();
        if t.is_empty() || ["长期", "长期有效", "无固定期限", "永久", "永久有效"].contains(&t)
        {
            return Ok(None);
        }
        static DATE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?").unwrap()
        });
        let mut last = None;
        for c in DATE.captures_iter(t) {
            let (y, mo, d) = (c[1].parse().ok(), c[2].parse().ok(), c[3].parse().ok());
            last = Some(
                y.zip(mo)
                    .zip(d)
                    .and_then(|((y, mo), d)| Date::new(y, mo, d))
                    .ok_or_else(|| ParseDateError(t.to_string()))?,
            );
        }
        // Text around the dates may only be a range word; anything more is not a date.
        let leftover: String = DATE
            .replace_all(t, "")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !matches!(
            leftover.as_str(),
            "" | "至" | "-" | "~" | "到" | "—" | "－" | "起至" | "止"
        ) {
            return Err(ParseDateError(t.to_string()));
        }
        last.map(Some).ok_or_else(|| ParseDateError(t.to_string()))
    }
}

impl FromStr for Date {
    type Err = ParseDateError;

    /// Strict `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Date, ParseDateError> {
        let err = || ParseDateError(s.to_string());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let y = s[0..4].parse().map_err(|_| err())?;
        let m = s[5..7].parse().map_err(|_| err())?;
        let d = s[8..10].parse().map_err(|_| err())?;
        Date::new(y, m, d).ok_or_else(err)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Text that is not a date (or not a validity cell).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date: `{0}` (expected YYYY-MM-DD)")]
pub struct ParseDateError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_days_round_trip_known_dates() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(19_782).to_string(), "2024-02-29");
        assert_eq!(Date::from_unix_days(-1).to_string(), "1969-12-31");
    }

    #[test]
    fn validity_cells() {
        for (cell, want) in [
            ("2028-12-31", Some("2028-12-31")),
            ("2028/1/5", Some("2028-01-05")),
            ("2028.01.05", Some("2028-01-05")),
            (" 2028年1月5日 ", Some("2028-01-05")),
            ("2023-01-01 至 2028-12-31", Some("2028-12-31")),
            ("", None),
            ("长期有效", None),
        ] {
            let got = Date::parse_validity(cell).unwrap().map(|d| d.to_string());
            assert_eq!(got.as_deref(), want, "{cell}");
        }
        for bad in [
            "2028-02-30",
            "2028-13-01",
            "12/31/2028",
            "有效",
            "2028-12-31 前后",
        ] {
            assert!(Date::parse_validity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strict_parse() {
        assert!("2028-1-05".parse::<Date>().is_err());
        assert!("2028-01-05".parse::<Date>().is_ok());
    }
}
