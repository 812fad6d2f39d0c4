//! Starts the whole system on loopback: moto (DynamoDB + SQS), the Daraja simulator, the RouterOS
//! simulator with one joined guest, the Lambda functions under `cargo lambda watch`, the gateway,
//! the events mapping and schedules, and the agent; seeds one router with three packages.
//! Everything stops when the `Stack` is dropped; all state lives in a fresh directory.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use daraja_sim::{DarajaSim, SANDBOX_PASSKEY, SANDBOX_SHORTCODE, SimConfig, SmsSim};
use hotspot_cloud::store::{RouterRecord, Store, schema};
use hotspot_core::currency::Currency;
use hotspot_core::phone::Country;
use hotspot_core::wallet::{Offered, Wallet};
use hotspot_core::{MacAddr, Package, RouterId, RouterKey};
use routeros_sim::Simulator;
use serde_json::json;
use testkit::bridge::HotspotBridge;
use testkit::link::Link;
use testkit::{ChildGuard, Moto, free_port};
use wallets_sim::{AirtelSimConfig, MtnSimConfig, WalletSim};

use crate::gateway::{Invoker, serve};
use crate::pollers;

pub const FUNCTIONS: [&str; 9] =
    ["purchase", "status", "callback", "reconcile", "expiry", "events", "admin", "radius", "portal"];

/// What the local FreeRADIUS presents to the radius function (`docs/radius.md`).
pub const RADIUS_API_SECRET: &str = "local-radius-api-secret-0123456789";
pub const CALLBACK_SECRET: &str = "local-callback-secret-0123456789";
/// The local Airtel application's callback private key (its callbacks carry their hash).
pub const AIRTEL_CALLBACK_KEY: &str = "local-airtel-callback-key";
pub const ROUTEROS_USER: &str = "hotspot-agent";
/// The router as the agent's container sees it (the veth gateway; 172.17.0.1 on a real one).
/// A loopback address of its own, so a guest the router masquerades is seen as coming from it.
pub const ROUTER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const ROUTEROS_PASSWORD: &str = "local-api-password";
/// The local stack's dashboard admin (printed by `scripts/run.sh`; local use only).
pub const DASHBOARD_LOGIN: &str = "admin";
pub const DASHBOARD_PASSWORD: &str = "local-admin-password";

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("{0} not found: build the workspace binaries first (cargo build --workspace --bins)")]
    MissingBinary(PathBuf),
    #[error("{what}: {why}")]
    Start { what: String, why: String },
}

fn err(what: &str) -> impl FnOnce(String) -> StackError + '_ {
    move |why| StackError::Start { what: what.into(), why }
}

/// A row for `Simulator::seed`: its menu and its fields as bytes.
pub type RouterRow = (String, Vec<(String, Vec<u8>)>);

pub struct Options {
    /// Where the function binaries and `hotspot-agent` are (`target/debug`).
    pub bin_dir: PathBuf,
    /// The guest's device, joined to the hotspot, at the address a local browser comes from.
    pub guest_mac: MacAddr,
    pub guest_ip: Ipv4Addr,
    pub portal_port: Option<u16>,
    pub schedule_every: Duration,
    /// What the router sells (the three local packages by default).
    pub packages: Vec<Package>,
    /// Extra environment for the agent (e.g. `HOTSPOT_AGENT_CRASH_AT`).
    pub agent_env: Vec<(String, String)>,
    /// Rows the router holds before the agent first starts, as an operator made them by hand:
    /// (menu, [(field, bytes)]) for `Simulator::seed`.
    pub router_rows: Vec<RouterRow>,
    /// The router boots with its uplink down (the container starts before the WAN is up).
    pub offline_at_start: bool,
    /// The agent's log goes nowhere (the benchmark counts the bytes it writes to its disk; on
    /// a router the log goes to RouterOS's memory, not to flash).
    pub quiet_agent: bool,
    /// Seed the dashboard's admin (`DASHBOARD_LOGIN`); off by default, so `operator init` finds
    /// an empty operator list.
    pub dashboard_admin: bool,
    /// The wallets the router takes (M-Pesa alone by default).
    pub wallets: Offered,
    /// Where the router sells (Kenya by default): the Airtel and MTN merchants are that
    /// country's where the wallet is sold there (else Kenya's Airtel, Uganda's MTN); `packages`
    /// must be priced in its currency ([`packages_in`]).
    pub country: Country,
    /// Also a router in RADIUS mode ([`RADIUS_ROUTER`], the same packages), FreeRADIUS for it
    /// and its hotspot ([`crate::hotspot`]): the cloud portal's journeys.
    pub radius_site: bool,
    /// `HOTSPOT_IDLE_POLL_REST_SECS`: 0 (always polling) by default, so a test's operator job
    /// reaches the router at once; `None` leaves the agent's own default (the benchmark, the
    /// idle cadence's own journey).
    pub idle_poll_rest_secs: Option<u64>,
}

