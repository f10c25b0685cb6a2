//! The two interfaces every input and output implements.

use std::future::Future;

use xuncha_core::Lead;

use crate::record::{DeadLetter, Record};

/// An input of postings.
///
/// The scan loop asks for a batch, makes every lead and dead letter of it durable, and only
/// then acknowledges the batch: a source must not consider a record done (commit its offset,
/// move its file) before [`Source::ack`].
pub trait Source: Send {
    /// Waits for the next records, at most `max`; `Ok(None)` when a finite input is exhausted.
    fn next_batch(
        &mut self,
        max: usize,
    ) -> impl Future<Output = anyhow::Result<Option<Vec<Record>>>> + Send;

    /// Every record of `batch` is durable downstream.
    fn ack(&mut self, batch: &[Record]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Short name for logs and metrics.
    fn name(&self) -> &'static str;
}

/// An output of leads. `write` returns only once the leads are durable (acknowledged by
/// Kafka, committed in SQLite); an error means none of them may be counted as written.
pub trait LeadSink: Send + Sync {
    /// Makes `leads` durable.
    fn write(&self, leads: &[Lead]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Short name for logs and metrics.
    fn name(&self) -> &'static str;
}

/// An output of dead letters, durable on return like [`LeadSink`].
pub trait DeadLetterSink: Send + Sync {
    /// Makes `dead` durable.
    fn write(&self, dead: &[DeadLetter]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Short name for logs and metrics.
    fn name(&self) -> &'static str;
}

/// A case store that files leads: like a [`LeadSink`], durable on return, and it says how
/// many of them it did not hold before.
pub trait CaseStore: Send + Sync {
    /// Files `leads`; returns how many were new.
    fn file(&self, leads: &[Lead]) -> impl Future<Output = anyhow::Result<usize>> + Send;

    /// Short name for logs and metrics.
    fn name(&self) -> &'static str;
}
