//! C2B ("Register URL", Paybill from the subscriber's own phone): registering the validation and
//! confirmation URLs, reading the requests M-Pesa POSTs to them, and the answers it expects.
//! Shapes as Daraja documents them (`tests/fixtures/README.md`).

use serde_json::{Value, json};

use crate::client::{DarajaClient, DarajaError};
use crate::token::TokenStore;

/// A C2B request is well under this; anything larger is refused unread.
pub const MAX_C2B_BYTES: usize = 8 * 1024;

/// What M-Pesa does with a payment when the validation URL does not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Completed,
    Cancelled,
}

impl ResponseType {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Completed => "Completed",
            ResponseType::Cancelled => "Cancelled",
        }
    }
}

/// Why a validation refuses a payment: Daraja's documented `C2B000xx` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C2bRejection {
    InvalidMsisdn,
    InvalidAccountNumber,
    InvalidAmount,
    InvalidKycDetails,
    InvalidShortcode,
    OtherError,
}

impl C2bRejection {
    pub fn code(self) -> &'static str {
        match self {
            C2bRejection::InvalidMsisdn => "C2B00011",
            C2bRejection::InvalidAccountNumber => "C2B00012",
            C2bRejection::InvalidAmount => "C2B00013",
            C2bRejection::InvalidKycDetails => "C2B00014",
            C2bRejection::InvalidShortcode => "C2B00015",
            C2bRejection::OtherError => "C2B00016",
        }
    }
}

/// The validation URL's answer: accept the payment.
pub fn validation_accept() -> String {
    json!({"ResultCode": "0", "ResultDesc": "Accepted"}).to_string()
}

/// The validation URL's answer: refuse the payment (M-Pesa cancels it; the money stays with the
/// subscriber).
pub fn validation_reject(why: C2bRejection) -> String {
    json!({"ResultCode": why.code(), "ResultDesc": "Rejected"}).to_string()
}

/// The confirmation URL's answer (M-Pesa only needs a 200; this is the documented body).
pub fn confirmation_ack() -> String {
    json!({"ResultCode": 0, "ResultDesc": "Success"}).to_string()
}

/// A validation or confirmation request: the same fields (the balance only in a confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2bNotification {
    /// `Pay Bill` or `Buy Goods`.
    pub transaction_type: String,
    /// The M-Pesa receipt (`TransID`): the payment's identity, the key for duplicates.
    pub trans_id: String,
    /// `yyyymmddhhmmss`, East Africa Time.
    pub trans_time: String,
    /// Whole shillings.
    pub amount: u32,
    pub short_code: String,
    /// The account number the subscriber typed (`BillRefNumber`), trimmed; may be empty.
    pub bill_ref: String,
    /// As sent: C2B v2 masks it (`25470****149`), so it cannot name the payer.
    pub msisdn: String,
    pub first_name: String,
    pub org_account_balance: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum C2bError {
    #[error("C2B request over {MAX_C2B_BYTES} bytes")]
    TooLarge,
    #[error("C2B request is not a JSON object")]
    NotJson,
    #[error("C2B request lacks {0}")]
    Missing(&'static str),
    #[error("C2B TransAmount {0:?} is not a whole, positive number of shillings")]
    Amount(String),
    #[error("C2B TransTime {0:?} is not yyyymmddhhmmss")]
    Time(String),
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// "10", "10.00", 10 or 10.0 → 10; "10.50", "0", "-1", "x" → error.
fn whole_shillings(raw: &str) -> Option<u32> {
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    int.parse::<u32>().ok().filter(|a| *a > 0)
}

/// Reads a validation or confirmation request.
pub fn parse_c2b(body: &[u8]) -> Result<C2bNotification, C2bError> {
    if body.len() > MAX_C2B_BYTES {
        return Err(C2bError::TooLarge);
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| C2bError::NotJson)?;
    if !v.is_object() {
        return Err(C2bError::NotJson);
    }
    let need = |k: &'static str| text(&v, k).filter(|s| !s.is_empty()).ok_or(C2bError::Missing(k));
    let raw_amount = need("TransAmount")?;
    let amount = whole_shillings(&raw_amount).ok_or(C2bError::Amount(raw_amount))?;
    let trans_time = need("TransTime")?;
    if trans_time.len() != 14 || !trans_time.bytes().all(|b| b.is_ascii_digit()) {
        return Err(C2bError::Time(trans_time));
    }
    Ok(C2bNotification {
        transaction_type: need("TransactionType")?,
        trans_id: need("TransID")?,
        trans_time,
        amount,
        short_code: need("BusinessShortCode")?,
        bill_ref: text(&v, "BillRefNumber").unwrap_or_default(),
        msisdn: text(&v, "MSISDN").unwrap_or_default(),
        first_name: text(&v, "FirstName").unwrap_or_default(),
        org_account_balance: text(&v, "OrgAccountBalance").filter(|s| !s.is_empty()),
    })
}

/// Reads the Register URL answer: `ResponseCode` `"0"` (or the older bodies' `ResponseDescription`
/// `success` with no code) is success.
pub fn parse_register_response(status: u16, body: &[u8]) -> Result<(), DarajaError> {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let code = v.as_ref().and_then(|v| text(v, "ResponseCode"));
    let description = v.as_ref().and_then(|v| text(v, "ResponseDescription")).unwrap_or_default();
    match (status, code.as_deref()) {
        (200, Some("0")) => Ok(()),
        (200, None) if description.eq_ignore_ascii_case("success") => Ok(()),
        (200, Some(c)) => Err(DarajaError::Rejected { code: c.to_string(), description }),
        _ => Err(crate::client::error_from(status, body)),
    }
}

impl<S: TokenStore> DarajaClient<S> {
    /// Registers the shortcode's confirmation and validation URLs (`/mpesa/c2b/v2/registerurl`).
    /// The shortcode is the one payments go to (`PartyB`: the paybill, or the till).
    pub async fn register_c2b_urls(
        &self,
        confirmation_url: &str,
        validation_url: &str,
        response_type: ResponseType,
    ) -> Result<(), DarajaError> {
        let token = self.access_token().await?;
        let body = json!({
            "ShortCode": self.config().party_b,
            "ResponseType": response_type.as_str(),
            "ConfirmationURL": confirmation_url,
            "ValidationURL": validation_url,
        });
        let resp = self.post_json("/mpesa/c2b/v2/registerurl", &token, &body).await?;
        parse_register_response(resp.status, &resp.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_shillings() {
        for (raw, want) in [("10", Some(10)), ("10.00", Some(10)), ("250000.0", Some(250_000)), ("10.50", None)] {
            assert_eq!(whole_shillings(raw), want, "{raw}");
        }
        for bad in ["0", "-1", "", ".5", "1e3", "x", "10.5.0"] {
            assert_eq!(whole_shillings(bad), None, "{bad}");
        }
    }

    #[test]
    fn rejections_carry_the_documented_codes() {
        assert_eq!(
            validation_reject(C2bRejection::InvalidAccountNumber),
            r#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#
        );
        assert_eq!(validation_accept(), r#"{"ResultCode":"0","ResultDesc":"Accepted"}"#);
    }
}
