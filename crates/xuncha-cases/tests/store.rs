//! The case store's behaviour, the same suite on both databases: a SQLite file and a
//! PostgreSQL cluster that each test starts (tests/support/postgres.rs).

mod support {
    pub mod leads;
    pub mod postgres;
    pub mod stores;
}

use std::time::Duration;

use support::leads::lead;
use support::postgres::Postgres;
use support::stores::{on_both, Store};
use time::OffsetDateTime;
use xuncha_cases::{
    CaseQueue, Change, Cursor, Facet, Filter, LeadRow, Order, Recheck, RecheckOutcome, Status,
    Verdict, MAX_NOTE_CHARS,
};
use xuncha_core::{Lead, Severity};

fn at(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
}

fn recheck(lead_id: &str, when: &str, outcome: RecheckOutcome) -> Recheck {
    Recheck {
        lead_id: lead_id.into(),
        checked_at: when.into(),
        outcome,
        http_status: Some(200),
        final_url: None,
        content_sha256: None,
        evidence: None,
        flagged_present: None,
        flagged_found: None,
        flagged_total: None,
        error: None,
    }
}

const DAY: Duration = Duration::from_secs(86_400);

#[test]
fn due_leads_are_open_with_a_url_not_gone_and_not_checked_lately() {
    on_both(|s| {
        let q = &s.q;
        q.upsert(
            &[
                lead("open", Some("http://x.example/1"), &["限男性", "限男性"]),
                lead("closed", Some("http://x.example/2"), &["押金"]),
                lead("nourl", None, &["押金"]),
                lead("gone", Some("http://x.example/3"), &["押金"]),
            ],
            "2026-11-01T00:00:00Z",
        )
        .unwrap();
        q.change(
            "closed",
            &Change::Status(Status::Closed),
            "王敏",
            None,
            "2026-11-01T00:30:00Z",
        )
        .unwrap()
        .expect("the lead exists");
        for when in ["2026-11-01T01:00:00Z", "2026-11-01T02:00:00Z"] {
            assert!(q
                .record_recheck(&recheck("gone", when, RecheckOutcome::Gone))
                .unwrap());
        }
        let ids = |now: &str| -> Vec<String> {
            q.due_for_recheck(at(now), 3 * DAY, None)
                .unwrap()
                .into_iter()
                .map(|d| d.lead_id)
                .collect()
        };
        assert_eq!(ids("2026-11-01T02:00:00Z"), ["open"]);
        let due = q
            .due_for_recheck(at("2026-11-01T02:00:00Z"), 3 * DAY, None)
            .unwrap();
        assert_eq!(due[0].flagged, ["限男性"], "each flagged string once");

        q.record_recheck(&recheck(
            "open",
            "2026-11-01T02:00:00Z",
            RecheckOutcome::Online,
        ))
        .unwrap();
        assert!(ids("2026-11-03T02:00:00Z").is_empty(), "checked 2 days ago");
        assert_eq!(ids("2026-11-04T02:00:00Z"), ["open"], "checked 3 days ago");
        let row = q.get("open").unwrap().unwrap();
        assert_eq!(row.last_online_at.as_deref(), Some("2026-11-01T02:00:00Z"));
        let closed = q.due_lead("closed").unwrap().expect("asked for by id");
        assert_eq!(closed.flagged, ["押金"]);
        assert!(q.due_lead("nourl").unwrap().is_none());
        assert!(!q
            .record_recheck(&recheck(
                "nope",
                "2026-11-01T02:00:00Z",
                RecheckOutcome::Online
            ))
            .unwrap());
    });
}

