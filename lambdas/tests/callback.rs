//! The callback function's logic against moto DynamoDB + SQS, with Daraja-shaped bodies.

use hotspot_cloud::outbox::sweep_outbox;
use hotspot_cloud::store::{NewPurchase, Paid, PurchaseState, RouterRecord, Store, schema};
use hotspot_core::wire::{Direction, Envelope, Payload, PaymentFailure};
use hotspot_core::{Package, PurchaseId, RouterId, RouterKey};
use lambdas::callback::{CallbackCtx, CallbackReply, handle};
use lambdas::settle::Settle;
use serde_json::json;
use testkit::Moto;

const SECRET: &str = "s3cr3t-path-0123456789abcdef";

struct Env {
    moto: Moto,
    store: Store,
    sqs: aws_sdk_sqs::Client,
    key: RouterKey,
    router: RouterId,
    queue: String,
}

impl Env {
    async fn new() -> Env {
        Self::with_queue(true).await
    }

    async fn with_queue(create_queue: bool) -> Env {
        let moto = Moto::start().await.unwrap();
        schema::create_table(&moto.dynamodb(), "hotspot").await.unwrap();
        let store = Store::new(moto.dynamodb(), "hotspot");
        let queue = if create_queue {
            moto.create_fifo_queue("router-cafe-01.fifo").await.unwrap()
        } else {
            // moto's URL for the queue once it exists; until then sends fail (an SQS outage).
            format!("{}/123456789012/router-cafe-01.fifo", moto.endpoint)
        };
        let key = RouterKey::generate();
        let router: RouterId = "cafe-01".parse().unwrap();
        store
            .put_router(&RouterRecord {
                id: router.clone(),
                name: "Cafe".into(),
                queue_url: queue.clone(),
                key: key.clone(),
                created_at: 0,
                disabled_at: None,
                rotation: None,
                retiring_access_key: None,
                wallets: Default::default(),
                country: Default::default(),
            })
            .await
            .unwrap();
        let sqs = moto.sqs();
        Env { moto, store, sqs, key, router, queue }
    }

    async fn purchase(&self, checkout: &str, price: u32) -> PurchaseId {
        let package: Package = serde_json::from_value(json!({
            "id": "1h", "name": "1 hour", "price": price, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
        }))
        .unwrap();
        let np = NewPurchase {
            id: PurchaseId::generate(),
            router_id: self.router.clone(),
            package,
            mac: "DA:A1:19:00:00:01".parse().unwrap(),
            ip: Some("10.5.50.23".parse().unwrap()),
            phone: "254712345678".parse().unwrap(),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
            created_at: now() - 20,
        };
        self.store.create_purchase(&np).await.unwrap();
        assert!(self.store.link_checkout(&np.id, checkout, now() - 19).await.unwrap().is_none());
        np.id
    }

    async fn call(&self, secret: &str, body: &[u8]) -> CallbackReply {
        let ctx = CallbackCtx {
            settle: Settle { store: &self.store, sqs: &self.sqs, sms: None, notices: &lambdas::providers::MPESA_ONLY },
            secret: SECRET,
        };
        handle(&ctx, hotspot_core::wallet::Wallet::Mpesa, secret, Some("196.201.214.200".parse().unwrap()), body, now())
            .await
    }

