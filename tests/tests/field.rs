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

fn agent_log(stack: &Stack) -> String {
    std::fs::read_to_string(stack.state_dir.join("agent.log")).unwrap_or_default()
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
