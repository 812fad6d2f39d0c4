//! The portal served with the agent's real backend: the guest's identity comes from the RouterOS
//! simulator's host table, never from the request; vouchers log in through RouterOS.

mod common;

use std::sync::Arc;

use common::{Rig, package};
use hotspot_agent::cloud::CloudApi;
use hotspot_agent::guests::AgentBackend;
use hotspot_agent::portal::{PortalConfig, serve};
use hotspot_core::wire::{Payload, VouchersBatch};
use hotspot_core::{MacAddr, MessageId};

struct Portal {
    addr: std::net::SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn http(addr: std::net::SocketAddr, req: String) -> (u16, String) {
    testkit::raw_http(&addr.to_string(), &req).await
}

async fn get(p: &Portal, target: &str) -> (u16, String) {
    http(p.addr, format!("GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", p.addr)).await
}

async fn post(p: &Portal, target: &str, body: &str) -> (u16, String) {
    http(
        p.addr,
        format!(
            "POST {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            p.addr,
            body.len()
        ),
    )
    .await
}

fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

async fn start(rig: &Rig) -> (Portal, hotspot_agent::agent::Agent) {
    let agent = rig.agent().await;
    agent.journal.replace_packages(&[package("hotspot_user")]).unwrap();
    let cloud = CloudApi::new("http://127.0.0.1:9", rig.router_id.clone(), rig.key.clone()).unwrap();
    let backend = Arc::new(AgentBackend::new(agent.clone(), cloud));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, backend, PortalConfig::default(), async move {
        let _ = rx.await;
    }));
    (Portal { addr, _stop: tx }, agent)
}

#[tokio::test]
async fn the_guest_is_who_the_router_says() {
    let rig = Rig::start().await;
    let guest: MacAddr = "DA:A1:19:00:00:01".parse().unwrap();
    let other: MacAddr = "DA:A1:19:00:00:99".parse().unwrap();
    let (portal, _agent) = start(&rig).await;
    // Not in the host table: refused, nothing offered.
    let (status, page) = get(&portal, "/").await;
    assert_eq!(status, 403, "{page}");
    assert!(!page.contains("KES 10"));
    // Joined: the packages, from the agent's journal.
    rig.sim.add_host(guest, "127.0.0.1".parse().unwrap());
    let (status, page) = get(&portal, &format!("/?mac={guest}&ip=127.0.0.1&dst=http%3A%2F%2Fexample.com%2F")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("KES 10"), "{page}");
    // A query string claiming another device's MAC is refused.
    let (status, page) = get(&portal, &format!("/?mac={other}&ip=127.0.0.1")).await;
    assert_eq!(status, 403);
    assert!(!page.contains("KES 10"));
}

#[tokio::test]
async fn a_voucher_logs_the_guest_in_through_routeros() {
    let rig = Rig::start().await;
    let guest: MacAddr = "DA:A1:19:00:00:01".parse().unwrap();
    rig.sim.add_host(guest, "127.0.0.1".parse().unwrap());
    let (portal, agent) = start(&rig).await;
    let batch = rig.sign(
        MessageId::generate(),
        Payload::VouchersBatch(VouchersBatch {
            batch_id: "b1".into(),
            package: package("hotspot_user"),
            codes: vec!["ABCD2345".parse().unwrap()],
        }),
    );
    hotspot_agent::jobs::JobHandler::new(agent.clone()).handle_message(&batch).await;
    let (_, page) = get(&portal, "/").await;
    let token = csrf(&page);
    let (status, page) = post(&portal, "/voucher", &format!("code=WXYZ-9999&csrf={token}&lang=en")).await;
    assert!(status >= 400, "a wrong code is refused: {page}");
    assert!(rig.sim.state().active.is_empty());
    let (status, page) = post(&portal, "/voucher", &format!("code=abcd-2345&csrf={token}&lang=en")).await;
    assert_eq!(status, 200, "{page}");
    let st = rig.sim.state();
    assert_eq!(st.session_of(guest).map(|s| s.user.as_str()), Some("ABCD2345"), "online with the voucher");
    // First use started the package's validity (1 hour).
    let v = agent.journal.voucher(&"ABCD2345".parse().unwrap()).unwrap().unwrap();
    assert_eq!(v.expires_at.zip(v.first_used_at).map(|(e, f)| e - f), Some(3600));
}

