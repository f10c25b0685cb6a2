use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;
use xuncha_core::{Category, Lead, Severity};

use super::events::{self, Verdict};
use xuncha_pipeline::DeadLetter;

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

/// Which leads to list.
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
    /// Only leads first seen at or after this time (RFC 3339 or a date).
    pub since: Option<String>,
    /// Only leads first seen before this time.
    pub until: Option<String>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

/// The SQLite case queue.
///
/// ```
/// use xuncha_cases::sqlite::{CaseQueue, Change, Filter, Verdict};
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
    conn: Mutex<Connection>,
    path: PathBuf,
    gone_after: Duration,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS leads (
    lead_id        TEXT PRIMARY KEY,
    posting_id     TEXT NOT NULL,
    category       TEXT NOT NULL,
    severity       TEXT NOT NULL,
    severity_rank  INTEGER NOT NULL,
    score          REAL NOT NULL,
    url            TEXT,
    source         TEXT,
    publisher      TEXT,
    rules_version  TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'new'
                   CHECK (status IN ('new', 'assigned', 'closed', 'false_positive')),
    first_seen     TEXT NOT NULL,
    last_seen      TEXT NOT NULL,
    seen_count     INTEGER NOT NULL DEFAULT 1,
    lead_json      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS leads_first_seen ON leads (first_seen);
CREATE INDEX IF NOT EXISTS leads_posting ON leads (posting_id);
CREATE INDEX IF NOT EXISTS leads_category ON leads (category, severity_rank);
CREATE TABLE IF NOT EXISTS dead_letters (
    id          INTEGER PRIMARY KEY,
    origin      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    at          TEXT NOT NULL,
    record_json TEXT NOT NULL,
    UNIQUE (origin, reason)
);
CREATE TABLE IF NOT EXISTS rechecks (
    id              INTEGER PRIMARY KEY,
    lead_id         TEXT NOT NULL,
    checked_at      TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('online', 'changed', 'gone', 'error')),
    http_status     INTEGER,
    final_url       TEXT,
    content_sha256  TEXT,
    evidence        TEXT,
    flagged_present INTEGER,
    flagged_found   INTEGER,
    flagged_total   INTEGER,
    error           TEXT
);
CREATE INDEX IF NOT EXISTS rechecks_lead ON rechecks (lead_id, checked_at);
CREATE TABLE IF NOT EXISTS law_texts (
    rules_version TEXT NOT NULL,
    law           TEXT NOT NULL,
    article       TEXT NOT NULL,
    text          TEXT NOT NULL,
    PRIMARY KEY (rules_version, law, article)
);
CREATE TABLE IF NOT EXISTS alerts_delivered (
    webhook      TEXT NOT NULL,
    lead_id      TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (webhook, lead_id)
);
"#;

/// How far apart two rechecks that find a posting gone must be to confirm it, unless the
/// queue is told otherwise.
pub const GONE_CONFIRMED_AFTER: Duration = Duration::from_secs(3600);

