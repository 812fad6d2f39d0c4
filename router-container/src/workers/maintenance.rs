//! Maintenance: retries journaled jobs not yet applied (after a crash, or while RouterOS was
//! down), and brings the router in line with the journal at start and periodically.

use std::time::{Duration, Instant};

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::Agent;
use crate::decide::reconcile::plan;
use crate::jobs::JobHandler;

/// Why the router was not brought in line this round.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("router: {0}")]
    Router(#[from] routeros::Error),
    /// Not knowing what is live must not look like "nothing is": that would remove every
    /// paying guest's user. Nothing is touched this round.
    #[error("journal unreadable, router left as it is: {0}")]
    Journal(#[from] crate::journal::JournalError),
}

pub struct Maintenance {
    agent: Agent,
    jobs: JobHandler,
    retry: Duration,
    reconcile_every: Duration,
    last_reconcile: Option<Instant>,
}

impl Maintenance {
    pub fn new(agent: Agent, retry: Duration, reconcile_every: Duration) -> Self {
        Maintenance { jobs: JobHandler::new(agent.clone()), agent, retry, reconcile_every, last_reconcile: None }
    }

    /// Brings the router in line with the journal: live grants missing from the router are
    /// re-created; users we created whose grant has ended (or is unknown) are removed.
    pub async fn reconcile_router(&self) -> Result<(usize, usize), ReconcileError> {
        let a = &self.agent;
        let live = a.journal.live_grants()?;
        let on_router = a.router.our_users().await?;
        let voucher_ended =
            |c: &hotspot_core::VoucherCode| a.journal.voucher(c).ok().flatten().is_some_and(|v| v.ended);
        let p = plan(&live, &on_router, voucher_ended, a.now());
        for id in &p.recreate {
            if let Some(g) = live.iter().find(|g| &g.purchase_id == id) {
                a.router.apply_grant(g).await?;
                tracing::warn!(purchase_id = %g.purchase_id, "grant missing on the router: re-created");
            }
        }
        for name in &p.remove {
            a.router.remove_user(name).await?;
            tracing::warn!(user = %name, "stale user removed");
        }
        Ok((p.recreate.len(), p.remove.len()))
    }
}

impl Worker for Maintenance {
    async fn round(&mut self, _: &mut Shutdown) -> Duration {
        // What is live and what is due both depend on the time.
        if let Some(rest) = self.agent.wait_for_clock("maintenance") {
            return rest;
        }
        if self.agent.journal.jobs_waiting().unwrap_or(0) > 0 {
            self.jobs.retry_unfinished().await;
        }
        if self.last_reconcile.is_none_or(|t| t.elapsed() >= self.reconcile_every) {
            match self.reconcile_router().await {
                Ok((re, rm)) => {
                    self.last_reconcile = Some(Instant::now());
                    if let Err(e) = self.agent.journal.prune(self.agent.now()) {
                        tracing::warn!(error = %e, "journal prune failed");
                    }
                    if re + rm > 0 {
                        tracing::info!(recreated = re, removed = rm, "router reconciled with the journal");
                    }
                }
                Err(e @ ReconcileError::Journal(_)) => {
                    tracing::error!(alarm = "journal_unreadable", error = %e, "reconcile skipped")
                }
                Err(e) => tracing::debug!(error = %e, "reconcile postponed"),
            }
        }
        self.retry
    }
}
