//! Text folded for finding handles, with a map back to the original bytes.
//!
//! Evasive writers spell one number many ways: full-width digits (１３９), Chinese
//! numerals (一三九, 幺 for one, 〇 for zero), circled digits, zero-width characters
//! between the digits. Folding makes them one spelling; every folded character remembers
//! the original bytes it came from, so a handle's evidence is the text as written.

/// `text` folded: full-width ASCII to ASCII, ASCII upper case to lower, Chinese numerals
/// and circled digits to ASCII digits, the ideographic space to a space, and
/// default-ignorable characters (zero-width spaces and joiners, soft hyphens) dropped.
pub(crate) struct Folded {
    pub text: String,
    /// For each folded character: (its byte offset in `text`, the original byte range).
    map: Vec<(usize, usize, usize)>,
}

/// The digit a Chinese numeral or circled digit stands for, as an ASCII digit.
pub(crate) fn numeral(c: char) -> Option<char> {
    Some(match c {
        '零' | '〇' | '⓪' => '0',
        '一' | '壹' | '幺' | '①' => '1',
        '二' | '贰' | '②' => '2',
        '三' | '叁' | '③' => '3',
        '四' | '肆' | '④' => '4',
        '五' | '伍' | '⑤' => '5',
        '六' | '陆' | '⑥' => '6',
        '七' | '柒' | '⑦' => '7',
        '八' | '捌' | '⑧' => '8',
        '九' | '玖' | '⑨' => '9',
        _ => return None,
    })
}

/// Characters that render as nothing, inserted to break up a number or a word.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
    )
}

/// One character folded for matching: width and case (digits and numerals are kept apart,
/// see [`fold`]).
pub(crate) fn fold_char(c: char) -> char {
    let c = match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    c.to_ascii_lowercase()
}

impl Folded {
    pub fn new(text: &str) -> Folded {
        let mut out = String::with_capacity(text.len());
        let mut map = Vec::with_capacity(text.len());
        for (i, c) in text.char_indices() {
            if is_invisible(c) {
                continue;
            }
            let f = numeral(c).unwrap_or_else(|| fold_char(c));
            map.push((out.len(), i, i + c.len_utf8()));
            out.push(f);
        }
        Folded { text: out, map }
    }

    /// The original byte range of the folded range `[start, end)` (both on character
    /// boundaries of the folded text).
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.map.partition_point(|m| m.0 < start);
        let last = self.map.partition_point(|m| m.0 < end);
        match (
            self.map.get(first),
            last.checked_sub(1).and_then(|l| self.map.get(l)),
        ) {
            (Some(a), Some(b)) if last > first => (a.1, b.2),
            (Some(a), _) => (a.1, a.1),
            _ => {
                let end = self.map.last().map_or(0, |m| m.2);
                (end, end)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_ranges_map_back_to_what_was_written() {
        let text = "微信：１３９\u{200B}一二三";
        let f = Folded::new(text);
        assert_eq!(f.text, "微信:139123");
        let at = f.text.find("139123").unwrap();
        let (a, b) = f.original(at, f.text.len());
        assert_eq!(&text[a..b], "１３９\u{200B}一二三");
    }
}
