//! The cloud HTTP API, called as this router (request signatures with its own key).
//! TLS trust roots are compiled in: the container has no system store.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use hotspot_core::reqsig;
use hotspot_core::{MacAddr, Msisdn, Package, PackageId, PurchaseId, RouterId, RouterKey};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("cloud unreachable: {0}")]
    Unreachable(String),
    #[error("cloud answered {status}: {message}")]
    Http { status: u16, code: String, message: String, retry_after: Option<i64> },
    #[error("cloud answered something unexpected: {0}")]
    Unexpected(String),
}

#[derive(Clone)]
pub struct CloudApi {
    http: reqwest::Client,
    base: String,
    router: RouterId,
    key: RouterKey,
}

/// The purchase as the cloud reports it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PurchaseView {
    pub purchase_id: PurchaseId,
    pub state: String,
    #[serde(default)]
    pub reason: Option<hotspot_core::wire::PaymentFailure>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub customer_message: Option<String>,
}

impl CloudApi {
    pub fn new(base: &str, router: RouterId, key: RouterKey) -> Result<CloudApi, CloudError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| CloudError::Unexpected(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(25))
            .pool_max_idle_per_host(2)
            .build()
            .map_err(|e| CloudError::Unexpected(e.to_string()))?;
        Ok(CloudApi { http, base: base.trim_end_matches('/').to_string(), router, key })
    }

    async fn call(&self, method: &str, path: &str, body: Vec<u8>) -> Result<Value, CloudError> {
        let t = hotspot_core::wire::now_unix();
        let sig = reqsig::sign(&self.key, &reqsig::Request { method, path, router: &self.router, body: &body }, t);
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| CloudError::Unexpected(e.to_string()))?;
        let resp = self
            .http
            .request(m, format!("{}{path}", self.base))
            .header(reqsig::HEADER_ROUTER, self.router.as_str())
            .header(reqsig::HEADER_TIME, t.to_string())
            .header(reqsig::HEADER_SIGNATURE, sig)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| CloudError::Unreachable(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| CloudError::Unreachable(e.to_string()))?;
        if bytes.len() > 256 * 1024 {
            return Err(CloudError::Unexpected("reply too large".into()));
        }
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match status {
            200..=299 => Ok(v),
            500..=599 => Err(CloudError::Unreachable(format!("HTTP {status}"))),
            _ => Err(CloudError::Http {
                status,
                code: v["error"].as_str().unwrap_or("").to_string(),
                message: v["message"].as_str().unwrap_or("").chars().take(300).collect(),
                retry_after: v["retry_after"].as_i64(),
            }),
        }
    }

    pub async fn purchase(
        &self,
        mac: MacAddr,
        ip: Ipv4Addr,
        package: &PackageId,
        phone: &Msisdn,
    ) -> Result<PurchaseView, CloudError> {
        let body = json!({"mac": mac, "ip": ip, "package_id": package, "phone": phone}).to_string().into_bytes();
        let v = self.call("POST", "/purchases", body).await?;
        serde_json::from_value(v).map_err(|e| CloudError::Unexpected(e.to_string()))
    }

    pub async fn status(&self, id: &PurchaseId) -> Result<PurchaseView, CloudError> {
        let v = self.call("GET", &format!("/purchases/{id}"), Vec::new()).await?;
        serde_json::from_value(v).map_err(|e| CloudError::Unexpected(e.to_string()))
    }

    pub async fn packages(&self) -> Result<Vec<Package>, CloudError> {
        let v = self.call("GET", "/packages", Vec::new()).await?;
        serde_json::from_value(v["packages"].clone()).map_err(|e| CloudError::Unexpected(e.to_string()))
    }
}
