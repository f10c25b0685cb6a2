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

/// serde: a duration written back as humantime writes it (`"1h 30m"`).
pub fn serialize_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_duration(*d).to_string())
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