#[test]
fn gone_at_is_set_once_and_history_keeps_every_recheck() {
    on_both(|s| {
        let q = &s.q;
        q.upsert(
            &[lead("a", Some("http://x.example/1"), &["限男性"])],
            "2026-11-01T00:00:00Z",
        )
        .unwrap();
        let steps = [
            ("2026-11-02T00:00:00Z", RecheckOutcome::Online),
            ("2026-11-03T00:00:00Z", RecheckOutcome::Error),
            ("2026-11-04T00:00:00Z", RecheckOutcome::Gone),
            ("2026-11-05T00:00:00Z", RecheckOutcome::Gone),
        ];
        for (when, outcome) in steps {
            q.record_recheck(&recheck("a", when, outcome)).unwrap();
        }
        let row = q.get("a").unwrap().unwrap();
        assert_eq!(row.gone_at.as_deref(), Some("2026-11-04T00:00:00Z"));
        assert_eq!(row.last_online_at.as_deref(), Some("2026-11-02T00:00:00Z"));
        assert_eq!(row.last_checked_at.as_deref(), Some("2026-11-05T00:00:00Z"));
        let h = q.history("a").unwrap();
        let got: Vec<(&str, RecheckOutcome)> = h
            .iter()
            .map(|r| (r.checked_at.as_str(), r.outcome))
            .collect();
        assert_eq!(got, steps);
        assert!(q.history("b").unwrap().is_empty());
    });
}

#[test]
fn legal_texts_are_stored_once_and_put_back_on_reading() {
    on_both(|s| {
        let q = &s.q;
        let text =
            "用人单位招用劳动者，不得扣押劳动者的居民身份证和其他证件，不得要求劳动者提供担保。"
                .repeat(10);
        let law = |article: &str| xuncha_core::LegalRef {
            key: article.into(),
            law: "中华人民共和国劳动合同法".into(),
            article: article.into(),
            text: text.clone(),
        };
        let leads: Vec<Lead> = (0..50)
            .map(|i| {
                let mut l = lead(&format!("l{i}"), None, &["押金"]);
                l.legal_basis = vec![law("第九条")];
                l.penalty = Some(law("第八十四条"));
                l
            })
            .collect();
        q.upsert(&leads, "2026-11-01T00:00:00Z").unwrap();
        let stored: i64 = s.scalar("SELECT CAST(SUM(LENGTH(lead_json)) AS BIGINT) FROM leads");
        let one = serde_json::to_string(&leads[0]).unwrap().len() as i64;
        assert!(
            stored < 50 * (one - text.len() as i64),
            "texts repeated: {stored}"
        );
        let texts: i64 = s.scalar("SELECT COUNT(*) FROM law_texts");
        assert_eq!(texts, 2);
        assert_eq!(q.get("l7").unwrap().unwrap().lead, leads[7]);
        let listed = q.list(&Filter::default()).unwrap();
        assert!(listed.iter().all(|r| r.lead.legal_basis[0].text == text));
    });
}

#[test]
fn one_gone_is_not_gone_a_confirmed_absence_is() {
    on_both(|s| {
        let q = &s.q;
        q.upsert(
            &[lead("a", Some("http://x.example/1"), &["限男性"])],
            "2026-11-01T00:00:00Z",
        )
        .unwrap();
        let gone_at = |steps: &[(&str, RecheckOutcome)]| {
            for (when, outcome) in steps {
                q.record_recheck(&recheck("a", when, *outcome)).unwrap();
            }
            q.get("a").unwrap().unwrap().gone_at
        };
        use RecheckOutcome::*;
        assert_eq!(gone_at(&[("2026-11-02T00:00:00Z", Gone)]), None, "one 404");
        assert_eq!(
            gone_at(&[("2026-11-02T00:10:00Z", Gone)]),
            None,
            "too soon after"
        );
        assert_eq!(
            gone_at(&[
                ("2026-11-02T05:00:00Z", Online),
                ("2026-11-02T06:00:00Z", Gone)
            ]),
            None,
            "seen online again: the run starts anew"
        );
        assert_eq!(
            gone_at(&[
                ("2026-11-02T06:30:00Z", Error),
                ("2026-11-02T07:00:00Z", Gone)
            ]),
            Some("2026-11-02T06:00:00Z".to_string()),
            "confirmed an hour on; dated from the first of the run"
        );
        assert_eq!(
            gone_at(&[("2026-11-03T00:00:00Z", Gone)]),
            Some("2026-11-02T06:00:00Z".to_string()),
            "never moves again"
        );
    });
}

fn actions(q: &CaseQueue) -> Vec<String> {
    q.events("a")
        .unwrap()
        .into_iter()
        .map(|e| {
            format!(
                "{} {} {}→{}",
                e.actor,
                e.action,
                e.from.unwrap_or_default(),
                e.to.unwrap_or_default()
            )
        })
        .collect()
}

