//! The embedded case queue: leads and dead letters in one SQLite file.
//!
//! Leads are keyed by `lead_id`, so a replay or a rescan never duplicates one; seeing a
//! lead again moves its `last_seen` and counts it. Analysts move a lead through
//! `new` → `assigned` → `closed` and give it a verdict (`confirmed`, `false_positive`);
//! every change, note, recheck and the filing itself is an append-only event with its
//! actor (`lead_events`), and a lead's evidence is never rewritten.
//!
//! Open leads are rechecked on a schedule: each recheck of the posting page is a row of
//! `rechecks` (outcome, HTTP status, hash and evidence of what was fetched, whether the
//! flagged text is still there), and the lead keeps `last_checked_at`, `last_online_at`
//! (the last time its flagged content was seen online) and `gone_at` (set once, the
//! first time the page was found gone). That history is what proves a posting stayed
//! online after a correction order.

mod case_queue;
mod events;
mod sink;

pub use case_queue::{
    format_time, CaseQueue, DueLead, Filter, LeadRow, Recheck, RecheckOutcome, Status,
    GONE_CONFIRMED_AFTER,
};
pub use events::{Change, Event, Verdict, MAX_ACTOR_CHARS, MAX_NOTE_CHARS};
pub use sink::SqliteSink;
