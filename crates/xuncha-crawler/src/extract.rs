//! Extraction from parsed pages: links of list pages, fields of posting pages.
//!
//! Everything here is synchronous on purpose: `scraper::Html` is not `Send`, so a parsed
//! page must never live across an `.await`. The crawler parses, extracts owned values and
//! drops the tree before it awaits again.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::profile::{CompiledField, CompiledSelectors};

/// Elements whose boundaries separate words, so `<p>a</p><p>b</p>` reads "a b".
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];
/// Elements whose text is never shown.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "head"];

/// Collapses every run of whitespace (including U+3000 ideographic space and no-break
/// space) to one ASCII space and trims the ends.
///
/// ```
/// assert_eq!(xuncha_crawler::normalize_whitespace("  月薪\u{3000}8K\n\t·13薪 "), "月薪 8K ·13薪");
/// ```
pub fn normalize_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The visible text of an element, block boundaries read as spaces, whitespace normalised.
pub(crate) fn element_text(el: ElementRef<'_>) -> String {
    let mut raw = String::new();
    // Iterative, not recursive: a hostile page can nest far deeper than a stack allows.
    let mut hidden = 0usize;
    for edge in el.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Text(t) if hidden == 0 => raw.push_str(t),
                Node::Element(e) if HIDDEN.contains(&e.name()) => hidden += 1,
                Node::Element(e) if hidden == 0 && BLOCKS.contains(&e.name()) => raw.push(' '),
                _ => {}
            },
            Edge::Close(node) => match node.value() {
                Node::Element(e) if HIDDEN.contains(&e.name()) => hidden -= 1,
                Node::Element(e) if hidden == 0 && BLOCKS.contains(&e.name()) => raw.push(' '),
                _ => {}
            },
        }
    }
    normalize_whitespace(&raw)
}

/// Deepest element nesting a page may have. Browsers' parsers stop nesting at 512 too
/// (Blink), so real pages stay below it.
const MAX_DEPTH: usize = 512;

/// Most unclosed tags the pre-scan tolerates before parsing. The HTML parser's scope
/// checks walk the stack of open elements, so parsing n nested tags costs n²: a hostile
/// 5 MiB page of `<div>`s would stall a worker for hours. The scan cannot see implied
/// end tags (`<p>`, `<li>`, `<td>` left open), so its bound is well above [`MAX_DEPTH`].
const MAX_OPEN_ESTIMATE: usize = 4096;

/// Void elements never hold children; the others here are closed by the parser when a
/// sibling opens (`<p>a<p>b`, `<td>1<td>2`), so a run of them never nests.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "td", "th", "tr", "tbody", "thead", "tfoot", "option",
    "optgroup", "rb", "rt", "rp", "colgroup",
];

/// Parses a page, refusing one nested too deeply to be a real page.
pub(crate) fn parse(html: &str) -> Result<Html, String> {
    if open_tags_estimate(html) > MAX_OPEN_ESTIMATE {
        return Err(format!(
            "more than {MAX_OPEN_ESTIMATE} tags left open; page not processed"
        ));
    }
    let doc = Html::parse_document(html);
    let (mut depth, mut deepest) = (0usize, 0usize);
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(_) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Edge::Close(_) => depth -= 1,
        }
    }
    if deepest > MAX_DEPTH {
        return Err(format!(
            "elements nested more than {MAX_DEPTH} deep; page not processed"
        ));
    }
    Ok(doc)
}

