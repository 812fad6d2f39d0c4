//! The emulated router: menus, hotspot semantics and the simulated clock.
//! Pure state, no I/O: the server feeds it parsed commands and encodes what it returns.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use hotspot_core::{MacAddr, RosDuration};
use routeros::Attrs;

use crate::menu::{Outcome, Request, Res, Table, apply, fmt_id, ids_in, listing};
use crate::ppp::{Accounts, PppRefusal};
use crate::schema::{BINDING_FIELDS, NAT_FIELDS, PROFILE_FIELDS, USER_FIELDS, WALLED_IP_FIELDS};
use crate::state::{BindingState, EndReason, EndedSession, HostState, ItemState, SessionState, SimState, UserState};
use crate::version::RosVersion;

#[derive(Debug, Clone, Default)]
struct Counters {
    uptime: u64,
    bytes_in: u64,
    bytes_out: u64,
}

#[derive(Debug, Clone)]
struct Session {
    id: u32,
    user: String,
    mac: MacAddr,
    ip: Ipv4Addr,
    server: String,
    login_at: u64,
    uptime: u64,
    idle: u64,
    bytes_in: u64,
    bytes_out: u64,
}

#[derive(Debug, Clone)]
struct HostEntry {
    id: u32,
    mac: MacAddr,
    ip: Ipv4Addr,
    server: String,
}

pub const HOTSPOT_SERVER: &str = "hotspot1";

#[derive(Debug, Clone)]
pub struct World {
    pub version: RosVersion,
    identity: String,
    clock: u64,
    users: Table,
    profiles: Table,
    bindings: Table,
    walled: Table,
    nat: Table,
    counters: HashMap<String, Counters>,
    active: Vec<Session>,
    next_active: u32,
    hosts: Vec<HostEntry>,
    next_host: u32,
    ended: Vec<EndedSession>,
    /// PPP and WireGuard accounts (ppp.rs).
    pub(crate) accounts: Accounts,
    /// Host rows that may have changed since the last look (`take_hosts_dirty`): what the host
    /// listeners are told about, without comparing every row on every change.
    hosts_dirty: HostsDirty,
}

/// Which host rows may differ from what was last reported.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) enum HostsDirty {
    #[default]
    Clean,
    /// The rows of these devices (joined, left, logged in or out).
    Macs(Vec<MacAddr>),
    /// Any row (an ip-binding changed: it can bypass or block by address).
    All,
}

fn attr_u64(a: &Attrs, k: &str) -> Option<u64> {
    a.get(k).and_then(|v| v.parse().ok())
}

fn attr_dur(a: &Attrs, k: &str) -> Option<u64> {
    a.get(k).and_then(|v| v.parse::<RosDuration>().ok()).map(|d| d.secs()).filter(|s| *s > 0)
}

fn dur(secs: u64) -> String {
    RosDuration::from_secs(secs).map(|d| d.to_string()).unwrap_or_else(|_| format!("{secs}s"))
}

impl World {
    pub fn new(version: RosVersion, identity: &str) -> World {
        let mut profiles = Table::new(PROFILE_FIELDS);
        // RouterOS ships a `default` profile with id *0.
        profiles.next_id = 0;
        profiles.insert(vec![("name".into(), "default".into())]);
        World {
            version,
            identity: identity.to_string(),
            clock: 0,
            users: Table::new(USER_FIELDS),
            profiles,
            bindings: Table::new(BINDING_FIELDS),
            walled: Table::new(WALLED_IP_FIELDS),
            nat: Table::new(NAT_FIELDS),
            counters: HashMap::new(),
            active: Vec::new(),
            next_active: 1,
            hosts: Vec::new(),
            next_host: 1,
            ended: Vec::new(),
            accounts: Accounts::new(version),
            hosts_dirty: HostsDirty::Clean,
        }
    }

    fn touch_host(&mut self, mac: MacAddr) {
        match &mut self.hosts_dirty {
            HostsDirty::Clean => self.hosts_dirty = HostsDirty::Macs(vec![mac]),
            HostsDirty::Macs(m) if !m.contains(&mac) => m.push(mac),
            _ => {}
        }
    }

