//! RADIUS mode (`docs/radius.md`): what the cloud answers a router's own hotspot that asks
//! through FreeRADIUS, for routers that cannot run the agent. Pure: the handler reads the records
//! these functions need and writes what they return.
//!
//! A guest who paid logs in with the grant's credentials (user = the purchase id, password =
//! [`password`], handed to the browser by the cloud portal); a returning device logs in by its
//! MAC (`login-by=mac`); a printed voucher logs in by its code, whose validity starts at its
//! first login. The Access-Accept names the grant in `Class` ([`Grant::class`]), which the router
//! echoes in every accounting request (RFC 2865 §5.25), so usage finds its grant however it
//! logged in.

pub mod rest;

use hmac::{Hmac, Mac};
use hotspot_core::{MacAddr, Package, PurchaseId, RateLimit, RouterId, RouterKey, VoucherCode};
use sha2::Sha256;

use crate::store::{Purchase, SessionRecord, VoucherRecord};

/// How often the router sends interim accounting (`Acct-Interim-Interval`).
pub const INTERIM_SECS: u32 = 300;

/// Who is logging in, from `User-Name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The grant the cloud portal handed the guest's browser.
    Grant(PurchaseId),
    /// A returning device (`login-by=mac`: RouterOS sends the MAC as the user name).
    Device(MacAddr),
    /// A printed voucher's code, typed on the router's login page (any case, dashes allowed).
    Voucher(VoucherCode),
}

impl Login {
    pub fn parse(user_name: &str) -> Option<Login> {
        let u = user_name.trim();
        if let Ok(mac) = u.parse::<MacAddr>() {
            return Some(Login::Device(mac));
        }
        if let Ok(id) = u.parse::<PurchaseId>() {
            return Some(Login::Grant(id));
        }
        u.parse::<VoucherCode>().ok().map(Login::Voucher)
    }
}

/// What an accepted login is using: the router echoes it in accounting as `Class`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    Purchase(PurchaseId),
    Voucher(VoucherCode),
}

/// A voucher's `Class` starts so; no purchase id does (they start with `p`).
const VOUCHER_CLASS: &str = "voucher:";

impl Grant {
    pub fn class(&self) -> String {
        match self {
            Grant::Purchase(id) => id.as_str().to_string(),
            Grant::Voucher(code) => format!("{VOUCHER_CLASS}{code}"),
        }
    }

    pub fn from_class(class: &str) -> Option<Grant> {
        match class.strip_prefix(VOUCHER_CLASS) {
            Some(code) => code.parse().ok().map(Grant::Voucher),
            None => class.parse().ok().map(Grant::Purchase),
        }
    }
}

/// The grant's password for the router's login form: only the cloud (which holds the router's
/// key) can make it, so a guest cannot log in as another's purchase by guessing its id.
pub fn password(key: &RouterKey, id: &PurchaseId) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
    m.update(b"hotspot-radius/v1\n");
    m.update(id.as_str().as_bytes());
    hex::encode(&m.finalize().into_bytes()[..10])
}

/// One accounting session (one device's login) under a purchase, as the router last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub acct_session: String,
    pub mac: Option<MacAddr>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub stopped: bool,
}

/// What the router is told when it may let the guest on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    pub grant: Grant,
    /// Checked by FreeRADIUS itself (PAP or CHAP) for a grant login; none for a device login,
    /// which the MAC alone identifies (as every MAC login does), nor for a voucher, whose code
    /// is its secret (a slip has one code; the router's page may send any password with it).
    pub password: Option<String>,
    /// Seconds to the wall-clock expiry (or the uptime limit, if sooner).
    pub session_timeout: u64,
    pub rate_limit: RateLimit,
    /// Bytes left under the package's data cap.
    pub total_limit: Option<u64>,
    pub interim_secs: u32,
}

/// Why not. The router only learns "rejected" with a short reply message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no such grant at this hotspot")]
    NoGrant,
    #[error("not paid")]
    NotPaid,
    #[error("time is up")]
    Expired,
    #[error("data allowance used")]
    DataUsed,
    #[error("too many devices on this package")]
    TooManyDevices,
}

impl Refusal {
    /// `Reply-Message`: RouterOS shows it on its login page.
    pub fn guest_message(self) -> &'static str {
        match self {
            Refusal::NoGrant | Refusal::NotPaid => "No paid package for this device. Buy one on the portal.",
            Refusal::Expired => "Your time is up. Buy a new package to continue.",
            Refusal::DataUsed => "Your data allowance is used up. Buy a new package to continue.",
            Refusal::TooManyDevices => "This package is already in use on its allowed number of devices.",
        }
    }
}

