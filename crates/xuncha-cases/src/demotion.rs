//! Rules that learn from verdicts: a rule whose precision the analysts' verdicts put below
//! a floor is demoted, and its new leads are filed `under_review` and not alerted, until
//! an admin lifts the demotion.
//!
//! The test runs when a verdict is recorded, in the verdict's own transaction, for each
//! rule of the judged lead: over the leads first seen in the window (and after the rule's
//! last lift), with at least `min_verdicts` of them judged, the upper bound of the Wilson
//! 95% interval of confirmed / judged below `floor` demotes the rule. The upper bound, not
//! the point estimate: a demotion silences alerts, so it waits until the verdicts leave
//! little doubt that the rule is worse than the floor (9 confirmed of 20 is a point
//! estimate of 0.45, but as likely a rule of 0.5 or better having a bad month).
//!
//! Where each rule stands is one row of `rule_standing`, changed only by a conditional
//! write (so two verdicts at once demote a rule once); every demotion and lift is a row of
//! the append-only `rule_events`, with its reason and the figures it rested on.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use xuncha_core::{rfc3339_seconds, Lead};

use crate::db::{col, Tx};
use crate::events::{check_text, MAX_ACTOR_CHARS, MAX_NOTE_CHARS};
use crate::queue::CaseQueue;
use crate::rule_stats::{verdicts_of, Interval, Verdicts};

/// The `[demotion]` settings: when verdicts demote a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemotionPolicy {
    /// Whether verdicts demote rules at all.
    pub enabled: bool,
    /// A rule is demoted when the upper bound of its precision's 95% interval falls below
    /// this (0..1).
    pub floor: f64,
    /// …over at least this many verdicts.
    pub min_verdicts: u64,
    /// …on leads first seen within this long before the verdict (`"90d"`).
    #[serde(
        deserialize_with = "xuncha_core::deserialize_duration",
        serialize_with = "xuncha_core::serialize_duration"
    )]
    pub window: Duration,
}

impl Default for DemotionPolicy {
    fn default() -> Self {
        DemotionPolicy {
            enabled: true,
            floor: 0.5,
            min_verdicts: 20,
            window: Duration::from_secs(90 * 86_400),
        }
    }
}

impl DemotionPolicy {
    /// Refuses settings that cannot mean anything, naming them.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.floor),
            "demotion.floor is a precision, between 0 and 1, not {}",
            self.floor
        );
        anyhow::ensure!(
            self.min_verdicts >= 1,
            "demotion.min_verdicts must be at least 1"
        );
        anyhow::ensure!(
            !self.window.is_zero(),
            "demotion.window must be longer than 0"
        );
        Ok(())
    }

    /// Whether `v` demotes a rule under this policy.
    pub fn demotes(&self, v: &Verdicts) -> bool {
        self.enabled
            && v.judged() >= self.min_verdicts
            && v.interval().is_some_and(|i| i.high < self.floor)
    }
}

xuncha_core::str_enum! {
    /// What happened to a rule's standing.
    pub enum RuleAction("rule action") {
        /// Verdicts put its precision below the floor.
        Demoted => "demoted",
        /// An admin lifted the demotion.
        Lifted => "lifted",
    }
}

/// One demotion or lift, with the figures it rested on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleEvent {
    /// The rule.
    pub rule_id: String,
    /// When, RFC 3339.
    pub at: String,
    /// Who: `system` for a demotion, the admin for a lift.
    pub actor: String,
    /// Demoted or lifted.
    pub action: RuleAction,
    /// Why: the figures in words for a demotion, the admin's note for a lift.
    pub note: String,
    /// The leads counted (first seen from `counted_from`) and their verdicts.
    pub verdicts: Verdicts,
    /// The precision's Wilson 95% interval over them.
    pub interval: Option<Interval>,
    /// The floor in force.
    pub floor: f64,
    /// The fewest verdicts in force.
    pub min_verdicts: u64,
    /// Leads first seen from then on were counted: the window's start, or the last lift.
    pub counted_from: String,
}

/// What a demotion test counts for a rule: the verdicts on its leads first seen from
/// `from` on.
struct Counted {
    verdicts: Verdicts,
    from: String,
}

