//! Subscriber accounts on the agent, against the RouterOS simulator: an `account_set` job makes
//! the PPP secret the subscriber's router dials with; the agent ends it on time by itself with the
//! cloud unreachable (the secret disabled *and* the session dropped, since RouterOS keeps a
//! disabled secret's session up); a renewal turns it back on; a repeated or older renewal
//! changes nothing.

mod common;

use common::{Rig, now, wait_until};
use hotspot_agent::jobs::{Disposition, JobHandler};
use hotspot_agent::journal::JobState;
use hotspot_agent::workers::{Expirer, Worker};
use hotspot_core::AccountNumber;
use hotspot_core::wire::{AccountSet, Payload};
use routeros_sim::PppRefusal;
use serde_json::json;
use tokio::sync::watch;

fn account(number: &AccountNumber, expires_at: i64) -> AccountSet {
    AccountSet {
        account: number.clone(),
        password: "kT9-pppoe-secret".into(),
        service: "pppoe".into(),
        package: serde_json::from_value(json!({
            "id": "home-10m", "name": "Home 10M", "price": 1500, "validity": "30d", "rate_limit": "10M/10M", "devices": 1
        }))
        .unwrap(),
        expires_at,
        wireguard: None,
    }
}

const CPE: &str = "AA:BB:CC:00:10:01";

#[tokio::test]
async fn an_account_is_made_ends_on_time_offline_and_is_renewed_once() {
    let rig = Rig::start().await;
    // The cloud unreachable throughout: an SQS endpoint where nothing listens.
    let dead = aws_sdk_sqs::Client::new(
        &testkit::sdk_config(&format!("http://127.0.0.1:{}", testkit::free_port().unwrap())).await,
    );
    let agent = rig.agent_with_sqs(dead).await;
    let handler = JobHandler::new(agent.clone());
    let n = AccountNumber::issue();
    let first = account(&n, now() + 2);
    let job = rig.sign(first.job_id(), Payload::AccountSet(first.clone()));
    assert_eq!(handler.handle_message(&job).await, Disposition::Delete);

    let st = rig.sim.state();
    let secret = st.ppp_secret(n.as_str()).expect("the secret");
    assert_eq!(secret.attrs.get("disabled").map(String::as_str), Some("false"));
    assert_eq!(secret.attrs.get("service").map(String::as_str), Some("pppoe"));
    assert_eq!(secret.attrs.get("profile").map(String::as_str), Some("hs-home-10m"));
    let profile = st.ppp_profiles.iter().find(|p| p.attrs.get("name").is_some_and(|v| v == "hs-home-10m")).unwrap();
    assert_eq!(profile.attrs.get("rate-limit").map(String::as_str), Some("10M/10M"));
    assert_eq!(profile.attrs.get("only-one").map(String::as_str), Some("yes"));
    let addr = rig.sim.ppp_dial(n.as_str(), "kT9-pppoe-secret", "pppoe", CPE).expect("the subscriber is online");
    assert_eq!(addr.to_string(), "10.98.0.10", "from the agent's account pool");
    assert!(st.ip_pools.iter().any(|p| p.attrs.get("name").is_some_and(|v| v == "hs-accounts")));

    // Its time runs out with the cloud away: the agent ends it by itself, on time.
    let (tx, rx) = watch::channel(false);
    let a = agent.clone();
    let task = tokio::spawn(async move { Expirer::new(a).run(rx).await });
    wait_until("secret disabled and session dropped", || {
        let st = rig.sim.state();
        st.ppp_active.is_empty()
            && st.ppp_secret(n.as_str()).is_some_and(|s| s.attrs.get("disabled").is_some_and(|d| d == "true"))
    })
    .await;
    let late = now() - first.expires_at;
    assert!((0..=3).contains(&late), "ended {late} s after expires_at");
    assert_eq!(rig.sim.ppp_dial(n.as_str(), "kT9-pppoe-secret", "pppoe", CPE), Err(PppRefusal::Disabled));

    // Renewed (a Paybill payment): on again, to the new expiry.
    let renewed = account(&n, now() + 30 * 86_400);
    let job = rig.sign(renewed.job_id(), Payload::AccountSet(renewed.clone()));
    assert_eq!(handler.handle_message(&job).await, Disposition::Delete);
    assert_eq!(agent.journal.job_state(&renewed.job_id()).unwrap(), Some(JobState::Applied));
    rig.sim.ppp_dial(n.as_str(), "kT9-pppoe-secret", "pppoe", CPE).expect("online again");
    let before = rig.sim.state();
    // The same renewal again, and the first (older) job arriving late: nothing changes.
    assert_eq!(handler.handle_message(&job).await, Disposition::Delete);
    let late_copy = rig.sign(hotspot_core::MessageId::generate(), Payload::AccountSet(first.clone()));
    assert_eq!(handler.handle_message(&late_copy).await, Disposition::Delete);
    let after = rig.sim.state();
    assert_eq!((after.ppp_secrets.clone(), after.ppp_active.clone()), (before.ppp_secrets, before.ppp_active));
    assert_eq!(agent.journal.account(&n).unwrap().unwrap().expires_at, renewed.expires_at);
    tx.send(true).unwrap();
    task.await.unwrap();
}

