//! The expiry sweep: a backstop for the agent's own on-time expiry. Sessions past `expires_at`
//! get a `revoke` job (idempotent on the router) and leave the live index. (A RADIUS-mode
//! router's ends there by the Access-Accept's `Session-Timeout`; `send_job` sends it nothing.)

use std::collections::HashMap;

use hotspot_core::MessageId;
use hotspot_core::wire::{MessageType, Payload, Revoke};

use hotspot_cloud::jobs::send_job;
use hotspot_cloud::store::{RouterRecord, Store, StoreError};

pub async fn expire(store: &Store, sqs: &aws_sdk_sqs::Client, now: i64) -> Result<usize, StoreError> {
    let mut routers: HashMap<String, Option<RouterRecord>> = HashMap::new();
    let mut revoked = 0;
    for s in store.list_expired_sessions(now, 1000).await? {
        let key = s.router_id.to_string();
        if !routers.contains_key(&key) {
            routers.insert(key.clone(), store.get_router(&s.router_id).await?);
        }
        let Some(Some(router)) = routers.get(&key) else {
            tracing::error!(purchase_id = %s.purchase_id, router_id = %key, "session of an unknown router");
            continue;
        };
        let payload = Payload::Revoke(Revoke { purchase_id: s.purchase_id.clone(), reason: "expired".into() });
        match send_job(sqs, router, MessageId::for_job(MessageType::Revoke, &s.purchase_id), payload, now).await {
            Ok(_) => {
                store.mark_session_revoked(&s.purchase_id, now).await?;
                revoked += 1;
            }
            Err(e) => {
                tracing::error!(purchase_id = %s.purchase_id, error = %e, "revoke not queued; next sweep retries")
            }
        }
    }
    Ok(revoked)
}
