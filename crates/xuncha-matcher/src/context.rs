//! What surrounds a match beyond its clause: quoted ad text, scam warnings, and which
//! attribute a negation belongs to.
//!
//! Police warnings, news reports and court judgments quote the ads they are about
//! (`警方提醒：“日结300，手机就能做”都是骗局`). The quoted words are the ad and are judged
//! on their own; the frame around them (`警惕`, `都是骗局`) must neither cancel them nor be
//! taken for an offer itself.

use regex::Regex;

/// Shortest quoted text, in characters, taken for quoted ad wording rather than a quoted
/// term (`“报名费”` is a term; `“日结300，手机就能做”` is an ad).
const QUOTE_MIN_CHARS: usize = 6;

/// Words without which a clause ending in `?` is not taken for a question.
const QUESTION_WORDS: &[&str] = &[
    "吗",
    "么",
    "呢",
    "吧",
    "嘛",
    "多少",
    "多高",
    "多大",
    "多久",
    "多重",
    "多长",
    "几",
    "什么",
    "啥",
    "怎么",
    "怎样",
    "如何",
    "为何",
    "为什么",
    "是否",
    "有没有",
    "是不是",
    "能不能",
    "可不可以",
    "要不要",
    "会不会",
    "哪",
    "谁",
    "难道",
];

/// The surroundings of one normalised field.
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldContext {
    /// Byte ranges of the insides of long quotations, sorted, not overlapping.
    pub quotes: Vec<(usize, usize)>,
    /// Byte ranges of the sentences that warn about scams, sorted, not overlapping.
    pub warned: Vec<(usize, usize)>,
    /// Byte ranges of questions (`要交押金吗?`).
    pub questions: Vec<(usize, usize)>,
    /// Byte ranges of the job seeker's own lines in a quoted chat.
    pub applicant_lines: Vec<(usize, usize)>,
}

impl FieldContext {
    /// Finds the quotations and the stretches that offer nothing in `text`: sentences with
    /// a `warning` marker, questions (`要交押金吗?`), and lines that start with one of the
    /// `speakers` who are job seekers (`我:`).
    pub fn new(
        text: &str,
        (warning, header): (Option<&Regex>, Option<&Regex>),
        speakers: &[String],
    ) -> FieldContext {
        let mut ctx = FieldContext::default();
        // A police notice, an anti-fraud lesson, a news report: a header in the first line
        // makes everything outside quotation marks a warning, and then even a short
        // quotation (`以“报名费”“考务费”名义`) is the wording of the ad it reports.
        let first_line = text.lines().next().unwrap_or("");
        let headed = header.is_some_and(|h| h.is_match(first_line));
        let min_quote = if headed { 2 } else { QUOTE_MIN_CHARS };
        let mut open: Option<(char, usize)> = None;
        for (i, c) in text.char_indices() {
            match open {
                None => {
                    if let Some(close) = closing(c) {
                        open = Some((close, i + c.len_utf8()));
                    }
                }
                Some((close, start)) => {
                    if c == close {
                        let inside = &text[start..i];
                        if inside.chars().count() >= min_quote && !is_term_list(inside) {
                            ctx.quotes.push((start, i));
                        }
                        open = None;
                    } else if c == '\n' {
                        open = None;
                    }
                }
            }
        }
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if matches!(c, '。' | '!' | '?' | '\n' | '！' | '？') {
                let question = matches!(c, '?' | '？');
                ctx.mark(text, warning, question, start, i);
                start = i + c.len_utf8();
            }
        }
        ctx.mark(text, warning, false, start, text.len());
        if headed {
            ctx.warned = vec![(0, text.len())];
        }
        if !speakers.is_empty() {
            let mut at = 0;
            for line in text.split_inclusive('\n') {
                let body = line.trim_start();
                if speakers.iter().any(|s| body.starts_with(s.as_str())) {
                    ctx.applicant_lines.push((at, at + line.len()));
                }
                at += line.len();
            }
        }
        ctx
    }

    fn mark(
        &mut self,
        text: &str,
        warning: Option<&Regex>,
        question: bool,
        start: usize,
        end: usize,
    ) {
        if question {
            // Only the clause that asks: `要求女生,身高165以上,你多高?` asks for a height,
            // it does not ask whether women are wanted.
            let from = text[start..end]
                .rfind([',', ';', '，', '；'])
                .map(|k| start + k + 1)
                .unwrap_or(start);
            // A `?` with no question word is often a bullet or a character lost in a
            // charset conversion (`?年龄: 30岁以下?`), not a question.
            if QUESTION_WORDS.iter().any(|w| text[from..end].contains(w)) {
                self.questions.push((from, end));
            }
        }
        let Some(warning) = warning else {
            return;
        };
        let i = self.quotes.partition_point(|&(_, qe)| qe <= start);
        let warns = if self.quotes.get(i).is_some_and(|&(qs, _)| qs < end) {
            warning.is_match(&self.outside_quotes(text, start, end))
        } else {
            warning.is_match(&text[start..end])
        };
        if warns {
            self.warned.push((start, end));
        }
    }

    /// The text of `start..end` with long quotations left out.
    fn outside_quotes(&self, text: &str, start: usize, end: usize) -> String {
        let mut out = String::new();
        let mut at = start;
        let first = self.quotes.partition_point(|&(_, qe)| qe <= start);
        for &(qs, qe) in &self.quotes[first..] {
            if qs >= end {
                break;
            }
            out.push_str(&text[at..qs.max(at)]);
            at = qe.min(end);
        }
        out.push_str(&text[at.min(end)..end]);
        out
    }

    /// The quotation holding `s..e`, if any.
    pub fn quote_of(&self, s: usize, e: usize) -> Option<(usize, usize)> {
        let i = self.quotes.partition_point(|&(_, qe)| qe < e);
        self.quotes
            .get(i)
            .copied()
            .filter(|&(qs, qe)| qs <= s && e <= qe)
    }

    /// Whether `s..e` stands, outside any quotation, in a sentence that warns about scams
    /// or in a job seeker's line.
    pub fn warned(&self, s: usize, e: usize) -> bool {
        !self.touches_quote(s, e)
            && (covers(&self.warned, s, e) || covers(&self.applicant_lines, s, e))
    }

    /// Whether `s..e` stands, outside any quotation, in a question.
    pub fn asked(&self, s: usize, e: usize) -> bool {
        !self.touches_quote(s, e) && covers(&self.questions, s, e)
    }

    /// Whether `s..e` overlaps a quotation: a match that reaches into quoted ad text
    /// (`注明“本岗位不接收甘肃籍…”`) quotes the ad, whatever frames it.
    fn touches_quote(&self, s: usize, e: usize) -> bool {
        let i = self.quotes.partition_point(|&(_, qe)| qe <= s);
        self.quotes.get(i).is_some_and(|&(qs, _)| qs < e)
    }
}

