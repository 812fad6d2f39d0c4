//! Router events from the shared events queue: each is a message signed by its router.

use hotspot_core::wire::{Direction, Envelope, MessageType, Payload, WireError};

use hotspot_cloud::jobs::{packages_digest, sync_packages};
use hotspot_cloud::store::{RouterHealth, RouterRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("rejected: {0}")]
    Rejected(#[from] WireError),
    #[error("rejected: message names no known router")]
    UnknownRouter,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies and applies one router event.
pub async fn handle_event(store: &Store, sqs: &aws_sdk_sqs::Client, body: &[u8], now: i64) -> Result<(), EventError> {
    // Which router claims to have sent it; its key then decides whether that is true.
    let claimed = Envelope::peek_router(body).ok_or(EventError::UnknownRouter)?;
    let router = store.get_router(&claimed).await?.ok_or(EventError::UnknownRouter)?;
    let env = Envelope::verify(body, &router.key, &router.id, now, Direction::RouterToCloud)?;
    match env.payload {
        Payload::Applied(a) => {
            if let (Some(pid), MessageType::Grant) = (&a.purchase_id, a.job_type) {
                let t = store.mark_active(pid, &router.id, now).await?;
                if t.purchase().router_id != router.id {
                    tracing::warn!(purchase_id = %pid, router_id = %router.id, "a router reported another router's grant: ignored");
                } else {
                    tracing::info!(purchase_id = %pid, router_id = %router.id, online = a.online, state = %t.purchase().state, "grant applied");
                }
            }
        }
        Payload::ApplyFailed(f) => {
            tracing::error!(alarm = "apply_failed", router_id = %router.id, job_id = %f.job_id, purchase_id = ?f.purchase_id, rejected = f.rejected, error = %f.error, "router could not apply a job");
        }
        Payload::SessionStarted(s) => {
            if let Some(pid) = &s.purchase_id {
                store.record_session_start(pid, &router.id, s.at).await?;
            }
        }
        Payload::SessionEnded(s) => {
            if let Some(pid) = &s.purchase_id {
                store.record_session_end(pid, &router.id, s.at, s.bytes_in, s.bytes_out).await?;
            }
        }
        Payload::Heartbeat(h) => {
            let health = RouterHealth {
                last_seen: now,
                version: h.version,
                uptime_secs: h.uptime_secs,
                active_sessions: h.active_sessions,
                jobs_waiting: h.jobs_waiting,
                clock_unset_secs: h.clock_unset_secs,
            };
            let expected = store.record_heartbeat(&router.id, &health).await?;
            if h.clock_unset_secs > 0 {
                tracing::warn!(router_id = %router.id, secs = h.clock_unset_secs, "router ran with its clock unset (NTP?)");
            }
            if let Some(theirs) = h.packages_digest {
                resync_packages_if_different(store, sqs, &router, &theirs, expected, now).await?;
            }
        }
        other => return Err(EventError::Rejected(WireError::WrongDirection(other.type_name().into()))),
    }
    Ok(())
}

/// A router selling other packages than the store says (it booted before its WAN was up, a
/// `packages_sync` went missing) is sent them again, at most every ten minutes.
async fn resync_packages_if_different(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    router: &RouterRecord,
    theirs: &str,
    expected: Option<String>,
    now: i64,
) -> Result<(), EventError> {
    const EVERY_SECS: i64 = 600;
    let ours = match expected {
        Some(d) => d,
        None => packages_digest(store, &router.id).await?,
    };
    if ours == theirs || !store.claim_packages_resync(&router.id, now, EVERY_SECS).await? {
        return Ok(());
    }
    match sync_packages(store, sqs, router, now).await {
        Ok(n) => {
            tracing::info!(router_id = %router.id, packages = n, "router's packages differ: packages_sync re-sent")
        }
        Err(e) => {
            tracing::error!(router_id = %router.id, error = %e, "packages_sync not re-sent; the next heartbeat asks again")
        }
    }
    Ok(())
}

/// Handles an SQS batch; returns the ids of the messages that failed, for the
/// `batchItemFailures` response, so one bad message does not redeliver the rest.
pub async fn handle_batch(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    records: &[(String, String)],
    now: i64,
) -> Vec<String> {
    let mut failed = Vec::new();
    for (id, body) in records {
        if let Err(e) = handle_event(store, sqs, body.as_bytes(), now).await {
            tracing::error!(message_id = %id, error = %e, "router event not applied");
            failed.push(id.clone());
        }
    }
    failed
}
