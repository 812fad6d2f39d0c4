//! The typed client operations against the simulator's RouterOS semantics.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::{client, sim};
use hotspot_core::{MacAddr, RosDuration};
use routeros::*;
use routeros_sim::EndReason;

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn guest(name: &str, m: &str) -> NewHotspotUser {
    NewHotspotUser {
        name: name.into(),
        password: "pw".into(),
        mac_address: Some(mac(m)),
        limit_uptime: Some(RosDuration::from_secs(3600).unwrap()),
        limit_bytes_total: Some(1_000_000),
        comment: Some("purchase p-1".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn wrong_password_is_a_login_error() {
    let sim = sim().await;
    let mut cfg = common::config(&sim);
    cfg.password = "nope".into();
    match Client::connect(cfg).await {
        Err(Error::Login { message, .. }) => assert_eq!(message, "invalid user name or password (6)"),
        Err(e) => panic!("wrong error {e:?}"),
        Ok(_) => panic!("login with a wrong password succeeded"),
    }
}

#[tokio::test]
async fn user_add_find_set_remove_with_domain_types() {
    let sim = sim().await;
    let c = client(&sim).await;
    let id = c.add_hotspot_user(&guest("g1", "aa-bb-cc-dd-ee-f0")).await.unwrap();
    assert_eq!(id.as_str(), "*1");
    let u = c.find_hotspot_user("g1").await.unwrap().expect("user exists");
    assert_eq!(u.id, id);
    assert_eq!(u.mac_address, Some(mac("AA:BB:CC:DD:EE:F0")));
    assert_eq!(u.limit_uptime.map(|d| d.secs()), Some(3600));
    assert_eq!(u.limit_bytes_total, Some(1_000_000));
    assert_eq!(u.profile.as_deref(), Some("default"));
    assert_eq!(u.comment.as_deref(), Some("purchase p-1"));
    assert!(c.find_hotspot_user("nobody").await.unwrap().is_none());

    let upd = HotspotUserUpdate {
        limit_uptime: Some(RosDuration::from_secs(7200).unwrap()),
        comment: Some("extended".into()),
        disabled: Some(true),
        ..Default::default()
    };
    c.set_hotspot_user(&id, &upd).await.unwrap();
    let st = sim.state();
    let su = st.user("g1").unwrap();
    assert_eq!(su.limit_uptime.map(|d| d.secs()), Some(7200));
    assert_eq!(su.comment.as_deref(), Some("extended"));
    assert!(su.disabled);

    c.remove_hotspot_user(&id).await.unwrap();
    assert!(sim.state().users.is_empty());
    let e = c.remove_hotspot_user(&id).await.unwrap_err();
    assert_eq!(e.trap_kind(), Some(&TrapKind::NoSuchItem), "{e}");
}

#[tokio::test]
async fn duplicate_name_and_unknown_profile_are_typed_traps() {
    let sim = sim().await;
    let c = client(&sim).await;
    c.add_hotspot_user(&guest("dup", "02:00:00:00:00:01")).await.unwrap();
    let e = c.add_hotspot_user(&guest("dup", "02:00:00:00:00:02")).await.unwrap_err();
    match &e {
        Error::Trap(t) => {
            assert_eq!(t.kind, TrapKind::AlreadyExists);
            assert_eq!(t.message, "failure: already have user with this name for this server");
        }
        other => panic!("{other:?}"),
    }
    let mut bad = guest("p", "02:00:00:00:00:03");
    bad.profile = Some("no-such-profile".into());
    let e = c.add_hotspot_user(&bad).await.unwrap_err();
    assert_eq!(e.trap_kind(), Some(&TrapKind::UnknownProfile), "{e}");
    assert_eq!(sim.state().users.len(), 1);
}

#[tokio::test]
async fn ensure_profile_creates_then_updates_then_leaves_alone() {
    let sim = sim().await;
    let c = client(&sim).await;
    let mut spec = UserProfileSpec {
        name: "pkg-1h".into(),
        rate_limit: Some("2M/5M".parse().unwrap()),
        shared_users: 1,
        session_timeout: Some(RosDuration::from_secs(3600).unwrap()),
        idle_timeout: None,
    };
    let (id, how) = c.ensure_user_profile(&spec).await.unwrap();
    assert_eq!(how, Ensured::Created);
    assert_eq!(c.ensure_user_profile(&spec).await.unwrap(), (id.clone(), Ensured::Unchanged));
    spec.rate_limit = Some("4M/10M".parse().unwrap());
    spec.idle_timeout = Some(RosDuration::from_secs(300).unwrap());
    assert_eq!(c.ensure_user_profile(&spec).await.unwrap(), (id.clone(), Ensured::Updated));
    assert_eq!(c.ensure_user_profile(&spec).await.unwrap(), (id, Ensured::Unchanged));
    let st = sim.state();
    let p = st.profile("pkg-1h").unwrap();
    assert_eq!(p.attrs["rate-limit"], "4M/10M");
    assert_eq!(p.attrs["idle-timeout"], "5m");
    // A user can now reference it.
    let mut u = guest("g", "02:00:00:00:00:09");
    u.profile = Some("pkg-1h".into());
    c.add_hotspot_user(&u).await.unwrap();
}

#[tokio::test]
async fn host_lookup_and_active_login_rules() {
    let sim = sim().await;
    let c = client(&sim).await;
    let (m1, ip1) = (mac("02:00:00:00:00:01"), ip("10.5.50.11"));
    let (m2, ip2) = (mac("02:00:00:00:00:02"), ip("10.5.50.12"));
    sim.add_host(m1, ip1);
    sim.add_host(m2, ip2);
    let h = c.find_host_by_ip(ip1).await.unwrap().expect("host");
    assert_eq!(h.mac_address, m1);
    assert!(!h.authorized);
    assert!(c.find_host_by_ip(ip("10.5.50.99")).await.unwrap().is_none());

    c.add_hotspot_user(&guest("g1", "02:00:00:00:00:01")).await.unwrap();
    let login = |user: &str, password: &str, m: MacAddr, i: Ipv4Addr| ActiveLogin {
        user: user.into(),
        password: password.into(),
        mac_address: m,
        ip: i,
    };
    let msg = |e: Error| match e {
        Error::Trap(t) => t.message,
        other => panic!("{other:?}"),
    };
    // Unknown host, wrong password, and a user bound to another MAC are all refused.
    assert_eq!(msg(c.active_login(&login("g1", "pw", m1, ip("10.5.50.99"))).await.unwrap_err()), "no such host");
    assert_eq!(msg(c.active_login(&login("g1", "bad", m1, ip1)).await.unwrap_err()), "invalid username or password");
    assert!(msg(c.active_login(&login("g1", "pw", m2, ip2)).await.unwrap_err()).contains("not allowed"));
    assert!(sim.state().active.is_empty());

    c.active_login(&login("g1", "pw", m1, ip1)).await.unwrap();
    let active = c.list_active().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!((active[0].user.as_str(), active[0].mac_address, active[0].address), ("g1", Some(m1), Some(ip1)));
    assert!(c.find_host_by_ip(ip1).await.unwrap().unwrap().authorized);

    c.remove_active(&active[0].id).await.unwrap();
    assert!(c.list_active().await.unwrap().is_empty());
    assert_eq!(sim.state().ended_sessions[0].reason, EndReason::Removed);
}

#[tokio::test]
async fn simulated_clock_and_traffic_end_sessions_at_their_limits() {
    let sim = sim().await;
    let c = client(&sim).await;
    let (m1, ip1) = (mac("02:00:00:00:00:01"), ip("10.5.50.11"));
    let (m2, ip2) = (mac("02:00:00:00:00:02"), ip("10.5.50.12"));
    sim.add_host(m1, ip1);
    sim.add_host(m2, ip2);
    c.add_hotspot_user(&guest("timed", "02:00:00:00:00:01")).await.unwrap();
    c.add_hotspot_user(&guest("metered", "02:00:00:00:00:02")).await.unwrap();
    for (u, m, i) in [("timed", m1, ip1), ("metered", m2, ip2)] {
        c.active_login(&ActiveLogin { user: u.into(), password: "pw".into(), mac_address: m, ip: i }).await.unwrap();
    }
    sim.advance_clock(Duration::from_secs(3599));
    assert_eq!(c.list_active().await.unwrap().len(), 2);
    assert!(sim.add_traffic(ip2, 600_000, 399_999));
    assert_eq!(c.list_active().await.unwrap().len(), 2, "one byte under the limit");
    assert!(sim.add_traffic(ip2, 1, 0));
    sim.advance_clock(Duration::from_secs(10));
    assert!(c.list_active().await.unwrap().is_empty());
    let st = sim.state();
    let timed = st.ended_sessions.iter().find(|e| e.user == "timed").unwrap();
    assert_eq!((timed.reason, timed.uptime_secs, timed.ended_at_secs), (EndReason::UptimeLimit, 3600, 3600));
    assert_eq!(st.ended_sessions.iter().find(|e| e.user == "metered").unwrap().reason, EndReason::TrafficLimit);
    assert_eq!(st.user("timed").unwrap().uptime_secs, 3600);
    // The exhausted user cannot log in again.
    let e = c
        .active_login(&ActiveLogin { user: "timed".into(), password: "pw".into(), mac_address: m1, ip: ip1 })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("uptime limit"), "{e}");
}

#[tokio::test]
async fn bypassed_binding_authorizes_and_blocked_refuses() {
    let sim = sim().await;
    let c = client(&sim).await;
    let (m1, ip1) = (mac("02:00:00:00:00:01"), ip("10.5.50.11"));
    sim.add_host(m1, ip1);
    let id = c
        .add_ip_binding(&NewIpBinding {
            mac_address: Some(m1),
            address: None,
            kind: BindingType::Bypassed,
            comment: None,
        })
        .await
        .unwrap();
    let h = c.find_host_by_ip(ip1).await.unwrap().unwrap();
    assert!(h.bypassed && h.authorized);
    assert_eq!(c.list_ip_bindings().await.unwrap()[0].kind, BindingType::Bypassed);
    c.remove_ip_binding(&id).await.unwrap();
    assert!(!c.find_host_by_ip(ip1).await.unwrap().unwrap().authorized);

    c.add_ip_binding(&NewIpBinding { mac_address: Some(m1), address: None, kind: BindingType::Blocked, comment: None })
        .await
        .unwrap();
    c.add_hotspot_user(&guest("g1", "02:00:00:00:00:01")).await.unwrap();
    let e = c
        .active_login(&ActiveLogin { user: "g1".into(), password: "pw".into(), mac_address: m1, ip: ip1 })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("blocked"), "{e}");
}

#[tokio::test]
async fn walled_garden_and_identity() {
    let sim = sim().await;
    let c = client(&sim).await;
    let w = NewWalledGardenIp {
        dst_address: "172.17.0.2".into(),
        dst_port: Some("8080".into()),
        protocol: Some("tcp".into()),
        action: "accept".into(),
        comment: Some("portal".into()),
    };
    let id = c.add_walled_garden_ip(&w).await.unwrap();
    let list = c.list_walled_garden_ip().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].dst_address.as_deref(), Some("172.17.0.2"));
    assert_eq!(list[0].dst_port.as_deref(), Some("8080"));
    c.remove_walled_garden_ip(&id).await.unwrap();
    assert!(sim.state().walled_garden_ip.is_empty());

    assert_eq!(c.identity().await.unwrap(), "MikroTik");
    c.set_identity("cafe-1").await.unwrap();
    assert_eq!(c.identity().await.unwrap(), "cafe-1");
}

