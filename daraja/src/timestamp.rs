//! The STK `Timestamp` (East Africa Time) and the `Password` derived from it.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// East Africa Time is a fixed UTC+3 with no daylight saving, so no tz database is needed.
const EAT_OFFSET_SECS: i64 = 3 * 3600;

/// A Daraja timestamp, `YYYYMMDDHHmmss` in East Africa Time.
///
/// Compute it once per request and use the same value for `Timestamp` and for
/// [`password`]: Daraja rejects a pair that does not match ("Wrong credentials").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp(String);

impl Timestamp {
    /// The timestamp for a moment given as seconds since the Unix epoch (UTC).
    pub fn from_unix(secs: i64) -> Self {
        let local = secs + EAT_OFFSET_SECS;
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Timestamp(format!("{y:04}{m:02}{d:02}{:02}{:02}{:02}", sod / 3600, (sod % 3600) / 60, sod % 60))
    }

    /// The timestamp for now.
    pub fn now() -> Self {
        Self::from_unix(unix_now())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Password` = base64(BusinessShortCode + Passkey + Timestamp), as Daraja documents it.
pub fn password(shortcode: &str, passkey: &str, timestamp: &Timestamp) -> String {
    STANDARD.encode(format!("{shortcode}{passkey}{}", timestamp.as_str()))
}

/// Seconds since the Unix epoch; a clock before 1970 counts as 0.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day): Howard Hinnant's
/// `civil_from_days`, exact for every day in range.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eat_is_utc_plus_three() {
        // 2024-01-01T09:00:00Z is noon in Nairobi (checked with `TZ=Africa/Nairobi date`).
        assert_eq!(Timestamp::from_unix(1_704_099_600).as_str(), "20240101120000");
        // Crossing midnight and a leap day: 2000-02-29T23:59:59Z is 02:59:59 on 1 March in Nairobi.
        assert_eq!(Timestamp::from_unix(951_868_799).as_str(), "20000301025959");
        assert_eq!(Timestamp::from_unix(0).as_str(), "19700101030000");
        // 2024-02-29T20:59:59Z is the last second of the leap day in Nairobi.
        assert_eq!(Timestamp::from_unix(1_709_240_399).as_str(), "20240229235959");
    }

    #[test]
    fn now_has_fourteen_digits() {
        let t = Timestamp::now();
        assert_eq!(t.as_str().len(), 14);
        assert!(t.as_str().bytes().all(|b| b.is_ascii_digit()));
    }
}
