//! Console accounts and their sessions.
//!
//! Passwords are kept as argon2id PHC strings; a session is kept under the SHA-256 of its
//! random token, so the database alone (a backup, a read-only replica) opens no session.
//! A disabled account keeps its row, because events name it as their actor, and loses
//! its sessions at once.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db::col;
use crate::events::MAX_ACTOR_CHARS;
use crate::queue::CaseQueue;
use xuncha_core::rfc3339_seconds;

xuncha_core::str_enum! {
    /// What an account may do in the console.
    pub enum Role("role") {
        /// Reads leads, gives verdicts, writes notes, closes leads.
        Analyst => "analyst",
        /// Also assigns leads and reopens closed ones.
        Supervisor => "supervisor",
        /// Also manages accounts and lifts rule demotions.
        Admin => "admin",
    }
}

impl Role {
    /// Whether the role may lift a rule's demotion.
    pub fn may_lift_demotions(self) -> bool {
        self == Role::Admin
    }

    /// Whether the role may assign leads and reopen closed ones.
    pub fn may_assign(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A console account as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The login name, also the actor name in lead events.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// A disabled account cannot log in and has no sessions.
    pub disabled: bool,
    /// When it was added, RFC 3339.
    pub created_at: String,
}

/// A live session, as a request's cookie finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose it is.
    pub name: String,
    /// Their role now (a role changed in the store applies to open sessions).
    pub role: Role,
    /// The token every form of this session carries, against cross-site requests.
    pub csrf: String,
    /// When it ends, RFC 3339.
    pub expires_at: String,
}

/// 32 random bytes from the operating system, as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// A hash no password matches, verified for an unknown or disabled name so that the
/// answer takes as long as for a known one and does not tell which names exist.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn check_name(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(!name.trim().is_empty(), "the user name is empty");
    anyhow::ensure!(
        name.trim() == name && !name.chars().any(char::is_control),
        "a user name has no control characters and no blank space at its ends"
    );
    let n = name.chars().count();
    anyhow::ensure!(
        n <= MAX_ACTOR_CHARS,
        "the user name has {n} characters; at most {MAX_ACTOR_CHARS} are kept"
    );
    Ok(())
}

/// A user of `SELECT name, role, disabled, created_at`.
fn user_row(mut r: crate::db::Row) -> anyhow::Result<User> {
    let name = col(&mut r)?.text()?;
    let role = col(&mut r)?.text()?;
    Ok(User {
        role: role
            .parse()
            .map_err(|e| anyhow::anyhow!("user {name}: {e}"))?,
        name,
        disabled: col(&mut r)?.int()? != 0,
        created_at: col(&mut r)?.text()?,
    })
}

impl CaseQueue {
    /// Adds an account; fails if the name is taken or the password shorter than
    /// [`MIN_PASSWORD_CHARS`].
    pub fn add_user(&self, name: &str, role: Role, password: &str) -> anyhow::Result<()> {
        check_name(name)?;
        anyhow::ensure!(
            password.chars().count() >= MIN_PASSWORD_CHARS,
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        );
        let phc = hash_password(password)?;
        let at = rfc3339_seconds(OffsetDateTime::now_utc());
        let added = self.db.tx(|tx| {
            tx.exec(
                "INSERT INTO users (name, role, password_hash, disabled, created_at)
                 VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING",
                &[
                    name.into(),
                    role.as_str().into(),
                    (&phc).into(),
                    (&at).into(),
                ],
            )
        })?;
        anyhow::ensure!(added == 1, "there is already a user named {name}");
        Ok(())
    }

    /// Every account, by name.
    pub fn users(&self) -> anyhow::Result<Vec<User>> {
        let rows = self.db.read(|tx| {
            tx.query(
                "SELECT name, role, disabled, created_at FROM users ORDER BY name",
                &[],
            )
        })?;
        rows.into_iter().map(user_row).collect()
    }

    /// The account named `name`, enabled or not.
    pub fn user(&self, name: &str) -> anyhow::Result<Option<User>> {
        let row = self.db.read(|tx| {
            tx.query_opt(
                "SELECT name, role, disabled, created_at FROM users WHERE name = $1",
                &[name.into()],
            )
        })?;
        row.map(user_row).transpose()
    }