/// Counts for `rule_id` from the window's start, or from its last lift if later.
fn count(tx: &mut dyn Tx, rule_id: &str, window_from: &str) -> anyhow::Result<Counted> {
    let from = counted_from(tx, rule_id, window_from)?;
    Ok(Counted {
        verdicts: verdicts_of(tx, rule_id, &from)?,
        from,
    })
}

impl RuleEvent {
    /// An event of `rule_id` resting on `counted`, under `policy`.
    fn new(
        rule_id: &str,
        at: &str,
        actor: &str,
        action: RuleAction,
        note: String,
        counted: Counted,
        policy: &DemotionPolicy,
    ) -> RuleEvent {
        RuleEvent {
            rule_id: rule_id.to_string(),
            at: at.to_string(),
            actor: actor.to_string(),
            action,
            note,
            interval: counted.verdicts.interval(),
            verdicts: counted.verdicts,
            floor: policy.floor,
            min_verdicts: policy.min_verdicts,
            counted_from: counted.from,
        }
    }
}

/// Rules demoted at most this many: a read of the demoted set is bounded, and a store
/// with more (there are a few hundred rules) treats the rest as standing.
const MAX_DEMOTED_RULES: usize = 10_000;

/// How long an answer to "which rules are demoted" is reused by the alerts. A demotion or
/// lift made by this process, and every filing, refreshes it at once; one made by another
/// process reaches this one's alerts within this long.
pub const DEMOTIONS_FRESH_FOR: Duration = Duration::from_secs(10);

/// The demoted rules, as last read.
#[derive(Default)]
pub(crate) struct DemotedCache(Mutex<Option<(Instant, Arc<HashSet<String>>)>>);

impl DemotedCache {
    fn fresh(&self) -> Option<Arc<HashSet<String>>> {
        let held = xuncha_core::lock(&self.0);
        held.as_ref()
            .filter(|(at, _)| at.elapsed() < DEMOTIONS_FRESH_FOR)
            .map(|(_, set)| set.clone())
    }

    pub(crate) fn put(&self, set: Arc<HashSet<String>>) {
        *xuncha_core::lock(&self.0) = Some((Instant::now(), set));
    }

    pub(crate) fn forget(&self) {
        *xuncha_core::lock(&self.0) = None;
    }
}

/// The rules demoted now, read in `tx`.
pub(crate) fn read_demoted(tx: &mut dyn Tx) -> anyhow::Result<HashSet<String>> {
    let rows = tx.query(
        &format!(
            "SELECT rule_id FROM rule_standing WHERE demoted = 1 ORDER BY rule_id LIMIT {}",
            MAX_DEMOTED_RULES + 1
        ),
        &[],
    )?;
    if rows.len() > MAX_DEMOTED_RULES {
        tracing::warn!(
            "more than {MAX_DEMOTED_RULES} rules are demoted; the rest are treated as standing"
        );
    }
    rows.into_iter()
        .take(MAX_DEMOTED_RULES)
        .map(|mut r| col(&mut r)?.text())
        .collect()
}

/// `at - window` to the second, the start of what a demotion counts.
fn window_start(at: &str, window: Duration) -> anyhow::Result<String> {
    let t = OffsetDateTime::parse(at, &Rfc3339)
        .with_context(|| format!("the time of a verdict, `{at}`, is not RFC 3339"))?;
    Ok(rfc3339_seconds(t - window))
}

/// Where counting starts for `rule_id`: the window's start, or its last lift if later.
fn counted_from(tx: &mut dyn Tx, rule_id: &str, window_from: &str) -> anyhow::Result<String> {
    let lifted = tx
        .query_opt(
            "SELECT lifted_at FROM rule_standing WHERE rule_id = $1",
            &[rule_id.into()],
        )?
        .map(|mut r| col(&mut r)?.opt_text())
        .transpose()?
        .flatten();
    Ok(match lifted {
        Some(l) if l.as_str() > window_from => l,
        _ => window_from.to_string(),
    })
}

fn append_event(tx: &mut dyn Tx, e: &RuleEvent) -> anyhow::Result<()> {
    tx.exec(
        "INSERT INTO rule_events (rule_id, at, actor, action, note, leads, confirmed, false_positives,
                                  floor_value, min_verdicts, counted_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            (&e.rule_id).into(),
            (&e.at).into(),
            (&e.actor).into(),
            e.action.as_str().into(),
            (&e.note).into(),
            (e.verdicts.leads as i64).into(),
            (e.verdicts.confirmed as i64).into(),
            (e.verdicts.false_positives as i64).into(),
            e.floor.into(),
            (e.min_verdicts as i64).into(),
            (&e.counted_from).into(),
        ],
    )?;
    Ok(())
}

