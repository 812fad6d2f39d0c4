//! A cloud under test: moto DynamoDB + SQS, the Daraja simulator, one or more routers.
#![allow(dead_code)]

use std::sync::Arc;

use daraja::{ClientConfig, DarajaClient, Environment, MemoryTokenStore};
use daraja_sim::{DarajaSim, SANDBOX_PASSKEY, SANDBOX_SHORTCODE, SimConfig};
use hotspot_cloud::store::{RouterRecord, Store, schema};
use hotspot_core::reqsig;
use hotspot_core::wire::{Direction, Envelope, Payload};
use hotspot_core::{Package, RouterId, RouterKey};
use lambdas::api::Incoming;
use serde_json::json;
use testkit::Moto;

pub struct Cloud {
    pub moto: Moto,
    pub store: Store,
    pub sqs: aws_sdk_sqs::Client,
    pub iam: aws_sdk_iam::Client,
    pub sim: DarajaSim,
    pub daraja: DarajaClient<MemoryTokenStore>,
}

pub struct TestRouter {
    pub record: RouterRecord,
}

pub fn now() -> i64 {
    hotspot_core::clock::now_unix()
}

pub fn package(id: &str, price: u32, validity: &str) -> Package {
    serde_json::from_value(json!({
        "id": id, "name": format!("{id} pass"), "price": price, "validity": validity, "rate_limit": "2M/5M", "devices": 1
    }))
    .unwrap()
}

pub fn daraja_config(sim: &DarajaSim) -> ClientConfig {
    let cfg = SimConfig::for_tests();
    ClientConfig::paybill(
        Environment::Custom(sim.base_url()),
        cfg.consumer_key,
        cfg.consumer_secret,
        SANDBOX_SHORTCODE,
        SANDBOX_PASSKEY,
    )
}

impl Cloud {
    /// What the events function works with.
    pub fn events(&self) -> lambdas::events::Events<'_> {
        lambdas::events::Events { store: &self.store, sqs: &self.sqs, iam: &self.iam }
    }

    /// Settling without SMS receipts.
    pub fn settle(&self) -> lambdas::settle::Settle<'_> {
        lambdas::settle::Settle {
            store: &self.store,
            sqs: &self.sqs,
            sms: None,
            notices: &lambdas::providers::MPESA_ONLY,
        }
    }

    pub async fn start() -> Cloud {
        let moto = Moto::start().await.unwrap();
        schema::create_table(&moto.dynamodb(), "hotspot").await.unwrap();
        let store = Store::new(moto.dynamodb(), "hotspot");
        let sim = DarajaSim::start(SimConfig::for_tests()).await.unwrap();
        let daraja = DarajaClient::new(daraja_config(&sim), Arc::new(MemoryTokenStore::new())).unwrap();
        let sqs = moto.sqs();
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config());
        Cloud { moto, store, sqs, iam, sim, daraja }
    }

    /// Registers a router with its queue and the three standard packages.
    pub async fn router(&self, id: &str) -> TestRouter {
        self.router_in(id, Default::default()).await
    }

    /// A router selling in `country`, its packages priced in that country's currency: the
    /// Kenyan prices in Kenya, a hundred times them elsewhere (`1h` is UGX 1,000 in Uganda).
    pub async fn router_in(&self, id: &str, country: hotspot_core::phone::Country) -> TestRouter {
        let id: RouterId = id.parse().unwrap();
        let queue_url = self.moto.create_fifo_queue(&format!("router-{id}.fifo")).await.unwrap();
        let record = RouterRecord {
            id: id.clone(),
            name: id.to_string(),
            queue_url,
            key: RouterKey::generate(),
            created_at: now(),
            disabled_at: None,
            rotation: None,
            retiring_access_key: None,
            wallets: hotspot_core::wallet::Offered::for_country(country),
            country,
        };
        self.store.put_router(&record).await.unwrap();
        let currency = hotspot_core::currency::Currency::of(country);
        let scale = if currency.is_kes() { 1 } else { 100 };
        for (pid, price, validity) in [("1h", 10, "1h"), ("24h", 50, "1d"), ("7d", 250, "1w")] {
            let mut p = serde_json::to_value(package(pid, price * scale, validity)).unwrap();
            p["currency"] = json!(currency.as_str());
            let p: Package = serde_json::from_value(p).unwrap();
            self.store.put_package(&id, &p, now()).await.unwrap();
        }
        TestRouter { record }
    }

    /// Every job waiting on a router's queue, verified with its key, removed from the queue.
    pub async fn drain_jobs(&self, r: &TestRouter) -> Vec<Payload> {
        self.drain_jobs_at(r, now()).await
    }

    /// As `drain_jobs`, verifying as of `at` (for jobs signed at a simulated later time).
    pub async fn drain_jobs_at(&self, r: &TestRouter, at: i64) -> Vec<Payload> {
        let bodies = self.moto.drain(&r.record.queue_url).await.unwrap();
        bodies
            .iter()
            .map(|b| {
                Envelope::verify(b.as_bytes(), &r.record.key, &r.record.id, at, Direction::CloudToRouter)
                    .unwrap()
                    .payload
            })
            .collect()
    }

    pub async fn purchase_count(&self) -> usize {
        let items = self.moto.dynamodb().scan().table_name("hotspot").send().await.unwrap().items.unwrap_or_default();
        items.iter().filter(|i| i["pk"].as_s().is_ok_and(|k| k.starts_with("PURCHASE#"))).count()
    }
}

/// A request as a router's agent would sign it.
pub struct Signed {
    pub method: &'static str,
    pub path: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Signed {
    pub fn new(r: &RouterRecord, method: &'static str, path: &str, body: &[u8]) -> Signed {
        let t = now();
        let parts = reqsig::Request { method, path, router: &r.id, body };
        let sig = reqsig::sign(&r.key, &parts, t);
        Signed {
            method,
            path: path.to_string(),
            body: body.to_vec(),
            headers: vec![
                (reqsig::HEADER_ROUTER.into(), r.id.to_string()),
                (reqsig::HEADER_TIME.into(), t.to_string()),
                (reqsig::HEADER_SIGNATURE.into(), sig),
            ],
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }

    pub async fn authenticate(&self, store: &Store) -> Result<RouterRecord, lambdas::api::AuthError> {
        let header = |n: &str| self.header(n);
        let inc = Incoming { method: self.method, path: &self.path, header: &header, body: &self.body };
        lambdas::api::authenticate(store, &inc, now()).await
    }
}
