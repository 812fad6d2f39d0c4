//! SMS receipts through Africa's Talking (`POST /version1/messaging`): after a payment the guest
//! gets the M-Pesa receipt, a re-login code and the expiry time.
//!
//! Best effort by design: sent only after the grant job was queued, with a short timeout, and at
//! most once per purchase (a conditional claim on the purchase). A failure is logged and recorded
//! on the purchase; it never delays or blocks the grant.

use std::sync::Arc;
use std::time::Duration;

use hotspot_core::VoucherCode;
use hotspot_core::phone::PhoneNumber;
use serde::Deserialize;

use hotspot_cloud::store::{Purchase, Store};

pub const PRODUCTION_URL: &str = "https://api.africastalking.com";
pub const SANDBOX_URL: &str = "https://api.sandbox.africastalking.com";
/// The whole send, connect included: the callback's answer to Daraja waits this long at most.
const SEND_TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// `https://api.africastalking.com`, the sandbox, or a simulator's base URL.
    pub base_url: String,
    pub username: String,
    pub api_key: String,
    /// Registered sender id (alphanumeric or short code); Africa's Talking's default when unset.
    pub sender_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("SMS client: {0}")]
    Setup(String),
    #[error("SMS request failed: {0}")]
    Http(String),
    #[error("SMS API answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("SMS refused for the recipient: {status} ({code})")]
    Rejected { code: u32, status: String },
    #[error("SMS API answer not understood: {0}")]
    Parse(String),
}

#[derive(Clone)]
pub struct SmsClient {
    cfg: Arc<SmsConfig>,
    http: reqwest::Client,
}

impl SmsClient {
    pub fn new(cfg: SmsConfig) -> Result<Self, SmsError> {
        let tls = hotspot_core::tls::webpki_client_config().map_err(|e| SmsError::Setup(e.to_string()))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(SEND_TIMEOUT)
            .build()
            .map_err(|e| SmsError::Setup(e.to_string()))?;
        Ok(SmsClient { cfg: Arc::new(cfg), http })
    }

