//! The Daraja callback: Safaricom POSTs the outcome of an STK push here.
//!
//! The URL's path holds an unguessable secret (callbacks are unsigned). The body is parsed
//! tolerantly, kept under its CheckoutRequestID (see `store/checkout.rs`), and applied with a conditional
//! transition, so repeats change nothing. Daraja gets `{"ResultCode":0,"ResultDesc":"Accepted"}`
//! once the outcome is durably recorded; the job to the router follows (outbox on failure).

use std::net::IpAddr;

use daraja::{CallbackError, CallbackOutcome, parse_callback};
use hotspot_core::wire::PaymentFailure;

use crate::api::Reply;
use crate::sms::SmsClient;
use hotspot_cloud::outbox::deliver;
use hotspot_cloud::store::{Paid, Purchase, Store, Transition};

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
    pub store: &'a Store,
    pub sqs: &'a aws_sdk_sqs::Client,
    /// SMS receipts, when configured.
    pub sms: Option<&'a SmsClient>,
    pub secret: &'a str,
}

pub async fn handle(
    ctx: &CallbackCtx<'_>,
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
        Some(ip) if SAFARICOM_CALLBACK_IPS.contains(&ip.to_string().as_str()) => {}
        other => tracing::warn!(source = ?other, "callback from an address not on Safaricom's published list"),
    }
    let cb = match parse_callback(body) {
        Ok(cb) => cb,
        Err(CallbackError::TooLarge { .. }) => return CallbackReply::TooLarge,
        Err(e) => {
            tracing::warn!(error = %e, "malformed callback refused");
            return CallbackReply::BadRequest(e.to_string());
        }
    };
    // Kept first, so a callback that beats the purchase function's link is not lost.
    let raw = String::from_utf8_lossy(body);
    let purchase_id = match ctx.store.record_callback(&cb.checkout_request_id, &raw, now).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            tracing::warn!(
                checkout_request_id = %cb.checkout_request_id,
                "callback for a CheckoutRequestID not linked to a purchase (yet): kept for the purchase function"
            );
            return CallbackReply::Accepted;
        }
        Err(e) => {
            tracing::error!(error = %e, "callback could not be kept");
            return CallbackReply::Unavailable;
        }
    };
    let purchase = match ctx.store.get_purchase(&purchase_id).await {
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
    apply(ctx.store, ctx.sqs, ctx.sms, &purchase, cb.outcome, now).await
}

/// Applies a callback's outcome to its purchase: a conditional transition, then the router's job.
/// Also called by the purchase function when the callback arrived before it linked the checkout.
pub async fn apply(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    sms: Option<&SmsClient>,
    purchase: &Purchase,
    outcome: CallbackOutcome,
    now: i64,
) -> CallbackReply {
    let outcome = match outcome {
        CallbackOutcome::Paid { amount, receipt, .. } => {
            let receipt = receipt.unwrap_or_default();
            match amount.filter(|a| *a == purchase.package.price()) {
                Some(amount) => store.mark_paid(&purchase.id, &Paid { receipt, amount, paid_at: now }).await,
                None => {
                    tracing::error!(
                        alarm = "amount_mismatch",
                        purchase_id = %purchase.id,
                        router_id = %purchase.router_id,
                        price = purchase.package.price().get(),
                        paid = amount.map(|a| a.get()),
                        receipt = %receipt,
                        "amount_mismatch: paid amount differs from the package price; no grant"
                    );
                    store.mark_amount_mismatch(&purchase.id, &receipt, amount, now).await
                }
            }
        }
        CallbackOutcome::Failed { code, description } => {
            let reason = code.failure().unwrap_or(PaymentFailure::Other);
            tracing::info!(purchase_id = %purchase.id, code = %code.code(), description = %description, "payment failed");
            store.mark_failed(&purchase.id, reason, Some(&code.code()), now).await
        }
    };
    let applied = matches!(outcome, Ok(Transition::Applied(_)));
    let current = match outcome {
        Ok(Transition::Applied(p)) => {
            tracing::info!(purchase_id = %p.id, state = %p.state, phone = %p.phone.masked(), "callback recorded");
            p
        }
        Ok(Transition::Unchanged(p)) => {
            tracing::info!(purchase_id = %p.id, state = %p.state, "repeated or late callback: nothing changes");
            p
        }
        Err(e) => {
            tracing::error!(purchase_id = %purchase.id, error = %e, "callback could not be recorded");
            return CallbackReply::Unavailable;
        }
    };
    // Recorded: Daraja gets its 200 whatever happens next; the outbox sweep retries a failed send.
    if let Err(e) = deliver(store, sqs, &current, now).await {
        tracing::error!(purchase_id = %current.id, error = %e, "job not queued yet; the outbox sweep will retry");
    }
    // Only after the job, so the receipt never holds up the grant; once (a claim on the purchase
    // guards the callback and purchase functions racing), and not again for a repeated callback.
    if let Some(sms) = sms.filter(|_| applied) {
        crate::sms::send_receipt(store, sms, &current, now).await;
    }
    CallbackReply::Accepted
}
