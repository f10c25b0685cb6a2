//! What a recheck of a posting page finds: one word the crawler reports, the case store
//! keeps and the analyst reads.

crate::str_enum! {
    /// What a recheck found of a posting page.
    pub enum RecheckOutcome("recheck outcome") {
        /// The posting is still shown with its flagged text (or, for a lead without
        /// flagged text, unchanged).
        Online => "online",
        /// The posting is still shown but the flagged text is no longer on it (or, without
        /// flagged text, its content changed).
        Changed => "changed",
        /// HTTP 404 or 410, or the page no longer shows the posting.
        Gone => "gone",
        /// Nothing could be concluded: a 5xx, a network failure, robots.txt, not HTML.
        Error => "error",
    }
}
