//! What the agent does on the router, each operation idempotent: applying a grant twice, or
//! after a crash half-way, leaves exactly what applying it once leaves.

use std::net::Ipv4Addr;

use hotspot_core::package::GrantStyle;
use hotspot_core::{MacAddr, Package, VoucherCode};
use routeros::ops::{ActiveLogin, BindingType, HotspotUserUpdate, NewHotspotUser, NewIpBinding, UserProfileSpec};
use routeros::{Client, Error};

use crate::journal::GrantRecord;

mod accounts;
pub mod naming;

pub use naming::{TAG, profile_name};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Clone)]
pub struct Router {
    ros: Client,
    server: String,
}

impl Router {
    pub fn new(ros: Client, server: impl Into<String>) -> Self {
        Router { ros, server: server.into() }
    }

    pub fn client(&self) -> &Client {
        &self.ros
    }

    fn server(&self) -> Option<String> {
        (self.server != "all").then(|| self.server.clone())
    }

    /// Creates or corrects the package's user profile.
    pub async fn ensure_profile(&self, p: &Package) -> Result<String> {
        let name = profile_name(p);
        let spec = UserProfileSpec {
            name: name.clone(),
            rate_limit: Some(p.rate_limit()),
            shared_users: p.devices() as u32,
            session_timeout: None,
            idle_timeout: None,
        };
        self.ros.ensure_user_profile(&spec).await?;
        Ok(name)
    }

