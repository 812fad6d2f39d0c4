//! Watches `/ip/hotspot/active` and journals start and end reports (with bytes) for our
//! sessions; a voucher seen online for the first time starts its validity.

use std::time::Duration;

use hotspot_core::VoucherCode;
use hotspot_core::wire::Payload;

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::{Agent, now};
use crate::decide::sessions::{Seen, compare};

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
        if let Ok(active) = self.agent.router.client().list_active().await {
            let t = now();
            let changes = compare(&self.seen, active, t);
            for s in changes.started {
                self.note_voucher_use(&s.username, t);
                let _ = self.agent.journal.enqueue_event(&Payload::SessionStarted(s), t);
            }
            for e in changes.ended {
                let _ = self.agent.journal.enqueue_event(&Payload::SessionEnded(e), t);
            }
            self.seen = changes.seen;
        }
        self.every
    }
}
