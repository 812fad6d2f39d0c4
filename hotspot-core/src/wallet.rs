//! The mobile-money wallets a guest can pay from, as the store, the portal and the functions name
//! them. Each is run by one network and sold in its countries; the payment itself goes through
//! the `wallets` crate's provider for it.

use crate::phone::{Country, Network, PhoneNumber};

crate::string_enum! {
    /// A wallet, by the name kept in the store and on the wire.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Wallet("wallet") {
        /// Safaricom M-Pesa, through Daraja's M-Pesa Express (STK push).
        Mpesa = "mpesa",
        /// Airtel Money, through the Airtel Africa Open API's collection ("USSD push").
        AirtelMoney = "airtel_money",
        /// MTN Mobile Money, through the MoMo Collection API (`requesttopay`).
        MtnMomo = "mtn_momo",
    }
}

impl Wallet {
    /// The name a guest knows it by.
    pub fn label(self) -> &'static str {
        match self {
            Wallet::Mpesa => "M-Pesa",
            Wallet::AirtelMoney => "Airtel Money",
            Wallet::MtnMomo => "MTN MoMo",
        }
    }

    /// The network whose subscribers hold it.
    pub fn network(self) -> Network {
        match self {
            Wallet::Mpesa => Network::Safaricom,
            Wallet::AirtelMoney => Network::Airtel,
            Wallet::MtnMomo => Network::Mtn,
        }
    }

    /// Whether the wallet is sold in `country` (Daraja is Kenya's alone; Airtel Money is in every
    /// one of ours but Ghana, where Airtel merged into AirtelTigo; MTN is not in Kenya, Tanzania).
    pub fn sold_in(self, country: Country) -> bool {
        use Country::*;
        match self {
            Wallet::Mpesa => country == Kenya,
            Wallet::AirtelMoney => matches!(country, Kenya | Uganda | Tanzania | Rwanda | Zambia),
            Wallet::MtnMomo => matches!(country, Uganda | Rwanda | Zambia | Ghana),
        }
    }

    /// A receipt's key in the ledger: M-Pesa's receipt numbers as they are (as before other
    /// wallets), the others' under their wallet's name, so two providers' ids never meet.
    pub fn receipt_key(self, receipt: &str) -> String {
        match self {
            Wallet::Mpesa => receipt.to_string(),
            w => format!("{}:{receipt}", w.as_str()),
        }
    }

    /// The wallet whose receipt a ledger key names (see [`Wallet::receipt_key`]).
    pub fn of_receipt_key(key: &str) -> Wallet {
        let named = key.split_once(':').and_then(|(w, _)| w.parse::<Wallet>().ok());
        named.filter(|w| *w != Wallet::Mpesa).unwrap_or(Wallet::Mpesa)
    }

    /// Of `offered`, the wallet a number most likely holds: the one of its network. `None` when
    /// the network is not one of them (or ported away): the guest chooses.
    pub fn for_number(number: &PhoneNumber, offered: &[Wallet]) -> Option<Wallet> {
        let network = number.network()?;
        offered.iter().copied().find(|w| w.network() == network && w.sold_in(number.country()))
    }
}

/// The wallets a router takes, in the operator's order: never empty, each once. The default is
/// M-Pesa alone (every router before the choice existed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Offered(Vec<Wallet>);

