//! What the analysts' verdicts say of each rule: its leads over a window, how many were
//! confirmed, dismissed as false positives or not judged yet, and its precision with a
//! Wilson 95% interval. One aggregate query over the `lead_rules` facet table, which keeps
//! each lead's first sighting and verdict beside each rule that found it (in the index
//! `lead_rules_verdicts`), a page of rules at a time.

use serde::Serialize;

use crate::db::{col, Row, Tx};
use crate::queue::CaseQueue;

/// The normal quantile of a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A confidence interval of a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The Wilson score interval (95%) of `successes` out of `n`; `None` when `n` is 0.
///
/// Unlike the normal approximation it stays within 0..1 and is honest for small `n` and
/// for proportions near 0 or 1, which is where a noisy rule's precision is read: 0 of 20
/// is not "precision 0 ± 0" but at most 0.16.
///
/// ```
/// use xuncha_cases::wilson;
/// let i = wilson(0, 20).unwrap();
/// assert_eq!(i.low, 0.0);
/// assert!((i.high - 0.1611).abs() < 1e-4);
/// assert!(wilson(0, 0).is_none());
/// ```
pub fn wilson(successes: u64, n: u64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let p = successes.min(n as u64) as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// Confirmed and false-positive counts of a rule's leads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Verdicts {
    /// Leads with a finding of the rule.
    pub leads: u64,
    /// Of them, confirmed violations.
    pub confirmed: u64,
    /// Of them, dismissed as false positives.
    pub false_positives: u64,
}

impl Verdicts {
    /// Leads judged either way.
    pub fn judged(&self) -> u64 {
        self.confirmed + self.false_positives
    }

    /// Leads not judged yet.
    pub fn undecided(&self) -> u64 {
        self.leads.saturating_sub(self.judged())
    }

    /// confirmed / (confirmed + false positives); `None` before any verdict.
    pub fn precision(&self) -> Option<f64> {
        (self.judged() > 0).then(|| self.confirmed as f64 / self.judged() as f64)
    }

    /// The Wilson 95% interval of the precision.
    pub fn interval(&self) -> Option<Interval> {
        wilson(self.confirmed, self.judged())
    }
}

/// One rule's figures, as `xuncha rules stats` and the console's rules page show them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleStats {
    /// The rule.
    pub rule_id: String,
    /// Leads first seen in the window with a finding of the rule.
    pub leads: u64,
    /// Of them, confirmed.
    pub confirmed: u64,
    /// Of them, false positives.
    pub false_positives: u64,
    /// Of them, not judged yet.
    pub undecided: u64,
    /// confirmed / (confirmed + false positives), none before any verdict.
    pub precision: Option<f64>,
    /// Its Wilson 95% interval.
    pub interval: Option<Interval>,
    /// Whether the rule is demoted now.
    pub demoted: bool,
    /// When it was demoted, or when its last demotion was lifted.
    pub standing_since: Option<String>,
    /// When its last demotion was lifted.
    pub lifted_at: Option<String>,
}

impl RuleStats {
    pub(crate) fn of(
        rule_id: String,
        v: Verdicts,
        standing: (bool, Option<String>, Option<String>),
    ) -> Self {
        RuleStats {
            rule_id,
            leads: v.leads,
            confirmed: v.confirmed,
            false_positives: v.false_positives,
            undecided: v.undecided(),
            precision: v.precision(),
            interval: v.interval(),
            demoted: standing.0,
            standing_since: standing.1,
            lifted_at: standing.2,
        }
    }
}

/// The three counts of the query's next columns (`COUNT`, then two `SUM`s that are NULL
/// over no row).
fn verdicts(r: &mut Row) -> anyhow::Result<Verdicts> {
    let n = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
    Ok(Verdicts {
        leads: n(col(r)?.opt_int()?),
        confirmed: n(col(r)?.opt_int()?),
        false_positives: n(col(r)?.opt_int()?),
    })
}

/// The verdict counts of one rule's leads first seen at or after `from`.
pub(crate) fn verdicts_of(tx: &mut dyn Tx, rule_id: &str, from: &str) -> anyhow::Result<Verdicts> {
    let mut row = tx
        .query_opt(
            "SELECT COUNT(*),
                    SUM(CASE WHEN lead_verdict = 'confirmed' THEN 1 ELSE 0 END),
                    SUM(CASE WHEN lead_verdict = 'false_positive' THEN 1 ELSE 0 END)
             FROM lead_rules WHERE rule_id = $1 AND lead_first_seen >= $2",
            &[rule_id.into(), from.into()],
        )?
        .ok_or_else(|| anyhow::anyhow!("an aggregate returned no row"))?;
    verdicts(&mut row)
}

