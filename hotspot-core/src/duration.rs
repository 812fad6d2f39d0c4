//! RouterOS durations as RouterOS prints and accepts them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A whole-second duration in RouterOS notation.
///
/// Parses `1w2d3h4m5s`, `30m`, `00:30:00`, `1d00:00:00`, `1w2d03:04:05` and bare seconds
/// (`3600`); prints the compact form RouterOS 7 prints (`1w2d3h4m5s`, zero as `0s`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RosDuration(u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("duration is empty")]
    Empty,
    #[error("duration {0:?} is not RouterOS notation (e.g. 1w2d3h4m5s, 30m, 00:30:00, 1d00:00:00)")]
    Syntax(String),
    #[error("duration {0:?} has units out of order or repeated (write w, d, h, m, s in that order)")]
    Order(String),
    #[error("minutes and seconds in {0:?} must be below 60")]
    ClockRange(String),
    #[error("duration is longer than RouterOS accepts")]
    TooLong,
}

impl RosDuration {
    /// RouterOS refuses durations past this (about 136 years, u32 seconds).
    pub const MAX_SECS: u64 = u32::MAX as u64;
    pub const ZERO: RosDuration = RosDuration(0);

    pub fn from_secs(s: u64) -> Result<Self, DurationError> {
        if s > Self::MAX_SECS {
            return Err(DurationError::TooLong);
        }
        Ok(RosDuration(s))
    }

    pub fn secs(self) -> u64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn to_std(self) -> Duration {
        Duration::from_secs(self.0)
    }
}

fn unit_secs(u: char) -> Option<(u8, u64)> {
    match u {
        'w' => Some((0, 604_800)),
        'd' => Some((1, 86_400)),
        'h' => Some((2, 3_600)),
        'm' => Some((3, 60)),
        's' => Some((4, 1)),
        _ => None,
    }
}

impl FromStr for RosDuration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        if s.is_empty() {
            return Err(DurationError::Empty);
        }
        let syntax = || DurationError::Syntax(input.to_string());
        if s.bytes().all(|b| b.is_ascii_digit()) {
            let v: u64 = s.parse().map_err(|_| DurationError::TooLong)?;
            return RosDuration::from_secs(v);
        }
        let mut total: u64 = 0;
        let mut rest = s;
        let mut last_rank: i16 = -1;
        let add = |total: u64, v: u64, mul: u64| -> Result<u64, DurationError> {
            v.checked_mul(mul).and_then(|x| x.checked_add(total)).ok_or(DurationError::TooLong)
        };
        while !rest.is_empty() {
            let n = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return Err(syntax());
            }
            let (num, tail) = rest.split_at(n);
            if n > 12 {
                return Err(DurationError::TooLong);
            }
            let v: u64 = num.parse().map_err(|_| syntax())?;
            let Some(c) = tail.chars().next() else {
                return Err(syntax());
            };
            if c == ':' {
                // HH:MM:SS ends the string; only weeks and days may come before it.
                if last_rank > 1 {
                    return Err(DurationError::Order(input.to_string()));
                }
                let parts: Vec<&str> = rest.split(':').collect();
                if parts.len() != 3
                    || parts.iter().any(|p| p.is_empty() || p.len() > 12 || !p.bytes().all(|b| b.is_ascii_digit()))
                    || parts[1].len() != 2
                    || parts[2].len() != 2
                {
                    return Err(syntax());
                }
                let h: u64 = parts[0].parse().map_err(|_| syntax())?;
                let m: u64 = parts[1].parse().map_err(|_| syntax())?;
                let sec: u64 = parts[2].parse().map_err(|_| syntax())?;
                if m >= 60 || sec >= 60 {
                    return Err(DurationError::ClockRange(input.to_string()));
                }
                total = add(total, h, 3600)?;
                total = add(total, m * 60 + sec, 1)?;
                return RosDuration::from_secs(total);
            }
            let (rank, mul) = unit_secs(c).ok_or_else(syntax)?;
            if (rank as i16) <= last_rank {
                return Err(DurationError::Order(input.to_string()));
            }
            last_rank = rank as i16;
            total = add(total, v, mul)?;
            rest = &tail[1..];
        }
        RosDuration::from_secs(total)
    }
}

impl fmt::Display for RosDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut left = self.0;
        for (unit, size) in [('w', 604_800), ('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
            let n = left / size;
            left %= size;
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for RosDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RosDuration({self})")
    }
}

crate::serde_str::serde_via_str!(RosDuration);

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> u64 {
        s.parse::<RosDuration>().unwrap().secs()
    }

    #[test]
    fn table() {
        let cases = [
            ("1w2d3h4m5s", 604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
            ("30m", 1800),
            ("00:30:00", 1800),
            ("1d00:00:00", 86_400),
            ("1w2d03:04:05", 604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
            ("1h", 3600),
            ("24h", 86_400),
            ("7d", 604_800),
            ("90s", 90),
            ("0s", 0),
            ("3600", 3600),
            ("100:00:00", 360_000),
        ];
        for (s, secs) in cases {
            assert_eq!(d(s), secs, "{s}");
        }
    }

    #[test]
    fn prints_like_routeros() {
        let cases = [
            (0, "0s"),
            (1800, "30m"),
            (86_400, "1d"),
            (694_445, "1w1d54m5s"),
            (698_045, "1w1d1h54m5s"),
            (3661, "1h1m1s"),
            (604_800, "1w"),
        ];
        for (secs, s) in cases {
            assert_eq!(RosDuration::from_secs(secs).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejections() {
        let cases: &[(&str, DurationError)] = &[
            ("", DurationError::Empty),
            ("1x", DurationError::Syntax("1x".into())),
            ("h", DurationError::Syntax("h".into())),
            ("1h1", DurationError::Syntax("1h1".into())),
            ("-1h", DurationError::Syntax("-1h".into())),
            ("1m1h", DurationError::Order("1m1h".into())),
            ("1h1h", DurationError::Order("1h1h".into())),
            ("1h00:00:00", DurationError::Order("1h00:00:00".into())),
            ("00:60:00", DurationError::ClockRange("00:60:00".into())),
            ("00:00:61", DurationError::ClockRange("00:00:61".into())),
            ("00:3:00", DurationError::Syntax("00:3:00".into())),
            ("1:2", DurationError::Syntax("1:2".into())),
            ("1.5h", DurationError::Syntax("1.5h".into())),
            ("99999999999999999999w", DurationError::TooLong),
            ("10000000w", DurationError::TooLong),
        ];
        for (s, e) in cases {
            assert_eq!(s.parse::<RosDuration>().unwrap_err(), *e, "{s:?}");
        }
    }
}
