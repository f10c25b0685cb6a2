//! The HTML report of `scan --format html`: one self-contained page an analyst can open
//! and forward. Postings are hostile input, so the page is built with `maud`, which escapes
//! every interpolated value; a Content-Security-Policy forbids scripts and any fetch, and
//! the styles are inline, so the file needs nothing but itself.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use xuncha_core::{Category, Finding, Lead, PublisherKind, Severity};

/// What the report's header says about the scan that produced it.
#[derive(Clone, Debug, Default)]
pub struct ReportMeta {
    /// When the report was made, RFC 3339.
    pub generated_at: String,
    /// Version of the rule set; when empty, the versions the leads name.
    pub rules_version: String,
    /// Names of the inputs scanned (`<stdin>` for standard input).
    pub inputs: Vec<String>,
    /// Postings read, when the report comes from a scan.
    pub postings_scanned: Option<usize>,
    /// Campaigns that hold the report's leads, when it comes from a case store (the
    /// largest first).
    pub campaigns: Vec<xuncha_cases::Campaign>,
}

/// Severities as the report lists them: most serious first.
const SEVERITIES: [Severity; 4] = [
    Severity::Illegal,
    Severity::LocallyIllegal,
    Severity::Indicator,
    Severity::Disfavoured,
];

pub(crate) fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Illegal => "违法",
        Severity::LocallyIllegal => "违反地方规定",
        Severity::Indicator => "诈骗风险信号",
        Severity::Disfavoured => "政策不提倡",
    }
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Illegal => "#c62828",
        Severity::LocallyIllegal => "#e65100",
        Severity::Indicator => "#6a1b9a",
        Severity::Disfavoured => "#00838f",
    }
}

pub(crate) fn category_label(c: Category) -> &'static str {
    match c {
        Category::DiscriminationGender => "性别歧视",
        Category::DiscriminationAge => "年龄歧视",
        Category::DiscriminationRegion => "地域、户籍歧视",
        Category::DiscriminationHealth => "健康歧视",
        Category::DiscriminationEthnicityReligion => "民族、宗教歧视",
        Category::DiscriminationMaritalPregnancy => "婚育歧视",
        Category::DiscriminationOther => "其他歧视",
        Category::FeeDeposit => "收取押金",
        Category::FeeTraining => "收取培训费",
        Category::FeeOther => "其他收费",
        Category::FakeTaskScam => "刷单等任务诈骗",
        Category::FakeHighPayLowBar => "高薪低门槛",
        Category::FakeOverseas => "境外务工陷阱",
        Category::FakeOther => "其他虚假招聘",
        Category::LicenseMissing => "无许可证从事职业中介",
        Category::LicenseUndisplayed => "未公示许可证",
    }
}

fn publisher_kind(k: PublisherKind) -> &'static str {
    match k {
        PublisherKind::Employer => "用人单位 employer",
        PublisherKind::Agency => "职业中介 agency",
        PublisherKind::Platform => "平台 platform",
        PublisherKind::Unknown => "未知 unknown",
    }
}

/// Sorts leads as the report lists them: most serious first, then by category in taxonomy
/// order; posting and lead id keep the order the same from run to run.
pub fn sort(leads: &mut [Lead]) {
    leads.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.category.cmp(&b.category))
            .then_with(|| (&a.posting.id, &a.lead_id).cmp(&(&b.posting.id, &b.lead_id)))
    });
}

