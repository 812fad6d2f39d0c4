//! Mobile numbers in the countries the product sells in, each parsed by its own numbering plan:
//! Kenya, Uganda, Tanzania, Rwanda, Zambia and Ghana all have 9-digit national numbers after
//! the country code, written at home with a leading `0`. A [`PhoneNumber`] can only hold a
//! mobile number of its country; its [`Network`] is read from the number's prefix.
//!
//! The prefixes are the regulators' allocations as libphonenumber's carrier data
//! (`resources/carrier/en/<code>.txt`) and Wikipedia's "Telephone numbers in <country>" list them,
//! read on 2026-12-04. Numbers move between networks (Kenya, Ghana, Tanzania and Uganda have
//! number portability), so the network is a guess the guest can overrule, never a refusal.

use std::fmt;

crate::string_enum! {
    /// A country the product sells in, by its ISO 3166 code.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Country("country") {
        Kenya = "KE", Uganda = "UG", Tanzania = "TZ", Rwanda = "RW", Zambia = "ZM", Ghana = "GH",
    }
}

crate::string_enum! {
    /// A mobile network, as far as the wallets care.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Network("network") {
        Safaricom = "safaricom", Airtel = "airtel", Telkom = "telkom", Equitel = "equitel",
        Mtn = "mtn", Vodacom = "vodacom", Yas = "yas", Halotel = "halotel", Ttcl = "ttcl",
        Zamtel = "zamtel", Telecel = "telecel", AirtelTigo = "airteltigo",
    }
}

/// Each country's mobile ranges: national-number prefixes and their network. A longer prefix
/// is listed before the shorter one it refines. `None`: a mobile range of no network we name.
struct Plan {
    code: &'static str,
    mobile: &'static [(&'static str, Option<Network>)],
}

use Network::*;

const KENYA: Plan = Plan {
    code: "254",
    mobile: &[
        ("70", Some(Safaricom)),
        ("71", Some(Safaricom)),
        ("72", Some(Safaricom)),
        ("73", Some(Airtel)),
        ("740", Some(Safaricom)),
        ("741", Some(Safaricom)),
        ("742", Some(Safaricom)),
        ("743", Some(Safaricom)),
        ("745", Some(Safaricom)),
        ("746", Some(Safaricom)),
        ("748", Some(Safaricom)),
        ("74", None),
        ("750", Some(Airtel)),
        ("751", Some(Airtel)),
        ("752", Some(Airtel)),
        ("753", Some(Airtel)),
        ("754", Some(Airtel)),
        ("755", Some(Airtel)),
        ("756", Some(Airtel)),
        ("757", Some(Safaricom)),
        ("758", Some(Safaricom)),
        ("759", Some(Safaricom)),
        ("762", Some(Airtel)),
        ("763", Some(Equitel)),
        ("764", Some(Equitel)),
        ("765", Some(Equitel)),
        ("766", Some(Equitel)),
        ("768", Some(Safaricom)),
        ("769", Some(Safaricom)),
        ("76", None),
        ("77", Some(Telkom)),
        ("78", Some(Airtel)),
        ("79", Some(Safaricom)),
        ("100", Some(Airtel)),
        ("101", Some(Airtel)),
        ("102", Some(Airtel)),
        ("110", Some(Safaricom)),
        ("111", Some(Safaricom)),
        ("112", Some(Safaricom)),
        ("113", Some(Safaricom)),
        ("114", Some(Safaricom)),
        ("115", Some(Safaricom)),
        ("10", None),
        ("11", None),
    ],
};

const UGANDA: Plan = Plan {
    code: "256",
    mobile: &[
        ("70", Some(Airtel)),
        ("71", None),
        ("72", None),
        ("73", None),
        ("74", Some(Airtel)),
        ("75", Some(Airtel)),
        ("76", Some(Mtn)),
        ("77", Some(Mtn)),
        ("78", Some(Mtn)),
        ("79", None),
    ],
};

const TANZANIA: Plan = Plan {
    code: "255",
    mobile: &[
        ("61", Some(Halotel)),
        ("62", Some(Halotel)),
        ("63", Some(Halotel)),
        ("65", Some(Yas)),
        ("66", Some(Airtel)),
        ("67", Some(Yas)),
        ("68", Some(Airtel)),
        ("69", Some(Airtel)),
        ("70", Some(Yas)),
        ("71", Some(Yas)),
        ("72", Some(Vodacom)),
        ("73", Some(Ttcl)),
        ("74", Some(Vodacom)),
        ("75", Some(Vodacom)),
        ("76", Some(Vodacom)),
        ("77", Some(Yas)),
        ("78", Some(Airtel)),
        ("79", Some(Vodacom)),
    ],
};

