//! Contact handles in a posting, in the forms evasive writers use, each normalised to one
//! canonical value and kept with the text and byte offsets it was written with.
//!
//! A handle is found in three passes over the folded text ([`crate::fold`]): addresses
//! first (e-mails, web and `t.me` links), then what a cue word announces (微信/薇/V/vx/
//! 威信/wx, QQ/扣扣/企鹅/Q, Telegram/TG/飞机), then bare numbers. A bare number is a
//! handle only in a phone's shape: a mainland mobile (1[3-9] and nine digits), a fixed line
//! with its area code, or a 400/800 number, written in one piece or in the groups people
//! write them in (139 1234 5678, 0755-12345678), never glued from a salary range, a date
//! or a year, and never followed by a unit of money, age or time.

use std::sync::LazyLock;

use regex::Regex;
use xuncha_core::{Handle, HandleKind, Posting, Span};

use crate::fold::Folded;

/// The most handles kept of one posting: a page that lists hundreds of numbers is a
/// directory, not a contact line.
pub const MAX_HANDLES: usize = 32;

/// The most bytes of one field searched.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// Every handle of a posting, each key once per field, at most [`MAX_HANDLES`].
///
/// ```
/// use xuncha_core::{HandleKind, Posting};
/// let p = Posting::from_text("p1", "月薪8000-12000元，加薇：一三九 1234 五六七八，2024年入职");
/// let found = xuncha_campaigns::handles(&p);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].kind, HandleKind::Phone);
/// assert_eq!(found[0].value, "13912345678");
/// assert_eq!(found[0].text, "薇：一三九 1234 五六七八");
/// ```
pub fn handles(posting: &Posting) -> Vec<Handle> {
    let mut out: Vec<Handle> = Vec::new();
    for (field, text) in posting.text_fields() {
        let found = if field == "company" {
            company(text).into_iter().collect()
        } else {
            in_text(field, text)
        };
        for h in found {
            let dup = out
                .iter()
                .any(|o| o.field == h.field && o.kind == h.kind && o.value == h.value);
            if !dup && out.len() < MAX_HANDLES {
                out.push(h);
            }
        }
    }
    out
}

/// The company handle of a `company` field: its name as the licence registry normalises
/// it (forms of the organisation, brackets, branches), unless it is a placeholder
/// (保密, 某公司, 个人) or too short to tell one company from another.
pub fn company(name: &str) -> Option<Handle> {
    let value = xuncha_registry::normalize_name(name);
    let placeholder = [
        "保密", "匿名", "个人", "私人", "未知", "不详", "暂无", "待定",
    ]
    .iter()
    .any(|p| value.contains(p))
        || value.starts_with('某')
        || value.chars().count() < 4;
    (!placeholder).then(|| Handle {
        kind: HandleKind::Company,
        value,
        field: "company".into(),
        span: Span::new(0, name.len()),
        text: name.to_string(),
    })
}

/// A handle found in folded text, its range in folded bytes.
struct Found {
    kind: HandleKind,
    value: String,
    start: usize,
    end: usize,
}

/// The handles written in one field's text.
///
/// ```
/// use xuncha_core::HandleKind;
/// let found = xuncha_campaigns::handles_in("contact", "扣扣 1 2 3 4 5 6 7 8 9 或邮箱 Li.Ming#163点com");
/// let keys: Vec<String> = found.iter().map(|h| h.key()).collect();
/// assert_eq!(keys, ["qq:123456789", "email:li.ming@163.com"]);
/// ```
pub fn handles_in(field: &str, text: &str) -> Vec<Handle> {
    in_text(field, text)
}

