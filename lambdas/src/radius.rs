//! `POST /radius/authorize` and `POST /radius/accounting`: FreeRADIUS (`rlm_rest`) asking on
//! behalf of a router in RADIUS mode (`docs/radius.md`). Only the RADIUS service may call: HTTP
//! Basic with its own secret (`RADIUS_API_SECRET`). The decisions are `hotspot_cloud::radius`'s.

use base64::Engine as _;
use hotspot_cloud::radius::rest::{AcctStatus, Attributes, RestError, authorize_reply};
use hotspot_cloud::radius::{self, Candidate, Grant, Login, Refusal};
use hotspot_cloud::store::{RouterRecord, SessionRecord, Store};
use hotspot_core::{MacAddr, VoucherCode};
use serde_json::{Value, json};

use crate::api::{Incoming, Reply};

/// How many of a device's newest purchases a MAC login looks through.
const DEVICE_PURCHASES: usize = 10;

/// The secret FreeRADIUS presents; compared in constant time.
pub struct RadiusSecret(String);

impl RadiusSecret {
    /// At least 24 characters: it guards every grant of every RADIUS router.
    pub fn new(s: String) -> Option<RadiusSecret> {
        (s.len() >= 24).then_some(RadiusSecret(s))
    }

    fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(b64) = authorization.and_then(|h| h.strip_prefix("Basic ")) else { return false };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else { return false };
        hotspot_core::ct::eq(&raw, format!("freeradius:{}", self.0).as_bytes())
    }
}

pub async fn radius(store: &Store, secret: &RadiusSecret, req: &Incoming<'_>, now: i64) -> Reply {
    if !secret.admits((req.header)("authorization").as_deref()) {
        return Reply::error(401, "unauthorized", "RADIUS service credentials refused.");
    }
    if req.method != "POST" {
        return crate::api::not_found("route");
    }
    let attrs = match Attributes::parse(req.body) {
        Ok(a) => a,
        Err(e) => return refused_malformed(&e),
    };
    match req.path {
        "/radius/authorize" => radius_authorize(store, &attrs, now).await,
        "/radius/accounting" => radius_accounting(store, &attrs, now).await,
        _ => crate::api::not_found("route"),
    }
}

/// Reject (rlm_rest reads 401 as reject): a malformed request lets no one on.
fn refused_malformed(e: &RestError) -> Reply {
    tracing::warn!(error = %e, "radius request refused");
    Reply { status: 401, body: json!({ "reply:Reply-Message": "Login refused." }) }
}

async fn radius_authorize(store: &Store, attrs: &Attributes, now: i64) -> Reply {
    let (router_id, mac) = match (attrs.nas_router(), attrs.calling_mac()) {
        (Ok(r), Ok(m)) => (r, m),
        (Err(e), _) | (_, Err(e)) => return refused_malformed(&e),
    };
    let Some(login) = attrs.login_name().ok().and_then(Login::parse) else {
        return refused_login(Refusal::NoGrant);
    };
    // The router and the login's purchases are independent reads: one round trip, not two.
    let lookup = async {
        match &login {
            Login::Grant(id) => store.get_purchase(id).await.map(|p| p.into_iter().collect()),
            Login::Device(m) => store.purchases_by_mac(m, DEVICE_PURCHASES).await,
            Login::Voucher(_) => Ok(Vec::new()),
        }
    };
    let (router, purchases) = tokio::join!(store.get_router(&router_id), lookup);
    let router = match router {
        Ok(Some(r)) if r.disabled_at.is_none() => r,
        Ok(_) => return refused_login(Refusal::NoGrant),
        Err(e) => return Reply::unavailable(&e),
    };
    if let Login::Voucher(code) = &login {
        return voucher_authorize(store, &router, code, mac, now).await;
    }
    let purchases = match purchases {
        Ok(p) => p,
        Err(e) => return Reply::unavailable(&e),
    };
    let mut found: Vec<(Option<SessionRecord>, Vec<radius::Usage>)> = Vec::new();
    for p in purchases.iter() {
        // The session and its usage are independent reads: one round trip, not two.
        let sessions = match p.router_id == router.id && p.state.is_paid() {
            true => tokio::join!(store.get_session(&p.id), store.radius_usage(&p.id)),
            false => (Ok(None), Ok(Vec::new())),
        };
        match sessions {
            (Ok(s), Ok(u)) => found.push((s, u)),
            (Err(e), _) | (_, Err(e)) => return Reply::unavailable(&e),
        }
    }
    let candidates: Vec<Candidate<'_>> = purchases
        .iter()
        .zip(&found)
        .map(|(p, (s, u))| Candidate { purchase: p, session: s.as_ref(), usage: u })
        .collect();
    let answer = radius::decide_login(now, &router.id, &router.key, &login, mac, &candidates);
    if let Err(r) = &answer {
        tracing::info!(router = %router.id, reason = %r, "radius login refused");
    }
    let (status, body) = authorize_reply(&answer);
    Reply { status, body }
}

