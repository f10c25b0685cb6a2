//! Resolving a posting's free-text location to administrative divisions, so that a rule
//! that only a province or city forbids is applied only there.

use aho_corasick::{AhoCorasick, MatchKind};
use xuncha_rules::Division;

/// Looks division names up in location strings.
#[derive(Debug)]
pub struct Locator {
    ac: Option<AhoCorasick>,
    /// For each automaton pattern, the division it names.
    targets: Vec<usize>,
    divisions: Vec<Division>,
}

impl Locator {
    /// A locator over `divisions`.
    pub fn new(divisions: &[Division]) -> Locator {
        let mut names = Vec::new();
        let mut targets = Vec::new();
        for (i, d) in divisions.iter().enumerate() {
            names.push(d.name.clone());
            targets.push(i);
            if d.short.chars().count() >= 2 && d.short != d.name {
                names.push(d.short.clone());
                targets.push(i);
            }
        }
        let ac = (!names.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&names)
                .expect("division names build an automaton")
        });
        Locator {
            ac,
            targets,
            divisions: divisions.to_vec(),
        }
    }

    /// The codes a location lies in: each division named, with all its ancestors.
    pub fn resolve(&self, location: &str) -> Vec<String> {
        let mut codes: Vec<String> = Vec::new();
        let Some(ac) = &self.ac else { return codes };
        for m in ac.find_iter(location) {
            let mut d = &self.divisions[self.targets[m.pattern().as_usize()]];
            loop {
                if !codes.contains(&d.code) {
                    codes.push(d.code.clone());
                }
                match self.divisions.iter().find(|p| p.code == d.parent) {
                    Some(p) if !d.parent.is_empty() => d = p,
                    _ => break,
                }
            }
        }
        codes
    }
}

/// Whether a posting located in `codes` lies inside any of `jurisdictions`.
pub fn within(codes: &[String], jurisdictions: &[String]) -> bool {
    jurisdictions.iter().any(|j| codes.contains(j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(code: &str, name: &str, short: &str, level: &str, parent: &str) -> Division {
        Division {
            code: code.into(),
            name: name.into(),
            short: short.into(),
            level: level.into(),
            parent: parent.into(),
        }
    }

    #[test]
    fn resolves_cities_and_districts_to_their_province() {
        let l = Locator::new(&[
            d("310000", "上海市", "上海", "province", ""),
            d("310104", "徐汇区", "徐汇", "district", "310000"),
            d("440000", "广东省", "广东", "province", ""),
            d("440100", "广州市", "广州", "city", "440000"),
        ]);
        assert_eq!(l.resolve("上海-徐汇区"), vec!["310000", "310104"]);
        assert!(within(&l.resolve("广州-天河区"), &["440000".to_string()]));
        assert!(!within(&l.resolve("北京"), &["310000".to_string()]));
        assert!(l.resolve("").is_empty());
    }
}
