//! Domain types shared by every xuncha crate.
//!
//! A [`Posting`] goes in, [`Finding`]s come out of the matcher, and a [`Lead`] — one per
//! (posting, [`Category`]) — goes to the case queue. The one decision that shapes this
//! crate: **a lead's identity is derived, never assigned**. [`lead_id`] hashes the posting
//! id, the category and the posting's content hash, so a rescan or a replay of the same
//! posting yields the same lead (no duplicates downstream), while an edited posting yields
//! a new one (the edit is itself evidence).
//!
//! Evidence offsets are a [`Span`], which cannot be built inverted: they are byte offsets
//! into the *original* field text, so an analyst can quote the posting as it was seen.
#![deny(missing_docs)]

mod category;
mod clock;
mod duration;
mod frontier;
mod hash;
mod lead;
mod operator;
mod posting;
mod recheck;
mod str_enum;
mod sync;

pub use category::{Category, Family, ParseCategoryError, ParseSeverityError, Severity};
pub use clock::{now_rfc3339, rfc3339, rfc3339_seconds};
pub use duration::{deserialize_duration, format_duration, parse_duration, serialize_duration};
pub use frontier::{BoxFuture, Frontier, FrontierEntry, FrontierError, PageKind};
pub use hash::{hex, lead_id, sha256_hex};
pub use lead::{
    Finding, Handle, HandleKind, Lead, LegalRef, LicenceLookup, PostingRef, Span, LEAD_SCHEMA,
};
pub use operator::{LicenceDisplay, OperatorPage, OperatorRecord, OPERATOR_SCHEMA};
pub use posting::{Posting, Publisher, PublisherKind, POSTING_SCHEMA};
pub use recheck::RecheckOutcome;
pub use sync::lock;
