//! The filing loop: leads from a source (the leads topic) into the case store.
//!
//! In the distributed mode the scanners write leads to Kafka; `xuncha file` is the consumer
//! group that files them. Lead ids are deterministic, so filing is idempotent: a lead seen
//! again moves its `last_seen` and `seen_count`, never duplicates, never reopens a closed
//! lead. Offsets are acknowledged only after the rows are durable; a record that is not a
//! lead of a version this binary reads goes to the dead letters with its reason.

use std::time::Instant;

use tokio::sync::watch;
use xuncha_core::{Lead, LEAD_SCHEMA};

use crate::metrics::Metrics;
use crate::record::{DeadLetter, Payload, Reason, Record};
use crate::scan_loop::{count_dead_letters, next_batch, retry, LoopConfig, Next};
use crate::stage::{CaseStore, DeadLetterSink, Source};
use xuncha_core::now_rfc3339;

/// What a filing run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilingStats {
    /// Records read.
    pub records: u64,
    /// Leads the store did not hold before.
    pub new: u64,
    /// Leads it held already (replays, rescans).
    pub again: u64,
    /// Dead letters written.
    pub dead_letters: u64,
}

/// The lead in a record, or why it has none.
pub fn decode_lead(record: &Record, max_bytes: usize) -> Result<Lead, (Reason, String)> {
    let bytes = match &record.payload {
        Payload::Bytes(b) => b,
        Payload::Cut { bytes, .. } => return Err(crate::decode::too_large(*bytes, max_bytes)),
        Payload::Posting(_) => {
            return Err((Reason::UnknownSchema, "a posting, not a lead".into()));
        }
    };
    let text = crate::decode::text_of(bytes, max_bytes)?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| (Reason::BadJson, format!("not JSON: {e}")))?;
    let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    if schema != LEAD_SCHEMA {
        return Err((
            Reason::UnknownSchema,
            format!("schema `{schema}`: this binary files `{LEAD_SCHEMA}`"),
        ));
    }
    let lead: Lead =
        serde_json::from_value(value).map_err(|e| (Reason::BadJson, format!("not a lead: {e}")))?;
    if lead.lead_id.trim().is_empty() || lead.posting.id.trim().is_empty() {
        return Err((Reason::NoId, "empty `lead_id` or `posting.id`".into()));
    }
    Ok(lead)
}

/// Files leads from `source` into `store` until the source ends or `shutdown` turns true;
/// the batch in hand when shutdown comes is filed and acknowledged first.
pub async fn file<S, C, D>(
    mut source: S,
    store: &C,
    dead: &D,
    metrics: &Metrics,
    config: &LoopConfig,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<FilingStats>
where
    S: Source,
    C: CaseStore,
    D: DeadLetterSink,
{
    let mut stats = FilingStats::default();
    loop {
        let batch = match next_batch(&mut source, config, metrics, &mut shutdown).await? {
            Next::Stop => break,
            Next::Nothing => continue,
            Next::Batch(b) => b,
        };
        let started = Instant::now();
        let now = now_rfc3339();
        let mut leads: Vec<Lead> = Vec::new();
        let mut dead_letters: Vec<DeadLetter> = Vec::new();
        for r in &batch {
            match decode_lead(r, config.max_record_bytes) {
                Ok(l) => leads.push(l),
                Err((reason, detail)) => {
                    dead_letters.push(DeadLetter::of_record(r, reason, detail, &now))
                }
            }
        }
        let new = if leads.is_empty() {
            0
        } else {
            retry(store.name(), metrics, config, &mut shutdown, || {
                store.file(&leads)
            })
            .await?
        };
        if !dead_letters.is_empty() {
            retry(dead.name(), metrics, config, &mut shutdown, || {
                dead.write(&dead_letters)
            })
            .await?;
        }
        let again = leads.len() - new;
        metrics
            .leads_filed
            .with_label_values(&["new"])
            .inc_by(new as u64);
        metrics
            .leads_filed
            .with_label_values(&["again"])
            .inc_by(again as u64);
        count_dead_letters(metrics, &dead_letters);
        metrics
            .scan_seconds
            .observe(started.elapsed().as_secs_f64());
        stats.records += batch.len() as u64;
        stats.new += new as u64;
        stats.again += again as u64;
        stats.dead_letters += dead_letters.len() as u64;
        source.ack(&batch).await?;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Origin;

    fn rec(bytes: &[u8]) -> Record {
        Record {
            origin: Origin::Channel { seq: 0 },
            payload: Payload::Bytes(bytes.to_vec()),
        }
    }

    #[test]
    fn only_leads_of_this_schema_are_filed() {
        let lead = r#"{"schema":"xuncha.lead/1","lead_id":"a1","category":"fee.deposit","severity":"illegal","score":0.9,"findings":[],"legal_basis":[],"posting":{"id":"p1","content_sha256":"00"},"detected_at":"2026-11-01T00:00:00Z","rules_version":"v","scanner_version":"s"}"#;
        let l = decode_lead(&rec(lead.as_bytes()), 1 << 20).expect("a lead");
        assert_eq!(l.lead_id, "a1");
        let reason = |b: &[u8]| decode_lead(&rec(b), 1 << 20).unwrap_err().0;
        assert_eq!(
            reason(&lead.replace("lead/1", "lead/2").into_bytes()),
            Reason::UnknownSchema
        );
        assert_eq!(
            reason(br#"{"schema":"xuncha.posting/1","id":"x","text":"y"}"#),
            Reason::UnknownSchema
        );
        assert_eq!(reason(b"{\"schema\": "), Reason::BadJson);
        assert_eq!(reason(&[0xff, 0xfe]), Reason::InvalidUtf8);
        assert_eq!(
            reason(&lead.replace("\"a1\"", "\"\"").into_bytes()),
            Reason::NoId
        );
        assert_eq!(
            reason(br#"{"schema":"xuncha.lead/1","lead_id":"x"}"#),
            Reason::BadJson
        );
        let e = decode_lead(&rec(lead.as_bytes()), 10).unwrap_err();
        assert_eq!(e.0, Reason::TooLarge);
    }
}
