//! The HTTP plumbing the Airtel and MTN clients share: one rustls client, bounded bodies, base
//! URLs that are https except to a loopback simulator, and JSON fields read whether a provider
//! sent them as strings or numbers.

use std::time::Duration;

use serde_json::Value;
use url::{Host, Url};

use crate::WalletError;

/// Provider answers are small; a bigger body is cut off rather than buffered.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

pub(crate) struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A base URL we may send credentials to: https anywhere, or http to a loopback host (the
/// simulators). Returned without its trailing `/`.
pub(crate) fn base_url(s: &str) -> Result<String, WalletError> {
    let bad = || WalletError::Invalid(format!("base URL {s:?} is not https:// (or http:// to loopback)"));
    let u = Url::parse(s).map_err(|_| bad())?;
    let ok = match (u.scheme(), u.host()) {
        ("https", Some(_)) => true,
        ("http", Some(Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(Host::Ipv6(ip))) => ip.is_loopback(),
        ("http", Some(Host::Domain(d))) => d == "localhost",
        _ => false,
    };
    if ok { Ok(s.trim_end_matches('/').to_string()) } else { Err(bad()) }
}

pub(crate) fn client(connect_timeout: Duration, timeout: Duration) -> Result<reqwest::Client, WalletError> {
    let tls = hotspot_core::tls::webpki_client_config().map_err(|e| WalletError::Invalid(e.to_string()))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // A redirect would carry our Authorization header somewhere unexpected.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| WalletError::Invalid(e.to_string()))
}

/// Sends a request; a failure before it could have reached the provider (connect) says so.
pub(crate) async fn send(req: reqwest::RequestBuilder) -> Result<RawResponse, WalletError> {
    let transport = |e: reqwest::Error| WalletError::NoAnswer {
        may_have_prompted: !(e.is_connect() || e.is_builder()),
        why: format!("transport: {e}"),
    };
    let mut resp = req.send().await.map_err(transport)?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        let room = MAX_RESPONSE_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(RawResponse { status, body })
}

/// An amount as the wallets write it: whole units without decimals (`1000`, as every documented
/// sample), else the currency's decimals (`10.50`).
pub(crate) fn amount_text(m: hotspot_core::currency::Money) -> String {
    let scale = 10u64.pow(m.currency().minor_digits());
    if m.minor().is_multiple_of(scale) { (m.minor() / scale).to_string() } else { m.decimal_string() }
}

/// A field as text, whether the provider sent `"180"` or `180` (both happen).
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The field at a path of object keys.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_over_https_or_to_loopback() {
        assert_eq!(base_url("https://openapi.airtel.africa/").unwrap(), "https://openapi.airtel.africa");
        assert!(base_url("http://127.0.0.1:9000").is_ok());
        assert!(base_url("http://[::1]:9000").is_ok());
        assert!(base_url("http://localhost:9000").is_ok());
        assert!(base_url("http://openapi.airtel.africa").is_err());
        assert!(base_url("http://10.0.0.1").is_err());
        assert!(base_url("ftp://example.com").is_err());
        assert!(base_url("nonsense").is_err());
    }

    #[test]
    fn strings_and_numbers_read_alike() {
        let v: Value = serde_json::json!({"a": "180", "b": 180, "c": 1.50, "d": "", "e": null});
        assert_eq!(text(v.get("a")).as_deref(), Some("180"));
        assert_eq!(text(v.get("b")).as_deref(), Some("180"));
        assert_eq!(text(v.get("c")).as_deref(), Some("1.5"));
        assert_eq!(text(v.get("d")), None);
        assert_eq!(text(v.get("e")), None);
        assert_eq!(text(v.get("z")), None);
    }
}
