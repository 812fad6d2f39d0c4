//! The agent's shared parts, handed to each of its tasks.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::Config;
use crate::decide::polling::HOT_FOR;
use crate::hosts::HostTable;
use crate::journal::Journal;
use crate::router::Router;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone)]
pub struct Agent {
    pub cfg: Arc<Config>,
    /// Verifies jobs and re-login codes (the current key, and the previous after a rotation).
    pub keys: Arc<crate::keys::Keys>,
    pub journal: Arc<Journal>,
    pub router: Router,
    pub sqs: aws_sdk_sqs::Client,
    /// Wakes the expiry scheduler when a grant's expiry may now come sooner.
    pub expiry_wake: Arc<Notify>,
    /// Asks for the grants the cloud says are owed (a job arrived stale, the queue was out of
    /// reach for long): see `workers::converge`.
    pub converge_wake: Arc<Notify>,
    /// Set when what the portal sells changed: the next report round sends a heartbeat at once,
    /// so the cloud (and the fleet page) sees the new list in seconds, not at the next minute.
    pub heartbeat_due: Arc<AtomicBool>,
    /// Until when a guest's grant may be on its way (`decide::polling`).
    pub jobs_expected: Arc<JobsExpected>,
    /// The router's host table as last reported (`workers::host_watch`), for pages that only show.
    pub hosts: Arc<HostTable>,
    pub started: Instant,
    /// The one clock every decision reads, and whether it can be believed.
    pub clock: Arc<Clock>,
}

impl Agent {
    pub fn new(cfg: Config, journal: Journal, router: Router, sqs: aws_sdk_sqs::Client) -> Agent {
        let clock = Clock::system();
        // Time never ran backwards past what the journal recorded with a good clock.
        if let Ok(Some(t)) = journal.newest_record_at() {
            clock.not_before(t);
        }
        let keys = crate::keys::Keys::new(cfg.router_key.clone(), cfg.router_key_previous.clone());
        Agent {
            keys: Arc::new(keys),
            cfg: Arc::new(cfg),
            journal: Arc::new(journal),
            router,
            sqs,
            expiry_wake: Arc::new(Notify::new()),
            converge_wake: Arc::new(Notify::new()),
            heartbeat_due: Arc::new(AtomicBool::new(false)),
            // Cold from the start: the first poll comes at once and takes what waited meanwhile.
            jobs_expected: Arc::new(JobsExpected::new()),
            hosts: Arc::new(HostTable::new()),
            started: Instant::now(),
            clock: Arc::new(clock),
        }
    }

    /// Unix seconds now, by the agent's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// `None` when the clock can be believed; otherwise how long a worker should wait for NTP.
    pub fn wait_for_clock(&self, what: &str) -> Option<std::time::Duration> {
        (!self.clock.check(what)).then_some(crate::clock::WAIT_FOR_CLOCK)
    }
}

/// Until when the job consumer polls back to back, and what wakes it from an idle rest.
pub struct JobsExpected {
    until: Mutex<Instant>,
    pub wake: Arc<Notify>,
}

impl JobsExpected {
    fn new() -> JobsExpected {
        JobsExpected { until: Mutex::new(Instant::now()), wake: Arc::new(Notify::new()) }
    }

    /// A guest started or checked a purchase: poll back to back for a while, at once if resting.
    pub fn expect(&self) {
        let until = Instant::now() + HOT_FOR;
        let mut u = self.until.lock().unwrap_or_else(|p| p.into_inner());
        *u = (*u).max(until);
        drop(u);
        self.wake.notify_one();
    }

    pub fn until(&self) -> Instant {
        *self.until.lock().unwrap_or_else(|p| p.into_inner())
    }
}
