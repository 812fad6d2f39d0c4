//! Purchase, status, reconciler, expiry sweep and router events against moto and the Daraja simulator.

mod common;

use std::sync::Arc;

use common::{Cloud, Signed, daraja_config, now};
use daraja::DarajaClient;
use daraja_sim::{CallbackMode, Endpoint, Fault, Scenario};
use hotspot_cloud::store::PurchaseState;
use hotspot_core::wire::{Applied, Envelope, Heartbeat, Payload, PaymentFailure};
use hotspot_core::{MessageId, PurchaseId};
use lambdas::purchase::{PurchaseCtx, packages, purchase, status};
use lambdas::reconcile::{ReconcileConfig, reconcile};
use lambdas::token_store::DynamoTokenStore;
use serde_json::{Value, json};

const CALLBACK: &str = "http://127.0.0.1:9/cb/secret";

fn body(phone: &str, mac: &str, package: &str) -> Vec<u8> {
    json!({"mac": mac, "ip": "10.5.50.23", "package_id": package, "phone": phone}).to_string().into_bytes()
}

async fn buy(cloud: &Cloud, r: &common::TestRouter, b: &[u8]) -> (u16, Value) {
    let ctx = PurchaseCtx { settle: cloud.settle(), wallets: &cloud.daraja, callback_url: CALLBACK };
    let reply = purchase(&ctx, &r.record, b, now()).await;
    (reply.status, reply.body)
}

fn pid(v: &Value) -> PurchaseId {
    v["purchase_id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn purchase_sends_one_push_and_records_pending() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let (status, v) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "24h")).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["state"], "pending");
    let p = cloud.store.get_purchase(&pid(&v)).await.unwrap().unwrap();
    assert!(p.checkout_id.is_some());
    let pushes = cloud.sim.pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].amount, 50);
    assert_eq!(pushes[0].phone, "254712345678");
    assert_eq!(pushes[0].account_reference, "cafe-01", "the prompt names the hotspot");
    assert!(!pushes[0].callback_url.contains("mpesa"));
}

#[tokio::test]
async fn bad_purchase_requests_change_nothing() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (body("254812345678", "DA:A1:19:00:00:01", "1h"), 400, "not a mobile number in Kenya"),
        // The agent sends the number whole; a local form would leave its country to guessing.
        (body("0712345678", "DA:A1:19:00:00:01", "1h"), 400, "with its country code"),
        (body("254712345678", "FF:FF:FF:FF:FF:FF", "1h"), 400, "multicast"),
        (body("254712345678", "DA:A1:19:00:00:01", "30d"), 404, "not on sale"),
        (b"{\"mac\":".to_vec(), 400, "Invalid request"),
        (vec![b' '; 5000], 413, "over"),
        (br#"{"mac":"DA:A1:19:00:00:01","ip":"10.5.50.23","package_id":"1h"}"#.to_vec(), 400, "missing field"),
    ];
    for (b, want_status, want_msg) in cases {
        let (status, v) = buy(&cloud, &r, &b).await;
        assert_eq!(status, want_status, "{v}");
        assert!(v["message"].as_str().unwrap().contains(want_msg), "{v}");
    }
    cloud.store.retire_package(&r.record.id, &"1h".parse().unwrap(), now()).await.unwrap();
    let (status, _) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await;
    assert_eq!(status, 404, "a retired package is not sold");
    assert_eq!(cloud.purchase_count().await, 0);
    assert!(cloud.sim.pushes().is_empty());
}

