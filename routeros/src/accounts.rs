//! Typed operations on the account menus: PPP secrets and profiles (PPPoE subscribers, PPTP,
//! L2TP, SSTP and OpenVPN accounts), their sessions, and WireGuard peers. Property names are
//! RouterOS's own (`/console/inspect`, 7.9 to 7.22; routeros-sim/tests/fixtures).
//!
//! A secret disabled or removed keeps its session up on a real router: ending an account means
//! both [`Client::set_ppp_secret_disabled`] (or remove) and [`Client::remove_ppp_active`].

use std::net::Ipv4Addr;

use hotspot_core::{RateLimit, RosDuration, WgKey};

use crate::client::Client;
use crate::error::Result;
use crate::ops::{Ensured, ItemId, Row, first, remove_cmd, ret_id, rows, yes_no};
use crate::sentence::{Attrs, Command};

pub const PPP_SECRET: &str = "/ppp/secret";
pub const PPP_PROFILE: &str = "/ppp/profile";
pub const PPP_ACTIVE: &str = "/ppp/active";
pub const WIREGUARD: &str = "/interface/wireguard";
pub const WIREGUARD_PEERS: &str = "/interface/wireguard/peers";

hotspot_core::string_enum! {
    /// Which PPP server a secret is for (`service`); `any` takes them all.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PppService("PPP service") {
        Any = "any",
        Pppoe = "pppoe",
        Pptp = "pptp",
        L2tp = "l2tp",
        Sstp = "sstp",
        Ovpn = "ovpn",
        Async = "async",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PppSecret {
    pub id: ItemId,
    pub name: String,
    pub password: Option<String>,
    pub service: PppService,
    pub profile: Option<String>,
    pub remote_address: Option<Ipv4Addr>,
    pub comment: Option<String>,
    pub disabled: bool,
}

impl PppSecret {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(PppSecret {
            id: r.id()?,
            name: r.req("name")?,
            password: r.str("password"),
            service: r.parse("service")?.unwrap_or(PppService::Any),
            profile: r.str("profile"),
            remote_address: r.parse("remote-address")?,
            comment: r.str("comment"),
            disabled: r.flag("disabled"),
        })
    }
}

/// Fields for `add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPppSecret {
    pub name: String,
    pub password: String,
    pub service: PppService,
    pub profile: Option<String>,
    /// A fixed address for the client; `None` takes one from the profile's pool.
    pub remote_address: Option<Ipv4Addr>,
    pub comment: Option<String>,
}

impl NewPppSecret {
    pub fn command(&self) -> Command {
        Command::new(format!("{PPP_SECRET}/add"))
            .attr("name", &self.name)
            .attr("password", &self.password)
            .attr("service", self.service.as_str())
            .attr_opt("profile", self.profile.as_deref())
            .attr_opt("remote-address", self.remote_address.map(|a| a.to_string()))
            .attr_opt("comment", self.comment.as_deref())
    }
}

/// Fields for a secret's `set`; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PppSecretUpdate {
    pub password: Option<String>,
    pub service: Option<PppService>,
    pub profile: Option<String>,
    pub comment: Option<String>,
    pub disabled: Option<bool>,
}

/// What an account package's PPP profile must look like. Name is the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PppProfileSpec {
    pub name: String,
    pub rate_limit: Option<RateLimit>,
    /// The router's end of the link: an address or an `/ip/pool` name.
    pub local_address: Option<String>,
    /// The clients' addresses: an address or an `/ip/pool` name.
    pub remote_address: Option<String>,
    /// `only-one=yes`: one session per account at a time.
    pub only_one: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PppProfile {
    pub id: ItemId,
    pub name: String,
    pub rate_limit: Option<String>,
    pub local_address: Option<String>,
    pub remote_address: Option<String>,
    pub only_one: Option<String>,
}

impl PppProfile {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(PppProfile {
            id: r.id()?,
            name: r.req("name")?,
            rate_limit: r.str("rate-limit"),
            local_address: r.str("local-address"),
            remote_address: r.str("remote-address"),
            only_one: r.str("only-one"),
        })
    }

    fn matches(&self, spec: &PppProfileSpec) -> bool {
        let rate_same = match (&self.rate_limit, &spec.rate_limit) {
            (None, None) => true,
            (Some(have), Some(want)) => have.parse::<RateLimit>().is_ok_and(|h| h == *want),
            _ => false,
        };
        rate_same
            && self.local_address == spec.local_address
            && self.remote_address == spec.remote_address
            && self.only_one.as_deref() == Some(yes_no(spec.only_one))
    }
}

