//! The case store: where leads become cases that analysts work.
//!
//! ```text
//!  leads (scan loop in `run`, or `xuncha file` from the leads topic)
//!     └─► case store: leads keyed by lead_id ─► status, verdict, assignee
//!                     ├─ lead_events: who did what, when (append-only)
//!                     ├─ rechecks: is the posting still online?
//!                     ├─ alerts sent (so a restart does not send them again)
//!                     ├─ rules' standing: demoted by verdicts, lifted by an admin
//!                     ├─ dead letters of the embedded mode
//!                     ├─ campaigns: leads whose postings share a handle or text
//!                     └─ console accounts and their sessions
//! ```
//!
//! The decision that shapes this crate: **a lead's evidence is written once and never
//! rewritten, and nothing is deleted.** Seeing a lead again moves its `last_seen`;
//! every change of status, assignee or verdict, every note, recheck and re-sighting is an
//! event with its actor; the database refuses updates of evidence and deletions by trigger,
//! not only by the code's good manners. That history is what a lead needs to become an
//! administrative case.
//!
//! Two databases hold it, chosen by the `db` setting ([`Location`]): a SQLite file (the
//! embedded default) or PostgreSQL (a team's queue, pooled, a lost connection retried).
//! The queries are written once over both; the schema of each is a series of versioned
//! migrations applied on open, and a database migrated by a newer release is refused.
//!
//! The store plugs into the pipeline as a lead sink, a dead-letter sink and a
//! [`xuncha_pipeline::CaseStore`] ([`CaseSink`]), and tells the alerts which rules are
//! demoted ([`xuncha_pipeline::webhook::Demotions`]); the pipeline knows only those
//! interfaces, not the store.
//!
//! Verdicts feed back into the rules: [`CaseQueue::rule_stats`] gives each rule's
//! precision with a Wilson interval, and a verdict that puts a rule's precision below the
//! [`DemotionPolicy`] floor demotes it, so its new leads are filed `under_review` and not
//! alerted until an admin lifts the demotion ([`CaseQueue::lift_demotion`]).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod campaigns;
mod db;
mod demotion;
mod events;
pub mod migrate;
mod queue;
mod rule_stats;
mod sink;
mod users;

pub use campaigns::{
    Assigned, Campaign, CampaignDetail, CampaignEvent, CampaignKey, CampaignQuery, CategoryCount,
    Member, MemberLead, Written, DEFAULT_MAX_PUBLISHERS_PER_KEY, MAX_ASSIGN_LEADS,
    MAX_MEMBER_LEADS,
};
pub use db::Location;
pub use demotion::{DemotionPolicy, RuleAction, RuleEvent, DEMOTIONS_FRESH_FOR};
pub use events::{Applied, Change, Event, Verdict, MAX_ACTOR_CHARS, MAX_NOTE_CHARS};
pub use queue::{
    CaseQueue, Cursor, DueLead, Facet, Filter, LeadRow, Order, Recheck, Status,
    GONE_CONFIRMED_AFTER,
};
pub use rule_stats::{wilson, Interval, RuleStats, Verdicts};
pub use sink::CaseSink;
pub use users::{random_token, Role, Session, User, MIN_PASSWORD_CHARS};
pub use xuncha_core::RecheckOutcome;
