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
