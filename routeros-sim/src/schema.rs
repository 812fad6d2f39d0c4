//! Field definitions of the emulated menus: which parameters exist, their defaults, and how
//! values are checked and normalised (RouterOS prints a MAC upper case whatever was written).

use hotspot_core::{MacAddr, RateLimit, RosDuration, WgKey};
use routeros::ops::AddressMatch;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::version::RosVersion;

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
    /// A WireGuard key (44 characters of base64).
    WgKey,
    /// A WireGuard key, `auto` (the router makes one) or `none`.
    WgKeyOrAuto,
    /// A TCP/UDP port.
    Port,
    /// Comma-separated IPv4 or IPv6 prefixes; a bare address reads as a host prefix (`/32`).
    PrefixList,
    /// A WireGuard keepalive: a duration of at most `18h12m15s` (65535 s), `0s` = off.
    Keepalive,
    /// `/ip/pool` `ranges`: comma-separated `A.B.C.D[-A.B.C.D|/0..32]`.
    Ranges,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub default: Option<&'static str>,
    /// The first RouterOS version that has the property (its command schema's `/console/inspect`).
    pub since: Option<RosVersion>,
}

const fn f(name: &'static str, kind: Kind, default: Option<&'static str>) -> Field {
    Field { name, kind, default, since: None }
}

const fn since(major: u16, minor: u16, field: Field) -> Field {
    Field { since: Some(RosVersion { major, minor }), ..field }
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

// PPP and WireGuard accounts (ppp.rs): names and first versions from RouterOS's own command
// schemas, routeros-sim/tests/fixtures/inspect-ppp-wireguard.json; the simulator takes the
// subset the agent and operators use.

const PPP_SERVICES: &[&str] = &["any", "async", "l2tp", "ovpn", "pppoe", "pptp", "sstp"];
const DEFAULT_NO_YES: &[&str] = &["default", "no", "yes"];

pub const PPP_SECRET_FIELDS: &[Field] = &[
    f("name", Kind::Text, None),
    f("password", Kind::Text, None),
    f("service", Kind::OneOf(PPP_SERVICES), Some("any")),
    f("profile", Kind::Text, Some("default")),
    f("local-address", Kind::Ip, None),
    f("remote-address", Kind::Ip, None),
    f("caller-id", Kind::Text, None),
    f("routes", Kind::Text, None),
    f("limit-bytes-in", Kind::U64, Some("0")),
    f("limit-bytes-out", Kind::U64, Some("0")),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
];

pub const PPP_PROFILE_FIELDS: &[Field] = &[
    f("name", Kind::Text, None),
    // An address or the name of an `/ip/pool`.
    f("local-address", Kind::Text, None),
    f("remote-address", Kind::Text, None),
    f("rate-limit", Kind::RateLimit, None),
    f("only-one", Kind::OneOf(DEFAULT_NO_YES), Some("default")),
    f("session-timeout", Kind::Duration, None),
    f("idle-timeout", Kind::Duration, None),
    f("dns-server", Kind::Text, None),
    f("change-tcp-mss", Kind::OneOf(DEFAULT_NO_YES), Some("default")),
    f("use-encryption", Kind::OneOf(&["default", "no", "required", "yes"]), Some("default")),
    f("address-list", Kind::Text, None),
    f("comment", Kind::Text, None),
];

pub const POOL_FIELDS: &[Field] = &[
    f("name", Kind::Text, None),
    f("ranges", Kind::Ranges, None),
    f("next-pool", Kind::Text, Some("none")),
    f("comment", Kind::Text, None),
];

/// `/ip/address`: the router's end of the WireGuard accounts' tunnel network.
pub const ADDRESS_FIELDS: &[Field] = &[
    f("address", Kind::IpPrefix, None),
    f("interface", Kind::Text, None),
    f("network", Kind::Ip, None),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
];

pub const WG_FIELDS: &[Field] = &[
    f("name", Kind::Text, None),
    f("listen-port", Kind::Port, Some("13231")),
    f("mtu", Kind::U64, Some("1420")),
    f("private-key", Kind::WgKeyOrAuto, None),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
];

pub const WG_PEER_FIELDS: &[Field] = &[
    f("interface", Kind::Text, None),
    f("public-key", Kind::WgKey, None),
    f("allowed-address", Kind::PrefixList, None),
    f("endpoint-address", Kind::Text, None),
    f("endpoint-port", Kind::Port, Some("0")),
    f("persistent-keepalive", Kind::Keepalive, Some("0s")),
    f("preshared-key", Kind::WgKeyOrAuto, None),
    f("comment", Kind::Text, None),
    f("disabled", Kind::Bool, Some("false")),
    // 7.12: the router can hold the peer's own keys and write its client config.
    since(7, 12, f("private-key", Kind::WgKeyOrAuto, None)),
    since(7, 12, f("client-address", Kind::PrefixList, None)),
    since(7, 12, f("client-dns", Kind::Text, None)),
    since(7, 12, f("client-endpoint", Kind::Text, None)),
    since(7, 12, f("client-keepalive", Kind::Keepalive, None)),
    since(7, 12, f("client-listen-port", Kind::Port, None)),
    since(7, 15, f("name", Kind::Text, None)),
    since(7, 17, f("responder", Kind::Bool, Some("false"))),
];

fn prefix(value: &str) -> Option<String> {
    let (ip, len) = match value.split_once('/') {
        Some((ip, l)) => (ip, Some(l.parse::<u8>().ok()?)),
        None => (value, None),
    };
    if let Ok(v4) = ip.parse::<Ipv4Addr>() {
        let len = len.unwrap_or(32);
        return (len <= 32).then(|| format!("{v4}/{len}"));
    }
    let v6: Ipv6Addr = ip.parse().ok()?;
    let len = len.unwrap_or(128);
    (len <= 128).then(|| format!("{v6}/{len}"))
}

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
        Kind::WgKey => value.parse::<WgKey>().map_err(|_| bad())?.to_string(),
        Kind::WgKeyOrAuto if value == "auto" || value == "none" => value.to_string(),
        Kind::WgKeyOrAuto => value.parse::<WgKey>().map_err(|_| bad())?.to_string(),
        Kind::Port => value.parse::<u16>().map_err(|_| bad())?.to_string(),
        Kind::PrefixList => {
            value.split(',').map(|p| prefix(p.trim()).ok_or_else(bad)).collect::<Result<Vec<_>, _>>()?.join(",")
        }
        Kind::Keepalive => {
            let d = value.parse::<RosDuration>().map_err(|_| bad())?;
            if d.secs() > 65_535 {
                return Err(bad());
            }
            d.to_string()
        }
        Kind::Ranges => value
            .split(',')
            .map(|r| r.trim().parse::<AddressMatch>().map(|m| m.to_string()).map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
    })
}