/// A newer agent may send fields this cloud does not know (docs/wire-contract.md): they are
/// ignored, and none can name another router — the router is the one whose key signed.
#[tokio::test]
async fn unknown_purchase_fields_are_ignored_and_cannot_redirect() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let other = cloud.router("cafe-02").await;
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let b = format!(
        r#"{{"mac":"DA:A1:19:00:00:01","ip":"10.5.50.23","package_id":"1h","phone":"254712345678","router_id":"{}","future":{{"x":1}}}}"#,
        other.record.id
    );
    let (status, v) = buy(&cloud, &r, b.as_bytes()).await;
    assert_eq!(status, 201, "{v}");
    let p = cloud.store.get_purchase(&pid(&v)).await.unwrap().unwrap();
    assert_eq!(p.router_id, r.record.id, "the signer's router, whatever the body says");
}

#[tokio::test]
async fn rate_limits_per_phone_and_per_device() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    for _ in 0..8 {
        cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    }
    assert_eq!(buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await.0, 201);
    let (status, v) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:02", "1h")).await;
    assert_eq!(status, 429, "one push per phone per minute: {v}");
    assert!(v["retry_after"].as_i64().unwrap() > 0);
    // The same device tries many numbers: a few attempts per 10 minutes.
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(buy(&cloud, &r, &body(&format!("2547000000{i:02}"), "DA:A1:19:00:00:03", "1h")).await.0);
    }
    assert_eq!(statuses, vec![201, 201, 201, 201, 201, 429]);
    assert_eq!(cloud.sim.pushes().len(), 6);
}

async fn buy_at(cloud: &Cloud, r: &common::TestRouter, b: &[u8], at: i64) -> (u16, Value) {
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let ctx = PurchaseCtx { settle: cloud.settle(), wallets: &cloud.daraja, callback_url: CALLBACK };
    let reply = purchase(&ctx, &r.record, b, at).await;
    (reply.status, reply.body)
}

fn device(n: u32) -> String {
    format!("DA:A1:19:00:{:02X}:{:02X}", n >> 8, n & 0xff)
}

