//! Reports upstream on the shared events queue, each signed with the router's key: job
//! outcomes (from the journal's outbox, so none is lost to an outage), a heartbeat each minute,
//! and session start/end with bytes from watching `/ip/hotspot/active`.

use std::collections::HashMap;
use std::time::Duration;

use hotspot_core::MessageId;
use hotspot_core::wire::{Envelope, Heartbeat, Payload, SessionEnded, SessionStarted};
use tokio::sync::watch;

use crate::agent::{Agent, VERSION, now};
use crate::journal::purchase_of;

/// Reports stay valid this long: a router offline for days still delivers them.
const REPORT_TTL_SECS: i64 = 7 * 86_400;

impl Agent {
    async fn send_event(&self, id: MessageId, payload: Payload) -> Result<(), String> {
        let body =
            Envelope::new(id, self.cfg.router_id.clone(), now(), REPORT_TTL_SECS, payload).sign(&self.cfg.router_key);
        self.sqs
            .send_message()
            .queue_url(&self.cfg.events_queue_url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{e}"))
    }

    /// Sends what the outbox holds, oldest first; stops at the first failure.
    pub async fn flush_outbox(&self) -> Result<usize, String> {
        let mut sent = 0;
        loop {
            let batch = self.journal.outbox(20).map_err(|e| e.to_string())?;
            if batch.is_empty() {
                return Ok(sent);
            }
            for (seq, id, payload) in batch {
                self.send_event(id, payload).await?;
                self.journal.ack_outbox(seq).map_err(|e| e.to_string())?;
                sent += 1;
            }
        }
    }

    pub async fn heartbeat(&self) -> Result<(), String> {
        let active = self.router.client().list_active().await.map(|a| a.len() as u32).unwrap_or(0);
        let hb = Heartbeat {
            version: VERSION.into(),
            uptime_secs: self.started.elapsed().as_secs(),
            active_sessions: active,
            jobs_waiting: self.journal.jobs_waiting().unwrap_or(0),
            packages: self.journal.packages().unwrap_or_default().iter().map(|p| p.id().clone()).collect(),
        };
        self.send_event(MessageId::generate(), Payload::Heartbeat(hb)).await
    }

    /// Outbox every few seconds (backing off while the cloud is unreachable), heartbeat each minute.
    pub async fn run_reports(&self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_secs(2);
        let mut last_heartbeat: Option<std::time::Instant> = None;
        while !*shutdown.borrow() {
            let mut ok =
                self.flush_outbox().await.inspect_err(|e| tracing::warn!(error = %e, "reports not sent")).is_ok();
            if last_heartbeat.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                ok &= self.heartbeat().await.inspect_err(|e| tracing::warn!(error = %e, "heartbeat not sent")).is_ok();
                last_heartbeat = Some(std::time::Instant::now());
            }
            backoff = if ok { Duration::from_secs(2) } else { (backoff * 2).min(Duration::from_secs(60)) };
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Watches active sessions and journals start/end reports for ours.
    pub async fn run_session_watch(&self, mut shutdown: watch::Receiver<bool>, every: Duration) {
        // username → (mac, ip, bytes_in, bytes_out, uptime); bounded by the router's own table.
        let mut seen: HashMap<String, SessionEnded> = HashMap::new();
        while !*shutdown.borrow() {
            if let Ok(active) = self.router.client().list_active().await {
                let t = now();
                let mut current = HashMap::new();
                for s in active {
                    let ours = purchase_of(&s.user).is_some() || s.user.parse::<hotspot_core::VoucherCode>().is_ok();
                    let (Some(mac), Some(ip)) = (s.mac_address, s.address) else { continue };
                    if !ours {
                        continue;
                    }
                    if !seen.contains_key(&s.user) {
                        let started = Payload::SessionStarted(SessionStarted {
                            username: s.user.clone(),
                            purchase_id: purchase_of(&s.user),
                            mac,
                            ip,
                            at: t,
                        });
                        let _ = self.journal.enqueue_event(&started, t);
                        self.note_voucher_use(&s.user, t);
                    }
                    current.insert(
                        s.user.clone(),
                        SessionEnded {
                            username: s.user.clone(),
                            purchase_id: purchase_of(&s.user),
                            mac,
                            bytes_in: s.bytes_in,
                            bytes_out: s.bytes_out,
                            uptime_secs: s.uptime.map(|u| u.secs()).unwrap_or(0),
                            reason: String::new(),
                            at: t,
                        },
                    );
                }
                for (user, mut last) in seen.drain() {
                    if !current.contains_key(&user) {
                        last.reason = "ended".into();
                        last.at = t;
                        let _ = self.journal.enqueue_event(&Payload::SessionEnded(last), t);
                    }
                }
                seen = current;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// A voucher seen online for the first time starts its validity.
    fn note_voucher_use(&self, user: &str, t: i64) {
        if let Ok(code) = user.parse::<hotspot_core::VoucherCode>()
            && let Ok(Some(_)) = self.journal.voucher_used(&code, t)
        {
            self.expiry_wake.notify_one();
        }
    }
}
