//! Money in each selling country's currency, held in the currency's minor units (ISO 4217):
//! Kenyan and Tanzanian shillings, Zambian kwacha and Ghanaian cedis have two decimals; Ugandan
//! shillings and Rwandan francs have none. Amounts are parsed, never floats: `1,500.50 KES` is
//! 150050 cents, and `12.345` is refused rather than rounded.

use std::fmt;

use crate::phone::Country;

crate::string_enum! {
    /// An ISO 4217 currency the product sells in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Currency("currency") {
        Kes = "KES", Ugx = "UGX", Tzs = "TZS", Rwf = "RWF", Zmw = "ZMW", Ghs = "GHS",
    }
}

impl Currency {
    /// Digits after the decimal point (ISO 4217's minor unit).
    pub fn minor_digits(self) -> u32 {
        match self {
            Currency::Ugx | Currency::Rwf => 0,
            Currency::Kes | Currency::Tzs | Currency::Zmw | Currency::Ghs => 2,
        }
    }

    /// The currency a country's wallets pay in.
    pub fn of(country: Country) -> Currency {
        match country {
            Country::Kenya => Currency::Kes,
            Country::Uganda => Currency::Ugx,
            Country::Tanzania => Currency::Tzs,
            Country::Rwanda => Currency::Rwf,
            Country::Zambia => Currency::Zmw,
            Country::Ghana => Currency::Ghs,
        }
    }

    /// Minor units in one unit: 100 cents to the shilling, 1 for a currency without decimals.
    pub fn minor_per_unit(self) -> u64 {
        self.scale()
    }

    fn scale(self) -> u64 {
        10u64.pow(self.minor_digits())
    }

    /// The most a package may cost, in whole units: about USD 1,900 in each currency, above any
    /// hotspot or monthly price and within every wallet's per-payment limit (M-Pesa's is
    /// KES 250,000).
    pub fn price_cap(self) -> u64 {
        match self {
            Currency::Kes => 250_000,
            Currency::Ugx => 7_000_000,
            Currency::Tzs => 5_000_000,
            Currency::Rwf => 2_500_000,
            Currency::Zmw => 50_000,
            Currency::Ghs => 25_000,
        }
    }
}

/// Kenya's, for records and messages from before other currencies.
impl Default for Currency {
    fn default() -> Currency {
        Currency::Kes
    }
}

impl Currency {
    pub fn is_kes(&self) -> bool {
        *self == Currency::Kes
    }
}

/// An amount of one currency, in its minor units. Sums of different currencies do not exist:
/// [`Money::checked_add`] refuses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    currency: Currency,
    minor: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("the amount is empty")]
    Empty,
    #[error("an amount is digits with at most one '.' (and ',' between thousands); got {0:?}")]
    Malformed(String),
    #[error("{currency} has {digits} decimal place(s); got {got:?}")]
    TooPrecise { currency: Currency, digits: u32, got: String },
    #[error("the amount is too large")]
    TooLarge,
}

/// The most any one amount may be, in minor units: far above any hotspot price or daily total,
/// far below where sums could overflow.
const MAX_MINOR: u64 = 1_000_000_000_000_000;

impl Money {
    pub fn from_minor(currency: Currency, minor: u64) -> Result<Money, AmountError> {
        (minor <= MAX_MINOR).then_some(Money { currency, minor }).ok_or(AmountError::TooLarge)
    }

    /// `units` whole units: `Money::whole(Currency::Ugx, 5000)`.
    pub fn whole_units(currency: Currency, units: u64) -> Result<Money, AmountError> {
        Money::from_minor(currency, units.checked_mul(currency.scale()).ok_or(AmountError::TooLarge)?)
    }

