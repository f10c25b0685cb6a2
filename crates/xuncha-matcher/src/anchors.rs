//! Choosing a rule's prefilter literals.
//!
//! The prefilter's speed and the amount of verification both depend on how rare the anchors
//! are. An author writing `男` or `经验` as the anchor of `(限|只招)男` or `无需经验` makes
//! every posting that says 经验 pay for a regex run. The patterns themselves usually say
//! which literals a match must contain; when those are longer (rarer) than the anchors as
//! written, they gate the rule instead. The written anchors stay the fallback for patterns
//! whose literals cannot be listed (`[\p{Han}]{1,4}费`).

use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};
use regex_syntax::ParserBuilder;

/// Most literals one rule may contribute from its patterns.
const MAX_LITERALS: usize = 256;

/// The literals that gate a phrase: those its patterns require, if they are rarer than the
/// anchors as written (all already normalised), else the written anchors.
///
/// Written anchors that win are a condition as well as a gate: a match of the patterns with
/// no written anchor in it is not a finding. So the rarer literals found in the patterns'
/// parts replace written anchors only where that changes no finding: where the whole-pattern
/// literals already won, or where each of them contains a written anchor.
pub fn choose(written: Vec<String>, patterns: &[Regex]) -> Vec<String> {
    let parsed: Option<Vec<Hir>> = patterns
        .iter()
        .map(|p| ParserBuilder::new().build().parse(p.as_str()).ok())
        .collect();
    let Some(hirs) = parsed else {
        return written;
    };
    let Some(rarest) = required(&hirs, rarest) else {
        return written;
    };
    if rarest
        .iter()
        .all(|l| written.iter().any(|w| l.contains(w.as_str())))
    {
        return rarest;
    }
    match required(&hirs, ends) {
        // On a tie the required literals still win: every one of them is needed by a match,
        // while written anchors are often a list of single characters of varying use.
        Some(extracted) if score(&extracted) >= score(&written) => rarest,
        _ => written,
    }
}

/// Words found in most job postings: as a literal they gate nearly every posting, so they
/// count as no better than a single character.
const EVERYWHERE: &[&str] = &[
    "优先",
    "以上",
    "以下",
    "公司",
    "岗位",
    "工作",
    "经验",
    "学历",
    "要求",
    "负责",
    "能力",
    "相关",
    "学习",
    "招聘",
    "职位",
    "员工",
    "薪资",
    "专业",
    "年龄",
    "及以上",
    "任职",
    "熟悉",
];

/// How rare the set's worst literal is, by length (characters, one less for a word that is
/// everywhere), then whether it holds no such word at all.
fn score(set: &[String]) -> (usize, bool) {
    let everywhere = |s: &String| EVERYWHERE.contains(&s.as_str());
    let shortest = set
        .iter()
        .map(|s| s.chars().count() - usize::from(everywhere(s)))
        .min()
        .unwrap_or(0);
    (shortest, !set.iter().any(everywhere))
}

/// A finite set of literals, one of which every match of every pattern contains, each
/// pattern's found by `find`; `None` when some pattern has no such set.
fn required(hirs: &[Hir], find: fn(&Hir) -> Option<Vec<String>>) -> Option<Vec<String>> {
    let mut all: Vec<String> = Vec::new();
    for hir in hirs {
        for l in find(hir)? {
            if !all.contains(&l) {
                all.push(l);
            }
        }
        if all.len() > MAX_LITERALS {
            return None;
        }
    }
    (!all.is_empty()).then_some(all)
}

