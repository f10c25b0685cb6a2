//! 统一社会信用代码 (unified social credit code, GB 32100-2015): check-digit validation and
//! extraction from text.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use xuncha_core::Span;

/// The 31 characters a credit code is written in (I, O, S, V, Z are left out), in value
/// order: the value of a character is its index.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weight of each of the first 17 positions: 3^i mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// A 统一社会信用代码 whose check character is right. Holding one proves only that the code
/// is well formed; whether such an organisation exists is for a register to say.
///
/// ```
/// use xuncha_registry::CreditCode;
/// let code = CreditCode::complete("91000000MA0000001").unwrap();
/// assert_eq!(code.as_str().len(), 18);
/// assert!(CreditCode::parse(code.as_str()).is_ok());
/// // Change one character and the check fails.
/// let tampered = code.as_str().replacen("MA", "MB", 1);
/// assert!(CreditCode::parse(&tampered).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CreditCode(String);

/// Why a string is not a valid credit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not 18 characters.
    #[error("a credit code has 18 characters, this has {0}")]
    Length(usize),
    /// A character outside [`ALPHABET`] (upper case; I, O, S, V, Z are never used).
    #[error("`{ch}` at position {pos} is not a credit-code character")]
    Character {
        /// 1-based position.
        pos: usize,
        /// The character.
        ch: char,
    },
    /// The 18th character is not the one the first 17 give.
    #[error("check character is `{found}`, the first 17 give `{expected}`")]
    Check {
        /// What it should be.
        expected: char,
        /// What it is.
        found: char,
    },
}

impl CreditCode {
    /// Validates an 18-character code (surrounding space is ignored; letters must be
    /// upper case, as the standard writes them).
    pub fn parse(s: &str) -> Result<CreditCode, CreditCodeError> {
        let s = s.trim();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        let expected = check_char_of(&chars[..17])?;
        let found = chars[17];
        if value(found).is_none() {
            return Err(CreditCodeError::Character { pos: 18, ch: found });
        }
        if found != expected {
            return Err(CreditCodeError::Check { expected, found });
        }
        Ok(CreditCode(s.to_string()))
    }

    /// The check character for the first 17 characters of a code.
    ///
    /// ```
    /// use xuncha_registry::CreditCode;
    /// let c = CreditCode::check_char("91000000MA0000001").unwrap();
    /// assert!(xuncha_registry::credit_code::ALPHABET.contains(c));
    /// ```
    pub fn check_char(first17: &str) -> Result<char, CreditCodeError> {
        let chars: Vec<char> = first17.chars().collect();
        if chars.len() != 17 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        check_char_of(&chars)
    }

    /// The full code for 17 characters: appends their check character.
    pub fn complete(first17: &str) -> Result<CreditCode, CreditCodeError> {
        let c = CreditCode::check_char(first17)?;
        Ok(CreditCode(format!("{first17}{c}")))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 3–8: the administrative-division code of the registering authority.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

fn check_char_of(chars: &[char]) -> Result<char, CreditCodeError> {
    let mut sum = 0;
    for (i, (&c, w)) in chars.iter().zip(WEIGHTS).enumerate() {
        let v = value(c).ok_or(CreditCodeError::Character { pos: i + 1, ch: c })?;
        sum += v * w;
    }
    let check = (31 - sum % 31) % 31;
    Ok(ALPHABET.as_bytes()[check as usize] as char)
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` is a valid credit code.
pub fn is_valid(s: &str) -> bool {
    CreditCode::parse(s).is_ok()
}

/// An 18-character run in text that looks like a credit code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreditCodeMention {
    /// As written (upper-cased).
    pub code: String,
    /// Where, in bytes of the text searched.
    pub span: Span,
    /// Whether the check character is right.
    pub valid: bool,
    /// Whether a label (统一社会信用代码, 信用代码, 营业执照…) precedes it.
    pub labelled: bool,
}

static CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)[0-9A-HJ-NPQRTUWXY]{18}").unwrap());
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:统一社会信用代码|社会信用代码|信用代码|营业执照(?:注册)?号?|税号)[\s:：]*$")
        .unwrap()
});

/// Credit codes in text: 18-character runs of the credit-code alphabet not glued to other
/// letters or digits. A run is kept if its check character is right, or if a label says
/// it is a credit code (then it is reported as invalid). An 18-digit run without a label
/// and with a wrong check is most likely a 身份证 number and is left out.
///
/// ```
/// use xuncha_registry::{find_credit_codes, CreditCode};
/// let code = CreditCode::complete("91000000MA0000001").unwrap();
/// let text = format!("统一社会信用代码：{code}，电话 13800138000");
/// let found = find_credit_codes(&text);
/// assert_eq!(found.len(), 1);
/// assert!(found[0].valid && found[0].labelled);
/// assert_eq!(&text[found[0].span.start()..found[0].span.end()], code.as_str());
/// ```
pub fn find_credit_codes(text: &str) -> Vec<CreditCodeMention> {
    let mut out = Vec::new();
    for m in CANDIDATE.find_iter(text) {
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if glued(text[..m.start()].chars().next_back()) || glued(text[m.end()..].chars().next()) {
            continue;
        }
        let code = m.as_str().to_ascii_uppercase();
        let valid = is_valid(&code);
        let before = &text[..m.start()];
        let from = before.char_indices().rev().nth(15).map_or(0, |(i, _)| i);
        let labelled = LABEL.is_match(&before[from..]);
        if valid || labelled {
            out.push(CreditCodeMention {
                code,
                span: Span::new(m.start(), m.end()),
                valid,
                labelled,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut w = 1;
        for x in WEIGHTS {
            assert_eq!(x, w);
            w = w * 3 % 31;
        }
        assert_eq!(ALPHABET.len(), 31);
    }

    #[test]
    fn check_of_zero_sum_is_zero() {
        assert_eq!(CreditCode::check_char("00000000000000000").unwrap(), '0');
    }

    #[test]
    fn rejects_lower_case_and_forbidden_letters() {
        let code = CreditCode::complete("91000000MA0000001").unwrap();
        assert!(CreditCode::parse(&code.as_str().to_lowercase()).is_err());
        assert!(matches!(
            CreditCode::parse("91000000MA000000I1"),
            Err(CreditCodeError::Character { pos: 17, ch: 'I' })
        ));
        assert!(matches!(
            CreditCode::parse("123"),
            Err(CreditCodeError::Length(3))
        ));
    }
}