fn with_lead(s: &Store) -> &CaseQueue {
    s.q.upsert(
        &[lead("a", Some("http://x.example/1"), &["限男性"])],
        "2026-11-01T00:00:00Z",
    )
    .unwrap();
    &s.q
}

#[test]
fn every_change_is_an_event_with_its_actor_and_the_verdict_stands_apart() {
    on_both(|s| {
        let q = with_lead(s);
        let t = "2026-11-02T09:00:00Z";
        let w = q
            .change(
                "a",
                &Change::Assign("李四".into()),
                "张三",
                Some("请核实"),
                t,
            )
            .unwrap()
            .unwrap();
        assert_eq!(w.len(), 2, "assignee and status: {w:?}");
        assert_eq!(w[0].note.as_deref(), Some("请核实"));
        q.change("a", &Change::Verdict(Verdict::Confirmed), "李四", None, t)
            .unwrap();
        q.change("a", &Change::Status(Status::Closed), "李四", None, t)
            .unwrap();
        let row = q.get("a").unwrap().unwrap();
        assert_eq!(row.status, Status::Closed);
        assert_eq!(row.verdict, Some(Verdict::Confirmed));
        assert_eq!(row.assigned_to.as_deref(), Some("李四"));
        assert_eq!(
            actions(q),
            [
                "scan filed →",
                "张三 assign →李四",
                "张三 status new→assigned",
                "李四 verdict →confirmed",
                "李四 status assigned→closed",
            ]
        );
        // Nothing moves: no change event, but the note is kept.
        let w = q
            .change(
                "a",
                &Change::Status(Status::Closed),
                "李四",
                Some("已立案"),
                t,
            )
            .unwrap()
            .unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].action, "note");
        let f = Filter {
            verdict: Some(Verdict::Confirmed),
            assigned_to: Some("李四".into()),
            ..Filter::default()
        };
        assert_eq!(q.list(&f).unwrap().len(), 1);
        assert!(q
            .change("nope", &Change::Note, "李四", Some("x"), t)
            .unwrap()
            .is_none());
    });
}

#[test]
fn a_false_positive_is_closed_and_a_closed_lead_seen_again_stays_closed() {
    on_both(|s| {
        let q = with_lead(s);
        let t = "2026-11-02T09:00:00Z";
        q.change(
            "a",
            &Change::Verdict(Verdict::FalsePositive),
            "张三",
            None,
            t,
        )
        .unwrap();
        q.upsert(
            &[lead("a", Some("http://x.example/1"), &["限男性"])],
            "2026-11-03T00:00:00Z",
        )
        .unwrap();
        let row = q.get("a").unwrap().unwrap();
        assert_eq!(row.status, Status::Closed, "a scan never reopens a lead");
        assert_eq!(row.seen_count, 2);
        assert_eq!(actions(q).last().unwrap(), "scan seen_again →");
        q.record_recheck(&Recheck {
            lead_id: "a".into(),
            checked_at: "2026-11-04T00:00:00Z".into(),
            outcome: RecheckOutcome::Online,
            http_status: Some(200),
            final_url: None,
            content_sha256: None,
            evidence: None,
            flagged_present: Some(true),
            flagged_found: Some(1),
            flagged_total: Some(1),
            error: None,
        })
        .unwrap();
        assert_eq!(actions(q).last().unwrap(), "recheck recheck →online");
    });
}

#[test]
fn names_and_notes_are_bounded() {
    on_both(|s| {
        let q = with_lead(s);
        let t = "2026-11-02T09:00:00Z";
        let long = "长".repeat(MAX_NOTE_CHARS + 1);
        let e = q
            .change("a", &Change::Note, "张三", Some(&long), t)
            .unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        assert!(q.change("a", &Change::Note, " ", Some("x"), t).is_err());
        assert!(q.change("a", &Change::Note, "张三", None, t).is_err());
        assert_eq!(q.events("a").unwrap().len(), 1, "only the filing");
    });
}