fn in_text(field: &str, text: &str) -> Vec<Handle> {
    let mut cut = text.len().min(MAX_FIELD_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let text = &text[..cut];
    let f = Folded::new(text);
    let t = f.text.as_str();
    let mut found: Vec<Found> = Vec::new();
    emails(t, &mut found);
    urls(t, &mut found);
    telegram(t, &mut found);
    wechat(t, &mut found);
    qq(t, &mut found);
    credit_codes(t, &mut found);
    bare_numbers(t, &mut found);
    found.sort_by_key(|x| (x.start, x.end));
    found
        .into_iter()
        .map(|x| {
            let (a, b) = f.original(x.start, x.end);
            Handle {
                kind: x.kind,
                value: x.value,
                field: field.to_string(),
                span: Span::new(a, b),
                text: text[a..b].to_string(),
            }
        })
        .collect()
}

fn overlaps(found: &[Found], start: usize, end: usize) -> bool {
    found.iter().any(|x| x.start < end && start < x.end)
}

fn push(found: &mut Vec<Found>, kind: HandleKind, value: String, start: usize, end: usize) {
    if !overlaps(found, start, end) {
        found.push(Found {
            kind,
            value,
            start,
            end,
        });
    }
}

fn before(t: &str, at: usize) -> Option<char> {
    t[..at].chars().next_back()
}

fn after(t: &str, at: usize) -> Option<char> {
    t[at..].chars().next()
}

fn ascii_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `name@host`, also written `name#host`, `name(at)host`, and `点` or `(dot)` for dots.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"([a-z0-9][a-z0-9._+-]{0,63}) ?(?:@|\(at\)|\[at\]|#) ?((?:[a-z0-9][a-z0-9-]{0,62} ?(?:\.|点|\(dot\)|\[dot\]) ?){1,4}[a-z]{2,6})",
    )
    .unwrap()
});

fn emails(t: &str, found: &mut Vec<Found>) {
    for c in EMAIL.captures_iter(t) {
        let m = c.get(0).unwrap();
        if ascii_word(before(t, m.start())) || ascii_word(after(t, m.end())) {
            continue;
        }
        let local = c[1].trim_end_matches('.');
        let domain: String = c[2]
            .replace("(dot)", ".")
            .replace("[dot]", ".")
            .replace('点', ".")
            .replace(' ', "");
        push(
            found,
            HandleKind::Email,
            format!("{local}@{domain}"),
            m.start(),
            m.end(),
        );
        // A QQ mailbox is the QQ number too.
        if domain == "qq.com" && (5..=11).contains(&local.len()) && is_qq(local) {
            found.push(Found {
                kind: HandleKind::Qq,
                value: local.to_string(),
                start: m.start(),
                end: m.end(),
            });
        }
    }
}

static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:https?://|www\.)[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+",
        r"|(?:telegram|t)\.me/[a-z0-9_]+",
        r"|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*",
        // Bare names only under endings that are not also technology names (ASP.NET,
        // ADO.NET, socket.io): with a scheme or `www.` any ending counts.
        r"\.(?:com|cn|top|xyz|vip|cc|club|site|online|shop|work|link|ltd|wang|icu)",
        r"(?:/[a-z0-9\-._~/%?=&#+]*)?",
    ))
    .unwrap()
});

fn urls(t: &str, found: &mut Vec<Found>) {
    for m in URL.find_iter(t) {
        let before = before(t, m.start());
        if ascii_word(before) || matches!(before, Some('.' | '@' | '-')) {
            continue;
        }
        let written = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
        let end = m.start() + written.len();
        if ascii_word(after(t, end)) {
            continue;
        }
        let with_scheme = if written.starts_with("http") {
            written.to_string()
        } else {
            format!("http://{written}")
        };
        let Ok(u) = url::Url::parse(&with_scheme) else {
            continue;
        };
        let Some(host) = u.host_str() else { continue };
        let host = host.strip_prefix("www.").unwrap_or(host);
        let path = u.path().trim_end_matches('/');
        if matches!(host, "t.me" | "telegram.me") {
            let name = path.trim_start_matches('/');
            if is_telegram(name) {
                push(found, HandleKind::Telegram, name.into(), m.start(), end);
            }
            continue;
        }
        let value: String = format!("{host}{path}").chars().take(200).collect();
        push(found, HandleKind::Url, value, m.start(), end);
    }
}