    /// What changed since the last call, and from now on nothing.
    pub(crate) fn take_hosts_dirty(&mut self) -> HostsDirty {
        std::mem::take(&mut self.hosts_dirty)
    }

    pub fn now(&self) -> u64 {
        self.clock
    }

    // ------------------------------------------------------------ test controls

    /// A row an operator made by hand (Winbox, an old script): taken as it is, without the
    /// checks the API applies, so it can hold a codepage comment, a range or an absent field.
    /// `values` are bytes; see `raw`. Returns the row's id, or `None` for a menu without rows.
    pub fn seed(&mut self, menu: &str, values: &[(&str, &[u8])]) -> Option<String> {
        let table = match menu {
            "/ip/hotspot/user" => &mut self.users,
            "/ip/hotspot/user/profile" => &mut self.profiles,
            "/ip/hotspot/ip-binding" => {
                self.hosts_dirty = HostsDirty::All;
                &mut self.bindings
            }
            "/ip/hotspot/walled-garden/ip" => &mut self.walled,
            "/ip/firewall/nat" => &mut self.nat,
            "/ppp/secret" => &mut self.accounts.secrets,
            "/ppp/profile" => &mut self.accounts.profiles,
            "/interface/wireguard/peers" => &mut self.accounts.peers,
            _ => return None,
        };
        let vals = values.iter().map(|(k, v)| (k.to_string(), crate::raw::text_of(v))).collect();
        Some(fmt_id(table.insert(vals)))
    }

    /// Source NAT of a packet from `src` to `dst`, as `/ip/firewall/nat` chain `srcnat` decides
    /// it: the first enabled rule that matches wins; `accept` leaves the source as it is,
    /// `masquerade`/`src-nat` rewrite it (to the router's address on the way out).
    pub fn source_nat(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        let matches = |a: &Attrs, k: &str, ip: Ipv4Addr| match a.get(k) {
            None => true,
            Some(v) => v.parse::<routeros::ops::AddressMatch>().is_ok_and(|m| m.contains(ip)),
        };
        for r in &self.nat.rows {
            let a = &r.attrs;
            if a.get("chain").map(String::as_str) != Some("srcnat") || a.get("disabled").is_some_and(|d| d == "true") {
                continue;
            }
            if !matches(a, "src-address", src) || !matches(a, "dst-address", dst) {
                continue;
            }
            match a.get("action").map(String::as_str) {
                Some("accept") | Some("return") => return false,
                Some("masquerade") | Some("src-nat") | Some("netmap") => return true,
                _ => continue,
            }
        }
        false
    }

    /// A client joined the hotspot network (shows in the host table). Returns its id.
    pub fn add_host(&mut self, mac: MacAddr, ip: Ipv4Addr) -> String {
        self.touch_host(mac);
        if let Some(h) = self.hosts.iter_mut().find(|h| h.mac == mac) {
            h.ip = ip;
            return fmt_id(h.id);
        }
        let id = self.next_host;
        self.next_host += 1;
        self.hosts.push(HostEntry { id, mac, ip, server: HOTSPOT_SERVER.into() });
        fmt_id(id)
    }

    /// The client left: its host entry and any session go.
    pub fn remove_host(&mut self, mac: MacAddr) -> bool {
        self.touch_host(mac);
        let before = self.hosts.len();
        self.hosts.retain(|h| h.mac != mac);
        let ids: Vec<u32> = self.active.iter().filter(|s| s.mac == mac).map(|s| s.id).collect();
        for id in ids {
            self.end_session(id, EndReason::HostLeft);
        }
        before != self.hosts.len()
    }

    /// The hotspot's users are gone and their sessions with them, as after a configuration reset
    /// or a reflash that kept the container: what a grant re-sent from the support desk repairs.
    pub fn reset_hotspot_users(&mut self) {
        let ids: Vec<u32> = self.active.iter().map(|s| s.id).collect();
        for id in ids {
            self.end_session(id, EndReason::Removed);
        }
        self.users = Table::new(USER_FIELDS);
    }

