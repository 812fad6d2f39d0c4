//! RouterOS API simulator: speaks the real wire protocol over TCP or TLS and emulates the
//! hotspot menus the agent uses, with a host table, a simulated clock and fault injection.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use routeros_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?; // 127.0.0.1, random port
//! sim.add_host("02:00:00:00:00:01".parse().unwrap(), "10.5.50.10".parse().unwrap());
//! let addr = sim.addr(); // give this to the client; user "admin", password "" by default
//! sim.advance_clock(std::time::Duration::from_secs(3600));
//! let state = sim.state(); // serde-serialisable snapshot
//! # let _ = (addr, state); Ok(()) }
//! ```

mod menu;
mod ppp;
mod query;
pub mod raw;
mod schema;
mod server;
mod state;
mod version;
mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hotspot_core::MacAddr;
use routeros::codec::Limits;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

pub use ppp::{PppEnd, PppRefusal};
pub use server::{Faults, Stats};
pub use state::{
    BindingState, EndReason, EndedSession, HostState, ItemState, PppEnded, PppSession, SessionState, SimState,
    UserState,
};
pub use version::RosVersion;
pub use world::HOTSPOT_SERVER;

#[derive(Clone)]
pub struct SimConfig {
    /// Where to listen; defaults to a random loopback port.
    pub listen: SocketAddr,
    pub username: String,
    pub password: String,
    pub version: RosVersion,
    pub identity: String,
    /// Serve API-SSL instead of plain API.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub limits: Limits,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            username: "admin".into(),
            password: String::new(),
            version: RosVersion::V7_18,
            identity: "MikroTik".into(),
            tls: None,
            limits: Limits::default(),
        }
    }
}

/// Builds a TLS server config from PEM certificate chain and private key.
pub fn tls_server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("certificate PEM: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key PEM: {e}"))?;
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(cfg))
}

/// The properties `add` takes on `menu` at `version`: what a test checks against RouterOS's own
/// command schemas. `None` for a menu the simulator does not emulate.
pub fn accepted_properties(menu: &str, version: RosVersion) -> Option<Vec<&'static str>> {
    let fields = schema::fields_of(menu)?;
    Some(fields.iter().filter(|f| f.since.is_none_or(|s| version >= s)).map(|f| f.name).collect())
}

/// A running simulator. Dropping it stops accepting and closes sessions.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.kill.send_modify(|(n, r)| {
            *n += 1;
            *r = None;
        });
    }
}

impl Simulator {
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let world = world::World::new(config.version, &config.identity);
        let shared = Arc::new(server::Shared::new(world, config.username, config.password, config.limits));
        let tls = config.tls.map(tokio_rustls::TlsAcceptor::from);
        let accept = tokio::spawn(server::accept_loop(listener, tls, shared.clone()));
        Ok(Simulator { addr, shared, accept })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client (phone) joined the hotspot network with this MAC and IP. Returns the host id.
    pub fn add_host(&self, mac: MacAddr, ip: Ipv4Addr) -> String {
        self.shared.world().add_host(mac, ip)
    }

    /// The client left; its session ends.
    pub fn remove_host(&self, mac: MacAddr) -> bool {
        self.shared.world().remove_host(mac)
    }

    /// Every hotspot user and session is gone (a configuration reset).
    pub fn reset_hotspot_users(&self) {
        self.shared.world().reset_hotspot_users()
    }

    /// Moves the simulated clock; limit-uptime, session-timeout and idle-timeout end sessions.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.world().advance(by);
    }

    /// Simulated seconds since start.
    pub fn now_secs(&self) -> u64 {
        self.shared.world().now()
    }

    /// Counts traffic on the session of client `ip`; limit-bytes-total ends it. False if no session.
    pub fn add_traffic(&self, ip: Ipv4Addr, bytes_in: u64, bytes_out: u64) -> bool {
        self.shared.world().add_traffic(ip, bytes_in, bytes_out)
    }

    /// A row an operator made by hand, with values as bytes (a codepage comment, an address
    /// range, fields left out): see `World::seed`. `None` for a menu the simulator has no rows for.
    pub fn seed(&self, menu: &str, values: &[(&str, &[u8])]) -> Option<String> {
        self.shared.world().seed(menu, values)
    }

    /// Whether the router source-NATs a packet from `src` to `dst` (`/ip/firewall/nat`).
    pub fn source_nat(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.shared.world().source_nat(src, dst)
    }

    /// `source_nat` as a function that outlives this borrow, for a proxy standing for the
    /// router's forwarding path (it answers as long as the simulator runs).
    pub fn source_nat_fn(&self) -> impl Fn(Ipv4Addr, Ipv4Addr) -> bool + Send + Sync + 'static {
        let shared = self.shared.clone();
        move |src, dst| shared.world().source_nat(src, dst)
    }

    /// Changes the API user's password, as importing `/user set … password=` does on a router:
    /// new logins need it. Open sessions are left alone (the rotation script restarts the
    /// container, so the agent logs in again either way).
    pub fn set_password(&self, password: &str) {
        *self.shared.password.lock().unwrap_or_else(|e| e.into_inner()) = password.to_string();
    }

    /// A PPP client (a subscriber's PPPoE router, a VPN app) dials in as `name` over `service`
    /// (`pppoe`, `l2tp`, `pptp`, `sstp`, `ovpn`): the session's address, or why it was refused.
    pub fn ppp_dial(&self, name: &str, password: &str, service: &str, caller_id: &str) -> Result<Ipv4Addr, PppRefusal> {
        self.shared.world().ppp_dial(name, password, service, caller_id)
    }

    /// The PPP client `name` hung up. False if it had no session.
    pub fn ppp_hang_up(&self, name: &str) -> bool {
        self.shared.world().ppp_hang_up(name)
    }

    pub fn set_identity(&self, name: &str) {
        self.shared.world().set_identity(name);
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults() = faults;
    }

    pub fn update_faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.shared.faults());
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults().clone()
    }

    /// Closes every open API session now, with `!fatal <reason>` first when given (a reboot
    /// or `/user` change looks like that), or a bare TCP close.
    pub fn kill_sessions(&self, fatal: Option<&str>) {
        self.shared.kill.send_modify(|(n, r)| {
            *n += 1;
            *r = fatal.map(str::to_string);
        });
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// How many commands with this path (`/ip/hotspot/host/print`) the simulator has received.
    pub fn commands_run(&self, path: &str) -> u64 {
        self.shared.commands_run(path)
    }

    /// Snapshot of every emulated menu, for assertions.
    pub fn state(&self) -> SimState {
        self.shared.world().snapshot()
    }
}
