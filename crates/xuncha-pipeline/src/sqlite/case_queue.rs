use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use xuncha_core::{Category, Lead, Severity};

use crate::record::DeadLetter;

/// Where an analyst has put a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not looked at yet.
    New,
    /// Someone is on it.
    Assigned,
    /// Dealt with.
    Closed,
    /// Not a violation.
    FalsePositive,
}

impl Status {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::Closed => "closed",
            Status::FalsePositive => "false_positive",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "new" => Ok(Status::New),
            "assigned" => Ok(Status::Assigned),
            "closed" => Ok(Status::Closed),
            "false_positive" => Ok(Status::FalsePositive),
            _ => Err(format!(
                "unknown status `{s}` (new, assigned, closed, false_positive)"
            )),
        }
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
    /// Only leads first seen at or after this time (RFC 3339 or a date).
    pub since: Option<String>,
    /// Only leads first seen before this time.
    pub until: Option<String>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

/// The SQLite case queue.
pub struct CaseQueue {
    conn: Mutex<Connection>,
    path: PathBuf,
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
"#;

fn rank(s: Severity) -> i64 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

impl CaseQueue {
    /// Opens (creating if needed) the queue at `path`, with its parent directory.
    pub fn open(path: impl AsRef<Path>) -> anyhow::Result<CaseQueue> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn =
            Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("schema of {}", path.display()))?;
        Ok(CaseQueue {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
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
                 RETURNING seen_count",
            )?;
            for l in leads {
                let json = serde_json::to_string(l)?;
                let count: i64 = stmt.query_row(
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
                    |r| r.get(0),
                )?;
                if count == 1 {
                    new += 1;
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
        let mut sql = String::from(
            "SELECT lead_json, status, first_seen, last_seen, seen_count FROM leads WHERE 1 = 1",
        );
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
        rows.map(|r| r?.map_err(anyhow::Error::from)).collect()
    }

    /// One lead.
    pub fn get(&self, lead_id: &str) -> anyhow::Result<Option<LeadRow>> {
        let conn = self.conn();
        let r = conn
            .query_row(
                "SELECT lead_json, status, first_seen, last_seen, seen_count FROM leads WHERE lead_id = ?1",
                [lead_id],
                row,
            )
            .optional()?;
        r.transpose().map_err(anyhow::Error::from)
    }

    /// Sets a lead's status; false if there is no such lead.
    pub fn set_status(&self, lead_id: &str, status: Status) -> anyhow::Result<bool> {
        let n = self.conn().execute(
            "UPDATE leads SET status = ?2 WHERE lead_id = ?1",
            params![lead_id, status.as_str()],
        )?;
        Ok(n == 1)
    }

    /// Number of leads.
    pub fn count(&self) -> anyhow::Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM leads", [], |r| r.get::<_, i64>(0))? as u64)
    }
}

type RowResult = Result<LeadRow, serde_json::Error>;

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowResult> {
    let json: String = r.get(0)?;
    let status: String = r.get(1)?;
    let first_seen: String = r.get(2)?;
    let last_seen: String = r.get(3)?;
    let seen_count: i64 = r.get(4)?;
    Ok(serde_json::from_str::<Lead>(&json).map(|lead| LeadRow {
        lead,
        status: status.parse().unwrap_or(Status::New),
        first_seen,
        last_seen,
        seen_count,
    }))
}