/// The first recheck of the latest run of "gone" findings of `lead_id` (errors between
/// them ignored), if that run spans at least `gap` up to `now`.
fn confirmed_gone(
    tx: &rusqlite::Transaction<'_>,
    lead_id: &str,
    now: &str,
    gap: Duration,
) -> anyhow::Result<Option<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT checked_at, outcome FROM rechecks WHERE lead_id = ?1
         ORDER BY checked_at DESC, id DESC LIMIT 100",
    )?;
    let rows = stmt.query_map([lead_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut first: Option<String> = None;
    for row in rows {
        let (at, outcome) = row?;
        match outcome.as_str() {
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

/// Columns added to `leads` after its first release; a database made before them gets
/// them on open, with its rows kept.
const LEAD_COLUMNS_ADDED: &[(&str, &str)] = &[
    ("last_checked_at", "TEXT"),
    ("last_online_at", "TEXT"),
    ("gone_at", "TEXT"),
    ("assigned_to", "TEXT"),
    ("verdict", "TEXT"),
];

/// The columns `row` reads, in its order.
const ROW_COLUMNS: &str = "lead_json, status, first_seen, last_seen, seen_count, last_checked_at, last_online_at, gone_at, assigned_to, verdict";

xuncha_core::str_enum! {
    /// What a recheck found of a posting page.
    pub enum RecheckOutcome("recheck outcome") {
        /// The posting is still shown with its flagged text (or, for a lead without
        /// flagged text, unchanged).
        Online => "online",
        /// The posting is still shown but the flagged text is no longer on it (or, without
        /// flagged text, its content changed).
        Changed => "changed",
        /// HTTP 404 or 410, or the page no longer shows the posting.
        Gone => "gone",
        /// Nothing could be concluded: a 5xx, a network failure, robots.txt, not HTML.
        Error => "error",
    }
}

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

/// A time as the recheck columns hold it: RFC 3339, UTC, to the second, so that the
/// text order is the time order.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn rank(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

impl CaseQueue {
    /// Opens (creating if needed) the queue at `path`, with its parent directory.
    pub fn open(path: impl AsRef<Path>) -> anyhow::Result<CaseQueue> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let conn =
            Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
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
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("schema of {}", path.display()))?;
        migrate(&conn).with_context(|| format!("migrating {}", path.display()))?;
        conn.execute_batch(events::SCHEMA)
            .with_context(|| format!("event log of {}", path.display()))?;
        Ok(CaseQueue {
            conn: Mutex::new(conn),
            path,
            gone_after: GONE_CONFIRMED_AFTER,
        })
    }

    /// How far apart two rechecks that find a posting gone must be to confirm it
    /// (default `GONE_CONFIRMED_AFTER`, an hour).
    pub fn confirm_gone_after(mut self, d: Duration) -> CaseQueue {
        self.gone_after = d;
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts new leads and moves `last_seen` of known ones, in one transaction. Returns
    /// how many were new.
    pub fn upsert(&self, leads: &[Lead], seen_at: &str) -> anyhow::Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut new = 0;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO leads (lead_id, posting_id, category, severity, severity_rank, score, url, source,
                                    publisher, rules_version, first_seen, last_seen, lead_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)
                 ON CONFLICT (lead_id) DO UPDATE SET last_seen = excluded.last_seen, seen_count = seen_count + 1
                 RETURNING seen_count, status",
            )?;
            let mut texts = tx.prepare_cached(
                "INSERT OR IGNORE INTO law_texts (rules_version, law, article, text) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for l in leads {
                // The legal texts are stored once per rules version, not in every lead.
                let mut stored = l.clone();
                for r in stored.legal_basis.iter_mut().chain(stored.penalty.as_mut()) {
                    if !r.text.is_empty() {
                        texts.execute(params![l.rules_version, r.law, r.article, r.text])?;
                        r.text.clear();
                    }
                }
                let json = serde_json::to_string(&stored)?;
                let (count, status): (i64, String) = stmt.query_row(
                    params![
                        l.lead_id,
                        l.posting.id,
                        l.category.as_str(),
                        l.severity.as_str(),
                        rank(l.severity),
                        l.score,
                        l.posting.url,
                        l.posting.source,
                        l.posting.publisher,
                        l.rules_version,
                        seen_at,
                        json
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if count == 1 {
                    new += 1;
                    events::append(
                        &tx,
                        &l.lead_id,
                        seen_at,
                        "scan",
                        "filed",
                        (None, None),
                        None,
                    )?;
                } else if status == Status::Closed.as_str() {
                    // A closed lead is never reopened by a scan, but the case file shows
                    // the posting was still up. Open leads count sightings in seen_count.
                    events::append(
                        &tx,
                        &l.lead_id,
                        seen_at,
                        "scan",
                        "seen_again",
                        (None, None),
                        None,
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(new)
    }

    /// Files dead letters; the same origin and reason is filed once.
    pub fn insert_dead_letters(&self, dead: &[DeadLetter]) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO dead_letters (origin, reason, detail, at, record_json) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for d in dead {
                stmt.execute(params![
                    d.key(),
                    d.reason.as_str(),
                    d.detail,
                    d.at,
                    serde_json::to_string(d)?
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Dead letters, oldest first.
    pub fn dead_letters(&self) -> anyhow::Result<Vec<DeadLetter>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT record_json FROM dead_letters ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json?)?);
        }
        Ok(out)
    }

    /// Leads matching `f`, newest first.
    pub fn list(&self, f: &Filter) -> anyhow::Result<Vec<LeadRow>> {
        let mut sql = format!("SELECT {ROW_COLUMNS} FROM leads WHERE 1 = 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(c) = f.category {
            sql.push_str(" AND category = ?");
            args.push(c.as_str().to_string().into());
        }
        if let Some(s) = f.min_severity {
            sql.push_str(" AND severity_rank >= ?");
            args.push(rank(s).into());
        }
        if let Some(s) = f.status {
            sql.push_str(" AND status = ?");
            args.push(s.as_str().to_string().into());
        }
        if let Some(v) = f.verdict {
            sql.push_str(" AND verdict = ?");
            args.push(v.as_str().to_string().into());
        }
        if let Some(a) = &f.assigned_to {
            sql.push_str(" AND assigned_to = ?");
            args.push(a.clone().into());
        }
        if let Some(s) = &f.since {
            sql.push_str(" AND first_seen >= ?");
            args.push(s.clone().into());
        }
        if let Some(u) = &f.until {
            sql.push_str(" AND first_seen < ?");
            args.push(u.clone().into());
        }
        sql.push_str(" ORDER BY first_seen DESC, lead_id");
        if let Some(n) = f.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), row)?;
        let mut out: Vec<LeadRow> = rows
            .map(|r| r?.map_err(anyhow::Error::from))
            .collect::<anyhow::Result<_>>()?;
        for r in &mut out {
            fill_law_texts(&conn, &mut r.lead)?;
        }
        Ok(out)
    }

    /// One lead.
    pub fn get(&self, lead_id: &str) -> anyhow::Result<Option<LeadRow>> {
        let conn = self.conn();
        let r = conn
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM leads WHERE lead_id = ?1"),
                [lead_id],
                row,
            )
            .optional()?;
        let mut r = r.transpose()?;
        if let Some(r) = &mut r {
            fill_law_texts(&conn, &mut r.lead)?;
        }
        Ok(r)
    }

    /// Open leads (status `new` or `assigned`) with a posting URL, not found gone, and
    /// never rechecked or last rechecked before `now - recheck_after`: never-checked first,
    /// then the longest unchecked. At most `limit` of them when given.
    pub fn due_for_recheck(
        &self,
        now: OffsetDateTime,
        recheck_after: Duration,
        limit: Option<usize>,
    ) -> anyhow::Result<Vec<DueLead>> {
        let cutoff = format_time(now - recheck_after);
        let mut sql = String::from(
            "SELECT lead_id, posting_id, url, last_checked_at, lead_json FROM leads
             WHERE status IN ('new', 'assigned') AND gone_at IS NULL
               AND url IS NOT NULL AND url != ''
               AND (last_checked_at IS NULL OR last_checked_at <= ?1)
             ORDER BY last_checked_at IS NOT NULL, last_checked_at, first_seen, lead_id",
        );
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([&cutoff], due_columns)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.due_lead_of(row?)?);
        }
        Ok(out)
    }

    /// The recheck target of one lead whatever its status or schedule (an analyst asking
    /// for it now); `None` if there is no such lead or it has no posting URL.
    pub fn due_lead(&self, lead_id: &str) -> anyhow::Result<Option<DueLead>> {
        let row = self
            .conn()
            .query_row(
                "SELECT lead_id, posting_id, url, last_checked_at, lead_json FROM leads
                 WHERE lead_id = ?1 AND url IS NOT NULL AND url != ''",
                [lead_id],
                due_columns,
            )
            .optional()?;
        row.map(|r| self.due_lead_of(r)).transpose()
    }

    fn due_lead_of(&self, row: DueColumns) -> anyhow::Result<DueLead> {
        let (lead_id, posting_id, url, last_checked_at, json) = row;
        let lead: Lead = serde_json::from_str(&json)
            .with_context(|| format!("{}: lead {lead_id}: stored JSON", self.path.display()))?;
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
    /// [`CaseQueue::confirm_gone_after`] apart, with no sighting online in between (a failed fetch neither confirms nor
    /// denies). `gone_at` is then the first of them, and never moves again. One 404 from
    /// a board having a bad minute does not close the evidence trail. False if there is no
    /// such lead.
    pub fn record_recheck(&self, r: &Recheck) -> anyhow::Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE leads SET
                last_checked_at = MAX(COALESCE(last_checked_at, ''), ?2),
                last_online_at = CASE WHEN ?3 = 'online'
                                      THEN MAX(COALESCE(last_online_at, ''), ?2)
                                      ELSE last_online_at END
             WHERE lead_id = ?1",
            params![r.lead_id, r.checked_at, r.outcome.as_str()],
        )?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO rechecks (lead_id, checked_at, outcome, http_status, final_url, content_sha256,
                                   evidence, error, flagged_present, flagged_found, flagged_total)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                r.lead_id,
                r.checked_at,
                r.outcome.as_str(),
                r.http_status,
                r.final_url,
                r.content_sha256,
                r.evidence,
                r.error,
                r.flagged_present,
                r.flagged_found,
                r.flagged_total
            ],
        )?;
        events::append(
            &tx,
            &r.lead_id,
            &r.checked_at,
            "recheck",
            "recheck",
            (None, Some(r.outcome.as_str())),
            r.error.as_deref(),
        )?;
        if r.outcome == RecheckOutcome::Gone {
            if let Some(first) = confirmed_gone(&tx, &r.lead_id, &r.checked_at, self.gone_after)? {
                tx.execute(
                    "UPDATE leads SET gone_at = ?2 WHERE lead_id = ?1 AND gone_at IS NULL",
                    params![r.lead_id, first],
                )?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Every recheck of a lead, oldest first.
    pub fn history(&self, lead_id: &str) -> anyhow::Result<Vec<Recheck>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT lead_id, checked_at, outcome, http_status, final_url, content_sha256, evidence,
                    error, flagged_present, flagged_found, flagged_total
             FROM rechecks WHERE lead_id = ?1 ORDER BY checked_at, id",
        )?;
        let rows = stmt.query_map([lead_id], recheck_row)?;
        rows.map(|r| r.map_err(anyhow::Error::from)).collect()
    }

    /// Number of leads.
    pub fn count(&self) -> anyhow::Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM leads", [], |r| r.get::<_, i64>(0))? as u64)
    }
}

