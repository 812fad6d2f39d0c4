//! `bench-stack`: the local-stack half of the benchmark of issue 8, run by `scripts/bench.sh`
//! (which builds it, installs nginx and wrk, and adds the image and RouterOS figures).
//!
//! Prints one JSON object per line on stdout, `{"metric": NAME, "value": NUMBER, "unit": UNIT}`;
//! progress on stderr. What each metric measures: `docs/benchmarks.md`.
//!
//! usage: bench-stack --bin-dir DIR [--purchases 200] [--clients 500] [--idle-secs 600]
//!        [--hold-secs 15] [--rounds 3] [--round-secs 10] [--connections 50]
//!        [--restarts 8] [--lost-callbacks 10] [--money-only] [--nginx PATH] [--wrk PATH]
//!        [--admin-routers 1000] [--admin-purchases 100000] [--admin-only]
//!        [--radius-logins 500] [--radius-only] [--standing-only]
//! env:   HOTSPOT_MOTO_COUNT_FILE (required: moto's request log, see scripts/moto_server.py)

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

use daraja_sim::{Answer, Scenario};
use e2e::bench::aws::{self, MotoLog, Tally};
use e2e::bench::http::{self, Conn};
use e2e::bench::load::{self, Guest, guest, portal_target};
use e2e::bench::money::{self, Bought};
use e2e::bench::{flood, median, metric, pct, progress, sys};
use e2e::stack::{Options, Stack};

const USAGE: &str = "usage: bench-stack --bin-dir DIR [--purchases N] [--clients N] [--idle-secs S] [--hold-secs S] \
[--rounds N] [--round-secs S] [--connections N] [--restarts N] [--lost-callbacks N] [--money-only] [--nginx PATH] \
[--wrk PATH] [--admin-routers N] [--admin-purchases N] [--admin-only] [--radius-logins N] [--radius-only] \
[--standing-only] [--portal-only]";

/// Address blocks (127.B.x.y) of the phases' guests.
const BLOCK_BUYERS: u8 = 3;
const BLOCK_HOLDERS: u8 = 4;
const BLOCK_RESTARTS: u8 = 5;
const BLOCK_LOST: u8 = 6;
const BLOCK_FAULTS: u8 = 7;
const BLOCK_PAGE: u8 = 9;
const BLOCK_PORTAL_LOAD: u8 = 10;
const BLOCK_NGINX_LOAD: u8 = 11;
const BLOCK_HONEST: u8 = 12;
const BLOCK_FLOOD: u8 = 13;
const BLOCK_RADIUS: u8 = 14;
/// The RouterOS command that looks a device up by address (`find_host_by_ip`).
const HOST_LOOKUP: &str = "/ip/hotspot/host/print";
/// Requests per guest in the throughput runs: the portal's per-address burst.
const PER_GUEST: u32 = 40;

