//! Character encodings. Many Chinese sites still serve GBK or GB18030, often without saying
//! so in the HTTP header; a mis-decoded page would hide every phrase the matcher looks for.

use std::sync::LazyLock;

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;

/// How far into the page a `<meta charset>` is looked for. The HTML standard says 1024
/// bytes; Chinese sites often put long comments or scripts first, so look further.
const META_SCAN: usize = 4096;

/// Where the encoding came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharsetSource {
    /// A byte-order mark.
    Bom,
    /// The `charset` parameter of the HTTP `Content-Type`.
    Http,
    /// A `<meta>` element.
    Meta,
    /// Guessed from the bytes.
    Detected,
}

/// Decodes an HTML body: byte-order mark, then the HTTP charset, then `<meta>` charset,
/// then detection (chardetng, hinted with the host's top-level domain). GB2312 and GBK
/// labels decode as GB18030, their superset, as browsers do.
///
/// ```
/// use xuncha_crawler::{decode_html, CharsetSource};
/// let (gbk, _, _) = encoding_rs::GBK.encode("招聘文员");
/// let page = [b"<meta charset=\"gbk\"><p>".as_slice(), &gbk].concat();
/// let (text, encoding, source) = decode_html(&page, Some("text/html"), None);
/// assert!(text.ends_with("招聘文员"));
/// assert_eq!((encoding.name(), source), ("GBK", CharsetSource::Meta));
/// ```
pub fn decode_html(
    body: &[u8],
    content_type: Option<&str>,
    tld: Option<&str>,
) -> (String, &'static Encoding, CharsetSource) {
    let (encoding, source) = sniff(body, content_type, tld);
    let (text, _, _) = encoding.decode(body);
    (text.into_owned(), encoding, source)
}

fn sniff(
    body: &[u8],
    content_type: Option<&str>,
    tld: Option<&str>,
) -> (&'static Encoding, CharsetSource) {
    if let Some((enc, _)) = Encoding::for_bom(body) {
        return (enc, CharsetSource::Bom);
    }
    if let Some(enc) = content_type.and_then(http_charset) {
        return (enc, CharsetSource::Http);
    }
    if let Some(enc) = meta_charset(&body[..body.len().min(META_SCAN)]) {
        return (enc, CharsetSource::Meta);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    let tld = tld.filter(|t| t.bytes().all(|b| b.is_ascii_alphabetic()));
    // UTF-8 is allowed: unlike a browser we need the text, not to discourage authors.
    let guess = detector.guess(tld.map(str::as_bytes), chardetng::Utf8Detection::Allow);
    (guess, CharsetSource::Detected)
}

/// The encoding named by the `charset` parameter of a `Content-Type` value.
pub(crate) fn http_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(v.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    // Covers both <meta charset="gbk"> and <meta http-equiv="Content-Type"
    // content="text/html; charset=gb2312">.
    static META: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i-u)<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
            .expect("static regex")
    });
    let label = META.captures(head)?.get(1)?.as_bytes();
    let enc = Encoding::for_label(label)?;
    // A page cannot declare UTF-16 in ASCII-compatible bytes; the standard reads it as UTF-8.
    Some(
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            enc
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    #[test]
    fn http_charset_wins_over_meta() {
        let body = [b"<meta charset=utf-8>".as_slice(), &gbk("月薪八千")].concat();
        let (text, enc, src) = decode_html(&body, Some("text/html; charset=GB18030"), None);
        assert_eq!(enc.name(), "gb18030");
        assert_eq!(src, CharsetSource::Http);
        assert!(text.contains("月薪八千"));
    }

    #[test]
    fn http_equiv_meta_is_read() {
        let body = [
            br#"<html><head><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=gb2312">"#
                .as_slice(),
            &gbk("仅限男性"),
        ]
        .concat();
        let (text, enc, src) = decode_html(&body, Some("text/html"), None);
        assert_eq!((enc.name(), src), ("GBK", CharsetSource::Meta));
        assert!(text.contains("仅限男性"));
    }

    #[test]
    fn undeclared_gbk_is_detected() {
        let body = [
            b"<html><body><p>".as_slice(),
            &gbk("招聘普工，月薪五千至八千元，包吃包住，年龄十八至四十五岁，男女不限。工作地点：东莞市长安镇。"),
        ]
        .concat();
        let (text, _, src) = decode_html(&body, None, Some("cn"));
        assert_eq!(src, CharsetSource::Detected);
        assert!(text.contains("包吃包住"), "{text}");
    }

    #[test]
    fn bom_wins() {
        let body = [b"\xEF\xBB\xBF".as_slice(), "工资".as_bytes()].concat();
        let (text, enc, src) = decode_html(&body, Some("text/html; charset=gbk"), None);
        assert_eq!((enc, src), (UTF_8, CharsetSource::Bom));
        assert_eq!(text, "工资");
    }
}
