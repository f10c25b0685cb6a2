//! Printing leads: a coloured table for people, JSONL and CSV for programs, and an HTML
//! report to open and forward.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use xuncha_core::{Lead, Severity};

use crate::neutralise::{csv_cell, terminal};
use crate::report::{self, ReportMeta};

/// Output format of `scan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One block per lead, the matched text highlighted in its context.
    Table,
    /// One Lead JSON object a line (docs/data-contracts.md).
    Jsonl,
    /// One row per lead.
    Csv,
    /// A self-contained HTML report: summary, chart, and each lead with its evidence.
    Html,
}

impl Format {
    /// The format when none is asked for: HTML for an `.html` file, the table on a
    /// terminal, JSONL otherwise.
    pub fn default_for(output: Option<&Path>, tty: bool) -> Format {
        let html = output
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
        match (html, tty) {
            (true, _) => Format::Html,
            (false, true) => Format::Table,
            (false, false) => Format::Jsonl,
        }
    }
}

/// Where output goes: the file at `path`, created or truncated, or stdout.
pub fn open(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    })
}

const RESET: &str = "\x1b[0m";
const MARK: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";

fn severity_style(s: Severity) -> &'static str {
    match s {
        Severity::Illegal => "\x1b[1;37;41m",
        Severity::LocallyIllegal => "\x1b[1;30;43m",
        Severity::Indicator => "\x1b[1;35m",
        Severity::Disfavoured => "\x1b[1;36m",
    }
}

/// Writes leads in one of the formats.
pub struct Printer<W: Write> {
    out: Sink<W>,
    color: bool,
}

enum Sink<W: Write> {
    Table(W),
    Jsonl(W),
    Csv(Box<csv::Writer<W>>),
    /// The report needs every lead before it can write its summary.
    Html {
        out: W,
        leads: Vec<Lead>,
        meta: ReportMeta,
    },
}

/// The columns a case list adds to each lead in CSV: where it stands in the case queue.
pub const CASE_COLUMNS: [&str; 6] = [
    "status",
    "verdict",
    "assigned_to",
    "first_seen",
    "last_seen",
    "gone_at",
];

impl<W: Write> Printer<W> {
    /// A printer; `color` only affects the table.
    pub fn new(out: W, format: Format, color: bool) -> Printer<W> {
        Printer::with_columns(out, format, color, &[])
    }

    /// A printer whose CSV has `extra` columns after the lead's own, filled by
    /// [`Printer::lead_with`]; the other formats have no such columns.
    pub fn with_columns(out: W, format: Format, color: bool, extra: &[&str]) -> Printer<W> {
        let out = match format {
            Format::Table => Sink::Table(out),
            Format::Jsonl => Sink::Jsonl(out),
            Format::Html => Sink::Html {
                out,
                leads: Vec::new(),
                meta: ReportMeta::default(),
            },
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                let _ = w.write_record(
                    [
                        "lead_id",
                        "posting_id",
                        "url",
                        "category",
                        "severity",
                        "score",
                        "rules",
                        "matched",
                        "legal_basis",
                        "penalty",
                        "content_sha256",
                        "detected_at",
                    ]
                    .into_iter()
                    .chain(extra.iter().copied()),
                );
                Sink::Csv(Box::new(w))
            }
        };
        Printer { out, color }
    }

    /// Sets what the HTML report's header says; the other formats have no header.
    pub fn report_meta(&mut self, meta: ReportMeta) {
        if let Sink::Html { meta: m, .. } = &mut self.out {
            *m = meta;
        }
    }

    /// Writes one lead (the HTML report keeps it until [`Printer::finish`]).
    pub fn lead(&mut self, lead: &Lead) -> std::io::Result<()> {
        self.lead_with(lead, &[])
    }

    /// Writes one lead with the values of the extra CSV columns.
    pub fn lead_with(&mut self, lead: &Lead, extra: &[&str]) -> std::io::Result<()> {
        match &mut self.out {
            Sink::Html { leads, .. } => {
                leads.push(lead.clone());
                Ok(())
            }
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, lead)?;
                out.write_all(b"\n")
            }
            Sink::Csv(w) => {
                let matched: Vec<&str> = lead.findings.iter().map(|f| f.matched.as_str()).collect();
                let basis: Vec<String> = lead
                    .legal_basis
                    .iter()
                    .map(|l| format!("{}{}", l.law, l.article))
                    .collect();
                let cells = [
                    lead.lead_id.clone(),
                    lead.posting.id.clone(),
                    lead.posting.url.clone().unwrap_or_default(),
                    lead.category.as_str().to_string(),
                    lead.severity.as_str().to_string(),
                    format!("{:.3}", lead.score),
                    lead.rule_ids().join(" "),
                    matched.join(" | "),
                    basis.join("; "),
                    lead.penalty
                        .as_ref()
                        .map(|p| format!("{}{}", p.law, p.article))
                        .unwrap_or_default(),
                    lead.posting.content_sha256.clone(),
                    lead.detected_at.clone(),
                ];
                w.write_record(
                    cells
                        .iter()
                        .map(String::as_str)
                        .chain(extra.iter().copied())
                        .map(|c| csv_cell(c).into_owned()),
                )?;
                Ok(())
            }
            Sink::Table(out) => table(out, lead, self.color),
        }
    }

    /// Writes the HTML report, flushes the header of an empty CSV, and flushes the output.
    pub fn finish(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Sink::Table(out) | Sink::Jsonl(out) => out.flush(),
            Sink::Csv(w) => w.flush(),
            Sink::Html { out, leads, meta } => {
                let mut leads = std::mem::take(leads);
                report::sort(&mut leads);
                out.write_all(report::render(meta, &leads).as_bytes())?;
                out.flush()
            }
        }
    }
}

