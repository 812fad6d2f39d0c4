//! Keeps `Agent.hosts` (the router's host table) current: a `/ip/hotspot/host/listen` started
//! before the table is printed, so no change falls between the two, then every change as
//! RouterOS reports it. A new device's first portal page then costs no RouterOS round trip.

use std::time::{Duration, Instant};

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::Agent;

const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

pub struct HostWatch {
    agent: Agent,
    backoff: Duration,
}

impl HostWatch {
    pub fn new(agent: Agent) -> Self {
        HostWatch { agent, backoff: BACKOFF_MIN }
    }

    /// Mirrors the table until the watch fails (`Err`) or the agent stops (`Ok`).
    async fn follow(&mut self, shutdown: &mut Shutdown) -> routeros::Result<()> {
        let client = self.agent.router.client();
        let mut watch = client.watch_hosts().await?;
        let rows = client.list_hosts().await?;
        // Changes that came while the table was printed are queued in `watch`: applied after
        // it, in order, they leave what the router has now.
        self.agent.hosts.load(rows, Instant::now());
        self.backoff = BACKOFF_MIN;
        tracing::debug!(hosts = self.agent.hosts.len(), "host table mirrored");
        loop {
            tokio::select! {
                change = watch.next() => self.agent.hosts.apply(change?, Instant::now()),
                _ = shutdown.recv() => return Ok(()),
            }
        }
    }
}

impl Worker for HostWatch {
    async fn round(&mut self, shutdown: &mut Shutdown) -> Duration {
        let ended = self.follow(shutdown).await;
        self.agent.hosts.down();
        match ended {
            Ok(()) => Duration::ZERO,
            Err(e) => {
                let rest = self.backoff;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                // Pages still work without it (each looks the device up), so not an alarm.
                tracing::info!(error = %e, retry_in = ?rest, "host table watch ended; pages look devices up meanwhile");
                rest
            }
        }
    }
}