#[tokio::test]
async fn print_queries_and_proplist() {
    let sim = sim().await;
    let c = client(&sim).await;
    for (n, m) in [("a", "02:00:00:00:00:01"), ("b", "02:00:00:00:00:02"), ("c", "02:00:00:00:00:03")] {
        let mut u = guest(n, m);
        if n == "c" {
            u.comment = None;
        }
        c.add_hotspot_user(&u).await.unwrap();
    }
    let names = |r: Response| r.rows.iter().map(|a| a["name"].clone()).collect::<Vec<_>>();
    let print = || Command::new("/ip/hotspot/user/print");
    let r = c.call(&print().query("?name=a").query("?name=c").query("?#|")).await.unwrap();
    assert_eq!(names(r), ["a", "c"]);
    let r = c.call(&print().query("?-comment")).await.unwrap();
    assert_eq!(names(r), ["c"]);
    let r = c.call(&print().query("?name=b").query("?#!")).await.unwrap();
    assert_eq!(names(r), ["a", "c"]);
    let r = c.call(&print().query("?>name=a")).await.unwrap();
    assert_eq!(names(r), ["b", "c"]);
    let r = c.call(&print().proplist(&["name"]).where_eq("name", "b")).await.unwrap();
    assert_eq!(r.rows, vec![Attrs::from([("name".to_string(), "b".to_string())])]);
    let e = c.call(&print().query("?#&")).await.unwrap_err();
    assert!(matches!(e, Error::Trap(_)), "{e:?}");
}