    /// Moves the simulated clock: sessions age, and limits and timeouts end them.
    pub fn advance(&mut self, by: Duration) {
        let from = self.clock;
        let mut left = by.as_secs();
        // Step to each session end in turn so counters stop exactly at the limit.
        while left > 0 {
            let (step, ending) = self.next_expiry(left);
            for s in &mut self.active {
                s.uptime += step;
                s.idle += step;
                let c = self.counters.entry(s.user.clone()).or_default();
                c.uptime += step;
            }
            self.clock += step;
            left -= step;
            for (id, reason) in ending {
                self.end_session(id, reason);
            }
        }
        self.accounts.advance(from, self.clock);
    }

    /// Seconds until the first session ends (capped at `max`), and which sessions end then.
    fn next_expiry(&self, max: u64) -> (u64, Vec<(u32, EndReason)>) {
        let mut best = max;
        let mut ending = Vec::new();
        for s in &self.active {
            let user = self.users.by_name(&s.user);
            let profile = user
                .and_then(|u| u.attrs.get("profile"))
                .and_then(|p| self.profiles.by_name(p))
                .or_else(|| self.profiles.by_name("default"));
            let used = self.counters.get(&s.user).map(|c| c.uptime).unwrap_or(0);
            let mut candidates = Vec::new();
            if let Some(lim) = user.and_then(|u| attr_dur(&u.attrs, "limit-uptime")) {
                candidates.push((lim.saturating_sub(used), EndReason::UptimeLimit));
            }
            if let Some(p) = profile {
                if let Some(st) = attr_dur(&p.attrs, "session-timeout") {
                    candidates.push((st.saturating_sub(s.uptime), EndReason::SessionTimeout));
                }
                if let Some(it) = attr_dur(&p.attrs, "idle-timeout") {
                    candidates.push((it.saturating_sub(s.idle), EndReason::IdleTimeout));
                }
            }
            for (t, reason) in candidates {
                let t = t.max(1);
                if t < best {
                    best = t;
                    ending.clear();
                }
                if t == best && t <= max && !ending.iter().any(|(id, _)| *id == s.id) {
                    ending.push((s.id, reason));
                }
            }
        }
        (best, ending)
    }

    /// Traffic through an active session (by client IP). Returns false if no session has that IP.
    pub fn add_traffic(&mut self, ip: Ipv4Addr, bytes_in: u64, bytes_out: u64) -> bool {
        let Some(s) = self.active.iter_mut().find(|s| s.ip == ip) else { return false };
        s.bytes_in += bytes_in;
        s.bytes_out += bytes_out;
        s.idle = 0;
        let (id, user) = (s.id, s.user.clone());
        let c = self.counters.entry(user.clone()).or_default();
        c.bytes_in += bytes_in;
        c.bytes_out += bytes_out;
        let total = c.bytes_in + c.bytes_out;
        let limit = self.users.by_name(&user).and_then(|u| attr_u64(&u.attrs, "limit-bytes-total")).filter(|l| *l > 0);
        if limit.is_some_and(|l| total >= l) {
            self.end_session(id, EndReason::TrafficLimit);
        }
        true
    }

    fn end_session(&mut self, id: u32, reason: EndReason) {
        if let Some(pos) = self.active.iter().position(|s| s.id == id) {
            let s = self.active.remove(pos);
            self.touch_host(s.mac);
            self.ended.push(EndedSession {
                user: s.user,
                mac_address: s.mac,
                address: s.ip,
                uptime_secs: s.uptime,
                ended_at_secs: self.clock,
                reason,
            });
        }
    }

    /// A PPP client dials in (see `Accounts::dial`).
    pub fn ppp_dial(
        &mut self,
        name: &str,
        password: &str,
        service: &str,
        caller_id: &str,
    ) -> Result<Ipv4Addr, PppRefusal> {
        self.accounts.dial(name, password, service, caller_id, self.clock)
    }

    pub fn ppp_hang_up(&mut self, name: &str) -> bool {
        self.accounts.hang_up(name, self.clock)
    }

    pub fn set_identity(&mut self, name: &str) {
        self.identity = name.to_string();
    }

    // ------------------------------------------------------------ commands

