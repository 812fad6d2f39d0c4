//! Pipelining, timeouts with /cancel, and the client's behaviour under injected faults.

mod common;

use std::time::Duration;

use common::{client, config, eventually, sim, sim_with};
use routeros::codec::{Decoder, encode_sentence};
use routeros::*;
use routeros_sim::{Faults, RosVersion, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn user(i: usize) -> NewHotspotUser {
    NewHotspotUser { name: format!("u{i}"), password: "pw".into(), ..Default::default() }
}

#[tokio::test]
async fn many_commands_are_in_flight_at_once() {
    let sim = sim().await;
    let c = client(&sim).await;
    sim.update_faults(|f| f.command_latency = Duration::from_millis(300));
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.add_hotspot_user(&user(i)).await })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 64, "every add got its own id back");
    assert_eq!(sim.state().users.len(), 64);
    // One connection, and the router saw all 64 waiting at the same time.
    assert_eq!(sim.stats().connections_accepted, 1);
    assert_eq!(sim.stats().max_in_flight, 64);
}

#[tokio::test]
async fn a_slow_command_does_not_hold_up_others() {
    let sim = sim().await;
    let c = client(&sim).await;
    sim.update_faults(|f| f.path_latency = vec![("/ip/hotspot/user/print".into(), Duration::from_secs(30))]);
    let slow = {
        let c = c.clone();
        tokio::spawn(async move { c.list_hotspot_users().await })
    };
    eventually("slow print in flight", || sim.stats().max_in_flight == 1).await;
    for _ in 0..5 {
        assert_eq!(c.identity().await.unwrap(), "MikroTik");
    }
    assert!(!slow.is_finished(), "the slow print must still be waiting");
    slow.abort();
    // Dropping the waiting call cancels it on the router.
    eventually("router saw /cancel", || sim.stats().cancelled == 1).await;
}

#[tokio::test]
async fn timeout_cancels_the_command_on_the_router() {
    let sim = sim().await;
    let c = client(&sim).await;
    sim.update_faults(|f| f.command_latency = Duration::from_secs(2));
    let e = c.call_with_timeout(&user(1).command(), Duration::from_millis(100)).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    eventually("router saw /cancel", || sim.stats().cancelled == 1).await;
    sim.set_faults(Faults::default());
    // The cancelled add never ran, and the session is still usable.
    assert!(c.find_hotspot_user("u1").await.unwrap().is_none());
    assert!(sim.state().users.is_empty());
}

#[tokio::test]
async fn fatal_fails_the_command_and_the_client_reconnects() {
    let sim = sim().await;
    let c = client(&sim).await;
    sim.update_faults(|f| f.fatal_next = Some("too many commands before login".into()));
    let e = c.add_hotspot_user(&user(1)).await.unwrap_err();
    assert!(matches!(&e, Error::Fatal(r) if r == "too many commands before login"), "{e:?}");
    assert!(e.is_transient());
    // The next call waits for the background reconnect and succeeds.
    c.add_hotspot_user(&user(2)).await.unwrap();
    assert_eq!(sim.stats().connections_accepted, 2);
    assert!(sim.state().user("u1").is_none(), "a !fatal command is not applied");
}

#[tokio::test]
async fn reply_cut_mid_way_is_connection_lost_but_was_applied() {
    let sim = sim().await;
    let c = client(&sim).await;
    sim.update_faults(|f| f.drop_mid_reply = 1);
    let e = c.add_hotspot_user(&user(1)).await.unwrap_err();
    assert!(matches!(e, Error::ConnectionLost(_)), "{e:?}");
    assert!(sim.state().user("u1").is_some(), "applied but not acknowledged");
    // After reconnecting, the retry sees the duplicate: callers must look before re-adding.
    let e = c.add_hotspot_user(&user(1)).await.unwrap_err();
    assert_eq!(e.trap_kind(), Some(&TrapKind::AlreadyExists));
}

#[tokio::test]
async fn killing_the_session_fails_every_in_flight_command() {
    let sim = sim().await;
    let c = client(&sim).await;
    sim.update_faults(|f| f.command_latency = Duration::from_secs(10));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.add_hotspot_user(&user(i)).await })
        })
        .collect();
    eventually("all in flight", || sim.stats().max_in_flight == 10).await;
    sim.kill_sessions(Some("reboot"));
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert!(matches!(&e, Error::Fatal(r) if r == "reboot"), "{e:?}");
    }
    sim.set_faults(Faults::default());
    assert_eq!(c.identity().await.unwrap(), "MikroTik");
    eventually("reconnected", || c.is_connected()).await;
}

