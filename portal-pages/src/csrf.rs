//! CSRF tokens: `issued_at.hex(HMAC-SHA256(key, bound || issued_at))`. The agent binds them to
//! the client's IP with a per-process random key (a restart only costs a guest one reload); the
//! cloud portal to the device's MAC with a key derived from the router's. Either way a token read
//! on one device is useless from another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a rendered form stays usable.
pub const TOKEN_LIFETIME_SECS: i64 = 3600;
/// Tolerance for a clock step backwards between issuing and checking.
const FUTURE_SKEW_SECS: i64 = 60;
const MAX_TOKEN_LEN: usize = 96;

pub struct CsrfKey([u8; 32]);

impl CsrfKey {
    pub fn random() -> Self {
        CsrfKey(rand::random())
    }

    /// A key of its own from a longer-lived secret (the router's key), so the cloud portal's
    /// tokens survive across invocations and cannot be made without it.
    pub fn derive(secret: &[u8]) -> Self {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
        m.update(b"portal-csrf-key/v1");
        CsrfKey(m.finalize().into_bytes().into())
    }

    fn mac(&self, bound: &[u8], issued_at: i64) -> Hmac<Sha256> {
        // HMAC accepts a key of any length.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        m.update(b"portal-csrf\0");
        m.update(&(bound.len() as u64).to_be_bytes());
        m.update(bound);
        m.update(&issued_at.to_be_bytes());
        m
    }

    pub fn issue(&self, bound: &[u8], now: i64) -> String {
        format!("{now}.{}", hex::encode(self.mac(bound, now).finalize().into_bytes()))
    }

    /// True only for a token this key issued for `bound` within the last hour.
    pub fn verify(&self, token: &str, bound: &[u8], now: i64) -> bool {
        if token.len() > MAX_TOKEN_LEN {
            return false;
        }
        let Some((t, sig)) = token.split_once('.') else {
            return false;
        };
        if t.is_empty() || t.len() > 19 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let Ok(issued_at) = t.parse::<i64>() else {
            return false;
        };
        let age = now.saturating_sub(issued_at);
        if !(-FUTURE_SKEW_SECS..=TOKEN_LIFETIME_SECS).contains(&age) {
            return false;
        }
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        // Constant-time comparison, so the signature cannot be guessed byte by byte.
        self.mac(bound, issued_at).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: &[u8] = &[10, 5, 50, 7];

    #[test]
    fn round_trip_within_lifetime() {
        let k = CsrfKey::random();
        let t = k.issue(IP, 1_000_000);
        assert!(k.verify(&t, IP, 1_000_000));
        assert!(k.verify(&t, IP, 1_000_000 + TOKEN_LIFETIME_SECS));
        assert!(!k.verify(&t, IP, 1_000_000 + TOKEN_LIFETIME_SECS + 1));
        assert!(!k.verify(&t, IP, 1_000_000 - FUTURE_SKEW_SECS - 1));
    }

    #[test]
    fn bound_to_ip_key_and_time() {
        let k = CsrfKey::random();
        let t = k.issue(IP, 1_000_000);
        assert!(!k.verify(&t, &[10, 5, 50, 8], 1_000_000));
        assert!(!k.verify(&t, &[10, 5, 50], 1_000_000));
        assert!(!CsrfKey::random().verify(&t, IP, 1_000_000));
        let d = CsrfKey::derive(&[7; 32]);
        assert!(d.verify(&d.issue(IP, 5), IP, 5) && CsrfKey::derive(&[7; 32]).verify(&d.issue(IP, 5), IP, 5));
        assert!(!CsrfKey::derive(&[8; 32]).verify(&d.issue(IP, 5), IP, 5));
        let (_, sig) = t.split_once('.').unwrap();
        assert!(!k.verify(&format!("1000001.{sig}"), IP, 1_000_001));
    }

    #[test]
    fn garbage_is_refused() {
        let k = CsrfKey::random();
        for bad in ["", ".", "1.", ".ab", "abc.def", "-5.00", "99999999999999999999.00", "1.zz", &"1".repeat(200)] {
            assert!(!k.verify(bad, IP, 1_000_000), "{bad:?}");
        }
    }
}
