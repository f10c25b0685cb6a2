//! The hot path of xuncha: posting in, findings and leads out.
//!
//! ```text
//! field ─► normalise (offset map) ─► clauses ─► prefilter (every anchor, one pass)
//!            └──────────── only where an anchor hit: verify the rule in its clause ─► findings
//! ```
//!
//! The decision that shapes this crate: **verification runs only where the prefilter hit.**
//! One automaton over every rule's literal anchors reads each normalised field once; most
//! postings match nothing and leave after that single pass. Regexes, negation windows,
//! word segmentation (jieba-rs) and number checks run only on the clauses that hold a hit,
//! so adding rules costs little until their anchors actually occur.
//!
//! A [`Matcher`] is built once from a [`RuleSet`] and is immutable: share it across threads
//! behind an `Arc` and swap the whole thing to reload rules.
#![deny(missing_docs)]

mod anchors;
mod clause;
mod location;
mod normalize;
mod prefilter;
pub mod salary;

mod context;
mod examples;
mod verify;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use jieba_rs::Jieba;
use regex::Regex;
use xuncha_core::{
    lead_id, Category, Finding, Lead, LegalRef, Posting, PostingRef, Severity, Span, LEAD_SCHEMA,
};
use xuncha_rules::{Phrase, RuleBody, RuleSet};

use context::{Attributes, FieldContext};
pub use examples::{example_posting, ExampleFailure, ExampleReport};
use location::Locator;
pub use normalize::{NormText, Normalizer, Scratch};
pub use prefilter::{Prefilter, PrefilterKind};

/// Name and version written into every lead.
pub const SCANNER_VERSION: &str = concat!("xuncha-matcher/", env!("CARGO_PKG_VERSION"));

/// Characters of original text either side of a match kept as its context.
const CONTEXT_CHARS: usize = 40;

/// A rule that fired on a posting, with its evidence.
#[derive(Debug, Clone)]
pub struct RuleHit {
    /// Index of the rule in [`Matcher::rules`].
    pub rule: usize,
    /// Severity where the posting is located (a `[[rule.local]]` may raise it).
    pub severity: Severity,
    /// The local escalation that applied, if any.
    pub local: Option<usize>,
    /// How sure the matcher is, 0..1.
    pub score: f64,
    /// The evidence, at most [`MAX_FINDINGS_PER_RULE`] places of each phrase.
    pub findings: Vec<Finding>,
    /// Anchor hits of the rule left unexamined once it had that many findings.
    pub unexamined: u64,
}

/// Most findings one phrase (a phrase rule, or one signal of a signature) keeps per
/// posting. Evidence of a few places proves the lead; a posting that repeats a phrase
/// 50,000 times must not make a lead of 50,000 findings or cost the square of it.
pub const MAX_FINDINGS_PER_RULE: usize = 20;

/// A posting took longer to scan than its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("scanning took longer than its time budget")]
pub struct OverBudget;

/// How far a rule got on a posting: what stopped it, for `xuncha eval --misses`. Later
/// variants are further along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// None of its anchors occurs.
    NoAnchor,
    /// An anchor occurs, but no pattern matches over it.
    NoPattern,
    /// A pattern matched; the clause holds one of the rule's exceptions.
    Excepted,
    /// A pattern matched in a sentence that warns about scams, or the posting holds one of
    /// the rule's `unless` patterns.
    Warned,
    /// A pattern matched; a negation stands beside it.
    Negated,
    /// A pattern matched in a clause about the job's own duties.
    Duty,
    /// A pattern matched, but not on word boundaries.
    WordBoundary,
    /// A pattern matched, but its number is out of the rule's bounds.
    Number,
    /// A pattern matched, but a required co-occurrence is missing.
    Requires,
    /// Signals matched, but their weights stay below the threshold.
    BelowThreshold,
    /// The rule fired.
    Fired,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::NoAnchor => "gate not hit (no anchor)",
            Stage::NoPattern => "anchor hit, pattern failed",
            Stage::Excepted => "matched, cancelled by an exception",
            Stage::Warned => {
                "matched, but in a scam warning, a question or a job seeker's line, or cancelled by `unless`"
            }
            Stage::Negated => "matched, negated",
            Stage::Duty => "matched, in a job-duty clause",
            Stage::WordBoundary => "matched, not on word boundaries",
            Stage::Number => "matched, number out of bounds",
            Stage::Requires => "matched, required co-occurrence missing",
            Stage::BelowThreshold => "signals below the threshold",
            Stage::Fired => "fired",
        })
    }
}

