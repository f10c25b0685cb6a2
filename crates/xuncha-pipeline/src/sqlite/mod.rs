//! The embedded case queue: leads and dead letters in one SQLite file.
//!
//! Leads are keyed by `lead_id`, so a replay or a rescan never duplicates one; seeing a
//! lead again moves its `last_seen` and counts it. Analysts move a lead through
//! `new` → `assigned` → `closed` or `false_positive`.

mod case_queue;
mod sink;

pub use case_queue::{CaseQueue, Filter, LeadRow, Status};
pub use sink::SqliteSink;
