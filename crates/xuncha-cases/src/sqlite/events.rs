//! Who did what to a lead, and when: the append-only `lead_events` log.
//!
//! A lead that becomes a case needs its history to stand up in an administrative penalty
//! procedure, so every change of status, assignee or verdict, every note, every recheck,
//! the filing itself and a re-sighting of a closed lead is a row that is never updated or
//! deleted: triggers in the database refuse both, whoever asks. The evidence a lead was
//! filed with is likewise never rewritten (a trigger refuses it too).

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::case_queue::{CaseQueue, Status};

/// The longest actor name and note accepted: a case file line, not a document.
pub const MAX_ACTOR_CHARS: usize = 100;
/// The longest note accepted.
pub const MAX_NOTE_CHARS: usize = 4000;

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS lead_events (
    id         INTEGER PRIMARY KEY,
    lead_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL
               CHECK (action IN ('filed', 'seen_again', 'status', 'assign', 'verdict', 'note', 'recheck')),
    from_value TEXT,
    to_value   TEXT,
    note       TEXT
);
CREATE INDEX IF NOT EXISTS lead_events_lead ON lead_events (lead_id, id);
CREATE TRIGGER IF NOT EXISTS lead_events_append_only_update BEFORE UPDATE ON lead_events
BEGIN SELECT RAISE(ABORT, 'lead_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS lead_events_append_only_delete BEFORE DELETE ON lead_events
BEGIN SELECT RAISE(ABORT, 'lead_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS leads_never_deleted BEFORE DELETE ON leads
BEGIN SELECT RAISE(ABORT, 'leads are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS leads_evidence_fixed
BEFORE UPDATE OF lead_id, posting_id, category, severity, score, url, rules_version, first_seen, lead_json ON leads
BEGIN SELECT RAISE(ABORT, 'a lead''s evidence is never rewritten'); END;
"#;

xuncha_core::str_enum! {
    /// An analyst's judgement of a lead, kept apart from where the lead is in the workflow.
    pub enum Verdict("verdict") {
        /// The lead is a violation.
        Confirmed => "confirmed",
        /// The lead is not a violation.
        FalsePositive => "false_positive",
    }
}

/// What an analyst does to a lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Move it in the workflow (`new` reopens it).
    Status(Status),
    /// Give it to someone; the status becomes `assigned` if it was `new`.
    Assign(String),
    /// Judge it; a false positive is also closed.
    Verdict(Verdict),
    /// Only write a note.
    Note,
}

/// One entry of a lead's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// When, RFC 3339.
    pub at: String,
    /// Who: an analyst's name, or the process (`scan`, `recheck`).
    pub actor: String,
    /// `filed`, `seen_again`, `status`, `assign`, `verdict`, `note` or `recheck`.
    pub action: String,
    /// The value before, for a change.
    pub from: Option<String>,
    /// The value after, for a change; the outcome, for a recheck.
    pub to: Option<String>,
    /// The analyst's note.
    pub note: Option<String>,
}

/// Appends one event.
pub(super) fn append(
    tx: &Transaction<'_>,
    lead_id: &str,
    at: &str,
    actor: &str,
    action: &str,
    (from, to): (Option<&str>, Option<&str>),
    note: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO lead_events (lead_id, at, actor, action, from_value, to_value, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![lead_id, at, actor, action, from, to, note])?;
    Ok(())
}

fn check_text(what: &str, s: &str, max: usize) -> anyhow::Result<()> {
    anyhow::ensure!(!s.trim().is_empty(), "the {what} is empty");
    let n = s.chars().count();
    anyhow::ensure!(
        n <= max,
        "the {what} has {n} characters; at most {max} are kept"
    );
    Ok(())
}

impl CaseQueue {
    /// Applies `change` to a lead as `actor`, with an optional note, in one transaction, and
    /// returns the events it wrote; `None` if there is no such lead. A change to what the
    /// lead already is writes no change event (a note, if given, is still kept).
    pub fn change(
        &self,
        lead_id: &str,
        change: &Change,
        actor: &str,
        note: Option<&str>,
        at: &str,
    ) -> anyhow::Result<Option<Vec<Event>>> {
        check_text("actor name", actor, MAX_ACTOR_CHARS)?;
        if let Some(n) = note {
            check_text("note", n, MAX_NOTE_CHARS)?;
        }
        if let Change::Assign(to) = change {
            check_text("assignee name", to, MAX_ACTOR_CHARS)?;
        }
        anyhow::ensure!(
            note.is_some() || *change != Change::Note,
            "a note needs its text"
        );
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some((status, assignee, verdict)) = tx
            .query_row(
                "SELECT status, assigned_to, verdict FROM leads WHERE lead_id = ?1",
                [lead_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()?
        else {
            return Ok(None);
        };
        // (action, column, from, to) of each attribute that moves.
        let mut moves: Vec<(&str, &str, Option<String>, String)> = Vec::new();
        let status_to = |to: Status, moves: &mut Vec<_>| {
            if status != to.as_str() {
                moves.push(("status", "status", Some(status.clone()), to.as_str().into()));
            }
        };
        match change {
            Change::Status(s) => status_to(*s, &mut moves),
            Change::Assign(who) => {
                if assignee.as_deref() != Some(who.as_str()) {
                    moves.push(("assign", "assigned_to", assignee.clone(), who.clone()));
                }
                if status == Status::New.as_str() {
                    status_to(Status::Assigned, &mut moves);
                }
            }
            Change::Verdict(v) => {
                if verdict.as_deref() != Some(v.as_str()) {
                    moves.push(("verdict", "verdict", verdict.clone(), v.as_str().into()));
                }
                if *v == Verdict::FalsePositive {
                    status_to(Status::Closed, &mut moves);
                }
            }
            Change::Note => {}
        }
        let mut written = Vec::new();
        for (i, (action, column, from, to)) in moves.iter().enumerate() {
            tx.execute(
                &format!("UPDATE leads SET {column} = ?2 WHERE lead_id = ?1"),
                params![lead_id, to],
            )?;
            // The note goes with the first change it explains.
            let note = if i == 0 { note } else { None };
            append(
                &tx,
                lead_id,
                at,
                actor,
                action,
                (from.as_deref(), Some(to)),
                note,
            )?;
            written.push(Event {
                at: at.into(),
                actor: actor.into(),
                action: (*action).into(),
                from: from.clone(),
                to: Some(to.clone()),
                note: note.map(str::to_string),
            });
        }
        if moves.is_empty() {
            if let Some(n) = note {
                append(&tx, lead_id, at, actor, "note", (None, None), Some(n))?;
                written.push(Event {
                    at: at.into(),
                    actor: actor.into(),
                    action: "note".into(),
                    from: None,
                    to: None,
                    note: Some(n.into()),
                });
            }
        }
        tx.commit()?;
        Ok(Some(written))
    }

    /// A lead's timeline, oldest first.
    pub fn events(&self, lead_id: &str) -> anyhow::Result<Vec<Event>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT at, actor, action, from_value, to_value, note FROM lead_events
             WHERE lead_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([lead_id], |r| {
            Ok(Event {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                from: r.get(3)?,
                to: r.get(4)?,
                note: r.get(5)?,
            })
        })?;
        rows.map(|r| r.map_err(anyhow::Error::from)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::case_queue::tests::lead;
    use crate::sqlite::{Filter, Recheck, RecheckOutcome};

    fn queue() -> (tempfile::TempDir, CaseQueue) {
        let dir = tempfile::tempdir().unwrap();
        let q = CaseQueue::open(dir.path().join("q.db")).unwrap();
        q.upsert(
            &[lead("a", Some("http://x.example/1"), &["限男性"])],
            "2026-11-01T00:00:00Z",
        )
        .unwrap();
        (dir, q)
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

    #[test]
    fn every_change_is_an_event_with_its_actor_and_the_verdict_stands_apart() {
        let (_d, q) = queue();
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
            actions(&q),
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
    }

    #[test]
    fn a_false_positive_is_closed_and_a_closed_lead_seen_again_stays_closed() {
        let (_d, q) = queue();
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
        assert_eq!(actions(&q).last().unwrap(), "scan seen_again →");
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
        assert_eq!(actions(&q).last().unwrap(), "recheck recheck →online");
    }

    #[test]
    fn events_and_evidence_cannot_be_rewritten_or_deleted() {
        let (_d, q) = queue();
        let conn = q.conn();
        for sql in [
            "UPDATE lead_events SET actor = 'x'",
            "DELETE FROM lead_events",
            "DELETE FROM leads",
            "UPDATE leads SET lead_json = '{}'",
            "UPDATE leads SET category = 'fee.other'",
        ] {
            let e = conn.execute(sql, []).unwrap_err().to_string();
            assert!(
                e.contains("append-only") || e.contains("never"),
                "{sql}: {e}"
            );
        }
        conn.execute("UPDATE leads SET status = 'assigned'", [])
            .expect("the workflow columns move");
    }

    #[test]
    fn names_and_notes_are_bounded() {
        let (_d, q) = queue();
        let t = "2026-11-02T09:00:00Z";
        let long = "长".repeat(MAX_NOTE_CHARS + 1);
        let e = q
            .change("a", &Change::Note, "张三", Some(&long), t)
            .unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        assert!(q.change("a", &Change::Note, " ", Some("x"), t).is_err());
        assert!(q.change("a", &Change::Note, "张三", None, t).is_err());
        assert_eq!(q.events("a").unwrap().len(), 1, "only the filing");
    }

    #[test]
    fn an_old_false_positive_status_becomes_a_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        {
            let q = CaseQueue::open(&path).unwrap();
            q.upsert(&[lead("a", None, &["押金"])], "2026-11-01T00:00:00Z")
                .unwrap();
            q.conn()
                .execute(
                    "UPDATE leads SET status = 'false_positive', verdict = NULL",
                    [],
                )
                .unwrap();
        }
        let q = CaseQueue::open(&path).unwrap();
        let row = q.get("a").unwrap().unwrap();
        assert_eq!(row.status, Status::Closed);
        assert_eq!(row.verdict, Some(Verdict::FalsePositive));
    }
}
