//! API-SSL: the client verifies the router's certificate with rustls.

mod common;

use routeros::{Client, Error, TlsSettings};
use routeros_sim::{SimConfig, tls_server_config};

fn self_signed(name: &str) -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    (ck.cert.pem(), ck.key_pair.serialize_pem())
}

#[tokio::test]
async fn tls_session_with_trusted_certificate() {
    let (cert, key) = self_signed("router.local");
    let sim = common::sim_with(SimConfig {
        tls: Some(tls_server_config(cert.as_bytes(), key.as_bytes()).unwrap()),
        ..Default::default()
    })
    .await;
    let cfg = common::config(&sim).with_tls(TlsSettings::with_ca_pem(cert.as_bytes(), "router.local").unwrap());
    let c = Client::connect(cfg).await.unwrap();
    assert_eq!(c.identity().await.unwrap(), "MikroTik");
}

#[tokio::test]
async fn untrusted_or_misnamed_certificate_is_refused() {
    let (cert, key) = self_signed("router.local");
    let sim = common::sim_with(SimConfig {
        tls: Some(tls_server_config(cert.as_bytes(), key.as_bytes()).unwrap()),
        ..Default::default()
    })
    .await;
    let (other, _) = self_signed("router.local");
    let cfg = common::config(&sim).with_tls(TlsSettings::with_ca_pem(other.as_bytes(), "router.local").unwrap());
    assert!(matches!(Client::connect(cfg).await, Err(Error::Tls(_))));
    let cfg = common::config(&sim).with_tls(TlsSettings::with_ca_pem(cert.as_bytes(), "other.local").unwrap());
    assert!(matches!(Client::connect(cfg).await, Err(Error::Tls(_))));
    // Plain API against a TLS port fails instead of hanging.
    let mut cfg = common::config(&sim);
    cfg.login_timeout = std::time::Duration::from_millis(500);
    assert!(Client::connect(cfg).await.is_err());
    assert!(TlsSettings::with_ca_pem(b"not pem", "x").is_err());
}