    /// Disables an account and ends its sessions; `false` if there is no such account.
    pub fn disable_user(&self, name: &str) -> anyhow::Result<bool> {
        self.db.tx(|tx| {
            let n = tx.exec(
                "UPDATE users SET disabled = 1 WHERE name = $1",
                &[name.into()],
            )?;
            tx.exec("DELETE FROM sessions WHERE name = $1", &[name.into()])?;
            Ok(n == 1)
        })
    }

    /// The account if `password` is its password and it is not disabled. An unknown
    /// name, a disabled account and a wrong password all give `None`, after the same work.
    pub fn verify_password(&self, name: &str, password: &str) -> anyhow::Result<Option<User>> {
        let found = self.db.tx(|tx| {
            let Some(mut r) = tx.query_opt(
                "SELECT role, disabled, created_at, password_hash FROM users WHERE name = $1",
                &[name.into()],
            )?
            else {
                return Ok(None);
            };
            Ok(Some((
                col(&mut r)?.text()?,
                col(&mut r)?.int()? != 0,
                col(&mut r)?.text()?,
                col(&mut r)?.text()?,
            )))
        })?;
        let Some((role, disabled, created_at, phc)) = found else {
            password_matches(password, decoy_hash());
            return Ok(None);
        };
        if !password_matches(password, &phc) || disabled {
            return Ok(None);
        }
        Ok(Some(User {
            name: name.into(),
            role: role.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
            disabled,
            created_at,
        }))
    }

    /// Opens a session for `name` lasting `ttl` from `now`; returns the token the client
    /// keeps (only its hash is stored) and the session. Sessions already expired, anyone's,
    /// are removed on the way.
    pub fn create_session(
        &self,
        name: &str,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> anyhow::Result<(String, Session)> {
        let token = random_token();
        let csrf = random_token();
        let expires_at = rfc3339_seconds(now + ttl);
        let now = rfc3339_seconds(now);
        let role = self.db.tx(|tx| {
            tx.exec(
                "DELETE FROM sessions WHERE expires_at <= $1",
                &[(&now).into()],
            )?;
            let mut r = tx
                .query_opt(
                    "SELECT role FROM users WHERE name = $1 AND disabled = 0",
                    &[name.into()],
                )?
                .ok_or_else(|| anyhow::anyhow!("no enabled user named {name}"))?;
            let role = col(&mut r)?.text()?;
            tx.exec(
                "INSERT INTO sessions (token_hash, name, csrf, expires_at) VALUES ($1, $2, $3, $4)",
                &[
                    token_hash(&token).into(),
                    name.into(),
                    (&csrf).into(),
                    (&expires_at).into(),
                ],
            )?;
            Ok(role)
        })?;
        let session = Session {
            name: name.into(),
            role: role.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
            csrf,
            expires_at,
        };
        Ok((token, session))
    }

    /// The live session of `token`: not expired at `now`, its account not disabled.
    pub fn session(&self, token: &str, now: OffsetDateTime) -> anyhow::Result<Option<Session>> {
        let now = rfc3339_seconds(now);
        let row = self.db.read(|tx| {
            tx.query_opt(
                "SELECT s.name, u.role, s.csrf, s.expires_at FROM sessions s
                 JOIN users u ON u.name = s.name
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
                &[token_hash(token).into(), (&now).into()],
            )
        })?;
        let Some(mut r) = row else { return Ok(None) };
        Ok(Some(Session {
            name: col(&mut r)?.text()?,
            role: col(&mut r)?
                .text()?
                .parse()
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            csrf: col(&mut r)?.text()?,
            expires_at: col(&mut r)?.text()?,
        }))
    }

    /// Ends the session of `token`, if there is one.
    pub fn delete_session(&self, token: &str) -> anyhow::Result<()> {
        self.db.tx(|tx| {
            tx.exec(
                "DELETE FROM sessions WHERE token_hash = $1",
                &[token_hash(token).into()],
            )?;
            Ok(())
        })
    }
}
