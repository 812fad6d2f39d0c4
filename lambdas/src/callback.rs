//! The wallets' callbacks: Safaricom POSTs the outcome of an STK push to `/cb/{secret}`, Airtel
//! to `/cb/airtel/{secret}`, MTN to `/cb/mtn/{secret}` (PUT or POST).
//!
//! The URL's path holds an unguessable secret (M-Pesa's and MTN's callbacks are unsigned; Airtel's
//! carry a hash when its callback authentication is on). The body is parsed tolerantly, kept under
//! the provider's reference (see `store/checkout.rs`), and applied with a conditional transition,
//! so repeats change nothing. The provider gets `{"ResultCode":0,"ResultDesc":"Accepted"}` once the
//! outcome is durably recorded; the job to the router follows (outbox on failure).

use std::net::IpAddr;

use hotspot_core::wallet::Wallet;
use wallets::{Notification, Outcome};

use crate::api::Reply;
use crate::providers::NoticeError;
use crate::settle::{Settle, receipt_key};
use hotspot_cloud::store::{ReceiptRecord, ReceiptSource};

/// Safaricom's published callback source addresses (Daraja docs, "IP whitelisting").
/// Logged against, not enforced: the list changes without notice and the secret path is the gate.
pub const SAFARICOM_CALLBACK_IPS: &[&str] = &[
    "196.201.214.200",
    "196.201.214.206",
    "196.201.213.114",
    "196.201.214.207",
    "196.201.214.208",
    "196.201.213.44",
    "196.201.212.127",
    "196.201.212.138",
    "196.201.212.129",
    "196.201.212.136",
    "196.201.212.74",
    "196.201.212.69",
];

/// What the HTTP handler answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackReply {
    /// 200 with Daraja's expected acknowledgement.
    Accepted,
    /// 404: wrong secret. Says nothing more to a prober.
    NotFound,
    /// 400: not a callback.
    BadRequest(String),
    /// 413: body over the limit.
    TooLarge,
    /// 503: nothing could be recorded; Daraja (or the reconciler) will come back.
    Unavailable,
}

impl CallbackReply {
    pub fn status(&self) -> u16 {
        match self {
            CallbackReply::Accepted => 200,
            CallbackReply::NotFound => 404,
            CallbackReply::BadRequest(_) => 400,
            CallbackReply::TooLarge => 413,
            CallbackReply::Unavailable => 503,
        }
    }

    /// The HTTP reply, in the acknowledgement shape Daraja expects.
    pub fn reply(&self) -> Reply {
        let (code, desc) = match self {
            CallbackReply::Accepted => (0, "Accepted".to_string()),
            CallbackReply::NotFound => (1, "Not found".to_string()),
            CallbackReply::BadRequest(why) => (1, format!("Rejected: {why}")),
            CallbackReply::TooLarge => (1, "Rejected: body too large".to_string()),
            CallbackReply::Unavailable => (1, "Try again".to_string()),
        };
        Reply::json(self.status(), &Ack { result_code: code, result_desc: desc })
    }
}

/// The acknowledgement Daraja expects: `{"ResultCode":0,"ResultDesc":"Accepted"}`.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Ack {
    result_code: u8,
    result_desc: String,
}

/// Constant-time comparison of the path secret.
pub fn secret_matches(expected: &str, got: &str) -> bool {
    !expected.is_empty() && hotspot_core::ct::eq(expected.as_bytes(), got.as_bytes())
}

pub struct CallbackCtx<'a> {
    pub settle: Settle<'a>,
    pub secret: &'a str,
}

