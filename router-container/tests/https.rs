//! The agent's outbound HTTPS (src/https.rs) trusts only the roots compiled into it: a server
//! whose certificate comes from any other CA is refused during the handshake. (The SQS path over
//! the same client is exercised by every agent test: `Rig::agent` builds it as `run` does.)

use bytes::Bytes;
use http_body_util::Full;

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let server =
        routeros_sim::tls_server_config(ck.cert.pem().as_bytes(), ck.key_pair.serialize_pem().as_bytes()).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshake = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        acceptor.accept(tcp).await.map(|_| ())
    });

    let client = hotspot_agent::https::client::<Full<Bytes>>(1).unwrap();
    let err = client
        .get(format!("https://127.0.0.1:{port}/").parse().unwrap())
        .await
        .expect_err("a certificate from an unknown CA was accepted");
    let chain = format!("{err:?}");
    assert!(chain.contains("UnknownIssuer"), "expected an unknown-issuer refusal, got {chain}");
    assert!(handshake.await.unwrap().is_err(), "the server must see the handshake fail");
}
