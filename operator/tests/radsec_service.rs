//! The certificates onboarding makes, used by the real service: FreeRADIUS with our
//! configuration and a deployment's CA and server certificate from `radius::new_deployment`
//! (what `hotspotctl radius ca` writes), and `radsecproxy` (Debian's) holding a router
//! certificate `Ca::sign_router` made (what `router add --mode radius` puts in the script),
//! checking the server's certificate against the CA and its name (127.0.0.1) as a router would.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use e2e::guest::bin_dir;
use e2e::stack::{Options, RADIUS_API_SECRET, Stack};
use hotspotctl::radius::{Ca, new_deployment};
use testkit::freeradius::{Client, FreeRadius, radclient};
use testkit::radsec::{Identity, RadsecProxy};

const LOCAL: &str = "radclient-to-radsecproxy";

#[tokio::test]
async fn the_certificates_onboarding_makes_open_a_radsec_session_that_names_the_router() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = new_deployment("127.0.0.1").expect("a deployment's CA and server certificate");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("written");
    write("ca.pem", &d.ca.cert_pem);
    write("server.pem", &d.server.cert_pem);
    write("server.key", &d.server.key_pem.0);
    let udp = [Client { shortname: "unused", ipaddr: "192.0.2.1", secret: "an-unused-udp-client-secret" }];
    let fr = FreeRadius::start_with_tls(&stack.gateway_url, RADIUS_API_SECRET, &udp, dir.path())
        .expect("freeradius starts with the deployment's certificates");

    let ca = Ca::load("ca.pem", &d.ca.cert_pem, "ca.key", &d.ca.key_pem.0).expect("the CA loads");
    let router = ca.sign_router(&stack.router.id).expect("the router's certificate");
    write("router.pem", &router.cert_pem);
    write("router.key", &router.key_pem.0);
    let id = Identity { cert: dir.path().join("router.pem"), key: dir.path().join("router.key") };
    let proxy = RadsecProxy::start(fr.radsec_port, &dir.path().join("ca.pem"), &id, LOCAL).expect("radsecproxy");

    let asked = || stack.invoker.invocations().get("radius").map_or(0, |i| i.count);
    let before = asked();
    let login = [
        "User-Name = \"p0123456789abcdef01234567\"".to_string(),
        "User-Password = \"not-yet\"".into(),
        format!("NAS-Identifier = \"{}\"", stack.router.id),
        format!("Calling-Station-Id = \"{}\"", stack.options.guest_mac),
    ];
    let a = radclient(proxy.udp_port, "auth", LOCAL, &login)
        .await
        .unwrap_or_else(|| panic!("no answer over RadSec\nradsecproxy:\n{}\nfreeradius:\n{}", proxy.log(), fr.log()));
    // The API's own words: the TLS session opened and the certificate named this router (a
    // NAS-Identifier that is not the certificate's CN gets FreeRADIUS's bare "Login refused.").
    assert_eq!(a.code, "Access-Reject");
    assert_eq!(a.get("Reply-Message"), Some("No paid package for this device. Buy one on the portal."));
    assert_eq!(asked() - before, 1, "the API was asked");
}
