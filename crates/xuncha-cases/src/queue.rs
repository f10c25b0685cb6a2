use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use rusqlite::Connection;
use serde::Serialize;
use time::OffsetDateTime;
use xuncha_core::{rfc3339_seconds, Category, Lead, RecheckOutcome, Severity};
use xuncha_pipeline::DeadLetter;

use crate::db::{self, col, Db, Location, Row, Tx, Value};
use crate::demotion::{self, DemotedCache, DemotionPolicy};
use crate::events::{self, Verdict};

xuncha_core::str_enum! {
    /// Where a lead is in the workflow. Whether it is a violation is its [`Verdict`], kept
    /// apart.
    pub enum Status("status") {
        /// Not looked at yet.
        New => "new",
        /// Someone is on it.
        Assigned => "assigned",
        /// Dealt with.
        Closed => "closed",
        /// Found only by demoted rules: filed without an alert, for an analyst to look at
        /// when the new leads are done.
        UnderReview => "under_review",
    }
}

/// A lead as the queue holds it.
#[derive(Debug, Clone, Serialize)]
pub struct LeadRow {
    /// The lead as first found.
    pub lead: Lead,
    /// Analyst status.
    pub status: Status,
    /// First time a scan found it.
    pub first_seen: String,
    /// Last time a scan found it.
    pub last_seen: String,
    /// How many scans found it.
    pub seen_count: i64,
    /// Last time a recheck fetched its posting page, whatever the outcome.
    pub last_checked_at: Option<String>,
    /// Last time a recheck found the flagged content still online (`last_seen` in the
    /// case file).
    pub last_online_at: Option<String>,
    /// When a recheck first found the posting gone; set once, never moved.
    pub gone_at: Option<String>,
    /// Who has it.
    pub assigned_to: Option<String>,
    /// Whether an analyst found it a violation.
    pub verdict: Option<Verdict>,
}

/// Which leads to list or count.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this category.
    pub category: Option<Category>,
    /// Only this severity or above.
    pub min_severity: Option<Severity>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only this verdict.
    pub verdict: Option<Verdict>,
    /// Only leads assigned to this person.
    pub assigned_to: Option<String>,
    /// Only postings of this site (the posting's `source`).
    pub source: Option<String>,
    /// Only postings of this publisher.
    pub publisher: Option<String>,
    /// Only postings located in this administrative division (six-digit code; a province
    /// or city includes what lies in it).
    pub region: Option<String>,
    /// Only leads with a finding of this rule.
    pub rule: Option<String>,
    /// Only leads first seen at or after this time (RFC 3339 or a date).
    pub since: Option<String>,
    /// Only leads first seen before this time.
    pub until: Option<String>,
    /// Only leads after this one in the listing order (the next page).
    pub after: Option<Cursor>,
    /// At most this many, in `order`.
    pub limit: Option<usize>,
    /// The listing order (newest first unless told).
    pub order: Order,
}

xuncha_core::str_enum! {
    /// The order leads are listed in; ties are broken by first sighting, then by lead id,
    /// so that a cursor names one place.
    #[derive(Default)]
    pub enum Order("order") {
        /// Most recently first seen first.
        #[default]
        Newest => "newest",
        /// Longest waiting first.
        Oldest => "oldest",
        /// Most serious first, newest first within a severity.
        Severity => "severity",
    }
}

impl Order {
    /// The `ORDER BY` of the listing.
    fn sql(self) -> &'static str {
        match self {
            Order::Newest => "first_seen DESC, lead_id",
            Order::Oldest => "first_seen, lead_id DESC",
            Order::Severity => "severity_rank DESC, first_seen DESC, lead_id",
        }
    }
}

/// A place in the listing order: where the next page starts. Pages by cursor stay stable
/// while new leads are filed, which pages by offset do not. Written `FIRST_SEEN,LEAD_ID`,
/// or `SEVERITY,FIRST_SEEN,LEAD_ID` in the severity order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `first_seen` of the last lead shown.
    pub first_seen: String,
    /// Its id.
    pub lead_id: String,
    /// Its severity, in the severity order.
    pub severity: Option<Severity>,
}

impl Cursor {
    /// The cursor after `row` in the newest-first or oldest-first order.
    pub fn after(row: &LeadRow) -> Cursor {
        Cursor {
            first_seen: row.first_seen.clone(),
            lead_id: row.lead.lead_id.clone(),
            severity: None,
        }
    }

