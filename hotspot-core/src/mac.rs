//! MAC addresses of guest devices.

use std::fmt;
use std::str::FromStr;

/// A unicast Ethernet MAC address. Canonical form: `AA:BB:CC:DD:EE:FF`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr([u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    #[error("MAC address must be 12 hex digits, optionally grouped by ':' or '-' (got {0} characters)")]
    Length(usize),
    #[error("MAC address has a character that is not a hex digit or separator: {0:?}")]
    BadChar(char),
    #[error("MAC address separators must be all ':' or all '-' between each pair of digits")]
    BadGrouping,
    #[error("{0} is a multicast/broadcast address, not a device")]
    Multicast(String),
    #[error("00:00:00:00:00:00 is not a device address")]
    Zero,
}

impl MacAddr {
    pub fn from_bytes(b: [u8; 6]) -> Result<Self, MacError> {
        if b == [0; 6] {
            return Err(MacError::Zero);
        }
        let m = MacAddr(b);
        if b[0] & 0x01 != 0 {
            return Err(MacError::Multicast(m.to_string()));
        }
        Ok(m)
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// True for a locally administered address: what phones use when they
    /// randomise their MAC per network (iOS 14+, Android 10+).
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// Lower-case, no separators: safe inside RouterOS names and DynamoDB keys.
    pub fn compact(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for MacAddr {
    type Err = MacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let hex: String = match s.len() {
            12 => s.to_string(),
            17 => {
                let sep = s.as_bytes()[2];
                if sep != b':' && sep != b'-' {
                    return Err(MacError::BadGrouping);
                }
                let mut out = String::with_capacity(12);
                for (i, c) in s.chars().enumerate() {
                    if i % 3 == 2 {
                        if c as u32 != sep as u32 {
                            return Err(if c.is_ascii_hexdigit() || c == ':' || c == '-' {
                                MacError::BadGrouping
                            } else {
                                MacError::BadChar(c)
                            });
                        }
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            n => return Err(MacError::Length(n)),
        };
        let mut b = [0u8; 6];
        for (i, c) in hex.chars().enumerate() {
            let v = c.to_digit(16).ok_or(MacError::BadChar(c))? as u8;
            b[i / 2] = (b[i / 2] << 4) | v;
        }
        MacAddr::from_bytes(b)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

crate::serde_str::serde_via_str!(MacAddr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms_are_canonical() {
        for s in ["AA:BB:CC:DD:EE:FE", "aa-bb-cc-dd-ee-fe", "aabbccddeefe", " Aa:bB:cc:dd:EE:fe "] {
            assert_eq!(s.parse::<MacAddr>().unwrap().to_string(), "AA:BB:CC:DD:EE:FE", "{s}");
        }
    }

    #[test]
    fn rejections() {
        let cases: &[(&str, MacError)] = &[
            ("", MacError::Length(0)),
            ("AA:BB:CC:DD:EE", MacError::Length(14)),
            ("AABBCCDDEEFF00", MacError::Length(14)),
            ("AA:BB-CC:DD:EE:F0", MacError::BadGrouping),
            ("AA.BB.CC.DD.EE.F0", MacError::BadGrouping),
            ("GG:BB:CC:DD:EE:F0", MacError::BadChar('G')),
            ("aabbccddeefz", MacError::BadChar('z')),
            ("00:00:00:00:00:00", MacError::Zero),
            ("FF:FF:FF:FF:FF:FF", MacError::Multicast("FF:FF:FF:FF:FF:FF".into())),
            ("01:00:5E:00:00:01", MacError::Multicast("01:00:5E:00:00:01".into())),
        ];
        for (s, e) in cases {
            assert_eq!(s.parse::<MacAddr>().unwrap_err(), *e, "{s:?}");
        }
    }

    #[test]
    fn locally_administered() {
        assert!("DA:A1:19:00:00:01".parse::<MacAddr>().unwrap().is_locally_administered());
        assert!("02:00:00:00:00:01".parse::<MacAddr>().unwrap().is_locally_administered());
        assert!(!"00:1A:2B:3C:4D:5E".parse::<MacAddr>().unwrap().is_locally_administered());
        assert!(!"F0:18:98:00:00:01".parse::<MacAddr>().unwrap().is_locally_administered());
    }
}
