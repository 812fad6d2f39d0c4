//! The money path under Daraja's real misbehaviour, against moto and the Daraja simulator: a push
//! that times out with its callback arriving later; Daraja answering 503 for ten minutes with the
//! callback lost; a reconcile run killed while it held its lease; a waiting guest whose status
//! read asks Daraja. Each ends with the ledger clean: every receipt, one purchase, one grant.

mod common;

use std::time::Duration;

use common::{Cloud, now};
use daraja_sim::{CallbackMode, Endpoint, Fault, Scenario};
use hotspot_cloud::ledger;
use hotspot_cloud::store::PurchaseState;
use hotspot_core::PurchaseId;
use hotspot_core::wire::Payload;
use lambdas::callback::{CallbackCtx, CallbackReply, handle};
use lambdas::purchase::{PurchaseCtx, purchase, purchase_within, push_budget, status_asking};
use lambdas::reconcile::{ReconcileConfig, UNMATCHED_GRACE_SECS, reconcile};
use lambdas::runtime::remaining_until;
use serde_json::{Value, json};

const CALLBACK: &str = "http://127.0.0.1:9/cb/secret";
const SECRET: &str = "s3cr3t-path-0123456789abcdef";

fn body(phone: &str, mac: &str, package: &str) -> Vec<u8> {
    json!({"mac": mac, "ip": "10.5.50.23", "package_id": package, "phone": phone}).to_string().into_bytes()
}

fn ctx(cloud: &Cloud) -> PurchaseCtx<'_, daraja::DarajaClient<daraja::MemoryTokenStore>> {
    PurchaseCtx { settle: cloud.settle(), wallets: &cloud.daraja, callback_url: CALLBACK }
}

fn pid(v: &Value) -> PurchaseId {
    v["purchase_id"].as_str().unwrap().parse().unwrap()
}

/// A paid callback as Daraja sends it (docs' sample shape), for `phone` and `amount`.
fn paid_callback(checkout: &str, receipt: &str, amount: u32, phone: &str) -> Vec<u8> {
    format!(
        r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"{checkout}","ResultCode":0,"ResultDesc":"The service request is processed successfully.","CallbackMetadata":{{"Item":[{{"Name":"Amount","Value":{amount}.00}},{{"Name":"MpesaReceiptNumber","Value":"{receipt}"}},{{"Name":"TransactionDate","Value":20261202102115}},{{"Name":"PhoneNumber","Value":{phone}}}]}}}}}}}}"#
    )
    .into_bytes()
}

async fn callback(cloud: &Cloud, body: &[u8], at: i64) -> CallbackReply {
    let ctx = CallbackCtx { settle: cloud.settle(), secret: SECRET };
    handle(&ctx, hotspot_core::wallet::Wallet::Mpesa, SECRET, Some("196.201.214.200".parse().unwrap()), body, at).await
}

/// A purchase paid on the phone whose callback Daraja never sends.
async fn paid_without_callback(cloud: &Cloud) -> (common::TestRouter, PurchaseId, i64) {
    let r = cloud.router("cafe-01").await;
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let t0 = now();
    let reply = purchase(&ctx(cloud), &r.record, &body("254712345678", "DA:A1:19:00:00:01", "1h"), t0).await;
    (r, pid(&reply.body), t0)
}

/// The router applied its grants (the agent's `applied` report), then the ledger of the day.
async fn settled_ledger(cloud: &Cloud, ids: &[&PurchaseId], at: i64) -> ledger::Ledger {
    for id in ids {
        let router = cloud.store.get_purchase(id).await.unwrap().unwrap().router_id;
        cloud.store.mark_active(id, &router, at).await.unwrap();
    }
    ledger::load(&cloud.store, at - 86_400, at + 86_400, at).await.unwrap()
}

