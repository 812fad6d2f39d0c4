//! Turning a decided purchase into its router job. The purchase is recorded first (in the
//! outbox); then, for a paid one, its session record; the job is sent; then the outbox mark is
//! removed. A crash in between leaves the
//! purchase in the outbox, and the reconciler's sweep sends it again: the job's id is derived
//! from the purchase, so SQS and the agent's journal both drop the repeat.

use std::collections::HashMap;

use hotspot_core::wire::{Grant, GrantSource, MessageType, Payload, PaymentFailed, PaymentFailure};
use hotspot_core::{MessageId, PurchaseId, RouterId};

use crate::jobs::{JobError, send_job};
use crate::store::{Purchase, PurchaseState, RouterRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("router {0} is not registered")]
    UnknownRouter(String),
}

/// The job a purchase in this state owes its router, if any.
pub fn job_for(p: &Purchase) -> Option<(MessageId, Payload)> {
    match p.state {
        PurchaseState::Paid | PurchaseState::Active => {
            let expires_at = p.expires_at?;
            let receipt = p.receipt.clone().unwrap_or_default();
            Some((
                MessageId::for_job(MessageType::Grant, &p.id),
                Payload::Grant(Grant {
                    purchase_id: p.id.clone(),
                    mac: p.mac,
                    ip: p.ip,
                    package: p.package.clone(),
                    expires_at,
                    source: GrantSource::Mpesa { receipt },
                    phone: Some(p.phone.clone()),
                }),
            ))
        }
        PurchaseState::Failed | PurchaseState::AmountMismatch | PurchaseState::Unknown => Some((
            MessageId::for_job(MessageType::PaymentFailed, &p.id),
            Payload::PaymentFailed(PaymentFailed {
                purchase_id: p.id.clone(),
                reason: p.failure.unwrap_or(match p.state {
                    PurchaseState::AmountMismatch => PaymentFailure::AmountMismatch,
                    PurchaseState::Unknown => PaymentFailure::Unknown,
                    _ => PaymentFailure::Other,
                }),
                code: p.failure_code.clone().filter(|c| !c.is_empty()),
            }),
        )),
        PurchaseState::Pending => None,
    }
}

/// Sends the purchase's job if it is still owed, then clears the outbox mark.
pub async fn deliver(store: &Store, sqs: &aws_sdk_sqs::Client, p: &Purchase, now: i64) -> Result<bool, DeliverError> {
    deliver_via(store, sqs, &mut Routers::default(), p, now).await
}

/// The routers one sweep has read, so a router with many owed jobs is read once.
#[derive(Default)]
struct Routers(HashMap<RouterId, RouterRecord>);

impl Routers {
    async fn get(&mut self, store: &Store, id: &RouterId) -> Result<&RouterRecord, DeliverError> {
        if !self.0.contains_key(id) {
            let r = store.get_router(id).await?.ok_or_else(|| DeliverError::UnknownRouter(id.to_string()))?;
            self.0.insert(id.clone(), r);
        }
        Ok(&self.0[id])
    }
}

async fn deliver_via(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    routers: &mut Routers,
    p: &Purchase,
    now: i64,
) -> Result<bool, DeliverError> {
    if !p.job_pending {
        return Ok(false);
    }
    let Some((id, payload)) = job_for(p) else { return Ok(false) };
    if p.state.is_paid() {
        store.ensure_session(p).await?;
    }
    let router = routers.get(store, &p.router_id).await?;
    if router.disabled_at.is_some() {
        // Kept in the outbox, not counted as a failure: it goes out once the router is enabled.
        return Ok(false);
    }
    send_job(sqs, router, id.clone(), payload, now).await?;
    store.mark_job_queued(&p.id).await?;
    // A RADIUS-mode router gets no message (`send_job`): say so, or the log would point at a queue.
    let what = match router.mode() {
        crate::store::router::RouterMode::Agent => "job queued",
        crate::store::router::RouterMode::Radius => "job done: radius-mode router reads the store",
    };
    tracing::info!(purchase_id = %p.id, router_id = %p.router_id, job_id = %id, state = %p.state, "{what}");
    Ok(true)
}

