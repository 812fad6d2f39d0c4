//! Starts every task of the agent and stops them on SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::agent::Agent;
use crate::cloud::CloudApi;
use crate::config::Config;
use crate::guests::AgentBackend;
use crate::journal::Journal;
use crate::portal::{PortalConfig, serve};
use crate::router::Router;
use crate::workers::{
    Converge, Expirer, HostWatch, JobConsumer, Maintenance, Reporter, SessionWatch, Shutdown, Worker,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("journal in {dir}: {err}")]
    Journal { dir: String, err: crate::journal::JournalError },
    #[error("RouterOS settings: {0}")]
    RouterOs(String),
    #[error("cloud API client: {0}")]
    Cloud(String),
    #[error("portal cannot listen on {addr}: {err}")]
    Listen { addr: String, err: std::io::Error },
}

/// How often background chores run.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub retry_unfinished: Duration,
    pub reconcile: Duration,
    pub session_watch: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            retry_unfinished: Duration::from_secs(5),
            reconcile: Duration::from_secs(300),
            session_watch: Duration::from_secs(5),
        }
    }
}

fn routeros_config(cfg: &Config) -> Result<routeros::Config, StartError> {
    let mut rc =
        routeros::Config::new(cfg.routeros_addr.clone(), cfg.routeros_user.clone(), cfg.routeros_password.clone());
    if let Some(ca) = &cfg.routeros_ca_file {
        let pem = std::fs::read(ca).map_err(|e| StartError::RouterOs(format!("{}: {e}", ca.display())))?;
        let host = cfg.routeros_addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(&cfg.routeros_addr);
        let tls = routeros::TlsSettings::with_ca_pem(&pem, host).map_err(|e| StartError::RouterOs(e.to_string()))?;
        rc = rc.with_tls(tls);
    }
    Ok(rc)
}

/// Runs the agent until `stop` resolves. `sdk` must carry the agent's HTTPS client
/// ([`crate::https::sdk_http_client`]): the SDK is built without one of its own.
pub async fn run(
    cfg: Config,
    sdk: aws_config::SdkConfig,
    intervals: Intervals,
    stop: impl Future<Output = ()>,
) -> Result<(), StartError> {
    let journal = Journal::open(&cfg.state_dir)
        .map_err(|err| StartError::Journal { dir: cfg.state_dir.display().to_string(), err })?;
    let ros = routeros::Client::start(routeros_config(&cfg)?);
    let router = Router::new(ros, cfg.hotspot_server.clone());
    let cloud = CloudApi::new(&cfg.cloud_api_url, cfg.router_id.clone(), cfg.router_key.clone())
        .map_err(|e| StartError::Cloud(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(cfg.portal_listen)
        .await
        .map_err(|err| StartError::Listen { addr: cfg.portal_listen.to_string(), err })?;
    // `sdk` carries the agent's HTTPS client (main.rs puts it there): SQS shares its pool.
    let agent = Agent::new(cfg, journal, router, aws_sdk_sqs::Client::new(&sdk));
    let cloud = cloud.with_clock(agent.clock.clone());
    tracing::info!(router_id = %agent.cfg.router_id, version = crate::agent::VERSION, portal = %agent.cfg.portal_listen, "agent starting");

    let (tx, rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();

    // Packages for the portal: the journal's copy; asked for until there is one (a router
    // boots before its WAN is up; a packages_sync job may also bring them first).
    tasks.spawn(fetch_packages(agent.clone(), cloud.clone(), rx.clone().into()));
    // Each worker has its own handle on the agent and on the shutdown signal.
    tasks.spawn(JobConsumer::new(agent.clone()).run(rx.clone()));
    tasks.spawn(Expirer::new(agent.clone()).run(rx.clone()));
    tasks.spawn(Reporter::new(agent.clone()).run(rx.clone()));
    tasks.spawn(SessionWatch::new(agent.clone(), intervals.session_watch).run(rx.clone()));
    tasks.spawn(HostWatch::new(agent.clone()).run(rx.clone()));
    tasks.spawn(Maintenance::new(agent.clone(), intervals.retry_unfinished, intervals.reconcile).run(rx.clone()));
    tasks.spawn(Converge::new(agent.clone(), cloud.clone()).run(rx.clone()));

    let backend = Arc::new(AgentBackend::new(agent.clone(), cloud));
    let mut r = rx.clone();
    let portal = tokio::spawn(serve(
        listener,
        backend,
        PortalConfig { names: agent.cfg.portal_names.clone(), ..PortalConfig::default() },
        async move {
            let _ = r.changed().await;
        },
    ));

    stop.await;
    tracing::info!("stopping");
    let _ = tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while tasks.join_next().await.is_some() {}
        let _ = portal.await;
    })
    .await;
    if let Err(e) = agent.journal.purge_sent() {
        tracing::warn!(error = %e, "sent reports not purged; the next start sends them again");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Asks the cloud for the packages on sale until the journal has some, backing off 1 s … 60 s.
async fn fetch_packages(agent: Agent, cloud: CloudApi, mut shutdown: Shutdown) {
    let mut wait = Duration::from_secs(1);
    while agent.journal.packages().map(|p| p.is_empty()).unwrap_or(true) {
        match cloud.packages().await {
            Ok(r) if !r.packages.is_empty() => {
                match agent
                    .journal
                    .replace_packages(&r.packages)
                    .and_then(|()| agent.journal.set_market(&r.wallets, r.country))
                {
                    Ok(()) => {
                        tracing::info!(packages = r.packages.len(), wallets = r.wallets.len(), "packages fetched")
                    }
                    Err(e) => tracing::error!(error = %e, "packages fetched but not journaled"),
                }
            }
            Ok(_) => tracing::warn!(retry_in = ?wait, "the cloud lists no packages for this router yet"),
            Err(e) => tracing::warn!(error = %e, retry_in = ?wait, "packages not fetched yet"),
        }
        if !shutdown.rest(wait, None).await {
            return;
        }
        wait = (wait * 2).min(Duration::from_secs(60));
    }
}

/// Resolves on SIGTERM (RouterOS stopping the container) or SIGINT.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
