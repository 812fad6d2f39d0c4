//! Signed jobs onto a router's FIFO queue.

use aws_sdk_sqs::Client;
use hotspot_core::wire::{Envelope, PackagesSync, Payload};
use hotspot_core::{MessageId, Package, RouterId};

use crate::store::router::RouterMode;
use crate::store::{RouterRecord, Store, StoreError};

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
///
/// A RADIUS-mode router has no queue and no agent: what a job would tell it (a grant, a revoke,
/// vouchers, packages) is already in the store its RADIUS requests read, so nothing is sent and
/// the job is done. (Ending a session that is online there needs RADIUS CoA: not built.)
pub async fn send_job(
    sqs: &Client,
    router: &RouterRecord,
    id: MessageId,
    payload: Payload,
    now: i64,
) -> Result<MessageId, JobError> {
    if router.mode() == RouterMode::Radius {
        tracing::debug!(router_id = %router.id, job_id = %id, "radius-mode router: no queue, nothing to send");
        return Ok(id);
    }
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

/// Sends a router the packages it sells now (`packages_sync`); returns how many.
pub async fn sync_packages(store: &Store, sqs: &Client, router: &RouterRecord, now: i64) -> Result<usize, SyncError> {
    let on_sale = on_sale(store, &router.id).await?;
    let n = on_sale.len();
    let digest = hotspot_core::package::digest(&on_sale);
    send_job(
        sqs,
        router,
        MessageId::generate(),
        Payload::PackagesSync(PackagesSync {
            packages: on_sale,
            wallets: router.wallets.as_slice().to_vec(),
            country: Some(router.country),
        }),
        now,
    )
    .await?;
    // Kept on the router's record, so a heartbeat is compared with it at no extra read.
    store.set_packages_digest(&router.id, &digest).await?;
    Ok(n)
}

async fn on_sale(store: &Store, router: &RouterId) -> Result<Vec<Package>, StoreError> {
    Ok(store.list_packages(router).await?.into_iter().filter(|p| p.on_sale).map(|p| p.package).collect())
}

/// The digest of the packages a router should be selling, from the store (and kept on its
/// record for the next heartbeat).
pub async fn packages_digest(store: &Store, router: &RouterId) -> Result<String, StoreError> {
    let digest = hotspot_core::package::digest(&on_sale(store, router).await?);
    store.set_packages_digest(router, &digest).await?;
    Ok(digest)
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Job(#[from] JobError),
}

/// One message group per router: its jobs are applied in order.
fn group_for(router: &RouterId) -> String {
    router.to_string()
}

/// Why an account's job was not sent.
#[derive(Debug, thiserror::Error)]
pub enum AccountJobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("account {0}: {1}")]
    Missing(String, &'static str),
    #[error(transparent)]
    Send(#[from] JobError),
}

/// Tells the account's router what the account is now (`account_set`, with its current expiry).
/// Safe to repeat: the job's id is the account's and the expiry's, and the agent ignores a copy
/// no later than what it holds.
pub async fn send_account(
    store: &Store,
    sqs: &Client,
    account: &hotspot_core::AccountNumber,
    now: i64,
) -> Result<MessageId, AccountJobError> {
    let a = store
        .get_account(account)
        .await?
        .ok_or_else(|| AccountJobError::Missing(account.to_string(), "no such account"))?;
    let router = store
        .get_router(&a.router_id)
        .await?
        .ok_or_else(|| AccountJobError::Missing(account.to_string(), "its router is gone"))?;
    let package = store
        .get_package(&a.router_id, &a.package_id)
        .await?
        .ok_or_else(|| AccountJobError::Missing(account.to_string(), "its package is gone"))?;
    let set = a.job(package.package);
    Ok(send_job(sqs, &router, set.job_id(), Payload::AccountSet(set), now).await?)
}
