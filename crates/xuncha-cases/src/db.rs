//! The two databases behind one case store: SQLite (one file, the embedded default) and
//! PostgreSQL (a team's shared queue, pooled).
//!
//! The store's queries are written once, with `$1`-style parameters, against [`Tx`]; each
//! database runs them in a transaction of its own kind. The SQL both accept is the common
//! part of the two dialects (`ON CONFLICT … DO NOTHING`, `RETURNING`, `CASE`), so nothing
//! is written twice but the schema, which lives in each database's migrations.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use r2d2_postgres::{postgres::NoTls, PostgresConnectionManager};

/// A value going into or coming out of a query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    pub(crate) fn text(self) -> anyhow::Result<String> {
        match self {
            Value::Text(s) => Ok(s),
            other => anyhow::bail!("expected text, found {other:?}"),
        }
    }

    pub(crate) fn opt_text(self) -> anyhow::Result<Option<String>> {
        match self {
            Value::Null => Ok(None),
            v => v.text().map(Some),
        }
    }

    pub(crate) fn int(self) -> anyhow::Result<i64> {
        match self {
            Value::Int(i) => Ok(i),
            other => anyhow::bail!("expected an integer, found {other:?}"),
        }
    }

    pub(crate) fn opt_int(self) -> anyhow::Result<Option<i64>> {
        match self {
            Value::Null => Ok(None),
            v => v.int().map(Some),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Real(x)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Int(i64::from(b))
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// One row of a result, its columns in the order the query named them.
pub(crate) type Row = std::vec::IntoIter<Value>;

/// Takes the next column of a row.
pub(crate) fn col(r: &mut Row) -> anyhow::Result<Value> {
    r.next()
        .context("a query returned fewer columns than it named")
}

/// What the store's queries run in: one transaction.
pub(crate) trait Tx {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, args: &[Value]) -> anyhow::Result<u64>;
    /// Runs a query; its rows.
    fn query(&mut self, sql: &str, args: &[Value]) -> anyhow::Result<Vec<Row>>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, args: &[Value]) -> anyhow::Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }
}

/// `$1`, `$2` … as SQLite writes them (`?1`, `?2` …): the queries use PostgreSQL's form,
/// which SQLite reads as named parameters, not numbered ones.
fn sqlite_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

struct SqliteTx<'a>(rusqlite::Transaction<'a>);

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value as V};
        Ok(ToSqlOutput::Owned(match self {
            Value::Null => V::Null,
            Value::Int(i) => V::Integer(*i),
            Value::Real(x) => V::Real(*x),
            Value::Text(s) => V::Text(s.clone()),
        }))
    }
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, args: &[Value]) -> anyhow::Result<u64> {
        let mut stmt = self.0.prepare_cached(&sqlite_params(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(args))? as u64)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> anyhow::Result<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(&sqlite_params(sql))?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(x) => Value::Real(x),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
                });
            }
            out.push(row.into_iter());
        }
        Ok(out)
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::FLOAT8 => (*i as f64).to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Real(x) => x.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in to_sql, which knows which variant it holds.
        true
    }

    to_sql_checked!();
}

struct PgTx<'a>(postgres::Transaction<'a>);

fn pg_args(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Tx for PgTx<'_> {
    fn exec(&mut self, sql: &str, args: &[Value]) -> anyhow::Result<u64> {
        let stmt = self.0.prepare(sql)?;
        Ok(self.0.execute(&stmt, &pg_args(args))?)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> anyhow::Result<Vec<Row>> {
        let stmt = self.0.prepare(sql)?;
        let rows = self.0.query(&stmt, &pg_args(args))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut row = Vec::with_capacity(r.len());
            for (i, c) in r.columns().iter().enumerate() {
                let t = c.type_();
                row.push(if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?
                        .map_or(Value::Null, Value::Int)
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)?
                        .map_or(Value::Null, |v| Value::Int(v.into()))
                } else if *t == Type::FLOAT8 {
                    r.try_get::<_, Option<f64>>(i)?
                        .map_or(Value::Null, Value::Real)
                } else if *t == Type::BOOL {
                    r.try_get::<_, Option<bool>>(i)?
                        .map_or(Value::Null, |b| Value::Int(b.into()))
                } else {
                    r.try_get::<_, Option<String>>(i)?
                        .map_or(Value::Null, Value::Text)
                });
            }
            out.push(row.into_iter());
        }
        Ok(out)
    }
}