/// A purchase that could let this login on, with its session and the usage reported under it.
pub struct Candidate<'a> {
    pub purchase: &'a Purchase,
    pub session: Option<&'a SessionRecord>,
    pub usage: &'a [Usage],
}

/// Decides an Access-Request at `router` (the FreeRADIUS client the request came through).
/// Candidates are newest first; the first that lets the login on wins, otherwise the first
/// refusal is the answer.
pub fn decide_login(
    now: i64,
    router: &RouterId,
    key: &RouterKey,
    login: &Login,
    mac: Option<MacAddr>,
    candidates: &[Candidate<'_>],
) -> Result<Accept, Refusal> {
    let mut first = None;
    for c in candidates {
        match decide_candidate(now, router, key, login, mac, c) {
            Ok(a) => return Ok(a),
            Err(r) => {
                first.get_or_insert(r);
            }
        }
    }
    Err(first.unwrap_or(Refusal::NoGrant))
}

fn decide_candidate(
    now: i64,
    router: &RouterId,
    key: &RouterKey,
    login: &Login,
    mac: Option<MacAddr>,
    c: &Candidate<'_>,
) -> Result<Accept, Refusal> {
    let p = c.purchase;
    let for_login = match login {
        Login::Grant(id) => &p.id == id,
        Login::Device(m) => &p.mac == m,
        Login::Voucher(_) => false,
    };
    // Another hotspot's purchase is as unknown here as one that does not exist.
    if !for_login || &p.router_id != router {
        return Err(Refusal::NoGrant);
    }
    if !p.state.is_paid() {
        return Err(Refusal::NotPaid);
    }
    let session = c.session.ok_or(Refusal::NotPaid)?;
    if session.revoked_at.is_some() {
        return Err(Refusal::Expired);
    }
    let password = match login {
        Login::Grant(id) => Some(password(key, id)),
        Login::Device(_) | Login::Voucher(_) => None,
    };
    admit(now, &p.package, session.expires_at, c.usage, mac, Grant::Purchase(p.id.clone()), password)
}

/// Decides a voucher login at `router`: the voucher's validity runs from its first login (now,
/// if this is it), as on a router with the agent. `usage` is what accounting reported under it.
pub fn decide_voucher(
    now: i64,
    router: &RouterId,
    voucher: Option<&VoucherRecord>,
    usage: &[Usage],
    mac: Option<MacAddr>,
) -> Result<Accept, Refusal> {
    // A voucher is only good at the router it was printed for.
    let v = voucher.filter(|v| &v.router_id == router).ok_or(Refusal::NoGrant)?;
    let expires_at = voucher_expiry(v, now);
    admit(now, &v.package, expires_at, usage, mac, Grant::Voucher(v.code.clone()), None)
}

/// When a voucher's time is up: its first use plus the package's validity.
pub fn voucher_expiry(v: &VoucherRecord, now: i64) -> i64 {
    let first = v.used.as_ref().map_or(now, |u| u.at);
    first.saturating_add(v.package.validity().secs() as i64)
}

/// The package's rules for a grant that is its router's and not revoked: time, data, devices.
fn admit(
    now: i64,
    package: &Package,
    expires_at: i64,
    usage: &[Usage],
    mac: Option<MacAddr>,
    grant: Grant,
    password: Option<String>,
) -> Result<Accept, Refusal> {
    if expires_at <= now {
        return Err(Refusal::Expired);
    }
    let used: u64 = usage.iter().map(|u| u.bytes_in.saturating_add(u.bytes_out)).sum();
    let total_limit = match package.data_cap_bytes() {
        Some(cap) if used >= cap => return Err(Refusal::DataUsed),
        Some(cap) => Some(cap - used),
        None => None,
    };
    if let Some(m) = mac {
        let mut online: Vec<MacAddr> = usage.iter().filter(|u| !u.stopped).filter_map(|u| u.mac).collect();
        online.sort();
        online.dedup();
        if !online.contains(&m) && online.len() >= usize::from(package.devices()) {
            return Err(Refusal::TooManyDevices);
        }
    }
    let left = (expires_at - now) as u64;
    let session_timeout = package.uptime_limit().map_or(left, |u| left.min(u.secs()));
    Ok(Accept {
        grant,
        password,
        session_timeout,
        rate_limit: package.rate_limit(),
        total_limit,
        interim_secs: INTERIM_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_core::wallet::Wallet;

    use crate::store::{PurchaseState, VoucherUse};

    const NOW: i64 = 1_800_000_000;

    fn package(cap: Option<u64>, devices: u8) -> Package {
        let mut v = serde_json::json!({"id": "1h", "name": "1 hour", "price": 10, "validity": "1h",
            "uptime_limit": "30m", "rate_limit": "2M/5M", "devices": devices});
        if let Some(c) = cap {
            v["data_cap_bytes"] = c.into();
        }
        serde_json::from_value(v).unwrap()
    }

    fn purchase(state: PurchaseState, package: Package) -> Purchase {
        Purchase {
            id: "p0123456789abcdef01234567".parse().unwrap(),
            router_id: "cafe-1".parse().unwrap(),
            package,
            mac: "AA:BB:CC:00:11:22".parse().unwrap(),
            ip: None,
            phone: "254712345678".parse().unwrap(),
            wallet: Wallet::Mpesa,
            state,
            created_at: NOW - 60,
            updated_at: NOW - 60,
            checkout_id: None,
            receipt: None,
            paid_amount: None,
            paid_at: Some(NOW - 60),
            expires_at: Some(NOW + 3540),
            failure: None,
            failure_code: None,
            reconcile_tries: 0,
            job_pending: false,
            recheck_at: None,
        }
    }

    fn session(p: &Purchase, expires_at: i64) -> SessionRecord {
        SessionRecord {
            purchase_id: p.id.clone(),
            router_id: p.router_id.clone(),
            expires_at,
            revoked_at: None,
            started_at: None,
            ended_at: None,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    fn usage(mac: &str, bytes: u64, stopped: bool) -> Usage {
        Usage { acct_session: mac.into(), mac: mac.parse().ok(), bytes_in: bytes, bytes_out: 0, stopped }
    }

    fn ask(p: &Purchase, s: Option<&SessionRecord>, u: &[Usage], login: Login, mac: &str) -> Result<Accept, Refusal> {
        let key = RouterKey::from_bytes([7; 32]);
        let router: RouterId = "cafe-1".parse().unwrap();
        decide_login(NOW, &router, &key, &login, mac.parse().ok(), &[Candidate { purchase: p, session: s, usage: u }])
    }

    #[test]
    fn a_paid_grant_gets_its_package_and_the_time_left() {
        let p = purchase(PurchaseState::Active, package(Some(1_000_000), 1));
        let s = session(&p, NOW + 600);
        let a = ask(
            &p,
            Some(&s),
            &[usage("AA:BB:CC:00:11:22", 400_000, false)],
            Login::Grant(p.id.clone()),
            "AA:BB:CC:00:11:22",
        )
        .unwrap();
        assert_eq!(a.session_timeout, 600, "the wall-clock expiry comes before the 30-minute uptime limit");
        assert_eq!(a.total_limit, Some(600_000), "what is left of the cap");
        assert_eq!(a.rate_limit.to_string(), "2M/5M");
        assert_eq!(a.password.as_deref(), Some(password(&RouterKey::from_bytes([7; 32]), &p.id).as_str()));
        let s = session(&p, NOW + 7200);
        let a = ask(&p, Some(&s), &[], Login::Device(p.mac), "AA:BB:CC:00:11:22").unwrap();
        assert_eq!((a.session_timeout, a.password), (1800, None), "the uptime limit; a MAC login has no password");
    }

    #[test]
    fn refusals() {
        let p = purchase(PurchaseState::Pending, package(None, 1));
        let s = session(&p, NOW + 600);
        let grant = || Login::Grant("p0123456789abcdef01234567".parse().unwrap());
        let mac = "AA:BB:CC:00:11:22";
        assert_eq!(ask(&p, None, &[], grant(), mac), Err(Refusal::NotPaid));
        let p = purchase(PurchaseState::Paid, package(Some(1_000_000), 1));
        assert_eq!(ask(&p, None, &[], grant(), mac), Err(Refusal::NotPaid), "no session yet");
        assert_eq!(ask(&p, Some(&session(&p, NOW)), &[], grant(), mac), Err(Refusal::Expired));
        let revoked = SessionRecord { revoked_at: Some(NOW - 1), ..s.clone() };
        assert_eq!(ask(&p, Some(&revoked), &[], grant(), mac), Err(Refusal::Expired));
        assert_eq!(ask(&p, Some(&s), &[usage(mac, 1_000_000, true)], grant(), mac), Err(Refusal::DataUsed));
        let other = "02:00:00:00:00:99";
        assert_eq!(ask(&p, Some(&s), &[usage(mac, 0, false)], grant(), other), Err(Refusal::TooManyDevices));
        assert!(ask(&p, Some(&s), &[usage(mac, 0, true)], grant(), other).is_ok(), "the first device logged off");
        assert!(ask(&p, Some(&s), &[usage(mac, 0, false)], grant(), mac).is_ok(), "the device on keeps its place");
        let elsewhere = Purchase { router_id: "cafe-2".parse().unwrap(), ..p.clone() };
        assert_eq!(ask(&elsewhere, Some(&s), &[], grant(), mac), Err(Refusal::NoGrant), "another hotspot's");
        let other_id = Login::Grant("p0123456789abcdef01234568".parse().unwrap());
        assert_eq!(ask(&p, Some(&s), &[], other_id, mac), Err(Refusal::NoGrant));
        assert_eq!(ask(&p, Some(&s), &[], Login::Device(other.parse().unwrap()), other), Err(Refusal::NoGrant));
    }

    #[test]
    fn logins_parse_as_a_grant_or_a_device() {
        assert_eq!(Login::parse("aa:bb:cc:00:11:22"), Some(Login::Device("AA:BB:CC:00:11:22".parse().unwrap())));
        assert!(matches!(Login::parse("p0123456789abcdef01234567"), Some(Login::Grant(_))));
        assert_eq!(Login::parse(" abcd-2345 "), Some(Login::Voucher("ABCD2345".parse().unwrap())));
        for junk in ["", "admin", "p012", "'; DROP TABLE", "O0O0O0O0"] {
            assert_eq!(Login::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn a_grant_is_named_in_class_and_read_back() {
        let grants = [
            Grant::Purchase("p0123456789abcdef01234567".parse().unwrap()),
            Grant::Voucher("ABCD2345".parse().unwrap()),
        ];
        for g in grants {
            assert_eq!(Grant::from_class(&g.class()), Some(g));
        }
        for junk in ["", "voucher:", "voucher:O0O0", "pabc", "ABCD2345"] {
            assert_eq!(Grant::from_class(junk), None, "{junk}");
        }
    }

    fn voucher(used_at: Option<i64>) -> VoucherRecord {
        VoucherRecord {
            code: "ABCD2345".parse().unwrap(),
            router_id: "cafe-1".parse().unwrap(),
            batch_id: "vb-1".into(),
            package: package(Some(1_000_000), 1),
            created_at: NOW - 86_400,
            used: used_at.map(|at| VoucherUse { at, mac: "AA:BB:CC:00:11:22".parse().unwrap() }),
        }
    }

    #[test]
    fn a_voucher_runs_from_its_first_login() {
        let router: RouterId = "cafe-1".parse().unwrap();
        let mac = "AA:BB:CC:00:11:22".parse().ok();
        let first = decide_voucher(NOW, &router, Some(&voucher(None)), &[], mac).unwrap();
        assert_eq!(first.session_timeout, 1800, "the 1-hour validity from now, capped by the 30-minute uptime limit");
        assert_eq!((first.grant.class(), first.password), ("voucher:ABCD2345".to_string(), None));
        let later = decide_voucher(NOW, &router, Some(&voucher(Some(NOW - 3000))), &[], mac).unwrap();
        assert_eq!(later.session_timeout, 600, "the time left since its first login");
        let v = voucher(Some(NOW - 3600));
        assert_eq!(decide_voucher(NOW, &router, Some(&v), &[], mac), Err(Refusal::Expired));
        let used = [usage("AA:BB:CC:00:11:22", 1_000_000, true)];
        assert_eq!(decide_voucher(NOW, &router, Some(&voucher(Some(NOW))), &used, mac), Err(Refusal::DataUsed));
        let on = [usage("AA:BB:CC:00:11:22", 0, false)];
        let other = "02:00:00:00:00:99".parse().ok();
        assert_eq!(decide_voucher(NOW, &router, Some(&voucher(Some(NOW))), &on, other), Err(Refusal::TooManyDevices));
        let elsewhere: RouterId = "cafe-2".parse().unwrap();
        assert_eq!(decide_voucher(NOW, &elsewhere, Some(&voucher(None)), &[], mac), Err(Refusal::NoGrant));
        assert_eq!(decide_voucher(NOW, &router, None, &[], mac), Err(Refusal::NoGrant));
    }
}
