//! Clauses: the unit in which negation and co-occurrence are judged.

/// Splits normalised text into clauses at sentence and comma punctuation, line breaks, and
/// before contrastive words (`男女不限，但女性须25岁以下` is two claims, not one).
/// Returns byte ranges; empty clauses are skipped.
pub fn split(text: &str, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let boundary = matches!(c, '。' | ',' | ';' | '!' | '?' | '\n' | '\r' | '；' | '，');
        if boundary {
            push(out, text, start, i);
            start = i + c.len_utf8();
            continue;
        }
        if matches!(c, '但' | '不' | '然' | '只') {
            let rest = &text[i..];
            let contrastive = ["但是", "但", "不过", "然而", "只是"]
                .iter()
                .any(|w| rest.starts_with(w))
                && !text[..i].ends_with('不');
            if contrastive && i > start {
                push(out, text, start, i);
                start = i;
            }
        }
    }
    push(out, text, start, text.len());
}

fn push(out: &mut Vec<(usize, usize)>, text: &str, start: usize, end: usize) {
    if text[start..end].chars().any(|c| !c.is_whitespace()) {
        out.push((start, end));
    }
}

/// The index of the clause holding byte `at` (clauses are sorted).
pub fn find(clauses: &[(usize, usize)], at: usize) -> Option<usize> {
    let i = clauses.partition_point(|&(_, end)| end <= at);
    (i < clauses.len() && clauses[i].0 <= at).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clauses(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        split(s, &mut v);
        v.iter().map(|&(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn splits_on_punctuation_and_contrast() {
        assert_eq!(
            clauses("男女不限,但女性须25岁以下"),
            vec!["男女不限", "但女性须25岁以下"]
        );
        assert_eq!(
            clauses("押金500元。包吃住!\n日结"),
            vec!["押金500元", "包吃住", "日结"]
        );
        assert_eq!(clauses("不但要会,而且"), vec!["不但要会", "而且"]);
        assert_eq!(clauses(",,"), Vec::<&str>::new());
    }

    #[test]
    fn finds_the_clause_of_a_byte() {
        let s = "ab,cd,ef";
        let mut v = Vec::new();
        split(s, &mut v);
        assert_eq!(find(&v, 0), Some(0));
        assert_eq!(find(&v, 4), Some(1));
        assert_eq!(find(&v, 2), None);
        assert_eq!(find(&v, 7), Some(2));
    }
}
