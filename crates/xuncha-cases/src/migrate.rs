//! Versioned migrations of the case store (refinery), one folder a database:
//! `migrations/sqlite/` and `migrations/postgres/`, `V<n>__<what>.sql`, applied in order on
//! open, each recorded in `refinery_schema_history`. A database that has a migration this
//! binary does not know was made by a newer xuncha, and is refused rather than written
//! with an older idea of its tables.

use anyhow::Context;
use refinery::Migration;
use refinery_core::traits::sync::{Migrate, Query, Transaction};
use rusqlite::Connection;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

mod sqlite_migrations {
    refinery::embed_migrations!("migrations/sqlite");
}
mod postgres_migrations {
    refinery::embed_migrations!("migrations/postgres");
}

/// Columns added to `leads` by releases before migrations were versioned; a database of
/// such a release gets them before its first versioned migration, with its rows kept.
const LEAD_COLUMNS_BEFORE_VERSIONING: &[(&str, &str)] = &[
    ("last_checked_at", "TEXT"),
    ("last_online_at", "TEXT"),
    ("gone_at", "TEXT"),
    ("assigned_to", "TEXT"),
    ("verdict", "TEXT"),
];

/// Applies the SQLite migrations `conn` lacks.
pub(crate) fn sqlite(conn: &mut Connection) -> anyhow::Result<()> {
    let versioned: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'refinery_schema_history'",
        [],
        |r| r.get(0),
    )?;
    if !versioned {
        add_columns_of_unversioned_releases(conn)?;
    }
    let runner = sqlite_migrations::migrations::runner().set_abort_missing(true);
    refuse_newer(runner.get_applied_migrations(&mut Sqlite(conn)), &runner)?;
    runner.run(&mut Sqlite(conn))?;
    Ok(())
}

/// Applies the PostgreSQL migrations the database lacks.
pub(crate) fn postgres(client: &mut postgres::Client) -> anyhow::Result<()> {
    // Several processes (two filers, an analyst's command) may open a new database at
    // once; one migrates while the others wait, then find nothing left to do.
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let result = (|| {
        let runner = postgres_migrations::migrations::runner().set_abort_missing(true);
        refuse_newer(runner.get_applied_migrations(client), &runner)?;
        runner.run(client)?;
        anyhow::Ok(())
    })();
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
    result
}

/// The advisory lock key migrations take (any fixed number no other program uses).
const MIGRATION_LOCK: i64 = 0x7875_6e63_6861; // "xuncha"

/// The newest migration this binary knows (for messages and tests).
pub fn latest_version() -> i64 {
    sqlite_migrations::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

fn refuse_newer(
    applied: Result<Vec<Migration>, refinery::Error>,
    runner: &refinery::Runner,
) -> anyhow::Result<()> {
    let known = runner
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0);
    // No history table yet is a new database, not an error.
    let Ok(applied) = applied else { return Ok(()) };
    if let Some(newest) = applied.iter().map(|m| i64::from(m.version())).max() {
        anyhow::ensure!(
            newest <= known,
            "this database is at schema version {newest}, newer than this xuncha knows ({known}): \
             it was written by a newer release; run that release (or a newer one) on it"
        );
    }
    Ok(())
}

/// Adds what releases before versioned migrations added by hand.
fn add_columns_of_unversioned_releases(conn: &Connection) -> anyhow::Result<()> {
    let mut have = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA table_info(leads)")?;
        let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
        for n in names {
            have.push(n?);
        }
    }
    // A new file has no leads table; its first migration makes it whole.
    if have.is_empty() {
        return Ok(());
    }
    for (name, ty) in LEAD_COLUMNS_BEFORE_VERSIONING {
        if !have.iter().any(|h| h == name) {
            conn.execute_batch(&format!("ALTER TABLE leads ADD COLUMN {name} {ty}"))
                .with_context(|| format!("adding leads.{name}"))?;
        }
    }
    Ok(())
}

/// refinery's SQLite driver, for the rusqlite this workspace builds (refinery's own
/// driver is tied to older rusqlite releases).
struct Sqlite<'a>(&'a mut Connection);

impl Transaction for Sqlite<'_> {
    type Error = rusqlite::Error;

    fn execute<'a, T: Iterator<Item = &'a str>>(
        &mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let tx = self.0.transaction()?;
        let mut count = 0;
        for q in queries {
            tx.execute_batch(q)?;
            count += 1;
        }
        tx.commit()?;
        Ok(count)
    }
}

impl Query<Vec<Migration>> for Sqlite<'_> {
    fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let mut stmt = self.0.prepare(query)?;
        let mut rows = stmt.query([])?;
        let mut applied = Vec::new();
        while let Some(row) = rows.next()? {
            let version: i32 = row.get(0)?;
            let name: String = row.get(1)?;
            let on: String = row.get(2)?;
            let checksum: String = row.get(3)?;
            let on = OffsetDateTime::parse(&on, &Rfc3339).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            let checksum = checksum.parse::<u64>().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    3,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            applied.push(Migration::applied(version, name, on, checksum));
        }
        Ok(applied)
    }
}

impl Migrate for Sqlite<'_> {}
