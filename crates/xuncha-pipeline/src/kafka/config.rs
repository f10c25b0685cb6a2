use std::collections::BTreeMap;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

/// Topic names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Topics {
    /// Postings in (key: posting id).
    pub postings: String,
    /// Leads out (key: lead id).
    pub leads: String,
    /// Dead letters (key: source topic/partition/offset).
    pub dlq: String,
    /// Crawl frontier (key: host).
    pub frontier: String,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            postings: "xuncha.postings".into(),
            leads: "xuncha.leads".into(),
            dlq: "xuncha.dlq".into(),
            frontier: "xuncha.frontier".into(),
        }
    }
}

/// Kafka settings (`[kafka]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers (`XUNCHA_KAFKA_BROKERS`).
    pub brokers: String,
    /// Consumer group of the scanners (`XUNCHA_KAFKA_GROUP`).
    pub group: String,
    /// Consumer group of `xuncha file`, which files the leads topic into the case store
    /// (`XUNCHA_KAFKA__FILER_GROUP`).
    pub filer_group: String,
    /// Static group membership (`group.instance.id`, KIP-345): give each scanner a stable
    /// id (its pod or host name) so a scanner that crashed and restarts takes its own
    /// partitions back at once instead of waiting on a member that never left.
    pub instance_id: Option<String>,
    /// Topic names.
    pub topics: Topics,
    /// Partitions of topics this process creates when they are missing.
    pub partitions: i32,
    /// Replication factor of topics this process creates.
    pub replication: i32,
    /// Passed to librdkafka as they are: `security.protocol`, `sasl.mechanisms`,
    /// `sasl.username`, `ssl.ca.location`, …
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            group: "xuncha-scanner".into(),
            filer_group: "xuncha-filer".into(),
            instance_id: None,
            topics: Topics::default(),
            partitions: 6,
            replication: 1,
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// A librdkafka configuration with the brokers and the pass-through properties.
    pub fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::consumer::BaseConsumer;
    use rdkafka::producer::BaseProducer;

    use super::KafkaConfig;

    /// Regulators' clusters run TLS with SCRAM: librdkafka must be built with OpenSSL to
    /// accept those settings at all.
    #[test]
    fn tls_and_scram_settings_are_accepted() {
        let mut c = KafkaConfig::default();
        for (k, v) in [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanisms", "SCRAM-SHA-512"),
            ("sasl.username", "xuncha"),
            ("sasl.password", "secret"),
        ] {
            c.properties.insert(k.into(), v.into());
        }
        let consumer: Result<BaseConsumer, _> = c.client().set("group.id", "g").create();
        consumer.expect("a SASL_SSL consumer");
        let producer: Result<BaseProducer, _> = c.client().create();
        producer.expect("a SASL_SSL producer");
    }
}