/// The whole page for `leads`, listed in the order given (see [`sort`]).
pub fn render(meta: &ReportMeta, leads: &[Lead]) -> String {
    let counts = Counts::of(leads);
    let rules = if meta.rules_version.is_empty() {
        let mut v: Vec<&str> = leads.iter().map(|l| l.rules_version.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v.join(", ")
    } else {
        meta.rules_version.clone()
    };
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // Nothing in the page may run or load: it is read offline and forwarded.
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'";
                title { "网络招聘巡查线索报告 / xuncha report" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header.report {
                    h1 { "网络招聘巡查线索报告 " small { "xuncha report" } }
                    dl.meta {
                        dt { "生成时间 Generated" } dd { (meta.generated_at) }
                        dt { "规则版本 Rules" } dd { code { (rules) } }
                        dt { "输入 Inputs" } dd { (meta.inputs.join(", ")) }
                        @if let Some(n) = meta.postings_scanned {
                            dt { "扫描岗位 Postings scanned" } dd { (n) }
                        }
                        dt { "线索 Leads" } dd { (leads.len()) }
                    }
                }
                section.summary {
                    h2 { "汇总 Summary" }
                    (summary_table(&counts))
                    div.scroll { (chart(&counts)) }
                }
                @if !meta.campaigns.is_empty() {
                    (campaigns_section(&meta.campaigns, leads))
                }
                @for lead in leads {
                    (lead_section(lead))
                }
            }
        }
    }
    .into_string()
}

/// Leads per category and severity, categories in taxonomy order.
struct Counts {
    rows: Vec<(Category, [usize; 4])>,
}

impl Counts {
    fn of(leads: &[Lead]) -> Counts {
        Counts::from_counts(leads.iter().map(|l| (l.category, l.severity, 1)))
    }

    /// From numbers of leads per (category, severity).
    fn from_counts(counts: impl IntoIterator<Item = (Category, Severity, usize)>) -> Counts {
        let mut rows: Vec<(Category, [usize; 4])> = Vec::new();
        for (category, severity, n) in counts {
            let i = match rows.binary_search_by_key(&category, |r| r.0) {
                Ok(i) => i,
                Err(i) => {
                    rows.insert(i, (category, [0; 4]));
                    i
                }
            };
            let s = SEVERITIES.iter().position(|&s| s == severity).unwrap_or(0);
            rows[i].1[s] += n;
        }
        Counts { rows }
    }

    fn column(&self, s: usize) -> usize {
        self.rows.iter().map(|r| r.1[s]).sum()
    }
}

/// The report's summary table and chart for numbers of leads per (category, severity),
/// as the console's dashboard shows them.
pub(crate) fn summary(counts: impl IntoIterator<Item = (Category, Severity, usize)>) -> Markup {
    let c = Counts::from_counts(counts);
    html! {
        (summary_table(&c))
        div.scroll { (chart(&c)) }
    }
}

fn summary_table(c: &Counts) -> Markup {
    html! {
        div.scroll {
            table.counts {
                thead {
                    tr {
                        th { "类别 Category" }
                        @for s in SEVERITIES {
                            th.num { span.badge.(s.as_str()) { (severity_label(s)) } br; code.muted { (s.as_str()) } }
                        }
                        th.num { "合计 Total" }
                    }
                }
                tbody {
                    @for (cat, n) in &c.rows {
                        tr {
                            td { (category_label(*cat)) " " code.muted { (cat.as_str()) } }
                            @for k in n { td.num { @if *k > 0 { (k) } } }
                            td.num { b { (n.iter().sum::<usize>()) } }
                        }
                    }
                }
                tfoot {
                    tr {
                        th { "合计 Total" }
                        @for s in 0..SEVERITIES.len() { td.num { (c.column(s)) } }
                        td.num { b { ((0..SEVERITIES.len()).map(|s| c.column(s)).sum::<usize>()) } }
                    }
                }
            }
        }
    }
}

