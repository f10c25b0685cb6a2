//! A lead's posting as far as its evidence holds it, with every finding marked at its
//! exact byte span.
//!
//! A lead does not keep the whole posting: each finding has its field, its byte span in
//! that field's original text, the matched text, and the text around it (the matcher's
//! window of 40 characters either side, line breaks as spaces). The fields a lead carries
//! whole (title, company, publisher) are marked in full. Of the others, each finding's
//! window is laid on the field at the offset its span gives, windows that overlap are
//! joined into one piece, and the pieces are cut at every span boundary, so overlapping
//! findings share the text they both cover and each piece of it names every rule that
//! found it. What lies between pieces is not in the lead and is shown as `…`.

use maud::{html, Markup};
use xuncha_core::{Finding, Lead};

/// How many characters the matcher keeps either side of a match: where a window's match
/// sits when the same text occurs twice in it.
const WINDOW_CHARS: usize = 40;

/// One field's text as the lead holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldText {
    /// The posting field (`title`, `description`, …).
    pub field: String,
    /// The parts of it the lead holds, in field order.
    pub pieces: Vec<Piece>,
    /// Whether the pieces are the whole field.
    pub whole: bool,
}

/// A stretch of a field, starting at byte `start`, cut where marks begin and end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub start: usize,
    pub segments: Vec<Segment>,
}

/// Text under the same marks: `rules` is empty for unmarked text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub rules: Vec<String>,
}

/// Fields in the order a posting reads, unknown ones after.
const FIELD_ORDER: [&str; 6] = [
    "title",
    "company",
    "publisher.name",
    "salary",
    "description",
    "contact",
];

/// Every field of `lead` that has a finding, with its findings marked.
pub fn fields(lead: &Lead) -> Vec<FieldText> {
    let mut names: Vec<&str> = Vec::new();
    for f in &lead.findings {
        if !names.contains(&f.field.as_str()) {
            names.push(&f.field);
        }
    }
    names.sort_by_key(|n| {
        FIELD_ORDER
            .iter()
            .position(|o| o == n)
            .unwrap_or(usize::MAX)
    });
    names
        .into_iter()
        .map(|name| {
            let found: Vec<&Finding> = lead.findings.iter().filter(|f| f.field == name).collect();
            let p = &lead.posting;
            let carried = match name {
                "title" => p.title.as_deref(),
                "company" => p.company.as_deref(),
                "publisher.name" => p.publisher.as_deref(),
                _ => None,
            };
            // A carried field is used only if every span falls on its matched text in it.
            let whole = carried.filter(|t| {
                found
                    .iter()
                    .all(|f| t.get(f.span.start()..f.span.end()) == Some(f.matched.as_str()))
            });
            let windows = match whole {
                Some(t) => vec![(0, t.to_string())],
                None => found.iter().map(|f| window(f)).collect(),
            };
            FieldText {
                field: name.to_string(),
                pieces: join(windows)
                    .into_iter()
                    .map(|(start, text)| cut(start, &text, &found))
                    .collect(),
                whole: whole.is_some(),
            }
        })
        .collect()
}

/// Where a finding's context starts in its field, and the context: the place of the
/// matched text in the context is its span's start when the window began at the field's
/// start, else the occurrence with the matcher's window before it (or the nearest one
/// under it). A context that does not hold the match gives the match alone.
fn window(f: &Finding) -> (usize, String) {
    let start = f.span.start();
    let matched = f.matched.replace(['\n', '\r'], " ");
    let alone = (start, matched.clone());
    if matched.is_empty() {
        return alone;
    }
    let places: Vec<usize> = f.context.match_indices(&matched).map(|(i, _)| i).collect();
    let at = places
        .iter()
        .copied()
        .find(|&i| i == start)
        .or_else(|| {
            places
                .iter()
                .copied()
                .filter(|&i| f.context[..i].chars().count() <= WINDOW_CHARS)
                .max()
        })
        .or_else(|| places.first().copied());
    match at {
        Some(i) if i <= start => (start - i, f.context.clone()),
        _ => alone,
    }
}

