//! Subscriber accounts on the router: a PPP secret per account, its package's PPP profile, and
//! ending it at expiry. RouterOS keeps a disabled secret's session up, so ending an account
//! also drops its `/ppp/active` sessions. A WireGuard account is a peer on the agent's
//! WireGuard interface instead, disabled at expiry (WireGuard has no session to drop).

use hotspot_core::wire::{WireguardPeer, WireguardServer};
use routeros::{
    Command, NewPppSecret, NewWireguardPeer, PppProfileSpec, PppSecretUpdate, PppService, WireguardInterface,
};

use super::naming::{
    ACCOUNT_LOCAL_ADDRESS, ACCOUNT_POOL, ACCOUNT_POOL_RANGES, WIREGUARD_ADDRESS, WIREGUARD_INTERFACE,
    WIREGUARD_LISTEN_PORT,
};
use super::{Result, Router, TAG, profile_name};
use crate::journal::AccountRecord;

fn service(a: &AccountRecord) -> PppService {
    a.service.parse().unwrap_or(PppService::Any)
}

impl Router {
    /// The accounts' address pool, made if the router has none of that name (never changed).
    async fn ensure_account_pool(&self) -> Result<()> {
        let found = self.ros.call(&Command::new("/ip/pool/print").where_eq("name", ACCOUNT_POOL)).await?;
        if !found.rows.is_empty() {
            return Ok(());
        }
        let add = Command::new("/ip/pool/add")
            .attr("name", ACCOUNT_POOL)
            .attr("ranges", ACCOUNT_POOL_RANGES)
            .attr("comment", format!("{TAG} subscriber accounts"));
        match self.ros.call(&add).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::AlreadyExists)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The agent's WireGuard interface, made (with its address) if the router has none.
    async fn ensure_wireguard(&self) -> Result<WireguardInterface> {
        if let Some(wg) = self.ros.find_wireguard(WIREGUARD_INTERFACE).await? {
            return Ok(wg);
        }
        let add = Command::new("/interface/wireguard/add")
            .attr("name", WIREGUARD_INTERFACE)
            .attr("listen-port", WIREGUARD_LISTEN_PORT.to_string())
            .attr("comment", format!("{TAG} WireGuard accounts"));
        match self.ros.call(&add).await {
            Ok(_) => {}
            Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::AlreadyExists)) => {}
            Err(e) => return Err(e),
        }
        let address = Command::new("/ip/address/add")
            .attr("address", WIREGUARD_ADDRESS)
            .attr("interface", WIREGUARD_INTERFACE)
            .attr("comment", format!("{TAG} WireGuard accounts"));
        self.ros.call(&address).await?;
        self.ros.find_wireguard(WIREGUARD_INTERFACE).await?.ok_or_else(|| routeros::Error::Field {
            field: "name",
            detail: format!("{WIREGUARD_INTERFACE} missing right after it was added"),
        })
    }

    /// A WireGuard account's peer, enabled; returns the router's end of the tunnel.
    async fn apply_wireguard(&self, a: &AccountRecord, peer: &WireguardPeer) -> Result<WireguardServer> {
        let wg = self.ensure_wireguard().await?;
        let existing = self.ros.list_wireguard_peers(WIREGUARD_INTERFACE).await?;
        match existing.iter().find(|p| p.public_key == peer.public_key) {
            Some(p) if p.disabled => self.ros.set_wireguard_peer_disabled(&p.id, false).await?,
            Some(_) => {}
            None => {
                let new = NewWireguardPeer {
                    interface: WIREGUARD_INTERFACE.into(),
                    public_key: peer.public_key,
                    allowed_address: format!("{}/32", peer.address),
                    preshared_key: None,
                    comment: Some(format!("{TAG} account {} expires {}", a.number, a.expires_at)),
                };
                self.ros.add_wireguard_peer(&new).await?;
            }
        }
        Ok(WireguardServer { account: a.number.clone(), public_key: wg.public_key, listen_port: wg.listen_port })
    }

    /// Creates or updates the account on the router: a PPP secret, enabled, on its package's
    /// profile, or a WireGuard peer (then returns the router's end of the tunnel). Looks before
    /// adding: an add whose reply was lost may have happened.
    pub async fn apply_account(&self, a: &AccountRecord) -> Result<Option<WireguardServer>> {
        if let Some(peer) = &a.wireguard {
            return self.apply_wireguard(a, peer).await.map(Some);
        }
        self.ensure_account_pool().await?;
        let profile = profile_name(&a.package);
        let spec = PppProfileSpec {
            name: profile.clone(),
            rate_limit: Some(a.package.rate_limit()),
            local_address: Some(ACCOUNT_LOCAL_ADDRESS.into()),
            remote_address: Some(ACCOUNT_POOL.into()),
            only_one: true,
        };
        self.ros.ensure_ppp_profile(&spec).await?;
        let comment = format!("{TAG} account expires {}", a.expires_at);
        let update = PppSecretUpdate {
            password: Some(a.password.clone()),
            service: Some(service(a)),
            profile: Some(profile.clone()),
            comment: Some(comment.clone()),
            disabled: Some(false),
        };
        if let Some(existing) = self.ros.find_ppp_secret(a.number.as_str()).await? {
            return self.ros.set_ppp_secret(&existing.id, &update).await.map(|()| None);
        }
        let new = NewPppSecret {
            name: a.number.to_string(),
            password: a.password.clone(),
            service: service(a),
            profile: Some(profile),
            remote_address: None,
            comment: Some(comment),
        };
        match self.ros.add_ppp_secret(&new).await {
            Ok(_) => Ok(None),
            Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::AlreadyExists)) => {
                match self.ros.find_ppp_secret(a.number.as_str()).await? {
                    Some(existing) => self.ros.set_ppp_secret(&existing.id, &update).await.map(|()| None),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Ends an account: its secret disabled (kept, for a renewal to enable) and its sessions
    /// dropped. Idempotent; an account the router no longer has is already ended.
    pub async fn end_account(&self, a: &AccountRecord) -> Result<()> {
        if let Some(peer) = &a.wireguard {
            let peers = self.ros.list_wireguard_peers(WIREGUARD_INTERFACE).await?;
            if let Some(p) = peers.iter().find(|p| p.public_key == peer.public_key && !p.disabled) {
                self.ros.set_wireguard_peer_disabled(&p.id, true).await?;
            }
            return Ok(());
        }
        if let Some(s) = self.ros.find_ppp_secret(a.number.as_str()).await?
            && !s.disabled
        {
            self.ros.set_ppp_secret_disabled(&s.id, true).await?;
        }
        for session in self.ros.find_ppp_active(a.number.as_str()).await? {
            match self.ros.remove_ppp_active(&session.id).await {
                Ok(()) => {}
                // Gone meanwhile (the client hung up): what we wanted.
                Err(e) if matches!(e.trap_kind(), Some(routeros::TrapKind::NoSuchItem)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
