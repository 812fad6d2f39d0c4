//! The one TLS client configuration for every HTTPS client, agent and cloud alike: rustls with the
//! `ring` provider and the Mozilla roots compiled in. No OpenSSL, no aws-lc (no C toolchain to
//! cross compile), and no system certificate store (the router's container has none).

use std::sync::Arc;

pub fn webpki_client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
