//! The scanner: everything that turns one posting into its leads. The matcher's rules
//! run first; then the licence check (xuncha-registry) judges the publisher against the
//! licensed-agency registry (名录), and its verdict is merged into the one
//! `license.missing` lead of the posting, before the lead is written: a lead id is per
//! (posting, category), so two sources of evidence must make one lead, not two.
//!
//! The merge follows the registry where it knows better than the text: a publisher the
//! registry lists as licensed (or a public employment service) raises no `license.missing`
//! lead even if its posting reads like an agency's; an agency the registry does not list
//! raises one even if the text alone would not. Without a registry, the check only runs
//! on postings the rules already flagged, to add what the text itself says (申请中, 暂无)
//! and to record that no registry was consulted.

use std::sync::Arc;

use xuncha_core::OperatorRecord;
use xuncha_core::{
    lead_id, Category, Lead, LegalRef, LicenceLookup, Posting, PostingRef, Severity, Span,
};
use xuncha_matcher::{Matcher, SCANNER_VERSION};
use xuncha_registry::{Checker, LicenceCheck, Outcome, Registry};

/// Law keys (rules/laws.toml) of a licence verdict: the duty, and the article that
/// sanctions its breach (条例 Art. 18 → 42).
const NO_LICENCE_BASIS: [&str; 3] = ["HRM-18", "EPL-40", "NR44-LIC"];
const SCOPE_BASIS: [&str; 2] = ["NR44-LIC", "HR50-5"];
const PENALTY: &str = "HRM-42";

/// The law keys the licence verdicts and operator leads cite, none of which a rule names.
pub(crate) fn verdict_law_keys() -> impl Iterator<Item = &'static str> {
    NO_LICENCE_BASIS
        .into_iter()
        .chain(SCOPE_BASIS)
        .chain([PENALTY])
        .chain(crate::undisplayed::LAW_KEYS)
}

/// Keys of [`verdict_law_keys`] the rule set's laws lack: a lead would go out without
/// that article, so say so where an operator looks.
fn warn_of_missing_laws(m: &Matcher) {
    let laws = &m.rules().laws;
    for key in verdict_law_keys().filter(|k| !laws.contains_key(*k)) {
        tracing::error!(
            key,
            "rules/laws.toml has no such key: licence leads will lack this legal basis"
        );
    }
}

/// The licence check a scanner applies, and where its registry came from.
#[derive(Clone, Debug, Default)]
pub struct Licensing {
    checker: Checker,
    source: Option<String>,
}

impl Licensing {
    /// No registry: only what the posting itself says about its licence counts, and every
    /// licence lead says that no registry was consulted.
    pub fn without_registry() -> Licensing {
        Licensing::default()
    }

    /// Checks publishers against `registry`; `source` says where it was loaded from (a
    /// file path), for the case file.
    pub fn with_registry(registry: Arc<Registry>, source: &str) -> Licensing {
        let source = format!("{source} ({} entries)", registry.len());
        Licensing {
            checker: Checker::new(Some(registry)),
            source: Some(source),
        }
    }

    /// Judges validity on a fixed day instead of each posting's capture day (tests,
    /// rescans of old captures as of today).
    pub fn as_of(mut self, day: xuncha_registry::Date) -> Licensing {
        self.checker = self.checker.as_of(day);
        self
    }

    /// Whether a registry is loaded.
    pub fn has_registry(&self) -> bool {
        self.source.is_some()
    }

    /// The lookup result a lead records.
    fn lookup(&self, check: &LicenceCheck, posting: &Posting) -> LicenceLookup {
        LicenceLookup {
            outcome: check.outcome.to_string(),
            registry: self.source.clone(),
            // The company stands for the operator when the posting names no publisher
            // (the check reads it the same way).
            operator: check.publisher.clone().or_else(|| posting.company.clone()),
            queried: check.queried.clone(),
            entry: check.entry.as_ref().map(|e| {
                let mut s = format!("{} · {}", e.name(), e.licence_no());
                if let Some(c) = e.credit_code() {
                    s.push_str(&format!(" · {c}"));
                }
                match e.valid_until() {
                    Some(d) => s.push_str(&format!(" · 有效期至 {d}")),
                    None => s.push_str(" · 有效期未载"),
                }
                if !e.scope().is_empty() {
                    s.push_str(&format!(" · 范围：{}", e.scope()));
                }
                if !e.authority().is_empty() {
                    s.push_str(&format!(" · {}", e.authority()));
                }
                if let Some(o) = e.origin() {
                    s.push_str(&format!(" · {o}"));
                }
                s
            }),
            summary: match &self.source {
                Some(_) => check.summary(),
                None if check.outcome == Outcome::NoRegistry => {
                    "an agency by its own words; no registry consulted, licence not verified: \
                     check the 人力资源服务机构名录"
                        .to_string()
                }
                None => format!("{}; no registry consulted", check.summary()),
            },
        }
    }
}

