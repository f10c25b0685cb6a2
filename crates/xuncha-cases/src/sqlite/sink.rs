use std::sync::Arc;

use xuncha_core::Lead;

use crate::sqlite::CaseQueue;
use xuncha_core::now_rfc3339;
use xuncha_pipeline::{CaseStore, DeadLetter, DeadLetterSink, LeadSink};

/// Leads and dead letters into the case queue; durable once the transaction commits.
#[derive(Clone)]
pub struct SqliteSink(pub Arc<CaseQueue>);

impl LeadSink for SqliteSink {
    async fn write(&self, leads: &[Lead]) -> anyhow::Result<()> {
        let q = self.0.clone();
        let leads = leads.to_vec();
        tokio::task::spawn_blocking(move || q.upsert(&leads, &now_rfc3339())).await??;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

impl CaseStore for SqliteSink {
    async fn file(&self, leads: &[Lead]) -> anyhow::Result<usize> {
        let q = self.0.clone();
        let leads = leads.to_vec();
        tokio::task::spawn_blocking(move || q.upsert(&leads, &now_rfc3339())).await?
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

impl DeadLetterSink for SqliteSink {
    async fn write(&self, dead: &[DeadLetter]) -> anyhow::Result<()> {
        let q = self.0.clone();
        let dead = dead.to_vec();
        tokio::task::spawn_blocking(move || q.insert_dead_letters(&dead)).await??;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}
