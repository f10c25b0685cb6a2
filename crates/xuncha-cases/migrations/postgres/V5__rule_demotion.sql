-- Rules that learn from verdicts. A rule whose precision the analysts' verdicts put below
-- the floor is demoted: its leads are filed `under_review` and not alerted, until an admin
-- lifts the demotion.
--
-- 1. `under_review` joins the workflow statuses.
ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check
    CHECK (status IN ('new', 'assigned', 'closed', 'under_review'));

-- 2. Each rule's verdicts by time, for its figures: every lead's first sighting and
-- verdict beside each rule that found it, so that a rule's precision over a window is a
-- range of one index, not a lookup of every lead. The store keeps them in step with the
-- lead (written on filing and with each verdict).
ALTER TABLE lead_rules ADD COLUMN lead_first_seen TEXT;
ALTER TABLE lead_rules ADD COLUMN lead_verdict TEXT;
UPDATE lead_rules SET lead_first_seen = leads.first_seen, lead_verdict = leads.verdict
    FROM leads WHERE leads.lead_id = lead_rules.lead_id;
CREATE INDEX lead_rules_verdicts ON lead_rules (rule_id, lead_first_seen, lead_verdict);

-- 3. Where each rule stands: one row per rule ever demoted. `lifted_at` is the last lift;
-- verdicts count towards a new demotion only for leads first seen after it.
CREATE TABLE rule_standing (
    rule_id   TEXT PRIMARY KEY,
    demoted   BIGINT NOT NULL CHECK (demoted IN (0, 1)),
    since     TEXT NOT NULL,
    lifted_at TEXT
);

-- 4. Every demotion and lift, with its reason and the figures it rested on; append-only.
CREATE TABLE rule_events (
    id              BIGSERIAL PRIMARY KEY,
    rule_id         TEXT NOT NULL,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('demoted', 'lifted')),
    note            TEXT NOT NULL,
    leads           BIGINT NOT NULL,
    confirmed       BIGINT NOT NULL,
    false_positives BIGINT NOT NULL,
    floor_value     DOUBLE PRECISION NOT NULL,
    min_verdicts    BIGINT NOT NULL,
    counted_from    TEXT NOT NULL
);
CREATE INDEX rule_events_rule ON rule_events (rule_id, id);
CREATE TRIGGER rule_events_append_only BEFORE UPDATE OR DELETE ON rule_events
    FOR EACH ROW EXECUTE FUNCTION xuncha_refuse('rule_events is append-only');
CREATE TRIGGER rule_events_not_truncated BEFORE TRUNCATE ON rule_events
    FOR EACH STATEMENT EXECUTE FUNCTION xuncha_refuse('rule_events is append-only');
