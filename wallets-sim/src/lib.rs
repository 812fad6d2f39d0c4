//! Simulators of the Airtel Money and MTN MoMo collection APIs, beside the Daraja one
//! (`daraja-sim`), speaking each provider's documented wire format (`wallets/tests/fixtures/`).
//!
//! Start one with [`WalletSim::mtn`] or [`WalletSim::airtel`] (a random loopback port), point the
//! client at [`WalletSim::base_url`], choose how the next payment ends with
//! [`WalletSim::push_scenario`] (paid, failed with the provider's code, pending; its callback
//! once, twice or lost), put faults in front of requests with [`WalletSim::inject`], and read
//! what happened with [`WalletSim::payments`].

mod airtel;
mod book;
mod config;
mod mtn;
mod shared;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use book::{Decision, Delivery, Endpoint, PayState, PaymentRecord, Scenario};
pub use config::{AirtelSimConfig, MtnSimConfig};

use book::Book;
use shared::{Kind, Shared};

/// A running simulator. Dropping it stops the server.
pub struct WalletSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl WalletSim {
    pub async fn mtn(cfg: MtnSimConfig) -> std::io::Result<WalletSim> {
        WalletSim::start(Kind::Mtn(cfg), SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn airtel(cfg: AirtelSimConfig) -> std::io::Result<WalletSim> {
        WalletSim::start(Kind::Airtel(cfg), SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// On a chosen address (the command-line simulator for hand demos).
    pub async fn start_mtn_on(addr: SocketAddr, cfg: MtnSimConfig) -> std::io::Result<WalletSim> {
        WalletSim::start(Kind::Mtn(cfg), addr).await
    }

    pub async fn start_airtel_on(addr: SocketAddr, cfg: AirtelSimConfig) -> std::io::Result<WalletSim> {
        WalletSim::start(Kind::Airtel(cfg), addr).await
    }

    async fn start(kind: Kind, addr: SocketAddr) -> std::io::Result<WalletSim> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let http = daraja_sim::http_client().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { kind, book: Book::default(), http });
        let s = shared.clone();
        let task = tokio::spawn(daraja_sim::serve::serve_with(listener, move |req| {
            let s = s.clone();
            async move {
                match &s.kind {
                    Kind::Mtn(_) => mtn::route(&s, req).await,
                    Kind::Airtel(_) => airtel::route(&s, req).await,
                }
            }
        }));
        Ok(WalletSim { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How the next payment taken ends (first in, first used; with none queued, paid).
    pub fn push_scenario(&self, s: Scenario) {
        self.shared.book.lock().scenarios.push_back(s);
    }

    /// The next `count` requests to `endpoint` get HTTP `status` (the provider's error body).
    pub fn inject(&self, endpoint: Endpoint, status: u16, count: usize) {
        let mut b = self.shared.book.lock();
        b.faults.entry(endpoint).or_default().extend(std::iter::repeat_n(status, count));
    }

    /// The next `count` payments are taken (the payer gets the prompt, the scenario runs) but
    /// answered with HTTP `status`: the answer lost after the prompt went out.
    pub fn lose_answers(&self, status: u16, count: usize) {
        self.shared.book.lock().lost_answers.extend(std::iter::repeat_n(status, count));
    }

    /// Requests that reached `endpoint`, faults included.
    pub fn hits(&self, endpoint: Endpoint) -> usize {
        self.shared.book.lock().hits.get(&endpoint).copied().unwrap_or(0)
    }

    /// Every token issued so far stops working, as if it had expired.
    pub fn expire_tokens(&self) {
        self.shared.book.lock().tokens.clear();
    }

    pub fn payments(&self) -> Vec<PaymentRecord> {
        self.shared.book.lock().payments.clone()
    }

    /// Decides a pending payment as its payer would and sends its callback; false if it was not pending.
    pub fn answer(&self, reference: &str, d: Decision) -> bool {
        let receipt = |seq| self.receipt(seq);
        match self.shared.book.decide(reference, d, receipt) {
            Some(p) => {
                let build = match self.shared.kind {
                    Kind::Mtn(_) => mtn::callback as shared::Build,
                    Kind::Airtel(_) => airtel::callback,
                };
                shared::deliver(self.shared.clone(), p, build);
                true
            }
            None => false,
        }
    }

    fn receipt(&self, seq: u64) -> String {
        match &self.shared.kind {
            Kind::Mtn(_) => mtn::receipt(seq),
            Kind::Airtel(_) => airtel::receipt(seq),
        }
    }

    /// Waits until `reference`'s callbacks sent reach `n`, or `limit` passed (a guard against a
    /// hung test, not a speed check).
    pub async fn wait_callbacks(&self, reference: &str, n: usize, limit: Duration) -> usize {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let sent = self.shared.book.find(reference).map(|p| p.callbacks_sent).unwrap_or(0);
            if sent >= n || tokio::time::Instant::now() >= until {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for WalletSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}
