//! Typed operations on the menus the agent uses. Values go out in RouterOS notation
//! and come back parsed into the shared domain types.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use hotspot_core::{MacAddr, RateLimit, RosDuration};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::sentence::{Attrs, Command};

pub const USER: &str = "/ip/hotspot/user";
pub const USER_PROFILE: &str = "/ip/hotspot/user/profile";
pub const ACTIVE: &str = "/ip/hotspot/active";
pub const HOST: &str = "/ip/hotspot/host";
pub const IP_BINDING: &str = "/ip/hotspot/ip-binding";
pub const WALLED_GARDEN_IP: &str = "/ip/hotspot/walled-garden/ip";
pub const IDENTITY: &str = "/system/identity";

/// A RouterOS internal id such as `*1A`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ItemId(String);

impl ItemId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ItemId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.strip_prefix('*') {
            Some(h) if !h.is_empty() && h.len() <= 16 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(ItemId(s.to_string()))
            }
            _ => Err(Error::Field { field: ".id", detail: format!("{:?} is not an id like *1A", short(s)) }),
        }
    }
}

impl TryFrom<String> for ItemId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<ItemId> for String {
    fn from(i: ItemId) -> String {
        i.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Reads typed fields out of a reply row, naming the field in errors.
pub(crate) struct Row<'a>(pub(crate) &'a Attrs);

impl Row<'_> {
    pub(crate) fn str(&self, k: &'static str) -> Option<String> {
        self.0.get(k).filter(|v| !v.is_empty()).cloned()
    }
    pub(crate) fn req(&self, k: &'static str) -> Result<String> {
        self.0.get(k).cloned().ok_or(Error::Field { field: k, detail: "missing".into() })
    }
    pub(crate) fn parse<T: FromStr>(&self, k: &'static str) -> Result<Option<T>>
    where
        T::Err: fmt::Display,
    {
        match self.0.get(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => {
                v.parse().map(Some).map_err(|e| Error::Field { field: k, detail: format!("{:?}: {e}", short(v)) })
            }
        }
    }
    pub(crate) fn id(&self) -> Result<ItemId> {
        self.req(".id")?.parse()
    }
    /// A device MAC; `00:00:00:00:00:00` is RouterOS's "any MAC" and reads as none.
    pub(crate) fn mac(&self, k: &'static str) -> Result<Option<MacAddr>> {
        match self.0.get(k).map(|v| v.trim()) {
            None | Some("") | Some("00:00:00:00:00:00") => Ok(None),
            Some(_) => self.parse(k),
        }
    }
    pub(crate) fn flag(&self, k: &'static str) -> bool {
        matches!(self.0.get(k).map(String::as_str), Some("true" | "yes"))
    }
    pub(crate) fn u64_or_zero(&self, k: &'static str) -> Result<u64> {
        Ok(self.parse(k)?.unwrap_or(0))
    }
}

pub(crate) fn ret_id(resp: &crate::connection::Response) -> Result<ItemId> {
    resp.ret().ok_or(Error::Field { field: "ret", detail: "add returned no id".into() })?.parse()
}

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

// ---------------------------------------------------------------- hotspot users

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HotspotUser {
    pub id: ItemId,
    pub name: String,
    pub password: Option<String>,
    pub profile: Option<String>,
    pub server: Option<String>,
    pub mac_address: Option<MacAddr>,
    pub limit_uptime: Option<RosDuration>,
    pub limit_bytes_total: Option<u64>,
    pub comment: Option<String>,
    pub disabled: bool,
    pub uptime: Option<RosDuration>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl HotspotUser {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(HotspotUser {
            id: r.id()?,
            name: r.req("name")?,
            password: r.str("password"),
            profile: r.str("profile"),
            server: r.str("server"),
            mac_address: r.mac("mac-address")?,
            limit_uptime: r.parse::<RosDuration>("limit-uptime")?.filter(|d| !d.is_zero()),
            limit_bytes_total: r.parse::<u64>("limit-bytes-total")?.filter(|b| *b != 0),
            comment: r.str("comment"),
            disabled: r.flag("disabled"),
            uptime: r.parse("uptime")?,
            bytes_in: r.u64_or_zero("bytes-in")?,
            bytes_out: r.u64_or_zero("bytes-out")?,
        })
    }
}

/// Fields for `add`. `server` None means `all`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewHotspotUser {
    pub name: String,
    pub password: String,
    pub profile: Option<String>,
    pub server: Option<String>,
    pub mac_address: Option<MacAddr>,
    pub limit_uptime: Option<RosDuration>,
    pub limit_bytes_total: Option<u64>,
    pub comment: Option<String>,
}