/// How long a lost PostgreSQL connection is retried before the operation fails (and the
/// caller, the scan loop or the filer, retries the whole batch).
const PG_RETRY_FOR: Duration = Duration::from_secs(30);

/// Runs `attempt` again, with a growing pause, while it fails because PostgreSQL cannot be
/// reached (stopped, restarting, the network gone), for at most [`PG_RETRY_FOR`]; any
/// other failure, or one that outlasts that, is returned.
pub(crate) fn retry_while_unreachable<R>(
    mut attempt: impl FnMut() -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let start = std::time::Instant::now();
    let mut wait = Duration::from_millis(100);
    loop {
        match attempt() {
            Err(e) if connection_lost(&e) && start.elapsed() < PG_RETRY_FOR => {
                tracing::warn!(error = %format!("{e:#}"), "case store: PostgreSQL unreachable; retrying");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// The database of a case store.
pub(crate) enum Db {
    /// The connection that writes, and read-only ones for reads (WAL lets them read
    /// beside the writer and beside each other).
    Sqlite(Mutex<rusqlite::Connection>, Readers),
    Postgres(PgPool),
}

/// Read-only SQLite connections: a slow count on one does not hold up a page read on
/// another, nor wait for a writer (`xuncha run`, a filer) to commit.
pub(crate) struct Readers {
    conns: Vec<Mutex<rusqlite::Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

/// Read-only connections a process keeps to a SQLite case store.
const SQLITE_READERS: usize = 4;

impl Readers {
    /// Read-only connections to the (already migrated) database at `path`.
    pub(crate) fn open(path: &std::path::Path) -> anyhow::Result<Readers> {
        let conns = (0..SQLITE_READERS)
            .map(|_| {
                let c = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .with_context(|| format!("opening {} to read", path.display()))?;
                c.busy_timeout(Duration::from_secs(10))?;
                Ok(Mutex::new(c))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Readers {
            conns,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// A free connection, else the next one in turn once it is free.
    fn get(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        for c in &self.conns {
            if let Ok(g) = c.try_lock() {
                return g;
            }
        }
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.conns.len();
        xuncha_core::lock(&self.conns[i])
    }
}

/// A PostgreSQL connection pool that may be dropped anywhere. Closing a synchronous client
/// blocks on a runtime of its own, which panics on a thread that drives async tasks (where
/// a store held by an async service is dropped at shutdown); so the pool is closed on a
/// thread of its own.
pub(crate) struct PgPool(Option<r2d2::Pool<PostgresConnectionManager<NoTls>>>);

impl std::ops::Deref for PgPool {
    type Target = r2d2::Pool<PostgresConnectionManager<NoTls>>;
    fn deref(&self) -> &Self::Target {
        self.0
            .as_ref()
            .expect("the pool lives until the store is dropped")
    }
}

impl Drop for PgPool {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

/// Whether an error means the PostgreSQL connection went away (worth a retry on a new
/// one), not that the statement was wrong.
fn connection_lost(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        if let Some(pg) = c.downcast_ref::<postgres::Error>() {
            return pg.is_closed()
                || pg.code().is_some_and(|code| {
                    // Server shutting down, crash recovery, cannot connect now.
                    matches!(
                        code.code(),
                        "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006"
                    )
                })
                || pg.code().is_none() && pg.as_db_error().is_none();
        }
        c.downcast_ref::<r2d2::Error>().is_some()
    })
}

/// Runs `f` in a transaction of `behaviour` on `conn` and commits it.
fn sqlite_tx<R>(
    conn: &mut rusqlite::Connection,
    behaviour: rusqlite::TransactionBehavior,
    mut f: impl FnMut(&mut dyn Tx) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let mut t = SqliteTx(conn.transaction_with_behavior(behaviour)?);
    let r = f(&mut t)?;
    t.0.commit()?;
    Ok(r)
}

impl Db {
    /// Runs `f` in one transaction and commits it. SQLite takes the write lock at the
    /// start (`BEGIN IMMEDIATE`), so two writers queue instead of one failing half-way;
    /// PostgreSQL rows are locked by the queries that read them `FOR UPDATE`. A PostgreSQL
    /// connection lost before the commit is retried on a new one, the whole transaction
    /// again.
    pub(crate) fn tx<R>(
        &self,
        mut f: impl FnMut(&mut dyn Tx) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        match self {
            Db::Sqlite(conn, _) => sqlite_tx(
                &mut xuncha_core::lock(conn),
                rusqlite::TransactionBehavior::Immediate,
                f,
            ),
            Db::Postgres(pool) => retry_while_unreachable(|| {
                let mut client = pool.get()?;
                let tx = client.transaction()?;
                let mut t = PgTx(tx);
                let r = f(&mut t)?;
                t.0.commit()?;
                Ok(r)
            }),
        }
    }

    /// Runs `f`, which only reads, in one transaction: on SQLite a read-only connection
    /// whose snapshot is taken at its first read (no write lock); on PostgreSQL as
    /// [`Db::tx`].
    pub(crate) fn read<R>(
        &self,
        f: impl FnMut(&mut dyn Tx) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        match self {
            Db::Sqlite(_, readers) => sqlite_tx(
                &mut readers.get(),
                rusqlite::TransactionBehavior::Deferred,
                f,
            ),
            Db::Postgres(_) => self.tx(f),
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }
}

/// Where a case store lives, as the `db` setting names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file: a plain path or `sqlite://path`.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database: `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Location {
    /// Reads the `db` setting.
    ///
    /// ```
    /// use xuncha_cases::Location;
    /// assert_eq!(Location::parse("data/xuncha.db"), Location::Sqlite("data/xuncha.db".into()));
    /// assert_eq!(Location::parse("sqlite://data/x.db"), Location::Sqlite("data/x.db".into()));
    /// assert!(matches!(Location::parse("postgres://xuncha@db:5432/cases"), Location::Postgres(_)));
    /// ```
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres(s.to_owned())
        } else {
            Location::Sqlite(s.strip_prefix("sqlite://").unwrap_or(s).into())
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            // Never print a password that the URL may carry.
            Location::Postgres(url) => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    write!(f, "{u}")
                }
                Err(_) => f.write_str("postgres://(unreadable URL)"),
            },
        }
    }
}

/// Connections a process keeps to PostgreSQL: the scan loop files on one, analysts'
/// commands use one each; a few more absorb a recheck running beside them.
const PG_POOL_SIZE: u32 = 8;

pub(crate) fn open_postgres(url: &str) -> anyhow::Result<Db> {
    let config: postgres::Config = url.parse().context("reading the PostgreSQL URL")?;
    let manager = PostgresConnectionManager::new(config, NoTls);
    let pool = r2d2::Pool::builder()
        .max_size(PG_POOL_SIZE)
        .connection_timeout(Duration::from_secs(10))
        // Unreachable-database errors are logged once per retry by the store, not once per
        // connection attempt by the pool.
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build(manager)
        .context("connecting to PostgreSQL")?;
    Ok(Db::Postgres(PgPool(Some(pool))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_are_rewritten_for_sqlite_and_nothing_else() {
        assert_eq!(
            sqlite_params("SELECT a FROM t WHERE b = $1 AND c = $12 AND d = '$x'"),
            "SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = '$x'"
        );
    }

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        let l = Location::parse("postgres://xuncha:s3cret@db.example:5432/cases");
        let shown = l.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example:5432/cases"), "{shown}");
    }
}