pub async fn handle(
    ctx: &CallbackCtx<'_>,
    wallet: Wallet,
    path_secret: &str,
    source: Option<IpAddr>,
    body: &[u8],
    now: i64,
) -> CallbackReply {
    if !secret_matches(ctx.secret, path_secret) {
        tracing::warn!(source = ?source, "callback with a wrong secret path refused");
        return CallbackReply::NotFound;
    }
    match source {
        _ if wallet != Wallet::Mpesa => {}
        Some(ip) if SAFARICOM_CALLBACK_IPS.contains(&ip.to_string().as_str()) => {}
        other => tracing::warn!(source = ?other, "callback from an address not on Safaricom's published list"),
    }
    let cb = match ctx.settle.notices.read_notice(wallet, body) {
        Ok(cb) => cb,
        Err(NoticeError::TooLarge) => return CallbackReply::TooLarge,
        // A wallet this deployment has no settings for, or a forged Airtel hash: said like a wrong secret.
        Err(e @ (NoticeError::NotConfigured(_) | NoticeError::BadHash)) => {
            tracing::warn!(wallet = %wallet.as_str(), error = %e, "callback refused");
            return CallbackReply::NotFound;
        }
        Err(e) => {
            tracing::warn!(wallet = %wallet.as_str(), error = %e, "malformed callback refused");
            return CallbackReply::BadRequest(e.to_string());
        }
    };
    // An intermediate notification decides nothing: acknowledged, not kept.
    if cb.outcome == Outcome::Pending {
        return CallbackReply::Accepted;
    }
    // Kept first, so a callback that beats the purchase function's link is not lost.
    let raw = String::from_utf8_lossy(body);
    let purchase_id = match ctx.settle.store.record_callback_for(&cb.reference, &raw, now).await {
        Ok((Some(id), _)) => id,
        Ok((None, true)) if wallet == Wallet::Mpesa => return renewal(ctx, &cb, now).await,
        Ok((None, _)) => return unlinked(ctx, wallet, cb, now).await,
        Err(e) => {
            tracing::error!(error = %e, "callback could not be kept");
            return CallbackReply::Unavailable;
        }
    };
    let purchase = match ctx.settle.store.get_purchase(&purchase_id).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            tracing::error!(purchase_id = %purchase_id, "CheckoutRequestID linked to a missing purchase");
            return CallbackReply::NotFound;
        }
        Err(e) => {
            tracing::error!(error = %e, "callback lookup failed");
            return CallbackReply::Unavailable;
        }
    };
    if purchase.wallet != wallet {
        tracing::warn!(purchase_id = %purchase.id, wallet = %wallet.as_str(), "callback on another wallet's route: refused");
        return CallbackReply::NotFound;
    }
    match ctx.settle.apply_callback(&purchase, cb.outcome, now).await {
        Ok(()) => CallbackReply::Accepted,
        Err(_) => CallbackReply::Unavailable,
    }
}

/// A subscriber's renewal from their page (`renewals`).
async fn renewal(ctx: &CallbackCtx<'_>, cb: &Notification, now: i64) -> CallbackReply {
    let Some(outcome) = crate::renewals::stk_outcome(&cb.outcome) else { return CallbackReply::Accepted };
    let r = match ctx.settle.store.get_stk_renewal(&cb.reference).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            tracing::error!(checkout_request_id = %cb.reference, "a renewal's CheckoutRequestID with no renewal on record");
            return CallbackReply::Accepted;
        }
        Err(e) => {
            tracing::error!(error = %e, "renewal lookup failed");
            return CallbackReply::Unavailable;
        }
    };
    match crate::renewals::settle(ctx.settle.store, ctx.settle.sqs, &r, &outcome, now).await {
        Ok(_) => CallbackReply::Accepted,
        Err(e) => {
            tracing::error!(error = %e, "renewal not settled; Daraja or the reconciler comes back");
            CallbackReply::Unavailable
        }
    }
}

/// A callback whose CheckoutRequestID no purchase has linked (yet). The purchase function may
/// still link it (it is kept under the CheckoutRequestID). But if its push timed out or it died
/// before storing the id, nothing will: a payment is then matched by what it carries, to the one
/// purchase left unknown for the same phone and price within minutes (`settle::payer_match`);
/// with none, or several, it is kept as an unmatched receipt, which the reconciler tries again
/// and then shows the operator (`hotspotctl report ledger --credit`).
async fn unlinked(ctx: &CallbackCtx<'_>, wallet: Wallet, cb: Notification, now: i64) -> CallbackReply {
    let checkout = cb.reference.clone();
    let Outcome::Paid(paid) = &cb.outcome else {
        tracing::info!(checkout_request_id = %checkout, "failure callback for a reference not linked (yet): kept");
        return CallbackReply::Accepted;
    };
    let phone = paid.payer.clone();
    let r = ReceiptRecord {
        key: paid.receipt.as_deref().map(|r| receipt_key(wallet, r)).unwrap_or_else(|| format!("checkout:{checkout}")),
        checkout_id: Some(checkout.clone()),
        phone: phone.clone(),
        amount: paid.amount,
        at: now,
        source: ReceiptSource::Callback,
        purchase_id: None,
        router_id: None,
        credited_by: None,
    };
    match ctx.settle.payer_match(&r, now).await {
        Ok(Some(_)) => return CallbackReply::Accepted,
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "unlinked purchases not readable");
            return CallbackReply::Unavailable;
        }
    }
    match ctx.settle.store.record_receipt(&r).await {
        Ok(_) => {
            tracing::info!(
                checkout_request_id = %checkout,
                phone = %phone.as_ref().map(|p| p.masked()).unwrap_or_default(),
                "a payment no purchase claims yet: kept as an unmatched receipt"
            );
            CallbackReply::Accepted
        }
        Err(e) => {
            tracing::error!(error = %e, "unmatched receipt could not be kept");
            CallbackReply::Unavailable
        }
    }
}
