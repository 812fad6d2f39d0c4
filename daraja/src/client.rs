//! The Daraja HTTP client: OAuth (through a shared [`TokenStore`]), STK push and STK query.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotspot_core::{Msisdn, Shillings};
use rand::Rng as _;
use serde_json::{Value, json};
use tokio::time::Instant;
use url::{Host, Url};

use crate::json::{ApiError, ApiErrorKind, text_field};
use crate::result_code::ResultCode;
use crate::timestamp::{Timestamp, password, unix_now};
use crate::token::{AccessToken, StoredToken, TokenStore, TokenStoreError};

/// Daraja answers are small; a bigger body is cut off rather than buffered.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Safaricom documents a one-hour token; used when `expires_in` is missing.
const DEFAULT_TOKEN_SECS: i64 = 3599;

/// Which Daraja to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Sandbox,
    Production,
    /// Any other base URL, e.g. the simulator's `http://127.0.0.1:PORT`. Only here may the
    /// CallBackURL be plain http, and then only to a loopback host.
    Custom(String),
}

impl Environment {
    pub fn base_url(&self) -> &str {
        match self {
            Environment::Sandbox => "https://sandbox.safaricom.co.ke",
            Environment::Production => "https://api.safaricom.co.ke",
            Environment::Custom(u) => u.trim_end_matches('/'),
        }
    }
}

/// A credential; `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(v: impl Into<String>) -> Self {
        Secret(v.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionType {
    /// `CustomerPayBillOnline`: PartyB is the paybill (the BusinessShortCode).
    PayBill,
    /// `CustomerBuyGoodsOnline`: PartyB is the till; BusinessShortCode is the store number.
    BuyGoods,
}

impl TransactionType {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::PayBill => "CustomerPayBillOnline",
            TransactionType::BuyGoods => "CustomerBuyGoodsOnline",
        }
    }
}

/// Retries for the calls where a retry cannot hurt (OAuth, STK query).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts, including the first.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled each time, with jitter, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(300), max_delay: Duration::from_secs(2) }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub environment: Environment,
    pub consumer_key: Secret,
    pub consumer_secret: Secret,
    /// Paybill number, or the store number for Buy Goods.
    pub business_short_code: String,
    /// Paybill number, or the till number for Buy Goods.
    pub party_b: String,
    pub passkey: Secret,
    pub transaction_type: TransactionType,
    pub connect_timeout: Duration,
    /// Whole-request timeout. A push that times out may still have prompted the customer.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Refresh the shared token this long before it expires.
    pub refresh_margin: Duration,
    /// How long one instance may hold the refresh lease.
    pub lease_duration: Duration,
    /// How often an instance waiting for another's refresh looks at the store again.
    pub lease_poll: Duration,
}

impl ClientConfig {
    /// A paybill (`CustomerPayBillOnline`) merchant with the default timeouts and retries.
    pub fn paybill(
        environment: Environment,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
        shortcode: impl Into<String>,
        passkey: impl Into<String>,
    ) -> Self {
        let shortcode = shortcode.into();
        ClientConfig {
            environment,
            consumer_key: Secret::new(consumer_key),
            consumer_secret: Secret::new(consumer_secret),
            party_b: shortcode.clone(),
            business_short_code: shortcode,
            passkey: Secret::new(passkey),
            transaction_type: TransactionType::PayBill,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            retry: RetryPolicy::default(),
            refresh_margin: Duration::from_secs(300),
            lease_duration: Duration::from_secs(10),
            lease_poll: Duration::from_millis(100),
        }
    }

