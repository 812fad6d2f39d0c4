//! Airtel Money, Airtel Africa Open API collection ("USSD push"): `POST /merchant/v1/payments/`
//! prompts the payer, `GET /standard/v1/payments/{id}` is the enquiry, and Airtel POSTs the
//! outcome to the callback URL set in the application's settings on the portal (there is no
//! per-request callback URL). Every call carries `X-Country` and `X-Currency`; the payment and
//! its enquiry are keyed by **our** transaction id, so [`Started::reference`] is our reference.
//!
//! Where Airtel enforces message signing (per country and product), [`AirtelConfig::message_signing`]
//! sends payments to `/merchant/v2/payments/` with `x-signature` and `x-key` (`crate::signing`).

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use hotspot_core::currency::{Currency, Money};
use hotspot_core::phone::Country;
use hotspot_core::wire::PaymentFailure;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::http::{self, RawResponse, at, text};
use crate::signing::{self, SigningKey};
use crate::{Failure, Notification, Outcome, Payment, PaymentRequest, Provider, Started, TokenCache, WalletError};
use daraja::Secret;

pub const STAGING_URL: &str = "https://openapiuat.airtel.africa";
pub const PRODUCTION_URL: &str = "https://openapi.airtel.africa";
pub const MAX_CALLBACK_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct AirtelConfig {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The merchant's country (`X-Country`) and so its currency (`X-Currency`).
    pub country: Country,
    /// The application's callback "private key", when callback authentication is enabled: then
    /// a callback without the right `hash` is refused.
    pub callback_key: Option<Secret>,
    /// v2 payments with message signing (`x-signature`, `x-key`), where Airtel enforces it.
    pub message_signing: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl AirtelConfig {
    pub fn new(
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        country: Country,
    ) -> AirtelConfig {
        AirtelConfig {
            base_url: base_url.into(),
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            country,
            callback_key: None,
            message_signing: false,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
        }
    }

    pub fn currency(&self) -> Currency {
        Currency::of(self.country)
    }
}

/// Our reference as Airtel's transaction id: letters, digits and `-`, at most 64.
fn valid_reference(r: &str) -> bool {
    (1..=64).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `transaction.amount` is a JSON number in every documented sample: whole units as an integer.
fn amount_number(m: Money) -> Value {
    serde_json::from_str(&http::amount_text(m)).unwrap_or(Value::Null)
}

/// The body of `POST /merchant/v1/payments/`. The number goes without its country code.
pub fn payment_body(cfg: &AirtelConfig, req: &PaymentRequest) -> Value {
    let (country, currency) = (cfg.country.as_str(), cfg.currency().as_str());
    json!({
        "reference": req.label.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(64).collect::<String>(),
        "subscriber": {"country": country, "currency": currency, "msisdn": req.payer.national()},
        "transaction": {"amount": amount_number(req.amount), "country": country, "currency": currency, "id": req.reference},
    })
}

/// Our reason for an Airtel `response_code` (the portal's collection table).
pub fn failure_of(response_code: &str) -> PaymentFailure {
    match response_code {
        "DP00800001002" => PaymentFailure::WrongPin,
        "DP00800001005" | "DP00800001024" | "DP00800001029" => PaymentFailure::Expired,
        "DP00800001007" => PaymentFailure::InsufficientFunds,
        "DP00800001008" => PaymentFailure::Cancelled,
        // `DP00800001026`: the signature did not match the body (our key out of date, or a body
        // changed on the way); nothing was prompted.
        "DP00800001004" | "DP00800001010" | "DP00800001026" => PaymentFailure::PromptFailed,
        _ => PaymentFailure::Other,
    }
}

/// `status.{code, message, response_code}` of any answer.
fn status_of(v: &Value) -> (String, String, String) {
    (
        text(at(v, &["status", "code"])).unwrap_or_default(),
        text(at(v, &["status", "message"])).unwrap_or_default(),
        text(at(v, &["status", "response_code"])).unwrap_or_default(),
    )
}

/// The token answer: `{"access_token", "expires_in": "180", "token_type": "bearer"}` (a string).
pub fn parse_token(status: u16, body: &[u8]) -> Result<(Secret, Duration), WalletError> {
    match status {
        200 => {}
        400 | 401 | 403 => return Err(WalletError::WrongCredentials(format!("token refused: HTTP {status}"))),
        _ => return Err(WalletError::unreadable("token", status, false)),
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| WalletError::unreadable("token", status, false))?;
    let token = text(v.get("access_token")).ok_or_else(|| WalletError::unreadable("token", status, false))?;
    let secs = text(v.get("expires_in")).and_then(|s| s.parse::<u64>().ok()).unwrap_or(180);
    Ok((Secret::new(token), Duration::from_secs(secs)))
}

/// The answer to the payment request. Airtel's 200 says it took the request (`DP00800001006`,
/// "in process"); the payer's answer comes by callback or enquiry.
pub fn parse_payment_response(status: u16, body: &[u8]) -> Result<(), WalletError> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (code, message, response_code) = status_of(&v);
    let result_code = text(at(&v, &["status", "result_code"])).unwrap_or_default();
    let success = at(&v, &["status", "success"]).and_then(Value::as_bool);
    match status {
        // `ESB000041`: this transaction id was taken already, by this same request sent before.
        200 if success == Some(true) || result_code == "ESB000041" => Ok(()),
        200 => Err(WalletError::Refused { failure: failure_of(&response_code), code: response_code, message }),
        401 => Err(WalletError::WrongCredentials(format!("HTTP 401 {message}"))),
        400 | 403 | 404 => {
            let failure = if message.to_ascii_lowercase().contains("msisdn") {
                // Not an Airtel Money number.
                PaymentFailure::NotMpesa
            } else {
                failure_of(&response_code)
            };
            Err(WalletError::Refused { failure, code: format!("{code} {response_code}").trim().into(), message })
        }
        503 | 429 => Err(WalletError::NoAnswer { may_have_prompted: false, why: format!("HTTP {status} {message}") }),
        // A 500 ("Something Went Wrong") may follow a prompt that went out: the enquiry decides.
        _ => Err(WalletError::NoAnswer { may_have_prompted: true, why: format!("HTTP {status} {message}") }),
    }
}

/// `TS` and the rest, from an enquiry's `data.transaction.status` or a callback's `status_code`.
fn outcome_of(tx_status: &str, receipt: Option<String>, response_code: &str, message: String) -> Option<Outcome> {
    Some(match tx_status {
        "TS" => Outcome::Paid(Payment { receipt, amount: None, payer: None }),
        "TIP" | "TA" => Outcome::Pending,
        "TF" => Outcome::Failed(Failure {
            reason: failure_of(response_code),
            code: if response_code.is_empty() { "TF".into() } else { response_code.into() },
            description: message,
        }),
        "TE" => Outcome::Failed(Failure { reason: PaymentFailure::Expired, code: "TE".into(), description: message }),
        _ => return None,
    })
}

/// The enquiry's answer. Its `status.success` contradicts the outcome in Airtel's own samples, so
/// only `data.transaction.status` decides.
pub fn parse_enquiry(status: u16, body: &[u8]) -> Result<Outcome, WalletError> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (_, message, response_code) = status_of(&v);
    // Not found (yet): Airtel asks for enquiries three minutes after the payment; not a decision.
    if response_code == "DP00800001025" {
        return Ok(Outcome::Pending);
    }
    match status {
        200 => {}
        401 => return Err(WalletError::WrongCredentials("enquiry: HTTP 401".into())),
        _ => return Err(WalletError::unreadable("enquiry", status, false)),
    }
    let tx = at(&v, &["data", "transaction"]).ok_or_else(|| WalletError::unreadable("enquiry", status, false))?;
    let tx_status = text(tx.get("status")).unwrap_or_default();
    let description = text(tx.get("message")).unwrap_or(message);
    outcome_of(&tx_status, text(tx.get("airtel_money_id")), &response_code, description)
        .ok_or_else(|| WalletError::unreadable("enquiry", status, false))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("callback body over {MAX_CALLBACK_BYTES} bytes")]
    TooLarge,
    #[error("callback is not the documented JSON")]
    Malformed,
    #[error("callback hash missing or wrong")]
    BadHash,
    #[error("callback has no status we know")]
    NoStatus,
}