/// A matcher and a licence check: the whole of what a posting is judged by. Immutable;
/// a rule reload builds a new one with [`Scanner::with_matcher`].
///
/// ```
/// use std::sync::Arc;
/// use xuncha_core::{Category, Posting, Severity};
/// use xuncha_judge::{Licensing, Scanner};
/// use xuncha_matcher::Matcher;
/// use xuncha_rules::RuleSet;
///
/// let rules = RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
/// let scanner = Scanner::new(
///     Matcher::new(Arc::new(rules)).unwrap(),
///     Licensing::without_registry(),
/// );
/// let posting = Posting {
///     id: "demo-2".into(),
///     description: Some("代招各大厂普工，推荐进厂，包吃包住。".into()),
///     ..Posting::default()
/// };
/// let leads = scanner.leads(&posting, "2026-12-01T08:00:00Z");
/// let licence = leads.iter().find(|l| l.category == Category::LicenseMissing).unwrap();
/// // No registry was consulted: the text alone is an indicator, not proof.
/// assert_eq!(licence.severity, Severity::Indicator);
/// ```
#[derive(Clone)]
pub struct Scanner {
    matcher: Arc<Matcher>,
    licensing: Licensing,
}

impl Scanner {
    /// Scans with `matcher` and `licensing`.
    pub fn new(matcher: Matcher, licensing: Licensing) -> Scanner {
        warn_of_missing_laws(&matcher);
        Scanner {
            matcher: Arc::new(matcher),
            licensing,
        }
    }

    /// The same licence check with new rules.
    pub fn with_matcher(&self, matcher: Matcher) -> Scanner {
        warn_of_missing_laws(&matcher);
        Scanner {
            matcher: Arc::new(matcher),
            licensing: self.licensing.clone(),
        }
    }

    /// The matcher.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// The licence check.
    pub fn licensing(&self) -> &Licensing {
        &self.licensing
    }

    /// The leads of `posting`, one per category, found at `detected_at` (RFC 3339), each
    /// carrying the posting's campaign keys (its handles and text fingerprint).
    pub fn leads(&self, posting: &Posting, detected_at: &str) -> Vec<Lead> {
        let leads = self.matcher.leads(posting, detected_at);
        self.judge_licence(leads, posting, detected_at)
    }

    /// [`Scanner::leads`] within a time budget: a posting that takes longer is given up.
    pub fn leads_within(
        &self,
        posting: &Posting,
        detected_at: &str,
        budget: std::time::Duration,
    ) -> Result<Vec<Lead>, xuncha_matcher::OverBudget> {
        let leads = self.matcher.leads_within(posting, detected_at, budget)?;
        Ok(self.judge_licence(leads, posting, detected_at))
    }

    fn judge_licence(
        &self,
        mut leads: Vec<Lead>,
        posting: &Posting,
        detected_at: &str,
    ) -> Vec<Lead> {
        let flagged = leads.iter().any(|l| l.category == Category::LicenseMissing);
        if flagged || self.licensing.has_registry() {
            let check = self.licensing.checker.check_posting(posting);
            self.merge(&mut leads, posting, &check, detected_at);
        }
        xuncha_campaigns::annotate(&mut leads, posting);
        leads
    }

    /// The `license.undisplayed` lead of a site whose pages, as the crawler read them,
    /// show neither its 营业执照 nor its 人力资源服务许可证; `None` otherwise.
    pub fn operator_lead(&self, record: &OperatorRecord, detected_at: &str) -> Option<Lead> {
        crate::undisplayed::lead(record, &self.matcher, detected_at)
    }

