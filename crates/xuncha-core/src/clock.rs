//! Times as the records carry them: RFC 3339, UTC, whole seconds or finer.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `t` as RFC 3339 (`2026-12-01T08:00:00Z`), the form every record's times take.
pub fn rfc3339(t: OffsetDateTime) -> String {
    // Formatting can fail only for years outside 0..=9999, which no clock or capture has.
    t.format(&Rfc3339).unwrap_or_default()
}

/// `t` in UTC to the second (`2026-11-27T10:04:05Z`): the form of times the case store
/// compares as text, where a fixed width makes the text order the time order.
pub fn rfc3339_seconds(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Now, as RFC 3339.
pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_reads_back_as_itself() {
        let t = OffsetDateTime::from_unix_timestamp(1_764_576_000).unwrap();
        assert_eq!(rfc3339(t), "2025-12-01T08:00:00Z");
        let now = now_rfc3339();
        assert!(OffsetDateTime::parse(&now, &Rfc3339).is_ok(), "{now}");
    }

    #[test]
    fn times_are_second_precision_utc() {
        let t = OffsetDateTime::parse("2026-11-27T18:04:05.678+08:00", &Rfc3339).unwrap();
        assert_eq!(rfc3339_seconds(t), "2026-11-27T10:04:05Z");
    }
}
