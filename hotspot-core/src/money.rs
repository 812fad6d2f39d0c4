//! Money: whole Kenya shillings, as M-Pesa Express takes them.

use std::fmt;
use std::str::FromStr;

/// An amount in whole Kenya shillings, 1 to 250,000: the M-Pesa Express per-transaction range.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Shillings(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must be at least KES 1")]
    TooSmall,
    #[error("amount must be at most KES 250,000 (the M-Pesa per-transaction limit)")]
    TooLarge,
    #[error("amount must be whole shillings, without cents")]
    Fraction,
    #[error("amount is not a number: {0:?}")]
    NotANumber(String),
}

impl Shillings {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 250_000;

    pub fn new(kes: u64) -> Result<Self, MoneyError> {
        if kes < Self::MIN as u64 {
            Err(MoneyError::TooSmall)
        } else if kes > Self::MAX as u64 {
            Err(MoneyError::TooLarge)
        } else {
            Ok(Shillings(kes as u32))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// From a JSON number as Daraja sends it: `1` or `1.00`. A fraction that is not zero is refused.
    pub fn from_f64(v: f64) -> Result<Self, MoneyError> {
        if !v.is_finite() {
            return Err(MoneyError::NotANumber(v.to_string()));
        }
        if v.fract() != 0.0 {
            return Err(MoneyError::Fraction);
        }
        if v < 1.0 {
            return Err(MoneyError::TooSmall);
        }
        if v > Self::MAX as f64 {
            return Err(MoneyError::TooLarge);
        }
        Shillings::new(v as u64)
    }
}

impl FromStr for Shillings {
    type Err = MoneyError;

    /// Accepts `50`, `50.00`, `KES 50`, `Ksh 1,000`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = ["KES", "Ksh", "KSh", "KSH", "kes", "ksh"].iter().find_map(|p| t.strip_prefix(p)).unwrap_or(t).trim();
        let t: String = t.chars().filter(|c| *c != ',').collect();
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (t.as_str(), None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::NotANumber(s.to_string()));
        }
        if let Some(f) = frac {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(MoneyError::NotANumber(s.to_string()));
            }
            if f.bytes().any(|b| b != b'0') {
                return Err(MoneyError::Fraction);
            }
        }
        let trimmed = whole.trim_start_matches('0');
        if trimmed.len() > 7 {
            return Err(MoneyError::TooLarge);
        }
        Shillings::new(trimmed.parse::<u64>().unwrap_or(0))
    }
}

/// `1234567` → `1,234,567`: whole units as people read them.
pub(crate) fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Shillings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KES {}", group_thousands(&self.0.to_string()))
    }
}

impl fmt::Debug for Shillings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shillings({})", self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Shillings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(d)?;
        Shillings::new(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let ok =
            [("1", 1), ("50", 50), ("KES 50", 50), ("Ksh 1,000", 1000), ("10.00", 10), ("250000", 250_000), ("007", 7)];
        for (s, v) in ok {
            assert_eq!(s.parse::<Shillings>().unwrap().get(), v, "{s}");
        }
        let bad: &[(&str, MoneyError)] = &[
            ("0", MoneyError::TooSmall),
            ("250001", MoneyError::TooLarge),
            ("99999999999999999999", MoneyError::TooLarge),
            ("10.50", MoneyError::Fraction),
            ("-5", MoneyError::NotANumber("-5".into())),
            ("", MoneyError::NotANumber("".into())),
            ("1e3", MoneyError::NotANumber("1e3".into())),
            ("10.", MoneyError::NotANumber("10.".into())),
        ];
        for (s, e) in bad {
            assert_eq!(s.parse::<Shillings>().unwrap_err(), *e, "{s:?}");
        }
    }

    #[test]
    fn from_json_numbers() {
        assert_eq!(Shillings::from_f64(1.0).unwrap().get(), 1);
        assert_eq!(Shillings::from_f64(1.5).unwrap_err(), MoneyError::Fraction);
        assert_eq!(Shillings::from_f64(0.0).unwrap_err(), MoneyError::TooSmall);
        assert_eq!(Shillings::from_f64(f64::NAN).unwrap_err(), MoneyError::NotANumber("NaN".into()));
        assert!(serde_json::from_str::<Shillings>("0").is_err());
        assert_eq!(serde_json::from_str::<Shillings>("250").unwrap().get(), 250);
    }

    #[test]
    fn display() {
        assert_eq!(Shillings::new(250_000).unwrap().to_string(), "KES 250,000");
        assert_eq!(Shillings::new(50).unwrap().to_string(), "KES 50");
        assert_eq!(Shillings::new(1000).unwrap().to_string(), "KES 1,000");
    }
}