fn is_telegram(name: &str) -> bool {
    (5..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_qq(digits: &str) -> bool {
    (5..=11).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Words that announce a handle. A cue of Latin letters must not be the end of a longer
/// word; a weak cue (one letter, or one character that is also an ordinary word) needs a
/// colon before an id, or a mobile number after it.
struct Cue {
    start: usize,
    end: usize,
    weak: bool,
}

fn cues(re: &Regex, weak: &[&str], t: &str) -> Vec<Cue> {
    re.find_iter(t)
        .filter(|m| {
            let latin = m.as_str().starts_with(|c: char| c.is_ascii_alphabetic());
            !(latin && ascii_word(before(t, m.start())))
        })
        .map(|m| Cue {
            start: m.start(),
            end: m.end(),
            weak: weak.contains(&m.as_str()),
        })
        .collect()
}

/// After a cue: the filler before the value (号, ID, 是, 同号, a colon, spaces), at most a
/// few characters. Returns where the value starts and whether a colon was seen.
fn skip_filler(t: &str, mut at: usize) -> (usize, bool) {
    let mut colon = false;
    for _ in 0..8 {
        let rest = &t[at..];
        if rest.starts_with("id") && !ascii_word(rest[2..].chars().next()) {
            at += 2;
            continue;
        }
        match rest.chars().next() {
            Some(c @ (':' | '=' | ' ' | '号' | '码' | '是' | '为' | '同' | '-' | '+' | '：')) =>
            {
                colon |= matches!(c, ':' | '=' | '：');
                at += c.len_utf8();
            }
            _ => break,
        }
    }
    (at, colon)
}

static WECHAT_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"微信|薇信|威信|维信|徽信|卫星|微xin|wechat|weixin|wei xin|v信|vx|v\.x|wx|微x|威x|薇x|微|薇|威|v",
    )
    .unwrap()
});
static WXID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"wxid_[a-z0-9_-]{4,30}").unwrap());

fn wechat(t: &str, found: &mut Vec<Found>) {
    for m in WXID.find_iter(t) {
        if !ascii_word(before(t, m.start())) && !ascii_word(after(t, m.end())) {
            push(
                found,
                HandleKind::Wechat,
                m.as_str().into(),
                m.start(),
                m.end(),
            );
        }
    }
    for cue in cues(&WECHAT_CUE, &["微", "薇", "威", "v"], t) {
        let latin_cue = t[cue.start..cue.end].starts_with(|c: char| c.is_ascii_alphabetic());
        if latin_cue && after(t, cue.end).is_some_and(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        let (at, colon) = skip_filler(t, cue.end);
        match after(t, at) {
            Some(c) if c.is_ascii_digit() => {
                // A WeChat id written as digits is a phone number, and the phone's key.
                let groups = digit_groups(t, at);
                if let Some((HandleKind::Phone, value, n)) = number(&groups) {
                    let end = groups[n - 1].end;
                    if !unit_follows(t, end) {
                        push(found, HandleKind::Phone, value, cue.start, end);
                    }
                }
            }
            Some(c) if c.is_ascii_alphabetic() && (colon || !cue.weak) => {
                let len = t[at..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(t.len() - at);
                if (6..=20).contains(&len) {
                    let id = &t[at..at + len];
                    push(found, HandleKind::Wechat, id.into(), cue.start, at + len);
                }
            }
            _ => {}
        }
    }
}

static QQ_CUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"qq|扣扣|抠抠|蔻蔻|企鹅|球球|q").unwrap());

fn qq(t: &str, found: &mut Vec<Found>) {
    for cue in cues(&QQ_CUE, &["q"], t) {
        let (mut at, colon) = skip_filler(t, cue.end);
        if t[at..].starts_with('群') {
            let (a, _) = skip_filler(t, at + '群'.len_utf8());
            at = a;
        }
        if cue.weak && !colon {
            continue;
        }
        let groups = digit_groups(t, at);
        let mut digits = String::new();
        let mut end = at;
        for g in &groups {
            if digits.len() + g.digits.len() > 11 {
                break;
            }
            digits.push_str(&g.digits);
            end = g.end;
        }
        if groups.first().is_some_and(|g| g.start == at) && is_qq(&digits) {
            push(found, HandleKind::Qq, digits, cue.start, end);
        }
    }
}

static TELEGRAM_CUE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"telegram|tg|纸飞机|飞机|电报").unwrap());

fn telegram(t: &str, found: &mut Vec<Found>) {
    for cue in cues(&TELEGRAM_CUE, &[], t) {
        let (mut at, _) = skip_filler(t, cue.end);
        if t[at..].starts_with('@') {
            at += 1;
        }
        let len = t[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(t.len() - at);
        let name = &t[at..at + len];
        if is_telegram(name) {
            push(
                found,
                HandleKind::Telegram,
                name.into(),
                cue.start,
                at + len,
            );
        }
    }
}

fn credit_codes(t: &str, found: &mut Vec<Found>) {
    for c in xuncha_registry::find_credit_codes(t) {
        if c.valid {
            push(
                found,
                HandleKind::CreditCode,
                c.code,
                c.span.start(),
                c.span.end(),
            );
        }
    }
}

/// A run of ASCII digits in folded text.
#[derive(Debug)]
struct Group {
    start: usize,
    end: usize,
    digits: String,
}

/// What may stand between the digit groups of one number: a space, a dash, a dot, a
/// slash, a bracket (at most two of them in a row).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '·' | '—' | '–' | '_' | '/' | '(' | ')' | '（' | '）' | '\u{a0}'
    )
}