/// The RADIUS-mode router of [`Options::radius_site`].
pub const RADIUS_ROUTER: &str = "cafe-kilimani";
/// Its RADIUS secret (the per-router secret `router add --mode radius` writes for RouterOS 6).
pub const RADIUS_ROUTER_SECRET: &str = "cafe-kilimani-radius-secret-0123";

/// A router in RADIUS mode with the real RADIUS server and its hotspot in front of the guest.
pub struct RadiusSite {
    pub hotspot: crate::hotspot::Hotspot,
    pub freeradius: testkit::freeradius::FreeRadius,
    pub router: RouterRecord,
}

impl Options {
    pub fn local(bin_dir: PathBuf) -> Options {
        Options {
            bin_dir,
            guest_mac: "DA:A1:19:3C:5E:01".parse().expect("literal"),
            guest_ip: Ipv4Addr::LOCALHOST,
            portal_port: None,
            schedule_every: Duration::from_secs(60),
            packages: packages(),
            agent_env: Vec::new(),
            router_rows: Vec::new(),
            offline_at_start: false,
            quiet_agent: false,
            dashboard_admin: false,
            wallets: Offered::default(),
            country: Country::Kenya,
            radius_site: false,
            idle_poll_rest_secs: Some(0),
        }
    }
}

pub struct Stack {
    // Field order is drop order: the agent and functions stop before the servers they use.
    pub radius_site: Option<RadiusSite>,
    agent: std::sync::Mutex<Option<ChildGuard>>,
    functions: Vec<ChildGuard>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub moto: Moto,
    pub daraja: DarajaSim,
    /// Airtel Money (callback authentication and message signing on) and MTN MoMo, merchants in
    /// the router's country (see [`Options::country`]).
    pub airtel: WalletSim,
    pub mtn: WalletSim,
    /// Africa's Talking stand-in: the SMS receipts the guest's phone got.
    pub sms: SmsSim,
    pub routeros: Simulator,
    pub store: Store,
    pub router: RouterRecord,
    pub events_queue_url: String,
    pub gateway_url: String,
    pub portal_url: String,
    pub invoker: Invoker,
    /// The router's internet uplink: the agent reaches AWS and the cloud API only through it.
    pub uplink: Uplink,
    /// The hotspot's path from the guest to the portal, applying the router's source NAT.
    pub bridge: HotspotBridge,
    /// Where the agent's portal listens (guests reach it through `bridge`, at `portal_url`).
    pub portal_addr: std::net::SocketAddr,
    pub state_dir: PathBuf,
    pub options: Options,
    agent_env: Vec<(String, String)>,
    agent_starts: std::sync::atomic::AtomicU32,
}

/// The router's uplink to the cloud (SQS and the API), which a test can cut and restore.
pub struct Uplink {
    aws: Link,
    api: Link,
}

impl Uplink {
    pub fn cut(&self) {
        self.aws.cut();
        self.api.cut();
    }

    pub fn restore(&self) {
        self.aws.restore();
        self.api.restore();
    }

    /// Cuts only the cloud API (the queues stay reachable): what the agent does then, it did
    /// from its queue alone.
    pub fn cut_api(&self) {
        self.api.cut();
    }
}

fn link_target(url: &str) -> Result<std::net::SocketAddr, StackError> {
    url.trim_start_matches("http://").parse().map_err(|e: std::net::AddrParseError| err("uplink")(e.to_string()))
}

pub fn packages() -> Vec<Package> {
    packages_in(Currency::Kes)
}

/// The three local packages priced in `currency`: the Kenyan prices (10, 50, 250 shillings),
/// a hundred times them in any other (UGX 1,000 for an hour).
pub fn packages_in(currency: Currency) -> Vec<Package> {
    let scale = if currency.is_kes() { 1 } else { 100 };
    [("1h", "1 hour", 10, "1h", "2M/5M"), ("24h", "24 hours", 50, "1d", "3M/6M"), ("7d", "7 days", 250, "1w", "5M/10M")]
        .into_iter()
        .map(|(id, name, price, validity, rate)| {
            serde_json::from_value(json!({
                "id": id, "name": name, "price": price * scale, "currency": currency.as_str(), "validity": validity,
                "rate_limit": rate, "devices": 1
            }))
            .expect("literal package")
        })
        .collect()
}

