//! The agent against the RouterOS simulator and moto SQS: jobs end to end, duplicates, bad
//! signatures, RouterOS outages, expiry with the cloud unreachable, and every job type.

mod common;

use std::time::Duration;

use common::{Rig, now, package, wait_for, wait_until};
use hotspot_agent::jobs::{Disposition, JobHandler};
use hotspot_agent::journal::JobState;
use hotspot_agent::router::naming::username_for;
use hotspot_agent::workers::{Expirer, JobConsumer, Maintenance, Reporter, SessionWatch, Worker};
use hotspot_core::wire::{Extend, PackagesSync, Payload, PaymentFailed, PaymentFailure, Revoke, VouchersBatch};
use hotspot_core::{MacAddr, MessageId, RouterKey};
use tokio::sync::watch;

fn mac() -> MacAddr {
    "DA:A1:19:00:00:01".parse().unwrap()
}

const IP: &str = "10.5.50.23";

#[tokio::test]
async fn a_grant_puts_the_guest_online_and_is_reported() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    rig.send(&body, pid.as_str()).await;
    let agent = rig.agent().await;
    let (tx, rx) = watch::channel(false);
    let consumer = tokio::spawn({
        let a = agent.clone();
        async move { JobConsumer::new(a).run(rx).await }
    });
    let id = MessageId::derived("grant", &pid);
    wait_until("grant applied", || agent.journal.job_state(&id).ok().flatten() == Some(JobState::Applied)).await;
    let st = rig.sim.state();
    let user = st.user(&username_for(&pid)).expect("hotspot user created");
    assert_eq!(user.mac_address, Some(mac()), "bound to the guest's MAC");
    assert_eq!(user.profile, "hs-1h");
    assert_eq!(user.limit_uptime.map(|d| d.secs()), Some(3600));
    assert_eq!(st.profile("hs-1h").unwrap().attrs.get("rate-limit").map(String::as_str), Some("2M/5M"));
    let session = st.session_of(mac()).expect("the guest is online without typing anything");
    assert_eq!(session.user, username_for(&pid));
    wait_for("message deleted", || async { rig.queue_depth().await == (0, 0) }).await;
    tx.send(true).unwrap();
    consumer.await.unwrap();
    assert_eq!(rig.queue_depth().await, (0, 0), "SQS message deleted after the outcome was journaled");
    Reporter::new(agent.clone()).flush_outbox().await.unwrap();
    let events = rig.events().await;
    assert!(
        matches!(&events[..], [Payload::Applied(a)] if a.purchase_id.as_ref() == Some(&pid) && a.online),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_duplicated_job_has_no_second_effect() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    let agent = rig.agent().await;
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&body).await, Disposition::Delete);
    let before = rig.sim.state();
    // Redelivered, and also sent again under another deduplication id.
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&body).await, Disposition::Delete);
    rig.send(&body, "another-dedup-id").await;
    let (tx, rx) = watch::channel(false);
    let a = agent.clone();
    let c = tokio::spawn(async move { JobConsumer::new(a).run(rx).await });
    wait_for("queue drained", || async { rig.queue_depth().await == (0, 0) }).await;
    tx.send(true).unwrap();
    c.await.unwrap();
    let after = rig.sim.state();
    assert_eq!(after.users.len(), 1);
    assert_eq!(after.users, before.users, "the router is untouched by the duplicates");
    assert_eq!(after.active.len(), 1);
    Reporter::new(agent.clone()).flush_outbox().await.unwrap();
    let applied = rig.events().await.into_iter().filter(|e| matches!(e, Payload::Applied(_))).count();
    assert_eq!(applied, 1, "one report");
    assert_eq!(agent.journal.job_state(&MessageId::derived("grant", &pid)).unwrap(), Some(JobState::Applied));
}

#[tokio::test]
async fn a_badly_signed_job_is_rejected_reported_and_deleted() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let (_, good) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    // The cloud's own job, with its expiry tampered with on the way.
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
    v["body"]["expires_at"] = serde_json::json!(now() + 365 * 86_400);
    let agent = rig.agent().await;
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&v.to_string()).await, Disposition::Delete);
    // Signed with another router's key.
    let other = hotspot_core::wire::Envelope::new(
        MessageId::generate(),
        rig.router_id.clone(),
        now(),
        60,
        Payload::Revoke(Revoke { purchase_id: hotspot_core::PurchaseId::generate(), reason: "x".into() }),
    )
    .sign(&RouterKey::generate());
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&other).await, Disposition::Delete);
    assert_eq!(JobHandler::new(agent.clone()).handle_message("not even json").await, Disposition::Delete);
    assert!(rig.sim.state().users.is_empty(), "nothing applied");
    Reporter::new(agent.clone()).flush_outbox().await.unwrap();
    let events = rig.events().await;
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events.iter().all(|e| matches!(e, Payload::ApplyFailed(f) if f.rejected)), "{events:?}");
}

