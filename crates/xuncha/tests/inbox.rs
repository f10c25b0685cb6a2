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
    // The data folder made by xuncha itself, by a first run on an empty inbox.
    let dir = process::checkout();
    let d = dir.path();
    ok(xuncha(d, &["run", "--once"]).output().unwrap());
    let secret = d.join("secret.txt");
    std::fs::write(&secret, "root:x:0:0:secret line\n").unwrap();
    std::os::unix::fs::symlink(&secret, d.join("data/inbox/link.jsonl")).unwrap();
    std::fs::write(d.join("data/inbox/real.jsonl"), posting("real")).unwrap();
    // Kept running, so the database's write-ahead log is there to be looked at.
    let child = xuncha(d, &["run"])
        .env("XUNCHA_INBOX__SETTLE_MS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("both files to be handled", || {
        d.join("data/done/real.jsonl").exists() && d.join("data/failed/link.jsonl").is_symlink()
    });
    let mode = |p: &str| std::fs::metadata(d.join(p)).unwrap().permissions().mode();
    for private in [
        "data",
        "data/inbox",
        "data/done",
        "data/failed",
        "data/xuncha.db",
        "data/xuncha.db-wal",
    ] {
        assert_eq!(mode(private) & 0o077, 0, "{private} not private");
    }
    assert!(stop(child).status.success());
    assert_eq!(lead_count(d), 1);
    assert!(dead_letters(d).is_empty(), "the link's target was not read");
}

/// Lines of `xuncha run`'s standard error, gathered as they come.
fn log_lines(child: &mut Child) -> std::sync::Arc<std::sync::Mutex<String>> {
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    log
}

/// A count from the JSON log line `run` writes as it stops.
fn stopped_field(log: &str, key: &str) -> u64 {
    log.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["message"] == "stopped")
        .unwrap_or_else(|| panic!("no stopped line in {log}"))[key]
        .as_u64()
        .unwrap()
}

#[test]
fn a_file_that_grows_while_it_is_read_is_read_on_to_its_end_with_a_warning() {
    let dir = checkout();
    let d = dir.path();
    let mut child = xuncha(d, &["run"])
        .env("XUNCHA_INBOX__SETTLE_MS", "300")
        .env("XUNCHA_LOG__FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = log_lines(&mut child);
    let has = |what: &str| log.lock().unwrap().contains(what);
    // Leads, clean postings and malformed lines, so every way a line can end is counted.
    let mut kinds = [0usize; 3];
    let mut line = |i: usize| {
        kinds[i % 3] += 1;
        match i % 3 {
            0 => posting(&format!("p-{i}")),
            1 => format!("{{\"id\":\"c-{i}\",\"text\":\"招聘仓库管理员，五险一金\"}}\n"),
            _ => format!("not json {i}\n"),
        }
    };
    let path = d.join("data/inbox/grows.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    let mut i = 0;
    // Enough lines that scanning them lasts a while after the file is taken.
    for _ in 0..3000 {
        f.write_all(line(i).as_bytes()).unwrap();
        i += 1;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !has("reading inbox file") {
        assert!(std::time::Instant::now() < deadline, "never taken");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Appending, one whole line a write, until the reader has come to an end that moved.
    while !has("file grew while it was read") {
        assert!(
            std::time::Instant::now() < deadline && !has("grew after it was finished"),
            "no warning: {}",
            log.lock().unwrap()
        );
        f.write_all(line(i).as_bytes()).unwrap();
        i += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    drop(f);
    wait_for("the file to be done", || {
        d.join("data/done/grows.jsonl").exists()
    });
    let out = stop(child);
    assert!(out.status.success());
    wait_for("the last log line", || has("\"stopped\""));
    let log = log.lock().unwrap().clone();
    let [leads, clean, bad] = kinds;
    assert_eq!(leads + clean + bad, i);
    assert_eq!(lead_count(d), leads, "every lead line filed");
    assert_eq!(
        dead_letters(d).len(),
        bad,
        "every malformed line dead-lettered"
    );
    assert_eq!(stopped_field(&log, "postings"), (leads + clean) as u64);
    assert_eq!(stopped_field(&log, "dead_letters"), bad as u64);
    assert_eq!(
        stopped_field(&log, "records"),
        i as u64,
        "lines in = lines scanned"
    );
}

#[test]
fn a_writer_that_pauses_past_the_settle_time_and_writes_on_is_named_in_an_error() {
    let dir = checkout();
    let d = dir.path();
    let mut child = xuncha(d, &["run"])
        .env("XUNCHA_INBOX__SETTLE_MS", "300")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = log_lines(&mut child);
    let path = d.join("data/inbox/paused.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for i in 0..10 {
        f.write_all(posting(&format!("first-{i}")).as_bytes())
            .unwrap();
    }
    // The pause outlasts the settle time: the file is taken as it stands and moved on.
    let done = d.join("data/done/paused.jsonl");
    wait_for("the first half to be done", || done.exists());
    for i in 0..10 {
        f.write_all(posting(&format!("second-{i}")).as_bytes())
            .unwrap();
    }
    drop(f);
    // Those lines cannot be had back by size or time alone; they must not go unsaid.
    wait_for("an error naming the file", || {
        log.lock().unwrap().lines().any(|l| {
            l.contains("file grew after it was finished") && l.contains("data/done/paused.jsonl")
        })
    });
    assert!(stop(child).status.success());
    assert_eq!(lead_count(d), 10);
}