#[test]
fn events_and_evidence_cannot_be_rewritten_or_deleted() {
    on_both(|s| {
        with_lead(s);
        for sql in [
            "UPDATE lead_events SET actor = 'x'",
            "DELETE FROM lead_events",
            "DELETE FROM leads",
            "UPDATE leads SET lead_json = '{}'",
            "UPDATE leads SET category = 'fee.other'",
        ] {
            let e = s.raw(sql).unwrap_err();
            assert!(
                e.contains("append-only") || e.contains("never"),
                "{sql}: {e}"
            );
        }
        if s.name == "postgres" {
            for sql in ["TRUNCATE lead_events", "TRUNCATE leads CASCADE"] {
                let e = s.raw(sql).unwrap_err();
                assert!(
                    e.contains("append-only") || e.contains("never"),
                    "{sql}: {e}"
                );
            }
        }
        s.raw("UPDATE leads SET status = 'assigned'")
            .expect("the workflow columns move");
    });
}

/// Eight analysts (threads with their own handle on the store, as eight processes would
/// have) work one queue at once: each assigns, judges and notes leads, and two of them
/// fight over every lead. Every change they were told succeeded is in the log, and the
/// log replays to the state the lead is in: nobody's change vanished.
#[test]
fn eight_analysts_at_once_lose_no_change() {
    on_both(|s| {
        let leads: Vec<Lead> = (0..40)
            .map(|i| lead(&format!("l{i}"), None, &["押金"]))
            .collect();
        s.q.upsert(&leads, "2026-11-01T00:00:00Z").unwrap();
        std::thread::scope(|scope| {
            for a in 0..8 {
                let q = s.reopen();
                scope.spawn(move || {
                    let me = format!("analyst-{a}");
                    for i in 0..40 {
                        // Analysts a and a+4 share their leads; everyone notes every fifth.
                        if i % 4 != a % 4 && i % 5 != 0 {
                            continue;
                        }
                        let id = format!("l{i}");
                        let t = format!("2026-11-02T09:{a:02}:{:02}Z", i % 60);
                        let change = match (a + i) % 3 {
                            0 => Change::Assign(me.clone()),
                            1 => Change::Verdict(Verdict::Confirmed),
                            _ => Change::Note,
                        };
                        let note = Some(format!("{me} on {id}"));
                        q.change(&id, &change, &me, note.as_deref(), &t)
                            .unwrap()
                            .expect("the lead exists");
                    }
                });
            }
        });
        for i in 0..40 {
            let id = format!("l{i}");
            let events = s.q.events(&id).unwrap();
            let row = s.q.get(&id).unwrap().unwrap();
            // Every analyst's note is there.
            let notes = events.iter().filter(|e| e.note.is_some()).count();
            let expected = (0..8).filter(|a| i % 4 == a % 4 || i % 5 == 0).count();
            assert_eq!(notes, expected, "{}: {id}: {events:?}", s.name);
            // Each change starts from what the one before it left: no silent overwrite.
            let mut assignee: Option<String> = None;
            let mut status = "new".to_string();
            for e in &events {
                match e.action.as_str() {
                    "assign" => {
                        assert_eq!(e.from, assignee, "{}: {id}", s.name);
                        assignee = e.to.clone();
                    }
                    "status" => {
                        assert_eq!(e.from.as_deref(), Some(status.as_str()), "{}: {id}", s.name);
                        status = e.to.clone().unwrap();
                    }
                    _ => {}
                }
            }
            assert_eq!(row.assigned_to, assignee, "{}: {id}", s.name);
            assert_eq!(row.status.as_str(), status, "{}: {id}", s.name);
        }
    });
}

#[test]
fn a_reopened_store_keeps_every_row_and_applies_nothing_twice() {
    on_both(|s| {
        with_lead(s);
        s.q.change(
            "a",
            &Change::Note,
            "张三",
            Some("x"),
            "2026-11-02T00:00:00Z",
        )
        .unwrap();
        let q = s.reopen();
        assert_eq!(q.count().unwrap(), 1);
        assert_eq!(q.events("a").unwrap().len(), 2);
        let applied = s.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM refinery_schema_history");
        let distinct =
            s.scalar("SELECT CAST(COUNT(DISTINCT version) AS BIGINT) FROM refinery_schema_history");
        let newest = s.scalar("SELECT CAST(MAX(version) AS BIGINT) FROM refinery_schema_history");
        assert_eq!(applied, distinct, "a migration applied twice");
        assert_eq!(newest, xuncha_cases::migrate::latest_version());
    });
}