    /// Reads an amount as a wallet or an operator writes it: `5000`, `5,000`, `1500.5`,
    /// `1500.50`. A wallet's JSON number goes through its text (`serde_json` keeps it exact).
    pub fn parse(currency: Currency, s: &str) -> Result<Money, AmountError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        let malformed = || AmountError::Malformed(s.chars().take(40).collect());
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) || s.ends_with('.') {
            return Err(malformed());
        }
        // Commas only between groups of three, never leading or doubled.
        let groups: Vec<&str> = whole.split(',').collect();
        let grouped = groups.len() == 1
            || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
        if !grouped || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
            return Err(malformed());
        }
        let digits = currency.minor_digits();
        let frac = frac.trim_end_matches('0');
        if frac.len() > digits as usize {
            return Err(AmountError::TooPrecise { currency, digits, got: s.chars().take(40).collect() });
        }
        let whole: u64 = groups.concat().parse().map_err(|_| AmountError::TooLarge)?;
        let frac_minor: u64 = match frac {
            "" => 0,
            f => f.parse::<u64>().map_err(|_| malformed())? * 10u64.pow(digits - f.len() as u32),
        };
        let minor = whole.checked_mul(currency.scale()).and_then(|w| w.checked_add(frac_minor));
        Money::from_minor(currency, minor.ok_or(AmountError::TooLarge)?)
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn minor(self) -> u64 {
        self.minor
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// A whole number of units (`KES 20`, not `KES 20.50`).
    pub fn is_whole(self) -> bool {
        self.minor.is_multiple_of(self.currency.scale())
    }

    /// The amount in whole units, if it is whole.
    pub fn whole(self) -> Option<u64> {
        self.is_whole().then(|| self.minor / self.currency.scale())
    }

    /// The shortest decimal: `5000`, `20`, `2.5`: what a JSON number or a DynamoDB number holds.
    pub fn short_decimal(self) -> String {
        match self.whole() {
            Some(w) => w.to_string(),
            None => self.decimal_string().trim_end_matches('0').to_string(),
        }
    }

    /// The sum, if both are of one currency (and it stays in range).
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Money::from_minor(self.currency, self.minor.checked_add(other.minor)?).ok()
    }

    /// The amount as the wallets' APIs take it: `5000`, `1500.50` (no grouping, no currency).
    pub fn decimal_string(self) -> String {
        let scale = self.currency.scale();
        match self.currency.minor_digits() {
            0 => self.minor.to_string(),
            d => format!("{}.{:0width$}", self.minor / scale, self.minor % scale, width = d as usize),
        }
    }
}

impl Money {
    /// For a spreadsheet: `5000`, `20`, `2.50` (a whole amount without its `.00`, no grouping).
    pub fn plain(self) -> String {
        match self.whole() {
            Some(w) => w.to_string(),
            None => self.decimal_string(),
        }
    }
}

/// Amounts summed per currency, in currency order (a sum across currencies does not exist).
pub fn sum_by_currency(amounts: impl IntoIterator<Item = Money>) -> Vec<Money> {
    let mut sums: std::collections::BTreeMap<Currency, Money> = std::collections::BTreeMap::new();
    for m in amounts {
        let s = sums.entry(m.currency).or_insert(Money { currency: m.currency, minor: 0 });
        *s = s.checked_add(m).unwrap_or(*s);
    }
    sums.into_values().collect()
}

/// `KES 1,030 + UGX 5,000`; nothing at all reads as `nothing`.
pub fn sums_text(sums: &[Money]) -> String {
    match sums {
        [] => "nothing".to_string(),
        _ => sums.iter().map(Money::to_string).collect::<Vec<_>>().join(" + "),
    }
}

impl Money {
    /// `5,000`, `1,500.50`: the amount for people, without its currency.
    pub fn grouped(self) -> String {
        let plain = self.plain();
        let (whole, frac) = plain.split_once('.').map_or((plain.as_str(), None), |(w, r)| (w, Some(r)));
        let grouped = crate::money::group_thousands(whole);
        match frac {
            Some(r) => format!("{grouped}.{r}"),
            None => grouped,
        }
    }
}

/// `UGX 5,000`, `KES 1,500.50`, `KES 20`: for people (a whole amount without its `.00`).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.grouped())
    }
}

/// An amount written before its currency is known: a package's `price` on the wire and in the
/// store, a JSON number (`50`, `2.5`) beside a `currency` field. Whole amounts are written as
/// integers, so agents from before other currencies (which read `price` as whole shillings)
/// read Kenyan packages as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(String);

