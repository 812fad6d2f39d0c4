//! Kenyan mobile numbers (MSISDN) as M-Pesa takes them.

use std::fmt;
use std::str::FromStr;

/// A Kenyan mobile number, canonical `2547XXXXXXXX` or `2541XXXXXXXX`.
///
/// `Display` and `Debug` are masked (`2547****5678`) so the number never reaches a log
/// by accident; `as_str` gives the full number for M-Pesa and storage.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsisdnError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number may only hold digits, spaces and a leading '+'")]
    BadChar,
    #[error("phone number has the wrong number of digits ({0}): use 07XXXXXXXX, 01XXXXXXXX or 2547XXXXXXXX")]
    Length(usize),
    #[error("not a Kenyan mobile number: it must start 07, 01, 2547 or 2541")]
    Prefix,
}

impl Msisdn {
    /// The full canonical number, e.g. `254712345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `2547****5678`: the only form that may appear in logs.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..4], &self.0[8..])
    }
}

impl FromStr for Msisdn {
    type Err = MsisdnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MsisdnError::Empty);
        }
        let (plus, rest) = match s.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let mut digits = String::with_capacity(12);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' => {}
                _ => return Err(MsisdnError::BadChar),
            }
        }
        let national = match digits.len() {
            10 if !plus => digits.strip_prefix('0').ok_or(MsisdnError::Prefix)?,
            12 => digits.strip_prefix("254").ok_or(MsisdnError::Prefix)?,
            n => return Err(MsisdnError::Length(n)),
        };
        // Safaricom, Airtel and Telkom mobile ranges: 7XX and 1XX.
        if !(national.starts_with('7') || national.starts_with('1')) {
            return Err(MsisdnError::Prefix);
        }
        Ok(Msisdn(format!("254{national}")))
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn({})", self.masked())
    }
}

impl serde::Serialize for Msisdn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Msisdn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let cases = [
            ("0712345678", "254712345678"),
            ("0112345678", "254112345678"),
            ("+254712345678", "254712345678"),
            ("254712345678", "254712345678"),
            ("0712 345 678", "254712345678"),
            ("+254 712 345 678", "254712345678"),
            (" 254 112 345 678 ", "254112345678"),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<Msisdn>().unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn rejections() {
        let cases: &[(&str, MsisdnError)] = &[
            ("", MsisdnError::Empty),
            ("   ", MsisdnError::Empty),
            ("0812345678", MsisdnError::Prefix),
            ("0212345678", MsisdnError::Prefix),
            ("255712345678", MsisdnError::Prefix),
            ("+0712345678", MsisdnError::Length(10)),
            ("071234567", MsisdnError::Length(9)),
            ("07123456789", MsisdnError::Length(11)),
            ("712345678", MsisdnError::Length(9)),
            ("2547123456789", MsisdnError::Length(13)),
            ("0712-345-678", MsisdnError::BadChar),
            ("07l2345678", MsisdnError::BadChar),
            ("+25471234567+", MsisdnError::BadChar),
            ("٠٧١٢٣٤٥٦٧٨", MsisdnError::BadChar),
        ];
        for (input, err) in cases {
            assert_eq!(input.parse::<Msisdn>().unwrap_err(), *err, "{input:?}");
        }
    }

    #[test]
    fn masked_everywhere_but_as_str() {
        let m: Msisdn = "0712345678".parse().unwrap();
        assert_eq!(m.masked(), "2547****5678");
        assert_eq!(m.to_string(), "2547****5678");
        assert_eq!(format!("{m:?}"), "Msisdn(2547****5678)");
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"254712345678\"");
    }
}