/// How far one rule got on a posting ([`Matcher::explain`]).
#[derive(Debug, Clone)]
pub struct Explanation {
    /// Index of the rule in the rule set.
    pub rule: usize,
    /// The furthest stage it reached.
    pub stage: Stage,
    /// For a signature rule: the signals present and the sum of their weights.
    pub signals: Vec<String>,
    /// For a signature rule: the sum of the weights of the signals present.
    pub sum: f64,
    /// For a signature rule: whether each of its signals is present, in rule order.
    pub present: Vec<bool>,
}

/// One phrase to verify: a phrase rule, or one signal of a signature rule.
#[derive(Debug, Clone, Copy)]
struct Unit {
    rule: usize,
    signal: Option<usize>,
}

/// An error building a matcher.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// An anchor that normalises to nothing.
    #[error("{origin}: rule `{rule}`: anchor `{anchor}` is empty once normalised")]
    EmptyAnchor {
        /// Rule id.
        rule: String,
        /// Where the rule is.
        origin: String,
        /// The anchor.
        anchor: String,
    },
    /// The automaton could not be built.
    #[error("prefilter: {0}")]
    Prefilter(String),
}

/// The compiled, immutable matcher.
///
/// Built once from a [`RuleSet`] and shared by every thread; a rule reload builds a new one.
///
/// ```
/// use std::sync::Arc;
/// use xuncha_core::{Category, Posting};
/// use xuncha_matcher::Matcher;
/// use xuncha_rules::RuleSet;
///
/// let rules = RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
/// let matcher = Matcher::new(Arc::new(rules)).unwrap();
/// let posting = Posting {
///     id: "demo-1".into(),
///     description: Some("招普工，入职先交300元押金，限男性。".into()),
///     ..Posting::default()
/// };
/// let leads = matcher.leads(&posting, "2026-12-01T08:00:00Z");
/// assert!(leads.iter().any(|l| l.category == Category::FeeDeposit));
/// // Every finding points at the exact bytes of the field it was read in.
/// let f = &leads[0].findings[0];
/// assert_eq!(&posting.description.as_deref().unwrap()[f.span.start()..f.span.end()], f.matched);
/// ```
pub struct Matcher {
    rules: Arc<RuleSet>,
    normalizer: Normalizer,
    prefilter: Prefilter,
    literals: Vec<String>,
    /// For each literal, the units it gates.
    gates: Vec<Vec<u32>>,
    units: Vec<Unit>,
    /// For each unit, its patterns as one set, to reject a window in one pass.
    pattern_sets: Vec<OnceLock<Option<regex::RegexSet>>>,
    /// Word segmentation, loaded on the first verification that asks for word boundaries:
    /// its dictionary is most of a short scan's start-up and memory.
    jieba: OnceLock<Jieba>,
    need_jieba: bool,
    duty: Option<Regex>,
    /// Words that make a sentence a warning about scams rather than an offer.
    warning: Option<Regex>,
    /// Words that, in the first line, make a whole field a warning.
    warning_header: Option<Regex>,
    /// Line openings that mark a job seeker's words in a quoted chat (`我:`), normalised.
    speakers: Vec<String>,
    attributes: Attributes,
    locator: Locator,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("rules", &self.rules.rules.len())
            .field("rules_version", &self.rules.version)
            .field("prefilter", &self.prefilter)
            .finish()
    }
}

/// A field of the posting being scanned.
struct FieldText<'a> {
    name: &'static str,
    orig: &'a str,
    norm: NormText,
    clauses: Vec<(usize, usize)>,
    /// Quotations and warnings, found only for a field where some rule is verified.
    around: std::cell::OnceCell<FieldContext>,
}

/// The buffers one scanning thread reuses from posting to posting, apart from the
/// immutable [`Matcher`] (as `regex-automata` keeps a `Cache` apart from its `Regex`): the
/// normalised text of every field and its offset map, clauses, candidates. Once warm, a
/// posting that no anchor hits is scanned without allocating.
///
/// A cache holds no posting and no rule: one cache serves any matcher, and a rule reload
/// keeps it.
#[derive(Default)]
pub struct ScanCache {
    scratch: Scratch,
    /// Normalised fields with their clause buffers, returned after each posting.
    spare: Vec<(NormText, Vec<(usize, usize)>)>,
    /// The field list, empty between postings (its allocation is what is kept).
    fields: Vec<FieldText<'static>>,
    cands: Vec<Candidate>,
    hits: Vec<(usize, usize)>,
}

