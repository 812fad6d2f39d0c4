//! Voucher codes a guest types from a printed slip.

use std::fmt;
use std::str::FromStr;

/// Digits and capitals without the look-alikes 0/O, 1/I/L: 31 symbols.
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A voucher code: 6-16 symbols of [`ALPHABET`], stored upper-case without separators.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VoucherCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherError {
    #[error("voucher code must be 6 to 16 characters (got {0})")]
    Length(usize),
    #[error("voucher codes never contain {0:?}: check the slip (0/O, 1/I/L are not used)")]
    Ambiguous(char),
    #[error("voucher code has a character that is not a letter or digit: {0:?}")]
    BadChar(char),
}

impl VoucherCode {
    pub const DEFAULT_LEN: usize = 8;
    /// The shortest code generated: 31^8 ≈ 8.5e11 codes, against a guesser held to a per-address
    /// limit. Shorter codes are still read (slips printed before), never made.
    pub const MIN_GENERATED_LEN: usize = 8;
    pub const MAX_LEN: usize = 16;

    pub fn generate(len: usize) -> Self {
        use rand::Rng;
        let len = len.clamp(Self::MIN_GENERATED_LEN, Self::MAX_LEN);
        let mut rng = rand::rng();
        let s: String = (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        VoucherCode(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The re-login code of a purchase, sent in its SMS receipt: a guest whose device changed its
    /// MAC types it on the portal's code form. Derived from the router's key, so the cloud and the
    /// agent agree on it with nothing on the wire or in the journal, and no other router's key
    /// (nor anyone without one) can produce it.
    pub fn relogin(key: &crate::RouterKey, purchase: &crate::PurchaseId) -> Self {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        mac.update(b"hotspot relogin v1\0");
        mac.update(purchase.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        // 8 symbols: 31^8 ≈ 8.5e11 codes against a handful of live grants and a rate-limited form.
        let s: String = digest.iter().take(8).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
        VoucherCode(s)
    }

    /// For logs: the first two characters only (`AB******`). The container's log is the router's
    /// log, which anyone with `read` policy can see; a whole code there is a free hour of WiFi.
    pub fn masked(&self) -> String {
        let shown: String = self.0.chars().take(2).collect();
        format!("{shown}{}", "*".repeat(self.0.len().saturating_sub(2)))
    }

    /// Grouped in fours for printing: `ABCD-EFGH`.
    pub fn grouped(&self) -> String {
        let chunks: Vec<String> =
            self.0.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        chunks.join("-")
    }
}

impl FromStr for VoucherCode {
    type Err = VoucherError;

    /// Accepts what a guest types: any case, with spaces or dashes between groups.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = String::with_capacity(16);
        for c in s.chars() {
            if c == ' ' || c == '-' {
                continue;
            }
            let u = c.to_ascii_uppercase();
            if ALPHABET.contains(&(u as u32 as u8)) && u.is_ascii() {
                out.push(u);
            } else if matches!(u, '0' | 'O' | '1' | 'I' | 'L') {
                return Err(VoucherError::Ambiguous(c));
            } else {
                return Err(VoucherError::BadChar(c));
            }
            if out.len() > 16 {
                break;
            }
        }
        if !(6..=16).contains(&out.len()) {
            return Err(VoucherError::Length(out.len()));
        }
        Ok(VoucherCode(out))
    }
}

impl fmt::Display for VoucherCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for VoucherCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VoucherCode({})", self.0)
    }
}

crate::serde_str::serde_via_str!(VoucherCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_forms() {
        assert_eq!("abcd-efgh".parse::<VoucherCode>().unwrap().as_str(), "ABCDEFGH");
        assert_eq!("ABCD EFGH".parse::<VoucherCode>().unwrap().grouped(), "ABCD-EFGH");
        assert_eq!("2345679".parse::<VoucherCode>().unwrap().grouped(), "2345-679");
    }

    #[test]
    fn relogin_codes_are_per_router_and_purchase() {
        let key = crate::RouterKey::from_bytes(std::array::from_fn(|i| i as u8));
        let id: crate::PurchaseId = "p0123456789abcdef01234567".parse().unwrap();
        // Pinned against Python's hmac (HMAC-SHA256 over "hotspot relogin v1\0" + id, bytes mod 31).
        assert_eq!(VoucherCode::relogin(&key, &id).as_str(), "97UCRFCG");
        let other: crate::PurchaseId = "p0123456789abcdef01234568".parse().unwrap();
        assert_ne!(VoucherCode::relogin(&key, &id), VoucherCode::relogin(&key, &other));
        let other_key = crate::RouterKey::from_bytes([7; 32]);
        assert_ne!(VoucherCode::relogin(&key, &id), VoucherCode::relogin(&other_key, &id));
        // What the guest types back parses to the same code.
        let typed = VoucherCode::relogin(&key, &id).grouped().to_lowercase();
        assert_eq!(typed.parse::<VoucherCode>().unwrap(), VoucherCode::relogin(&key, &id));
    }

    #[test]
    fn rejections() {
        assert_eq!("ABCDE0GH".parse::<VoucherCode>().unwrap_err(), VoucherError::Ambiguous('0'));
        assert_eq!("abcdeogh".parse::<VoucherCode>().unwrap_err(), VoucherError::Ambiguous('o'));
        assert_eq!("ABCDEIGH".parse::<VoucherCode>().unwrap_err(), VoucherError::Ambiguous('I'));
        assert_eq!("ABCDElGH".parse::<VoucherCode>().unwrap_err(), VoucherError::Ambiguous('l'));
        assert_eq!("ABCD1FGH".parse::<VoucherCode>().unwrap_err(), VoucherError::Ambiguous('1'));
        assert_eq!("ABCD_FGH".parse::<VoucherCode>().unwrap_err(), VoucherError::BadChar('_'));
        assert_eq!("ABCDÉFGH".parse::<VoucherCode>().unwrap_err(), VoucherError::BadChar('É'));
        assert_eq!("ABC".parse::<VoucherCode>().unwrap_err(), VoucherError::Length(3));
        assert_eq!("A".repeat(40).parse::<VoucherCode>().unwrap_err(), VoucherError::Length(17));
    }

    #[test]
    fn a_masked_code_shows_two_characters() {
        let c: VoucherCode = "ABCD2345".parse().unwrap();
        assert_eq!(c.masked(), "AB******");
        assert!(!c.masked().contains("CD2345"));
    }

    #[test]
    fn generated_codes_use_the_alphabet() {
        for _ in 0..200 {
            let c = VoucherCode::generate(VoucherCode::DEFAULT_LEN);
            assert_eq!(c.as_str().len(), 8);
            assert_eq!(c.as_str().parse::<VoucherCode>().unwrap(), c);
        }
    }
}
