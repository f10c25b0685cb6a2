//! The case store: where leads become cases that analysts work.
//!
//! ```text
//!  leads (scan loop in `run`, or `xuncha file` from the leads topic)
//!     └─► case store: leads keyed by lead_id ─► status, verdict, assignee
//!                     ├─ lead_events: who did what, when (append-only)
//!                     ├─ rechecks: is the posting still online?
//!                     ├─ alerts sent (so a restart does not send them again)
//!                     └─ dead letters of the embedded mode
//! ```
//!
//! The decision that shapes this crate: **a lead's evidence is written once and never
//! rewritten, and nothing is deleted.** Seeing a lead again moves its `last_seen`;
//! every change of status, assignee or verdict, every note, recheck and re-sighting is an
//! event with its actor; the database refuses updates of evidence and deletions by trigger,
//! not only by the code's good manners. That history is what a lead needs to become an
//! administrative case.
//!
//! The store plugs into the pipeline as a lead sink, a dead-letter sink and a
//! [`xuncha_pipeline::CaseStore`] ([`sqlite::SqliteSink`]); the pipeline knows only those
//! interfaces, not the store.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod sqlite;
