//! MinHash signatures of a posting's text, and the banded index that finds near-identical
//! ones without comparing every pair.
//!
//! The text (title and description) is folded for width and case and reduced to its
//! letters, CJK characters and numbers (every number written as one `0`, so that a ring
//! changing its phone number or its pay keeps its signature), then cut into the set of its
//! overlapping character 3-grams. The signature is, for each of [`HASHES`] fixed hash
//! functions, the least hash of any 3-gram: two texts agree on a position with the
//! probability that a 3-gram of either is in both (their Jaccard similarity), so the share
//! of equal positions estimates it. Job postings are short; a MinHash signature stays
//! as sharp on a hundred characters as on a thousand, where a SimHash of a short text
//! moves many bits for one edited word.
//!
//! Two texts are near-identical when at least [`MIN_SIMILARITY`] of their positions agree.
//! The signature is cut into [`BANDS`] bands of [`ROWS`] positions; a store indexes each
//! posting under its bands and compares only postings that share one: a pair at 0.8
//! shares a band with probability 1 − (1 − 0.8⁴)⁸ ≈ 0.985, an unrelated pair at 0.2 with
//! 0.013.

use std::collections::HashSet;
use std::hash::Hasher;

use siphasher::sip::SipHasher24;
use xuncha_core::Posting;

use crate::fold::{fold_char, is_invisible, numeral};

/// Characters per shingle.
pub const SHINGLE: usize = 3;
/// The most shingles of one text: a long text is signed by its beginning.
pub const MAX_SHINGLES: usize = 4096;
/// The fewest letters and CJK characters (numbers not counted) a text needs to be signed:
/// short texts (招普工，包吃住) are alike without being one author's.
pub const MIN_CHARS: usize = 40;
/// Positions of a signature.
pub const HASHES: usize = 32;
/// Bands of the index.
pub const BANDS: usize = 8;
/// Positions per band.
pub const ROWS: usize = HASHES / BANDS;
/// The share of agreeing positions from which two texts are near-identical.
pub const MIN_SIMILARITY: f64 = 0.75;

/// Fixed keys: a signature must mean the same in every release that reads it.
const KEYS: (u64, u64) = (0x7875_6e63_6861_2d6d, 0x696e_6861_7368_2d31);

/// The multipliers and offsets of the hash functions, fixed for the same reason: drawn
/// once from SplitMix64 seeded with 0 (multipliers made odd).
const fn permutations() -> [(u64, u64); HASHES] {
    let mut out = [(0u64, 0u64); HASHES];
    let mut state = 0u64;
    let mut i = 0;
    while i < HASHES {
        let mut pair = [0u64; 2];
        let mut j = 0;
        while j < 2 {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            pair[j] = z ^ (z >> 31);
            j += 1;
        }
        out[i] = (pair[0] | 1, pair[1]);
        i += 1;
    }
    out
}
const PERMUTATIONS: [(u64, u64); HASHES] = permutations();

/// A MinHash signature.
pub type Signature = [u32; HASHES];

/// The signature of a posting's title and description, if they are long enough.
pub fn minhash(posting: &Posting) -> Option<Signature> {
    let mut text = String::new();
    for part in [&posting.title, &posting.description].into_iter().flatten() {
        text.push_str(part);
        text.push('\n');
    }
    minhash_text(&text)
}

/// The signature of one text, if it has at least [`MIN_CHARS`] letters and CJK
/// characters.
///
/// ```
/// use xuncha_campaigns::{minhash_text, similarity, MIN_SIMILARITY};
/// let a = minhash_text("诚聘日结兼职，在家手机操作，无需经验，每天两小时，日赚300元，名额有限，欢迎宝妈学生加入，请联系微信abc123").unwrap();
/// let b = minhash_text("诚聘日结兼职，在家手机操作，无需经验，每天两小时，日赚500元，名额有限，欢迎宝妈学生加入，请联系微信xyz789").unwrap();
/// let c = minhash_text("招聘仓库管理员，负责货物出入库登记与盘点，要求熟练使用电脑办公软件，有叉车证者优先，五险一金").unwrap();
/// assert!(similarity(&a, &b) >= MIN_SIMILARITY);
/// assert!(similarity(&a, &c) < 0.2);
/// ```
pub fn minhash_text(text: &str) -> Option<Signature> {
    let mut chars: Vec<char> = Vec::new();
    let mut letters = 0;
    for c in text.chars().filter(|c| !is_invisible(*c)) {
        if chars.len() == MAX_SHINGLES + SHINGLE - 1 {
            break;
        }
        let c = match numeral(c) {
            Some(_) => '0',
            None => fold_char(c),
        };
        if c.is_ascii_digit() {
            if chars.last() != Some(&'0') {
                chars.push('0');
            }
        } else if c.is_alphanumeric() {
            letters += 1;
            chars.push(c);
        }
    }
    if letters < MIN_CHARS {
        return None;
    }
    let mut shingles = HashSet::with_capacity(chars.len());
    let mut buf = [0u8; 4 * SHINGLE];
    for w in chars.windows(SHINGLE) {
        let mut n = 0;
        for c in w {
            n += c.encode_utf8(&mut buf[n..]).len();
        }
        let mut h = SipHasher24::new_with_keys(KEYS.0, KEYS.1);
        h.write(&buf[..n]);
        shingles.insert(h.finish());
    }
    let mut sig = [u32::MAX; HASHES];
    for h in shingles {
        for (s, (a, b)) in sig.iter_mut().zip(PERMUTATIONS) {
            *s = (*s).min((a.wrapping_mul(h).wrapping_add(b) >> 32) as u32);
        }
    }
    Some(sig)
}

