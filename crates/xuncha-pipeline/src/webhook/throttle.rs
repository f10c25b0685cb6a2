//! Per-publisher and per-rule throttling, with a summary of what was held back.
//!
//! A small keyed fixed-window counter rather than `governor`: governor's GCRA refills one
//! cell at a time, so it would let a long burst through at a trickle and could not say
//! "995 of 1,000 held back in these 10 minutes", which is what the summary must report.
//! A window opens at a key's first lead and closes `window` later; at most `count` of its
//! leads are alerted individually, and when it closes (or on shutdown) a key that held any
//! lead back yields one [`Summary`].

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use xuncha_core::{Category, Lead};

use super::config::Limit;

xuncha_core::str_enum! {
    /// What a throttle key is.
    pub enum KeyKind("throttle key") {
        /// A publisher (the posting's publisher, else its company, else its source site).
        Publisher => "publisher",
        /// A rule id.
        Rule => "rule",
    }
}

/// One key's window that held leads back: sent instead of those leads.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The key's kind.
    pub kind: KeyKind,
    /// The publisher name or rule id.
    pub key: String,
    /// Length of the window.
    pub window: Duration,
    /// When the window opened (the key's first lead), RFC 3339.
    pub opened_at: String,
    /// Leads of this key in the window.
    pub total: u64,
    /// Of these, alerted individually.
    pub sent: u64,
    /// Of those not sent, how many per category.
    pub categories: BTreeMap<Category, u64>,
}

impl Summary {
    /// Leads of this key in the window that were not alerted individually.
    pub fn not_sent(&self) -> u64 {
        self.total - self.sent
    }
}

/// The publisher key of a lead: publisher name, else company, else source site.
pub fn publisher_key(lead: &Lead) -> &str {
    let p = &lead.posting;
    [&p.publisher, &p.company, &p.source]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("(unknown publisher)")
}

struct Window {
    opened: Instant,
    opened_at: String,
    total: u64,
    sent: u64,
    /// Whether this key's own limit refused a lead: only then is a summary owed.
    held: bool,
    categories: BTreeMap<Category, u64>,
}

struct Keyed {
    kind: KeyKind,
    limit: Limit,
    windows: HashMap<String, Window>,
}

impl Keyed {
    fn new(kind: KeyKind, limit: Limit) -> Keyed {
        Keyed {
            kind,
            limit,
            windows: HashMap::new(),
        }
    }

    fn summary(&self, key: String, w: Window) -> Option<Summary> {
        w.held.then_some(Summary {
            kind: self.kind,
            key,
            window: self.limit.window,
            opened_at: w.opened_at,
            total: w.total,
            sent: w.sent,
            categories: w.categories,
        })
    }

    /// Closes `key`'s window if it is over.
    fn roll(&mut self, key: &str, now: Instant, out: &mut Vec<Summary>) {
        let over = self
            .windows
            .get(key)
            .is_some_and(|w| now >= w.opened + self.limit.window);
        if over {
            if let Some((k, w)) = self.windows.remove_entry(key) {
                out.extend(self.summary(k, w));
            }
        }
    }

    fn has_room(&self, key: &str) -> bool {
        !self.limit.is_on()
            || self
                .windows
                .get(key)
                .is_none_or(|w| w.sent < u64::from(self.limit.count))
    }

    fn window(&mut self, key: &str, now: Instant) -> &mut Window {
        self.windows
            .entry(key.to_string())
            .or_insert_with(|| Window {
                opened: now,
                opened_at: xuncha_core::now_rfc3339(),
                total: 0,
                sent: 0,
                held: false,
                categories: BTreeMap::new(),
            })
    }

    fn record(&mut self, key: &str, now: Instant, sent: bool, held_here: bool, cat: Category) {
        if !self.limit.is_on() {
            return;
        }
        let w = self.window(key, now);
        w.total += 1;
        if sent {
            w.sent += 1;
        } else {
            *w.categories.entry(cat).or_default() += 1;
            w.held |= held_here;
        }
    }

    fn expire(&mut self, now: Instant, out: &mut Vec<Summary>) {
        let window = self.limit.window;
        let over: Vec<String> = self
            .windows
            .iter()
            .filter(|(_, w)| now >= w.opened + window)
            .map(|(k, _)| k.clone())
            .collect();
        for k in over {
            if let Some(w) = self.windows.remove(&k) {
                out.extend(self.summary(k, w));
            }
        }
    }

    fn flush(&mut self, out: &mut Vec<Summary>) {
        let mut all: Vec<(String, Window)> = self.windows.drain().collect();
        all.sort_by_key(|(_, w)| w.opened);
        for (k, w) in all {
            out.extend(self.summary(k, w));
        }
    }
}

/// The throttle of one webhook. Time is passed in, so its decisions are reproducible.
pub struct Throttle {
    publisher: Keyed,
    rule: Keyed,
    pending: Vec<Summary>,
}

impl Throttle {
    /// A throttle with these two limits.
    pub fn new(per_publisher: Limit, per_rule: Limit) -> Throttle {
        Throttle {
            publisher: Keyed::new(KeyKind::Publisher, per_publisher),
            rule: Keyed::new(KeyKind::Rule, per_rule),
            pending: Vec::new(),
        }
    }