#[tokio::test]
async fn calls_wait_for_reconnect_then_fail_clearly_when_router_stays_down() {
    let sim = sim().await;
    let c = client(&sim).await;
    sim.update_faults(|f| f.reject_logins = true);
    sim.kill_sessions(None);
    let e = c.call_with_timeout(&Command::new("/system/identity/print"), Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(&e, Error::NotConnected(_) | Error::ConnectionLost(_)), "{e:?}");
    eventually("several reconnect attempts", || sim.stats().connections_accepted >= 3).await;
    sim.update_faults(|f| f.reject_logins = false);
    assert_eq!(c.identity().await.unwrap(), "MikroTik");
}

#[tokio::test]
async fn slow_login_hits_the_login_timeout() {
    let sim = sim().await;
    sim.update_faults(|f| f.login_delay = Duration::from_secs(5));
    let mut cfg = config(&sim);
    cfg.login_timeout = Duration::from_millis(150);
    let e = Client::connect(cfg).await.err().expect("login must time out");
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

/// Raw replies for an empty print, from a plain socket and our decoder.
async fn raw_empty_print(version: RosVersion) -> Vec<Vec<String>> {
    let sim = sim_with(SimConfig { version, ..Default::default() }).await;
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let mut bytes = encode_sentence(&["/login", "=name=admin", &format!("=password={}", common::PASSWORD)]).unwrap();
    bytes.extend(encode_sentence(&["/ip/hotspot/user/print", ".tag=p"]).unwrap());
    s.write_all(&bytes).await.unwrap();
    let mut dec = Decoder::default_limits();
    let mut got = Vec::new();
    while got.last().is_none_or(|w: &Vec<String>| w[0] != "!done" || !w.contains(&".tag=p".to_string())) {
        match dec.next_sentence().unwrap() {
            Some(w) => got.push(w),
            None => assert!(s.read_buf(dec.buffer_mut()).await.unwrap() > 0),
        }
    }
    got
}

#[tokio::test]
async fn empty_reply_depends_on_emulated_version() {
    let v17 = raw_empty_print(RosVersion::V7_17).await;
    assert_eq!(v17, vec![vec!["!done"], vec!["!done", ".tag=p"]]);
    let v18 = raw_empty_print(RosVersion::V7_18).await;
    assert_eq!(v18, vec![vec!["!done"], vec!["!empty", ".tag=p"], vec!["!done", ".tag=p"]]);
    // The client treats both the same.
    for version in [RosVersion::V7_17, RosVersion::V7_18] {
        let sim = sim_with(SimConfig { version, ..Default::default() }).await;
        assert!(client(&sim).await.list_hotspot_users().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn commands_before_login_are_refused() {
    let sim = sim().await;
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(&encode_sentence(&["/ip/hotspot/user/print"]).unwrap()).await.unwrap();
    let mut dec = Decoder::default_limits();
    let first = loop {
        if let Some(w) = dec.next_sentence().unwrap() {
            break w;
        }
        assert!(s.read_buf(dec.buffer_mut()).await.unwrap() > 0);
    };
    assert_eq!(first, vec!["!trap", "=message=not logged in"]);
}

#[tokio::test]
async fn hostile_client_bytes_get_fatal_not_a_crash() {
    let sim = sim().await;
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let mut dec = Decoder::default_limits();
    dec.extend(&buf);
    assert_eq!(dec.next_sentence().unwrap(), Some(vec!["!fatal".to_string(), "protocol error".to_string()]));
    // The simulator keeps serving others.
    assert_eq!(client(&sim).await.identity().await.unwrap(), "MikroTik");
}

#[tokio::test]
async fn lazily_started_client_connects_when_the_router_comes_up() {
    // Reserve a port, start the client against it before anything listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cfg = Config::new(addr.to_string(), "admin", common::PASSWORD);
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(50);
    let c = Client::start(cfg);
    let e = c.call_with_timeout(&Command::new("/system/identity/print"), Duration::from_millis(100)).await.unwrap_err();
    assert!(matches!(e, Error::NotConnected(_)), "{e:?}");
    let _sim = sim_with(SimConfig { listen: addr, ..Default::default() }).await;
    assert_eq!(c.identity().await.unwrap(), "MikroTik");
}
