//! RADIUS mode end to end: Debian's FreeRADIUS with our configuration (`radius/raddb`) asks the
//! radius function through the gateway; `radclient` (freeradius-utils, not ours) plays a router
//! that cannot run the agent: a RouterOS v6 one over UDP with its own secret, and a RouterOS 7 one
//! over RadSec through `radsecproxy` (Debian's, not ours) holding the router's certificate.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use std::time::Duration;

use daraja_sim::{Answer, Scenario};
use e2e::bench::radius::{Login, access_request, reply_code};
use e2e::guest::{Guest, bin_dir, db_state};
use e2e::stack::{Options, RADIUS_API_SECRET, Stack};
use hotspot_cloud::store::{PurchaseState, VoucherBatchRecord, VoucherRecord};
use hotspot_core::{MacAddr, PurchaseId, RouterId, VoucherCode};
use testkit::freeradius::{Client, FreeRadius, radclient};
use testkit::radsec::{Pki, RadsecProxy};

const SECRET: &str = "cafe-westlands-radius-secret";

async fn with_radius() -> (Stack, FreeRadius) {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let clients = [Client { shortname: "cafe-westlands", ipaddr: "127.0.0.1", secret: SECRET }];
    let fr = FreeRadius::start(&stack.gateway_url, RADIUS_API_SECRET, &clients).expect("freeradius starts");
    (stack, fr)
}

fn login(user: &str, password: &str, mac: MacAddr) -> Vec<String> {
    vec![
        format!("User-Name = \"{user}\""),
        format!("User-Password = \"{password}\""),
        "NAS-Identifier = \"cafe-westlands\"".into(),
        format!("Calling-Station-Id = \"{mac}\""),
    ]
}

fn acct(status: &str, id: &PurchaseId, session: &str, mac: MacAddr, bytes_in: u64, bytes_out: u64) -> Vec<String> {
    vec![
        format!("User-Name = \"{id}\""),
        format!("Acct-Status-Type = {status}"),
        format!("Acct-Session-Id = \"{session}\""),
        format!("Class = 0x{}", hex::encode(id.as_str())),
        "NAS-Identifier = \"cafe-westlands\"".into(),
        format!("Calling-Station-Id = \"{mac}\""),
        format!("Acct-Input-Octets = {bytes_in}"),
        format!("Acct-Output-Octets = {bytes_out}"),
    ]
}

/// A purchase paid through the stack (the agent's portal stands in for the cloud portal here):
/// the guest's purchase id and its RADIUS password.
async fn paid(stack: &Stack, guest: &Guest<'_>) -> (PurchaseId, String) {
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    let pw = hotspot_cloud::radius::password(&stack.router.key, &id);
    (id, pw)
}