impl NewHotspotUser {
    pub fn command(&self) -> Command {
        Command::new(format!("{USER}/add"))
            .attr("name", &self.name)
            .attr("password", &self.password)
            .attr_opt("profile", self.profile.as_deref())
            .attr_opt("server", self.server.as_deref())
            .attr_opt("mac-address", self.mac_address.map(|m| m.to_string()))
            .attr_opt("limit-uptime", self.limit_uptime.map(|d| d.to_string()))
            .attr_opt("limit-bytes-total", self.limit_bytes_total.map(|b| b.to_string()))
            .attr_opt("comment", self.comment.as_deref())
    }
}

/// Fields for `set`; None leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HotspotUserUpdate {
    pub password: Option<String>,
    pub profile: Option<String>,
    pub server: Option<String>,
    pub mac_address: Option<MacAddr>,
    pub limit_uptime: Option<RosDuration>,
    pub limit_bytes_total: Option<u64>,
    pub comment: Option<String>,
    pub disabled: Option<bool>,
}

// ---------------------------------------------------------------- user profiles

/// What a package's profile must look like. Name is the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfileSpec {
    pub name: String,
    pub rate_limit: Option<RateLimit>,
    pub shared_users: u32,
    pub session_timeout: Option<RosDuration>,
    pub idle_timeout: Option<RosDuration>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserProfile {
    pub id: ItemId,
    pub name: String,
    pub rate_limit: Option<String>,
    pub shared_users: Option<u32>,
    pub session_timeout: Option<RosDuration>,
    pub idle_timeout: Option<RosDuration>,
}

impl UserProfile {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(UserProfile {
            id: r.id()?,
            name: r.req("name")?,
            rate_limit: r.str("rate-limit"),
            shared_users: r.parse("shared-users")?,
            session_timeout: r.parse::<RosDuration>("session-timeout")?.filter(|d| !d.is_zero()),
            idle_timeout: r.parse::<RosDuration>("idle-timeout").ok().flatten().filter(|d| !d.is_zero()),
        })
    }

    fn matches(&self, spec: &UserProfileSpec) -> bool {
        // Rate limits are compared parsed: the router may print them differently than we wrote.
        let rate_same = match (&self.rate_limit, &spec.rate_limit) {
            (None, None) => true,
            (Some(have), Some(want)) => have.parse::<RateLimit>().map(|h| h == *want).unwrap_or(false),
            _ => false,
        };
        rate_same
            && self.shared_users == Some(spec.shared_users)
            && self.session_timeout == spec.session_timeout
            && self.idle_timeout == spec.idle_timeout
    }
}

/// Outcome of [`Client::ensure_user_profile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Created,
    Updated,
    Unchanged,
}

// ---------------------------------------------------------------- active sessions, hosts

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActiveSession {
    pub id: ItemId,
    pub user: String,
    pub address: Option<Ipv4Addr>,
    pub mac_address: Option<MacAddr>,
    pub server: Option<String>,
    pub uptime: Option<RosDuration>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl ActiveSession {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(ActiveSession {
            id: r.id()?,
            user: r.req("user")?,
            address: r.parse("address")?,
            mac_address: r.mac("mac-address")?,
            server: r.str("server"),
            uptime: r.parse("uptime")?,
            bytes_in: r.u64_or_zero("bytes-in")?,
            bytes_out: r.u64_or_zero("bytes-out")?,
        })
    }
}

