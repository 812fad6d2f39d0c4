//! Parsing the STK callback Safaricom POSTs to the CallBackURL. Pure: bytes in, typed value out.
//!
//! Callbacks are unsigned and may be lost, repeated or forged: the caller must still check the
//! CheckoutRequestID against its own records and the amount against the price.

use hotspot_core::wire::PaymentFailure;
use hotspot_core::{Msisdn, Shillings};
use serde_json::Value;

use crate::json::{field, text, text_field};
use crate::result_code::ResultCode;

/// Real callbacks are well under 2 KiB; anything near this is not one.
pub const MAX_CALLBACK_BYTES: usize = 16 * 1024;

/// Request ids are short ASCII tokens (`ws_CO_191220191020363925`); refuse anything else.
const MAX_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkCallback {
    pub merchant_request_id: String,
    pub checkout_request_id: String,
    pub outcome: CallbackOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// ResultCode 0. Items are read by Name and each may be missing; a malformed receipt,
    /// phone or date is dropped (Safaricom has masked phone numbers before), but a malformed
    /// amount is an error because money decisions rest on it.
    Paid {
        amount: Option<Shillings>,
        receipt: Option<String>,
        phone: Option<Msisdn>,
        /// `yyyymmddhhmmss` (East Africa Time), as sent.
        transaction_date: Option<String>,
    },
    Failed {
        code: ResultCode,
        description: String,
    },
}

impl CallbackOutcome {
    /// What the guest is told, or `None` for a payment.
    pub fn failure(&self) -> Option<PaymentFailure> {
        match self {
            CallbackOutcome::Paid { .. } => None,
            CallbackOutcome::Failed { code, .. } => code.failure(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("callback body is {len} bytes, more than the {max} allowed")]
    TooLarge { len: usize, max: usize },
    #[error("callback body is not JSON: {0}")]
    NotJson(String),
    #[error("callback has no {0}")]
    Missing(&'static str),
    #[error("callback field {field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// Parses a callback body into a [`StkCallback`].
pub fn parse_callback(body: &[u8]) -> Result<StkCallback, CallbackError> {
    if body.len() > MAX_CALLBACK_BYTES {
        return Err(CallbackError::TooLarge { len: body.len(), max: MAX_CALLBACK_BYTES });
    }
    let root: Value = serde_json::from_slice(body).map_err(|e| CallbackError::NotJson(e.to_string()))?;
    let body = field(&root, "Body").ok_or(CallbackError::Missing("Body"))?;
    let cb = field(body, "stkCallback").ok_or(CallbackError::Missing("Body.stkCallback"))?;
    if !cb.is_object() {
        return Err(CallbackError::Invalid { field: "Body.stkCallback", reason: "not an object".into() });
    }
    let checkout_request_id = id(cb, "CheckoutRequestID")?;
    let merchant_request_id = id(cb, "MerchantRequestID")?;
    let raw_code = field(cb, "ResultCode").ok_or(CallbackError::Missing("ResultCode"))?;
    let code_text = text(raw_code)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CallbackError::Invalid { field: "ResultCode", reason: "not a number or string".into() })?;
    let code = ResultCode::parse(&code_text);
    let description = text_field(cb, "ResultDesc").unwrap_or_default();
    let outcome = if code.is_success() {
        let items = field(cb, "CallbackMetadata").and_then(|m| field(m, "Item"));
        let item = |name: &str| -> Option<&Value> {
            let list = items?.as_array()?;
            // Read by Name: order differs between payloads and Balance may have no Value.
            list.iter().find(|i| field(i, "Name").and_then(Value::as_str) == Some(name)).and_then(|i| field(i, "Value"))
        };
        CallbackOutcome::Paid {
            amount: item("Amount").map(amount).transpose()?,
            receipt: item("MpesaReceiptNumber").and_then(text).filter(|r| is_receipt(r)),
            phone: item("PhoneNumber").and_then(text).and_then(|p| p.parse().ok()),
            transaction_date: item("TransactionDate")
                .and_then(text)
                .filter(|d| d.len() == 14 && d.bytes().all(|b| b.is_ascii_digit())),
        }
    } else {
        CallbackOutcome::Failed { code, description }
    };
    Ok(StkCallback { merchant_request_id, checkout_request_id, outcome })
}

fn id(cb: &Value, name: &'static str) -> Result<String, CallbackError> {
    let v = text_field(cb, name).ok_or(CallbackError::Missing(name))?;
    if v.len() > MAX_ID_LEN || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CallbackError::Invalid { field: name, reason: "not a short printable ASCII id".into() });
    }
    Ok(v)
}

/// `1`, `1.00` or `"1.00"`.
fn amount(v: &Value) -> Result<Shillings, CallbackError> {
    let r = match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) => Shillings::from_f64(f),
            None => return Err(CallbackError::Invalid { field: "Amount", reason: "not a number".into() }),
        },
        Value::String(s) => s.parse(),
        _ => return Err(CallbackError::Invalid { field: "Amount", reason: "not a number".into() }),
    };
    r.map_err(|e| CallbackError::Invalid { field: "Amount", reason: e.to_string() })
}

