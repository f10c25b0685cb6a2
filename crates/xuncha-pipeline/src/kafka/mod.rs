//! Kafka: the postings consumer, the lead and dead-letter producers, topic creation, a
//! reader of a time range for rescans, and the crawl frontier shared by several crawler
//! processes.
//!
//! At-least-once: offsets are committed by the scan loop's acknowledgement only, after the
//! producer has had every lead and dead letter of the batch acknowledged by the brokers
//! (`acks=all`, idempotent producer). Exactly-once downstream rests on the deterministic
//! `lead_id` used as the message key, not on Kafka transactions.

mod admin;
mod config;
mod frontier;
mod range;
mod sink;
mod source;

pub use admin::ensure_topics;
pub use config::{KafkaConfig, Topics};
pub use frontier::{crawler_group, KafkaFrontier};
pub use range::{RangeReader, TimeRange};
pub use sink::{KafkaDeadLetterSink, KafkaLeadSink, KafkaPostingSink};
pub use source::KafkaSource;