/// Windows (field offset, text) joined where they overlap or touch and agree, in field
/// order.
fn join(mut windows: Vec<(usize, String)>) -> Vec<(usize, String)> {
    windows.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.len().cmp(&a.1.len())));
    let mut out: Vec<(usize, String)> = Vec::new();
    for (start, text) in windows {
        if let Some((ps, pt)) = out.last_mut() {
            let end = *ps + pt.len();
            if start <= end {
                let n = (end - start).min(text.len());
                let off = start - *ps;
                let agrees = pt.get(off..off + n) == text.get(..n);
                if agrees {
                    if let Some(tail) = text.get(n..) {
                        pt.push_str(tail);
                    }
                    continue;
                }
            }
        }
        out.push((start, text));
    }
    out
}

/// The piece of `text` at field offset `start`, cut at the boundaries of every span that
/// lies within it.
fn cut(start: usize, text: &str, findings: &[&Finding]) -> Piece {
    let end = start + text.len();
    let inside: Vec<&&Finding> = findings
        .iter()
        .filter(|f| !f.span.is_empty() && f.span.start() >= start && f.span.end() <= end)
        .collect();
    let mut bounds: Vec<usize> = vec![0, text.len()];
    for f in &inside {
        bounds.push(f.span.start() - start);
        bounds.push(f.span.end() - start);
    }
    bounds.sort_unstable();
    bounds.dedup();
    // A boundary inside a character (a span that does not fit this text) is dropped.
    bounds.retain(|&b| text.is_char_boundary(b));
    let mut segments: Vec<Segment> = Vec::new();
    for w in bounds.windows(2) {
        let (a, b) = (w[0], w[1]);
        let mut rules: Vec<String> = Vec::new();
        for f in &inside {
            if f.span.start() - start <= a
                && f.span.end() - start >= b
                && !rules.contains(&f.rule_id)
            {
                rules.push(f.rule_id.clone());
            }
        }
        match segments.last_mut() {
            Some(last) if last.rules == rules => last.text.push_str(&text[a..b]),
            _ => segments.push(Segment {
                text: text[a..b].to_string(),
                rules,
            }),
        }
    }
    Piece { start, segments }
}