impl std::fmt::Debug for ScanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanCache")
            .field("spare_fields", &self.spare.len())
            .field("candidates_capacity", &self.cands.capacity())
            .finish()
    }
}

/// A field's buffers grown past this many bytes of normalised text are dropped after the
/// posting rather than kept by the thread for the next one.
const KEEP_FIELD_BYTES: usize = 1 << 20;

/// An empty vector of `U` in the allocation of `v`. The field list borrows each posting's
/// text, so it cannot outlive the posting as it is; emptied, its allocation can. The
/// standard library collects a mapped `IntoIter` in place when the element layouts agree,
/// as they do for types that differ only in a lifetime (the cache's allocation test shows
/// it).
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

thread_local! {
    static THREAD_CACHE: std::cell::RefCell<ScanCache> = std::cell::RefCell::new(ScanCache::default());
}

/// Runs `f` with the calling thread's cache (a fresh one if the thread's is in use).
fn with_thread_cache<R>(f: impl FnOnce(&mut ScanCache) -> R) -> R {
    THREAD_CACHE.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => f(&mut c),
        Err(_) => f(&mut ScanCache::default()),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    unit: u32,
    field: u32,
    clause: u32,
    start: u32,
    end: u32,
}

impl Matcher {
    /// Builds a matcher with the default prefilter.
    pub fn new(rules: Arc<RuleSet>) -> Result<Matcher, BuildError> {
        Matcher::with_prefilter(rules, PrefilterKind::default())
    }

    /// Builds a matcher with the given prefilter engine.
    pub fn with_prefilter(rules: Arc<RuleSet>, kind: PrefilterKind) -> Result<Matcher, BuildError> {
        let normalizer = Normalizer::new(&rules.lexicon);
        let mut units = Vec::new();
        for (ri, rule) in rules.rules.iter().enumerate() {
            match &rule.body {
                RuleBody::Phrase(_) => units.push(Unit {
                    rule: ri,
                    signal: None,
                }),
                RuleBody::Signature(sig) => {
                    for (si, s) in sig.signals.iter().enumerate() {
                        if s.phrase.is_some() {
                            units.push(Unit {
                                rule: ri,
                                signal: Some(si),
                            });
                        }
                    }
                }
            }
        }
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut literals: Vec<String> = Vec::new();
        let mut gates: Vec<Vec<u32>> = Vec::new();
        let mut need_jieba = false;
        for (ui, unit) in units.iter().enumerate() {
            let rule = &rules.rules[unit.rule];
            let phrase = phrase_of(&rules, *unit);
            need_jieba |= phrase.word_boundary;
            let mut written = Vec::new();
            for anchor in &phrase.anchors {
                let norm = normalizer.normalize_owned(anchor).as_str().to_string();
                if norm.is_empty() {
                    return Err(BuildError::EmptyAnchor {
                        rule: rule.id.clone(),
                        origin: rule.origin.to_string(),
                        anchor: anchor.clone(),
                    });
                }
                written.push(norm);
            }
            for norm in anchors::choose(written, &phrase.patterns) {
                let li = *index.entry(norm.clone()).or_insert_with(|| {
                    literals.push(norm);
                    gates.push(Vec::new());
                    literals.len() - 1
                });
                if !gates[li].contains(&(ui as u32)) {
                    gates[li].push(ui as u32);
                }
            }
        }
        let prefilter = Prefilter::new(kind, &literals).map_err(BuildError::Prefilter)?;
        // Built on a unit's first candidate: a short scan compiles only the sets it needs.
        let pattern_sets = units.iter().map(|_| OnceLock::new()).collect();
        let duty = alternation(rules.lexicon.duty_markers.iter().cloned());
        // Markers are matched in normalised text, so they are normalised the same way.
        let normalised = |words: &[String]| {
            alternation(
                words
                    .iter()
                    .map(|m| normalizer.normalize_owned(m).as_str().to_string()),
            )
        };
        let warning = normalised(&rules.lexicon.warning_markers);
        let warning_header = normalised(&rules.lexicon.warning_headers);
        let speakers = rules
            .lexicon
            .applicant_speakers
            .iter()
            .map(|s| normalizer.normalize_owned(s).as_str().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Matcher {
            speakers,
            attributes: Attributes::new(&rules.lexicon.attributes),
            warning,
            warning_header,
            locator: Locator::new(&rules.divisions),
            jieba: OnceLock::new(),
            need_jieba,
            rules,
            normalizer,
            prefilter,
            literals,
            gates,
            units,
            pattern_sets,
            duty,
        })
    }

