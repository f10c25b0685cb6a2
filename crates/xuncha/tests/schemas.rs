//! docs/schemas/ holds the JSON Schema of every record on the wire, as `xuncha schema`
//! generates it from the types; the records xuncha writes validate against them. A change
//! of a type rewrites the files: `XUNCHA_BLESS=1 cargo test -p xuncha --test schemas`.

mod process;

use std::path::Path;
use std::process::Command;

use process::{ok, repo};

const RECORDS: [&str; 4] = ["posting", "lead", "dlq", "operator"];

fn generated(record: &str) -> String {
    ok(Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["schema", record])
        .output()
        .unwrap())
}

fn schema_file(record: &str) -> std::path::PathBuf {
    repo().join(format!("docs/schemas/{record}.schema.json"))
}

fn validator(record: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_file(record)).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, what: &str, value: &serde_json::Value) {
    let errors: Vec<String> = v.iter_errors(value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\n{value}");
}

#[test]
fn the_committed_schemas_are_what_the_types_generate() {
    for record in RECORDS {
        let got = generated(record);
        let path = schema_file(record);
        if std::env::var_os("XUNCHA_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            got == want,
            "{} is not what `xuncha schema {record}` prints; XUNCHA_BLESS=1 rewrites it",
            path.display()
        );
    }
}

#[test]
fn postings_leads_dead_letters_and_operator_records_validate() {
    let examples = repo().join("examples/postings.jsonl");
    let postings = validator("posting");
    for line in std::fs::read_to_string(&examples).unwrap().lines() {
        assert_valid(
            &postings,
            "example posting",
            &serde_json::from_str(line).unwrap(),
        );
    }
    let out = ok(Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(["scan", "--format", "jsonl"])
        .arg(&examples)
        .env("XUNCHA_RULES", repo().join("rules"))
        .output()
        .unwrap());
    let leads = validator("lead");
    assert!(out.lines().count() >= 5, "{out}");
    for line in out.lines() {
        assert_valid(&leads, "lead", &serde_json::from_str(line).unwrap());
    }
    // A lead that breaks its contract does not validate.
    let mut bad: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    bad["category"] = "fee.unknown".into();
    assert!(!leads.is_valid(&bad));

    let dead = xuncha_pipeline::DeadLetter::new(
        xuncha_pipeline::Origin::File {
            file: Path::new("inbox/a.jsonl").into(),
            line: 3,
            file_id: None,
        },
        xuncha_pipeline::Reason::BadJson,
        "not a posting",
        &[0xff, b'{'],
        "2026-11-01T00:00:00Z",
    );
    assert_valid(
        &validator("dlq"),
        "dead letter",
        &serde_json::to_value(&dead).unwrap(),
    );
    let operator = xuncha_crawler::OperatorRecord {
        schema: xuncha_crawler::OPERATOR_SCHEMA.into(),
        source: "board".into(),
        checked_at: "2026-11-01T00:00:00Z".into(),
        icp: Some("粤ICP备00000000号".into()),
        ..Default::default()
    };
    assert_valid(
        &validator("operator"),
        "operator record",
        &serde_json::to_value(&operator).unwrap(),
    );
}
