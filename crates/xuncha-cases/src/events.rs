//! Who did what to a lead, and when: the append-only `lead_events` log.
//!
//! A lead that becomes a case needs its history to stand up in an administrative penalty
//! procedure, so every change of status, assignee or verdict, every note, every recheck,
//! the filing itself and a re-sighting of a closed lead is a row that is never updated or
//! deleted: triggers in the database refuse both, whoever asks. The evidence a lead was
//! filed with is likewise never rewritten (a trigger refuses it too).

use anyhow::Context;
use serde::Serialize;

use crate::db::{col, Tx};
use crate::demotion::{self, RuleEvent};
use crate::queue::{CaseQueue, Status};

/// The longest actor name and note accepted: a case file line, not a document.
pub const MAX_ACTOR_CHARS: usize = 100;
/// The longest note accepted.
pub const MAX_NOTE_CHARS: usize = 4000;

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
    /// Judge it; a false positive is also closed, a confirmed lead that was under review
    /// becomes new.
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

/// What a change did: the lead's events, and the rules its verdict demoted.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The events written to the lead's timeline.
    pub events: Vec<Event>,
    /// The demotions the verdict brought about (each rule of the lead is tested).
    pub demoted: Vec<RuleEvent>,
}

/// Appends one event.
pub(crate) fn append(
    tx: &mut dyn Tx,
    lead_id: &str,
    at: &str,
    actor: &str,
    action: &str,
    (from, to): (Option<&str>, Option<&str>),
    note: Option<&str>,
) -> anyhow::Result<()> {
    tx.exec(
        "INSERT INTO lead_events (lead_id, at, actor, action, from_value, to_value, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            lead_id.into(),
            at.into(),
            actor.into(),
            action.into(),
            from.into(),
            to.into(),
            note.into(),
        ],
    )?;
    Ok(())
}

/// Whether a change can be made as asked: names and notes within bounds, a note given
/// for a note.
pub(crate) fn check_change(change: &Change, actor: &str, note: Option<&str>) -> anyhow::Result<()> {
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
    Ok(())
}