#[test]
fn the_push_is_budgeted_from_the_time_the_invocation_has_left() {
    assert_eq!(push_budget(None), Some(Duration::from_secs(15)), "no deadline: the push's own maximum");
    assert_eq!(push_budget(Some(Duration::from_secs(25))), Some(Duration::from_secs(15)));
    assert_eq!(push_budget(Some(Duration::from_secs(10))), Some(Duration::from_secs(6)), "4 s kept to record it");
    assert_eq!(push_budget(Some(Duration::from_secs(6))), None, "too little left: not pushed at all");
    // The deadline as the runtime gives it: none (0) or one already past (`cargo lambda watch`)
    // is not known, never "no time left".
    let now_ms = (now() * 1000) as u64;
    assert_eq!(remaining_until(0), None);
    assert_eq!(remaining_until(now_ms - 5_000), None);
    let left = remaining_until(now_ms + 20_000).expect("a future deadline");
    assert!(left > Duration::from_secs(18) && left <= Duration::from_secs(21), "{left:?}");
}

/// The push's reply never came within the budget (the prompt went out all the same), so no
/// CheckoutRequestID was stored and the purchase is `unknown`. The callback that comes later
/// names a CheckoutRequestID nobody linked; it is matched by phone and price to that purchase,
/// which is paid and granted once. Before: kept under `CHECKOUT#`, a warning, the guest unserved.
#[tokio::test]
async fn a_push_that_times_out_is_matched_to_its_callback_by_phone_and_price() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let t0 = now();
    // The same phone's earlier unknown purchase, of another price, must not be taken.
    cloud.sim.inject_fault(Endpoint::StkPush, Fault::delay(Duration::from_secs(6)));
    let other = purchase_within(
        &ctx(&cloud),
        &r.record,
        &body("254712345678", "DA:A1:19:00:00:02", "24h"),
        Some(Duration::from_secs(8)),
        t0 - 120,
    )
    .await;
    let other = pid(&other.body);
    cloud.sim.inject_fault(Endpoint::StkPush, Fault::delay(Duration::from_secs(6)));
    let reply = purchase_within(
        &ctx(&cloud),
        &r.record,
        &body("254712345678", "DA:A1:19:00:00:01", "1h"),
        Some(Duration::from_secs(8)),
        t0,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = pid(&reply.body);
    let p = cloud.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!((p.state, p.checkout_id.as_deref()), (PurchaseState::Unknown, None), "cut off at its budget");

    let reply = callback(&cloud, &paid_callback("ws_CO_never_linked", "TLA1B2C3D4", 10, "254712345678"), t0 + 40).await;
    assert_eq!(reply, CallbackReply::Accepted);
    let p = cloud.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!(p.state, PurchaseState::Paid);
    assert_eq!((p.receipt.as_deref(), p.checkout_id.as_deref()), (Some("TLA1B2C3D4"), Some("ws_CO_never_linked")));
    assert_eq!(cloud.store.get_purchase(&other).await.unwrap().unwrap().state, PurchaseState::Unknown);
    let jobs = cloud.drain_jobs(&r).await;
    assert!(matches!(&jobs[..], [Payload::Grant(g)] if g.purchase_id == id), "one grant: {jobs:?}");
    // Daraja repeats the callback: nothing more.
    let reply = callback(&cloud, &paid_callback("ws_CO_never_linked", "TLA1B2C3D4", 10, "254712345678"), t0 + 45).await;
    assert_eq!(reply, CallbackReply::Accepted);
    assert!(cloud.drain_jobs(&r).await.is_empty());

    let l = settled_ledger(&cloud, &[&id], t0 + 60).await;
    assert!(l.is_settled(), "{l:#?}");
    assert_eq!(l.matched.len(), 1);
}

