//! Judging: everything that turns one posting, or one operator record, into its leads.
//!
//! ```text
//!  posting ─► matcher (rule findings) ─┐
//!                                      ├─► one lead per (posting, category)
//!  registry (名录) ─► licence verdict ──┘
//!  operator record (a site's own pages) ─► license.undisplayed lead
//! ```
//!
//! The decision that shapes this crate: **two sources of evidence about one posting make one
//! lead, merged before the lead id is made.** The licence verdict follows the registry
//! where it knows better than the text (a listed agency raises nothing however it writes;
//! an unlisted one raises a lead however quietly it writes), and the text where no
//! registry was consulted, saying so in the lead. Transport (the scan loop) hands postings
//! to a [`Scanner`] and takes leads back; it knows nothing of rules or registries.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod scanner;
mod undisplayed;

pub use scanner::{Licensing, Scanner};