    /// Whether `lead` may be alerted individually at `now`: only if its publisher and every
    /// one of its rules still have room. Either way it is counted in each key's window.
    pub fn admit(&mut self, lead: &Lead, now: Instant) -> bool {
        let publisher = publisher_key(lead);
        let rules = lead.rule_ids();
        self.publisher.roll(publisher, now, &mut self.pending);
        for r in &rules {
            self.rule.roll(r, now, &mut self.pending);
        }
        let publisher_ok = self.publisher.has_room(publisher);
        let rules_ok: Vec<bool> = rules.iter().map(|r| self.rule.has_room(r)).collect();
        let send = publisher_ok && rules_ok.iter().all(|ok| *ok);
        self.publisher
            .record(publisher, now, send, !publisher_ok, lead.category);
        for (r, ok) in rules.iter().zip(rules_ok) {
            self.rule.record(r, now, send, !ok, lead.category);
        }
        send
    }

    /// Closes every window that is over at `now`.
    pub fn expire(&mut self, now: Instant) {
        self.publisher.expire(now, &mut self.pending);
        self.rule.expire(now, &mut self.pending);
    }

    /// Closes every window, over or not (shutdown).
    pub fn flush(&mut self) {
        self.publisher.flush(&mut self.pending);
        self.rule.flush(&mut self.pending);
    }

    /// The summaries owed by windows closed so far.
    pub fn take_summaries(&mut self) -> Vec<Summary> {
        std::mem::take(&mut self.pending)
    }

    /// How often [`Throttle::expire`] should run for summaries to leave close to the end
    /// of their window.
    pub fn tick(&self) -> Duration {
        [self.publisher.limit, self.rule.limit]
            .iter()
            .filter(|l| l.is_on())
            .map(|l| l.window / 4)
            .min()
            .unwrap_or(Duration::from_secs(1))
            .clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xuncha_core::{Finding, PostingRef, Severity, Span};

    fn lead(n: usize, publisher: &str, rule: &str) -> Lead {
        Lead {
            schema: xuncha_core::LEAD_SCHEMA.into(),
            lead_id: format!("l{n}"),
            category: Category::FeeDeposit,
            severity: Severity::Illegal,
            score: 1.0,
            findings: vec![Finding {
                rule_id: rule.into(),
                field: "description".into(),
                span: Span::new(0, 6),
                matched: "押金".into(),
                context: "押金".into(),
            }],
            findings_unexamined: 0,
            legal_basis: vec![],
            penalty: None,
            posting: PostingRef {
                id: format!("p{n}"),
                content_sha256: "h".into(),
                publisher: Some(publisher.into()),
                ..PostingRef::default()
            },
            detected_at: String::new(),
            rules_version: String::new(),
            scanner_version: String::new(),
            licence: None,
        }
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn a_burst_from_one_publisher_sends_count_then_one_summary_when_the_window_ends() {
        let mut t = Throttle::new(Limit::new(5, MIN), Limit::off());
        let t0 = Instant::now();
        let sent = (0..1000)
            .filter(|&i| {
                t.admit(
                    &lead(i, "某某人力", "R"),
                    t0 + Duration::from_millis(i as u64),
                )
            })
            .count();
        assert_eq!(sent, 5);
        t.expire(t0 + Duration::from_secs(59));
        assert!(t.take_summaries().is_empty(), "window still open");
        t.expire(t0 + MIN);
        let s = t.take_summaries();
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].kind, s[0].key.as_str()),
            (KeyKind::Publisher, "某某人力")
        );
        assert_eq!((s[0].total, s[0].sent, s[0].not_sent()), (1000, 5, 995));
        assert_eq!(s[0].categories[&Category::FeeDeposit], 995);
        // A new window opens with room again.
        assert!(t.admit(&lead(1000, "某某人力", "R"), t0 + MIN));
    }

    #[test]
    fn publishers_are_counted_apart_and_quiet_windows_owe_nothing() {
        let mut t = Throttle::new(Limit::new(2, MIN), Limit::off());
        let t0 = Instant::now();
        assert!(t.admit(&lead(0, "A", "R"), t0));
        assert!(t.admit(&lead(1, "A", "R"), t0));
        assert!(!t.admit(&lead(2, "A", "R"), t0));
        assert!(t.admit(&lead(3, "B", "R"), t0));
        t.flush();
        let s = t.take_summaries();
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].key, "A");
    }

    #[test]
    fn a_rule_firing_across_publishers_is_held_by_its_own_limit() {
        let mut t = Throttle::new(Limit::new(5, MIN), Limit::new(3, MIN));
        let t0 = Instant::now();
        let sent = (0..10)
            .filter(|&i| t.admit(&lead(i, &format!("P{i}"), "FEE-1"), t0))
            .count();
        assert_eq!(sent, 3);
        t.flush();
        let s = t.take_summaries();
        assert_eq!(s.len(), 1, "publishers were under their limit: {s:?}");
        assert_eq!((s[0].kind, s[0].key.as_str()), (KeyKind::Rule, "FEE-1"));
        assert_eq!(s[0].not_sent(), 7);
    }

    #[test]
    fn publisher_key_falls_back_to_company_then_source() {
        let mut l = lead(0, " ", "R");
        l.posting.company = Some("某公司".into());
        l.posting.source = Some("site".into());
        assert_eq!(publisher_key(&l), "某公司");
        l.posting.company = None;
        assert_eq!(publisher_key(&l), "site");
    }
}
