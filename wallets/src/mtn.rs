//! MTN MoMo, Collection API: `requesttopay` sends the payer a prompt to approve, the status is
//! read by the request's `X-Reference-Id`, and MTN calls the `X-Callback-Url` with the same body
//! when the payer has answered. Tokens: `POST /collection/token/` with the API user and key.
//!
//! MTN's callbacks are unsigned and carry our `externalId` but not the `X-Reference-Id`: so the
//! reference id is derived from our reference ([`reference_id`]), and a callback's is derived again
//! from its `externalId`. That also makes a repeated start with the same reference the same
//! request to MTN (409 `RESOURCE_ALREADY_EXIST`), never a second prompt.

use std::time::Duration;

use base64::Engine as _;
use hotspot_core::currency::{Currency, Money};
use hotspot_core::phone::{Country, PhoneNumber};
use hotspot_core::wire::PaymentFailure;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::http::{self, RawResponse, at, text};
use crate::{Failure, Notification, Outcome, Payment, PaymentRequest, Provider, Started, TokenCache, WalletError};
use daraja::Secret;

pub const SANDBOX_URL: &str = "https://sandbox.momodeveloper.mtn.com";
pub const PRODUCTION_URL: &str = "https://proxy.momoapi.mtn.com";
/// The sandbox takes only euros, whatever the country.
const SANDBOX_CURRENCY: &str = "EUR";
/// A callback is one small JSON object.
pub const MAX_CALLBACK_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct MtnConfig {
    pub base_url: String,
    /// The Collection product's subscription key (`Ocp-Apim-Subscription-Key`).
    pub subscription_key: Secret,
    /// The API user (a UUID) and its key, from the partner portal (or the sandbox's provisioning).
    pub api_user: String,
    pub api_key: Secret,
    /// `X-Target-Environment`: `sandbox`, or the market's (`mtnuganda`, `mtnghana`, `mtnzambia`,
    /// `mtnrwanda`, ...).
    pub target_environment: String,
    /// The merchant's country: its numbers and its currency.
    pub country: Country,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl MtnConfig {
    pub fn new(
        base_url: impl Into<String>,
        subscription_key: impl Into<String>,
        api_user: impl Into<String>,
        api_key: impl Into<String>,
        target_environment: impl Into<String>,
        country: Country,
    ) -> MtnConfig {
        MtnConfig {
            base_url: base_url.into(),
            subscription_key: Secret::new(subscription_key),
            api_user: api_user.into(),
            api_key: Secret::new(api_key),
            target_environment: target_environment.into(),
            country,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
        }
    }

    pub fn currency(&self) -> Currency {
        Currency::of(self.country)
    }

    /// The currency code MTN expects on the wire.
    pub fn wire_currency(&self) -> &str {
        if self.target_environment == "sandbox" { SANDBOX_CURRENCY } else { self.currency().as_str() }
    }
}

/// The `X-Reference-Id` for our reference: a UUID in version-4 form, from SHA-256 of it.
pub fn reference_id(reference: &str) -> String {
    let digest = Sha256::digest(reference.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// The body of `POST /collection/v1_0/requesttopay`.
pub fn request_body(cfg: &MtnConfig, req: &PaymentRequest) -> Value {
    json!({
        "amount": http::amount_text(req.amount),
        "currency": cfg.wire_currency(),
        "externalId": req.reference,
        "payer": {"partyIdType": "MSISDN", "partyId": req.payer.e164()},
        "payerMessage": note(&req.label),
        "payeeNote": note(&format!("{} {}", req.description, req.reference)),
    })
}

/// `payerMessage` and `payeeNote` must not be empty (a 500) nor hold `&` (a 400).
fn note(s: &str) -> String {
    let t: String = s.chars().filter(|c| !c.is_control() && *c != '&').take(160).collect();
    if t.trim().is_empty() { "WiFi".into() } else { t.trim().to_string() }
}

/// What the payer is told, as our reason. MTN's `ErrorReason` codes (Collection API).
pub fn failure_of(reason: &str) -> PaymentFailure {
    match reason {
        "APPROVAL_REJECTED" | "TRANSACTION_CANCELED" | "PAYMENT_NOT_APPROVED" | "REJECTED" => PaymentFailure::Cancelled,
        "NOT_ENOUGH_FUNDS" => PaymentFailure::InsufficientFunds,
        "EXPIRED" | "TIMEOUT" => PaymentFailure::Expired,
        // Not an MTN MoMo number (or not registered).
        "PAYER_NOT_FOUND" => PaymentFailure::NotMpesa,
        "SERVICE_UNAVAILABLE" | "INTERNAL_PROCESSING_ERROR" => PaymentFailure::SystemBusy,
        "NOT_ALLOWED"
        | "NOT_ALLOWED_TARGET_ENVIRONMENT"
        | "INVALID_CALLBACK_URL_HOST"
        | "INVALID_CURRENCY"
        | "PAYEE_NOT_FOUND"
        | "PAYEE_NOT_ALLOWED_TO_RECEIVE" => PaymentFailure::PromptFailed,
        _ => PaymentFailure::Other,
    }
}

/// MTN's error body, `{"code": "...", "message": "..."}`; a `reason` may be that object or its code.
fn code_and_message(v: Option<&Value>) -> (String, String) {
    match v {
        Some(Value::String(s)) => (s.clone(), String::new()),
        Some(o @ Value::Object(_)) => {
            (text(o.get("code")).unwrap_or_default(), text(o.get("message")).unwrap_or_default())
        }
        _ => (String::new(), String::new()),
    }
}

/// The token answer: `{"access_token", "token_type", "expires_in": 3600}`.
pub fn parse_token(status: u16, body: &[u8]) -> Result<(Secret, Duration), WalletError> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // A wrong API user or key is `{"error":"login_failed"}`, with a 500 as often as a 401.
    if matches!(status, 401 | 403) || text(v.get("error")).as_deref() == Some("login_failed") {
        return Err(WalletError::WrongCredentials(format!("token refused: HTTP {status}")));
    }
    if status != 200 {
        return Err(WalletError::unreadable("token", status, false));
    }
    let token = text(v.get("access_token")).ok_or_else(|| WalletError::unreadable("token", status, false))?;
    let secs = text(v.get("expires_in")).and_then(|s| s.parse::<u64>().ok()).unwrap_or(3600);
    Ok((Secret::new(token), Duration::from_secs(secs)))
}

/// The answer to `requesttopay`: 202 with no body when MTN took it.
pub fn parse_request_response(status: u16, body: &[u8]) -> Result<(), WalletError> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (code, message) = code_and_message(Some(&v));
    match status {
        202 => Ok(()),
        // Our reference id was used already: this very request went out before (a retry).
        409 if code == "RESOURCE_ALREADY_EXIST" => Ok(()),
        401 => Err(WalletError::WrongCredentials(format!("HTTP 401 {code} {message}"))),
        400 | 403 | 404 | 409 => Err(WalletError::Refused { failure: failure_of(&code), code, message }),
        // MTN answers some refusals with a 500 (`INVALID_CURRENCY`, `INVALID_CALLBACK_URL_HOST`):
        // the request was checked and refused, no prompt went out.
        500 if !matches!(code.as_str(), "" | "INTERNAL_PROCESSING_ERROR" | "COULD_NOT_PERFORM_TRANSACTION") => {
            Err(WalletError::Refused { failure: failure_of(&code), code, message })
        }
        // A 500 can follow a prompt that went out; a 503 is MTN's "not now".
        503 => Err(WalletError::NoAnswer { may_have_prompted: false, why: format!("HTTP 503 {code}") }),
        _ => Err(WalletError::NoAnswer { may_have_prompted: true, why: format!("HTTP {status} {code} {message}") }),
    }
}

/// A `requesttopay` status body (the answer to `GET .../requesttopay/{id}`, and the callback's).
fn outcome_of(cfg: &MtnConfig, v: &Value) -> Option<Outcome> {
    let status = text(v.get("status"))?;
    Some(match status.to_ascii_uppercase().as_str() {
        "PENDING" | "ONGOING" | "CREATED" => Outcome::Pending,
        "SUCCESSFUL" => {
            let same_currency = text(v.get("currency")).is_none_or(|c| c == cfg.wire_currency());
            let amount =
                text(v.get("amount")).filter(|_| same_currency).and_then(|a| Money::parse(cfg.currency(), &a).ok());
            let payer = text(at(v, &["payer", "partyId"])).and_then(|p| PhoneNumber::parse(cfg.country, &p).ok());
            Outcome::Paid(Payment { receipt: text(v.get("financialTransactionId")), amount, payer })
        }
        "FAILED" | "REJECTED" | "TIMEOUT" => {
            let (code, message) = code_and_message(v.get("reason"));
            let code = if code.is_empty() { status.clone() } else { code };
            Outcome::Failed(Failure { reason: failure_of(&code), code, description: message })
        }
        _ => return None,
    })
}

/// The answer to `GET /collection/v1_0/requesttopay/{referenceId}`.
pub fn parse_status(cfg: &MtnConfig, status: u16, body: &[u8]) -> Result<Outcome, WalletError> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match status {
        200 => outcome_of(cfg, &v).ok_or_else(|| WalletError::unreadable("status", status, false)),
        401 => Err(WalletError::WrongCredentials("status: HTTP 401".into())),
        // MTN has no such request: it never took it, so no payment can follow.
        404 => {
            let (code, message) = code_and_message(Some(&v));
            Ok(Outcome::Failed(Failure { reason: PaymentFailure::PromptFailed, code, description: message }))
        }
        _ => Err(WalletError::unreadable("status", status, false)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("callback body over {MAX_CALLBACK_BYTES} bytes")]
    TooLarge,
    #[error("callback is not JSON")]
    NotJson,
    #[error("callback has no externalId")]
    NoReference,
    #[error("callback has no status we know")]
    NoStatus,
}

/// The body MTN PUTs (or POSTs) to the `X-Callback-Url`: the request's status body.
pub fn parse_callback(cfg: &MtnConfig, body: &[u8]) -> Result<Notification, CallbackError> {
    if body.len() > MAX_CALLBACK_BYTES {
        return Err(CallbackError::TooLarge);
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| CallbackError::NotJson)?;
    let external = text(v.get("externalId")).ok_or(CallbackError::NoReference)?;
    let outcome = outcome_of(cfg, &v).ok_or(CallbackError::NoStatus)?;
    Ok(Notification { reference: reference_id(&external), outcome })
}

pub struct MtnClient {
    cfg: MtnConfig,
    base: String,
    http: reqwest::Client,
    token: TokenCache,
}

impl MtnClient {
    pub fn new(cfg: MtnConfig) -> Result<MtnClient, WalletError> {
        let base = http::base_url(&cfg.base_url)?;
        for (what, v) in [
            ("subscription key", cfg.subscription_key.expose()),
            ("API user", &cfg.api_user),
            ("API key", cfg.api_key.expose()),
            ("target environment", &cfg.target_environment),
        ] {
            if v.trim().is_empty() {
                return Err(WalletError::Invalid(format!("MTN {what} is empty")));
            }
        }
        let http = http::client(cfg.connect_timeout, cfg.request_timeout)?;
        Ok(MtnClient { cfg, base, http, token: TokenCache::default() })
    }

    pub fn config(&self) -> &MtnConfig {
        &self.cfg
    }

    async fn bearer(&self, rejected: Option<&Secret>) -> Result<Secret, WalletError> {
        self.token
            .get(rejected, || async {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    self.cfg.api_user,
                    self.cfg.api_key.expose()
                ));
                let r = http::send(
                    self.http
                        .post(format!("{}/collection/token/", self.base))
                        .header("Authorization", format!("Basic {basic}"))
                        .header("Ocp-Apim-Subscription-Key", self.cfg.subscription_key.expose())
                        .header("Content-Length", "0"),
                )
                .await
                .map_err(WalletError::not_prompting)?;
                parse_token(r.status, &r.body)
            })
            .await
    }

    /// Sends `build(token)`; a 401 gets one more try with a new token (the cached one may have
    /// been revoked early).
    async fn with_token(&self, build: impl Fn(&Secret) -> reqwest::RequestBuilder) -> Result<RawResponse, WalletError> {
        let token = self.bearer(None).await?;
        let r = http::send(build(&token)).await?;
        if r.status != 401 {
            return Ok(r);
        }
        let token = self.bearer(Some(&token)).await?;
        http::send(build(&token)).await
    }

    fn authed(&self, rb: reqwest::RequestBuilder, token: &Secret) -> reqwest::RequestBuilder {
        rb.bearer_auth(token.expose())
            .header("X-Target-Environment", &self.cfg.target_environment)
            .header("Ocp-Apim-Subscription-Key", self.cfg.subscription_key.expose())
    }
}

