//! Rate limits as RouterOS writes them (`2M/5M`).

use std::fmt;
use std::str::FromStr;

/// A bit rate in bits per second; RouterOS suffixes `k`, `M`, `G` are powers of 1000.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rate(u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("rate {0:?} is not a number with an optional k, M or G suffix")]
    Syntax(String),
    #[error("rate limit {0:?} must be rx/tx, e.g. 2M/5M")]
    Shape(String),
    #[error("rate must be at most 100G")]
    TooLarge,
    #[error("rate must be above zero (omit the limit instead)")]
    Zero,
}

impl Rate {
    pub const MAX_BPS: u64 = 100_000_000_000;

    pub fn from_bps(bps: u64) -> Result<Self, RateError> {
        match bps {
            0 => Err(RateError::Zero),
            b if b > Self::MAX_BPS => Err(RateError::TooLarge),
            b => Ok(Rate(b)),
        }
    }

    pub fn bps(self) -> u64 {
        self.0
    }
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let syntax = || RateError::Syntax(s.to_string());
        let (num, mul) = match t.char_indices().last() {
            Some((i, 'k')) | Some((i, 'K')) => (&t[..i], 1_000),
            Some((i, 'M')) => (&t[..i], 1_000_000),
            Some((i, 'G')) => (&t[..i], 1_000_000_000),
            Some(_) => (t, 1),
            None => return Err(syntax()),
        };
        if num.is_empty() || num.len() > 12 || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let v: u64 = num.parse().map_err(|_| syntax())?;
        Rate::from_bps(v.checked_mul(mul).ok_or(RateError::TooLarge)?)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)] {
            if self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rate({self})")
    }
}

/// `rx/tx` from the router's point of view, as in a hotspot user profile's `rate-limit`:
/// rx is the guest's upload, tx the guest's download.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    pub rx: Rate,
    pub tx: Rate,
}

impl FromStr for RateLimit {
    type Err = RateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (rx, tx) = match t.split_once('/') {
            Some((a, b)) if !b.contains('/') && !b.contains(' ') && !a.contains(' ') => (a, b),
            // A single value limits both directions, as RouterOS reads it.
            None if !t.contains(' ') && !t.is_empty() => (t, t),
            _ => return Err(RateError::Shape(s.to_string())),
        };
        Ok(RateLimit { rx: rx.parse()?, tx: tx.parse()? })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.rx, self.tx)
    }
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RateLimit({self})")
    }
}

crate::serde_str::serde_via_str!(Rate);
crate::serde_str::serde_via_str!(RateLimit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let rl: RateLimit = "2M/5M".parse().unwrap();
        assert_eq!((rl.rx.bps(), rl.tx.bps()), (2_000_000, 5_000_000));
        assert_eq!(rl.to_string(), "2M/5M");
        assert_eq!("512k/1M".parse::<RateLimit>().unwrap().to_string(), "512k/1M");
        assert_eq!("1000000/2500000".parse::<RateLimit>().unwrap().to_string(), "1M/2500k");
        assert_eq!("10M".parse::<RateLimit>().unwrap().to_string(), "10M/10M");
        assert_eq!("1500".parse::<Rate>().unwrap().to_string(), "1500");
    }

    #[test]
    fn rejections() {
        assert_eq!("".parse::<RateLimit>().unwrap_err(), RateError::Shape("".into()));
        assert_eq!("1M/2M/3M".parse::<RateLimit>().unwrap_err(), RateError::Shape("1M/2M/3M".into()));
        assert_eq!("1M/2M 4M/8M".parse::<RateLimit>().unwrap_err(), RateError::Shape("1M/2M 4M/8M".into()));
        assert_eq!("2X/5M".parse::<RateLimit>().unwrap_err(), RateError::Syntax("2X".into()));
        assert_eq!("0/5M".parse::<RateLimit>().unwrap_err(), RateError::Zero);
        assert_eq!("101G/5M".parse::<RateLimit>().unwrap_err(), RateError::TooLarge);
        assert_eq!("M/5M".parse::<RateLimit>().unwrap_err(), RateError::Syntax("M".into()));
    }
}