/// A payment matching no purchase (or two) is kept as an unmatched receipt: after a grace the
/// reconciler tries once more, then shows it to the operator (alarm), and the ledger lists it.
#[tokio::test]
async fn a_payment_nobody_can_claim_is_held_for_the_operator() {
    let cloud = Cloud::start().await;
    let _r = cloud.router("cafe-01").await;
    let t0 = now();
    let reply = callback(&cloud, &paid_callback("ws_CO_stranger", "TLX9Y8Z7W6", 10, "254799999999"), t0).await;
    assert_eq!(reply, CallbackReply::Accepted, "Daraja is answered; the money is kept");
    let cfg = ReconcileConfig::default();
    let early = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + 10).await.unwrap();
    assert_eq!(early.receipts_unmatched, 0, "within its grace: {early:?}");
    let later = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + UNMATCHED_GRACE_SECS + 1).await.unwrap();
    assert_eq!((later.receipts_unmatched, later.receipts_matched), (1, 0), "{later:?}");
    let again = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + UNMATCHED_GRACE_SECS + 61).await.unwrap();
    assert_eq!(again.receipts_unmatched, 0, "reported once: {again:?}");
    let l = ledger::load(&cloud.store, t0 - 60, t0 + 600, t0 + 600).await.unwrap();
    assert_eq!(l.unmatched.len(), 1, "{l:#?}");
    assert_eq!(l.unmatched[0].key, "TLX9Y8Z7W6");
    assert!(!l.is_clean());
}

/// Daraja answers 503 to every STK query for ten minutes and the callback never comes. Those
/// runs are "no answer", not tries: the purchase is neither given up (before: `unknown` after
/// its tries) nor decided wrongly; once Daraja is back the next run pays it, once.
#[tokio::test]
async fn daraja_down_for_ten_minutes_with_the_callback_lost_costs_no_tries() {
    let cloud = Cloud::start().await;
    let (r, id, t0) = paid_without_callback(&cloud).await;
    let cfg = ReconcileConfig { max_tries: 2, ..Default::default() };
    for minute in 1..=10 {
        // The client's own retries (three attempts) meet the outage too.
        for _ in 0..3 {
            cloud.sim.inject_fault(Endpoint::StkQuery, Fault::service_unavailable());
        }
        let at = t0 + 60 * minute + 1;
        let run = reconcile(cloud.settle(), &cloud.daraja, cfg, at).await.unwrap();
        assert_eq!((run.queried, run.no_answer, run.unknown, run.paid), (1, 1, 0, 0), "minute {minute}: {run:?}");
    }
    let p = cloud.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!((p.state, p.reconcile_tries), (PurchaseState::Pending, 0), "no try spent on a 503");
    assert!(cloud.drain_jobs(&r).await.is_empty());
    // Back.
    let run = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + 661 + 60).await.unwrap();
    assert_eq!((run.paid, run.jobs_sent), (1, 1), "{run:?}");
    let jobs = cloud.drain_jobs_at(&r, t0 + 721).await;
    assert!(matches!(&jobs[..], [Payload::Grant(g)] if g.purchase_id == id), "{jobs:?}");
    let run = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + 661 + 120).await.unwrap();
    assert_eq!((run.queried, run.jobs_sent), (0, 0), "{run:?}");
    let l = settled_ledger(&cloud, &[&id], t0 + 800).await;
    assert!(l.is_settled(), "{l:#?}");
    assert_eq!(l.matched[0].receipt.key, format!("query:{}", p.checkout_id.unwrap()));
}

/// Daraja refusing our credentials on the query (a changed passkey) decides nothing: no try is
/// spent (it alarms, `settle::query_unanswered`), and once fixed the payment is found.
#[tokio::test]
async fn wrong_credentials_on_the_query_spend_no_try() {
    let cloud = Cloud::start().await;
    let (r, id, t0) = paid_without_callback(&cloud).await;
    let cfg = ReconcileConfig { max_tries: 1, ..Default::default() };
    let refused = r#"{"requestId":"sim-1","errorCode":"500.001.1001","errorMessage":"Wrong credentials"}"#;
    cloud.sim.inject_fault(Endpoint::StkQuery, Fault::Respond { status: 500, body: refused.into() });
    let run = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + 61).await.unwrap();
    assert_eq!((run.queried, run.no_answer, run.unknown), (1, 1, 0), "{run:?}");
    let p = cloud.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!((p.state, p.reconcile_tries), (PurchaseState::Pending, 0));
    let run = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + 121).await.unwrap();
    assert_eq!((run.paid, run.jobs_sent), (1, 1), "{run:?}");
    assert!(matches!(&cloud.drain_jobs_at(&r, t0 + 122).await[..], [Payload::Grant(g)] if g.purchase_id == id));
    assert!(settled_ledger(&cloud, &[&id], t0 + 200).await.is_settled());
}

