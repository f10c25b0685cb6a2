//! A store of each database for the same test: a SQLite file in a temporary folder and a
//! PostgreSQL database in a throwaway cluster, with ways to look behind the store's back.

#![allow(dead_code)]

use xuncha_cases::{CaseQueue, Location};

use super::postgres::Postgres;

/// A store under test, with what keeps its database alive.
pub struct Store {
    pub name: &'static str,
    pub q: CaseQueue,
    pub location: Location,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<Postgres>,
}

impl Store {
    /// Runs a statement behind the store's back, as someone with the database's password
    /// might.
    pub fn raw(&self, sql: &str) -> Result<u64, String> {
        match &self.location {
            Location::Sqlite(p) => rusqlite::Connection::open(p)
                .and_then(|c| c.execute(sql, []))
                .map(|n| n as u64)
                .map_err(|e| e.to_string()),
            Location::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
                .and_then(|mut c| c.execute(sql, &[]))
                .map_err(|e| format!("{e:?}")),
        }
    }

    pub fn scalar(&self, sql: &str) -> i64 {
        match &self.location {
            Location::Sqlite(p) => rusqlite::Connection::open(p)
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
            Location::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .query_one(sql, &[])
                .unwrap()
                .get(0),
        }
    }

    /// Every value of one text column, as someone reading the database directly sees it.
    pub fn column(&self, sql: &str) -> Vec<String> {
        match &self.location {
            Location::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                let mut stmt = c.prepare(sql).unwrap();
                let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
                rows.map(Result::unwrap).collect()
            }
            Location::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect(),
        }
    }

    /// Another handle on the same database, as a second process would open it.
    pub fn reopen(&self) -> CaseQueue {
        CaseQueue::open_at(&self.location).unwrap()
    }
}

pub fn sqlite() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::Sqlite(dir.path().join("q.db"));
    Store {
        name: "sqlite",
        q: CaseQueue::open_at(&location).unwrap(),
        location,
        _dir: Some(dir),
        _pg: None,
    }
}

pub fn postgres() -> Store {
    let pg = Postgres::start();
    let location = Location::Postgres(pg.new_database());
    Store {
        name: "postgres",
        q: CaseQueue::open_at(&location).unwrap(),
        location,
        _dir: None,
        _pg: Some(pg),
    }
}

/// Runs `test` on a fresh store of each database.
pub fn on_both(test: impl Fn(&Store)) {
    for s in [sqlite(), postgres()] {
        eprintln!("-- {}", s.name);
        test(&s);
    }
}