/// Arguments of `/ip/hotspot/active/login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveLogin {
    pub user: String,
    pub password: String,
    pub mac_address: MacAddr,
    pub ip: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Host {
    pub id: ItemId,
    pub mac_address: MacAddr,
    pub address: Ipv4Addr,
    pub to_address: Option<Ipv4Addr>,
    pub server: Option<String>,
    pub authorized: bool,
    pub bypassed: bool,
}

/// One change to the host table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostChange {
    /// The entry is new or changed.
    Seen(Host),
    /// The entry is gone (or came as a row that does not parse, so it cannot be trusted).
    Gone(ItemId),
}

impl HostChange {
    /// A `listen` row. RouterOS marks a removed item `.dead=yes` (its API manual) or
    /// `.dead=true` (what 7.23 and later send); the row then carries little besides `.id`.
    pub fn from_row(a: &Attrs) -> Result<HostChange> {
        let id = Row(a).id()?;
        if matches!(a.get(".dead").map(String::as_str), Some("yes" | "true")) {
            return Ok(HostChange::Gone(id));
        }
        Ok(match Host::from_row(a) {
            Ok(h) => HostChange::Seen(h),
            Err(_) => HostChange::Gone(id),
        })
    }
}

/// A running `/ip/hotspot/host/listen`; dropping it cancels the command.
pub struct HostWatch(crate::connection::Listener);

impl HostWatch {
    /// The next change; an error when the session ended or the router refused the command.
    pub async fn next(&mut self) -> Result<HostChange> {
        loop {
            match self.0.next().await? {
                None => return Err(Error::ConnectionLost("the router ended the host listen".into())),
                // A row without an id says nothing usable.
                Some(a) => match HostChange::from_row(&a) {
                    Ok(c) => return Ok(c),
                    Err(e) => tracing::debug!(error = %e, "host listen row without an id skipped"),
                },
            }
        }
    }
}

impl Host {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(Host {
            id: r.id()?,
            mac_address: r
                .parse("mac-address")?
                .ok_or(Error::Field { field: "mac-address", detail: "missing".into() })?,
            address: r.parse("address")?.ok_or(Error::Field { field: "address", detail: "missing".into() })?,
            to_address: r.parse("to-address")?,
            server: r.str("server"),
            authorized: r.flag("authorized"),
            bypassed: r.flag("bypassed"),
        })
    }
}

// ---------------------------------------------------------------- ip-bindings, walled garden

hotspot_core::string_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum BindingType("binding type") { Regular = "regular", Bypassed = "bypassed", Blocked = "blocked" }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIpBinding {
    pub mac_address: Option<MacAddr>,
    pub address: Option<Ipv4Addr>,
    pub kind: BindingType,
    pub comment: Option<String>,
}

/// What an ip-binding's `address` matches: RouterOS takes one address, a range or a prefix
/// (`A.B.C.D[-A.B.C.D|/0..32]`, its command schema says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AddressMatch {
    One(Ipv4Addr),
    Range(Ipv4Addr, Ipv4Addr),
    Prefix(Ipv4Addr, u8),
}

impl AddressMatch {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        match *self {
            AddressMatch::One(a) => a == ip,
            AddressMatch::Range(a, b) => (u32::from(a)..=u32::from(b)).contains(&u32::from(ip)),
            AddressMatch::Prefix(net, len) => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
        }
    }
}

impl FromStr for AddressMatch {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let ip = |v: &str| v.trim().parse::<Ipv4Addr>().map_err(|_| format!("{:?} is not an address", short(v)));
        if let Some((a, b)) = s.split_once('-') {
            let (a, b) = (ip(a)?, ip(b)?);
            return if u32::from(a) <= u32::from(b) {
                Ok(AddressMatch::Range(a, b))
            } else {
                Err("range runs backwards".into())
            };
        }
        if let Some((a, len)) = s.split_once('/') {
            let len: u8 = len.trim().parse().ok().filter(|l| *l <= 32).ok_or("prefix length must be 0-32")?;
            return Ok(AddressMatch::Prefix(ip(a)?, len));
        }
        Ok(AddressMatch::One(ip(s)?))
    }
}