impl xuncha_pipeline::webhook::AlertRecord for CaseQueue {
    fn delivered(&self, webhook: &str, lead_id: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM alerts_delivered WHERE webhook = ?1 AND lead_id = ?2",
                [webhook, lead_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn record_delivery(&self, webhook: &str, lead_id: &str) -> anyhow::Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO alerts_delivered (webhook, lead_id, delivered_at) VALUES (?1, ?2, ?3)",
            params![webhook, lead_id, format_time(OffsetDateTime::now_utc())],
        )?;
        Ok(())
    }
}

type RowResult = Result<LeadRow, serde_json::Error>;

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowResult> {
    let json: String = r.get(0)?;
    let status: String = r.get(1)?;
    let first_seen: String = r.get(2)?;
    let last_seen: String = r.get(3)?;
    let seen_count: i64 = r.get(4)?;
    let last_checked_at: Option<String> = r.get(5)?;
    let last_online_at: Option<String> = r.get(6)?;
    let gone_at: Option<String> = r.get(7)?;
    let assigned_to: Option<String> = r.get(8)?;
    let verdict: Option<String> = r.get(9)?;
    Ok(serde_json::from_str::<Lead>(&json).map(|lead| LeadRow {
        lead,
        status: status.parse().unwrap_or(Status::New),
        first_seen,
        last_seen,
        seen_count,
        last_checked_at,
        last_online_at,
        gone_at,
        assigned_to,
        verdict: verdict.and_then(|v| v.parse().ok()),
    }))
}