    /// The cursor after `row` in `order`.
    pub fn after_in(row: &LeadRow, order: Order) -> Cursor {
        Cursor {
            severity: (order == Order::Severity).then_some(row.lead.severity),
            ..Cursor::after(row)
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = self.severity {
            write!(f, "{},", s.as_str())?;
        }
        write!(f, "{},{}", self.first_seen, self.lead_id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Cursor, String> {
        let bad = || {
            format!(
                "a page cursor is FIRST_SEEN,LEAD_ID or SEVERITY,FIRST_SEEN,LEAD_ID (as `leads list` prints it), not `{s}`"
            )
        };
        let parts: Vec<&str> = s.split(',').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        let (severity, first_seen, lead_id) = match parts.as_slice() {
            [f, l] => (None, f, l),
            [sev, f, l] => (Some(sev.parse::<Severity>().map_err(|_| bad())?), f, l),
            _ => return Err(bad()),
        };
        Ok(Cursor {
            first_seen: first_seen.to_string(),
            lead_id: lead_id.to_string(),
            severity,
        })
    }
}

xuncha_core::str_enum! {
    /// What leads are counted by.
    pub enum Facet("facet") {
        /// The lead's category.
        Category => "category",
        /// Its severity.
        Severity => "severity",
        /// Its workflow status.
        Status => "status",
        /// Its verdict (`none` if not judged).
        Verdict => "verdict",
        /// Who has it (`none` if nobody).
        Assignee => "assignee",
        /// The posting's site.
        Source => "source",
        /// The posting's publisher.
        Publisher => "publisher",
        /// Each division the posting's location names.
        Region => "region",
        /// Each rule with a finding in it.
        Rule => "rule",
    }
}

impl Filter {
    /// ` WHERE …` over `leads`, and its arguments.
    fn sql(&self) -> (String, Vec<Value>) {
        self.sql_from(0)
    }

    /// ` WHERE …` over `leads` whose parameters are numbered after `before` others.
    pub(crate) fn sql_from(&self, before: usize) -> (String, Vec<Value>) {
        let mut sql = String::from(" WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        let mut cond = |clause: &str, v: Value| {
            args.push(v);
            sql.push_str(&format!(
                " AND {}",
                clause.replace('?', &format!("${}", before + args.len()))
            ));
        };
        if let Some(c) = self.category {
            cond("category = ?", c.as_str().into());
        }
        if let Some(s) = self.min_severity {
            cond("severity_rank >= ?", rank(s).into());
        }
        if let Some(s) = self.status {
            cond("status = ?", s.as_str().into());
        }
        if let Some(v) = self.verdict {
            cond("verdict = ?", v.as_str().into());
        }
        if let Some(a) = &self.assigned_to {
            cond("assigned_to = ?", a.into());
        }
        if let Some(x) = &self.source {
            cond("source = ?", x.into());
        }
        if let Some(x) = &self.publisher {
            cond("publisher = ?", x.into());
        }
        if let Some(x) = &self.region {
            cond(
                "lead_id IN (SELECT lead_id FROM lead_divisions WHERE code = ?)",
                x.into(),
            );
        }
        if let Some(x) = &self.rule {
            cond(
                "lead_id IN (SELECT lead_id FROM lead_rules WHERE rule_id = ?)",
                x.into(),
            );
        }
        if let Some(s) = &self.since {
            cond("first_seen >= ?", s.into());
        }
        if let Some(u) = &self.until {
            cond("first_seen < ?", u.into());
        }
        if let Some(c) = &self.after {
            args.push((&c.first_seen).into());
            args.push((&c.lead_id).into());
            let (a, b) = (before + args.len() - 1, before + args.len());
            let after_time = match self.order {
                Order::Oldest => {
                    format!("(first_seen > ${a} OR (first_seen = ${a} AND lead_id < ${b}))")
                }
                _ => format!("(first_seen < ${a} OR (first_seen = ${a} AND lead_id > ${b}))"),
            };
            match (self.order, c.severity) {
                (Order::Severity, Some(s)) => {
                    args.push(rank(s).into());
                    let r = before + args.len();
                    sql.push_str(&format!(
                        " AND (severity_rank < ${r} OR (severity_rank = ${r} AND {after_time}))"
                    ));
                }
                _ => sql.push_str(&format!(" AND {after_time}")),
            }
        }
        (sql, args)
    }

    /// Refuses a cursor that cannot name a place in this filter's order.
    fn check_cursor(&self) -> anyhow::Result<()> {
        match (&self.after, self.order) {
            (Some(c), Order::Severity) if c.severity.is_none() => anyhow::bail!(
                "the cursor {c} has no severity, and the listing is by severity (SEVERITY,FIRST_SEEN,LEAD_ID)"
            ),
            (Some(c), Order::Newest | Order::Oldest) if c.severity.is_some() => anyhow::bail!(
                "the cursor {c} names a severity, and the listing is by time (FIRST_SEEN,LEAD_ID)"
            ),
            _ => Ok(()),
        }
    }
}

/// The case queue, on SQLite or PostgreSQL ([`Location`]).
///
/// ```
/// use xuncha_cases::{CaseQueue, Change, Filter, Verdict};
/// # use std::sync::Arc;
/// # use xuncha_core::Posting;
/// # let rules = xuncha_rules::RuleSet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")).unwrap();
/// # let matcher = xuncha_matcher::Matcher::new(Arc::new(rules)).unwrap();
/// # let posting = Posting { id: "demo-3".into(), description: Some("入职先交300元押金。".into()), ..Posting::default() };
/// # let leads = matcher.leads(&posting, "2026-12-01T08:00:00Z");
/// let dir = tempfile::tempdir().unwrap();
/// let queue = CaseQueue::open(dir.path().join("xuncha.db")).unwrap();
/// assert_eq!(queue.upsert(&leads, "2026-12-01T08:00:00Z").unwrap(), leads.len());
/// // Filing the same leads again adds nothing: they are keyed by lead id.
/// assert_eq!(queue.upsert(&leads, "2026-12-01T09:00:00Z").unwrap(), 0);
///
/// let id = &leads[0].lead_id;
/// let change = Change::Verdict(Verdict::Confirmed);
/// let events = queue.change(id, &change, "analyst-li", Some("deposit demanded"), "2026-12-01T10:00:00Z");
/// assert!(!events.unwrap().unwrap().is_empty());
/// assert_eq!(queue.list(&Filter::default()).unwrap().len(), leads.len());
/// ```
pub struct CaseQueue {
    pub(crate) db: Db,
    location: Location,
    gone_after: Duration,
    pub(crate) max_publishers: usize,
    pub(crate) demotion: DemotionPolicy,
    pub(crate) demoted_cache: DemotedCache,
}

/// How far apart two rechecks that find a posting gone must be to confirm it, unless the
/// queue is told otherwise.
pub const GONE_CONFIRMED_AFTER: Duration = Duration::from_secs(3600);

/// The first recheck of the latest run of "gone" findings of `lead_id` (errors between
/// them ignored), if that run spans at least `gap` up to `now`.
fn confirmed_gone(
    tx: &mut dyn Tx,
    lead_id: &str,
    now: &str,
    gap: Duration,
) -> anyhow::Result<Option<String>> {
    let rows = tx.query(
        "SELECT checked_at, outcome FROM rechecks WHERE lead_id = $1
         ORDER BY checked_at DESC, id DESC LIMIT 100",
        &[lead_id.into()],
    )?;
    let mut first: Option<String> = None;
    for mut row in rows {
        let at = col(&mut row)?.text()?;
        match col(&mut row)?.text()?.as_str() {
            "gone" => first = Some(at),
            "error" => {}
            _ => break,
        }
    }
    let parse = |t: &str| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339);
    Ok(first.filter(|f| match (parse(f), parse(now)) {
        (Ok(a), Ok(b)) => (b - a) >= gap,
        _ => false,
    }))
}

/// Creates the database file readable by its owner only (SQLite gives its journal and WAL
/// the same mode), and its folder 0700: leads name people and hold evidence.
fn create_private(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// The columns `lead_row` reads, in its order.
const ROW_COLUMNS: &str = "lead_json, status, first_seen, last_seen, seen_count, last_checked_at, last_online_at, gone_at, assigned_to, verdict";

/// One recheck of a lead's posting page, as recorded and as [`CaseQueue::history`]
/// returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recheck {
    /// The lead.
    pub lead_id: String,
    /// When the page was fetched, RFC 3339 UTC to the second.
    pub checked_at: String,
    /// What was found.
    pub outcome: RecheckOutcome,
    /// HTTP status of the answer, if one came.
    pub http_status: Option<u16>,
    /// The URL that answered, after redirects.
    pub final_url: Option<String>,
    /// SHA-256 of the bytes fetched.
    pub content_sha256: Option<String>,
    /// Where those bytes are kept (`sha256:<hex>` in the evidence store).
    pub evidence: Option<String>,
    /// Whether the lead's flagged text (its findings' `matched` strings) is still on the
    /// page; `None` when the page was not read or the lead has no flagged text.
    pub flagged_present: Option<bool>,
    /// How many of the flagged strings were found.
    pub flagged_found: Option<u32>,
    /// How many flagged strings the lead has.
    pub flagged_total: Option<u32>,
    /// Why the outcome is `error` or `gone`, when there is more to say than the status.
    pub error: Option<String>,
}

/// An open lead whose posting page is due for a recheck.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueLead {
    /// The lead.
    pub lead_id: String,
    /// Its posting.
    pub posting_id: String,
    /// The posting page.
    pub url: String,
    /// The posting's content hash when the lead was raised.
    pub content_sha256: String,
    /// The flagged text: the findings' `matched` strings, each once, in finding order.
    pub flagged: Vec<String>,
    /// The last recheck, if any.
    pub last_checked_at: Option<String>,
}

fn rank(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

impl CaseQueue {
    /// Opens (creating if needed) the SQLite queue at `path`, with its parent directory.
    pub fn open(path: impl AsRef<Path>) -> anyhow::Result<CaseQueue> {
        CaseQueue::open_at(&Location::Sqlite(path.as_ref().to_path_buf()))
    }

    /// Opens the queue the `db` setting names: a path or `sqlite://path` (created if
    /// needed), or a `postgres://` URL (the database must exist). Migrations the database
    /// lacks are applied; a database migrated by a newer xuncha is refused.
    pub fn open_url(db: &str) -> anyhow::Result<CaseQueue> {
        CaseQueue::open_at(&Location::parse(db))
    }

    /// Opens the queue at `location`.
    pub fn open_at(location: &Location) -> anyhow::Result<CaseQueue> {
        let db = match location {
            Location::Sqlite(path) => open_sqlite(path)?,
            Location::Postgres(url) => db::retry_while_unreachable(|| {
                let db = db::open_postgres(url)?;
                if let Db::Postgres(pool) = &db {
                    let mut client = pool.get()?;
                    crate::migrate::postgres(&mut client)?;
                }
                Ok(db)
            })
            .with_context(|| format!("opening {location}"))?,
        };
        Ok(CaseQueue {
            db,
            location: location.clone(),
            gone_after: GONE_CONFIRMED_AFTER,
            max_publishers: crate::campaigns::DEFAULT_MAX_PUBLISHERS_PER_KEY,
            demotion: DemotionPolicy::default(),
            demoted_cache: DemotedCache::default(),
        })
    }

    /// When verdicts demote a rule (default [`DemotionPolicy::default`]): every process
    /// that records verdicts should be given the same settings.
    pub fn demotion(mut self, policy: DemotionPolicy) -> CaseQueue {
        self.demotion = policy;
        self
    }

    /// How far apart two rechecks that find a posting gone must be to confirm it
    /// (default `GONE_CONFIRMED_AFTER`, an hour).
    pub fn confirm_gone_after(mut self, d: Duration) -> CaseQueue {
        self.gone_after = d;
        self
    }

    /// Where the queue is, for messages (a PostgreSQL password is masked).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Inserts new leads and moves `last_seen` of known ones, and puts each lead's posting
    /// in its campaign, in one transaction. Returns how many were new. A new lead that only
    /// demoted rules found is filed `under_review` (the filing event says which rules), any
    /// other as `new`.
    pub fn upsert(&self, leads: &[Lead], seen_at: &str) -> anyhow::Result<usize> {
        // The legal texts are stored once per rules version, not in every lead.
        let mut stored = Vec::with_capacity(leads.len());
        let mut texts = Vec::new();
        for l in leads {
            let mut s = l.clone();
            for r in s.legal_basis.iter_mut().chain(s.penalty.as_mut()) {
                if !r.text.is_empty() {
                    texts.push([
                        l.rules_version.clone(),
                        r.law.clone(),
                        r.article.clone(),
                        std::mem::take(&mut r.text),
                    ]);
                }
            }
            stored.push(serde_json::to_string(&s)?);
        }
        texts.sort();
        texts.dedup();
        let (postgres, bound) = (self.db.is_postgres(), self.max_publishers);
        let (new, demoted) = self.db.tx(|tx| {
            crate::campaigns::lock(tx, postgres)?;
            let demoted = demotion::read_demoted(tx)?;
            for [version, law, article, text] in &texts {
                tx.exec(
                    "INSERT INTO law_texts (rules_version, law, article, text) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                    &[version.into(), law.into(), article.into(), text.into()],
                )?;
            }
            let mut new = 0;
            for (l, json) in leads.iter().zip(&stored) {
                let mut row = tx
                    .query_opt(
                        "INSERT INTO leads (lead_id, posting_id, category, severity, severity_rank, score, url,
                                            source, publisher, rules_version, first_seen, last_seen, lead_json,
                                            status)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)
                         ON CONFLICT (lead_id) DO UPDATE
                             SET last_seen = excluded.last_seen, seen_count = leads.seen_count + 1
                         RETURNING seen_count, status",
                        &[
                            (&l.lead_id).into(),
                            (&l.posting.id).into(),
                            l.category.as_str().into(),
                            l.severity.as_str().into(),
                            rank(l.severity).into(),
                            l.score.into(),
                            l.posting.url.as_ref().into(),
                            l.posting.source.as_ref().into(),
                            l.posting.publisher.as_ref().into(),
                            (&l.rules_version).into(),
                            seen_at.into(),
                            json.into(),
                            if l.found_only_by(&demoted) {
                                Status::UnderReview
                            } else {
                                Status::New
                            }
                            .as_str()
                            .into(),
                        ],
                    )?
                    .context("an upsert returned no row")?;
                let count = col(&mut row)?.int()?;
                let status = col(&mut row)?.text()?;
                if count == 1 {
                    new += 1;
                    let mut rules: Vec<&str> =
                        l.findings.iter().map(|f| f.rule_id.as_str()).collect();
                    rules.sort_unstable();
                    rules.dedup();
                    for r in rules {
                        tx.exec(
                            "INSERT INTO lead_rules (rule_id, lead_id, lead_first_seen) VALUES ($1, $2, $3)
                             ON CONFLICT DO NOTHING",
                            &[r.into(), (&l.lead_id).into(), seen_at.into()],
                        )?;
                    }
                    for d in &l.posting.divisions {
                        tx.exec(
                            "INSERT INTO lead_divisions (code, lead_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                            &[d.into(), (&l.lead_id).into()],
                        )?;
                    }
                    if status == Status::UnderReview.as_str() {
                        let note = format!(
                            "found only by demoted rules ({}): not alerted",
                            l.rule_ids().join(", ")
                        );
                        events::append(
                            tx,
                            &l.lead_id,
                            seen_at,
                            "scan",
                            "filed",
                            (None, Some(Status::UnderReview.as_str())),
                            Some(&note),
                        )?;
                    } else {
                        events::append(tx, &l.lead_id, seen_at, "scan", "filed", (None, None), None)?;
                    }
                } else if status == Status::Closed.as_str() {
                    // A closed lead is never reopened by a scan, but the case file shows
                    // the posting was still up. Open leads count sightings in seen_count.
                    events::append(tx, &l.lead_id, seen_at, "scan", "seen_again", (None, None), None)?;
                }
                crate::campaigns::place(tx, l, seen_at, bound, count == 1)?;
            }
            Ok((new, demoted))
        })?;
        // The alerts that follow this filing ask the same question: give them this answer.
        self.demoted_cache.put(std::sync::Arc::new(demoted));
        Ok(new)
    }