    /// The rule set this matcher was built from.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    /// The prefilter automaton.
    pub fn prefilter(&self) -> &Prefilter {
        &self.prefilter
    }

    /// The normalised anchor literals, in prefilter order.
    pub fn literals(&self) -> &[String] {
        &self.literals
    }

    /// Builds now what is otherwise built on first use (each rule's pattern set, the word
    /// segmenter's dictionary), for a caller that would rather pay it up front than on
    /// the first postings that need it.
    pub fn warm_up(&self) {
        let _ = self.jieba();
        for u in 0..self.units.len() {
            let _ = self.pattern_set(u);
        }
    }

    /// The word segmenter, when some rule asks for word boundaries.
    fn jieba(&self) -> Option<&Jieba> {
        self.need_jieba.then(|| self.jieba.get_or_init(Jieba::new))
    }

    /// The set of all patterns of unit `u`, compiled on first use; `None` for a unit of
    /// one pattern.
    fn pattern_set(&self, u: usize) -> Option<&regex::RegexSet> {
        self.pattern_sets[u]
            .get_or_init(|| {
                let pats = &phrase_of(&self.rules, self.units[u]).patterns;
                // A unit of one pattern is settled by the pattern itself: a set of one
                // would compile it a second time and keep a second cache.
                if pats.len() < 2 {
                    return None;
                }
                // Each pattern is within the loader's size limit, so the set is within
                // their sum.
                let limit = xuncha_rules::PATTERN_SIZE_LIMIT.saturating_mul(pats.len() + 1);
                Some(
                    regex::RegexSetBuilder::new(pats.iter().map(|r| r.as_str()))
                        .size_limit(limit)
                        // A set's lazy DFA cache at the default 2 MiB filled and was cleared
                        // over and over on real postings, rebuilding states more than
                        // matching with them (determinisation was a quarter of a corpus
                        // scan); at 16 MiB the corpus scans 1.7 times as fast on one thread
                        // for some 50 MB more at the peak.
                        .dfa_size_limit(16 << 20)
                        .build()
                        .expect("patterns that compiled one by one compile as a set"),
                )
            })
            .as_ref()
    }

    /// How many rule phrases literal `lit` makes candidates where it occurs.
    pub fn gated_units(&self, lit: usize) -> usize {
        self.gates.get(lit).map_or(0, Vec::len)
    }