    /// A Buy Goods (`CustomerBuyGoodsOnline`) merchant: the store number signs, the till is paid.
    pub fn buy_goods(
        environment: Environment,
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
        store_number: impl Into<String>,
        till: impl Into<String>,
        passkey: impl Into<String>,
    ) -> Self {
        let mut c = Self::paybill(environment, consumer_key, consumer_secret, store_number, passkey);
        c.party_b = till.into();
        c.transaction_type = TransactionType::BuyGoods;
        c
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("base URL is not an http(s) URL: {0}")]
    BaseUrl(String),
    #[error("{0} must be 5 to 9 digits")]
    ShortCode(&'static str),
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("HTTP client setup failed: {0}")]
    Http(#[source] reqwest::Error),
}

/// One M-Pesa Express prompt to send.
#[derive(Debug, Clone)]
pub struct StkPushRequest {
    pub phone: Msisdn,
    pub amount: Shillings,
    pub callback_url: String,
    /// At most 12 characters; shown to the customer.
    pub account_reference: String,
    /// At most 13 characters.
    pub transaction_desc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("AccountReference must be 1 to 12 printable ASCII characters")]
    AccountReference,
    #[error("TransactionDesc must be 1 to 13 printable ASCII characters")]
    TransactionDesc,
    #[error("CallBackURL must be an https URL (plain http only to loopback with a custom base URL)")]
    CallbackUrl,
    #[error("CheckoutRequestID must be 1 to 128 printable ASCII characters")]
    CheckoutRequestId,
}

/// Daraja accepted the push: the prompt is on its way to the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkPushAccepted {
    pub merchant_request_id: String,
    pub checkout_request_id: String,
    pub customer_message: String,
}