    /// Files dead letters; the same origin and reason is filed once.
    pub fn insert_dead_letters(&self, dead: &[DeadLetter]) -> anyhow::Result<()> {
        let rows: Vec<[Value; 5]> = dead
            .iter()
            .map(|d| {
                Ok([
                    d.key().into(),
                    d.reason.as_str().into(),
                    (&d.detail).into(),
                    (&d.at).into(),
                    serde_json::to_string(d)?.into(),
                ])
            })
            .collect::<anyhow::Result<_>>()?;
        self.db.tx(|tx| {
            for r in &rows {
                tx.exec(
                    "INSERT INTO dead_letters (origin, reason, detail, at, record_json) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT DO NOTHING",
                    r,
                )?;
            }
            Ok(())
        })
    }

    /// Dead letters, oldest first.
    pub fn dead_letters(&self) -> anyhow::Result<Vec<DeadLetter>> {
        let rows = self
            .db
            .tx(|tx| tx.query("SELECT record_json FROM dead_letters ORDER BY id", &[]))?;
        rows.into_iter()
            .map(|mut r| Ok(serde_json::from_str(&col(&mut r)?.text()?)?))
            .collect()
    }

    /// Leads matching `f`, in its order (newest first unless told).
    pub fn list(&self, f: &Filter) -> anyhow::Result<Vec<LeadRow>> {
        f.check_cursor()?;
        let (filter, args) = f.sql();
        let mut sql = format!(
            "SELECT {ROW_COLUMNS} FROM leads{filter} ORDER BY {}",
            f.order.sql()
        );
        if let Some(n) = f.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        self.db.read(|tx| {
            let rows = tx.query(&sql, &args)?;
            let mut texts = LawTexts::default();
            rows.into_iter()
                .map(|r| lead_row(tx, r, &mut texts))
                .collect()
        })
    }

