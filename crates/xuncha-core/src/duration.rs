//! Durations as people write them in settings and on the command line: `"500ms"`, `"30s"`,
//! `"15m"`, `"24h"`, `"7d"`, `"1h30m"` or `"1h 30m"` (humantime's forms), or a bare number
//! of seconds. One reader for every setting, so a duration that one section accepts no
//! other refuses.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Parses a duration: humantime's units (`ms`, `s`, `m`, `h`, `d`, and their long names),
/// combined, or a bare number of seconds.
///
/// ```
/// use std::time::Duration;
/// use xuncha_core::parse_duration;
/// assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
/// assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return seconds(secs, s);
    }
    humantime::parse_duration(s).map_err(|e| {
        format!("duration {s:?}: {e} (write e.g. \"30s\", \"10m\", \"1h30m\", \"3d\")")
    })
}

fn seconds(secs: f64, original: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("duration {original:?}: not a valid number of seconds"))
}

/// serde: a duration written as a string (`"30s"`) or a number of seconds.
pub fn deserialize_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(f64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Secs(s) => seconds(s, &s.to_string()).map_err(serde::de::Error::custom),
        Raw::Text(t) => parse_duration(&t).map_err(serde::de::Error::custom),
    }
}

/// A duration in whole days, hours, minutes, seconds and milliseconds, as settings write it
/// and [`parse_duration`] reads it back: `"90d"`, `"1h30m"`, `"500ms"`, `"0s"`. (humantime's
/// own form counts months of 30.44 days: 90 days would read "2months 29days 2h 52m 48s".)
///
/// ```
/// use std::time::Duration;
/// use xuncha_core::{format_duration, parse_duration};
/// assert_eq!(format_duration(Duration::from_secs(90 * 86_400)), "90d");
/// assert_eq!(format_duration(Duration::from_millis(5_400_250)), "1h30m250ms");
/// assert_eq!(format_duration(Duration::ZERO), "0s");
/// let d = Duration::from_millis(93_784_005);
/// assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
/// ```
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
        (u64::from(d.subsec_millis()), "ms"),
    ];
    let s: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if s.is_empty() {
        "0s".into()
    } else {
        s
    }
}

/// serde: a duration written back as [`format_duration`] writes it (`"1h30m"`).
pub fn serialize_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_combine_and_reject_garbage() {
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("-1").is_err());
    }
}