/// One sweep takes at most this many jobs (every page, oldest first).
const SWEEP_AT_MOST: i32 = 1000;
/// A job that failed this many sweeps in a row is alarmed.
const STUCK_AFTER: i64 = 5;

/// Sends every job still in the outbox (decided at or before `upto`). Run by the reconciler each
/// minute; returns how many were queued.
pub async fn sweep_outbox(store: &Store, sqs: &aws_sdk_sqs::Client, upto: i64, now: i64) -> Result<usize, StoreError> {
    let mut sent = 0;
    let mut routers = Routers::default();
    for p in store.list_outbox(upto, SWEEP_AT_MOST).await? {
        match deliver_via(store, sqs, &mut routers, &p, now).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => {
                // To the back of the outbox: one that keeps failing never holds up the others.
                let failures = store.defer_outbox(&p.id, now).await?;
                if failures >= STUCK_AFTER {
                    tracing::error!(alarm = "outbox_stuck", purchase_id = %p.id, router_id = %p.router_id, failures, error = %e, "a decided purchase's job will not go out: check the router's record and queue");
                } else {
                    tracing::warn!(purchase_id = %p.id, failures, error = %e, "outbox job still not queued; moved to the back");
                }
            }
        }
    }
    Ok(sent)
}

/// The grants a router is owed now, each signed afresh: every live session at the router whose
/// purchase is paid, as its grant job, and every running subscriber account, as its
/// `account_set` (same id as first sent, so the agent's journal takes a
/// repeat of an applied one as a duplicate), with the session's expiry (an operator may have
/// extended it). The agent asks for these when it starts and after a long absence: a job that
/// went stale while the router was offline is re-signed here, not lost.
pub async fn owed_grants(store: &Store, router: &RouterRecord, now: i64) -> Result<Vec<String>, StoreError> {
    let live: HashMap<PurchaseId, i64> = store
        .list_live_sessions(Some(&router.id))
        .await?
        .into_iter()
        .filter(|s| s.expires_at > now)
        .map(|s| (s.purchase_id, s.expires_at))
        .collect();
    let ids: Vec<PurchaseId> = live.keys().cloned().collect();
    let mut purchases = store.get_purchases(&ids).await?;
    purchases.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let mut out = Vec::new();
    for p in purchases.into_iter().filter(|p| p.state.is_paid()) {
        let Some(&expires_at) = live.get(&p.id) else { continue };
        let Some((id, Payload::Grant(mut g))) = job_for(&p) else { continue };
        g.expires_at = expires_at;
        let env =
            hotspot_core::wire::Envelope::new(id, router.id.clone(), now, crate::jobs::JOB_TTL_SECS, Payload::Grant(g));
        out.push(env.sign(&router.key));
    }
    // The router's running subscriber accounts too, each as its `account_set` (same id as first
    // sent for that expiry: the agent takes one it applied as a duplicate).
    let mut packages: HashMap<hotspot_core::PackageId, Option<hotspot_core::Package>> = HashMap::new();
    for a in store.running_accounts(&router.id, now).await? {
        if !packages.contains_key(&a.package_id) {
            let p = store.get_package(&router.id, &a.package_id).await?.map(|r| r.package);
            packages.insert(a.package_id.clone(), p);
        }
        let Some(Some(package)) = packages.get(&a.package_id) else {
            tracing::warn!(account = %a.number, package = %a.package_id, "account's package is gone: not re-sent");
            continue;
        };
        let set = a.job(package.clone());
        let env = hotspot_core::wire::Envelope::new(
            set.job_id(),
            router.id.clone(),
            now,
            crate::jobs::JOB_TTL_SECS,
            Payload::AccountSet(set),
        );
        out.push(env.sign(&router.key));
    }
    Ok(out)
}
