//! The account menus the simulator emulates have RouterOS's own property names, per version:
//! every property the simulator takes on `add` is one RouterOS's `/console/inspect` lists for that
//! menu's `add` in that version, and every property a `print` shows is one RouterOS prints there.
//! The names come from tests/fixtures/inspect-ppp-wireguard.json (RouterOS 7.9, 7.20, 7.22 as
//! published by tikoci/restraml), not from the simulator.

mod common;

use std::collections::BTreeSet;

use common::{client, sim_with};
use hotspot_core::WgKey;
use routeros::{Command, NewPppSecret, NewWireguardPeer, PppService};
use routeros_sim::{RosVersion, SimConfig, accepted_properties};
use serde_json::Value;

const MENUS: &[&str] =
    &["/ppp/secret", "/ppp/profile", "/ip/pool", "/ip/address", "/interface/wireguard", "/interface/wireguard/peers"];

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/inspect-ppp-wireguard.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array().expect("a list of names").iter().map(|n| n.as_str().expect("a name").to_string()).collect()
}

#[test]
fn every_property_the_simulator_takes_is_routeros_own_in_that_version() {
    let schema = fixture();
    for (version, menus) in schema["versions"].as_object().expect("versions") {
        let v: RosVersion = version.parse().expect("version");
        for menu in MENUS {
            let add = names(&menus[*menu]["add"]);
            let ours = accepted_properties(menu, v).expect("an emulated menu");
            let foreign: Vec<_> = ours.iter().filter(|p| !add.contains(**p)).collect();
            assert!(foreign.is_empty(), "RouterOS {version} {menu} add has no {foreign:?}");
        }
    }
    // The version gates are where RouterOS put them: a peer's `name` is 7.15+, `responder` 7.17+.
    let peers = |v| accepted_properties("/interface/wireguard/peers", v).unwrap();
    assert!(!peers(RosVersion { major: 7, minor: 9 }).contains(&"private-key"));
    assert!(peers(RosVersion { major: 7, minor: 20 }).contains(&"responder"));
    assert!(names(&schema["versions"]["7.9"]["/ppp/active"]["remove"]).contains("numbers"));
}

#[tokio::test]
async fn every_property_print_shows_is_one_routeros_prints() {
    let schema = fixture();
    let printed = &schema["properties_7.22.3"];
    let sim = sim_with(SimConfig { version: RosVersion { major: 7, minor: 22 }, ..SimConfig::default() }).await;
    let c = client(&sim).await;
    c.call(&Command::new("/ip/pool/add").attr("name", "subs").attr("ranges", "10.9.0.10-10.9.0.250")).await.unwrap();
    c.call(&Command::new("/ppp/profile/add").attr("name", "home-10m").attr("remote-address", "subs")).await.unwrap();
    let secret = NewPppSecret {
        name: "ACC-1001".into(),
        password: "pw".into(),
        service: PppService::Pppoe,
        profile: Some("home-10m".into()),
        remote_address: None,
        comment: Some("sub 1".into()),
    };
    c.add_ppp_secret(&secret).await.unwrap();
    sim.ppp_dial("ACC-1001", "pw", "pppoe", "AA:BB:CC:00:10:01").unwrap();
    c.call(&Command::new("/interface/wireguard/add").attr("name", "wg-sell")).await.unwrap();
    let key: WgKey = "YFAnE0psgIdiAF7XR4abxiwVRnlMfeltxu4Kd2kVuVc=".parse().unwrap();
    let peer = NewWireguardPeer {
        interface: "wg-sell".into(),
        public_key: key,
        allowed_address: "10.66.0.2/32".into(),
        preshared_key: None,
        comment: Some("voucher".into()),
    };
    c.add_wireguard_peer(&peer).await.unwrap();
    for menu in
        ["/ppp/secret", "/ppp/profile", "/ppp/active", "/ip/pool", "/interface/wireguard", "/interface/wireguard/peers"]
    {
        let known = names(&printed[menu]);
        let resp = c.call(&Command::new(format!("{menu}/print"))).await.unwrap();
        assert!(!resp.rows.is_empty(), "{menu} has rows");
        for row in &resp.rows {
            let foreign: Vec<_> = row.keys().filter(|k| *k != ".id" && !known.contains(*k)).collect();
            assert!(foreign.is_empty(), "RouterOS prints no {foreign:?} in {menu}");
        }
    }
}
