//! `xuncha scan`: ad hoc scans of JSONL postings.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use rayon::prelude::*;
use xuncha_core::Severity;
use xuncha_matcher::PrefilterKind;

use crate::input;
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
    /// Output format (default: html when `-o` ends in `.html`, table on a terminal, JSONL
    /// otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the output to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Leave out leads below this severity.
    #[arg(long, value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
    /// Prefilter engine.
    #[arg(long, default_value = "charwise", hide = true)]
    pub prefilter: PrefilterKind,
}

pub fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let matcher = super::load_matcher(&args.rules.dir, args.prefilter)?;
    let tty = args.output.is_none() && io::stdout().is_terminal();
    let format = (args.format).unwrap_or(Format::default_for(args.output.as_deref(), tty));
    let out = crate::output::open(args.output.as_deref())?;
    let mut printer = Printer::new(io::BufWriter::new(out), format, tty);
    let now = super::now_rfc3339();
    let (mut postings, mut leads, mut bad) = (0usize, 0usize, 0usize);
    let mut batch = Vec::with_capacity(BATCH);
    for (name, mut reader) in input::open(&args.files)? {
        let mut lineno = 0;
        loop {
            let more = input::read_batch(&name, &mut *reader, &mut lineno, BATCH, &mut batch)?;
            let results: Vec<_> = batch
                .par_iter()
                .map(|raw| input::parse_raw(raw).map(|p| matcher.leads(&p, &now)))
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
    printer.report_meta(crate::report::ReportMeta {
        generated_at: now.clone(),
        rules_version: matcher.rules().version.clone(),
        inputs: input::names(&args.files),
        postings_scanned: Some(postings),
    });
    printer.finish()?;
    eprintln!(
        "scanned {postings} postings, {leads} leads, {bad} bad lines skipped (rules {})",
        matcher.rules().version
    );
    Ok(ExitCode::SUCCESS)
}
