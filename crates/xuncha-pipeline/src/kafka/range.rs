use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::KafkaConfig;
use crate::record::{Origin, Payload, Record};

/// A time range of message timestamps, in milliseconds since the epoch: `since` included,
/// `until` excluded (open-ended without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// First millisecond in the range.
    pub since_ms: i64,
    /// First millisecond after it.
    pub until_ms: Option<i64>,
}

impl TimeRange {
    /// Whether `ts` falls in the range.
    pub fn contains(&self, ts: i64) -> bool {
        ts >= self.since_ms && self.until_ms.is_none_or(|u| ts < u)
    }
}

/// Reads one topic over a time range, for ad hoc rescans.
///
/// It never joins a consumer group: partitions are assigned directly, from the offsets the
/// brokers give for `since` to those for `until` (or the end of each partition when the
/// reader opens), and nothing is ever committed. Scanners of the monitoring group neither
/// see it nor lose their place. Messages whose timestamps fall outside the range (producer
/// clocks are not monotonic) are skipped and counted.
pub struct RangeReader {
    consumer: BaseConsumer,
    topic: String,
    range: TimeRange,
    /// Next offset to read and first offset past the range, per partition still open.
    open: BTreeMap<i32, (i64, i64)>,
    total: u64,
    skipped: u64,
    timeout: Duration,
}

impl RangeReader {
    /// Looks up the offsets of `range` in every partition of `topic` and assigns them.
    pub fn open(config: &KafkaConfig, topic: &str, range: TimeRange) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(30);
        let consumer: BaseConsumer = config
            .client()
            // Needed by librdkafka to create a consumer; never joined (no subscribe) and
            // never committed to.
            .set("group.id", format!("xuncha-rescan-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("max.partition.fetch.bytes", "16777216")
            .create()
            .with_context(|| format!("creating a reader for {}", config.brokers))?;
        let meta = consumer
            .fetch_metadata(Some(topic), timeout)
            .with_context(|| format!("reading the partitions of {topic} at {}", config.brokers))?;
        let partitions: Vec<i32> = meta
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        anyhow::ensure!(
            !partitions.is_empty(),
            "topic {topic} does not exist at {}",
            config.brokers
        );
        let at = |ms: i64| -> anyhow::Result<BTreeMap<i32, Offset>> {
            let mut tpl = TopicPartitionList::new();
            for &p in &partitions {
                tpl.add_partition_offset(topic, p, Offset::Offset(ms))?;
            }
            let found = consumer
                .offsets_for_times(tpl, timeout)
                .with_context(|| format!("looking up the offsets of {topic} at {ms} ms"))?;
            Ok(found
                .elements()
                .iter()
                .map(|e| (e.partition(), e.offset()))
                .collect())
        };
        let starts = at(range.since_ms)?;
        let ends = match range.until_ms {
            Some(u) => Some(at(u)?),
            None => None,
        };
        let mut open = BTreeMap::new();
        let mut assign = TopicPartitionList::new();
        let mut total = 0u64;
        for &p in &partitions {
            let (low, high) = consumer
                .fetch_watermarks(topic, p, timeout)
                .with_context(|| format!("reading the end of {topic}/{p}"))?;
            // A time past the last message answers "end": nothing from there on.
            let start = match starts.get(&p) {
                Some(Offset::Offset(o)) => *o,
                _ => high,
            };
            let end = match ends.as_ref().and_then(|e| e.get(&p)) {
                Some(Offset::Offset(o)) => *o,
                _ => high,
            };
            let start = start.max(low);
            if start < end {
                open.insert(p, (start, end));
                assign.add_partition_offset(topic, p, Offset::Offset(start))?;
                total += (end - start) as u64;
            }
        }
        consumer
            .assign(&assign)
            .with_context(|| format!("assigning the partitions of {topic}"))?;
        Ok(RangeReader {
            consumer,
            topic: topic.to_string(),
            range,
            open,
            total,
            skipped: 0,
            timeout,
        })
    }

    /// Messages between the range's offsets: the most records the range can yield.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Messages read but outside the time range.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The next records, at most `max`; `None` once every partition is read to the end of
    /// the range.
    pub fn next_batch(&mut self, max: usize) -> anyhow::Result<Option<Vec<Record>>> {
        let mut batch = Vec::new();
        while batch.len() < max.max(1) && !self.open.is_empty() {
            let wait = if batch.is_empty() {
                self.timeout
            } else {
                Duration::from_millis(20)
            };
            let Some(m) = self.consumer.poll(wait) else {
                anyhow::ensure!(
                    !batch.is_empty(),
                    "no message from {} within {:?} (partitions still open: {:?})",
                    self.topic,
                    self.timeout,
                    self.open
                );
                break;
            };
            let m = m.with_context(|| format!("reading {}", self.topic))?;
            let p = m.partition();
            let Some((next, end)) = self.open.get_mut(&p) else {
                continue;
            };
            if m.offset() >= *end {
                self.open.remove(&p);
                continue;
            }
            *next = m.offset() + 1;
            if *next >= *end {
                self.open.remove(&p);
            }
            let in_range = m
                .timestamp()
                .to_millis()
                .is_none_or(|ts| self.range.contains(ts));
            if !in_range {
                self.skipped += 1;
                continue;
            }
            batch.push(Record {
                origin: Origin::Kafka {
                    topic: m.topic().to_string(),
                    partition: p,
                    offset: m.offset(),
                },
                payload: Payload::Bytes(m.payload().unwrap_or_default().to_vec()),
            });
        }
        if batch.is_empty() && self.open.is_empty() {
            return Ok(None);
        }
        Ok(Some(batch))
    }
}
