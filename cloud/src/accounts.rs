//! Selling a subscriber account (a PPPoE line at home, a VPN account at the counter): an account
//! number the subscriber pays to by Paybill, a password for their router or VPN app, the plan
//! of the package it was sold on, and the job that puts it on the router. For `hotspotctl
//! account add` (and the dashboard, later).

use hotspot_core::{AccountNumber, MessageId, PackageId, RouterId};

use crate::jobs::{AccountJobError, send_account};
use crate::renewal::{OddAmount, Plan};
use crate::store::router::RouterMode;
use crate::store::{AccountRecord, Store, StoreError, WireguardAccount};

/// The PPP services an account can be for.
/// `wireguard`: a peer on the router's WireGuard interface, not a PPP secret.
pub const SERVICES: &[&str] = &["pppoe", "l2tp", "pptp", "sstp", "ovpn", "any", "wireguard"];

pub struct Sale<'a> {
    pub router: &'a RouterId,
    pub package: &'a PackageId,
    pub service: &'a str,
    /// `None`: as the package says (`PackageRecord::odd_amounts`).
    pub odd_amount: Option<OddAmount>,
    /// When the time paid at the counter ends; `None`: one period of the package from now.
    /// `Some(now)` sells an account that waits for its first Paybill payment.
    pub expires_at: Option<i64>,
    /// The subscriber's phone, for the reminders before and at expiry.
    pub phone: Option<hotspot_core::phone::PhoneNumber>,
    /// The subscriber's name, as their page greets them.
    pub name: Option<String>,
    /// A WireGuard account's endpoint (`host[:port]` of the router, as the buyer's device reaches
    /// it): with it, the buyer's page offers the config.
    pub wg_endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sold {
    pub number: AccountNumber,
    pub password: String,
    pub expires_at: i64,
    /// The router's job (`None`: the account is stored, the job was not sent; `why` says).
    pub job: Result<MessageId, String>,
    /// The welcome SMS to the subscriber's phone (the credentials and how to renew), queued for
    /// the reconcile function to send within the minute; `None` without a phone.
    pub welcome: Option<Result<(), String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SellError {
    /// Nothing was changed, for this reason.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A subscriber's name as given at the sale: 1–60 printable characters, trimmed.
pub fn subscriber_name(raw: &str) -> Result<String, String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > 60 || n.chars().any(char::is_control) {
        return Err("the name must be 1 to 60 printable characters; nothing was changed".into());
    }
    Ok(n.to_string())
}

/// Letters and digits a subscriber can read off a slip and type: no 0/O, 1/l/I.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const PASSWORD_LEN: usize = 12;

fn password() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..PASSWORD_LEN).map(|_| PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())] as char).collect()
}

/// Sells an account: stored with a fresh number, then put on its router.
pub async fn sell(store: &Store, sqs: &aws_sdk_sqs::Client, sale: &Sale<'_>, now: i64) -> Result<Sold, SellError> {
    let refused = |why: String| Err(SellError::Refused(why));
    if !SERVICES.contains(&sale.service) {
        return refused(format!("service must be one of {}; nothing was changed", SERVICES.join(", ")));
    }
    let endpoint = match (&sale.wg_endpoint, sale.service) {
        (None, _) => None,
        (Some(e), "wireguard") => match crate::wireguard::endpoint(e) {
            Ok(e) => Some(e),
            Err(why) => return refused(format!("endpoint: {why}; nothing was changed")),
        },
        (Some(_), _) => return refused("an endpoint is for WireGuard accounts; nothing was changed".into()),
    };
    let Some(router) = store.get_router(sale.router).await? else {
        return refused(format!("no router {}; nothing was changed", sale.router));
    };
    if router.mode() == RouterMode::Radius {
        return refused(format!(
            "router {} runs in RADIUS mode (no agent): accounts need the agent; nothing was changed",
            router.id
        ));
    }
    let (package, package_odd) = match store.get_package(sale.router, sale.package).await? {
        Some(p) if p.on_sale => (p.package, p.odd_amounts),
        _ => return refused(format!("router {} sells no package {}; nothing was changed", router.id, sale.package)),
    };
    let period_secs = i64::try_from(package.validity().secs()).unwrap_or(i64::MAX);
    let expires_at = sale.expires_at.unwrap_or(now.saturating_add(period_secs));
    if expires_at < now {
        return refused("the paid time cannot end in the past; nothing was changed".into());
    }
    let plan = Plan { price: package.price(), period_secs, odd_amount: sale.odd_amount.unwrap_or(package_odd) };
    let wireguard = if sale.service == "wireguard" {
        let n = store.next_wireguard_host(&router.id).await?;
        let Some(address) = crate::wireguard::host_address(n) else {
            return refused(format!("router {} has no WireGuard address left; nothing was changed", router.id));
        };
        let (private_key, public_key) = crate::wireguard::key_pair();
        Some(WireguardAccount { private_key, public_key, address, server: None, endpoint })
    } else {
        None
    };
    let name = match &sale.name {
        Some(n) => Some(subscriber_name(n).map_err(SellError::Refused)?),
        None => None,
    };
    let password = password();
    // A number already taken (one in a million per draw) is drawn again.
    let mut number = AccountNumber::issue();
    for attempt in 0.. {
        let record = AccountRecord {
            number: number.clone(),
            router_id: router.id.clone(),
            package_id: package.id().clone(),
            service: sale.service.to_string(),
            password: password.clone(),
            plan,
            expires_at,
            created_at: now,
            renewals: 0,
            phone: sale.phone.clone(),
            reminded_for: None,
            ended_notice_for: None,
            name: name.clone(),
            wireguard: wireguard.clone(),
        };
        match store.create_account(&record).await {
            Ok(()) => break,
            Err(StoreError::AlreadyExists(_)) if attempt < 5 => number = AccountNumber::issue(),
            Err(e) => return Err(e.into()),
        }
    }
    let job = match send_account(store, sqs, &number, now).await {
        Ok(id) => Ok(id),
        Err(AccountJobError::Store(e)) => return Err(e.into()),
        Err(e) => Err(e.to_string()),
    };
    // After the job: an SMS is worth less than the router knowing the account.
    let welcome = match &sale.phone {
        None => None,
        Some(_) => Some(store.queue_welcome(&number, now).await.map_err(|e| e.to_string())),
    };
    Ok(Sold { number, password, expires_at, job, welcome })
}