    /// Creates or updates a hotspot user. Looks before adding: an add whose reply was lost may
    /// have happened, so a retry must find it rather than fail or duplicate.
    async fn ensure_user(&self, user: NewHotspotUser) -> Result<()> {
        let update = |u: &NewHotspotUser| HotspotUserUpdate {
            password: Some(u.password.clone()),
            profile: u.profile.clone(),
            server: None,
            mac_address: u.mac_address,
            limit_uptime: u.limit_uptime,
            limit_bytes_total: u.limit_bytes_total,
            comment: u.comment.clone(),
            disabled: Some(false),
        };
        if let Some(existing) = self.ros.find_hotspot_user(&user.name).await? {
            return self.ros.set_hotspot_user(&existing.id, &update(&user)).await;
        }
        match self.ros.add_hotspot_user(&user).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::AlreadyExists)) => {
                match self.ros.find_hotspot_user(&user.name).await? {
                    Some(existing) => self.ros.set_hotspot_user(&existing.id, &update(&user)).await,
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Puts a grant on the router and logs the guest in if their device is here.
    /// Returns whether the guest is online now.
    pub async fn apply_grant(&self, g: &GrantRecord) -> Result<bool> {
        match g.package.style() {
            GrantStyle::Bypass => {
                self.ensure_bypass(g.mac, &format!("{TAG} purchase {}", g.purchase_id)).await?;
                Ok(true)
            }
            GrantStyle::HotspotUser => {
                let profile = self.ensure_profile(&g.package).await?;
                self.ensure_user(NewHotspotUser {
                    name: g.username.clone(),
                    password: g.password.clone(),
                    profile: Some(profile),
                    server: self.server(),
                    // A user bound to a MAC logs in from that MAC only, whatever shared-users
                    // says: a package for several devices leaves it unbound, and the profile's
                    // shared-users caps the sessions (the devices are the journal's to admit).
                    mac_address: (g.package.devices() <= 1).then_some(g.mac),
                    limit_uptime: g.package.uptime_limit(),
                    limit_bytes_total: g.package.data_cap_bytes(),
                    comment: Some(format!("{TAG} purchase {} expires {}", g.purchase_id, g.expires_at)),
                })
                .await?;
                self.login(&g.username, &g.password, g.mac, g.ip).await
            }
        }
    }

    /// Logs a device in as `user` with no code typed. The device is found by MAC in the host
    /// table (its address may have changed since it paid). False if the device is not here.
    pub async fn login(&self, user: &str, password: &str, mac: MacAddr, ip_hint: Option<Ipv4Addr>) -> Result<bool> {
        if self.ros.find_active_by_user(user).await?.iter().any(|s| s.mac_address == Some(mac)) {
            return Ok(true);
        }
        let host = match ip_hint {
            Some(ip) => self.ros.find_host_by_ip(ip).await?.filter(|h| h.mac_address == mac),
            None => None,
        };
        let host = match host {
            Some(h) => Some(h),
            None => self.ros.list_hosts().await?.into_iter().find(|h| h.mac_address == mac),
        };
        let Some(host) = host else { return Ok(false) };
        let login = ActiveLogin { user: user.into(), password: password.into(), mac_address: mac, ip: host.address };
        match self.ros.active_login(&login).await {
            Ok(()) => Ok(true),
            // A refusal may mean a concurrent login won; what matters is whether the session is up.
            Err(e @ Error::Trap(_)) => {
                let up = self.ros.find_active_by_user(user).await?.iter().any(|s| s.mac_address == Some(mac));
                if up { Ok(true) } else { Err(e) }
            }
            Err(e) => Err(e),
        }
    }

    /// Ends a user's access: kicks its sessions and removes it. Nothing there is fine.
    pub async fn remove_user(&self, name: &str) -> Result<()> {
        for s in self.ros.find_active_by_user(name).await? {
            ignore_missing(self.ros.remove_active(&s.id).await)?;
        }
        if let Some(u) = self.ros.find_hotspot_user(name).await? {
            ignore_missing(self.ros.remove_hotspot_user(&u.id).await)?;
        }
        Ok(())
    }

    /// Moves a grant to another device (a phone that changed its MAC, with its re-login code):
    /// the old device's session ends, the grant is bound to `to.mac` and that device logged in.
    /// `to` is the grant as journaled with the new MAC. Returns whether the device is online.
    pub async fn rebind_grant(&self, from: &GrantRecord, to: &GrantRecord) -> Result<bool> {
        match from.package.style() {
            // The binding is keyed by the purchase, not the MAC: replace it.
            GrantStyle::Bypass => self.remove_grant(from).await?,
            // Keep the user (its uptime counters); only its sessions go.
            GrantStyle::HotspotUser => {
                for s in self.ros.find_active_by_user(&from.username).await? {
                    ignore_missing(self.ros.remove_active(&s.id).await)?;
                }
            }
        }
        self.apply_grant(to).await
    }

    /// Ends a grant whatever its style.
    pub async fn remove_grant(&self, g: &GrantRecord) -> Result<()> {
        self.remove_user(&g.username).await?;
        if g.package.style() == GrantStyle::Bypass {
            let marker = format!("{TAG} purchase {}", g.purchase_id);
            for b in self.ros.list_ip_bindings().await? {
                if b.comment.as_deref() == Some(marker.as_str()) {
                    ignore_missing(self.ros.remove_ip_binding(&b.id).await)?;
                }
            }
        }
        Ok(())
    }

    async fn ensure_bypass(&self, mac: MacAddr, comment: &str) -> Result<()> {
        let exists = self.ros.list_ip_bindings().await?.iter().any(|b| b.comment.as_deref() == Some(comment));
        if !exists {
            self.ros
                .add_ip_binding(&NewIpBinding {
                    mac_address: Some(mac),
                    address: None,
                    kind: BindingType::Bypassed,
                    comment: Some(comment.into()),
                })
                .await?;
        }
        Ok(())
    }

    /// A voucher is a hotspot user named by its code, so it works with the cloud unreachable.
    pub async fn ensure_voucher(&self, code: &VoucherCode, p: &Package, batch: &str) -> Result<()> {
        let profile = self.ensure_profile(p).await?;
        self.ensure_user(NewHotspotUser {
            name: code.as_str().into(),
            password: code.as_str().into(),
            profile: Some(profile),
            server: self.server(),
            mac_address: None,
            limit_uptime: p.uptime_limit(),
            limit_bytes_total: p.data_cap_bytes(),
            comment: Some(format!("{TAG} voucher {batch}")),
        })
        .await
    }

    /// Names of the hotspot users the agent created.
    pub async fn our_users(&self) -> Result<Vec<String>> {
        Ok(self
            .ros
            .list_hotspot_users()
            .await?
            .into_iter()
            .filter(|u| u.comment.as_deref().is_some_and(|c| c.starts_with(TAG)))
            .map(|u| u.name)
            .collect())
    }
}

fn ignore_missing(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::NoSuchItem)) => Ok(()),
        other => other,
    }
}