/// The figures in words: what a demotion records as its reason.
fn reason(v: &Verdicts, policy: &DemotionPolicy, from: &str) -> String {
    let i = v.interval().unwrap_or(Interval {
        low: 0.0,
        high: 1.0,
    });
    format!(
        "precision {:.2} (95% interval {:.2}–{:.2}) over {} verdicts ({} confirmed, {} false \
         positives) on {} leads first seen since {from}: the upper bound is below the floor {:.2}",
        v.precision().unwrap_or(0.0),
        i.low,
        i.high,
        v.judged(),
        v.confirmed,
        v.false_positives,
        v.leads,
        policy.floor
    )
}

/// After a verdict on `lead`: demotes each of its rules that the verdicts now put below
/// the floor and that stands, and returns their events.
pub(crate) fn after_verdict(
    tx: &mut dyn Tx,
    policy: &DemotionPolicy,
    lead: &Lead,
    actor: &str,
    at: &str,
) -> anyhow::Result<Vec<RuleEvent>> {
    if !policy.enabled {
        return Ok(Vec::new());
    }
    let window_from = window_start(at, policy.window)?;
    let mut demoted = Vec::new();
    for rule in lead.rule_ids() {
        let counted = count(tx, rule, &window_from)?;
        if !policy.demotes(&counted.verdicts) {
            continue;
        }
        // Only a rule that stands is demoted: the write is conditional, so of two verdicts
        // committed at once only one demotes and records it.
        let changed = tx.exec(
            "INSERT INTO rule_standing (rule_id, demoted, since) VALUES ($1, 1, $2)
             ON CONFLICT (rule_id) DO UPDATE SET demoted = 1, since = excluded.since
             WHERE rule_standing.demoted = 0",
            &[rule.into(), at.into()],
        )?;
        if changed == 0 {
            continue;
        }
        let note = format!(
            "{}; on a verdict by {actor} on lead {}",
            reason(&counted.verdicts, policy, &counted.from),
            lead.lead_id
        );
        let e = RuleEvent::new(
            rule,
            at,
            "system",
            RuleAction::Demoted,
            note,
            counted,
            policy,
        );
        append_event(tx, &e)?;
        tracing::info!(rule = rule, reason = %e.note, "rule demoted");
        demoted.push(e);
    }
    Ok(demoted)
}

impl CaseQueue {
    /// The rules demoted now, from a cache at most [`DEMOTIONS_FRESH_FOR`] old.
    pub fn demoted_rules(&self) -> anyhow::Result<Arc<HashSet<String>>> {
        if let Some(set) = self.demoted_cache.fresh() {
            return Ok(set);
        }
        let set = Arc::new(self.db.tx(|tx| read_demoted(tx))?);
        self.demoted_cache.put(set.clone());
        Ok(set)
    }

    /// Lifts the demotion of `rule_id` as `actor` (an admin), with a note saying why. Its
    /// new leads are filed and alerted as usual from now on, and only verdicts on leads
    /// first seen after this lift count towards demoting it again. `None` if the rule is
    /// not demoted.
    pub fn lift_demotion(
        &self,
        rule_id: &str,
        actor: &str,
        note: &str,
        at: &str,
    ) -> anyhow::Result<Option<RuleEvent>> {
        check_text("actor name", actor, MAX_ACTOR_CHARS)?;
        check_text("note", note, MAX_NOTE_CHARS)?;
        let policy = self.demotion.clone();
        let window_from = window_start(at, policy.window)?;
        let event = self.db.tx(|tx| {
            // Figures first: the lift records what it was lifted against.
            let counted = count(tx, rule_id, &window_from)?;
            let changed = tx.exec(
                "UPDATE rule_standing SET demoted = 0, since = $2, lifted_at = $2
                 WHERE rule_id = $1 AND demoted = 1",
                &[rule_id.into(), at.into()],
            )?;
            if changed == 0 {
                return Ok(None);
            }
            let e = RuleEvent::new(
                rule_id,
                at,
                actor,
                RuleAction::Lifted,
                note.to_string(),
                counted,
                &policy,
            );
            append_event(tx, &e)?;
            Ok(Some(e))
        })?;
        self.demoted_cache.forget();
        Ok(event)
    }