    pub fn execute(&mut self, req: &Request) -> Outcome {
        match self.route(req) {
            Ok(o) | Err(o) => o,
        }
    }

    fn route(&mut self, req: &Request) -> Res<Outcome> {
        let (menu, verb) = req.path.rsplit_once('/').ok_or_else(|| Outcome::trap_cat(0, "no such command prefix"))?;
        match (menu, verb) {
            ("/system/identity", "print") => {
                let row = Attrs::from([("name".to_string(), self.identity.clone())]);
                listing(req, vec![row])
            }
            ("/system/identity", "set") => {
                if let Some(n) = req.get("name") {
                    self.identity = n.to_string();
                }
                Ok(Outcome::default())
            }
            ("/system/resource", "print") => {
                let row = Attrs::from([
                    ("version".to_string(), format!("{} (stable)", self.version)),
                    ("board-name".to_string(), "routeros-sim".to_string()),
                    ("uptime".to_string(), dur(self.clock)),
                ]);
                listing(req, vec![row])
            }
            ("/ip/hotspot/user", v) => self.user_cmd(v, req),
            ("/ip/hotspot/user/profile", v) => self.profile_cmd(v, req),
            ("/ip/hotspot/ip-binding", v) => {
                if v != "print" {
                    self.hosts_dirty = HostsDirty::All;
                }
                self.bindings.command(v, req)
            }
            ("/ip/hotspot/walled-garden/ip", v) => self.walled.command(v, req),
            ("/ip/firewall/nat", v) => self.nat.command(v, req),
            ("/ip/hotspot/active", "print") => {
                let rows = self.active.iter().map(|s| self.session_attrs(s)).collect();
                listing(req, rows)
            }
            ("/ip/hotspot/active", "remove") => {
                let ids = ids_in(req, self.active.iter().map(|s| s.id).collect())?;
                for id in ids {
                    self.end_session(id, EndReason::Removed);
                }
                Ok(Outcome::default())
            }
            ("/ip/hotspot/active", "login") => self.active_login(req),
            ("/ip/hotspot/host", "print") => {
                let rows = self.hosts.iter().map(|h| self.host_attrs(h)).collect();
                listing(req, rows)
            }
            ("/ip/hotspot/host", "remove") => {
                let ids = ids_in(req, self.hosts.iter().map(|h| h.id).collect())?;
                let macs: Vec<MacAddr> = self.hosts.iter().filter(|h| ids.contains(&h.id)).map(|h| h.mac).collect();
                for m in macs {
                    self.remove_host(m);
                }
                Ok(Outcome::default())
            }
            (menu, verb) => match self.accounts.route(menu, verb, req, self.clock) {
                Some(r) => r,
                None => Err(Outcome::trap_cat(0, "no such command prefix")),
            },
        }
    }

    fn user_conflict(&self, name: &str, server: &str, except: Option<u32>) -> bool {
        self.users.ids_named(name).iter().filter(|id| Some(**id) != except).any(|id| {
            self.users
                .find(*id)
                .and_then(|r| r.attrs.get("server"))
                .is_none_or(|s| s == server || s == "all" || server == "all")
        })
    }

    fn check_profile(&self, vals: &[(String, String)]) -> Res<()> {
        if let Some((_, p)) = vals.iter().find(|(k, _)| k == "profile")
            && self.profiles.by_name(p).is_none()
        {
            return Err(Outcome::trap_cat(1, "input does not match any value of profile"));
        }
        Ok(())
    }

