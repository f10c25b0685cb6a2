//! Bytes to posting, or the reason why not.

use xuncha_core::Posting;

use crate::record::{Payload, Reason, Record};

/// Default largest record scanned, in bytes; larger ones are dead-lettered.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;

/// The posting in a record, or why it has none.
pub fn decode(record: &Record, max_bytes: usize) -> Result<Posting, (Reason, String)> {
    let bytes = match &record.payload {
        // Built in process by the crawler, whose hash is that of the evidence file.
        Payload::Posting(p) => return check(*p.clone()),
        Payload::Bytes(b) => b,
        Payload::Cut { bytes, .. } => return Err(too_large(*bytes, max_bytes)),
    };
    let text = text_of(bytes, max_bytes)?;
    let mut posting: Posting =
        serde_json::from_str(text).map_err(|e| (Reason::BadJson, format!("not a posting: {e}")))?;
    // A hash from outside is never trusted: it makes the lead id and stands for the text.
    posting.recompute_content_hash();
    check(posting)
}

/// Why a record of `bytes` is not read.
pub(crate) fn too_large(bytes: u64, max_bytes: usize) -> (Reason, String) {
    (
        Reason::TooLarge,
        format!("{bytes} bytes is over the limit of {max_bytes}"),
    )
}

/// The bytes of a record as text, if they are within `max_bytes` and UTF-8.
pub(crate) fn text_of(bytes: &[u8], max_bytes: usize) -> Result<&str, (Reason, String)> {
    if bytes.len() > max_bytes {
        return Err(too_large(bytes.len() as u64, max_bytes));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        (
            Reason::InvalidUtf8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

fn check(mut p: Posting) -> Result<Posting, (Reason, String)> {
    if p.id.trim().is_empty() {
        return Err((Reason::NoId, "empty `id`".into()));
    }
    if !p.has_text() {
        return Err((
            Reason::NoText,
            "no text field (title, description/text, company, salary, contact)".into(),
        ));
    }
    p.ensure_content_hash();
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Origin;

    fn rec(b: &[u8]) -> Record {
        Record {
            origin: Origin::Channel { seq: 0 },
            payload: Payload::Bytes(b.to_vec()),
        }
    }

    #[test]
    fn a_supplied_content_hash_is_replaced_by_the_texts() {
        let edited = b"{\"id\":\"a\",\"text\":\"new text\",\"content_sha256\":\"old\"}";
        let p = decode(&rec(edited), 1000).unwrap();
        assert_eq!(
            p.content_sha256.as_deref(),
            Some(
                Posting::from_text("a", "new text")
                    .compute_content_sha256()
                    .as_str()
            )
        );
    }

    #[test]
    fn each_kind_of_bad_input_has_its_reason() {
        assert_eq!(
            decode(&rec(b"{\"id\":\"a\",\"text\":\"x\"}"), 100)
                .unwrap()
                .id,
            "a"
        );
        assert_eq!(
            decode(&rec(&[b'{'; 101]), 100).unwrap_err().0,
            Reason::TooLarge
        );
        assert_eq!(
            decode(&rec(&[0xff, 0x00]), 100).unwrap_err().0,
            Reason::InvalidUtf8
        );
        assert_eq!(decode(&rec(b"{nope"), 100).unwrap_err().0, Reason::BadJson);
        assert_eq!(
            decode(&rec(b"{\"id\":\"\",\"text\":\"x\"}"), 100)
                .unwrap_err()
                .0,
            Reason::NoId
        );
        assert_eq!(
            decode(&rec(b"{\"id\":\"a\"}"), 100).unwrap_err().0,
            Reason::NoText
        );
    }
}