    /// The demotions and lifts of `rule_id` (of every rule when `None`), newest first, at
    /// most `limit`.
    pub fn rule_events(
        &self,
        rule_id: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Vec<RuleEvent>> {
        let (filter, args) = match rule_id {
            Some(r) => (" WHERE rule_id = $1", vec![r.into()]),
            None => ("", vec![]),
        };
        let sql = format!(
            "SELECT rule_id, at, actor, action, note, leads, confirmed, false_positives,
                    floor_value, min_verdicts, counted_from
             FROM rule_events{filter} ORDER BY id DESC LIMIT {limit}"
        );
        let rows = self.db.tx(|tx| tx.query(&sql, &args))?;
        rows.into_iter()
            .map(|mut r| {
                let rule_id = col(&mut r)?.text()?;
                let at = col(&mut r)?.text()?;
                let actor = col(&mut r)?.text()?;
                let action = col(&mut r)?
                    .text()?
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!(e))?;
                let note = col(&mut r)?.text()?;
                let mut n = || -> anyhow::Result<u64> { Ok(col(&mut r)?.int()?.max(0) as u64) };
                let verdicts = Verdicts {
                    leads: n()?,
                    confirmed: n()?,
                    false_positives: n()?,
                };
                let floor = match col(&mut r)? {
                    crate::db::Value::Real(x) => x,
                    other => other.int()? as f64,
                };
                Ok(RuleEvent {
                    rule_id,
                    at,
                    actor,
                    action,
                    note,
                    interval: verdicts.interval(),
                    verdicts,
                    floor,
                    min_verdicts: col(&mut r)?.int()?.max(0) as u64,
                    counted_from: col(&mut r)?.text()?,
                })
            })
            .collect()
    }

    /// The demotion settings verdicts are judged by.
    pub fn demotion_policy(&self) -> &DemotionPolicy {
        &self.demotion
    }
}

impl xuncha_pipeline::webhook::Demotions for CaseQueue {
    fn demoted_rules(&self) -> anyhow::Result<Arc<HashSet<String>>> {
        CaseQueue::demoted_rules(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(confirmed: u64, false_positives: u64) -> Verdicts {
        Verdicts {
            leads: confirmed + false_positives,
            confirmed,
            false_positives,
        }
    }

    #[test]
    fn the_upper_bound_must_fall_below_the_floor_over_enough_verdicts() {
        let p = DemotionPolicy::default();
        assert!(p.demotes(&v(0, 20)));
        assert!(!p.demotes(&v(0, 19)), "fewer than min_verdicts");
        // 5 of 20: point 0.25, upper bound 0.47 < 0.5.
        assert!(p.demotes(&v(5, 15)));
        // 6 of 20: point 0.30 but upper bound 0.52: not yet.
        assert!(!p.demotes(&v(6, 14)));
        // 9 of 20 is a point estimate below the floor, and no demotion.
        assert!(!p.demotes(&v(9, 11)));
        // Many verdicts narrow the interval: 40 of 100 is demoted, 45 of 100 not yet.
        assert!(!p.demotes(&v(45, 55)));
        assert!(p.demotes(&v(40, 60)));
        let off = DemotionPolicy {
            enabled: false,
            ..p
        };
        assert!(!off.demotes(&v(0, 100)));
    }

    #[test]
    fn nonsense_settings_are_refused_by_name() {
        let bad = |p: DemotionPolicy| p.validate().unwrap_err().to_string();
        assert!(bad(DemotionPolicy {
            floor: 1.5,
            ..DemotionPolicy::default()
        })
        .contains("demotion.floor"));
        assert!(bad(DemotionPolicy {
            min_verdicts: 0,
            ..DemotionPolicy::default()
        })
        .contains("demotion.min_verdicts"));
        assert!(bad(DemotionPolicy {
            window: Duration::ZERO,
            ..DemotionPolicy::default()
        })
        .contains("demotion.window"));
        DemotionPolicy::default().validate().unwrap();
    }

    #[test]
    fn the_window_starts_a_window_before_the_verdict() {
        assert_eq!(
            window_start("2026-12-01T08:00:00.5+08:00", Duration::from_secs(86_400)).unwrap(),
            "2026-11-30T00:00:00Z"
        );
        assert!(window_start("yesterday", Duration::from_secs(1)).is_err());
    }
}
