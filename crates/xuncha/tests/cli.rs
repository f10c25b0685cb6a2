//! The `xuncha` command line, run as a user runs it, against the repository's rule packs.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn xuncha(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xuncha"))
        .args(args)
        .current_dir(repo())
        .env_remove("XUNCHA_RULES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn scan_prints_leads_with_evidence_into_the_original_text() {
    let text = "招聘仓库管理员，限 男 性，年龄35岁以下，入职需交押金500元。";
    let line = serde_json::json!({"id": "t-1", "url": "https://jobs.example/1", "text": text, "location": "上海-徐汇区"});
    let out = xuncha(&["scan", "--format", "jsonl"], &format!("{line}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    let leads: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cats: Vec<&str> = leads
        .iter()
        .map(|l| l["category"].as_str().unwrap())
        .collect();
    for want in ["discrimination.gender", "discrimination.age", "fee.deposit"] {
        assert!(cats.contains(&want), "{want} missing from {cats:?}");
    }
    for l in &leads {
        assert_eq!(l["schema"], "xuncha.lead/1");
        assert_eq!(l["posting"]["id"], "t-1");
        assert_eq!(l["posting"]["url"], "https://jobs.example/1");
        assert_eq!(l["lead_id"].as_str().unwrap().len(), 32);
        assert!(!l["legal_basis"].as_array().unwrap().is_empty());
        assert!(l["penalty"]["article"].is_string());
        for f in l["findings"].as_array().unwrap() {
            let (s, e) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(f["field"], "description");
            assert_eq!(&text[s..e], f["matched"].as_str().unwrap());
        }
    }
    let age = leads
        .iter()
        .find(|l| l["category"] == "discrimination.age")
        .unwrap();
    assert_eq!(age["severity"], "locally_illegal", "an age cap in Shanghai");
    let sex = leads
        .iter()
        .find(|l| l["category"] == "discrimination.gender")
        .unwrap();
    assert_eq!(sex["findings"][0]["matched"], "限 男 性");
}

#[test]
fn malformed_lines_are_named_and_the_scan_goes_on() {
    let input = "{\"id\":\"a\",\"text\":\"押金500元\"}\nnot json\n{\"id\":\"b\"}\n\n{\"id\":\"c\",\"text\":\"须交保证金1000元\"}\n";
    let out = xuncha(&["scan", "--format", "jsonl", "-"], input);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("<stdin>:2: skipped: not a posting"), "{err}");
    assert!(err.contains("<stdin>:3: skipped: no text field"), "{err}");
    let ids: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["posting"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        ids.contains(&"a".to_string()) && ids.contains(&"c".to_string()),
        "{ids:?}"
    );
    assert!(err.contains("scanned 2 postings"), "{err}");
}

#[test]
fn min_severity_and_csv_output() {
    let input = "{\"id\":\"a\",\"text\":\"年龄35岁以下，需交押金300元\"}\n";
    let out = xuncha(
        &["scan", "--format", "csv", "--min-severity", "illegal"],
        input,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let mut rows = s.lines();
    assert!(rows
        .next()
        .unwrap()
        .starts_with("lead_id,posting_id,url,category,severity"));
    let rest: Vec<&str> = rows.collect();
    assert_eq!(rest.len(), 1, "the disfavoured age lead is left out: {s}");
    assert!(rest[0].contains("fee.deposit") && rest[0].contains(",illegal,"));
}

#[test]
fn clean_postings_raise_nothing() {
    let input = "{\"id\":\"a\",\"text\":\"招聘Java开发工程师，男女不限，本科及以上，五险一金，不收取任何费用。联系人：王女士\"}\n";
    let out = xuncha(&["scan", "--format", "jsonl"], input);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "", "{}", stdout(&out));
}

#[test]
fn repository_rules_pass_their_own_examples() {
    let out = xuncha(&["rules", "test"], "");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(" 0 failed"));
    let out = xuncha(&["rules", "check"], "");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_broken_rule_file_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["laws.toml", "lexicon.toml", "divisions.csv", "fees.toml"] {
        std::fs::copy(repo().join("rules").join(f), dir.path().join(f)).unwrap();
    }
    let fees = std::fs::read_to_string(dir.path().join("fees.toml")).unwrap();
    let broken = fees.replacen("patterns = [", "patterns = ['(unclosed', ", 1);
    std::fs::write(dir.path().join("fees.toml"), &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("(unclosed"))
        .unwrap()
        + 1;
    let out = xuncha(
        &["rules", "check", "--rules", dir.path().to_str().unwrap()],
        "",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "fees.toml:{line}: pattern `(unclosed` is not a valid regex"
        )),
        "{err}"
    );
}

