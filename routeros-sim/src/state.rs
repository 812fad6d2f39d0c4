//! Serialisable snapshot of the simulator, for assertions in tests.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use hotspot_core::{MacAddr, RosDuration};
use serde::{Deserialize, Serialize};

pub use crate::ppp::{PppEnded, PppSession};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimState {
    pub version: String,
    pub identity: String,
    pub clock_secs: u64,
    pub users: Vec<UserState>,
    pub profiles: Vec<ItemState>,
    pub active: Vec<SessionState>,
    pub hosts: Vec<HostState>,
    pub ip_bindings: Vec<BindingState>,
    pub walled_garden_ip: Vec<ItemState>,
    /// `/ip/firewall/nat`, in rule order.
    pub nat: Vec<ItemState>,
    /// Sessions that ended, oldest first, with why.
    pub ended_sessions: Vec<EndedSession>,
    /// `/ppp/secret`, `/ppp/profile`, `/ip/pool`, `/interface/wireguard` and its peers, as printed.
    #[serde(default)]
    pub ppp_secrets: Vec<ItemState>,
    #[serde(default)]
    pub ppp_profiles: Vec<ItemState>,
    #[serde(default)]
    pub ip_pools: Vec<ItemState>,
    #[serde(default)]
    pub ip_addresses: Vec<ItemState>,
    #[serde(default)]
    pub wireguard: Vec<ItemState>,
    #[serde(default)]
    pub wireguard_peers: Vec<ItemState>,
    /// `/ppp/active`, and the PPP sessions that ended (oldest first).
    #[serde(default)]
    pub ppp_active: Vec<PppSession>,
    #[serde(default)]
    pub ppp_ended: Vec<PppEnded>,
}

impl SimState {
    pub fn user(&self, name: &str) -> Option<&UserState> {
        self.users.iter().find(|u| u.name == name)
    }

    pub fn session_of(&self, mac: MacAddr) -> Option<&SessionState> {
        self.active.iter().find(|s| s.mac_address == mac)
    }

    pub fn ppp_secret(&self, name: &str) -> Option<&ItemState> {
        self.ppp_secrets.iter().find(|p| p.attrs.get("name").is_some_and(|n| n == name))
    }

    pub fn profile(&self, name: &str) -> Option<&ItemState> {
        self.profiles.iter().find(|p| p.attrs.get("name").is_some_and(|n| n == name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    pub id: String,
    pub name: String,
    pub password: String,
    pub profile: String,
    pub server: String,
    pub mac_address: Option<MacAddr>,
    pub limit_uptime: Option<RosDuration>,
    pub limit_bytes_total: Option<u64>,
    pub comment: Option<String>,
    pub disabled: bool,
    pub uptime_secs: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// A row of a menu without special semantics: its id and attributes as RouterOS prints them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    pub id: String,
    pub attrs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    pub id: String,
    pub user: String,
    pub mac_address: MacAddr,
    pub address: Ipv4Addr,
    pub login_at_secs: u64,
    pub uptime_secs: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostState {
    pub id: String,
    pub mac_address: MacAddr,
    pub address: Ipv4Addr,
    pub authorized: bool,
    pub bypassed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingState {
    pub id: String,
    pub mac_address: Option<MacAddr>,
    /// One address, a range or a prefix, as RouterOS prints it.
    pub address: Option<String>,
    pub kind: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndReason {
    UptimeLimit,
    TrafficLimit,
    SessionTimeout,
    IdleTimeout,
    /// `/ip/hotspot/active/remove`.
    Removed,
    HostLeft,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSession {
    pub user: String,
    pub mac_address: MacAddr,
    pub address: Ipv4Addr,
    pub uptime_secs: u64,
    pub ended_at_secs: u64,
    pub reason: EndReason,
}
