//! Jobs from the router's queue: verify → journal → apply → record the outcome (with the report
//! owed upstream) → the caller deletes the message. A job that cannot be applied yet (RouterOS
//! down) stays in the journal and is retried from there; a job that can never be applied is
//! recorded as failed and reported, not retried forever. Used by the consumer (new messages)
//! and maintenance (unfinished ones).

use hotspot_core::wire::{Applied, ApplyFailed, Envelope, Payload, WireError};

use crate::agent::Agent;
use crate::crashpoint;
use crate::decide::job::{Admission, GrantStep, admit, grant_step};
use crate::journal::{GrantState, JobState, JournalError};
use crate::router::naming::username_for;

/// What to do with the SQS message after handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The journal holds the outcome (or the message is not ours): delete it.
    Delete,
    /// Not applied yet: leave it; the journal retries, and SQS redelivers.
    Keep,
}

/// Why a job is not finished yet.
#[derive(Debug, thiserror::Error)]
pub enum NotYet {
    #[error("router: {0}")]
    Router(#[from] routeros::Error),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

#[derive(Clone)]
pub struct JobHandler {
    agent: Agent,
}

impl JobHandler {
    pub fn new(agent: Agent) -> Self {
        JobHandler { agent }
    }

    /// Handles one message body from the queue.
    pub async fn handle_message(&self, body: &str) -> Disposition {
        let a = &self.agent;
        let t = a.now();
        let env = match a.keys.verify_job(body.as_bytes(), &a.cfg.router_id, Some(t)) {
            Ok(env) => env,
            Err(e) => {
                let id = Envelope::peek_id(body.as_bytes());
                tracing::error!(alarm = "job_rejected", job_id = ?id, error = %e, "job rejected");
                // It waited too long in the queue (the router was away): the cloud signs
                // what is still owed afresh when asked.
                if matches!(e, WireError::Stale { .. }) {
                    a.converge_wake.notify_one();
                }
                return match a.journal.reject_job(id.as_ref(), &e.to_string(), t) {
                    Ok(_) => Disposition::Delete,
                    Err(je) => {
                        tracing::error!(error = %je, "journal unavailable; leaving the message");
                        Disposition::Keep
                    }
                };
            }
        };
        let before = match a.journal.record_job(&env, body, t) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, job_id = %env.id, "journal unavailable; leaving the message");
                return Disposition::Keep;
            }
        };
        if let Admission::AlreadyDone(state) = admit(before) {
            tracing::info!(job_id = %env.id, state = ?state, "duplicate job: already done");
            return Disposition::Delete;
        }
        match self.apply(&env).await {
            Ok(()) => Disposition::Delete,
            Err(e) => {
                tracing::warn!(job_id = %env.id, error = %e, "job not applied yet; will retry from the journal");
                Disposition::Keep
            }
        }
    }

    /// Applies every journaled job that is not finished (after a restart, or once RouterOS is back).
    pub async fn retry_unfinished(&self) -> usize {
        let a = &self.agent;
        let jobs = match a.journal.unfinished_jobs() {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, "journal read failed");
                return 0;
            }
        };
        let mut done = 0;
        for (id, body) in jobs {
            // Verified when recorded; the journal is ours. Re-read without the freshness check,
            // since a job that waited out a RouterOS outage may have passed not_after meanwhile.
            let env = match a.keys.verify_job(body.as_bytes(), &a.cfg.router_id, None) {
                Ok(env) => env,
                Err(e) => {
                    let _ = a.journal.finish_job(&id, JobState::Failed, Some(&e.to_string()), &[], a.now());
                    continue;
                }
            };
            if self.apply(&env).await.is_ok() {
                done += 1;
            } else {
                break; // RouterOS still down: keep order, try later.
            }
        }
        done
    }

    /// Applies a journaled job and records its outcome. `Err` only when it should be retried.
    pub async fn apply(&self, env: &Envelope) -> Result<(), NotYet> {
        let a = &self.agent;
        let t = a.now();
        let applied_with = |online, wireguard| {
            Payload::Applied(Applied {
                job_id: env.id.clone(),
                job_type: env.payload.kind(),
                purchase_id: env.payload.purchase_id().cloned(),
                online,
                wireguard,
            })
        };
        let applied = |online| applied_with(online, None);
        // A grant's new state goes into the same commit as the job's outcome.
        let mut grant_update: Option<(GrantState, Option<bool>)> = None;
        let result: Result<Payload, String> = match &env.payload {
            Payload::Grant(g) => {
                let Some(rec) = a.journal.grant(&g.purchase_id)? else {
                    return Err(NotYet::Journal(JournalError::Corrupt("grant not journaled".into())));
                };
                match grant_step(&rec, t) {
                    GrantStep::AlreadyEnded => Ok(applied(false)),
                    GrantStep::TooLate => Err("grant expired before it could be applied".into()),
                    GrantStep::Apply => {
                        let online = a.router.apply_grant(&rec).await?;
                        crashpoint::hit("after_router_apply");
                        grant_update = Some((GrantState::Active, Some(online)));
                        tracing::info!(purchase_id = %g.purchase_id, online, "grant applied");
                        Ok(applied(online))
                    }
                }
            }
            Payload::Revoke(r) => {
                match a.journal.grant(&r.purchase_id)? {
                    Some(rec) => a.router.remove_grant(&rec).await?,
                    None => a.router.remove_user(&username_for(&r.purchase_id)).await?,
                }
                grant_update = Some((GrantState::Ended, None));
                tracing::info!(purchase_id = %r.purchase_id, reason = %r.reason, "grant revoked");
                Ok(applied(false))
            }
            Payload::Extend(x) => {
                if a.journal.set_grant_expiry(&x.purchase_id, x.expires_at, t)? {
                    a.expiry_wake.notify_one();
                    Ok(applied(false))
                } else {
                    Err("no live grant to extend".into())
                }
            }
            Payload::PaymentFailed(f) => {
                a.journal.record_payment_failure(&f.purchase_id, f.reason, f.code.as_deref(), t)?;
                Ok(applied(false))
            }
            Payload::PackagesSync(s) => {
                for p in &s.packages {
                    a.router.ensure_profile(p).await?;
                }
                a.journal.replace_packages(&s.packages)?;
                a.journal.set_market(&s.wallets, s.country)?;
                a.heartbeat_due.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(applied(false))
            }
            Payload::VouchersBatch(b) => {
                for code in &b.codes {
                    a.router.ensure_voucher(code, &b.package, &b.batch_id).await?;
                }
                a.journal.add_vouchers(&b.batch_id, &b.package, &b.codes)?;
                Ok(applied(false))
            }
            Payload::AccountSet(s) => {
                let change = a.journal.set_account(s, t)?;
                let Some(rec) = a.journal.account(&s.account)? else {
                    return Err(NotYet::Journal(JournalError::Corrupt("account not journaled".into())));
                };
                // Applied again on a resumed job too (the journal may hold it from before a crash).
                let mut server = None;
                if rec.expires_at <= t {
                    a.router.end_account(&rec).await?;
                    a.journal.end_account(&rec.number, rec.expires_at, t)?;
                } else if !rec.ended {
                    server = a.router.apply_account(&rec).await?;
                }
                a.expiry_wake.notify_one();
                tracing::info!(account = %rec.number, expires_at = rec.expires_at, change = ?change, "account set");
                Ok(applied_with(false, server))
            }
            other => Err(format!("{} is not a job", other.type_name())),
        };
        match result {
            Ok(report) => match (grant_update, env.payload.purchase_id()) {
                (Some((state, online)), Some(p)) => {
                    a.journal.finish_grant_job(&env.id, p, state, online, &[report], t)?;
                    a.expiry_wake.notify_one();
                }
                _ => a.journal.finish_job(&env.id, JobState::Applied, None, &[report], t)?,
            },
            Err(why) => {
                tracing::error!(alarm = "apply_failed", job_id = %env.id, error = %why, "job cannot be applied");
                let report = Payload::ApplyFailed(ApplyFailed {
                    job_id: env.id.clone(),
                    purchase_id: env.payload.purchase_id().cloned(),
                    error: why.clone(),
                    rejected: false,
                });
                a.journal.finish_job(&env.id, JobState::Failed, Some(&why), &[report], t)?;
            }
        }
        Ok(())
    }
}