    /// Sends one SMS; returns Africa's Talking's message id.
    pub async fn send(&self, to: &PhoneNumber, message: &str) -> Result<String, SmsError> {
        let to = format!("+{}", to.e164());
        let mut form: Vec<(&str, &str)> = vec![("username", &self.cfg.username), ("to", &to), ("message", message)];
        if let Some(from) = &self.cfg.sender_id {
            form.push(("from", from));
        }
        let url = format!("{}/version1/messaging", self.cfg.base_url.trim_end_matches('/'));
        let resp = self
            .http
            .post(url)
            .header("apiKey", &self.cfg.api_key)
            .header("Accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| SmsError::Http(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| SmsError::Http(e.to_string()))?;
        if !(200..300).contains(&status) {
            let body = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(SmsError::Status { status, body });
        }
        parse_send_response(&body)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendResponse {
    #[serde(rename = "SMSMessageData")]
    data: MessageData,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageData {
    #[serde(default)]
    message: String,
    #[serde(default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    status_code: u32,
    #[serde(default)]
    status: String,
    #[serde(default)]
    message_id: String,
}

/// Reads the documented answer: `{"SMSMessageData":{"Message":…,"Recipients":[{"statusCode":101,
/// "number":…,"status":"Success","cost":…,"messageId":…}]}}`. 100 Processed, 101 Sent and 102
/// Queued are accepted; anything else (403 InvalidPhoneNumber, 405 InsufficientBalance, …) is not.
pub fn parse_send_response(body: &[u8]) -> Result<String, SmsError> {
    let r: SendResponse = serde_json::from_slice(body).map_err(|e| SmsError::Parse(e.to_string()))?;
    let Some(first) = r.data.recipients.first() else {
        return Err(SmsError::Rejected { code: 0, status: r.data.message });
    };
    match first.status_code {
        100..=102 => Ok(first.message_id.clone()),
        code => Err(SmsError::Rejected { code, status: first.status.clone() }),
    }
}

/// The receipt, in one 160-character GSM-7 segment for typical values. A payment confirmed by
/// STK query has no M-Pesa receipt number yet (only the callback carries it): the text then
/// says so rather than show an empty one. `code`: the re-login code for a new device, which only
/// an agent can take (`None` for a router in RADIUS mode: its guests' devices log in by MAC).
pub fn receipt_text(p: &Purchase, code: Option<&VoucherCode>) -> String {
    // The guest's clock: the number's country is the hotspot's (its merchant takes no other).
    let (offset, zone) = p.phone.country().time_zone();
    let until = p.expires_at.map(|t| local_short(t, offset)).unwrap_or_default();
    let wallet = p.wallet.label();
    let mpesa = match p.receipt.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => format!("{wallet} {r}"),
        None => format!("{wallet} confirmed"),
    };
    let relogin =
        code.map(|c| format!(" New device? Enter code {} on the WiFi page.", c.grouped())).unwrap_or_default();
    format!(
        "WiFi paid: {} for {}. {mpesa}. Online until {} {zone}.{relogin}",
        p.package.price(),
        p.package.name(),
        until
    )
}

/// `21 Nov 18:05` in East Africa Time.
pub(crate) fn local_short(unix: i64, offset_secs: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (_, m, d) = hotspot_core::calendar::date_of(unix, offset_secs);
    let secs = (unix + offset_secs).rem_euclid(86_400);
    let month = MONTHS.get((m as usize).wrapping_sub(1)).unwrap_or(&"");
    format!("{d} {month} {:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

/// Sends a paid purchase's receipt once. Never fails the caller: the outcome is logged and kept
/// on the purchase (`sms`), for support calls.
pub async fn send_receipt(store: &Store, sms: &SmsClient, p: &Purchase, now: i64) {
    if !p.state.is_paid() {
        return;
    }
    match store.claim_sms(&p.id, now).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, error = %e, "SMS receipt skipped: claim failed");
            return;
        }
    }
    let router = match store.get_router(&p.router_id).await {
        Ok(Some(r)) => r,
        other => {
            tracing::warn!(purchase_id = %p.id, found = ?other.map(|r| r.is_some()), "SMS receipt skipped: router unknown");
            return;
        }
    };
    let code = VoucherCode::relogin(&router.key, &p.id);
    let agent = router.mode() == hotspot_cloud::store::router::RouterMode::Agent;
    let text = receipt_text(p, agent.then_some(&code));
    let outcome = match sms.send(&p.phone, &text).await {
        Ok(id) => {
            tracing::info!(purchase_id = %p.id, phone = %p.phone.masked(), message_id = %id, "SMS receipt sent");
            format!("sent {id}")
        }
        Err(e) => {
            tracing::warn!(purchase_id = %p.id, phone = %p.phone.masked(), error = %e, "SMS receipt not sent");
            format!("failed: {e}")
        }
    };
    if let Err(e) = store.record_sms(&p.id, &outcome).await {
        tracing::warn!(purchase_id = %p.id, error = %e, "SMS outcome not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The sample answers in Africa's Talking's SMS documentation ("Sending messages").
    #[test]
    fn documented_answers() {
        let ok = br#"{"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{"statusCode":101,"number":"+254711XXXYYY","status":"Success","cost":"KES 0.8000","messageId":"ATPid_SampleTxnId123"}]}}"#;
        assert_eq!(parse_send_response(ok).unwrap(), "ATPid_SampleTxnId123");
        let refused = br#"{"SMSMessageData":{"Message":"Sent to 0/1 Total Cost: 0","Recipients":[{"statusCode":405,"number":"+254711XXXYYY","status":"InsufficientBalance","cost":"0","messageId":"None"}]}}"#;
        assert!(matches!(parse_send_response(refused), Err(SmsError::Rejected { code: 405, .. })));
        let none = br#"{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}"#;
        assert!(matches!(parse_send_response(none), Err(SmsError::Rejected { code: 0, .. })));
        assert!(matches!(parse_send_response(b"<html>"), Err(SmsError::Parse(_))));
    }

    #[test]
    fn local_times() {
        use hotspot_core::phone::Country;
        // 2026-11-21T15:05:00Z is 18:05 in Nairobi and Kampala, 17:05 in Kigali, 15:05 in Accra.
        let at = |c: Country| local_short(1_795_273_500, c.time_zone().0);
        assert_eq!(at(Country::Kenya), "21 Nov 18:05");
        assert_eq!(at(Country::Uganda), "21 Nov 18:05");
        assert_eq!(at(Country::Rwanda), "21 Nov 17:05");
        assert_eq!(at(Country::Ghana), "21 Nov 15:05");
        // 22:30Z on the last day of the year is past midnight in Nairobi.
        assert_eq!(local_short(1_798_756_200, 3 * 3600), "1 Jan 01:30");
    }
}