const RWANDA: Plan =
    Plan { code: "250", mobile: &[("72", Some(Airtel)), ("73", Some(Airtel)), ("78", Some(Mtn)), ("79", Some(Mtn))] };

const ZAMBIA: Plan = Plan {
    code: "260",
    mobile: &[
        ("75", Some(Zamtel)),
        ("76", Some(Mtn)),
        ("77", Some(Airtel)),
        ("95", Some(Zamtel)),
        ("96", Some(Mtn)),
        ("97", Some(Airtel)),
    ],
};

const GHANA: Plan = Plan {
    code: "233",
    mobile: &[
        ("20", Some(Telecel)),
        ("24", Some(Mtn)),
        ("25", Some(Mtn)),
        ("26", Some(AirtelTigo)),
        ("27", Some(AirtelTigo)),
        ("50", Some(Telecel)),
        ("53", Some(Mtn)),
        ("54", Some(Mtn)),
        ("55", Some(Mtn)),
        ("56", Some(AirtelTigo)),
        ("57", Some(AirtelTigo)),
        ("59", Some(Mtn)),
    ],
};

/// Every plan has 9-digit national numbers.
const NATIONAL_DIGITS: usize = 9;

/// Kenya: where the product began, so records and messages without a country are Kenyan.
impl Default for Country {
    fn default() -> Country {
        Country::Kenya
    }
}

impl Country {
    fn plan(self) -> &'static Plan {
        match self {
            Country::Kenya => &KENYA,
            Country::Uganda => &UGANDA,
            Country::Tanzania => &TANZANIA,
            Country::Rwanda => &RWANDA,
            Country::Zambia => &ZAMBIA,
            Country::Ghana => &GHANA,
        }
    }

    /// The country's name in English (the portal's Swahili says the same names).
    pub fn name(self) -> &'static str {
        match self {
            Country::Kenya => "Kenya",
            Country::Uganda => "Uganda",
            Country::Tanzania => "Tanzania",
            Country::Rwanda => "Rwanda",
            Country::Zambia => "Zambia",
            Country::Ghana => "Ghana",
        }
    }

    /// Local time, as guests read a clock: seconds east of UTC and the zone's short name. None of
    /// these countries keeps summer time.
    pub fn time_zone(self) -> (i64, &'static str) {
        match self {
            Country::Kenya | Country::Uganda | Country::Tanzania => (3 * 3600, "EAT"),
            Country::Rwanda | Country::Zambia => (2 * 3600, "CAT"),
            Country::Ghana => (0, "GMT"),
        }
    }

    /// The country calling code, e.g. `256`.
    pub fn calling_code(self) -> &'static str {
        self.plan().code
    }

    /// The country whose calling code an international number (digits only) starts with.
    fn of_international(digits: &str) -> Option<Country> {
        Country::ALL.iter().copied().find(|c| digits.starts_with(c.calling_code()))
    }
}

/// A mobile number of one of [`Country::ALL`], held as its country and 9-digit national number.
///
/// `Display` and `Debug` are masked (`2567****5678`), so a number never reaches a log by
/// accident; [`PhoneNumber::e164`] gives the whole number for a wallet's API and storage.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    country: Country,
    national: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number may only hold digits, spaces, '-' and a leading '+'")]
    BadChar,
    #[error("{} numbers have 9 digits after the 0 (0XX XXX XXXX) or after +{code}; got {digits} digits", .country.name())]
    Length { country: Country, code: &'static str, digits: usize },
    #[error("+{0}… is not a country this hotspot sells in")]
    UnknownCountry(String),
    #[error("not a mobile number in {}", .0.name())]
    NotMobile(Country),
    #[error("a {} number: only {} numbers are taken here", .got.name(), .want.name())]
    Abroad { want: Country, got: Country },
    #[error("a stored or sent number is written whole, with its country code: got {0:?}")]
    NotInternational(String),
}