/// The transaction object as sent, without the whitespace between its tokens: what the `hash`
/// is an HMAC of (integrators hash `JSON.stringify(body.transaction)`).
fn compact(raw: &str) -> String {
    let (mut out, mut in_str, mut esc) = (String::with_capacity(raw.len()), false, false);
    for c in raw.chars() {
        if in_str {
            out.push(c);
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_str = c == '"';
            out.push(c);
        }
    }
    out
}

/// `hash` for a transaction object: Base64 of HMAC-SHA256 under the application's private key.
pub fn callback_hash(key: &Secret, transaction_json: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(compact(transaction_json).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[derive(serde::Deserialize)]
struct RawCallback<'a> {
    #[serde(borrow)]
    transaction: &'a serde_json::value::RawValue,
    #[serde(default)]
    hash: Option<String>,
}

/// The callback Airtel POSTs: `{"transaction": {"id", "message", "status_code", "airtel_money_id"}}`,
/// with `"hash"` beside it when callback authentication is on. It states no amount: a USSD push
/// is for the amount asked, which the payer cannot change.
pub fn parse_callback(cfg: &AirtelConfig, body: &[u8]) -> Result<Notification, CallbackError> {
    if body.len() > MAX_CALLBACK_BYTES {
        return Err(CallbackError::TooLarge);
    }
    let raw: RawCallback<'_> = serde_json::from_slice(body).map_err(|_| CallbackError::Malformed)?;
    if let Some(key) = &cfg.callback_key {
        let want = callback_hash(key, raw.transaction.get());
        let ok = raw.hash.as_deref().is_some_and(|h| hotspot_core::ct::eq(h.trim().as_bytes(), want.as_bytes()));
        if !ok {
            return Err(CallbackError::BadHash);
        }
    }
    let tx: Value = serde_json::from_str(raw.transaction.get()).map_err(|_| CallbackError::Malformed)?;
    let id = text(tx.get("id")).ok_or(CallbackError::Malformed)?;
    let status = text(tx.get("status_code")).unwrap_or_default();
    let message = text(tx.get("message")).unwrap_or_default();
    let outcome = outcome_of(&status, text(tx.get("airtel_money_id")), "", message).ok_or(CallbackError::NoStatus)?;
    Ok(Notification { reference: id, outcome })
}

pub struct AirtelClient {
    cfg: AirtelConfig,
    base: String,
    http: reqwest::Client,
    token: TokenCache,
    /// Airtel's public key for message signing, fetched once (again after a mismatch).
    signing_key: tokio::sync::Mutex<Option<SigningKey>>,
}

impl AirtelClient {
    pub fn new(cfg: AirtelConfig) -> Result<AirtelClient, WalletError> {
        let base = http::base_url(&cfg.base_url)?;
        if cfg.client_id.trim().is_empty() || cfg.client_secret.expose().trim().is_empty() {
            return Err(WalletError::Invalid("Airtel client id and secret are required".into()));
        }
        let http = http::client(cfg.connect_timeout, cfg.request_timeout)?;
        Ok(AirtelClient { cfg, base, http, token: TokenCache::default(), signing_key: Default::default() })
    }

    pub fn config(&self) -> &AirtelConfig {
        &self.cfg
    }

    async fn bearer(&self, rejected: Option<&Secret>) -> Result<Secret, WalletError> {
        self.token
            .get(rejected, || async {
                let body = json!({
                    "client_id": self.cfg.client_id,
                    "client_secret": self.cfg.client_secret.expose(),
                    "grant_type": "client_credentials",
                });
                let r = http::send(
                    self.http
                        .post(format!("{}/auth/oauth2/token", self.base))
                        .header("Content-Type", "application/json")
                        .body(body.to_string()),
                )
                .await
                .map_err(WalletError::not_prompting)?;
                parse_token(r.status, &r.body)
            })
            .await
    }

    async fn signing_key(&self) -> Result<SigningKey, WalletError> {
        let mut cached = self.signing_key.lock().await;
        if let Some(k) = cached.as_ref() {
            return Ok(k.clone());
        }
        let r = self
            .call(|| self.http.get(format!("{}/v1/rsa/encryption-keys", self.base)))
            .await
            .map_err(WalletError::not_prompting)?;
        let key = signing::parse_encryption_key(r.status, &r.body)?;
        *cached = Some(key.clone());
        Ok(key)
    }

    /// Sends `build(token)` with the country headers; a 401 gets one more try with a new token.
    async fn call(&self, build: impl Fn() -> reqwest::RequestBuilder) -> Result<RawResponse, WalletError> {
        let send = |t: &Secret| {
            http::send(
                build()
                    .bearer_auth(t.expose())
                    .header("Accept", "*/*")
                    .header("X-Country", self.cfg.country.as_str())
                    .header("X-Currency", self.cfg.currency().as_str()),
            )
        };
        let token = self.bearer(None).await?;
        let r = send(&token).await?;
        if r.status != 401 {
            return Ok(r);
        }
        let token = self.bearer(Some(&token)).await?;
        send(&token).await
    }
}

impl Provider for AirtelClient {
    async fn start(&self, req: &PaymentRequest) -> Result<Started, WalletError> {
        if req.payer.country() != self.cfg.country || req.amount.currency() != self.cfg.currency() {
            return Err(WalletError::Invalid(format!(
                "this Airtel merchant is in {} and takes {}",
                self.cfg.country.name(),
                self.cfg.currency()
            )));
        }
        if !valid_reference(&req.reference) {
            return Err(WalletError::Invalid("an Airtel transaction id is 1-64 letters, digits and '-'".into()));
        }
        let body = payment_body(&self.cfg, req).to_string();
        let r = if self.cfg.message_signing {
            let sig = signing::sign(&self.signing_key().await?, body.as_bytes())?;
            let r = self
                .call(|| {
                    self.http
                        .post(format!("{}/merchant/v2/payments/", self.base))
                        .header("Content-Type", "application/json")
                        .header("x-signature", &sig.signature)
                        .header("x-key", &sig.key)
                        .body(body.clone())
                })
                .await?;
            if r.status == 403 {
                // Perhaps Airtel's key changed: the next payment fetches it again.
                *self.signing_key.lock().await = None;
            }
            r
        } else {
            self.call(|| {
                self.http
                    .post(format!("{}/merchant/v1/payments/", self.base))
                    .header("Content-Type", "application/json")
                    .body(body.clone())
            })
            .await?
        };
        parse_payment_response(r.status, &r.body)?;
        Ok(Started { reference: req.reference.clone(), message: None })
    }

    async fn status(&self, reference: &str) -> Result<Outcome, WalletError> {
        if !valid_reference(reference) {
            return Err(WalletError::Invalid("an Airtel transaction id is 1-64 letters, digits and '-'".into()));
        }
        let r = self.call(|| self.http.get(format!("{}/standard/v1/payments/{reference}", self.base))).await.map_err(
            |e| match e {
                WalletError::NoAnswer { why, .. } => WalletError::NoAnswer { may_have_prompted: false, why },
                e => e,
            },
        )?;
        parse_enquiry(r.status, &r.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_strings_whole() {
        assert_eq!(compact("{ \"a\" : \"b c\\\" d\" ,\n \"e\": 1 }"), "{\"a\":\"b c\\\" d\",\"e\":1}");
    }
}
