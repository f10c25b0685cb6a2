//! `xuncha campaigns list|show|assign`: leads grouped by what their postings share.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::ValueEnum;
use xuncha_cases::{Campaign, CampaignDetail, CampaignQuery, Filter};
use xuncha_core::Category;

use super::leads::{event_line, short_time, Actor, Db};
use crate::neutralise::terminal;

/// How campaigns are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CampaignFormat {
    /// Columns for a person.
    Table,
    /// One JSON object a line: a campaign with its keys, the ids of its leads and
    /// postings, sites, first and last seen, categories.
    Jsonl,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Campaigns, largest first: size, first and last seen, sites, what ties them.
    List {
        /// Only campaigns of at least this many postings.
        #[arg(long, default_value_t = 2)]
        min_postings: u64,
        /// Only campaigns holding a lead of this category.
        #[arg(long)]
        category: Option<Category>,
        /// Only campaigns holding a lead from this site.
        #[arg(long)]
        source: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Skip this many (the next page).
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// table or jsonl.
        #[arg(long, value_enum, default_value = "table")]
        format: CampaignFormat,
    },
    /// One campaign: its postings and leads, each key with how it was written (field,
    /// byte offsets, text), and its merges, splits and assignments.
    Show {
        /// Campaign id (a merged campaign's id shows the one it joined).
        id: i64,
        /// table or jsonl.
        #[arg(long, value_enum, default_value = "table")]
        format: CampaignFormat,
    },
    /// Assign every lead of a campaign to someone: each lead gets an event with who did
    /// it, as `leads mark … assigned` writes it.
    Assign {
        /// Campaign id.
        id: i64,
        /// To whom.
        #[arg(long)]
        to: String,
        /// Why, for the case file.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        actor: Actor,
    },
}