impl Decimal {
    /// The amount, if it is one in `currency`.
    pub fn money(&self, currency: Currency) -> Result<Money, AmountError> {
        Money::parse(currency, &self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Money> for Decimal {
    fn from(m: Money) -> Decimal {
        Decimal(m.short_decimal())
    }
}

impl std::str::FromStr for Decimal {
    type Err = AmountError;

    /// `50`, `1,500`, `2.50`: checked with the most decimals any currency we sell in has (two).
    fn from_str(s: &str) -> Result<Decimal, AmountError> {
        Money::parse(Currency::Kes, s).map(|m| Decimal(m.short_decimal()))
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.0.parse::<u64>(), self.0.parse::<f64>()) {
            (Ok(whole), _) => s.serialize_u64(whole),
            (_, Ok(f)) => s.serialize_f64(f),
            _ => s.serialize_str(&self.0),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount: a number such as 50 or 2.5")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
                u64::try_from(v).map(|v| Decimal(v.to_string())).map_err(|_| E::custom("an amount cannot be negative"))
            }
            // Rust prints the shortest text that reads back to the same f64: `2.5`, `0.1`.
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
                match v.is_finite() && v >= 0.0 {
                    true => v.to_string().parse().map_err(E::custom),
                    false => Err(E::custom("an amount must be a number of at least 0")),
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(c: Currency, s: &str) -> Result<u64, AmountError> {
        Money::parse(c, s).map(Money::minor)
    }

    #[test]
    fn sums_are_kept_and_told_per_currency() {
        let kes = |v| Money::whole_units(Currency::Kes, v).unwrap();
        let ugx = |v| Money::whole_units(Currency::Ugx, v).unwrap();
        let sums = sum_by_currency([kes(10), ugx(5000), kes(50), ugx(1500)]);
        assert_eq!(sums, [kes(60), ugx(6500)]);
        assert_eq!(sums_text(&sums), "KES 60 + UGX 6,500");
        assert_eq!(sums_text(&[]), "nothing");
        assert_eq!(kes(10).checked_add(ugx(1)), None, "no sum across currencies");
    }

    #[test]
    fn amounts_in_minor_units_per_currency() {
        assert_eq!(m(Currency::Kes, "1,500.50"), Ok(150_050));
        assert_eq!(m(Currency::Kes, "1500.5"), Ok(150_050));
        assert_eq!(m(Currency::Kes, "20"), Ok(2_000));
        assert_eq!(m(Currency::Ugx, "5,000"), Ok(5_000));
        assert_eq!(m(Currency::Ugx, "5000.00"), Ok(5_000), "trailing zeros say nothing");
        assert_eq!(m(Currency::Rwf, "100"), Ok(100));
        assert_eq!(m(Currency::Ghs, "0.01"), Ok(1));
        assert_eq!(m(Currency::Zmw, "12.3"), Ok(1_230));
    }

    #[test]
    fn what_is_not_an_amount_is_refused() {
        for bad in ["", " ", "-5", "5e3", "1,50", ",500", "1,,000", "1.2.3", "1.", ".5", "KES 5", "5 000", "0x10", "+5"]
        {
            assert!(Money::parse(Currency::Kes, bad).is_err(), "{bad:?}");
        }
        assert!(matches!(Money::parse(Currency::Ugx, "500.5"), Err(AmountError::TooPrecise { digits: 0, .. })));
        assert!(matches!(Money::parse(Currency::Kes, "1.005"), Err(AmountError::TooPrecise { digits: 2, .. })));
        assert_eq!(Money::parse(Currency::Kes, "99999999999999999999"), Err(AmountError::TooLarge));
    }

    #[test]
    fn shown_to_people_and_sent_to_wallets() {
        let kes = Money::parse(Currency::Kes, "1234567.5").unwrap();
        assert_eq!((kes.to_string(), kes.decimal_string()), ("KES 1,234,567.50".into(), "1234567.50".into()));
        let ugx = Money::parse(Currency::Ugx, "5000").unwrap();
        assert_eq!((ugx.to_string(), ugx.decimal_string()), ("UGX 5,000".into(), "5000".into()));
        assert_eq!(Money::from_minor(Currency::Ghs, 5).unwrap().to_string(), "GHS 0.05");
    }

    #[test]
    fn sums_stay_in_one_currency() {
        let a = Money::parse(Currency::Ugx, "1000").unwrap();
        let b = Money::parse(Currency::Ugx, "500").unwrap();
        assert_eq!(a.checked_add(b).map(Money::minor), Some(1_500));
        assert_eq!(a.checked_add(Money::parse(Currency::Rwf, "1").unwrap()), None);
        assert_eq!(Currency::of(Country::Ghana), Currency::Ghs);
    }

    proptest! {
        #[test]
        fn the_wallet_form_reads_back(c in prop::sample::select(Currency::ALL.to_vec()), minor in 0u64..MAX_MINOR) {
            let x = Money::from_minor(c, minor).unwrap();
            prop_assert_eq!(Money::parse(c, &x.decimal_string()), Ok(x));
            let shown = x.to_string();
            prop_assert_eq!(Money::parse(c, shown.trim_start_matches(c.as_str()).trim()), Ok(x));
        }

        #[test]
        fn nothing_panics(c in prop::sample::select(Currency::ALL.to_vec()), s in "\\PC{0,30}") {
            let _ = Money::parse(c, &s);
        }
    }
}
