//! Client settings.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};

use crate::codec::Limits;
use crate::error::{Error, Result};

/// Plain API port. On the container's private veth link to the router this is the expected choice.
pub const API_PORT: u16 = 8728;
/// API-SSL port; needs a router certificate (rustls cannot do the anonymous DH RouterOS uses without one).
pub const API_SSL_PORT: u16 = 8729;

/// TLS for API-SSL: a rustls client config plus the name the router's certificate is checked against.
#[derive(Clone)]
pub struct TlsSettings {
    pub client_config: Arc<rustls::ClientConfig>,
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings").field("server_name", &self.server_name).finish_non_exhaustive()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    // Explicit provider: the process may link other rustls users with other providers.
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsSettings {
    /// Trusts only the certificate(s) in `ca_pem` (e.g. the router's own CA or self-signed cert).
    pub fn with_ca_pem(ca_pem: &[u8], server_name: &str) -> Result<TlsSettings> {
        let mut roots = rustls::RootCertStore::empty();
        let mut n = 0;
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            let cert = cert.map_err(|e| Error::Tls(format!("CA PEM: {e}")))?;
            roots.add(cert).map_err(|e| Error::Tls(format!("CA certificate: {e}")))?;
            n += 1;
        }
        if n == 0 {
            return Err(Error::Tls("CA PEM holds no certificate".into()));
        }
        Self::with_roots(roots, server_name)
    }

    /// Trusts the public web PKI (a router with a certificate from a public CA).
    pub fn with_webpki_roots(server_name: &str) -> Result<TlsSettings> {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        Self::with_roots(roots, server_name)
    }

    fn with_roots(roots: rustls::RootCertStore, server_name: &str) -> Result<TlsSettings> {
        let cfg = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server_name =
            ServerName::try_from(server_name.to_string()).map_err(|e| Error::Tls(format!("server name: {e}")))?;
        Ok(TlsSettings { client_config: Arc::new(cfg), server_name })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `host:port`.
    pub addr: String,
    pub username: String,
    pub password: String,
    pub tls: Option<TlsSettings>,
    pub connect_timeout: Duration,
    pub login_timeout: Duration,
    /// Default per-command timeout; `Client::call_with_timeout` overrides it per call.
    pub command_timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub limits: Limits,
}

impl Config {
    pub fn new(addr: impl Into<String>, username: impl Into<String>, password: impl Into<String>) -> Config {
        Config {
            addr: addr.into(),
            username: username.into(),
            password: password.into(),
            tls: None,
            connect_timeout: Duration::from_secs(5),
            login_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }

    pub fn with_tls(mut self, tls: TlsSettings) -> Config {
        self.tls = Some(tls);
        self
    }
}
