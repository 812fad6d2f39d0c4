//! The Paybill (M-Pesa C2B) URLs of subscriber accounts, on the callback function:
//! `/cb/c2b/{secret}/validation` (M-Pesa asks whether to take a payment, when external
//! validation is on for the shortcode) and `/cb/c2b/{secret}/confirmation` (the payment is made).
//! The secret path is the gate, as for the STK callback. The decision and the once-only renewal
//! are `hotspot_cloud::paybill`; this reads the request and says what Daraja expects.
//!
//! Register the URLs with `ResponseType` `Completed`: when validation cannot answer (an outage
//! here) the payment goes through and its confirmation renews the account or holds the money.

use daraja::{C2bRejection, confirmation_ack, parse_c2b, validation_accept, validation_reject};
use hotspot_cloud::paybill::{self, Confirmed, Refusal};
use hotspot_cloud::store::{C2bRecord, Store};
use hotspot_core::currency::{Currency, Money};

use crate::api::Reply;
use crate::callback::secret_matches;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C2bKind {
    Validation,
    Confirmation,
}

/// `/cb/c2b/<secret>/validation` → `(Validation, secret)`.
pub fn c2b_route(path: &str) -> Option<(C2bKind, &str)> {
    let (secret, kind) = path.strip_prefix("/cb/c2b/")?.split_once('/')?;
    let kind = match kind {
        "validation" => C2bKind::Validation,
        "confirmation" => C2bKind::Confirmation,
        _ => return None,
    };
    (!secret.is_empty() && !secret.contains('/')).then_some((kind, secret))
}

/// Daraja's answers are JSON text from the `daraja` crate.
fn raw(status: u16, body: String) -> Reply {
    Reply { status, body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null) }
}

/// Masks a C2B `BillRefNumber` for logs: what a subscriber typed may be a phone number.
fn masked_ref(bill_ref: &str) -> String {
    let n = bill_ref.chars().count();
    let shown: String = bill_ref.chars().take(2).collect();
    format!("{shown}{}", "*".repeat(n.saturating_sub(2).min(10)))
}

/// Where the function keeps and sends what it learns.
pub struct C2bCtx<'a> {
    pub store: &'a Store,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub secret: &'a str,
}

pub async fn handle_c2b(ctx: &C2bCtx<'_>, kind: C2bKind, path_secret: &str, body: &[u8], now: i64) -> Reply {
    let (store, secret) = (ctx.store, ctx.secret);
    if !secret_matches(secret, path_secret) {
        tracing::warn!("C2B request with a wrong secret path refused");
        return crate::api::not_found("route");
    }
    let n = match parse_c2b(body) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "malformed C2B request refused");
            return match kind {
                // A refusal M-Pesa understands: the payment is cancelled, nothing is taken.
                C2bKind::Validation => raw(200, validation_reject(C2bRejection::OtherError)),
                C2bKind::Confirmation => crate::api::bad_request(e.to_string()),
            };
        }
    };
    let Ok(amount) = Money::whole_units(Currency::Kes, u64::from(n.amount)) else {
        return crate::api::bad_request("amount out of range");
    };
    match kind {
        C2bKind::Validation => match paybill::validate(store, &n.bill_ref, amount, now).await {
            Ok(Ok(())) => raw(200, validation_accept()),
            Ok(Err(why)) => {
                tracing::info!(account = %masked_ref(&n.bill_ref), refusal = ?why, "C2B payment refused at validation");
                let code = match why {
                    Refusal::UnknownAccount => C2bRejection::InvalidAccountNumber,
                    Refusal::Amount => C2bRejection::InvalidAmount,
                };
                raw(200, validation_reject(code))
            }
            // No answer: M-Pesa follows the registration's ResponseType (Completed).
            Err(e) => {
                tracing::error!(error = %e, "C2B validation could not read the account");
                raw(503, r#"{"ResultCode":"C2B00016","ResultDesc":"Try again"}"#.into())
            }
        },
        C2bKind::Confirmation => {
            let p = C2bRecord { trans_id: n.trans_id.clone(), bill_ref: n.bill_ref.clone(), amount, at: now };
            match paybill::confirm(store, &p, now).await {
                Ok(Confirmed::Renewed { account, router, until, fresh }) => {
                    tracing::info!(trans_id = %p.trans_id, account = %account, router = %router, until, fresh, "C2B payment renewed an account");
                    // Sent on a repeat too: the job is the account's state, and a copy changes nothing.
                    if let Err(e) = hotspot_cloud::jobs::send_account(store, ctx.sqs, &account, now).await {
                        tracing::error!(alarm = "account_job_unsent", account = %account, error = %e, "renewal recorded, router not told yet");
                    }
                    raw(200, confirmation_ack())
                }
                Ok(Confirmed::Held { why, fresh }) => {
                    tracing::warn!(trans_id = %p.trans_id, account = %masked_ref(&n.bill_ref), why = %why, fresh, "C2B payment held for the operator");
                    raw(200, confirmation_ack())
                }
                Err(e) => {
                    tracing::error!(trans_id = %p.trans_id, error = %e, "C2B payment could not be recorded");
                    raw(503, r#"{"ResultCode":1,"ResultDesc":"Try again"}"#.into())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(c2b_route("/cb/c2b/s3cret/validation"), Some((C2bKind::Validation, "s3cret")));
        assert_eq!(c2b_route("/cb/c2b/s3cret/confirmation"), Some((C2bKind::Confirmation, "s3cret")));
        for bad in
            ["/cb/c2b/s3cret", "/cb/c2b//validation", "/cb/c2b/s3cret/other", "/cb/s3cret", "/cb/c2b/a/b/validation"]
        {
            assert_eq!(c2b_route(bad), None, "{bad}");
        }
        assert_eq!(masked_ref("254712345678"), "25**********");
    }
}
