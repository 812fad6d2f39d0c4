//! The one wall clock: every "now" in agent, functions and CLI comes from here, and every
//! decision takes it as an argument, so tests pass any time they like.

/// Unix seconds now; 0 if the clock reads before 1970 (a router without a battery, before NTP).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