/// The rarer of the literals `hir`'s matches start with and those they end with.
fn ends(hir: &Hir) -> Option<Vec<String>> {
    [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .filter_map(|k| literals(hir, k))
        .max_by_key(|set| score(set))
}

/// The rarest finite set of literals one of which every match of `hir` contains.
///
/// A match of a concatenation contains a match of each of its parts, so any mandatory part's
/// literals will do (`(帮|替)[^,]{0,6}(网店|商家)` is gated on 网店/商家, not 帮/替); a match
/// of an alternation is a match of one branch, so each branch may be gated on its own
/// rarest part. The prefix and suffix literals of the whole are candidates too.
fn rarest(hir: &Hir) -> Option<Vec<String>> {
    let mut candidates: Vec<Vec<String>> = [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .filter_map(|k| literals(hir, k))
        .collect();
    match hir.kind() {
        HirKind::Capture(c) => candidates.extend(rarest(&c.sub)),
        HirKind::Repetition(r) if r.min >= 1 => candidates.extend(rarest(&r.sub)),
        HirKind::Concat(parts) => candidates.extend(parts.iter().filter_map(rarest)),
        HirKind::Alternation(branches) => {
            let mut union: Vec<String> = Vec::new();
            let mut finite = true;
            for b in branches {
                let Some(set) = rarest(b) else {
                    finite = false;
                    break;
                };
                for l in set {
                    if !union.contains(&l) {
                        union.push(l);
                    }
                }
                if union.len() > MAX_LITERALS {
                    finite = false;
                    break;
                }
            }
            if finite && !union.is_empty() {
                candidates.push(union);
            }
        }
        _ => {}
    }
    // Of equally rare sets, the smaller one matches less often.
    candidates
        .into_iter()
        .max_by_key(|set| (score(set), std::cmp::Reverse(set.len())))
}

fn literals(hir: &Hir, kind: ExtractKind) -> Option<Vec<String>> {
    let mut ex = Extractor::new();
    ex.kind(kind).limit_total(MAX_LITERALS);
    let seq = ex.extract(hir);
    let lits = seq.literals()?;
    let mut out = Vec::with_capacity(lits.len());
    for l in lits {
        // A literal cut short by the extractor's limits may end inside a character.
        let bytes = l.as_bytes();
        let s = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()?,
        };
        if s.is_empty() {
            return None;
        }
        out.push(s.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &[&str]) -> Vec<Regex> {
        p.iter().map(|s| Regex::new(s).unwrap()).collect()
    }

    fn w(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn longer_required_literals_replace_common_anchors() {
        let mut got = choose(w(&["经验"]), &re(&["无需(经验|学历)", "零经验"]));
        got.sort();
        assert_eq!(got, w(&["无需学历", "无需经验", "零经验"]));
    }

    #[test]
    fn written_anchors_stay_when_patterns_have_no_finite_literals() {
        assert_eq!(choose(w(&["费"]), &re(&[r"[\p{Han}]{1,4}费"])), w(&["费"]));
        // One pattern without literals is enough: its matches need the written anchors.
        assert_eq!(
            choose(w(&["押金"]), &re(&["交押金", r"\d{3}"])),
            w(&["押金"])
        );
    }

    #[test]
    fn words_found_everywhere_count_as_short() {
        let mut chosen = choose(w(&["男", "女"]), &re(&["(男|女)[^,]{0,3}优先"]));
        chosen.sort();
        assert_eq!(chosen, w(&["女", "男"]));
        let mut exact = choose(w(&["男", "女"]), &re(&["(男|女)(生)?优先"]));
        exact.sort();
        assert_eq!(exact, w(&["女优先", "女生优先", "男优先", "男生优先"]));
    }

    #[test]
    fn each_branch_is_gated_on_its_rarest_part() {
        let mut got = choose(
            w(&["返"]),
            &re(&[r"(返还?|退回)[^,]{0,2}本(金|jin)|返本\s*(\+|加|和)"]),
        );
        got.sort();
        assert_eq!(got, w(&["本jin", "本金", "返本"]));
        let mut inner = choose(
            w(&["帮"]),
            &re(&["(帮|替)[^,]{0,6}(网店|商家)[^,]{0,3}(刷|冲)"]),
        );
        inner.sort();
        assert_eq!(inner, w(&["商家", "网店"]));
    }

    #[test]
    fn written_anchors_that_win_stay_a_condition() {
        // 万 alone would gate \d+万 more often than 万元, and would add findings 万元 hid.
        assert_eq!(choose(w(&["万元"]), &re(&[r"\d+万"])), w(&["万元"]));
        // Literals that each hold a written anchor hide nothing more than it did.
        let mut got = choose(
            w(&["押金"]),
            &re(&["(交|付)[^,]{0,3}(住宿押金|工牌押金)[^,]{0,2}元"]),
        );
        got.sort();
        assert_eq!(got, w(&["住宿押金", "工牌押金"]));
    }

    #[test]
    fn optional_parts_gate_nothing() {
        // 费用 is the only part every match needs; 报名 may be absent.
        for p in ["(报名)?费用", "(报名)*费用"] {
            let got = choose(w(&["费"]), &re(&[p]));
            assert!(got.contains(&"费用".to_string()), "{p}: {got:?}");
            assert!(got.iter().all(|l| l.ends_with("费用")), "{p}: {got:?}");
        }
    }

    #[test]
    fn written_anchors_stay_when_they_are_longer() {
        assert_eq!(choose(w(&["押金"]), &re(&["押|保证金"])), w(&["押金"]));
        assert_eq!(
            choose(w(&["押金", "保证金"]), &re(&["押金|保证金"])).len(),
            2
        );
    }
}
