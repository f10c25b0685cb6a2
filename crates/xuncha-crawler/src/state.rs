//! Crawl state in SQLite (the same file family as the embedded case queue): what each
//! page looked like when last fetched, and the frontier of any unfinished pass, so a
//! restarted crawler resumes where it stopped.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::fetch::Validators;
use crate::politeness::lock;
use xuncha_core::{FrontierEntry, PageKind};

/// What a page looked like when it was last fetched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PageRecord {
    pub validators: Validators,
    pub content_sha256: Option<String>,
    /// Unix seconds.
    pub fetched_at: i64,
}

/// A crawl-state database.
///
/// Statements are microseconds long, so callers on the async runtime use it directly
/// behind a mutex rather than paying a thread hop for each.
pub struct CrawlState {
    conn: Mutex<Connection>,
}

/// A crawl-state database that could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[error("crawl state: {0}")]
pub struct StateError(#[from] rusqlite::Error);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pages (
    url            TEXT PRIMARY KEY,   -- canonical URL
    site           TEXT NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    content_sha256 TEXT,
    fetched_at     INTEGER NOT NULL    -- unix seconds
);
CREATE TABLE IF NOT EXISTS frontier (
    site  TEXT NOT NULL,
    url   TEXT NOT NULL,
    host  TEXT NOT NULL,
    kind  INTEGER NOT NULL,            -- 0 list, 1 posting
    done  INTEGER NOT NULL DEFAULT 0,   -- rowid keeps discovery order
    PRIMARY KEY (site, url)
);
";

impl CrawlState {
    /// Opens (creating if needed, with its directory) the database at `path`.
    pub fn open(path: &Path) -> Result<CrawlState, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing directory surfaces as SQLite's own "unable to open" below.
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        // WAL without a sync per commit: a crash may lose the last few records, which
        // only means re-fetching a few pages; it never corrupts the file.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        CrawlState::init(conn)
    }

    /// A database in memory (tests, one-off crawls).
    pub fn open_in_memory() -> Result<CrawlState, StateError> {
        CrawlState::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<CrawlState, StateError> {
        conn.execute_batch(SCHEMA)?;
        Ok(CrawlState {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn page(&self, url: &str) -> Result<Option<PageRecord>, StateError> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "SELECT etag, last_modified, content_sha256, fetched_at FROM pages WHERE url = ?1",
        )?;
        Ok(stmt
            .query_row([url], |r| {
                Ok(PageRecord {
                    validators: Validators {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    },
                    content_sha256: r.get(2)?,
                    fetched_at: r.get(3)?,
                })
            })
            .optional()?)
    }

    pub(crate) fn record_page(
        &self,
        url: &str,
        site: &str,
        rec: &PageRecord,
    ) -> Result<(), StateError> {
        let conn = lock(&self.conn);
        conn.prepare_cached(
            "INSERT INTO pages (url, site, etag, last_modified, content_sha256, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(url) DO UPDATE SET site = ?2, etag = ?3, last_modified = ?4,
                 content_sha256 = ?5, fetched_at = ?6",
        )?
        .execute(params![
            url,
            site,
            rec.validators.etag,
            rec.validators.last_modified,
            rec.content_sha256,
            rec.fetched_at
        ])?;
        Ok(())
    }

    pub(crate) fn touch_page(&self, url: &str, fetched_at: i64) -> Result<(), StateError> {
        let conn = lock(&self.conn);
        conn.prepare_cached("UPDATE pages SET fetched_at = ?2 WHERE url = ?1")?
            .execute(params![url, fetched_at])?;
        Ok(())
    }

    /// The unfinished pass of `site`: `None` if there is none, else its pending entries
    /// in discovery order.
    pub(crate) fn frontier_pending(
        &self,
        site: &str,
    ) -> Result<Option<Vec<FrontierEntry>>, StateError> {
        let conn = lock(&self.conn);
        let any: bool = conn
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM frontier WHERE site = ?1)")?
            .query_row([site], |r| r.get(0))?;
        if !any {
            return Ok(None);
        }
        let mut stmt = conn.prepare_cached(
            "SELECT url, host, kind FROM frontier WHERE site = ?1 AND done = 0 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([site], |r| {
            Ok(FrontierEntry {
                site: site.to_owned(),
                url: r.get(0)?,
                host: r.get(1)?,
                kind: if r.get::<_, i64>(2)? == 0 {
                    PageKind::List
                } else {
                    PageKind::Posting
                },
            })
        })?;
        Ok(Some(rows.collect::<Result<_, _>>()?))
    }

    /// Adds entries not yet seen in this pass; returns those that were new.
    pub(crate) fn frontier_add(
        &self,
        entries: Vec<FrontierEntry>,
    ) -> Result<Vec<FrontierEntry>, StateError> {
        let mut conn = lock(&self.conn);
        let tx = conn.transaction()?;
        let mut fresh = Vec::with_capacity(entries.len());
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO frontier (site, url, host, kind) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in entries {
                let kind = match e.kind {
                    PageKind::List => 0,
                    PageKind::Posting => 1,
                };
                if stmt.execute(params![e.site, e.url, e.host, kind])? == 1 {
                    fresh.push(e);
                }
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    pub(crate) fn frontier_done(&self, site: &str, url: &str) -> Result<(), StateError> {
        let conn = lock(&self.conn);
        conn.prepare_cached("UPDATE frontier SET done = 1 WHERE site = ?1 AND url = ?2")?
            .execute(params![site, url])?;
        Ok(())
    }

    pub(crate) fn frontier_clear(&self, site: &str) -> Result<(), StateError> {
        let conn = lock(&self.conn);
        conn.prepare_cached("DELETE FROM frontier WHERE site = ?1")?
            .execute([site])?;
        Ok(())
    }
}