impl PhoneNumber {
    /// Reads a number as a guest types it in `country`: `0772 123 456`, `772123456`,
    /// `256772123456` or `+256 772 123 456`. An international number of another of our
    /// countries is that country's (a Ugandan roaming in Kenya keeps their number).
    pub fn parse(country: Country, s: &str) -> Result<PhoneNumber, PhoneError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (plus, rest) = match s.strip_prefix('+') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(PhoneError::BadChar),
            }
        }
        let length =
            |country: Country, digits: usize| PhoneError::Length { country, code: country.calling_code(), digits };
        let (country, national) = match (plus, digits.len()) {
            // The home form: a 0, then the national number.
            (false, n) if digits.starts_with('0') => match n - 1 {
                NATIONAL_DIGITS => (country, &digits[1..]),
                after => return Err(length(country, after)),
            },
            (false, NATIONAL_DIGITS) => (country, digits.as_str()),
            (true, _) | (false, 12) => {
                let c = Country::of_international(&digits)
                    .ok_or_else(|| PhoneError::UnknownCountry(digits.chars().take(3).collect()))?;
                let national = &digits[c.calling_code().len()..];
                if national.len() != NATIONAL_DIGITS {
                    return Err(length(c, national.len()));
                }
                (c, national)
            }
            (false, n) => return Err(length(country, n)),
        };
        if network_of(country, national).is_none() {
            return Err(PhoneError::NotMobile(country));
        }
        Ok(PhoneNumber { country, national: national.to_string() })
    }

    /// Reads a number written whole with its country code (`256772123456`, `+256…`), as the
    /// wire and the store hold it: no local form, so no country needs guessing.
    pub fn international(s: &str) -> Result<PhoneNumber, PhoneError> {
        let p = PhoneNumber::parse(Country::Kenya, s)?;
        match s.trim().trim_start_matches('+') == p.e164() {
            true => Ok(p),
            false => Err(PhoneError::NotInternational(s.chars().take(20).collect())),
        }
    }

    /// [`PhoneNumber::parse`], refusing a number of another country than `country`.
    pub fn parse_in(country: Country, s: &str) -> Result<PhoneNumber, PhoneError> {
        let p = PhoneNumber::parse(country, s)?;
        match p.country == country {
            true => Ok(p),
            false => Err(PhoneError::Abroad { want: country, got: p.country }),
        }
    }

    pub fn country(&self) -> Country {
        self.country
    }

    /// The whole number without `+`, as the wallets' APIs take it: `256772123456`.
    pub fn e164(&self) -> String {
        format!("{}{}", self.country.calling_code(), self.national)
    }

    /// The 9 digits after the country code, as Airtel's API takes a number: `772123456`.
    pub fn national(&self) -> &str {
        &self.national
    }

    /// The network the number was issued to, if it is one we name.
    pub fn network(&self) -> Option<Network> {
        network_of(self.country, &self.national).flatten()
    }

    /// `2567****3456`: the only form that may appear in logs.
    pub fn masked(&self) -> String {
        let full = self.e164();
        let keep = self.country.calling_code().len() + 1;
        format!("{}****{}", &full[..keep], &full[full.len() - 4..])
    }
}

/// `Some(network)` for a mobile range of `country` (the network itself may be unknown), `None`
/// for anything else.
fn network_of(country: Country, national: &str) -> Option<Option<Network>> {
    country.plan().mobile.iter().find(|(p, _)| national.starts_with(p)).map(|(_, n)| *n)
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// The whole number with its country code, as stored (see [`PhoneNumber::international`]); a
/// number a person typed is read with [`PhoneNumber::parse`] and their country.
impl std::str::FromStr for PhoneNumber {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<PhoneNumber, PhoneError> {
        PhoneNumber::international(s)
    }
}

/// On the wire and in the store: the whole number without `+` (`254712345678`), the form the
/// Kenyan-only `Msisdn` had, so records written before other countries read the same.
impl serde::Serialize for PhoneNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.e164())
    }
}