    /// How many leads matching `f` there are by `facet`, most first. A lead counts once
    /// under each rule or division it has; `none` stands for a lead without the attribute.
    pub fn counts(&self, f: &Filter, facet: Facet) -> anyhow::Result<Vec<(String, u64)>> {
        let (filter, args) = Filter {
            after: None,
            limit: None,
            ..f.clone()
        }
        .sql();
        let unfiltered = args.is_empty();
        let (from, key) = match facet {
            // A whole queue by region or rule reads only the facet table (its key index),
            // not a join with every lead.
            Facet::Region if unfiltered => ("lead_divisions", "code"),
            Facet::Rule if unfiltered => ("lead_rules", "rule_id"),
            Facet::Category => ("leads", "category"),
            Facet::Severity => ("leads", "severity"),
            Facet::Status => ("leads", "status"),
            Facet::Verdict => ("leads", "verdict"),
            Facet::Assignee => ("leads", "assigned_to"),
            Facet::Source => ("leads", "source"),
            Facet::Publisher => ("leads", "publisher"),
            Facet::Region => ("lead_divisions JOIN leads USING (lead_id)", "code"),
            Facet::Rule => ("lead_rules JOIN leads USING (lead_id)", "rule_id"),
        };
        let sql = format!(
            "SELECT COALESCE({key}, 'none'), COUNT(*) FROM {from}{filter}
             GROUP BY {key} ORDER BY COUNT(*) DESC, 1"
        );
        let rows = self.db.read(|tx| tx.query(&sql, &args))?;
        rows.into_iter()
            .map(|mut r| Ok((col(&mut r)?.text()?, col(&mut r)?.int()? as u64)))
            .collect()
    }