#[test]
fn a_database_of_a_newer_release_is_refused() {
    on_both(|s| {
        with_lead(s);
        let next = xuncha_cases::migrate::latest_version() + 1;
        s.raw(&format!(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES ({next}, 'from_the_future', '2027-01-01T00:00:00Z', '1')"
        ))
        .unwrap();
        let e = format!(
            "{:#}",
            CaseQueue::open_at(&s.location).err().expect("refused")
        );
        assert!(
            e.contains("newer") && e.contains(&next.to_string()),
            "{}: {e}",
            s.name
        );
        // Refused, not damaged: the rows are still there for the newer release.
        assert_eq!(s.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM leads"), 1);
    });
}

/// PostgreSQL stopped under a running store and started again: the store's next calls
/// wait for it and go through, nothing filed is lost and nothing twice.
#[test]
fn postgres_stopped_and_started_again_loses_nothing() {
    let mut pg = Postgres::start();
    let url = pg.new_database();
    let q = std::sync::Arc::new(CaseQueue::open_url(&url).unwrap());
    q.upsert(&[lead("before", None, &["押金"])], "2026-11-01T00:00:00Z")
        .unwrap();
    pg.stop();
    let writer = {
        let q = q.clone();
        std::thread::spawn(move || {
            q.upsert(&[lead("during", None, &["押金"])], "2026-11-01T00:01:00Z")
        })
    };
    std::thread::sleep(Duration::from_secs(3));
    pg.restart();
    writer
        .join()
        .unwrap()
        .expect("the write waited for the database and went through");
    q.upsert(&[lead("during", None, &["押金"])], "2026-11-01T00:02:00Z")
        .unwrap();
    assert_eq!(q.count().unwrap(), 2);
    assert_eq!(q.get("during").unwrap().unwrap().seen_count, 2);
    assert_eq!(q.events("during").unwrap().len(), 1, "filed once");
}

/// A SQLite file of a release before migrations were versioned (its leads table without
/// the recheck and workflow columns, a dismissed lead still a status): it opens with its
/// rows kept, gains the columns, and the dismissal becomes a verdict.
#[test]
fn a_sqlite_file_of_an_unversioned_release_is_upgraded_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE leads (
                lead_id TEXT PRIMARY KEY, posting_id TEXT NOT NULL, category TEXT NOT NULL,
                severity TEXT NOT NULL, severity_rank INTEGER NOT NULL, score REAL NOT NULL,
                url TEXT, source TEXT, publisher TEXT, rules_version TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'new'
                       CHECK (status IN ('new', 'assigned', 'closed', 'false_positive')),
                first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
                seen_count INTEGER NOT NULL DEFAULT 1, lead_json TEXT NOT NULL);",
        )
        .unwrap();
        for (id, status) in [("a", "new"), ("b", "false_positive")] {
            let json =
                serde_json::to_string(&lead(id, Some("http://x.example/1"), &["限男性"])).unwrap();
            conn.execute(
                "INSERT INTO leads (lead_id, posting_id, category, severity, severity_rank, score, url,
                                    rules_version, status, first_seen, last_seen, lead_json)
                 VALUES (?1, 'p', 'discrimination.gender', 'illegal', 3, 0.9, 'http://x.example/1',
                         't', ?2, '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', ?3)",
                rusqlite::params![id, status, json],
            )
            .unwrap();
        }
    }
    let q = CaseQueue::open(&path).unwrap();
    let a = q.get("a").unwrap().expect("the old row is kept");
    assert_eq!((a.gone_at, a.last_checked_at), (None, None));
    let b = q.get("b").unwrap().unwrap();
    assert_eq!(b.status, Status::Closed);
    assert_eq!(b.verdict, Some(Verdict::FalsePositive));
    let due = q
        .due_for_recheck(
            at("2026-11-02T00:00:00Z"),
            Duration::from_secs(3 * 86_400),
            None,
        )
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].flagged, vec!["限男性".to_string()]);
    // The facets of leads filed before they were kept are filled from their evidence.
    let by_rule = Filter {
        rule: Some("R".into()),
        ..Filter::default()
    };
    assert_eq!(q.list(&by_rule).unwrap().len(), 2);
    // …and so are the rule's figures, the dismissal among them.
    let stats = q.rule_stats("2026-01-01T00:00:00Z", None, 10).unwrap();
    assert_eq!(
        (
            stats[0].rule_id.as_str(),
            stats[0].leads,
            stats[0].false_positives
        ),
        ("R", 2, 1)
    );
    drop(q);
    let q = CaseQueue::open(&path).unwrap();
    assert_eq!(q.count().unwrap(), 2);
    q.change(
        "a",
        &Change::Note,
        "张三",
        Some("x"),
        "2026-11-02T00:00:00Z",
    )
    .unwrap()
    .expect("events work on the upgraded file");
}

