//! The portal's view of the agent: identity from RouterOS, progress from the journal first
//! (the grant job arrives on SQS), the cloud API second.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotspot_core::api::{PurchaseState, codes};
use hotspot_core::phone::{Country, PhoneNumber};
use hotspot_core::wallet::{Offered, Wallet};
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{MacAddr, Package, PackageId, PurchaseId, VoucherCode};

use crate::agent::Agent;
use crate::cloud::{CloudApi, CloudError};
use crate::decide::devices::{Join, join};
use crate::journal::{GrantRecord, GrantState};
use crate::portal::{
    Guest, IdentifyError, PortalBackend, PurchaseProgress, PurchaseStartError, PurchaseStarted, StatusError,
    VoucherLoginError,
};

/// Don't ask the cloud about one purchase more often than this (pages poll every second or two).
const STATUS_EVERY: Duration = Duration::from_secs(3);
/// How long a lookup's answer serves pages that only show things, when the host table watch
/// (`Agent.hosts`) has no answer. A guest reloading the portal costs one RouterOS round trip per
/// this; a DHCP address moving to another device within it only shows that device a page, since
/// what changes the router asks RouterOS again.
const HOST_CACHE_FOR: Duration = Duration::from_secs(2);

/// Answers that count for `ttl` after they were given; at most `max` kept (when full, the stale
/// go first, then all).
struct Recent<K, V> {
    ttl: Duration,
    max: usize,
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Recent<K, V> {
    fn new(ttl: Duration, max: usize) -> Self {
        Recent { ttl, max, map: Mutex::new(HashMap::new()) }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, k: &K) -> Option<V> {
        self.map().get(k).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    fn put(&self, k: K, v: V) {
        let mut map = self.map();
        if map.len() >= self.max {
            map.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if map.len() >= self.max {
                map.clear();
            }
        }
        map.insert(k, (Instant::now(), v));
    }

    fn forget(&self, k: &K) {
        self.map().remove(k);
    }
}

pub struct AgentBackend {
    agent: Agent,
    cloud: CloudApi,
    last_status: Recent<PurchaseId, PurchaseProgress>,
    looked_up: Recent<Ipv4Addr, MacAddr>,
    /// When the NAT misconfiguration was last logged (once per `NAT_WARN_EVERY`, not per page).
    nat_warned: Mutex<Option<Instant>>,
}

const NAT_WARN_EVERY: Duration = Duration::from_secs(600);

impl AgentBackend {
    pub fn new(agent: Agent, cloud: CloudApi) -> Self {
        AgentBackend {
            agent,
            cloud,
            last_status: Recent::new(STATUS_EVERY, 1024),
            looked_up: Recent::new(HOST_CACHE_FOR, 4096),
            nat_warned: Mutex::new(None),
        }
    }

    /// Guests arrive from the router's own address: its source NAT rewrites guest → container
    /// traffic (`/ip hotspot setup` answers "masquerade network: yes" with no out-interface).
    /// One clear error naming the fix, at most every ten minutes.
    fn nat_hides_guests(&self, seen_as: Ipv4Addr) {
        let mut last = self.nat_warned.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < NAT_WARN_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let portal =
            own_address_towards(seen_as).map(|a| a.to_string()).unwrap_or_else(|| "<container address>".into());
        tracing::error!(
            alarm = "nat_hides_guests",
            seen_as = %seen_as,
            fix = %format!("/ip firewall nat add chain=srcnat action=accept dst-address={portal} place-before=0"),
            "guests reach the portal from the router's own address: the router's srcnat masquerade hides them. \
             Add a srcnat accept to this container before every other srcnat rule (docs/onboarding.md, NAT)"
        );
    }

    async fn cloud_progress(&self, id: &PurchaseId) -> PurchaseProgress {
        if let Some(p) = self.last_status.get(id) {
            return p;
        }
        let p = match self.cloud.status(id).await {
            Ok(v) => match v.state {
                PurchaseState::Pending => PurchaseProgress::AwaitingPayment,
                PurchaseState::Paid | PurchaseState::Active => PurchaseProgress::Connecting,
                PurchaseState::Failed | PurchaseState::AmountMismatch | PurchaseState::Unknown => {
                    PurchaseProgress::Failed(v.reason.unwrap_or(PaymentFailure::Unknown))
                }
            },
            // Unreachable: keep waiting; the job arrives by SQS when the cloud is back.
            Err(_) => PurchaseProgress::AwaitingPayment,
        };
        self.last_status.put(id.clone(), p.clone());
        p
    }
}

impl AgentBackend {
    /// The live grant whose SMS re-login code this is, if any.
    fn relogin_grant(&self, code: &VoucherCode) -> Option<GrantRecord> {
        let t = self.agent.now();
        let grants = self.agent.journal.live_grants().ok()?;
        grants.into_iter().find(|g| g.expires_at > t && self.agent.keys.is_relogin_code(code, &g.purchase_id))
    }

    /// A paying guest's device came back with another MAC: move the grant to it.
    /// Another device joins a grant for several (its code typed on it), within the limit.
    async fn join(&self, guest: Guest, g: GrantRecord) -> Result<(), VoucherLoginError> {
        let j = &self.agent.journal;
        let max = g.package.devices();
        let mut joined = j.grant_devices(&g.purchase_id).map_err(|_| VoucherLoginError::RouterUnavailable)?;
        if joined.is_empty() {
            joined.push(g.mac);
        }
        let online: Vec<MacAddr> = match self.agent.router.client().find_active_by_user(&g.username).await {
            Ok(s) => s.into_iter().filter_map(|s| s.mac_address).collect(),
            Err(_) => return Err(VoucherLoginError::RouterUnavailable),
        };
        let replacing = match join(&joined, max, guest.mac, &online) {
            Join::Full => {
                tracing::info!(purchase_id = %g.purchase_id, devices = max, "device refused: every place is in use");
                return Err(VoucherLoginError::DevicesFull { devices: max });
            }
            Join::AlreadyIn => None,
            Join::Add => Some(None),
            Join::Replace(away) => Some(Some(away)),
        };
        if let Some(replacing) = replacing {
            j.join_grant_device(&g.purchase_id, guest.mac, replacing, self.agent.now())
                .map_err(|_| VoucherLoginError::RouterUnavailable)?;
            tracing::info!(purchase_id = %g.purchase_id, mac = %guest.mac, replacing = ?replacing, "device joined a grant");
        }
        match self.agent.router.login(&g.username, &g.password, guest.mac, Some(guest.ip)).await {
            Ok(true) => Ok(()),
            _ => Err(VoucherLoginError::RouterUnavailable),
        }
    }

    async fn relogin(&self, guest: Guest, from: GrantRecord) -> Result<(), VoucherLoginError> {
        if from.package.devices() > 1 {
            return self.join(guest, from).await;
        }
        if from.mac == guest.mac {
            return match self.agent.router.login(&from.username, &from.password, guest.mac, Some(guest.ip)).await {
                Ok(true) => Ok(()),
                _ => Err(VoucherLoginError::RouterUnavailable),
            };
        }
        let to = GrantRecord { mac: guest.mac, ip: Some(guest.ip), ..from.clone() };
        match self.agent.router.rebind_grant(&from, &to).await {
            Ok(true) => {
                let t = self.agent.now();
                let j = &self.agent.journal;
                let _ = j.set_grant_mac(&from.purchase_id, guest.mac, Some(guest.ip), t);
                let _ = j.set_grant_state(&from.purchase_id, GrantState::Active, Some(true), t);
                tracing::info!(purchase_id = %from.purchase_id, from = %from.mac, to = %guest.mac, "re-login: grant moved to a new device");
                Ok(())
            }
            _ => Err(VoucherLoginError::RouterUnavailable),
        }
    }
}

impl PortalBackend for AgentBackend {
    async fn packages(&self) -> Arc<Vec<Package>> {
        self.agent.journal.packages().unwrap_or_default()
    }

    async fn identify(&self, ip: Ipv4Addr) -> Result<MacAddr, IdentifyError> {
        match self.agent.router.client().find_host_by_ip(ip).await {
            Ok(Some(h)) => {
                self.looked_up.put(ip, h.mac_address);
                Ok(h.mac_address)
            }
            Ok(None) => {
                self.looked_up.forget(&ip);
                if self.agent.cfg.router_ip == Some(ip) {
                    self.nat_hides_guests(ip);
                    return Err(IdentifyError::HiddenByNat);
                }
                Err(IdentifyError::NotAHost)
            }
            Err(_) => Err(IdentifyError::RouterUnavailable),
        }
    }

    async fn identify_recent(&self, ip: Ipv4Addr) -> Result<MacAddr, IdentifyError> {
        // A device that just joined was reported by the watch before its first page.
        if let Some(mac) = self.agent.hosts.mac_of(ip, Instant::now()) {
            return Ok(mac);
        }
        match self.looked_up.get(&ip) {
            Some(mac) => Ok(mac),
            None => self.identify(ip).await,
        }
    }

    async fn wallets(&self) -> Offered {
        self.agent.journal.wallets().unwrap_or_default()
    }

    async fn country(&self) -> Country {
        self.agent.journal.country().unwrap_or_default()
    }

    async fn start_purchase(
        &self,
        guest: Guest,
        package: &PackageId,
        phone: &PhoneNumber,
        wallet: Wallet,
    ) -> Result<PurchaseStarted, PurchaseStartError> {
        // The grant may come within a second of the prompt: the job consumer polls from now.
        self.agent.jobs_expected.expect();
        match self.cloud.purchase(guest.mac, guest.ip, package, phone, wallet).await {
            Ok(v) => {
                let t = self.agent.now();
                let _ = self.agent.journal.record_purchase(&v.purchase_id, guest.mac, t);
                if let Some(reason) = v.reason.filter(|_| v.state != PurchaseState::Pending) {
                    let _ = self.agent.journal.record_payment_failure(&v.purchase_id, reason, None, t);
                }
                let message = v.customer_message.or(v.message).unwrap_or_default();
                tracing::info!(purchase_id = %v.purchase_id, phone = %phone.masked(), wallet = %wallet.as_str(), "purchase started");
                Ok(PurchaseStarted { purchase_id: v.purchase_id, message })
            }
            Err(CloudError::Http { code, retry_after, .. }) if code == codes::PROMPTS_STOPPED => {
                tracing::info!(phone = %phone.masked(), ?retry_after, "purchase refused: the number's owner stopped prompts");
                Err(PurchaseStartError::PhoneStopped)
            }
            Err(CloudError::Http { code, .. }) if code == codes::PHONE_DAY_LIMIT => {
                Err(PurchaseStartError::PhoneDayLimit)
            }
            Err(CloudError::Http { code, .. }) if code == codes::ROUTER_DISABLED => {
                tracing::warn!("purchase refused: this router is disabled in the cloud (hotspotctl router enable)");
                Err(PurchaseStartError::HotspotDisabled)
            }
            Err(CloudError::Http { code, retry_after, .. }) if code == codes::ROUTER_BUSY => {
                Err(PurchaseStartError::HotspotBusy { retry_after_secs: retry_after.unwrap_or(60) })
            }
            Err(CloudError::Http { status: 429, retry_after, .. }) => {
                Err(PurchaseStartError::RateLimited { retry_after_secs: retry_after.unwrap_or(60) })
            }
            Err(CloudError::Http { status: 404, .. }) => Err(PurchaseStartError::NoSuchPackage),
            Err(CloudError::Http { message, .. }) => Err(PurchaseStartError::Refused(message)),
            Err(e) => {
                tracing::warn!(error = %e, "purchase not started: cloud unavailable");
                Err(PurchaseStartError::CloudUnavailable)
            }
        }
    }

    async fn purchase_progress(&self, guest: Guest, id: &PurchaseId) -> Result<PurchaseProgress, StatusError> {
        let j = &self.agent.journal;
        match j.purchase_mac(id) {
            Ok(Some(mac)) if mac == guest.mac => {}
            Ok(_) => return Err(StatusError::NotFound),
            Err(_) => return Err(StatusError::Unavailable),
        }
        if let Ok(Some(g)) = j.grant(id) {
            return Ok(match g.state {
                GrantState::Pending => PurchaseProgress::Connecting,
                GrantState::Active if g.online => PurchaseProgress::Online { expires_at: g.expires_at },
                GrantState::Active => {
                    // Paid while away, or on another address: log in now, from this request.
                    match self.agent.router.login(&g.username, &g.password, guest.mac, Some(guest.ip)).await {
                        Ok(true) => {
                            let _ = j.set_grant_state(id, GrantState::Active, Some(true), self.agent.now());
                            PurchaseProgress::Online { expires_at: g.expires_at }
                        }
                        _ => PurchaseProgress::Ready { expires_at: g.expires_at },
                    }
                }
                GrantState::Ended => PurchaseProgress::Failed(PaymentFailure::Expired),
            });
        }
        if let Ok(Some(reason)) = j.payment_failure(id) {
            return Ok(PurchaseProgress::Failed(reason));
        }
        // A guest still waiting keeps the consumer polling (a late answer, a lost callback).
        self.agent.jobs_expected.expect();
        Ok(self.cloud_progress(id).await)
    }

    async fn resume(&self, guest: Guest) -> Option<i64> {
        let t = self.agent.now();
        let g = self.agent.journal.active_grant_for(guest.mac, t).ok()??;
        // The page may have known the device from a recent lookup: ask again before logging in.
        if self.identify(guest.ip).await != Ok(guest.mac) {
            return None;
        }
        match self.agent.router.login(&g.username, &g.password, guest.mac, Some(guest.ip)).await {
            Ok(true) => {
                let _ = self.agent.journal.set_grant_state(&g.purchase_id, GrantState::Active, Some(true), t);
                tracing::info!(purchase_id = %g.purchase_id, "returning guest logged back in");
                Some(g.expires_at)
            }
            _ => None,
        }
    }

    async fn share_code(&self, guest: Guest, id: &PurchaseId) -> Option<(VoucherCode, u8)> {
        let g = self.agent.journal.grant(id).ok()??;
        let ours = g.mac == guest.mac || self.agent.journal.grant_devices(id).ok()?.contains(&guest.mac);
        (ours && g.package.devices() > 1 && g.state == GrantState::Active)
            .then(|| (VoucherCode::relogin(&self.agent.cfg.router_key, id), g.package.devices()))
    }

    async fn voucher_login(&self, guest: Guest, code: &VoucherCode) -> Result<(), VoucherLoginError> {
        if let Some(grant) = self.relogin_grant(code) {
            return self.relogin(guest, grant).await;
        }
        if let Ok(Some(v)) = self.agent.journal.voucher(code)
            && v.ended
        {
            return Err(VoucherLoginError::Invalid);
        }
        match self.agent.router.login(code.as_str(), code.as_str(), guest.mac, Some(guest.ip)).await {
            Ok(true) => {
                if let Ok(Some(_)) = self.agent.journal.voucher_used(code, self.agent.now()) {
                    self.agent.expiry_wake.notify_one();
                }
                tracing::info!(voucher = %code.masked(), "voucher login");
                Ok(())
            }
            Ok(false) => Err(VoucherLoginError::RouterUnavailable),
            Err(routeros::Error::Trap(_)) => Err(VoucherLoginError::Invalid),
            Err(_) => Err(VoucherLoginError::RouterUnavailable),
        }
    }
}

/// This container's address on the link to `peer` (no packet is sent: a UDP socket's route).
fn own_address_towards(peer: Ipv4Addr) -> Option<Ipv4Addr> {
    let s = std::net::UdpSocket::bind(("0.0.0.0", 0)).ok()?;
    s.connect((peer, 9)).ok()?;
    match s.local_addr().ok()?.ip() {
        std::net::IpAddr::V4(a) => Some(a),
        std::net::IpAddr::V6(_) => None,
    }
}
