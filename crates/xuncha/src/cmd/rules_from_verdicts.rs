//! `xuncha rules stats` and `xuncha rules demotion`: what the analysts' verdicts say of
//! each rule, and the demotions they brought about.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use time::OffsetDateTime;
use xuncha_cases::{CaseQueue, RuleEvent, RuleStats};
use xuncha_core::{format_duration, parse_duration, rfc3339_seconds};

use crate::neutralise::terminal;

/// How `stats` and `demotion history` print.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a person.
    Table,
    /// One JSON object a line.
    Jsonl,
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// Count leads first seen within this long (`30d`, `12h`; default: `[demotion] window`,
    /// 90 days as shipped).
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// table or jsonl.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// At most this many rules, by rule id.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// The next page: rules after this rule id.
    #[arg(long, value_name = "RULE")]
    pub after: Option<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum DemotionCommand {
    /// Lift a rule's demotion: its new leads are filed and alerted as usual again, and only
    /// verdicts on leads first seen from now on count towards demoting it again.
    Lift {
        /// The rule.
        rule: String,
        /// Who lifts it (an admin), as the record shows.
        #[arg(long, value_name = "NAME")]
        actor: String,
        /// Why, for the record.
        #[arg(long)]
        note: String,
    },
    /// Every demotion and lift, newest first, with the figures each rested on.
    History {
        /// Only this rule.
        rule: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// table or jsonl.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

/// `a–b` of an interval, or `-`.
fn interval(s: &RuleStats) -> String {
    s.interval
        .map_or("-".into(), |i| format!("{:.2}–{:.2}", i.low, i.high))
}

/// Where the rule stands, in a word and a date.
fn standing(s: &RuleStats) -> String {
    let day = |t: &Option<String>| {
        t.as_deref()
            .map(|t| t.get(..10).unwrap_or(t).to_string())
            .unwrap_or_default()
    };
    match (s.demoted, &s.lifted_at) {
        (true, _) => format!("demoted {}", day(&s.standing_since)),
        (false, Some(_)) => format!("lifted {}", day(&s.lifted_at)),
        (false, None) => String::new(),
    }
}

pub fn stats(q: &CaseQueue, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let window = args.since.unwrap_or(q.demotion_policy().window);
    let since = rfc3339_seconds(OffsetDateTime::now_utc() - window);
    let rows = q.rule_stats(&since, args.after.as_deref(), args.limit)?;
    let out = io::stdout();
    let mut w = io::BufWriter::new(out.lock());
    if args.format == Format::Table {
        writeln!(
            w,
            "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9}  {:<12}  standing",
            "rule", "leads", "confirmed", "false_pos", "undecided", "precision", "95% interval"
        )?;
    }
    for s in &rows {
        match args.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut w, s)?;
                writeln!(w)?;
            }
            Format::Table => writeln!(
                w,
                "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9}  {:<12}  {}",
                terminal(&s.rule_id),
                s.leads,
                s.confirmed,
                s.false_positives,
                s.undecided,
                s.precision.map_or("-".into(), |p| format!("{p:.2}")),
                interval(s),
                standing(s)
            )?,
        }
    }
    w.flush()?;
    let p = q.demotion_policy();
    eprintln!(
        "{} rule(s), leads first seen since {since}; demotion {}: upper bound below {:.2} over at least {} verdicts in {}",
        rows.len(),
        if p.enabled { "on" } else { "off" },
        p.floor,
        p.min_verdicts,
        format_duration(p.window)
    );
    if let Some(last) = rows.last().filter(|_| rows.len() == args.limit) {
        eprintln!("next page: --after {}", terminal(&last.rule_id));
    }
    Ok(ExitCode::SUCCESS)
}

fn event_line(e: &RuleEvent) -> String {
    format!(
        "{:<20}  {:<28} {:<8} {}: {}",
        e.at.get(..19).unwrap_or(&e.at),
        e.rule_id,
        e.action.as_str(),
        e.actor,
        e.note
    )
}

pub fn demotion(q: &CaseQueue, cmd: DemotionCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DemotionCommand::Lift { rule, actor, note } => {
            let Some(e) = q.lift_demotion(&rule, &actor, &note, &xuncha_core::now_rfc3339())?
            else {
                eprintln!("rule {} is not demoted: nothing to lift", terminal(&rule));
                return Ok(ExitCode::FAILURE);
            };
            println!("{}", terminal(&event_line(&e)));
            println!(
                "rule {} stands again: only verdicts on leads first seen from now on count towards demoting it",
                terminal(&rule)
            );
        }
        DemotionCommand::History {
            rule,
            limit,
            format,
        } => {
            let events = q.rule_events(rule.as_deref(), limit)?;
            let out = io::stdout();
            let mut w = io::BufWriter::new(out.lock());
            for e in &events {
                match format {
                    Format::Jsonl => {
                        serde_json::to_writer(&mut w, e)?;
                        writeln!(w)?;
                    }
                    Format::Table => writeln!(w, "{}", terminal(&event_line(e)))?,
                }
            }
            w.flush()?;
            eprintln!("{} event(s)", events.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