#[tokio::test]
async fn a_guest_with_time_left_is_logged_back_in_not_sold_again() {
    let rig = Rig::start().await;
    let guest: MacAddr = "DA:A1:19:00:00:01".parse().unwrap();
    rig.sim.add_host(guest, "127.0.0.1".parse().unwrap());
    let (portal, agent) = start(&rig).await;
    let (_, grant) = rig.grant(guest, "127.0.0.1".parse().unwrap(), 3600, "hotspot_user");
    hotspot_agent::jobs::JobHandler::new(agent.clone()).handle_message(&grant).await;
    // The guest logs out (the router drops the session); the user and the paid time remain.
    let client = agent.router.client();
    for s in client.list_active().await.unwrap() {
        client.remove_active(&s.id).await.unwrap();
    }
    assert!(rig.sim.state().session_of(guest).is_none());
    let (status, page) = get(&portal, "/?dst=http%3A%2F%2Fexample.com%2F").await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("KES 10"), "not offered packages again: {page}");
    assert!(rig.sim.state().session_of(guest).is_some(), "logged back in");
    // The address passes to another device within the page's host-lookup reuse: the grant is
    // not logged in for it (RouterOS is asked again before any login); it gets the packages.
    for s in client.list_active().await.unwrap() {
        client.remove_active(&s.id).await.unwrap();
    }
    let other: MacAddr = "DA:A1:19:00:00:02".parse().unwrap();
    rig.sim.remove_host(guest);
    rig.sim.add_host(other, "127.0.0.1".parse().unwrap());
    let (_, page) = get(&portal, "/").await;
    assert!(page.contains("KES 10"));
    assert!(rig.sim.state().session_of(guest).is_none() && rig.sim.state().session_of(other).is_none());
}

#[tokio::test]
async fn page_views_reuse_a_recent_host_lookup_but_a_purchase_asks_again() {
    let rig = Rig::start().await;
    let guest: MacAddr = "DA:A1:19:00:00:01".parse().unwrap();
    rig.sim.add_host(guest, "127.0.0.1".parse().unwrap());
    let (portal, agent) = start(&rig).await;
    let (status, page) = get(&portal, "/").await;
    assert_eq!(status, 200, "{page}");
    let before = rig.sim.stats().commands;
    for _ in 0..5 {
        let (status, _) = get(&portal, &format!("/?mac={guest}&ip=127.0.0.1")).await;
        assert_eq!(status, 200);
    }
    assert_eq!(rig.sim.stats().commands, before, "five reloads, no RouterOS command");
    // A package change shows on the next page view, in both languages.
    let mut changed = serde_json::to_value(package("hotspot_user")).unwrap();
    changed["price"] = serde_json::json!(15);
    agent.journal.replace_packages(&[serde_json::from_value(changed).unwrap()]).unwrap();
    for lang in ["en", "sw"] {
        let (_, p) = get(&portal, &format!("/?lang={lang}")).await;
        assert!(p.contains("KES 15") && !p.contains("KES 10"), "{lang}: {p}");
    }
    // Buying asks the router again (the cloud is unreachable here, so no prompt is sent).
    let body = format!("csrf={}&package=1h&phone=0712345678", csrf(&page));
    let _ = post(&portal, "/buy", &body).await;
    assert!(rig.sim.stats().commands > before, "a purchase looks the device up afresh");
    // A device that left may still see the page for the reuse window, not after it.
    rig.sim.remove_host(guest);
    let (status, _) = get(&portal, "/").await;
    assert_eq!(status, 200, "within the reuse window the page still shows");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, _) = get(&portal, "/").await;
    assert_eq!(status, 403, "after it, the router's answer stands");
}

/// A device the router just reported (`/ip/hotspot/host/listen`) gets its first page without a
/// RouterOS lookup; the table follows devices leaving and addresses handed on, and comes back
/// after the router's API session drops.
#[tokio::test]
async fn a_device_the_router_just_reported_gets_its_first_page_without_a_lookup() {
    use hotspot_agent::workers::{HostWatch, Worker};
    use std::time::Instant;
    let rig = Rig::start().await;
    let (portal, agent) = start(&rig).await;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(HostWatch::new(agent.clone()).run(stop_rx));
    let ip: std::net::Ipv4Addr = "127.0.0.1".parse().unwrap();
    let heard = |mac: MacAddr| {
        let agent = agent.clone();
        move || agent.hosts.mac_of(ip, Instant::now()) == Some(mac)
    };
    common::wait_until("the watch running", || rig.sim.stats().listening == 1).await;
    let guest: MacAddr = "DA:A1:19:00:00:01".parse().unwrap();
    rig.sim.add_host(guest, ip);
    common::wait_until("the new device heard of", heard(guest)).await;
    let lookups = rig.sim.commands_run("/ip/hotspot/host/print");
    let (status, page) = get(&portal, &format!("/?mac={guest}&ip=127.0.0.1")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("KES 10"), "{page}");
    assert_eq!(rig.sim.commands_run("/ip/hotspot/host/print"), lookups, "the first page looked the device up");

    // The device leaves and DHCP hands its address to another: the page is the new device's.
    let other: MacAddr = "DA:A1:19:00:00:02".parse().unwrap();
    rig.sim.remove_host(guest);
    rig.sim.add_host(other, ip);
    common::wait_until("the address's new device heard of", heard(other)).await;
    assert_eq!(get(&portal, &format!("/?mac={other}&ip=127.0.0.1")).await.0, 200);
    assert_eq!(get(&portal, &format!("/?mac={guest}&ip=127.0.0.1")).await.0, 403, "the old device's MAC refused");

    // The API session drops: the watch comes back by itself and hears devices again.
    rig.sim.kill_sessions(None);
    rig.sim.remove_host(other);
    rig.sim.add_host(guest, ip);
    common::wait_until("the watch back after the session dropped", heard(guest)).await;
    assert_eq!(rig.sim.stats().listening, 1);
    assert_eq!(get(&portal, &format!("/?mac={guest}&ip=127.0.0.1")).await.0, 200);
}