/// The share of positions two signatures agree on: an estimate of the Jaccard similarity
/// of their texts' 3-grams.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / HASHES as f64
}

/// A signature as records carry it: 8 hex digits a position.
pub fn to_hex(sig: &Signature) -> String {
    sig.iter().map(|x| format!("{x:08x}")).collect()
}

/// A signature from its hex digits.
pub fn from_hex(s: &str) -> Option<Signature> {
    if s.len() != 8 * HASHES || !s.is_ascii() {
        return None;
    }
    let mut sig = [0u32; HASHES];
    for (i, x) in sig.iter_mut().enumerate() {
        *x = u32::from_str_radix(&s[8 * i..8 * i + 8], 16).ok()?;
    }
    Some(sig)
}

/// The index keys of a signature, one a band: a hash of the band's number and positions,
/// so bands of different numbers never meet.
pub fn bands(sig: &Signature) -> [i64; BANDS] {
    std::array::from_fn(|i| {
        let mut h = SipHasher24::new_with_keys(KEYS.0, KEYS.1);
        h.write_u8(i as u8);
        for x in &sig[i * ROWS..(i + 1) * ROWS] {
            h.write_u32(*x);
        }
        h.finish() as i64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AD: &str = "高薪招聘网络兼职打字员，手机电脑均可操作，时间自由，在家就能做，日结工资200-500元，无需押金，名额有限先到先得，";

    #[test]
    fn one_text_with_other_numbers_and_handles_is_near_identical() {
        let a = minhash_text(&format!("{AD}联系微信 abc888，电话13912345678")).unwrap();
        let b = minhash_text(&format!("{AD}联系微信 abc888，电话13800001111")).unwrap();
        let c = minhash_text(&format!("{AD}联系薇信 ＡＢＣ888，电话13912345678")).unwrap();
        assert_eq!(a, b, "numbers are all one number");
        assert!(
            similarity(&a, &c) >= MIN_SIMILARITY,
            "{}",
            similarity(&a, &c)
        );
        let (x, y) = (bands(&a), bands(&c));
        assert!(x.iter().zip(&y).any(|(p, q)| p == q));
    }

    #[test]
    fn unrelated_texts_share_no_band() {
        let a = minhash_text(AD).unwrap();
        let b = minhash_text("招聘仓库管理员，负责货物出入库登记与盘点，要求熟练使用电脑办公软件，有叉车证者优先，五险一金，周末双休").unwrap();
        assert!(similarity(&a, &b) < 0.2);
        assert!(bands(&a).iter().all(|x| !bands(&b).contains(x)));
    }

    #[test]
    fn short_texts_have_no_signature() {
        assert_eq!(
            minhash_text("招普工，包吃住，月薪5000-8000元，电话13912345678"),
            None
        );
    }

    #[test]
    fn hex_round_trips() {
        let s = minhash_text(AD).unwrap();
        assert_eq!(from_hex(&to_hex(&s)), Some(s));
        assert_eq!(from_hex("xyz"), None);
        assert_eq!(from_hex(&"g".repeat(256)), None);
    }

    #[test]
    fn the_signature_of_a_text_never_changes() {
        // Stored signatures are compared with new ones: this value must hold forever.
        assert_eq!(
            &to_hex(&minhash_text(AD).unwrap())[..32],
            "065f1fea0669c37605be95a808ac69cf"
        );
    }
}