#[tokio::test]
async fn a_router_without_the_agent_lets_paid_guests_on_through_freeradius() {
    let (stack, fr) = with_radius().await;
    let guest = Guest::new(&stack);
    let mac = stack.options.guest_mac;
    let (id, pw) = paid(&stack, &guest).await;
    let auth = async |attrs: Vec<String>| {
        radclient(fr.auth_port, "auth", SECRET, &attrs)
            .await
            .unwrap_or_else(|| panic!("FreeRADIUS answers:\n{}", fr.log()))
    };

    // Before payment: rejected, with the reason on the login page.
    let a = auth(login(id.as_str(), &pw, mac)).await;
    assert_eq!(a.code, "Access-Reject", "{a:?}");
    assert_eq!(a.get("Reply-Message"), Some("No paid package for this device. Buy one on the portal."));
    assert_eq!(a.get("Session-Timeout"), None);

    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    db_state(&stack, &id, PurchaseState::Active).await;

    // Paid: accepted with the package's attributes (PAP, then CHAP as a hotspot's http-chap).
    let a = auth(login(id.as_str(), &pw, mac)).await;
    assert_eq!(a.code, "Access-Accept", "{a:?}\n{}", fr.log());
    let timeout: u64 = a.get("Session-Timeout").and_then(|t| t.parse().ok()).expect("Session-Timeout");
    assert!((3500..=3600).contains(&timeout), "time left to the wall-clock expiry: {timeout}");
    assert_eq!(a.get("Mikrotik-Rate-Limit"), Some("2M/5M"));
    assert_eq!(a.get("Acct-Interim-Interval"), Some("300"));
    let class = format!("0x{}", hex::encode(id.as_str()));
    assert_eq!(a.get("Class"), Some(class.as_str()));
    let again = auth(login(id.as_str(), &pw, mac)).await;
    assert_eq!((again.code.as_str(), again.get("Class")), ("Access-Accept", Some(class.as_str())), "answered the same");
    // A retransmission (the same packet again: identifier and authenticator): the same reply,
    // from FreeRADIUS's duplicate detection, and the API asked once.
    let asked = || stack.invoker.invocations().get("radius").map_or(0, |i| i.count);
    let before = asked();
    let (ra, mac_text): ([u8; 16], String) = (rand::random(), mac.to_string());
    let l = Login { user: id.as_str(), password: &pw, nas: "cafe-westlands", mac: &mac_text };
    let packet = access_request(7, &ra, SECRET.as_bytes(), &l);
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(("127.0.0.1", fr.auth_port)).await.unwrap();
    // As a router does: the same packet again until it hears back (FreeRADIUS ignores a copy that
    // arrives while the first is still being finished; RouterOS resends every `timeout`).
    let mut replies = Vec::new();
    for _ in 0..2 {
        let mut reply = None;
        for _ in 0..10 {
            sock.send(&packet).await.unwrap();
            let mut buf = [0u8; 4096];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), sock.recv(&mut buf)).await {
                reply = Some(buf[..n].to_vec());
                break;
            }
        }
        replies.push(reply.unwrap_or_else(|| panic!("no reply to 10 sends:\n{}", fr.log())));
    }
    assert_eq!(replies[0], replies[1], "a retransmission gets the same reply");
    assert_eq!(reply_code(&replies[0], 7, &ra, SECRET.as_bytes()), Some(2), "an Access-Accept");
    assert_eq!(asked() - before, 1, "the API was asked once");

    let chap = vec![
        format!("User-Name = \"{id}\""),
        format!("CHAP-Password = \"{pw}\""),
        "NAS-Identifier = \"cafe-westlands\"".into(),
        format!("Calling-Station-Id = \"{mac}\""),
    ];
    assert_eq!(auth(chap).await.code, "Access-Accept");

    // A wrong password: rejected, and none of the grant's attributes go with it.
    let a = auth(login(id.as_str(), "not-the-password", mac)).await;
    assert_eq!(a.code, "Access-Reject");
    assert_eq!(a.attributes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["Reply-Message"], "{a:?}");

    // A returning device by its MAC (login-by=mac).
    let a = auth(login(&mac.to_string(), "", mac)).await;
    assert_eq!((a.code.as_str(), a.get("Class")), ("Access-Accept", Some(class.as_str())), "{a:?}");

    // Accounting: start, interim, stop recorded once each; repeats and late packets change nothing.
    let send = async |attrs: Vec<String>| radclient(fr.acct_port, "acct", SECRET, &attrs).await.map(|a| a.code);
    let response = Some("Accounting-Response".to_string());
    assert_eq!(send(acct("Start", &id, "81000001", mac, 0, 0)).await, response);
    assert_eq!(send(acct("Interim-Update", &id, "81000001", mac, 1000, 5000)).await, response);
    assert_eq!(send(acct("Interim-Update", &id, "81000001", mac, 1000, 5000)).await, response, "a repeat");
    assert_eq!(send(acct("Stop", &id, "81000001", mac, 2000, 9000)).await, response);
    assert_eq!(send(acct("Interim-Update", &id, "81000001", mac, 1500, 7000)).await, response, "late, after the stop");
    let usage = stack.store.radius_usage(&id).await.expect("usage");
    assert_eq!(usage.len(), 1);
    assert_eq!((usage[0].bytes_in, usage[0].bytes_out, usage[0].stopped), (2000, 9000, true), "{usage:?}");
    let session = stack.store.get_session(&id).await.unwrap().expect("session");
    assert!(session.started_at.is_some());

    // A second device while the first is online: the 1-hour package allows one.
    let other: MacAddr = "02:00:00:00:00:99".parse().unwrap();
    assert_eq!(send(acct("Start", &id, "81000002", mac, 0, 0)).await, response);
    let a = auth(login(id.as_str(), &pw, other)).await;
    assert_eq!(a.code, "Access-Reject");
    assert_eq!(a.get("Reply-Message"), Some("This package is already in use on its allowed number of devices."));
    assert_eq!(auth(login(id.as_str(), &pw, mac)).await.code, "Access-Accept", "the device already on keeps its place");

    // After the expiry: rejected.
    let expires = session.expires_at;
    assert!(stack.store.set_live_session_expiry(&id, &stack.router.id, expires, expires - 3600).await.unwrap());
    let a = auth(login(id.as_str(), &pw, mac)).await;
    assert_eq!(a.code, "Access-Reject");
    assert_eq!(a.get("Reply-Message"), Some("Your time is up. Buy a new package to continue."));
}

