//! `xuncha leads recheck` and `leads show` end to end: leads raised on postings of the
//! fixture job board (over real HTTP on 127.0.0.1) are rechecked while the board keeps,
//! corrects, breaks and removes them, and the case file shows that history.

#[path = "../../xuncha-crawler/tests/common/mod.rs"]
mod common;

mod process;

use std::path::Path;
use std::process::Output;

use common::{Fixture, PageState, FIRST_ID};
use process::repo;
use serde_json::Value;

fn xuncha(dir: &Path, args: &[&str]) -> Output {
    process::xuncha(dir, args).output().unwrap()
}

fn ok(o: Output) -> (String, String) {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(o.status.success(), "{out}\n{err}");
    (out, err)
}

fn recheck(dir: &Path, extra: &[&str]) -> (String, String) {
    let mut args = vec!["leads", "recheck", "--sites-dir", "sites"];
    args.extend_from_slice(extra);
    ok(xuncha(dir, &args))
}

fn show_json(dir: &Path, lead: &str) -> Value {
    let (out, _) = ok(xuncha(dir, &["leads", "show", lead, "--json"]));
    serde_json::from_str(&out).unwrap()
}

/// Lead ids of a posting, from `leads list`.
fn leads_of(dir: &Path, posting: &str) -> Vec<String> {
    let (out, _) = ok(xuncha(dir, &["leads", "list"]));
    out.lines()
        .filter(|l| l.contains(posting))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// A posting of the board as a feeder would hand it in: its page's URL and text.
fn posting(addr: std::net::SocketAddr, id: u32, requirements: &str) -> String {
    serde_json::json!({
        "schema": "xuncha.posting/1",
        "id": format!("jobboard-{id}"),
        "source": "jobboard",
        "url": format!("http://{addr}/job/{id}.html"),
        "title": common::job(id, 0).title,
        "company": common::job(id, 0).company,
        "description": format!("任职要求：{}", requirements.replace("<br>", " ")),
    })
    .to_string()
}

#[test]
fn rechecks_record_online_changed_error_and_gone_and_show_prints_them() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fx = Fixture::new(6, 5);
    let addr = rt.block_on(common::serve(fx.clone(), 0));

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("config")).unwrap();
    std::fs::copy(
        repo().join("config/default.toml"),
        d.join("config/default.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(d.join("sites")).unwrap();
    let profile = std::fs::read_to_string(repo().join("config/sites/jobboard.toml"))
        .unwrap()
        .replace("https://www.jobboard.example", &format!("http://{addr}"))
        .replace("\"www.jobboard.example\"", "\"127.0.0.1\"")
        .replace(
            "allow_private_addresses = false",
            "allow_private_addresses = true",
        )
        .replace("rate_per_sec = 0.5", "rate_per_sec = 0");
    std::fs::write(d.join("sites/jobboard.toml"), profile).unwrap();

    let (male, married) = (FIRST_ID, FIRST_ID + 1);
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    std::fs::write(
        d.join("data/inbox/board.jsonl"),
        format!(
            "{}\n{}\n",
            posting(addr, male, common::REQUIREMENTS[0]),
            posting(addr, married, common::REQUIREMENTS[1])
        ),
    )
    .unwrap();
    ok(xuncha(d, &["run", "--once"]));
    let male_leads = leads_of(d, "jobboard-1001");
    let married_leads = leads_of(d, "jobboard-1002");
    assert!(!male_leads.is_empty() && !married_leads.is_empty());
    let lead = male_leads[0].clone();
    let flagged: Vec<String> = show_json(d, &lead)["lead"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["matched"].as_str().unwrap().to_string())
        .collect();
    assert!(!flagged.is_empty());

    // Online: the flagged text is on the page, kept as evidence; last_seen is set.
    let (out, err) = recheck(d, &["--after", "0s"]);
    let all = male_leads.len() + married_leads.len();
    assert!(
        err.contains(&format!(
            "rechecked {all} lead(s) on 2 page(s): {all} online"
        )),
        "{err}\n{out}"
    );
    let v = show_json(d, &lead);
    let first = &v["rechecks"][0];
    assert_eq!(first["outcome"], "online");
    assert_eq!(first["http_status"], 200);
    assert_eq!(first["flagged_present"], true);
    assert_eq!(v["last_online_at"], first["checked_at"]);
    assert!(v["gone_at"].is_null());
    let sha = first["content_sha256"].as_str().unwrap();
    let kept = std::fs::read(d.join("data/evidence").join(&sha[..2]).join(sha)).unwrap();
    assert_eq!(xuncha_core::sha256_hex(&kept), sha);
    for f in &flagged {
        let page: String = String::from_utf8(kept.clone())
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(page.contains(f.as_str()), "{f} on the page kept");
    }

    // Checked moments ago: not due within the default three days.
    let (_, err) = recheck(d, &[]);
    assert!(err.contains("rechecked 0 lead(s)"), "{err}");

    // Corrected: changed, the flagged text gone. A server error: error, never gone.
    fx.set_state(male, PageState::Corrected);
    fx.set_state(married, PageState::Failing);
    let (out, _) = recheck(d, &["--after", "0s"]);
    let line = |id: &str| out.lines().find(|l| l.starts_with(id)).unwrap().to_string();
    assert!(line(&lead).contains(" changed "), "{out}");
    assert!(line(&married_leads[0]).contains(" error "), "{out}");
    assert!(line(&married_leads[0]).contains(" 500 "), "{out}");
    let v = show_json(d, &lead);
    assert_eq!(v["rechecks"][1]["outcome"], "changed");
    assert_eq!(v["rechecks"][1]["flagged_present"], false);
    assert_eq!(
        v["last_online_at"], v["rechecks"][0]["checked_at"],
        "last_seen stays at the last time the flagged text was online"
    );
    let v = show_json(d, &married_leads[0]);
    assert_eq!(v["rechecks"][1]["outcome"], "error");
    assert!(v["gone_at"].is_null(), "a 500 is not gone");

    // Removed: one 404 is not yet gone; a second one a confirmation period later is, and
    // gone_at is dated from the first.
    fx.set_state(male, PageState::Removed);
    let confirm = ["--after", "0s", "--confirm-gone-after", "1s"];
    let (out, _) = recheck(d, &confirm);
    assert!(line_of(&out, &lead).contains(" gone "), "{out}");
    let v = show_json(d, &lead);
    assert!(v["gone_at"].is_null(), "a single 404 is not proof: {v}");
    assert_eq!(v["rechecks"][2]["outcome"], "gone");
    assert_eq!(v["rechecks"][2]["http_status"], 404);
    let first_gone = v["rechecks"][2]["checked_at"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (out, _) = recheck(d, &confirm);
    assert!(line_of(&out, &lead).contains(" gone "), "{out}");
    let v = show_json(d, &lead);
    let gone_at = v["gone_at"].as_str().expect("confirmed").to_string();
    assert_eq!(gone_at, first_gone);

    // Gone leads are no longer due; asked for by id, a later recheck does not move gone_at.
    let (out, _) = recheck(d, &confirm);
    assert!(!out.contains(&lead), "{out}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (out, _) = recheck(d, &["--lead", &lead]);
    assert!(line_of(&out, &lead).contains(" gone "), "{out}");
    let v = show_json(d, &lead);
    assert_eq!(v["rechecks"].as_array().unwrap().len(), 5);
    assert_ne!(v["rechecks"][4]["checked_at"], gone_at.as_str());
    assert_eq!(v["gone_at"], gone_at.as_str(), "gone_at is set once");

    // The case file: first found, each recheck, last seen online, gone since.
    let (shown, _) = ok(xuncha(d, &["leads", "show", &lead]));
    let last_seen = v["last_online_at"].as_str().unwrap();
    assert!(shown.contains("first found by a scan"), "{shown}");
    assert!(
        shown.contains("recheck online   HTTP 200  flagged text still there: yes"),
        "{shown}"
    );
    assert!(
        shown.contains("recheck changed  HTTP 200  flagged text still there: no"),
        "{shown}"
    );
    assert!(shown.contains("recheck gone     HTTP 404"), "{shown}");
    assert!(shown.contains(&format!("evidence sha256:{sha}")), "{shown}");
    assert!(
        shown.contains(&format!("last_seen    {last_seen}")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("gone_at      {gone_at}")),
        "{shown}"
    );

    // The list marks gone leads with the date.
    let (list, _) = ok(xuncha(d, &["leads", "list"]));
    for l in list.lines().filter(|l| l.contains("jobboard-")) {
        let gone = l.contains(&format!(" {} ", &gone_at[..10]));
        assert_eq!(gone, l.contains("jobboard-1001"), "{list}");
    }
}

fn line_of(out: &str, lead: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(lead))
        .unwrap_or_else(|| panic!("no line for {lead} in\n{out}"))
        .to_string()
}