/// The digit groups from `at`, joined by separators, at most 16 of them.
fn digit_groups(t: &str, at: usize) -> Vec<Group> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = at;
    while out.len() < 16 && i < b.len() && b[i].is_ascii_digit() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        out.push(Group {
            start,
            end: i,
            digits: t[start..i].to_string(),
        });
        // The separators before the next group.
        let mut j = i;
        let mut seps = 0;
        while let Some(c) = t[j..].chars().next().filter(|c| is_separator(*c)) {
            j += c.len_utf8();
            seps += 1;
        }
        if seps == 0 || seps > 2 || !b.get(j).is_some_and(u8::is_ascii_digit) {
            break;
        }
        i = j;
    }
    out
}

fn is_mobile(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

/// The length of a fixed line's area code: 010 and 02x have three digits, the rest four;
/// the local number that follows has seven or eight digits and starts with 2-9.
fn landline_area(d: &str) -> Option<usize> {
    let b = d.as_bytes();
    if b.len() < 10 || b[0] != b'0' {
        return None;
    }
    let area = if b[1] == b'1' && b[2] == b'0' || b[1] == b'2' {
        3
    } else if (b'3'..=b'9').contains(&b[1]) {
        4
    } else {
        return None;
    };
    let local = b.len() - area;
    let ok = if area == 3 {
        local == 8
    } else {
        (7..=8).contains(&local)
    };
    (ok && (b'2'..=b'9').contains(&b[area])).then_some(area)
}

/// Whether the places where the groups meet (`bounds`, in digits from the start) are
/// those of one of `shapes`; a number written one digit at a time is always accepted.
fn grouped_as(bounds: &[usize], singles: bool, shapes: &[&[usize]]) -> bool {
    singles || shapes.iter().any(|s| bounds.iter().all(|b| s.contains(b)))
}

/// The phone number the groups start with: (kind, canonical value, groups used).
fn number(groups: &[Group]) -> Option<(HandleKind, String, usize)> {
    let mut total = String::new();
    let mut bounds = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if i > 0 {
            bounds.push(total.len());
        }
        total.push_str(&g.digits);
        if total.len() > 13 {
            return None;
        }
        let n = i + 1;
        let singles = n > 1 && groups[..n].iter().all(|g| g.digits.len() == 1);
        if is_mobile(&total) && grouped_as(&bounds, singles, &[&[3, 7], &[4, 8]]) {
            return Some((HandleKind::Phone, total, n));
        }
        if total.len() == 13
            && total.starts_with("86")
            && is_mobile(&total[2..])
            && grouped_as(&bounds, singles, &[&[2, 5, 9], &[2, 6, 10], &[2]])
        {
            return Some((HandleKind::Phone, total[2..].to_string(), n));
        }
        if let Some(area) = landline_area(&total) {
            let (a3, a4) = (area + 3, area + 4);
            if grouped_as(&bounds, singles, &[&[area, a4], &[area, a3]]) {
                let value = format!("{}-{}", &total[..area], &total[area..]);
                return Some((HandleKind::Landline, value, n));
            }
        }
        if total.len() == 10
            && (total.starts_with("400") || total.starts_with("800"))
            && grouped_as(&bounds, singles, &[&[3, 6], &[3, 7], &[4, 7]])
        {
            return Some((HandleKind::Landline, total, n));
        }
    }
    None
}

/// Whether a unit of money, time or age follows the number (5000元, 2024年, 13000k):
/// then it is a quantity, not a phone.
fn unit_follows(t: &str, end: usize) -> bool {
    let rest = &t[end..];
    let mut next = rest.chars();
    let short = matches!(next.next(), Some('k' | 'w'))
        && !next.next().is_some_and(|c| c.is_ascii_alphabetic());
    short
        || rest.trim_start().starts_with([
            '元', '块', '万', '千', '百', '岁', '年', '月', '日', '天', '%', '个', '人', '份',
            '次', '米', '号',
        ])
}