/// A run killed while it held the lease (its function timed out) leaves the lease to expire by
/// itself: meanwhile a second run does nothing (never two at once), afterwards one runs.
#[tokio::test]
async fn a_killed_reconcile_run_never_overlaps_and_never_stops_the_next() {
    let cloud = Cloud::start().await;
    let (r, id, t0) = paid_without_callback(&cloud).await;
    let cfg = ReconcileConfig::default();
    let held_until = t0 + 61 + cfg.deadline_secs as i64 + cfg.query_timeout_secs as i64 + 5;
    // The dead run: it took the lease and never released it.
    assert!(cloud.store.try_lease("reconcile", "killed-run", t0 + 61, held_until).await.unwrap());
    let during = reconcile(cloud.settle(), &cloud.daraja, cfg, t0 + 62).await.unwrap();
    assert!(during.skipped && during.queried == 0, "{during:?}");
    let after = reconcile(cloud.settle(), &cloud.daraja, cfg, held_until + 1).await.unwrap();
    assert!(!after.skipped && after.paid == 1, "{after:?}");
    // And it released its own lease: the next minute runs.
    let next = reconcile(cloud.settle(), &cloud.daraja, cfg, held_until + 2).await.unwrap();
    assert!(!next.skipped, "{next:?}");
    assert_eq!(cloud.drain_jobs(&r).await.len(), 1);
    assert!(settled_ledger(&cloud, &[&id], held_until + 10).await.is_settled());
}

/// The guest's waiting page reads the purchase every second or two: past 15 s without a
/// callback that read asks Daraja itself (at most every 10 s), so a lost callback costs seconds,
/// not the reconciler's minutes.
#[tokio::test]
async fn a_waiting_guest_status_read_asks_daraja_about_a_lost_callback() {
    let cloud = Cloud::start().await;
    let (r, id, t0) = paid_without_callback(&cloud).await;
    let queries = || cloud.sim.count("/mpesa/stkpushquery/v1/query");
    let read = |at: i64| {
        let ctx = ctx(&cloud);
        let id = id.to_string();
        let router = r.record.clone();
        async move { status_asking(&ctx, &router, &id, at).await.body }
    };
    assert_eq!(read(t0 + 5).await["state"], "pending");
    assert_eq!(queries(), 0, "young: the callback gets its chance");
    // Daraja still processing at first: asked, still pending, and not again within 10 s.
    cloud.sim.inject_fault(
        Endpoint::StkQuery,
        Fault::Respond {
            status: 500,
            body: r#"{"requestId":"1","errorCode":"500.001.1001","errorMessage":"The transaction is being processed"}"#
                .into(),
        },
    );
    assert_eq!(read(t0 + 16).await["state"], "pending");
    assert_eq!(read(t0 + 18).await["state"], "pending");
    assert_eq!(queries(), 1, "at most one query per 10 s per purchase");
    assert_eq!(read(t0 + 27).await["state"], "paid");
    assert_eq!(queries(), 2);
    let jobs = cloud.drain_jobs(&r).await;
    assert!(matches!(&jobs[..], [Payload::Grant(g)] if g.purchase_id == id), "{jobs:?}");
    assert_eq!(read(t0 + 40).await["state"], "paid");
    assert_eq!(queries(), 2, "decided: never asked again");
    assert!(settled_ledger(&cloud, &[&id], t0 + 60).await.is_settled());
}