/// The most start tags open at once, by a linear scan that skips comments and elements
/// that cannot build a deep chain by themselves; an over-estimate where other end tags
/// are implied.
fn open_tags_estimate(html: &str) -> usize {
    let b = html.as_bytes();
    let (mut open, mut most, mut i) = (0usize, 0usize, 0usize);
    while let Some(at) = b[i..].iter().position(|&c| c == b'<') {
        i += at + 1;
        if b[i..].starts_with(b"!--") {
            i += b[i..]
                .windows(3)
                .position(|w| w == b"-->")
                .map_or(b.len() - i, |p| p + 3);
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let name_start = i + usize::from(closing);
        let name_len = b[name_start..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .unwrap_or(b.len() - name_start);
        if name_len == 0 || !b[name_start].is_ascii_alphabetic() {
            continue;
        }
        let name = &html[name_start..name_start + name_len];
        let end = b[i..]
            .iter()
            .position(|&c| c == b'>')
            .map_or(b.len(), |p| i + p);
        let self_closing = end > 0 && b.get(end - 1) == Some(&b'/');
        if closing {
            if !NOT_NESTING.iter().any(|v| v.eq_ignore_ascii_case(name)) {
                open = open.saturating_sub(1);
            }
        } else if !self_closing && !NOT_NESTING.iter().any(|v| v.eq_ignore_ascii_case(name)) {
            open += 1;
            most = most.max(open);
        }
        i = end.min(b.len());
    }
    most
}

/// The base URL links resolve against: `<base href>` if the page has one.
pub(crate) fn base_url(doc: &Html, page_url: &Url) -> Url {
    static BASE: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("base[href]").expect("static selector"));
    doc.select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .unwrap_or_else(|| page_url.clone())
}

/// Absolute URLs of the `href`s of the elements `sel` selects (or of `a[href]` inside them).
pub(crate) fn links(doc: &Html, sel: &Selector, base: &Url) -> Vec<Url> {
    static A: std::sync::LazyLock<Selector> =
        std::sync::LazyLock::new(|| Selector::parse("a[href]").expect("static selector"));
    let mut out = Vec::new();
    for el in doc.select(sel) {
        let href = el
            .value()
            .attr("href")
            .or_else(|| el.select(&A).next().and_then(|a| a.value().attr("href")));
        let Some(href) = href.map(str::trim) else {
            continue;
        };
        if href.is_empty() || href.starts_with('#') || href.starts_with("javascript:") {
            continue;
        }
        // Only what can be fetched: `JavaScript:`, `mailto:`, `data:` in any spelling.
        if let Ok(url) = base.join(href) {
            if matches!(url.scheme(), "http" | "https") {
                out.push(url);
            }
        }
    }
    out
}

/// One field: the first match's text or attribute, whitespace normalised; `None` if
/// nothing matched or the value is empty.
pub(crate) fn field(doc: &Html, f: &CompiledField) -> Option<String> {
    doc.select(&f.selector).find_map(|el| value(el, f))
}

/// Every match, joined: descriptions are often split over several blocks.
pub(crate) fn field_all(doc: &Html, f: &CompiledField) -> Option<String> {
    let parts: Vec<String> = doc
        .select(&f.selector)
        .filter_map(|el| value(el, f))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn value(el: ElementRef<'_>, f: &CompiledField) -> Option<String> {
    let v = match &f.attr {
        Some(attr) => normalize_whitespace(el.value().attr(attr)?),
        None => element_text(el),
    };
    (!v.is_empty()).then_some(v)
}

/// The fields of a posting page, before they become a `Posting`.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub title: Option<String>,
    pub company: Option<String>,
    pub salary: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub publisher: Option<String>,
    pub licence_no: Option<String>,
    pub contact: Option<String>,
    pub native_id: Option<String>,
}

impl Fields {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.company.is_none()
            && self.salary.is_none()
            && self.location.is_none()
            && self.description.is_none()
    }
}

pub(crate) fn posting_fields(doc: &Html, s: &CompiledSelectors) -> Fields {
    let opt = |f: &Option<CompiledField>| f.as_ref().and_then(|f| field(doc, f));
    Fields {
        title: field(doc, &s.title),
        company: field(doc, &s.company),
        salary: field(doc, &s.salary),
        location: field(doc, &s.location),
        description: field_all(doc, &s.description),
        publisher: opt(&s.publisher),
        licence_no: opt(&s.licence_no),
        contact: opt(&s.contact),
        native_id: opt(&s.id),
    }
}

