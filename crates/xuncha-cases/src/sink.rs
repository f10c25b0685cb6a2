use std::sync::Arc;

use xuncha_core::{now_rfc3339, Lead};
use xuncha_pipeline::{CaseStore, DeadLetter, DeadLetterSink, LeadSink};

use crate::CaseQueue;

/// Leads and dead letters into the case queue; durable once the transaction commits. The
/// queue's calls block (on a SQLite lock or a PostgreSQL round trip), so they run on
/// tokio's blocking threads.
#[derive(Clone)]
pub struct CaseSink(pub Arc<CaseQueue>);

impl LeadSink for CaseSink {
    async fn write(&self, leads: &[Lead]) -> anyhow::Result<()> {
        let q = self.0.clone();
        let leads = leads.to_vec();
        tokio::task::spawn_blocking(move || q.upsert(&leads, &now_rfc3339())).await??;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "case_store"
    }
}

impl CaseStore for CaseSink {
    async fn file(&self, leads: &[Lead]) -> anyhow::Result<usize> {
        let q = self.0.clone();
        let leads = leads.to_vec();
        tokio::task::spawn_blocking(move || q.upsert(&leads, &now_rfc3339())).await?
    }

    fn name(&self) -> &'static str {
        "case_store"
    }
}

impl DeadLetterSink for CaseSink {
    async fn write(&self, dead: &[DeadLetter]) -> anyhow::Result<()> {
        let q = self.0.clone();
        let dead = dead.to_vec();
        tokio::task::spawn_blocking(move || q.insert_dead_letters(&dead)).await??;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "case_store"
    }
}