    /// How many leads matching `f` there are of each category and severity: (category,
    /// severity, leads), most first.
    pub fn category_severity_counts(
        &self,
        f: &Filter,
    ) -> anyhow::Result<Vec<(String, String, u64)>> {
        let (filter, args) = Filter {
            after: None,
            limit: None,
            ..f.clone()
        }
        .sql();
        let sql = format!(
            "SELECT category, severity, COUNT(*) FROM leads{filter}
             GROUP BY category, severity ORDER BY COUNT(*) DESC, 1, 2"
        );
        let rows = self.db.read(|tx| tx.query(&sql, &args))?;
        rows.into_iter()
            .map(|mut r| {
                Ok((
                    col(&mut r)?.text()?,
                    col(&mut r)?.text()?,
                    col(&mut r)?.int()? as u64,
                ))
            })
            .collect()
    }

    /// One lead.
    pub fn get(&self, lead_id: &str) -> anyhow::Result<Option<LeadRow>> {
        self.db.read(|tx| {
            tx.query_opt(
                &format!("SELECT {ROW_COLUMNS} FROM leads WHERE lead_id = $1"),
                &[lead_id.into()],
            )?
            .map(|r| lead_row(tx, r, &mut LawTexts::default()))
            .transpose()
        })
    }

    /// Open leads (status `new`, `assigned` or `under_review`) with a posting URL, not found gone, and
    /// never rechecked or last rechecked before `now - recheck_after`: never-checked first,
    /// then the longest unchecked. At most `limit` of them when given.
    pub fn due_for_recheck(
        &self,
        now: OffsetDateTime,
        recheck_after: Duration,
        limit: Option<usize>,
    ) -> anyhow::Result<Vec<DueLead>> {
        let cutoff = rfc3339_seconds(now - recheck_after);
        let mut sql = String::from(
            "SELECT lead_id, posting_id, url, last_checked_at, lead_json FROM leads
             WHERE status IN ('new', 'assigned', 'under_review') AND gone_at IS NULL
               AND url IS NOT NULL AND url != ''
               AND (last_checked_at IS NULL OR last_checked_at <= $1)
             ORDER BY last_checked_at IS NOT NULL, last_checked_at, first_seen, lead_id",
        );
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let rows = self.db.tx(|tx| tx.query(&sql, &[(&cutoff).into()]))?;
        rows.into_iter().map(|r| self.due_lead_of(r)).collect()
    }