/// A stranger's number typed on other devices gets a few prompts a day, not one a minute; its
/// owner stops them by cancelling two; and the owner's own device, which paid with the number
/// before, is never shut out by either.
#[tokio::test]
async fn a_strangers_number_gets_few_prompts_and_its_owner_can_stop_them() {
    use hotspot_cloud::store::Paid;
    use hotspot_cloud::store::prompts::{PHONE_DAY_LIMIT, day_window};
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    // Early in a Nairobi day, so every step below falls in the same day.
    let t0 = day_window(now()).0 + 3600;
    let step = |i: i64| t0 + 61 * i;
    // The owner's phone paid once from their own device.
    let owner = device(1);
    let (st, v) = buy_at(&cloud, &r, &body("254712345678", &owner, "1h"), step(0)).await;
    assert_eq!(st, 201, "{v}");
    let paid = Paid {
        receipt: "RKT000OWN1".into(),
        amount: hotspot_core::currency::Money::whole_units(hotspot_core::currency::Currency::Kes, 10).unwrap(),
        paid_at: step(0),
    };
    cloud.store.mark_paid(&pid(&v), &paid).await.unwrap();
    // Strangers' devices: PHONE_DAY_LIMIT prompts, then refused for the rest of the day.
    let mut statuses = Vec::new();
    for i in 1..=PHONE_DAY_LIMIT + 2 {
        let (st, v) = buy_at(&cloud, &r, &body("254712345678", &device(100 + i as u32), "1h"), step(i)).await;
        if st == 429 {
            assert_eq!(v["error"], "phone_day_limit", "{v}");
            assert!(v["retry_after"].as_i64().unwrap() > 3600, "until the next day: {v}");
        }
        statuses.push(st);
    }
    // The owner's first purchase counted too: it came from a device not yet trusted.
    let mut want = vec![201; PHONE_DAY_LIMIT as usize - 1];
    want.extend([429, 429, 429]);
    assert_eq!(statuses, want);
    let pushes = cloud.sim.pushes().len();
    // The owner's own device still buys.
    let (st, v) = buy_at(&cloud, &r, &body("254712345678", &owner, "1h"), step(20)).await;
    assert_eq!(st, 201, "the owner is not shut out by strangers: {v}");
    assert_eq!(cloud.sim.pushes().len(), pushes + 1);

    // Another number: its owner cancels two prompts from strangers' devices.
    let mut cancelled = Vec::new();
    for i in 0..2 {
        let (st, v) = buy_at(&cloud, &r, &body("254722000111", &device(200 + i), "1h"), step(30 + i64::from(i))).await;
        assert_eq!(st, 201, "{v}");
        cancelled.push(pid(&v));
    }
    for (i, id) in cancelled.iter().enumerate() {
        cloud.store.mark_failed(id, PaymentFailure::Cancelled, Some("1032"), step(32 + i as i64)).await.unwrap();
    }
    let before = cloud.sim.pushes().len();
    let (st, v) = buy_at(&cloud, &r, &body("254722000111", &device(300), "1h"), step(40)).await;
    assert_eq!(st, 403, "{v}");
    assert_eq!(v["error"], "prompts_stopped");
    // A day later, too: the stop lasts, and no prompt went out.
    let (st, _) = buy_at(&cloud, &r, &body("254722000111", &device(301), "1h"), step(40) + 86_400).await;
    assert_eq!(st, 403);
    assert_eq!(cloud.sim.pushes().len(), before);
    // A repeat of a cancellation is not a second decline.
    cloud.store.mark_failed(&cancelled[0], PaymentFailure::Cancelled, Some("1032"), step(41)).await.unwrap();
    // Cancelling on a device that paid with the number does not count: the owner's own.
    let (st, v) = buy_at(&cloud, &r, &body("254733000222", &device(400), "1h"), step(50)).await;
    assert_eq!(st, 201);
    cloud.store.mark_paid(&pid(&v), &Paid { receipt: "RKT000OWN2".into(), ..paid.clone() }).await.unwrap();
    for i in 0..3 {
        let (st, v) = buy_at(&cloud, &r, &body("254733000222", &device(400), "1h"), step(52 + 2 * i)).await;
        assert_eq!(st, 201, "{v}");
        cloud.store.mark_failed(&pid(&v), PaymentFailure::Cancelled, Some("1032"), step(53 + 2 * i)).await.unwrap();
    }
    let (st, v) = buy_at(&cloud, &r, &body("254733000222", &device(401), "1h"), step(60)).await;
    assert_eq!(st, 201, "the owner's own cancellations stop nothing: {v}");
}

/// A router sends at most so many prompts per window, whoever asks: a flood through one
/// hotspot (new MACs, new numbers) cannot run up the operator's Daraja account.
#[tokio::test]
async fn a_router_sends_a_bounded_number_of_prompts() {
    use hotspot_cloud::store::prompts::{ROUTER_LIMIT, ROUTER_WINDOW_SECS};
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let other = cloud.router("cafe-02").await;
    let t = now();
    let t = t - t.rem_euclid(ROUTER_WINDOW_SECS) + 1;
    for _ in 0..ROUTER_LIMIT - 1 {
        cloud.store.take_router_prompt_slot(&r.record.id, t).await.unwrap();
    }
    let (st, v) = buy_at(&cloud, &r, &body("254712000001", &device(1), "1h"), t).await;
    assert_eq!(st, 201, "the last prompt of the window: {v}");
    let (st, v) = buy_at(&cloud, &r, &body("254712000002", &device(2), "1h"), t + 5).await;
    assert_eq!(st, 429, "{v}");
    assert_eq!(v["error"], "router_busy");
    assert!(v["retry_after"].as_i64().unwrap() <= ROUTER_WINDOW_SECS);
    // Another router is not affected, and the next window is open again.
    assert_eq!(buy_at(&cloud, &other, &body("254712000003", &device(3), "1h"), t + 5).await.0, 201);
    assert_eq!(buy_at(&cloud, &r, &body("254712000004", &device(4), "1h"), t + ROUTER_WINDOW_SECS).await.0, 201);
    assert_eq!(cloud.sim.pushes().len(), 3);
}