/// The whole visible text of a page (operator pages: licences sit in footers and images'
/// alt text as much as in the body).
pub(crate) fn page_text(doc: &Html) -> String {
    element_text(doc.root_element())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_separate_and_scripts_vanish() {
        let doc = Html::parse_document(
            "<div id=d><p>岗位职责：</p><p>1.&nbsp;负责  接待</p><script>var x='押金';</script><br>包吃住</div>",
        );
        let sel = Selector::parse("#d").unwrap();
        let el = doc.select(&sel).next().unwrap();
        assert_eq!(element_text(el), "岗位职责： 1. 负责 接待 包吃住");
    }

    #[test]
    fn hostile_nesting_is_refused_before_parsing() {
        let deep = format!(
            "{}招聘{}",
            "<div>".repeat(1_000_000),
            "</div>".repeat(1_000_000)
        );
        // Refused by the scan: parsing it would take hours.
        assert!(parse(&deep).unwrap_err().contains("tags left open"));
        // Under the scan's bound but deeper than any browser builds: parsed, then refused.
        let deep = format!("{}招聘{}", "<span>".repeat(1000), "</span>".repeat(1000));
        assert!(parse(&deep).unwrap_err().contains("nested more than 512"));
        let fine = format!(
            "<!-- <div><div> --><ul>{}</ul><p>a<br>b<img src=x><p>c",
            "<li><a href=#>x</a><td>1<p>2".repeat(6000)
        );
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn text_walk_is_iterative() {
        let deep = format!("{}招聘{}", "<div>".repeat(500), "</div>".repeat(500));
        let doc = parse(&deep).unwrap();
        assert_eq!(page_text(&doc), "招聘");
    }

    #[test]
    fn links_resolve_against_base_and_skip_scripts() {
        let doc = Html::parse_document(
            r##"<base href="http://a.example/jobs/"><ul><li class=j><a href="1.html">x</a></li>
               <li class=j><a href="javascript:void(0)">y</a></li><li class=j><a href="#top">z</a></li></ul>"##,
        );
        let page = Url::parse("http://a.example/list").unwrap();
        let base = base_url(&doc, &page);
        let sel = Selector::parse("li.j").unwrap();
        let got: Vec<String> = links(&doc, &sel, &base)
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(got, vec!["http://a.example/jobs/1.html"]);
    }
}

/// Fuzz targets for the HTML extractor and the charset detection (long runs: README,
/// "Reliability").
#[cfg(test)]
mod properties {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;

    use super::*;
    use crate::charset::decode_html;

    const PIECES: &[&str] = &[
        "<div>",
        "</div>",
        "<p>",
        "<a href=\"",
        "\">",
        "</a>",
        "<script>",
        "</script>",
        "<br>",
        "<!--",
        "-->",
        "<base href=\"http://x.example/\">",
        "<meta charset=\"gbk\">",
        "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">",
        "<table><td>",
        "招聘",
        "押金",
        "&nbsp;",
        "&#x1F600;",
        "&amp",
        "<img alt=\"许可证\">",
        "\u{0}",
        "\u{FEFF}",
        "<li class=j>",
        "javascript:",
        "#",
        "../",
        "<style>",
        "<title>",
        "\u{1b}",
        "<",
        ">",
        "\"",
    ];

    fn page() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(PIECES), 0..300)
                .prop_map(|v| v.concat().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..2048),
            any::<String>().prop_map(String::into_bytes),
        ]
    }

    proptest! {
        // proptest's default reads PROPTEST_CASES, which makes the long run.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_page_decodes_and_extracts_without_a_panic(
            body in page(),
            content_type in prop::option::of(prop::sample::select(vec![
                "text/html", "text/html; charset=gbk", "text/html; charset=utf-8",
                "text/html; charset=nonsense", "text/html;charset=\"big5\"", "",
            ])),
            tld in prop::option::of(prop::sample::select(vec!["cn", "tw", "hk", "com"])),
        ) {
            let started = Instant::now();
            let (html, _, _) = decode_html(&body, content_type, tld);
            if let Ok(doc) = parse(&html) {
                let text = page_text(&doc);
                prop_assert!(text.len() <= 4 * html.len() + 16, "text grew: {}", text.len());
                let base = base_url(&doc, &Url::parse("http://board.example/list").unwrap());
                let sel = Selector::parse("a, li.j").unwrap();
                for u in links(&doc, &sel, &base) {
                    prop_assert!(matches!(u.scheme(), "http" | "https"), "{u}");
                }
            }
            prop_assert!(started.elapsed() < Duration::from_secs(1));
        }
    }
}