/// A lead for a person at a terminal: everything that came from the posting goes through
/// [`terminal`], so a hostile posting prints as text.
fn table(out: &mut impl Write, lead: &Lead, color: bool) -> std::io::Result<()> {
    let (sev, reset, mark, dim) = if color {
        (severity_style(lead.severity), RESET, MARK, DIM)
    } else {
        ("", "", "", "")
    };
    writeln!(
        out,
        "{sev} {} {reset} {}  posting {}  score {:.2}  {dim}lead {}{reset}",
        lead.severity,
        lead.category,
        terminal(&lead.posting.id),
        lead.score,
        lead.lead_id
    )?;
    if let Some(url) = &lead.posting.url {
        writeln!(out, "  {dim}{}{reset}", terminal(url))?;
    }
    for f in &lead.findings {
        let ctx = highlight(&f.context, &f.matched, mark, reset);
        writeln!(
            out,
            "  {:<24} {}[{}..{}]  {ctx}",
            f.rule_id,
            f.field,
            f.span.start(),
            f.span.end()
        )?;
    }
    for l in &lead.legal_basis {
        writeln!(out, "  {dim}依据{reset} {}{}：{}", l.law, l.article, l.text)?;
    }
    if let Some(p) = &lead.penalty {
        writeln!(out, "  {dim}罚则{reset} {}{}", p.law, p.article)?;
    }
    writeln!(out)
}

/// The context with the match marked; both neutralised, the marks added after.
fn highlight(context: &str, matched: &str, mark: &str, reset: &str) -> String {
    match context.find(matched) {
        Some(i) if !matched.is_empty() => format!(
            "{}{mark}{}{reset}{}",
            terminal(&context[..i]),
            terminal(matched),
            terminal(&context[i + matched.len()..])
        ),
        _ => terminal(context).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_file_picks_the_html_report() {
        let html = Some(Path::new("out/Report.HTML"));
        assert_eq!(Format::default_for(html, false), Format::Html);
        assert_eq!(Format::default_for(html, true), Format::Html);
        let jsonl = Some(Path::new("leads.jsonl"));
        assert_eq!(Format::default_for(jsonl, false), Format::Jsonl);
        assert_eq!(Format::default_for(None, true), Format::Table);
    }

    fn hostile_lead() -> Lead {
        let text = "=cmd|' /C calc'!A0 入职需交押金500元\u{1b}]52;c;aGk=\u{7}\u{1b}[2J";
        let mut p = xuncha_core::Posting::from_text("=HYPERLINK(\"http://x\")", text);
        p.url = Some("@evil\u{1b}]0;title\u{7}".into());
        let rules =
            xuncha_rules::RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules"))
                .unwrap();
        let m = xuncha_matcher::Matcher::new(std::sync::Arc::new(rules)).unwrap();
        let leads = m.leads(&p, "2026-12-02T00:00:00Z");
        assert!(!leads.is_empty(), "the posting is flagged");
        leads.into_iter().next().unwrap()
    }

    #[test]
    fn csv_cells_that_read_as_formulas_are_quoted() {
        let mut buf = Vec::new();
        let mut p = Printer::new(&mut buf, Format::Csv, false);
        p.lead(&hostile_lead()).unwrap();
        p.finish().unwrap();
        drop(p);
        let mut r = csv::Reader::from_reader(&buf[..]);
        let row = r.records().next().unwrap().unwrap();
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a live formula: {cell}"
            );
        }
        assert_eq!(&row[1], "'=HYPERLINK(\"http://x\")");
    }

    #[test]
    fn a_case_list_adds_its_columns_quoted_like_the_rest() {
        let mut buf = Vec::new();
        let mut p = Printer::with_columns(&mut buf, Format::Csv, false, &CASE_COLUMNS);
        p.lead_with(
            &hostile_lead(),
            &[
                "assigned",
                "confirmed",
                "=cmd()",
                "2026-11-01",
                "2026-11-02",
                "",
            ],
        )
        .unwrap();
        p.finish().unwrap();
        drop(p);
        let mut r = csv::Reader::from_reader(&buf[..]);
        let header = r.headers().unwrap().clone();
        assert_eq!(&header[header.len() - 6], "status");
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(row.len(), header.len());
        assert_eq!(&row[row.len() - 4], "'=cmd()", "a live formula is quoted");
        assert_eq!(&row[row.len() - 5], "confirmed");
    }

    #[test]
    fn the_table_prints_no_control_sequence_from_a_posting() {
        for color in [false, true] {
            let mut buf = Vec::new();
            let mut p = Printer::new(&mut buf, Format::Table, color);
            p.lead(&hostile_lead()).unwrap();
            p.finish().unwrap();
            drop(p);
            let out = String::from_utf8(buf).unwrap();
            assert!(!out.contains('\u{7}'), "{out}");
            assert!(!out.contains("\u{1b}]"), "an OSC sequence went out: {out}");
            assert!(!out.contains("\u{1b}[2J"), "{out}");
            assert!(out.contains("\\u{1b}]52"), "shown escaped: {out}");
        }
    }
}