async fn wait_port(port: u16, what: &str) -> Result<(), StackError> {
    match testkit::wait_port(port).await {
        true => Ok(()),
        false => Err(StackError::Start { what: what.into(), why: format!("nothing listening on {port}") }),
    }
}

fn log_file(dir: &Path, name: &str) -> Result<std::fs::File, StackError> {
    std::fs::File::create(dir.join(format!("{name}.log"))).map_err(|e| err(name)(e.to_string()))
}

impl Stack {
    pub async fn start(options: Options) -> Result<Stack, StackError> {
        for b in FUNCTIONS.iter().copied().chain(["hotspot-agent"]) {
            let p = options.bin_dir.join(b);
            if !p.exists() {
                return Err(StackError::MissingBinary(p));
            }
        }
        let state_dir = std::env::temp_dir().join(format!("hotspot-stack-{}", hotspot_core::MessageId::generate()));
        std::fs::create_dir_all(state_dir.join("agent")).map_err(|e| err("state dir")(e.to_string()))?;

        // AWS, seeded.
        let moto = Moto::start().await.map_err(|e| err("moto")(e.to_string()))?;
        schema::create_table(&moto.dynamodb(), "hotspot").await.map_err(|e| err("table")(e.to_string()))?;
        let store = Store::new(moto.dynamodb(), "hotspot");
        let router_id: RouterId = "cafe-westlands".parse().expect("literal");
        let queue_url = moto
            .create_fifo_queue(&format!("router-{router_id}.fifo"))
            .await
            .map_err(|e| err("queue")(e.to_string()))?;
        let events_queue_url = moto.create_queue("router-events").await.map_err(|e| err("queue")(e.to_string()))?;
        let now = hotspot_core::clock::now_unix();
        let router = seed_router(&store, &options, &router_id, "Cafe Westlands", &queue_url, now).await?;
        if options.dashboard_admin {
            seed_dashboard_admin(&store, now).await.map_err(err("dashboard admin"))?;
        }

        // Simulators.
        let daraja = DarajaSim::start(SimConfig { c2b_external_validation: true, ..SimConfig::for_tests() })
            .await
            .map_err(|e| err("daraja simulator")(e.to_string()))?;
        let sms = SmsSim::start().await.map_err(|e| err("sms simulator")(e.to_string()))?;
        // The gateway's address is chosen now: Airtel's callback URL is the app's one setting.
        let gw_listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| err("gateway")(e.to_string()))?;
        let gateway_url = format!("http://{}", gw_listener.local_addr().map_err(|e| err("gateway")(e.to_string()))?);
        // Each wallet's merchant: the router's country where the wallet is sold there.
        let airtel_country = match Wallet::AirtelMoney.sold_in(options.country) {
            true => options.country,
            false => Country::Kenya,
        };
        let mtn_country = match Wallet::MtnMomo.sold_in(options.country) {
            true => options.country,
            false => Country::Uganda,
        };
        let airtel_cfg = AirtelSimConfig {
            country: airtel_country.as_str().into(),
            currency: Currency::of(airtel_country).as_str().into(),
            callback_url: Some(format!("{gateway_url}/cb/airtel/{CALLBACK_SECRET}")),
            callback_key: Some(AIRTEL_CALLBACK_KEY.into()),
            message_signing: true,
            ..AirtelSimConfig::default()
        };
        let airtel = WalletSim::airtel(airtel_cfg.clone()).await.map_err(|e| err("airtel simulator")(e.to_string()))?;
        let mtn_cfg = MtnSimConfig {
            currency: Currency::of(mtn_country).as_str().into(),
            target_environment: format!("mtn{}", mtn_country.name().to_lowercase()),
            ..MtnSimConfig::default()
        };
        let mtn = WalletSim::mtn(mtn_cfg.clone()).await.map_err(|e| err("mtn simulator")(e.to_string()))?;
        let routeros = Simulator::start(routeros_sim::SimConfig {
            listen: std::net::SocketAddr::from((ROUTER_IP, 0)),
            username: ROUTEROS_USER.into(),
            password: ROUTEROS_PASSWORD.into(),
            identity: "Cafe Westlands".into(),
            ..Default::default()
        })
        .await
        .map_err(|e| err("routeros simulator")(e.to_string()))?;
        routeros.add_host(options.guest_mac, options.guest_ip);
        for (menu, row) in &options.router_rows {
            let fields: Vec<(&str, &[u8])> = row.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
            routeros.seed(menu, &fields).ok_or_else(|| err("router rows")(format!("no menu {menu}")))?;
        }

