//! Watches `/ip/hotspot/active` and journals start and end reports (with bytes) for our
//! sessions; a voucher seen online for the first time starts its validity.

use std::time::Duration;

use hotspot_core::VoucherCode;
use hotspot_core::wire::Payload;

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::Agent;
use crate::decide::sessions::{Seen, compare, is_ours};

pub struct SessionWatch {
    agent: Agent,
    every: Duration,
    /// Bounded by the router's own table.
    seen: Seen,
}

impl SessionWatch {
    pub fn new(agent: Agent, every: Duration) -> Self {
        SessionWatch { agent, every, seen: Seen::new() }
    }

    fn note_voucher_use(&self, user: &str, t: i64) {
        if let Ok(code) = user.parse::<VoucherCode>()
            && let Ok(Some(_)) = self.agent.journal.voucher_used(&code, t)
        {
            self.agent.expiry_wake.notify_one();
        }
    }
}

impl Worker for SessionWatch {
    async fn round(&mut self, _: &mut Shutdown) -> Duration {
        if let Some(rest) = self.agent.wait_for_clock("session reports") {
            return rest;
        }
        if let Ok(active) = self.agent.router.client().list_active().await {
            let t = self.agent.now();
            let j = &self.agent.journal;
            let ours = |user: &str| is_ours(user, |c| j.voucher(c).ok().flatten().is_some());
            let changes = compare(&self.seen, active, ours, t);
            let mut reports = Vec::new();
            for s in changes.started {
                self.note_voucher_use(&s.username, t);
                reports.push(Payload::SessionStarted(s));
            }
            reports.extend(changes.ended.into_iter().map(Payload::SessionEnded));
            // One commit for the round's news.
            if let Err(e) = self.agent.journal.enqueue_events(&reports, t) {
                tracing::error!(error = %e, "session reports not journaled");
            }
            self.seen = changes.seen;
        }
        self.every
    }
}
