//! Fuzz target for the posting decoder: any bytes from a topic or a file become a posting
//! or a dead letter with its reason, never a panic, and a posting's hash is its text's.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use xuncha_pipeline::decode::decode;
use xuncha_pipeline::{DeadLetter, Origin, Payload, Record};

/// JSON-ish bytes: valid postings with hostile values, broken JSON, and raw bytes.
fn record_bytes() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        any::<String>().prop_map(serde_json::Value::String),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        prop::collection::vec(any::<String>(), 0..3).prop_map(serde_json::Value::from),
    ];
    let keys = prop::sample::select(vec![
        "id",
        "text",
        "description",
        "title",
        "company",
        "salary",
        "location",
        "contact",
        "content_sha256",
        "publisher",
        "url",
        "fetched_at",
        "extra",
    ]);
    let object = prop::collection::vec((keys, value), 0..8).prop_map(|kv| {
        let m: serde_json::Map<String, serde_json::Value> =
            kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        serde_json::to_vec(&m).unwrap()
    });
    prop_oneof![
        object.clone(),
        object.prop_map(|mut b| {
            let cut = b.len() / 2;
            b.truncate(cut);
            b
        }),
        prop::collection::vec(any::<u8>(), 0..512),
    ]
}

// proptest's default reads PROPTEST_CASES, which makes the long run.
proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_become_a_posting_or_a_dead_letter(bytes in record_bytes(), limit in 1usize..600) {
        let r = Record {
            origin: Origin::Kafka { topic: "t".into(), partition: 0, offset: 1 },
            payload: Payload::Bytes(bytes.clone()),
        };
        let started = Instant::now();
        match decode(&r, limit) {
            Ok(p) => {
                prop_assert!(!p.id.trim().is_empty() && p.has_text());
                prop_assert!(bytes.len() <= limit);
                prop_assert_eq!(p.content_sha256.clone(), Some(p.compute_content_sha256()));
            }
            Err((reason, detail)) => {
                let d = DeadLetter::of_record(&r, reason, detail, "now");
                prop_assert_eq!(d.original_bytes, bytes.len() as u64);
                prop_assert_eq!(&d.original_sha256, &xuncha_core::sha256_hex(&bytes));
                prop_assert!(serde_json::to_string(&d).is_ok());
            }
        }
        prop_assert!(started.elapsed() < Duration::from_secs(1));
    }
}
