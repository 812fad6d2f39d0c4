//! WireGuard keys: 32 bytes, written as 44 characters of standard base64 (`wg genkey`'s form,
//! and RouterOS's `public-key` / `private-key` / `preshared-key`).

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A WireGuard key (public, private or preshared): any 32 bytes. Debug shows only the first
/// characters, so a private key in a log line is never whole.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WgKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WgKeyError {
    #[error("a WireGuard key is 44 characters of base64 (got {0})")]
    Length(usize),
    #[error("a WireGuard key is base64 of 32 bytes")]
    NotBase64,
}

impl WgKey {
    pub fn from_bytes(b: [u8; 32]) -> WgKey {
        WgKey(b)
    }

    pub fn bytes(&self) -> [u8; 32] {
        self.0
    }
}

impl FromStr for WgKey {
    type Err = WgKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 44 {
            return Err(WgKeyError::Length(s.chars().count()));
        }
        let raw = STANDARD.decode(s).map_err(|_| WgKeyError::NotBase64)?;
        let b: [u8; 32] = raw.try_into().map_err(|_| WgKeyError::NotBase64)?;
        Ok(WgKey(b))
    }
}

impl fmt::Display for WgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&STANDARD.encode(self.0))
    }
}

impl fmt::Debug for WgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WgKey({}…)", &STANDARD.encode(self.0)[..6])
    }
}

crate::serde_str::serde_via_str!(WgKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_wg_genkey_form() {
        // The WireGuard whitepaper's test vector form: 32 bytes, base64 with one '='.
        let k: WgKey = "YFAnE0psgIdiAF7XR4abxiwVRnlMfeltxu4Kd2kVuVc=".parse().unwrap();
        assert_eq!(k.to_string(), "YFAnE0psgIdiAF7XR4abxiwVRnlMfeltxu4Kd2kVuVc=");
        assert_eq!(format!("{k:?}"), "WgKey(YFAnE0…)");
        for bad in
            ["", "abc", "YFAnE0psgIdiAF7XR4abxiwVRnlMfeltxu4Kd2kVuV!=", "YFAnE0psgIdiAF7XR4abxiwVRnlMfeltxu4Kd2kVuVc"]
        {
            assert!(bad.parse::<WgKey>().is_err(), "{bad}");
        }
    }
}
