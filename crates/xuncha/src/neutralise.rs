//! Making posting text harmless where a person opens it: a terminal (control sequences
//! could rewrite the clipboard, the window title or the screen) and a spreadsheet (a cell
//! that starts like a formula runs as one). The HTML report escapes through its templates.

use std::borrow::Cow;

/// `s` with every control character, and every character that reorders the text around
/// it, shown as a visible escape (`\u{1b}`), so printing it to a terminal does nothing but
/// print. Newlines and tabs are escaped too: one value stays on its line.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_on_terminal) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_on_terminal(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` made safe as a spreadsheet cell: a leading `=`, `+`, `-`, `@`, tab or carriage
/// return (what Excel, LibreOffice and Sheets read as a formula) gets a `'` before it.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_shown_not_run() {
        let osc52 = "招聘\u{1b}]52;c;ZWNobyBoaQ==\u{7}完";
        assert_eq!(terminal(osc52), "招聘\\u{1b}]52;c;ZWNobyBoaQ==\\u{7}完");
        assert_eq!(terminal("a\u{9b}2Jb"), "a\\u{9b}2Jb");
        assert_eq!(terminal("x\u{202E}y\nz"), "x\\u{202e}y\\u{a}z");
        assert!(matches!(terminal("押金500元"), Cow::Borrowed(_)));
    }

    #[test]
    fn formula_cells_are_quoted() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(csv_cell("https://a.cn/=1"), "https://a.cn/=1");
        assert_eq!(csv_cell(""), "");
    }
}
