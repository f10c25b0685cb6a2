-- The case store as first versioned. Every statement holds on a database made before
-- versioned migrations (they were created the same way, IF NOT EXISTS), so such a database
-- takes this step with its rows kept; its columns added since its release are added before.
CREATE TABLE IF NOT EXISTS leads (
    lead_id         TEXT PRIMARY KEY,
    posting_id      TEXT NOT NULL,
    category        TEXT NOT NULL,
    severity        TEXT NOT NULL,
    severity_rank   INTEGER NOT NULL,
    score           REAL NOT NULL,
    url             TEXT,
    source          TEXT,
    publisher       TEXT,
    rules_version   TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'assigned', 'closed', 'false_positive')),
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    seen_count      INTEGER NOT NULL DEFAULT 1,
    lead_json       TEXT NOT NULL,
    last_checked_at TEXT,
    last_online_at  TEXT,
    gone_at         TEXT,
    assigned_to     TEXT,
    verdict         TEXT
);
CREATE INDEX IF NOT EXISTS leads_first_seen ON leads (first_seen);
CREATE INDEX IF NOT EXISTS leads_posting ON leads (posting_id);
CREATE INDEX IF NOT EXISTS leads_category ON leads (category, severity_rank);
CREATE INDEX IF NOT EXISTS leads_recheck ON leads (status, gone_at, last_checked_at);
-- A false positive was a status; it is a verdict now, and the lead closed.
UPDATE leads SET status = 'closed', verdict = 'false_positive' WHERE status = 'false_positive';

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

CREATE TABLE IF NOT EXISTS lead_events (
    id         INTEGER PRIMARY KEY,
    lead_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL
               CHECK (action IN ('filed', 'seen_again', 'status', 'assign', 'verdict', 'note', 'recheck')),
    from_value TEXT,
    to_value   TEXT,
    note       TEXT
);
CREATE INDEX IF NOT EXISTS lead_events_lead ON lead_events (lead_id, id);
CREATE TRIGGER IF NOT EXISTS lead_events_append_only_update BEFORE UPDATE ON lead_events
BEGIN SELECT RAISE(ABORT, 'lead_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS lead_events_append_only_delete BEFORE DELETE ON lead_events
BEGIN SELECT RAISE(ABORT, 'lead_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS leads_never_deleted BEFORE DELETE ON leads
BEGIN SELECT RAISE(ABORT, 'leads are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS leads_evidence_fixed
BEFORE UPDATE OF lead_id, posting_id, category, severity, score, url, rules_version, first_seen, lead_json ON leads
BEGIN SELECT RAISE(ABORT, 'a lead''s evidence is never rewritten'); END;