    fn user_cmd(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        const DUP: &str = "failure: already have user with this name for this server";
        match verb {
            "print" => {
                let mut rows = self.users.rows_with_ids();
                for r in &mut rows {
                    let c = r.get("name").and_then(|n| self.counters.get(n)).cloned().unwrap_or_default();
                    r.insert("uptime".into(), dur(c.uptime));
                    r.insert("bytes-in".into(), c.bytes_in.to_string());
                    r.insert("bytes-out".into(), c.bytes_out.to_string());
                    r.insert("dynamic".into(), "false".into());
                }
                listing(req, rows)
            }
            "add" => {
                let vals = self.users.validate(req)?;
                let name = vals.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()).unwrap_or_default();
                if name.is_empty() {
                    return Err(Outcome::trap_cat(1, "failure: name must be set"));
                }
                self.check_profile(&vals)?;
                let server = vals.iter().find(|(k, _)| k == "server").map(|(_, v)| v.as_str()).unwrap_or("all");
                if self.user_conflict(&name, server, None) {
                    return Err(Outcome::trap(DUP));
                }
                Ok(Outcome::ret(fmt_id(self.users.insert(vals))))
            }
            "set" => {
                let ids = self.users.ids_of(req)?;
                let vals = self.users.validate(req)?;
                self.check_profile(&vals)?;
                for id in &ids {
                    let Some(row) = self.users.find(*id) else { continue };
                    let mut next = row.attrs.clone();
                    apply(&mut next, vals.clone());
                    let name = next.get("name").cloned().unwrap_or_default();
                    let server = next.get("server").cloned().unwrap_or_else(|| "all".into());
                    if name.is_empty() {
                        return Err(Outcome::trap_cat(1, "failure: name must be set"));
                    }
                    if self.user_conflict(&name, &server, Some(*id)) {
                        return Err(Outcome::trap(DUP));
                    }
                }
                for r in self.users.rows.iter_mut().filter(|r| ids.contains(&r.id)) {
                    apply(&mut r.attrs, vals.clone());
                }
                self.users.reindex();
                Ok(Outcome::default())
            }
            "remove" => {
                let ids = self.users.ids_of(req)?;
                let names: Vec<String> = self
                    .users
                    .rows
                    .iter()
                    .filter(|r| ids.contains(&r.id))
                    .filter_map(|r| r.attrs.get("name").cloned())
                    .collect();
                self.users.rows.retain(|r| !ids.contains(&r.id));
                self.users.reindex();
                for n in names {
                    // A re-added user with the same name starts from zero, as on a router.
                    if !self.active.iter().any(|s| s.user == n) {
                        self.counters.remove(&n);
                    }
                }
                Ok(Outcome::default())
            }
            _ => Err(Outcome::trap_cat(0, "no such command")),
        }
    }

    fn profile_cmd(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        match verb {
            "add" => {
                let vals = self.profiles.validate(req)?;
                let name = vals.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()).unwrap_or_default();
                if name.is_empty() {
                    return Err(Outcome::trap_cat(1, "failure: name must be set"));
                }
                if self.profiles.by_name(&name).is_some() {
                    return Err(Outcome::trap("failure: profile with the same name already exists"));
                }
                Ok(Outcome::ret(fmt_id(self.profiles.insert(vals))))
            }
            "remove" => {
                let ids = self.profiles.ids_of(req)?;
                if ids.contains(&0) {
                    return Err(Outcome::trap("failure: default profile can not be removed"));
                }
                self.profiles.rows.retain(|r| !ids.contains(&r.id));
                self.profiles.reindex();
                Ok(Outcome::default())
            }
            _ => self.profiles.command(verb, req),
        }
    }

    fn binding_for(&self, mac: MacAddr, ip: Ipv4Addr) -> Option<&str> {
        let mac_s = mac.to_string();
        let ip_s = ip.to_string();
        self.bindings
            .rows
            .iter()
            .filter(|r| r.attrs.get("disabled").is_none_or(|d| d != "true"))
            .find(|r| match (r.attrs.get("mac-address"), r.attrs.get("address")) {
                (Some(m), Some(a)) => *m == mac_s && *a == ip_s,
                (Some(m), None) => *m == mac_s,
                (None, Some(a)) => *a == ip_s,
                (None, None) => false,
            })
            .and_then(|r| r.attrs.get("type"))
            .map(String::as_str)
    }

    /// Every host row as print shows it, by `.id`.
    pub(crate) fn host_rows(&self) -> std::collections::BTreeMap<String, Attrs> {
        self.hosts.iter().map(|h| (fmt_id(h.id), self.host_attrs(h))).collect()
    }

    /// The rows of these devices' hosts, by `.id`.
    pub(crate) fn host_rows_of(&self, macs: &[MacAddr]) -> std::collections::BTreeMap<String, Attrs> {
        self.hosts.iter().filter(|h| macs.contains(&h.mac)).map(|h| (fmt_id(h.id), self.host_attrs(h))).collect()
    }

    fn host_attrs(&self, h: &HostEntry) -> Attrs {
        let binding = self.binding_for(h.mac, h.ip);
        let bypassed = binding == Some("bypassed");
        let authorized = bypassed || self.active.iter().any(|s| s.mac == h.mac);
        Attrs::from([
            (".id".to_string(), fmt_id(h.id)),
            ("mac-address".to_string(), h.mac.to_string()),
            ("address".to_string(), h.ip.to_string()),
            ("to-address".to_string(), h.ip.to_string()),
            ("server".to_string(), h.server.clone()),
            ("authorized".to_string(), authorized.to_string()),
            ("bypassed".to_string(), bypassed.to_string()),
            ("blocked".to_string(), (binding == Some("blocked")).to_string()),
        ])
    }

    fn session_attrs(&self, s: &Session) -> Attrs {
        let mut a = Attrs::from([
            (".id".to_string(), fmt_id(s.id)),
            ("server".to_string(), s.server.clone()),
            ("user".to_string(), s.user.clone()),
            ("address".to_string(), s.ip.to_string()),
            ("mac-address".to_string(), s.mac.to_string()),
            ("login-by".to_string(), "api".to_string()),
            ("uptime".to_string(), dur(s.uptime)),
            ("idle-time".to_string(), dur(s.idle)),
            ("bytes-in".to_string(), s.bytes_in.to_string()),
            ("bytes-out".to_string(), s.bytes_out.to_string()),
            ("radius".to_string(), "false".to_string()),
        ]);
        let user = self.users.by_name(&s.user);
        if let Some(lim) = user.and_then(|u| attr_dur(&u.attrs, "limit-uptime")) {
            let used = self.counters.get(&s.user).map(|c| c.uptime).unwrap_or(0);
            a.insert("session-time-left".into(), dur(lim.saturating_sub(used)));
        }
        if let Some(lim) = user.and_then(|u| attr_u64(&u.attrs, "limit-bytes-total")).filter(|l| *l > 0) {
            a.insert("limit-bytes-total".into(), lim.to_string());
        }
        a
    }

    fn active_login(&mut self, req: &Request) -> Res<Outcome> {
        let user = req.get("user").unwrap_or_default().to_string();
        let password = req.get("password").unwrap_or_default();
        let ip: Ipv4Addr = req
            .get("ip")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Outcome::trap_cat(1, "invalid value for argument ip"))?;
        let mac: Option<MacAddr> = match req.get("mac-address") {
            None | Some("") => None,
            Some(v) => Some(v.parse().map_err(|_| Outcome::trap_cat(1, "invalid value for argument mac-address"))?),
        };
        let host = self
            .hosts
            .iter()
            .find(|h| h.ip == ip && mac.is_none_or(|m| m == h.mac))
            .cloned()
            .ok_or_else(|| Outcome::trap("no such host"))?;
        if self.binding_for(host.mac, host.ip) == Some("blocked") {
            return Err(Outcome::trap("host is blocked"));
        }
        if self.active.iter().any(|s| s.mac == host.mac) {
            return Err(Outcome::trap("already logged in"));
        }
        let row = self
            .users
            .by_name(&user)
            .filter(|u| u.attrs.get("password").map(String::as_str).unwrap_or("") == password)
            .ok_or_else(|| Outcome::trap("invalid username or password"))?;
        let a = row.attrs.clone();
        if a.get("disabled").is_some_and(|d| d == "true") {
            return Err(Outcome::trap(format!("user {user} is disabled")));
        }
        if let Some(bound) = a.get("mac-address")
            && *bound != host.mac.to_string()
        {
            return Err(Outcome::trap(format!("user {user} is not allowed to log in from this MAC address")));
        }
        if let Some(server) = a.get("server")
            && server != "all"
            && *server != host.server
        {
            return Err(Outcome::trap(format!("user {user} is not allowed to log in on this server")));
        }
        let c = self.counters.get(&user).cloned().unwrap_or_default();
        if attr_dur(&a, "limit-uptime").is_some_and(|l| c.uptime >= l) {
            return Err(Outcome::trap(format!("user {user} has reached uptime limit")));
        }
        if attr_u64(&a, "limit-bytes-total").filter(|l| *l > 0).is_some_and(|l| c.bytes_in + c.bytes_out >= l) {
            return Err(Outcome::trap(format!("user {user} has reached traffic limit")));
        }
        let profile = a.get("profile").and_then(|p| self.profiles.by_name(p));
        let shared = profile.and_then(|p| attr_u64(&p.attrs, "shared-users")).unwrap_or(1);
        if self.active.iter().filter(|s| s.user == user).count() as u64 >= shared {
            return Err(Outcome::trap("no more sessions are allowed for user"));
        }
        let id = self.next_active;
        self.next_active += 1;
        self.touch_host(host.mac);
        self.active.push(Session {
            id,
            user,
            mac: host.mac,
            ip: host.ip,
            server: host.server,
            login_at: self.clock,
            uptime: 0,
            idle: 0,
            bytes_in: 0,
            bytes_out: 0,
        });
        Ok(Outcome::default())
    }

    // ------------------------------------------------------------ dump

    pub fn snapshot(&self) -> SimState {
        let items = |t: &Table| {
            t.rows.iter().map(|r| ItemState { id: fmt_id(r.id), attrs: r.attrs.clone() }).collect::<Vec<_>>()
        };
        SimState {
            version: self.version.to_string(),
            identity: self.identity.clone(),
            clock_secs: self.clock,
            users: self
                .users
                .rows
                .iter()
                .map(|r| {
                    let a = &r.attrs;
                    let name = a.get("name").cloned().unwrap_or_default();
                    let c = self.counters.get(&name).cloned().unwrap_or_default();
                    UserState {
                        id: fmt_id(r.id),
                        password: a.get("password").cloned().unwrap_or_default(),
                        profile: a.get("profile").cloned().unwrap_or_default(),
                        server: a.get("server").cloned().unwrap_or_default(),
                        mac_address: a.get("mac-address").and_then(|m| m.parse().ok()),
                        limit_uptime: a.get("limit-uptime").and_then(|m| m.parse().ok()),
                        limit_bytes_total: attr_u64(a, "limit-bytes-total"),
                        comment: a.get("comment").cloned(),
                        disabled: a.get("disabled").is_some_and(|d| d == "true"),
                        uptime_secs: c.uptime,
                        bytes_in: c.bytes_in,
                        bytes_out: c.bytes_out,
                        name,
                    }
                })
                .collect(),
            profiles: items(&self.profiles),
            active: self
                .active
                .iter()
                .map(|s| SessionState {
                    id: fmt_id(s.id),
                    user: s.user.clone(),
                    mac_address: s.mac,
                    address: s.ip,
                    login_at_secs: s.login_at,
                    uptime_secs: s.uptime,
                    bytes_in: s.bytes_in,
                    bytes_out: s.bytes_out,
                })
                .collect(),
            hosts: self
                .hosts
                .iter()
                .map(|h| {
                    let a = self.host_attrs(h);
                    HostState {
                        id: fmt_id(h.id),
                        mac_address: h.mac,
                        address: h.ip,
                        authorized: a.get("authorized").is_some_and(|v| v == "true"),
                        bypassed: a.get("bypassed").is_some_and(|v| v == "true"),
                    }
                })
                .collect(),
            ip_bindings: self
                .bindings
                .rows
                .iter()
                .map(|r| BindingState {
                    id: fmt_id(r.id),
                    mac_address: r.attrs.get("mac-address").and_then(|m| m.parse().ok()),
                    address: r.attrs.get("address").cloned(),
                    kind: r.attrs.get("type").cloned().unwrap_or_default(),
                    comment: r.attrs.get("comment").cloned(),
                })
                .collect(),
            walled_garden_ip: items(&self.walled),
            nat: items(&self.nat),
            ended_sessions: self.ended.clone(),
            ppp_secrets: items(&self.accounts.secrets),
            ppp_profiles: items(&self.accounts.profiles),
            ip_pools: items(&self.accounts.pools),
            ip_addresses: items(&self.accounts.addresses),
            wireguard: items(&self.accounts.wireguard),
            wireguard_peers: items(&self.accounts.peers),
            ppp_active: self.accounts.sessions(),
            ppp_ended: self.accounts.ended.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, attrs: &[(&str, &str)]) -> Request {
        Request::of(path, attrs)
    }

    fn ok(w: &mut World, path: &str, attrs: &[(&str, &str)]) -> Outcome {
        let o = w.execute(&req(path, attrs));
        assert_eq!(o.trap, None, "{path} {attrs:?}");
        o
    }

    fn logged_in(profile: &[(&str, &str)]) -> (World, Ipv4Addr) {
        let mut w = World::new(RosVersion::V7_18, "t");
        let mut p = vec![("name", "p")];
        p.extend_from_slice(profile);
        ok(&mut w, "/ip/hotspot/user/profile/add", &p);
        ok(&mut w, "/ip/hotspot/user/add", &[("name", "u"), ("password", "x"), ("profile", "p")]);
        let ip: Ipv4Addr = "10.0.0.2".parse().unwrap();
        w.add_host("02:00:00:00:00:01".parse().unwrap(), ip);
        ok(&mut w, "/ip/hotspot/active/login", &[("user", "u"), ("password", "x"), ("ip", "10.0.0.2")]);
        (w, ip)
    }

    #[test]
    fn session_timeout_ends_session_exactly() {
        let (mut w, _) = logged_in(&[("session-timeout", "30m")]);
        w.advance(Duration::from_secs(1799));
        assert_eq!(w.active.len(), 1);
        w.advance(Duration::from_secs(5000));
        assert!(w.active.is_empty());
        assert_eq!(w.ended[0].reason, EndReason::SessionTimeout);
        assert_eq!(w.ended[0].uptime_secs, 1800);
        assert_eq!(w.now(), 6799);
    }

    #[test]
    fn idle_timeout_is_reset_by_traffic() {
        let (mut w, ip) = logged_in(&[("idle-timeout", "5m")]);
        w.advance(Duration::from_secs(299));
        assert!(w.add_traffic(ip, 10, 10));
        w.advance(Duration::from_secs(299));
        assert_eq!(w.active.len(), 1);
        w.advance(Duration::from_secs(1));
        assert!(w.active.is_empty());
        assert_eq!(w.ended[0].reason, EndReason::IdleTimeout);
    }

    #[test]
    fn shared_users_limits_sessions() {
        let (mut w, _) = logged_in(&[]);
        w.add_host("02:00:00:00:00:02".parse().unwrap(), "10.0.0.3".parse().unwrap());
        let o = w.execute(&req("/ip/hotspot/active/login", &[("user", "u"), ("password", "x"), ("ip", "10.0.0.3")]));
        assert_eq!(o.trap, Some((None, "no more sessions are allowed for user".into())));
    }

    #[test]
    fn ids_are_hex_and_default_profile_is_star_zero() {
        let mut w = World::new(RosVersion::V7_17, "t");
        for i in 0..11 {
            ok(&mut w, "/ip/hotspot/user/add", &[("name", &format!("u{i}"))]);
        }
        let o = ok(&mut w, "/ip/hotspot/user/add", &[("name", "last")]);
        assert_eq!(o.done["ret"], "*C");
        let o = ok(&mut w, "/ip/hotspot/user/profile/print", &[]);
        assert_eq!(o.rows[0][".id"], "*0");
        let o = w.execute(&req("/ip/hotspot/user/profile/remove", &[(".id", "*0")]));
        assert!(o.trap.is_some());
        let o = w.execute(&req("/ip/hotspot/user/add", &[("name", "z"), ("bogus", "1")]));
        assert_eq!(o.trap, Some((None, "unknown parameter bogus".into())));
        let o = w.execute(&req("/nope/print", &[]));
        assert!(o.trap.is_some());
    }
}
