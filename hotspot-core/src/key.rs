//! Per-router signing keys.

use std::fmt;
use std::str::FromStr;

/// A router's 256-bit HMAC key. Never printed: `Debug` and `Display` are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RouterKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("router signing key must be 64 hex digits (32 bytes); got {0} characters")]
    Length(usize),
    #[error("router signing key must be hex digits only")]
    NotHex,
}

impl RouterKey {
    pub fn generate() -> Self {
        RouterKey(rand::random())
    }

    pub fn from_bytes(b: [u8; 32]) -> Self {
        RouterKey(b)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The hex form, for provisioning only.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for RouterKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(KeyError::Length(s.len()));
        }
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b).map_err(|_| KeyError::NotHex)?;
        Ok(RouterKey(b))
    }
}

impl fmt::Debug for RouterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RouterKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_redact() {
        let k = RouterKey::generate();
        let back: RouterKey = k.to_hex().parse().unwrap();
        assert_eq!(back, k);
        assert_eq!(format!("{k:?}"), "RouterKey(<redacted>)");
        assert_eq!("abc".parse::<RouterKey>().unwrap_err(), KeyError::Length(3));
        assert_eq!("zz".repeat(32).parse::<RouterKey>().unwrap_err(), KeyError::NotHex);
    }
}