    /// Every job on the router's queue, verified with the router's key.
    async fn jobs(&self) -> Vec<Payload> {
        let mut out = Vec::new();
        loop {
            let r = self
                .sqs
                .receive_message()
                .queue_url(&self.queue)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let msgs = r.messages.unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            for m in msgs {
                let env = Envelope::verify(
                    m.body.unwrap().as_bytes(),
                    &self.key,
                    &self.router,
                    now(),
                    Direction::CloudToRouter,
                )
                .unwrap();
                out.push(env.payload);
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue)
                    .receipt_handle(m.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    async fn state(&self, id: &PurchaseId) -> PurchaseState {
        self.store.get_purchase(id).await.unwrap().unwrap().state
    }
}

fn now() -> i64 {
    hotspot_core::clock::now_unix()
}

fn paid_body(checkout: &str, amount: &str) -> Vec<u8> {
    format!(
        r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"{checkout}","ResultCode":0,"ResultDesc":"The service request is processed successfully.","CallbackMetadata":{{"Item":[{{"Name":"Amount","Value":{amount}}},{{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"}},{{"Name":"Balance"}},{{"Name":"TransactionDate","Value":20191219102115}},{{"Name":"PhoneNumber","Value":254708374149}}]}}}}}}}}"#
    )
    .into_bytes()
}

fn failed_body(checkout: &str, code: &str) -> Vec<u8> {
    format!(
        r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"{checkout}","ResultCode":{code},"ResultDesc":"Request cancelled by user"}}}}}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn paid_callback_grants_once_even_when_repeated_concurrently() {
    let env = Env::new().await;
    let id = env.purchase("ws_CO_1", 10).await;
    let body = paid_body("ws_CO_1", "10.00");
    let (a, b, c) = tokio::join!(env.call(SECRET, &body), env.call(SECRET, &body), env.call(SECRET, &body));
    assert_eq!([a, b, c], [CallbackReply::Accepted, CallbackReply::Accepted, CallbackReply::Accepted]);
    assert_eq!(env.state(&id).await, PurchaseState::Paid);
    let jobs = env.jobs().await;
    assert_eq!(jobs.len(), 1, "exactly one grant job: {jobs:?}");
    let Payload::Grant(g) = &jobs[0] else { panic!("expected a grant, got {jobs:?}") };
    assert_eq!(g.purchase_id, id);
    assert_eq!(g.mac.to_string(), "DA:A1:19:00:00:01");
    let p = env.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!(g.expires_at, p.paid_at.unwrap() + 3600);
    assert!(!p.job_pending, "outbox cleared once queued");
    let sessions = env.moto.dynamodb().scan().table_name("hotspot").send().await.unwrap().items.unwrap_or_default();
    let sessions = sessions.iter().filter(|i| i["pk"].as_s().is_ok_and(|k| k.starts_with("SESSION#"))).count();
    assert_eq!(sessions, 1, "exactly one session record");
    // A repeat later still answers 200 and changes nothing.
    assert_eq!(env.call(SECRET, &body).await, CallbackReply::Accepted);
    assert!(env.jobs().await.is_empty());
}

#[tokio::test]
async fn amount_mismatch_is_recorded_without_a_grant() {
    let env = Env::new().await;
    let id = env.purchase("ws_CO_2", 50).await;
    assert_eq!(env.call(SECRET, &paid_body("ws_CO_2", "10")).await, CallbackReply::Accepted);
    let p = env.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!(p.state, PurchaseState::AmountMismatch);
    assert_eq!(p.paid_amount.map(|a| a.to_string()), Some("KES 10".into()));
    let jobs = env.jobs().await;
    assert!(matches!(&jobs[..], [Payload::PaymentFailed(f)] if f.reason == PaymentFailure::AmountMismatch), "{jobs:?}");
}

#[tokio::test]
async fn failure_callback_queues_payment_failed_and_never_downgrades_paid() {
    let env = Env::new().await;
    let id = env.purchase("ws_CO_3", 10).await;
    assert_eq!(env.call(SECRET, &failed_body("ws_CO_3", "1032")).await, CallbackReply::Accepted);
    assert_eq!(env.state(&id).await, PurchaseState::Failed);
    let jobs = env.jobs().await;
    assert!(
        matches!(&jobs[..], [Payload::PaymentFailed(f)] if f.reason == PaymentFailure::Cancelled && f.code.as_deref() == Some("1032")),
        "{jobs:?}"
    );
    // String ResultCode, as seen in production.
    let id2 = env.purchase("ws_CO_4", 10).await;
    assert_eq!(env.call(SECRET, &failed_body("ws_CO_4", "\"SFC_IC0003\"")).await, CallbackReply::Accepted);
    assert_eq!(env.state(&id2).await, PurchaseState::Failed);
    env.jobs().await;
    // Paid first, then a failure for the same checkout: stays paid, no failure job.
    let id3 = env.purchase("ws_CO_5", 10).await;
    env.call(SECRET, &paid_body("ws_CO_5", "10")).await;
    env.jobs().await;
    assert_eq!(env.call(SECRET, &failed_body("ws_CO_5", "1032")).await, CallbackReply::Accepted);
    assert_eq!(env.state(&id3).await, PurchaseState::Paid);
    assert!(env.jobs().await.is_empty());
}

/// More jobs that can never go out (their router is gone) than one page holds, all older than
/// a good one: the sweep pages past them, sends the good one, and moves them to the back.
#[tokio::test]
async fn jobs_that_keep_failing_never_hold_up_the_outbox() {
    let env = Env::with_queue(false).await;
    let ghost: RouterId = "ghost-01".parse().unwrap();
    for i in 0..110 {
        let np = NewPurchase {
            id: PurchaseId::generate(),
            router_id: ghost.clone(),
            package: serde_json::from_value(json!({
                "id": "1h", "name": "1 hour", "price": 10, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
            }))
            .unwrap(),
            mac: "DA:A1:19:00:00:02".parse().unwrap(),
            ip: None,
            phone: "254712345678".parse().unwrap(),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
            created_at: now() - 300,
        };
        env.store.create_purchase(&np).await.unwrap();
        let paid = Paid {
            receipt: format!("TKG{i:07}"),
            amount: hotspot_core::currency::Money::whole_units(hotspot_core::currency::Currency::Kes, 10).unwrap(),
            paid_at: now() - 200 + i,
        };
        assert!(env.store.mark_paid(&np.id, &paid).await.unwrap().applied());
    }
    let id = env.purchase("ws_CO_9", 10).await;
    assert_eq!(env.call(SECRET, &paid_body("ws_CO_9", "10")).await, CallbackReply::Accepted);
    env.moto.create_fifo_queue("router-cafe-01.fifo").await.unwrap();
    let t = now();
    assert_eq!(sweep_outbox(&env.store, &env.sqs, t, t).await.unwrap(), 1, "the good one, past the bad page");
    let jobs = env.jobs().await;
    assert!(matches!(&jobs[..], [Payload::Grant(g)] if g.purchase_id == id), "{jobs:?}");
    // The failures moved to the back: a sweep of what was due before now has nothing left.
    assert!(env.store.list_outbox(t - 1, 1000).await.unwrap().is_empty());
    assert_eq!(env.store.list_outbox(t, 1000).await.unwrap().len(), 110, "kept, not dropped");
}

#[tokio::test]
async fn hostile_callbacks_change_nothing() {
    let env = Env::new().await;
    let id = env.purchase("ws_CO_6", 10).await;
    let body = paid_body("ws_CO_6", "10");
    assert_eq!(env.call("wrong-secret", &body).await, CallbackReply::NotFound);
    assert_eq!(env.call("", &body).await, CallbackReply::NotFound);
    // An id no purchase has: kept (a real one may still be linked), acknowledged, nothing granted.
    assert_eq!(env.call(SECRET, &paid_body("ws_CO_forged", "10")).await, CallbackReply::Accepted);
    assert!(matches!(env.call(SECRET, b"{not json").await, CallbackReply::BadRequest(_)));
    assert!(matches!(env.call(SECRET, br#"{"Body":{}}"#).await, CallbackReply::BadRequest(_)));
    let mut huge = paid_body("ws_CO_6", "10");
    huge.extend(std::iter::repeat_n(b' ', 64 * 1024));
    assert_eq!(env.call(SECRET, &huge).await, CallbackReply::TooLarge);
    assert_eq!(env.state(&id).await, PurchaseState::Pending, "nothing changed");
    assert!(env.jobs().await.is_empty(), "no job sent");
}

#[tokio::test]
async fn sqs_outage_after_recording_is_recovered_by_the_outbox_sweep() {
    let env = Env::with_queue(false).await;
    let id = env.purchase("ws_CO_7", 10).await;
    // The payment is recorded even though the router's queue cannot be reached.
    assert_eq!(env.call(SECRET, &paid_body("ws_CO_7", "10")).await, CallbackReply::Accepted);
    let p = env.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!(p.state, PurchaseState::Paid);
    assert!(p.job_pending, "the grant waits in the outbox");
    // SQS comes back; the sweep sends it exactly once.
    let url = env.moto.create_fifo_queue("router-cafe-01.fifo").await.unwrap();
    assert_eq!(url, env.queue);
    assert_eq!(sweep_outbox(&env.store, &env.sqs, now(), now()).await.unwrap(), 1);
    assert_eq!(sweep_outbox(&env.store, &env.sqs, now(), now()).await.unwrap(), 0);
    let jobs = env.jobs().await;
    assert!(matches!(&jobs[..], [Payload::Grant(g)] if g.purchase_id == id), "{jobs:?}");
}

#[tokio::test]
async fn a_paid_callback_without_an_amount_is_a_mismatch_recording_no_amount() {
    let env = Env::new().await;
    let id = env.purchase("ws_CO_8", 10).await;
    let body = br#"{"Body":{"stkCallback":{"MerchantRequestID":"m","CheckoutRequestID":"ws_CO_8","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{"Item":[{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"}]}}}}"#;
    assert_eq!(env.call(SECRET, body).await, CallbackReply::Accepted);
    let p = env.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!(p.state, PurchaseState::AmountMismatch);
    assert_eq!(p.paid_amount, None, "no amount invented for the revenue record");
    assert_eq!(p.receipt.as_deref(), Some("NLJ7RT61SV"));
}

#[tokio::test]
async fn a_callback_before_the_checkout_is_linked_is_applied_by_the_purchase_function() {
    let env = Env::new().await;
    // The purchase exists but its STK push response has not been recorded yet.
    let package: hotspot_core::Package = serde_json::from_value(serde_json::json!({
        "id": "1h", "name": "1 hour", "price": 10, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
    }))
    .unwrap();
    let np = hotspot_cloud::store::NewPurchase {
        id: PurchaseId::generate(),
        router_id: env.router.clone(),
        package,
        mac: "DA:A1:19:00:00:02".parse().unwrap(),
        ip: None,
        phone: "254712345678".parse().unwrap(),
        wallet: hotspot_core::wallet::Wallet::Mpesa,
        created_at: now(),
    };
    let created = env.store.create_purchase(&np).await.unwrap();
    assert_eq!(env.call(SECRET, &paid_body("ws_CO_early", "10")).await, CallbackReply::Accepted);
    assert_eq!(env.state(&np.id).await, PurchaseState::Pending, "nothing to apply it to yet");
    assert!(env.jobs().await.is_empty());
    // The purchase function links the id and finds the callback waiting.
    let p = Settle { store: &env.store, sqs: &env.sqs, sms: None, notices: &lambdas::providers::MPESA_ONLY }
        .link(&created, "ws_CO_early", now())
        .await
        .unwrap();
    assert_eq!(p.state, PurchaseState::Paid);
    assert_eq!(p.receipt.as_deref(), Some("NLJ7RT61SV"));
    let jobs = env.jobs().await;
    assert!(matches!(jobs.as_slice(), [Payload::Grant(g)] if g.purchase_id == np.id), "{jobs:?}");
    // A repeat of the callback now changes nothing.
    assert_eq!(env.call(SECRET, &paid_body("ws_CO_early", "10")).await, CallbackReply::Accepted);
    assert!(env.jobs().await.is_empty());
}

async fn sms_env() -> (Env, daraja_sim::SmsSim, lambdas::sms::SmsClient) {
    let env = Env::new().await;
    let sim = daraja_sim::SmsSim::start().await.unwrap();
    let client = lambdas::sms::SmsClient::new(lambdas::sms::SmsConfig {
        base_url: sim.base_url(),
        username: daraja_sim::SMS_USERNAME.into(),
        api_key: daraja_sim::SMS_API_KEY.into(),
        sender_id: None,
    })
    .unwrap();
    (env, sim, client)
}

async fn call_with_sms(env: &Env, sms: &lambdas::sms::SmsClient, body: &[u8]) -> CallbackReply {
    let ctx = CallbackCtx {
        settle: Settle { store: &env.store, sqs: &env.sqs, sms: Some(sms), notices: &lambdas::providers::MPESA_ONLY },
        secret: SECRET,
    };
    handle(&ctx, hotspot_core::wallet::Wallet::Mpesa, SECRET, None, body, now()).await
}

#[tokio::test]
async fn a_paid_callback_sends_one_sms_receipt_with_the_relogin_code() {
    let (env, sim, sms) = sms_env().await;
    let id = env.purchase("ws_CO_sms", 10).await;
    assert_eq!(call_with_sms(&env, &sms, &paid_body("ws_CO_sms", "10")).await, CallbackReply::Accepted);
    assert_eq!(call_with_sms(&env, &sms, &paid_body("ws_CO_sms", "10")).await, CallbackReply::Accepted);
    let msgs = sim.messages();
    assert_eq!(msgs.len(), 1, "one SMS despite the repeated callback: {msgs:?}");
    assert_eq!(msgs[0].to, "+254712345678");
    let code = hotspot_core::VoucherCode::relogin(&env.key, &id).grouped();
    let text = &msgs[0].message;
    for part in ["KES 10", "1 hour", "NLJ7RT61SV", &code, "EAT"] {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }
    assert!(text.len() <= 160, "one SMS segment: {} characters", text.len());
    let outcome = env.store.sms_outcome(&id).await.unwrap().unwrap();
    assert!(outcome.starts_with("sent ATXid_"), "{outcome}");
    assert_eq!(env.jobs().await.len(), 1, "the grant went out");
}

#[tokio::test]
async fn a_failed_or_hung_sms_never_blocks_the_grant() {
    let (env, sim, sms) = sms_env().await;
    for (n, mode) in [daraja_sim::SmsMode::ServerError, daraja_sim::SmsMode::OutOfCredit, daraja_sim::SmsMode::Hang]
        .into_iter()
        .enumerate()
    {
        sim.set_mode(mode);
        let checkout = format!("ws_CO_smsfail{n}");
        let id = env.purchase(&checkout, 10).await;
        let started = std::time::Instant::now();
        assert_eq!(call_with_sms(&env, &sms, &paid_body(&checkout, "10")).await, CallbackReply::Accepted);
        // The hung API is cut off by the sender's timeout (4 s), after the job was queued.
        assert!(started.elapsed() < std::time::Duration::from_secs(8), "{mode:?}: {:?}", started.elapsed());
        assert_eq!(env.state(&id).await, PurchaseState::Paid, "{mode:?}");
        let jobs = env.jobs().await;
        assert!(matches!(jobs.as_slice(), [Payload::Grant(g)] if g.purchase_id == id), "{mode:?}: {jobs:?}");
        let outcome = env.store.sms_outcome(&id).await.unwrap().unwrap();
        assert!(outcome.starts_with("failed:"), "{mode:?}: {outcome}");
    }
    assert!(sim.messages().is_empty());
    assert_eq!(sim.attempts(), 3);
}