async fn next(w: &mut HostWatch) -> Result<HostChange> {
    tokio::time::timeout(Duration::from_secs(5), w.next()).await.expect("a change reported")
}

/// `/ip/hotspot/host/listen`: silent until the table changes, then a row per change, however the
/// change came (a device joining, a login through the API, a device leaving); ended by dropping
/// the watch (`/cancel`) or with the session.
#[tokio::test]
async fn a_host_watch_hears_joins_logins_and_departures() {
    let sim = sim().await;
    let c = client(&sim).await;
    let a = mac("02:00:00:00:00:0a");
    sim.add_host(a, ip("10.5.50.10"));
    let mut watch = c.watch_hosts().await.unwrap();
    // One session's commands run in order: the listen is in place once this answers.
    let before = c.list_hosts().await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(sim.commands_run("/ip/hotspot/host/print"), 1);
    assert_eq!(sim.commands_run("/ip/hotspot/host/listen"), 1);
    let b = mac("02:00:00:00:00:0b");
    let b_id = sim.add_host(b, ip("10.5.50.11"));
    match next(&mut watch).await.unwrap() {
        HostChange::Seen(h) => {
            assert_eq!((h.id.as_str(), h.mac_address, h.address), (b_id.as_str(), b, ip("10.5.50.11")));
            assert!(!h.authorized);
        }
        other => panic!("expected the new host, got {other:?}"),
    }
    // A login changes the host's row (authorized): reported, as RouterOS reports any change.
    c.add_hotspot_user(&guest("u1", "02:00:00:00:00:0b")).await.unwrap();
    c.active_login(&ActiveLogin { user: "u1".into(), password: "pw".into(), mac_address: b, ip: ip("10.5.50.11") })
        .await
        .unwrap();
    match next(&mut watch).await.unwrap() {
        HostChange::Seen(h) => assert!(h.authorized && h.mac_address == b),
        other => panic!("expected the host logged in, got {other:?}"),
    }
    assert!(sim.remove_host(a));
    assert_eq!(next(&mut watch).await.unwrap(), HostChange::Gone(before[0].id.clone()));
    assert_eq!(sim.stats().listening, 1);
    drop(watch);
    common::eventually("the listen cancelled", || sim.stats().listening == 0 && sim.stats().cancelled == 1).await;
    // A watch ends with its session.
    let mut watch = c.watch_hosts().await.unwrap();
    c.list_hosts().await.unwrap();
    sim.kill_sessions(None);
    assert!(next(&mut watch).await.is_err());
}

