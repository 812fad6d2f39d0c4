//! How often the job consumer asks its queue. Each SQS receive is billed, and an idle router's
//! long polls were a third of what it cost standing (docs/benchmarks.md). A guest's grant only
//! comes after that guest used the portal, so the agent knows when one is on its way: from a
//! guest starting or checking a purchase it long polls back to back for `HOT_FOR`, and after a
//! poll that brought jobs it asks again at once (jobs come in runs); otherwise it rests between
//! polls. What no guest here asked for (a package change, a voucher batch, a subscriber's
//! renewal) then waits at most that rest.

use std::time::{Duration, Instant};

/// How long the consumer polls back to back after a guest started or checked a purchase: a
/// payment prompt answered late, a lost callback found by the status query (15 s on) or by the
/// reconciler (each minute), all come well within it.
pub const HOT_FOR: Duration = Duration::from_secs(600);
/// The rest between an idle router's polls unless `HOTSPOT_IDLE_POLL_REST_SECS` says otherwise:
/// with a 20 s long poll, one receive a minute instead of three.
pub const DEFAULT_IDLE_REST: Duration = Duration::from_secs(40);
/// The most `HOTSPOT_IDLE_POLL_REST_SECS` may ask for: an operator's change waits no longer.
pub const MAX_IDLE_REST: Duration = Duration::from_secs(300);

/// The rest after a receive that returned `received` messages.
pub fn rest_after_receive(now: Instant, received: usize, hot_until: Instant, idle_rest: Duration) -> Duration {
    if received > 0 || now < hot_until { Duration::ZERO } else { idle_rest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_back_to_back_while_a_guest_may_be_owed_a_grant_and_rests_otherwise() {
        let t = Instant::now();
        let rest = DEFAULT_IDLE_REST;
        assert_eq!(rest_after_receive(t, 0, t + HOT_FOR, rest), Duration::ZERO, "a guest is paying");
        assert_eq!(rest_after_receive(t + HOT_FOR, 0, t + HOT_FOR, rest), rest, "cold again");
        assert_eq!(rest_after_receive(t + HOT_FOR, 3, t, rest), Duration::ZERO, "jobs came: ask again at once");
        assert_eq!(rest_after_receive(t, 0, t, Duration::ZERO), Duration::ZERO, "rest switched off");
    }
}