/// A PPP session (`/ppp/active`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PppActive {
    pub id: ItemId,
    pub name: String,
    pub service: Option<String>,
    /// The client's MAC (PPPoE) or IP address (the VPN services).
    pub caller_id: Option<String>,
    pub address: Option<Ipv4Addr>,
    pub uptime: Option<RosDuration>,
}

impl PppActive {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(PppActive {
            id: r.id()?,
            name: r.req("name")?,
            service: r.str("service"),
            caller_id: r.str("caller-id"),
            address: r.parse("address")?,
            uptime: r.parse("uptime")?,
        })
    }
}

/// A WireGuard interface: what a client config needs of the router's side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WireguardInterface {
    pub id: ItemId,
    pub name: String,
    pub public_key: WgKey,
    pub listen_port: u16,
}

impl WireguardInterface {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(WireguardInterface {
            id: r.id()?,
            name: r.req("name")?,
            public_key: r
                .req("public-key")?
                .parse()
                .map_err(|e| crate::Error::Field { field: "public-key", detail: format!("{e}") })?,
            listen_port: r.parse("listen-port")?.unwrap_or(13231),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WireguardPeer {
    pub id: ItemId,
    pub interface: String,
    pub public_key: WgKey,
    /// As RouterOS prints it: comma-separated prefixes.
    pub allowed_address: Option<String>,
    pub comment: Option<String>,
    pub disabled: bool,
}

impl WireguardPeer {
    fn from_row(a: &Attrs) -> Result<Self> {
        let r = Row(a);
        Ok(WireguardPeer {
            id: r.id()?,
            interface: r.req("interface")?,
            public_key: r
                .req("public-key")?
                .parse()
                .map_err(|e| crate::Error::Field { field: "public-key", detail: format!("{e}") })?,
            allowed_address: r.str("allowed-address"),
            comment: r.str("comment"),
            disabled: r.flag("disabled"),
        })
    }
}

/// Fields for a peer's `add`: the buyer's public key, and the address their tunnel gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWireguardPeer {
    pub interface: String,
    pub public_key: WgKey,
    /// The tunnel address the peer may use, e.g. `10.66.0.7/32`.
    pub allowed_address: String,
    pub preshared_key: Option<WgKey>,
    pub comment: Option<String>,
}

impl Client {
    // ------------------------------------------------------------ PPP secrets

    pub async fn find_ppp_secret(&self, name: &str) -> Result<Option<PppSecret>> {
        let resp = self.call(&Command::new(format!("{PPP_SECRET}/print")).where_eq("name", name)).await?;
        first(resp, PppSecret::from_row)
    }

    pub async fn list_ppp_secrets(&self) -> Result<Vec<PppSecret>> {
        rows(self.call(&Command::new(format!("{PPP_SECRET}/print"))).await?, PppSecret::from_row)
    }

    /// Adds a secret; a duplicate name is `Error::Trap` with `TrapKind::AlreadyExists`.
    pub async fn add_ppp_secret(&self, s: &NewPppSecret) -> Result<ItemId> {
        ret_id(&self.call(&s.command()).await?)
    }

    pub async fn set_ppp_secret(&self, id: &ItemId, u: &PppSecretUpdate) -> Result<()> {
        let cmd = Command::new(format!("{PPP_SECRET}/set"))
            .attr(".id", id.as_str())
            .attr_opt("password", u.password.as_deref())
            .attr_opt("service", u.service.map(|s| s.as_str()))
            .attr_opt("profile", u.profile.as_deref())
            .attr_opt("comment", u.comment.as_deref())
            .attr_opt("disabled", u.disabled.map(yes_no));
        self.call(&cmd).await.map(drop)
    }

    /// Disables or enables a secret. Its session, if any, stays up: see [`Client::remove_ppp_active`].
    pub async fn set_ppp_secret_disabled(&self, id: &ItemId, disabled: bool) -> Result<()> {
        let cmd = Command::new(format!("{PPP_SECRET}/set")).attr(".id", id.as_str()).attr("disabled", yes_no(disabled));
        self.call(&cmd).await.map(drop)
    }

    pub async fn remove_ppp_secret(&self, id: &ItemId) -> Result<()> {
        self.call(&remove_cmd(PPP_SECRET, id)).await.map(drop)
    }

    // ------------------------------------------------------------ PPP profiles

    pub async fn find_ppp_profile(&self, name: &str) -> Result<Option<PppProfile>> {
        let resp = self.call(&Command::new(format!("{PPP_PROFILE}/print")).where_eq("name", name)).await?;
        first(resp, PppProfile::from_row)
    }

    /// Creates the profile or brings an existing one in line with `spec`.
    pub async fn ensure_ppp_profile(&self, spec: &PppProfileSpec) -> Result<(ItemId, Ensured)> {
        let fields = |c: Command| {
            c.attr("rate-limit", spec.rate_limit.map(|r| r.to_string()).unwrap_or_default())
                .attr("local-address", spec.local_address.clone().unwrap_or_default())
                .attr("remote-address", spec.remote_address.clone().unwrap_or_default())
                .attr("only-one", yes_no(spec.only_one))
        };
        match self.find_ppp_profile(&spec.name).await? {
            Some(p) if p.matches(spec) => Ok((p.id, Ensured::Unchanged)),
            Some(p) => {
                self.call(&fields(Command::new(format!("{PPP_PROFILE}/set")).attr(".id", p.id.as_str()))).await?;
                Ok((p.id, Ensured::Updated))
            }
            None => {
                let resp =
                    self.call(&fields(Command::new(format!("{PPP_PROFILE}/add")).attr("name", &spec.name))).await?;
                Ok((ret_id(&resp)?, Ensured::Created))
            }
        }
    }

    // ------------------------------------------------------------ PPP sessions

    pub async fn list_ppp_active(&self) -> Result<Vec<PppActive>> {
        rows(self.call(&Command::new(format!("{PPP_ACTIVE}/print"))).await?, PppActive::from_row)
    }

    pub async fn find_ppp_active(&self, name: &str) -> Result<Vec<PppActive>> {
        let resp = self.call(&Command::new(format!("{PPP_ACTIVE}/print")).where_eq("name", name)).await?;
        rows(resp, PppActive::from_row)
    }

    /// Drops a session (the client may dial again if its secret still lets it).
    pub async fn remove_ppp_active(&self, id: &ItemId) -> Result<()> {
        self.call(&remove_cmd(PPP_ACTIVE, id)).await.map(drop)
    }

    // ------------------------------------------------------------ WireGuard

    pub async fn find_wireguard(&self, name: &str) -> Result<Option<WireguardInterface>> {
        let resp = self.call(&Command::new(format!("{WIREGUARD}/print")).where_eq("name", name)).await?;
        first(resp, WireguardInterface::from_row)
    }

    pub async fn list_wireguard_peers(&self, interface: &str) -> Result<Vec<WireguardPeer>> {
        let resp =
            self.call(&Command::new(format!("{WIREGUARD_PEERS}/print")).where_eq("interface", interface)).await?;
        rows(resp, WireguardPeer::from_row)
    }

    pub async fn add_wireguard_peer(&self, p: &NewWireguardPeer) -> Result<ItemId> {
        let cmd = Command::new(format!("{WIREGUARD_PEERS}/add"))
            .attr("interface", &p.interface)
            .attr("public-key", p.public_key.to_string())
            .attr("allowed-address", &p.allowed_address)
            .attr_opt("preshared-key", p.preshared_key.map(|k| k.to_string()))
            .attr_opt("comment", p.comment.as_deref());
        ret_id(&self.call(&cmd).await?)
    }

    /// A disabled peer's tunnel stops at once (WireGuard has no session to drop).
    pub async fn set_wireguard_peer_disabled(&self, id: &ItemId, disabled: bool) -> Result<()> {
        let cmd =
            Command::new(format!("{WIREGUARD_PEERS}/set")).attr(".id", id.as_str()).attr("disabled", yes_no(disabled));
        self.call(&cmd).await.map(drop)
    }

    pub async fn remove_wireguard_peer(&self, id: &ItemId) -> Result<()> {
        self.call(&remove_cmd(WIREGUARD_PEERS, id)).await.map(drop)
    }
}
