//! The purchase state machine against DynamoDB (moto): conditional writes under races.

use hotspot_cloud::jobs::send_job;
use hotspot_cloud::store::{
    Claim, NewPurchase, Paid, PurchaseState, ReceiptRecord, ReceiptSource, RouterRecord, Store, StoreError, schema,
};
use hotspot_core::wire::{Direction, Envelope, Payload, PaymentFailure};
use hotspot_core::{MessageId, Package, PurchaseId, RouterId, RouterKey};
use serde_json::json;
use testkit::Moto;

fn kes(units: u64) -> hotspot_core::currency::Money {
    hotspot_core::currency::Money::whole_units(hotspot_core::currency::Currency::Kes, units).expect("a KES amount")
}

const NOW: i64 = 1_790_000_000;

async fn setup() -> (Moto, Store) {
    let moto = Moto::start().await.expect("moto");
    schema::create_table(&moto.dynamodb(), "hotspot").await.unwrap();
    let store = Store::new(moto.dynamodb(), "hotspot");
    (moto, store)
}

fn package(price: u32) -> Package {
    serde_json::from_value(json!({
        "id": "1h", "name": "1 hour", "price": price, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
    }))
    .unwrap()
}

fn new_purchase(created_at: i64) -> NewPurchase {
    NewPurchase {
        id: PurchaseId::generate(),
        router_id: "cafe-01".parse().unwrap(),
        package: package(10),
        mac: "DA:A1:19:00:00:01".parse().unwrap(),
        ip: Some("10.5.50.23".parse().unwrap()),
        phone: "254712345678".parse().unwrap(),
        wallet: hotspot_core::wallet::Wallet::Mpesa,
        created_at,
    }
}

fn paid(amount: u32) -> Paid {
    Paid { receipt: "TKL3ABCDEF".into(), amount: kes(amount as u64), paid_at: NOW + 30 }
}

async fn session_count(moto: &Moto) -> usize {
    let out = moto.dynamodb().scan().table_name("hotspot").send().await.unwrap();
    out.items
        .unwrap_or_default()
        .iter()
        .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("SESSION#")))
        .count()
}

#[tokio::test]
async fn create_is_conditional_and_round_trips() {
    let (_moto, store) = setup().await;
    let np = new_purchase(NOW);
    let p = store.create_purchase(&np).await.unwrap();
    assert_eq!(p.state, PurchaseState::Pending);
    assert_eq!(p.phone.e164(), "254712345678");
    assert_eq!(p.package, np.package);
    assert!(matches!(store.create_purchase(&np).await, Err(StoreError::AlreadyExists(_))));
    assert_eq!(store.link_checkout(&np.id, "ws_CO_1", NOW).await.unwrap(), None, "no callback yet");
    assert_eq!(store.purchase_for_checkout("ws_CO_1").await.unwrap().unwrap().id, np.id);
    assert!(store.purchase_for_checkout("ws_CO_unknown").await.unwrap().is_none());
    assert!(store.link_checkout(&np.id, "ws_CO_2", NOW).await.is_err(), "checkout id is set once");
    // The callback, coming second, finds its purchase.
    assert_eq!(store.record_callback("ws_CO_1", "{\"first\":1}", NOW).await.unwrap(), Some(np.id.clone()));
}

#[tokio::test]
async fn a_callback_that_beats_the_link_is_handed_to_the_purchase_function() {
    let (_moto, store) = setup().await;
    let np = new_purchase(NOW);
    store.create_purchase(&np).await.unwrap();
    assert_eq!(store.record_callback("ws_CO_early", "{\"first\":1}", NOW).await.unwrap(), None, "not linked yet");
    // A repeat keeps the first body.
    assert_eq!(store.record_callback("ws_CO_early", "{\"second\":2}", NOW).await.unwrap(), None);
    assert_eq!(store.link_checkout(&np.id, "ws_CO_early", NOW).await.unwrap().as_deref(), Some("{\"first\":1}"));
}