pub fn run(db: Db, cmd: Command) -> anyhow::Result<ExitCode> {
    let q = db.open()?;
    let out = io::stdout();
    match cmd {
        Command::List {
            min_postings,
            category,
            source,
            limit,
            offset,
            format,
        } => {
            let leads = (category.is_some() || source.is_some()).then(|| Filter {
                category,
                source,
                ..Filter::default()
            });
            let found = q.campaigns(&CampaignQuery {
                min_postings,
                leads,
                limit,
                offset,
            })?;
            let mut w = io::BufWriter::new(out.lock());
            match format {
                CampaignFormat::Jsonl => {
                    for c in &found {
                        serde_json::to_writer(&mut w, c)?;
                        writeln!(w)?;
                    }
                }
                CampaignFormat::Table => table(&mut w, &found)?,
            }
            w.flush()?;
            eprintln!("{} campaign(s)", found.len());
            if found.len() == limit {
                eprintln!("next page: --offset {}", offset + limit);
            }
        }
        Command::Show { id, format } => {
            let Some(now) = q.resolve_campaign(id)? else {
                eprintln!("no campaign {id} in {}", q.location());
                return Ok(ExitCode::FAILURE);
            };
            if now != id {
                eprintln!("campaign {id} was merged into campaign {now}");
            }
            let Some(c) = q.campaign(now)? else {
                eprintln!("no campaign {id} in {}", q.location());
                return Ok(ExitCode::FAILURE);
            };
            let mut w = io::BufWriter::new(out.lock());
            match format {
                CampaignFormat::Jsonl => {
                    serde_json::to_writer(&mut w, &c)?;
                    writeln!(w)?;
                }
                CampaignFormat::Table => show(&mut w, &c)?,
            }
            w.flush()?;
        }
        Command::Assign {
            id,
            to,
            note,
            actor,
        } => {
            let who = actor.name();
            let at = xuncha_core::now_rfc3339();
            let Some(done) = q.assign_campaign(id, &to, &who, note.as_deref(), &at)? else {
                eprintln!(
                    "no campaign {id} in {} (a merged one: see `campaigns show {id}`)",
                    q.location()
                );
                return Ok(ExitCode::FAILURE);
            };
            for a in &done {
                if a.events.is_empty() {
                    println!("{} unchanged", terminal(&a.lead_id));
                }
                for e in &a.events {
                    println!("{} {}", terminal(&a.lead_id), event_line(e));
                }
            }
            eprintln!("{} lead(s) of campaign {id}", done.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The keys that tie a campaign, as one cell: the most shared first.
fn ties(c: &Campaign) -> String {
    let keys: Vec<String> = c
        .keys
        .iter()
        .filter(|k| !k.too_common)
        .take(3)
        .map(|k| format!("{}×{}", k.key, k.postings))
        .collect();
    if keys.is_empty() {
        "-".into()
    } else {
        keys.join(" ")
    }
}

fn table(w: &mut impl Write, found: &[Campaign]) -> io::Result<()> {
    writeln!(
        w,
        "{:>8}  {:>8} {:>6}  {:<19}  {:<19}  {:<24}  {:<48}  title",
        "campaign", "postings", "leads", "first_seen", "last_seen", "sites", "ties"
    )?;
    for c in found {
        writeln!(
            w,
            "{:>8}  {:>8} {:>6}  {:<19}  {:<19}  {:<24}  {:<48}  {}",
            c.id,
            c.postings,
            c.leads,
            short_time(&c.first_seen),
            short_time(&c.last_seen),
            terminal(&c.sites.join(",")),
            terminal(&ties(c)),
            terminal(c.title.as_deref().unwrap_or("-")),
        )?;
    }
    Ok(())
}

fn show(w: &mut impl Write, d: &CampaignDetail) -> io::Result<()> {
    let c = &d.campaign;
    writeln!(w, "campaign {}", c.id)?;
    writeln!(w, "  postings     {}  ({} leads)", c.postings, c.leads)?;
    writeln!(w, "  first seen   {}", c.first_seen)?;
    writeln!(w, "  last seen    {}", c.last_seen)?;
    writeln!(w, "  sites        {}", terminal(&c.sites.join(", ")))?;
    let cats: Vec<String> = c
        .categories
        .iter()
        .map(|x| format!("{} {}", x.category, x.leads))
        .collect();
    writeln!(w, "  categories   {}", cats.join(", "))?;
    writeln!(w, "  keys")?;
    for k in &d.all_keys {
        let common = if k.too_common {
            "  (too common: ties nothing)"
        } else {
            ""
        };
        writeln!(w, "    {:>4}×  {}{common}", k.postings, terminal(&k.key))?;
        for e in d.evidence.iter().filter(|e| e.key == k.key).take(5) {
            writeln!(
                w,
                "           {} {}[{}..{}]  {}",
                terminal(&e.posting_id),
                terminal(&e.field),
                e.start,
                e.end,
                terminal(&e.text)
            )?;
        }
    }
    writeln!(w, "  postings")?;
    for m in &d.members {
        let p = &m.posting;
        writeln!(
            w,
            "    {:<19}  {}  {}  {}  {}",
            short_time(&m.first_seen),
            terminal(&p.id),
            terminal(p.source.as_deref().unwrap_or("-")),
            terminal(p.publisher.as_deref().unwrap_or("-")),
            terminal(p.title.as_deref().unwrap_or("-")),
        )?;
        for l in &m.leads {
            writeln!(
                w,
                "        {}  {} {} {} {}",
                l.lead_id,
                l.category,
                l.severity,
                l.status,
                terminal(l.assigned_to.as_deref().unwrap_or("-"))
            )?;
        }
    }
    if c.truncated {
        writeln!(
            w,
            "    … the first {} leads of {}",
            xuncha_cases::MAX_MEMBER_LEADS,
            c.leads
        )?;
    }
    writeln!(w, "  history")?;
    for e in &d.events {
        let mut line = format!("    {:<20}  {} {}", short_time(&e.at), e.actor, e.action);
        if let Some(o) = e.other {
            line.push_str(&format!(" campaign {o}"));
        }
        if let Some(k) = &e.key {
            line.push_str(&format!(" by {k}"));
        }
        if let Some(n) = &e.note {
            line.push_str(&format!(": {n}"));
        }
        writeln!(w, "{}", terminal(&line))?;
    }
    Ok(())
}