struct Args {
    bin_dir: PathBuf,
    purchases: u32,
    clients: u32,
    idle_secs: u64,
    hold_secs: u64,
    rounds: usize,
    round_secs: u64,
    connections: usize,
    nginx: Option<PathBuf>,
    wrk: Option<PathBuf>,
    moto_log: PathBuf,
    restarts: u32,
    lost_callbacks: u32,
    /// Only the money phases (lost callbacks, the fault matrix): a quick run.
    money_only: bool,
    /// The dashboard's store: routers and purchases seeded before its pages are timed.
    admin_routers: u32,
    admin_purchases: u32,
    /// Only the dashboard phase.
    admin_only: bool,
    /// RADIUS logins timed through FreeRADIUS and the radius function.
    radius_logins: u32,
    radius_only: bool,
    /// Only the idle window, the purchases and the fixed costs: what a router costs standing
    /// beside what a grant takes.
    standing_only: bool,
    /// Only the portal against nginx: repeat and first visits.
    portal_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        bin_dir: PathBuf::new(),
        purchases: 200,
        clients: 500,
        idle_secs: 600,
        hold_secs: 15,
        rounds: 3,
        round_secs: 10,
        connections: 50,
        restarts: 8,
        lost_callbacks: 10,
        money_only: false,
        admin_routers: 1000,
        admin_purchases: 100_000,
        admin_only: false,
        radius_logins: 500,
        radius_only: false,
        standing_only: false,
        portal_only: false,
        nginx: None,
        wrk: None,
        moto_log: std::env::var_os("HOTSPOT_MOTO_COUNT_FILE")
            .map(PathBuf::from)
            .ok_or("HOTSPOT_MOTO_COUNT_FILE is not set (run scripts/bench.sh)")?,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        fn num<T: std::str::FromStr>(flag: &str, v: String) -> Result<T, String> {
            v.parse().map_err(|_| format!("{flag}: not a number: {v}"))
        }
        match flag.as_str() {
            "--bin-dir" => a.bin_dir = PathBuf::from(val()?),
            "--purchases" => a.purchases = num(&flag, val()?)?,
            "--clients" => a.clients = num(&flag, val()?)?,
            "--idle-secs" => a.idle_secs = num(&flag, val()?)?,
            "--hold-secs" => a.hold_secs = num(&flag, val()?)?,
            "--rounds" => a.rounds = num(&flag, val()?)?,
            "--round-secs" => a.round_secs = num(&flag, val()?)?,
            "--connections" => a.connections = num(&flag, val()?)?,
            "--restarts" => a.restarts = num(&flag, val()?)?,
            "--lost-callbacks" => a.lost_callbacks = num(&flag, val()?)?,
            "--money-only" => a.money_only = true,
            "--admin-routers" => a.admin_routers = num(&flag, val()?)?,
            "--admin-purchases" => a.admin_purchases = num(&flag, val()?)?,
            "--admin-only" => a.admin_only = true,
            "--radius-logins" => a.radius_logins = num(&flag, val()?)?,
            "--radius-only" => a.radius_only = true,
            "--standing-only" => a.standing_only = true,
            "--portal-only" => a.portal_only = true,
            "--nginx" => a.nginx = Some(PathBuf::from(val()?)),
            "--wrk" => a.wrk = Some(PathBuf::from(val()?)),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if a.bin_dir.as_os_str().is_empty() {
        return Err(format!("--bin-dir is required\n{USAGE}"));
    }
    if !(1..=100_000).contains(&a.radius_logins) {
        return Err("--radius-logins must be 1..=100000".into());
    }
    if !(1..=10_000).contains(&a.admin_routers) || !(1..=1_000_000).contains(&a.admin_purchases) {
        return Err("--admin-routers must be 1..=10000, --admin-purchases 1..=1000000".into());
    }
    if !(1..=899).contains(&a.purchases) || a.restarts > 99 || !(1..=999).contains(&a.lost_callbacks) {
        return Err(
            "--purchases must be 1..=899, --restarts at most 99, --lost-callbacks 1..=999 (one phone number each)"
                .into(),
        );
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench-stack: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench-stack: tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = rt.block_on(async {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        let stop = async move {
            match term {
                Ok(mut t) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = t.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        tokio::select! {
            r = run(&args) => match r {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bench-stack: {e}");
                    ExitCode::FAILURE
                }
            },
            _ = stop => {
                eprintln!("bench-stack: interrupted; stopping everything");
                ExitCode::from(130)
            }
        }
    });
    // Drops every task still holding the stack: its processes (and nginx) stop here.
    rt.shutdown_timeout(Duration::from_secs(15));
    code
}

/// Tallies of moto's log and the gateway's invocations over a span of the run.
struct Span<'a> {
    stack: &'a Stack,
    log: &'a MotoLog,
    mark: aws::Mark,
    invocations: BTreeMap<String, e2e::gateway::Invocations>,
    started: Instant,
}

impl<'a> Span<'a> {
    fn begin(stack: &'a Stack, log: &'a MotoLog) -> Span<'a> {
        Span { stack, log, mark: log.mark(), invocations: stack.invoker.invocations(), started: Instant::now() }
    }

    /// The tally so far and the seconds it covers.
    fn end(&self) -> (Tally, f64) {
        let mut t = self.log.between(self.mark, self.log.mark());
        t.lambda = aws::invocations_between(&self.invocations, &self.stack.invoker.invocations());
        (t, self.started.elapsed().as_secs_f64())
    }
}

fn agent_pid(bin_dir: &std::path::Path) -> Result<u32, String> {
    sys::children(std::process::id(), Some(&bin_dir.join("hotspot-agent")))
        .into_iter()
        .next()
        .ok_or_else(|| "the agent process was not found among this process's children".into())
}

async fn run(args: &Args) -> Result<(), String> {
    let cpus = sys::cpu_count();
    progress(format!("{cpus} CPUs; starting the local stack (moto, simulators, functions, agent)"));
    let options = Options {
        // The schedules would mix their requests into every span: they are run once, on purpose,
        // for the fixed costs instead.
        schedule_every: Duration::from_secs(30 * 86_400),
        quiet_agent: true,
        dashboard_admin: true,
        // The agent's own cadence: what a router costs standing is what the idle window counts.
        idle_poll_rest_secs: None,
        ..Options::local(args.bin_dir.clone())
    };
    let stack = Arc::new(Stack::start(options).await.map_err(|e| e.to_string())?);
    let agent = agent_pid(&args.bin_dir)?;
    let log = MotoLog::new(&args.moto_log, &stack.events_queue_url);
    progress(format!("agent pid {agent}, portal {}", stack.portal_url));

    if args.admin_only {
        admin_phase(args, &stack, &log).await?;
        progress("done; stopping the stack");
        return Ok(());
    }
    if args.radius_only {
        radius_phase(args, &stack).await?;
        progress("done; stopping the stack");
        return Ok(());
    }
    if args.money_only {
        money_phases(args, &stack).await?;
        progress("done; stopping the stack");
        return Ok(());
    }
    let portal: SocketAddr = stack
        .portal_url
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("portal address {}: {e}", stack.portal_url))?;
    if args.portal_only {
        let nginx = args.nginx.as_ref().ok_or("--portal-only needs --nginx")?;
        portal_vs_nginx(args, &stack, agent, nginx, cpus).await?;
        progress("done; stopping the stack");
        return Ok(());
    }

