//! When the expirer looks next.

use std::time::Duration;

/// Longest rest between checks, so a clock step or a missed wake costs at most this.
pub const MAX_REST: Duration = Duration::from_secs(30);
/// Rest after RouterOS did not answer.
pub const RETRY: Duration = Duration::from_secs(2);

/// Until the next expiry, at most `MAX_REST`; at once if it is already due.
pub fn rest_until(next_expiry: Option<i64>, now: i64) -> Duration {
    match next_expiry {
        Some(at) => Duration::from_secs((at - now).clamp(0, MAX_REST.as_secs() as i64) as u64),
        None => MAX_REST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rests_until_the_next_expiry_within_bounds() {
        assert_eq!(rest_until(None, 100), MAX_REST);
        assert_eq!(rest_until(Some(105), 100), Duration::from_secs(5));
        assert_eq!(rest_until(Some(90), 100), Duration::ZERO, "overdue: at once");
        assert_eq!(rest_until(Some(100 + 3_600), 100), MAX_REST);
    }
}