impl fmt::Display for AddressMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressMatch::One(a) => write!(f, "{a}"),
            AddressMatch::Range(a, b) => write!(f, "{a}-{b}"),
            AddressMatch::Prefix(a, l) => write!(f, "{a}/{l}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IpBinding {
    pub id: ItemId,
    /// None: any MAC (absent, or RouterOS's `00:00:00:00:00:00`).
    pub mac_address: Option<MacAddr>,
    pub address: Option<AddressMatch>,
    pub kind: BindingType,
    pub comment: Option<String>,
}

impl IpBinding {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(IpBinding {
            id: r.id()?,
            mac_address: r.mac("mac-address")?,
            address: r.parse("address")?,
            kind: r.parse("type")?.unwrap_or(BindingType::Regular),
            comment: r.str("comment"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWalledGardenIp {
    /// Address or prefix, e.g. `10.0.0.5` or `10.0.0.0/24`.
    pub dst_address: String,
    pub dst_port: Option<String>,
    pub protocol: Option<String>,
    /// `accept` lets unauthenticated guests reach it; `reject`/`drop` block it.
    pub action: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WalledGardenIp {
    pub id: ItemId,
    pub dst_address: Option<String>,
    pub dst_port: Option<String>,
    pub protocol: Option<String>,
    pub action: String,
    pub comment: Option<String>,
}

impl WalledGardenIp {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(WalledGardenIp {
            id: r.id()?,
            dst_address: r.str("dst-address"),
            dst_port: r.str("dst-port"),
            protocol: r.str("protocol"),
            action: r.str("action").unwrap_or_else(|| "accept".into()),
            comment: r.str("comment"),
        })
    }
}

/// Every row that parses. A row we cannot read (an operator's odd value, a field a newer
/// RouterOS prints differently) is skipped with a warning, never a reason to fail the list:
/// the agent only ever acts on its own rows, which it wrote and can read.
pub(crate) fn rows<T>(resp: crate::connection::Response, f: fn(&Attrs) -> Result<T>) -> Result<Vec<T>> {
    Ok(resp
        .rows
        .iter()
        .filter_map(|a| match f(a) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(id = ?a.get(".id"), error = %e, "RouterOS row skipped: not readable");
                None
            }
        })
        .collect())
}

pub(crate) fn first<T>(resp: crate::connection::Response, f: fn(&Attrs) -> Result<T>) -> Result<Option<T>> {
    resp.rows.first().map(f).transpose()
}

pub(crate) fn remove_cmd(menu: &str, id: &ItemId) -> Command {
    Command::new(format!("{menu}/remove")).attr(".id", id.as_str())
}

impl Client {
    // ------------------------------------------------------------ users

    pub async fn find_hotspot_user(&self, name: &str) -> Result<Option<HotspotUser>> {
        let resp = self.call(&Command::new(format!("{USER}/print")).where_eq("name", name)).await?;
        first(resp, HotspotUser::from_row)
    }

    pub async fn list_hotspot_users(&self) -> Result<Vec<HotspotUser>> {
        rows(self.call(&Command::new(format!("{USER}/print"))).await?, HotspotUser::from_row)
    }

    /// Adds a user; a duplicate name is `Error::Trap` with `TrapKind::AlreadyExists`.
    pub async fn add_hotspot_user(&self, user: &NewHotspotUser) -> Result<ItemId> {
        ret_id(&self.call(&user.command()).await?)
    }

    pub async fn set_hotspot_user(&self, id: &ItemId, u: &HotspotUserUpdate) -> Result<()> {
        let cmd = Command::new(format!("{USER}/set"))
            .attr(".id", id.as_str())
            .attr_opt("password", u.password.as_deref())
            .attr_opt("profile", u.profile.as_deref())
            .attr_opt("server", u.server.as_deref())
            .attr_opt("mac-address", u.mac_address.map(|m| m.to_string()))
            .attr_opt("limit-uptime", u.limit_uptime.map(|d| d.to_string()))
            .attr_opt("limit-bytes-total", u.limit_bytes_total.map(|b| b.to_string()))
            .attr_opt("comment", u.comment.as_deref())
            .attr_opt("disabled", u.disabled.map(yes_no));
        self.call(&cmd).await.map(drop)
    }

    /// Removes a user; an unknown id is `TrapKind::NoSuchItem`.
    pub async fn remove_hotspot_user(&self, id: &ItemId) -> Result<()> {
        self.call(&remove_cmd(USER, id)).await.map(drop)
    }

    // ------------------------------------------------------------ profiles

    pub async fn find_user_profile(&self, name: &str) -> Result<Option<UserProfile>> {
        let resp = self.call(&Command::new(format!("{USER_PROFILE}/print")).where_eq("name", name)).await?;
        first(resp, UserProfile::from_row)
    }

    /// Creates the profile or brings an existing one in line with `spec`.
    pub async fn ensure_user_profile(&self, spec: &UserProfileSpec) -> Result<(ItemId, Ensured)> {
        let fields = |c: Command| {
            c.attr("rate-limit", spec.rate_limit.map(|r| r.to_string()).unwrap_or_default())
                .attr("shared-users", spec.shared_users.to_string())
                .attr("session-timeout", spec.session_timeout.unwrap_or(RosDuration::ZERO).to_string())
                .attr("idle-timeout", spec.idle_timeout.map(|d| d.to_string()).unwrap_or_else(|| "none".into()))
        };
        match self.find_user_profile(&spec.name).await? {
            Some(p) if p.matches(spec) => Ok((p.id, Ensured::Unchanged)),
            Some(p) => {
                self.call(&fields(Command::new(format!("{USER_PROFILE}/set")).attr(".id", p.id.as_str()))).await?;
                Ok((p.id, Ensured::Updated))
            }
            None => {
                let resp =
                    self.call(&fields(Command::new(format!("{USER_PROFILE}/add")).attr("name", &spec.name))).await?;
                Ok((ret_id(&resp)?, Ensured::Created))
            }
        }
    }

    // ------------------------------------------------------------ active sessions

    pub async fn list_active(&self) -> Result<Vec<ActiveSession>> {
        rows(self.call(&Command::new(format!("{ACTIVE}/print"))).await?, ActiveSession::from_row)
    }

    pub async fn find_active_by_user(&self, user: &str) -> Result<Vec<ActiveSession>> {
        rows(self.call(&Command::new(format!("{ACTIVE}/print")).where_eq("user", user)).await?, ActiveSession::from_row)
    }

    /// Logs a known host in as `user` (what the login page would do), so the guest needs no form.
    pub async fn active_login(&self, l: &ActiveLogin) -> Result<()> {
        let cmd = Command::new(format!("{ACTIVE}/login"))
            .attr("user", &l.user)
            .attr("password", &l.password)
            .attr("mac-address", l.mac_address.to_string())
            .attr("ip", l.ip.to_string());
        self.call(&cmd).await.map(drop)
    }

    /// Kicks a session.
    pub async fn remove_active(&self, id: &ItemId) -> Result<()> {
        self.call(&remove_cmd(ACTIVE, id)).await.map(drop)
    }

    // ------------------------------------------------------------ hosts

    /// The host table entry for a guest's IP: how the portal learns the real MAC.
    pub async fn find_host_by_ip(&self, ip: Ipv4Addr) -> Result<Option<Host>> {
        let resp = self.call(&Command::new(format!("{HOST}/print")).where_eq("address", ip.to_string())).await?;
        first(resp, Host::from_row)
    }

    pub async fn list_hosts(&self) -> Result<Vec<Host>> {
        rows(self.call(&Command::new(format!("{HOST}/print"))).await?, Host::from_row)
    }

    /// Changes to the host table as RouterOS reports them (`/ip/hotspot/host/listen`), from
    /// now on: start it before reading the table so that nothing falls between the two.
    pub async fn watch_hosts(&self) -> Result<HostWatch> {
        Ok(HostWatch(self.listen(&Command::new(format!("{HOST}/listen"))).await?))
    }

    // ------------------------------------------------------------ ip-bindings

    pub async fn add_ip_binding(&self, b: &NewIpBinding) -> Result<ItemId> {
        let cmd = Command::new(format!("{IP_BINDING}/add"))
            .attr_opt("mac-address", b.mac_address.map(|m| m.to_string()))
            .attr_opt("address", b.address.map(|a| a.to_string()))
            .attr("type", b.kind.as_str())
            .attr_opt("comment", b.comment.as_deref());
        ret_id(&self.call(&cmd).await?)
    }

    pub async fn list_ip_bindings(&self) -> Result<Vec<IpBinding>> {
        rows(self.call(&Command::new(format!("{IP_BINDING}/print"))).await?, IpBinding::from_row)
    }

    pub async fn remove_ip_binding(&self, id: &ItemId) -> Result<()> {
        self.call(&remove_cmd(IP_BINDING, id)).await.map(drop)
    }

    // ------------------------------------------------------------ walled garden

    pub async fn add_walled_garden_ip(&self, w: &NewWalledGardenIp) -> Result<ItemId> {
        let cmd = Command::new(format!("{WALLED_GARDEN_IP}/add"))
            .attr("dst-address", &w.dst_address)
            .attr_opt("dst-port", w.dst_port.as_deref())
            .attr_opt("protocol", w.protocol.as_deref())
            .attr("action", &w.action)
            .attr_opt("comment", w.comment.as_deref());
        ret_id(&self.call(&cmd).await?)
    }

    pub async fn list_walled_garden_ip(&self) -> Result<Vec<WalledGardenIp>> {
        rows(self.call(&Command::new(format!("{WALLED_GARDEN_IP}/print"))).await?, WalledGardenIp::from_row)
    }

    pub async fn remove_walled_garden_ip(&self, id: &ItemId) -> Result<()> {
        self.call(&remove_cmd(WALLED_GARDEN_IP, id)).await.map(drop)
    }

    // ------------------------------------------------------------ system

    pub async fn identity(&self) -> Result<String> {
        let resp = self.call(&Command::new(format!("{IDENTITY}/print"))).await?;
        resp.rows
            .first()
            .and_then(|r| r.get("name").cloned())
            .ok_or(Error::Field { field: "name", detail: "missing".into() })
    }

    pub async fn set_identity(&self, name: &str) -> Result<()> {
        self.call(&Command::new(format!("{IDENTITY}/set")).attr("name", name)).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!("*1A".parse::<ItemId>().is_ok());
        for bad in ["1A", "*", "*xyz", "", "*12345678901234567"] {
            assert!(bad.parse::<ItemId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn user_row_parses_domain_types() {
        let mut a = Attrs::new();
        for (k, v) in [
            (".id", "*3"),
            ("name", "g1"),
            ("mac-address", "aa:bb:cc:dd:ee:f0"),
            ("limit-uptime", "1h"),
            ("limit-bytes-total", "0"),
            ("disabled", "false"),
        ] {
            a.insert(k.into(), v.into());
        }
        let u = HotspotUser::from_row(&a).unwrap();
        assert_eq!(u.mac_address.unwrap().to_string(), "AA:BB:CC:DD:EE:F0");
        assert_eq!(u.limit_uptime.unwrap().secs(), 3600);
        assert_eq!(u.limit_bytes_total, None);
        a.insert("mac-address".into(), "zz".into());
        assert!(matches!(HotspotUser::from_row(&a), Err(Error::Field { field: "mac-address", .. })));
    }
}
