//! PPP and WireGuard accounts: `/ppp/secret`, `/ppp/profile`, `/ppp/active`, `/ip/pool`,
//! `/interface/wireguard` and its `peers`. Pure state beside the hotspot's `World`, on the same
//! simulated clock. What real routers do that a client must cope with:
//! - disabling or removing a secret does not end its session: `/ppp/active` keeps it until it is
//!   removed there too (or the profile's `session-timeout` ends it);
//! - a profile's `only-one=yes` refuses a second session of the same name;
//! - the remote address comes from the secret, else from the profile (an address or a pool);
//! - `private-key=auto` makes a key pair; the public key is derived from the private one.

use std::net::Ipv4Addr;

use hotspot_core::{RosDuration, WgKey};
use routeros::Attrs;
use routeros::ops::AddressMatch;
use serde::{Deserialize, Serialize};

use crate::menu::{Outcome, Request, Res, Table, apply, fmt_id, ids_in, listing};
use crate::schema::{ADDRESS_FIELDS, POOL_FIELDS, PPP_PROFILE_FIELDS, PPP_SECRET_FIELDS, WG_FIELDS, WG_PEER_FIELDS};
use crate::version::RosVersion;

/// Why a PPP client's dial-in was refused (the router logs it; the client sees its link fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PppRefusal {
    /// No such secret, a wrong password or a secret for another service: "authentication failed".
    AuthenticationFailed,
    Disabled,
    /// The profile says `only-one=yes` and the name has a session.
    OnlyOne,
    /// Neither the secret nor its profile gives the client an address, or the pool is used up.
    NoAddress,
}