/// Each emulated menu's fields (menus with rows the API adds).
pub fn fields_of(menu: &str) -> Option<&'static [Field]> {
    Some(match menu {
        "/ip/hotspot/user" => USER_FIELDS,
        "/ip/hotspot/user/profile" => PROFILE_FIELDS,
        "/ip/hotspot/ip-binding" => BINDING_FIELDS,
        "/ip/firewall/nat" => NAT_FIELDS,
        "/ip/hotspot/walled-garden/ip" => WALLED_IP_FIELDS,
        "/ppp/secret" => PPP_SECRET_FIELDS,
        "/ppp/profile" => PPP_PROFILE_FIELDS,
        "/ip/pool" => POOL_FIELDS,
        "/ip/address" => ADDRESS_FIELDS,
        "/interface/wireguard" => WG_FIELDS,
        "/interface/wireguard/peers" => WG_PEER_FIELDS,
        _ => return None,
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
        let aa = field(WG_PEER_FIELDS, "allowed-address").unwrap();
        assert_eq!(normalise(aa, "10.8.0.2, ::/0").unwrap(), "10.8.0.2/32,::/0");
        assert!(normalise(aa, "10.8.0.2/33").is_err());
        let ka = field(WG_PEER_FIELDS, "persistent-keepalive").unwrap();
        assert_eq!(normalise(ka, "25s").unwrap(), "25s");
        assert!(normalise(ka, "19h").is_err(), "at most 18h12m15s");
        let pk = field(WG_PEER_FIELDS, "public-key").unwrap();
        assert!(normalise(pk, "auto").is_err() && normalise(pk, "x").is_err());
        let svc = field(PPP_SECRET_FIELDS, "service").unwrap();
        assert!(normalise(svc, "pppoe").is_ok() && normalise(svc, "wireguard").is_err());
    }
}
