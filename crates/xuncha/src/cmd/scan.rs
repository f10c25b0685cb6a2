//! `xuncha scan`: ad hoc scans of JSONL postings (and of the operator records of
//! `xuncha crawl --operators`, for `license.undisplayed`).

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use rayon::prelude::*;
use xuncha_core::Severity;
use xuncha_matcher::PrefilterKind;
use xuncha_pipeline::Scanner;

use crate::input::{self, Item};
use crate::output::{Format, Printer};
use crate::undisplayed;
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
    /// Leave out leads below this severity.
    #[arg(long, value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
    /// Judge agencies against this licence registry: a database made by `xuncha registry
    /// import`, or a published list (CSV/JSON). Without it, only what a posting says about
    /// its own licence counts.
    #[arg(long, value_name = "FILE", env = "XUNCHA_REGISTRY")]
    pub registry: Option<std::path::PathBuf>,
    /// Prefilter engine.
    #[arg(long, default_value = "charwise", hide = true)]
    pub prefilter: PrefilterKind,
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let matcher = super::load_matcher(&args.rules.dir, args.prefilter)?;
    let scanner = Scanner::new(matcher, super::load_licensing(args.registry.as_deref())?);
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    let format = args
        .format
        .unwrap_or(if tty { Format::Table } else { Format::Jsonl });
    let mut printer = Printer::new(io::BufWriter::new(stdout.lock()), format, tty);
    let now = super::now_rfc3339();
    let (mut postings, mut leads, mut bad) = (0usize, 0usize, 0usize);
    let mut batch = Vec::with_capacity(BATCH);
    for (name, mut reader) in input::open(&args.files)? {
        let mut lineno = 0;
        loop {
            let more = input::read_batch(&name, &mut *reader, &mut lineno, BATCH, &mut batch)?;
            let results: Vec<_> = batch
                .par_iter()
                .map(|raw| {
                    input::parse_item(raw).map(|item| match item {
                        Item::Posting(p) => scanner.leads(&p, &now),
                        Item::Operator(r) => undisplayed::lead(&r, scanner.matcher().rules(), &now)
                            .into_iter()
                            .collect(),
                    })
                })
                .collect();
            for ((at, _), result) in batch.iter().zip(results) {
                match result {
                    Ok(ls) => {
                        postings += 1;
                        for l in ls
                            .iter()
                            .filter(|l| args.min_severity.is_none_or(|m| l.severity >= m))
                        {
                            leads += 1;
                            printer.lead(l)?;
                        }
                    }
                    Err(e) => {
                        bad += 1;
                        eprintln!("{at}: skipped: {e}");
                    }
                }
            }
            if !more {
                break;
            }
        }
    }
    printer.finish()?;
    eprintln!(
        "scanned {postings} postings, {leads} leads, {bad} bad lines skipped (rules {})",
        scanner.matcher().rules().version
    );
    Ok(ExitCode::SUCCESS)
}