        // Functions under the Lambda runtime interface, and the gateway in front of them.
        let rt_port = free_port().map_err(|e| err("port")(e.to_string()))?;
        let watch = testkit::lambda::watch_runtime(rt_port, log_file(&state_dir, "cargo-lambda")?)
            .map_err(|e| err("cargo lambda watch")(e.to_string()))?;
        let mut functions = vec![ChildGuard(watch)];
        wait_port(rt_port, "cargo lambda watch").await?;
        let sim_cfg = SimConfig::for_tests();
        for f in FUNCTIONS {
            let child = testkit::lambda::function(&options.bin_dir.join(f), f, rt_port, &moto.endpoint)
                .env("TABLE_NAME", "hotspot")
                .env("DARAJA_ENV", daraja.base_url())
                .env("DARAJA_CONSUMER_KEY", &sim_cfg.consumer_key)
                .env("DARAJA_CONSUMER_SECRET", &sim_cfg.consumer_secret)
                .env("DARAJA_SHORTCODE", SANDBOX_SHORTCODE)
                .env("DARAJA_PASSKEY", SANDBOX_PASSKEY)
                .env("CALLBACK_BASE_URL", &gateway_url)
                .env("CALLBACK_SECRET", CALLBACK_SECRET)
                .env("AT_ENV", sms.base_url())
                .env("AT_USERNAME", daraja_sim::SMS_USERNAME)
                .env("AT_API_KEY", daraja_sim::SMS_API_KEY)
                .env("AIRTEL_ENV", airtel.base_url())
                .env("AIRTEL_COUNTRY", airtel_country.as_str())
                .env("AIRTEL_CLIENT_ID", &airtel_cfg.client_id)
                .env("AIRTEL_CLIENT_SECRET", &airtel_cfg.client_secret)
                .env("AIRTEL_CALLBACK_KEY", AIRTEL_CALLBACK_KEY)
                .env("AIRTEL_MESSAGE_SIGNING", "on")
                .env("MTN_ENV", mtn.base_url())
                .env("MTN_COUNTRY", mtn_country.as_str())
                .env("MTN_TARGET_ENVIRONMENT", &mtn_cfg.target_environment)
                .env("MTN_API_USER", &mtn_cfg.api_user)
                .env("MTN_API_KEY", &mtn_cfg.api_key)
                .env("MTN_SUBSCRIPTION_KEY", &mtn_cfg.subscription_key)
                .env("RADIUS_API_SECRET", RADIUS_API_SECRET)
                .env("RUST_LOG", "info")
                .stdout(log_file(&state_dir, f)?)
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| err(f)(e.to_string()))?;
            functions.push(ChildGuard(child));
        }
        let invoker = Invoker::new(rt_port);
        // Each function answers before anything depends on it (a fresh machine once started the
        // agent while the functions were still loading: it fetched no packages).
        for f in FUNCTIONS {
            invoker
                .wait_ready(f, &readiness_event(f), Duration::from_secs(180))
                .await
                .map_err(|e| err("functions")(e))?;
        }
        let tasks = vec![
            tokio::spawn(serve(gw_listener, invoker.clone())),
            tokio::spawn(pollers::events_mapping(moto.sqs(), events_queue_url.clone(), invoker.clone())),
            tokio::spawn(pollers::schedules(invoker.clone(), options.schedule_every)),
        ];

        // The agent, as it runs in the router's container, behind the hotspot's forwarding path.
        let bridge_port = match options.portal_port {
            Some(p) => p,
            None => free_port().map_err(|e| err("port")(e.to_string()))?,
        };
        let portal_port = free_port().map_err(|e| err("port")(e.to_string()))?;
        let portal_addr = std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, portal_port));
        seed_nat(&routeros, options.guest_ip, portal_addr.ip())?;
        let bridge = HotspotBridge::start(
            std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, bridge_port)),
            portal_addr,
            ROUTER_IP,
            std::sync::Arc::new(routeros.source_nat_fn()),
        )
        .await
        .map_err(|e| err("hotspot bridge")(e.to_string()))?;
        let uplink = Uplink {
            aws: Link::start(link_target(&moto.endpoint)?).await.map_err(|e| err("uplink")(e.to_string()))?,
            api: Link::start(link_target(&gateway_url)?).await.map_err(|e| err("uplink")(e.to_string()))?,
        };
        let agent_env: Vec<(String, String)> = [
            ("HOTSPOT_ROUTER_ID", router_id.to_string()),
            ("HOTSPOT_ROUTER_KEY", router.key.to_hex()),
            ("ROUTEROS_ADDR", routeros.addr().to_string()),
            ("ROUTEROS_USER", ROUTEROS_USER.into()),
            ("ROUTEROS_PASSWORD", ROUTEROS_PASSWORD.into()),
            // The queue URLs name moto's address; the SDK sends to the endpoint (the uplink).
            ("SQS_QUEUE_URL", queue_url.clone()),
            ("EVENTS_QUEUE_URL", events_queue_url.clone()),
            ("CLOUD_API_URL", uplink.api.url()),
            ("PORTAL_LISTEN", format!("127.0.0.1:{portal_port}")),
            ("STATE_DIR", state_dir.join("agent").display().to_string()),
            ("AWS_REGION", Moto::REGION.into()),
            ("AWS_ENDPOINT_URL", uplink.aws.url()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("RUST_LOG", "info".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(options.idle_poll_rest_secs.map(|s| ("HOTSPOT_IDLE_POLL_REST_SECS".to_string(), s.to_string())))
        .collect();
        if options.offline_at_start {
            uplink.cut();
        }
        let extra = options.agent_env.clone();
        let agent = spawn_agent(&options, &state_dir, &agent_env, &extra, 1)?;
        let agent = std::sync::Mutex::new(Some(agent));
        wait_port(portal_port, "agent portal").await?;
        let portal_url = format!("http://{}", bridge.addr());
        let radius_site = match options.radius_site {
            true => Some(start_radius_site(&store, &options, &gateway_url, now).await?),
            false => None,
        };
        Ok(Stack {
            radius_site,
            agent,
            functions,
            tasks,
            moto,
            daraja,
            airtel,
            mtn,
            sms,
            routeros,
            store,
            router,
            events_queue_url,
            gateway_url,
            portal_url,
            invoker,
            uplink,
            bridge,
            portal_addr,
            state_dir,
            options,
            agent_env,
            agent_starts: std::sync::atomic::AtomicU32::new(1),
        })
    }

    /// Waits for the agent to exit by itself (a crash point), up to `within`.
    pub async fn agent_exit(&self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            let exited = self.agent_slot().as_mut().map(|a| a.0.try_wait());
            if let Some(Ok(Some(status))) = exited {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Stops the agent (if running) and starts it again on the same state and portal port, as a
    /// router reboot or container restart would; `extra_env` adds to its environment.
    pub async fn restart_agent(&self, extra_env: &[(&str, &str)]) -> Result<(), StackError> {
        self.stop_agent();
        self.start_agent(extra_env).await
    }

    /// Stops the agent (SIGTERM, and waits for it to exit): the router is off.
    pub fn stop_agent(&self) {
        let old = self.agent_slot().take();
        drop(old);
    }

    /// Starts the agent again on the same state and portal port (after [`Stack::stop_agent`]).
    pub async fn start_agent(&self, extra_env: &[(&str, &str)]) -> Result<(), StackError> {
        let start = self.agent_starts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let extra: Vec<(String, String)> = extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let child = spawn_agent(&self.options, &self.state_dir, &self.agent_env, &extra, start)?;
        *self.agent_slot() = Some(child);
        wait_port(self.portal_addr.port(), "agent portal").await
    }

    fn agent_slot(&self) -> std::sync::MutexGuard<'_, Option<ChildGuard>> {
        self.agent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The URL the hotspot's login.html would send the guest to.
    pub fn guest_portal_url(&self) -> String {
        format!(
            "{}/?mac={}&ip={}&dst=http%3A%2F%2Fexample.com%2F&identity=Cafe%20Westlands",
            self.portal_url, self.options.guest_mac, self.options.guest_ip
        )
    }

    /// The guest's SMS inbox (receipts with their re-login code).
    pub fn dashboard_url(&self) -> String {
        format!("{}/admin", self.gateway_url)
    }

    pub fn sms_url(&self) -> String {
        self.sms.base_url()
    }

    pub fn phone_url(&self) -> String {
        format!("{}/phone", self.daraja.base_url())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.agent_slot().take();
        self.functions.clear();
        for t in &self.tasks {
            t.abort();
        }
        if std::thread::panicking() {
            // A failed test: keep the logs and show their ends, so CI output says what happened.
            print_log_tails(&self.state_dir);
            return;
        }
        let leaks = crate::leaks::scan(&self.state_dir, &self.secrets());
        if !leaks.is_empty() {
            panic!("secrets in the logs (kept in {}):\n  {}", self.state_dir.display(), leaks.join("\n  "));
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

impl Stack {
    /// What no log line may hold: the stack's keys and passwords and every voucher code the
    /// router holds (its users made from vouchers).
    fn secrets(&self) -> Vec<(&'static str, String)> {
        let sim = SimConfig::for_tests();
        let mut out = vec![
            ("the router's signing key", self.router.key.to_hex()),
            ("the RouterOS API password", ROUTEROS_PASSWORD.to_string()),
            ("the Daraja consumer secret", sim.consumer_secret),
            ("the Daraja passkey", SANDBOX_PASSKEY.to_string()),
            ("the SMS API key", daraja_sim::SMS_API_KEY.to_string()),
            ("the callback path secret", CALLBACK_SECRET.to_string()),
            ("the Airtel client secret", AirtelSimConfig::default().client_secret),
            ("the Airtel callback key", AIRTEL_CALLBACK_KEY.to_string()),
            ("the MTN API key", MtnSimConfig::default().api_key),
            ("the MTN subscription key", MtnSimConfig::default().subscription_key),
        ];
        for u in self.routeros.state().users {
            if u.comment.as_deref().is_some_and(|c| c.contains(" voucher ")) {
                out.push(("a voucher code", u.name));
            }
        }
        out
    }
}

/// The dashboard's first admin, signed in with `DASHBOARD_LOGIN` / `DASHBOARD_PASSWORD`, made
/// the way `hotspotctl operator add --invite` and the invite page make one.
async fn seed_dashboard_admin(store: &Store, now: i64) -> Result<(), String> {
    use hotspot_cloud::store::dashboard::{dashboard_arn, new_token};
    let login: hotspot_cloud::store::LoginName = DASHBOARD_LOGIN.parse().map_err(|e| format!("{e}"))?;
    let arn = dashboard_arn(&login);
    let op = hotspot_cloud::store::OperatorRecord {
        arn: arn.clone(),
        access: hotspot_cloud::store::ScopedRole::Admin,
        added_by: "local-stack".into(),
        added_at: now,
    };
    store.bootstrap_admin(&op).await.map_err(|e| e.to_string())?;
    let invite = new_token();
    store.create_login(&login, &arn, &invite, now + 600).await.map_err(|e| e.to_string())?;
    let hash = lambdas::admin::password::hash(DASHBOARD_PASSWORD).ok_or("hashing the admin's password")?;
    store.accept_invite(&invite, &hash, now).await.map_err(|e| e.to_string())?.ok_or("the seeded invite")?;
    Ok(())
}

/// A router's record (a new key, the options' wallets and country) and the options' packages;
/// an empty `queue_url` makes it a RADIUS-mode router.
async fn seed_router(
    store: &Store,
    options: &Options,
    id: &RouterId,
    name: &str,
    queue_url: &str,
    now: i64,
) -> Result<RouterRecord, StackError> {
    let router = RouterRecord {
        id: id.clone(),
        name: name.into(),
        queue_url: queue_url.into(),
        key: RouterKey::generate(),
        created_at: now,
        disabled_at: None,
        rotation: None,
        retiring_access_key: None,
        wallets: options.wallets.clone(),
        country: options.country,
    };
    store.put_router(&router).await.map_err(|e| err("router")(e.to_string()))?;
    for p in &options.packages {
        store.put_package(id, p, now).await.map_err(|e| err("package")(e.to_string()))?;
    }
    Ok(router)
}

/// The RADIUS-mode router's record and packages, FreeRADIUS (our configuration) with the router as
/// its client, and the router's hotspot sending guests to the cloud portal.
async fn start_radius_site(
    store: &Store,
    options: &Options,
    gateway_url: &str,
    now: i64,
) -> Result<RadiusSite, StackError> {
    let id: RouterId = RADIUS_ROUTER.parse().expect("literal");
    // No queue: a RADIUS-mode router has no agent to send jobs to.
    let router = seed_router(store, options, &id, "Cafe Kilimani", "", now).await?;
    let clients =
        [testkit::freeradius::Client { shortname: RADIUS_ROUTER, ipaddr: "127.0.0.1", secret: RADIUS_ROUTER_SECRET }];
    let freeradius =
        testkit::freeradius::FreeRadius::start(gateway_url, RADIUS_API_SECRET, &clients).map_err(err("freeradius"))?;
    let hotspot = crate::hotspot::Hotspot::start(crate::hotspot::HotspotConfig {
        identity: RADIUS_ROUTER.into(),
        radius_port: freeradius.auth_port,
        radius_secret: RADIUS_ROUTER_SECRET.into(),
        portal_url: format!("{gateway_url}/portal/{id}"),
        guest_mac: options.guest_mac,
        guest_ip: options.guest_ip,
    })
    .await
    .map_err(|e| err("hotspot")(e.to_string()))?;
    Ok(RadiusSite { hotspot, freeradius, router })
}

/// An invocation each function answers without changing anything a test looks at: unsigned
/// (refused) requests to the HTTP functions, an empty batch, a sweep of an empty table.
fn readiness_event(function: &str) -> serde_json::Value {
    use testkit::lambda::{http_event, scheduled_event, sqs_event};
    match function {
        "purchase" => http_event("POST", "/purchases", "", &[], b"{}", "127.0.0.1"),
        "status" => http_event("GET", "/packages", "", &[], b"", "127.0.0.1"),
        "callback" => http_event("POST", "/cb/not-the-secret", "", &[], b"{}", "127.0.0.1"),
        "admin" => http_event("GET", "/admin/login", "", &[], b"", "127.0.0.1"),
        "radius" => http_event("POST", "/radius/authorize", "", &[], b"{}", "127.0.0.1"),
        "portal" => http_event("GET", "/portal/no-such-router", "", &[], b"", "127.0.0.1"),
        "events" => sqs_event(&[]),
        _ => scheduled_event(),
    }
}

/// The router's NAT as onboarding leaves it: the hotspot setup's masquerade for the guests'
/// network, and before it the exemption for the container the onboarding script adds.
fn seed_nat(routeros: &Simulator, guest: Ipv4Addr, portal: std::net::IpAddr) -> Result<(), StackError> {
    let subnet = format!("{guest}/32");
    let portal = portal.to_string();
    let rules: [&[(&str, &[u8])]; 2] = [
        &[
            ("chain", b"srcnat"),
            ("action", b"accept"),
            ("dst-address", portal.as_bytes()),
            ("comment", b"hotspot-agent:cafe-westlands"),
        ],
        &[
            ("chain", b"srcnat"),
            ("action", b"masquerade"),
            ("src-address", subnet.as_bytes()),
            ("comment", b"masquerade hotspot network"),
        ],
    ];
    for r in rules {
        routeros.seed("/ip/firewall/nat", r).ok_or_else(|| err("nat")("the simulator has no NAT table".into()))?;
    }
    Ok(())
}

fn spawn_agent(
    options: &Options,
    state_dir: &Path,
    env: &[(String, String)],
    extra: &[(String, String)],
    start: u32,
) -> Result<ChildGuard, StackError> {
    // One log per start, so a crash and its restart can be read apart.
    let name = if start == 1 { "agent".to_string() } else { format!("agent-{start}") };
    let mut cmd = Command::new(options.bin_dir.join("hotspot-agent"));
    cmd.env_clear().envs(env.iter().chain(extra).map(|(k, v)| (k, v)));
    if options.quiet_agent {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    } else {
        cmd.stdout(log_file(state_dir, &name)?).stderr(log_file(state_dir, &format!("{name}-stderr"))?);
    }
    let child = cmd.spawn().map_err(|e| err("agent")(e.to_string()))?;
    Ok(ChildGuard(child))
}

fn print_log_tails(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut logs: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension() == Some("log".as_ref())).collect();
    logs.sort();
    eprintln!("local stack logs kept in {}", dir.display());
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        eprintln!("---- {} (last {} of {} lines)", log.display(), lines.len().min(40), lines.len());
        for l in &lines[lines.len().saturating_sub(40)..] {
            eprintln!("{l}");
        }
    }
}