/// Processes that open a new PostgreSQL database at the same moment (two filers starting
/// together) all come up: one migrates, the others wait and find the tables made.
#[test]
fn several_processes_opening_a_new_database_at_once_all_come_up() {
    let pg = Postgres::start();
    let url = pg.new_database();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| CaseQueue::open_url(&url).map(|_| ())))
            .collect();
        for h in handles {
            h.join().unwrap().expect("opened");
        }
    });
    let q = CaseQueue::open_url(&url).unwrap();
    assert_eq!(q.count().unwrap(), 0);
}

/// Filters by site, publisher, region and rule, counts by the same, and pages that hold
/// still while new leads arrive.
#[test]
fn analysts_filter_count_and_page_a_queue() {
    on_both(|s| {
        let mut leads = Vec::new();
        for i in 0..30 {
            let mut l = lead(&format!("l{i:02}"), None, &["押金"]);
            l.findings[0].rule_id = if i % 3 == 0 {
                "FEE-DEPOSIT-001"
            } else {
                "DISC-GENDER-001"
            }
            .into();
            l.posting.source = Some(if i % 2 == 0 { "site-a" } else { "site-b" }.into());
            l.posting.publisher = Some(format!("pub-{}", i % 5));
            l.posting.divisions = if i < 10 {
                vec!["440300".into(), "440000".into()]
            } else {
                vec!["310000".into()]
            };
            leads.push(l);
        }
        // Filed over time, so that the listing order is by time.
        for (i, l) in leads.iter().enumerate() {
            s.q.upsert(
                std::slice::from_ref(l),
                &format!("2026-11-01T00:{i:02}:00Z"),
            )
            .unwrap();
        }
        let ids = |f: &Filter| -> Vec<String> {
            s.q.list(f)
                .unwrap()
                .into_iter()
                .map(|r| r.lead.lead_id)
                .collect()
        };
        let f = |g: fn(&mut Filter)| {
            let mut f = Filter::default();
            g(&mut f);
            f
        };
        assert_eq!(ids(&f(|f| f.source = Some("site-a".into()))).len(), 15);
        assert_eq!(ids(&f(|f| f.publisher = Some("pub-3".into()))).len(), 6);
        assert_eq!(
            ids(&f(|f| f.region = Some("440000".into()))).len(),
            10,
            "a province holds its cities"
        );
        assert_eq!(ids(&f(|f| f.region = Some("310000".into()))).len(), 20);
        assert_eq!(
            ids(&f(|f| f.rule = Some("FEE-DEPOSIT-001".into()))).len(),
            10
        );
        let both = f(|f| {
            f.rule = Some("FEE-DEPOSIT-001".into());
            f.region = Some("440300".into());
        });
        assert_eq!(ids(&both), ["l09", "l06", "l03", "l00"], "{}", s.name);

        let by_source = s.q.counts(&Filter::default(), Facet::Source).unwrap();
        assert_eq!(by_source, [("site-a".into(), 15), ("site-b".into(), 15)]);
        let by_region =
            s.q.counts(&f(|f| f.source = Some("site-a".into())), Facet::Region)
                .unwrap();
        assert_eq!(
            by_region,
            [
                ("310000".into(), 10),
                ("440000".into(), 5),
                ("440300".into(), 5)
            ],
            "{}",
            s.name
        );
        let whole = s.q.counts(&Filter::default(), Facet::Region).unwrap();
        assert_eq!(
            whole,
            [
                ("310000".into(), 20),
                ("440000".into(), 10),
                ("440300".into(), 10)
            ]
        );
        let by_rule = s.q.counts(&Filter::default(), Facet::Rule).unwrap();
        assert_eq!(
            by_rule,
            [
                ("DISC-GENDER-001".into(), 20),
                ("FEE-DEPOSIT-001".into(), 10)
            ]
        );
        let by_verdict = s.q.counts(&Filter::default(), Facet::Verdict).unwrap();
        assert_eq!(by_verdict, [("none".into(), 30)]);

        // Pages of 7: a lead filed between two pages does not shift the next one.
        let mut seen = Vec::new();
        let mut page = f(|f| f.limit = Some(7));
        loop {
            let rows = s.q.list(&page).unwrap();
            if seen.is_empty() {
                s.q.upsert(&[lead("late", None, &["押金"])], "2026-11-02T00:00:00Z")
                    .unwrap();
            }
            let Some(last) = rows.last() else { break };
            page.after = Some(Cursor::after(last));
            seen.extend(rows.iter().map(|r| r.lead.lead_id.clone()));
        }
        let expected: Vec<String> = (0..30).rev().map(|i| format!("l{i:02}")).collect();
        assert_eq!(seen, expected, "{}", s.name);
        let c: Cursor = page.after.unwrap().to_string().parse().unwrap();
        assert_eq!(c.lead_id, "l00");
        assert!("nonsense".parse::<Cursor>().is_err());
    });
}