/// A disabled router's signed requests are refused with a reason its agent can show, and its
/// grants wait in the outbox (not counted as failures) until it is enabled again.
#[tokio::test]
async fn a_disabled_routers_requests_are_refused_and_its_grants_wait() {
    use hotspot_cloud::outbox::sweep_outbox;
    use hotspot_cloud::store::Paid;
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let (st, v) = buy_at(&cloud, &r, &body("254712345678", &device(1), "1h"), now()).await;
    assert_eq!(st, 201, "{v}");
    assert!(cloud.store.set_router_disabled(&r.record.id, Some(now())).await.unwrap());
    assert!(!cloud.store.set_router_disabled(&r.record.id, Some(now())).await.unwrap(), "already disabled");
    let e = Signed::new(&r.record, "GET", "/packages", b"").authenticate(&cloud.store).await.unwrap_err();
    let reply = e.reply();
    assert_eq!((reply.status, reply.body["error"].as_str()), (403, Some("router_disabled")), "{:?}", reply.body);
    // A forged request for the disabled router learns nothing more than any forgery.
    let mut forged = Signed::new(&r.record, "GET", "/packages", b"");
    forged.headers.retain(|(k, _)| k != "x-hotspot-signature");
    assert_eq!(forged.authenticate(&cloud.store).await.unwrap_err().reply().status, 401);
    // Paid meanwhile (a late callback): the grant is owed but waits.
    let paid = Paid {
        receipt: "RKT000DIS1".into(),
        amount: hotspot_core::currency::Money::whole_units(hotspot_core::currency::Currency::Kes, 10).unwrap(),
        paid_at: now(),
    };
    cloud.store.mark_paid(&pid(&v), &paid).await.unwrap();
    for _ in 0..6 {
        assert_eq!(sweep_outbox(&cloud.store, &cloud.sqs, now(), now()).await.unwrap(), 0);
    }
    assert!(cloud.drain_jobs(&r).await.is_empty());
    assert!(cloud.store.set_router_disabled(&r.record.id, None).await.unwrap());
    assert_eq!(sweep_outbox(&cloud.store, &cloud.sqs, now(), now()).await.unwrap(), 1);
    let jobs = cloud.drain_jobs(&r).await;
    assert!(matches!(jobs.as_slice(), [Payload::Grant(_)]), "{jobs:?}");
    assert!(Signed::new(&r.record, "GET", "/packages", b"").authenticate(&cloud.store).await.is_ok());
}

#[tokio::test]
async fn push_errors_become_failed_or_unknown_never_a_second_push() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    cloud.sim.inject_fault(Endpoint::StkPush, Fault::spike_arrest());
    let (status, v) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await;
    assert_eq!(status, 201);
    assert_eq!(v["state"], "failed");
    assert_eq!(v["reason"], json!(PaymentFailure::PromptFailed));
    cloud.sim.inject_fault(Endpoint::StkPush, Fault::service_unavailable());
    let (_, v) = buy(&cloud, &r, &body("254711111111", "DA:A1:19:00:00:02", "1h")).await;
    assert_eq!(v["state"], "unknown", "a 5xx may have prompted: flagged, not retried");
    assert_eq!(cloud.sim.count("/mpesa/stkpush/v1/processrequest"), 2, "exactly one attempt each");
}

