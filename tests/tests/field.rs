//! Journeys on a router as it is in the field, not as our simulator was at first: the hotspot's
//! own source NAT, rows an operator made by hand in another codepage, a router that reboots.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use std::time::Duration;

use daraja_sim::{Answer, Scenario};
use e2e::guest::{Guest, bin_dir};
use e2e::stack::{Options, ROUTEROS_PASSWORD, ROUTEROS_USER, Stack};
use routeros::{Client, Command, Config};

/// The router as its operator (Winbox, the terminal) reaches it.
async fn operator(stack: &Stack) -> Client {
    Client::connect(Config::new(stack.routeros.addr().to_string(), ROUTEROS_USER, ROUTEROS_PASSWORD))
        .await
        .expect("the operator reaches the router")
}

/// Every start's log of the agent (`agent.log`, `agent-2.log`, …), in order.
fn agent_log(stack: &Stack) -> String {
    let mut out = std::fs::read_to_string(stack.state_dir.join("agent.log")).unwrap_or_default();
    for n in 2..10 {
        out += &std::fs::read_to_string(stack.state_dir.join(format!("agent-{n}.log"))).unwrap_or_default();
    }
    out
}

async fn log_says(stack: &Stack, what: &str) {
    for _ in 0..100 {
        if agent_log(stack).contains(what) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the agent never logged {what:?}:\n{}", agent_log(stack));
}

/// Buys the 1-hour package and approves the prompt; returns once the guest is online.
async fn buy_and_go_online(stack: &Stack, guest: &Guest<'_>) {
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
}

/// `/ip hotspot setup` masquerades the hotspot network with no out-interface; without the
/// exemption onboarding adds first, every guest reaches the portal as the router's address.
/// The guest is told the hotspot needs a setting, the agent logs the fix once, and the moment
/// the exemption is back in front the same guest buys and is online.
#[tokio::test]
async fn the_hotspots_own_masquerade_is_noticed_and_named() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    let ros = operator(&stack).await;
    let nat = stack.routeros.state().nat;
    assert_eq!((nat[0].attrs["action"].as_str(), nat[1].attrs["action"].as_str()), ("accept", "masquerade"));
    let (exemption, masquerade) = (nat[0].id.clone(), nat[1].id.clone());
    // The exemption ends up after the masquerade (a hand edit, a script that added rules on top).
    ros.call(&Command::new("/ip/firewall/nat/move").attr("numbers", &exemption)).await.unwrap();
    let start = stack.guest_portal_url();
    let (status, page) = guest.get(&start[stack.portal_url.len()..]).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("This hotspot needs one more setting"), "{page}");
    assert!(!page.contains("Device not recognised"), "not blamed on the guest's device: {page}");
    log_says(&stack, "nat_hides_guests").await;
    assert!(agent_log(&stack).contains("chain=srcnat action=accept dst-address=127.0.0.1 place-before=0"));
    // Again: the page says the same, the log does not repeat itself.
    let _ = guest.get(&start[stack.portal_url.len()..]).await;
    assert_eq!(agent_log(&stack).matches("nat_hides_guests").count(), 1, "one error, not one per page");
    // Put back in front: the guest is seen as themselves and buys.
    ros.call(&Command::new("/ip/firewall/nat/move").attr("numbers", &exemption).attr("destination", &masquerade))
        .await
        .unwrap();
    buy_and_go_online(&stack, &guest).await;
}

fn row(menu: &str, fields: &[(&str, &[u8])]) -> (String, Vec<(String, Vec<u8>)>) {
    (menu.to_string(), fields.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect())
}

