//! Reading postings from JSONL files or stdin. A bad line is reported with its file:line
//! and skipped; the rest of the input is still read.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use xuncha_core::Posting;
use xuncha_crawler::{OperatorRecord, OPERATOR_SCHEMA};
use xuncha_pipeline::decode::DEFAULT_MAX_RECORD_BYTES;
use xuncha_pipeline::jsonl::{read_line, Line};

/// Opens each path (`-` for stdin) in turn.
pub fn open(paths: &[String]) -> anyhow::Result<Vec<(String, Box<dyn BufRead + Send>)>> {
    let mut out: Vec<(String, Box<dyn BufRead + Send>)> = Vec::new();
    if paths.is_empty() {
        out.push(("<stdin>".into(), Box::new(BufReader::new(io::stdin()))));
    }
    for p in paths {
        if p == "-" {
            out.push(("<stdin>".into(), Box::new(BufReader::new(io::stdin()))));
        } else {
            let f = File::open(Path::new(p)).with_context(|| format!("cannot open {p}"))?;
            out.push((p.clone(), Box::new(BufReader::with_capacity(1 << 20, f))));
        }
    }
    Ok(out)
}

/// The names [`open`] gives `paths`, for a report to say what it read.
pub fn names(paths: &[String]) -> Vec<String> {
    if paths.is_empty() {
        return vec!["<stdin>".into()];
    }
    paths
        .iter()
        .map(|p| {
            if p == "-" {
                "<stdin>".into()
            } else {
                p.clone()
            }
        })
        .collect()
}

/// Parses one JSONL line into a posting. Its `content_sha256` is recomputed from its text
/// unless `own_fetch` (a page this process fetched, hashed as its evidence file): a hash
/// from outside is never trusted, since it makes the lead id and stands for the text.
pub fn parse(line: &str, own_fetch: bool) -> Result<Posting, String> {
    let mut p: Posting = serde_json::from_str(line).map_err(|e| format!("not a posting: {e}"))?;
    if !own_fetch {
        p.recompute_content_hash();
    }
    if p.id.trim().is_empty() {
        return Err("empty `id`".into());
    }
    if !p.has_text() {
        return Err("no text field (title, description/text, company, salary, contact)".into());
    }
    Ok(p)
}

/// A raw input line: `file:line`, and its text or why it has none.
pub type RawLine = (String, Result<String, String>);

/// Reads up to `max` non-empty lines from `r` into `batch`, holding at most
/// [`DEFAULT_MAX_RECORD_BYTES`] of a line (a longer one is reported with its size and
/// hash); returns false at end of input.
pub fn read_batch(
    name: &str,
    r: &mut dyn BufRead,
    lineno: &mut usize,
    max: usize,
    batch: &mut Vec<RawLine>,
) -> anyhow::Result<bool> {
    batch.clear();
    let mut buf = Vec::new();
    while batch.len() < max {
        let read = read_line(r, &mut buf, DEFAULT_MAX_RECORD_BYTES, *lineno == 0)
            .with_context(|| format!("reading {name}:{}", *lineno + 1))?;
        let at = format!("{name}:{}", *lineno + 1);
        match read {
            Line::Eof => return Ok(false),
            Line::Cut { bytes, sha256 } => batch.push((
                at,
                Err(format!(
                    "{bytes} bytes is over the limit of {DEFAULT_MAX_RECORD_BYTES} (sha256 {sha256})"
                )),
            )),
            Line::Whole => match std::str::from_utf8(&buf) {
                Ok(t) if t.trim().is_empty() => {}
                Ok(t) => batch.push((at, Ok(t.trim_end().to_string()))),
                Err(e) => batch.push((
                    at,
                    Err(format!("invalid UTF-8 at byte {}", e.valid_up_to())),
                )),
            },
        }
        *lineno += 1;
    }
    Ok(true)
}

/// What a line of `scan`'s input holds.
pub enum Item {
    /// A posting.
    Posting(Box<Posting>),
    /// What a site shows of its licences (`xuncha crawl --operators`).
    Operator(Box<OperatorRecord>),
}

/// The posting or operator record on a raw line, or why there is none (`own_fetch` as
/// for [`parse`]).
pub fn parse_item(raw: &RawLine, own_fetch: bool) -> Result<Item, String> {
    let line = raw.1.as_deref().map_err(|e| e.clone())?;
    if line.contains(OPERATOR_SCHEMA) {
        if let Ok(r) = serde_json::from_str::<OperatorRecord>(line) {
            if r.schema == OPERATOR_SCHEMA {
                return Ok(Item::Operator(Box::new(r)));
            }
        }
    }
    parse(line, own_fetch).map(|p| Item::Posting(Box::new(p)))
}
