//! The literal prefilter: one automaton over every rule anchor.
//!
//! Most postings match nothing and leave here, so this pass sets the speed of the whole
//! matcher. Two engines sit behind one small interface so that they can be measured
//! against each other on Chinese text (`benches/matcher.rs`): the byte-wise
//! `aho-corasick` DFA and `daachorse`'s code-point-wise double array, whose transition
//! table stays small when thousands of Chinese literals would make a byte DFA spill out of
//! cache.

use std::fmt;
use std::str::FromStr;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use daachorse::CharwiseDoubleArrayAhoCorasick;

/// Which automaton runs the prefilter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PrefilterKind {
    /// `daachorse::CharwiseDoubleArrayAhoCorasick`: one transition per code point.
    #[default]
    Charwise,
    /// `aho_corasick::AhoCorasick` with a byte DFA.
    ByteDfa,
}

impl FromStr for PrefilterKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "charwise" | "daachorse" => Ok(PrefilterKind::Charwise),
            "dfa" | "aho-corasick" => Ok(PrefilterKind::ByteDfa),
            _ => Err(format!("unknown prefilter `{s}` (charwise or dfa)")),
        }
    }
}

impl fmt::Display for PrefilterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrefilterKind::Charwise => "charwise",
            PrefilterKind::ByteDfa => "dfa",
        })
    }
}

/// An immutable multi-literal automaton reporting every (overlapping) occurrence.
pub struct Prefilter {
    engine: Engine,
    len: usize,
}

enum Engine {
    Charwise(CharwiseDoubleArrayAhoCorasick<u32>),
    ByteDfa(AhoCorasick),
}

impl fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prefilter")
            .field("kind", &self.kind())
            .field("literals", &self.len)
            .finish()
    }
}

impl Prefilter {
    /// Builds the automaton over `literals` (distinct, non-empty); literal `i` reports as `i`.
    pub fn new(kind: PrefilterKind, literals: &[String]) -> Result<Prefilter, String> {
        let engine = match kind {
            PrefilterKind::Charwise if literals.is_empty() => {
                Engine::ByteDfa(AhoCorasick::new(literals).map_err(|e| e.to_string())?)
            }
            PrefilterKind::Charwise => Engine::Charwise(
                CharwiseDoubleArrayAhoCorasick::new(literals).map_err(|e| e.to_string())?,
            ),
            PrefilterKind::ByteDfa => Engine::ByteDfa(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(literals)
                    .map_err(|e| e.to_string())?,
            ),
        };
        Ok(Prefilter {
            engine,
            len: literals.len(),
        })
    }

    /// The engine in use.
    pub fn kind(&self) -> PrefilterKind {
        match self.engine {
            Engine::Charwise(_) => PrefilterKind::Charwise,
            Engine::ByteDfa(_) => PrefilterKind::ByteDfa,
        }
    }

    /// Number of literals.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no literals.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `f(literal, start, end)` for every occurrence in `hay`, overlapping ones included.
    #[inline]
    pub fn for_each(&self, hay: &str, mut f: impl FnMut(usize, usize, usize)) {
        match &self.engine {
            Engine::Charwise(pma) => {
                for m in pma.find_overlapping_iter(hay) {
                    f(m.value() as usize, m.start(), m.end());
                }
            }
            Engine::ByteDfa(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    f(m.pattern().as_usize(), m.start(), m.end());
                }
            }
        }
    }

    /// Number of occurrences in `hay` (the bare pass the benchmarks compare against).
    pub fn count(&self, hay: &str) -> usize {
        let mut n = 0;
        self.for_each(hay, |_, _, _| n += 1);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_report_the_same_overlapping_hits() {
        let lits: Vec<String> = ["押金", "押金500", "金", "男"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let hay = "需交押金500元，限男";
        let mut results = Vec::new();
        for kind in [PrefilterKind::Charwise, PrefilterKind::ByteDfa] {
            let p = Prefilter::new(kind, &lits).unwrap();
            assert_eq!(p.kind(), kind);
            let mut hits = Vec::new();
            p.for_each(hay, |i, s, e| hits.push((i, s, e)));
            hits.sort();
            for &(i, s, e) in &hits {
                assert_eq!(&hay[s..e], lits[i]);
            }
            results.push(hits);
        }
        assert_eq!(results[0], results[1]);
        assert_eq!(results[0].len(), 4);
    }
}
