//! The in-memory registry: every entry, indexed by normalised name, region-free name,
//! credit code and licence number.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::entry::{licence_key, Entry};
use crate::name::{
    bare_of_folded, folded, has_trade_name, keys, norm_of_folded, region_short_forms,
    regions_compatible, RegionTokens,
};
use crate::text::find_licence_numbers;

xuncha_core::str_enum! {
    /// How a query found an entry, from the most to the least certain name match.
    pub enum MatchedBy("match kind") {
        /// The name exactly as listed.
        ExactName => "exact_name",
        /// The same name written differently: width, brackets, spaces, 有限责任公司/有限公司.
        NormalisedName => "normalised_name",
        /// The query is a branch (`…分公司`, `…分店`, `…营业部`) of the listed company.
        Branch => "branch",
        /// The name differs from the listed one only by a province or city name, and no
        /// other listed organisation shares the rest.
        NameWithoutRegion => "name_without_region",
        /// The 统一社会信用代码.
        CreditCode => "credit_code",
        /// The licence number.
        LicenceNo => "licence_no",
    }
}

impl MatchedBy {
    /// Whether this is a match by name (as opposed to by a number).
    pub fn is_name(self) -> bool {
        !matches!(self, MatchedBy::CreditCode | MatchedBy::LicenceNo)
    }
}

/// An entry found by a lookup.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match<'r> {
    /// The entry.
    pub entry: &'r Entry,
    /// How it was found.
    pub matched_by: MatchedBy,
}

const NONE: u32 = u32::MAX;

/// Key → entries, as a head per key and a chain through the entries: most keys have one
/// entry, and this costs 4 bytes an entry instead of a vector per key.
#[derive(Default)]
struct KeyIndex {
    heads: HashMap<Box<str>, u32>,
    next: Vec<u32>,
}

impl KeyIndex {
    fn with_len(n: usize) -> KeyIndex {
        KeyIndex {
            heads: HashMap::with_capacity(n),
            next: vec![NONE; n],
        }
    }

    fn insert(&mut self, key: &str, id: u32) {
        if key.is_empty() {
            return;
        }
        match self.heads.get_mut(key) {
            Some(head) => {
                self.next[id as usize] = *head;
                *head = id;
            }
            None => {
                self.heads.insert(key.into(), id);
            }
        }
    }

    fn get(&self, key: &str) -> impl Iterator<Item = u32> + '_ {
        let mut cur = self.heads.get(key).copied().unwrap_or(NONE);
        std::iter::from_fn(move || {
            (cur != NONE).then(|| {
                let id = cur;
                cur = self.next[id as usize];
                id
            })
        })
    }
}

/// The licensed agencies, indexed for lookups by name, credit code and licence number.
/// Immutable once built and `Send + Sync`: build it once (from a
/// [`RegistryStore`](crate::RegistryStore) or from entries) and share it behind an `Arc`.
///
/// Lookups return every entry of the first tier that finds any, best first (a licence
/// without end or with the latest end date first). Name tiers, in order: exact or
/// normalised name (a branch matches its parent), then the name without a leading or
/// bracketed province or city name (`西安市示例人力资源有限公司` = `示例人力资源（西安）有限公司`
/// = `示例人力资源有限公司`). In a registered name the region is part of the name, so that
/// last tier is accepted only when a 字号 is left (`人力资源` alone names no one), the
/// regions do not contradict each other (a name that lost 郑州 is not one that lost 西安
/// or is registered in 陕西省西安市), and all the entries found are one organisation (same
/// credit code or same normalised name): a region-free key shared by two organisations
/// matches nothing.
///
/// ```
/// use xuncha_registry::{Entry, MatchedBy, Registry};
/// let reg = Registry::from_entries([
///     Entry::new("西安市示例人力资源有限公司", "990100120105").unwrap().with_region("陕西省西安市"),
/// ]);
/// let m = reg.by_name("西安市示例人力资源有限责任公司");
/// assert_eq!(m[0].matched_by, MatchedBy::NormalisedName);
/// let m = reg.by_name("示例人力资源有限公司西安分公司");
/// assert_eq!(m[0].matched_by, MatchedBy::NameWithoutRegion);
/// assert_eq!(reg.by_licence_no("９９０１００１２０１０５")[0].entry.name(), "西安市示例人力资源有限公司");
/// assert!(reg.by_name("示例劳务有限公司").is_empty());
/// ```
pub struct Registry {
    entries: Vec<Entry>,
    norm: KeyIndex,
    bare: KeyIndex,
    code: KeyIndex,
    licence: KeyIndex,
    tokens: RegionTokens,
}

