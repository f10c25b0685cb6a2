-- Campaigns: postings that share a contact handle, a company, a credit code or
-- near-identical text, grouped as their leads are filed (xuncha-campaigns reads the keys).
-- A campaign that another joins is kept, pointing at the one it merged into.
CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    postings    INTEGER NOT NULL DEFAULT 0,
    merged_into INTEGER
);
CREATE INDEX campaigns_by_size ON campaigns (merged_into, postings, last_seen);
CREATE INDEX campaigns_merged ON campaigns (merged_into, id);
-- Which campaign each posting is in (all leads of a posting are in one).
CREATE TABLE campaign_postings (
    posting_id  TEXT PRIMARY KEY,
    campaign_id INTEGER NOT NULL,
    joined_at   TEXT NOT NULL
);
CREATE INDEX campaign_postings_campaign ON campaign_postings (campaign_id, posting_id);
-- The keys of each posting (kind:value, or text:… for its near-identical text cluster):
-- what a new posting is looked up by.
CREATE TABLE campaign_keys (
    key        TEXT NOT NULL,
    posting_id TEXT NOT NULL,
    PRIMARY KEY (key, posting_id)
);
CREATE INDEX campaign_keys_posting ON campaign_keys (posting_id, key);
-- Each handle as written: the evidence, with its byte offsets in the original field.
CREATE TABLE posting_handles (
    posting_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    field      TEXT NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte   INTEGER NOT NULL,
    written    TEXT NOT NULL,
    PRIMARY KEY (posting_id, key, field, start_byte)
);
CREATE INDEX posting_handles_key ON posting_handles (key, posting_id);
-- The distinct publishers seen with a key, up to the bound and one more; past the bound
-- the key is too common to tie anything (a site's hotline) and is listed here instead.
CREATE TABLE key_publishers (
    key       TEXT NOT NULL,
    publisher TEXT NOT NULL,
    PRIMARY KEY (key, publisher)
);
CREATE TABLE common_keys (
    key        TEXT PRIMARY KEY,
    publishers INTEGER NOT NULL,
    marked_at  TEXT NOT NULL
);
-- MinHash signatures of posting texts (hex), and their eight band hashes for lookup.
CREATE TABLE posting_texts (
    posting_id TEXT PRIMARY KEY,
    signature  TEXT NOT NULL,
    text_key   TEXT NOT NULL
);
CREATE TABLE text_bands (
    band       INTEGER NOT NULL,
    posting_id TEXT NOT NULL,
    PRIMARY KEY (band, posting_id)
);
-- What happened to campaigns: merges, splits when a key turned out too common, and
-- assignments of a whole campaign. Append-only, as lead_events.
CREATE TABLE campaign_events (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('merged', 'split', 'assign')),
    other       INTEGER,
    key         TEXT,
    note        TEXT
);
CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, id);
CREATE TRIGGER campaign_events_append_only_update BEFORE UPDATE ON campaign_events
BEGIN SELECT RAISE(ABORT, 'campaign_events is append-only'); END;
CREATE TRIGGER campaign_events_append_only_delete BEFORE DELETE ON campaign_events
BEGIN SELECT RAISE(ABORT, 'campaign_events is append-only'); END;
