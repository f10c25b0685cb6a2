//! Campaign keys: what ties the postings of one operator or fraud ring together.
//!
//! ```text
//!  posting ─► handles: phone numbers, landlines, WeChat, QQ, Telegram, e-mails, links,
//!  │          credit codes, the company (each a canonical key with its evidence)
//!  └───────► MinHash signature of its text, indexed in bands (near-identical text)
//!              └─► the case store groups leads that share a key into campaigns
//! ```
//!
//! The decision that shapes this crate: **one handle, one key, however it is written.**
//! A ring that writes its number 139 1234 5678 on one site, 一三九一二三四五六七八 on
//! another and 薇：幺三九… on a third is one ring, so every handle is folded (full-width,
//! Chinese numerals, zero-width characters, cue words) to `kind:value` before it is
//! compared. Each key keeps the text and byte offsets it was written with, as a finding
//! does, so an analyst can quote it. And the reverse must hold: a salary range, a date or
//! a year is never read as a phone number.
//!
//! This crate only reads postings; grouping them, with a bound on keys shared too widely
//! to mean anything (a site's own hotline), is the case store's (xuncha-cases).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod fingerprint;
mod fold;
mod handles;
pub mod synthetic;

pub use fingerprint::{
    bands, from_hex, minhash, minhash_text, similarity, to_hex, Signature, BANDS, HASHES,
    MAX_SHINGLES, MIN_CHARS, MIN_SIMILARITY, ROWS, SHINGLE,
};
pub use handles::{company, handles, handles_in, MAX_FIELD_BYTES, MAX_HANDLES};

use xuncha_core::{Lead, Posting, PostingRef};

/// Writes the posting's handles and text signature into each of its leads (all leads
/// of one posting carry the same), so that they travel with the lead to the case store.
/// Nothing is computed for a posting without leads.
pub fn annotate(leads: &mut [Lead], posting: &Posting) {
    if leads.is_empty() {
        return;
    }
    let found = handles(posting);
    let signature = minhash(posting).map(|s| to_hex(&s));
    for l in leads {
        l.posting.handles = found.clone();
        l.posting.minhash = signature.clone();
    }
}

/// Who published a posting, as the bound on a key's spread counts publishers: the
/// publisher's name, else the company's, else the posting itself (a posting that names
/// nobody counts as a publisher of its own).
pub fn publisher_of(p: &PostingRef) -> String {
    let named = |s: &Option<String>| {
        s.as_deref()
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty())
    };
    named(&p.publisher)
        .map(|n| format!("publisher:{n}"))
        .or_else(|| named(&p.company).map(|n| format!("company:{n}")))
        .unwrap_or_else(|| format!("posting:{}", p.id))
}

/// The keys of a posting's handles, each once, sorted.
pub fn keys(p: &PostingRef) -> Vec<String> {
    let mut k: Vec<String> = p.handles.iter().map(|h| h.key()).collect();
    k.sort();
    k.dedup();
    k
}
