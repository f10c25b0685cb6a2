//! `xuncha leads list|show|export|mark|recheck`: the embedded case queue for analysts.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::neutralise::terminal;
use anyhow::Context;
use xuncha_cases::{
    CaseQueue, Change, Event, Filter, LeadRow, Location, Recheck, RecheckOutcome, Status, Verdict,
};
use xuncha_core::{Category, Severity};
use xuncha_crawler::{parse_duration, CrawlerConfig, GenericSite};

use crate::output::{Format, Printer};

#[derive(clap::Args, Debug, Clone)]
pub struct Db {
    /// The case store: a SQLite file, or a `postgres://` URL.
    #[arg(
        long,
        env = "XUNCHA_DB",
        default_value = "data/xuncha.db",
        global = true
    )]
    pub db: String,
}

impl Db {
    /// The case store named, which must exist: a mistyped SQLite path is an error, not a
    /// new empty queue (a PostgreSQL database is made by its administrator, the tables by
    /// the first xuncha that opens it).
    pub fn open(&self) -> anyhow::Result<CaseQueue> {
        let location = Location::parse(&self.db);
        if let Location::Sqlite(path) = &location {
            if !path.exists() {
                anyhow::bail!(
                    "no case queue at {} (run `xuncha run` first, or set --db / XUNCHA_DB)",
                    path.display()
                );
            }
        }
        CaseQueue::open_at(&location)
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct FilterArgs {
    /// Only this category.
    #[arg(long)]
    pub category: Option<Category>,
    /// Only this severity or above.
    #[arg(long, value_parser = super::scan::parse_severity)]
    pub min_severity: Option<Severity>,
    /// Only this status (new, assigned, closed, under_review); a verdict (confirmed,
    /// false_positive) is read as --verdict.
    #[arg(long, value_parser = parse_state)]
    pub status: Option<State>,
    /// Only this verdict (confirmed, false_positive).
    #[arg(long)]
    pub verdict: Option<Verdict>,
    /// Only leads assigned to this person.
    #[arg(long)]
    pub assigned_to: Option<String>,
    /// Only postings of this site (its profile name, the posting's `source`).
    #[arg(long)]
    pub source: Option<String>,
    /// Only postings of this publisher.
    #[arg(long)]
    pub publisher: Option<String>,
    /// Only postings located in this division: a six-digit code (440300) or a name as
    /// rules/divisions.csv has it (深圳市, 深圳, 广东省); a province includes its cities.
    #[arg(long)]
    pub region: Option<String>,
    /// Only leads with a finding of this rule (FEE-DEPOSIT-001).
    #[arg(long)]
    pub rule: Option<String>,
    /// Only leads first seen at or after this time (2026-11-01 or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only leads first seen before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many, in the order of --sort.
    #[arg(long)]
    pub limit: Option<usize>,
    /// newest (first seen most recently first), oldest, or severity (most serious first,
    /// then newest).
    #[arg(long, default_value = "newest")]
    pub sort: xuncha_cases::Order,
    /// The next page: the cursor `leads list` printed after the last one.
    #[arg(long)]
    pub after: Option<xuncha_cases::Cursor>,
    /// Where the division names of --region are read (the rules folder).
    #[arg(long, env = "XUNCHA_RULES", default_value = "rules", hide = true)]
    pub rules: PathBuf,
}

/// A workflow status or a verdict: what `leads mark` sets, and what `--status` may name
/// (a verdict there is read as `--verdict`, where a status used to hold it).
#[derive(Debug, Clone, Copy)]
pub enum State {
    Status(Status),
    Verdict(Verdict),
}

fn parse_state(s: &str) -> Result<State, String> {
    s.parse()
        .map(State::Status)
        .or_else(|_| s.parse().map(State::Verdict))
        .map_err(|_| {
            format!(
                "unknown `{s}` (new, assigned, closed, under_review; confirmed, false_positive)"
            )
        })
}

impl FilterArgs {
    fn filter(&self) -> anyhow::Result<Filter> {
        let (status, verdict) = match self.status {
            Some(State::Status(s)) => (Some(s), self.verdict),
            Some(State::Verdict(v)) => (None, Some(v)),
            None => (None, self.verdict),
        };
        Ok(Filter {
            category: self.category,
            min_severity: self.min_severity,
            status,
            verdict,
            assigned_to: self.assigned_to.clone(),
            source: self.source.clone(),
            publisher: self.publisher.clone(),
            region: self
                .region
                .as_deref()
                .map(|r| self.division_code(r))
                .transpose()?,
            rule: self.rule.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            after: self.after.clone(),
            limit: self.limit,
            order: self.sort,
        })
    }

    /// A division code as given, or the code of the division so named.
    fn division_code(&self, region: &str) -> anyhow::Result<String> {
        if is_division_code(region) {
            return Ok(region.to_string());
        }
        let rules = xuncha_rules::RuleSet::load(&self.rules)
            .with_context(|| format!("reading the division names in {}", self.rules.display()))?;
        division_code(&rules.divisions, region)
    }
}

fn is_division_code(region: &str) -> bool {
    region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit())
}

/// A division code as given, or the code of the one division of `divisions` so named
/// (its name or short name, as rules/divisions.csv has them).
pub(crate) fn division_code(
    divisions: &[xuncha_rules::Division],
    region: &str,
) -> anyhow::Result<String> {
    if is_division_code(region) {
        return Ok(region.to_string());
    }
    let found: Vec<&xuncha_rules::Division> = divisions
        .iter()
        .filter(|d| d.name == region || d.short == region)
        .collect();
    match found.as_slice() {
        [d] => Ok(d.code.clone()),
        [] => anyhow::bail!("no division named {region} (give its six-digit code, or a name as rules/divisions.csv has it)"),
        many => anyhow::bail!(
            "{region} names {} divisions ({}): give the code",
            many.len(),
            many.iter().map(|d| format!("{} {}", d.code, d.name)).collect::<Vec<_>>().join(", ")
        ),
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// One line per lead: id, status, severity, category, posting, first and last seen,
    /// the date a recheck found its posting gone, and how many scans found it.
    List {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// How many leads, by category, severity, status, verdict, assignee, source,
    /// publisher, region or rule, under the same filters as `list`.
    Count {
        /// What to count by.
        #[arg(long, default_value = "category")]
        by: xuncha_cases::Facet,
        #[command(flatten)]
        filter: FilterArgs,
        /// One JSON object a line: {"key", "leads"}.
        #[arg(long)]
        json: bool,
    },
    /// A lead with its evidence highlighted, legal basis and history: first found, each
    /// recheck of its posting page, when its flagged text was last seen online and when
    /// the posting was found gone.
    Show {
        /// Lead id.
        lead_id: String,
        /// One JSON object: the lead, its status and times, and `rechecks`.
        #[arg(long)]
        json: bool,
    },
    /// Leads as JSONL, CSV or an HTML report, for the case file; or, with `--format eval`,
    /// every judged lead as a labelled posting that `xuncha eval` reads.
    Export {
        #[command(flatten)]
        filter: FilterArgs,
        /// jsonl, csv, html or eval.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Records that could not be scanned (bad JSON, no text, too large), as JSONL, with
    /// their reason and origin.
    DeadLetters,
    /// Act on a lead: move it (new, assigned, closed, under_review) or judge it
    /// (confirmed, false_positive, which also closes it). Every change is kept in the
    /// lead's timeline with who made it and the note. A verdict may demote the lead's
    /// rules (`[demotion]` of the settings, `--config`).
    Mark {
        /// Lead id.
        lead_id: String,
        /// new, assigned, closed, under_review, confirmed or false_positive.
        #[arg(value_parser = parse_state)]
        action: State,
        /// With `assigned`: to whom (default: whoever acts).
        #[arg(long)]
        to: Option<String>,
        /// Why, for the case file.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        actor: Actor,
    },
    /// Write a note in a lead's timeline.
    Note {
        /// Lead id.
        lead_id: String,
        /// The note.
        text: String,
        #[command(flatten)]
        actor: Actor,
    },
    /// Fetch the posting pages of open leads (new, assigned) again and record in each
    /// lead's history whether the flagged text is still online, changed, or gone; the
    /// fetched pages go to the evidence store. One round, unless --every is given.
    Recheck(RecheckArgs),
}

/// What `leads export` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One Lead JSON object a line, with nothing of its case.
    Jsonl,
    /// One row per lead, its status, verdict and sightings at the end.
    Csv,
    /// The HTML report.
    Html,
    /// Each judged lead as a posting with gold `labels` (the lead's category if confirmed,
    /// none if a false positive) and `style` "verdict", `batch` "verdicts-DATE", `writer`
    /// the analyst: the input of `xuncha eval`.
    Eval,
}

/// Who acts: named in the timeline of every lead they change.
#[derive(clap::Args, Debug)]
pub struct Actor {
    /// Your name as the case file shows it (default: XUNCHA_USER, else the system user).
    #[arg(long = "as", value_name = "NAME", env = "XUNCHA_USER")]
    pub name: Option<String>,
}

impl Actor {
    pub(crate) fn name(&self) -> String {
        self.name
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "unknown".into())
    }
}

#[derive(clap::Args, Debug)]
pub struct RecheckArgs {
    /// A lead is due when its page was not rechecked for this long (e.g. 3d, 12h, 0s).
    #[arg(long, default_value = "3d", value_parser = parse_duration)]
    pub after: Duration,
    /// Recheck these leads now, whatever their status or schedule (repeatable).
    #[arg(long = "lead", value_name = "LEAD_ID")]
    pub leads: Vec<String>,
    /// Most leads rechecked in one round.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep going: a round every this long, until Ctrl-C.
    #[arg(long, value_parser = parse_duration)]
    pub every: Option<Duration>,
    #[command(flatten)]
    pub pages: super::PageArgs,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Time allowed for a whole response (e.g. 30s).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Allow private and loopback addresses on hosts no site profile covers. Only for
    /// one's own test sites.
    #[arg(long)]
    pub allow_private_addresses: bool,
    /// Record a posting gone only when rechecks this far apart both find it gone (one
    /// 404 is not proof of removal).
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub confirm_gone_after: Duration,
}

pub fn run(db: Db, settings: super::SettingsArg, cmd: Command) -> anyhow::Result<ExitCode> {
    let q = db.open()?;
    let location = q.location().clone();
    let out = io::stdout();
    match cmd {
        Command::List { filter } => {
            let rows = q.list(&filter.filter()?)?;
            let mut w = io::BufWriter::new(out.lock());
            writeln!(
                w,
                "{:<32}  {:<12} {:<15} {:<34} {:<28} {:<20} {:<20} {:<10} {:<15} {:<12} seen",
                "lead",
                "status",
                "severity",
                "category",
                "posting",
                "first_seen",
                "last_seen",
                "gone_at",
                "verdict",
                "assigned_to"
            )?;
            for r in &rows {
                writeln!(
                    w,
                    "{:<32}  {:<12} {:<15} {:<34} {:<28} {:<20} {:<20} {:<10} {:<15} {:<12} {}",
                    r.lead.lead_id,
                    r.status.as_str(),
                    r.lead.severity.as_str(),
                    r.lead.category.as_str(),
                    terminal(&r.lead.posting.id),
                    short_time(&r.first_seen),
                    short_time(&r.last_seen),
                    r.gone_at
                        .as_deref()
                        .map_or("-", |t| t.get(..10).unwrap_or(t)),
                    r.verdict.map_or("-", Verdict::as_str),
                    terminal(r.assigned_to.as_deref().unwrap_or("-")),
                    r.seen_count
                )?;
            }
            w.flush()?;
            eprintln!("{} lead(s)", rows.len());
            // A full page may have more behind it.
            if let (Some(n), Some(last)) = (filter.limit, rows.last()) {
                if rows.len() == n {
                    eprintln!(
                        "next page: --after {}",
                        xuncha_cases::Cursor::after_in(last, filter.sort)
                    );
                }
            }
        }
        Command::Count { by, filter, json } => {
            let counts = q.counts(&filter.filter()?, by)?;
            let mut w = io::BufWriter::new(out.lock());
            let total: u64 = counts.iter().map(|(_, n)| n).sum();
            for (key, n) in &counts {
                if json {
                    writeln!(w, "{}", serde_json::json!({ "key": key, "leads": n }))?;
                } else {
                    writeln!(w, "{:>8}  {}", n, terminal(key))?;
                }
            }
            w.flush()?;
            if !json && matches!(by, xuncha_cases::Facet::Region | xuncha_cases::Facet::Rule) {
                eprintln!("(a lead counts under each {by} it has)");
            } else if !json {
                eprintln!("{total} lead(s)");
            }
        }
        Command::Show { lead_id, json } => {
            let Some(r) = q.get(&lead_id)? else {
                eprintln!("no lead {lead_id} in {}", location);
                return Ok(ExitCode::FAILURE);
            };
            let history = q.history(&lead_id)?;
            let events = q.events(&lead_id)?;
            if json {
                let mut v = serde_json::to_value(&r)?;
                v["rechecks"] = serde_json::to_value(&history)?;
                v["events"] = serde_json::to_value(&events)?;
                let mut w = out.lock();
                serde_json::to_writer_pretty(&mut w, &v)?;
                writeln!(w)?;
                return Ok(ExitCode::SUCCESS);
            }
            let tty = out.is_terminal();
            let mut p = Printer::new(out.lock(), Format::Table, tty);
            p.lead(&r.lead)?;
            p.finish()?;
            let l = &r.lead;
            println!("  status       {}", r.status);
            if let Some(v) = r.verdict {
                println!("  verdict      {v}");
            }
            if let Some(a) = &r.assigned_to {
                println!("  assigned to  {}", terminal(a));
            }
            println!("  first seen   {}", r.first_seen);
            println!("  last seen    {}  ({} scan(s))", r.last_seen, r.seen_count);
            if let Some(at) = &l.posting.fetched_at {
                println!("  captured     {}", terminal(at));
            }
            println!("  content hash {}", terminal(&l.posting.content_sha256));
            if let Some(lic) = &l.licence {
                println!("  licence      {}", terminal(&lic.summary));
                println!(
                    "  registry     {}",
                    terminal(lic.registry.as_deref().unwrap_or("none consulted"))
                );
                if let Some(e) = &lic.entry {
                    println!("  listed as    {}", terminal(e));
                }
            }
            println!(
                "  rules        {}  scanner {}",
                l.rules_version, l.scanner_version
            );
            print_history(&r, &history);
            print_timeline(&events);
        }
        Command::Export {
            filter,
            format,
            output,
        } => {
            let filter = filter.filter()?;
            let rows = q.list(&filter)?;
            // The report shows the campaigns its leads are in.
            let campaigns = if format == ExportFormat::Html {
                q.campaigns(&xuncha_cases::CampaignQuery {
                    leads: Some(Filter {
                        after: None,
                        limit: None,
                        ..filter
                    }),
                    ..Default::default()
                })?
            } else {
                Vec::new()
            };
            let sink: Box<dyn Write> = match &output {
                Some(path) => Box::new(
                    File::create(path).with_context(|| format!("creating {}", path.display()))?,
                ),
                None => Box::new(out.lock()),
            };
            let format = match format {
                ExportFormat::Eval => return export_eval(&q, &rows, sink),
                ExportFormat::Jsonl => Format::Jsonl,
                ExportFormat::Csv => Format::Csv,
                ExportFormat::Html => Format::Html,
            };
            let mut p = Printer::with_columns(
                io::BufWriter::new(sink),
                format,
                false,
                &crate::output::CASE_COLUMNS,
            );
            p.report_meta(crate::report::ReportMeta {
                generated_at: xuncha_core::now_rfc3339(),
                inputs: vec![location.to_string()],
                campaigns,
                ..Default::default()
            });
            for r in &rows {
                p.lead_with(
                    &r.lead,
                    &[
                        r.status.as_str(),
                        r.verdict.map_or("", Verdict::as_str),
                        r.assigned_to.as_deref().unwrap_or(""),
                        &r.first_seen,
                        &r.last_seen,
                        r.gone_at.as_deref().unwrap_or(""),
                    ],
                )?;
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
        Command::Recheck(args) => return recheck(q, args),
        Command::Mark {
            lead_id,
            action,
            to,
            note,
            actor,
        } => {
            let who = actor.name();
            let change = match action {
                State::Status(Status::Assigned) => {
                    Change::Assign(to.unwrap_or_else(|| who.clone()))
                }
                State::Status(s) => {
                    anyhow::ensure!(to.is_none(), "--to goes with `assigned`");
                    Change::Status(s)
                }
                State::Verdict(v) => {
                    anyhow::ensure!(to.is_none(), "--to goes with `assigned`");
                    Change::Verdict(v)
                }
            };
            // A verdict may demote the lead's rules: by the settings every process shares.
            let q = match change {
                Change::Verdict(_) => q.demotion(settings.demotion()?),
                _ => q,
            };
            return act(&q, &lead_id, &change, &who, note.as_deref());
        }
        Command::Note {
            lead_id,
            text,
            actor,
        } => return act(&q, &lead_id, &Change::Note, &actor.name(), Some(&text)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies one change as `who` and prints the events it wrote.
fn act(
    q: &CaseQueue,
    lead_id: &str,
    change: &Change,
    who: &str,
    note: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let Some(applied) = q.apply(lead_id, change, who, note, &xuncha_core::now_rfc3339())? else {
        eprintln!("no lead {} in {}", terminal(lead_id), q.location());
        return Ok(ExitCode::FAILURE);
    };
    if applied.events.is_empty() {
        println!("{} unchanged", terminal(lead_id));
    }
    for e in &applied.events {
        println!("{} {}", terminal(lead_id), event_line(e));
    }
    for d in &applied.demoted {
        println!(
            "rule {} demoted: its new leads are filed under_review and not alerted ({})",
            terminal(&d.rule_id),
            terminal(&d.note)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The judged leads among `rows` as labelled postings, one JSON object a line.
fn export_eval(q: &CaseQueue, rows: &[LeadRow], sink: Box<dyn Write>) -> anyhow::Result<ExitCode> {
    let judged: Vec<&LeadRow> = rows.iter().filter(|r| r.verdict.is_some()).collect();
    let ids: Vec<&str> = judged.iter().map(|r| r.lead.lead_id.as_str()).collect();
    let verdicts = q.verdict_events(&ids)?;
    let with_events: Vec<(&LeadRow, &Event)> = judged
        .iter()
        .filter_map(|r| Some((*r, verdicts.get(&r.lead.lead_id)?)))
        .collect();
    let records = crate::labelled::records(&with_events);
    let mut w = io::BufWriter::new(sink);
    for r in &records {
        serde_json::to_writer(&mut w, r)?;
        writeln!(w)?;
    }
    w.flush()?;
    eprintln!(
        "{} labelled posting(s) from {} judged lead(s) ({} lead(s) without a verdict left out)",
        records.len(),
        judged.len(),
        rows.len() - judged.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `actor action from → to: note`, neutralised for a terminal.
pub(crate) fn event_line(e: &Event) -> String {
    let mut s = format!("{} {}", terminal(&e.actor), e.action);
    match (&e.from, &e.to) {
        (Some(f), Some(t)) => s.push_str(&format!(" {} → {}", terminal(f), terminal(t))),
        (None, Some(t)) => s.push_str(&format!(" {}", terminal(t))),
        _ => {}
    }
    if let Some(n) = &e.note {
        s.push_str(&format!(": {}", terminal(n)));
    }
    s
}

/// Who did what to the lead, oldest first.
fn print_timeline(events: &[Event]) {
    println!("  timeline");
    for e in events {
        println!("    {:<20}  {}", short_time(&e.at), event_line(e));
    }
}

/// The recheck history, for the case file: each recheck with its evidence, then when the
/// flagged text was last seen online and when the posting was first found gone.
fn print_history(r: &LeadRow, history: &[Recheck]) {
    println!("  history");
    // To the second, like the rechecks, so the columns line up.
    let first = time::OffsetDateTime::parse(
        &r.first_seen,
        &time::format_description::well_known::Rfc3339,
    )
    .map_or_else(|_| r.first_seen.clone(), xuncha_core::rfc3339_seconds);
    println!("    {first:<20}  first found by a scan");
    for h in history {
        let status = h
            .http_status
            .map_or("HTTP -  ".to_string(), |s| format!("HTTP {s}"));
        let flagged = match (h.flagged_present, h.flagged_found, h.flagged_total) {
            (Some(true), Some(n), Some(t)) => format!("yes ({n} of {t})"),
            (Some(true), _, _) => "yes".to_string(),
            (Some(false), _, _) => "no".to_string(),
            (None, _, _) => "-".to_string(),
        };
        let mut line = format!(
            "    {:<20}  recheck {:<7}  {status}  flagged text still there: {flagged:<12}",
            h.checked_at,
            h.outcome.as_str()
        );
        if let Some(e) = &h.evidence {
            line.push_str(&format!("  evidence {e}"));
        }
        if let Some(e) = &h.error {
            if h.outcome == RecheckOutcome::Error || h.outcome == RecheckOutcome::Gone {
                line.push_str(&format!("  ({e})"));
            }
        }
        println!("{}", terminal(line.trim_end()));
    }
    if history.is_empty() {
        println!("    (not rechecked yet)");
    }
    println!(
        "  last_seen    {}",
        r.last_online_at
            .as_deref()
            .unwrap_or("- (no recheck found the flagged content online)")
    );
    println!(
        "  gone_at      {}",
        r.gone_at.as_deref().unwrap_or("- (not found gone)")
    );
}

fn recheck(q: CaseQueue, args: RecheckArgs) -> anyhow::Result<ExitCode> {
    let q = Arc::new(q.confirm_gone_after(args.confirm_gone_after));
    let defaults = CrawlerConfig::default();
    let rechecker = crate::recheck::build_rechecker(
        &args.pages.sites_dir,
        &args.pages.evidence,
        CrawlerConfig {
            concurrency: args.concurrency.max(1),
            response_timeout: args.timeout.unwrap_or(defaults.response_timeout),
            ..defaults
        },
        GenericSite {
            allow_private_addresses: args.allow_private_addresses,
            ..GenericSite::default()
        },
        None,
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let print = |d: &xuncha_cases::DueLead, r: &xuncha_crawler::RecheckResult| {
        let status = r.http_status.map_or("-".to_string(), |s| s.to_string());
        let mut line = format!("{}  {:<7} {:>3}  {}", d.lead_id, r.outcome, status, d.url);
        if let Some(e) = r.error.as_deref().filter(|_| {
            matches!(
                r.outcome,
                xuncha_crawler::RecheckOutcome::Error | xuncha_crawler::RecheckOutcome::Gone
            )
        }) {
            line.push_str(&format!("  ({e})"));
        }
        println!("{}", terminal(&line));
    };
    // Looked up before the runtime starts: the store's calls block, and a PostgreSQL
    // client must not block a thread that drives async tasks.
    let mut due = Vec::new();
    for id in &args.leads {
        match q.due_lead(id)? {
            Some(d) => due.push(d),
            None => anyhow::bail!("no lead {id} with a posting URL in {}", q.location()),
        }
    }
    rt.block_on(async {
        if !due.is_empty() {
            let s = crate::recheck::recheck_leads(&q, &rechecker, due, print).await?;
            eprintln!("{s}");
            return anyhow::Ok(());
        }
        match args.every {
            None => {
                let s =
                    crate::recheck::recheck_round(&q, &rechecker, args.after, args.limit, print)
                        .await?;
                eprintln!("{s}");
            }
            Some(every) => {
                // Each round's summary is a log line.
                crate::telemetry::init_logs(crate::config::LogFormat::Human);
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        let _ = stop_tx.send(true);
                    }
                });
                eprintln!(
                    "rechecking leads not checked for {:?}, every {every:?}, until Ctrl-C",
                    args.after
                );
                crate::recheck::run_periodically(
                    q.clone(),
                    rechecker,
                    args.after,
                    every,
                    args.limit,
                    stop_rx,
                )
                .await;
            }
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn short_time(t: &str) -> &str {
    t.get(..19).unwrap_or(t)
}
