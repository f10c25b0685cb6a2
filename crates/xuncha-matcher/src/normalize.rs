//! Normalisation with a map back to the original text.
//!
//! Evaders write `押 金`, `ya金`, `yj`, `压金`, `叁佰元`, `ＶＸ`; rules are written once, against
//! one normalised form. Every normalised byte remembers the byte range of the original
//! character(s) it came from, so evidence is always quoted from the text as published.

use std::collections::HashMap;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use xuncha_rules::Lexicon;

/// A normalised field: the text and, for every character of it, the original byte range
/// it came from.
#[derive(Debug, Default, Clone)]
pub struct NormText {
    text: String,
    items: Vec<Item>,
}

impl NormText {
    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The original byte range that normalised bytes `start..end` came from. Evidence is
    /// rare next to text, so the character index is counted here rather than stored per byte.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        let i = self.text[..start].chars().count();
        let n = self.text[start..end].chars().count();
        match (self.items.get(i), self.items.get((i + n).saturating_sub(1))) {
            (Some(a), Some(b)) if n > 0 => (a.start as usize, b.end as usize),
            (Some(a), _) => (a.start as usize, a.start as usize),
            _ => {
                let at = self.items.last().map(|x| x.end as usize).unwrap_or(0);
                (at, at)
            }
        }
    }
}

/// A character on its way through normalisation, with its original byte range.
#[derive(Debug, Clone, Copy)]
struct Item {
    c: char,
    start: u32,
    end: u32,
}

/// Reusable buffers, so that normalising a field allocates nothing once warm.
#[derive(Debug, Default)]
pub struct Scratch {
    a: Vec<Item>,
    b: Vec<Item>,
}

/// What the first pass saw, so later passes with nothing to do are skipped.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    noise: bool,
    letters: bool,
    homophone: bool,
    numeral: bool,
}

/// The code points the traditional → simplified table covers (CJK Extension A and the
/// unified ideographs).
const T2S_FIRST: u32 = 0x3400;
const T2S_LAST: u32 = 0x9FFF;

const C_HAN: u8 = 1;
const C_INVISIBLE: u8 = 2;
const C_SEPARATOR: u8 = 4;
const C_NUMERAL: u8 = 8;
const C_SPACE: u8 = 16;

/// Per-character tables for the Basic Multilingual Plane, built once: the folded form of
/// each character and its classes. They replace a Unicode decomposition and several range
/// matches per character with two loads, which is most of the normaliser's speed.
struct Tables {
    /// Folded character, or `'\0'` where folding gives zero or several characters.
    fold: Box<[char]>,
    class: Box<[u8]>,
}

fn tables() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let t2s = t2s_table();
        let mut fold = vec!['\0'; 0x10000].into_boxed_slice();
        let mut class = vec![0u8; 0x10000].into_boxed_slice();
        for cp in 0..0x10000u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            class[cp as usize] = class_slow(c);
            fold[cp as usize] = if c.is_ascii() {
                c.to_ascii_lowercase()
            } else if (T2S_FIRST..=T2S_LAST).contains(&cp) {
                t2s[(cp - T2S_FIRST) as usize]
            } else {
                let mut out = ['\0'; 2];
                let mut n = 0;
                decompose_compatible(c, |d| {
                    if n < 2 {
                        out[n] = d;
                    }
                    n += 1;
                });
                if n == 1 && !is_combining_mark(out[0]) {
                    out[0].to_ascii_lowercase()
                } else {
                    '\0'
                }
            };
        }
        Tables { fold, class }
    })
}

fn class_slow(c: char) -> u8 {
    let mut k = 0;
    if is_han_slow(c) {
        k |= C_HAN;
    }
    if is_invisible_or_emoji_slow(c) {
        k |= C_INVISIBLE;
    }
    if is_separator_noise_slow(c) {
        k |= C_SEPARATOR;
    }
    if is_cn_numeral_slow(c) {
        k |= C_NUMERAL;
    }
    if c.is_whitespace() && c != '\n' {
        k |= C_SPACE;
    }
    k
}

#[inline]
fn class(c: char) -> u8 {
    match tables().class.get(c as usize) {
        Some(&k) => k,
        None => class_slow(c),
    }
}

#[inline]
pub(crate) fn is_han(c: char) -> bool {
    class(c) & C_HAN != 0
}

