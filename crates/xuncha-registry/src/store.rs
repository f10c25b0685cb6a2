//! The registry on disk: one SQLite file beside the case queue (`data/registry.db`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::entry::{licence_key, Entry, Origin};
use crate::import::{read_file, ImportReport};
use crate::name::{has_trade_name, regions_compatible};
use crate::name::{keys, RegionTokens};
use crate::registry::{
    entry_regions, number_queries, one_organisation, sort_best_first, EntryKeys,
};
use crate::registry::{Match, MatchedBy, NumberQuery};
use crate::{Date, Registry, RegistryError};

/// Bumped whenever name or licence-number keys are computed differently, so that a file
/// written by an older version has its key columns recomputed on open.
const KEYS_VERSION: &str = "1";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agencies (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    name_norm    TEXT NOT NULL,
    name_bare    TEXT NOT NULL,
    credit_code  TEXT,
    licence_no   TEXT NOT NULL,
    licence_key  TEXT NOT NULL,
    scope        TEXT NOT NULL DEFAULT '',
    authority    TEXT NOT NULL DEFAULT '',
    valid_until  TEXT,
    region       TEXT NOT NULL DEFAULT '',
    source_file  TEXT,
    source_line  INTEGER,
    imported_at  INTEGER NOT NULL,
    UNIQUE (licence_key, name_norm)
);
CREATE INDEX IF NOT EXISTS agencies_name ON agencies (name);
CREATE INDEX IF NOT EXISTS agencies_name_norm ON agencies (name_norm);
CREATE INDEX IF NOT EXISTS agencies_name_bare ON agencies (name_bare);
CREATE INDEX IF NOT EXISTS agencies_credit_code ON agencies (credit_code);
CREATE INDEX IF NOT EXISTS agencies_licence_key ON agencies (licence_key);
"#;

const COLUMNS: &str = "name, credit_code, licence_no, scope, authority, valid_until, region, source_file, source_line";

/// The registry file. Importing the same list again updates its rows in place (a row is
/// identified by licence number and normalised name), so lists can be re-imported when
/// the authority republishes them.
///
/// ```
/// use xuncha_registry::RegistryStore;
/// let dir = tempfile::tempdir().unwrap();
/// let csv = dir.path().join("list.csv");
/// std::fs::write(&csv, "name,licence_no,scope\n示例人力资源有限公司,990100120105,网络招聘服务\n").unwrap();
/// let mut store = RegistryStore::open(dir.path().join("registry.db")).unwrap();
/// let report = store.import_file(&csv).unwrap();
/// assert_eq!(report.loaded, 1);
/// let registry = store.load().unwrap();
/// assert_eq!(registry.by_name("示例人力资源有限责任公司").len(), 1);
/// ```
pub struct RegistryStore {
    conn: Connection,
    path: PathBuf,
}

impl RegistryStore {
    /// Where the registry lives unless told otherwise.
    pub const DEFAULT_PATH: &'static str = "data/registry.db";