impl Registry {
    /// Builds the indexes over `entries`.
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Registry {
        let mut entries: Vec<Entry> = entries.into_iter().collect();
        assert!(entries.len() < NONE as usize, "too many registry entries");
        let mut pool = HashSet::new();
        for e in &mut entries {
            e.intern(&mut pool);
        }
        let n = entries.len();
        let regions: HashSet<&str> = entries.iter().map(|e| e.region()).collect();
        let tokens = RegionTokens::from_regions(regions.iter().copied());
        let mut reg = Registry {
            norm: KeyIndex::with_len(n),
            bare: KeyIndex::with_len(0),
            code: KeyIndex::with_len(n),
            licence: KeyIndex::with_len(n),
            tokens,
            entries: Vec::new(),
        };
        reg.bare.next = vec![NONE; n];
        let mut keys_of = EntryKeys::default();
        for (id, e) in entries.iter().enumerate() {
            let id = id as u32;
            let k = keys_of.of(e);
            reg.norm.insert(&k.norm, id);
            if k.bare != k.norm {
                reg.bare.insert(&k.bare, id);
            }
            if let Some(c) = e.credit_code() {
                reg.code.insert(c, id);
            }
            reg.licence.insert(&licence_key(e.licence_no()), id);
        }
        reg.bare.heads.shrink_to_fit();
        reg.entries = entries;
        reg
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry, in load order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn collect(&self, ids: impl Iterator<Item = u32>, by: MatchedBy) -> Vec<Match<'_>> {
        let mut out: Vec<Match<'_>> = Vec::new();
        for id in ids {
            let entry = &self.entries[id as usize];
            // Keys have few entries: a scan beats a set.
            if !out.iter().any(|m| std::ptr::eq(m.entry, entry)) {
                out.push(Match {
                    entry,
                    matched_by: by,
                });
            }
        }
        if out.len() > 1 {
            sort_best_first(&mut out);
        }
        out
    }

    /// Entries with this licence number (compared by [`licence_key`]).
    pub fn by_licence_no(&self, no: &str) -> Vec<Match<'_>> {
        self.collect(self.licence.get(&licence_key(no)), MatchedBy::LicenceNo)
    }

    /// Entries with this 统一社会信用代码 (case and surrounding space ignored).
    pub fn by_credit_code(&self, code: &str) -> Vec<Match<'_>> {
        let code = code.trim().to_ascii_uppercase();
        self.collect(self.code.get(&code), MatchedBy::CreditCode)
    }

    /// Entries with this name, by the tiers described on [`Registry`].
    pub fn by_name(&self, name: &str) -> Vec<Match<'_>> {
        let folded = folded(name);
        let (norm, branch) = norm_of_folded(&folded);
        let exact = name.trim();
        let mut out = self.collect(self.norm.get(&norm), MatchedBy::NormalisedName);
        if !out.is_empty() {
            for m in &mut out {
                m.matched_by = if m.entry.name() == exact {
                    MatchedBy::ExactName
                } else if branch {
                    MatchedBy::Branch
                } else {
                    MatchedBy::NormalisedName
                };
            }
            out.sort_by_key(|m| m.matched_by != MatchedBy::ExactName);
            return out;
        }
        let (bare, regions) = bare_of_folded(&folded, &self.tokens, &norm);
        if !has_trade_name(&bare) {
            return Vec::new();
        }
        let ids = self.norm.get(&bare).chain(self.bare.get(&bare));
        let mut out = self.collect(ids, MatchedBy::NameWithoutRegion);
        out.retain(|m| regions_compatible(&regions, &entry_regions(m.entry)));
        if one_organisation(&out) {
            out
        } else {
            Vec::new()
        }
    }

    /// Looks up whatever `query` is: a licence number (bare, or with its label as a page
    /// shows it), a credit code, or a name. Number lookups are tried first; a name is
    /// looked up if no number finds anything.
    ///
    /// ```
    /// use xuncha_registry::{Entry, MatchedBy, Registry};
    /// let reg = Registry::from_entries([Entry::new("示例人力资源有限公司", "350200RL1010").unwrap()]);
    /// assert_eq!(reg.lookup("人力资源服务许可证：350200RL1010")[0].matched_by, MatchedBy::LicenceNo);
    /// assert_eq!(reg.lookup("示例人力资源有限公司")[0].matched_by, MatchedBy::ExactName);
    /// ```
    pub fn lookup(&self, query: &str) -> Vec<Match<'_>> {
        for q in number_queries(query) {
            let found = match q {
                NumberQuery::Licence(no) => self.by_licence_no(&no),
                NumberQuery::CreditCode(c) => self.by_credit_code(&c),
            };
            if !found.is_empty() {
                return found;
            }
        }
        self.by_name(query)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn entry_keys(e: &Entry) -> crate::name::NameKeys {
    keys(e.name(), &RegionTokens::from_regions([e.region()]))
}