/// A WireGuard account: a peer on the agent's interface (made with its address on first use, the
/// router making its key), reported back with the router's end of the tunnel for the buyer's
/// config; disabled by the agent at expiry, enabled again by a renewal.
#[tokio::test]
async fn a_wireguard_account_is_a_peer_reported_disabled_on_time_and_renewed() {
    use hotspot_agent::workers::Reporter;
    use hotspot_core::wire::WireguardPeer;

    let rig = Rig::start().await;
    let agent = rig.agent().await;
    let handler = JobHandler::new(agent.clone());
    let n = AccountNumber::issue();
    let buyer: hotspot_core::WgKey = "YFAnE0psgIdiAF7XR4abxiwVRnlMfeltxu4Kd2kVuVc=".parse().unwrap();
    let peer = WireguardPeer { public_key: buyer, address: "10.66.0.2".parse().unwrap() };
    let first = AccountSet { service: "wireguard".into(), wireguard: Some(peer.clone()), ..account(&n, now() + 2) };
    assert_eq!(
        handler.handle_message(&rig.sign(first.job_id(), Payload::AccountSet(first.clone()))).await,
        Disposition::Delete
    );

    let st = rig.sim.state();
    let wg = st.wireguard.iter().find(|w| w.attrs.get("name").is_some_and(|v| v == "hs-wg")).expect("the interface");
    let server_key = wg.attrs.get("public-key").cloned().expect("the router made its key");
    assert!(st.ip_addresses.iter().any(|a| a.attrs.get("address").is_some_and(|v| v == "10.66.0.1/16")));
    let p =
        st.wireguard_peers.iter().find(|p| p.attrs.get("public-key") == Some(&buyer.to_string())).expect("the peer");
    assert_eq!(p.attrs.get("allowed-address").map(String::as_str), Some("10.66.0.2/32"));
    assert_eq!(p.attrs.get("disabled").map(String::as_str), Some("false"));
    assert!(st.ppp_secrets.is_empty(), "a WireGuard account is no PPP secret");

    // The report carries the router's end of the tunnel.
    Reporter::new(agent.clone()).flush_outbox().await.unwrap();
    let reported = rig
        .events()
        .await
        .into_iter()
        .find_map(|e| match e {
            Payload::Applied(a) => a.wireguard,
            _ => None,
        })
        .expect("the router's end of the tunnel, reported");
    assert_eq!(
        (reported.account.clone(), reported.public_key.to_string(), reported.listen_port),
        (n.clone(), server_key, 13231)
    );

    // Its time runs out: the agent disables the peer; a renewal enables it again.
    let (tx, rx) = watch::channel(false);
    let a = agent.clone();
    let task = tokio::spawn(async move { Expirer::new(a).run(rx).await });
    let peer_disabled = |disabled: &str| {
        rig.sim.state().wireguard_peers.iter().any(|p| p.attrs.get("disabled").is_some_and(|d| d == disabled))
    };
    wait_until("the peer disabled", || peer_disabled("true")).await;
    let late = now() - first.expires_at;
    assert!((0..=3).contains(&late), "ended {late} s after expires_at");
    let renewed = AccountSet { expires_at: now() + 30 * 86_400, ..first.clone() };
    assert_eq!(
        handler.handle_message(&rig.sign(renewed.job_id(), Payload::AccountSet(renewed))).await,
        Disposition::Delete
    );
    assert!(peer_disabled("false") && rig.sim.state().wireguard_peers.len() == 1, "the same peer, on again");
    tx.send(true).unwrap();
    task.await.unwrap();
}