#[test]
fn costly_rules_are_refused_by_size_and_by_the_time_budget() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["laws.toml", "lexicon.toml", "divisions.csv", "fees.toml"] {
        std::fs::copy(repo().join("rules").join(f), dir.path().join(f)).unwrap();
    }
    let fees = std::fs::read_to_string(dir.path().join("fees.toml")).unwrap();
    let slow = fees.replacen("patterns = [", r"patterns = ['(\w+\s*){50}a', ", 1);
    std::fs::write(dir.path().join("fees.toml"), &slow).unwrap();
    let rules = dir.path().to_str().unwrap();
    let out = xuncha(&["rules", "check", "--rules", rules], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is too costly"), "{}", stderr(&out));
    // With no time to spare, every rule is over the budget, and each is named.
    std::fs::write(dir.path().join("fees.toml"), &fees).unwrap();
    let out = xuncha(
        &["rules", "check", "--rules", rules, "--budget-ms", "0"],
        "",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("fees.toml:") && err.contains("over the budget of 0 ms"),
        "{err}"
    );
}

#[test]
fn anchors_and_gates_show_what_the_prefilter_searches_and_how_often_it_hits() {
    let out = xuncha(&["rules", "anchors"], "");
    assert!(out.status.success());
    let lits: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert!(lits.iter().any(|l| l == "押金"), "{lits:?}");
    let out = xuncha(&["rules", "anchors", "-v"], "");
    let deposit = stdout(&out)
        .lines()
        .find(|l| l.starts_with("押金\t"))
        .map(String::from)
        .unwrap();
    assert!(deposit.contains("FEE-DEPOSIT-001"), "{deposit}");
    // Every posting holds 押金: its share is 100%, over any budget.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("p.jsonl");
    std::fs::write(
        &f,
        "{\"id\":\"a\",\"text\":\"押金\"}\n{\"id\":\"b\",\"text\":\"交押金\"}\n",
    )
    .unwrap();
    let out = xuncha(&["rules", "gates", f.to_str().unwrap()], "");
    assert!(!out.status.success());
    let shown = stdout(&out);
    assert!(shown.starts_with("2 postings"), "{shown}");
    assert!(shown.contains("100.000%  押金"), "{shown}");
    let out = xuncha(
        &["rules", "gates", f.to_str().unwrap(), "--max-share", "1.0"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn explain_prints_the_legal_basis() {
    let out = xuncha(&["rules", "check"], "");
    assert!(out.status.success());
    let dev = std::fs::read_to_string(repo().join("rules/discrimination.toml")).unwrap();
    let id = dev
        .lines()
        .find_map(|l| l.strip_prefix("id = \""))
        .unwrap()
        .trim_end_matches('"');
    let out = xuncha(&["rules", "explain", id], "");
    assert!(out.status.success());
    let s = stdout(&out);
    assert!(
        s.contains("依据") && s.contains("罚则") && s.contains("discrimination.toml:"),
        "{s}"
    );
    let out = xuncha(&["rules", "explain", "NO-SUCH-RULE"], "");
    assert!(!out.status.success());
}

#[test]
fn eval_counts_true_and_false_positives_per_label() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gold.jsonl");
    let lines = [
        // true positive fee.deposit
        r#"{"id":"1","text":"入职需交押金500元","labels":["fee.deposit"]}"#,
        // miss: gold says deposit, text says nothing
        r#"{"id":"2","text":"欢迎加入我们","labels":["fee.deposit"]}"#,
        // false positive: gold says lawful
        r#"{"id":"3","text":"需交押金300元","labels":[]}"#,
        // true negative
        r#"{"id":"4","text":"五险一金，双休","labels":[]}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = xuncha(&["eval", file.to_str().unwrap(), "--json"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let d = &r["per_label"]["fee.deposit"];
    assert_eq!(
        (d["tp"].as_u64(), d["fp"].as_u64(), d["fn"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    assert!((d["precision"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert!((r["micro"]["recall"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(r["records"], 4);
    let out = xuncha(&["eval", file.to_str().unwrap(), "--verbose"], "");
    let s = stdout(&out);
    assert!(
        s.contains("false positives (1)") && s.contains("misses (1)"),
        "{s}"
    );
}

#[test]
fn eval_breaks_figures_down_by_provenance_and_explains_misses() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gold.jsonl");
    let lines = [
        r#"{"id":"1","text":"入职需交押金500元","labels":["fee.deposit"],"style":"classified","batch":"x1"}"#,
        r#"{"id":"2","text":"欢迎加入我们","labels":["fee.deposit"],"style":"chat","batch":"x1"}"#,
        r#"{"id":"3","text":"我司不收押金","labels":[],"lookalike":true,"style":"chat","batch":"x2"}"#,
        r#"{"id":"4","text":"需交押金300元","labels":[],"lookalike":true,"style":"chat","batch":"x2","origin":{"kind":"police"}}"#,
        r#"{"id":"5","text":"入职需交押金，押金不退","labels":["fee.deposit"],"origin":{"kind":"police"}}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = xuncha(&["eval", file.to_str().unwrap(), "--json"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let chat = &r["per_style"]["chat"];
    assert_eq!(
        (
            chat["tp"].as_u64(),
            chat["fp"].as_u64(),
            chat["fn"].as_u64()
        ),
        (Some(0), Some(1), Some(1))
    );
    assert_eq!(r["per_batch"]["x1"]["tp"], 1);
    assert_eq!(r["per_source"]["police"]["fp"], 1);
    assert_eq!(r["lookalikes_flagged"]["flagged"], 1);
    assert_eq!(r["lookalikes_flagged"]["of"], 2);
    assert_eq!(r["per_rule"]["FEE-DEPOSIT-001"]["fp"], 1);
    // The miss names the rule that came nearest and what stopped it.
    let out = xuncha(
        &["eval", file.to_str().unwrap(), "--misses", "fee.deposit"],
        "",
    );
    let s = stdout(&out);
    assert!(s.contains("misses of fee.deposit (1)"), "{s}");
    assert!(s.contains("gate not hit"), "{s}");
}

#[test]
fn diff_rules_lists_what_a_rule_change_adds_and_retires() {
    // The old rule set lacks FEE-DEPOSIT-001.
    let old = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(repo().join("rules")).unwrap() {
        let p = e.unwrap().path();
        if !p.is_file() {
            continue;
        }
        let mut text = std::fs::read_to_string(&p).unwrap();
        if p.ends_with("fees.toml") {
            let blocks: Vec<&str> = text.split("[[rule]]").collect();
            let kept: Vec<&str> = blocks
                .iter()
                .enumerate()
                .filter(|(i, b)| *i == 0 || !b.contains("id = \"FEE-DEPOSIT-001\""))
                .map(|(_, b)| *b)
                .collect();
            assert_eq!(kept.len(), blocks.len() - 1, "one rule removed");
            text = kept.join("[[rule]]");
        }
        std::fs::write(old.path().join(p.file_name().unwrap()), text).unwrap();
    }
    let examples = std::fs::read_to_string(repo().join("examples/postings.jsonl")).unwrap();
    let now = xuncha(&["scan", "--format", "jsonl"], &examples);
    let by_rule: std::collections::BTreeSet<String> = stdout(&now)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| {
            l["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule_id"] == "FEE-DEPOSIT-001")
        })
        .map(|l| l["lead_id"].as_str().unwrap().to_string())
        .collect();
    assert!(!by_rule.is_empty());

    let old_dir = old.path().to_str().unwrap();
    // New rules against old: the deposit leads appear (or change, where another rule
    // already raised fee.deposit); nothing is retired.
    let diff = xuncha(
        &["scan", "--format", "jsonl", "--diff-rules", old_dir],
        &examples,
    );
    assert!(diff.status.success(), "{}", stderr(&diff));
    let changes: Vec<serde_json::Value> = stdout(&diff)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: std::collections::BTreeSet<String> = changes
        .iter()
        .map(|c| c["lead"]["lead_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, by_rule);
    assert!(changes.iter().all(|c| c["change"] != "retired"));
    let added = changes.iter().filter(|c| c["change"] == "added").count();
    assert!(
        stderr(&diff).contains(&format!("{added} added, 0 retired")),
        "{}",
        stderr(&diff)
    );

    // The other way round, the same leads are retired.
    let back = xuncha(
        &[
            "scan",
            "--format",
            "jsonl",
            "--rules",
            old_dir,
            "--diff-rules",
            "rules",
        ],
        &examples,
    );
    assert!(back.status.success(), "{}", stderr(&back));
    assert!(
        stderr(&back).contains(&format!("0 added, {added} retired")),
        "{}",
        stderr(&back)
    );
}

#[test]
fn topic_rescans_need_a_start_time_and_read_times_as_beijing_time() {
    let out = xuncha(&["scan", "--topic", "xuncha.postings"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
    let out = xuncha(&["scan", "--topic", "t", "--since", "2026-13-01"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a time"), "{}", stderr(&out));
}

#[test]
fn rules_fit_writes_weights_and_its_record_into_the_pack_which_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for e in std::fs::read_dir(repo().join("rules")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, rules.join(p.file_name().unwrap())).unwrap();
        }
    }
    let data = repo().join("tests/eval/dev.jsonl");
    let (r, d) = (rules.to_str().unwrap(), data.to_str().unwrap());
    let args = [
        "rules",
        "fit",
        d,
        "--rules",
        r,
        "--rule",
        "FAKE-HIGHPAY-001",
    ];
    let out = xuncha(&args, "");
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("FAKE-HIGHPAY-001") && s.contains("threshold"),
        "{s}"
    );
    let before = std::fs::read_to_string(rules.join("fake_jobs.toml")).unwrap();
    let out = xuncha(&[&args[..], &["--write"]].concat(), "");
    assert!(out.status.success(), "{}", stderr(&out));
    let after = std::fs::read_to_string(rules.join("fake_jobs.toml")).unwrap();
    assert_ne!(before, after);
    let v: toml::Value = toml::from_str(&after).unwrap();
    let rule = v["rule"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"].as_str() == Some("FAKE-HIGHPAY-001"))
        .unwrap();
    let fit = &rule["fit"];
    assert_eq!(fit["records"].as_integer(), Some(360));
    assert_eq!(fit["folds"].as_integer(), Some(5));
    assert!(fit["cv_precision"].as_float().is_some());
    // Only that rule was fitted (it had no fit record before), and the comments survive.
    assert_eq!(
        after.matches("[rule.fit]").count(),
        before.matches("[rule.fit]").count() + 1
    );
    assert!(after.starts_with(before.lines().next().unwrap()));
    let out = xuncha(&["rules", "check", "--rules", r], "");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_endless_line_is_refused_as_not_jsonl_within_a_memory_limit() {
    // Two gigabytes of address space: a reader that gathers the line whole runs out and
    // aborts; a bounded one stops with an error that names the input.
    let out = Command::new("bash")
        .args([
            "-c",
            "ulimit -v 2000000; exec \"$0\" scan /dev/zero",
            env!("CARGO_BIN_EXE_xuncha"),
        ])
        .current_dir(repo())
        .env_remove("XUNCHA_RULES")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "killed or aborted? {out:?}");
    assert!(
        err.contains("/dev/zero") && err.contains("not a JSONL file"),
        "{err}"
    );
}

#[test]
fn a_supplied_content_hash_is_replaced_by_the_hash_of_the_text() {
    let text = "入职需交押金500元";
    let input = format!("{{\"id\":\"a\",\"text\":\"{text}\",\"content_sha256\":\"old\"}}\n");
    let out = xuncha(&["scan", "--format", "jsonl", "-"], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let lead: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    let hash = lead["posting"]["content_sha256"].as_str().unwrap();
    let unhashed: xuncha_core::Posting =
        serde_json::from_str(&format!("{{\"id\":\"a\",\"text\":\"{text}\"}}")).unwrap();
    assert_eq!(hash, unhashed.compute_content_sha256(), "{lead}");
}
