-- Console accounts and their sessions. A session is found by the SHA-256 of its token:
-- the token itself lives only in the browser's cookie, so a copy of the database opens
-- no session.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('analyst', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    name       TEXT NOT NULL REFERENCES users (name),
    csrf       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_name ON sessions (name);
CREATE INDEX sessions_expires ON sessions (expires_at);
