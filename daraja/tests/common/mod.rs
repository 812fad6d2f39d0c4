//! Shared setup for the tests that run the client against the simulator.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::Arc;
use std::time::Duration;

use daraja::{ClientConfig, DarajaClient, Environment, MemoryTokenStore, RetryPolicy, StkPushRequest};
use daraja_sim::{CallbackSink, DarajaSim, SimConfig};
use hotspot_core::{Msisdn, Shillings};

pub const WAIT: Duration = Duration::from_secs(20);

pub fn config_for(sim: &DarajaSim) -> ClientConfig {
    let s = sim.config();
    let mut c = ClientConfig::paybill(
        Environment::Custom(sim.base_url()),
        s.consumer_key.clone(),
        s.consumer_secret.clone(),
        s.shortcode.clone(),
        s.passkey.clone(),
    );
    // Retries still happen, just without real waiting.
    c.retry =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5) };
    c.lease_poll = Duration::from_millis(5);
    c
}

pub fn client(sim: &DarajaSim, store: Arc<MemoryTokenStore>) -> DarajaClient<MemoryTokenStore> {
    DarajaClient::new(config_for(sim), store).expect("client config")
}

pub struct Env {
    pub sim: DarajaSim,
    pub sink: CallbackSink,
    pub client: DarajaClient<MemoryTokenStore>,
}

pub async fn env_with(cfg: SimConfig) -> Env {
    let sim = DarajaSim::start(cfg).await.expect("start simulator");
    let sink = CallbackSink::start().await.expect("start callback sink");
    let client = client(&sim, Arc::new(MemoryTokenStore::new()));
    Env { sim, sink, client }
}

pub async fn env() -> Env {
    env_with(SimConfig::for_tests()).await
}

pub fn phone(s: &str) -> Msisdn {
    s.parse().expect("test phone number")
}

pub fn push_request(env: &Env, phone_number: &str, kes: u64) -> StkPushRequest {
    StkPushRequest {
        phone: phone(phone_number),
        amount: Shillings::new(kes).expect("test amount"),
        callback_url: env.sink.url("/mpesa/callback/s3cret"),
        account_reference: "HOTSPOT-1H".into(),
        transaction_desc: "WiFi 1 hour".into(),
    }
}