#[tokio::test]
async fn hostile_and_unknown_requests_change_nothing_and_the_server_keeps_serving() {
    let (stack, mut fr) = with_radius().await;
    let guest = Guest::new(&stack);
    let mac = stack.options.guest_mac;
    let (id, pw) = paid(&stack, &guest).await;
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    db_state(&stack, &id, PurchaseState::Active).await;
    let port = fr.auth_port;
    let auth = async |secret: &str, attrs: Vec<String>| radclient(port, "auth", secret, &attrs).await;

    // The wrong secret: no answer the router could verify.
    assert_eq!(auth("not-the-secret", login(id.as_str(), &pw, mac)).await, None);
    // A router naming another (NAS-Identifier) than the client it is.
    let mut other_nas = login(id.as_str(), &pw, mac);
    other_nas[2] = "NAS-Identifier = \"cafe-elsewhere\"".into();
    assert_eq!(auth(SECRET, other_nas).await.map(|a| a.code).as_deref(), Some("Access-Reject"));
    // Malformed attributes: a MAC that is none, a user name that is no grant, an unknown purchase.
    let mut bad_mac = login(id.as_str(), &pw, mac);
    bad_mac[3] = "Calling-Station-Id = \"not-a-mac\"".into();
    assert_eq!(auth(SECRET, bad_mac).await.map(|a| a.code).as_deref(), Some("Access-Reject"));
    for user in ["'; DROP TABLE --", "p00000000000000000000000000", "\u{1F600}"] {
        assert_eq!(
            auth(SECRET, login(user, &pw, mac)).await.map(|a| a.code).as_deref(),
            Some("Access-Reject"),
            "{user}"
        );
    }
    // Accounting that names no purchase of ours, or another router's: answered, nothing written.
    let stranger: PurchaseId = "p0123456789abcdef01234567".parse().unwrap();
    let r = radclient(fr.acct_port, "acct", SECRET, &acct("Start", &stranger, "9", mac, 1, 1)).await;
    assert_eq!(r.map(|a| a.code).as_deref(), Some("Accounting-Response"));
    assert!(stack.store.radius_usage(&stranger).await.unwrap().is_empty());

    // Garbage and oversized datagrams, then a bounded flood (loopback only): FreeRADIUS drops
    // what it cannot read and still answers.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for n in [0usize, 3, 19, 20, 300, 4096, 8000] {
        let junk: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
        let _ = sock.send_to(&junk, ("127.0.0.1", fr.auth_port));
        let _ = sock.send_to(&junk, ("127.0.0.1", fr.acct_port));
    }
    let flood: Vec<_> = (0..4)
        .map(|_| {
            let attrs = login(id.as_str(), "wrong", mac);
            tokio::spawn(async move {
                let mut answered = 0;
                for _ in 0..10 {
                    answered += usize::from(radclient(port, "auth", SECRET, &attrs).await.is_some());
                }
                answered
            })
        })
        .collect();
    let mut answered = 0;
    for t in flood {
        answered += t.await.unwrap();
    }
    assert_eq!(answered, 40, "every flood request answered (4 at a time)");
    assert!(fr.running(), "FreeRADIUS still runs");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = auth(SECRET, login(id.as_str(), &pw, mac)).await.expect("still answering");
    assert_eq!(a.code, "Access-Accept", "{}", fr.log());
    assert!(stack.store.radius_usage(&id).await.unwrap().is_empty(), "nothing recorded by any of it");
}