/// Horizontal bars, one per category, stacked by severity. Drawn in a fixed coordinate
/// space that the viewBox scales to the window.
fn chart(c: &Counts) -> Markup {
    const LABEL: f64 = 250.0;
    const BARS: f64 = 430.0;
    const ROW: f64 = 30.0;
    const TOP: f64 = 34.0;
    let max = c
        .rows
        .iter()
        .map(|r| r.1.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = BARS / max as f64;
    let height = TOP + ROW * c.rows.len() as f64 + 8.0;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 760 {height}"))
            role="img" aria-label="各类别线索数（按严重程度）/ leads per category by severity" {
            @for (i, s) in SEVERITIES.iter().enumerate() {
                rect x=(LABEL + i as f64 * 125.0) y="6" width="12" height="12" fill=(severity_colour(*s)) {}
                text x=(LABEL + 16.0 + i as f64 * 125.0) y="16" font-size="12" { (severity_label(*s)) }
            }
            @for (row, (cat, n)) in c.rows.iter().enumerate() {
                @let y = TOP + row as f64 * ROW;
                text x=(LABEL - 8.0) y=(y + 17.0) font-size="13" text-anchor="end" {
                    (category_label(*cat))
                }
                @for (x, w, s, k) in segments(n, LABEL, scale) {
                    rect x=(x) y=(y + 3.0) width=(w) height=(ROW - 8.0) fill=(severity_colour(s)) {
                        title { (cat.as_str()) " · " (s.as_str()) ": " (k) }
                    }
                }
                @let x = LABEL + n.iter().sum::<usize>() as f64 * scale;
                text x=(x + 6.0) y=(y + 17.0) font-size="12" { (n.iter().sum::<usize>()) }
            }
        }
    }
}

/// The bar pieces of one row: (x, width, severity, count), empty severities left out.
fn segments(n: &[usize; 4], left: f64, scale: f64) -> Vec<(f64, f64, Severity, usize)> {
    let mut x = left;
    let mut out = Vec::new();
    for (s, &k) in SEVERITIES.iter().zip(n) {
        if k > 0 {
            out.push((x, k as f64 * scale, *s, k));
            x += k as f64 * scale;
        }
    }
    out
}