#[tokio::test]
async fn routers_are_authenticated_and_kept_apart() {
    let cloud = Cloud::start().await;
    let a = cloud.router("cafe-01").await;
    let b = cloud.router("cafe-02").await;
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let (_, v) = buy(&cloud, &a, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await;
    let path = format!("/purchases/{}", v["purchase_id"].as_str().unwrap());
    // Router A reads its own purchase.
    let req = Signed::new(&a.record, "GET", &path, b"");
    let who = req.authenticate(&cloud.store).await.unwrap();
    assert_eq!(status(&cloud.store, &who, &path[11..]).await.status, 200);
    // Router B, properly signed, cannot see it.
    let req = Signed::new(&b.record, "GET", &path, b"");
    let who = req.authenticate(&cloud.store).await.unwrap();
    assert_eq!(who.id, b.record.id);
    assert_eq!(status(&cloud.store, &who, &path[11..]).await.status, 404);
    // Router B cannot pass as A: A's id with B's key fails, as do tampering and unknown routers.
    let mut forged = Signed::new(&b.record, "GET", &path, b"");
    forged.headers[0].1 = a.record.id.to_string();
    assert!(forged.authenticate(&cloud.store).await.is_err());
    let mut tampered = Signed::new(&a.record, "POST", "/purchases", b"{}");
    tampered.body = b"{\"x\":1}".to_vec();
    assert!(tampered.authenticate(&cloud.store).await.is_err());
    let mut unknown = Signed::new(&a.record, "GET", "/packages", b"");
    unknown.headers[0].1 = "nobody-here".into();
    assert_eq!(unknown.authenticate(&cloud.store).await.unwrap_err().reply().status, 401);
    // Packages on sale, for the portal.
    let list = packages(&cloud.store, &a.record).await.body;
    assert_eq!(list["packages"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn lost_callback_is_recovered_by_the_reconciler() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let (_, v) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await;
    let id = pid(&v);
    // Too young: the callback gets its minute first.
    let report = reconcile(cloud.settle(), &cloud.daraja, ReconcileConfig::default(), now()).await.unwrap();
    assert_eq!(report.queried, 0);
    let report = reconcile(cloud.settle(), &cloud.daraja, ReconcileConfig::default(), now() + 61).await.unwrap();
    assert_eq!((report.queried, report.paid, report.jobs_sent), (1, 1, 1), "{report:?}");
    assert_eq!(cloud.store.get_purchase(&id).await.unwrap().unwrap().state, PurchaseState::Paid);
    let jobs = cloud.drain_jobs(&r).await;
    assert!(matches!(&jobs[..], [Payload::Grant(g)] if g.purchase_id == id), "{jobs:?}");
    assert!(cloud.store.get_session(&id).await.unwrap().is_some());
    // Running again changes nothing.
    let again = reconcile(cloud.settle(), &cloud.daraja, ReconcileConfig::default(), now() + 120).await.unwrap();
    assert_eq!(again.queried, 0);
    assert!(cloud.drain_jobs(&r).await.is_empty());
}

#[tokio::test]
async fn reconciler_reports_failures_and_gives_up_as_unknown() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    cloud.sim.push_scenario(Scenario::failed(1032).with_callback(CallbackMode::Never));
    let (_, cancelled) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await;
    cloud.sim.push_scenario(Scenario::await_phone());
    let (_, waiting) = buy(&cloud, &r, &body("254722222222", "DA:A1:19:00:00:02", "1h")).await;
    let cfg = ReconcileConfig { max_tries: 2, ..Default::default() };
    let first = reconcile(cloud.settle(), &cloud.daraja, cfg, now() + 61).await.unwrap();
    assert_eq!((first.failed, first.still_pending), (1, 1), "{first:?}");
    let second = reconcile(cloud.settle(), &cloud.daraja, cfg, now() + 121).await.unwrap();
    assert_eq!(second.unknown, 1, "{second:?}");
    let c = cloud.store.get_purchase(&pid(&cancelled)).await.unwrap().unwrap();
    assert_eq!((c.state, c.failure), (PurchaseState::Failed, Some(PaymentFailure::Cancelled)));
    assert_eq!(cloud.store.get_purchase(&pid(&waiting)).await.unwrap().unwrap().state, PurchaseState::Unknown);
    let jobs = cloud.drain_jobs(&r).await;
    assert_eq!(jobs.len(), 1, "payment_failed for the cancelled one: {jobs:?}");
}

#[tokio::test]
async fn expiry_sweep_sends_one_revoke_per_expired_session() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let (_, v) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await;
    let id = pid(&v);
    reconcile(cloud.settle(), &cloud.daraja, ReconcileConfig::default(), now() + 61).await.unwrap();
    cloud.drain_jobs(&r).await;
    assert_eq!(lambdas::expiry::expire(&cloud.store, &cloud.sqs, now() + 1800).await.unwrap(), 0, "not yet");
    assert_eq!(lambdas::expiry::expire(&cloud.store, &cloud.sqs, now() + 3700).await.unwrap(), 1);
    assert_eq!(lambdas::expiry::expire(&cloud.store, &cloud.sqs, now() + 3800).await.unwrap(), 0, "once");
    let jobs = cloud.drain_jobs_at(&r, now() + 3700).await;
    assert!(matches!(&jobs[..], [Payload::Revoke(rv)] if rv.purchase_id == id), "{jobs:?}");
}

#[tokio::test]
async fn router_events_are_verified_and_applied_with_partial_batch_failures() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let other = cloud.router("cafe-02").await;
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let (_, v) = buy(&cloud, &r, &body("254712345678", "DA:A1:19:00:00:01", "1h")).await;
    let id = pid(&v);
    reconcile(cloud.settle(), &cloud.daraja, ReconcileConfig::default(), now() + 61).await.unwrap();
    let sign = |rec: &hotspot_cloud::store::RouterRecord, p: Payload| {
        Envelope::new(MessageId::generate(), rec.id.clone(), now(), 600, p).sign(&rec.key)
    };
    let applied_by = |rec: &hotspot_cloud::store::RouterRecord| {
        sign(
            rec,
            Payload::Applied(Applied {
                job_id: MessageId::derived("grant", &id),
                job_type: hotspot_core::wire::MessageType::Grant,
                purchase_id: Some(id.clone()),
                online: true,
                wireguard: None,
            }),
        )
    };
    let applied = applied_by(&r.record);
    let heartbeat = sign(
        &r.record,
        Payload::Heartbeat(Heartbeat {
            version: "0.1.0".into(),
            uptime_secs: 60,
            active_sessions: 1,
            ppp_sessions: 0,
            jobs_waiting: 0,
            packages: vec![],
            packages_digest: None,
            clock_unset_secs: 0,
        }),
    );
    // cafe-02 claims to be cafe-01: signed with its own key, so verification fails.
    let mut forged: Value = serde_json::from_str(&sign(
        &other.record,
        Payload::Heartbeat(Heartbeat {
            version: "evil".into(),
            uptime_secs: 1,
            active_sessions: 99,
            ppp_sessions: 0,
            jobs_waiting: 0,
            packages: vec![],
            packages_digest: None,
            clock_unset_secs: 0,
        }),
    ))
    .unwrap();
    forged["router_id"] = json!("cafe-01");
    // cafe-02, under its own key, reports cafe-01's grant as applied: it is not its purchase.
    let theirs = applied_by(&other.record);
    let failed = lambdas::events::handle_batch(&cloud.events(), &[("m0".to_string(), theirs)], now()).await;
    assert!(failed.is_empty());
    assert_eq!(cloud.store.get_purchase(&id).await.unwrap().unwrap().state, PurchaseState::Paid, "not by cafe-02");
    let batch = vec![
        ("m1".to_string(), applied),
        ("m2".to_string(), forged.to_string()),
        ("m3".to_string(), heartbeat),
        ("m4".to_string(), "not json".to_string()),
    ];
    let failed = lambdas::events::handle_batch(&cloud.events(), &batch, now()).await;
    assert_eq!(failed, vec!["m2".to_string(), "m4".to_string()]);
    assert_eq!(cloud.store.get_purchase(&id).await.unwrap().unwrap().state, PurchaseState::Active);
    let health = cloud.store.get_router_health(&r.record.id).await.unwrap().unwrap();
    assert_eq!((health.version.as_str(), health.active_sessions), ("0.1.0", 1), "the forged heartbeat changed nothing");
}