    /// Opens (creating if needed) the registry file, with its parent directory.
    pub fn open(path: impl AsRef<Path>) -> Result<RegistryStore, RegistryError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| RegistryError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let sql = |source| RegistryError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        let mut store = RegistryStore { conn, path };
        store.upgrade_keys()?;
        Ok(store)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> RegistryError + '_ {
        |source| RegistryError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn upgrade_keys(&mut self) -> Result<(), RegistryError> {
        let sql = |source| RegistryError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let version: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'keys_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        if version.as_deref() == Some(KEYS_VERSION) {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut read = tx
                .prepare("SELECT id, name, licence_no, region FROM agencies")
                .map_err(sql)?;
            let rows: Vec<(i64, String, String, String)> = read
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(sql)?
                .collect::<Result<_, _>>()
                .map_err(sql)?;
            let mut write = tx
                .prepare(
                    "UPDATE OR REPLACE agencies SET name_norm = ?2, name_bare = ?3, licence_key = ?4 WHERE id = ?1",
                )
                .map_err(sql)?;
            let mut tokens: HashMap<String, RegionTokens> = HashMap::new();
            for (id, name, no, region) in rows {
                let t = tokens
                    .entry(region.clone())
                    .or_insert_with(|| RegionTokens::from_regions([region.as_str()]));
                let k = keys(&name, t);
                write
                    .execute(params![id, k.norm, k.bare, licence_key(&no)])
                    .map_err(sql)?;
            }
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('keys_version', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [KEYS_VERSION],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// Reads a list ([`read_file`](crate::read_file)) and stores its rows in one
    /// transaction.
    pub fn import_file(&mut self, path: &Path) -> Result<ImportReport, RegistryError> {
        let (entries, report) = read_file(path)?;
        self.insert(&entries)?;
        Ok(report)
    }

    /// Stores entries (inserting new ones, updating known ones) in one transaction.
    /// Returns how many rows were written.
    pub fn insert(&mut self, entries: &[Entry]) -> Result<usize, RegistryError> {
        let path = self.path.clone();
        let sql = |source| RegistryError::Sqlite {
            path: path.clone(),
            source,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let tx = self.conn.transaction().map_err(sql)?;
        let mut n = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO agencies (name, name_norm, name_bare, credit_code, licence_no, licence_key,
                                           scope, authority, valid_until, region, source_file, source_line, imported_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                     ON CONFLICT (licence_key, name_norm) DO UPDATE SET
                         name = excluded.name, name_bare = excluded.name_bare, credit_code = excluded.credit_code,
                         licence_no = excluded.licence_no, scope = excluded.scope, authority = excluded.authority,
                         valid_until = excluded.valid_until, region = excluded.region,
                         source_file = excluded.source_file, source_line = excluded.source_line,
                         imported_at = excluded.imported_at",
                )
                .map_err(sql)?;
            let mut keys_of = EntryKeys::default();
            for e in entries {
                let k = keys_of.of(e);
                n += stmt
                    .execute(params![
                        e.name(),
                        k.norm,
                        k.bare,
                        e.credit_code(),
                        e.licence_no(),
                        licence_key(e.licence_no()),
                        e.scope(),
                        e.authority(),
                        e.valid_until().map(|d| d.to_string()),
                        e.region(),
                        e.origin().map(|o| o.file.to_string()),
                        e.origin().map(|o| o.line as i64),
                        now,
                    ])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(n)
    }

    /// Number of entries.
    pub fn len(&self) -> Result<usize, RegistryError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM agencies", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(self.sql())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> Result<bool, RegistryError> {
        self.len().map(|n| n == 0)
    }

    /// Every entry, indexed in memory.
    pub fn load(&self) -> Result<Registry, RegistryError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM agencies ORDER BY id"))
            .map_err(self.sql())?;
        let mut files: Vec<Arc<str>> = Vec::new();
        let entries = stmt
            .query_map([], |r| row_entry(r, &mut files))
            .map_err(self.sql())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql())?;
        Ok(Registry::from_entries(entries))
    }

    fn select(&self, filter: &str, arg: &str) -> Result<Vec<Entry>, RegistryError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT DISTINCT {COLUMNS} FROM agencies WHERE {filter} ORDER BY id"
            ))
            .map_err(self.sql())?;
        let mut files = Vec::new();
        let rows = stmt
            .query_map([arg], |r| row_entry(r, &mut files))
            .map_err(self.sql())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql())?;
        Ok(rows)
    }

    /// Looks `query` up through the SQL indexes, as [`Registry::lookup`] does in memory,
    /// without loading the registry: for one-off lookups.
    pub fn lookup(&self, query: &str) -> Result<Vec<(Entry, MatchedBy)>, RegistryError> {
        for q in number_queries(query) {
            let (found, by) = match q {
                NumberQuery::Licence(no) => (
                    self.select("licence_key = ?1", &licence_key(&no))?,
                    MatchedBy::LicenceNo,
                ),
                NumberQuery::CreditCode(c) => (
                    self.select("credit_code = ?1", &c.to_ascii_uppercase())?,
                    MatchedBy::CreditCode,
                ),
            };
            if !found.is_empty() {
                return Ok(owned(found, |_| by));
            }
        }
        let regions: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT DISTINCT region FROM agencies")
                .map_err(self.sql())?;
            let rows = stmt
                .query_map([], |r| r.get(0))
                .map_err(self.sql())?
                .collect::<Result<_, _>>()
                .map_err(self.sql())?;
            rows
        };
        let k = keys(
            query,
            &RegionTokens::from_regions(regions.iter().map(|s| s.as_str())),
        );
        let exact = query.trim().to_string();
        let found = self.select("name_norm = ?1", &k.norm)?;
        if !found.is_empty() {
            let mut out = owned(found, |e| {
                if e.name() == exact {
                    MatchedBy::ExactName
                } else if k.branch {
                    MatchedBy::Branch
                } else {
                    MatchedBy::NormalisedName
                }
            });
            out.sort_by_key(|(_, by)| *by != MatchedBy::ExactName);
            return Ok(out);
        }
        if !has_trade_name(&k.bare) {
            return Ok(Vec::new());
        }
        let mut found = self.select("name_norm = ?1 OR name_bare = ?1", &k.bare)?;
        found.retain(|e| regions_compatible(&k.regions, &entry_regions(e)));
        let ms: Vec<Match<'_>> = found
            .iter()
            .map(|entry| Match {
                entry,
                matched_by: MatchedBy::NameWithoutRegion,
            })
            .collect();
        if !one_organisation(&ms) {
            return Ok(Vec::new());
        }
        Ok(owned(found, |_| MatchedBy::NameWithoutRegion))
    }
}

/// Entries with how each matched, best first.
fn owned(found: Vec<Entry>, by: impl Fn(&Entry) -> MatchedBy) -> Vec<(Entry, MatchedBy)> {
    let mut ms: Vec<Match<'_>> = found
        .iter()
        .map(|entry| Match {
            entry,
            matched_by: by(entry),
        })
        .collect();
    sort_best_first(&mut ms);
    ms.into_iter()
        .map(|m| (m.entry.clone(), m.matched_by))
        .collect()
}

fn row_entry(r: &Row<'_>, files: &mut Vec<Arc<str>>) -> rusqlite::Result<Entry> {
    let bad = |i: usize, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e)
    };
    let name: String = r.get(0)?;
    let licence: String = r.get(2)?;
    let mut e = Entry::new(&name, &licence).map_err(|e| bad(0, Box::new(e)))?;
    let code: Option<String> = r.get(1)?;
    let valid: Option<String> = r.get(5)?;
    let valid_until = valid
        .map(|v| v.parse::<Date>())
        .transpose()
        .map_err(|e| bad(5, Box::new(e)))?;
    e = e
        .with_credit_code(code.as_deref().unwrap_or(""))
        .with_scope(&r.get::<_, String>(3)?)
        .with_authority(&r.get::<_, String>(4)?)
        .with_valid_until(valid_until)
        .with_region(&r.get::<_, String>(6)?);
    let file: Option<String> = r.get(7)?;
    let line: Option<i64> = r.get(8)?;
    if let (Some(file), Some(line)) = (file, line) {
        // Consecutive rows mostly come from the same file: share its name.
        let file = match files.last() {
            Some(f) if **f == *file => f.clone(),
            _ => {
                let f: Arc<str> = Arc::from(file);
                files.push(f.clone());
                f
            }
        };
        e = e.with_origin(Origin {
            file,
            line: line as u64,
        });
    }
    Ok(e)
}
