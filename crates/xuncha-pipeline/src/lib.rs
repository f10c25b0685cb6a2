//! The streaming pipeline: sources, sinks, and the scan loop between them.
//!
//! ```text
//!  Source (Kafka | inbox folder | file | channel) ─► scan loop ─► LeadSink (Kafka | case store)
//!                                                         │         └─► (once durable) webhook alerts
//!                                                         └────► DeadLetterSink (Kafka | case store)
//! ```
//!
//! The decision that shapes this crate: **a record is acknowledged only after everything it
//! produced is durable.** The scan loop scans a batch on every core, waits until the sinks
//! confirm its leads and dead letters, and only then acknowledges the batch to its source
//! (a Kafka offset commit, an inbox file moved to `done/`). Delivery is therefore
//! at-least-once, and the deterministic `lead_id` turns replays into no-ops downstream. The
//! embedded and distributed modes run this same loop; only the source and sinks differ.
//!
//! Every source and sink lives in a folder of its own (`kafka/`, `jsonl/`, `channel/`,
//! `webhook/`); the case store (xuncha-cases) implements the sink interfaces from outside. Webhook alerts wrap a lead sink ([`webhook::WithAlerts`]): they
//! see only leads already durable, and can neither block nor fail the write. This crate
//! knows nothing of rule syntax: it hands postings to a [`xuncha_judge::Scanner`] (the
//! rules plus the licence registry check) and takes leads back. The
//! Kafka folder also holds the reader of a time range for rescans and the crawl frontier
//! several crawler processes share.
#![deny(missing_docs)]

pub mod channel;
pub mod decode;
pub mod filing;
pub mod jsonl;
pub mod kafka;
pub mod metrics;
pub mod record;
pub mod scan_loop;
mod stage;
pub mod webhook;

pub use metrics::Metrics;
pub use record::{DeadLetter, Origin, Payload, Reason, Record};
pub use scan_loop::{run, LoopConfig, SharedScanner, Stats};
pub use stage::{CaseStore, DeadLetterSink, LeadSink, Source};