/// The campaigns that hold the report's leads: size, sightings, sites, what ties them,
/// categories, and links to those of their leads the report shows.
fn campaigns_section(campaigns: &[xuncha_cases::Campaign], leads: &[Lead]) -> Markup {
    let shown: std::collections::HashSet<&str> = leads.iter().map(|l| l.lead_id.as_str()).collect();
    html! {
        section.campaigns {
            h2 { "团伙线索 Campaigns " small.muted { "leads whose postings share a contact handle, a company or near-identical text" } }
            div.scroll {
                table.counts {
                    thead { tr {
                        th { "团伙 Campaign" } th.num { "岗位 Postings" } th.num { "线索 Leads" }
                        th { "首次 / 最近 Seen" } th { "网站 Sites" } th { "关联 Tied by" }
                        th { "类别 Categories" } th { "本报告中的线索 Leads here" }
                    } }
                    tbody {
                        @for c in campaigns {
                            tr {
                                td { "#" (c.id) br; span.muted { (c.title.as_deref().unwrap_or("")) } }
                                td.num { (c.postings) }
                                td.num { (c.leads) }
                                td { (c.first_seen.get(..10).unwrap_or(&c.first_seen)) " – " (c.last_seen.get(..10).unwrap_or(&c.last_seen)) }
                                td { (c.sites.join(", ")) }
                                td.wrap { @for k in c.keys.iter().filter(|k| !k.too_common).take(5) { code { (k.key) } " ×" (k.postings) br; } }
                                td { @for x in &c.categories { code { (x.category) } " " (x.leads) br; } }
                                td.wrap {
                                    @for l in c.lead_ids.iter().filter(|l| shown.contains(l.as_str())).take(20) {
                                        a href=(format!("#lead-{l}")) { code { (l.get(..8).unwrap_or(l)) } } " "
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn lead_section(l: &Lead) -> Markup {
    let p = &l.posting;
    let sev = l.severity.as_str();
    html! {
        section.lead.(sev) id=(format!("lead-{}", l.lead_id)) {
            h3 {
                span.badge.(sev) { (severity_label(l.severity)) " " (sev) }
                " " (category_label(l.category)) " "
                code { (l.category.as_str()) }
                span.score { "score " (format!("{:.2}", l.score)) }
            }
            dl.meta {
                dt { "岗位 Posting" }
                dd {
                    (p.title.as_deref().unwrap_or("—"))
                    @if let Some(c) = &p.company { " · " (c) }
                    @if let Some(loc) = &p.location { " · " (loc) }
                }
                @if p.publisher.is_some() || p.publisher_kind.is_some() {
                    dt { "发布者 Publisher" }
                    dd {
                        (p.publisher.as_deref().unwrap_or("—"))
                        @if let Some(k) = p.publisher_kind { " (" (publisher_kind(k)) ")" }
                    }
                }
                dt { "网址 URL" }
                dd.wrap { (link(p.url.as_deref())) }
                dt { "采集时间 Captured" } dd { (p.fetched_at.as_deref().unwrap_or("—")) }
                dt { "内容哈希 SHA-256" } dd.wrap { code { (p.content_sha256) } }
                dt { "岗位编号 Posting id" } dd.wrap { code { (p.id) } }
                dt { "线索编号 Lead id" } dd.wrap { code { (l.lead_id) } }
                dt { "发现时间 Detected" } dd { (l.detected_at) }
                dt { "规则 Rules" } dd { code { (l.rule_ids().join(" ")) } }
                @if let Some(lic) = &l.licence {
                    dt { "名录核查 Registry" } dd.wrap {
                        (lic.summary) br;
                        "名录 Registry: " (lic.registry.as_deref().unwrap_or("未查询 none consulted"))
                        @if let Some(e) = &lic.entry { br; "登记 Listed as: " (e) }
                    }
                }
            }
            h4 { "证据 Evidence" }
            ol.findings {
                @for f in &l.findings {
                    li {
                        div.where {
                            code { (f.field) } " [" (f.span.start()) ".." (f.span.end()) "] "
                            code { (f.rule_id) }
                        }
                        blockquote.context { (highlight(f)) }
                    }
                }
            }
            @if !l.legal_basis.is_empty() {
                h4 { "法律依据 Legal basis" }
                ul.law {
                    @for b in &l.legal_basis {
                        li { b { (b.law) (b.article) } @if !b.text.is_empty() { "：" q { (b.text) } } }
                    }
                }
            }
            @if let Some(pen) = &l.penalty {
                h4 { "罚则 Penalty" }
                ul.law {
                    li { b { (pen.law) (pen.article) } @if !pen.text.is_empty() { "：" q { (pen.text) } } }
                }
            }
        }
    }
}

/// The finding's context with its match marked, found the way the table printer finds
/// it; a match the context does not hold is shown alone, marked. The context keeps its
/// line breaks but not the blank space at its ends.
fn highlight(f: &Finding) -> Markup {
    let at = f.context.find(&f.matched).filter(|_| !f.matched.is_empty());
    html! {
        @match at {
            Some(i) => {
                (f.context[..i].trim_start())
                mark data-rule=(f.rule_id) { (f.matched) }
                (f.context[i + f.matched.len()..].trim_end())
            }
            None => { mark data-rule=(f.rule_id) { (f.matched) } }
        }
    }
}

/// The posting's address as a link, or as text when it is not http(s): a hostile posting
/// could carry a `javascript:` address.
fn link(url: Option<&str>) -> Markup {
    html! {
        @match url {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                a href=(u) rel="noreferrer noopener" { (u) }
            }
            Some(u) => { code { (u) } }
            None => { "—" }
        }
    }
}

pub(crate) const CSS: &str = r#"
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --bg: #fff; --panel: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 62rem; padding: 1.5rem 1rem 3rem; color: var(--fg); background: var(--bg);
  font: 15px/1.6 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC",
  "WenQuanYi Micro Hei", sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; } h1 small { color: var(--muted); font-weight: normal; font-size: 1rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid var(--fg); padding-bottom: .2rem; }
h3 { font-size: 1.1rem; margin: 0 0 .6rem; } h4 { font-size: .95rem; margin: 1rem 0 .3rem; color: var(--muted); }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; min-width: 0; }
.wrap { overflow-wrap: anywhere; } .muted { color: var(--muted); }
.scroll { overflow-x: auto; }
table.counts { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
table.counts th, table.counts td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
table.counts thead th, table.counts tfoot th { background: var(--panel); }
.num { text-align: right !important; }
svg.chart { width: 100%; height: auto; min-width: 520px; max-width: 760px; display: block; }
svg.chart text { fill: var(--fg); font-family: inherit; }
.badge { display: inline-block; color: #fff; border-radius: 3px; padding: 0 .4rem; font-size: .85rem; white-space: nowrap; }
.badge.illegal { background: #c62828; } .badge.locally_illegal { background: #e65100; }
.badge.indicator { background: #6a1b9a; } .badge.disfavoured { background: #00838f; }
section.lead { border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 4px;
  padding: .9rem 1rem; margin: 1rem 0; }
section.lead.illegal { border-left-color: #c62828; } section.lead.locally_illegal { border-left-color: #e65100; }
section.lead.indicator { border-left-color: #6a1b9a; } section.lead.disfavoured { border-left-color: #00838f; }
.score { float: right; color: var(--muted); font-weight: normal; font-size: .9rem; }
ol.findings { padding-left: 1.4rem; margin: 0; } ol.findings li { margin-bottom: .5rem; }
.where { color: var(--muted); font-size: .85rem; }
blockquote.context { margin: .2rem 0 0; padding: .4rem .6rem; background: var(--panel); border-radius: 3px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
mark { background: #ffe066; color: #000; font-weight: bold; padding: 0 .1em; border-radius: 2px;
  box-shadow: 0 0 0 1px #c9a400; }
ul.law { margin: 0; padding-left: 1.2rem; } q { color: var(--muted); }
a { color: #0b57d0; }
@media (max-width: 640px) {
  body { padding: 1rem .6rem; font-size: 14px; }
  dl.meta { grid-template-columns: 1fr; } dl.meta dd { margin-bottom: .3rem; }
  .score { float: none; display: block; }
  table.counts code.muted { display: none; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section.lead { break-inside: avoid; page-break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use xuncha_core::Span;

    fn finding(matched: &str, context: &str) -> Finding {
        Finding {
            rule_id: "R-1".into(),
            field: "description".into(),
            span: Span::new(0, matched.len()),
            matched: matched.into(),
            context: context.into(),
        }
    }

    #[test]
    fn match_is_marked_in_its_context_and_escaped() {
        let got = highlight(&finding("限男性", "\n招聘<b>，限男性，5000 ")).into_string();
        assert_eq!(
            got,
            "招聘&lt;b&gt;，<mark data-rule=\"R-1\">限男性</mark>，5000"
        );
    }

    #[test]
    fn match_missing_from_its_context_is_shown_alone() {
        let got = highlight(&finding("押 金", "入职交押金")).into_string();
        assert_eq!(got, "<mark data-rule=\"R-1\">押 金</mark>");
    }

    #[test]
    fn campaigns_are_a_section_of_their_own_and_escaped() {
        let c = xuncha_cases::Campaign {
            id: 7,
            postings: 2,
            leads: 3,
            first_seen: "2026-11-01T00:00:00Z".into(),
            last_seen: "2026-11-02T00:00:00Z".into(),
            keys: vec![xuncha_cases::CampaignKey {
                key: "wechat:<b>x".into(),
                postings: 2,
                too_common: false,
            }],
            sites: vec!["boss".into()],
            categories: vec![],
            title: Some("<script>alert(1)</script>".into()),
            lead_ids: vec!["l1".into()],
            posting_ids: vec!["p1".into()],
            truncated: false,
        };
        let meta = ReportMeta {
            campaigns: vec![c],
            ..ReportMeta::default()
        };
        let page = render(&meta, &[]);
        assert!(page.contains("团伙线索 Campaigns"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("wechat:&lt;b&gt;x"));
        assert!(!page.contains("<script>"));
        assert!(!render(&ReportMeta::default(), &[]).contains("团伙线索"));
    }

    #[test]
    fn only_web_addresses_become_links() {
        let got = link(Some("javascript:alert(1)")).into_string();
        assert!(!got.contains("href"), "{got}");
        let got = link(Some("https://jobs.example/1?a=1&b=2")).into_string();
        assert!(
            got.contains("href=\"https://jobs.example/1?a=1&amp;b=2\""),
            "{got}"
        );
    }
}