#[tokio::test]
async fn a_routeros_7_router_over_radsec_is_named_by_its_certificate() {
    let (stack, fr) = with_radius().await;
    let guest = Guest::new(&stack);
    let mac = stack.options.guest_mac;
    let (id, pw) = paid(&stack, &guest).await;
    // radclient → radsecproxy over UDP on loopback (its own secret), radsecproxy → FreeRADIUS
    // over TLS with the router's certificate, as RouterOS's `/radius protocol=radsec` does.
    const LOCAL: &str = "radclient-to-radsecproxy";
    let ours = fr.pki.issue("cafe-westlands").expect("a certificate for the router");
    let router = RadsecProxy::start(fr.radsec_port, &fr.pki.ca(), &ours, LOCAL).expect("radsecproxy starts");
    let logs = |p: &RadsecProxy| format!("radsecproxy:\n{}\nfreeradius:\n{}", p.log(), fr.log());
    let auth = async |p: &RadsecProxy, attrs: Vec<String>| {
        radclient(p.udp_port, "auth", LOCAL, &attrs).await.map(|a| (a.code.clone(), a))
    };

    let (code, a) = auth(&router, login(id.as_str(), &pw, mac)).await.unwrap_or_else(|| panic!("{}", logs(&router)));
    assert_eq!(code, "Access-Reject", "before payment: {a:?}");
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    db_state(&stack, &id, PurchaseState::Active).await;

    let (code, a) = auth(&router, login(id.as_str(), &pw, mac)).await.unwrap_or_else(|| panic!("{}", logs(&router)));
    assert_eq!(code, "Access-Accept", "{a:?}\n{}", logs(&router));
    let timeout: u64 = a.get("Session-Timeout").and_then(|t| t.parse().ok()).expect("Session-Timeout");
    assert!((3500..=3600).contains(&timeout), "{timeout}");
    assert_eq!(a.get("Mikrotik-Rate-Limit"), Some("2M/5M"));
    let class = format!("0x{}", hex::encode(id.as_str()));
    assert_eq!(a.get("Class"), Some(class.as_str()));

    // Accounting over the same connection.
    let acct = async |attrs: Vec<String>| radclient(router.udp_port, "acct", LOCAL, &attrs).await.map(|a| a.code);
    let response = Some("Accounting-Response".to_string());
    assert_eq!(acct(self::acct("Start", &id, "82000001", mac, 0, 0)).await, response);
    assert_eq!(acct(self::acct("Stop", &id, "82000001", mac, 3000, 12000)).await, response);
    let usage = stack.store.radius_usage(&id).await.expect("usage");
    assert_eq!(usage.len(), 1, "{usage:?}");
    assert_eq!((usage[0].bytes_in, usage[0].bytes_out, usage[0].stopped), (3000, 12000, true));

    // A certificate our CA signed for another router: that router's, whatever the packet says.
    let elsewhere = fr.pki.issue("cafe-elsewhere").expect("another router's certificate");
    let other = RadsecProxy::start(fr.radsec_port, &fr.pki.ca(), &elsewhere, LOCAL).expect("radsecproxy starts");
    let (code, _) = auth(&other, login(id.as_str(), &pw, mac)).await.unwrap_or_else(|| panic!("{}", logs(&other)));
    assert_eq!(code, "Access-Reject", "another router's certificate cannot use this router's grant");
    drop(other);

    // A certificate from any other CA: no TLS session, no answer, and the API is not asked.
    let asked = || stack.invoker.invocations().get("radius").map_or(0, |i| i.count);
    let before = asked();
    let foreign_dir = fr.dir.join("foreign-ca");
    let foreign = Pki::create(&foreign_dir).and_then(|p| p.issue("cafe-westlands")).expect("a foreign CA");
    let stranger = RadsecProxy::start(fr.radsec_port, &fr.pki.ca(), &foreign, LOCAL).expect("radsecproxy starts");
    assert_eq!(auth(&stranger, login(id.as_str(), &pw, mac)).await.map(|(c, _)| c), None, "{}", logs(&stranger));
    assert_eq!(asked(), before, "nothing reached the API");
    drop(stranger);

    // Junk on the RadSec port (no TLS at all, a plain RADIUS packet, 64 KiB of zeros): the server
    // drops each connection, and nothing reaches the API.
    for junk in [b"GET / HTTP/1.1\r\n\r\n".to_vec(), vec![0x01; 20], vec![0u8; 65536]] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", fr.radsec_port)).await.expect("connects");
        let _ = c.write_all(&junk).await;
        let mut buf = [0u8; 512];
        // Closed (or an alert, then closed) within the wait: never a RADIUS answer.
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match c.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert_eq!(closed, Ok(true), "FreeRADIUS drops a connection that is not TLS from a client of ours");
    }
    assert_eq!(asked(), before, "nothing reached the API");

    // The router's own connection still serves.
    let (code, _) = auth(&router, login(id.as_str(), &pw, mac)).await.expect("still answering");
    assert_eq!(code, "Access-Accept");
}

/// Printed vouchers of the stack's 1-hour package at `router`, as `hotspotctl voucher issue` writes them.
async fn printed(stack: &Stack, router: &RouterId, codes: &[&str]) -> Vec<VoucherCode> {
    let package = stack.store.get_package(&stack.router.id, &"1h".parse().unwrap()).await.unwrap().expect("1h").package;
    let now = hotspot_core::clock::now_unix();
    let batch = VoucherBatchRecord {
        batch_id: format!("vb-radius-{router}"),
        router_id: router.clone(),
        package: package.clone(),
        count: codes.len() as u32,
        pushed: 0,
        used: 0,
        created_at: now,
        created_by: "test".into(),
    };
    stack.store.put_voucher_batch(&batch).await.unwrap();
    let codes: Vec<VoucherCode> = codes.iter().map(|c| c.parse().unwrap()).collect();
    let vouchers: Vec<VoucherRecord> = codes
        .iter()
        .map(|code| VoucherRecord {
            code: code.clone(),
            router_id: router.clone(),
            batch_id: batch.batch_id.clone(),
            package: package.clone(),
            created_at: now,
            used: None,
        })
        .collect();
    stack.store.put_vouchers(&vouchers).await.unwrap();
    codes
}

