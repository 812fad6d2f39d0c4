//! Converge: asks the cloud for the grants this router is owed and handles each like a job from
//! the queue. A job refused as stale (the router was away longer than a job lives), a queue out
//! of reach for long, or a restart could otherwise leave a paid grant unapplied; the cloud
//! re-signs every live paid session's grant under its first id, so one already applied is only
//! a duplicate and nothing is granted twice.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::Agent;
use crate::cloud::CloudApi;
use crate::jobs::JobHandler;

/// Asked at start, when woken (`Agent::converge_wake`) and at least this often.
pub const EVERY: Duration = Duration::from_secs(6 * 3600);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub struct Converge {
    agent: Agent,
    cloud: CloudApi,
    jobs: JobHandler,
    backoff: Duration,
}

impl Converge {
    pub fn new(agent: Agent, cloud: CloudApi) -> Self {
        Converge { jobs: JobHandler::new(agent.clone()), agent, cloud, backoff: Duration::from_secs(1) }
    }

    /// One ask: how many owed grants the cloud listed.
    pub async fn converge(&self) -> Result<usize, crate::cloud::CloudError> {
        let owed = self.cloud.owed_grants().await?;
        for body in &owed {
            // Kept messages are retried from the journal by maintenance, like queued ones.
            self.jobs.handle_message(body).await;
        }
        Ok(owed.len())
    }
}

impl Worker for Converge {
    async fn round(&mut self, _: &mut Shutdown) -> Duration {
        // Requests are signed with the time, and jobs judged by it.
        if let Some(rest) = self.agent.wait_for_clock("owed grants") {
            return rest;
        }
        match self.converge().await {
            Ok(n) => {
                tracing::info!(owed = n, "owed grants asked for and handled");
                self.backoff = Duration::from_secs(1);
                EVERY
            }
            Err(e) => {
                let wait = self.backoff;
                tracing::warn!(error = %e, retry_in = ?wait, "owed grants not fetched yet");
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                wait
            }
        }
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        Some(self.agent.converge_wake.clone())
    }
}