#[test]
fn every_order_pages_whole_by_its_cursor() {
    on_both(|s| {
        // Two leads a second, so that ties of time are broken by id.
        for i in 0..30 {
            let mut l = lead(&format!("o{i:02}"), None, &["押金"]);
            l.severity = Severity::ALL[i % Severity::ALL.len()];
            s.q.upsert(&[l], &format!("2026-11-01T00:00:{:02}Z", i / 2))
                .unwrap();
        }
        for order in Order::ALL.iter().copied() {
            let whole =
                s.q.list(&Filter {
                    order,
                    ..Filter::default()
                })
                .unwrap();
            assert_eq!(whole.len(), 30);
            let key = |r: &LeadRow| (r.lead.severity, r.first_seen.clone());
            for w in whole.windows(2) {
                let (a, b) = (key(&w[0]), key(&w[1]));
                match order {
                    Order::Newest => assert!(a.1 >= b.1),
                    Order::Oldest => assert!(a.1 <= b.1),
                    Order::Severity => assert!(a.0 >= b.0 && (a.0 > b.0 || a.1 >= b.1)),
                }
            }
            let mut page = Filter {
                order,
                limit: Some(4),
                ..Filter::default()
            };
            let mut paged = Vec::new();
            loop {
                let rows = s.q.list(&page).unwrap();
                let Some(last) = rows.last() else { break };
                let cursor = Cursor::after_in(last, order);
                // As the console's links and `leads list` write it, and read back.
                page.after = Some(cursor.to_string().parse().unwrap());
                paged.extend(rows.iter().map(|r| r.lead.lead_id.clone()));
            }
            let expected: Vec<String> = whole.iter().map(|r| r.lead.lead_id.clone()).collect();
            assert_eq!(paged, expected, "{} {order}", s.name);
        }
        // A cursor of one order does not page another.
        let rows = s.q.list(&Filter::default()).unwrap();
        let by_time = Cursor::after(&rows[3]);
        let refused = s.q.list(&Filter {
            order: Order::Severity,
            after: Some(by_time),
            ..Filter::default()
        });
        assert!(format!("{:#}", refused.unwrap_err()).contains("severity"));

        let cells = s.q.category_severity_counts(&Filter::default()).unwrap();
        assert_eq!(cells.iter().map(|c| c.2).sum::<u64>(), 30);
        assert_eq!(cells.len(), Severity::ALL.len(), "{cells:?}");
    });
}

#[test]
fn a_grown_sqlite_queue_is_analysed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let q = CaseQueue::open(&path).unwrap();
    let leads: Vec<Lead> = (0..1500)
        .map(|i| lead(&format!("s{i:04}"), None, &["押金"]))
        .collect();
    q.upsert(&leads, "2026-11-01T00:00:00Z").unwrap();
    drop(q);
    let analysed = |p: &std::path::Path| {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row(
                "SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE idx = 'leads_source'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ok()
    };
    assert_eq!(analysed(&path), None, "a new queue is not analysed");
    drop(CaseQueue::open(&path).unwrap());
    assert_eq!(
        analysed(&path),
        Some(1500),
        "the planner knows the queue's size"
    );
}
