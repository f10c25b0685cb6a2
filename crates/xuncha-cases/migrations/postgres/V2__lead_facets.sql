-- What analysts filter and count by, beyond the lead's own columns: every rule that found
-- something in it, and every administrative division its posting's location names. Kept
-- beside the lead (its evidence is never rewritten), filled for leads already filed.
CREATE TABLE lead_rules (
    rule_id TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    PRIMARY KEY (rule_id, lead_id)
);
CREATE TABLE lead_divisions (
    code    TEXT NOT NULL,
    lead_id TEXT NOT NULL,
    PRIMARY KEY (code, lead_id)
);
INSERT INTO lead_rules (rule_id, lead_id)
    SELECT DISTINCT f->>'rule_id', leads.lead_id
    FROM leads, jsonb_array_elements(COALESCE(leads.lead_json::jsonb->'findings', '[]'::jsonb)) AS f
    WHERE f->>'rule_id' IS NOT NULL
    ON CONFLICT DO NOTHING;
INSERT INTO lead_divisions (code, lead_id)
    SELECT DISTINCT d, leads.lead_id
    FROM leads, jsonb_array_elements_text(COALESCE(leads.lead_json::jsonb->'posting'->'divisions', '[]'::jsonb)) AS d
    ON CONFLICT DO NOTHING;
CREATE INDEX leads_source ON leads (source, first_seen);
CREATE INDEX leads_publisher ON leads (publisher, first_seen);
CREATE INDEX leads_assigned ON leads (assigned_to, first_seen);
CREATE INDEX leads_status ON leads (status, first_seen);
CREATE INDEX leads_page ON leads (first_seen DESC, lead_id);
CREATE INDEX leads_category_time ON leads (category, first_seen);