    /// The recheck target of one lead whatever its status or schedule (an analyst asking
    /// for it now); `None` if there is no such lead or it has no posting URL.
    pub fn due_lead(&self, lead_id: &str) -> anyhow::Result<Option<DueLead>> {
        let row = self.db.tx(|tx| {
            tx.query_opt(
                "SELECT lead_id, posting_id, url, last_checked_at, lead_json FROM leads
                 WHERE lead_id = $1 AND url IS NOT NULL AND url != ''",
                &[lead_id.into()],
            )
        })?;
        row.map(|r| self.due_lead_of(r)).transpose()
    }

    fn due_lead_of(&self, mut row: Row) -> anyhow::Result<DueLead> {
        let lead_id = col(&mut row)?.text()?;
        let posting_id = col(&mut row)?.text()?;
        let url = col(&mut row)?.text()?;
        let last_checked_at = col(&mut row)?.opt_text()?;
        let json = col(&mut row)?.text()?;
        let lead: Lead = serde_json::from_str(&json)
            .with_context(|| format!("{}: lead {lead_id}: stored JSON", self.location))?;
        let mut flagged: Vec<String> = Vec::new();
        for f in &lead.findings {
            if !f.matched.trim().is_empty() && !flagged.contains(&f.matched) {
                flagged.push(f.matched.clone());
            }
        }
        Ok(DueLead {
            lead_id,
            posting_id,
            url,
            content_sha256: lead.posting.content_sha256,
            flagged,
            last_checked_at,
        })
    }