/// Why a PPP session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PppEnd {
    /// `/ppp/active remove`.
    Removed,
    SessionTimeout,
    /// The client hung up.
    HungUp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PppSession {
    pub id: String,
    pub name: String,
    pub service: String,
    pub caller_id: String,
    pub address: Ipv4Addr,
    pub started_at_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PppEnded {
    pub name: String,
    pub address: Ipv4Addr,
    pub uptime_secs: u64,
    pub ended_at_secs: u64,
    pub reason: PppEnd,
}

#[derive(Debug, Clone)]
struct Session {
    id: u32,
    name: String,
    service: String,
    caller_id: String,
    address: Ipv4Addr,
    started: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Accounts {
    pub secrets: Table,
    pub profiles: Table,
    pub pools: Table,
    pub addresses: Table,
    pub wireguard: Table,
    pub peers: Table,
    active: Vec<Session>,
    next_active: u32,
    pub ended: Vec<PppEnded>,
}

const SERVICES_WITH_SERVERS: &[&str] = &["async", "l2tp", "ovpn", "pppoe", "pptp", "sstp"];

fn key_pair() -> (WgKey, WgKey) {
    let secret = x25519_dalek::StaticSecret::from(rand::random::<[u8; 32]>());
    let public = x25519_dalek::PublicKey::from(&secret);
    (WgKey::from_bytes(secret.to_bytes()), WgKey::from_bytes(public.to_bytes()))
}

fn public_of(private: &WgKey) -> WgKey {
    let secret = x25519_dalek::StaticSecret::from(private.bytes());
    WgKey::from_bytes(x25519_dalek::PublicKey::from(&secret).to_bytes())
}

fn value<'a>(vals: &'a [(String, String)], k: &str) -> Option<&'a str> {
    vals.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

/// `private-key=auto` becomes a key; a given private key brings its public key along.
fn fill_keys(vals: &mut Vec<(String, String)>) {
    match value(vals, "private-key") {
        Some("auto") => {
            let (private, public) = key_pair();
            vals.retain(|(k, _)| k != "private-key" && k != "public-key");
            vals.push(("private-key".into(), private.to_string()));
            vals.push(("public-key".into(), public.to_string()));
        }
        Some("none") => vals.retain(|(k, _)| k != "private-key"),
        Some(k) => {
            if let Ok(private) = k.parse::<WgKey>() {
                vals.retain(|(k, _)| k != "public-key");
                vals.push(("public-key".into(), public_of(&private).to_string()));
            }
        }
        None => {}
    }
    match value(vals, "preshared-key") {
        Some("auto") => {
            let psk = WgKey::from_bytes(rand::random::<[u8; 32]>()).to_string();
            vals.retain(|(k, _)| k != "preshared-key");
            vals.push(("preshared-key".into(), psk));
        }
        Some("none") => vals.retain(|(k, _)| k != "preshared-key"),
        _ => {}
    }
}

fn secs(a: &Attrs, k: &str) -> Option<u64> {
    a.get(k).and_then(|v| v.parse::<RosDuration>().ok()).map(|d| d.secs()).filter(|s| *s > 0)
}

fn dur(secs: u64) -> String {
    RosDuration::from_secs(secs).map(|d| d.to_string()).unwrap_or_else(|_| format!("{secs}s"))
}

impl Accounts {
    pub fn new(version: RosVersion) -> Accounts {
        let mut profiles = Table::new(PPP_PROFILE_FIELDS);
        // RouterOS ships `default` (*0) and `default-encryption` (*FFFFFFFE).
        profiles.next_id = 0;
        profiles.insert(vec![("name".into(), "default".into())]);
        profiles.next_id = 0xFFFF_FFFE;
        profiles.insert(vec![("name".into(), "default-encryption".into()), ("use-encryption".into(), "yes".into())]);
        profiles.next_id = 1;
        Accounts {
            secrets: Table::new(PPP_SECRET_FIELDS),
            profiles,
            pools: Table::new(POOL_FIELDS),
            addresses: Table::new(ADDRESS_FIELDS),
            wireguard: Table::new(WG_FIELDS),
            peers: Table::versioned(WG_PEER_FIELDS, version),
            active: Vec::new(),
            next_active: 1,
            ended: Vec::new(),
        }
    }

    /// Commands under `/ppp`, `/ip/pool` and `/interface/wireguard`; `None` for other menus.
    pub fn route(&mut self, menu: &str, verb: &str, req: &Request, now: u64) -> Option<Res<Outcome>> {
        Some(match menu {
            "/ppp/secret" => self.secret_cmd(verb, req),
            "/ppp/profile" => self.profile_cmd(verb, req),
            "/ppp/active" => self.active_cmd(verb, req, now),
            "/ip/pool" => self.pools.command(verb, req),
            "/ip/address" => self.address_cmd(verb, req),
            "/interface/wireguard" => self.wireguard_cmd(verb, req),
            "/interface/wireguard/peers" => self.peer_cmd(verb, req),
            _ => return None,
        })
    }

    fn named(vals: &[(String, String)]) -> Res<String> {
        match value(vals, "name") {
            Some(n) if !n.is_empty() => Ok(n.to_string()),
            _ => Err(Outcome::trap_cat(1, "failure: name must be set")),
        }
    }

    fn profile_exists(&self, vals: &[(String, String)]) -> Res<()> {
        match value(vals, "profile") {
            Some(p) if self.profiles.by_name(p).is_none() => {
                Err(Outcome::trap_cat(1, "input does not match any value of profile"))
            }
            _ => Ok(()),
        }
    }

    fn secret_cmd(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        const DUP: &str = "failure: secret with the same name already exists";
        match verb {
            "add" => {
                let vals = self.secrets.validate(req)?;
                let name = Self::named(&vals)?;
                self.profile_exists(&vals)?;
                if self.secrets.by_name(&name).is_some() {
                    return Err(Outcome::trap(DUP));
                }
                Ok(Outcome::ret(fmt_id(self.secrets.insert(vals))))
            }
            "set" | "enable" | "disable" => {
                let ids = self.secrets.ids_of(req)?;
                let mut vals = if verb == "set" { self.secrets.validate(req)? } else { Vec::new() };
                if verb != "set" {
                    vals.push(("disabled".into(), (verb == "disable").to_string()));
                }
                self.profile_exists(&vals)?;
                if let Some(name) = value(&vals, "name") {
                    if name.is_empty() {
                        return Err(Outcome::trap_cat(1, "failure: name must be set"));
                    }
                    if self.secrets.ids_named(name).iter().any(|id| !ids.contains(id)) || ids.len() > 1 {
                        return Err(Outcome::trap(DUP));
                    }
                }
                for r in self.secrets.rows.iter_mut().filter(|r| ids.contains(&r.id)) {
                    apply(&mut r.attrs, vals.clone());
                }
                self.secrets.reindex();
                Ok(Outcome::default())
            }
            // `print` and `remove` as any table: removing a secret leaves its session up.
            _ => self.secrets.command(verb, req),
        }
    }

    fn profile_cmd(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        const BUILT_IN: [u32; 2] = [0, 0xFFFF_FFFE];
        match verb {
            "add" => {
                let vals = self.profiles.validate(req)?;
                let name = Self::named(&vals)?;
                if self.profiles.by_name(&name).is_some() {
                    return Err(Outcome::trap("failure: profile with the same name already exists"));
                }
                Ok(Outcome::ret(fmt_id(self.profiles.insert(vals))))
            }
            "remove" => {
                let ids = self.profiles.ids_of(req)?;
                if ids.iter().any(|id| BUILT_IN.contains(id)) {
                    return Err(Outcome::trap("failure: can not remove default profile"));
                }
                let names: Vec<String> = self
                    .profiles
                    .rows
                    .iter()
                    .filter(|r| ids.contains(&r.id))
                    .filter_map(|r| r.attrs.get("name").cloned())
                    .collect();
                if self.secrets.rows.iter().any(|s| s.attrs.get("profile").is_some_and(|p| names.contains(p))) {
                    return Err(Outcome::trap("failure: profile is in use"));
                }
                self.profiles.command(verb, req)
            }
            "print" => {
                let mut rows = self.profiles.rows_with_ids();
                for r in &mut rows {
                    let built_in = r.get(".id").is_some_and(|id| id == "*0" || id == "*FFFFFFFE");
                    r.insert("default".into(), built_in.to_string());
                }
                listing(req, rows)
            }
            _ => self.profiles.command(verb, req),
        }
    }

    fn active_attrs(&self, s: &Session, now: u64) -> Attrs {
        let secret = self.secrets.by_name(&s.name).map(|r| r.attrs.clone()).unwrap_or_default();
        let mut a = Attrs::from([
            (".id".to_string(), fmt_id(s.id)),
            ("name".to_string(), s.name.clone()),
            ("service".to_string(), s.service.clone()),
            ("caller-id".to_string(), s.caller_id.clone()),
            ("address".to_string(), s.address.to_string()),
            ("uptime".to_string(), dur(now.saturating_sub(s.started))),
            ("encoding".to_string(), String::new()),
            ("session-id".to_string(), format!("0x{:08X}", 0x8100_0000u32 + s.id)),
            ("radius".to_string(), "false".to_string()),
        ]);
        for k in ["limit-bytes-in", "limit-bytes-out"] {
            a.insert(k.into(), secret.get(k).cloned().unwrap_or_else(|| "0".into()));
        }
        a
    }

    fn active_cmd(&mut self, verb: &str, req: &Request, now: u64) -> Res<Outcome> {
        match verb {
            "print" => listing(req, self.active.iter().map(|s| self.active_attrs(s, now)).collect()),
            "remove" => {
                let ids = ids_in(req, self.active.iter().map(|s| s.id).collect())?;
                for id in ids {
                    self.end(id, PppEnd::Removed, now);
                }
                Ok(Outcome::default())
            }
            _ => Err(Outcome::trap_cat(0, "no such command")),
        }
    }

    /// `/ip/address`: `address` is required and must be a prefix; print adds the network.
    fn address_cmd(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        match verb {
            "add" => {
                let vals = self.addresses.validate(req)?;
                let Some(prefix) = value(&vals, "address").filter(|a| !a.is_empty()) else {
                    return Err(Outcome::trap_cat(1, "failure: address must be set"));
                };
                let network = prefix.parse::<AddressMatch>().ok().and_then(|m| match m {
                    AddressMatch::Prefix(ip, len) => {
                        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                        Some(Ipv4Addr::from(u32::from(ip) & mask))
                    }
                    AddressMatch::One(ip) => Some(ip),
                    AddressMatch::Range(..) => None,
                });
                let mut vals = vals.clone();
                if let Some(net) = network {
                    vals.push(("network".into(), net.to_string()));
                }
                Ok(Outcome::ret(fmt_id(self.addresses.insert(vals))))
            }
            "print" => {
                let mut rows = self.addresses.rows_with_ids();
                for r in &mut rows {
                    let iface = r.get("interface").cloned().unwrap_or_default();
                    r.insert("actual-interface".into(), iface);
                    r.insert("dynamic".into(), "false".into());
                    r.insert("invalid".into(), "false".into());
                }
                listing(req, rows)
            }
            _ => self.addresses.command(verb, req),
        }
    }

    fn wireguard_cmd(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        match verb {
            "add" => {
                let mut vals = self.wireguard.validate(req)?;
                let name = Self::named(&vals)?;
                if self.wireguard.by_name(&name).is_some() {
                    return Err(Outcome::trap("failure: interface with such name exists"));
                }
                if value(&vals, "private-key").is_none() {
                    vals.push(("private-key".into(), "auto".into()));
                }
                fill_keys(&mut vals);
                Ok(Outcome::ret(fmt_id(self.wireguard.insert(vals))))
            }
            "set" => {
                let mut vals = self.wireguard.validate(req)?;
                fill_keys(&mut vals);
                let ids = self.wireguard.ids_of(req)?;
                for r in self.wireguard.rows.iter_mut().filter(|r| ids.contains(&r.id)) {
                    apply(&mut r.attrs, vals.clone());
                }
                self.wireguard.reindex();
                Ok(Outcome::default())
            }
            "print" => {
                let mut rows = self.wireguard.rows_with_ids();
                for r in &mut rows {
                    let up = r.get("disabled").is_none_or(|d| d != "true");
                    r.insert("running".into(), up.to_string());
                }
                listing(req, rows)
            }
            _ => self.wireguard.command(verb, req),
        }
    }

    fn peer_cmd(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        match verb {
            "add" | "set" => {
                let mut vals = self.peers.validate(req)?;
                fill_keys(&mut vals);
                if let Some(i) = value(&vals, "interface")
                    && self.wireguard.by_name(i).is_none()
                {
                    return Err(Outcome::trap_cat(1, "input does not match any value of interface"));
                }
                let ids = if verb == "set" { self.peers.ids_of(req)? } else { Vec::new() };
                let current =
                    |k: &str| ids.first().and_then(|id| self.peers.find(*id)).and_then(|r| r.attrs.get(k).cloned());
                let interface = value(&vals, "interface").map(str::to_string).or_else(|| current("interface"));
                let public = value(&vals, "public-key").map(str::to_string).or_else(|| current("public-key"));
                let (Some(interface), Some(public)) = (interface, public) else {
                    let missing = if value(&vals, "interface").is_none() { "interface" } else { "public-key" };
                    return Err(Outcome::trap_cat(1, format!("failure: {missing} must be set")));
                };
                let clash = self.peers.rows.iter().any(|r| {
                    !ids.contains(&r.id)
                        && r.attrs.get("interface") == Some(&interface)
                        && r.attrs.get("public-key") == Some(&public)
                });
                if clash {
                    return Err(Outcome::trap("failure: peer with the same public-key already exists"));
                }
                if verb == "add" {
                    return Ok(Outcome::ret(fmt_id(self.peers.insert(vals))));
                }
                for r in self.peers.rows.iter_mut().filter(|r| ids.contains(&r.id)) {
                    apply(&mut r.attrs, vals.clone());
                }
                Ok(Outcome::default())
            }
            "print" => {
                let mut rows = self.peers.rows_with_ids();
                for r in &mut rows {
                    for (k, v) in [("rx", "0"), ("tx", "0"), ("dynamic", "false")] {
                        r.entry(k.into()).or_insert_with(|| v.into());
                    }
                }
                listing(req, rows)
            }
            "enable" | "disable" => {
                let ids = self.peers.ids_of(req)?;
                for r in self.peers.rows.iter_mut().filter(|r| ids.contains(&r.id)) {
                    r.attrs.insert("disabled".into(), (verb == "disable").to_string());
                }
                Ok(Outcome::default())
            }
            _ => self.peers.command(verb, req),
        }
    }

    // ------------------------------------------------------------ the clients' side

    /// A PPP client (a subscriber's router dialling PPPoE, a VPN app) connects as `name`.
    /// Returns the session's address, or why the router refused it.
    pub fn dial(
        &mut self,
        name: &str,
        password: &str,
        service: &str,
        caller_id: &str,
        now: u64,
    ) -> Result<Ipv4Addr, PppRefusal> {
        let secret = self.secrets.by_name(name).map(|r| r.attrs.clone()).ok_or(PppRefusal::AuthenticationFailed)?;
        let service_ok = SERVICES_WITH_SERVERS.contains(&service)
            && secret.get("service").is_none_or(|s| s == "any" || s == service);
        if secret.get("password").map(String::as_str).unwrap_or("") != password || !service_ok {
            return Err(PppRefusal::AuthenticationFailed);
        }
        if secret.get("disabled").is_some_and(|d| d == "true") {
            return Err(PppRefusal::Disabled);
        }
        let profile =
            secret.get("profile").and_then(|p| self.profiles.by_name(p)).map(|r| r.attrs.clone()).unwrap_or_default();
        if profile.get("only-one").is_some_and(|o| o == "yes") && self.active.iter().any(|s| s.name == name) {
            return Err(PppRefusal::OnlyOne);
        }
        let address = match secret.get("remote-address").and_then(|a| a.parse().ok()) {
            Some(a) => a,
            None => {
                self.address_from(profile.get("remote-address").map(String::as_str)).ok_or(PppRefusal::NoAddress)?
            }
        };
        let id = self.next_active;
        self.next_active += 1;
        self.active.push(Session {
            id,
            name: name.to_string(),
            service: service.to_string(),
            caller_id: caller_id.to_string(),
            address,
            started: now,
        });
        Ok(address)
    }

    /// An address given as itself or as a pool's name: the pool's first address no session holds.
    fn address_from(&self, spec: Option<&str>) -> Option<Ipv4Addr> {
        let spec = spec?;
        if let Ok(ip) = spec.parse() {
            return Some(ip);
        }
        let pool = self.pools.by_name(spec)?;
        let ranges = pool.attrs.get("ranges")?;
        for r in ranges.split(',') {
            let (lo, hi) = match r.parse::<AddressMatch>().ok()? {
                AddressMatch::One(ip) => (ip, ip),
                AddressMatch::Range(lo, hi) => (lo, hi),
                AddressMatch::Prefix(ip, len) => {
                    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                    let base = u32::from(ip) & mask;
                    (Ipv4Addr::from(base), Ipv4Addr::from(base | !mask))
                }
            };
            for n in u32::from(lo)..=u32::from(hi) {
                let ip = Ipv4Addr::from(n);
                if !self.active.iter().any(|s| s.address == ip) {
                    return Some(ip);
                }
            }
        }
        None
    }

    /// The client hung up. False if `name` had no session.
    pub fn hang_up(&mut self, name: &str, now: u64) -> bool {
        let ids: Vec<u32> = self.active.iter().filter(|s| s.name == name).map(|s| s.id).collect();
        for id in &ids {
            self.end(*id, PppEnd::HungUp, now);
        }
        !ids.is_empty()
    }

    fn end(&mut self, id: u32, reason: PppEnd, now: u64) {
        if let Some(pos) = self.active.iter().position(|s| s.id == id) {
            let s = self.active.remove(pos);
            let uptime = now.saturating_sub(s.started);
            self.ended.push(PppEnded {
                name: s.name,
                address: s.address,
                uptime_secs: uptime,
                ended_at_secs: now,
                reason,
            });
        }
    }

    /// The clock moved from `from` to `to`: profiles' `session-timeout` ends sessions, each at
    /// the second it ran out.
    pub fn advance(&mut self, from: u64, to: u64) {
        let mut ending: Vec<(u32, u64)> = Vec::new();
        for s in &self.active {
            let timeout = self
                .secrets
                .by_name(&s.name)
                .and_then(|r| r.attrs.get("profile"))
                .and_then(|p| self.profiles.by_name(p))
                .and_then(|p| secs(&p.attrs, "session-timeout"));
            if let Some(t) = timeout
                && s.started + t <= to
            {
                ending.push((s.id, (s.started + t).max(from)));
            }
        }
        ending.sort_by_key(|(_, at)| *at);
        for (id, at) in ending {
            self.end(id, PppEnd::SessionTimeout, at);
        }
    }

    pub fn sessions(&self) -> Vec<PppSession> {
        self.active
            .iter()
            .map(|s| PppSession {
                id: fmt_id(s.id),
                name: s.name.clone(),
                service: s.service.clone(),
                caller_id: s.caller_id.clone(),
                address: s.address,
                started_at_secs: s.started,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, attrs: &[(&str, &str)]) -> Request {
        Request::of(path, attrs)
    }

    fn run(a: &mut Accounts, menu: &str, verb: &str, attrs: &[(&str, &str)]) -> Outcome {
        match a.route(menu, verb, &req(&format!("{menu}/{verb}"), attrs), 0) {
            Some(Ok(o)) | Some(Err(o)) => o,
            None => panic!("{menu} not routed"),
        }
    }

    #[test]
    fn a_removed_secret_keeps_its_session_until_active_remove() {
        let mut a = Accounts::new(RosVersion::V7_18);
        run(&mut a, "/ip/pool", "add", &[("name", "subs"), ("ranges", "10.9.0.10-10.9.0.11")]);
        run(&mut a, "/ppp/profile", "add", &[("name", "home"), ("remote-address", "subs"), ("only-one", "yes")]);
        let o = run(&mut a, "/ppp/secret", "add", &[("name", "acc1"), ("password", "pw"), ("profile", "home")]);
        assert_eq!(o.trap, None);
        assert_eq!(a.dial("acc1", "pw", "pppoe", "AA:BB:CC:00:00:01", 0), Ok("10.9.0.10".parse().unwrap()));
        assert_eq!(a.dial("acc1", "pw", "pppoe", "AA:BB:CC:00:00:02", 0), Err(PppRefusal::OnlyOne));
        assert_eq!(a.dial("acc1", "nope", "pppoe", "x", 0), Err(PppRefusal::AuthenticationFailed));
        let id = a.secrets.by_name("acc1").map(|r| fmt_id(r.id)).unwrap();
        run(&mut a, "/ppp/secret", "remove", &[(".id", &id)]);
        assert_eq!(a.sessions().len(), 1, "RouterOS leaves the session up");
        let sid = a.sessions()[0].id.clone();
        run(&mut a, "/ppp/active", "remove", &[(".id", &sid)]);
        assert!(a.sessions().is_empty());
        assert_eq!(a.ended[0].reason, PppEnd::Removed);
    }

    #[test]
    fn session_timeout_ends_at_the_second() {
        let mut a = Accounts::new(RosVersion::V7_18);
        run(&mut a, "/ppp/profile", "add", &[("name", "day"), ("session-timeout", "1d")]);
        run(
            &mut a,
            "/ppp/secret",
            "add",
            &[("name", "v1"), ("password", "p"), ("profile", "day"), ("remote-address", "10.9.0.5")],
        );
        a.dial("v1", "p", "l2tp", "203.0.113.7", 100).unwrap();
        a.advance(100, 86_399);
        assert_eq!(a.sessions().len(), 1);
        a.advance(86_399, 200_000);
        assert_eq!((a.ended[0].ended_at_secs, a.ended[0].uptime_secs), (86_500, 86_400));
    }

    #[test]
    fn wireguard_keys_are_real_pairs_and_new_properties_follow_the_version() {
        let mut a = Accounts::new(RosVersion { major: 7, minor: 14 });
        run(&mut a, "/interface/wireguard", "add", &[("name", "wg-sell")]);
        let wg = a.wireguard.by_name("wg-sell").unwrap().attrs.clone();
        let private: WgKey = wg["private-key"].parse().unwrap();
        assert_eq!(wg["public-key"], public_of(&private).to_string());
        let o = run(&mut a, "/interface/wireguard/peers", "add", &[("interface", "wg-sell"), ("private-key", "auto")]);
        assert_eq!(o.trap, None, "7.12+ makes the peer's keys");
        let o = run(&mut a, "/interface/wireguard/peers", "add", &[("interface", "wg-sell"), ("name", "x")]);
        assert_eq!(o.trap, Some((None, "unknown parameter name".into())), "peer names are 7.15+");
        let key = a.peers.rows[0].attrs["public-key"].clone();
        let o = run(&mut a, "/interface/wireguard/peers", "add", &[("interface", "wg-sell"), ("public-key", &key)]);
        assert!(o.trap.is_some(), "one peer per public key on an interface");
        let o = run(&mut a, "/interface/wireguard/peers", "add", &[("interface", "nope"), ("public-key", &key)]);
        assert!(o.trap.is_some());
    }
}
