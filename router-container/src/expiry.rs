//! Local, on-time expiry: the agent alone removes a grant at its wall-clock `expires_at`, cloud
//! or no cloud. And reconciliation: the journal is the truth about our users; the router is
//! brought in line with it at start-up and periodically.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::watch;

use crate::agent::{Agent, now};
use crate::journal::{GrantState, purchase_of};

/// Longest sleep between checks, so a clock step or a missed wake costs at most this.
const MAX_SLEEP: Duration = Duration::from_secs(30);
const RETRY: Duration = Duration::from_secs(2);

/// A journal read that failed is logged, and the pass retries on its next round.
fn journal_read_failed<T>(e: crate::journal::JournalError) -> Vec<T> {
    tracing::error!(error = %e, "journal read failed");
    Vec::new()
}

impl Agent {
    /// Ends every grant and voucher whose time has come. Returns how many were ended; `Err`
    /// (RouterOS down) leaves the rest for the next try.
    pub async fn expire_due(&self) -> Result<usize, routeros::Error> {
        let t = now();
        let mut ended = 0;
        for g in self.journal.due_grants(t).unwrap_or_else(journal_read_failed) {
            self.router.remove_grant(&g).await?;
            if let Err(e) = self.journal.set_grant_state(&g.purchase_id, GrantState::Ended, None, t) {
                tracing::error!(error = %e, "journal write failed");
            }
            tracing::info!(purchase_id = %g.purchase_id, late_secs = t - g.expires_at, "grant expired");
            ended += 1;
        }
        for code in self.journal.due_vouchers(t).unwrap_or_else(journal_read_failed) {
            self.router.remove_user(code.as_str()).await?;
            let _ = self.journal.end_voucher(&code);
            tracing::info!(voucher = %code.grouped(), "voucher expired");
            ended += 1;
        }
        Ok(ended)
    }

    /// Runs expiry until shutdown: sleeps until the next expiry (or a wake), then ends what is due.
    pub async fn run_expiry(&self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let wait = match self.expire_due().await {
                Ok(_) => {
                    let next = self.journal.next_expiry().ok().flatten();
                    match next {
                        Some(at) => Duration::from_secs((at - now()).clamp(0, MAX_SLEEP.as_secs() as i64) as u64),
                        None => MAX_SLEEP,
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "expiry postponed: RouterOS not answering");
                    RETRY
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.expiry_wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Retries journaled jobs not yet applied (after a crash, or while RouterOS was down) every
    /// `retry`; reconciles the router with the journal at start and every `reconcile`.
    pub async fn run_maintenance(&self, mut shutdown: watch::Receiver<bool>, retry: Duration, reconcile: Duration) {
        let mut last_reconcile: Option<std::time::Instant> = None;
        while !*shutdown.borrow() {
            if self.journal.jobs_waiting().unwrap_or(0) > 0 {
                self.retry_unfinished().await;
            }
            if last_reconcile.is_none_or(|t| t.elapsed() >= reconcile) {
                match self.reconcile_router().await {
                    Ok((re, rm)) => {
                        last_reconcile = Some(std::time::Instant::now());
                        if let Err(e) = self.journal.prune(now()) {
                            tracing::warn!(error = %e, "journal prune failed");
                        }
                        if re + rm > 0 {
                            tracing::info!(recreated = re, removed = rm, "router reconciled with the journal");
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "reconcile postponed"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retry) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Brings the router in line with the journal: live grants missing from the router are
    /// re-created; users we created whose grant has ended (or is unknown) are removed.
    pub async fn reconcile_router(&self) -> Result<(usize, usize), routeros::Error> {
        let t = now();
        let live: Vec<_> =
            self.journal.live_grants().unwrap_or_default().into_iter().filter(|g| g.expires_at > t).collect();
        let on_router: HashSet<String> = self.router.our_users().await?.into_iter().collect();
        let mut recreated = 0;
        for g in &live {
            if g.state == GrantState::Active && !on_router.contains(&g.username) {
                self.router.apply_grant(g).await?;
                tracing::warn!(purchase_id = %g.purchase_id, "grant missing on the router: re-created");
                recreated += 1;
            }
        }
        let keep: HashSet<&str> = live.iter().map(|g| g.username.as_str()).collect();
        let mut removed = 0;
        for name in on_router {
            let ours_and_dead = match purchase_of(&name) {
                Some(_) => !keep.contains(name.as_str()),
                // Voucher users: removed once ended, else kept.
                None => match name.parse() {
                    Ok(code) => self.journal.voucher(&code).ok().flatten().is_some_and(|v| v.ended),
                    Err(_) => false,
                },
            };
            if ours_and_dead {
                self.router.remove_user(&name).await?;
                tracing::warn!(user = %name, "stale user removed");
                removed += 1;
            }
        }
        Ok((recreated, removed))
    }
}