/// A router away longer than a job lives gets the job stale: refused, it must not block the
/// copy the cloud signs afresh under the same id (issue 15.1), and it asks for that copy.
#[tokio::test]
async fn a_stale_copy_never_blocks_a_fresh_one_with_the_same_id() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let pid = hotspot_core::PurchaseId::generate();
    let id = MessageId::derived("grant", &pid);
    let grant = Payload::Grant(hotspot_core::wire::Grant {
        purchase_id: pid.clone(),
        mac: mac(),
        ip: Some(IP.parse().unwrap()),
        package: package("hotspot_user"),
        expires_at: now() + 6 * 86_400,
        source: hotspot_core::wire::GrantSource::Mpesa { receipt: "NLJ7RT61SV".into() },
        phone: None,
    });
    // Signed when the guest paid, 25 h ago; jobs live 24 h.
    let stale = hotspot_core::wire::Envelope::new(
        id.clone(),
        rig.router_id.clone(),
        now() - 25 * 3600,
        24 * 3600,
        grant.clone(),
    )
    .sign(&rig.key);
    let agent = rig.agent().await;
    let jobs = JobHandler::new(agent.clone());
    assert_eq!(jobs.handle_message(&stale).await, Disposition::Delete);
    assert_eq!(agent.journal.job_state(&id).unwrap(), Some(JobState::Rejected));
    assert!(rig.sim.state().users.is_empty(), "a stale job applies nothing");
    tokio::time::timeout(Duration::from_secs(1), agent.converge_wake.notified())
        .await
        .expect("a stale job makes the agent ask for what it is owed");
    // The cloud's fresh copy, same id.
    let fresh = rig.sign(id.clone(), grant);
    assert_eq!(jobs.handle_message(&fresh).await, Disposition::Delete);
    assert_eq!(agent.journal.job_state(&id).unwrap(), Some(JobState::Applied));
    assert!(rig.sim.state().session_of(mac()).is_some(), "the guest is online");
    // Any later copy, stale or fresh, is a duplicate now: nothing twice, no regression.
    assert_eq!(jobs.handle_message(&stale).await, Disposition::Delete);
    assert_eq!(jobs.handle_message(&fresh).await, Disposition::Delete);
    assert_eq!(agent.journal.job_state(&id).unwrap(), Some(JobState::Applied));
    assert_eq!(rig.sim.state().users.len(), 1);
    Reporter::new(agent.clone()).flush_outbox().await.unwrap();
    let events = rig.events().await;
    let applied = events.iter().filter(|e| matches!(e, Payload::Applied(a) if a.online)).count();
    let refused = events.iter().filter(|e| matches!(e, Payload::ApplyFailed(f) if f.rejected)).count();
    assert_eq!((applied, refused), (1, 1), "{events:?}");
}

#[tokio::test]
async fn jobs_wait_in_the_journal_while_routeros_is_down() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let agent = rig.agent().await;
    // RouterOS goes away: every connection is cut and logins are refused.
    rig.sim.update_faults(|f| f.reject_logins = true);
    rig.sim.kill_sessions(None);
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    assert_eq!(
        JobHandler::new(agent.clone()).handle_message(&body).await,
        Disposition::Keep,
        "not applied: the message stays"
    );
    assert_eq!(agent.journal.jobs_waiting().unwrap(), 1);
    assert_eq!(JobHandler::new(agent.clone()).retry_unfinished().await, 0);
    assert!(rig.sim.state().users.is_empty());
    // RouterOS comes back.
    rig.sim.update_faults(|f| f.reject_logins = false);
    let id = MessageId::derived("grant", &pid);
    for _ in 0..100 {
        if JobHandler::new(agent.clone()).retry_unfinished().await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(agent.journal.job_state(&id).unwrap(), Some(JobState::Applied));
    assert!(rig.sim.state().session_of(mac()).is_some(), "guest online once the router is back");
    // The redelivered message is then just acknowledged.
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&body).await, Disposition::Delete);
    assert_eq!(rig.sim.state().users.len(), 1);
}

