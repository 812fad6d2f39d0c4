//! Reports upstream on the shared events queue, each signed with the router's key: job
//! outcomes and sessions from the journal's outbox (so none is lost to an outage), and a
//! heartbeat every two minutes.

use std::time::{Duration, Instant};

use hotspot_core::MessageId;
use hotspot_core::wire::{Envelope, Heartbeat, Payload};

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::{Agent, VERSION};

/// Reports stay valid this long: a router offline for days still delivers them.
const REPORT_TTL_SECS: i64 = 7 * 86_400;
/// The fleet shows a router offline 180 s after its last heartbeat (`ONLINE_WITHIN_SECS`), so
/// a router that dies is shown offline within 3 minutes whatever this is; at 120 s a heartbeat
/// may come up to a minute late (a failed send is tried again at the next round, seconds later)
/// without a healthy router looking offline. One the events function fails on (SQS retries it
/// 180 s later) shows a healthy router offline for up to a minute, until the next. Each
/// heartbeat is a queue message and its delete, an events invocation, a router read and a
/// router-record write: at one a minute they were two thirds of what an idle router cost.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(120);
const FLUSH_EVERY: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub struct Reporter {
    agent: Agent,
    backoff: Duration,
    last_heartbeat: Option<Instant>,
}

impl Reporter {
    pub fn new(agent: Agent) -> Self {
        Reporter { agent, backoff: FLUSH_EVERY, last_heartbeat: None }
    }

    async fn send_event(&self, id: MessageId, payload: Payload) -> Result<(), String> {
        let a = &self.agent;
        let body =
            Envelope::new(id, a.cfg.router_id.clone(), a.now(), REPORT_TTL_SECS, payload).sign(&a.cfg.router_key);
        a.sqs
            .send_message()
            .queue_url(&a.cfg.events_queue_url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e}"))
    }

    /// Sends what the outbox holds, oldest first; stops at the first failure.
    pub async fn flush_outbox(&self) -> Result<usize, String> {
        let j = &self.agent.journal;
        let mut sent = 0;
        loop {
            let batch = j.outbox(20).map_err(|e| e.to_string())?;
            if batch.is_empty() {
                return Ok(sent);
            }
            let mut done = Vec::with_capacity(batch.len());
            let mut failed = None;
            for (seq, id, payload) in batch {
                match self.send_event(id, payload).await {
                    Ok(()) => done.push(seq),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            // Acknowledged together: one flash write per batch. A crash before it sends the batch
            // again, which the cloud takes as it took the first (its handling is idempotent).
            j.ack_outbox_all(&done).map_err(|e| e.to_string())?;
            sent += done.len();
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }

    pub async fn heartbeat(&self) -> Result<(), String> {
        let a = &self.agent;
        let active = a.router.client().list_active().await.map(|a| a.len() as u32).unwrap_or(0);
        let ppp = a.router.client().list_ppp_active().await.map(|a| a.len() as u32).unwrap_or(0);
        let packages = a.journal.packages().unwrap_or_default();
        let hb = Heartbeat {
            version: VERSION.into(),
            uptime_secs: a.started.elapsed().as_secs(),
            active_sessions: active,
            ppp_sessions: ppp,
            jobs_waiting: a.journal.jobs_waiting().unwrap_or(0),
            packages: packages.iter().map(|p| p.id().clone()).collect(),
            packages_digest: Some(hotspot_core::package::digest(&packages)),
            clock_unset_secs: a.clock.unset_secs(),
        };
        self.send_event(MessageId::generate(), Payload::Heartbeat(hb)).await
    }
}

impl Worker for Reporter {
    /// The outbox every few seconds (backing off while the cloud is unreachable), the heartbeat
    /// every `HEARTBEAT_EVERY`.
    async fn round(&mut self, _: &mut Shutdown) -> Duration {
        // Reports are signed with the time: none until it can be believed.
        if let Some(rest) = self.agent.wait_for_clock("reports") {
            return rest;
        }
        let mut ok = self.flush_outbox().await.inspect_err(|e| tracing::warn!(error = %e, "reports not sent")).is_ok();
        let due = self.agent.heartbeat_due.swap(false, std::sync::atomic::Ordering::Relaxed);
        if due || self.last_heartbeat.is_none_or(|t| t.elapsed() >= HEARTBEAT_EVERY) {
            let sent = self.heartbeat().await.inspect_err(|e| tracing::warn!(error = %e, "heartbeat not sent")).is_ok();
            // A changed package list not yet told goes with the next round's try.
            if due && !sent {
                self.agent.heartbeat_due.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            ok &= sent;
            if sent {
                self.last_heartbeat = Some(Instant::now());
            }
        }
        self.backoff = if ok { FLUSH_EVERY } else { (self.backoff * 2).min(MAX_BACKOFF) };
        self.backoff
    }
}