/// What STK query says about a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryOutcome {
    /// The customer has not answered yet (`500.001.1001` "The transaction is being processed").
    Pending,
    Paid,
    Failed {
        code: ResultCode,
        description: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum DarajaError {
    #[error("invalid request: {0}")]
    Request(#[from] RequestError),
    /// No usable answer arrived. `maybe_sent` is false only when the connection was never made.
    #[error("HTTP transport error (maybe sent: {maybe_sent}): {source}")]
    Transport {
        maybe_sent: bool,
        #[source]
        source: reqwest::Error,
    },
    /// Daraja's documented error body.
    #[error("Daraja error {} (HTTP {status}): {}", error.error_code, error.error_message)]
    Api { status: u16, error: ApiError },
    /// HTTP 200 with a ResponseCode other than "0".
    #[error("Daraja refused the request: ResponseCode {code}: {description}")]
    Rejected { code: String, description: String },
    #[error("unexpected Daraja response (HTTP {status}): {snippet}")]
    Unexpected { status: u16, snippet: String },
    #[error(transparent)]
    TokenStore(#[from] TokenStoreError),
    /// Another instance held the refresh lease for too long and no valid token was left.
    #[error("timed out waiting for another instance to refresh the access token")]
    TokenBusy,
}

impl DarajaError {
    pub fn api_kind(&self) -> Option<ApiErrorKind> {
        match self {
            DarajaError::Api { error, .. } => Some(error.kind()),
            _ => None,
        }
    }

    /// Worth retrying, where a retry is safe at all.
    pub fn is_transient(&self) -> bool {
        match self {
            DarajaError::Transport { .. } => true,
            DarajaError::Api { status, error } => {
                *status == 429
                    || (*status >= 500 && matches!(error.kind(), ApiErrorKind::SpikeArrest | ApiErrorKind::Other))
            }
            DarajaError::Unexpected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// For an STK push: the customer may have been prompted although no CheckoutRequestID
    /// came back, so sending another push could prompt them twice.
    pub fn may_have_prompted(&self) -> bool {
        match self {
            DarajaError::Transport { maybe_sent, .. } => *maybe_sent,
            DarajaError::Unexpected { status, .. } => *status >= 500,
            _ => false,
        }
    }

    fn is_invalid_token(&self) -> bool {
        match self {
            DarajaError::Api { error, .. } => error.kind() == ApiErrorKind::InvalidToken,
            DarajaError::Unexpected { status, .. } => *status == 401,
            _ => false,
        }
    }
}

pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

fn body_json(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// The documented error body if there is one, else the status and a bit of the body.
pub(crate) fn error_from(status: u16, body: &[u8]) -> DarajaError {
    match body_json(body).as_ref().and_then(ApiError::from_json) {
        Some(error) => DarajaError::Api { status, error },
        None => unexpected(status, body),
    }
}

fn unexpected(status: u16, body: &[u8]) -> DarajaError {
    let snippet: String = String::from_utf8_lossy(body).chars().take(200).collect();
    DarajaError::Unexpected { status, snippet }
}

/// Reads an OAuth answer. `requested_at` is when the request was sent (Unix seconds); the
/// expiry counts from then, so a slow answer errs on the early side.
pub fn parse_oauth_response(status: u16, body: &[u8], requested_at: i64) -> Result<StoredToken, DarajaError> {
    if status != 200 {
        return Err(error_from(status, body));
    }
    let Some(v) = body_json(body) else { return Err(unexpected(status, body)) };
    let Some(token) = text_field(&v, "access_token") else { return Err(error_from(status, body)) };
    // "3599" or 3599; a missing or silly value falls back to the documented hour.
    let secs = text_field(&v, "expires_in")
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|s| (1..=86_400).contains(s))
        .unwrap_or(DEFAULT_TOKEN_SECS);
    Ok(StoredToken { token: AccessToken::new(token), expires_at: requested_at + secs })
}

/// Reads an STK push answer.
pub fn parse_push_response(status: u16, body: &[u8]) -> Result<StkPushAccepted, DarajaError> {
    if status != 200 {
        return Err(error_from(status, body));
    }
    let Some(v) = body_json(body) else { return Err(unexpected(status, body)) };
    if ApiError::from_json(&v).is_some() {
        return Err(error_from(status, body));
    }
    let code = text_field(&v, "ResponseCode").unwrap_or_default();
    if code != "0" {
        let description = text_field(&v, "ResponseDescription").or_else(|| text_field(&v, "CustomerMessage"));
        return Err(DarajaError::Rejected { code, description: description.unwrap_or_default() });
    }
    match (text_field(&v, "MerchantRequestID"), text_field(&v, "CheckoutRequestID")) {
        (Some(merchant_request_id), Some(checkout_request_id)) => Ok(StkPushAccepted {
            merchant_request_id,
            checkout_request_id,
            customer_message: text_field(&v, "CustomerMessage").unwrap_or_default(),
        }),
        _ => Err(unexpected(status, body)),
    }
}

/// Reads an STK query answer. `500.001.1001` "The transaction is being processed" (sent with
/// HTTP 500) means the customer has not answered yet: [`QueryOutcome::Pending`], not a failure.
pub fn parse_query_response(status: u16, body: &[u8]) -> Result<QueryOutcome, DarajaError> {
    let v = body_json(body);
    if let Some(e) = v.as_ref().and_then(ApiError::from_json) {
        if e.kind() == ApiErrorKind::StillProcessing {
            return Ok(QueryOutcome::Pending);
        }
        return Err(DarajaError::Api { status, error: e });
    }
    if status != 200 {
        return Err(unexpected(status, body));
    }
    let Some(raw) = v.as_ref().and_then(|v| text_field(v, "ResultCode")) else { return Err(unexpected(status, body)) };
    let code = ResultCode::parse(&raw);
    if code.is_success() {
        Ok(QueryOutcome::Paid)
    } else {
        let description = v.as_ref().and_then(|v| text_field(v, "ResultDesc")).unwrap_or_default();
        Ok(QueryOutcome::Failed { code, description })
    }
}

/// The Daraja client. One per process; cheap to share behind an `Arc`.
pub struct DarajaClient<S> {
    cfg: ClientConfig,
    base: String,
    http: reqwest::Client,
    store: Arc<S>,
    /// This instance's copy of the shared token, so most calls skip the store.
    local: Mutex<Option<StoredToken>>,
}

impl<S> fmt::Debug for DarajaClient<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DarajaClient")
            .field("base", &self.base)
            .field("shortcode", &self.cfg.business_short_code)
            .finish()
    }
}

/// A reqwest client on the shared TLS configuration (compiled-in roots, no system store).
fn http_client(cfg: &ClientConfig, https_only: bool) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(hotspot_core::tls::webpki_client_config()?)
        .https_only(https_only)
        // A redirect would carry our Authorization header somewhere unexpected.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.connect_timeout)
        .timeout(cfg.request_timeout)
        .build()
        .map_err(ConfigError::Http)
}

fn is_shortcode(s: &str) -> bool {
    (5..=9).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn short_text(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    (1..=max).contains(&n) && s.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}

fn callback_url_ok(url: &str, custom: bool) -> bool {
    let Ok(u) = Url::parse(url) else { return false };
    match u.scheme() {
        "https" => u.host().is_some(),
        "http" if custom => match u.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

impl StkPushRequest {
    fn validate(&self, custom_env: bool) -> Result<(), RequestError> {
        if !short_text(&self.account_reference, 12) {
            return Err(RequestError::AccountReference);
        }
        if !short_text(&self.transaction_desc, 13) {
            return Err(RequestError::TransactionDesc);
        }
        if !callback_url_ok(&self.callback_url, custom_env) {
            return Err(RequestError::CallbackUrl);
        }
        Ok(())
    }
}

impl<S: TokenStore> DarajaClient<S> {
    /// Builds a client; `store` is shared with every other instance that uses the same credentials.
    pub fn new(cfg: ClientConfig, store: Arc<S>) -> Result<Self, ConfigError> {
        let base = cfg.environment.base_url().to_string();
        match Url::parse(&base) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => return Err(ConfigError::BaseUrl(base)),
        }
        if !is_shortcode(&cfg.business_short_code) {
            return Err(ConfigError::ShortCode("BusinessShortCode"));
        }
        if !is_shortcode(&cfg.party_b) {
            return Err(ConfigError::ShortCode("PartyB"));
        }
        if cfg.consumer_key.expose().is_empty() {
            return Err(ConfigError::Empty("consumer key"));
        }
        if cfg.consumer_secret.expose().is_empty() {
            return Err(ConfigError::Empty("consumer secret"));
        }
        if cfg.passkey.expose().is_empty() {
            return Err(ConfigError::Empty("passkey"));
        }
        let https_only = !matches!(cfg.environment, Environment::Custom(_));
        let http = http_client(&cfg, https_only)?;
        Ok(DarajaClient { cfg, base, http, store, local: Mutex::new(None) })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// Sends one M-Pesa Express prompt. Never retried blindly: a second push prompts the
    /// customer twice. The only resend is after Daraja rejected the token (`404.001.03`),
    /// which means the request was not processed.
    pub async fn stk_push(&self, req: &StkPushRequest) -> Result<StkPushAccepted, DarajaError> {
        req.validate(matches!(self.cfg.environment, Environment::Custom(_)))?;
        let token = self.token(None).await?;
        match self.push_once(&token, req).await {
            Err(e) if e.is_invalid_token() => {
                tracing::warn!(phone = %req.phone.masked(), "STK push: token rejected; refreshing and resending once");
                let token = self.token(Some(&token)).await?;
                self.push_once(&token, req).await
            }
            r => r,
        }
    }

    async fn push_once(&self, token: &AccessToken, req: &StkPushRequest) -> Result<StkPushAccepted, DarajaError> {
        // One timestamp for both fields: Daraja checks Password against this Timestamp.
        let ts = Timestamp::now();
        let body = json!({
            "BusinessShortCode": self.cfg.business_short_code,
            "Password": password(&self.cfg.business_short_code, self.cfg.passkey.expose(), &ts),
            "Timestamp": ts.as_str(),
            "TransactionType": self.cfg.transaction_type.as_str(),
            "Amount": req.amount.get(),
            "PartyA": req.phone.digits(),
            "PartyB": self.cfg.party_b,
            "PhoneNumber": req.phone.digits(),
            "CallBackURL": req.callback_url,
            "AccountReference": req.account_reference,
            "TransactionDesc": req.transaction_desc,
        });
        let resp = self.post_json("/mpesa/stkpush/v1/processrequest", token, &body).await?;
        tracing::debug!(phone = %req.phone.masked(), status = resp.status, "STK push answered");
        parse_push_response(resp.status, &resp.body)
    }

    /// Asks Daraja how a push ended. Safe to repeat, so transient failures are retried.
    pub async fn stk_query(&self, checkout_request_id: &str) -> Result<QueryOutcome, DarajaError> {
        if !short_text(checkout_request_id, 128) || checkout_request_id.contains(' ') {
            return Err(RequestError::CheckoutRequestId.into());
        }
        let mut attempt = 1;
        let mut rejected: Option<AccessToken> = None;
        loop {
            let token = self.token(rejected.as_ref()).await?;
            match self.query_once(&token, checkout_request_id).await {
                Err(e) if e.is_invalid_token() && rejected.is_none() => rejected = Some(token),
                Err(e) if e.is_transient() && attempt < self.cfg.retry.max_attempts => {
                    tracing::debug!(attempt, error = %e, "STK query failed; retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                r => return r,
            }
        }
    }

    async fn query_once(&self, token: &AccessToken, checkout_request_id: &str) -> Result<QueryOutcome, DarajaError> {
        let ts = Timestamp::now();
        let body = json!({
            "BusinessShortCode": self.cfg.business_short_code,
            "Password": password(&self.cfg.business_short_code, self.cfg.passkey.expose(), &ts),
            "Timestamp": ts.as_str(),
            "CheckoutRequestID": checkout_request_id,
        });
        let resp = self.post_json("/mpesa/stkpushquery/v1/query", token, &body).await?;
        parse_query_response(resp.status, &resp.body)
    }

    /// An authenticated JSON POST to a Daraja API path.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        token: &AccessToken,
        body: &Value,
    ) -> Result<RawResponse, DarajaError> {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token.secret())
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(req).await
    }

    /// A valid bearer token: this instance's copy, else the shared store's, else a fresh one
    /// fetched by whichever instance wins the refresh lease. `rejected` is a token Daraja
    /// just refused, which must not be handed out again.
    pub async fn access_token(&self) -> Result<AccessToken, DarajaError> {
        self.token(None).await
    }

    async fn token(&self, rejected: Option<&AccessToken>) -> Result<AccessToken, DarajaError> {
        let margin = self.cfg.refresh_margin.as_secs() as i64;
        let fresh = |t: &StoredToken, now: i64, margin: i64| t.expires_at - margin > now && Some(&t.token) != rejected;
        if let Some(t) = self.local_token()
            && fresh(&t, unix_now(), margin)
        {
            return Ok(t.token);
        }
        let lease_secs = self.cfg.lease_duration.as_secs().max(1) as i64;
        // Long enough for a dead holder's lease to lapse and for us to take over.
        let deadline = Instant::now() + self.cfg.lease_duration * 2 + Duration::from_secs(1);
        loop {
            let now = unix_now();
            let current = self.store.load().await?;
            if let Some(t) = &current
                && fresh(t, now, margin)
            {
                return Ok(self.keep(t.clone()));
            }
            let holder = format!("{:016x}", rand::rng().random::<u64>());
            if self.store.try_lease(&holder, now, now + lease_secs).await? {
                // Another instance may have stored a token between our load and our lease.
                if let Some(t) = self.store.load().await?
                    && fresh(&t, unix_now(), margin)
                {
                    self.store.release(&holder).await?;
                    return Ok(self.keep(t));
                }
                return match self.fetch_token().await {
                    Ok(t) => {
                        if !self.store.store(&holder, t.clone()).await? {
                            tracing::warn!("refresh lease lapsed during OAuth; token used here but not shared");
                        }
                        Ok(self.keep(t))
                    }
                    Err(e) => {
                        if let Err(re) = self.store.release(&holder).await {
                            tracing::warn!(error = %re, "could not release the token refresh lease");
                        }
                        Err(e)
                    }
                };
            }
            // Someone else is refreshing; a token still valid for a while (only inside the
            // early-refresh margin) serves meanwhile.
            if let Some(t) = &current
                && fresh(t, now, margin.min(30))
            {
                return Ok(self.keep(t.clone()));
            }
            if Instant::now() >= deadline {
                return Err(DarajaError::TokenBusy);
            }
            tokio::time::sleep(self.cfg.lease_poll).await;
        }
    }

    fn local_token(&self) -> Option<StoredToken> {
        self.local.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn keep(&self, t: StoredToken) -> AccessToken {
        let token = t.token.clone();
        *self.local.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
        token
    }

    /// `GET /oauth/v1/generate`, retried on transient failures (a token request has no side
    /// effect beyond possibly invalidating the previous token, which the lease already accounts for).
    async fn fetch_token(&self) -> Result<StoredToken, DarajaError> {
        let mut attempt = 1;
        loop {
            match self.fetch_token_once().await {
                Err(e) if e.is_transient() && attempt < self.cfg.retry.max_attempts => {
                    tracing::debug!(attempt, error = %e, "OAuth failed; retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                r => return r,
            }
        }
    }

    async fn fetch_token_once(&self) -> Result<StoredToken, DarajaError> {
        let url = format!("{}/oauth/v1/generate?grant_type=client_credentials", self.base);
        let req =
            self.http.get(url).basic_auth(self.cfg.consumer_key.expose(), Some(self.cfg.consumer_secret.expose()));
        let started = unix_now();
        let resp = self.send(req).await?;
        let t = parse_oauth_response(resp.status, &resp.body, started)?;
        tracing::info!(expires_in = t.expires_at - started, "fetched a new Daraja access token");
        Ok(t)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let r = &self.cfg.retry;
        let exp = r.base_delay.saturating_mul(1u32 << (attempt - 1).min(16)).min(r.max_delay);
        // Jitter keeps concurrent instances from retrying in lockstep.
        exp.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<RawResponse, DarajaError> {
        let transport =
            |e: reqwest::Error| DarajaError::Transport { maybe_sent: !(e.is_connect() || e.is_builder()), source: e };
        let mut resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            let room = MAX_RESPONSE_BYTES - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_RESPONSE_BYTES {
                break;
            }
        }
        Ok(RawResponse { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls() {
        assert!(callback_url_ok("https://example.com/cb/secret", false));
        assert!(!callback_url_ok("http://example.com/cb", false));
        assert!(!callback_url_ok("http://127.0.0.1:8080/cb", false));
        assert!(callback_url_ok("http://127.0.0.1:8080/cb", true));
        assert!(callback_url_ok("http://[::1]:8080/cb", true));
        assert!(callback_url_ok("http://localhost:8080/cb", true));
        assert!(!callback_url_ok("http://10.0.0.1/cb", true));
        assert!(!callback_url_ok("ftp://example.com/cb", true));
        assert!(!callback_url_ok("not a url", true));
    }

    #[test]
    fn field_lengths() {
        assert!(short_text("HOTSPOT-1H", 12));
        assert!(short_text("123456789012", 12));
        assert!(!short_text("1234567890123", 12));
        assert!(!short_text("", 12));
        assert!(!short_text("caf\u{e9}", 12));
        assert!(!short_text("a\nb", 12));
    }

    #[test]
    fn secrets_are_redacted() {
        let c = ClientConfig::paybill(Environment::Sandbox, "the-key", "topsecret", "174379", "passkey-xyz");
        let d = format!("{c:?}");
        assert!(!d.contains("the-key") && !d.contains("topsecret") && !d.contains("passkey-xyz"), "{d}");
    }
}
