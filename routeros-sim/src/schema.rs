//! Field definitions of the emulated menus: which parameters exist, their defaults, and how
//! values are checked and normalised (RouterOS prints a MAC upper case whatever was written).

use hotspot_core::{MacAddr, RateLimit, RosDuration};
use routeros::ops::AddressMatch;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Mac,
    Duration,
    /// A duration or `none`.
    DurationOrNone,
    U64,
    Bool,
    Ip,
    /// Address or prefix (`10.0.0.0/24`).
    IpPrefix,
    /// Address, range or prefix (`A.B.C.D[-A.B.C.D|/0..32]`): ip-binding and NAT addresses.
    AddressMatch,
    /// Any MAC, `00:00:00:00:00:00` ("any") and group addresses included: ip-binding's.
    AnyMac,
    RateLimit,
    OneOf(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
}

const fn f(name: &'static str, kind: Kind, default: Option<&'static str>) -> Field {
    Field { name, kind, default }
}

pub const USER_FIELDS: &[Field] = &[
    f("name", Kind::Text, None),
    f("password", Kind::Text, None),
    f("profile", Kind::Text, Some("default")),
    f("server", Kind::Text, Some("all")),
    f("mac-address", Kind::Mac, None),
    f("address", Kind::Ip, None),
    f("limit-uptime", Kind::Duration, None),
    f("limit-bytes-total", Kind::U64, None),
    f("limit-bytes-in", Kind::U64, None),
    f("limit-bytes-out", Kind::U64, None),
    f("email", Kind::Text, None),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
];

pub const PROFILE_FIELDS: &[Field] = &[
    f("name", Kind::Text, None),
    f("rate-limit", Kind::RateLimit, None),
    f("shared-users", Kind::U64, Some("1")),
    f("session-timeout", Kind::Duration, Some("0s")),
    f("idle-timeout", Kind::DurationOrNone, Some("none")),
    f("keepalive-timeout", Kind::DurationOrNone, Some("2m")),
    f("status-autorefresh", Kind::Duration, Some("1m")),
    f("address-pool", Kind::Text, Some("none")),
    f("add-mac-cookie", Kind::Bool, Some("true")),
    f("mac-cookie-timeout", Kind::Duration, Some("3d")),
    f("comment", Kind::Text, None),
];

pub const BINDING_FIELDS: &[Field] = &[
    f("mac-address", Kind::AnyMac, None),
    f("address", Kind::AddressMatch, None),
    f("to-address", Kind::Ip, None),
    f("server", Kind::Text, Some("all")),
    f("type", Kind::OneOf(&["regular", "bypassed", "blocked"]), Some("regular")),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
];

/// `/ip/firewall/nat`, the parts that decide whether a packet is source-NATed.
pub const NAT_FIELDS: &[Field] = &[
    f("chain", Kind::Text, None),
    f(
        "action",
        Kind::OneOf(&[
            "accept",
            "masquerade",
            "src-nat",
            "dst-nat",
            "redirect",
            "netmap",
            "passthrough",
            "return",
            "jump",
            "log",
        ]),
        Some("accept"),
    ),
    f("src-address", Kind::AddressMatch, None),
    f("dst-address", Kind::AddressMatch, None),
    f("out-interface", Kind::Text, None),
    f("in-interface", Kind::Text, None),
    f("protocol", Kind::Text, None),
    f("to-addresses", Kind::Text, None),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
];

pub const WALLED_IP_FIELDS: &[Field] = &[
    f("action", Kind::OneOf(&["accept", "drop", "reject"]), Some("accept")),
    f("dst-address", Kind::IpPrefix, None),
    f("dst-port", Kind::Text, None),
    f("protocol", Kind::Text, None),
    f("src-address", Kind::IpPrefix, None),
    f("server", Kind::Text, None),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
];

/// Checks and normalises one value; `Err` carries the trap message.
pub fn normalise(field: &Field, value: &str) -> Result<String, String> {
    let bad = || format!("invalid value for argument {}", field.name);
    Ok(match field.kind {
        Kind::Text => value.to_string(),
        Kind::Mac => value.parse::<MacAddr>().map_err(|_| bad())?.to_string(),
        Kind::Duration => value.parse::<RosDuration>().map_err(|_| bad())?.to_string(),
        Kind::DurationOrNone if value == "none" => "none".into(),
        Kind::DurationOrNone => value.parse::<RosDuration>().map_err(|_| bad())?.to_string(),
        Kind::U64 => value.parse::<u64>().map_err(|_| bad())?.to_string(),
        Kind::Bool => match value {
            "yes" | "true" => "true".into(),
            "no" | "false" => "false".into(),
            _ => return Err(bad()),
        },
        Kind::Ip => value.parse::<Ipv4Addr>().map_err(|_| bad())?.to_string(),
        Kind::IpPrefix => {
            let (ip, len) = match value.split_once('/') {
                Some((ip, l)) => (ip, Some(l.parse::<u8>().ok().filter(|l| *l <= 32).ok_or_else(bad)?)),
                None => (value, None),
            };
            let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
            match len {
                Some(l) => format!("{ip}/{l}"),
                None => ip.to_string(),
            }
        }
        Kind::AddressMatch => value.parse::<AddressMatch>().map_err(|_| bad())?.to_string(),
        Kind::AnyMac => {
            let hex: String = value.chars().filter(|c| *c != ':' && *c != '-').collect();
            if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            let up = hex.to_ascii_uppercase();
            (0..6).map(|i| &up[i * 2..i * 2 + 2]).collect::<Vec<_>>().join(":")
        }
        Kind::RateLimit => value.parse::<RateLimit>().map_err(|_| bad())?.to_string(),
        Kind::OneOf(opts) => opts.iter().find(|o| **o == value).ok_or_else(bad)?.to_string(),
    })
}

pub fn field(fields: &'static [Field], name: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_routeros() {
        let mac = field(USER_FIELDS, "mac-address").unwrap();
        assert_eq!(normalise(mac, "aa-bb-cc-dd-ee-f0").unwrap(), "AA:BB:CC:DD:EE:F0");
        assert!(normalise(mac, "nope").is_err());
        let up = field(USER_FIELDS, "limit-uptime").unwrap();
        assert_eq!(normalise(up, "01:00:00").unwrap(), "1h");
        let dis = field(USER_FIELDS, "disabled").unwrap();
        assert_eq!(normalise(dis, "yes").unwrap(), "true");
        let wg = field(WALLED_IP_FIELDS, "dst-address").unwrap();
        assert_eq!(normalise(wg, "10.0.0.0/24").unwrap(), "10.0.0.0/24");
        assert!(normalise(wg, "10.0.0.0/33").is_err());
        let ba = field(BINDING_FIELDS, "address").unwrap();
        for ok in ["10.5.50.7", "10.5.50.0/24", "10.5.50.10-10.5.50.20"] {
            assert_eq!(normalise(ba, ok).unwrap(), ok, "RouterOS takes {ok} for an ip-binding");
        }
        assert!(normalise(ba, "10.5.50.20-10.5.50.10").is_err());
        let bm = field(BINDING_FIELDS, "mac-address").unwrap();
        assert_eq!(normalise(bm, "00:00:00:00:00:00").unwrap(), "00:00:00:00:00:00", "any MAC");
    }
}
