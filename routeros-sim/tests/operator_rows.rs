//! Rows a real router holds that the agent did not write: comments in the codepage Winbox used
//! (librouteros #10/#123/#124, RouterOS-api #53/#68/#104), ip-bindings for a range, a prefix
//! or any MAC, fields left out. The client reads them (or skips what it cannot read) and the
//! session goes on; and the router's source NAT, which decides what address the portal sees.

mod common;

use std::net::Ipv4Addr;

use common::{client, sim};
use routeros::AddressMatch;
use routeros::{Command, NewIpBinding};

const CP1251_CAFE: &[u8] = b"\xCA\xE0\xF4\xE5 \xB9 1"; // "Кафе № 1"
const CP1252_NAME: &[u8] = b"Jos\xE9"; // "José"

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[tokio::test]
async fn codepage_words_are_read_and_sent_back_as_the_same_bytes() {
    let sim = sim().await;
    sim.seed("/ip/hotspot/user", &[("name", CP1252_NAME), ("password", b"x"), ("comment", CP1251_CAFE)]).unwrap();
    let c = client(&sim).await;
    let users = c.list_hotspot_users().await.expect("a codepage row does not fail the list");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, "Jos\u{FFFD}");
    let raw = c.call(&Command::new("/ip/hotspot/user/print")).await.unwrap();
    assert_eq!(raw.raw[0]["comment"], CP1251_CAFE.to_vec(), "the router's bytes, exactly");
    assert_eq!(raw.raw[0]["name"], CP1252_NAME.to_vec());
    // The session survives: the next command on it works.
    c.list_hotspot_users().await.unwrap();
    assert_eq!(sim.stats().connections_accepted, 1, "no reconnect was needed");
}

#[tokio::test]
async fn odd_bindings_are_carried_and_an_unreadable_row_is_skipped() {
    let sim = sim().await;
    let c = client(&sim).await;
    for (mac, address) in [
        (Some("00:00:00:00:00:00"), Some("10.5.50.0/24")),
        (None, Some("10.5.50.10-10.5.50.20")),
        (Some("DA:A1:19:00:00:09"), None),
    ] {
        let mut cmd = Command::new("/ip/hotspot/ip-binding/add").attr("type", "bypassed");
        cmd = cmd.attr_opt("mac-address", mac).attr_opt("address", address);
        c.call(&cmd).await.unwrap_or_else(|e| panic!("RouterOS takes {mac:?} {address:?}: {e}"));
    }
    // A row made by hand that no client could read (a multicast MAC): skipped, not fatal.
    sim.seed("/ip/hotspot/ip-binding", &[("mac-address", b"01:00:5E:00:00:01"), ("type", b"blocked")]).unwrap();
    let got = c.list_ip_bindings().await.expect("the list is read");
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].mac_address, None, "00:00:00:00:00:00 is any MAC");
    assert_eq!(got[0].address, Some(AddressMatch::Prefix(ip("10.5.50.0"), 24)));
    assert_eq!(got[1].address, Some(AddressMatch::Range(ip("10.5.50.10"), ip("10.5.50.20"))));
    assert!(got[1].address.unwrap().contains(ip("10.5.50.15")));
    assert_eq!(got[2].address, None, "an absent field is absent");
    // And our own writes still work beside them.
    c.add_ip_binding(&NewIpBinding {
        mac_address: Some("DA:A1:19:00:00:01".parse().unwrap()),
        address: None,
        kind: routeros::BindingType::Bypassed,
        comment: Some("hotspot-agent purchase p1".into()),
    })
    .await
    .unwrap();
    assert_eq!(c.list_ip_bindings().await.unwrap().len(), 4);
}

#[tokio::test]
async fn source_nat_follows_the_first_matching_rule() {
    let sim = sim().await;
    let c = client(&sim).await;
    let (guest, portal) = (ip("10.5.50.23"), ip("172.17.0.2"));
    assert!(!sim.source_nat(guest, portal), "no rules: no NAT");
    // What `/ip hotspot setup` adds ("masquerade network: yes"): no out-interface.
    let masq = c
        .call(
            &Command::new("/ip/firewall/nat/add")
                .attr("chain", "srcnat")
                .attr("action", "masquerade")
                .attr("src-address", "10.5.50.0/24"),
        )
        .await
        .unwrap();
    assert!(sim.source_nat(guest, portal), "the hotspot's masquerade hides the guest from the container");
    assert!(!sim.source_nat(ip("192.168.88.10"), portal), "only the hotspot subnet");
    // The onboarding script's exemption, placed before every other srcnat rule.
    let first = masq.ret().unwrap().to_string();
    c.call(
        &Command::new("/ip/firewall/nat/add")
            .attr("chain", "srcnat")
            .attr("action", "accept")
            .attr("dst-address", "172.17.0.2")
            .attr("place-before", &first),
    )
    .await
    .unwrap();
    assert!(!sim.source_nat(guest, portal), "exempt: the portal sees the guest");
    assert!(sim.source_nat(guest, ip("8.8.8.8")), "the internet still masqueraded");
    assert_eq!(sim.state().nat[0].attrs["action"], "accept");
    // Moved below the masquerade, it no longer helps.
    let accept = sim.state().nat[0].id.clone();
    c.call(&Command::new("/ip/firewall/nat/move").attr("numbers", &accept)).await.unwrap();
    assert!(sim.source_nat(guest, portal));
    assert!(
        c.call(&Command::new("/ip/firewall/nat/add").attr("chain", "srcnat").attr("place-before", "*99"))
            .await
            .is_err()
    );
}