/// Whether one of `spans` (in order, not overlapping) holds `s..e`: a binary search, so a
/// posting of many thousand sentences costs no more per match than a short one.
fn covers(spans: &[(usize, usize)], s: usize, e: usize) -> bool {
    let i = spans.partition_point(|&(_, we)| we < e);
    spans.get(i).is_some_and(|&(ws, we)| ws <= s && e <= we)
}

/// A quotation that lists terms (`“高薪、轻松、包机票”`) names lures; it quotes no ad.
fn is_term_list(inside: &str) -> bool {
    let parts: Vec<&str> = inside.split('、').collect();
    parts.len() >= 2 && parts.iter().all(|p| p.chars().count() <= 4)
}

fn closing(c: char) -> Option<char> {
    match c {
        '“' => Some('”'),
        '「' => Some('」'),
        '『' => Some('』'),
        '"' => Some('"'),
        '‘' => Some('’'),
        _ => None,
    }
}

/// Head words of attributes, to tell which attribute a negation stands next to.
#[derive(Debug, Default)]
pub(crate) struct Attributes {
    /// (attribute name, head words), longest heads first.
    heads: Vec<(String, Vec<String>)>,
}

impl Attributes {
    pub fn new(list: &[(String, Vec<String>)]) -> Attributes {
        let heads = list
            .iter()
            .map(|(name, words)| {
                let mut w = words.clone();
                w.sort_by_key(|h| std::cmp::Reverse(h.chars().count()));
                (name.clone(), w)
            })
            .collect();
        Attributes { heads }
    }

