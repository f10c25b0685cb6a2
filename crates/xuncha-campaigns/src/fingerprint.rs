//! SimHash fingerprints of a posting's text, and the banded index that finds
//! near-identical ones without comparing every pair.
//!
//! The text (title and description) is folded for width and case, reduced to its letters,
//! CJK characters and digits (every digit written as `0`, so that a ring changing its phone
//! number or its pay keeps its fingerprint), and cut into overlapping character 3-grams.
//! Each 3-gram's 64-bit SipHash votes on every bit; the fingerprint keeps the bits most
//! 3-grams voted for. Two texts that differ in a few words differ in a few bits.
//!
//! Two fingerprints are near-identical when at most [`MAX_DISTANCE`] bits differ. Split
//! into [`BANDS`] bands of 16 bits, two such fingerprints share at least one band exactly
//! (four bands, three differing bits: one band is untouched), so a store indexes each
//! posting under its four bands and compares only the postings of those four buckets.

use std::hash::Hasher;

use siphasher::sip::SipHasher24;
use xuncha_core::Posting;

use crate::fold::{fold_char, is_invisible, numeral};

/// Characters per shingle.
pub const SHINGLE: usize = 3;
/// The most shingles of one text: a long text is fingerprinted by its beginning.
pub const MAX_SHINGLES: usize = 4096;
/// The fewest normalised characters a text needs to have a fingerprint: short texts
/// (招普工，包吃住) are alike without being one author's.
pub const MIN_CHARS: usize = 40;
/// The most differing bits of two near-identical fingerprints.
pub const MAX_DISTANCE: u32 = 3;
/// Bands of the index; [`MAX_DISTANCE`] + 1 of them, so two near-identical fingerprints
/// share one.
pub const BANDS: usize = 4;

/// Fixed keys: a fingerprint must mean the same in every release that reads it.
const KEYS: (u64, u64) = (0x7875_6e63_6861_2d73, 0x696d_6861_7368_2d31);

/// The fingerprint of a posting's title and description, if they are long enough.
pub fn simhash(posting: &Posting) -> Option<u64> {
    let mut text = String::new();
    for part in [&posting.title, &posting.description].into_iter().flatten() {
        text.push_str(part);
        text.push('\n');
    }
    simhash_text(&text)
}

/// The fingerprint of one text, if it has at least [`MIN_CHARS`] letters and digits.
///
/// ```
/// use xuncha_campaigns::{distance, simhash_text, MAX_DISTANCE};
/// let a = simhash_text("诚聘日结兼职，在家手机操作，无需经验，每天两小时，日赚300元，名额有限，请联系微信abc123").unwrap();
/// let b = simhash_text("诚聘日结兼职，在家手机操作，无需经验，每天两小时，日赚500元，名额有限，请联系微信abc888").unwrap();
/// let c = simhash_text("招聘仓库管理员，负责货物出入库登记与盘点，要求熟练使用电脑办公软件，有叉车证者优先，五险一金").unwrap();
/// assert!(distance(a, b) <= MAX_DISTANCE);
/// assert!(distance(a, c) > MAX_DISTANCE);
/// ```
pub fn simhash_text(text: &str) -> Option<u64> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| match numeral(c) {
            Some(_) => '0',
            None => fold_char(c),
        })
        .filter(|c| c.is_alphanumeric())
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .take(MAX_SHINGLES + SHINGLE - 1)
        .collect();
    if chars.len() < MIN_CHARS {
        return None;
    }
    let mut votes = [0i32; 64];
    let mut buf = [0u8; 4 * SHINGLE];
    for w in chars.windows(SHINGLE) {
        let mut n = 0;
        for c in w {
            n += c.encode_utf8(&mut buf[n..]).len();
        }
        let mut h = SipHasher24::new_with_keys(KEYS.0, KEYS.1);
        h.write(&buf[..n]);
        let h = h.finish();
        for (bit, v) in votes.iter_mut().enumerate() {
            *v += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    Some(
        votes
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit),
    )
}

/// How many bits two fingerprints differ in.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// A fingerprint as records carry it: 16 hex digits.
pub fn to_hex(h: u64) -> String {
    format!("{h:016x}")
}

/// A fingerprint from its 16 hex digits.
pub fn from_hex(s: &str) -> Option<u64> {
    (s.len() == 16).then(|| u64::from_str_radix(s, 16).ok())?
}

/// The index keys of a fingerprint: for band `i`, `i << 16 | bits 16i..16i+16`, so the
/// bands of different positions never collide.
///
/// ```
/// let b = xuncha_campaigns::bands(0x0123_4567_89ab_cdef);
/// assert_eq!(b, [0xcdef, 1 << 16 | 0x89ab, 2 << 16 | 0x4567, 3 << 16 | 0x0123]);
/// ```
pub fn bands(h: u64) -> [i64; BANDS] {
    std::array::from_fn(|i| ((i as i64) << 16) | ((h >> (16 * i)) & 0xffff) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AD: &str = "高薪招聘网络兼职打字员，手机电脑均可操作，时间自由，在家就能做，日结工资200-500元，无需押金，名额有限先到先得，";

    #[test]
    fn one_text_with_other_numbers_and_handles_is_near_identical() {
        let a = simhash_text(&format!("{AD}联系微信 abc888，电话13912345678")).unwrap();
        let b = simhash_text(&format!("{AD}联系微信 abc888，电话13800001111")).unwrap();
        let c = simhash_text(&format!("{AD}联系薇信 ＡＢＣ888，电话13912345678")).unwrap();
        assert_eq!(a, b, "digits are all one digit");
        assert!(distance(a, c) <= MAX_DISTANCE, "{}", distance(a, c));
    }

    #[test]
    fn short_texts_have_no_fingerprint() {
        assert_eq!(simhash_text("招普工，包吃住，月薪5000"), None);
    }

    #[test]
    fn near_identical_fingerprints_share_a_band() {
        let h = 0xdead_beef_cafe_f00d_u64;
        for flips in [[0, 1, 2], [5, 21, 60], [15, 31, 47]] {
            let g = flips.iter().fold(h, |acc, b| acc ^ 1 << b);
            assert!(distance(h, g) <= MAX_DISTANCE);
            let (x, y) = (bands(h), bands(g));
            assert!(x.iter().zip(&y).any(|(a, b)| a == b));
        }
    }

    #[test]
    fn hex_round_trips() {
        let h = 0x0012_3456_789a_bcde;
        assert_eq!(from_hex(&to_hex(h)), Some(h));
        assert_eq!(from_hex("xyz"), None);
    }

    #[test]
    fn the_fingerprint_of_a_text_never_changes() {
        // Stored fingerprints are compared with new ones: this value must hold forever.
        assert_eq!(to_hex(simhash_text(AD).unwrap()), "fe01001fecd7cc95");
    }
}
