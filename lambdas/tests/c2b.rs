//! The callback function's Paybill (C2B) URLs against moto DynamoDB, with the Daraja simulator
//! playing M-Pesa over HTTP: the URLs are registered with the real client, a subscriber pays,
//! M-Pesa asks the validation URL and POSTs the confirmation with the documented payloads. A
//! known account is renewed once however often the confirmation comes; an unknown account number
//! (or one with a typing mistake) is refused at validation, and, where validation is off, held.

use std::sync::Arc;
use std::time::Duration;

use daraja::{ClientConfig, DarajaClient, Environment, MemoryTokenStore, ResponseType, RetryPolicy};
use daraja_sim::serve::{json, read_body, serve_with};
use daraja_sim::{C2bValidation, DarajaSim, SimConfig};
use hotspot_cloud::renewal::{OddAmount, Plan};
use hotspot_cloud::store::{AccountRecord, ReceiptSource, RouterRecord, Store, schema};
use hotspot_core::currency::{Currency, Money};
use hotspot_core::wire::{Direction, Envelope, Payload};
use hotspot_core::{AccountNumber, RouterKey};
use hyper::StatusCode;
use lambdas::c2b::{C2bCtx, c2b_route, handle_c2b};
use testkit::Moto;

const SECRET: &str = "c2b-path-secret-0123456789abcdef";
const MONTH: i64 = 30 * 86_400;

fn kes(units: u64) -> Money {
    Money::whole_units(Currency::Kes, units).expect("a KES amount")
}

struct Env {
    _moto: Moto,
    store: Store,
    sqs: aws_sdk_sqs::Client,
    queue: String,
    key: RouterKey,
    sim: DarajaSim,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The function's C2B logic behind an HTTP listener, as API Gateway would put it.
async fn env(external_validation: bool) -> Env {
    let moto = Moto::start().await.unwrap();
    schema::create_table(&moto.dynamodb(), "hotspot").await.unwrap();
    let store = Store::new(moto.dynamodb(), "hotspot");
    let queue = moto.create_fifo_queue("router-cafe-01.fifo").await.unwrap();
    let key = RouterKey::generate();
    store
        .put_router(&RouterRecord::new("cafe-01".parse().unwrap(), "Cafe", queue.clone(), key.clone(), 0))
        .await
        .unwrap();
    let package: hotspot_core::Package = serde_json::from_value(serde_json::json!({
        "id": "home-10m", "name": "Home 10M", "price": 1500, "validity": "30d", "rate_limit": "10M/10M", "devices": 1
    }))
    .unwrap();
    store.put_package(&"cafe-01".parse().unwrap(), &package, 0).await.unwrap();
    let sqs = moto.sqs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (served, served_sqs) = (store.clone(), sqs.clone());
    let task = tokio::spawn(serve_with(listener, move |req: hyper::Request<hyper::body::Incoming>| {
        let (store, sqs) = (served.clone(), served_sqs.clone());
        async move {
            let path = req.uri().path().to_string();
            let Some(body) = read_body(req.into_body()).await else {
                return json(StatusCode::PAYLOAD_TOO_LARGE, "{}".into());
            };
            let Some((kind, secret)) = c2b_route(&path) else { return json(StatusCode::NOT_FOUND, "{}".into()) };
            let ctx = C2bCtx { store: &store, sqs: &sqs, secret: SECRET };
            let reply = handle_c2b(&ctx, kind, secret, &body, hotspot_core::clock::now_unix()).await;
            json(StatusCode::from_u16(reply.status).unwrap(), reply.body.to_string())
        }
    }));
    let sim = DarajaSim::start(SimConfig { c2b_external_validation: external_validation, ..SimConfig::for_tests() })
        .await
        .unwrap();
    let client = daraja_client(&sim);
    client
        .register_c2b_urls(
            &format!("{base}/cb/c2b/{SECRET}/confirmation"),
            &format!("{base}/cb/c2b/{SECRET}/validation"),
            ResponseType::Completed,
        )
        .await
        .expect("URLs registered");
    Env { _moto: moto, store, sqs, queue, key, sim, base, task }
}

fn daraja_client(sim: &DarajaSim) -> DarajaClient<MemoryTokenStore> {
    let s = sim.config();
    let mut cfg = ClientConfig::paybill(
        Environment::Custom(sim.base_url()),
        s.consumer_key.clone(),
        s.consumer_secret.clone(),
        s.shortcode.clone(),
        s.passkey.clone(),
    );
    cfg.retry =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5) };
    DarajaClient::new(cfg, Arc::new(MemoryTokenStore::new())).unwrap()
}