    fn merge(&self, leads: &mut Vec<Lead>, posting: &Posting, check: &LicenceCheck, now: &str) {
        let at = leads
            .iter()
            .position(|l| l.category == Category::LicenseMissing);
        if matches!(check.outcome, Outcome::Licensed | Outcome::PublicService) {
            // The registry (or the publisher's public status) answers what the text only
            // suggested: a licensed agency that recruits for others breaks no licence duty.
            if let Some(i) = at {
                leads.remove(i);
            }
            return;
        }
        let lookup = self.licensing.lookup(check, posting);
        let (Some(severity), true) = (check.severity(), check.is_violation()) else {
            if let Some(i) = at {
                // An agency's own words are no proof that it has no licence: without a
                // registry the lead is an indicator that asks for the 名录 check.
                if check.outcome == Outcome::NoRegistry {
                    leads[i].severity = leads[i].severity.min(Severity::Indicator);
                }
                leads[i].licence = Some(lookup);
            }
            return;
        };
        let laws = &self.matcher.rules().laws;
        let law = |k: &str| laws.get(k).cloned();
        let basis: &[&str] = if check.outcome == Outcome::ScopeLacksOnline {
            &SCOPE_BASIS
        } else {
            &NO_LICENCE_BASIS
        };
        let score = confidence(check.outcome);
        let i = match at {
            Some(i) => i,
            None => {
                // The rules' leads already carry the content hash; hash only if none did.
                let hash = leads
                    .first()
                    .map(|l| l.posting.content_sha256.clone())
                    .or_else(|| posting.content_sha256.clone())
                    .unwrap_or_else(|| posting.compute_content_sha256());
                // Leads come in category order; the new one takes its place in it.
                let i = leads.partition_point(|l| l.category < Category::LicenseMissing);
                leads.insert(
                    i,
                    Lead {
                        schema: xuncha_core::LEAD_SCHEMA.to_string(),
                        lead_id: lead_id(&posting.id, Category::LicenseMissing, &hash),
                        category: Category::LicenseMissing,
                        severity,
                        score,
                        findings: Vec::new(),
                        findings_unexamined: 0,
                        legal_basis: Vec::new(),
                        penalty: law(PENALTY),
                        posting: PostingRef {
                            divisions: self.matcher.locate(posting),
                            ..PostingRef::of(posting, &hash)
                        },
                        detected_at: now.to_string(),
                        rules_version: self.matcher.rules().version.clone(),
                        scanner_version: SCANNER_VERSION.to_string(),
                        licence: None,
                    },
                );
                i
            }
        };
        let lead = &mut leads[i];
        if check.entry.is_some() {
            // The registry lists the operator, so its verdict (expired, out of scope, a
            // number that is not its own) replaces the rules' guess that there is no
            // licence at all, legal basis included.
            lead.severity = severity;
            lead.score = score;
            lead.legal_basis.clear();
            lead.penalty = law(PENALTY);
        } else {
            lead.severity = lead.severity.max(severity);
            lead.score = lead.score.max(score);
        }
        for f in check.findings() {
            let dup = lead
                .findings
                .iter()
                .any(|g| g.field == f.field && overlaps(g.span, f.span));
            if !dup {
                lead.findings.push(f);
            }
        }
        for r in basis.iter().filter_map(|k| law(k)) {
            push_unique(&mut lead.legal_basis, r);
        }
        if lead.penalty.is_none() {
            lead.penalty = law(PENALTY);
        }
        lead.licence = Some(lookup);
    }
}

/// How sure a verdict is: a number or code the registry refutes is firmer than a name
/// it does not list (名录 spell names inconsistently).
fn confidence(outcome: Outcome) -> f64 {
    match outcome {
        Outcome::Expired | Outcome::NameMismatch | Outcome::NumberNotListed => 0.95,
        Outcome::SaysNoLicence => 0.9,
        Outcome::NotFound => 0.8,
        _ => 0.7,
    }
}

fn overlaps(a: Span, b: Span) -> bool {
    a.start() < b.end() && b.start() < a.end() || a == b
}

fn push_unique(refs: &mut Vec<LegalRef>, r: LegalRef) {
    if !refs.iter().any(|x| x.key == r.key) {
        refs.push(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_law_a_licence_verdict_cites_is_in_the_shipped_laws() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let rules = xuncha_rules::RuleSet::load(&dir).unwrap();
        let missing: Vec<&str> = verdict_law_keys()
            .filter(|k| !rules.laws.contains_key(*k))
            .collect();
        assert!(missing.is_empty(), "not in rules/laws.toml: {missing:?}");
        assert!(verdict_law_keys().count() >= 6);
    }
}
