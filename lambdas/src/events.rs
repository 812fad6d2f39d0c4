//! Router events from the shared events queue: each is a message signed by its router.

use hotspot_core::wire::{Direction, Envelope, MessageType, Payload, WireError};

use hotspot_cloud::jobs::{packages_digest, sync_packages};
use hotspot_cloud::store::{AuditEntry, AuditResult, RouterHealth, RouterRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("rejected: {0}")]
    Rejected(#[from] WireError),
    #[error("rejected: message names no known router")]
    UnknownRouter,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What applying router events needs: the store, SQS (a `packages_sync` back) and IAM (a rotated
/// router's old access key is deleted once it reports under its new key).
pub struct Events<'a> {
    pub store: &'a Store,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub iam: &'a aws_sdk_iam::Client,
}

/// Verifies and applies one router event.
pub async fn handle_event(ev: &Events<'_>, body: &[u8], now: i64) -> Result<(), EventError> {
    let (store, sqs) = (ev.store, ev.sqs);
    // Which router claims to have sent it; its key then decides whether that is true.
    let claimed = Envelope::peek_router(body).ok_or(EventError::UnknownRouter)?;
    let router = store.get_router(&claimed).await?.ok_or(EventError::UnknownRouter)?;
    let (env, switched) = router.verify_signed(
        |key| Envelope::verify(body, key, &router.id, now, Direction::RouterToCloud),
        |e| matches!(e, WireError::BadSignature),
    )?;
    let router = if switched { switch_keys(ev, router, now).await? } else { router };
    if let Some(old) = &router.retiring_access_key {
        retire_access_key(ev, &router, old).await;
    }
    match env.payload {
        Payload::Applied(a) => {
            if let Some(w) = &a.wireguard {
                if store.set_wireguard_server(&router.id, &w.account, &w.public_key, w.listen_port).await? {
                    tracing::info!(router_id = %router.id, account = %w.account, "WireGuard account on the router: its client config can be written");
                } else {
                    tracing::warn!(router_id = %router.id, account = %w.account, "WireGuard report for an account not this router's: ignored");
                }
            }
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
        Payload::SessionStarted(s) => match &s.purchase_id {
            Some(pid) => {
                store.record_session_start(pid, &router.id, s.at).await?;
            }
            // A printed voucher's user is its code: its first session marks it used.
            None => {
                if let Ok(code) = s.username.parse::<hotspot_core::VoucherCode>()
                    && store.mark_voucher_used(&router.id, &code, s.at, &s.mac).await?
                {
                    tracing::info!(router_id = %router.id, voucher = %code.masked(), "voucher used");
                }
            }
        },
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
                ppp_sessions: h.ppp_sessions,
                jobs_waiting: h.jobs_waiting,
                clock_unset_secs: h.clock_unset_secs,
                selling: h.packages.len().min(u32::MAX as usize) as u32,
                selling_digest: h.packages_digest.clone(),
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
pub async fn handle_batch(ev: &Events<'_>, records: &[(String, String)], now: i64) -> Vec<String> {
    let mut failed = Vec::new();
    for (id, body) in records {
        if let Err(e) = handle_event(ev, body.as_bytes(), now).await {
            tracing::error!(message_id = %id, error = %e, "router event not applied");
            failed.push(id.clone());
        }
    }
    failed
}

/// The router's first report under its rotated key: from now on only that key is accepted and
/// jobs are signed with it. Returns the record as it now is.
async fn switch_keys(ev: &Events<'_>, router: RouterRecord, now: i64) -> Result<RouterRecord, EventError> {
    let Some(rot) = router.rotation.clone() else { return Ok(router) };
    if ev.store.finish_rotation(&router.id, &rot).await? {
        tracing::info!(router_id = %router.id, "router switched to its rotated key; the old key is refused from now on");
        let mut args = std::collections::BTreeMap::new();
        args.insert("id".to_string(), router.id.to_string());
        let entry = AuditEntry {
            at: now,
            id: hotspot_core::MessageId::generate().to_string(),
            who: "hotspot:events-function".into(),
            role: "system".into(),
            action: "router rotate".into(),
            args,
            result: AuditResult::Ok,
            detail: format!(
                "router switched to the new secrets (rotation of {}); old signing key refused, old access key {} retired",
                rot.started_at,
                rot.old_access_key_id.as_deref().unwrap_or("(none)")
            ),
        };
        if let Err(e) = ev.store.put_audit(&entry).await {
            tracing::error!(router_id = %router.id, error = %e, "audit entry for a key switch not written");
        }
        // The record as finish_rotation wrote it.
        let retiring_access_key = rot.old_access_key_id.clone();
        return Ok(RouterRecord { key: rot.key, rotation: None, retiring_access_key, ..router });
    }
    // A concurrent report switched it first: read what it wrote.
    ev.store.get_router(&router.id).await?.ok_or(EventError::UnknownRouter)
}

/// Deletes a switched router's old access key. A failure is logged and retried on its next
/// report; the record keeps the key id until IAM confirms it is gone.
async fn retire_access_key(ev: &Events<'_>, router: &RouterRecord, key_id: &str) {
    let user = hotspot_cloud::store::iam_user_name(&router.id);
    let res = ev.iam.delete_access_key().user_name(&user).access_key_id(key_id).send().await;
    let gone = match res {
        Ok(_) => true,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_entity_exception()) => true,
        Err(e) => {
            let why = aws_sdk_iam::error::DisplayErrorContext(&e).to_string();
            tracing::error!(alarm = "access_key_not_retired", router_id = %router.id, access_key_id = %key_id, error = %why, "old access key not deleted; retried on the next report");
            false
        }
    };
    if gone {
        match ev.store.clear_retiring_access_key(&router.id, key_id).await {
            Ok(_) => tracing::info!(router_id = %router.id, access_key_id = %key_id, "old access key deleted"),
            Err(e) => tracing::error!(router_id = %router.id, error = %e, "old access key deleted; record not updated"),
        }
    }
}
