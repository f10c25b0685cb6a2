use std::time::Duration;

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::KafkaConfig;

/// Creates the postings, leads and dead-letter topics (and `extra`) if they do not exist.
/// Topics are created explicitly because broker-side auto-creation is often off (and is on
/// some brokers unreliable); only missing ones are asked for, so a principal without the
/// Create permission runs fine once the topics are there.
pub async fn ensure_topics(config: &KafkaConfig, extra: &[&str]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = config
        .client()
        .create()
        .context("creating the Kafka admin client")?;
    let t = &config.topics;
    let mut names: Vec<&str> = vec![&t.postings, &t.leads, &t.dlq];
    names.extend_from_slice(extra);
    names.sort_unstable();
    names.dedup();
    let meta = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(30))
        .with_context(|| format!("listing the topics on {}", config.brokers))?;
    names.retain(|n| {
        !meta
            .topics()
            .iter()
            .any(|t| t.name() == *n && t.error().is_none())
    });
    if names.is_empty() {
        return Ok(());
    }
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| {
            NewTopic::new(
                n,
                config.partitions,
                TopicReplication::Fixed(config.replication),
            )
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(&topics, &opts)
        .await
        .with_context(|| format!("creating topics on {}", config.brokers))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                anyhow::bail!("creating topic {name} on {}: {code}", config.brokers)
            }
        }
    }
    Ok(())
}