fn bare_numbers(t: &str, found: &mut Vec<Found>) {
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let groups = digit_groups(t, i);
        let chain_end = groups.last().map_or(i + 1, |g| g.end);
        // A number glued to letters or a decimal point belongs to something else (an
        // order number, a price, a version).
        let token = t[..i]
            .rsplit(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("");
        let glued_before = matches!(before(t, i), Some('.' | '¥' | '￥' | '$'))
            || token.bytes().any(|b| b.is_ascii_digit());
        let mut k = if glued_before { 1 } else { 0 };
        while k < groups.len() {
            match number(&groups[k..]) {
                Some((kind, value, n)) => {
                    let (start, end) = (groups[k].start, groups[k + n - 1].end);
                    let after_ok = !after(t, end).is_some_and(|c| c.is_ascii_alphanumeric());
                    if after_ok && !unit_follows(t, end) {
                        push(found, kind, value, start, end);
                    }
                    k += n;
                }
                None => k += 1,
            }
        }
        i = chain_end.max(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        in_text("description", text)
            .iter()
            .map(|h| h.key())
            .collect()
    }

    fn one(text: &str) -> Handle {
        let found = in_text("description", text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        found.into_iter().next().unwrap()
    }

    #[test]
    fn a_mobile_number_in_every_evasive_form_has_one_key() {
        let forms = [
            "联系电话13912345678",
            "电话：139 1234 5678",
            "电话：139-1234-5678",
            "电话 139.1234.5678",
            "1391 2345 678 详询",
            "１３９１２３４５６７８",
            "一三九一二三四五六七八",
            "幺三九幺二三四五六七八",
            "壹叁玖壹贰叁肆伍陆柒捌",
            "①③⑨①②③④⑤⑥⑦⑧",
            "1 3 9 1 2 3 4 5 6 7 8",
            "139一二三四5678",
            "1\u{200B}3\u{200B}9\u{200B}12345678",
            "+86 139 1234 5678",
            "8613912345678",
            "(+86)13912345678",
        ];
        for f in forms {
            assert_eq!(keys(f), ["phone:13912345678"], "{f}");
        }
    }

    #[test]
    fn wechat_cues_in_their_spellings() {
        for f in [
            "微信：zhaopin_88",
            "薇信 zhaopin_88",
            "威信号：zhaopin_88",
            "V：zhaopin_88",
            "vx zhaopin_88",
            "VX：ＺＨＡＯＰＩＮ＿８８",
            "微x：zhaopin_88",
            "wx:zhaopin_88",
            "加微：zhaopin_88",
            "wechat: zhaopin_88",
        ] {
            assert_eq!(keys(f), ["wechat:zhaopin_88"], "{f}");
        }
        // A WeChat id that is a phone number is the phone's key.
        for f in [
            "加V13912345678",
            "薇：一三九一二三四五六七八",
            "微信同号 139 1234 5678",
            "vx：139-1234-5678",
        ] {
            assert_eq!(keys(f), ["phone:13912345678"], "{f}");
        }
        assert_eq!(keys("wxid_ab12cd34ef"), ["wechat:wxid_ab12cd34ef"]);
    }

    #[test]
    fn the_evidence_is_the_text_as_written_with_its_offsets() {
        let text = "岗位轻松，薇：一三九 1234 五六七八，日结";
        let h = one(text);
        assert_eq!(h.text, "薇：一三九 1234 五六七八");
        assert_eq!(&text[h.span.start()..h.span.end()], h.text);
        assert_eq!(h.field, "description");
    }

    #[test]
    fn qq_cues_and_spaced_numbers() {
        for f in [
            "QQ：123456789",
            "扣扣 1 2 3 4 5 6 7 8 9",
            "企鹅号 123 456 789",
            "Q:１２３４５６７８９",
            "qq群：123456789",
            "123456789@qq.com",
        ] {
            let k = keys(f);
            assert!(k.contains(&"qq:123456789".to_string()), "{f}: {k:?}");
        }
        // One letter is not a cue without its colon.
        assert!(keys("Q2 2024 季度").is_empty());
        assert!(keys("qq音乐").is_empty());
    }

    #[test]
    fn telegram_links_and_cues() {
        for f in [
            "TG：@fast_money88",
            "纸飞机 @fast_money88",
            "telegram: fast_money88",
            "https://t.me/fast_money88",
            "t.me/fast_money88",
        ] {
            assert_eq!(keys(f), ["telegram:fast_money88"], "{f}");
        }
    }

    #[test]
    fn emails_and_urls_are_canonical() {
        assert_eq!(keys("简历发 HR@Example.com"), ["email:hr@example.com"]);
        assert_eq!(keys("简历发 hr#example点com"), ["email:hr@example.com"]);
        assert_eq!(keys("hr(at)example(dot)com"), ["email:hr@example.com"]);
        assert_eq!(
            keys("报名 https://WWW.Jobs-Fast.cn/apply/?id=3#top 详情"),
            ["url:jobs-fast.cn/apply"]
        );
        assert_eq!(keys("访问 jobs-fast.cn/apply"), ["url:jobs-fast.cn/apply"]);
        assert_eq!(keys("www.jobs-fast.cn。"), ["url:jobs-fast.cn"]);
    }

    #[test]
    fn landlines_and_hotlines() {
        assert_eq!(keys("电话：0755-86001234"), ["landline:0755-86001234"]);
        assert_eq!(keys("(010)87654321"), ["landline:010-87654321"]);
        assert_eq!(keys("0571 8765432"), ["landline:0571-8765432"]);
        assert_eq!(keys("热线 400-123-4567"), ["landline:4001234567"]);
        assert_eq!(keys("热线 4001234567"), ["landline:4001234567"]);
        assert_eq!(
            keys("0755-86001234 13912345678"),
            ["landline:0755-86001234", "phone:13912345678"]
        );
    }

    #[test]
    fn credit_codes_need_their_check_character() {
        let code = xuncha_registry::CreditCode::complete("91440300MA5ABCDE1").unwrap();
        let k = keys(&format!("统一社会信用代码：{code}"));
        assert_eq!(k, [format!("credit_code:{code}")]);
        let wrong = format!("{}0", &code.as_str()[..17]);
        if wrong != code.as_str() {
            assert!(keys(&format!("信用代码 {wrong}")).is_empty());
        }
    }

    #[test]
    fn lawful_numbers_are_not_handles() {
        for text in [
            "月薪8000-12000元",
            "月薪 13000-150000",
            "年薪15000-200000",
            "薪资13000—15000元/月",
            "工资 5000 8000 10000",
            "2024年12月01日入职",
            "2024-12-01 13:00 面试",
            "2019-2024 年度优秀员工",
            "邮编 518000",
            "身份证号 440301199001011234",
            "银行卡 6222 0212 3456 7890",
            "订单号 2A13912345678",
            "价格 1.3912345678",
            "13912345678元",
            "年龄18-45岁，身高160-185",
            "一二三四五六七八九十",
            "工作时间 9:00-18:00，月休4天",
            "V8 发动机 12345",
            "vip会员",
            "微商团队",
            "第一 一线城市 一二线",
            "熟悉ASP.NET、ADO.NET，了解socket.io",
        ] {
            assert!(keys(text).is_empty(), "{text}: {:?}", keys(text));
        }
    }

    #[test]
    fn a_salary_range_beside_a_phone_invents_nothing() {
        assert_eq!(
            keys("月薪15000-20000 电话13912345678"),
            ["phone:13912345678"]
        );
        assert_eq!(
            keys("13000-15000/月，联系139 1234 5678"),
            ["phone:13912345678"]
        );
    }

    #[test]
    fn a_posting_keeps_each_handle_once_per_field_and_at_most_the_cap() {
        let mut text = String::new();
        for i in 0..100 {
            text.push_str(&format!("电话 1391234{:04} ", i));
        }
        text.push_str("电话 13912340000");
        let p = Posting {
            id: "x".into(),
            description: Some(text),
            company: Some("示例人力资源（深圳）有限公司".into()),
            ..Posting::default()
        };
        let h = handles(&p);
        assert_eq!(h.len(), MAX_HANDLES);
        assert_eq!(h[0].key(), "company:示例人力资源深圳");
    }

    #[test]
    fn placeholder_companies_are_not_keys() {
        for name in ["保密", "某科技公司", "个人", "A公司", "私人老板"] {
            assert!(company(name).is_none(), "{name}");
        }
        let h = company("示例科技（深圳）有限公司").unwrap();
        assert_eq!(
            h.value,
            company("示例科技(深圳)有限责任公司").unwrap().value
        );
    }
}
