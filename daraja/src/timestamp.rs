//! The STK `Timestamp` (East Africa Time) and the `Password` derived from it.

use std::fmt;

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
        let (y, m, d) = hotspot_core::calendar::civil_from_days(days);
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

/// The one clock (`hotspot_core::clock`).
pub(crate) use hotspot_core::clock::now_unix as unix_now;

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
