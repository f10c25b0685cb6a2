-- The case store for a team: the same tables as the SQLite store, with PostgreSQL's types.
-- Times are RFC 3339 text, UTC, so that text order is time order in both stores.
CREATE TABLE leads (
    lead_id         TEXT PRIMARY KEY,
    posting_id      TEXT NOT NULL,
    category        TEXT NOT NULL,
    severity        TEXT NOT NULL,
    severity_rank   BIGINT NOT NULL,
    score           DOUBLE PRECISION NOT NULL,
    url             TEXT,
    source          TEXT,
    publisher       TEXT,
    rules_version   TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'assigned', 'closed')),
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    seen_count      BIGINT NOT NULL DEFAULT 1,
    lead_json       TEXT NOT NULL,
    last_checked_at TEXT,
    last_online_at  TEXT,
    gone_at         TEXT,
    assigned_to     TEXT,
    verdict         TEXT CHECK (verdict IN ('confirmed', 'false_positive'))
);
CREATE INDEX leads_first_seen ON leads (first_seen);
CREATE INDEX leads_posting ON leads (posting_id);
CREATE INDEX leads_category ON leads (category, severity_rank);
CREATE INDEX leads_recheck ON leads (status, gone_at, last_checked_at);

CREATE TABLE dead_letters (
    id          BIGSERIAL PRIMARY KEY,
    origin      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    at          TEXT NOT NULL,
    record_json TEXT NOT NULL,
    UNIQUE (origin, reason)
);
CREATE TABLE rechecks (
    id              BIGSERIAL PRIMARY KEY,
    lead_id         TEXT NOT NULL,
    checked_at      TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('online', 'changed', 'gone', 'error')),
    http_status     BIGINT,
    final_url       TEXT,
    content_sha256  TEXT,
    evidence        TEXT,
    flagged_present BIGINT,
    flagged_found   BIGINT,
    flagged_total   BIGINT,
    error           TEXT
);
CREATE INDEX rechecks_lead ON rechecks (lead_id, checked_at);
CREATE TABLE law_texts (
    rules_version TEXT NOT NULL,
    law           TEXT NOT NULL,
    article       TEXT NOT NULL,
    text          TEXT NOT NULL,
    PRIMARY KEY (rules_version, law, article)
);
CREATE TABLE alerts_delivered (
    webhook      TEXT NOT NULL,
    lead_id      TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (webhook, lead_id)
);

CREATE TABLE lead_events (
    id         BIGSERIAL PRIMARY KEY,
    lead_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL
               CHECK (action IN ('filed', 'seen_again', 'status', 'assign', 'verdict', 'note', 'recheck')),
    from_value TEXT,
    to_value   TEXT,
    note       TEXT
);
CREATE INDEX lead_events_lead ON lead_events (lead_id, id);

-- Whoever asks, the database refuses to rewrite history: events are append-only, leads
-- are never deleted, a lead's evidence never changes.
CREATE FUNCTION xuncha_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END
$$;
CREATE TRIGGER lead_events_append_only BEFORE UPDATE OR DELETE ON lead_events
    FOR EACH ROW EXECUTE FUNCTION xuncha_refuse('lead_events is append-only');
CREATE TRIGGER lead_events_not_truncated BEFORE TRUNCATE ON lead_events
    FOR EACH STATEMENT EXECUTE FUNCTION xuncha_refuse('lead_events is append-only');
CREATE TRIGGER leads_never_deleted BEFORE DELETE ON leads
    FOR EACH ROW EXECUTE FUNCTION xuncha_refuse('leads are never deleted');
CREATE TRIGGER leads_not_truncated BEFORE TRUNCATE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION xuncha_refuse('leads are never deleted');
CREATE TRIGGER leads_evidence_fixed
    BEFORE UPDATE OF lead_id, posting_id, category, severity, score, url, rules_version, first_seen, lead_json
    ON leads FOR EACH ROW EXECUTE FUNCTION xuncha_refuse('a lead''s evidence is never rewritten');
