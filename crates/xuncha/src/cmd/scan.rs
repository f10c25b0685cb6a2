//! `xuncha scan`: ad hoc scans for analysts — JSONL files or stdin, or a Kafka topic over a
//! time range — with a progress bar, and a diff against an older rule set for reviewing a
//! rule change. Operator records of `xuncha crawl --operators` are read too, for
//! `license.undisplayed`.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::{OffsetDateTime, PrimitiveDateTime};
use xuncha_core::{Lead, Severity};
use xuncha_crawler::{CrawlerConfig, GenericSite};
use xuncha_judge::Scanner;
use xuncha_matcher::PrefilterKind;
use xuncha_pipeline::kafka::{RangeReader, TimeRange};
use xuncha_pipeline::Payload;

use crate::config::Config;
use crate::input::{self, Item, RawLine};
use crate::output::{Format, Printer};
use crate::RulesArg;

/// Lines read and scanned in parallel at a time.
const BATCH: usize = 4096;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// JSONL files of postings; `-` or nothing reads stdin.
    pub files: Vec<String>,
    #[command(flatten)]
    pub rules: RulesArg,
    /// Output format (default: table on a terminal, JSONL otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the output to FILE instead of stdout (`.html`: the report, unless --format
    /// says otherwise).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Leave out leads below this severity.
    #[arg(long, value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
    /// Judge agencies against this licence registry: a database made by `xuncha registry
    /// import`, or a published list (CSV/JSON). Without it, only what a posting says about
    /// its own licence counts.
    #[arg(long, value_name = "FILE", env = "XUNCHA_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Rescan this Kafka topic (e.g. xuncha.postings) instead of files. Reads without
    /// joining the monitoring group and commits nothing.
    #[arg(
        long,
        value_name = "TOPIC",
        conflicts_with = "files",
        requires = "since"
    )]
    pub topic: Option<String>,
    /// Fetch this posting page (repeatable) through the crawler's fetcher and scan it: the
    /// site profile whose hosts include it extracts the fields, or else the page's title and
    /// whole text are read. The page is kept in the evidence store.
    #[arg(long, value_name = "URL", conflicts_with_all = ["files", "topic"])]
    pub url: Vec<String>,
    #[command(flatten)]
    pub pages: super::PageArgs,
    /// With --topic: messages from this time (2026-11-01, 2026-11-01T08:00, or RFC 3339;
    /// without an offset, Beijing time UTC+8).
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "topic")]
    pub since: Option<OffsetDateTime>,
    /// With --topic: messages before this time (default: up to now).
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "topic")]
    pub until: Option<OffsetDateTime>,
    /// With --topic: the brokers (default: the settings file's [kafka] brokers).
    #[arg(long, env = "XUNCHA_KAFKA_BROKERS")]
    pub brokers: Option<String>,
    /// With --topic: the settings file whose [kafka] section (brokers, security) to use.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also scan with the rules in OLD_DIR and print only the difference: leads the
    /// current rules add, retire, or change (rules or severity).
    #[arg(long, value_name = "OLD_DIR")]
    pub diff_rules: Option<PathBuf>,
    /// Prefilter engine.
    #[arg(long, default_value = "charwise", hide = true)]
    pub prefilter: PrefilterKind,
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

/// A point in time as analysts write it; without an offset it is Beijing time, the
/// time of the postings and of the people reading them.
pub fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let formats = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ];
    for f in formats {
        if let Ok(t) = PrimitiveDateTime::parse(s, f) {
            return Ok(t.assume_offset(offset!(+8)));
        }
    }
    if let Ok(d) = time::Date::parse(s, format_description!("[year]-[month]-[day]")) {
        return Ok(d.midnight().assume_offset(offset!(+8)));
    }
    Err(format!(
        "`{s}` is not a time (2026-11-01, 2026-11-01T08:00, or RFC 3339 like 2026-11-01T08:00:00+08:00)"
    ))
}

/// Where the raw lines come from.
enum Input {
    Files {
        files: Vec<(String, Box<dyn io::BufRead + Send>)>,
        lineno: usize,
        /// Files given up part-way (a line past the scan bound, a read error).
        unreadable: usize,
    },
    Topic(Box<RangeReader>),
    /// Postings fetched from `--url`s, or why each could not be.
    Urls(Vec<RawLine>),
}

