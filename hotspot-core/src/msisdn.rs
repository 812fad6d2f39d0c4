//! Kenyan mobile numbers (MSISDN), the only ones M-Pesa (Daraja) takes.

use std::fmt;
use std::str::FromStr;

use crate::phone::{Country, PhoneError, PhoneNumber};

/// A Kenyan mobile number: a [`PhoneNumber`] of Kenya, so Daraja's client cannot be handed
/// another country's. Canonical `2547XXXXXXXX` or `2541XXXXXXXX`; masked in `Display`/`Debug`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(PhoneNumber);

impl Msisdn {
    /// The full canonical number, e.g. `254712345678`, for Daraja.
    pub fn digits(&self) -> String {
        self.0.e164()
    }

    /// `2547****5678`: the only form that may appear in logs.
    pub fn masked(&self) -> String {
        self.0.masked()
    }

    pub fn phone(&self) -> &PhoneNumber {
        &self.0
    }
}

impl TryFrom<PhoneNumber> for Msisdn {
    type Error = PhoneError;

    fn try_from(p: PhoneNumber) -> Result<Self, PhoneError> {
        match p.country() {
            Country::Kenya => Ok(Msisdn(p)),
            got => Err(PhoneError::Abroad { want: Country::Kenya, got }),
        }
    }
}

impl From<Msisdn> for PhoneNumber {
    fn from(m: Msisdn) -> PhoneNumber {
        m.0
    }
}

impl FromStr for Msisdn {
    type Err = PhoneError;

    /// `0712345678`, `+254 712 345 678`, `254112345678`: Kenya's forms only.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhoneNumber::parse_in(Country::Kenya, s).map(Msisdn)
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
        self.0.serialize(s)
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
            assert_eq!(input.parse::<Msisdn>().unwrap().digits(), want, "{input}");
        }
    }

    #[test]
    fn rejections() {
        let kenya_length = |digits| PhoneError::Length { country: Country::Kenya, code: "254", digits };
        let cases: &[(&str, PhoneError)] = &[
            ("", PhoneError::Empty),
            ("   ", PhoneError::Empty),
            ("0812345678", PhoneError::NotMobile(Country::Kenya)),
            ("0212345678", PhoneError::NotMobile(Country::Kenya)),
            ("255712345678", PhoneError::Abroad { want: Country::Kenya, got: Country::Tanzania }),
            ("071234567", kenya_length(8)),
            ("07123456789", kenya_length(10)),
            ("2547123456789", kenya_length(13)),
            ("0712/345/678", PhoneError::BadChar),
            ("07l2345678", PhoneError::BadChar),
            ("+25471234567+", PhoneError::BadChar),
            ("٠٧١٢٣٤٥٦٧٨", PhoneError::BadChar),
        ];
        for (input, err) in cases {
            assert_eq!(input.parse::<Msisdn>().unwrap_err(), *err, "{input:?}");
        }
    }

    #[test]
    fn masked_everywhere_but_digits() {
        let m: Msisdn = "0712345678".parse().unwrap();
        assert_eq!(m.masked(), "2547****5678");
        assert_eq!(m.to_string(), "2547****5678");
        assert_eq!(format!("{m:?}"), "Msisdn(2547****5678)");
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"254712345678\"");
    }
}
