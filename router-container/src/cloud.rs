//! The cloud HTTP API, called as this router (request signatures with its own key).
//! TLS trust roots are compiled in: the container has no system store.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::clock::Clock;
use hotspot_core::api::{ApiError, OwedGrants, PackagesReply, PurchaseRequest, PurchaseView};
use hotspot_core::reqsig;
use hotspot_core::wallet::Wallet;
use hotspot_core::{MacAddr, PackageId, PurchaseId, RouterId, RouterKey};

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("cloud unreachable: {0}")]
    Unreachable(String),
    #[error("cloud answered {status}: {message}")]
    Http { status: u16, code: String, message: String, retry_after: Option<i64> },
    #[error("cloud answered something unexpected: {0}")]
    Unexpected(String),
    /// Requests are signed with the time; a clock at 1970 would sign a request the cloud refuses.
    #[error("the router's clock is not set yet")]
    ClockUnset,
}

/// A whole request, connect to last byte of the reply.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(25);
/// Replies are small JSON documents; anything larger is refused.
const MAX_REPLY: usize = 256 * 1024;

/// An error and its causes on one line (hyper's own message alone says little).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut next = e.source();
    while let Some(c) = next {
        s.push_str(": ");
        s.push_str(&c.to_string());
        next = c.source();
    }
    s
}

#[derive(Clone)]
pub struct CloudApi {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    router: RouterId,
    key: RouterKey,
    clock: Arc<Clock>,
}

impl CloudApi {
    pub fn new(base: &str, router: RouterId, key: RouterKey) -> Result<CloudApi, CloudError> {
        let http = crate::https::client(2).map_err(|e| CloudError::Unexpected(e.to_string()))?;
        Ok(CloudApi { http, base: base.trim_end_matches('/').to_string(), router, key, clock: Arc::default() })
    }

    /// Signs with the agent's clock, and not at all while it cannot be believed.
    pub fn with_clock(mut self, clock: Arc<Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// One signed call; a 2xx reply is read as `T`, a refusal as the API's error shape.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, CloudError> {
        if !self.clock.check("cloud API") {
            return Err(CloudError::ClockUnset);
        }
        let t = self.clock.now();
        let sig = reqsig::sign(&self.key, &reqsig::Request { method, path, router: &self.router, body: &body }, t);
        let m = hyper::Method::from_bytes(method.as_bytes()).map_err(|e| CloudError::Unexpected(e.to_string()))?;
        let url = format!("{}{path}", self.base);
        let req = hyper::Request::builder()
            .method(m)
            .uri(&url)
            .header(reqsig::HEADER_ROUTER, self.router.as_str())
            .header(reqsig::HEADER_TIME, t.to_string())
            .header(reqsig::HEADER_SIGNATURE, sig)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| CloudError::Unexpected(format!("{url}: {e}")))?;
        let exchange = async {
            let resp = self.http.request(req).await.map_err(|e| CloudError::Unreachable(error_chain(&e)))?;
            let status = resp.status().as_u16();
            let body = Limited::new(resp.into_body(), MAX_REPLY).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    CloudError::Unexpected("reply too large".into())
                } else {
                    CloudError::Unreachable(error_chain(e.as_ref()))
                }
            })?;
            Ok::<_, CloudError>((status, body.to_bytes()))
        };
        let (status, bytes) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| CloudError::Unreachable(format!("{url}: no reply within {REQUEST_TIMEOUT:?}")))??;
        match status {
            200..=299 => serde_json::from_slice(&bytes).map_err(|e| CloudError::Unexpected(e.to_string())),
            500..=599 => Err(CloudError::Unreachable(format!("HTTP {status}"))),
            _ => {
                // A refusal whose body is not the API's shape still has its status.
                let e: Option<ApiError> = serde_json::from_slice(&bytes).ok();
                Err(CloudError::Http {
                    status,
                    code: e.as_ref().map(|e| e.error.clone()).unwrap_or_default(),
                    message: e.as_ref().map(|e| e.message.chars().take(300).collect()).unwrap_or_default(),
                    retry_after: e.and_then(|e| e.retry_after),
                })
            }
        }
    }

    pub async fn purchase(
        &self,
        mac: MacAddr,
        ip: Ipv4Addr,
        package: &PackageId,
        phone: &hotspot_core::phone::PhoneNumber,
        wallet: Wallet,
    ) -> Result<PurchaseView, CloudError> {
        // M-Pesa goes unnamed, as before the choice existed (a cloud that old reads it so).
        let wallet = (wallet != Wallet::Mpesa).then_some(wallet);
        let req = PurchaseRequest { mac, ip, package_id: package.clone(), phone: phone.clone(), wallet };
        let body = serde_json::to_vec(&req).map_err(|e| CloudError::Unexpected(e.to_string()))?;
        self.call("POST", "/purchases", body).await
    }

    pub async fn status(&self, id: &PurchaseId) -> Result<PurchaseView, CloudError> {
        self.call("GET", &format!("/purchases/{id}"), Vec::new()).await
    }

    /// What the router sells, and the wallets it takes (empty from a cloud before the choice).
    pub async fn packages(&self) -> Result<PackagesReply, CloudError> {
        self.call("GET", "/packages", Vec::new()).await
    }

    /// The grant jobs this router is owed now, signed afresh (`GET /grants`): each is handled
    /// like a job from the queue, so one already applied is only a duplicate.
    pub async fn owed_grants(&self) -> Result<Vec<String>, CloudError> {
        let reply: OwedGrants = self.call("GET", "/grants", Vec::new()).await?;
        Ok(reply.jobs)
    }
}
