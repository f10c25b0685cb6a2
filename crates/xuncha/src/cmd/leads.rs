//! `xuncha leads list|show|export|mark`: the embedded case queue for analysts.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use xuncha_core::{Category, Severity};
use xuncha_pipeline::sqlite::{CaseQueue, Filter, Status};

use crate::output::{Format, Printer};

#[derive(clap::Args, Debug, Clone)]
pub struct Db {
    /// The SQLite case queue.
    #[arg(
        long,
        env = "XUNCHA_DB",
        default_value = "data/xuncha.db",
        global = true
    )]
    pub db: PathBuf,
}

#[derive(clap::Args, Debug, Clone)]
pub struct FilterArgs {
    /// Only this category.
    #[arg(long)]
    pub category: Option<Category>,
    /// Only this severity or above.
    #[arg(long, value_parser = super::scan::parse_severity)]
    pub min_severity: Option<Severity>,
    /// Only this status (new, assigned, closed, false_positive).
    #[arg(long)]
    pub status: Option<Status>,
    /// Only leads first seen at or after this time (2026-11-01 or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only leads first seen before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many, newest first.
    #[arg(long)]
    pub limit: Option<usize>,
}

impl FilterArgs {
    fn filter(&self) -> Filter {
        Filter {
            category: self.category,
            min_severity: self.min_severity,
            status: self.status,
            since: self.since.clone(),
            until: self.until.clone(),
            limit: self.limit,
        }
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// One line per lead: id, status, severity, category, posting, first and last seen.
    List {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// A lead with its evidence highlighted, legal basis and history.
    Show {
        /// Lead id.
        lead_id: String,
    },
    /// Leads as JSONL, CSV or an HTML report, for the case file.
    Export {
        #[command(flatten)]
        filter: FilterArgs,
        /// jsonl, csv or html.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Records that could not be scanned (bad JSON, no text, too large), as JSONL, with
    /// their reason and origin.
    DeadLetters,
    /// Set a lead's status.
    Mark {
        /// Lead id.
        lead_id: String,
        /// new, assigned, closed or false_positive.
        status: Status,
    },
}

pub fn run(db: Db, cmd: Command) -> anyhow::Result<ExitCode> {
    if !db.db.exists() {
        anyhow::bail!(
            "no case queue at {} (run `xuncha run` first, or set --db / XUNCHA_DB)",
            db.db.display()
        );
    }
    let q = CaseQueue::open(&db.db)?;
    let out = io::stdout();
    match cmd {
        Command::List { filter } => {
            let rows = q.list(&filter.filter())?;
            let mut w = io::BufWriter::new(out.lock());
            writeln!(
                w,
                "{:<32}  {:<14} {:<15} {:<34} {:<28} {:<20} {:<20} seen",
                "lead", "status", "severity", "category", "posting", "first_seen", "last_seen"
            )?;
            for r in &rows {
                writeln!(
                    w,
                    "{:<32}  {:<14} {:<15} {:<34} {:<28} {:<20} {:<20} {}",
                    r.lead.lead_id,
                    r.status.as_str(),
                    r.lead.severity.as_str(),
                    r.lead.category.as_str(),
                    r.lead.posting.id,
                    short_time(&r.first_seen),
                    short_time(&r.last_seen),
                    r.seen_count
                )?;
            }
            w.flush()?;
            eprintln!("{} lead(s)", rows.len());
        }
        Command::Show { lead_id } => {
            let Some(r) = q.get(&lead_id)? else {
                eprintln!("no lead {lead_id} in {}", db.db.display());
                return Ok(ExitCode::FAILURE);
            };
            let tty = out.is_terminal();
            let mut p = Printer::new(out.lock(), Format::Table, tty);
            p.lead(&r.lead)?;
            p.finish()?;
            let l = &r.lead;
            println!("  status       {}", r.status);
            println!("  first seen   {}", r.first_seen);
            println!("  last seen    {}  ({} scan(s))", r.last_seen, r.seen_count);
            if let Some(at) = &l.posting.fetched_at {
                println!("  captured     {at}");
            }
            println!("  content hash {}", l.posting.content_sha256);
            if let Some(lic) = &l.licence {
                println!("  licence      {}", lic.summary);
                println!(
                    "  registry     {}",
                    lic.registry.as_deref().unwrap_or("none consulted")
                );
                if let Some(e) = &lic.entry {
                    println!("  listed as    {e}");
                }
            }
            println!(
                "  rules        {}  scanner {}",
                l.rules_version, l.scanner_version
            );
        }
        Command::Export {
            filter,
            format,
            output,
        } => {
            if format == Format::Table {
                anyhow::bail!("export writes jsonl, csv or html");
            }
            let rows = q.list(&filter.filter())?;
            let sink: Box<dyn Write> = match &output {
                Some(path) => Box::new(
                    File::create(path).with_context(|| format!("creating {}", path.display()))?,
                ),
                None => Box::new(out.lock()),
            };
            let mut p = Printer::new(io::BufWriter::new(sink), format, false);
            p.report_meta(crate::report::ReportMeta {
                generated_at: super::now_rfc3339(),
                inputs: vec![db.db.display().to_string()],
                ..Default::default()
            });
            for r in &rows {
                p.lead(&r.lead)?;
            }
            p.finish()?;
            eprintln!("{} lead(s) exported", rows.len());
        }
        Command::DeadLetters => {
            let mut w = io::BufWriter::new(out.lock());
            let dead = q.dead_letters()?;
            for d in &dead {
                serde_json::to_writer(&mut w, d)?;
                writeln!(w)?;
            }
            w.flush()?;
            eprintln!("{} dead letter(s)", dead.len());
        }
        Command::Mark { lead_id, status } => {
            if !q.set_status(&lead_id, status)? {
                eprintln!("no lead {lead_id} in {}", db.db.display());
                return Ok(ExitCode::FAILURE);
            }
            println!("{lead_id} {status}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn short_time(t: &str) -> &str {
    t.get(..19).unwrap_or(t)
}
