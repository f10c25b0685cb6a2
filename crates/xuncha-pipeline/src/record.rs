//! What flows through the pipeline: records with their origin, and dead letters.

use std::fmt;
use std::path::PathBuf;

use base64::Engine;
use serde::{Deserialize, Serialize};
use xuncha_core::{sha256_hex, Posting};

/// The `schema` value of a dead-letter record.
pub const DLQ_SCHEMA: &str = "xuncha.dlq/1";

/// Bytes of an oversized original kept in its dead letter; the whole message stays at its
/// origin (topic/partition/offset, or file:line), named by the dead letter with its hash.
pub const DEAD_LETTER_KEEP_BYTES: usize = 64 * 1024;

/// Where a record came from, precisely enough to find it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Origin {
    /// A Kafka message.
    Kafka {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Offset.
        offset: i64,
    },
    /// A line of a file.
    File {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// Which file of that name: device, inode and modification time, so that a later
        /// file under a name used before is never taken for a replay of the first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
    },
    /// A posting handed over in process (the crawler).
    Channel {
        /// Sequence number since start.
        seq: u64,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Kafka {
                topic,
                partition,
                offset,
            } => write!(f, "{topic}/{partition}/{offset}"),
            Origin::File { file, line, .. } => write!(f, "{}:{line}", file.display()),
            Origin::Channel { seq } => write!(f, "channel/{seq}"),
        }
    }
}

/// A record's content: raw bytes off the wire, or a posting built in process.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Bytes to decode.
    Bytes(Vec<u8>),
    /// An already-built posting.
    Posting(Box<Posting>),
    /// A line longer than the reader holds: its first bytes, and the size and hash of the
    /// whole, which was never in memory at once.
    Cut {
        /// The first bytes.
        head: Vec<u8>,
        /// Size of the whole original.
        bytes: u64,
        /// SHA-256 of the whole original.
        sha256: String,
    },
}

/// One unit of input.
#[derive(Debug, Clone)]
pub struct Record {
    /// Where it came from.
    pub origin: Origin,
    /// What it holds.
    pub payload: Payload,
}

/// Why a record could not be scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Larger than the configured limit.
    TooLarge,
    /// Not UTF-8.
    InvalidUtf8,
    /// Not a JSON posting.
    BadJson,
    /// No id.
    NoId,
    /// No text field to scan.
    NoText,
    /// Took longer to scan than the record time budget.
    OverBudget,
    /// A record of another kind or a version this binary does not read.
    UnknownSchema,
}

impl Reason {
    /// Every reason, for metrics.
    pub const ALL: &'static [Reason] = &[
        Reason::TooLarge,
        Reason::InvalidUtf8,
        Reason::BadJson,
        Reason::NoId,
        Reason::NoText,
        Reason::OverBudget,
        Reason::UnknownSchema,
    ];

    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::TooLarge => "too_large",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::BadJson => "bad_json",
            Reason::NoId => "no_id",
            Reason::NoText => "no_text",
            Reason::OverBudget => "over_budget",
            Reason::UnknownSchema => "unknown_schema",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record that could not be scanned, with why, where from and what it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeadLetter {
    /// Always [`DLQ_SCHEMA`].
    pub schema: String,
    /// Why.
    pub reason: Reason,
    /// The error in words.
    pub detail: String,
    /// Where it came from.
    pub source: Origin,
    /// The original, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// The original, base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_base64: Option<String>,
    /// Size of the whole original in bytes.
    pub original_bytes: u64,
    /// SHA-256 of the whole original.
    pub original_sha256: String,
    /// Whether `original` / `original_base64` hold only the first [`DEAD_LETTER_KEEP_BYTES`].
    pub truncated: bool,
    /// When it was dead-lettered, RFC 3339.
    pub at: String,
}

impl DeadLetter {
    /// A dead letter for `bytes` from `origin`.
    pub fn new(
        origin: Origin,
        reason: Reason,
        detail: impl Into<String>,
        bytes: &[u8],
        at: &str,
    ) -> DeadLetter {
        DeadLetter::of_part(
            origin,
            (reason, detail.into()),
            bytes,
            (bytes.len() as u64, sha256_hex(bytes)),
            at,
        )
    }

    /// A dead letter for the record `r` could not be scanned.
    pub fn of_record(r: &Record, reason: Reason, detail: impl Into<String>, at: &str) -> Self {
        match &r.payload {
            Payload::Bytes(b) => DeadLetter::new(r.origin.clone(), reason, detail, b, at),
            Payload::Posting(p) => {
                let json = serde_json::to_vec(p).unwrap_or_default();
                DeadLetter::new(r.origin.clone(), reason, detail, &json, at)
            }
            Payload::Cut {
                head,
                bytes,
                sha256,
            } => DeadLetter::of_part(
                r.origin.clone(),
                (reason, detail.into()),
                head,
                (*bytes, sha256.clone()),
                at,
            ),
        }
    }

    /// A dead letter keeping the start of `part`, for an original of `whole` = (size,
    /// SHA-256).
    fn of_part(
        origin: Origin,
        (reason, detail): (Reason, String),
        part: &[u8],
        (size, sha256): (u64, String),
        at: &str,
    ) -> DeadLetter {
        let truncated = size > DEAD_LETTER_KEEP_BYTES as u64;
        let kept = &part[..part.len().min(DEAD_LETTER_KEEP_BYTES)];
        let (original, original_base64) = match std::str::from_utf8(kept) {
            Ok(s) => (Some(s.to_string()), None),
            // A cut may split a character: keep the valid prefix as text if that is all it is.
            Err(e) if truncated && e.error_len().is_none() => (
                Some(String::from_utf8_lossy(&kept[..e.valid_up_to()]).into_owned()),
                None,
            ),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(kept)),
            ),
        };
        DeadLetter {
            schema: DLQ_SCHEMA.to_string(),
            reason,
            detail,
            source: origin,
            original,
            original_base64,
            original_bytes: size,
            original_sha256: sha256,
            truncated,
            at: at.to_string(),
        }
    }

    /// The key a dead letter is filed under: its origin, and for a file which file it was.
    pub fn key(&self) -> String {
        match &self.source {
            Origin::File {
                file_id: Some(id), ..
            } => format!("{}@{id}", self.source),
            o => o.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_originals_are_base64_and_large_ones_cut_but_hashed() {
        let o = Origin::Kafka {
            topic: "t".into(),
            partition: 1,
            offset: 7,
        };
        let d = DeadLetter::new(o.clone(), Reason::InvalidUtf8, "x", &[0xff, 0xfe], "now");
        assert_eq!(d.original, None);
        assert_eq!(d.original_base64.as_deref(), Some("//4="));
        assert_eq!(d.key(), "t/1/7");
        let big = vec![b'a'; DEAD_LETTER_KEEP_BYTES + 10];
        let d = DeadLetter::new(o, Reason::TooLarge, "x", &big, "now");
        assert!(d.truncated);
        assert_eq!(d.original.unwrap().len(), DEAD_LETTER_KEEP_BYTES);
        assert_eq!(d.original_bytes, big.len() as u64);
        assert_eq!(d.original_sha256, sha256_hex(&big));
        let v = serde_json::to_value(Origin::File {
            file: "a.jsonl".into(),
            line: 3,
            file_id: None,
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"file": "a.jsonl", "line": 3}));
    }
}