impl<'de> serde::Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PhoneNumber::international(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(c: Country, s: &str) -> Option<Network> {
        PhoneNumber::parse(c, s).unwrap().network()
    }

    #[test]
    fn each_country_reads_its_own_forms() {
        for (c, local, e164) in [
            (Country::Kenya, "0712 345 678", "254712345678"),
            (Country::Kenya, "0110-123456", "254110123456"),
            (Country::Uganda, "0772 123 456", "256772123456"),
            (Country::Tanzania, "0654 321 000", "255654321000"),
            (Country::Rwanda, "0788 123 456", "250788123456"),
            (Country::Zambia, "0977 123 456", "260977123456"),
            (Country::Ghana, "024 412 3456", "233244123456"),
        ] {
            let p = PhoneNumber::parse(c, local).unwrap();
            assert_eq!((p.country(), p.e164()), (c, e164.to_string()), "{local}");
            for other in [e164.to_string(), format!("+{e164}"), local.trim_start_matches('0').to_string()] {
                assert_eq!(PhoneNumber::parse(c, &other).unwrap(), p, "{other}");
            }
        }
    }

    #[test]
    fn the_network_follows_the_prefix() {
        assert_eq!(net(Country::Kenya, "0712345678"), Some(Network::Safaricom));
        assert_eq!(net(Country::Kenya, "0733345678"), Some(Network::Airtel));
        assert_eq!(net(Country::Kenya, "0757345678"), Some(Network::Safaricom));
        assert_eq!(net(Country::Kenya, "0756345678"), Some(Network::Airtel));
        assert_eq!(net(Country::Kenya, "0100345678"), Some(Network::Airtel));
        assert_eq!(net(Country::Kenya, "0771345678"), Some(Network::Telkom));
        assert_eq!(net(Country::Kenya, "0747345678"), None, "a Kenyan mobile range of no network we name");
        assert_eq!(net(Country::Uganda, "0701234567"), Some(Network::Airtel));
        assert_eq!(net(Country::Uganda, "0781234567"), Some(Network::Mtn));
        assert_eq!(net(Country::Tanzania, "0754123456"), Some(Network::Vodacom));
        assert_eq!(net(Country::Tanzania, "0684123456"), Some(Network::Airtel));
        assert_eq!(net(Country::Rwanda, "0731234567"), Some(Network::Airtel));
        assert_eq!(net(Country::Rwanda, "0791234567"), Some(Network::Mtn));
        assert_eq!(net(Country::Zambia, "0961234567"), Some(Network::Mtn));
        assert_eq!(net(Country::Zambia, "0771234567"), Some(Network::Airtel));
        assert_eq!(net(Country::Ghana, "0201234567"), Some(Network::Telecel));
        assert_eq!(net(Country::Ghana, "0541234567"), Some(Network::Mtn));
        assert_eq!(net(Country::Ghana, "0571234567"), Some(Network::AirtelTigo));
    }

    #[test]
    fn a_roaming_guest_keeps_their_country() {
        let p = PhoneNumber::parse(Country::Kenya, "+256 772 123 456").unwrap();
        assert_eq!((p.country(), p.network()), (Country::Uganda, Some(Network::Mtn)));
    }

    #[test]
    fn what_is_not_a_mobile_number_is_refused_with_why() {
        use PhoneError::*;
        assert_eq!(PhoneNumber::parse(Country::Uganda, ""), Err(Empty));
        assert_eq!(PhoneNumber::parse(Country::Uganda, "0772 12x 456"), Err(BadChar));
        assert_eq!(PhoneNumber::parse(Country::Uganda, "+1 202 555 0100"), Err(UnknownCountry("120".into())));
        assert_eq!(
            PhoneNumber::parse(Country::Uganda, "0414 123 456"),
            Err(NotMobile(Country::Uganda)),
            "Kampala fixed line"
        );
        assert_eq!(
            PhoneNumber::parse(Country::Ghana, "0302 123 456"),
            Err(NotMobile(Country::Ghana)),
            "Accra fixed line"
        );
        assert_eq!(PhoneNumber::parse(Country::Rwanda, "0252 123 456"), Err(NotMobile(Country::Rwanda)));
        let e = PhoneNumber::parse(Country::Zambia, "0977 123 45").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Zambia numbers have 9 digits after the 0 (0XX XXX XXXX) or after +260; got 8 digits"
        );
        assert!(matches!(PhoneNumber::parse(Country::Kenya, "+254 712 345 6789"), Err(Length { .. })));
    }

    #[test]
    fn the_wire_form_is_the_whole_number() {
        let p = PhoneNumber::parse(Country::Uganda, "0772123456").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"256772123456\"");
        assert_eq!(serde_json::from_str::<PhoneNumber>("\"256772123456\"").unwrap(), p);
        let kenyan: PhoneNumber = serde_json::from_str("\"254712345678\"").unwrap();
        assert_eq!(kenyan.country(), Country::Kenya, "records from before other countries");
        for bad in ["\"0772123456\"", "\"772123456\"", "\"1202555010\"", "12"] {
            assert!(serde_json::from_str::<PhoneNumber>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PhoneNumber::parse_in(Country::Kenya, "+256772123456"),
            Err(PhoneError::Abroad { want: Country::Kenya, got: Country::Uganda })
        );
    }

    #[test]
    fn logs_see_a_masked_number() {
        let p = PhoneNumber::parse(Country::Uganda, "0772123456").unwrap();
        assert_eq!(p.to_string(), "2567****3456");
        assert_eq!(format!("{p:?}"), "PhoneNumber(2567****3456)");
        assert!(!format!("{p} {p:?}").contains("772123"));
    }

    proptest! {
        #[test]
        fn every_parsed_number_reads_back_to_itself(c in prop::sample::select(Country::ALL.to_vec()), rest in "[0-9]{9}") {
            if let Ok(p) = PhoneNumber::parse(c, &rest) {
                prop_assert_eq!(p.e164().len(), c.calling_code().len() + 9);
                prop_assert_eq!(PhoneNumber::parse(c, &format!("+{}", p.e164())), Ok(p.clone()));
                prop_assert_eq!(PhoneNumber::parse(Country::Kenya, &format!("+{}", p.e164())), Ok(p));
            }
        }

        #[test]
        fn nothing_panics(c in prop::sample::select(Country::ALL.to_vec()), s in "\\PC{0,24}") {
            let _ = PhoneNumber::parse(c, &s);
        }
    }
}