/// [`CaseQueue::change`] within a transaction (`postgres`: lock the lead's row).
pub(crate) fn change_in(
    tx: &mut dyn Tx,
    postgres: bool,
    lead_id: &str,
    change: &Change,
    actor: &str,
    note: Option<&str>,
    at: &str,
) -> anyhow::Result<Option<Vec<Event>>> {
    // FOR UPDATE: a second analyst changing the same lead waits for the first and
    // then sees the first's change, never overwrites it unseen (SQLite's write lock
    // is taken when the transaction begins, which does the same).
    let lock = if postgres { " FOR UPDATE" } else { "" };
    let Some(mut row) = tx.query_opt(
        &format!("SELECT status, assigned_to, verdict FROM leads WHERE lead_id = $1{lock}"),
        &[lead_id.into()],
    )?
    else {
        return Ok(None);
    };
    let status = col(&mut row)?.text()?;
    let assignee = col(&mut row)?.opt_text()?;
    let verdict = col(&mut row)?.opt_text()?;
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
            // A lead waiting for review is taken up like a new one.
            if status == Status::New.as_str() || status == Status::UnderReview.as_str() {
                status_to(Status::Assigned, &mut moves);
            }
        }
        Change::Verdict(v) => {
            if verdict.as_deref() != Some(v.as_str()) {
                moves.push(("verdict", "verdict", verdict.clone(), v.as_str().into()));
            }
            if *v == Verdict::FalsePositive {
                status_to(Status::Closed, &mut moves);
            } else if status == Status::UnderReview.as_str() {
                status_to(Status::New, &mut moves);
            }
        }
        Change::Note => {}
    }
    let mut written = Vec::new();
    for (i, (action, column, from, to)) in moves.iter().enumerate() {
        tx.exec(
            &format!("UPDATE leads SET {column} = $2 WHERE lead_id = $1"),
            &[lead_id.into(), to.into()],
        )?;
        // The note goes with the first change it explains.
        let note = if i == 0 { note } else { None };
        append(
            tx,
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
            append(tx, lead_id, at, actor, "note", (None, None), Some(n))?;
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
    Ok(Some(written))
}

pub(crate) fn check_text(what: &str, s: &str, max: usize) -> anyhow::Result<()> {
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
        Ok(self
            .apply(lead_id, change, actor, note, at)?
            .map(|a| a.events))
    }

    /// [`CaseQueue::change`], also saying which rules a verdict demoted: a new verdict
    /// tests each rule of the lead against the demotion policy in the same transaction.
    pub fn apply(
        &self,
        lead_id: &str,
        change: &Change,
        actor: &str,
        note: Option<&str>,
        at: &str,
    ) -> anyhow::Result<Option<Applied>> {
        check_change(change, actor, note)?;
        let postgres = self.db.is_postgres();
        let applied = self.db.tx(|tx| {
            let Some(written) = change_in(tx, postgres, lead_id, change, actor, note, at)? else {
                return Ok(None);
            };
            let verdict_to = written
                .iter()
                .find(|e| e.action == "verdict")
                .and_then(|e| e.to.clone());
            let demoted = if let Some(v) = verdict_to {
                let mut row = tx
                    .query_opt(
                        "SELECT lead_json FROM leads WHERE lead_id = $1",
                        &[lead_id.into()],
                    )?
                    .context("the lead just changed")?;
                let lead: xuncha_core::Lead = serde_json::from_str(&col(&mut row)?.text()?)
                    .context("a stored lead's JSON")?;
                // The rules' figures read the verdict beside each rule of the lead.
                for rule in lead.rule_ids() {
                    tx.exec(
                        "UPDATE lead_rules SET lead_verdict = $3 WHERE rule_id = $1 AND lead_id = $2",
                        &[rule.into(), lead_id.into(), (&v).into()],
                    )?;
                }
                demotion::after_verdict(tx, &self.demotion, &lead, actor, at)?
            } else {
                Vec::new()
            };
            Ok(Some(Applied {
                events: written,
                demoted,
            }))
        })?;
        if applied.as_ref().is_some_and(|a| !a.demoted.is_empty()) {
            self.demoted_cache.forget();
        }
        Ok(applied)
    }

    /// The event of each lead's standing verdict (the last verdict given), by lead id; a
    /// lead without a verdict is left out. One transaction, one indexed read per lead.
    pub fn verdict_events(
        &self,
        lead_ids: &[&str],
    ) -> anyhow::Result<std::collections::HashMap<String, Event>> {
        self.db.tx(|tx| {
            let mut found = std::collections::HashMap::new();
            for id in lead_ids {
                let Some(mut r) = tx.query_opt(
                    "SELECT at, actor, action, from_value, to_value, note FROM lead_events
                     WHERE lead_id = $1 AND action = 'verdict' ORDER BY id DESC LIMIT 1",
                    &[(*id).into()],
                )?
                else {
                    continue;
                };
                found.insert(id.to_string(), event_row(&mut r)?);
            }
            Ok(found)
        })
    }

    /// A lead's timeline, oldest first.
    pub fn events(&self, lead_id: &str) -> anyhow::Result<Vec<Event>> {
        let rows = self.db.read(|tx| {
            tx.query(
                "SELECT at, actor, action, from_value, to_value, note FROM lead_events
                 WHERE lead_id = $1 ORDER BY id",
                &[lead_id.into()],
            )
        })?;
        rows.into_iter()
            .map(|mut r| event_row(&mut r))
            .collect::<anyhow::Result<_>>()
            .context("reading a lead's events")
    }
}

/// An event of the columns at, actor, action, from_value, to_value, note.
fn event_row(r: &mut crate::db::Row) -> anyhow::Result<Event> {
    Ok(Event {
        at: col(r)?.text()?,
        actor: col(r)?.text()?,
        action: col(r)?.text()?,
        from: col(r)?.opt_text()?,
        to: col(r)?.opt_text()?,
        note: col(r)?.opt_text()?,
    })
}