    /// The attribute whose head word ends right before `at` or starts right at `end`
    /// (allowing a colon or space between), if any.
    pub fn next_to(&self, text: &str, at: usize, end: usize) -> Option<&str> {
        let before = text[..at].trim_end_matches([':', '：', ' ']);
        let after = text[end..].trim_start_matches([':', '：', ' ']);
        self.heads
            .iter()
            .find(|(_, ws)| {
                ws.iter()
                    .any(|w| before.ends_with(w.as_str()) || after.starts_with(w.as_str()))
            })
            .map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warn() -> Regex {
        Regex::new("谨防|警惕|都是诈骗").unwrap()
    }

    #[test]
    fn a_header_in_the_first_line_warns_the_whole_text_but_its_quotes() {
        let header = Regex::new("警方提示|反诈课堂").unwrap();
        let t =
            "南昌警方提示:\n部分中介又以服装费、住宿押金等名义收费。\n如「入职交押金300元包进厂」";
        let c = FieldContext::new(t, (None, Some(&header)), &[]);
        let at = t.find("住宿押金").unwrap();
        assert!(c.warned(at, at + 12));
        let q = t.find("入职交押金").unwrap();
        assert!(!c.warned(q, q + 15), "the quoted ad is judged on its own");
        let t = "南昌警方提示:\n该机构以“报名费”名义收钱";
        let c = FieldContext::new(t, (None, Some(&header)), &[]);
        let q = t.find("报名费").unwrap();
        assert!(
            !c.warned(q, q + 9),
            "under a header a short quotation is the ad's wording"
        );
        let c = FieldContext::new("该机构以“报名费”名义收钱", (None, Some(&header)), &[]);
        assert!(c.quotes.is_empty(), "without one it is a term");
        let ad = "招普工\n警方提示的骗局我们不做,入职交押金300";
        let c = FieldContext::new(ad, (None, Some(&header)), &[]);
        let at = ad.find("入职交押金").unwrap();
        assert!(!c.warned(at, at + 15), "only the first line makes a header");
    }

    #[test]
    fn a_quoted_list_of_terms_is_no_ad() {
        let t = "凡是以“高薪、轻松、包机票”为诱饵的";
        assert!(FieldContext::new(t, (None, None), &[]).quotes.is_empty());
    }

    #[test]
    fn long_quotes_are_found_short_ones_are_terms() {
        let t = "警方提醒：“日结300,手机就能做”都是诈骗,“报名费”要警惕";
        let c = FieldContext::new(t, (Some(&warn()), None), &[]);
        assert_eq!(c.quotes.len(), 1);
        let (qs, qe) = c.quotes[0];
        assert_eq!(&t[qs..qe], "日结300,手机就能做");
    }

    #[test]
    fn a_warning_covers_its_sentence_but_not_its_quotes() {
        let t = "警惕“在家刷单,一单结一单”。押金500元";
        let c = FieldContext::new(t, (Some(&warn()), None), &[]);
        let q = t.find("刷单").unwrap();
        assert!(!c.warned(q, q + 6), "quoted ad text is judged on its own");
        let w = t.find("警惕").unwrap();
        assert!(c.warned(w, w + 6));
        let d = t.find("押金").unwrap();
        assert!(!c.warned(d, d + 6), "the next sentence is not warned");
    }

    #[test]
    fn questions_and_the_job_seekers_lines_offer_nothing() {
        let t = "要交押金吗?不用。\n我:听说要交保证金\nhr:保证金500元,限女生,你多高?";
        let c = FieldContext::new(t, (None, None), &["我:".to_string()]);
        let at = |w: &str| t.find(w).unwrap();
        assert!(c.asked(at("押金"), at("押金") + 6), "a question");
        assert!(!c.warned(at("押金"), at("押金") + 6));
        assert!(
            c.warned(at("保证金"), at("保证金") + 9),
            "the job seeker speaks"
        );
        let last = t.rfind("保证金").unwrap();
        assert!(!c.warned(last, last + 9), "the recruiter speaks");
        assert!(
            !c.asked(last, last + 9),
            "only the clause that asks is a question"
        );
        assert!(c.asked(at("你多高"), at("你多高") + 9));
        let t = "?年龄: 30岁以下?学历: 大专";
        let c = FieldContext::new(t, (None, None), &[]);
        assert!(
            c.questions.is_empty(),
            "a ? without a question word is a bullet"
        );
    }

    #[test]
    fn an_unclosed_quote_quotes_nothing() {
        let c = FieldContext::new("“押金500元,日结", (None, None), &[]);
        assert!(c.quotes.is_empty());
    }

    #[test]
    fn negations_are_bound_to_the_attribute_beside_them() {
        let a = Attributes::new(&[
            ("sex".into(), vec!["男女".into(), "性别".into()]),
            ("age".into(), vec!["年龄".into()]),
        ]);
        let t = "男女不限 年龄18-35岁";
        let n = t.find("不限").unwrap();
        assert_eq!(a.next_to(t, n, n + "不限".len()), Some("sex"));
        let t = "不限性别";
        assert_eq!(a.next_to(t, 0, "不限".len()), Some("sex"));
        let t = "年龄: 不限";
        let n = t.find("不限").unwrap();
        assert_eq!(a.next_to(t, n, t.len()), Some("age"));
        let t = "均可";
        assert_eq!(a.next_to(t, 0, t.len()), None);
    }
}
