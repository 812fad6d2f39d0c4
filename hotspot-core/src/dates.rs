//! Dates as operators type them (`2026-05-31`, in `hotspotctl` and on the dashboard) and the
//! fixed UTC offset they are read in. Kenya keeps UTC+3 all year, the default.

use std::fmt;
use std::str::FromStr;

use crate::calendar::{civil_from_days, days_from_civil};

/// A fixed offset east of UTC, `+03:00` (whole minutes, within ±14 h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset(i64);

impl UtcOffset {
    pub const NAIROBI: UtcOffset = UtcOffset(3 * 3600);

    pub const fn secs(self) -> i64 {
        self.0
    }
}

impl FromStr for UtcOffset {
    type Err = String;
    fn from_str(v: &str) -> Result<Self, String> {
        let bad = || format!("UTC offset must look like +03:00 or -05:30; got {v:?}");
        let (sign, rest) = match v.as_bytes().first() {
            Some(b'+') => (1, &v[1..]),
            Some(b'-') => (-1, &v[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: i64 = h.parse().map_err(|_| bad())?;
        let m: i64 = m.parse().map_err(|_| bad())?;
        if h > 14 || m > 59 {
            return Err(bad());
        }
        Ok(UtcOffset(sign * (h * 3600 + m * 60)))
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let a = self.0.abs();
        write!(f, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
    }
}

/// A calendar day, `yyyy-mm-dd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    /// Days since 1970-01-01.
    days: i64,
}

impl Day {
    /// The first second of the day at `offset`.
    pub fn start(self, offset: UtcOffset) -> i64 {
        self.days * 86_400 - offset.secs()
    }

    /// The last second of the day at `offset`.
    pub fn end(self, offset: UtcOffset) -> i64 {
        self.start(offset) + 86_399
    }

    pub fn of(ts: i64, offset: UtcOffset) -> Day {
        Day { days: (ts + offset.secs()).div_euclid(86_400) }
    }

    pub fn add_days(self, n: i64) -> Day {
        Day { days: self.days + n }
    }

    /// Days from `self` to `later` (negative if `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        later.days - self.days
    }
}

impl FromStr for Day {
    type Err = String;
    fn from_str(v: &str) -> Result<Self, String> {
        let bad = || format!("a date must be yyyy-mm-dd, e.g. 2026-05-31; got {v:?}");
        let parts: Vec<&str> = v.split('-').collect();
        let [y, m, d] = parts.as_slice() else { return Err(bad()) };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let y: i64 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        let d: u32 = d.parse().map_err(|_| bad())?;
        if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
            return Err(bad());
        }
        let days = days_from_civil(y, m, d);
        // Refuses 2026-02-30 and the like: the day must round-trip.
        if civil_from_days(days) != (y, m, d) {
            return Err(format!("{v} is not a date in the calendar"));
        }
        Ok(Day { days })
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// `yyyy-mm-dd hh:mm` at an offset.
pub fn minute(ts: i64, offset: UtcOffset) -> String {
    crate::calendar::minute_string(ts, offset.secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!("+03:00".parse::<UtcOffset>().unwrap(), UtcOffset::NAIROBI);
        assert_eq!("-05:30".parse::<UtcOffset>().unwrap().secs(), -(5 * 3600 + 1800));
        assert_eq!(UtcOffset::NAIROBI.to_string(), "+03:00");
        for bad in ["03:00", "+3:00", "+15:00", "+03:60", "+03", "", "+0a:00"] {
            assert!(bad.parse::<UtcOffset>().is_err(), "{bad}");
        }
    }

    #[test]
    fn days_at_an_offset() {
        let d: Day = "2024-03-01".parse().unwrap();
        assert_eq!(d.to_string(), "2024-03-01");
        // Midnight in Nairobi is 21:00 UTC the day before.
        assert_eq!(d.start(UtcOffset::NAIROBI), days_from_civil(2024, 2, 29) * 86_400 + 21 * 3600);
        assert_eq!(d.end(UtcOffset::NAIROBI) - d.start(UtcOffset::NAIROBI), 86_399);
        assert_eq!(Day::of(d.start(UtcOffset::NAIROBI), UtcOffset::NAIROBI), d);
        assert_eq!(Day::of(d.start(UtcOffset::NAIROBI) - 1, UtcOffset::NAIROBI), d.add_days(-1));
        assert_eq!(d.add_days(-1).to_string(), "2024-02-29");
        assert_eq!(d.add_days(-1).days_until(d.add_days(30)), 31);
        for bad in ["2026-02-30", "2026-13-01", "2026-1-01", "26-01-01", "2026/01/01", "2026-01-00", "x"] {
            assert!(bad.parse::<Day>().is_err(), "{bad}");
        }
    }
}
