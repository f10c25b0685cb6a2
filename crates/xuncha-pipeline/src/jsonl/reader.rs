use std::io::BufRead;
use std::path::PathBuf;

use crate::record::{Origin, Payload, Record};
use crate::stage::Source;

/// Records from one reader (a file, stdin), one a line; ends with the input.
pub struct ReaderSource<R> {
    name: PathBuf,
    reader: R,
    line: usize,
}

impl<R: BufRead + Send> ReaderSource<R> {
    /// Reads `reader`, naming its lines `name:line`.
    pub fn new(name: impl Into<PathBuf>, reader: R) -> Self {
        ReaderSource {
            name: name.into(),
            reader,
            line: 0,
        }
    }
}

/// Reads up to `max` non-blank lines as records; false once the input is exhausted.
pub(crate) fn read_lines(
    name: &std::path::Path,
    reader: &mut impl BufRead,
    line: &mut usize,
    max: usize,
    out: &mut Vec<Record>,
) -> std::io::Result<bool> {
    let mut buf = Vec::new();
    while out.len() < max {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(false);
        }
        *line += 1;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        if buf.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        out.push(Record {
            origin: Origin::File {
                file: name.to_path_buf(),
                line: *line,
            },
            payload: Payload::Bytes(std::mem::take(&mut buf)),
        });
    }
    Ok(true)
}

impl<R: BufRead + Send> Source for ReaderSource<R> {
    async fn next_batch(&mut self, max: usize) -> anyhow::Result<Option<Vec<Record>>> {
        let mut out = Vec::new();
        let more = read_lines(&self.name, &mut self.reader, &mut self.line, max, &mut out)?;
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