/// The regions an entry's name or region cell names, short forms.
pub(crate) fn entry_regions(e: &Entry) -> Vec<String> {
    let mut r = entry_keys(e).regions;
    r.extend(region_short_forms(e.region()));
    r
}

/// [`entry_keys`] for many entries: region tokens are made once per region.
#[derive(Default)]
pub(crate) struct EntryKeys {
    tokens: HashMap<String, RegionTokens>,
}

impl EntryKeys {
    pub(crate) fn of(&mut self, e: &Entry) -> crate::name::NameKeys {
        if !self.tokens.contains_key(e.region()) {
            let t = RegionTokens::from_regions([e.region()]);
            self.tokens.insert(e.region().to_string(), t);
        }
        keys(e.name(), &self.tokens[e.region()])
    }
}

/// Orders candidates best first: open-ended licences, then later end dates.
pub(crate) fn sort_best_first(ms: &mut [Match<'_>]) {
    ms.sort_by(|a, b| {
        let rank = |m: &Match<'_>| m.entry.valid_until().map_or((1, None), |d| (0, Some(d)));
        rank(b).cmp(&rank(a))
    });
}

/// Whether all candidates are one organisation.
pub(crate) fn one_organisation(ms: &[Match<'_>]) -> bool {
    let Some(first) = ms.first() else {
        return false;
    };
    if let Some(code) = first.entry.credit_code() {
        if ms.iter().all(|m| m.entry.credit_code() == Some(code)) {
            return true;
        }
    }
    let norm = entry_keys(first.entry).norm;
    ms.iter().all(|m| entry_keys(m.entry).norm == norm)
}

/// A number to try for a free-text query.
pub(crate) enum NumberQuery {
    /// A licence number.
    Licence(String),
    /// A credit code.
    CreditCode(String),
}

/// The numbers a free-text query may be: licence numbers shown with a label, an
/// 18-character credit code, or the whole query as a licence number if it has at least
/// six letters or digits.
pub(crate) fn number_queries(query: &str) -> Vec<NumberQuery> {
    let mut out: Vec<NumberQuery> = find_licence_numbers(query)
        .into_iter()
        .map(|m| NumberQuery::Licence(m.number))
        .collect();
    let q = query.trim();
    if q.chars().count() == 18 && q.chars().all(|c| c.is_ascii_alphanumeric()) {
        out.push(NumberQuery::CreditCode(q.to_ascii_uppercase()));
    }
    if licence_key(q)
        .chars()
        .filter(|c| c.is_ascii_digit())
        .count()
        >= 6
    {
        out.push(NumberQuery::Licence(q.to_string()));
    }
    out
}
