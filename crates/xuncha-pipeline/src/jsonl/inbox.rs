use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufReader, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::reader::read_lines;
use crate::decode::DEFAULT_MAX_RECORD_BYTES;
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
    /// A file is taken only once it has not changed for this long, in milliseconds, so a
    /// file still being copied in (`cp`, `scp`) is not read half-written.
    pub settle_ms: u64,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            dir: "data/inbox".into(),
            done_dir: "data/done".into(),
            failed_dir: "data/failed".into(),
            poll_ms: 500,
            settle_ms: 5000,
        }
    }
}

struct Current {
    path: PathBuf,
    /// Device, inode and modification time at open: which file of this name it is.
    id: String,
    reader: BufReader<File>,
    line: usize,
    eof: bool,
    /// Unreadable past some line: goes to `failed_dir` once what was read is durable.
    failed: bool,
}

/// A file moved to `done_dir`, still watched for a while: a writer that paused longer
/// than the settle time and then wrote on has lost those lines, and that must be loud.
struct Finished {
    at: PathBuf,
    file: File,
    read: u64,
    until: Instant,
}

/// How long a finished file is watched for a writer that comes back.
const WATCH_FINISHED: Duration = Duration::from_secs(120);
/// At most this many finished files are held open for that watch.
const MAX_WATCHED: usize = 64;

/// `*.jsonl` files dropped into a folder, each read once, in name order, and moved to
/// `done_dir` when every line is durable (or to `failed_dir` if it cannot be read).
///
/// Writers should write a file under another name (`x.jsonl.part`) and rename it into
/// place: only names ending in `.jsonl` are picked up. A file copied straight in is taken
/// only once it has been unchanged for `settle_ms`, and a file that still grows while it is
/// read is read on to its new end, with a warning. Size and time cannot tell a writer that
/// paused longer than `settle_ms` from one that finished: if it writes on after the file
/// was moved to `done_dir`, those lines are not scanned, and for two minutes after the
/// move that is logged as an error naming the file. A crash leaves the file in the inbox,
/// and the next start reads it again; lead ids make the second pass add nothing.
///
/// One process owns an inbox: a lock file (`.xuncha.lock`, holding the owner's pid) keeps
/// a second `run` on the same folder from starting. Links are never followed: a link in
/// the inbox goes to `failed_dir` unread.
pub struct InboxSource {
    config: InboxConfig,
    current: Option<Current>,
    /// Stop once the inbox is empty instead of waiting for more.
    once: bool,
    limit: usize,
    /// Files that could be neither read nor moved: skipped until the process restarts.
    stuck: HashSet<PathBuf>,
    finished: Vec<Finished>,
    /// Held for the life of the source; the OS drops the lock when the process dies.
    _lock: File,
}

/// The name of the lock file in the inbox.
pub const LOCK_FILE: &str = ".xuncha.lock";

impl InboxSource {
    /// Watches `config.dir`, creating the folders (0700) if needed, and locks it.
    pub fn new(config: InboxConfig, once: bool) -> anyhow::Result<InboxSource> {
        for d in [&config.dir, &config.done_dir, &config.failed_dir] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(d)
                .with_context(|| format!("creating {}", d.display()))?;
        }
        let lock = lock(&config.dir)?;
        Ok(InboxSource {
            config,
            current: None,
            once,
            limit: DEFAULT_MAX_RECORD_BYTES,
            stuck: HashSet::new(),
            finished: Vec::new(),
            _lock: lock,
        })
    }

    /// Holds at most `limit` bytes of a line; longer lines become too-large records.
    pub fn max_record_bytes(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The first `.jsonl` file by name that has settled, and whether others wait to settle.
    fn next_file(&mut self) -> anyhow::Result<(Option<PathBuf>, bool)> {
        let mut files: Vec<(PathBuf, fs::FileType)> = fs::read_dir(&self.config.dir)
            .with_context(|| format!("reading {}", self.config.dir.display()))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_type().ok().map(|t| (e.path(), t)))
            .filter(|(p, _)| p.extension().is_some_and(|x| x == "jsonl"))
            .filter(|(p, _)| !self.stuck.contains(p))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let settle = Duration::from_millis(self.config.settle_ms);
        let mut waiting = false;
        for (path, kind) in files {
            if kind.is_symlink() || !kind.is_file() {
                tracing::error!(file = %path.display(), "not a regular file (a link or a folder): moved to failed unread");
                self.give_up(&path);
                continue;
            }
            let settled = fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() >= settle)
                .unwrap_or(true);
            if settled {
                return Ok((Some(path), waiting));
            }
            waiting = true;
        }
        Ok((None, waiting))
    }

    /// Moves `path` to `dir`; a file that vanished or cannot be moved is that file's
    /// problem, logged and skipped, never the process's.
    fn move_to(&mut self, path: &Path, dir: &Path) -> Option<PathBuf> {
        let name = path.file_name().unwrap_or_default();
        let mut target = dir.join(name);
        if target.exists() {
            // A file of the same name was processed before: keep both.
            let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
            target = dir.join(format!("{}.{stamp}", name.to_string_lossy()));
        }
        match fs::rename(path, &target) {
            Ok(()) => Some(target),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::error!(file = %path.display(), "file vanished from the inbox before it could be moved");
                None
            }
            Err(e) => {
                tracing::error!(file = %path.display(), to = %target.display(), error = %e, "cannot move; skipped until restart");
                self.stuck.insert(path.to_path_buf());
                None
            }
        }
    }

    fn give_up(&mut self, path: &Path) {
        let failed = self.config.failed_dir.clone();
        self.move_to(path, &failed);
    }

    /// At the end of the current file: whether it is complete, so it can be finished.
    /// A file that grew since it was opened is read on.
    fn complete(&mut self) -> bool {
        let settle = Duration::from_millis(self.config.settle_ms);
        let cur = self.current.as_mut().expect("a current file");
        if cur.failed {
            return true;
        }
        let meta = cur.reader.get_ref().metadata();
        let pos = cur.reader.stream_position();
        match (meta, pos) {
            (Ok(m), Ok(pos)) if m.len() > pos => {
                tracing::warn!(file = %cur.path.display(), read = pos, size = m.len(), "file grew while it was read (copy files in under another name and rename them): reading on");
                cur.eof = false;
                false
            }
            (Ok(m), _)
                if m.modified()
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|age| age < settle) =>
            {
                false
            }
            _ => true,
        }
    }
}