impl Input {
    /// Fills `batch`; false once the input is exhausted.
    fn next(&mut self, batch: &mut Vec<RawLine>) -> anyhow::Result<bool> {
        batch.clear();
        match self {
            Input::Files {
                files,
                lineno,
                unreadable,
            } => {
                while let Some((name, reader)) = files.first_mut() {
                    match input::read_batch(name, &mut **reader, lineno, BATCH, batch) {
                        Ok(true) => return Ok(true),
                        Ok(false) => {}
                        // What was read before stays in the batch; the rest of this file
                        // is lost to the scan, and the exit status says so.
                        Err(e) => {
                            eprintln!("{e:#}; the rest of {name} is skipped");
                            *unreadable += 1;
                        }
                    }
                    files.remove(0);
                    *lineno = 0;
                    if !batch.is_empty() {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Input::Urls(lines) => {
                batch.append(lines);
                Ok(false)
            }
            Input::Topic(reader) => match reader.next_batch(BATCH)? {
                None => Ok(false),
                Some(records) => {
                    batch.extend(records.into_iter().map(|r| {
                        let at = r.origin.to_string();
                        let text = match r.payload {
                            Payload::Bytes(b) => String::from_utf8(b).map_err(|e| {
                                format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to())
                            }),
                            Payload::Cut { bytes, sha256, .. } => {
                                Err(format!("{bytes} bytes is over the limit (sha256 {sha256})"))
                            }
                            Payload::Posting(p) => {
                                serde_json::to_string(&p).map_err(|e| e.to_string())
                            }
                        };
                        (at, text)
                    }));
                    Ok(true)
                }
            },
        }
    }
}

/// The progress bar on stderr (drawn only on a terminal): bytes of files, or records of
/// a topic range.
fn progress(total: Option<u64>, unit_bytes: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = match (total.is_some(), unit_bytes) {
        (true, true) => "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
        (true, false) => "{bar:30} {pos}/{len} records {per_sec} ETA {eta} {msg}",
        (false, _) => "{spinner} {bytes} {bytes_per_sec} {msg}",
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let licensing = super::load_licensing(args.registry.as_deref())?;
    let matcher = super::load_matcher(&args.rules.dir, args.prefilter)?;
    let scanner = Scanner::new(matcher, licensing.clone());
    let old = match &args.diff_rules {
        Some(dir) => Some(Scanner::new(
            super::load_matcher(dir, args.prefilter)?,
            licensing,
        )),
        None => None,
    };
    let (mut input, bar) = open_input(&args)?;
    let tty = args.output.is_none() && io::stdout().is_terminal();
    let format = (args.format).unwrap_or(Format::default_for(args.output.as_deref(), tty));
    let sink = crate::output::open(args.output.as_deref())?;
    let keep = |l: &Lead| args.min_severity.is_none_or(|m| l.severity >= m);
    let now = xuncha_core::now_rfc3339();
    let mut out = Output::new(io::BufWriter::new(sink), format, tty, old.is_some())?;
    let (mut postings, mut leads, mut bad, mut bytes) = (0usize, 0usize, 0usize, 0u64);
    let mut batch = Vec::with_capacity(BATCH);
    let own_fetch = matches!(input, Input::Urls(_));
    loop {
        let more = input.next(&mut batch)?;
        let results: Vec<_> = batch
            .par_iter()
            .map(|raw| {
                input::parse_item(raw, own_fetch).map(|item| {
                    let new = leads_of(&scanner, &item, &now);
                    let was = old.as_ref().map(|o| leads_of(o, &item, &now));
                    (new, was)
                })
            })
            .collect();
        for ((at, text), result) in batch.iter().zip(results) {
            bytes += text.as_ref().map_or(0, |t| t.len() as u64 + 1);
            match result {
                Ok((new, was)) => {
                    postings += 1;
                    let new: Vec<Lead> = new.into_iter().filter(|l| keep(l)).collect();
                    match was {
                        Some(was) => {
                            let was = was.into_iter().filter(|l| keep(l)).collect();
                            out.diff(new, was)?;
                        }
                        None => {
                            for l in &new {
                                out.lead(l)?;
                            }
                            leads += new.len();
                        }
                    }
                }
                Err(e) => {
                    bad += 1;
                    let line = format!("{at}: skipped: {e}");
                    bar.suspend(|| eprintln!("{}", crate::neutralise::terminal(&line)));
                }
            }
        }
        match &input {
            Input::Files { .. } | Input::Urls(_) => bar.set_position(bytes),
            Input::Topic(_) => bar.set_position(postings as u64 + bad as u64),
        }
        bar.set_message(format!(
            "{postings} postings, {} leads",
            leads + out.changes()
        ));
        if !more {
            break;
        }
    }
    bar.finish_and_clear();
    let version = &scanner.matcher().rules().version;
    if let Output::Leads(p) = &mut out {
        p.report_meta(crate::report::ReportMeta {
            generated_at: now.clone(),
            rules_version: version.clone(),
            inputs: match &args.topic {
                None if !args.url.is_empty() => args.url.clone(),
                Some(t) => vec![format!(
                    "{t} {} – {}",
                    args.since.map(|t| t.to_string()).unwrap_or_default(),
                    args.until.map_or("now".to_string(), |t| t.to_string())
                )],
                None => input::names(&args.files),
            },
            postings_scanned: Some(postings),
            // Campaigns are grouped in the case store, which a scan does not write.
            campaigns: Vec::new(),
        });
    }
    out.finish()?;
    match (&old, &out) {
        (Some(o), Output::Diff { counts, .. }) => eprintln!(
            "scanned {postings} postings, {bad} bad lines skipped; rules {} → {version}: {} added, {} retired, {} changed, {} unchanged",
            o.matcher().rules().version,
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        ),
        _ => eprintln!(
            "scanned {postings} postings, {leads} leads, {bad} bad lines skipped (rules {version})"
        ),
    }
    if let Input::Topic(r) = &input {
        if r.skipped() > 0 {
            eprintln!(
                "{} messages between the range's offsets had timestamps outside it and were left out",
                r.skipped()
            );
        }
    }
    let unreadable = match &input {
        Input::Files { unreadable, .. } => *unreadable,
        _ => 0,
    };
    Ok(exit_status(postings, bad, unreadable, own_fetch))
}

/// Failure when input was lost: a file given up part-way, a `--url` that could not be
/// fetched, or input whose every line was bad. Some bad lines among good ones are
/// reported but are no failure: a scan of a big export should not stop a script.
fn exit_status(postings: usize, bad: usize, unreadable: usize, urls: bool) -> ExitCode {
    let lost = unreadable > 0 || (urls && bad > 0) || (bad > 0 && postings == 0);
    if lost {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn open_input(args: &Args) -> anyhow::Result<(Input, ProgressBar)> {
    if !args.url.is_empty() {
        return Ok((Input::Urls(fetch_urls(args)?), progress(None, true)));
    }
    if let Some(topic) = &args.topic {
        let mut kafka = Config::load(args.config.as_deref())?.kafka;
        if let Some(b) = &args.brokers {
            kafka.brokers = b.clone();
        }
        let since = args.since.expect("clap requires --since with --topic");
        let range = TimeRange {
            since_ms: (since.unix_timestamp_nanos() / 1_000_000) as i64,
            until_ms: args
                .until
                .map(|u| (u.unix_timestamp_nanos() / 1_000_000) as i64),
        };
        anyhow::ensure!(
            range.until_ms.is_none_or(|u| u > range.since_ms),
            "--until must be after --since"
        );
        let reader = RangeReader::open(&kafka, topic, range)?;
        let bar = progress(Some(reader.total()), false);
        return Ok((Input::Topic(Box::new(reader)), bar));
    }
    let files = input::open(&args.files)?;
    let total = args
        .files
        .iter()
        .map(|f| {
            (f != "-")
                .then(|| std::fs::metadata(f).ok().map(|m| m.len()))
                .flatten()
        })
        .sum::<Option<u64>>()
        .filter(|_| !args.files.is_empty());
    Ok((
        Input::Files {
            files,
            lineno: 0,
            unreadable: 0,
        },
        progress(total, true),
    ))
}

fn leads_of(scanner: &Scanner, item: &Item, now: &str) -> Vec<Lead> {
    match item {
        Item::Posting(p) => scanner.leads(p, now),
        Item::Operator(r) => scanner.operator_lead(r, now).into_iter().collect(),
    }
}

/// Leads printed as they are, or the difference between two rule sets.
enum Output<W: Write> {
    Leads(Printer<W>),
    Diff {
        out: W,
        format: Format,
        color: bool,
        /// added, retired, changed, unchanged
        counts: [usize; 4],
    },
}

impl<W: Write> Output<W> {
    fn new(out: W, format: Format, tty: bool, diff: bool) -> anyhow::Result<Self> {
        if !diff {
            return Ok(Output::Leads(Printer::new(out, format, tty)));
        }
        anyhow::ensure!(
            matches!(format, Format::Table | Format::Jsonl),
            "--diff-rules writes table or jsonl"
        );
        Ok(Output::Diff {
            out,
            format,
            color: tty,
            counts: [0; 4],
        })
    }

    fn lead(&mut self, l: &Lead) -> io::Result<()> {
        match self {
            Output::Leads(p) => p.lead(l),
            Output::Diff { .. } => unreachable!("diff output takes pairs"),
        }
    }

    fn changes(&self) -> usize {
        match self {
            Output::Leads(_) => 0,
            Output::Diff { counts, .. } => counts[0] + counts[1] + counts[2],
        }
    }

    /// Prints what `new` adds to, retires from and changes in `was` (one posting's leads
    /// under each rule set). Leads are matched by id: the same posting, category and
    /// content.
    fn diff(&mut self, new: Vec<Lead>, was: Vec<Lead>) -> io::Result<()> {
        let Output::Diff {
            out,
            format,
            color,
            counts,
        } = self
        else {
            unreachable!("diff output only")
        };
        let mut was: BTreeMap<String, Lead> =
            was.into_iter().map(|l| (l.lead_id.clone(), l)).collect();
        let mut changes: Vec<(&str, Lead, Option<Lead>)> = Vec::new();
        for l in new {
            match was.remove(&l.lead_id) {
                None => changes.push(("added", l, None)),
                Some(o) if o.severity != l.severity || o.rule_ids() != l.rule_ids() => {
                    changes.push(("changed", l, Some(o)))
                }
                Some(_) => counts[3] += 1,
            }
        }
        changes.extend(was.into_values().map(|o| ("retired", o, None)));
        for (change, lead, old) in changes {
            counts[match change {
                "added" => 0,
                "retired" => 1,
                _ => 2,
            }] += 1;
            match format {
                Format::Jsonl => {
                    let mut v = serde_json::json!({"change": change, "lead": lead});
                    if let Some(o) = &old {
                        v["was"] = serde_json::json!({
                            "severity": o.severity,
                            "rules": o.rule_ids(),
                        });
                    }
                    writeln!(out, "{v}")?;
                }
                _ => {
                    let head = match &old {
                        Some(o) => format!(
                            "~ changed: {} [{}] → {} [{}]",
                            o.severity,
                            o.rule_ids().join(" "),
                            lead.severity,
                            lead.rule_ids().join(" ")
                        ),
                        None if change == "added" => "+ added by the new rules".to_string(),
                        None => "- retired by the new rules".to_string(),
                    };
                    writeln!(out, "{head}")?;
                    Printer::new(&mut *out, Format::Table, *color).lead(&lead)?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        match self {
            Output::Leads(p) => p.finish(),
            Output::Diff { out, .. } => out.flush(),
        }
    }
}

/// Fetches every `--url` as one posting each (in order); a page that cannot be fetched or
/// read becomes a line that says why, like a bad input line.
fn fetch_urls(args: &Args) -> anyhow::Result<Vec<RawLine>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let rechecker = crate::recheck::build_rechecker(
        &args.pages.sites_dir,
        &args.pages.evidence,
        CrawlerConfig::default(),
        GenericSite::default(),
        None,
    )?;
    Ok(args
        .url
        .iter()
        .map(|url| {
            let line = rt
                .block_on(rechecker.fetch_posting(url))
                .and_then(|p| serde_json::to_string(&p).map_err(|e| e.to_string()));
            (url.clone(), line)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_without_an_offset_are_beijing_time() {
        let t = parse_time("2026-11-01T08:00").unwrap();
        assert_eq!(t.unix_timestamp(), 1_793_491_200);
        assert_eq!(
            parse_time("2026-11-01").unwrap().unix_timestamp(),
            1_793_462_400
        );
        assert_eq!(
            parse_time("2026-11-01T00:00:00Z").unwrap().unix_timestamp(),
            1_793_491_200
        );
        assert!(parse_time("2026-11-31").is_err());
    }
}