    /// Records one recheck and moves the lead's `last_checked_at`, and its `last_online_at`
    /// when the flagged content was found online. A posting is found gone only when the
    /// absence is confirmed: rechecks found it gone at least
    /// [`CaseQueue::confirm_gone_after`] apart, with no sighting online in between (a failed
    /// fetch neither confirms nor denies). `gone_at` is then the first of them, and never
    /// moves again. One 404 from a board having a bad minute does not close the evidence
    /// trail. False if there is no such lead.
    pub fn record_recheck(&self, r: &Recheck) -> anyhow::Result<bool> {
        let gap = self.gone_after;
        self.db.tx(|tx| {
            // Times are text of one form, so the later of two is the greater string.
            let n = tx.exec(
                "UPDATE leads SET
                    last_checked_at = CASE WHEN last_checked_at IS NULL OR last_checked_at < $2
                                           THEN $2 ELSE last_checked_at END,
                    last_online_at = CASE WHEN $3 = 'online'
                                           AND (last_online_at IS NULL OR last_online_at < $2)
                                          THEN $2 ELSE last_online_at END
                 WHERE lead_id = $1",
                &[(&r.lead_id).into(), (&r.checked_at).into(), r.outcome.as_str().into()],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.exec(
                "INSERT INTO rechecks (lead_id, checked_at, outcome, http_status, final_url, content_sha256,
                                       evidence, error, flagged_present, flagged_found, flagged_total)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    (&r.lead_id).into(),
                    (&r.checked_at).into(),
                    r.outcome.as_str().into(),
                    r.http_status.map(i64::from).into(),
                    r.final_url.as_ref().into(),
                    r.content_sha256.as_ref().into(),
                    r.evidence.as_ref().into(),
                    r.error.as_ref().into(),
                    r.flagged_present.into(),
                    r.flagged_found.map(i64::from).into(),
                    r.flagged_total.map(i64::from).into(),
                ],
            )?;
            events::append(
                tx,
                &r.lead_id,
                &r.checked_at,
                "recheck",
                "recheck",
                (None, Some(r.outcome.as_str())),
                r.error.as_deref(),
            )?;
            if r.outcome == RecheckOutcome::Gone {
                if let Some(first) = confirmed_gone(tx, &r.lead_id, &r.checked_at, gap)? {
                    tx.exec(
                        "UPDATE leads SET gone_at = $2 WHERE lead_id = $1 AND gone_at IS NULL",
                        &[(&r.lead_id).into(), first.into()],
                    )?;
                }
            }
            Ok(true)
        })
    }

    /// Every recheck of a lead, oldest first.
    pub fn history(&self, lead_id: &str) -> anyhow::Result<Vec<Recheck>> {
        let rows = self.db.read(|tx| {
            tx.query(
                "SELECT lead_id, checked_at, outcome, http_status, final_url, content_sha256, evidence,
                        error, flagged_present, flagged_found, flagged_total
                 FROM rechecks WHERE lead_id = $1 ORDER BY checked_at, id",
                &[lead_id.into()],
            )
        })?;
        rows.into_iter().map(recheck_row).collect()
    }

    /// Number of leads.
    pub fn count(&self) -> anyhow::Result<u64> {
        let n = self.db.tx(|tx| {
            let mut r = tx
                .query_opt("SELECT COUNT(*) FROM leads", &[])?
                .context("COUNT returned no row")?;
            col(&mut r)?.int()
        })?;
        Ok(n as u64)
    }
}

impl xuncha_pipeline::webhook::AlertRecord for CaseQueue {
    fn delivered(&self, webhook: &str, lead_id: &str) -> anyhow::Result<bool> {
        self.db.tx(|tx| {
            Ok(tx
                .query_opt(
                    "SELECT 1 FROM alerts_delivered WHERE webhook = $1 AND lead_id = $2",
                    &[webhook.into(), lead_id.into()],
                )?
                .is_some())
        })
    }

    fn record_delivery(&self, webhook: &str, lead_id: &str) -> anyhow::Result<()> {
        let at = rfc3339_seconds(OffsetDateTime::now_utc());
        self.db.tx(|tx| {
            tx.exec(
                "INSERT INTO alerts_delivered (webhook, lead_id, delivered_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[webhook.into(), lead_id.into(), (&at).into()],
            )?;
            Ok(())
        })
    }
}

