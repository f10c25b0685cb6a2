//! `xuncha`: patrols online job postings for leads of illegal conduct.

mod cmd;
mod config;
mod input;
mod labelled;
mod neutralise;
mod output;
mod recheck;
mod reload;
mod report;
mod telemetry;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// 巡查 — patrols online job postings for leads of illegal conduct (discrimination, fees
/// charged to job seekers, fake jobs, unlicensed agencies), each with its evidence and
/// legal basis.
#[derive(Parser)]
#[command(name = "xuncha", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan postings (JSONL files or stdin) and print the leads they raise.
    Scan(cmd::scan::Args),
    /// Check, test and explain the rule packs; their figures from verdicts, and demotions.
    Rules {
        #[command(subcommand)]
        command: cmd::rules::Command,
    },
    /// Measure precision and recall against postings labelled with gold categories.
    Eval(cmd::eval::Args),
    /// Continuous monitoring: scan postings as they arrive, until SIGINT or SIGTERM.
    Run(cmd::run::Args),
    /// Crawl the site profiles and write new or changed postings as JSONL.
    Crawl(cmd::crawl::Args),
    /// Distributed mode: file the leads topic into the case store, until SIGINT or SIGTERM.
    File(cmd::file::Args),
    /// The embedded case queue: list, show, export, mark and recheck leads.
    Leads {
        #[command(flatten)]
        db: cmd::leads::Db,
        #[command(flatten)]
        settings: cmd::SettingsArg,
        #[command(subcommand)]
        command: cmd::leads::Command,
    },
    /// Campaigns: leads whose postings share a contact handle, a company or credit code,
    /// or near-identical text: list, show, assign whole.
    Campaigns {
        #[command(flatten)]
        db: cmd::leads::Db,
        #[command(subcommand)]
        command: cmd::campaigns::Command,
    },
    /// The licensed-agency registry (名录): import published lists, look agencies up.
    Registry(cmd::registry::Args),
    /// Print the JSON Schema of a record on the wire (posting, lead, dlq, operator).
    Schema(cmd::schema::Args),
    /// The analysts' web console on the case store (log in with an account of `users`).
    Serve(cmd::serve::Args),
    /// Console accounts: add (password on standard input), list, disable.
    Users {
        #[command(flatten)]
        db: cmd::leads::Db,
        #[command(subcommand)]
        command: cmd::users::Command,
    },
}

/// Where the rule packs are, shared by every command that matches.
#[derive(clap::Args, Debug, Clone)]
pub struct RulesArg {
    /// Rule pack directory.
    #[arg(
        long = "rules",
        env = "XUNCHA_RULES",
        default_value = "rules",
        global = true
    )]
    pub dir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => cmd::scan::run(args),
        Command::Rules { command } => cmd::rules::run(command),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Crawl(args) => cmd::crawl::run(args),
        Command::File(args) => cmd::file::run(args),
        Command::Leads {
            db,
            settings,
            command,
        } => cmd::leads::run(db, settings, command),
        Command::Campaigns { db, command } => cmd::campaigns::run(db, command),
        Command::Registry(args) => cmd::registry::run(args),
        Command::Schema(args) => cmd::schema::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Users { db, command } => cmd::users::run(db, command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xuncha: {e:#}");
            ExitCode::from(2)
        }
    }
}