impl Env {
    /// The jobs on the router's queue, verified with its key.
    async fn jobs(&self) -> Vec<Payload> {
        let mut out = Vec::new();
        loop {
            let r = self.sqs.receive_message().queue_url(&self.queue).max_number_of_messages(10).send().await.unwrap();
            let msgs = r.messages.unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            for m in msgs {
                let router = "cafe-01".parse().unwrap();
                let now = hotspot_core::clock::now_unix();
                let body = m.body.unwrap_or_default();
                let env = Envelope::verify(body.as_bytes(), &self.key, &router, now, Direction::CloudToRouter)
                    .expect("a job signed with the router's key");
                out.push(env.payload);
                // Deleted, so a FIFO group's next message (a duplicate, if any) is delivered.
                let handle = m.receipt_handle.unwrap_or_default();
                self.sqs.delete_message().queue_url(&self.queue).receipt_handle(handle).send().await.unwrap();
            }
        }
    }
}

async fn account(store: &Store, expires_at: i64) -> AccountNumber {
    let number = AccountNumber::issue();
    store
        .create_account(&AccountRecord {
            number: number.clone(),
            router_id: "cafe-01".parse().unwrap(),
            package_id: "home-10m".parse().unwrap(),
            service: "pppoe".into(),
            password: "kT9-pppoe-secret".into(),
            plan: Plan { price: kes(1500), period_secs: MONTH, odd_amount: OddAmount::Hold },
            expires_at,
            created_at: 0,
            renewals: 0,
            phone: None,
            reminded_for: None,
            ended_notice_for: None,
            name: None,
            wireguard: None,
        })
        .await
        .unwrap();
    number
}

