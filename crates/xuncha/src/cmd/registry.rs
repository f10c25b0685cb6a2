//! `xuncha registry import|lookup`: the licensed-agency lists (名录) that `license.missing`
//! leads are judged against.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use xuncha_registry::{CreditCode, Date, Entry, MatchedBy, RegistryStore};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The registry file.
    #[arg(
        long,
        env = "XUNCHA_REGISTRY_DB",
        default_value = RegistryStore::DEFAULT_PATH,
        global = true
    )]
    pub db: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Import published lists (CSV or JSON, see config/registry/README.md). Bad rows are
    /// reported with file:line and skipped; rows already known are updated. Exits 1 if
    /// any row was skipped.
    Import {
        /// The lists.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Look up an agency by name, licence number or credit code. Exits 1 if none is found.
    Lookup {
        /// A name, a licence number (bare or as a page shows it), or a credit code.
        query: String,
        /// Judge validity on this day (YYYY-MM-DD) instead of today.
        #[arg(long)]
        as_of: Option<Date>,
        /// One JSON object a match.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Import { files } => import(&args.db, &files),
        Command::Lookup { query, as_of, json } => {
            lookup(&args.db, &query, as_of.unwrap_or_else(Date::today), json)
        }
    }
}

fn import(db: &std::path::Path, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut store = RegistryStore::open(db)?;
    let mut skipped = 0;
    for f in files {
        let report = store.import_file(f)?;
        for p in &report.problems {
            eprintln!("{p}");
        }
        println!("{report}");
        skipped += report.skipped;
    }
    println!("{}: {} agencies", db.display(), store.len()?);
    Ok(if skipped > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn lookup(db: &std::path::Path, query: &str, day: Date, json: bool) -> anyhow::Result<ExitCode> {
    if !db.exists() {
        anyhow::bail!(
            "no registry at {} (run `xuncha registry import FILE` first, or set --db / XUNCHA_REGISTRY_DB)",
            db.display()
        );
    }
    let store = RegistryStore::open(db)?;
    let found = store.lookup(query)?;
    let out = io::stdout();
    let mut w = io::BufWriter::new(out.lock());
    let q = query.trim();
    if q.chars().count() == 18 && q.chars().all(|c| c.is_ascii_alphanumeric()) {
        if let Err(e) = CreditCode::parse(&q.to_ascii_uppercase()) {
            eprintln!("note: `{q}` is not a valid credit code: {e}");
        }
    }
    for (e, by) in &found {
        if json {
            let v = serde_json::json!({
                "matched_by": by,
                "expired": e.is_expired_on(day),
                "covers_online": e.covers_online(),
                "as_of": day.to_string(),
                "entry": e,
            });
            writeln!(w, "{v}")?;
        } else {
            print_entry(&mut w, e, *by, day)?;
        }
    }
    w.flush()?;
    if found.is_empty() {
        eprintln!("`{q}`: not in {}", db.display());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_entry(w: &mut impl Write, e: &Entry, by: MatchedBy, day: Date) -> io::Result<()> {
    let unknown = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    writeln!(w, "{}  (matched by {by})", e.name())?;
    writeln!(w, "  licence      {}", e.licence_no())?;
    if let Some(code) = e.credit_code() {
        let check = if CreditCode::parse(code).is_ok() {
            "check ok"
        } else {
            "check FAILS"
        };
        writeln!(w, "  credit code  {code} ({check})")?;
    }
    let online = match e.covers_online() {
        Some(true) => "covers 网络招聘",
        Some(false) => "NO 网络招聘",
        None => "scope unknown",
    };
    writeln!(w, "  scope        {} [{online}]", unknown(e.scope()))?;
    let validity = match e.valid_until() {
        None => "no end date".to_string(),
        Some(d) if e.is_expired_on(day) => format!("{d} (EXPIRED on {day})"),
        Some(d) => format!("{d} (valid on {day})"),
    };
    writeln!(w, "  valid until  {validity}")?;
    writeln!(w, "  authority    {}", unknown(e.authority()))?;
    writeln!(w, "  region       {}", unknown(e.region()))?;
    if let Some(o) = e.origin() {
        writeln!(w, "  source       {o}")?;
    }
    Ok(())
}
