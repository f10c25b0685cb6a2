//! JSONL input: an inbox folder watched for new files, and single files or stdin.

mod inbox;
mod reader;

pub use inbox::{InboxConfig, InboxSource};
pub use reader::{read_line, Line, ReaderSource, MAX_LINE_SCAN_BYTES};
