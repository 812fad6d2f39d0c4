//! Signed jobs onto a router's FIFO queue.

use aws_sdk_sqs::Client;
use hotspot_core::wire::{Envelope, Payload};
use hotspot_core::{MessageId, RouterId};

use crate::store::RouterRecord;

/// How long a job stays valid: a router that was offline longer re-reads state at reconnect
/// (a stale grant is re-sent by the outbox sweep with a fresh signature).
pub const JOB_TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("SQS send to router {router}: {why}")]
    Send { router: String, why: String },
}

/// Signs `payload` with the router's key and sends it on the router's queue. The message id is
/// the SQS deduplication id, so the same job sent twice within SQS's 5-minute window is one
/// message, and the agent's journal drops any later duplicate by the same id.
pub async fn send_job(
    sqs: &Client,
    router: &RouterRecord,
    id: MessageId,
    payload: Payload,
    now: i64,
) -> Result<MessageId, JobError> {
    let env = Envelope::new(id.clone(), router.id.clone(), now, JOB_TTL_SECS, payload);
    let body = env.sign(&router.key);
    sqs.send_message()
        .queue_url(&router.queue_url)
        .message_body(body)
        .message_group_id(group_for(&router.id))
        .message_deduplication_id(id.as_str())
        .send()
        .await
        .map_err(|e| JobError::Send { router: router.id.to_string(), why: format!("{e:?}") })?;
    Ok(id)
}

/// One message group per router: its jobs are applied in order.
fn group_for(router: &RouterId) -> String {
    router.to_string()
}