#[tokio::test]
async fn a_printed_voucher_logs_in_through_radius_and_its_time_starts_then() {
    let (stack, fr) = with_radius().await;
    let mac = stack.options.guest_mac;
    let router = stack.router.id.clone();
    let codes = printed(&stack, &router, &["HJKM2345", "HJKM2346"]).await;
    let elsewhere = printed(&stack, &"cafe-elsewhere".parse().unwrap(), &["HJKM2347"]).await;
    let auth = async |attrs: Vec<String>| {
        radclient(fr.auth_port, "auth", SECRET, &attrs)
            .await
            .unwrap_or_else(|| panic!("FreeRADIUS answers:\n{}", fr.log()))
    };

    // Typed as a guest types it (lower case, a dash), any password: accepted, its time starts.
    let a = auth(login("hjkm-2345", "", mac)).await;
    assert_eq!(a.code, "Access-Accept", "{a:?}\n{}", fr.log());
    let timeout: u64 = a.get("Session-Timeout").and_then(|t| t.parse().ok()).expect("Session-Timeout");
    assert!((3500..=3600).contains(&timeout), "the package's hour from now: {timeout}");
    assert_eq!(a.get("Mikrotik-Rate-Limit"), Some("2M/5M"));
    let class = format!("0x{}", hex::encode("voucher:HJKM2345"));
    assert_eq!(a.get("Class"), Some(class.as_str()));
    let v = stack.store.get_voucher(&router, &codes[0]).await.unwrap().expect("the voucher");
    let first = v.used.clone().expect("marked used at its first login");
    assert_eq!(first.mac, mac);
    let again = auth(login("HJKM2345", "anything", mac)).await;
    assert_eq!(again.code, "Access-Accept");
    let v = stack.store.get_voucher(&router, &codes[0]).await.unwrap().unwrap();
    assert_eq!(v.used, Some(first), "a second login keeps the first one's start");
    let batches = stack.store.list_voucher_batches(&router).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.used).sum::<u32>(), 1, "the batch counts one voucher used");

    // Accounting under the voucher: start, stop recorded once; a second device refused meanwhile.
    let send = async |attrs: Vec<String>| radclient(fr.acct_port, "acct", SECRET, &attrs).await.map(|a| a.code);
    let response = Some("Accounting-Response".to_string());
    let mut start = acct("Start", &"p0123456789abcdef01234567".parse().unwrap(), "83000001", mac, 0, 0);
    start[0] = "User-Name = \"HJKM2345\"".into();
    start[3] = format!("Class = {class}");
    assert_eq!(send(start.clone()).await, response);
    let other: MacAddr = "02:00:00:00:00:98".parse().unwrap();
    let a = auth(login("HJKM2345", "", other)).await;
    assert_eq!(a.get("Reply-Message"), Some("This package is already in use on its allowed number of devices."));
    let mut stop = start.clone();
    stop[1] = "Acct-Status-Type = Stop".into();
    stop[6] = "Acct-Input-Octets = 4000".into();
    assert_eq!(send(stop.clone()).await, response);
    assert_eq!(send(stop).await, response, "a repeat");
    let usage = stack.store.voucher_radius_usage(&router, &codes[0]).await.unwrap();
    assert_eq!(usage.len(), 1, "{usage:?}");
    assert_eq!((usage[0].bytes_in, usage[0].stopped), (4000, true));

    // Another router's voucher, an unknown code, a used-up one: rejected, nothing marked.
    for code in [elsewhere[0].as_str(), "HJKM2399"] {
        let a = auth(login(code, "", mac)).await;
        assert_eq!(a.code, "Access-Reject", "{code}");
    }
    let v = stack.store.get_voucher(&"cafe-elsewhere".parse().unwrap(), &elsewhere[0]).await.unwrap().unwrap();
    assert_eq!(v.used, None, "another router's voucher stays unused");
    let now = hotspot_core::clock::now_unix();
    assert!(stack.store.mark_voucher_used(&router, &codes[1], now - 3601, &mac).await.unwrap());
    let a = auth(login("HJKM2346", "", mac)).await;
    assert_eq!(a.get("Reply-Message"), Some("Your time is up. Buy a new package to continue."), "{a:?}");
}
