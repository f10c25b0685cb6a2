//! Verification of one phrase in one clause, run only where the prefilter hit.

use xuncha_rules::{Phrase, Scope};

use crate::context::FieldContext;
use crate::{Matcher, Stage};

/// Bytes either side of the anchor hits that patterns may reach, so a clause with no
/// punctuation for a whole page does not cost a regex pass over the page.
const WINDOW: usize = 150;

/// The normalised spans where `p` holds in clause `cs..ce` of `text`, given the anchor
/// `hits` in that clause (sorted by start), at most `room` of them. `around` (built on first call) tells quoted
/// ad text and warnings apart; `unless` says whether one of the rule's posting-level
/// `unless` patterns occurs in the posting.
///
/// Every check on a pattern match costs at most a logarithm of the hits or a bounded
/// window, never a pass over the clause, so a clause that repeats a phrase ten thousand
/// times costs ten thousand times a short one, not its square.
#[allow(clippy::too_many_arguments)]
pub(crate) fn phrase<'a>(
    m: &Matcher,
    p: &Phrase,
    any: Option<&regex::RegexSet>,
    text: &str,
    (cs, ce): (usize, usize),
    hits: &[(usize, usize)],
    room: usize,
    around: &dyn Fn() -> &'a FieldContext,
    unless: &mut dyn FnMut() -> bool,
    trace: &mut Stage,
) -> Vec<(usize, usize)> {
    let mut reached = |st: Stage| *trace = (*trace).max(st);
    reached(Stage::NoPattern);
    let clause = &text[cs..ce];
    let lo = hits.iter().map(|h| h.0).min().unwrap_or(cs);
    let hi = hits.iter().map(|h| h.1).max().unwrap_or(ce);
    let ws = floor_boundary(text, lo.saturating_sub(WINDOW).max(cs));
    let we = ceil_boundary(text, (hi + WINDOW).min(ce));
    let win = &text[ws..we];
    // Most candidates match no pattern: one pass of the set settles them.
    let any_match = match any {
        Some(set) => set.is_match(win),
        None => p.patterns.iter().any(|re| re.is_match(win)),
    };
    if !any_match {
        return Vec::new();
    }
    // Quotations and warnings are found only once some pattern holds in the field.
    let around = around();
    // Exceptions are judged on the clause, or on the quotation a match stands in: the
    // frame of a quoted ad (`警方提醒`) is no exception to the ad itself.
    let excepted =
        |s: usize, e: usize| -> bool { p.exceptions.iter().any(|re| re.is_match(&text[s..e])) };
    let clause_excepted = excepted(cs, ce);
    if clause_excepted && around.quotes.iter().all(|&(qs, qe)| qe <= cs || qs >= ce) {
        reached(Stage::Excepted);
        return Vec::new();
    }
    if !p.requires_clause.is_empty() && !p.requires_clause.iter().any(|re| re.is_match(clause)) {
        reached(Stage::Requires);
        return Vec::new();
    }
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut bounds: Option<Vec<usize>> = None;
    // The furthest end of the hits up to each one: a match overlaps a hit when the hits
    // starting before its end reach past its start.
    let mut reach = Vec::with_capacity(hits.len());
    hits.iter().fold(0, |r, &(_, he)| {
        let r = he.max(r);
        reach.push(r);
        r
    });
    let overlaps_hit = |s: usize, e: usize| {
        let k = hits.partition_point(|&(hs, _)| hs < e);
        k > 0 && reach[k - 1] > s
    };
    // Where the first duty marker of the clause ends, found once.
    let mut duty_end: Option<Option<usize>> = None;
    let mut found: Vec<(usize, usize, Option<f64>)> = Vec::new();
    for re in &p.patterns {
        if out.len() >= room {
            break;
        }
        // Captures cost more than a plain search: take them only to read a bounded number.
        found.clear();
        match p
            .number
            .as_ref()
            .filter(|n| re.capture_names().any(|c| c == Some(n.group.as_str())))
        {
            Some(n) => found.extend(re.captures_iter(win).map(|caps| {
                let whole = caps.get(0).expect("group 0");
                let v = caps
                    .name(&n.group)
                    .and_then(|g| g.as_str().parse::<f64>().ok());
                (whole.start(), whole.end(), Some(v.unwrap_or(f64::NAN)))
            })),
            None => found.extend(re.find_iter(win).map(|m| (m.start(), m.end(), None))),
        }
        for &(ms, me, number) in &found {
            if out.len() >= room {
                break;
            }
            let (s, e) = (ws + ms, ws + me);
            if s == e || !overlaps_hit(s, e) {
                continue;
            }
            if out.iter().any(|&(os, oe)| os < e && oe > s) {
                continue;
            }
            if let (Some(v), Some(n)) = (number, &p.number) {
                if !n.contains(v) {
                    reached(Stage::Number);
                    continue;
                }
            }
            let quote = around.quote_of(s, e);
            let (xs, xe) = match quote {
                Some((qs, qe)) => (qs.max(cs), qe.min(ce)),
                None => (cs, ce),
            };
            match quote {
                Some(_) if excepted(xs, xe) => {
                    reached(Stage::Excepted);
                    continue;
                }
                None if clause_excepted => {
                    reached(Stage::Excepted);
                    continue;
                }
                None if around.warned(s, e)
                    || (!p.questions && around.asked(s, e))
                    || (!p.unless.is_empty() && unless()) =>
                {
                    reached(Stage::Warned);
                    continue;
                }
                _ => {}
            }
            if negated(m, p, text, xs, xe, s, e) {
                reached(Stage::Negated);
                continue;
            }
            if p.scope == Scope::Applicant {
                if let Some(duty) = &m.duty {
                    // A marker wholly before the match: the earliest end of any marker.
                    let first = *duty_end
                        .get_or_insert_with(|| duty.shortest_match(clause).map(|k| cs + k));
                    if first.is_some_and(|k| k <= s) {
                        reached(Stage::Duty);
                        continue;
                    }
                }
            }
            if p.word_boundary {
                let b = bounds.get_or_insert_with(|| word_bounds(m, clause));
                if !(b.binary_search(&(s - cs)).is_ok() && b.binary_search(&(e - cs)).is_ok()) {
                    reached(Stage::WordBoundary);
                    continue;
                }
            }
            out.push((s, e));
        }
    }
    out
}