#[tokio::test]
async fn concurrent_paid_transitions_yield_exactly_one() {
    let (moto, store) = setup().await;
    let np = new_purchase(NOW);
    store.create_purchase(&np).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let id = np.id.clone();
            tokio::spawn(async move { store.mark_paid(&id, &paid(10)).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for t in tasks {
        let tr = t.await.unwrap();
        assert_eq!(tr.purchase().state, PurchaseState::Paid);
        applied += tr.applied() as usize;
    }
    assert_eq!(applied, 1, "exactly one transition wins");
    assert_eq!(session_count(&moto).await, 0, "the session follows from the outbox");
    let p = store.get_purchase(&np.id).await.unwrap().unwrap();
    assert!(store.ensure_session(&p).await.unwrap());
    assert!(!store.ensure_session(&p).await.unwrap(), "idempotent");
    assert_eq!(session_count(&moto).await, 1, "exactly one session record");
    let p = store.get_purchase(&np.id).await.unwrap().unwrap();
    assert_eq!(p.expires_at, Some(NOW + 30 + 3600), "expiry is paid_at + validity");
    assert!(p.job_pending, "the grant job is in the outbox");
}

#[tokio::test]
async fn paid_is_never_downgraded() {
    let (_moto, store) = setup().await;
    let np = new_purchase(NOW);
    store.create_purchase(&np).await.unwrap();
    assert!(store.mark_paid(&np.id, &paid(10)).await.unwrap().applied());
    let f = store.mark_failed(&np.id, PaymentFailure::Cancelled, Some("1032"), NOW + 60).await.unwrap();
    assert!(!f.applied());
    assert_eq!(f.purchase().state, PurchaseState::Paid);
    assert!(!store.mark_unknown(&np.id, None, NOW + 60).await.unwrap().applied());
    assert!(!store.mark_amount_mismatch(&np.id, "TKL3ABCDEF", Some(kes(5)), NOW + 30).await.unwrap().applied());
    // Another router's report of this grant changes nothing; its own router's does.
    let other: RouterId = "cafe-02".parse().unwrap();
    let t = store.mark_active(&np.id, &other, NOW + 61).await.unwrap();
    assert!(!t.applied());
    assert_eq!(t.purchase().state, PurchaseState::Paid);
    assert!(store.mark_active(&np.id, &np.router_id, NOW + 61).await.unwrap().applied());
    assert!(!store.mark_failed(&np.id, PaymentFailure::Expired, None, NOW + 62).await.unwrap().applied());
    assert_eq!(store.get_purchase(&np.id).await.unwrap().unwrap().state, PurchaseState::Active);
}

#[tokio::test]
async fn a_receipt_after_failure_or_unknown_still_pays() {
    let (moto, store) = setup().await;
    let a = new_purchase(NOW);
    store.create_purchase(&a).await.unwrap();
    assert!(store.mark_failed(&a.id, PaymentFailure::PhoneUnreachable, Some("1037"), NOW).await.unwrap().applied());
    let t = store.mark_paid(&a.id, &paid(10)).await.unwrap();
    assert!(t.applied());
    assert_eq!((t.purchase().failure, t.purchase().failure_code.as_deref()), (None, None));
    let b = new_purchase(NOW);
    store.create_purchase(&b).await.unwrap();
    assert!(store.mark_unknown(&b.id, None, NOW).await.unwrap().applied());
    assert!(store.mark_paid(&b.id, &paid(10)).await.unwrap().applied());
    assert_eq!(session_count(&moto).await, 0);
}

#[tokio::test]
async fn failures_and_mismatches_are_recorded_once() {
    let (moto, store) = setup().await;
    let np = new_purchase(NOW);
    store.create_purchase(&np).await.unwrap();
    let t = store.mark_amount_mismatch(&np.id, "TKL3ABCDEF", Some(kes(5)), NOW + 30).await.unwrap();
    assert!(t.applied());
    assert_eq!(t.purchase().state, PurchaseState::AmountMismatch);
    assert_eq!(t.purchase().paid_amount, Some(kes(5)));
    assert!(!store.mark_paid(&np.id, &paid(10)).await.unwrap().applied(), "a mismatch is settled by hand");
    assert_eq!(session_count(&moto).await, 0, "no session, no grant");

    let f = new_purchase(NOW);
    store.create_purchase(&f).await.unwrap();
    let t = store.mark_failed(&f.id, PaymentFailure::InsufficientFunds, Some("1"), NOW + 5).await.unwrap();
    assert!(t.applied());
    assert_eq!(t.purchase().failure, Some(PaymentFailure::InsufficientFunds));
    assert!(!store.mark_failed(&f.id, PaymentFailure::Cancelled, Some("1032"), NOW + 6).await.unwrap().applied());
    assert_eq!(store.get_purchase(&f.id).await.unwrap().unwrap().failure, Some(PaymentFailure::InsufficientFunds));
}

#[tokio::test]
async fn work_lists_for_the_reconciler_and_the_outbox() {
    let (_moto, store) = setup().await;
    let old = new_purchase(NOW - 120);
    let fresh = new_purchase(NOW - 10);
    store.create_purchase(&old).await.unwrap();
    store.create_purchase(&fresh).await.unwrap();
    let stale: Vec<_> = store.list_pending(NOW - 60, 50).await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(stale, vec![old.id.clone()]);
    assert!(store.list_outbox(NOW + 100, 50).await.unwrap().is_empty());
    store.mark_paid(&old.id, &paid(10)).await.unwrap();
    assert!(store.list_pending(NOW, 50).await.unwrap().iter().all(|p| p.id != old.id), "paid leaves pending");
    let outbox: Vec<_> = store.list_outbox(NOW + 100, 50).await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(outbox, vec![old.id.clone()]);
    store.mark_job_queued(&old.id).await.unwrap();
    assert!(store.list_outbox(NOW + 100, 50).await.unwrap().is_empty());
    let tries = store.bump_reconcile_tries(&fresh.id).await.unwrap();
    assert_eq!(tries.purchase().reconcile_tries, 1);
}

#[tokio::test]
async fn jobs_are_signed_for_their_router_and_deduplicated() {
    let moto = Moto::start().await.unwrap();
    let url = moto.create_fifo_queue("router-cafe-01.fifo").await.unwrap();
    let key = RouterKey::generate();
    let router = RouterRecord {
        id: "cafe-01".parse().unwrap(),
        name: "Cafe".into(),
        queue_url: url.clone(),
        key: key.clone(),
        created_at: NOW,
        disabled_at: None,
        rotation: None,
        retiring_access_key: None,
        wallets: Default::default(),
        country: Default::default(),
    };
    let pid = PurchaseId::generate();
    let payload =
        || Payload::Revoke(hotspot_core::wire::Revoke { purchase_id: pid.clone(), reason: "operator".into() });
    let id = MessageId::derived("revoke", &pid);
    let now = hotspot_core::clock::now_unix();
    send_job(&moto.sqs(), &router, id.clone(), payload(), now).await.unwrap();
    send_job(&moto.sqs(), &router, id.clone(), payload(), now).await.unwrap();
    let out = moto.sqs().receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
    let msgs = out.messages.unwrap_or_default();
    assert_eq!(msgs.len(), 1, "same message id → one SQS message");
    let body = msgs[0].body.as_deref().unwrap();
    let env = Envelope::verify(body.as_bytes(), &key, &router.id, now, Direction::CloudToRouter).unwrap();
    assert_eq!(env.id, id);
    assert_eq!(env.payload, payload());
    let other: RouterId = "cafe-02".parse().unwrap();
    assert!(Envelope::verify(body.as_bytes(), &key, &other, now, Direction::CloudToRouter).is_err());
}

#[tokio::test]
async fn the_table_expires_ephemeral_items_by_ttl() {
    let (moto, _store) = setup().await;
    let ttl = moto.dynamodb().describe_time_to_live().table_name("hotspot").send().await.unwrap();
    let d = ttl.time_to_live_description.unwrap();
    assert_eq!(d.attribute_name.as_deref(), Some("ttl"));
    assert_eq!(d.time_to_live_status.map(|s| s.as_str().to_string()).as_deref(), Some("ENABLED"));
}

fn receipt(key: &str, at: i64) -> ReceiptRecord {
    ReceiptRecord {
        key: key.into(),
        checkout_id: Some(format!("ws_CO_{key}")),
        phone: Some("254712345678".parse().unwrap()),
        amount: Some(kes(10)),
        at,
        source: ReceiptSource::Callback,
        purchase_id: None,
        router_id: None,
        credited_by: None,
    }
}

#[tokio::test]
async fn a_receipt_is_claimed_for_one_purchase_in_one_write() {
    let (_moto, store) = setup().await;
    let router: RouterId = "cafe-01".parse().unwrap();
    let (a, b) = (PurchaseId::generate(), PurchaseId::generate());
    // New: recorded as paying for `a`.
    assert_eq!(store.claim_receipt(&receipt("TKA0000001", NOW), &a, &router).await.unwrap(), Claim::Recorded);
    assert_eq!(store.claim_receipt(&receipt("TKA0000001", NOW + 9), &a, &router).await.unwrap(), Claim::Already);
    // Another purchase cannot take it, and nothing of it changes.
    assert_eq!(
        store.claim_receipt(&receipt("TKA0000001", NOW + 9), &b, &router).await.unwrap(),
        Claim::Taken(Some(a.clone()))
    );
    let kept = store.get_receipt("TKA0000001").await.unwrap().unwrap();
    assert_eq!((kept.purchase_id.as_ref(), kept.at), (Some(&a), NOW));
    // Kept unmatched (the callback beat the link), then claimed: out of the unmatched list,
    // with what the callback said (its time) kept and the operator who credited it named.
    assert!(store.record_receipt(&receipt("TKA0000002", NOW)).await.unwrap());
    assert_eq!(store.unmatched_receipts(NOW, 10).await.unwrap().len(), 1);
    let credit =
        ReceiptRecord { credited_by: Some("arn:aws:iam::1:user/ops".into()), ..receipt("TKA0000002", NOW + 600) };
    assert_eq!(store.claim_receipt(&credit, &b, &router).await.unwrap(), Claim::Claimed);
    let kept = store.get_receipt("TKA0000002").await.unwrap().unwrap();
    assert_eq!(kept.purchase_id.as_ref(), Some(&b));
    assert_eq!(kept.at, NOW, "the first report's time is kept");
    assert_eq!(kept.credited_by.as_deref(), Some("arn:aws:iam::1:user/ops"));
    assert!(store.unmatched_receipts(NOW + 600, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn many_records_are_read_in_batches_with_the_absent_left_out() {
    let (_moto, store) = setup().await;
    let mut ids = Vec::new();
    for i in 0..130 {
        let np = new_purchase(NOW + i);
        store.create_purchase(&np).await.unwrap();
        ids.push(np.id);
    }
    // Past 100 keys (one BatchGetItem's limit), with repeats and ids never stored.
    let mut asked = ids.clone();
    asked.extend(ids[..5].iter().cloned());
    asked.push(PurchaseId::generate());
    let got = store.get_purchases(&asked).await.unwrap();
    let mut got: Vec<_> = got.into_iter().map(|p| p.id).collect();
    got.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(got, ids);
    assert!(store.get_purchases(&[]).await.unwrap().is_empty());
    assert!(store.get_receipts(&["TKNOTHERE1".into()]).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_audit_log_reads_an_open_range_in_bounded_time() {
    let (_moto, store) = setup().await;
    let entry = hotspot_cloud::store::AuditEntry {
        at: NOW,
        id: "a1".into(),
        who: "dashboard:admin".into(),
        role: "admin".into(),
        action: "operator add".into(),
        args: Default::default(),
        result: hotspot_cloud::store::AuditResult::Ok,
        detail: String::new(),
    };
    store.put_audit(&entry).await.unwrap();
    let all = tokio::time::timeout(std::time::Duration::from_secs(60), store.list_audit(i64::MIN, i64::MAX, None))
        .await
        .expect("an open range ends")
        .unwrap();
    assert_eq!(all, vec![entry]);
}

/// Every item of the table, sorted by key, for comparing two moments.
async fn table_items(moto: &Moto) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let out = moto.dynamodb().scan().table_name("hotspot").send().await.unwrap();
    let mut items = out.items.unwrap_or_default();
    let key = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        let s = |k: &str| i.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        (s("pk"), s("sk"))
    };
    items.sort_by_key(key);
    items
}

#[tokio::test]
async fn records_written_before_the_indexes_join_them_as_the_writes_would() {
    use hotspot_cloud::store::{OperatorRecord, Reindexed, ScopedRole};
    let (moto, store) = setup().await;
    // Records as today's writes make them: paid, paid the wrong amount, in doubt, pending; a
    // receipt; an operator.
    let bought = store.create_purchase(&new_purchase(NOW)).await.unwrap();
    store.mark_paid(&bought.id, &paid(10)).await.unwrap();
    let wrong = store.create_purchase(&new_purchase(NOW + 1)).await.unwrap();
    store.mark_amount_mismatch(&wrong.id, "TKL3WRONG1", Some(kes(5)), NOW + 40).await.unwrap();
    let doubt = store.create_purchase(&new_purchase(NOW + 2)).await.unwrap();
    store.mark_unknown(&doubt.id, None, NOW + 90).await.unwrap();
    store.create_purchase(&new_purchase(NOW + 3)).await.unwrap();
    let receipt = ReceiptRecord {
        key: "TKL3ABCDEF".into(),
        checkout_id: None,
        phone: Some("254712345678".parse().unwrap()),
        amount: Some(kes(10)),
        at: NOW + 30,
        source: ReceiptSource::Callback,
        purchase_id: Some(bought.id.clone()),
        router_id: None,
        credited_by: None,
    };
    assert!(store.record_receipt(&receipt).await.unwrap());
    let op = OperatorRecord {
        arn: "dashboard:amina".into(),
        access: ScopedRole::Manager,
        added_by: "t".into(),
        added_at: NOW,
    };
    store.add_operator(&op).await.unwrap();
    let written = table_items(&moto).await;

    // An older version wrote them without the index attributes: nothing finds them.
    for item in &written {
        moto.dynamodb()
            .update_item()
            .table_name("hotspot")
            .key("pk", item["pk"].clone())
            .key("sk", item["sk"].clone())
            .update_expression("REMOVE by_phone, by_mac, ledger, ledger_at, roster")
            .send()
            .await
            .unwrap();
    }
    let phone = "254712345678".parse().unwrap();
    assert!(store.purchases_by_phone(&phone, 10).await.unwrap().is_empty());
    assert!(store.payments_between(NOW - 86_400, NOW + 86_400).await.unwrap().is_empty());
    assert!(store.receipts_between(NOW - 86_400, NOW + 86_400).await.unwrap().is_empty());
    assert!(store.list_operators().await.unwrap().is_empty());

    // Reindexed: each record has exactly what the writes gave it, and a second run finds none.
    let n = store.reindex().await.unwrap();
    assert_eq!(n, Reindexed { operators: 1, purchases: 4, receipts: 1 });
    assert_eq!(table_items(&moto).await, written);
    assert_eq!(store.purchases_by_phone(&phone, 10).await.unwrap().len(), 4);
    assert_eq!(store.payments_between(NOW - 86_400, NOW + 86_400).await.unwrap().len(), 3);
    assert_eq!(store.list_operators().await.unwrap(), vec![op]);
    assert_eq!(store.reindex().await.unwrap(), Reindexed::default());
}