/// Puts back the legal texts a stored lead was filed without (leads filed before texts
/// were stored apart still carry theirs).
fn fill_law_texts(conn: &Connection, lead: &mut Lead) -> anyhow::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT text FROM law_texts WHERE rules_version = ?1 AND law = ?2 AND article = ?3",
    )?;
    let version = lead.rules_version.clone();
    for r in lead.legal_basis.iter_mut().chain(lead.penalty.as_mut()) {
        if r.text.is_empty() {
            if let Some(t) = stmt
                .query_row(params![version, r.law, r.article], |row| row.get(0))
                .optional()?
            {
                r.text = t;
            }
        }
    }
    Ok(())
}

/// lead_id, posting_id, url, last_checked_at, lead_json.
type DueColumns = (String, String, String, Option<String>, String);

fn due_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<DueColumns> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// Adds the columns a database made by an older version lacks.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let mut have = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA table_info(leads)")?;
        let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
        for n in names {
            have.push(n?);
        }
    }
    for (name, ty) in LEAD_COLUMNS_ADDED {
        if !have.iter().any(|h| h == name) {
            conn.execute_batch(&format!("ALTER TABLE leads ADD COLUMN {name} {ty}"))?;
        }
    }
    // A false positive was a status; it is a verdict now, and the lead closed.
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS leads_recheck ON leads (status, gone_at, last_checked_at);
         UPDATE leads SET status = 'closed', verdict = 'false_positive' WHERE status = 'false_positive';",
    )
}

