//! A Safaricom Daraja (M-Pesa Express) simulator for tests and hand demos.
//!
//! Start it in-process with [`DarajaSim::start`] (random loopback port), point the client at
//! [`DarajaSim::base_url`], choose outcomes with [`DarajaSim::push_scenario`] (or the phone-number
//! convention in [`Scenario::for_phone`]), and assert on [`DarajaSim::requests`],
//! [`DarajaSim::pushes`] and [`DarajaSim::callbacks`]. `GET /phone` is a page where a person
//! plays the customer's phone. See docs/daraja.md.

mod c2b;
mod model;
mod outcome;
mod phone;
mod server;
mod sink;
mod sms;
mod util;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use model::{
    Answer, C2B_VALIDATION_WAIT, C2bPay, C2bPayment, C2bRegistration, C2bValidation, CallbackDelivery, CallbackMode,
    Endpoint, Fault, PushRecord, RecordedRequest, Scenario, SimResult, result_desc,
};
pub use sink::CallbackSink;
pub use sms::{SMS_API_KEY, SMS_USERNAME, SmsMessage, SmsMode, SmsSim};
/// A reqwest client (rustls on `ring`) for tests that talk to the simulator directly.
pub use util::http_client;

/// The HTTP plumbing of this simulator, for the other wallets' simulators (`wallets-sim`).
pub mod serve {
    pub use crate::util::{MAX_BODY, Resp, json, random_string, read_body, respond, serve_with};
}

/// The Daraja sandbox's public test paybill and passkey.
pub const SANDBOX_SHORTCODE: &str = "174379";
pub const SANDBOX_PASSKEY: &str = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The paybill (or Buy Goods store number) the simulator knows, and its passkey.
    pub shortcode: String,
    pub passkey: String,
    pub token_lifetime: Duration,
    /// `expires_in` as a JSON number instead of the usual string.
    pub expires_in_as_number: bool,
    /// Issuing a token invalidates every earlier one (Safaricom's FAQ warns it may).
    pub new_token_invalidates_old: bool,
    /// Accept `http://` CallBackURLs to loopback hosts (tests); Daraja itself wants https.
    pub allow_http_loopback_callbacks: bool,
    /// Error bodies with PascalCase keys (`ErrorCode`), a shape seen in production.
    pub pascal_case_errors: bool,
    /// Choose outcomes by the phone number's last digits when no scenario is queued.
    pub phone_conventions: bool,
    /// C2B external validation is on for the shortcode (off by default, as at Safaricom, where it
    /// is switched on by asking support).
    pub c2b_external_validation: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            consumer_key: "sim-consumer-key".into(),
            consumer_secret: "sim-consumer-secret".into(),
            shortcode: SANDBOX_SHORTCODE.into(),
            passkey: SANDBOX_PASSKEY.into(),
            token_lifetime: Duration::from_secs(3599),
            expires_in_as_number: false,
            new_token_invalidates_old: false,
            allow_http_loopback_callbacks: false,
            pascal_case_errors: false,
            phone_conventions: true,
            c2b_external_validation: false,
        }
    }
}

impl SimConfig {
    /// Defaults plus plain-http loopback callbacks, which in-process tests need.
    pub fn for_tests() -> Self {
        SimConfig { allow_http_loopback_callbacks: true, ..Self::default() }
    }
}

pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub state: Mutex<State>,
    pub http: reqwest::Client,
}

#[derive(Default)]
pub(crate) struct State {
    pub tokens: HashMap<String, tokio::time::Instant>,
    pub requests: Vec<RecordedRequest>,
    pub scenarios: VecDeque<Scenario>,
    pub faults: HashMap<Endpoint, VecDeque<Fault>>,
    pub pushes: Vec<PushRecord>,
    pub held: HashMap<String, Vec<(String, String)>>,
    pub callbacks: Vec<CallbackDelivery>,
    pub seq: u64,
    /// C2B: each shortcode's registered URLs, and the payments made.
    pub c2b_urls: HashMap<String, C2bRegistration>,
    pub c2b: Vec<C2bPayment>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // State is plain data; a panic elsewhere while holding the lock leaves it usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running simulator. Dropping it stops the server and its connections.
pub struct DarajaSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl DarajaSim {
    /// Starts on a random free port on 127.0.0.1.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), cfg).await
    }

    pub async fn start_on(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let http = util::http_client().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { cfg, state: Mutex::new(State::default()), http });
        let task = tokio::spawn(server::serve(listener, shared.clone()));
        Ok(DarajaSim { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for `Environment::Custom`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// Queues the outcome of the next accepted push (first in, first used).
    pub fn push_scenario(&self, s: Scenario) {
        self.shared.lock().scenarios.push_back(s);
    }

    /// Queues a fault in front of the next request to `endpoint`.
    pub fn inject_fault(&self, endpoint: Endpoint, fault: Fault) {
        self.shared.lock().faults.entry(endpoint).or_default().push_back(fault);
    }

    /// Makes every issued token invalid, as if they had expired.
    pub fn expire_tokens(&self) {
        self.shared.lock().tokens.clear();
    }

    /// Answers a pending prompt as the customer would. Returns false if no such pending prompt.
    pub fn answer(&self, checkout_request_id: &str, answer: Answer) -> bool {
        outcome::answer(&self.shared, checkout_request_id, answer)
    }

    /// Sends the callbacks held for a push (`CallbackMode::Held`); returns how many were released.
    pub fn release_callbacks(&self, checkout_request_id: &str) -> usize {
        outcome::release(&self.shared, checkout_request_id)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many requests reached `path` (query string excluded).
    pub fn count(&self, path: &str) -> usize {
        self.shared.lock().requests.iter().filter(|r| r.path == path).count()
    }

    pub fn oauth_calls(&self) -> usize {
        self.count("/oauth/v1/generate")
    }

    pub fn pushes(&self) -> Vec<PushRecord> {
        self.shared.lock().pushes.clone()
    }

    pub fn callbacks(&self) -> Vec<CallbackDelivery> {
        self.shared.lock().callbacks.clone()
    }

    /// The URLs registered for the shortcode (`POST /mpesa/c2b/v2/registerurl`).
    pub fn c2b_registration(&self) -> Option<C2bRegistration> {
        self.shared.lock().c2b_urls.get(&self.shared.cfg.shortcode).cloned()
    }

    /// A subscriber pays the shortcode by Paybill from their phone (the M-Pesa menu or app):
    /// validation, then the confirmation or the cancellation. Returns the payment once done.
    pub async fn c2b_pay(&self, msisdn: &str, amount: u32, bill_ref: &str) -> C2bPayment {
        let pay = C2bPay { msisdn: msisdn.into(), amount, bill_ref: bill_ref.into() };
        c2b::pay_bill(&self.shared, pay).await
    }

    /// Every C2B payment made, in order.
    pub fn c2b_payments(&self) -> Vec<C2bPayment> {
        self.shared.lock().c2b.clone()
    }

    /// Stops the server and drops its open connections.
    pub async fn shutdown(mut self) {
        self.task.abort();
        // The abort's JoinError is the expected result; the point is to wait for it.
        let _ = (&mut self.task).await;
    }
}

impl Drop for DarajaSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}
