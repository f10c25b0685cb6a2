//! Verdicts fed back at the command line: `xuncha leads mark` demoting a rule,
//! `xuncha run` filing its next lead `under_review` without pushing it to the webhook,
//! `xuncha rules stats` and `rules demotion lift|history`, and
//! `xuncha leads export --format eval` read back by `xuncha eval`.

mod process;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use process::{filed_examples, ok, xuncha};
use serde_json::Value;

/// The rule every lead of these tests' new postings comes from.
const RULE: &str = "DISC-AGE-001";

/// A verdict recorded under a policy that demotes after three dismissals.
fn mark(d: &Path, lead: &str, verdict: &str) -> String {
    ok(
        strict(xuncha(d, &["leads", "mark", lead, verdict, "--as", "李四"]))
            .output()
            .unwrap(),
    )
}

/// `cmd` with a policy that demotes on three verdicts whose upper bound is below 0.9.
fn strict(mut cmd: Command) -> Command {
    cmd.env("XUNCHA_DEMOTION__MIN_VERDICTS", "3")
        .env("XUNCHA_DEMOTION__FLOOR", "0.9");
    cmd
}

fn lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ids(d: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["leads", "list"];
    all.extend_from_slice(args);
    ok(xuncha(d, &all).output().unwrap())
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// Files one posting whose only lead is `RULE`'s; that lead's id and status.
fn file_age_posting(d: &Path, id: &str) -> (String, String) {
    let posting = serde_json::json!({"id": id, "text": "招聘行政文员，年龄35岁以下，大专学历。"});
    std::fs::write(
        d.join(format!("data/inbox/{id}.jsonl")),
        format!("{posting}\n"),
    )
    .unwrap();
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    let shown = ok(
        xuncha(d, &["leads", "list", "--rule", RULE, "--limit", "1"])
            .output()
            .unwrap(),
    );
    let line = shown.lines().nth(1).unwrap();
    assert!(
        line.contains(id),
        "the newest lead of {RULE} is {id}'s: {line}"
    );
    let mut fields = line.split_whitespace();
    let lead = fields.next().unwrap().to_string();
    (lead, fields.next().unwrap().to_string())
}

/// A webhook receiver on 127.0.0.1, its port, and the lead ids it was sent.
fn receiver(rt: &tokio::runtime::Runtime) -> (u16, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = got.clone();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                let v: Value = serde_json::from_str(&body).unwrap();
                sink.lock()
                    .unwrap()
                    .push(v["lead_id"].as_str().unwrap_or_default().to_string());
                "ok"
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, got)
}

#[test]
fn verdicts_demote_a_rule_an_admin_lifts_it_and_they_export_as_records_eval_reads() {
    let dir = filed_examples();
    let d = dir.path();
    let age = ids(d, &["--rule", RULE]);
    assert!(age.len() >= 4, "{age:?}");
    // From now on every lead `run` files is pushed to a webhook, unless held for review.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, pushed) = receiver(&rt);
    let mut config = std::fs::read_to_string(d.join("config/default.toml")).unwrap();
    config.push_str(&format!(
        "\n[[alerts.webhook]]\nname = \"duty\"\nurl = \"http://127.0.0.1:{port}/hook\"\nformat = \"json\"\nmin_severity = \"disfavoured\"\n"
    ));
    std::fs::write(d.join("config/default.toml"), config).unwrap();

    // Two dismissals leave it standing; the third demotes it.
    assert!(!mark(d, &age[0], "false_positive").contains("demoted"));
    assert!(!mark(d, &age[1], "false_positive").contains("demoted"));
    let third = mark(d, &age[2], "false_positive");
    assert!(
        third.contains(&format!("rule {RULE} demoted")) && third.contains("floor 0.90"),
        "{third}"
    );
    // A confirmation elsewhere, for the export.
    let deposit = ids(d, &["--rule", "FEE-DEPOSIT-001"]);
    mark(d, &deposit[0], "confirmed");

    let stats = lines(&ok(xuncha(d, &["rules", "stats", "--format", "jsonl"])
        .output()
        .unwrap()));
    let row = stats.iter().find(|s| s["rule_id"] == RULE).unwrap();
    assert_eq!(row["demoted"], true);
    assert_eq!(row["false_positives"], 3);
    assert_eq!(row["confirmed"], 0);
    assert!(row["interval"]["high"].as_f64().unwrap() < 0.9);
    let table = ok(xuncha(d, &["rules", "stats", "--since", "30d"])
        .output()
        .unwrap());
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(RULE) && l.contains("demoted")),
        "{table}"
    );

    // The rule's next lead waits for review, unalerted; lifted, its next is new again.
    let (held, status) = file_age_posting(d, "age-after-demotion");
    assert_eq!(status, "under_review");
    let lift = ok(xuncha(
        d,
        &[
            "rules",
            "demotion",
            "lift",
            RULE,
            "--actor",
            "admin",
            "--note",
            "已核实规则",
        ],
    )
    .output()
    .unwrap());
    assert!(lift.contains("lifted") && lift.contains("admin"), "{lift}");
    let again = xuncha(
        d,
        &[
            "rules", "demotion", "lift", RULE, "--actor", "admin", "--note", "x",
        ],
    )
    .output()
    .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not demoted"));
    let (after, status) = file_age_posting(d, "age-after-lift");
    assert_eq!(status, "new");
    // `run --once` sends what it queued before it exits.
    assert_eq!(*pushed.lock().unwrap(), [after], "{held} was not pushed");
    let history = lines(&ok(xuncha(
        d,
        &["rules", "demotion", "history", RULE, "--format", "jsonl"],
    )
    .output()
    .unwrap()));
    let actions: Vec<&str> = history
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["lifted", "demoted"]);
    assert_eq!(history[1]["verdicts"]["false_positives"], 3);

    // The verdicts as labelled postings, and `xuncha eval` reading them.
    let out = d.join("verdicts.jsonl");
    ok(xuncha(
        d,
        &[
            "leads",
            "export",
            "--format",
            "eval",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap());
    let records = lines(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(records.len(), 4, "{records:?}");
    let labels: Vec<&Value> = records.iter().map(|r| &r["labels"]).collect();
    assert_eq!(
        labels
            .iter()
            .filter(|l| l.as_array().unwrap().is_empty())
            .count(),
        3,
        "three dismissals, no label: {labels:?}"
    );
    assert!(
        labels.contains(&&serde_json::json!(["fee.deposit"])),
        "{labels:?}"
    );
    assert!(records
        .iter()
        .all(|r| r["style"] == "verdict" && r["writer"] == "李四"));
    let report: Value =
        serde_json::from_str(&ok(xuncha(d, &["eval", out.to_str().unwrap(), "--json"])
            .output()
            .unwrap()))
        .unwrap();
    assert_eq!(report["records"], 4);
    assert_eq!(report["per_style"]["verdict"]["tp"], 1, "{report}");
    let batch = records[0]["batch"].as_str().unwrap();
    assert!(batch.starts_with("verdicts-20"), "{batch}");
    assert!(report["per_batch"][batch].is_object(), "{report}");
}
