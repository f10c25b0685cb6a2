use sha2::{Digest, Sha256};

use crate::Category;

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The deterministic id of the lead for (posting, category) at one content version:
/// 32 hex digits of SHA-256 over the three parts, separated so that no two different
/// triples can serialise alike.
///
/// ```
/// use xuncha_core::{lead_id, Category};
/// let a = lead_id("site-1", Category::FeeDeposit, "abc");
/// assert_eq!(a, lead_id("site-1", Category::FeeDeposit, "abc"));
/// assert_ne!(a, lead_id("site-1", Category::FeeDeposit, "abd"));
/// assert_eq!(a.len(), 32);
/// ```
pub fn lead_id(posting_id: &str, category: Category, content_sha256: &str) -> String {
    let mut h = Sha256::new();
    for part in [posting_id, category.as_str(), content_sha256] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let mut s = hex(&h.finalize());
    s.truncate(32);
    s
}

/// Lower-case hex of `bytes`, for digests computed piecewise (a line hashed as it streams).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn lead_id_separates_parts() {
        // Without length prefixes ("a","bc") and ("ab","c") would collide.
        assert_ne!(
            lead_id("a", Category::FeeOther, "bc"),
            lead_id("ab", Category::FeeOther, "c")
        );
        assert_ne!(
            lead_id("p", Category::FeeOther, "h"),
            lead_id("p", Category::FeeDeposit, "h")
        );
    }
}
