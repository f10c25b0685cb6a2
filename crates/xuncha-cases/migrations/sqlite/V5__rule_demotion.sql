-- Rules that learn from verdicts. A rule whose precision the analysts' verdicts put below
-- the floor is demoted: its leads are filed `under_review` and not alerted, until an admin
-- lifts the demotion.
--
-- 1. `under_review` joins the workflow statuses. SQLite cannot change a CHECK constraint
-- in place, so `leads` is rebuilt the way SQLite documents (a new table, the rows copied,
-- the old one dropped, the new one renamed) with the indexes and triggers of V1 and V2.
-- Dropping a table fires no DELETE trigger: the rows all arrive in the new one.
CREATE TABLE leads_v5 (
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
                    CHECK (status IN ('new', 'assigned', 'closed', 'under_review')),
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
INSERT INTO leads_v5 (lead_id, posting_id, category, severity, severity_rank, score, url, source,
                      publisher, rules_version, status, first_seen, last_seen, seen_count, lead_json,
                      last_checked_at, last_online_at, gone_at, assigned_to, verdict)
    SELECT lead_id, posting_id, category, severity, severity_rank, score, url, source,
           publisher, rules_version, status, first_seen, last_seen, seen_count, lead_json,
           last_checked_at, last_online_at, gone_at, assigned_to, verdict
    FROM leads;
DROP TABLE leads;
ALTER TABLE leads_v5 RENAME TO leads;
CREATE INDEX leads_first_seen ON leads (first_seen);
CREATE INDEX leads_posting ON leads (posting_id);
CREATE INDEX leads_category ON leads (category, severity_rank);
CREATE INDEX leads_recheck ON leads (status, gone_at, last_checked_at);
CREATE INDEX leads_source ON leads (source, first_seen);
CREATE INDEX leads_publisher ON leads (publisher, first_seen);
CREATE INDEX leads_assigned ON leads (assigned_to, first_seen);
CREATE INDEX leads_status ON leads (status, first_seen);
CREATE INDEX leads_page ON leads (first_seen DESC, lead_id);
CREATE INDEX leads_category_time ON leads (category, first_seen);
CREATE TRIGGER leads_never_deleted BEFORE DELETE ON leads
BEGIN SELECT RAISE(ABORT, 'leads are never deleted'); END;
CREATE TRIGGER leads_evidence_fixed
BEFORE UPDATE OF lead_id, posting_id, category, severity, score, url, rules_version, first_seen, lead_json ON leads
BEGIN SELECT RAISE(ABORT, 'a lead''s evidence is never rewritten'); END;

-- 2. Each rule's verdicts by time, for its figures: every lead's first sighting and
-- verdict beside each rule that found it, so that a rule's precision over a window is a
-- range of one index, not a lookup of every lead. The store keeps them in step with the
-- lead (written on filing and with each verdict).
ALTER TABLE lead_rules ADD COLUMN lead_first_seen TEXT;
ALTER TABLE lead_rules ADD COLUMN lead_verdict TEXT;
UPDATE lead_rules SET
    lead_first_seen = (SELECT first_seen FROM leads WHERE leads.lead_id = lead_rules.lead_id),
    lead_verdict = (SELECT verdict FROM leads WHERE leads.lead_id = lead_rules.lead_id);
CREATE INDEX lead_rules_verdicts ON lead_rules (rule_id, lead_first_seen, lead_verdict);

-- 3. Where each rule stands: one row per rule ever demoted. `lifted_at` is the last lift;
-- verdicts count towards a new demotion only for leads first seen after it.
CREATE TABLE rule_standing (
    rule_id   TEXT PRIMARY KEY,
    demoted   INTEGER NOT NULL CHECK (demoted IN (0, 1)),
    since     TEXT NOT NULL,
    lifted_at TEXT
);

-- 4. Every demotion and lift, with its reason and the figures it rested on; append-only.
CREATE TABLE rule_events (
    id              INTEGER PRIMARY KEY,
    rule_id         TEXT NOT NULL,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('demoted', 'lifted')),
    note            TEXT NOT NULL,
    leads           INTEGER NOT NULL,
    confirmed       INTEGER NOT NULL,
    false_positives INTEGER NOT NULL,
    floor_value     REAL NOT NULL,
    min_verdicts    INTEGER NOT NULL,
    counted_from    TEXT NOT NULL
);
CREATE INDEX rule_events_rule ON rule_events (rule_id, id);
CREATE TRIGGER rule_events_append_only_update BEFORE UPDATE ON rule_events
BEGIN SELECT RAISE(ABORT, 'rule_events is append-only'); END;
CREATE TRIGGER rule_events_append_only_delete BEFORE DELETE ON rule_events
BEGIN SELECT RAISE(ABORT, 'rule_events is append-only'); END;
