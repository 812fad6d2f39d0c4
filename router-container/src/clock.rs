//! The agent's clock, and whether it can be believed. A router without a battery boots at 1970
//! until NTP answers, and the container shares that clock: while it reads earlier than this
//! build (or than anything the journal already holds), the agent expires nothing, applies and
//! signs nothing, and says so, once a minute, in its log; the next heartbeat reports how long.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::decide::clock::plausible;

/// When this agent was built (Unix seconds, from build.rs).
pub const BUILT_AT: i64 = match i64::from_str_radix(env!("HOTSPOT_AGENT_BUILT_AT"), 10) {
    Ok(t) => t,
    Err(_) => 0,
};

/// How long workers rest while the clock is not believable.
pub const WAIT_FOR_CLOCK: Duration = Duration::from_secs(5);
const LOG_EVERY: Duration = Duration::from_secs(60);

/// The one wall clock (`hotspot_core::clock`), with an offset tests can set to play a router
/// whose clock is wrong.
pub struct Clock {
    // A lock, not atomics: ARMv5 (the hEX refresh) has no 64-bit atomics.
    watch: Mutex<Watch>,
}

#[derive(Default)]
struct Watch {
    offset: i64,
    /// Nothing believable is earlier than this.
    not_before: i64,
    wrong_since: Option<Instant>,
    wrong_total: Duration,
    logged: Option<Instant>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    pub fn system() -> Clock {
        Clock { watch: Mutex::new(Watch { not_before: BUILT_AT, ..Watch::default() }) }
    }

    fn watch(&self) -> std::sync::MutexGuard<'_, Watch> {
        self.watch.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> i64 {
        hotspot_core::clock::now_unix().saturating_add(self.watch().offset)
    }

    /// For tests: the clock reads `offset` seconds off the system's.
    pub fn set_offset(&self, offset: i64) {
        self.watch().offset = offset;
    }

    /// Raises the floor (the journal's newest record: time never ran backwards past it).
    pub fn not_before(&self, t: i64) {
        let mut w = self.watch();
        w.not_before = w.not_before.max(t);
    }

    /// Whether `now` can be believed; logs (once a minute) while it cannot.
    pub fn check(&self, what: &str) -> bool {
        let now = self.now();
        let mut w = self.watch();
        let floor = w.not_before;
        let ok = plausible(now, floor);
        match (ok, w.wrong_since) {
            (true, Some(since)) => {
                w.wrong_total += since.elapsed();
                w.wrong_since = None;
                tracing::info!(now, "clock set: the agent goes on");
            }
            (false, None) => w.wrong_since = Some(Instant::now()),
            _ => {}
        }
        if !ok && w.logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            w.logged = Some(Instant::now());
            tracing::error!(
                alarm = "clock_unset",
                now,
                not_before = floor,
                waiting = what,
                "the router's clock reads before this agent was built: nothing expires, is applied or signed \
                 until NTP sets it (/system ntp client set enabled=yes)"
            );
        }
        ok
    }

    /// Seconds the clock has been wrong since the agent started.
    pub fn unset_secs(&self) -> u64 {
        let w = self.watch();
        (w.wrong_total + w.wrong_since.map(|s| s.elapsed()).unwrap_or_default()).as_secs()
    }
}
