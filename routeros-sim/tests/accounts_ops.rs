//! The typed account operations (PPP secrets and profiles, their sessions, WireGuard peers)
//! against the simulator's RouterOS semantics: an account is created, used, ended and renewed the
//! way the agent will do it, and the router's own quirks hold (a disabled secret keeps its
//! session until `/ppp/active remove`).

mod common;

use std::time::Duration;

use common::{client, sim};
use hotspot_core::{RateLimit, WgKey};
use routeros::*;
use routeros_sim::{PppEnd, PppRefusal};

fn secret(name: &str) -> NewPppSecret {
    NewPppSecret {
        name: name.into(),
        password: "pw-1".into(),
        service: PppService::Pppoe,
        profile: Some("home-10m".into()),
        remote_address: None,
        comment: Some("subscriber".into()),
    }
}

fn profile() -> PppProfileSpec {
    PppProfileSpec {
        name: "home-10m".into(),
        rate_limit: Some("10M/10M".parse::<RateLimit>().unwrap()),
        local_address: Some("10.9.0.1".into()),
        remote_address: Some("subs".into()),
        only_one: true,
    }
}

#[tokio::test]
async fn an_account_is_made_ended_and_renewed() {
    let sim = sim().await;
    let c = client(&sim).await;
    c.call(&Command::new("/ip/pool/add").attr("name", "subs").attr("ranges", "10.9.0.10-10.9.0.20")).await.unwrap();
    assert_eq!(c.ensure_ppp_profile(&profile()).await.unwrap().1, Ensured::Created);
    assert_eq!(c.ensure_ppp_profile(&profile()).await.unwrap().1, Ensured::Unchanged);
    let faster = PppProfileSpec { rate_limit: Some("20M/20M".parse().unwrap()), ..profile() };
    assert_eq!(c.ensure_ppp_profile(&faster).await.unwrap().1, Ensured::Updated);

    let id = c.add_ppp_secret(&secret("ACC-1001")).await.unwrap();
    let dup = c.add_ppp_secret(&secret("ACC-1001")).await.unwrap_err();
    assert!(matches!(&dup, Error::Trap(t) if t.kind == TrapKind::AlreadyExists), "{dup:?}");
    let s = c.find_ppp_secret("ACC-1001").await.unwrap().expect("secret");
    assert_eq!((s.service, s.profile.as_deref(), s.disabled), (PppService::Pppoe, Some("home-10m"), false));

    // The subscriber's router dials in; only one session at a time (`only-one=yes`).
    let addr = sim.ppp_dial("ACC-1001", "pw-1", "pppoe", "AA:BB:CC:00:10:01").unwrap();
    assert_eq!(addr.to_string(), "10.9.0.10");
    assert_eq!(sim.ppp_dial("ACC-1001", "pw-1", "pppoe", "AA:BB:CC:00:10:02"), Err(PppRefusal::OnlyOne));
    assert_eq!(sim.ppp_dial("ACC-1001", "pw-1", "l2tp", "198.51.100.7"), Err(PppRefusal::AuthenticationFailed));
    let active = c.find_ppp_active("ACC-1001").await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!((active[0].address, active[0].caller_id.as_deref()), (Some(addr), Some("AA:BB:CC:00:10:01")));
    sim.advance_clock(Duration::from_secs(90));
    assert_eq!(c.list_ppp_active().await.unwrap()[0].uptime.map(|u| u.secs()), Some(90));

    // Expiry: disabling the secret alone leaves the subscriber online, as on a router.
    c.set_ppp_secret_disabled(&id, true).await.unwrap();
    assert_eq!(c.list_ppp_active().await.unwrap().len(), 1, "RouterOS keeps the session of a disabled secret");
    c.remove_ppp_active(&active[0].id).await.unwrap();
    assert!(c.list_ppp_active().await.unwrap().is_empty());
    assert_eq!(sim.state().ppp_ended[0].reason, PppEnd::Removed);
    assert_eq!(sim.ppp_dial("ACC-1001", "pw-1", "pppoe", "AA:BB:CC:00:10:01"), Err(PppRefusal::Disabled));

    // Renewal.
    c.set_ppp_secret_disabled(&id, false).await.unwrap();
    assert!(sim.ppp_dial("ACC-1001", "pw-1", "pppoe", "AA:BB:CC:00:10:01").is_ok());
    c.remove_ppp_secret(&id).await.unwrap();
    assert!(c.find_ppp_secret("ACC-1001").await.unwrap().is_none());
    let bad = c.remove_ppp_secret(&id).await.unwrap_err();
    assert!(matches!(&bad, Error::Trap(t) if t.kind == TrapKind::NoSuchItem), "{bad:?}");
}

#[tokio::test]
async fn bad_account_values_are_refused_and_change_nothing() {
    let sim = sim().await;
    let c = client(&sim).await;
    let no_profile = c.add_ppp_secret(&NewPppSecret { profile: Some("nope".into()), ..secret("A1") }).await;
    assert!(no_profile.is_err());
    for (k, v) in [("service", "wireguard"), ("remote-address", "10.9.0.300"), ("limit-bytes-in", "-1"), ("bogus", "1")]
    {
        let r = c.call(&Command::new("/ppp/secret/add").attr("name", "A2").attr(k, v)).await;
        assert!(r.is_err(), "{k}={v}");
    }
    let r = c.call(&Command::new("/ppp/profile/remove").attr(".id", "*0")).await;
    assert!(r.is_err(), "the default profile stays");
    let st = sim.state();
    assert!(st.ppp_secrets.is_empty());
    assert_eq!(st.ppp_profiles.len(), 2, "default and default-encryption only");
}

#[tokio::test]
async fn a_wireguard_peer_is_sold_and_stopped() {
    let sim = sim().await;
    let c = client(&sim).await;
    c.call(&Command::new("/interface/wireguard/add").attr("name", "wg-sell").attr("listen-port", "13231"))
        .await
        .unwrap();
    let wg = c.find_wireguard("wg-sell").await.unwrap().expect("interface");
    assert_eq!(wg.listen_port, 13231);
    let buyer: WgKey = "YFAnE0psgIdiAF7XR4abxiwVRnlMfeltxu4Kd2kVuVc=".parse().unwrap();
    let peer = NewWireguardPeer {
        interface: "wg-sell".into(),
        public_key: buyer,
        allowed_address: "10.66.0.2".into(),
        preshared_key: None,
        comment: Some("voucher v-1".into()),
    };
    let id = c.add_wireguard_peer(&peer).await.unwrap();
    let again = c.add_wireguard_peer(&peer).await.unwrap_err();
    assert!(matches!(&again, Error::Trap(t) if t.kind == TrapKind::AlreadyExists), "{again:?}");
    let peers = c.list_wireguard_peers("wg-sell").await.unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!((peers[0].public_key, peers[0].allowed_address.as_deref()), (buyer, Some("10.66.0.2/32")));
    c.set_wireguard_peer_disabled(&id, true).await.unwrap();
    assert!(c.list_wireguard_peers("wg-sell").await.unwrap()[0].disabled);
    c.remove_wireguard_peer(&id).await.unwrap();
    assert!(c.list_wireguard_peers("wg-sell").await.unwrap().is_empty());
    let no_iface = c.add_wireguard_peer(&NewWireguardPeer { interface: "wg-none".into(), ..peer }).await;
    assert!(no_iface.is_err());
}
