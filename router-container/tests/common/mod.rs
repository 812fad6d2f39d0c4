//! A router under test: the RouterOS simulator, moto SQS (the router's FIFO queue and the
//! events queue), a state directory, and jobs signed as the cloud signs them.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use hotspot_agent::agent::Agent;
use hotspot_agent::config::Config;
use hotspot_agent::journal::Journal;
use hotspot_agent::router::Router;
use hotspot_core::wire::{Direction, Envelope, Grant, GrantSource, Payload};
use hotspot_core::{MacAddr, MessageId, Package, PurchaseId, RouterId, RouterKey};
use routeros_sim::{SimConfig, Simulator};
use serde_json::json;
use testkit::Moto;

pub const PASSWORD: &str = "agent-pw";

pub struct Rig {
    pub moto: Moto,
    pub sim: Simulator,
    pub queue_url: String,
    pub events_url: String,
    pub key: RouterKey,
    pub router_id: RouterId,
    pub state_dir: PathBuf,
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

pub fn now() -> i64 {
    hotspot_core::clock::now_unix()
}

pub fn package(style: &str) -> Package {
    serde_json::from_value(json!({
        "id": "1h", "name": "1 hour", "price": 10, "validity": "1h", "uptime_limit": "1h",
        "rate_limit": "2M/5M", "devices": 1, "style": style
    }))
    .unwrap()
}

pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..300 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// As `wait_until`, for conditions that need to await (e.g. an SQS call).
pub async fn wait_for<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

impl Rig {
    pub async fn start() -> Rig {
        let moto = Moto::start().await.unwrap();
        let queue_url = moto.create_fifo_queue("router-cafe-01.fifo").await.unwrap();
        let events_url = moto.create_queue("router-events").await.unwrap();
        let sim =
            // The router at an address of its own, as the container sees it (its gateway): a
            // request from there would be the router's NAT hiding a guest.
            Simulator::start(SimConfig {
                listen: std::net::SocketAddr::from(([127, 0, 0, 2], 0)),
                username: "agent".into(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let state_dir = std::env::temp_dir().join(format!("agent-test-{}", MessageId::generate()));
        Rig {
            moto,
            sim,
            queue_url,
            events_url,
            key: RouterKey::generate(),
            router_id: "cafe-01".parse().unwrap(),
            state_dir,
        }
    }

    pub fn config(&self) -> Config {
        let env = self.env();
        hotspot_agent::config::load(|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()), None).unwrap()
    }

    /// The agent's settings as environment variables (for the binary).
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("HOTSPOT_ROUTER_ID", self.router_id.to_string()),
            ("HOTSPOT_ROUTER_KEY", self.key.to_hex()),
            ("ROUTEROS_ADDR", self.sim.addr().to_string()),
            ("ROUTEROS_USER", "agent".into()),
            ("ROUTEROS_PASSWORD", PASSWORD.into()),
            ("SQS_QUEUE_URL", self.queue_url.clone()),
            ("EVENTS_QUEUE_URL", self.events_url.clone()),
            // Nothing listens there: the cloud API is unreachable in these tests.
            ("CLOUD_API_URL", "http://127.0.0.1:9".into()),
            ("PORTAL_LISTEN", "127.0.0.1:0".into()),
            ("STATE_DIR", self.state_dir.display().to_string()),
            // Always polling: a test's job is taken at once (the idle rest: decide::polling).
            ("HOTSPOT_IDLE_POLL_REST_SECS", "0".into()),
            ("AWS_REGION", Moto::REGION.into()),
            ("AWS_ENDPOINT_URL", self.moto.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// An agent in this process, sharing the state directory (so a "restart" is a new agent).
    pub async fn agent(&self) -> Agent {
        // Over the agent's own HTTP client (src/https.rs), as `run` builds it.
        self.agent_with_sqs(hotspot_agent::https::sqs_client(&self.moto.sdk_config()).unwrap()).await
    }

    pub async fn agent_with_sqs(&self, sqs: aws_sdk_sqs::Client) -> Agent {
        let cfg = self.config();
        let rc = routeros::Config::new(cfg.routeros_addr.clone(), "agent", PASSWORD);
        let router = Router::new(routeros::Client::start(rc), "all");
        Agent::new(cfg, Journal::open(&self.state_dir).unwrap(), router, sqs)
    }

    pub fn sign(&self, id: MessageId, payload: Payload) -> String {
        Envelope::new(id, self.router_id.clone(), now(), 3600, payload).sign(&self.key)
    }

    pub fn grant(&self, mac: MacAddr, ip: Ipv4Addr, expires_in: i64, style: &str) -> (PurchaseId, String) {
        let pid = PurchaseId::generate();
        let body = self.sign(
            MessageId::derived("grant", &pid),
            Payload::Grant(Grant {
                purchase_id: pid.clone(),
                mac,
                ip: Some(ip),
                package: package(style),
                expires_at: now() + expires_in,
                source: GrantSource::Mpesa { receipt: "NLJ7RT61SV".into() },
                phone: None,
            }),
        );
        (pid, body)
    }

    pub async fn send(&self, body: &str, dedup: &str) {
        self.moto
            .sqs()
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_group_id(self.router_id.as_str())
            .message_deduplication_id(dedup)
            .send()
            .await
            .unwrap();
    }

    pub async fn queue_depth(&self) -> (i64, i64) {
        let a = self
            .moto
            .sqs()
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        let n = |k: aws_sdk_sqs::types::QueueAttributeName| a.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
        (
            n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages),
            n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Reports that reached the events queue, verified as the cloud verifies them.
    pub async fn events(&self) -> Vec<Payload> {
        let bodies = self.moto.drain(&self.events_url).await.unwrap();
        bodies
            .iter()
            .map(|b| {
                Envelope::verify(b.as_bytes(), &self.key, &self.router_id, now(), Direction::RouterToCloud)
                    .unwrap()
                    .payload
            })
            .collect()
    }
}