fn open_sqlite(path: &Path) -> anyhow::Result<Db> {
    create_private(path)?;
    let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // A damaged file is found now, not as an endless retry of the first write.
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .with_context(|| format!("checking {}", path.display()))?;
    anyhow::ensure!(
        check == "ok",
        "the case queue {} is damaged ({check}): restore it from a backup, or move it aside to start a new one",
        path.display()
    );
    crate::migrate::sqlite(&mut conn).with_context(|| format!("migrating {}", path.display()))?;
    keep_statistics(&conn).with_context(|| format!("analysing {}", path.display()))?;
    let readers = db::Readers::open(path)?;
    Ok(Db::Sqlite(Mutex::new(conn), readers))
}

/// Leads below which SQLite plans well without statistics.
const ANALYSE_FROM_LEADS: i64 = 1000;

/// Gives SQLite's planner the statistics of the case store's indexes when it has none
/// or the queue has doubled or halved since they were taken. Without them it cannot tell
/// a site (a fortieth of the leads) from a category (a sixteenth), and a filter on both
/// that matches nothing scans the whole category instead of the site's few thousand
/// index entries. A whole ANALYZE of a million leads takes about two seconds, once per
/// doubling. (PostgreSQL's autovacuum keeps its own statistics.)
fn keep_statistics(conn: &Connection) -> anyhow::Result<()> {
    // Leads are never deleted: the largest rowid is their number, read off the b-tree.
    let leads: i64 = conn.query_row("SELECT COALESCE(MAX(rowid), 0) FROM leads", [], |r| {
        r.get(0)
    })?;
    if leads < ANALYSE_FROM_LEADS {
        return Ok(());
    }
    // sqlite_stat1 exists only once something was analysed.
    let counted: Option<i64> = conn
        .query_row(
            "SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = 'leads' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    if counted.is_none_or(|c| leads > 2 * c || 2 * leads < c) {
        conn.execute_batch("PRAGMA analysis_limit = 0; ANALYZE;")?;
    }
    Ok(())
}

/// Legal texts already looked up in one read: a page of leads cites a handful of articles.
type LawTexts = std::collections::HashMap<(String, String, String), Option<String>>;

/// A lead row of [`ROW_COLUMNS`], with the legal texts it was filed without put back.
fn lead_row(tx: &mut dyn Tx, mut r: Row, texts: &mut LawTexts) -> anyhow::Result<LeadRow> {
    let json = col(&mut r)?.text()?;
    let mut lead: Lead = serde_json::from_str(&json).context("a stored lead's JSON")?;
    // Leads filed before texts were stored apart still carry theirs.
    let version = lead.rules_version.clone();
    for l in lead.legal_basis.iter_mut().chain(lead.penalty.as_mut()) {
        if l.text.is_empty() {
            let key = (version.clone(), l.law.clone(), l.article.clone());
            if !texts.contains_key(&key) {
                let found = tx
                    .query_opt(
                        "SELECT text FROM law_texts WHERE rules_version = $1 AND law = $2 AND article = $3",
                        &[(&key.0).into(), (&key.1).into(), (&key.2).into()],
                    )?
                    .map(|mut t| col(&mut t)?.text())
                    .transpose()?;
                texts.insert(key.clone(), found);
            }
            if let Some(Some(t)) = texts.get(&key) {
                l.text = t.clone();
            }
        }
    }
    Ok(LeadRow {
        lead,
        status: col(&mut r)?.text()?.parse().unwrap_or(Status::New),
        first_seen: col(&mut r)?.text()?,
        last_seen: col(&mut r)?.text()?,
        seen_count: col(&mut r)?.int()?,
        last_checked_at: col(&mut r)?.opt_text()?,
        last_online_at: col(&mut r)?.opt_text()?,
        gone_at: col(&mut r)?.opt_text()?,
        assigned_to: col(&mut r)?.opt_text()?,
        verdict: col(&mut r)?.opt_text()?.and_then(|v| v.parse().ok()),
    })
}

fn recheck_row(mut r: Row) -> anyhow::Result<Recheck> {
    Ok(Recheck {
        lead_id: col(&mut r)?.text()?,
        checked_at: col(&mut r)?.text()?,
        outcome: col(&mut r)?
            .text()?
            .parse()
            .unwrap_or(RecheckOutcome::Error),
        http_status: col(&mut r)?.opt_int()?.map(|s| s as u16),
        final_url: col(&mut r)?.opt_text()?,
        content_sha256: col(&mut r)?.opt_text()?,
        evidence: col(&mut r)?.opt_text()?,
        error: col(&mut r)?.opt_text()?,
        flagged_present: col(&mut r)?.opt_int()?.map(|p| p != 0),
        flagged_found: col(&mut r)?.opt_int()?.map(|n| n as u32),
        flagged_total: col(&mut r)?.opt_int()?.map(|n| n as u32),
    })
}