    // ---------------------------------------------------------------- idle
    tokio::time::sleep(Duration::from_secs(5)).await;
    progress(format!("idle for {} s: RSS and the router's standing AWS traffic", args.idle_secs));
    let span = Span::begin(&stack, &log);
    let idle_written = sys::write_bytes(agent).ok_or("cannot read the agent's /proc/<pid>/io")?;
    let mut idle_rss = 0;
    let idle_until = Instant::now() + Duration::from_secs(args.idle_secs);
    while Instant::now() < idle_until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        idle_rss = sys::rss_kib(agent).ok_or("the agent exited")?;
    }
    let (idle, idle_secs) = span.end();
    let idle_per_sec = idle.scaled(1.0 / idle_secs);
    let written_per_sec = (sys::write_bytes(agent).unwrap_or(idle_written) - idle_written) as f64 / idle_secs;
    metric("agent_flash_bytes_idle_per_day", written_per_sec * 86_400.0, "bytes");
    progress(format!("idle: {}", idle.summary()));
    let idle_end = log.mark();
    progress(format!("idle DynamoDB actions: {:?}", log.dynamodb_actions_between(span.mark, idle_end)));
    let heartbeats = log.sends_to_events_between(span.mark, idle_end);
    let gap = heartbeats.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    progress(format!("idle: {} reports (heartbeats) sent, at most {gap:.1} s apart", heartbeats.len()));
    metric("heartbeat_gap_s_max", gap, "s");
    metric("agent_rss_idle_kib", idle_rss as f64, "KiB");
    let month = idle_per_sec.scaled(aws::SECONDS_PER_MONTH);
    metric("router_month_aws_requests", month.aws_requests(), "requests");
    metric("usd_per_router_month", month.usd(), "USD");

    // ---------------------------------------------------------------- purchases
    progress(format!("{} purchases, one after another, each by a new guest", args.purchases));
    let span = Span::begin(&stack, &log);
    let busy_written = sys::write_bytes(agent).ok_or("cannot read the agent's /proc/<pid>/io")?;
    let mut paid_to_online = Vec::new();
    let mut callback_ack = Vec::new();
    let mut online_first = 0;
    let mut pollers = tokio::task::JoinSet::new();
    const LEAVE_AFTER: u32 = 16;
    for i in 0..args.purchases {
        let g = guest(BLOCK_BUYERS, i);
        let (s, poller) = purchase(&stack, &g, i).await.map_err(|e| format!("purchase {i}: {e}"))?;
        pollers.spawn(poller);
        paid_to_online.push(s.paid_to_online);
        callback_ack.push(s.callback_ack);
        online_first += u32::from(s.online_before_ack);
        // The guest leaves a little later (its waiting page has seen "online" by then).
        if i >= LEAVE_AFTER {
            stack.routeros.remove_host(guest(BLOCK_BUYERS, i - LEAVE_AFTER).mac);
        }
        if (i + 1) % 50 == 0 {
            progress(format!("  {} bought; p50 so far {:.1} ms", i + 1, median(&paid_to_online).unwrap_or(0.0)));
        }
    }
    while pollers.join_next().await.is_some() {}
    for i in args.purchases.saturating_sub(LEAVE_AFTER)..args.purchases {
        stack.routeros.remove_host(guest(BLOCK_BUYERS, i).mac);
    }
    // Let the last session reports through: session watch (5 s), outbox (2 s), events poller.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (busy, busy_secs) = span.end();
    let n = f64::from(args.purchases);
    let busy_bytes = (sys::write_bytes(agent).unwrap_or(busy_written) - busy_written) as f64;
    metric("agent_flash_bytes_per_grant", (busy_bytes - written_per_sec * busy_secs).max(0.0) / n, "bytes");
    let per_purchase = busy.minus(&idle_per_sec.scaled(busy_secs)).scaled(1.0 / n);
    progress(format!("purchases took {busy_secs:.1} s; per purchase: {}", per_purchase.summary()));
    progress(format!(
        "{online_first} of {} guests were online before the callback function's 200 reached the simulator",
        args.purchases
    ));
    metric("paid_to_online_ms_p50", pct(&paid_to_online, 50.0), "ms");
    metric("paid_to_online_ms_p99", pct(&paid_to_online, 99.0), "ms");
    metric("paid_to_online_ms_max", pct(&paid_to_online, 100.0), "ms");
    metric("callback_ack_ms_p50", pct(&callback_ack, 50.0), "ms");
    metric("callback_ack_ms_p99", pct(&callback_ack, 99.0), "ms");
    metric("aws_requests_per_purchase", per_purchase.aws_requests(), "requests");
    metric("aws_dynamodb_requests_per_purchase", per_purchase.dynamodb_requests, "requests");
    metric("aws_sqs_requests_per_purchase", per_purchase.sqs_requests(), "requests");
    metric("aws_lambda_invocations_per_purchase", per_purchase.lambda_invocations(), "invocations");
    metric("aws_http_api_requests_per_purchase", per_purchase.http_api_requests(), "requests");
    metric("lambda_gb_seconds_per_purchase", per_purchase.gb_seconds(), "GB-s");
    metric("usd_per_1000_purchases", per_purchase.usd() * 1000.0, "USD");

    // ---------------------------------------------------------------- fixed costs
    let mut fixed = Tally::default();
    for f in ["reconcile", "expiry"] {
        let span = Span::begin(&stack, &log);
        stack.invoker.invoke(f, &testkit::lambda::scheduled_event()).await.map_err(|e| format!("{f}: {e}"))?;
        let (t, _) = span.end();
        progress(format!("one {f} run: {}", t.summary()));
        fixed = add(&fixed, &t);
    }
    let per_month = fixed.scaled(aws::SECONDS_PER_MONTH / 60.0);
    let esm_polls = aws::ESM_POLLERS * aws::SECONDS_PER_MONTH / 20.0;
    metric("usd_fixed_per_month", per_month.usd() + esm_polls * aws::SQS_STANDARD_USD, "USD");
    router_health(&stack).await?;
    if args.standing_only {
        progress("done; stopping the stack");
        return Ok(());
    }

    // ---------------------------------------------------------------- 500 clients
    progress(format!("{} clients on keep-alive connections for {} s", args.clients, args.hold_secs));
    let sampler_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = sampler_stop.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(sys::rss_kib(agent).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    let held = load::hold(
        stack.clone(),
        portal,
        args.clients,
        Duration::from_secs(1),
        Duration::from_secs(args.hold_secs),
        BLOCK_HOLDERS,
    )
    .await;
    sampler_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.await.map_err(|e| e.to_string())?;
    progress(format!(
        "clients: {} connected, {} open at once, {} pages, {} failed",
        held.connected, held.max_open, held.ok, held.failed
    ));
    if held.max_open < args.clients as usize {
        progress(format!("warning: only {} of {} clients were connected at once", held.max_open, args.clients));
    }
    metric("agent_rss_500_clients_kib", peak as f64, "KiB");
    metric("portal_clients_connected_at_once", held.max_open as f64, "connections");

    // ---------------------------------------------------------------- portal vs nginx
    match &args.nginx {
        Some(nginx) => portal_vs_nginx(args, &stack, agent, nginx, cpus).await?,
        None => progress("skipping portal_rps_vs_nginx_ratio: no --nginx given"),
    }
    // ---------------------------------------------------------------- restarts
    restarts(args, &stack).await?;
    // ---------------------------------------------------------------- money
    money_phases(args, &stack).await?;
    // ---------------------------------------------------------------- dashboard (last: it fills the table)
    admin_phase(args, &stack, &log).await?;
    radius_phase(args, &stack).await?;
    progress("done; stopping the stack");
    Ok(())
}

