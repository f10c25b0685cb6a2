//! Postings handed over in process (the crawler in embedded mode).

use tokio::sync::mpsc;
use xuncha_core::Posting;

use crate::record::{Origin, Payload, Record};
use crate::stage::Source;

/// Postings from an in-process channel; ends when every sender is dropped.
pub struct ChannelSource {
    rx: mpsc::Receiver<Posting>,
    seq: u64,
}

impl ChannelSource {
    /// Reads `rx`.
    pub fn new(rx: mpsc::Receiver<Posting>) -> ChannelSource {
        ChannelSource { rx, seq: 0 }
    }

    fn record(&mut self, p: Posting) -> Record {
        self.seq += 1;
        Record {
            origin: Origin::Channel { seq: self.seq },
            payload: Payload::Posting(Box::new(p)),
        }
    }
}

impl Source for ChannelSource {
    async fn next_batch(&mut self, max: usize) -> anyhow::Result<Option<Vec<Record>>> {
        let Some(first) = self.rx.recv().await else {
            return Ok(None);
        };
        let mut out = vec![self.record(first)];
        while out.len() < max {
            match self.rx.try_recv() {
                Ok(p) => {
                    let r = self.record(p);
                    out.push(r);
                }
                Err(_) => break,
            }
        }
        Ok(Some(out))
    }

    async fn ack(&mut self, _batch: &[Record]) -> anyhow::Result<()> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "channel"
    }
}
