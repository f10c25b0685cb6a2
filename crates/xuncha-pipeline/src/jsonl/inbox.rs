use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::reader::read_lines;
use crate::record::Record;
use crate::stage::Source;

/// Inbox settings (`[inbox]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboxConfig {
    /// Folder watched for `*.jsonl` files.
    pub dir: PathBuf,
    /// Where a file goes once every line of it is durable.
    pub done_dir: PathBuf,
    /// Where a file goes that cannot be read.
    pub failed_dir: PathBuf,
    /// How often the folder is looked at, in milliseconds.
    pub poll_ms: u64,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            dir: "data/inbox".into(),
            done_dir: "data/done".into(),
            failed_dir: "data/failed".into(),
            poll_ms: 500,
        }
    }
}

struct Current {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    eof: bool,
}

/// `*.jsonl` files dropped into a folder, each read once, in name order, and moved to
/// `done_dir` when every line is durable (or to `failed_dir` if it cannot be read).
///
/// Writers should write a file under another name (`x.jsonl.part`) and rename it into
/// place: only names ending in `.jsonl` are picked up. A crash leaves the file in the inbox,
/// and the next start reads it again; lead ids make the second pass add nothing.
pub struct InboxSource {
    config: InboxConfig,
    current: Option<Current>,
    /// Stop once the inbox is empty instead of waiting for more.
    once: bool,
}

impl InboxSource {
    /// Watches `config.dir`, creating the folders if needed.
    pub fn new(config: InboxConfig, once: bool) -> anyhow::Result<InboxSource> {
        for d in [&config.dir, &config.done_dir, &config.failed_dir] {
            fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        Ok(InboxSource {
            config,
            current: None,
            once,
        })
    }

    fn next_file(&self) -> anyhow::Result<Option<PathBuf>> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.config.dir)
            .with_context(|| format!("reading {}", self.config.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        Ok(files.into_iter().next())
    }

    fn move_to(&self, path: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
        let name = path.file_name().unwrap_or_default();
        let mut target = dir.join(name);
        if target.exists() {
            // A file of the same name was processed before: keep both.
            let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
            target = dir.join(format!("{}.{stamp}", name.to_string_lossy()));
        }
        fs::rename(path, &target)
            .with_context(|| format!("moving {} to {}", path.display(), target.display()))?;
        Ok(target)
    }
}

impl Source for InboxSource {
    async fn next_batch(&mut self, max: usize) -> anyhow::Result<Option<Vec<Record>>> {
        loop {
            if self.current.is_none() {
                match self.next_file()? {
                    Some(path) => match File::open(&path) {
                        Ok(f) => {
                            tracing::info!(file = %path.display(), "reading inbox file");
                            self.current = Some(Current {
                                reader: BufReader::new(f),
                                path,
                                line: 0,
                                eof: false,
                            });
                        }
                        Err(e) => {
                            tracing::error!(file = %path.display(), error = %e, "cannot open; moved to failed");
                            self.move_to(&path, &self.config.failed_dir.clone())?;
                            continue;
                        }
                    },
                    None if self.once => return Ok(None),
                    None => {
                        tokio::time::sleep(Duration::from_millis(self.config.poll_ms)).await;
                        return Ok(Some(Vec::new()));
                    }
                }
            }
            let cur = self.current.as_mut().expect("a current file");
            let mut out = Vec::new();
            match read_lines(&cur.path, &mut cur.reader, &mut cur.line, max, &mut out) {
                Ok(more) => cur.eof = !more,
                Err(e) => {
                    let path = cur.path.clone();
                    tracing::error!(file = %path.display(), line = cur.line, error = %e, "read error; moved to failed");
                    self.current = None;
                    self.move_to(&path, &self.config.failed_dir.clone())?;
                    continue;
                }
            }
            if out.is_empty() && cur.eof {
                // Nothing left to acknowledge: the file is done.
                let path = cur.path.clone();
                self.current = None;
                self.move_to(&path, &self.config.done_dir.clone())?;
                continue;
            }
            return Ok(Some(out));
        }
    }

    async fn ack(&mut self, _batch: &[Record]) -> anyhow::Result<()> {
        // Batches never span files and are acknowledged in order, so once the last batch
        // of a file is acknowledged the whole file is durable.
        if self.current.as_ref().is_some_and(|c| c.eof) {
            let path = self.current.take().expect("current").path;
            let to = self.move_to(&path, &self.config.done_dir.clone())?;
            tracing::info!(file = %to.display(), "inbox file done");
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "inbox"
    }
}