/// How soon the fleet shows the router offline once its uplink is cut, and online again once it
/// is back: the fleet page's own read and rule (`FleetRow::online`).
async fn router_health(stack: &Stack) -> Result<(), String> {
    let online = || async {
        let fleet = stack.store.list_fleet().await.map_err(|e| e.to_string())?;
        let now = hotspot_core::clock::now_unix();
        Ok::<bool, String>(fleet.iter().any(|f| f.router.id == stack.router.id && f.online(now)))
    };
    if !online().await? {
        return Err("the router is not shown online before its uplink is cut".into());
    }
    progress("router health: uplink cut; waiting for the fleet to show it offline (at most 5 min)");
    stack.uplink.cut();
    let cut = Instant::now();
    while online().await? {
        if cut.elapsed() > Duration::from_secs(300) {
            stack.uplink.restore();
            return Err("the router still showed online 5 minutes after its uplink was cut".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    metric("router_offline_shown_after_s", cut.elapsed().as_secs_f64(), "s");
    stack.uplink.restore();
    let back = Instant::now();
    while !online().await? {
        if back.elapsed() > Duration::from_secs(300) {
            return Err("the router was not shown online 5 minutes after its uplink came back".into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    metric("router_online_shown_after_s", back.elapsed().as_secs_f64(), "s");
    Ok(())
}

/// The dashboard's fleet, support and revenue pages over a store of `--admin-routers` routers
/// and `--admin-purchases` purchases: the median of 20 loads each, and the DynamoDB requests of
/// one load by action (no Scan).
async fn admin_phase(args: &Args, stack: &Arc<Stack>, log: &MotoLog) -> Result<(), String> {
    use e2e::bench::admin;
    let now = hotspot_core::clock::now_unix();
    let today = hotspot_core::dates::Day::of(now, hotspot_core::dates::UtcOffset::NAIROBI);
    let paths = [
        ("fleet", "/admin".to_string()),
        ("support", format!("/admin/support?q={}", admin::SEEDED_PHONE)),
        ("revenue_day", format!("/admin/revenue?from={today}&to={today}&by=router")),
        ("operators", "/admin/operators".to_string()),
        ("unmatched", "/admin/receipts".to_string()),
    ];
    let mut a = admin::sign_in(stack).await?;
    let mut scans = 0;
    // Side by side: the same pages over the stack's own small store (one router, the earlier
    // phases' purchases), then over the seeded one.
    for (name, path) in &paths {
        let expect = match *name {
            "fleet" => "Cafe Westlands",
            "support" => "No purchases found.",
            "operators" => "operator(s).",
            "unmatched" => "unmatched receipt(s)",
            _ => "payment(s)",
        };
        let f = admin::time_page(&mut a, log, path, expect, 20).await?;
        scans += f.requests.get("Scan").copied().unwrap_or(0);
        progress(format!(
            "small store: {name}: {path}: {:.1} ms, {} bytes, DynamoDB {:?}",
            f.p50_ms, f.bytes, f.requests
        ));
        metric(&format!("admin_page_p50_ms_{name}_small_store"), f.p50_ms, "ms");
    }
    progress(format!(
        "seeding {} routers and {} purchases for the dashboard",
        args.admin_routers, args.admin_purchases
    ));
    let t = Instant::now();
    admin::seed(stack, args.admin_routers, args.admin_purchases, now).await?;
    progress(format!("seeded in {:.1} s", t.elapsed().as_secs_f64()));
    for (name, path) in &paths {
        let expect = match *name {
            "fleet" => format!("site-{:04}", args.admin_routers - 1),
            "support" => "/admin/purchases/".to_string(),
            "operators" => "operator(s).".to_string(),
            "unmatched" => "unmatched receipt(s)".to_string(),
            _ => "payment(s)".to_string(),
        };
        let f = admin::time_page(&mut a, log, path, &expect, 20).await?;
        let total: u64 = f.requests.values().sum();
        scans += f.requests.get("Scan").copied().unwrap_or(0);
        progress(format!("{name}: {path}: {:.1} ms, {} bytes, DynamoDB {:?}", f.p50_ms, f.bytes, f.requests));
        metric(&format!("admin_page_p50_ms_{name}"), f.p50_ms, "ms");
        metric(&format!("admin_page_dynamodb_requests_{name}"), total as f64, "requests");
    }
    metric("admin_page_dynamodb_scans", scans as f64, "requests");
    // Where the time goes: the support page's one index Query, made directly against moto.
    let phone: hotspot_core::phone::PhoneNumber = admin::SEEDED_PHONE.parse().map_err(|e| format!("phone: {e}"))?;
    let mut ms = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        stack.store.purchases_by_phone(&phone, 50).await.map_err(|e| e.to_string())?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    metric("admin_moto_by_phone_query_p50_ms", median(&ms).unwrap_or(0.0), "ms");
    Ok(())
}

/// 50 honest guests pay at once, first on a quiet portal, then while one address floods it.
async fn flood_phase(stack: &Arc<Stack>) -> Result<(), String> {
    const GUESTS: u32 = 50;
    let portal: SocketAddr =
        stack.portal_url.trim_start_matches("http://").parse().map_err(|e| format!("portal address: {e}"))?;
    let quiet = (0..GUESTS).map(|i| (guest(BLOCK_HONEST, i), format!("0716{i:03}777"))).collect();
    progress(format!("{GUESTS} guests pay at once on a quiet portal"));
    let q = flood::honest_guests(stack, quiet).await;
    let flooder = guest(BLOCK_FLOOD, 0);
    stack.routeros.add_host(flooder.mac, flooder.ip);
    progress(format!(
        "one address floods the portal ({} half-sent requests held, {} spammers); {GUESTS} guests pay meanwhile",
        flood::HOLDERS,
        flood::SPAMMERS
    ));
    let (f, mut tasks) = flood::start(portal, flooder, Duration::from_secs(120));
    // Ready when the flood has filled its share and been refused more (not a fixed wait).
    let ready = Instant::now() + Duration::from_secs(30);
    while f.connects.load(std::sync::atomic::Ordering::Relaxed) < 2 * flood::HOLDERS as u64 && Instant::now() < ready {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let honest = (GUESTS..2 * GUESTS).map(|i| (guest(BLOCK_HONEST, i), format!("0717{:03}777", i - GUESTS))).collect();
    let h = flood::honest_guests(stack, honest).await;
    f.stop();
    while tasks.join_next().await.is_some() {}
    stack.routeros.remove_host(flooder.mac);
    let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed) as f64;
    progress(format!(
        "quiet: {} paid and online, {} failed; flooded: {} online, {} failed; the flooder opened {} connections, {} of its {} answered requests were 429",
        q.online,
        q.failed,
        h.online,
        h.failed,
        load(&f.connects),
        load(&f.limited),
        load(&f.answered)
    ));
    metric("portal_honest_p50_ms_quiet", pct(&q.pages_ms, 50.0), "ms");
    metric("portal_honest_p99_ms_quiet", pct(&q.pages_ms, 99.0), "ms");
    metric("portal_honest_p50_ms_under_flood", pct(&h.pages_ms, 50.0), "ms");
    metric("portal_honest_p99_ms_under_flood", pct(&h.pages_ms, 99.0), "ms");
    let ratio = pct(&h.pages_ms, 99.0) / pct(&q.pages_ms, 99.0);
    metric("portal_honest_p99_under_flood_vs_quiet_ratio", ratio, "x");
    metric("portal_honest_online_under_flood", h.online as f64, "guests");
    metric("portal_honest_failed_under_flood", h.failed as f64, "guests");
    metric("portal_flood_connections", load(&f.connects), "connections");
    Ok(())
}

/// RADIUS mode: a guest who paid logs in again and again through FreeRADIUS (Debian's, our
/// configuration) and the radius function, one login at a time, as a router's hotspot would.
async fn radius_phase(args: &Args, stack: &Arc<Stack>) -> Result<(), String> {
    use e2e::bench::radius::{Login, accept_latencies};
    use testkit::freeradius::{Client, FreeRadius};
    const SECRET: &str = "bench-radius-client-secret";
    progress(format!("RADIUS: {} logins through FreeRADIUS and the radius function", args.radius_logins));
    let clients = [Client { shortname: stack.router.id.as_str(), ipaddr: "127.0.0.1", secret: SECRET }];
    let fr = FreeRadius::start(&stack.gateway_url, e2e::stack::RADIUS_API_SECRET, &clients)?;
    let g = guest(BLOCK_RADIUS, 0);
    let bought = money::buy(stack, &g, "0712999000", Scenario::await_phone()).await?;
    if !stack.daraja.answer(&bought.checkout, Answer::Pay) {
        return Err("the RADIUS phase's prompt could not be answered".into());
    }
    money::online_within(stack, g.mac, Duration::from_secs(60))
        .await
        .ok_or("the RADIUS phase's guest never got online")?;
    let id: hotspot_core::PurchaseId = bought.id.parse().map_err(|e| format!("purchase id: {e}"))?;
    let password = hotspot_cloud::radius::password(&stack.router.key, &id);
    let mac = g.mac.to_string();
    let login = Login { user: id.as_str(), password: &password, nas: stack.router.id.as_str(), mac: &mac };
    // Warm: FreeRADIUS's connections to the API, the function's to moto.
    accept_latencies(fr.auth_port, SECRET, &login, 20).await?;
    let ms = accept_latencies(fr.auth_port, SECRET, &login, args.radius_logins).await?;
    metric("radius_auth_p50_ms", pct(&ms, 50.0), "ms");
    metric("radius_auth_p99_ms", pct(&ms, 99.0), "ms");
    Ok(())
}

/// Lost callbacks (found while the guest waits), then the fault matrix.
async fn money_phases(args: &Args, stack: &Arc<Stack>) -> Result<(), String> {
    flood_phase(stack).await?;
    let n = args.lost_callbacks;
    progress(format!("{n} guests pay at once and Daraja never calls back"));
    let guests = (0..n).map(|i| (guest(BLOCK_LOST, i), format!("0713{i:03}777"))).collect();
    let waits = money::lost_callbacks(stack, guests).await?;
    metric("lost_callback_to_online_s_p50", pct(&waits, 50.0), "s");
    metric("lost_callback_to_online_s_p99", pct(&waits, 99.0), "s");

    progress(format!("the fault matrix: {} purchases, one per fault", money::CASES.len()));
    let guests = (0..money::CASES.len() as u32).map(|i| (guest(BLOCK_FAULTS, i), format!("0714{i:03}777"))).collect();
    let m = money::fault_matrix(stack, guests).await?;
    progress(format!(
        "fault matrix: {} purchases, {} paid, {} grants; paid → online p50 {:.1} s, max {:.1} s",
        m.purchases,
        m.receipts,
        m.grants,
        pct(&m.online_secs, 50.0),
        pct(&m.online_secs, 100.0)
    ));
    metric("fault_matrix_purchases", m.purchases as f64, "purchases");
    metric("fault_matrix_receipts", m.receipts as f64, "receipts");
    metric("fault_matrix_grants", m.grants as f64, "grants");
    metric("fault_matrix_lost", m.lost as f64, "payments");
    metric("fault_matrix_doubled", m.doubled as f64, "grants");
    metric("fault_matrix_ledger_problems", m.ledger_problems as f64, "lines");
    Ok(())
}

/// A guest pays just after the agent restarted (a router reboot, a container upgrade): the
/// long poll of the agent that just died may take the job and hide it for its visibility.
async fn restarts(args: &Args, stack: &Arc<Stack>) -> Result<(), String> {
    let n = args.restarts;
    progress(format!("{n} restarts, each followed at once by a purchase"));
    let mut samples = Vec::new();
    for i in 0..n {
        // One restart at a time, as a reboot is: the dead agent's long poll (20 s at most) is
        // gone before the next restart leaves another.
        let restarted = Instant::now();
        stack.restart_agent(&[]).await.map_err(|e| e.to_string())?;
        // The new agent's first long poll is open; the old one's may still be too.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let g = guest(BLOCK_RESTARTS, i);
        let (s, poller) = purchase(stack, &g, 900 + i).await.map_err(|e| format!("restart {i}: {e}"))?;
        drop(poller);
        stack.routeros.remove_host(g.mac);
        samples.push(s.paid_to_online);
        progress(format!("  restart {}: online {:.0} ms after paying", i + 1, s.paid_to_online));
        let poll_gone = restarted + Duration::from_secs(21);
        tokio::time::sleep(poll_gone.saturating_duration_since(Instant::now())).await;
    }
    metric("paid_to_online_after_restart_ms_p50", pct(&samples, 50.0), "ms");
    metric("paid_to_online_after_restart_ms_p99", pct(&samples, 99.0), "ms");
    Ok(())
}

fn add(a: &Tally, b: &Tally) -> Tally {
    let mut lambda = a.lambda.clone();
    for (k, (n, ms)) in &b.lambda {
        let e = lambda.entry(k.clone()).or_insert((0.0, 0.0));
        e.0 += n;
        e.1 += ms;
    }
    Tally {
        dynamodb_requests: a.dynamodb_requests + b.dynamodb_requests,
        dynamodb_read_units: a.dynamodb_read_units + b.dynamodb_read_units,
        dynamodb_write_units: a.dynamodb_write_units + b.dynamodb_write_units,
        sqs_fifo: a.sqs_fifo + b.sqs_fifo,
        sqs_standard: a.sqs_standard + b.sqs_standard,
        sqs_esm_receives: a.sqs_esm_receives + b.sqs_esm_receives,
        lambda,
    }
}

struct PurchaseSample {
    /// From the payment (the phone approves; the simulator sends the callback at once) to the
    /// session on the router.
    paid_to_online: f64,
    /// From the payment to the callback's HTTP 200 back at the simulator.
    callback_ack: f64,
    /// The session was on the router before the callback's 200 came back.
    online_before_ack: bool,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One guest's purchase, as the browser and phone make it. Returns the timings and the guest's
/// waiting page, still polling (it stops once it says "online").
async fn purchase(
    stack: &Arc<Stack>,
    g: &Guest,
    i: u32,
) -> Result<(PurchaseSample, impl std::future::Future<Output = ()> + Send + 'static), String> {
    let phone = format!("0712{:03}777", i);
    let Bought { conn: c, id, checkout } = money::buy(stack, g, &phone, Scenario::await_phone()).await?;
    // The guest approves on the phone; Daraja calls back at once.
    let t_answer = Instant::now();
    if !stack.daraja.answer(&checkout, Answer::Pay) {
        return Err("the prompt could not be answered".into());
    }
    let accepted =
        || stack.daraja.callbacks().iter().any(|cb| cb.checkout_request_id == checkout && cb.status == Some(200));
    let mut t_accepted: Option<Instant> = None;
    let mut last_commands = stack.routeros.stats().commands;
    let mut last_change = Instant::now();
    let t_online = loop {
        let now = Instant::now();
        if t_accepted.is_none() && accepted() {
            t_accepted = Some(now);
        }
        // A full snapshot of the simulator is costly and locks it: take one only while RouterOS
        // commands are coming in (the login is the grant's last command).
        let commands = stack.routeros.stats().commands;
        if commands != last_commands {
            last_commands = commands;
            last_change = now;
        }
        if now.duration_since(last_change) < Duration::from_millis(50)
            && stack.routeros.state().session_of(g.mac).is_some()
        {
            break now;
        }
        if now.duration_since(t_answer) > Duration::from_secs(30) {
            return Err("no session on the router 30 s after payment".into());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let online_before_ack = t_accepted.is_none();
    while t_accepted.is_none() {
        if accepted() {
            t_accepted = Some(Instant::now());
        } else if t_answer.elapsed() > Duration::from_secs(30) {
            return Err("the callback was never acknowledged".into());
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let sample = PurchaseSample {
        paid_to_online: ms(t_online.duration_since(t_answer)),
        callback_ack: t_accepted.map(|t| ms(t.duration_since(t_answer))).unwrap_or(f64::NAN),
        online_before_ack,
    };
    // The waiting page's script polls every 1.5 s until it says "online".
    let poller = money::waiting_page(c, id, 20);
    Ok((sample, poller))
}

async fn portal_vs_nginx(
    args: &Args,
    stack: &Arc<Stack>,
    agent: u32,
    nginx: &std::path::Path,
    cpus: usize,
) -> Result<(), String> {
    // The agent's own listener, as nginx's: the stack's hotspot bridge (the router's forwarding
    // path, a proxy in this process) would charge every portal connection a second connection
    // and a copy each way on the clients' CPU, and nginx none.
    let portal = stack.portal_addr;
    // The page a new guest gets, fetched once: nginx serves exactly these bytes.
    let g = guest(BLOCK_PAGE, 0);
    stack.routeros.add_host(g.mac, g.ip);
    let mut c = Conn::connect(g.ip, portal).await.map_err(|e| format!("connect: {e}"))?;
    let page = c.request(&http::get(&portal_target(&g))).await.map_err(|e| format!("portal page: {e}"))?;
    drop(c);
    stack.routeros.remove_host(g.mac);
    if page.status != 200 {
        return Err(format!("portal page: HTTP {}", page.status));
    }
    metric("portal_page_bytes", page.body.len() as f64, "bytes");
    // Server on the last CPU, this driver (clients, RouterOS simulator) on the others.
    let (server_cpu, client_cpus) =
        if cpus >= 2 { (Some(cpus - 1), Some(format!("0-{}", cpus - 2))) } else { (None, None) };
    let all = format!("0-{}", cpus.saturating_sub(1));
    let dir = std::env::temp_dir().join(format!("hotspot-bench-nginx-{}", std::process::id()));
    let ngx = load::Nginx::start(nginx, &page.body, server_cpu, &dir).await?;
    let worker = ngx.worker().unwrap_or(ngx.pid);
    if let (Some(s), Some(cl)) = (server_cpu, &client_cpus) {
        sys::pin(agent, &s.to_string())?;
        sys::pin(std::process::id(), cl)?;
        progress(format!("portal and nginx pinned to CPU {s}; clients on CPU {cl}"));
    } else {
        progress("one CPU: nothing pinned, clients and server share it");
    }
    let portal_next = Arc::new(AtomicU32::new(0));
    let nginx_next = Arc::new(AtomicU32::new(0));
    let secs = Duration::from_secs(args.round_secs);
    let conns = args.connections;
    // Warm-up, not measured.
    load::run(
        Some(stack.clone()),
        portal,
        conns,
        PER_GUEST,
        Duration::from_secs(1),
        BLOCK_PORTAL_LOAD,
        portal_next.clone(),
    )
    .await;
    load::run(None, ngx.addr, conns, PER_GUEST, Duration::from_secs(1), BLOCK_NGINX_LOAD, nginx_next.clone()).await;
    // Guests staying for 40 requests (the headline), then guests making one request each on a
    // new connection: every page is then a first visit (a RouterOS lookup, a grant lookup).
    let mut headline = None;
    for (per_guest, prefix) in [(PER_GUEST, ""), (1, "first_visit_")] {
        let (mut portal_rps, mut nginx_rps, mut portal_cpu, mut nginx_cpu) = (vec![], vec![], vec![], vec![]);
        let mut failed = (0, 0);
        let (mut lookups, mut pages) = (0, 0);
        for round in 0..args.rounds {
            let c0 = sys::cpu_secs(agent).unwrap_or(0.0);
            let l0 = stack.routeros.commands_run(HOST_LOOKUP);
            let r =
                load::run(Some(stack.clone()), portal, conns, per_guest, secs, BLOCK_PORTAL_LOAD, portal_next.clone())
                    .await;
            let round_lookups = stack.routeros.commands_run(HOST_LOOKUP) - l0;
            lookups += round_lookups;
            pages += r.ok;
            portal_cpu.push((sys::cpu_secs(agent).unwrap_or(0.0) - c0) / r.elapsed.as_secs_f64());
            portal_rps.push(r.rps());
            failed.0 += r.failed;
            let c0 = sys::cpu_secs(worker).unwrap_or(0.0);
            let n = load::run(None, ngx.addr, conns, per_guest, secs, BLOCK_NGINX_LOAD, nginx_next.clone()).await;
            nginx_cpu.push((sys::cpu_secs(worker).unwrap_or(0.0) - c0) / n.elapsed.as_secs_f64());
            nginx_rps.push(n.rps());
            failed.1 += n.failed;
            progress(format!(
                "  {per_guest} per guest, round {}: portal {:.0} req/s ({} RouterOS lookups for {} pages), nginx {:.0} req/s",
                round + 1,
                r.rps(),
                round_lookups,
                r.ok,
                n.rps()
            ));
        }
        if failed.0 + failed.1 > 0 {
            progress(format!("failed requests: portal {}, nginx {}", failed.0, failed.1));
        }
        let (p, n) = (median(&portal_rps).unwrap_or(0.0), median(&nginx_rps).unwrap_or(0.0));
        metric(&format!("{prefix}portal_routeros_lookups_per_page"), lookups as f64 / pages.max(1) as f64, "lookups");
        metric(&format!("{prefix}portal_rps"), p, "req/s");
        metric(&format!("{prefix}nginx_rps"), n, "req/s");
        metric(&format!("portal_{prefix}rps_vs_nginx_ratio"), if n > 0.0 { p / n } else { 0.0 }, "x");
        let (pc, nc) = (median(&portal_cpu).unwrap_or(0.0), median(&nginx_cpu).unwrap_or(0.0));
        metric(&format!("{prefix}portal_agent_cpu_share"), pc, "cores");
        metric(&format!("{prefix}nginx_worker_cpu_share"), nc, "cores");
        // Requests per CPU-second of each server: the ratio when neither waits on anything else.
        if pc > 0.0 && nc > 0.0 && n > 0.0 {
            metric(&format!("portal_{prefix}vs_nginx_per_cpu_second_ratio"), (p / pc) / (n / nc), "x");
        }
        headline.get_or_insert(p);
    }
    let wrk_rps = match &args.wrk {
        Some(w) => {
            let cpu = if cpus >= 2 { Some(0) } else { None };
            match load::wrk(w, &format!("http://{}/", ngx.addr), conns, args.round_secs, cpu) {
                Ok(v) => Some(v),
                Err(e) => {
                    progress(format!("wrk against nginx failed: {e}"));
                    None
                }
            }
        }
        None => None,
    };
    if server_cpu.is_some() {
        let _ = sys::pin(agent, &all);
        let _ = sys::pin(std::process::id(), &all);
    }
    drop(ngx);
    let p = headline.unwrap_or(0.0);
    if let Some(w) = wrk_rps {
        metric("nginx_rps_wrk", w, "req/s");
        metric("portal_rps_vs_nginx_wrk_ratio", if w > 0.0 { p / w } else { 0.0 }, "x");
    }
    Ok(())
}
