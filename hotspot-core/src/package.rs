//! What a guest buys.

use crate::currency::{Currency, Decimal, Money};
use crate::{PackageId, RateLimit, RosDuration};

/// How a grant is put on the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStyle {
    /// A hotspot user bound to the guest's MAC: metered (uptime, bytes), rate-limited by profile.
    #[default]
    HotspotUser,
    /// A bypassed ip-binding for the MAC: simplest, but unmetered and not rate-limited by the hotspot.
    Bypass,
}

/// A package on sale at a router. Only valid packages can be built or deserialized.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawPackage", into = "RawPackage")]
pub struct Package {
    id: PackageId,
    name: String,
    price: Money,
    validity: RosDuration,
    uptime_limit: Option<RosDuration>,
    data_cap_bytes: Option<u64>,
    rate_limit: RateLimit,
    devices: u8,
    style: GrantStyle,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("package name must be 1-40 printable characters")]
    Name,
    #[error("package validity must be longer than zero")]
    Validity,
    #[error("uptime limit, when set, must be longer than zero and not longer than the validity")]
    UptimeLimit,
    #[error("data cap, when set, must be at least 1 MB")]
    DataCap,
    #[error("devices allowed must be 1 to 10")]
    Devices,
    #[error("price: {0}")]
    Price(String),
}

/// The wire/storage shape; every field is parsed again by `Package::try_from`.
/// Fields a newer cloud adds are ignored (the wire contract's compatibility rule).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RawPackage {
    pub id: PackageId,
    pub name: String,
    /// In `currency`: whole units on the wire (`50`), or a decimal where the currency has them.
    pub price: Decimal,
    /// The router's currency; absent: Kenya shillings (packages from before other currencies).
    #[serde(default, skip_serializing_if = "Currency::is_kes")]
    pub currency: Currency,
    pub validity: RosDuration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_limit: Option<RosDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_cap_bytes: Option<u64>,
    pub rate_limit: RateLimit,
    pub devices: u8,
    #[serde(default)]
    pub style: GrantStyle,
}

impl TryFrom<RawPackage> for Package {
    type Error = PackageError;

    fn try_from(r: RawPackage) -> Result<Self, PackageError> {
        let name = r.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 40 || name.chars().any(|c| c.is_control()) {
            return Err(PackageError::Name);
        }
        if r.validity.is_zero() {
            return Err(PackageError::Validity);
        }
        if r.uptime_limit.is_some_and(|u| u.is_zero() || u > r.validity) {
            return Err(PackageError::UptimeLimit);
        }
        if r.data_cap_bytes.is_some_and(|b| b < 1_000_000) {
            return Err(PackageError::DataCap);
        }
        if !(1..=10).contains(&r.devices) {
            return Err(PackageError::Devices);
        }
        let price = price(&r.price, r.currency)?;
        Ok(Package {
            id: r.id,
            name,
            price,
            validity: r.validity,
            uptime_limit: r.uptime_limit,
            data_cap_bytes: r.data_cap_bytes,
            rate_limit: r.rate_limit,
            devices: r.devices,
            style: r.style,
        })
    }
}

/// A price guests can pay: more than nothing, at most the currency's cap, and whole shillings in
/// Kenya (M-Pesa takes no cents).
fn price(d: &Decimal, currency: Currency) -> Result<Money, PackageError> {
    let m = d.money(currency).map_err(|e| PackageError::Price(e.to_string()))?;
    if m.is_zero() {
        return Err(PackageError::Price(format!("must be at least {currency} 1")));
    }
    if currency == Currency::Kes && !m.is_whole() {
        return Err(PackageError::Price("Kenya shillings are whole (M-Pesa takes no cents)".into()));
    }
    let cap = currency.price_cap();
    if m.minor() > cap * currency.minor_per_unit() {
        return Err(PackageError::Price(format!("must be at most {currency} {cap}")));
    }
    Ok(m)
}

impl From<Package> for RawPackage {
    fn from(p: Package) -> Self {
        RawPackage {
            id: p.id,
            name: p.name,
            price: p.price.into(),
            currency: p.price.currency(),
            validity: p.validity,
            uptime_limit: p.uptime_limit,
            data_cap_bytes: p.data_cap_bytes,
            rate_limit: p.rate_limit,
            devices: p.devices,
            style: p.style,
        }
    }
}