impl CaseQueue {
    /// The figures of every rule with a lead first seen at or after `since` (RFC 3339), and
    /// of every rule ever demoted, by rule id: at most `limit` rules after the rule
    /// `after` (the next page starts after the last rule shown).
    pub fn rule_stats(
        &self,
        since: &str,
        after: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Vec<RuleStats>> {
        let sql = format!(
            "WITH w AS (
                 SELECT rule_id, COUNT(*) AS leads,
                        SUM(CASE WHEN lead_verdict = 'confirmed' THEN 1 ELSE 0 END) AS confirmed,
                        SUM(CASE WHEN lead_verdict = 'false_positive' THEN 1 ELSE 0 END) AS fps
                 FROM lead_rules
                 WHERE lead_first_seen >= $1 AND rule_id > $2
                 GROUP BY rule_id),
             k AS (SELECT rule_id FROM w
                   UNION SELECT rule_id FROM rule_standing WHERE rule_id > $2)
             SELECT k.rule_id, w.leads, w.confirmed, w.fps, s.demoted, s.since, s.lifted_at
             FROM k LEFT JOIN w ON w.rule_id = k.rule_id
                    LEFT JOIN rule_standing s ON s.rule_id = k.rule_id
             ORDER BY k.rule_id LIMIT {limit}"
        );
        let rows = self
            .db
            .tx(|tx| tx.query(&sql, &[since.into(), after.unwrap_or("").into()]))?;
        rows.into_iter()
            .map(|mut r| {
                let rule_id = col(&mut r)?.text()?;
                let v = verdicts(&mut r)?;
                let demoted = col(&mut r)?.opt_int()? == Some(1);
                let since = col(&mut r)?.opt_text()?;
                let lifted = col(&mut r)?.opt_text()?;
                Ok(RuleStats::of(rule_id, v, (demoted, since, lifted)))
            })
            .collect()
    }

    /// One rule's figures over the leads first seen at or after `since`, and where it
    /// stands (all zero for a rule without leads).
    pub fn rule_stats_of(&self, rule_id: &str, since: &str) -> anyhow::Result<RuleStats> {
        self.db.tx(|tx| {
            let v = verdicts_of(tx, rule_id, since)?;
            let standing = tx
                .query_opt(
                    "SELECT demoted, since, lifted_at FROM rule_standing WHERE rule_id = $1",
                    &[rule_id.into()],
                )?
                .map(|mut r| {
                    anyhow::Ok((
                        col(&mut r)?.int()? == 1,
                        col(&mut r)?.opt_text()?,
                        col(&mut r)?.opt_text()?,
                    ))
                })
                .transpose()?
                .unwrap_or((false, None, None));
            Ok(RuleStats::of(rule_id.to_string(), v, standing))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Reference values: Newcombe (1998), Statistics in Medicine 17, 857–872, table I
        // (Wilson score method without continuity correction).
        let close = |a: f64, b: f64| (a - b).abs() < 5e-5;
        let i = wilson(81, 263).unwrap();
        assert!(close(i.low, 0.2553) && close(i.high, 0.3662), "{i:?}");
        let i = wilson(15, 148).unwrap();
        assert!(close(i.low, 0.0624) && close(i.high, 0.1605), "{i:?}");
        let i = wilson(0, 20).unwrap();
        assert!(i.low == 0.0 && close(i.high, 0.1611), "{i:?}");
        let i = wilson(1, 29).unwrap();
        assert!(close(i.low, 0.0061) && close(i.high, 0.1718), "{i:?}");
    }

    #[test]
    fn wilson_stays_in_bounds_and_narrows_with_more_verdicts() {
        let all = wilson(20, 20).unwrap();
        assert!(
            all.high == 1.0 && all.low > 0.8 && all.low < 0.85,
            "{all:?}"
        );
        let few = wilson(5, 10).unwrap();
        let many = wilson(500, 1000).unwrap();
        assert!(few.low < many.low && many.high < few.high);
        assert!(few.low < 0.5 && 0.5 < few.high);
        assert!(wilson(3, 0).is_none());
        // More successes than trials is a caller's slip, not a probability above 1.
        assert!(wilson(5, 3).unwrap().high <= 1.0);
    }

    #[test]
    fn undecided_and_precision_follow_the_counts() {
        let v = Verdicts {
            leads: 10,
            confirmed: 3,
            false_positives: 1,
        };
        assert_eq!((v.judged(), v.undecided()), (4, 6));
        assert_eq!(v.precision(), Some(0.75));
        let none = Verdicts {
            leads: 4,
            ..Verdicts::default()
        };
        assert_eq!((none.precision(), none.interval()), (None, None));
    }
}