#[tokio::test]
async fn one_daraja_token_is_shared_through_dynamodb() {
    let cloud = Cloud::start().await;
    let store = Arc::new(DynamoTokenStore::new(cloud.store.clone()));
    let clients: Vec<_> =
        (0..8).map(|_| Arc::new(DarajaClient::new(daraja_config(&cloud.sim), store.clone()).unwrap())).collect();
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let c = c.clone();
            tokio::spawn(async move { c.access_token().await.map(|t| t.secret().to_string()) })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every instance uses the same token");
    assert_eq!(cloud.sim.oauth_calls(), 1, "exactly one OAuth call for eight instances");
}

/// A router whose heartbeat says it sells other packages than the store (it booted before its
/// WAN was up, or a packages_sync was lost) is sent them again, at most every ten minutes.
#[tokio::test]
async fn a_heartbeat_with_other_packages_brings_a_packages_sync() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let on_sale = cloud.store.list_packages(&r.record.id).await.unwrap();
    let on_sale: Vec<_> = on_sale.into_iter().filter(|p| p.on_sale).map(|p| p.package).collect();
    assert!(!on_sale.is_empty());
    let heartbeat = |digest: String, at: i64| {
        let body = Envelope::new(
            MessageId::generate(),
            r.record.id.clone(),
            at,
            3600,
            Payload::Heartbeat(Heartbeat {
                version: "0.1.0".into(),
                uptime_secs: 5,
                active_sessions: 0,
                ppp_sessions: 0,
                jobs_waiting: 0,
                packages: vec![],
                packages_digest: Some(digest),
                clock_unset_secs: 0,
            }),
        )
        .sign(&r.record.key);
        vec![("m1".to_string(), body)]
    };
    let same = hotspot_core::package::digest(&on_sale);
    let empty = hotspot_core::package::digest(&[]);
    assert!(lambdas::events::handle_batch(&cloud.events(), &heartbeat(same, now()), now()).await.is_empty());
    assert!(cloud.drain_jobs(&r).await.is_empty(), "the same packages: nothing to send");
    for _ in 0..2 {
        let failed = lambdas::events::handle_batch(&cloud.events(), &heartbeat(empty.clone(), now()), now()).await;
        assert!(failed.is_empty());
    }
    let jobs = cloud.drain_jobs(&r).await;
    assert!(matches!(&jobs[..], [Payload::PackagesSync(s)] if s.packages == on_sale), "once: {jobs:?}");
    let later = now() + 601;
    lambdas::events::handle_batch(&cloud.events(), &heartbeat(empty, later), later).await;
    assert_eq!(cloud.drain_jobs_at(&r, later).await.len(), 1, "again after ten minutes");
}

