use std::io::{self, BufRead};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::decode::DEFAULT_MAX_RECORD_BYTES;
use crate::record::{Origin, Payload, Record};
use crate::stage::Source;

/// A line longer than this is not a record but a broken file (`/dev/zero`, a binary
/// dump): reading stops there and the file is reported unreadable.
pub const MAX_LINE_SCAN_BYTES: u64 = 1 << 30;

/// What [`read_line`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// End of input.
    Eof,
    /// A whole line, now in the buffer without its line break.
    Whole,
    /// A line longer than the limit: the buffer holds its first `limit` bytes; the rest
    /// was read, counted and hashed, never held.
    Cut {
        /// Length of the whole line without its line break.
        bytes: u64,
        /// SHA-256 of the whole line without its line break.
        sha256: String,
    },
}

/// Reads one line into `buf` (cleared first), holding at most `limit` bytes of it, so no
/// line can grow memory past the limit. A UTF-8 byte-order mark before the first line of
/// an input (`first`) is dropped. A line longer than [`MAX_LINE_SCAN_BYTES`] is an error.
pub fn read_line<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
    first: bool,
) -> io::Result<Line> {
    read_line_within(reader, buf, limit, first, MAX_LINE_SCAN_BYTES)
}

fn read_line_within<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
    first: bool,
    scan_bound: u64,
) -> io::Result<Line> {
    buf.clear();
    let mut total: u64 = 0;
    let mut hasher: Option<Sha256> = None;
    let mut at_start = first;
    let mut any = false;
    loop {
        let avail = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        // A BOM may arrive split across reads only in pathological readers; the common
        // case (a whole first buffer) is what costs a posting.
        let skip = if at_start && avail.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        at_start = false;
        any = true;
        let rest = &avail[skip..];
        let (chunk, done) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], true),
            None => (rest, false),
        };
        total += chunk.len() as u64;
        match &mut hasher {
            Some(h) => h.update(chunk),
            None if buf.len() + chunk.len() > limit => {
                let mut h = Sha256::new();
                h.update(&buf[..]);
                h.update(chunk);
                let room = limit - buf.len();
                buf.extend_from_slice(&chunk[..room]);
                hasher = Some(h);
            }
            None => buf.extend_from_slice(chunk),
        }
        let used = skip + chunk.len() + usize::from(done);
        reader.consume(used);
        if done {
            break;
        }
        if total > scan_bound {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line longer than {scan_bound} bytes: not a JSONL file"),
            ));
        }
    }
    if !any {
        return Ok(Line::Eof);
    }
    match hasher {
        Some(h) => Ok(Line::Cut {
            bytes: total,
            sha256: xuncha_core::hex(&h.finalize()),
        }),
        None => {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            Ok(Line::Whole)
        }
    }
}

/// Records from one reader (a file, stdin), one a line; ends with the input.
pub struct ReaderSource<R> {
    name: PathBuf,
    reader: R,
    line: usize,
    limit: usize,
}

impl<R: BufRead + Send> ReaderSource<R> {
    /// Reads `reader`, naming its lines `name:line`.
    pub fn new(name: impl Into<PathBuf>, reader: R) -> Self {
        ReaderSource {
            name: name.into(),
            reader,
            line: 0,
            limit: DEFAULT_MAX_RECORD_BYTES,
        }
    }

    /// Holds at most `limit` bytes of a line; longer lines become too-large records.
    pub fn max_record_bytes(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

/// Reads up to `max` non-blank lines as records, holding at most `limit` bytes of any
/// line; false once the input is exhausted.
pub(crate) fn read_lines(
    (name, file_id): (&std::path::Path, Option<&str>),
    reader: &mut impl BufRead,
    line: &mut usize,
    (max, limit): (usize, usize),
    out: &mut Vec<Record>,
) -> io::Result<bool> {
    let mut buf = Vec::new();
    while out.len() < max {
        let read = read_line(reader, &mut buf, limit, *line == 0).map_err(|e| {
            io::Error::new(e.kind(), format!("{}:{}: {e}", name.display(), *line + 1))
        })?;
        let payload = match read {
            Line::Eof => return Ok(false),
            Line::Whole => {
                *line += 1;
                if buf.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                Payload::Bytes(std::mem::take(&mut buf))
            }
            Line::Cut { bytes, sha256 } => {
                *line += 1;
                Payload::Cut {
                    head: std::mem::take(&mut buf),
                    bytes,
                    sha256,
                }
            }
        };
        out.push(Record {
            origin: Origin::File {
                file: name.to_path_buf(),
                line: *line,
                file_id: file_id.map(str::to_string),
            },
            payload,
        });
    }
    Ok(true)
}

impl<R: BufRead + Send> Source for ReaderSource<R> {
    async fn next_batch(&mut self, max: usize) -> anyhow::Result<Option<Vec<Record>>> {
        let mut out = Vec::new();
        let more = read_lines(
            (&self.name, None),
            &mut self.reader,
            &mut self.line,
            (max, self.limit),
            &mut out,
        )?;
        Ok(if out.is_empty() && !more {
            None
        } else {
            Some(out)
        })
    }

    async fn ack(&mut self, _batch: &[Record]) -> anyhow::Result<()> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<(Line, Vec<u8>)> {
        // A tiny buffer makes every line cross several reads.
        let mut r = io::BufReader::with_capacity(3, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut first = true;
        loop {
            let l = read_line(&mut r, &mut buf, limit, first).unwrap();
            first = false;
            if l == Line::Eof {
                return out;
            }
            out.push((l, buf.clone()));
        }
    }

    #[test]
    fn a_long_line_is_cut_to_the_limit_but_counted_and_hashed_whole() {
        let long = vec![b'x'; 100];
        let mut input = b"\xEF\xBB\xBF{\"a\":1}\r\n".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\nlast");
        let got = lines(&input, 10);
        assert_eq!(got[0], (Line::Whole, b"{\"a\":1}".to_vec()));
        assert_eq!(
            got[1],
            (
                Line::Cut {
                    bytes: 100,
                    sha256: xuncha_core::sha256_hex(&long)
                },
                vec![b'x'; 10]
            )
        );
        assert_eq!(got[2], (Line::Whole, b"last".to_vec()));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn a_line_without_end_is_an_error_past_the_scan_bound() {
        let mut zeros = io::BufReader::new(io::repeat(0));
        let mut buf = Vec::new();
        let e = read_line_within(&mut zeros, &mut buf, 1024, true, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("not a JSONL file"), "{e}");
        assert_eq!(buf.len(), 1024);
    }
}