/// A router in use holds what its operator made by hand, in the codepage Winbox wrote:
/// a CP1251 comment, a CP1252 name, a user spelled like a voucher code, bypass bindings for a
/// range, a prefix and any MAC, and one row no client could read. The agent sells beside them
/// (a bypass package needs the binding list; reconciling needs the user list), and after a
/// restart's reconcile every one of them is still there, byte for byte.
#[tokio::test]
async fn operator_rows_in_other_codepages_are_read_and_left_alone() {
    let mut options = Options::local(bin_dir());
    let mut open: serde_json::Value = serde_json::to_value(&options.packages[0]).unwrap();
    open["id"] = "1h-open".into();
    open["style"] = "bypass".into();
    options.packages.push(serde_json::from_value(open).unwrap());
    options.router_rows = vec![
        row("/ip/hotspot/user", &[("name", b"Jos\xE9"), ("password", b"x"), ("comment", b"\xCA\xE0\xF4\xE5 \xB9 1")]),
        row("/ip/hotspot/user", &[("name", b"manager"), ("password", b"y"), ("comment", b"staff")]),
        row(
            "/ip/hotspot/ip-binding",
            &[("address", b"10.5.50.0/24"), ("mac-address", b"00:00:00:00:00:00"), ("type", b"bypassed")],
        ),
        row(
            "/ip/hotspot/ip-binding",
            &[
                ("address", b"10.5.50.10-10.5.50.20"),
                ("type", b"bypassed"),
                ("comment", b"\xCF\xF0\xE8\xED\xF2\xE5\xF0"),
            ],
        ),
        row("/ip/hotspot/ip-binding", &[("mac-address", b"01:00:5E:00:00:01"), ("type", b"blocked")]),
    ];
    let stack = Stack::start(options).await.expect("the local stack starts");
    let before = stack.routeros.state();
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = guest.buy("1h-open", "0712 345 678").await;
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
    // A restart reconciles the router with the journal at once.
    stack.restart_agent(&[]).await.unwrap();
    for _ in 0..100 {
        if agent_log(&stack).matches("agent starting").count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = stack.routeros.state();
    for u in &before.users {
        assert!(after.users.contains(u), "operator user {:?} changed or gone", u.name);
    }
    for b in &before.ip_bindings {
        assert!(after.ip_bindings.contains(b), "operator binding {b:?} changed or gone");
    }
    let ours =
        after.ip_bindings.iter().filter(|b| b.comment.as_deref() == Some(&format!("hotspot-agent purchase {id}")));
    assert_eq!(ours.count(), 1, "the bypass grant sits beside them: {:?}", after.ip_bindings);
    assert!(agent_log(&stack).contains("RouterOS row skipped"), "the unreadable row is named in the log");
    assert!(!agent_log(&stack).contains("protocol error"), "{}", agent_log(&stack));
}

/// The container starts before the router's WAN is up: the portal has no packages to show. It
/// keeps asking, and once the uplink is there the same page lists them, with no restart.
#[tokio::test]
async fn a_router_that_boots_offline_gets_its_packages_when_the_uplink_comes() {
    let mut options = Options::local(bin_dir());
    options.offline_at_start = true;
    let stack = Stack::start(options).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    let start = stack.guest_portal_url();
    let path = &start[stack.portal_url.len()..];
    let (_, page) = guest.get(path).await;
    assert!(!page.contains("24 hours"), "no packages yet: {page}");
    log_says(&stack, "packages not fetched yet").await;
    stack.uplink.restore();
    for _ in 0..150 {
        if guest.get(path).await.1.contains("24 hours") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the packages never came:\n{}", agent_log(&stack));
}

/// A restart must not cost a paying guest a minute: the long poll of the agent that just
/// died can still take the guest's job and hide it, but only for seconds, not for the old
/// 60 s visibility (a guest who paid 2 s after a restart was online after 61 s).
#[tokio::test]
async fn a_guest_who_pays_just_after_a_restart_is_online_in_seconds() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    log_says(&stack, "agent starting").await;
    tokio::time::sleep(Duration::from_secs(1)).await; // its first long poll is open
    stack.restart_agent(&[]).await.unwrap();
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    let push = stack.daraja.pushes().pop().expect("an STK push");
    let paid = std::time::Instant::now();
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
    assert!(paid.elapsed() < Duration::from_secs(20), "online {:?} after paying", paid.elapsed());
}

/// A package for three devices: the paying phone's page gives the code another device types;
/// a second and third join, a fourth is told all three are online; when one leaves, the fourth
/// takes its place. (A user bound to one MAC would refuse every device but the first.)
#[tokio::test]
async fn a_package_for_several_devices_lets_them_join_up_to_its_limit() {
    let mut options = Options::local(bin_dir());
    let mut family: serde_json::Value = serde_json::to_value(&options.packages[1]).unwrap();
    family["id"] = "family".into();
    family["devices"] = 3.into();
    options.packages.push(serde_json::from_value(family).unwrap());
    let stack = Stack::start(options).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (wait, id) = guest.buy("family", "0712 345 678").await;
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
    let code = hotspot_core::VoucherCode::relogin(&stack.router.key, &id);
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains(&code.grouped()) && page.contains("3 devices"), "the code to share: {page}");
    let user = format!("hs-{id}");
    assert_eq!(stack.routeros.state().user(&user).unwrap().mac_address, None, "not bound to one MAC");
    let device = |n: u8| {
        let mac: hotspot_core::MacAddr = format!("DA:A1:19:3C:5E:{:02X}", 0x10 + n).parse().unwrap();
        (mac, Guest::device(&stack, mac, std::net::Ipv4Addr::new(127, 0, 1, n)))
    };
    let (laptop, laptop_guest) = device(1);
    let (tablet, tablet_guest) = device(2);
    let (_, fourth_guest) = device(3);
    for (mac, g) in [(laptop, &laptop_guest), (tablet, &tablet_guest)] {
        let (status, page) = g.enter_code(&code.grouped()).await;
        assert_eq!(status, 200, "{page}");
        let st = stack.routeros.state();
        assert_eq!(st.session_of(mac).map(|s| s.user.as_str()), Some(user.as_str()), "{mac} online as the grant");
    }
    let (status, page) = fourth_guest.enter_code(&code.grouped()).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("All 3 devices of this package are online now"), "{page}");
    // The tablet leaves the network: the fourth device takes its place.
    stack.routeros.remove_host(tablet);
    let (status, page) = fourth_guest.enter_code(&code.grouped()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(stack.routeros.state().active.iter().filter(|s| s.user == user).count(), 3);
}

/// An idle router rests between its job polls (each receive is billed: one a minute instead of
/// three); a guest who pays meanwhile is not kept waiting for the next poll, because starting
/// the purchase wakes the consumer. With the rest at its longest (300 s) a missed wake would
/// show as minutes.
#[tokio::test]
async fn an_idle_router_rests_between_job_polls_and_a_paying_guest_wakes_it() {
    let options = Options { idle_poll_rest_secs: Some(300), ..Options::local(bin_dir()) };
    let stack = Stack::start(options).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    // The first polls take what the cloud sent at start; the next (a 20 s long poll) finds
    // nothing: then the agent rests.
    let waiting = std::time::Instant::now();
    while !agent_log(&stack).contains("no guest paying: resting between job polls") {
        assert!(waiting.elapsed() < Duration::from_secs(90), "the agent never rested:\n{}", agent_log(&stack));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resting = std::time::Instant::now();
    buy_and_go_online(&stack, &guest).await;
    let took = resting.elapsed();
    assert!(took < Duration::from_secs(30), "the guest waited for the next poll: {took:?}");
    log_says(&stack, "polling back to back: a guest is paying").await;
}