impl Default for Offered {
    fn default() -> Self {
        Offered(vec![Wallet::Mpesa])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferedError {
    #[error("a router takes at least one wallet")]
    Empty,
    #[error("{0} is listed twice")]
    Twice(&'static str),
    #[error(transparent)]
    Unknown(#[from] crate::string_enum::UnknownName),
}

impl Offered {
    /// The wallet a guest pays from, as a portal's form says: the one they chose, if the hotspot
    /// takes it; with none chosen (`auto`, or a form without the choice), their number's
    /// network's, else the hotspot's first. `None`: they chose one the hotspot does not take.
    pub fn chosen(&self, raw: &str, phone: &PhoneNumber) -> Option<Wallet> {
        match raw.trim() {
            "" | "auto" => Some(Wallet::for_number(phone, self.as_slice()).unwrap_or(self.first())),
            s => s.parse::<Wallet>().ok().filter(|w| self.contains(*w)),
        }
    }

    pub fn new(list: Vec<Wallet>) -> Result<Offered, OfferedError> {
        if list.is_empty() {
            return Err(OfferedError::Empty);
        }
        for (i, w) in list.iter().enumerate() {
            if list[..i].contains(w) {
                return Err(OfferedError::Twice(w.label()));
            }
        }
        Ok(Offered(list))
    }

    pub fn as_slice(&self) -> &[Wallet] {
        &self.0
    }

    pub fn contains(&self, w: Wallet) -> bool {
        self.0.contains(&w)
    }

    /// The first listed: what a guest pays with when they do not choose.
    pub fn first(&self) -> Wallet {
        self.0[0]
    }

    /// What a new router in `country` takes until its operator says otherwise: M-Pesa alone in
    /// Kenya (as every router did before the choice), elsewhere every wallet sold there.
    pub fn for_country(country: Country) -> Offered {
        match country {
            Country::Kenya => Offered::default(),
            c => Offered(Wallet::ALL.iter().copied().filter(|w| w.sold_in(c)).collect()),
        }
    }

    /// M-Pesa alone (every Kenyan hotspot before the choice): the portal's words may name it.
    pub fn is_mpesa_alone(&self) -> bool {
        self.0 == [Wallet::Mpesa]
    }

    /// The first listed wallet not sold in `country`, if any: a router cannot take it.
    pub fn not_sold_in(&self, country: Country) -> Option<Wallet> {
        self.0.iter().copied().find(|w| !w.sold_in(country))
    }
}

impl std::str::FromStr for Offered {
    type Err = OfferedError;
    /// `mpesa,airtel_money`.
    fn from_str(s: &str) -> Result<Offered, OfferedError> {
        let list = s.split(',').map(str::trim).filter(|w| !w.is_empty()).map(str::parse).collect::<Result<_, _>>()?;
        Offered::new(list)
    }
}

impl std::fmt::Display for Offered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|w| w.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_suggests_its_networks_wallet() {
        let all = Wallet::ALL;
        let ke = |s| PhoneNumber::parse(Country::Kenya, s).unwrap();
        let ug = |s| PhoneNumber::parse(Country::Uganda, s).unwrap();
        assert_eq!(Wallet::for_number(&ke("0712345678"), all), Some(Wallet::Mpesa));
        assert_eq!(Wallet::for_number(&ke("0733123456"), all), Some(Wallet::AirtelMoney));
        assert_eq!(Wallet::for_number(&ug("0772123456"), all), Some(Wallet::MtnMomo));
        assert_eq!(Wallet::for_number(&ug("0752123456"), all), Some(Wallet::AirtelMoney));
        // Offered only M-Pesa: an Airtel number gets no suggestion, the guest chooses.
        assert_eq!(Wallet::for_number(&ke("0733123456"), &[Wallet::Mpesa]), None);
    }

    #[test]
    fn each_country_starts_with_its_own_wallets() {
        for c in Country::ALL.iter().copied() {
            let o = Offered::for_country(c);
            assert_eq!(o.not_sold_in(c), None, "{c:?}");
            assert!(!o.as_slice().is_empty(), "{c:?}");
        }
        assert_eq!(Offered::for_country(Country::Kenya).as_slice(), &[Wallet::Mpesa]);
        assert_eq!(Offered::for_country(Country::Uganda).as_slice(), &[Wallet::AirtelMoney, Wallet::MtnMomo]);
        assert_eq!(Offered::for_country(Country::Ghana).as_slice(), &[Wallet::MtnMomo]);
        assert_eq!("mpesa,mtn_momo".parse::<Offered>().unwrap().not_sold_in(Country::Kenya), Some(Wallet::MtnMomo));
    }

    #[test]
    fn receipt_keys_name_their_wallet() {
        for w in Wallet::ALL.iter().copied() {
            assert_eq!(Wallet::of_receipt_key(&w.receipt_key("TK12AB")), w);
        }
        assert_eq!(Wallet::AirtelMoney.receipt_key("MP1"), "airtel_money:MP1");
        assert_eq!(Wallet::Mpesa.receipt_key("TK12AB"), "TK12AB");
        assert_eq!(Wallet::of_receipt_key("mpesa:X"), Wallet::Mpesa);
    }

    #[test]
    fn offered_lists() {
        assert_eq!(Offered::default().as_slice(), &[Wallet::Mpesa]);
        let o: Offered = "mpesa, airtel_money".parse().unwrap();
        assert_eq!(o.as_slice(), &[Wallet::Mpesa, Wallet::AirtelMoney]);
        assert_eq!(o.to_string().parse::<Offered>().unwrap(), o);
        assert_eq!("".parse::<Offered>(), Err(OfferedError::Empty));
        assert!(matches!("mpesa,mpesa".parse::<Offered>(), Err(OfferedError::Twice(_))));
        assert!(matches!("mpesa,paypal".parse::<Offered>(), Err(OfferedError::Unknown(_))));
    }

    #[test]
    fn names_round_trip() {
        for w in Wallet::ALL {
            assert_eq!(w.as_str().parse::<Wallet>().unwrap(), *w);
        }
        assert!("mpesa ".parse::<Wallet>().is_err());
    }
}