/// The fields as HTML: each a quote with its marks; every value escaped by the template.
pub fn render(fields: &[FieldText]) -> Markup {
    html! {
        @for f in fields {
            div.field {
                div.where { code { (f.field) } @if !f.whole { " (摘录 excerpts)" } }
                blockquote.context.posting {
                    @for (i, p) in f.pieces.iter().enumerate() {
                        @if i > 0 || p.start > 0 { "… " }
                        @for s in &p.segments {
                            @if s.rules.is_empty() { (s.text) }
                            @else {
                                mark data-rule=(s.rules.join(" ")) title=(s.rules.join(" "))
                                    class=[(s.rules.len() > 1).then_some("overlap")] { (s.text) }
                            }
                        }
                    }
                    @if !f.whole { " …" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xuncha_core::Span;

    fn finding(rule: &str, field: &str, text: &str, s: usize, e: usize) -> Finding {
        // The matcher's window: 40 characters either side, line breaks as spaces.
        let cs = text[..s]
            .char_indices()
            .rev()
            .nth(WINDOW_CHARS - 1)
            .map_or(0, |(i, _)| i);
        let ce = text[e..]
            .char_indices()
            .nth(WINDOW_CHARS)
            .map_or(text.len(), |(i, _)| e + i);
        Finding {
            rule_id: rule.into(),
            field: field.into(),
            span: Span::new(s, e),
            matched: text[s..e].into(),
            context: text[cs..ce].replace(['\n', '\r'], " "),
        }
    }

    fn lead(findings: Vec<Finding>, title: Option<&str>) -> Lead {
        let mut l: Lead = serde_json::from_value(serde_json::json!({
            "schema": "xuncha.lead/1", "lead_id": "l", "category": "fee.deposit",
            "severity": "illegal", "score": 1.0, "findings": [], "legal_basis": [],
            "posting": {"id": "p", "content_sha256": "00"},
            "detected_at": "t", "rules_version": "v", "scanner_version": "s"
        }))
        .unwrap();
        l.findings = findings;
        l.posting.title = title.map(Into::into);
        l
    }

    fn at(text: &str, needle: &str) -> (usize, usize) {
        let s = text.find(needle).unwrap();
        (s, s + needle.len())
    }

    #[test]
    fn overlapping_findings_share_their_text_and_each_keeps_its_span() {
        let text = "岗位：普工。入职需交押金300元，限男性，年龄18-35岁。";
        let (a, b) = at(text, "交押金300元");
        let (c, d) = at(text, "押金");
        let l = lead(
            vec![
                finding("FEE-1", "description", text, a, b),
                finding("FEE-2", "description", text, c, d),
            ],
            None,
        );
        let got = fields(&l);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].pieces.len(), 1, "one window holds both: {got:?}");
        let segs: Vec<(&str, String)> = got[0].pieces[0]
            .segments
            .iter()
            .map(|s| (s.text.as_str(), s.rules.join("+")))
            .collect();
        assert_eq!(
            segs,
            [
                ("岗位：普工。入职需", String::new()),
                ("交", "FEE-1".into()),
                ("押金", "FEE-1+FEE-2".into()),
                ("300元", "FEE-1".into()),
                ("，限男性，年龄18-35岁。", String::new()),
            ]
        );
    }

    #[test]
    fn distant_findings_are_pieces_in_field_order_and_text_is_escaped() {
        let filler = "正常的岗位描述文字".repeat(12);
        let text = format!("<b>押金</b>{filler}收取培训费<script>x</script>");
        let (a, b) = at(&text, "押金");
        let (c, d) = at(&text, "培训费");
        let l = lead(
            vec![
                finding("TRAIN", "description", &text, c, d),
                finding("DEP", "description", &text, a, b),
            ],
            None,
        );
        let got = fields(&l);
        let starts: Vec<usize> = got[0].pieces.iter().map(|p| p.start).collect();
        assert_eq!(starts.len(), 2, "{got:?}");
        assert_eq!(starts[0], 0);
        assert!(starts[1] > 0);
        let html = render(&got).into_string();
        assert!(
            html.contains("&lt;b&gt;<mark data-rule=\"DEP\" title=\"DEP\">押金</mark>&lt;/b&gt;"),
            "{html}"
        );
        assert!(
            html.contains("<mark data-rule=\"TRAIN\" title=\"TRAIN\">培训费</mark>&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script") && !html.contains("<b>"), "{html}");
        // Each mark lands on the finding's bytes of the field.
        for p in &got[0].pieces {
            let mut at = p.start;
            for s in &p.segments {
                assert_eq!(&text[at..at + s.text.len()], s.text);
                at += s.text.len();
            }
        }
    }

    #[test]
    fn a_repeated_phrase_is_marked_where_the_span_says() {
        let text = format!("押金{}押金", "无关内容".repeat(5));
        let (s, e) = (text.rfind("押金").unwrap(), text.len());
        let l = lead(vec![finding("DEP", "description", &text, s, e)], None);
        let piece = &fields(&l)[0].pieces[0];
        assert_eq!(piece.start, 0);
        let marked: Vec<&Segment> = piece
            .segments
            .iter()
            .filter(|s| !s.rules.is_empty())
            .collect();
        assert_eq!(marked.len(), 1);
        assert_eq!(
            piece.segments.last().unwrap().rules,
            ["DEP"],
            "the second one: {piece:?}"
        );
    }

    #[test]
    fn a_title_is_marked_whole() {
        let title = "招聘女文员（限女性）";
        let (s, e) = at(title, "限女性");
        let l = lead(vec![finding("SEX", "title", title, s, e)], Some(title));
        let got = fields(&l);
        assert!(got[0].whole);
        let html = render(&got).into_string();
        assert!(
            html.contains("招聘女文员（<mark data-rule=\"SEX\" title=\"SEX\">限女性</mark>）"),
            "{html}"
        );
        assert!(!html.contains('…'));
    }
}
