//! `xuncha campaigns` on what `xuncha run` filed: a ring that writes one number three
//! ways on three sites is one campaign, listed as a table (hostile text neutralised) and
//! as JSONL, shown with how each key was written, and assigned whole.

mod process;

use std::path::Path;

use process::{checkout, ok, xuncha};

fn feed(d: &Path) {
    let forms = [
        "电话 139 1234 5678",
        "加薇：一三九一二三四五六七八",
        "vx：１３９-１２３４-５６７８",
    ];
    let mut lines = String::new();
    let sites = ["boss", "58", "ganji"];
    for (i, f) in forms.iter().enumerate() {
        let p = serde_json::json!({
            "id": format!("ring-{i}"),
            "source": sites[i],
            "title": format!("急招打字员\u{1b}]52;c;aGk=\u{7}{i}"),
            "publisher": { "name": format!("工作室{i}") },
            "description": format!("在家兼职打字，入职先交300元押金，日结，{f}"),
        });
        lines.push_str(&format!("{p}\n"));
    }
    let other = serde_json::json!({
        "id": "other", "source": "boss", "title": "普工",
        "description": "入职先交500元押金，月薪8000-12000元，电话13800001111",
    });
    lines.push_str(&format!("{other}\n"));
    std::fs::create_dir_all(d.join("data/inbox")).unwrap();
    std::fs::write(d.join("data/inbox/ring.jsonl"), lines).unwrap();
}

#[test]
fn a_ring_filed_by_run_is_one_campaign_listed_shown_and_assigned_whole() {
    let dir = checkout();
    let d = dir.path();
    feed(d);
    ok(xuncha(d, &["run", "--once"]).output().unwrap());

    let table = ok(xuncha(d, &["campaigns", "list"]).output().unwrap());
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table}"
    );
    assert!(table.contains("\\u{1b}"), "{table}");
    assert!(table.contains("phone:13912345678×3"), "{table}");
    assert_eq!(table.lines().count(), 2, "one campaign: {table}");

    let jsonl = ok(xuncha(d, &["campaigns", "list", "--format", "jsonl"])
        .output()
        .unwrap());
    let c: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(c["postings"], 3);
    assert_eq!(c["sites"], serde_json::json!(["58", "boss", "ganji"]));
    assert_eq!(c["keys"][0]["key"], "phone:13912345678");
    let mut postings: Vec<&str> = c["posting_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    postings.sort();
    assert_eq!(postings, ["ring-0", "ring-1", "ring-2"]);
    let leads = c["lead_ids"].as_array().unwrap();
    assert!(leads.len() >= 3);
    assert!(c["first_seen"].is_string() && c["last_seen"].is_string());
    assert!(c["categories"][0]["category"].is_string());
    let id = c["id"].as_i64().unwrap().to_string();

    let shown = ok(xuncha(d, &["campaigns", "show", &id]).output().unwrap());
    assert!(shown.contains("薇：一三九一二三四五六七八"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown}");
    let report = d.join("report.html");
    ok(xuncha(d, &["leads", "export", "--format", "html", "-o"])
        .arg(&report)
        .output()
        .unwrap());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("团伙线索 Campaigns"), "{html}");
    assert!(html.contains("phone:13912345678"));
    assert!(html.contains(&format!("href=\"#lead-{}\"", leads[0].as_str().unwrap())));
    let missing = xuncha(d, &["campaigns", "show", "999"]).output().unwrap();
    assert!(!missing.status.success());

    let assigned = ok(xuncha(
        d,
        &["campaigns", "assign", &id, "--to", "李四", "--as", "王主任"],
    )
    .output()
    .unwrap());
    assert_eq!(
        assigned
            .lines()
            .filter(|l| l.contains("王主任 assign 李四"))
            .count(),
        leads.len()
    );
    for l in leads {
        let shown = ok(xuncha(d, &["leads", "show", l.as_str().unwrap(), "--json"])
            .output()
            .unwrap());
        let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(v["assigned_to"], "李四");
        let by = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "assign")
            .unwrap();
        assert_eq!(by["actor"], "王主任");
    }
}