fn recheck_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Recheck> {
    let outcome: String = r.get(2)?;
    let present: Option<i64> = r.get(8)?;
    Ok(Recheck {
        lead_id: r.get(0)?,
        checked_at: r.get(1)?,
        outcome: outcome.parse().unwrap_or(RecheckOutcome::Error),
        http_status: r.get::<_, Option<i64>>(3)?.map(|s| s as u16),
        final_url: r.get(4)?,
        content_sha256: r.get(5)?,
        evidence: r.get(6)?,
        error: r.get(7)?,
        flagged_present: present.map(|p| p != 0),
        flagged_found: r.get::<_, Option<i64>>(9)?.map(|n| n as u32),
        flagged_total: r.get::<_, Option<i64>>(10)?.map(|n| n as u32),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use xuncha_core::{Finding, PostingRef, Span, LEAD_SCHEMA};

    pub(in crate::sqlite) fn lead(id: &str, url: Option<&str>, matched: &[&str]) -> Lead {
        Lead {
            schema: LEAD_SCHEMA.into(),
            lead_id: id.into(),
            category: Category::DiscriminationGender,
            severity: Severity::Illegal,
            score: 0.9,
            findings: matched
                .iter()
                .map(|m| Finding {
                    rule_id: "R".into(),
                    field: "description".into(),
                    span: Span::new(0, m.len()),
                    matched: (*m).into(),
                    context: (*m).into(),
                })
                .collect(),
            findings_unexamined: 0,
            legal_basis: vec![],
            penalty: None,
            posting: PostingRef {
                id: format!("p-{id}"),
                url: url.map(String::from),
                content_sha256: "ab".repeat(32),
                ..PostingRef::default()
            },
            detected_at: "2026-11-01T00:00:00Z".into(),
            rules_version: "t".into(),
            scanner_version: "t".into(),
            licence: None,
        }
    }

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    fn recheck(lead_id: &str, when: &str, outcome: RecheckOutcome) -> Recheck {
        Recheck {
            lead_id: lead_id.into(),
            checked_at: when.into(),
            outcome,
            http_status: Some(200),
            final_url: None,
            content_sha256: None,
            evidence: None,
            flagged_present: None,
            flagged_found: None,
            flagged_total: None,
            error: None,
        }
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn an_older_database_gains_the_recheck_columns_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // The leads table as it was before rechecks, with one lead in it.
            let conn = Connection::open(&path).unwrap();
            let before = SCHEMA
                .split("CREATE TABLE IF NOT EXISTS rechecks")
                .next()
                .unwrap();
            conn.execute_batch(before).unwrap();
            let json =
                serde_json::to_string(&lead("a", Some("http://x.example/1"), &["限男性"])).unwrap();
            conn.execute(
                "INSERT INTO leads (lead_id, posting_id, category, severity, severity_rank, score, url,
                                    rules_version, first_seen, last_seen, lead_json)
                 VALUES ('a', 'p-a', 'discrimination.gender', 'illegal', 3, 0.9, 'http://x.example/1',
                         't', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', ?1)",
                [json],
            )
            .unwrap();
        }
        let q = CaseQueue::open(&path).unwrap();
        let row = q.get("a").unwrap().expect("the old row is kept");
        assert_eq!(row.gone_at, None);
        assert_eq!(row.last_checked_at, None);
        let due = q
            .due_for_recheck(at("2026-11-02T00:00:00Z"), 3 * DAY, None)
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].flagged, vec!["限男性".to_string()]);
        // Opening again finds the columns there and adds nothing.
        drop(q);
        let q = CaseQueue::open(&path).unwrap();
        assert_eq!(q.count().unwrap(), 1);
    }

    #[test]
    fn due_leads_are_open_with_a_url_not_gone_and_not_checked_lately() {
        let dir = tempfile::tempdir().unwrap();
        let q = CaseQueue::open(dir.path().join("q.db")).unwrap();
        q.upsert(
            &[
                lead("open", Some("http://x.example/1"), &["限男性", "限男性"]),
                lead("closed", Some("http://x.example/2"), &["押金"]),
                lead("nourl", None, &["押金"]),
                lead("gone", Some("http://x.example/3"), &["押金"]),
            ],
            "2026-11-01T00:00:00Z",
        )
        .unwrap();
        q.change(
            "closed",
            &crate::sqlite::Change::Status(Status::Closed),
            "王敏",
            None,
            "2026-11-01T00:30:00Z",
        )
        .unwrap()
        .expect("the lead exists");
        for when in ["2026-11-01T01:00:00Z", "2026-11-01T02:00:00Z"] {
            assert!(q
                .record_recheck(&recheck("gone", when, RecheckOutcome::Gone))
                .unwrap());
        }
        let ids = |now: &str| -> Vec<String> {
            q.due_for_recheck(at(now), 3 * DAY, None)
                .unwrap()
                .into_iter()
                .map(|d| d.lead_id)
                .collect()
        };
        assert_eq!(ids("2026-11-01T02:00:00Z"), ["open"]);
        let due = q
            .due_for_recheck(at("2026-11-01T02:00:00Z"), 3 * DAY, None)
            .unwrap();
        assert_eq!(due[0].flagged, ["限男性"], "each flagged string once");

        q.record_recheck(&recheck(
            "open",
            "2026-11-01T02:00:00Z",
            RecheckOutcome::Online,
        ))
        .unwrap();
        assert!(ids("2026-11-03T02:00:00Z").is_empty(), "checked 2 days ago");
        assert_eq!(ids("2026-11-04T02:00:00Z"), ["open"], "checked 3 days ago");
        let row = q.get("open").unwrap().unwrap();
        assert_eq!(row.last_online_at.as_deref(), Some("2026-11-01T02:00:00Z"));
        let closed = q.due_lead("closed").unwrap().expect("asked for by id");
        assert_eq!(closed.flagged, ["押金"]);
        assert!(q.due_lead("nourl").unwrap().is_none());
        assert!(!q
            .record_recheck(&recheck(
                "nope",
                "2026-11-01T02:00:00Z",
                RecheckOutcome::Online
            ))
            .unwrap());
    }

    #[test]
    fn gone_at_is_set_once_and_history_keeps_every_recheck() {
        let dir = tempfile::tempdir().unwrap();
        let q = CaseQueue::open(dir.path().join("q.db")).unwrap();
        q.upsert(
            &[lead("a", Some("http://x.example/1"), &["限男性"])],
            "2026-11-01T00:00:00Z",
        )
        .unwrap();
        let steps = [
            ("2026-11-02T00:00:00Z", RecheckOutcome::Online),
            ("2026-11-03T00:00:00Z", RecheckOutcome::Error),
            ("2026-11-04T00:00:00Z", RecheckOutcome::Gone),
            ("2026-11-05T00:00:00Z", RecheckOutcome::Gone),
        ];
        for (when, outcome) in steps {
            q.record_recheck(&recheck("a", when, outcome)).unwrap();
        }
        let row = q.get("a").unwrap().unwrap();
        assert_eq!(row.gone_at.as_deref(), Some("2026-11-04T00:00:00Z"));
        assert_eq!(row.last_online_at.as_deref(), Some("2026-11-02T00:00:00Z"));
        assert_eq!(row.last_checked_at.as_deref(), Some("2026-11-05T00:00:00Z"));
        let h = q.history("a").unwrap();
        let got: Vec<(&str, RecheckOutcome)> = h
            .iter()
            .map(|r| (r.checked_at.as_str(), r.outcome))
            .collect();
        assert_eq!(got, steps);
        assert!(q.history("b").unwrap().is_empty());
    }

    #[test]
    fn legal_texts_are_stored_once_and_put_back_on_reading() {
        let dir = tempfile::tempdir().unwrap();
        let q = CaseQueue::open(dir.path().join("q.db")).unwrap();
        let text =
            "用人单位招用劳动者，不得扣押劳动者的居民身份证和其他证件，不得要求劳动者提供担保。"
                .repeat(10);
        let law = |article: &str| xuncha_core::LegalRef {
            key: article.into(),
            law: "中华人民共和国劳动合同法".into(),
            article: article.into(),
            text: text.clone(),
        };
        let leads: Vec<Lead> = (0..50)
            .map(|i| {
                let mut l = lead(&format!("l{i}"), None, &["押金"]);
                l.legal_basis = vec![law("第九条")];
                l.penalty = Some(law("第八十四条"));
                l
            })
            .collect();
        q.upsert(&leads, "2026-11-01T00:00:00Z").unwrap();
        let stored: i64 = q
            .conn()
            .query_row("SELECT SUM(LENGTH(lead_json)) FROM leads", [], |r| r.get(0))
            .unwrap();
        let one = serde_json::to_string(&leads[0]).unwrap().len() as i64;
        assert!(
            stored < 50 * (one - text.len() as i64),
            "texts repeated: {stored}"
        );
        let texts: i64 = q
            .conn()
            .query_row("SELECT COUNT(*) FROM law_texts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(texts, 2);
        assert_eq!(q.get("l7").unwrap().unwrap().lead, leads[7]);
        let listed = q.list(&Filter::default()).unwrap();
        assert!(listed.iter().all(|r| r.lead.legal_basis[0].text == text));
    }

    #[test]
    fn one_gone_is_not_gone_a_confirmed_absence_is() {
        let dir = tempfile::tempdir().unwrap();
        let q = CaseQueue::open(dir.path().join("q.db")).unwrap();
        q.upsert(
            &[lead("a", Some("http://x.example/1"), &["限男性"])],
            "2026-11-01T00:00:00Z",
        )
        .unwrap();
        let gone_at = |steps: &[(&str, RecheckOutcome)]| {
            for (when, outcome) in steps {
                q.record_recheck(&recheck("a", when, *outcome)).unwrap();
            }
            q.get("a").unwrap().unwrap().gone_at
        };
        use RecheckOutcome::*;
        assert_eq!(gone_at(&[("2026-11-02T00:00:00Z", Gone)]), None, "one 404");
        assert_eq!(
            gone_at(&[("2026-11-02T00:10:00Z", Gone)]),
            None,
            "too soon after"
        );
        assert_eq!(
            gone_at(&[
                ("2026-11-02T05:00:00Z", Online),
                ("2026-11-02T06:00:00Z", Gone)
            ]),
            None,
            "seen online again: the run starts anew"
        );
        assert_eq!(
            gone_at(&[
                ("2026-11-02T06:30:00Z", Error),
                ("2026-11-02T07:00:00Z", Gone)
            ]),
            Some("2026-11-02T06:00:00Z".to_string()),
            "confirmed an hour on; dated from the first of the run"
        );
        assert_eq!(
            gone_at(&[("2026-11-03T00:00:00Z", Gone)]),
            Some("2026-11-02T06:00:00Z".to_string()),
            "never moves again"
        );
    }

    #[test]
    fn times_are_second_precision_utc() {
        let t = at("2026-11-27T18:04:05.678+08:00");
        assert_eq!(format_time(t), "2026-11-27T10:04:05Z");
    }
}
