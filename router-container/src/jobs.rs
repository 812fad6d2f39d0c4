//! Jobs from the router's SQS FIFO queue: verify → journal → apply → record outcome (with the
//! report owed upstream) → delete the message. A job that cannot be applied yet (RouterOS down)
//! stays in the journal and is retried from there; a job that can never be applied is recorded
//! as failed and reported, not retried forever.

use std::time::Duration;

use hotspot_core::wire::{Applied, ApplyFailed, Direction, Envelope, Payload};
use tokio::sync::watch;

use crate::agent::{Agent, now};
use crate::crashpoint;
use crate::journal::{GrantState, JobState};

/// Long poll, as SQS allows at most.
pub const WAIT_SECS: i32 = 20;
/// Time to apply a batch before SQS offers the messages again.
pub const VISIBILITY_SECS: i32 = 60;

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
    Journal(#[from] crate::journal::JournalError),
}

impl Agent {
    /// Polls the queue until `shutdown` turns true.
    pub async fn consume(&self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(1);
        while !*shutdown.borrow() {
            let recv = self
                .sqs
                .receive_message()
                .queue_url(&self.cfg.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(WAIT_SECS)
                .visibility_timeout(VISIBILITY_SECS)
                .send();
            let out = tokio::select! {
                r = recv => r,
                _ = shutdown.changed() => break,
            };
            match out {
                Ok(out) => {
                    backoff = Duration::from_secs(1);
                    for m in out.messages.unwrap_or_default() {
                        let (Some(body), Some(handle)) = (m.body, m.receipt_handle) else { continue };
                        if self.handle_message(&body).await == Disposition::Delete {
                            crashpoint::hit("before_sqs_delete");
                            if let Err(e) = self
                                .sqs
                                .delete_message()
                                .queue_url(&self.cfg.queue_url)
                                .receipt_handle(handle)
                                .send()
                                .await
                            {
                                // Harmless: the redelivered copy is a journaled duplicate.
                                tracing::warn!(error = %e, "SQS delete failed");
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "SQS receive failed (cloud unreachable?)");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// Handles one message body from the queue.
    pub async fn handle_message(&self, body: &str) -> Disposition {
        let t = now();
        let env = match Envelope::verify(
            body.as_bytes(),
            &self.cfg.router_key,
            &self.cfg.router_id,
            t,
            Direction::CloudToRouter,
        ) {
            Ok(env) => env,
            Err(e) => {
                let id = Envelope::peek_id(body.as_bytes());
                tracing::error!(alarm = "job_rejected", job_id = ?id, error = %e, "job rejected");
                return match self.journal.reject_job(id.as_ref(), &e.to_string(), t) {
                    Ok(_) => Disposition::Delete,
                    Err(je) => {
                        tracing::error!(error = %je, "journal unavailable; leaving the message");
                        Disposition::Keep
                    }
                };
            }
        };
        let state = match self.journal.record_job(&env, body, t) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, job_id = %env.id, "journal unavailable; leaving the message");
                return Disposition::Keep;
            }
        };
        if state.is_final() {
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
        let jobs = match self.journal.unfinished_jobs() {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, "journal read failed");
                return 0;
            }
        };
        let mut done = 0;
        for (id, body) in jobs {
            // Verified when recorded; the journal is ours. Re-parse without the freshness check,
            // since a job that waited out a RouterOS outage may have passed not_after meanwhile.
            let env = match reparse(&body, self) {
                Ok(env) => env,
                Err(e) => {
                    let _ = self.journal.finish_job(&id, JobState::Failed, Some(&e.to_string()), &[], now());
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
        let t = now();
        let applied = |purchase_id, online| {
            Payload::Applied(Applied { job_id: env.id.clone(), job_type: env.payload.kind(), purchase_id, online })
        };
        let result: Result<Payload, String> = match &env.payload {
            Payload::Grant(g) => {
                let Some(rec) = self.journal.grant(&g.purchase_id)? else {
                    return Err(NotYet::Journal(crate::journal::JournalError::Corrupt("grant not journaled".into())));
                };
                if rec.state == GrantState::Ended {
                    Ok(applied(Some(g.purchase_id.clone()), false))
                } else if rec.expires_at <= t {
                    Err("grant expired before it could be applied".into())
                } else {
                    let online = self.router.apply_grant(&rec).await?;
                    crashpoint::hit("after_router_apply");
                    self.journal.set_grant_state(&g.purchase_id, GrantState::Active, Some(online), t)?;
                    self.expiry_wake.notify_one();
                    tracing::info!(purchase_id = %g.purchase_id, online, "grant applied");
                    Ok(applied(Some(g.purchase_id.clone()), online))
                }
            }
            Payload::Revoke(r) => {
                match self.journal.grant(&r.purchase_id)? {
                    Some(rec) => self.router.remove_grant(&rec).await?,
                    None => self.router.remove_user(&crate::journal::username_for(&r.purchase_id)).await?,
                }
                self.journal.set_grant_state(&r.purchase_id, GrantState::Ended, None, t)?;
                tracing::info!(purchase_id = %r.purchase_id, reason = %r.reason, "grant revoked");
                Ok(applied(Some(r.purchase_id.clone()), false))
            }
            Payload::Extend(x) => {
                if self.journal.set_grant_expiry(&x.purchase_id, x.expires_at, t)? {
                    self.expiry_wake.notify_one();
                    Ok(applied(Some(x.purchase_id.clone()), false))
                } else {
                    Err("no live grant to extend".into())
                }
            }
            Payload::PaymentFailed(f) => {
                self.journal.record_payment_failure(&f.purchase_id, f.reason, f.code.as_deref(), t)?;
                Ok(applied(Some(f.purchase_id.clone()), false))
            }
            Payload::PackagesSync(s) => {
                for p in &s.packages {
                    self.router.ensure_profile(p).await?;
                }
                self.journal.replace_packages(&s.packages)?;
                Ok(applied(None, false))
            }
            Payload::VouchersBatch(b) => {
                for code in &b.codes {
                    self.router.ensure_voucher(code, &b.package, &b.batch_id).await?;
                }
                self.journal.add_vouchers(&b.batch_id, &b.package, &b.codes)?;
                Ok(applied(None, false))
            }
            other => Err(format!("{} is not a job", other.type_name())),
        };
        match result {
            Ok(report) => self.journal.finish_job(&env.id, JobState::Applied, None, &[report], t)?,
            Err(why) => {
                tracing::error!(alarm = "apply_failed", job_id = %env.id, error = %why, "job cannot be applied");
                let report = Payload::ApplyFailed(ApplyFailed {
                    job_id: env.id.clone(),
                    purchase_id: env.payload.purchase_id().cloned(),
                    error: why.clone(),
                    rejected: false,
                });
                self.journal.finish_job(&env.id, JobState::Failed, Some(&why), &[report], t)?;
            }
        }
        Ok(())
    }
}

/// Re-reads a journaled job, checking its signature but not its freshness.
fn reparse(body: &str, agent: &Agent) -> Result<Envelope, hotspot_core::wire::WireError> {
    Envelope::verify_kept(body.as_bytes(), &agent.cfg.router_key, &agent.cfg.router_id, Direction::CloudToRouter)
}