/// `router rotate`: while the router has not switched, the cloud takes its signatures under
/// either key and still signs its jobs with the old one; its first report under the new key
/// makes the new key its only key, deletes the old access key and says so in the audit log.
#[tokio::test]
async fn a_rotated_router_is_refused_its_old_key_once_it_reports_under_the_new_one() {
    use hotspot_cloud::store::{Rotation, RouterRecord};
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let user = "hotspot-router-cafe-01";
    cloud.iam.create_user().user_name(user).path("/hotspot/").send().await.unwrap();
    let key_id = |o: aws_sdk_iam::operation::create_access_key::CreateAccessKeyOutput| {
        o.access_key.map(|k| k.access_key_id).unwrap()
    };
    let old_id = key_id(cloud.iam.create_access_key().user_name(user).send().await.unwrap());
    let new_id = key_id(cloud.iam.create_access_key().user_name(user).send().await.unwrap());
    let rot = Rotation {
        key: hotspot_core::RouterKey::generate(),
        started_at: now(),
        access_key_id: new_id.clone(),
        old_access_key_id: Some(old_id.clone()),
    };
    assert!(cloud.store.begin_rotation(&r.record.id, &rot, None).await.unwrap());
    assert!(!cloud.store.begin_rotation(&r.record.id, &rot, None).await.unwrap(), "one rotation at a time");
    let under = |key: &hotspot_core::RouterKey| RouterRecord { key: key.clone(), ..r.record.clone() };
    let (old, new) = (r.record.clone(), under(&rot.key));
    let signed = |rec: &RouterRecord| Signed::new(rec, "GET", "/packages", b"");
    assert!(signed(&old).authenticate(&cloud.store).await.is_ok(), "old key, before the switch");
    assert!(signed(&new).authenticate(&cloud.store).await.is_ok(), "new key, before the switch");

    let heartbeat = |rec: &RouterRecord| {
        let p = Payload::Heartbeat(Heartbeat {
            version: "0.1.0".into(),
            uptime_secs: 5,
            active_sessions: 0,
            ppp_sessions: 0,
            jobs_waiting: 0,
            packages: vec![],
            packages_digest: None,
            clock_unset_secs: 0,
        });
        Envelope::new(MessageId::generate(), rec.id.clone(), now(), 600, p).sign(&rec.key)
    };
    let ev = cloud.events();
    assert!(lambdas::events::handle_batch(&ev, &[("m1".into(), heartbeat(&old))], now()).await.is_empty());
    let still = cloud.store.get_router(&r.record.id).await.unwrap().unwrap();
    assert_eq!((still.key.clone(), still.rotation.is_some()), (old.key.clone(), true), "no switch yet");
    // Jobs still go out under the old key: the router holds only that one.
    hotspot_cloud::jobs::sync_packages(&cloud.store, &cloud.sqs, &still, now()).await.unwrap();
    assert!(!cloud.drain_jobs(&r).await.is_empty(), "a job verifiable with the old key");

    // The first report under the new key switches it.
    assert!(lambdas::events::handle_batch(&ev, &[("m2".into(), heartbeat(&new))], now()).await.is_empty());
    let after = cloud.store.get_router(&r.record.id).await.unwrap().unwrap();
    assert_eq!(after.key, rot.key);
    assert!(after.rotation.is_none() && after.retiring_access_key.is_none(), "{after:?}");
    let keys = cloud.iam.list_access_keys().user_name(user).send().await.unwrap().access_key_metadata;
    let ids: Vec<String> = keys.into_iter().filter_map(|k| k.access_key_id).collect();
    assert_eq!(ids, vec![new_id], "the old access key is deleted");
    let audit = cloud.store.list_audit(now() - 60, now() + 60, None).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "router rotate" && a.detail.contains(&old_id)), "{audit:?}");

    // From now on the old key is dead, for requests and for reports.
    assert!(signed(&old).authenticate(&cloud.store).await.is_err(), "old key refused");
    assert!(signed(&new).authenticate(&cloud.store).await.is_ok());
    let failed = lambdas::events::handle_batch(&ev, &[("m3".into(), heartbeat(&old))], now()).await;
    assert_eq!(failed, vec!["m3".to_string()], "a report under the old key is rejected");
    // The functions sign with the record as stored: the new key.
    hotspot_cloud::jobs::sync_packages(&cloud.store, &cloud.sqs, &after, now()).await.unwrap();
    let bodies = cloud.moto.drain(&r.record.queue_url).await.unwrap();
    assert!(!bodies.is_empty());
    for b in &bodies {
        let v =
            |k| Envelope::verify(b.as_bytes(), k, &r.record.id, now(), hotspot_core::wire::Direction::CloudToRouter);
        assert!(v(&rot.key).is_ok() && v(&old.key).is_err(), "jobs under the new key only");
    }
}
