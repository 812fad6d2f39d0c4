//! The reconciler, each minute: sends any job left in the outbox, then asks each purchase's wallet
//! about purchases still pending after a minute (lost callbacks). Only the provider's own "being
//! processed" counts as a try; after a bounded number of those a purchase is `unknown` (flagged for the
//! operator) and asked about again every ten minutes for two days. Transport errors, 5xx, spike
//! arrest and token failures count for nothing: an outage of Daraja must not use up the tries.

use std::time::{Duration, Instant};

use hotspot_cloud::outbox::sweep_outbox;
use wallets::Outcome;

use crate::providers::Payments;
use crate::settle::Settle;
use hotspot_cloud::store::{Claim, PurchaseState, StoreError, Transition};
use hotspot_core::MessageId;

#[derive(Debug, Clone, Copy)]
pub struct ReconcileConfig {
    /// Leave the callback this long to arrive first.
    pub min_age_secs: i64,
    /// Daraja's "being processed" answers per purchase before it is marked `unknown`.
    pub max_tries: i64,
    /// A purchase with no CheckoutRequestID (the push never confirmed) is `unknown` after this.
    pub no_checkout_grace_secs: i64,
    /// An `unknown` purchase with a CheckoutRequestID is asked about again this often…
    pub recheck_every_secs: i64,
    /// …for this long after it was created.
    pub recheck_for_secs: i64,
    /// A run stops starting new queries after this (the function's timeout is 60 s).
    pub deadline_secs: u64,
    /// One STK query may take this long before it counts as "no answer" (not as a try).
    pub query_timeout_secs: u64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            min_age_secs: 60,
            max_tries: 10,
            no_checkout_grace_secs: 300,
            recheck_every_secs: 600,
            recheck_for_secs: 2 * 86_400,
            deadline_secs: 40,
            query_timeout_secs: 10,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub queried: usize,
    pub paid: usize,
    pub failed: usize,
    pub unknown: usize,
    pub still_pending: usize,
    pub jobs_sent: usize,
    /// Queries that got no answer Daraja meant (transport, 5xx, spike arrest, token): not tries.
    pub no_answer: usize,
    /// Another run held the lease: this one did nothing.
    pub skipped: bool,
    /// The run's deadline came before every purchase was asked about (the next run goes on).
    pub out_of_time: bool,
    /// Unmatched receipts that found their purchase this run.
    pub receipts_matched: usize,
    /// Unmatched receipts shown to the operator (alarm `receipt_unmatched`) this run.
    pub receipts_unmatched: usize,
    /// Subscribers' STK renewals decided by a status query (their callback lost or late).
    pub renewals_decided: usize,
}

/// A receipt no purchase claimed this long is matched again (its purchase may have been linked
/// or left unknown since), and otherwise shown to the operator. The usual unlinked callback is
/// the one that beat the purchase function's link by milliseconds: matched long before this.
pub const UNMATCHED_GRACE_SECS: i64 = 120;

const LEASE: &str = "reconcile";

/// One reconciler run: never two at once (a lease that frees itself if a run dies), the
/// outbox first so owed grants never wait on Daraja, then the queries within a deadline.
pub async fn reconcile<P: Payments>(
    settle: Settle<'_>,
    wallets: &P,
    cfg: ReconcileConfig,
    now: i64,
) -> Result<ReconcileReport, StoreError> {
    let holder = MessageId::generate();
    let lease_until = now + cfg.deadline_secs as i64 + cfg.query_timeout_secs as i64 + 5;
    if !settle.store.try_lease(LEASE, holder.as_str(), now, lease_until).await? {
        tracing::info!("another reconcile run is in progress: skipped");
        return Ok(ReconcileReport { skipped: true, ..Default::default() });
    }
    let out = run(settle, wallets, cfg, now).await;
    if let Err(e) = settle.store.release_lease(LEASE, holder.as_str()).await {
        tracing::warn!(error = %e, "reconcile lease not released; it expires by itself");
    }
    out
}