    /// The ids of the rules that literal `lit` (an index into [`Matcher::literals`]) makes
    /// candidates, each once.
    pub fn rules_gated_by(&self, lit: usize) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for &u in self.gates.get(lit).map(Vec::as_slice).unwrap_or_default() {
            let id = self.rules.rules[self.units[u as usize].rule].id.as_str();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// The normaliser.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Every rule that fires on `posting`, with its evidence.
    ///
    /// Uses a cache kept by the calling thread; [`Matcher::scan_with`] takes one explicitly.
    pub fn scan(&self, posting: &Posting) -> Vec<RuleHit> {
        with_thread_cache(|cache| self.scan_with(cache, posting))
    }

    /// [`Matcher::scan`] with the caller's buffers: one [`ScanCache`] per worker thread,
    /// reused from posting to posting, so that a posting no anchor hits costs no allocation.
    pub fn scan_with(&self, cache: &mut ScanCache, posting: &Posting) -> Vec<RuleHit> {
        self.scan_traced(cache, posting, None, None)
            .expect("no deadline, never over budget")
    }

    /// [`Matcher::scan`] that gives up once `budget` has passed: a record so costly is a
    /// record to set aside (dead-letter), not one to hold a worker for.
    pub fn scan_within(
        &self,
        posting: &Posting,
        budget: Duration,
    ) -> Result<Vec<RuleHit>, OverBudget> {
        with_thread_cache(|cache| {
            self.scan_traced(cache, posting, None, Some(Instant::now() + budget))
        })
    }

    /// How far every rule got on `posting`: which stage stopped it, for tuning rules.
    pub fn explain(&self, posting: &Posting) -> Vec<Explanation> {
        let mut trace = vec![Stage::NoAnchor; self.units.len()];
        let hits = self
            .scan_traced(&mut ScanCache::default(), posting, Some(&mut trace), None)
            .expect("no deadline, never over budget");
        let norms: Vec<(&str, NormText)> = posting
            .text_fields()
            .map(|(name, orig)| (name, self.normalizer.normalize_owned(orig)))
            .collect();
        let monthly = pay(norms.iter().map(|(n, t)| (*n, t.as_str()))).map(|(_, p)| p.monthly_max);
        let mut out: Vec<Explanation> = Vec::new();
        for (ri, rule) in self.rules.rules.iter().enumerate() {
            let units = self.units.iter().enumerate().filter(|(_, u)| u.rule == ri);
            let mut stage = units
                .clone()
                .map(|(ui, _)| trace[ui])
                .max()
                .unwrap_or(Stage::NoAnchor);
            let (mut signals, mut sum, mut present) = (Vec::new(), 0.0, Vec::new());
            if let RuleBody::Signature(sig) = &rule.body {
                present = vec![false; sig.signals.len()];
                for (ui, u) in units {
                    let si = u.signal.expect("signature units are signals");
                    present[si] = trace[ui] == Stage::Fired;
                }
                for (si, signal) in sig.signals.iter().enumerate() {
                    if let Some(min) = signal.salary_monthly_min {
                        present[si] = monthly.is_some_and(|m| m >= min);
                    }
                    if present[si] {
                        signals.push(signal.name.clone());
                        sum += signal.weight;
                    }
                }
                if stage == Stage::Fired {
                    stage = Stage::BelowThreshold;
                }
            }
            if hits.iter().any(|h| h.rule == ri) {
                stage = Stage::Fired;
            }
            out.push(Explanation {
                rule: ri,
                stage,
                signals,
                sum,
                present,
            });
        }
        out
    }

    fn scan_traced(
        &self,
        cache: &mut ScanCache,
        posting: &Posting,
        trace: Option<&mut Vec<Stage>>,
        deadline: Option<Instant>,
    ) -> Result<Vec<RuleHit>, OverBudget> {
        let ScanCache {
            scratch,
            spare,
            fields,
            cands,
            hits,
        } = cache;
        let mut fields: Vec<FieldText<'_>> = recycle(std::mem::take(fields));
        cands.clear();
        for (name, orig) in posting.text_fields() {
            let (mut norm, mut clauses) = spare.pop().unwrap_or_default();
            self.normalizer.normalize(orig, &mut norm, scratch);
            clauses.clear();
            let fi = fields.len() as u32;
            // Clauses are found only in a field some anchor hit: most fields have none.
            let mut split = false;
            self.prefilter.for_each(norm.as_str(), |lit, s, e| {
                if !split {
                    clause::split(norm.as_str(), &mut clauses);
                    split = true;
                }
                let Some(ci) = clause::find(&clauses, s) else {
                    return;
                };
                for &unit in &self.gates[lit] {
                    cands.push(Candidate {
                        unit,
                        field: fi,
                        clause: ci as u32,
                        start: s as u32,
                        end: e as u32,
                    });
                }
            });
            fields.push(FieldText {
                name,
                orig,
                norm,
                clauses,
                around: std::cell::OnceCell::new(),
            });
        }
        let out = if cands.is_empty() {
            Ok(Vec::new())
        } else {
            self.verify_candidates(posting, &fields, cands, hits, trace, deadline)
        };
        // Put back so that the next posting's fields pop them in the same order.
        for f in fields.drain(..).rev() {
            // A buffer grown by an outsized record is let go rather than held by the thread.
            if f.norm.as_str().len() <= KEEP_FIELD_BYTES {
                spare.push((f.norm, f.clauses));
            }
        }
        cache.fields = recycle(fields);
        out
    }

    /// Verifies every candidate of a posting whose fields are normalised and prefiltered.
    fn verify_candidates(
        &self,
        posting: &Posting,
        fields: &[FieldText<'_>],
        cands: &mut [Candidate],
        hits_buf: &mut Vec<(usize, usize)>,
        mut trace: Option<&mut Vec<Stage>>,
        deadline: Option<Instant>,
    ) -> Result<Vec<RuleHit>, OverBudget> {
        cands.sort_unstable();
        let located = self.locate(posting);
        // Accepted spans per unit: (field, start, end) in normalised coordinates.
        let mut accepted: BTreeMap<u32, Vec<(u32, usize, usize)>> = BTreeMap::new();
        let mut unless_of: Option<(u32, bool)> = None;
        let mut requires_of: Option<(u32, bool)> = None;
        let mut unexamined: BTreeMap<usize, u64> = BTreeMap::new();
        let mut groups = 0u32;
        let mut i = 0;
        while i < cands.len() {
            let c = cands[i];
            let mut j = i;
            hits_buf.clear();
            while j < cands.len()
                && (cands[j].unit, cands[j].field, cands[j].clause) == (c.unit, c.field, c.clause)
            {
                hits_buf.push((cands[j].start as usize, cands[j].end as usize));
                j += 1;
            }
            i = j;
            let unit = self.units[c.unit as usize];
            if !self.applies_here(unit.rule, &located) {
                continue;
            }
            if let Some(deadline) = deadline {
                groups += 1;
                if groups.is_multiple_of(64) && Instant::now() > deadline {
                    return Err(OverBudget);
                }
            }
            // Enough evidence for this rule: further places are counted, not examined, so
            // a posting that repeats a phrase costs no more than its length.
            let have = accepted.get(&c.unit).map_or(0, Vec::len);
            if have >= MAX_FINDINGS_PER_RULE {
                *unexamined
                    .entry(self.units[c.unit as usize].rule)
                    .or_default() += hits_buf.len() as u64;
                continue;
            }
            let phrase = phrase_of(&self.rules, unit);
            let f = &fields[c.field as usize];
            let (cs, ce) = f.clauses[c.clause as usize];
            let any = self.pattern_set(c.unit as usize);
            let mut stage = Stage::NoAnchor;
            // Asked only when a match outside quotations needs it, and once per unit:
            // candidates come sorted by unit.
            let mut unless = || match unless_of {
                Some((u, v)) if u == c.unit => v,
                _ => {
                    let v = phrase
                        .unless
                        .iter()
                        .any(|re| fields.iter().any(|f| re.is_match(f.norm.as_str())));
                    unless_of = Some((c.unit, v));
                    v
                }
            };
            let spans = verify::phrase(
                self,
                phrase,
                any,
                f.norm.as_str(),
                (cs, ce),
                hits_buf,
                MAX_FINDINGS_PER_RULE - have,
                &|| {
                    f.around.get_or_init(|| {
                        FieldContext::new(
                            f.norm.as_str(),
                            (self.warning.as_ref(), self.warning_header.as_ref()),
                            &self.speakers,
                        )
                    })
                },
                &mut unless,
                &mut stage,
            );
            let required = !spans.is_empty()
                && match requires_of {
                    Some((u, v)) if u == c.unit => v,
                    _ => {
                        let v = self.posting_requires(phrase, fields);
                        requires_of = Some((c.unit, v));
                        v
                    }
                };
            if let Some(t) = trace.as_deref_mut() {
                let reached = match (spans.is_empty(), required) {
                    (true, _) => stage,
                    (false, false) => Stage::Requires,
                    (false, true) => Stage::Fired,
                };
                t[c.unit as usize] = t[c.unit as usize].max(reached);
            }
            if !required {
                continue;
            }
            if spans.len() >= MAX_FINDINGS_PER_RULE - have {
                // The cap was reached inside this clause: its other hits go uncounted
                // unless counted here.
                let rest = hits_buf
                    .iter()
                    .filter(|&&(hs, he)| !spans.iter().any(|&(s, e)| hs < e && he > s))
                    .count();
                *unexamined.entry(unit.rule).or_default() += rest as u64;
            }
            let list = accepted.entry(c.unit).or_default();
            for (s, e) in spans {
                list.push((c.field, s, e));
            }
        }
        let mut hits = self.collect_hits(fields, &accepted, &located);
        for h in &mut hits {
            h.unexamined = unexamined.get(&h.rule).copied().unwrap_or(0);
        }
        Ok(hits)
    }

    /// The leads `posting` raises, one per category, stamped with `detected_at`.
    pub fn leads(&self, posting: &Posting, detected_at: &str) -> Vec<Lead> {
        self.leads_of(posting, self.scan(posting), detected_at)
    }

    /// [`Matcher::leads`] within a time budget (see [`Matcher::scan_within`]).
    pub fn leads_within(
        &self,
        posting: &Posting,
        detected_at: &str,
        budget: Duration,
    ) -> Result<Vec<Lead>, OverBudget> {
        let hits = self.scan_within(posting, budget)?;
        Ok(self.leads_of(posting, hits, detected_at))
    }

    fn leads_of(&self, posting: &Posting, hits: Vec<RuleHit>, detected_at: &str) -> Vec<Lead> {
        if hits.is_empty() {
            return Vec::new();
        }
        let hash = posting
            .content_sha256
            .clone()
            .unwrap_or_else(|| posting.compute_content_sha256());
        let located = self.locate(posting);
        let mut by_cat: BTreeMap<Category, Vec<&RuleHit>> = BTreeMap::new();
        for h in &hits {
            by_cat
                .entry(self.rules.rules[h.rule].category)
                .or_default()
                .push(h);
        }
        let mut leads = Vec::new();
        for (category, mut hs) in by_cat {
            hs.sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then(b.score.total_cmp(&a.score))
            });
            let top = hs[0];
            let mut legal_basis: Vec<LegalRef> = Vec::new();
            let mut push_ref = |r: &LegalRef| {
                if !legal_basis.iter().any(|x| x.key == r.key) {
                    legal_basis.push(r.clone());
                }
            };
            for h in &hs {
                let rule = &self.rules.rules[h.rule];
                if let Some(l) = h.local {
                    rule.local[l].legal_basis.iter().for_each(&mut push_ref);
                }
                rule.legal_basis.iter().for_each(&mut push_ref);
            }
            let top_rule = &self.rules.rules[top.rule];
            let penalty = top
                .local
                .and_then(|l| top_rule.local[l].penalty.clone())
                .or_else(|| top_rule.penalty.clone());
            let miss: f64 = hs.iter().map(|h| 1.0 - h.score).product();
            let score = ((1.0 - miss).min(0.99) * 1000.0).round() / 1000.0;
            leads.push(Lead {
                schema: LEAD_SCHEMA.to_string(),
                lead_id: lead_id(&posting.id, category, &hash),
                category,
                severity: top.severity,
                score,
                findings: hs.iter().flat_map(|h| h.findings.iter().cloned()).collect(),
                findings_unexamined: hs.iter().map(|h| h.unexamined).sum(),
                legal_basis,
                penalty,
                posting: PostingRef {
                    divisions: located.clone(),
                    ..PostingRef::of(posting, &hash)
                },
                detected_at: detected_at.to_string(),
                rules_version: self.rules.version.clone(),
                scanner_version: SCANNER_VERSION.to_string(),
                licence: None,
            });
        }
        leads
    }

