-- Rules that learn from verdicts. A rule whose precision the analysts' verdicts put below
-- the floor is demoted: its leads are filed `under_review` and not alerted, until an admin
-- lifts the demotion.
--
-- 1. `under_review` joins the workflow statuses.
ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check
    CHECK (status IN ('new', 'assigned', 'closed', 'under_review'));

-- 2. Where each rule stands: one row per rule ever demoted. `lifted_at` is the last lift;
-- verdicts count towards a new demotion only for leads first seen after it.
CREATE TABLE rule_standing (
    rule_id   TEXT PRIMARY KEY,
    demoted   BIGINT NOT NULL CHECK (demoted IN (0, 1)),
    since     TEXT NOT NULL,
    lifted_at TEXT
);

-- 3. Every demotion and lift, with its reason and the figures it rested on; append-only.
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
