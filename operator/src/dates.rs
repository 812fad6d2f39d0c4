//! Dates as operators type them: `hotspot_core::dates`, shared with the dashboard.

pub use hotspot_core::dates::{Day, UtcOffset, minute};

use std::str::FromStr;

/// When the time paid at the counter ends, as typed: a day, or Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Day(Day),
    Unix(i64),
}

impl FromStr for Until {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().map(Until::Unix).map_err(|_| format!("{s:?} is not a Unix time"));
        }
        s.parse::<Day>().map(Until::Day).map_err(|e| format!("{e} (or give Unix seconds)"))
    }
}

impl Until {
    pub fn at(self, offset: UtcOffset) -> i64 {
        match self {
            Until::Day(d) => d.end(offset),
            Until::Unix(t) => t,
        }
    }
}
