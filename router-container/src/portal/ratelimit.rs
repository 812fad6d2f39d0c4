//! Per-client-IP token buckets in a table of bounded size.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bucket holding `burst` tokens that regains one every `refill_every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub burst: u32,
    pub refill_every: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct RateLimiter {
    cfg: RateLimitConfig,
    max_entries: usize,
    table: Mutex<HashMap<Ipv4Addr, Bucket>>,
}

impl RateLimiter {
    pub fn new(cfg: RateLimitConfig, max_entries: usize) -> Self {
        RateLimiter { cfg, max_entries: max_entries.max(1), table: Mutex::new(HashMap::new()) }
    }

    fn per_sec(&self) -> f64 {
        let every = self.cfg.refill_every.as_secs_f64();
        if every > 0.0 { 1.0 / every } else { f64::INFINITY }
    }

    /// Takes a token for `ip`; when there is none, how long until there will be.
    pub fn check(&self, ip: Ipv4Addr, now: Instant) -> Result<(), Duration> {
        self.take(ip, now, true)
    }

    /// Whether `ip` has a token, without taking it (a budget spent only on failures).
    pub fn peek(&self, ip: Ipv4Addr, now: Instant) -> Result<(), Duration> {
        self.take(ip, now, false)
    }

    fn take(&self, ip: Ipv4Addr, now: Instant, consume: bool) -> Result<(), Duration> {
        let burst = f64::from(self.cfg.burst.max(1));
        let rate = self.per_sec();
        // A poisoned lock only means another request panicked mid-update; the table is still usable.
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if !table.contains_key(&ip) && table.len() >= self.max_entries {
            self.evict(&mut table, now, burst, rate);
        }
        let b = table.entry(ip).or_insert(Bucket { tokens: burst, last: now });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            if consume {
                b.tokens -= 1.0;
            }
            Ok(())
        } else {
            let wait = if rate.is_finite() && rate > 0.0 { (1.0 - b.tokens) / rate } else { 0.0 };
            Err(Duration::from_secs_f64(wait.clamp(0.0, 86_400.0)))
        }
    }

    /// Makes room for an eighth of the table at once: first drops buckets that have refilled
    /// (forgetting them changes nothing), then the least recently seen of those still limited.
    /// One pass over the table per `max_entries / 8` new clients: evicting one per new client
    /// made every first visit scan the whole table once it was full of guests seen in the last
    /// second (30 % of the agent's CPU on first visits, measured).
    fn evict(&self, table: &mut HashMap<Ipv4Addr, Bucket>, now: Instant, burst: f64, rate: f64) {
        let keep = self.max_entries - (self.max_entries / 8).max(1);
        table.retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst);
        if table.len() > keep {
            let mut seen: Vec<Instant> = table.values().map(|b| b.last).collect();
            let go = seen.len() - keep;
            let (_, newest_gone, _) = seen.select_nth_unstable(go - 1);
            let newest_gone = *newest_gone;
            table.retain(|_, b| b.last > newest_gone);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.lock().map(|t| t.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> Ipv4Addr {
        Ipv4Addr::from(0x0a00_0000 + n)
    }

    #[test]
    fn burst_then_refill() {
        let l = RateLimiter::new(RateLimitConfig { burst: 3, refill_every: Duration::from_secs(10) }, 16);
        let t0 = Instant::now();
        for _ in 0..3 {
            l.check(ip(1), t0).unwrap();
        }
        let wait = l.check(ip(1), t0).unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10), "{wait:?}");
        // Other clients have their own buckets.
        l.check(ip(2), t0).unwrap();
        l.check(ip(1), t0 + Duration::from_secs(10)).unwrap();
        assert!(l.check(ip(1), t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn peeking_takes_nothing() {
        let l = RateLimiter::new(RateLimitConfig { burst: 1, refill_every: Duration::from_secs(60) }, 4);
        let t0 = Instant::now();
        for _ in 0..5 {
            l.peek(ip(1), t0).unwrap();
        }
        l.check(ip(1), t0).unwrap();
        assert!(l.peek(ip(1), t0).is_err());
        l.peek(ip(1), t0 + Duration::from_secs(60)).unwrap();
    }

    #[test]
    fn table_stays_bounded() {
        let l = RateLimiter::new(RateLimitConfig { burst: 2, refill_every: Duration::from_secs(600) }, 100);
        let t0 = Instant::now();
        for n in 0..10_000 {
            let _ = l.check(ip(n), t0 + Duration::from_millis(u64::from(n)));
            assert!(l.len() <= 100);
        }
        // The newest clients are still tracked.
        l.check(ip(9_999), t0 + Duration::from_secs(20)).unwrap();
        assert!(l.check(ip(9_999), t0 + Duration::from_secs(20)).is_err());
    }

    #[test]
    fn a_stream_of_new_clients_makes_room_in_batches_keeping_the_recent() {
        // Every client still limited (600 s to refill): nothing can simply be forgotten.
        let l = RateLimiter::new(RateLimitConfig { burst: 2, refill_every: Duration::from_secs(600) }, 800);
        let t0 = Instant::now();
        let at = |n: u32| t0 + Duration::from_millis(u64::from(n));
        for n in 0..800 {
            l.check(ip(n), at(n)).unwrap();
        }
        assert_eq!(l.len(), 800);
        // The 801st makes room for 100: the 100 least recently seen go, the rest stay limited.
        l.check(ip(800), at(800)).unwrap();
        assert_eq!(l.len(), 701);
        l.check(ip(100), at(801)).unwrap();
        assert!(l.check(ip(100), at(801)).is_err(), "the 101st oldest is still tracked");
        // The next 99 new clients fit without another pass.
        for n in 801..900 {
            l.check(ip(n), at(n + 1)).unwrap();
        }
        assert_eq!(l.len(), 800);
    }
}