#[tokio::test]
async fn a_paybill_payment_renews_its_account_once_and_an_unknown_account_is_refused() {
    let e = env(true).await;
    let now = hotspot_core::clock::now_unix();
    let n = account(&e.store, now + 86_400).await;

    let paid = e.sim.c2b_pay("254712345678", 1500, n.as_str()).await;
    assert_eq!(
        (paid.validation, paid.completed, paid.confirmation_status),
        (Some(C2bValidation::Accepted), true, Some(200))
    );
    let acc = e.store.get_account(&n).await.unwrap().unwrap();
    assert_eq!((acc.expires_at, acc.renewals), (now + 86_400 + MONTH, 1));

    // M-Pesa sends the same confirmation again: renewed once, still acknowledged.
    let body = paid.confirmation.expect("the confirmation's body");
    let http = daraja_sim::http_client().unwrap();
    for _ in 0..3 {
        let r = http.post(format!("{}/cb/c2b/{SECRET}/confirmation", e.base)).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let ack: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(ack["ResultCode"], 0);
    }
    assert_eq!(e.store.get_account(&n).await.unwrap().unwrap().renewals, 1, "renewed exactly once");
    // The router is told the account's new expiry, once (the repeats are the same job).
    let jobs = e.jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let Payload::AccountSet(set) = &jobs[0] else { panic!("{jobs:?}") };
    assert_eq!((&set.account, set.expires_at, set.service.as_str()), (&n, now + 86_400 + MONTH, "pppoe"));

    // An account nobody has, a mistyped one, an amount the plan does not take: refused, not paid.
    let mut typo = n.as_str().as_bytes().to_vec();
    typo[3] = b'0' + (typo[3] - b'0' + 5) % 10;
    let typo = String::from_utf8(typo).unwrap();
    for (bill_ref, amount, code) in [
        (AccountNumber::issue().to_string(), 1500, "C2B00012"),
        (typo, 1500, "C2B00012"),
        (n.to_string(), 1000, "C2B00013"),
    ] {
        let p = e.sim.c2b_pay("254712345678", amount, &bill_ref).await;
        assert_eq!(p.validation, Some(C2bValidation::Rejected { code: code.into() }), "{bill_ref} {amount}");
        assert!(!p.completed && p.confirmation.is_none());
    }
    assert_eq!(e.store.get_account(&n).await.unwrap().unwrap().renewals, 1);

    // The wrong secret is a 404 and changes nothing.
    let r = http.post(format!("{}/cb/c2b/not-the-secret/confirmation", e.base)).body(body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn without_validation_an_unknown_account_is_held_for_the_operator() {
    let e = env(false).await;
    let stranger = AccountNumber::issue();
    let p = e.sim.c2b_pay("254712345678", 1500, stranger.as_str()).await;
    assert_eq!((p.validation, p.completed, p.confirmation_status), (None, true, Some(200)), "acknowledged, kept");
    let trans = p.trans_id;
    let r = e.store.get_receipt(&trans).await.unwrap().expect("an unmatched receipt");
    assert_eq!((r.source, r.purchase_id, r.amount), (ReceiptSource::C2b, None, Some(kes(1500))));
    // A malformed confirmation is refused and leaves nothing behind.
    let http = daraja_sim::http_client().unwrap();
    let bad =
        http.post(format!("{}/cb/c2b/{SECRET}/confirmation", e.base)).body("{\"TransID\":\"X\"}").send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(e.store.get_receipt("X").await.unwrap().is_none());
}

/// A subscriber's STK renewal whose callback never comes: the reconcile function's status query
/// finds it, renews once (a late callback after that changes nothing) and tells the router; one
/// the subscriber cancelled is marked not paid and renews nothing.
#[tokio::test]
async fn an_stk_renewal_whose_callback_is_lost_is_settled_by_a_status_query_once() {
    use daraja_sim::{CallbackMode, Scenario};
    use hotspot_cloud::paybill::StkOutcome;
    use hotspot_cloud::store::{StkRenewal, StkRenewalState};
    use hotspot_core::wallet::Wallet;
    use lambdas::providers::Payments;
    use lambdas::renewals::{ASK_AFTER_SECS, settle, sweep};

    let e = env(true).await;
    let client = daraja_client(&e.sim);
    let now = hotspot_core::clock::now_unix();
    let paid = account(&e.store, now + 86_400).await;
    let cancelled = account(&e.store, now + 86_400).await;
    e.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    e.sim.push_scenario(Scenario::failed(1032).with_callback(CallbackMode::Never));
    for n in [&paid, &cancelled] {
        let req = wallets::PaymentRequest {
            payer: "254712345678".parse().unwrap(),
            amount: kes(1500),
            reference: n.to_string(),
            label: n.to_string(),
            description: "Renewal".into(),
            callback_url: format!("{}/cb/{SECRET}", e.base),
        };
        let started = client.start_payment(Wallet::Mpesa, &req).await.expect("prompt sent");
        let r = StkRenewal {
            checkout: started.reference.clone(),
            account: n.clone(),
            amount: kes(1500),
            phone: req.payer.clone(),
            token: "t".into(),
            created_at: now,
            state: StkRenewalState::Pending,
        };
        e.store.put_stk_renewal(&r).await.unwrap();
        assert_eq!(e.store.link_renewal(&r.checkout, now).await.unwrap(), None, "no callback came first");
    }
    let wait = Duration::from_secs(5);
    assert_eq!(sweep(&e.store, &e.sqs, &client, wait, now).await.unwrap(), 0, "too young to ask about");
    assert_eq!(sweep(&e.store, &e.sqs, &client, wait, now + ASK_AFTER_SECS).await.unwrap(), 2);
    let acc = e.store.get_account(&paid).await.unwrap().unwrap();
    assert_eq!((acc.expires_at, acc.renewals), (now + 86_400 + MONTH, 1));
    let other = e.store.get_account(&cancelled).await.unwrap().unwrap();
    assert_eq!((other.expires_at, other.renewals), (now + 86_400, 0), "cancelled: nothing renewed");
    let pushes = e.sim.pushes();
    let state = |i: usize| {
        let checkout = pushes[i].checkout_request_id.clone();
        let store = e.store.clone();
        async move { store.get_stk_renewal(&checkout).await.unwrap().unwrap() }
    };
    assert_eq!(state(0).await.state, StkRenewalState::Renewed { until: acc.expires_at });
    assert!(matches!(state(1).await.state, StkRenewalState::Failed { .. }));

    // Decided: not asked about again; a late callback (or a second reconciler) renews nothing more.
    assert_eq!(sweep(&e.store, &e.sqs, &client, wait, now + 2 * ASK_AFTER_SECS).await.unwrap(), 0);
    let (first, again) = (state(0).await, StkOutcome::Paid { amount: Some(kes(1500)), receipt: None });
    let late = settle(&e.store, &e.sqs, &first, &again, now + 200).await.unwrap();
    assert_eq!(late, StkRenewalState::Renewed { until: acc.expires_at });
    assert_eq!(e.store.get_account(&paid).await.unwrap().unwrap().renewals, 1);

    // The router was told (each time: a copy of the account's state changes nothing on it).
    let jobs = e.jobs().await;
    assert!(
        jobs.iter().any(|j| matches!(j, Payload::AccountSet(a) if a.account == paid && a.expires_at == acc.expires_at)),
        "{jobs:?}"
    );
}

/// A renewal's callback that beats the page's record of the push: the callback keeps it as an
/// unmatched receipt (it cannot know yet); the page, linking the push, finds the callback and
/// settles it: the account renews once and the receipt leaves the unmatched list, naming it.
#[tokio::test]
async fn an_stk_renewal_whose_callback_came_first_renews_once_and_leaves_nothing_unmatched() {
    use daraja_sim::{Answer, CallbackMode, Scenario};
    use hotspot_cloud::store::{StkRenewal, StkRenewalState};
    use hotspot_core::wallet::Wallet;
    use lambdas::callback::{CallbackCtx, CallbackReply, handle};
    use lambdas::providers::{MPESA_ONLY, Payments};
    use lambdas::settle::Settle;

    let e = env(true).await;
    let client = daraja_client(&e.sim);
    let now = hotspot_core::clock::now_unix();
    let n = account(&e.store, now + 86_400).await;
    e.sim.push_scenario(Scenario::await_phone().with_callback(CallbackMode::Held));
    let req = wallets::PaymentRequest {
        payer: "254712345678".parse().unwrap(),
        amount: kes(1500),
        reference: n.to_string(),
        label: n.to_string(),
        description: "Renewal".into(),
        // Nobody listens here: the test delivers the callback itself, at the moment it chooses.
        callback_url: "http://127.0.0.1:9/cb/nobody".into(),
    };
    let started = client.start_payment(Wallet::Mpesa, &req).await.expect("prompt sent");
    assert!(e.sim.answer(&started.reference, Answer::Pay));
    e.sim.release_callbacks(&started.reference);
    let mut body = None;
    for _ in 0..100 {
        body = e.sim.callbacks().into_iter().find(|c| c.checkout_request_id == started.reference).map(|c| c.body);
        if body.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body = body.expect("the callback, as M-Pesa sent it");

    // The callback first: kept, unmatched.
    let settle = Settle { store: &e.store, sqs: &e.sqs, sms: None, notices: &MPESA_ONLY };
    let ctx = CallbackCtx { settle, secret: SECRET };
    let reply = handle(&ctx, Wallet::Mpesa, SECRET, None, body.as_bytes(), now).await;
    assert_eq!(reply, CallbackReply::Accepted);
    assert_eq!(e.store.unmatched_receipts(now + 1, 10).await.unwrap().len(), 1);

    // Then the page records and links the push, and settles the callback it finds.
    let r = StkRenewal {
        checkout: started.reference.clone(),
        account: n.clone(),
        amount: kes(1500),
        phone: req.payer.clone(),
        token: "t".into(),
        created_at: now,
        state: StkRenewalState::Pending,
    };
    e.store.put_stk_renewal(&r).await.unwrap();
    let kept = e.store.link_renewal(&r.checkout, now).await.unwrap().expect("the callback came first");
    let cb = MPESA_ONLY.read_notice(Wallet::Mpesa, kept.as_bytes()).unwrap();
    let outcome = lambdas::renewals::stk_outcome(&cb.outcome).expect("decided");
    let state = lambdas::renewals::settle(&e.store, &e.sqs, &r, &outcome, now).await.unwrap();
    assert_eq!(state, StkRenewalState::Renewed { until: now + 86_400 + MONTH });
    // M-Pesa repeats the callback: it now finds the renewal, and renews nothing more.
    assert_eq!(handle(&ctx, Wallet::Mpesa, SECRET, None, body.as_bytes(), now).await, CallbackReply::Accepted);
    let acc = e.store.get_account(&n).await.unwrap().unwrap();
    assert_eq!((acc.expires_at, acc.renewals), (now + 86_400 + MONTH, 1));
    assert!(e.store.unmatched_receipts(now + 1, 10).await.unwrap().is_empty(), "nothing left for the operator");
}
