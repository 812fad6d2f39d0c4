//! Signed HTTP requests from a router's agent to the cloud API: the router proves it is itself
//! with its own key, so no router can buy for, or read the purchases of, another.
//!
//! `x-hotspot-signature = hex(HMAC-SHA256(key, "hotspot-req/v1\n" METHOD "\n" PATH "\n"
//! ROUTER "\n" TIME "\n" hex(SHA-256(body))))`, with `x-hotspot-router` and `x-hotspot-time`
//! (Unix seconds) sent alongside. Requests more than five minutes from the server's clock are
//! refused, which bounds replays; TLS keeps requests from being captured in the first place.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::{RouterId, RouterKey};

pub const HEADER_ROUTER: &str = "x-hotspot-router";
pub const HEADER_TIME: &str = "x-hotspot-time";
pub const HEADER_SIGNATURE: &str = "x-hotspot-signature";
pub const MAX_SKEW_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReqSigError {
    #[error("missing header {0}")]
    Missing(&'static str),
    #[error("header {0} is malformed")]
    Malformed(&'static str),
    #[error("request time is more than {MAX_SKEW_SECS} s from the server's clock")]
    Skew,
    #[error("bad request signature")]
    BadSignature,
}

/// What a signature covers (besides the time).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as the server sees it, e.g. `/purchases` (API Gateway's `rawPath`).
    pub path: &'a str,
    pub router: &'a RouterId,
    pub body: &'a [u8],
}

fn input(r: &Request<'_>, time: i64) -> Vec<u8> {
    let body_hash = hex::encode(Sha256::digest(r.body));
    format!("hotspot-req/v1\n{}\n{}\n{}\n{time}\n{body_hash}", r.method.to_ascii_uppercase(), r.path, r.router)
        .into_bytes()
}

fn mac(key: &RouterKey) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length")
}

/// The signature header's value for a request.
pub fn sign(key: &RouterKey, req: &Request<'_>, time: i64) -> String {
    let mut m = mac(key);
    m.update(&input(req, time));
    hex::encode(m.finalize().into_bytes())
}

/// The router a request claims to come from (to look up its key before verifying).
pub fn claimed_router(router_header: Option<&str>) -> Result<RouterId, ReqSigError> {
    router_header.ok_or(ReqSigError::Missing(HEADER_ROUTER))?.parse().map_err(|_| ReqSigError::Malformed(HEADER_ROUTER))
}

/// Verifies a request's signature and freshness, in constant time.
pub fn verify(
    key: &RouterKey,
    req: &Request<'_>,
    time_header: Option<&str>,
    sig_header: Option<&str>,
    now: i64,
) -> Result<(), ReqSigError> {
    let time: i64 = time_header
        .ok_or(ReqSigError::Missing(HEADER_TIME))?
        .parse()
        .map_err(|_| ReqSigError::Malformed(HEADER_TIME))?;
    let sig_hex = sig_header.ok_or(ReqSigError::Missing(HEADER_SIGNATURE))?;
    let mut sig = [0u8; 32];
    hex::decode_to_slice(sig_hex, &mut sig).map_err(|_| ReqSigError::Malformed(HEADER_SIGNATURE))?;
    // abs_diff: a hostile time (i64::MIN) must be refused, not overflow.
    if now.abs_diff(time) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(ReqSigError::Skew);
    }
    let mut m = mac(key);
    m.update(&input(req, time));
    m.verify_slice(&sig).map_err(|_| ReqSigError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let key = RouterKey::generate();
        let r: RouterId = "cafe-01".parse().unwrap();
        let other: RouterId = "cafe-02".parse().unwrap();
        let req = Request { method: "post", path: "/purchases", router: &r, body: b"{}" };
        let sig = sign(&key, &req, 1000);
        let t = Some("1000");
        let check =
            |req: Request<'_>, key: &RouterKey, t: Option<&str>, sig: Option<&str>, now| verify(key, &req, t, sig, now);
        assert_eq!(check(req, &key, t, Some(&sig), 1100), Ok(()));
        assert_eq!(check(Request { body: b"{ }", ..req }, &key, t, Some(&sig), 1100), Err(ReqSigError::BadSignature));
        assert_eq!(
            check(Request { path: "/status", ..req }, &key, t, Some(&sig), 1100),
            Err(ReqSigError::BadSignature)
        );
        assert_eq!(check(Request { router: &other, ..req }, &key, t, Some(&sig), 1100), Err(ReqSigError::BadSignature));
        assert_eq!(check(req, &key, t, Some(&sig), 1301), Err(ReqSigError::Skew));
        assert_eq!(check(req, &key, None, Some(&sig), 1100), Err(ReqSigError::Missing(HEADER_TIME)));
        assert_eq!(check(req, &key, t, Some("zz"), 1100), Err(ReqSigError::Malformed(HEADER_SIGNATURE)));
        assert_eq!(check(req, &RouterKey::generate(), t, Some(&sig), 1100), Err(ReqSigError::BadSignature));
    }

    /// A time at either end of i64 is refused as skew (it once overflowed `now - time`).
    #[test]
    fn extreme_times_are_skew_not_overflow() {
        let key = RouterKey::generate();
        let r: RouterId = "cafe-01".parse().unwrap();
        let req = Request { method: "GET", path: "/packages", router: &r, body: b"" };
        for t in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let sig = sign(&key, &req, t);
            let time = t.to_string();
            for now in [0, 1_790_000_000, i64::MAX, i64::MIN] {
                if now.abs_diff(t) <= 300 {
                    continue;
                }
                assert_eq!(verify(&key, &req, Some(&time), Some(&sig), now), Err(ReqSigError::Skew), "{t} at {now}");
            }
        }
    }
}
