//! Local, on-time expiry: the agent alone removes a grant (and ends an account) at its wall-clock
//! `expires_at`, cloud or no cloud.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::Agent;
use crate::decide::expiry::{RETRY, rest_until};
use crate::journal::{GrantState, JournalError};

pub struct Expirer {
    agent: Agent,
}

/// A journal read that failed is logged, and the pass retries on its next round.
fn journal_read_failed<T>(e: JournalError) -> Vec<T> {
    tracing::error!(error = %e, "journal read failed");
    Vec::new()
}

impl Expirer {
    pub fn new(agent: Agent) -> Self {
        Expirer { agent }
    }

    /// Ends every grant and voucher whose time has come. Returns how many were ended; `Err`
    /// (RouterOS down) leaves the rest for the next try.
    pub async fn expire_due(&self) -> Result<usize, routeros::Error> {
        let a = &self.agent;
        let t = a.now();
        let mut ended = 0;
        for g in a.journal.due_grants(t).unwrap_or_else(journal_read_failed) {
            a.router.remove_grant(&g).await?;
            if let Err(e) = a.journal.set_grant_state(&g.purchase_id, GrantState::Ended, None, t) {
                tracing::error!(error = %e, "journal write failed");
            }
            tracing::info!(purchase_id = %g.purchase_id, late_secs = t - g.expires_at, "grant expired");
            ended += 1;
        }
        for acc in a.journal.due_accounts(t).unwrap_or_else(journal_read_failed) {
            a.router.end_account(&acc).await?;
            if let Err(e) = a.journal.end_account(&acc.number, acc.expires_at, t) {
                tracing::error!(error = %e, "journal write failed");
            }
            tracing::info!(account = %acc.number, late_secs = t - acc.expires_at, "account expired");
            ended += 1;
        }
        for code in a.journal.due_vouchers(t).unwrap_or_else(journal_read_failed) {
            a.router.remove_user(code.as_str()).await?;
            let _ = a.journal.end_voucher(&code);
            tracing::info!(voucher = %code.masked(), "voucher expired");
            ended += 1;
        }
        Ok(ended)
    }
}

impl Worker for Expirer {
    async fn round(&mut self, _: &mut Shutdown) -> Duration {
        if let Some(rest) = self.agent.wait_for_clock("expiry") {
            return rest;
        }
        match self.expire_due().await {
            Ok(_) => rest_until(self.agent.journal.next_expiry().ok().flatten(), self.agent.now()),
            Err(e) => {
                tracing::warn!(error = %e, "expiry postponed: RouterOS not answering");
                RETRY
            }
        }
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        Some(self.agent.expiry_wake.clone())
    }
}
