//! Operator licences: whether the publisher of a job posting recruits for others, and
//! if so, whether it holds a 人力资源服务许可证 that the licensing authority's published
//! list (名录) confirms.
//!
//! Recruiting for other employers (职业中介, which includes 网络招聘服务) needs the licence
//! (《人力资源市场暂行条例》 Art. 18, sanctioned by Art. 42); an employer recruiting for
//! itself needs none; the authorities must publish who holds one (Art. 22). This crate
//! holds those lists ([`RegistryStore`] on disk, [`Registry`] in memory), reads what a
//! posting shows ([`find_licence_numbers`], [`find_credit_codes`],
//! [`find_no_licence_statements`], [`find_agency_signals`]) and decides ([`check`],
//! [`Checker`]) whether it is a `license.missing` violation.
//!
//! # The decision that shapes it: judge by lookup, not by format
//!
//! There is no national licence-number format: cities write `610100120105`,
//! `350200RL1010`, `职介证字[2023]第01130052号`. A regex that "validates" numbers would
//! both pass invented numbers and reject real ones. So numbers are extracted leniently
//! and **only a lookup in the 名录 decides**: a number shown but not listed is a
//! violation; a well-formed one proves nothing. The same holds for names (matched after
//! [`normalize_name`], the region dropped only when unambiguous) and for
//! 统一社会信用代码, whose check character ([`CreditCode`]) only says a code is well formed.
//! Without a registry the crate does not guess: it reports
//! [`Outcome::NoRegistry`] unless the text itself admits there is no licence
//! (许可证申请中, 暂无许可证…).
//!
//! # The order of the decision
//!
//! 1. Signs that the publisher recruits for others: phrases (代招, 劳务中介, 推荐进厂,
//!    各大厂普工…), an intermediary's name (人力资源, 职业介绍…), several employers named,
//!    a licence number shown, the platform saying it is an agency, or a statement about
//!    its own licence. None: [`Outcome::NotAnAgency`]. A public employment service:
//!    [`Outcome::PublicService`].
//! 2. No registry: [`Outcome::SaysNoLicence`] if the text says so, else
//!    [`Outcome::NoRegistry`].
//! 3. Look up the licence numbers shown, then valid credit codes, then the publisher's
//!    and the company's names. Nothing found: [`Outcome::NotFound`] (or
//!    [`Outcome::SaysNoLicence`] when the text says so).
//! 4. Found by name while the number shown is not listed: [`Outcome::NumberNotListed`].
//!    Found by number, but the account holder's name is another organisation's:
//!    [`Outcome::NameMismatch`]. Expired on the day: [`Outcome::Expired`]. Scope without
//!    网络招聘服务 for an online posting: [`Outcome::ScopeLacksOnline`]. Else
//!    [`Outcome::Licensed`] — even if the posting also discloses a fee, which a licensed
//!    agency may charge.
//!
//! ```
//! use xuncha_registry::{check, CheckInput, Date, Entry, Outcome, Registry};
//!
//! let registry = Registry::from_entries([
//!     Entry::new("示例人力资源有限公司", "职介证字[2023]第01130052号").unwrap()
//!         .with_scope("职业中介活动（开展网络招聘服务）")
//!         .with_valid_until(Date::new(2028, 12, 31)),
//! ]);
//! let day = Date::new(2026, 6, 1).unwrap();
//!
//! // A listed agency, its name written with 有限责任公司 and a branch, its number
//! // written with other brackets: licensed.
//! let text = "代招普工，人力资源服务许可证：职介证字〔2023〕01130052，服务费由企业支付";
//! let input = CheckInput::text(text).with_publisher("示例人力资源有限责任公司西安分公司");
//! assert_eq!(check(&input, Some(&registry), day).outcome, Outcome::Licensed);
//!
//! // The same text from another company: the number is someone else's.
//! let input = CheckInput::text(text).with_publisher("样例劳务有限公司");
//! let c = check(&input, Some(&registry), day);
//! assert_eq!(c.outcome, Outcome::NameMismatch);
//! assert!(c.is_violation());
//! ```
#![deny(missing_docs)]

mod agency;
mod check;
pub mod credit_code;
mod date;
mod entry;
mod import;
mod name;
mod registry;
mod store;
pub mod synthetic;
mod text;

use std::path::PathBuf;

pub use agency::{
    agency_name_signals, employers_named, find_agency_signals, publishers_with_many_companies,
    AgencySignal, CompanySpread, PublisherSpread, SignalKind, DEFAULT_MIN_COMPANIES,
};
pub use check::{
    check, is_public_service, CheckInput, Checker, InField, LicenceCheck, Outcome, RULE_NO_LICENCE,
    RULE_SCOPE,
};
pub use credit_code::{find_credit_codes, CreditCode, CreditCodeError, CreditCodeMention};
pub use date::{Date, ParseDateError};
pub use entry::{licence_key, Entry, EntryError, Origin};
pub use import::{read_csv, read_file, read_json, Column, ImportReport, Problem};
pub use name::normalize_name;
pub use registry::{Match, MatchedBy, Registry};
pub use store::RegistryStore;
pub use text::{
    find_licence_numbers, find_no_licence_statements, LicenceMention, NoLicenceKind,
    NoLicenceStatement,
};

/// What can go wrong reading a list or using the registry file.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A file could not be read or a directory made.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The list is not UTF-8.
    #[error("{}: not UTF-8 text (a list saved as GBK? convert it: iconv -f GBK -t UTF-8)", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The list lacks a required column.
    #[error("{}: no `{column}` column (also accepted: {aliases}); the header is: {header}", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
        /// Other headers accepted for it.
        aliases: String,
        /// The header found.
        header: String,
    },
    /// The file as a whole cannot be read as CSV or JSON.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The registry file.
    #[error("{}: {source}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
}