/// A short fingerprint of a package list (order included): the router's heartbeat carries the
/// one of what it sells, the cloud compares it with the one of what it should sell.
pub fn digest(packages: &[Package]) -> String {
    use sha2::{Digest, Sha256};
    let v = serde_json::to_value(packages).unwrap_or_default();
    let text = crate::wire::canonical_json(&v).unwrap_or_default();
    hex::encode(&Sha256::digest(&text)[..12])
}

impl Package {
    pub fn id(&self) -> &PackageId {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    /// In the router's currency.
    pub fn price(&self) -> Money {
        self.price
    }
    /// Wall-clock time from purchase (or first use, for vouchers) to expiry.
    pub fn validity(&self) -> RosDuration {
        self.validity
    }
    pub fn uptime_limit(&self) -> Option<RosDuration> {
        self.uptime_limit
    }
    pub fn data_cap_bytes(&self) -> Option<u64> {
        self.data_cap_bytes
    }
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }
    pub fn devices(&self) -> u8 {
        self.devices
    }
    pub fn style(&self) -> GrantStyle {
        self.style
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> serde_json::Value {
        serde_json::json!({
            "id": "1h", "name": "1 hour", "price": 10, "validity": "1h",
            "rate_limit": "2M/5M", "devices": 1
        })
    }

    #[test]
    fn parses_and_round_trips() {
        let p: Package = serde_json::from_value(raw()).unwrap();
        assert_eq!(p.price(), Money::parse(Currency::Kes, "10").unwrap());
        assert_eq!(serde_json::to_value(&p).unwrap()["price"], serde_json::json!(10), "older agents read integers");
        assert!(serde_json::to_value(&p).unwrap().get("currency").is_none(), "and no currency for KES");
        assert_eq!(p.validity().secs(), 3600);
        assert_eq!(p.style(), GrantStyle::HotspotUser);
        let back: Package = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn rejections() {
        let cases: &[(&str, serde_json::Value, &str)] = &[
            ("name", serde_json::json!(""), "package name"),
            ("validity", serde_json::json!("0s"), "validity must be longer"),
            ("uptime_limit", serde_json::json!("2h"), "uptime limit"),
            ("data_cap_bytes", serde_json::json!(10), "data cap"),
            ("devices", serde_json::json!(0), "devices allowed"),
            ("price", serde_json::json!(0), "at least KES 1"),
            ("price", serde_json::json!(10.5), "whole (M-Pesa takes no cents)"),
            ("price", serde_json::json!(250_001), "at most KES 250000"),
            ("price", serde_json::json!(-5), "negative"),
            ("price", serde_json::json!("ten"), "amount"),
            ("rate_limit", serde_json::json!("fast"), "rate"),
            ("validity", serde_json::json!("1 hour"), "RouterOS notation"),
        ];
        for (field, v, want) in cases {
            let mut r = raw();
            r[*field] = v.clone();
            let e = serde_json::from_value::<Package>(r).unwrap_err().to_string();
            assert!(e.contains(want), "{field}: {e}");
        }
        // Other currencies: their own minor units and caps.
        let mut r = raw();
        r["currency"] = serde_json::json!("GHS");
        r["price"] = serde_json::json!(2.5);
        let p: Package = serde_json::from_value(r.clone()).unwrap();
        assert_eq!(p.price().to_string(), "GHS 2.50");
        assert_eq!(serde_json::from_value::<Package>(serde_json::to_value(&p).unwrap()).unwrap(), p);
        r["currency"] = serde_json::json!("UGX");
        assert!(serde_json::from_value::<Package>(r.clone()).unwrap_err().to_string().contains("UGX has 0 decimal"));
        r["price"] = serde_json::json!(5000);
        assert_eq!(serde_json::from_value::<Package>(r).unwrap().price().to_string(), "UGX 5,000");
        // A field a newer cloud adds is ignored (docs/wire-contract.md, compatibility).
        let mut r = raw();
        r["surprise"] = serde_json::json!(1);
        assert_eq!(serde_json::from_value::<Package>(r).unwrap(), serde_json::from_value::<Package>(raw()).unwrap());
    }
}