fn is_receipt(r: &str) -> bool {
    (1..=32).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid(items: &str) -> String {
        format!(
            r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"m-1","CheckoutRequestID":"ws_CO_1","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{{"Item":[{items}]}}}}}}}}"#
        )
    }

    #[test]
    fn amounts_in_every_shape() {
        for (v, want) in [("1", 1), ("1.00", 1), ("\"50.00\"", 50), ("250000", 250_000)] {
            let cb = parse_callback(paid(&format!(r#"{{"Name":"Amount","Value":{v}}}"#)).as_bytes()).unwrap();
            match cb.outcome {
                CallbackOutcome::Paid { amount, .. } => assert_eq!(amount.map(Shillings::get), Some(want), "{v}"),
                o => panic!("{o:?}"),
            }
        }
        for bad in ["1.5", "0", "-3", "\"abc\"", "true", "250001"] {
            let e = parse_callback(paid(&format!(r#"{{"Name":"Amount","Value":{bad}}}"#)).as_bytes()).unwrap_err();
            assert!(matches!(e, CallbackError::Invalid { field: "Amount", .. }), "{bad}: {e:?}");
        }
    }

    #[test]
    fn hostile_values_are_dropped_or_refused() {
        let cb = parse_callback(
            paid(r#"{"Name":"MpesaReceiptNumber","Value":"<script>"},{"Name":"PhoneNumber","Value":"2547****5678"},{"Name":"TransactionDate","Value":"yesterday"}"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            cb.outcome,
            CallbackOutcome::Paid { amount: None, receipt: None, phone: None, transaction_date: None }
        );
        let long_id = format!(
            r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"m","CheckoutRequestID":"{}","ResultCode":1032}}}}}}"#,
            "x".repeat(200)
        );
        assert!(matches!(
            parse_callback(long_id.as_bytes()),
            Err(CallbackError::Invalid { field: "CheckoutRequestID", .. })
        ));
    }

    #[test]
    fn malformed_shapes_give_typed_errors() {
        assert!(matches!(parse_callback(b"not json"), Err(CallbackError::NotJson(_))));
        assert!(matches!(parse_callback(b"{}"), Err(CallbackError::Missing("Body"))));
        assert!(matches!(parse_callback(br#"{"Body":{}}"#), Err(CallbackError::Missing("Body.stkCallback"))));
        assert!(matches!(parse_callback(br#"{"Body":[]}"#), Err(CallbackError::Missing("Body.stkCallback"))));
        assert!(matches!(
            parse_callback(br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","ResultCode":0}}}"#),
            Err(CallbackError::Missing("CheckoutRequestID"))
        ));
        assert!(matches!(
            parse_callback(br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"c"}}}"#),
            Err(CallbackError::Missing("ResultCode"))
        ));
        assert!(matches!(
            parse_callback(
                br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"c","ResultCode":null}}}"#
            ),
            Err(CallbackError::Invalid { field: "ResultCode", .. })
        ));
        let big = vec![b' '; MAX_CALLBACK_BYTES + 1];
        assert_eq!(
            parse_callback(&big),
            Err(CallbackError::TooLarge { len: MAX_CALLBACK_BYTES + 1, max: MAX_CALLBACK_BYTES })
        );
    }
}