impl Provider for MtnClient {
    async fn start(&self, req: &PaymentRequest) -> Result<Started, WalletError> {
        if req.payer.country() != self.cfg.country || req.amount.currency() != self.cfg.currency() {
            return Err(WalletError::Invalid(format!(
                "this MTN merchant is in {} and takes {}",
                self.cfg.country.name(),
                self.cfg.currency()
            )));
        }
        let reference = reference_id(&req.reference);
        let body = request_body(&self.cfg, req);
        let r = self
            .with_token(|t| {
                self.authed(self.http.post(format!("{}/collection/v1_0/requesttopay", self.base)), t)
                    .header("X-Reference-Id", &reference)
                    .header("X-Callback-Url", &req.callback_url)
                    .header("Content-Type", "application/json")
                    .body(body.to_string())
            })
            .await?;
        parse_request_response(r.status, &r.body)?;
        Ok(Started { reference, message: None })
    }

    async fn status(&self, reference: &str) -> Result<Outcome, WalletError> {
        if uuid::Uuid::parse_str(reference).is_err() {
            return Err(WalletError::Invalid("an MTN reference id is a UUID".into()));
        }
        let r = self
            .with_token(|t| {
                self.authed(self.http.get(format!("{}/collection/v1_0/requesttopay/{reference}", self.base)), t)
            })
            .await
            .map_err(WalletError::not_prompting)?;
        parse_status(&self.cfg, r.status, &r.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ids_are_stable_v4_uuids() {
        let a = reference_id("p-123");
        assert_eq!(a, reference_id("p-123"));
        assert_ne!(a, reference_id("p-124"));
        let u = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(u.get_version_num(), 4);
    }
}