/// A negation within `negation_window` characters of the match, inside its clause, and
/// not bound to another attribute than the rule's (`男女不限` says nothing of age).
fn negated(m: &Matcher, p: &Phrase, text: &str, cs: usize, ce: usize, s: usize, e: usize) -> bool {
    if p.negations.is_empty() {
        return false;
    }
    let n = p.negation_window;
    let before = text[cs..s]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map(|(i, _)| cs + i);
    let ns = if n == 0 { s } else { before.unwrap_or(cs) };
    let ne = text[e..ce]
        .char_indices()
        .nth(n)
        .map(|(i, _)| e + i)
        .unwrap_or(ce);
    let window = &text[ns..ne];
    let Some(own) = p.attribute.as_deref() else {
        return p.negations.iter().any(|re| re.is_match(window));
    };
    p.negations.iter().any(|re| {
        re.find_iter(window).any(|n| {
            let (a, b) = (ns + n.start(), ns + n.end());
            // Only the text of the clause counts as beside the negation.
            let clause = &text[..ce];
            m.attributes
                .next_to(&clause[cs..], a - cs, b - cs)
                .is_none_or(|other| other == own)
        })
    })
}

/// Byte offsets (within the clause) where jieba puts a word boundary.
fn word_bounds(m: &Matcher, clause: &str) -> Vec<usize> {
    let mut b = vec![0];
    if let Some(j) = m.jieba() {
        let mut at = 0;
        for w in j.cut(clause, false) {
            at += w.word.len();
            b.push(at);
        }
    } else {
        b.extend(clause.char_indices().map(|(i, c)| i + c.len_utf8()));
    }
    b
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}