#[tokio::test]
async fn expiry_is_on_time_with_the_cloud_unreachable() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    // SQS (the cloud) unreachable: an endpoint where nothing listens.
    let dead = aws_sdk_sqs::Client::new(
        &testkit::sdk_config(&format!("http://127.0.0.1:{}", testkit::free_port().unwrap())).await,
    );
    let agent = rig.agent_with_sqs(dead).await;
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 2, "hotspot_user");
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&body).await, Disposition::Delete);
    let expires_at = agent.journal.grant(&pid).unwrap().unwrap().expires_at;
    assert!(rig.sim.state().session_of(mac()).is_some());
    let (tx, rx) = watch::channel(false);
    let a = agent.clone();
    let task = tokio::spawn(async move { Expirer::new(a).run(rx).await });
    wait_until("user removed and session kicked", || {
        let st = rig.sim.state();
        st.users.is_empty() && st.session_of(mac()).is_none()
    })
    .await;
    let late = now() - expires_at;
    tx.send(true).unwrap();
    task.await.unwrap();
    assert!((0..=3).contains(&late), "expired {late} s after expires_at");
    assert!(
        Reporter::new(agent.clone()).flush_outbox().await.is_err(),
        "and indeed the cloud was unreachable throughout"
    );
}

#[tokio::test]
async fn revoke_extend_payment_failed_packages_and_vouchers() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let agent = rig.agent().await;
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    JobHandler::new(agent.clone()).handle_message(&body).await;
    // Extend moves the journal's expiry.
    let ext = rig.sign(
        MessageId::derived("extend", &pid),
        Payload::Extend(Extend { purchase_id: pid.clone(), expires_at: now() + 7200 }),
    );
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&ext).await, Disposition::Delete);
    assert!(agent.journal.grant(&pid).unwrap().unwrap().expires_at > now() + 7000);
    // Revoke removes the user and kicks the session, idempotently.
    let rv = rig.sign(
        MessageId::derived("revoke", &pid),
        Payload::Revoke(Revoke { purchase_id: pid.clone(), reason: "expired".into() }),
    );
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&rv).await, Disposition::Delete);
    let st = rig.sim.state();
    assert!(st.users.is_empty() && st.active.is_empty());
    let rv2 =
        rig.sign(MessageId::generate(), Payload::Revoke(Revoke { purchase_id: pid.clone(), reason: "again".into() }));
    assert_eq!(JobHandler::new(agent.clone()).handle_message(&rv2).await, Disposition::Delete);
    // A payment failure is kept for the waiting page.
    let other = hotspot_core::PurchaseId::generate();
    let pf = rig.sign(
        MessageId::derived("payment_failed", &other),
        Payload::PaymentFailed(PaymentFailed {
            purchase_id: other.clone(),
            reason: PaymentFailure::Cancelled,
            code: Some("1032".into()),
        }),
    );
    JobHandler::new(agent.clone()).handle_message(&pf).await;
    assert_eq!(agent.journal.payment_failure(&other).unwrap(), Some(PaymentFailure::Cancelled));
    // Packages sync: the portal's list, and profiles ready on the router.
    let ps = rig.sign(
        MessageId::generate(),
        Payload::PackagesSync(PackagesSync { packages: vec![package("hotspot_user")], wallets: vec![], country: None }),
    );
    JobHandler::new(agent.clone()).handle_message(&ps).await;
    assert_eq!(agent.journal.packages().unwrap().len(), 1);
    // Vouchers become hotspot users that work with the cloud away.
    let code: hotspot_core::VoucherCode = "ABCD2345".parse().unwrap();
    let vb = rig.sign(
        MessageId::generate(),
        Payload::VouchersBatch(VouchersBatch {
            batch_id: "b1".into(),
            package: package("hotspot_user"),
            codes: vec![code.clone()],
        }),
    );
    JobHandler::new(agent.clone()).handle_message(&vb).await;
    assert!(rig.sim.state().user("ABCD2345").is_some());
}

#[tokio::test]
async fn a_bypass_package_uses_an_ip_binding_and_revoke_removes_it() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let agent = rig.agent().await;
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "bypass");
    JobHandler::new(agent.clone()).handle_message(&body).await;
    let st = rig.sim.state();
    assert_eq!(st.ip_bindings.len(), 1);
    assert!(st.users.is_empty());
    let rv = rig.sign(MessageId::generate(), Payload::Revoke(Revoke { purchase_id: pid, reason: "operator".into() }));
    JobHandler::new(agent.clone()).handle_message(&rv).await;
    assert!(rig.sim.state().ip_bindings.is_empty());
}