/// Takes the inbox's lock file, or says who holds it.
fn lock(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "the inbox {} is in use by another xuncha process ({}); one process per inbox",
                dir.display(),
                holder.trim()
            );
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
    f.set_len(0)?;
    let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    writeln!(
        f,
        "pid {} on {} since {}",
        std::process::id(),
        host.trim(),
        time::OffsetDateTime::now_utc()
    )?;
    Ok(f)
}

/// Out of file descriptors (this process's or the system's): the file is fine, the moment
/// is not.
fn is_transient(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

fn file_id(f: &File) -> String {
    match f.metadata() {
        Ok(m) => format!("{}:{}:{}.{}", m.dev(), m.ino(), m.mtime(), m.mtime_nsec()),
        Err(_) => String::new(),
    }
}

impl Source for InboxSource {
    async fn next_batch(&mut self, max: usize) -> anyhow::Result<Option<Vec<Record>>> {
        let poll = Duration::from_millis(self.config.poll_ms);
        loop {
            self.watch_finished();
            if self.current.is_none() {
                let listed = match self.next_file() {
                    Ok(l) => l,
                    // Out of descriptors, a folder briefly away: wait, never stop for it.
                    Err(e) if !self.once => {
                        tracing::warn!(error = %format!("{e:#}"), "cannot list the inbox; retrying");
                        tokio::time::sleep(poll).await;
                        return Ok(Some(Vec::new()));
                    }
                    Err(e) => return Err(e),
                };
                match listed {
                    (Some(path), _) => {
                        let opened = fs::OpenOptions::new()
                            .read(true)
                            // A file swapped for a link after the listing is refused too.
                            .custom_flags(libc::O_NOFOLLOW)
                            .open(&path);
                        match opened {
                            Ok(f) => {
                                tracing::info!(file = %path.display(), "reading inbox file");
                                self.current = Some(Current {
                                    id: file_id(&f),
                                    reader: BufReader::with_capacity(1 << 16, f),
                                    path,
                                    line: 0,
                                    eof: false,
                                    failed: false,
                                });
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                                tracing::error!(file = %path.display(), "file vanished from the inbox before it was read");
                            }
                            Err(e) if is_transient(&e) => {
                                tracing::warn!(file = %path.display(), error = %e, "cannot open now; retrying");
                                tokio::time::sleep(poll).await;
                                return Ok(Some(Vec::new()));
                            }
                            Err(e) => {
                                tracing::error!(file = %path.display(), error = %e, "cannot open; moved to failed");
                                self.give_up(&path);
                            }
                        }
                        continue;
                    }
                    (None, false) if self.once => return Ok(None),
                    (None, _) => {
                        tokio::time::sleep(poll).await;
                        return Ok(Some(Vec::new()));
                    }
                }
            }
            let limit = self.limit;
            let cur = self.current.as_mut().expect("a current file");
            let mut out = Vec::new();
            let read = read_lines(
                (&cur.path, Some(&cur.id)),
                &mut cur.reader,
                &mut cur.line,
                (max, limit),
                &mut out,
            );
            match read {
                Ok(more) => cur.eof = !more,
                Err(e) => {
                    let path = cur.path.clone();
                    tracing::error!(file = %path.display(), line = cur.line, error = %e, "read error; moved to failed");
                    cur.eof = true;
                    cur.failed = true;
                    if !out.is_empty() {
                        // Lines read before the error are scanned; the file is given up
                        // once they are acknowledged.
                        return Ok(Some(out));
                    }
                    self.finish();
                    continue;
                }
            }
            if out.is_empty() && cur.eof {
                if !self.complete() {
                    if self.current.as_ref().is_some_and(|c| !c.eof) {
                        continue;
                    }
                    tokio::time::sleep(poll).await;
                    return Ok(Some(Vec::new()));
                }
                // Nothing left to acknowledge: the file is done.
                self.finish();
                continue;
            }
            return Ok(Some(out));
        }
    }

    async fn ack(&mut self, _batch: &[Record]) -> anyhow::Result<()> {
        // Batches never span files and are acknowledged in order, so once the last batch
        // of a file is acknowledged the whole file is durable.
        if self.current.as_ref().is_some_and(|c| c.eof) && self.complete() {
            self.finish();
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "inbox"
    }
}

impl InboxSource {
    fn finish(&mut self) {
        let Some(mut cur) = self.current.take() else {
            return;
        };
        let to = match cur.failed {
            true => self.config.failed_dir.clone(),
            false => self.config.done_dir.clone(),
        };
        let read = cur.reader.stream_position();
        if let Some(to) = self.move_to(&cur.path, &to) {
            tracing::info!(file = %to.display(), lines = cur.line, failed = cur.failed, "inbox file done");
            if let (false, Ok(read)) = (cur.failed, read) {
                if self.finished.len() >= MAX_WATCHED {
                    self.finished.remove(0);
                }
                self.finished.push(Finished {
                    at: to,
                    file: cur.reader.into_inner(),
                    read,
                    until: Instant::now() + WATCH_FINISHED,
                });
            }
        }
    }

    /// Files finished lately that have grown since: the writer paused past the settle
    /// time, so what it wrote after is in `done_dir` unscanned. Said once per file.
    fn watch_finished(&mut self) {
        let now = Instant::now();
        self.finished.retain(|f| {
            let size = f.file.metadata().map(|m| m.len()).unwrap_or(0);
            if size > f.read {
                tracing::error!(
                    file = %f.at.display(),
                    scanned_bytes = f.read,
                    size,
                    "file grew after it was finished: the bytes past those scanned were NOT scanned (the writer paused longer than the settle time; copy files in under another name and rename them)"
                );
                return false;
            }
            now < f.until
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(root: &Path) -> InboxConfig {
        InboxConfig {
            dir: root.join("inbox"),
            done_dir: root.join("done"),
            failed_dir: root.join("failed"),
            poll_ms: 10,
            settle_ms: 0,
        }
    }

    #[tokio::test]
    async fn a_file_that_vanishes_mid_scan_is_its_own_error_not_the_process() {
        let root = tempfile::tempdir().unwrap();
        let mut src = InboxSource::new(config(root.path()), true).unwrap();
        let path = root.path().join("inbox/a.jsonl");
        fs::write(&path, "{\"id\":\"a\",\"text\":\"x\"}\n").unwrap();
        let batch = src.next_batch(10).await.unwrap().unwrap();
        assert_eq!(batch.len(), 1);
        fs::remove_file(&path).unwrap();
        src.ack(&batch).await.unwrap();
        assert!(src.next_batch(10).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_done_folder_that_refuses_the_move_is_each_files_own_error() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let mut src = InboxSource::new(config(root.path()), true).unwrap();
        let done = root.path().join("done");
        fs::set_permissions(&done, fs::Permissions::from_mode(0o500)).unwrap();
        if fs::write(done.join("probe"), "").is_ok() {
            // Privileged (root ignores the mode bits): a plain file where the folder was
            // refuses the move for anyone.
            fs::remove_dir_all(&done).unwrap();
            fs::write(&done, "").unwrap();
        }
        for name in ["a", "b"] {
            let line = format!("{{\"id\":\"{name}\",\"text\":\"x\"}}\n");
            fs::write(root.path().join(format!("inbox/{name}.jsonl")), line).unwrap();
        }
        for name in ["a", "b"] {
            let batch = src.next_batch(10).await.unwrap().unwrap();
            assert_eq!(batch.len(), 1);
            assert!(
                matches!(&batch[0].origin, crate::record::Origin::File { file, .. } if file.ends_with(format!("{name}.jsonl")))
            );
            src.ack(&batch).await.unwrap();
        }
        // Both were read and the source ran on to its end; each unmovable file stays in
        // the inbox for the next start.
        assert!(src.next_batch(10).await.unwrap().is_none());
        for name in ["a", "b"] {
            assert!(root.path().join(format!("inbox/{name}.jsonl")).exists());
        }
        // So the temporary folder can be removed.
        fs::set_permissions(&done, fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[tokio::test]
    async fn a_second_source_on_one_inbox_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let _first = InboxSource::new(config(root.path()), true).unwrap();
        let err = InboxSource::new(config(root.path()), true)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
    }
}