async fn run<P: Payments>(
    settle: Settle<'_>,
    wallets: &P,
    cfg: ReconcileConfig,
    now: i64,
) -> Result<ReconcileReport, StoreError> {
    let started = Instant::now();
    let deadline = Duration::from_secs(cfg.deadline_secs);
    let mut report = ReconcileReport::default();
    // Jobs decided more than 30 s ago and still unsent: a crash or an SQS outage in between.
    report.jobs_sent += sweep_outbox(settle.store, settle.sqs, now - 30, now).await?;
    sweep_unmatched(settle, &mut report, now).await?;
    let query_timeout = Duration::from_secs(cfg.query_timeout_secs).min(deadline);
    report.renewals_decided += crate::renewals::sweep(settle.store, settle.sqs, wallets, query_timeout, now).await?;
    for p in settle.store.list_pending(now - cfg.min_age_secs, 100).await? {
        let Some(left) = deadline.checked_sub(started.elapsed()).filter(|d| !d.is_zero()) else {
            report.out_of_time = true;
            tracing::warn!("reconcile deadline reached; the next run goes on");
            break;
        };
        match p.state {
            PurchaseState::Pending => {}
            PurchaseState::Unknown => {
                if p.recheck_at.is_some_and(|at| at > now) {
                    continue;
                }
                if p.created_at < now - cfg.recheck_for_secs {
                    settle.store.set_recheck(&p.id, None).await?;
                    tracing::error!(alarm = "purchase_unknown", purchase_id = %p.id, "still unknown after days of queries: left to the operator (hotspotctl report ledger)");
                    continue;
                }
            }
            // Decided meanwhile; its index entry is on its way out.
            _ => continue,
        }
        let Some(checkout) = p.checkout_id.clone() else {
            if p.created_at <= now - cfg.no_checkout_grace_secs
                && settle.store.mark_unknown(&p.id, None, now).await?.applied()
            {
                tracing::error!(alarm = "purchase_unknown", purchase_id = %p.id, "no CheckoutRequestID; flagged");
                report.unknown += 1;
            }
            continue;
        };
        report.queried += 1;
        let wait = left.min(Duration::from_secs(cfg.query_timeout_secs));
        let outcome = match tokio::time::timeout(wait, wallets.payment_status(p.wallet, &checkout)).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                crate::settle::query_unanswered(&p, &e);
                report.no_answer += 1;
                continue;
            }
            Err(_) => {
                tracing::warn!(purchase_id = %p.id, waited = ?wait, "status query timed out; not counted as a try");
                report.no_answer += 1;
                continue;
            }
        };
        let transition = match outcome {
            // The provider's own "being processed": the one answer that counts as a try.
            Outcome::Pending if p.state == PurchaseState::Unknown => {
                report.still_pending += 1;
                settle.store.set_recheck(&p.id, Some(now + cfg.recheck_every_secs)).await?;
                continue;
            }
            Outcome::Pending => {
                let t = settle.store.bump_reconcile_tries(&p.id).await?;
                if t.purchase().reconcile_tries >= cfg.max_tries {
                    tracing::error!(alarm = "purchase_unknown", purchase_id = %p.id, "still pending after {} queries; flagged", cfg.max_tries);
                    report.unknown += 1;
                    settle.store.mark_unknown(&p.id, Some(now + cfg.recheck_every_secs), now).await?;
                } else {
                    report.still_pending += 1;
                }
                continue;
            }
            decided => settle.apply_query(&p, &checkout, decided, now).await?,
        };
        if let Some(s) = transition {
            match &s.transition {
                Transition::Applied(p) if p.state.is_paid() => report.paid += 1,
                Transition::Applied(_) => report.failed += 1,
                Transition::Unchanged(_) => {}
            }
            report.jobs_sent += usize::from(s.job_sent);
        }
    }
    Ok(report)
}

/// Receipts still unmatched after `UNMATCHED_GRACE_SECS`: matched to the purchase that linked
/// their CheckoutRequestID since, or by payer (`settle::payer_match`); else the operator is told
/// once and the receipt waits in the ledger for a credit.
async fn sweep_unmatched(settle: Settle<'_>, report: &mut ReconcileReport, now: i64) -> Result<(), StoreError> {
    for r in settle.store.unmatched_receipts(now - UNMATCHED_GRACE_SECS, 50).await? {
        if let Some(checkout) = &r.checkout_id
            && let Some(p) = settle.store.purchase_for_checkout(checkout).await?
        {
            if settle.store.claim_receipt(&r, &p.id, &p.router_id).await? == Claim::Claimed {
                tracing::info!(purchase_id = %p.id, checkout_request_id = %checkout, "unmatched receipt matched to the purchase that linked it");
                report.receipts_matched += 1;
            }
            continue;
        }
        if settle.payer_match(&r, now).await?.is_some() {
            report.receipts_matched += 1;
            continue;
        }
        tracing::error!(
            alarm = "receipt_unmatched",
            checkout_request_id = %r.checkout_id.as_deref().unwrap_or_default(),
            amount = %r.amount.map(|a| a.to_string()).unwrap_or_default(),
            phone = %r.phone.as_ref().map(|p| p.masked()).unwrap_or_default(),
            "a payment no purchase claims: settle it with hotspotctl report ledger --credit"
        );
        settle.store.receipt_reported(&r.key).await?;
        report.receipts_unmatched += 1;
    }
    Ok(())
}