/// What RouterOS sends, read as it comes: its manual's `.dead=yes`, 7.23's `.dead=true`.
#[test]
fn host_listen_rows_parse_as_routeros_writes_them() {
    let row = |pairs: &[(&str, &str)]| -> Attrs { pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
    for dead in ["yes", "true"] {
        assert_eq!(
            HostChange::from_row(&row(&[(".id", "*68"), (".dead", dead)])).unwrap(),
            HostChange::Gone("*68".parse().unwrap())
        );
    }
    let seen = HostChange::from_row(&row(&[
        (".id", "*6A"),
        ("mac-address", "02:00:00:00:00:0A"),
        ("address", "10.5.50.10"),
        ("to-address", "10.5.50.10"),
        ("server", "hotspot1"),
        ("authorized", "false"),
        ("bypassed", "false"),
    ]))
    .unwrap();
    assert!(matches!(seen, HostChange::Seen(h) if h.address == ip("10.5.50.10")));
    // A row that names an entry but cannot be read: the entry is not trusted any more.
    assert_eq!(
        HostChange::from_row(&row(&[(".id", "*6B"), ("address", "not-an-ip")])).unwrap(),
        HostChange::Gone("*6B".parse().unwrap())
    );
    assert!(HostChange::from_row(&row(&[("address", "10.5.50.10")])).is_err());
}