    /// Division codes of the posting's location.
    /// The division codes a posting's location names, each with its ancestors.
    pub fn locate(&self, posting: &Posting) -> Vec<String> {
        posting
            .location
            .as_deref()
            .map(|l| self.locator.resolve(l))
            .unwrap_or_default()
    }

    /// A `locally_illegal` rule with jurisdictions is silent outside them.
    fn applies_here(&self, rule: usize, located: &[String]) -> bool {
        let r = &self.rules.rules[rule];
        r.jurisdictions.is_empty() || location::within(located, &r.jurisdictions)
    }

    fn posting_requires(&self, phrase: &Phrase, fields: &[FieldText<'_>]) -> bool {
        phrase.requires.is_empty()
            || phrase
                .requires
                .iter()
                .any(|re| fields.iter().any(|f| re.is_match(f.norm.as_str())))
    }

    fn finding(&self, rule: usize, f: &FieldText<'_>, s: usize, e: usize) -> Finding {
        let (os, oe) = f.norm.original_range(s, e);
        let cs = back_chars(f.orig, os, CONTEXT_CHARS);
        let ce = forward_chars(f.orig, oe, CONTEXT_CHARS);
        Finding {
            rule_id: self.rules.rules[rule].id.clone(),
            field: f.name.to_string(),
            span: Span::new(os, oe),
            matched: f.orig[os..oe].to_string(),
            context: f.orig[cs..ce].replace(['\n', '\r'], " "),
        }
    }

    fn collect_hits(
        &self,
        fields: &[FieldText<'_>],
        accepted: &BTreeMap<u32, Vec<(u32, usize, usize)>>,
        located: &[String],
    ) -> Vec<RuleHit> {
        let mut out: Vec<RuleHit> = Vec::new();
        let mut done_signatures: Vec<usize> = Vec::new();
        for (&ui, spans) in accepted {
            let unit = self.units[ui as usize];
            let rule = &self.rules.rules[unit.rule];
            match &rule.body {
                RuleBody::Phrase(_) => {
                    let findings = spans
                        .iter()
                        .map(|&(fi, s, e)| self.finding(unit.rule, &fields[fi as usize], s, e))
                        .collect();
                    out.push(self.hit(unit.rule, rule.confidence, findings, located));
                }
                RuleBody::Signature(sig) => {
                    if done_signatures.contains(&unit.rule) {
                        continue;
                    }
                    done_signatures.push(unit.rule);
                    let mut sum = 0.0;
                    let mut findings = Vec::new();
                    for (si, signal) in sig.signals.iter().enumerate() {
                        let present = if signal.phrase.is_some() {
                            let ui = self
                                .units
                                .iter()
                                .position(|u| u.rule == unit.rule && u.signal == Some(si));
                            let spans = ui.and_then(|ui| accepted.get(&(ui as u32)));
                            if let Some(spans) = spans {
                                for &(fi, s, e) in spans {
                                    findings.push(self.finding(
                                        unit.rule,
                                        &fields[fi as usize],
                                        s,
                                        e,
                                    ));
                                }
                            }
                            spans.is_some_and(|s| !s.is_empty())
                        } else if let Some(min) = signal.salary_monthly_min {
                            match pay(fields.iter().map(|f| (f.name, f.norm.as_str()))) {
                                Some((fi, p)) if p.monthly_max >= min => {
                                    findings.push(self.finding(
                                        unit.rule,
                                        &fields[fi],
                                        p.start,
                                        p.end,
                                    ));
                                    true
                                }
                                _ => false,
                            }
                        } else {
                            false
                        };
                        if present {
                            sum += signal.weight;
                        }
                    }
                    if sum + 1e-9 >= sig.threshold {
                        let score = (rule.confidence * (sum / sig.threshold).min(1.25) / 1.25
                            * 1.1)
                            .min(0.99);
                        out.push(self.hit(unit.rule, score, findings, located));
                    }
                }
            }
        }
        out
    }

    fn hit(
        &self,
        rule: usize,
        score: f64,
        mut findings: Vec<Finding>,
        located: &[String],
    ) -> RuleHit {
        findings.sort_by(|a, b| (&a.field, a.span).cmp(&(&b.field, b.span)));
        findings.dedup_by(|a, b| a.field == b.field && a.span == b.span);
        let r = &self.rules.rules[rule];
        let local = r
            .local
            .iter()
            .position(|l| location::within(located, &l.jurisdictions));
        let severity = local
            .map(|l| r.local[l].severity.max(r.severity))
            .unwrap_or(r.severity);
        RuleHit {
            rule,
            severity,
            local,
            score,
            findings,
            unexamined: 0,
        }
    }
}

/// The highest pay the posting states: its salary field first, then its text.
/// One regex matching any of `words` literally; `None` when there are none.
fn alternation(words: impl Iterator<Item = String>) -> Option<Regex> {
    let alts: Vec<String> = words.map(|w| regex::escape(&w)).collect();
    (!alts.is_empty()).then(|| Regex::new(&alts.join("|")).expect("escaped literals form a regex"))
}

/// The highest pay the fields state, by (name, normalised text): the salary field read as
/// a pay range, the others as text.
fn pay<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> Option<(usize, salary::Pay)> {
    let mut best: Option<(usize, salary::Pay)> = None;
    for (i, (name, norm)) in fields.enumerate() {
        let p = if name == "salary" {
            salary::parse_field(norm)
        } else {
            salary::parse_text(norm)
        };
        if let Some(p) = p {
            if best.is_none_or(|(_, b)| p.monthly_max > b.monthly_max) {
                best = Some((i, p));
            }
        }
    }
    best
}

fn phrase_of(rules: &RuleSet, unit: Unit) -> &Phrase {
    match (&rules.rules[unit.rule].body, unit.signal) {
        (RuleBody::Phrase(p), _) => p,
        (RuleBody::Signature(s), Some(i)) => s.signals[i]
            .phrase
            .as_ref()
            .expect("units are built from phrase signals"),
        (RuleBody::Signature(_), None) => unreachable!("a signature unit names its signal"),
    }
}

fn back_chars(s: &str, from: usize, n: usize) -> usize {
    s[..from]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

fn forward_chars(s: &str, from: usize, n: usize) -> usize {
    s[from..]
        .char_indices()
        .nth(n)
        .map(|(i, _)| from + i)
        .unwrap_or(s.len())
}
