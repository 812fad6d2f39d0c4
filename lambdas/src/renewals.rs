//! A subscriber's renewal paid by STK push from their page: settled from M-Pesa's callback
//! (`callback`), from a callback that beat the page's record of the push (`portal::account`), or
//! by a status query when the callback is lost (the reconcile function, `sweep`). Each way ends in
//! `hotspot_cloud::paybill::settle_stk`, which renews once per push; a renewal's job goes to the
//! router at once.

use std::time::Duration;

use hotspot_cloud::paybill::{Confirmed, StkOutcome, settle_stk};
use hotspot_cloud::store::{StkRenewal, StkRenewalState, Store, StoreError};
use hotspot_core::wallet::Wallet;
use wallets::Outcome;

use crate::providers::Payments;

/// A renewal's push unanswered this long is asked about (the callback usually comes in seconds).
pub const ASK_AFTER_SECS: i64 = 60;
/// After this long with no answer either way it is given up (the subscriber is told to ask the
/// operator, and the log raises `stk_renewal_unknown`).
pub const GIVE_UP_AFTER_SECS: i64 = 86_400;

/// What a wallet's answer means for a renewal; `None`: not decided yet.
pub fn stk_outcome(o: &Outcome) -> Option<StkOutcome> {
    match o {
        Outcome::Pending => None,
        Outcome::Paid(p) => Some(StkOutcome::Paid { amount: p.amount, receipt: p.receipt.clone() }),
        Outcome::Failed(f) => Some(StkOutcome::NotPaid { why: f.reason.guest_message_for(Wallet::Mpesa) }),
    }
}

/// Settles a renewal and, when it renewed, tells the router.
pub async fn settle(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    r: &StkRenewal,
    outcome: &StkOutcome,
    now: i64,
) -> Result<StkRenewalState, StoreError> {
    let (state, confirmed) = settle_stk(store, r, outcome, now).await?;
    match confirmed {
        Some(Confirmed::Renewed { account, router, until, fresh }) => {
            tracing::info!(account = %account, router = %router, until, fresh, checkout_request_id = %r.checkout, "STK renewal renewed an account");
            // A callback that beat the page's record of the push was kept as an unmatched
            // receipt too: that money is this renewal's, not the operator's to settle.
            if let StkOutcome::Paid { receipt: Some(receipt), .. } = outcome
                && store.receipt_renewed(&Wallet::Mpesa.receipt_key(receipt), &account, &router).await?
            {
                tracing::info!(account = %account, checkout_request_id = %r.checkout, "early callback's unmatched receipt given to the renewal");
            }
            // Sent on a repeat too: the job is the account's state, and a copy changes nothing.
            if let Err(e) = hotspot_cloud::jobs::send_account(store, sqs, &account, now).await {
                tracing::error!(alarm = "account_job_unsent", account = %account, error = %e, "renewal recorded, router not told yet");
            }
        }
        Some(Confirmed::Held { why, .. }) => {
            tracing::warn!(account = %r.account, why = %why, checkout_request_id = %r.checkout, "STK renewal paid and held for the operator");
        }
        None => {
            tracing::info!(account = %r.account, checkout_request_id = %r.checkout, state = ?state, "STK renewal not paid")
        }
    }
    Ok(state)
}

/// The reconcile function's pass: status queries for renewals whose callback has not come.
/// Returns how many were decided.
pub async fn sweep<P: Payments>(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    wallets: &P,
    query_timeout: Duration,
    now: i64,
) -> Result<usize, StoreError> {
    let mut decided = 0;
    for r in store.stale_stk_renewals(now - ASK_AFTER_SECS, 50).await? {
        let answer = tokio::time::timeout(query_timeout, wallets.payment_status(Wallet::Mpesa, &r.checkout)).await;
        let outcome = match answer {
            Ok(Ok(o)) => stk_outcome(&o),
            Ok(Err(e)) => {
                tracing::warn!(checkout_request_id = %r.checkout, error = %e, "STK renewal status not answered");
                None
            }
            Err(_) => None,
        };
        let outcome = match outcome {
            Some(o) => o,
            None if r.created_at <= now - GIVE_UP_AFTER_SECS => {
                tracing::error!(alarm = "stk_renewal_unknown", account = %r.account, checkout_request_id = %r.checkout, "no answer about a renewal for a day: left to the operator");
                StkOutcome::NotPaid { why: "M-Pesa has not said whether this was paid; ask the operator.".into() }
            }
            None => continue,
        };
        settle(store, sqs, &r, &outcome, now).await?;
        decided += 1;
    }
    Ok(decided)
}