#[inline]
fn is_invisible_or_emoji(c: char) -> bool {
    class(c) & C_INVISIBLE != 0
}

#[inline]
fn is_separator_noise(c: char) -> bool {
    class(c) & C_SEPARATOR != 0
}

#[inline]
fn is_cn_numeral(c: char) -> bool {
    class(c) & C_NUMERAL != 0
}
/// Builds the per-character traditional → simplified table once. fast2s converts a few
/// characters differently by context (乾 in 乾隆); one character at a time is what matters
/// for matching, and a table lookup is what keeps the hot path at memory speed.
fn t2s_table() -> Vec<char> {
    let mut buf = [0u8; 4];
    (T2S_FIRST..=T2S_LAST)
        .map(|cp| {
            let c = char::from_u32(cp).unwrap_or(' ');
            let s = fast2s::convert(c.encode_utf8(&mut buf));
            let mut it = s.chars();
            match (it.next(), it.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

/// A multi-character rewrite: what is written, what it stands for.
type Rewrite = (Vec<char>, Vec<char>);

/// Rewrites text into the form rules are written against (`rules/README.md`).
#[derive(Debug, Clone)]
pub struct Normalizer {
    /// Bitmap over the BMP of the first characters of homophone keys.
    homophone_starts: Box<[u64]>,
    /// Token → (replacement, characters after which it is left alone, rewritten even
    /// away from Han text).
    pinyin: HashMap<String, (Vec<char>, Vec<char>, bool)>,
    homophones: HashMap<char, Vec<Rewrite>>,
}

fn is_han_slow(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt): characters a
/// renderer shows as nothing, so an evader can put them inside a word unseen.
pub(crate) const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Format characters (general category Cf) outside the default-ignorable set: prepended
/// concatenation marks (Arabic, Syriac, Kaithi number signs) and the format controls of
/// interlinear annotation and Egyptian hieroglyphs. Between Han characters they stand for
/// nothing, and left in they would split a word (押\u{0600}金) as well as any zero-width
/// space.
const FORMAT_NOT_IGNORABLE: &[(u32, u32)] = &[
    (0x0600, 0x0605),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
];

/// Characters that carry nothing anywhere: default-ignorables (zero-width marks, BiDi
/// controls, fillers, variation selectors, tags), every other format character, control
/// characters other than white space, the blank braille pattern, emoji and pictographs.
fn is_invisible_or_emoji_slow(c: char) -> bool {
    let cp = c as u32;
    (c.is_control() && !c.is_whitespace())
        || DEFAULT_IGNORABLE
            .iter()
            .chain(FORMAT_NOT_IGNORABLE)
            .any(|&(a, b)| (a..=b).contains(&cp))
        || matches!(cp,
            0x2800 | 0x20E3 | 0x1F000..=0x1FAFF | 0x2600..=0x27BF
            | 0x2B00..=0x2BFF | 0x2190..=0x21FF | 0x25A0..=0x25FF)
}

/// Punctuation that evaders put between the characters of a word; dropped only between
/// two Han characters, so `1.5万` and `22-28岁` keep theirs.
fn is_separator_noise_slow(c: char) -> bool {
    matches!(
        c,
        '.' | '·'
            | '•'
            | '・'
            | '*'
            | '_'
            | '~'
            | '|'
            | '/'
            | '\\'
            | '-'
            | '\''
            | '"'
            | '`'
            | '^'
            | '+'
            | '#'
            | '@'
            | '='
            | '★'
            | '☆'
            | '※'
            | '○'
            | '●'
            | '◎'
            | '◆'
            | '◇'
            | '■'
            | '□'
            | '△'
            | '▲'
            | '▽'
            | '▼'
            | '♀'
            | '♂'
            | '♥'
            | '♡'
            | '✓'
            | '✔'
            | '✕'
            | '✖'
            | '✘'
            | '〃'
            | '‧'
            | '∙'
            | '⋅'
            | '°'
            | '′'
            | '″'
            | '¨'
            | '˙'
            | '－'
            | '—'
            | '–'
            | '…'
    )
}

fn cn_digit(c: char) -> Option<u64> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '壹' | '幺' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

fn cn_unit(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1000,
        '万' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

fn is_cn_numeral_slow(c: char) -> bool {
    cn_digit(c).is_some() || cn_unit(c).is_some()
}

fn is_financial(c: char) -> bool {
    "壹贰叁肆伍陆柒捌玖拾佰仟".contains(c)
}

/// Words after a numeral that show it is a quantity (so `三十五岁` converts, `一线城市` does not).
const UNITS: &[&str] = &[
    "周岁", "岁", "元", "块", "米", "厘米", "公分", "公斤", "斤", "kg", "cm", "个月", "天", "小时",
    "年", "万", "千", "百", "人", "名", "倍", "%", "k", "w", "以下", "以上", "以内", "之内",
    "之间", "左右", "出头", "多", "余",
];

fn starts_with_unit(items: &[Item]) -> bool {
    UNITS.iter().any(|u| {
        let mut it = items.iter();
        u.chars().all(|uc| it.next().is_some_and(|i| i.c == uc))
    })
}

/// Value of a run of Chinese numerals (`三十五` 35, `一万五` 15000, `两千` 2000).
fn cn_value(run: &[Item]) -> Option<u64> {
    let mut total: u64 = 0;
    let mut section: u64 = 0;
    let mut digit: Option<u64> = None;
    let mut last_unit: u64 = 1;
    for it in run {
        if let Some(d) = cn_digit(it.c) {
            if let Some(prev) = digit {
                // 二零二六 written digit by digit
                digit = Some(prev.checked_mul(10)?.checked_add(d)?);
            } else {
                digit = Some(d);
            }
        } else if let Some(u) = cn_unit(it.c) {
            if u >= 10_000 {
                section += digit.take().unwrap_or(0);
                total = total.checked_add(section.max(1).checked_mul(u)?)?;
                section = 0;
            } else {
                section += digit.take().unwrap_or(1) * u;
            }
            last_unit = u;
        }
    }
    if let Some(d) = digit {
        // 一万五 = 15000, 两千五 = 2500: a trailing bare digit is one order below the last unit.
        if d < 10 && last_unit >= 100 && run.len() >= 3 {
            section += d * (last_unit / 10);
        } else {
            section += d;
        }
    }
    total.checked_add(section)
}

impl Normalizer {
    /// A normaliser with the evasion tables of `lexicon`.
    pub fn new(lexicon: &Lexicon) -> Normalizer {
        let mut pinyin = HashMap::new();
        let tables = [(&lexicon.pinyin, false), (&lexicon.english, true)];
        for (table, anywhere) in tables {
            for (token, rep) in table {
                pinyin.insert(
                    token.clone(),
                    (rep.to.chars().collect(), rep.not_before.clone(), anywhere),
                );
            }
        }
        let mut homophones: HashMap<char, Vec<Rewrite>> = HashMap::new();
        let plain = Normalizer {
            homophone_starts: vec![0; 0x10000 / 64].into_boxed_slice(),
            pinyin: HashMap::new(),
            homophones: HashMap::new(),
        };
        for (from, to) in &lexicon.homophones {
            // Keys are matched after the earlier passes, so they are normalised the same way.
            let from_n: Vec<char> = plain.normalize_owned(from).as_str().chars().collect();
            let to_n: Vec<char> = plain.normalize_owned(to).as_str().chars().collect();
            if let Some(&first) = from_n.first() {
                homophones.entry(first).or_default().push((from_n, to_n));
            }
        }
        for list in homophones.values_mut() {
            list.sort_by_key(|r| std::cmp::Reverse(r.0.len()));
        }
        let mut homophone_starts = plain.homophone_starts;
        for &c in homophones.keys() {
            if let Some(w) = homophone_starts.get_mut(c as usize / 64) {
                *w |= 1 << (c as usize % 64);
            }
        }
        Normalizer {
            homophone_starts,
            pinyin,
            homophones,
        }
    }

    /// Normalises `text` into a new [`NormText`].
    pub fn normalize_owned(&self, text: &str) -> NormText {
        let mut out = NormText::default();
        self.normalize(text, &mut out, &mut Scratch::default());
        out
    }

    /// Normalises `text` into `out`, reusing `scratch`.
    pub fn normalize(&self, text: &str, out: &mut NormText, scratch: &mut Scratch) {
        out.text.clear();
        let Scratch { a, b } = scratch;
        a.clear();
        let seen = self.fold(text, a);
        // Each later pass runs only if the fold saw something it could change: most
        // fields of an ordinary posting skip most of them.
        let (mut cur, mut next) = (a, b);
        if seen.noise {
            next.clear();
            drop_noise(cur, next);
            std::mem::swap(&mut cur, &mut next);
        }
        if seen.letters {
            next.clear();
            self.rewrite_ascii_tokens(cur, next);
            std::mem::swap(&mut cur, &mut next);
        }
        if seen.homophone {
            next.clear();
            self.rewrite_homophones(cur, next);
            std::mem::swap(&mut cur, &mut next);
        }
        if seen.numeral {
            next.clear();
            numerals(cur, next);
            std::mem::swap(&mut cur, &mut next);
        }
        out.text.reserve(cur.len() * 3);
        out.text.extend(cur.iter().map(|it| it.c));
        // Copied, not swapped: a swap would pass buffers round between fields of different
        // sizes, and each pass round would grow one again.
        out.items.clear();
        out.items.extend_from_slice(cur);
    }

    /// Compatibility folding (full-width, enclosed digits), traditional → simplified, ASCII
    /// lower-case; reports which later passes have work to do.
    fn fold(&self, text: &str, out: &mut Vec<Item>) -> Seen {
        let t = tables();
        let mut seen_class = 0u8;
        let mut seen = Seen::default();
        for (i, orig) in text.char_indices() {
            let (start, end) = (i as u32, (i + orig.len_utf8()) as u32);
            let folded = t.fold.get(orig as usize).copied().unwrap_or('\0');
            if folded != '\0' {
                // A BMP character may fold to one beyond it (U+FA6C to U+242EE).
                seen_class |= class(folded);
                seen.letters |= folded.is_ascii_lowercase();
                seen.homophone |= self.is_homophone_start(folded);
                out.push(Item {
                    c: folded,
                    start,
                    end,
                });
            } else {
                decompose_compatible(orig, |d| {
                    if !is_combining_mark(d) {
                        let d = d.to_ascii_lowercase();
                        seen_class |= class(d);
                        seen.letters |= d.is_ascii_lowercase();
                        seen.homophone |= self.is_homophone_start(d);
                        out.push(Item { c: d, start, end });
                    }
                });
            }
        }
        seen.noise = seen_class & (C_SEPARATOR | C_SPACE | C_INVISIBLE) != 0;
        seen.numeral = seen_class & C_NUMERAL != 0;
        seen
    }

    #[inline]
    fn is_homophone_start(&self, c: char) -> bool {
        match self.homophone_starts.get(c as usize / 64) {
            Some(w) => w & (1 << (c as usize % 64)) != 0,
            None => self.homophones.contains_key(&c),
        }
    }

    /// `yj` → 押金 (a whole ASCII-letter token next to Han text), `8k` → 8千, `3w` → 3万.
    fn rewrite_ascii_tokens(&self, input: &[Item], out: &mut Vec<Item>) {
        let mut i = 0;
        while i < input.len() {
            if !input[i].c.is_ascii_lowercase() {
                out.push(input[i]);
                i += 1;
                continue;
            }
            let mut j = i;
            while j < input.len() && input[j].c.is_ascii_lowercase() {
                j += 1;
            }
            let prev = i.checked_sub(1).map(|p| input[p].c);
            let next = input.get(j).map(|x| x.c);
            let (start, end) = (input[i].start, input[j - 1].end);
            let len = j - i;
            let token_is = |s: &str| {
                len == s.len() && input[i..j].iter().zip(s.chars()).all(|(x, c)| x.c == c)
            };
            if prev.is_some_and(|p| p.is_ascii_digit()) && (token_is("w") || token_is("k")) {
                let c = if token_is("w") { '万' } else { '千' };
                out.push(Item { c, start, end });
                i = j;
                continue;
            }
            // `750px` is a unit, `交yj500` an evasion: a digit may follow, not precede.
            let alone = !prev.is_some_and(|p| p.is_ascii_alphanumeric())
                && !next.is_some_and(|n| n.is_ascii_alphabetic());
            let near_han = prev.is_some_and(is_han) || next.is_some_and(is_han);
            if alone && len <= 16 {
                let mut key = [0u8; 16];
                for (k, x) in input[i..j].iter().enumerate() {
                    key[k] = x.c as u8;
                }
                let key = std::str::from_utf8(&key[..len]).unwrap_or("");
                if let Some((to, not_before, anywhere)) = self.pinyin.get(key) {
                    if (near_han || *anywhere) && !next.is_some_and(|n| not_before.contains(&n)) {
                        out.extend(to.iter().map(|&c| Item { c, start, end }));
                        i = j;
                        continue;
                    }
                }
            }
            out.extend_from_slice(&input[i..j]);
            i = j;
        }
    }

    fn rewrite_homophones(&self, input: &[Item], out: &mut Vec<Item>) {
        if self.homophones.is_empty() {
            out.extend_from_slice(input);
            return;
        }
        let mut i = 0;
        'outer: while i < input.len() {
            // The bitmap answers for almost every character without hashing it.
            let cands = if self.is_homophone_start(input[i].c) {
                self.homophones.get(&input[i].c)
            } else {
                None
            };
            if let Some(cands) = cands {
                for (from, to) in cands {
                    let n = from.len();
                    if i + n <= input.len()
                        && input[i..i + n].iter().zip(from).all(|(x, c)| x.c == *c)
                    {
                        if n == to.len() {
                            for (k, &c) in to.iter().enumerate() {
                                out.push(Item { c, ..input[i + k] });
                            }
                        } else {
                            let (start, end) = (input[i].start, input[i + n - 1].end);
                            out.extend(to.iter().map(|&c| Item { c, start, end }));
                        }
                        i += n;
                        continue 'outer;
                    }
                }
            }
            out.push(input[i]);
            i += 1;
        }
    }
}

fn drop_noise(input: &[Item], out: &mut Vec<Item>) {
    let mut i = 0;
    while i < input.len() {
        let it = input[i];
        if is_invisible_or_emoji(it.c) {
            i += 1;
            continue;
        }
        let ws = it.c.is_whitespace() && it.c != '\n';
        if ws || is_separator_noise(it.c) {
            // Look past the whole run of noise to the next real character.
            let mut j = i;
            let mut spaces = 0;
            while j < input.len()
                && (is_invisible_or_emoji(input[j].c)
                    || (input[j].c.is_whitespace() && input[j].c != '\n')
                    || (!ws && is_separator_noise(input[j].c)))
            {
                if input[j].c.is_whitespace() {
                    spaces += 1;
                }
                j += 1;
            }
            let prev = out.last().map(|x| x.c);
            let next = input.get(j).map(|x| x.c);
            let tab = input[i..j].iter().any(|x| x.c == '\t');
            // `助理 | 女 | 本科`: a bar set off by spaces separates fields, like a line break;
            // a bare one between two characters (`押|金`) is an evasion.
            let bar = !ws
                && input[i..j].iter().any(|x| matches!(x.c, '|' | '｜'))
                && (spaces > 0 || i.checked_sub(1).is_some_and(|k| input[k].c.is_whitespace()));
            if bar {
                out.push(Item { c: '\n', ..it });
                i = j;
                continue;
            }
            if ws {
                if spaces >= 3 || tab {
                    // A wide gap separates items like a line break does.
                    out.push(Item { c: '\n', ..it });
                } else if prev.is_some_and(|p| p.is_ascii_alphanumeric())
                    && next.is_some_and(|n| n.is_ascii_alphanumeric())
                {
                    out.push(Item { c: ' ', ..it });
                }
                i = j;
                continue;
            }
            if prev.is_some_and(is_han) && next.is_some_and(is_han) {
                i = j;
                continue;
            }
            out.extend_from_slice(&input[i..j]);
            i = j;
            continue;
        }
        out.push(it);
        i += 1;
    }
}

fn numerals(input: &[Item], out: &mut Vec<Item>) {
    let mut i = 0;
    while i < input.len() {
        if !is_cn_numeral(input[i].c) {
            out.push(input[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < input.len() && is_cn_numeral(input[j].c) {
            j += 1;
        }
        let run = &input[i..j];
        let rest = &input[j..];
        let next = rest.first().map(|x| x.c);
        let prev = i.checked_sub(1).map(|p| input[p].c);
        let connector = |c: char| matches!(c, '到' | '至' | '~' | '-');
        // `3万元`, `1.5千`: the unit multiplies the Arabic number before it and stays.
        let multiplier =
            prev.is_some_and(|c| c.is_ascii_digit() || c == '.') && cn_digit(run[0].c).is_none();
        // `一两百`, `三五千`: two digits side by side are an approximate range, no number.
        let approximate = run
            .windows(2)
            .any(|w| cn_digit(w[0].c).is_some() && cn_digit(w[1].c).is_some())
            && run.iter().any(|x| cn_unit(x.c).is_some());
        let quantity = !multiplier
            && !approximate
            && (run.iter().any(|x| is_financial(x.c))
                || starts_with_unit(rest)
                || (next.is_some_and(connector)
                    && rest
                        .get(1)
                        .is_some_and(|x| x.c.is_ascii_digit() || is_cn_numeral(x.c)))
                || (prev.is_some_and(connector)
                    && i >= 2
                    && input[i - 2].c.is_ascii_digit()
                    && starts_with_unit(rest))
                || (run.len() >= 2
                    && matches!(run[run.len() - 1].c, '万' | '千' | '百')
                    && (cn_digit(run[0].c).is_some() || run[0].c == '十'))
                || (run.len() >= 3
                    && run.iter().any(|x| cn_unit(x.c).is_some())
                    && run.iter().any(|x| cn_digit(x.c).is_some())));
        let value = if quantity { cn_value(run) } else { None };
        match value {
            Some(v) => {
                let (start, end) = (run[0].start, run[run.len() - 1].end);
                let last = run[run.len() - 1].c;
                let ten_thousands =
                    last == '万' && v >= 10_000 && v % 10_000 == 0 && run.len() >= 2;
                let shown = if ten_thousands { v / 10_000 } else { v };
                // Written digit by digit rather than through a String: this runs for most
                // fields, and normalising allocates nothing once warm.
                let mut buf = [0u8; 20];
                let mut k = buf.len();
                let mut rest = shown;
                loop {
                    k -= 1;
                    buf[k] = b'0' + (rest % 10) as u8;
                    rest /= 10;
                    if rest == 0 {
                        break;
                    }
                }
                out.extend(buf[k..].iter().map(|&d| Item {
                    c: char::from(d),
                    start,
                    end,
                }));
                if ten_thousands {
                    out.push(Item {
                        c: '万',
                        start,
                        end,
                    });
                }
            }
            None => out.extend_from_slice(run),
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xuncha_rules::Replacement;

    fn lexicon() -> Lexicon {
        let rep = |to: &str, nb: &str| Replacement {
            to: to.into(),
            not_before: nb.chars().collect(),
        };
        Lexicon {
            english: vec![("deposit".into(), rep("押金", ""))],
            pinyin: vec![
                ("yj".into(), rep("押金", "")),
                ("sd".into(), rep("刷单", "卡")),
                ("nv".into(), rep("女", "")),
                ("vx".into(), rep("微信", "")),
            ],
            homophones: vec![
                ("压金".into(), "押金".into()),
                ("日洁".into(), "日结".into()),
            ],
            duty_markers: vec![],
            warning_markers: vec![],
            warning_headers: vec![],
            applicant_speakers: vec![],
            attributes: vec![],
        }
    }

    fn norm(s: &str) -> String {
        Normalizer::new(&lexicon())
            .normalize_owned(s)
            .as_str()
            .to_string()
    }

    #[test]
    fn folds_width_script_and_case() {
        assert_eq!(norm("加ＶＸ：ＡＢＣ１２３"), "加微信:abc123");
        assert_eq!(norm("保證金"), "保证金");
        assert_eq!(norm("培訓費"), "培训费");
        assert_eq!(norm("Java"), "java");
    }

    #[test]
    fn drops_noise_between_han_only() {
        assert_eq!(norm("押 金"), "押金");
        assert_eq!(norm("押.金"), "押金");
        assert_eq!(norm("乙★肝"), "乙肝");
        assert_eq!(norm("押\u{200b}金💰"), "押金");
        assert_eq!(norm("1.5万"), "1.5万");
        assert_eq!(norm("22-28岁"), "22-28岁");
        assert_eq!(norm("hello world"), "hello world");
        assert_eq!(norm("助理 | 女 | 本科"), "助理\n女\n本科");
        assert_eq!(norm("押|金"), "押金");
        assert_eq!(norm("性别\t男"), "性别\n男");
    }

    #[test]
    fn english_words_are_read_anywhere_pinyin_only_beside_han() {
        let n = Normalizer::new(&lexicon());
        assert_eq!(
            n.normalize_owned("pay deposit 500").as_str(),
            "pay 押金 500"
        );
        assert_eq!(n.normalize_owned("deposits 500").as_str(), "deposits 500");
        assert_eq!(n.normalize_owned("yj 500").as_str(), "yj 500");
        assert_eq!(n.normalize_owned("交yj500").as_str(), "交押金500");
    }

    #[test]
    fn keeps_a_unit_after_arabic_digits() {
        let n = Normalizer::new(&lexicon());
        assert_eq!(n.normalize_owned("急招3万人").as_str(), "急招3万人");
        assert_eq!(n.normalize_owned("3万元").as_str(), "3万元");
        assert_eq!(n.normalize_owned("1.5千元").as_str(), "1.5千元");
        assert_eq!(n.normalize_owned("一天一两百").as_str(), "1天一两百");
        assert_eq!(n.normalize_owned("三五千元").as_str(), "三五千元");
    }

    #[test]
    fn converts_numerals_only_as_quantities() {
        assert_eq!(norm("叁拾伍岁"), "35岁");
        assert_eq!(norm("三十五岁以下"), "35岁以下");
        assert_eq!(norm("十八到三十五岁"), "18到35岁");
        assert_eq!(norm("月入三万"), "月入3万");
        assert_eq!(norm("一万五"), "15000");
        assert_eq!(norm("两千元"), "2000元");
        assert_eq!(norm("②⓪岁"), "20岁");
        assert_eq!(norm("一线城市"), "一线城市");
        assert_eq!(norm("统一管理"), "统一管理");
        assert_eq!(norm("千万不要"), "千万不要");
        assert_eq!(norm("年龄四十以下"), "年龄40以下");
        assert_eq!(norm("每人两百"), "每人200");
        assert_eq!(norm("百分百"), "百分百");
        assert_eq!(norm("三十出头"), "30出头");
        assert_eq!(norm("8k"), "8千");
        assert_eq!(norm("1.5w"), "1.5万");
    }

    #[test]
    fn rewrites_evasions() {
        assert_eq!(norm("交yj500"), "交押金500");
        assert_eq!(norm("nv生优先"), "女生优先");
        assert_eq!(norm("压金300"), "押金300");
        assert_eq!(norm("日洁"), "日结");
        assert_eq!(norm("sd卡驱动"), "sd卡驱动");
        assert_eq!(norm("750px设计稿"), "750px设计稿");
    }

    #[test]
    fn a_character_that_folds_beyond_the_basic_plane_is_read() {
        // CJK compatibility ideographs fold to ideographs of plane 2.
        let folded = norm("押\u{FA6C}金");
        assert!(folded.contains('\u{242EE}'), "{folded:?}");
    }

    #[test]
    fn nothing_invisible_splits_a_word() {
        let mut invisible: Vec<char> = DEFAULT_IGNORABLE
            .iter()
            .flat_map(|&(a, b)| a..=b)
            .filter_map(char::from_u32)
            .collect();
        invisible.extend((0..0x20u8).map(char::from).filter(|c| !c.is_whitespace()));
        invisible.extend(['\u{7f}', '\u{80}', '\u{9b}', '\u{2800}']);
        assert!(invisible.len() > 4000, "the whole set: {}", invisible.len());
        for c in invisible {
            assert_eq!(norm(&format!("押{c}金")), "押金", "U+{:04X}", c as u32);
            assert_eq!(
                norm(&format!("押{c}{c}{c}金")),
                "押金",
                "U+{:04X} x3",
                c as u32
            );
        }
        // White space is not invisible: it still separates lines and words.
        assert_eq!(norm("a\nb"), "a\nb");
    }

    #[test]
    fn maps_back_to_original_bytes() {
        let n = Normalizer::new(&lexicon());
        let orig = "需交 押 金 叁佰元";
        let t = n.normalize_owned(orig);
        assert_eq!(t.as_str(), "需交押金300元");
        let s = t.as_str().find("押金").unwrap();
        let (a, b) = t.original_range(s, s + "押金".len());
        assert_eq!(&orig[a..b], "押 金");
        let s = t.as_str().find("300").unwrap();
        let (a, b) = t.original_range(s, s + 3);
        assert_eq!(&orig[a..b], "叁佰");
    }
}
