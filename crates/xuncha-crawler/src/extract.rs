//! Extraction from parsed pages: links of list pages, fields of posting pages.
//!
//! Everything here is synchronous on purpose: `scraper::Html` is not `Send`, so a parsed
//! page must never live across an `.await`. The crawler parses, extracts owned values and
//! drops the tree before it awaits again.

use ego_tree::NodeRef;
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
    walk(*el, &mut raw);
    normalize_whitespace(&raw)
}

fn walk(node: NodeRef<'_, Node>, out: &mut String) {
    match node.value() {
        Node::Text(t) => out.push_str(t),
        Node::Element(e) => {
            let name = e.name();
            if HIDDEN.contains(&name) {
                return;
            }
            let block = BLOCKS.contains(&name);
            if block {
                out.push(' ');
            }
            for child in node.children() {
                walk(child, out);
            }
            if block {
                out.push(' ');
            }
        }
        _ => {
            for child in node.children() {
                walk(child, out);
            }
        }
    }
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
        if let Ok(url) = base.join(href) {
            out.push(url);
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