#[tokio::test]
async fn the_router_is_reconciled_with_the_journal() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let agent = rig.agent().await;
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    JobHandler::new(agent.clone()).handle_message(&body).await;
    // Someone deletes our user on the router; a stale user of ours lingers from an old grant.
    let client = agent.router.client();
    let u = client.find_hotspot_user(&username_for(&pid)).await.unwrap().unwrap();
    client.remove_hotspot_user(&u.id).await.unwrap();
    client
        .add_hotspot_user(&routeros::NewHotspotUser {
            name: username_for(&hotspot_core::PurchaseId::generate()),
            password: "x".into(),
            comment: Some("hotspot-agent purchase old".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        Maintenance::new(agent.clone(), Duration::from_secs(5), Duration::from_secs(300))
            .reconcile_router()
            .await
            .unwrap(),
        (1, 1)
    );
    let names: Vec<_> = rig.sim.state().users.into_iter().map(|u| u.name).collect();
    assert_eq!(names, vec![username_for(&pid)]);
}

#[tokio::test]
async fn sessions_and_heartbeats_are_reported_with_bytes() {
    let rig = Rig::start().await;
    let ip: std::net::Ipv4Addr = IP.parse().unwrap();
    rig.sim.add_host(mac(), ip);
    let agent = rig.agent().await;
    let (tx, rx) = watch::channel(false);
    let a = agent.clone();
    let watcher = tokio::spawn(async move { SessionWatch::new(a, Duration::from_millis(100)).run(rx).await });
    let (pid, body) = rig.grant(mac(), ip, 3600, "hotspot_user");
    JobHandler::new(agent.clone()).handle_message(&body).await;
    wait_until("session start journaled", || {
        agent.journal.outbox(50).unwrap().iter().any(|(_, _, p)| matches!(p, Payload::SessionStarted(_)))
    })
    .await;
    rig.sim.add_traffic(ip, 1_000_000, 25_000_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The guest leaves: the router ends the session.
    rig.sim.remove_host(mac());
    wait_until("session end journaled", || {
        agent.journal.outbox(50).unwrap().iter().any(|(_, _, p)| matches!(p, Payload::SessionEnded(_)))
    })
    .await;
    tx.send(true).unwrap();
    watcher.await.unwrap();
    Reporter::new(agent.clone()).heartbeat().await.unwrap();
    Reporter::new(agent.clone()).flush_outbox().await.unwrap();
    let events = rig.events().await;
    let started = events
        .iter()
        .find_map(|e| match e {
            Payload::SessionStarted(s) => Some(s),
            _ => None,
        })
        .expect("started");
    assert_eq!((started.purchase_id.as_ref(), started.mac, started.ip), (Some(&pid), mac(), ip));
    let ended = events
        .iter()
        .find_map(|e| match e {
            Payload::SessionEnded(s) => Some(s),
            _ => None,
        })
        .expect("ended");
    assert_eq!((ended.bytes_in, ended.bytes_out), (1_000_000, 25_000_000), "usage as the router counted it");
    let hb = events
        .iter()
        .find_map(|e| match e {
            Payload::Heartbeat(h) => Some(h),
            _ => None,
        })
        .expect("heartbeat");
    assert_eq!((hb.version.as_str(), hb.active_sessions, hb.jobs_waiting), (env!("CARGO_PKG_VERSION"), 0, 0));
}

/// A journal that cannot be read (here a grant row gone bad on flash) must not look like an
/// empty one: reconciling would then remove every paying guest. It touches nothing, and says so.
#[tokio::test]
async fn an_unreadable_journal_removes_no_one() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let agent = rig.agent().await;
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    JobHandler::new(agent.clone()).handle_message(&body).await;
    let before = rig.sim.state();
    assert!(before.user(&username_for(&pid)).is_some());
    // Another grant's row, written with a state no build of ours writes.
    let db = rusqlite::Connection::open(rig.state_dir.join("journal.sqlite3")).unwrap();
    db.execute(
        "INSERT INTO grants (purchase_id, username, password, mac, package, expires_at, state, created_at, updated_at)
         SELECT 'p000000000000000000000001', 'hs-p000000000000000000000001', password, mac, package, expires_at,
                'corrupted', created_at, updated_at FROM grants LIMIT 1",
        [],
    )
    .unwrap();
    let m = Maintenance::new(agent.clone(), Duration::from_secs(5), Duration::from_secs(300));
    let e = m.reconcile_router().await.expect_err("an unreadable journal is an error, not an empty one");
    assert!(e.to_string().contains("journal unreadable"), "{e}");
    assert_eq!(rig.sim.state().users, before.users, "the paying guest's user is still there");
    assert!(rig.sim.state().session_of(mac()).is_some(), "and still online");
}

/// A router without a battery boots at 1970 until NTP answers, and the container shares that
/// clock. Meanwhile nothing expires, no job is taken, nothing is signed; once the clock is set
/// everything goes on, and the heartbeat says how long the clock was unset.
#[tokio::test]
async fn nothing_expires_or_is_signed_while_the_clock_reads_1970() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let agent = rig.agent().await;
    let (pid, body) = rig.grant(mac(), IP.parse().unwrap(), 2, "hotspot_user");
    JobHandler::new(agent.clone()).handle_message(&body).await;
    assert!(rig.sim.state().user(&username_for(&pid)).is_some());
    // The router reboots without a clock: 1970.
    agent.clock.set_offset(300 - now());
    assert!(agent.now() < 1_000);
    let (pid2, body2) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    rig.send(&body2, pid2.as_str()).await;
    let (tx, rx) = watch::channel(false);
    let tasks = [
        tokio::spawn(Expirer::new(agent.clone()).run(rx.clone())),
        tokio::spawn(JobConsumer::new(agent.clone()).run(rx.clone())),
        tokio::spawn(Reporter::new(agent.clone()).run(rx.clone())),
    ];
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(rig.sim.state().user(&username_for(&pid)).is_some(), "not expired by a clock that cannot be believed");
    assert_eq!(agent.journal.job_state(&MessageId::derived("grant", &pid2)).unwrap(), None, "no job taken");
    assert_eq!(rig.queue_depth().await.0, 1, "the job waits in the queue");
    assert!(rig.events().await.is_empty(), "nothing signed with a 1970 date");
    // NTP answers.
    agent.clock.set_offset(0);
    wait_until("the due grant expired", || rig.sim.state().user(&username_for(&pid)).is_none()).await;
    wait_until("the waiting job applied", || {
        agent.journal.job_state(&MessageId::derived("grant", &pid2)).ok().flatten() == Some(JobState::Applied)
    })
    .await;
    let mut events = Vec::new();
    for _ in 0..100 {
        events.extend(rig.events().await);
        if events.iter().any(|e| matches!(e, Payload::Heartbeat(_))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hb = events.iter().find_map(|e| if let Payload::Heartbeat(h) = e { Some(h) } else { None }).unwrap();
    assert!(hb.clock_unset_secs >= 3, "the heartbeat says how long: {hb:?}");
    tx.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
}

/// Time does not run backwards past the journal: a clock behind the journal's newest record is
/// as unbelievable as one before the build.
#[tokio::test]
async fn a_clock_behind_the_journal_is_not_believed_either() {
    let rig = Rig::start().await;
    rig.sim.add_host(mac(), IP.parse().unwrap());
    let agent = rig.agent().await;
    let (_, body) = rig.grant(mac(), IP.parse().unwrap(), 3600, "hotspot_user");
    JobHandler::new(agent.clone()).handle_message(&body).await;
    drop(agent);
    let agent = rig.agent().await;
    assert!(agent.clock.check("test"));
    agent.clock.set_offset(-86_400);
    assert!(!agent.clock.check("test"), "a day behind what the journal already holds");
}

/// A heartbeat the queue did not take is sent again at the next report round, seconds later,
/// not a whole heartbeat interval later: a failed send must not make a healthy router look
/// offline on the fleet (180 s without a heartbeat).
#[tokio::test]
async fn a_heartbeat_not_sent_is_tried_again_at_the_next_round() {
    use hotspot_agent::workers::Shutdown;
    use testkit::link::Link;
    let rig = Rig::start().await;
    let moto: std::net::SocketAddr = rig.moto.endpoint.trim_start_matches("http://").parse().unwrap();
    let link = Link::start(moto).await.unwrap();
    let sqs = hotspot_agent::https::sqs_client(&testkit::sdk_config(&link.url()).await).unwrap();
    let agent = rig.agent_with_sqs(sqs).await;
    let (_tx, rx) = watch::channel(false);
    let mut shutdown = Shutdown::from(rx);
    let mut reporter = Reporter::new(agent);
    link.cut();
    let rest = reporter.round(&mut shutdown).await;
    assert!(rest > Duration::from_secs(2) && rest <= Duration::from_secs(60), "backing off: {rest:?}");
    link.restore();
    reporter.round(&mut shutdown).await;
    let events = rig.events().await;
    assert!(events.iter().any(|e| matches!(e, Payload::Heartbeat(_))), "sent at the next round: {events:?}");
}
