use std::time::Duration;

use anyhow::Context;
use futures::future::join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use xuncha_core::Lead;

use super::KafkaConfig;
use crate::record::DeadLetter;
use crate::stage::{DeadLetterSink, LeadSink};

pub(super) fn producer(config: &KafkaConfig) -> anyhow::Result<FutureProducer> {
    config
        .client()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        // librdkafka retries inside this window on its own, through broker restarts.
        .set("message.timeout.ms", "120000")
        .create()
        .with_context(|| format!("creating the producer for {}", config.brokers))
}

/// Sends `(key, value)` pairs and waits until every one is acknowledged.
pub(super) async fn send_all(
    p: &FutureProducer,
    topic: &str,
    items: Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    let futures = items.iter().map(|(k, v)| {
        p.send(
            FutureRecord::to(topic).key(k).payload(v),
            Timeout::After(Duration::from_secs(60)),
        )
    });
    let mut failed = 0;
    let mut first = None;
    for r in join_all(futures).await {
        if let Err((e, _)) = r {
            failed += 1;
            first.get_or_insert(e);
        }
    }
    match first {
        None => Ok(()),
        Some(e) => anyhow::bail!(
            "{failed} of {} messages to {topic} not acknowledged: {e}",
            items.len()
        ),
    }
}

/// Leads to a topic, keyed by `lead_id` (compaction keeps one record per lead).
pub struct KafkaLeadSink {
    producer: FutureProducer,
    topic: String,
}

impl KafkaLeadSink {
    /// A producer for the leads topic.
    pub fn new(config: &KafkaConfig) -> anyhow::Result<KafkaLeadSink> {
        Ok(KafkaLeadSink {
            producer: producer(config)?,
            topic: config.topics.leads.clone(),
        })
    }
}

impl LeadSink for KafkaLeadSink {
    async fn write(&self, leads: &[Lead]) -> anyhow::Result<()> {
        let items = leads
            .iter()
            .map(|l| Ok((l.lead_id.clone(), serde_json::to_vec(l)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        send_all(&self.producer, &self.topic, items).await
    }

    fn name(&self) -> &'static str {
        "kafka-leads"
    }
}

/// Dead letters to a topic, keyed by their origin.
pub struct KafkaDeadLetterSink {
    producer: FutureProducer,
    topic: String,
}

impl KafkaDeadLetterSink {
    /// A producer for the dead-letter topic.
    pub fn new(config: &KafkaConfig) -> anyhow::Result<KafkaDeadLetterSink> {
        Ok(KafkaDeadLetterSink {
            producer: producer(config)?,
            topic: config.topics.dlq.clone(),
        })
    }
}

impl DeadLetterSink for KafkaDeadLetterSink {
    async fn write(&self, dead: &[DeadLetter]) -> anyhow::Result<()> {
        let items = dead
            .iter()
            .map(|d| Ok((d.key(), serde_json::to_vec(d)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        send_all(&self.producer, &self.topic, items).await
    }

    fn name(&self) -> &'static str {
        "kafka-dlq"
    }
}

/// Postings to a topic, keyed by posting id: how a crawler hands its postings to the
/// scanners in the distributed mode.
pub struct KafkaPostingSink {
    producer: FutureProducer,
    topic: String,
}

impl KafkaPostingSink {
    /// A producer for the postings topic.
    pub fn new(config: &KafkaConfig) -> anyhow::Result<KafkaPostingSink> {
        Ok(KafkaPostingSink {
            producer: producer(config)?,
            topic: config.topics.postings.clone(),
        })
    }

    /// Sends every posting received on `rx` until it closes, each batch acknowledged before
    /// the next is taken.
    pub async fn forward(
        &self,
        mut rx: tokio::sync::mpsc::Receiver<xuncha_core::Posting>,
    ) -> anyhow::Result<u64> {
        let mut sent = 0u64;
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < 1024 {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let items = batch
                .iter()
                .map(|p| Ok((p.id.clone(), serde_json::to_vec(p)?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            send_all(&self.producer, &self.topic, items).await?;
            sent += batch.len() as u64;
        }
        Ok(sent)
    }
}