/// A printed voucher: its first accepted login marks it used, which starts its time.
async fn voucher_authorize(
    store: &Store,
    router: &RouterRecord,
    code: &VoucherCode,
    mac: Option<MacAddr>,
    now: i64,
) -> Reply {
    // The first login is recorded with its device; RouterOS always sends one.
    let Some(mac) = mac else { return refused_login(Refusal::NoGrant) };
    // Twice at most: a concurrent first login that marks it before us is decided again on its time.
    for _ in 0..2 {
        let (voucher, usage) =
            match tokio::join!(store.get_voucher(&router.id, code), store.voucher_radius_usage(&router.id, code)) {
                (Ok(v), Ok(u)) => (v, u),
                (Err(e), _) | (_, Err(e)) => return Reply::unavailable(&e),
            };
        let answer = radius::decide_voucher(now, &router.id, voucher.as_ref(), &usage, Some(mac));
        if answer.is_ok() && voucher.as_ref().is_some_and(|v| v.used.is_none()) {
            match store.mark_voucher_used(&router.id, code, now, &mac).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => return Reply::unavailable(&e),
            }
        }
        if let Err(r) = &answer {
            tracing::info!(router = %router.id, voucher = %code.masked(), reason = %r, "radius voucher login refused");
        }
        let (status, body) = authorize_reply(&answer);
        return Reply { status, body };
    }
    refused_login(Refusal::NoGrant)
}

fn refused_login(r: Refusal) -> Reply {
    let (status, body) = authorize_reply(&Err(r));
    Reply { status, body }
}

/// 204 when recorded (or nothing to record); 5xx leaves the router to send it again. A report
/// the cloud refuses is still answered, so a hostile or stale router cannot make its own retry
/// storm.
async fn radius_accounting(store: &Store, attrs: &Attributes, now: i64) -> Reply {
    let router = match attrs.nas_router() {
        Ok(r) => r,
        Err(e) => return refused_malformed(&e),
    };
    if matches!(attrs.acct_status(), Ok(AcctStatus::NasRestart)) {
        return recorded();
    }
    let (grant, usage) = match (attrs.grant_class(), attrs.acct_usage()) {
        (Ok(g), Ok(u)) => (g, u),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(router = %router, error = %e, "radius accounting not recorded");
            return recorded();
        }
    };
    let written = match &grant {
        Grant::Purchase(id) => store.record_radius_usage(id, &router, &usage, now).await,
        Grant::Voucher(code) => store.record_voucher_radius_usage(&router, code, &usage, now).await,
    };
    match written {
        Ok(true) => recorded(),
        Ok(false) => {
            tracing::info!(router = %router, "radius accounting for no grant of this router, or stale");
            recorded()
        }
        Err(e) => Reply::unavailable(&e),
    }
}

fn recorded() -> Reply {
    Reply { status: 204, body: Value::Null }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_radius_service_is_admitted() {
        let s = RadiusSecret::new("0123456789abcdef01234567".into()).unwrap();
        let b = |t: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(t));
        assert!(s.admits(Some(&b("freeradius:0123456789abcdef01234567"))));
        assert!(!s.admits(Some(&b("freeradius:0123456789abcdef01234568"))));
        assert!(!s.admits(Some(&b("other:0123456789abcdef01234567"))));
        assert!(!s.admits(Some("Basic !!!")));
        assert!(!s.admits(None));
        assert!(RadiusSecret::new("short".into()).is_none());
    }
}
