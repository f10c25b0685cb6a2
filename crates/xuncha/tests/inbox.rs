//! The inbox as operators feed it: files copied in while still being written, huge lines,
//! byte-order marks, links, a second process on the same folder, names used twice.

mod process;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use process::{ok, wait_for};

/// `xuncha` in `dir` with the shipped default settings (the settle time included).
fn xuncha(dir: &Path, args: &[&str]) -> Command {
    let mut c = process::xuncha(dir, args);
    c.env_remove("XUNCHA_INBOX__SETTLE_MS");
    c
}

/// A checkout with its inbox made.
fn checkout() -> tempfile::TempDir {
    let dir = process::checkout();
    std::fs::create_dir_all(dir.path().join("data/inbox")).unwrap();
    dir
}

fn posting(id: &str) -> String {
    format!("{{\"id\":\"{id}\",\"text\":\"入职需交押金500元\"}}\n")
}

fn lead_count(d: &Path) -> usize {
    ok(xuncha(d, &["leads", "list"]).output().unwrap())
        .lines()
        .skip(1)
        .count()
}

fn dead_letters(d: &Path) -> Vec<serde_json::Value> {
    ok(xuncha(d, &["leads", "dead-letters"]).output().unwrap())
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stop(child: Child) -> Output {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_file_copied_in_slowly_is_read_whole_once_it_settles() {
    let dir = checkout();
    let d = dir.path();
    let child = xuncha(d, &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // As a slow `cp` or `scp` writes it: straight under its final name, with a pause.
    let path = d.join("data/inbox/slow.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for i in 0..10 {
        f.write_all(posting(&format!("first-{i}")).as_bytes())
            .unwrap();
    }
    f.flush().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    for i in 0..10 {
        f.write_all(posting(&format!("second-{i}")).as_bytes())
            .unwrap();
    }
    drop(f);
    wait_for("the file to be done", || {
        d.join("data/done/slow.jsonl").exists()
    });
    let out = stop(child);
    assert!(out.status.success());
    assert_eq!(lead_count(d), 20, "every line of the file became a lead");
    assert!(dead_letters(d).is_empty());
}

#[test]
fn a_huge_line_is_dead_lettered_with_its_size_and_hash_and_the_rest_is_read() {
    let dir = checkout();
    let d = dir.path();
    let huge = "x".repeat(3 << 20);
    let body = format!("{}{huge}\n{}", posting("before"), posting("after"));
    std::fs::write(d.join("data/inbox/huge.jsonl"), body).unwrap();
    ok(xuncha(d, &["run", "--once"])
        .env("XUNCHA_INBOX__SETTLE_MS", "0")
        .output()
        .unwrap());
    assert_eq!(lead_count(d), 2);
    let dead = dead_letters(d);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["reason"], "too_large");
    assert_eq!(dead[0]["source"]["line"], 2);
    assert_eq!(dead[0]["original_bytes"], 3 << 20);
    assert_eq!(
        dead[0]["original_sha256"].as_str().unwrap(),
        xuncha_core::sha256_hex(huge.as_bytes())
    );
    assert_eq!(dead[0]["truncated"], true);
}

#[test]
fn a_byte_order_mark_costs_no_posting_and_a_scan_of_only_bad_lines_fails() {
    let dir = checkout();
    let d = dir.path();
    let file = d.join("bom.jsonl");
    std::fs::write(&file, format!("\u{FEFF}{}", posting("with-bom"))).unwrap();
    let out = ok(xuncha(d, &["scan", "--format", "jsonl", "bom.jsonl"])
        .output()
        .unwrap());
    assert!(out.contains("\"with-bom\""), "{out}");
    std::fs::write(d.join("bad.jsonl"), "not json\n{\"id\":\"x\"}\n").unwrap();
    let o = xuncha(d, &["scan", "--format", "jsonl", "bad.jsonl"])
        .output()
        .unwrap();
    assert!(!o.status.success(), "every line bad is a failed scan");
    // Some bad lines among good ones are reported, not a failure.
    std::fs::write(
        d.join("mixed.jsonl"),
        format!("not json\n{}", posting("good")),
    )
    .unwrap();
    ok(xuncha(d, &["scan", "--format", "jsonl", "mixed.jsonl"])
        .output()
        .unwrap());
}

#[test]
fn a_second_run_on_the_same_inbox_refuses_to_start_and_names_the_holder() {
    let dir = checkout();
    let d = dir.path();
    let first = xuncha(d, &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = d.join("data/inbox/.xuncha.lock");
    wait_for("the first run to lock the inbox", || {
        std::fs::read_to_string(&lock).is_ok_and(|s| s.contains("pid"))
    });
    let second = xuncha(d, &["run"]).output().unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success());
    assert!(
        err.contains("in use by another xuncha process")
            && err.contains(&format!("pid {}", first.id())),
        "{err}"
    );
    assert!(stop(first).status.success());
}

#[test]
fn dead_letters_of_a_later_file_under_a_used_name_are_kept() {
    let dir = checkout();
    let d = dir.path();
    for text in ["not json\n", "also not json\n"] {
        std::fs::write(d.join("data/inbox/feed.jsonl"), text).unwrap();
        ok(xuncha(d, &["run", "--once"])
            .env("XUNCHA_INBOX__SETTLE_MS", "0")
            .output()
            .unwrap());
    }
    let dead = dead_letters(d);
    let originals: Vec<_> = dead.iter().map(|x| x["original"].clone()).collect();
    assert_eq!(originals, ["not json", "also not json"]);
}

#[test]
fn links_in_the_inbox_are_not_followed_and_the_database_is_private() {
    let dir = checkout();
    let d = dir.path();
    let secret = d.join("secret.txt");
    std::fs::write(&secret, "root:x:0:0:secret line\n").unwrap();
    std::os::unix::fs::symlink(&secret, d.join("data/inbox/link.jsonl")).unwrap();
    std::fs::write(d.join("data/inbox/real.jsonl"), posting("real")).unwrap();
    ok(xuncha(d, &["run", "--once"])
        .env("XUNCHA_INBOX__SETTLE_MS", "0")
        .output()
        .unwrap());
    assert_eq!(lead_count(d), 1);
    assert!(dead_letters(d).is_empty(), "the link's target was not read");
    assert!(d.join("data/failed/link.jsonl").is_symlink());
    let db = std::fs::metadata(d.join("data/xuncha.db")).unwrap();
    assert_eq!(db.permissions().mode() & 0o077, 0, "database not private");
}
