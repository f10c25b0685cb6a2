use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use super::KafkaConfig;
use crate::metrics::Metrics;
use crate::record::{Origin, Payload, Record};
use crate::stage::Source;

/// How long a batch waits for more messages once it has one.
const LINGER: Duration = Duration::from_millis(20);

/// Publishes librdkafka's own per-partition lag figures (sent every few seconds) as metrics.
pub struct LagContext {
    metrics: Metrics,
}

impl ClientContext for LagContext {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    self.metrics
                        .consumer_lag
                        .with_label_values(&[topic.as_str(), partition.to_string().as_str()])
                        .set(p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for LagContext {}

/// Postings from a topic, consumed in a group; offsets are committed only on acknowledgement.
pub struct KafkaSource {
    consumer: StreamConsumer<LagContext>,
    topic: String,
}

impl KafkaSource {
    /// Joins the group and subscribes to the postings topic.
    pub fn new(config: &KafkaConfig, metrics: Metrics) -> anyhow::Result<KafkaSource> {
        KafkaSource::subscribe(config, &config.topics.postings, &config.group, metrics)
    }

    /// A consumer of `topic` in `group`, committing only what [`Source::ack`] is given.
    pub fn subscribe(
        config: &KafkaConfig,
        topic: &str,
        group: &str,
        metrics: Metrics,
    ) -> anyhow::Result<KafkaSource> {
        let mut client = config.client();
        if let Some(id) = &config.instance_id {
            client.set("group.instance.id", id);
        }
        let consumer: StreamConsumer<LagContext> = client
            .set("statistics.interval.ms", "5000")
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            // An oversized message must still be fetched, to be dead-lettered rather than
            // stall its partition.
            .set("max.partition.fetch.bytes", "16777216")
            .set("fetch.max.bytes", "67108864")
            .create_with_context(LagContext { metrics })
            .with_context(|| format!("creating the consumer for {}", config.brokers))?;
        consumer
            .subscribe(&[topic])
            .with_context(|| format!("subscribing to {topic}"))?;
        Ok(KafkaSource {
            consumer,
            topic: topic.to_string(),
        })
    }

    fn record(m: &impl Message) -> Record {
        Record {
            origin: Origin::Kafka {
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
            },
            payload: Payload::Bytes(m.payload().unwrap_or_default().to_vec()),
        }
    }
}

impl Source for KafkaSource {
    async fn next_batch(&mut self, max: usize) -> anyhow::Result<Option<Vec<Record>>> {
        let first = match self.consumer.recv().await {
            Ok(m) => m,
            Err(e) => {
                // Broker outages surface here (AllBrokersDown, transport failures) while
                // librdkafka reconnects by itself: wait and try again rather than stop.
                tracing::warn!(error = %e, topic = %self.topic, "consumer error; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                return Ok(Some(Vec::new()));
            }
        };
        let mut batch = vec![Self::record(&first)];
        drop(first);
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(m)) => batch.push(Self::record(&m)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, topic = %self.topic, "consumer error");
                    break;
                }
                Err(_) => break,
            }
        }
        Ok(Some(batch))
    }

    async fn ack(&mut self, batch: &[Record]) -> anyhow::Result<()> {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for r in batch {
            if let Origin::Kafka {
                topic,
                partition,
                offset,
            } = &r.origin
            {
                let e = next.entry((topic.as_str(), *partition)).or_insert(0);
                *e = (*e).max(offset + 1);
            }
        }
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in &next {
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        if tpl.count() > 0 {
            // A commit lost to a rebalance or a crash only replays records whose leads are
            // already durable; their ids are deterministic, so the replay adds nothing.
            if let Err(e) = self.consumer.commit(&tpl, CommitMode::Async) {
                tracing::warn!(error = %e, "offset commit failed; records may be replayed");
            }
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "kafka"
    }
}
