//! Airtel Money (a Kenyan merchant, shillings) and MTN MoMo (a Ugandan one, Uganda shillings)
//! through the functions' code, against moto and each wallet's simulator: paid, failed, a duplicate notification, a lost one found by the reconciler, an
//! answer lost in an outage, a forged notification, a wallet the router does not take. Each paid
//! journey ends with one receipt, one purchase, one grant.

mod common;

use common::{Cloud, TestRouter, now};
use daraja_sim::CallbackSink;
use hotspot_cloud::ledger;
use hotspot_cloud::store::PurchaseState;
use hotspot_core::PurchaseId;
use hotspot_core::phone::Country;
use hotspot_core::wallet::{Offered, Wallet};
use hotspot_core::wire::{Payload, PaymentFailure};
use lambdas::callback::{CallbackCtx, CallbackReply, handle};
use lambdas::providers::{Notices, Providers};
use lambdas::purchase::{PurchaseCtx, purchase};
use lambdas::reconcile::{ReconcileConfig, reconcile};
use lambdas::settle::Settle;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use wallets::airtel::{AirtelClient, AirtelConfig};
use wallets::mtn::{MtnClient, MtnConfig};
use wallets_sim::{AirtelSimConfig, Endpoint, MtnSimConfig, Scenario, WalletSim};

const SECRET: &str = "s3cr3t-path-0123456789abcdef";
const AIRTEL_KEY: &str = "airtel-app-private-key";
const WAIT: Duration = Duration::from_secs(10);

struct Env {
    cloud: Cloud,
    sink: CallbackSink,
    airtel: WalletSim,
    mtn: WalletSim,
    providers: Providers<daraja::MemoryTokenStore>,
    notices: Notices,
    callback_url: String,
}

impl Env {
    async fn start() -> Env {
        let cloud = Cloud::start().await;
        let sink = CallbackSink::start().await.unwrap();
        let airtel_sim = AirtelSimConfig {
            country: "KE".into(),
            currency: "KES".into(),
            callback_url: Some(sink.url(&format!("/cb/airtel/{SECRET}"))),
            callback_key: Some(AIRTEL_KEY.into()),
            ..AirtelSimConfig::default()
        };
        let airtel = WalletSim::airtel(airtel_sim.clone()).await.unwrap();
        // MTN is not in Kenya: its merchant is a Ugandan one, for the Ugandan router.
        let mtn_sim =
            MtnSimConfig { currency: "UGX".into(), target_environment: "mtnuganda".into(), ..MtnSimConfig::default() };
        let mtn = WalletSim::mtn(mtn_sim.clone()).await.unwrap();
        let mut airtel_cfg =
            AirtelConfig::new(airtel.base_url(), airtel_sim.client_id, airtel_sim.client_secret, Country::Kenya);
        airtel_cfg.callback_key = Some(wallets::Secret::new(AIRTEL_KEY));
        let mtn_cfg = MtnConfig::new(
            mtn.base_url(),
            mtn_sim.subscription_key,
            mtn_sim.api_user,
            mtn_sim.api_key,
            mtn_sim.target_environment,
            Country::Uganda,
        );
        let providers = Providers {
            mpesa: daraja::DarajaClient::new(
                common::daraja_config(&cloud.sim),
                Arc::new(daraja::MemoryTokenStore::new()),
            )
            .unwrap(),
            airtel: Some(AirtelClient::new(airtel_cfg.clone()).unwrap()),
            mtn: Some(MtnClient::new(mtn_cfg.clone()).unwrap()),
        };
        let notices = Notices { airtel: Some(airtel_cfg), mtn: Some(mtn_cfg) };
        let callback_url = sink.url(&format!("/cb/{SECRET}"));
        Env { cloud, sink, airtel, mtn, providers, notices, callback_url }
    }

    fn settle(&self) -> Settle<'_> {
        Settle { store: &self.cloud.store, sqs: &self.cloud.sqs, sms: None, notices: &self.notices }
    }

    fn ctx(&self) -> PurchaseCtx<'_, Providers<daraja::MemoryTokenStore>> {
        PurchaseCtx { settle: self.settle(), wallets: &self.providers, callback_url: &self.callback_url }
    }

    fn sim(&self, w: Wallet) -> &WalletSim {
        match w {
            Wallet::AirtelMoney => &self.airtel,
            _ => &self.mtn,
        }
    }

    /// A router in `country` that takes `wallets`.
    async fn router(&self, id: &str, country: Country, wallets: &str) -> TestRouter {
        let r = self.cloud.router_in(id, country).await;
        let offered: Offered = wallets.parse().unwrap();
        assert!(self.cloud.store.set_router_market(&r.record.id, country, &offered).await.unwrap());
        TestRouter { record: self.cloud.store.get_router(&r.record.id).await.unwrap().unwrap() }
    }

    /// The router `w` is tried at: a Kenyan one for Airtel, a Ugandan one for MTN.
    async fn router_for(&self, w: Wallet) -> TestRouter {
        match w {
            Wallet::MtnMomo => self.router("cafe-kampala", Country::Uganda, "airtel_money,mtn_momo").await,
            _ => self.router("cafe-nairobi", Country::Kenya, "mpesa,airtel_money").await,
        }
    }

    /// A guest buys the 1-hour pass; each device pays from its own number on the wallet's network
    /// in the router's country, written whole as the agent sends it (`2547331234`/`2567721234` + the
    /// MAC's last digits).
    async fn buy(&self, r: &TestRouter, w: Wallet, mac: &str) -> (u16, Value) {
        let prefix = if r.record.country == Country::Uganda { "2567721234" } else { "2547331234" };
        let phone = format!("{prefix}{}", &mac[mac.len() - 2..]);
        let body = json!({"mac": mac, "ip": "10.5.50.23", "package_id": "1h", "phone": phone, "wallet": w.as_str()});
        let reply = purchase(&self.ctx(), &r.record, body.to_string().as_bytes(), now()).await;
        (reply.status, reply.body)
    }

    /// The notifications the sink got after the first `from`, until it has `n`, handed to the
    /// callback function as `w`'s route would.
    async fn deliver(&self, w: Wallet, from: usize, n: usize) -> Vec<CallbackReply> {
        let mut out = Vec::new();
        for b in self.sink.wait_for(n, WAIT).await.into_iter().skip(from) {
            let ctx = CallbackCtx { settle: self.settle(), secret: SECRET };
            out.push(handle(&ctx, w, SECRET, None, &b, now()).await);
        }
        out
    }

    async fn state(&self, id: &PurchaseId) -> PurchaseState {
        self.cloud.store.get_purchase(id).await.unwrap().unwrap().state
    }

    async fn grants(&self, r: &TestRouter) -> usize {
        self.grants_at(r, now()).await
    }

    /// As `grants`, for jobs signed at a simulated later time.
    async fn grants_at(&self, r: &TestRouter, at: i64) -> usize {
        self.cloud.drain_jobs_at(r, at).await.iter().filter(|p| matches!(p, Payload::Grant(_))).count()
    }
}

fn pid(v: &Value) -> PurchaseId {
    v["purchase_id"].as_str().unwrap().parse().unwrap()
}

const BOTH: [Wallet; 2] = [Wallet::AirtelMoney, Wallet::MtnMomo];

#[tokio::test]
async fn paid_by_each_wallet_is_granted_once_with_its_receipt() {
    let env = Env::start().await;
    let mut ids = Vec::new();
    for (i, w) in BOTH.into_iter().enumerate() {
        let r = env.router_for(w).await;
        env.sim(w).push_scenario(Scenario::paid().twice());
        let (status, body) = env.buy(&r, w, &format!("DA:A1:19:00:01:0{i}")).await;
        assert_eq!(status, 201, "{body}");
        assert!(body["message"].as_str().unwrap().contains(w.label()), "{body}");
        let id = pid(&body);
        ids.push(id.clone());
        let replies = env.deliver(w, 2 * i, 2 * (i + 1)).await;
        assert!(replies.iter().all(|r| *r == CallbackReply::Accepted), "{replies:?}");
        assert_eq!(env.state(&id).await, PurchaseState::Paid);
        assert_eq!(env.grants(&r).await, 1, "{w:?}: a duplicate notification grants nothing more");
        // What the provider was asked: the number in its form, the price in its currency.
        let p = env.sim(w).payments().pop().unwrap();
        let want = match w {
            Wallet::AirtelMoney => (format!("7331234{i:02}"), "10", "KES"),
            _ => (format!("2567721234{i:02}"), "1000", "UGX"),
        };
        assert_eq!((p.msisdn.as_str(), p.amount.as_str(), p.currency.as_str()), (want.0.as_str(), want.1, want.2));
        let stored = env.cloud.store.get_purchase(&id).await.unwrap().unwrap();
        assert_eq!(stored.wallet, w);
        assert_eq!(stored.paid_amount.map(|m| m.currency().as_str()), Some(want.2));
        assert!(stored.receipt.as_deref().is_some_and(|r| !r.is_empty()));
        env.cloud.store.mark_active(&id, &r.record.id, now()).await.unwrap();
    }
    let at = now();
    let l = ledger::load(&env.cloud.store, at - 3600, at + 3600, at).await.unwrap();
    assert!(l.is_clean(), "{l:?}");
    assert_eq!(l.matched.len(), 2);
    let keys: Vec<&str> = l.matched.iter().map(|m| m.receipt.key.as_str()).collect();
    assert!(
        keys.iter().any(|k| k.starts_with("airtel_money:")) && keys.iter().any(|k| k.starts_with("mtn_momo:")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn a_failed_payment_says_why_in_the_wallets_words() {
    let env = Env::start().await;
    for (i, (w, code)) in
        [(Wallet::AirtelMoney, "DP00800001007"), (Wallet::MtnMomo, "NOT_ENOUGH_FUNDS")].into_iter().enumerate()
    {
        let r = env.router_for(w).await;
        env.sim(w).push_scenario(Scenario::failed(code));
        let (_, body) = env.buy(&r, w, &format!("DA:A1:19:00:02:0{i}")).await;
        let id = pid(&body);
        env.deliver(w, i, i + 1).await;
        // Airtel's callback says only "TF" (no reason): the payment failed, for a reason of "other".
        let p = env.cloud.store.get_purchase(&id).await.unwrap().unwrap();
        assert_eq!(p.state, PurchaseState::Failed, "{w:?}");
        if w == Wallet::MtnMomo {
            assert_eq!(p.failure, Some(PaymentFailure::InsufficientFunds));
            let view = lambdas::purchase::purchase_view(&p);
            assert!(view.message.unwrap().contains("MTN MoMo"));
        }
        assert_eq!(env.grants(&r).await, 0);
    }
}

#[tokio::test]
async fn a_lost_notification_is_found_by_the_reconciler() {
    let env = Env::start().await;
    let mut ids = Vec::new();
    let mut routers = Vec::new();
    for (i, w) in BOTH.into_iter().enumerate() {
        let r = env.router_for(w).await;
        env.sim(w).push_scenario(Scenario::paid().lost());
        ids.push(pid(&env.buy(&r, w, &format!("DA:A1:19:00:03:0{i}")).await.1));
        routers.push(r);
    }
    let report = reconcile(env.settle(), &env.providers, ReconcileConfig::default(), now() + 61).await.unwrap();
    assert_eq!(report.paid, 2, "{report:?}");
    for id in &ids {
        assert_eq!(env.state(id).await, PurchaseState::Paid);
    }
    for r in &routers {
        assert_eq!(env.grants(r).await, 1);
    }
    assert!(env.sink.received().is_empty());
}

/// The payment request's answer is lost (a 500 after the prompt may have gone out): Airtel and
/// MTN key it by our id, so the purchase keeps its reference and the status query settles it;
/// nothing is left unmatched.
#[tokio::test]
async fn an_answer_lost_in_an_outage_still_has_its_reference() {
    let env = Env::start().await;
    for (i, w) in BOTH.into_iter().enumerate() {
        let r = env.router_for(w).await;
        env.sim(w).inject(Endpoint::Pay, 500, 1);
        let (status, body) = env.buy(&r, w, &format!("DA:A1:19:00:04:0{i}")).await;
        assert_eq!(status, 201, "{body}");
        let id = pid(&body);
        let p = env.cloud.store.get_purchase(&id).await.unwrap().unwrap();
        assert_eq!(p.state, PurchaseState::Pending);
        assert!(p.checkout_id.is_some(), "linked before the prompt");
        // The prompt did not reach the simulator: its status query says so in its own way.
        let report = reconcile(env.settle(), &env.providers, ReconcileConfig::default(), now() + 61).await.unwrap();
        let after = env.state(&id).await;
        match w {
            // MTN: no such request (404) is a failed prompt.
            Wallet::MtnMomo => assert_eq!(after, PurchaseState::Failed, "{report:?}"),
            // Airtel: "not found" may be Airtel not knowing it yet: still pending, tried again.
            _ => assert_eq!(after, PurchaseState::Pending, "{report:?}"),
        }
    }
}

#[tokio::test]
async fn forged_or_misrouted_notifications_change_nothing() {
    let env = Env::start().await;
    let r = env.router_for(Wallet::AirtelMoney).await;
    env.airtel.push_scenario(Scenario::pending());
    let id = pid(&env.buy(&r, Wallet::AirtelMoney, "DA:A1:19:00:05:01").await.1);
    let ctx = CallbackCtx { settle: env.settle(), secret: SECRET };
    // A paid notification for this purchase without Airtel's hash, and with a wrong one.
    let unsigned =
        format!(r#"{{"transaction":{{"id":"{id}","message":"Paid","status_code":"TS","airtel_money_id":"MP1"}}}}"#);
    assert_eq!(
        handle(&ctx, Wallet::AirtelMoney, SECRET, None, unsigned.as_bytes(), now()).await,
        CallbackReply::NotFound
    );
    let forged = format!(
        r#"{{"transaction":{{"id":"{id}","message":"Paid","status_code":"TS","airtel_money_id":"MP1"}},"hash":"AAAA"}}"#
    );
    assert_eq!(
        handle(&ctx, Wallet::AirtelMoney, SECRET, None, forged.as_bytes(), now()).await,
        CallbackReply::NotFound
    );
    // The right secret but M-Pesa's route for an Airtel payment, and garbage.
    assert!(matches!(
        handle(&ctx, Wallet::Mpesa, SECRET, None, unsigned.as_bytes(), now()).await,
        CallbackReply::BadRequest(_)
    ));
    assert!(matches!(handle(&ctx, Wallet::MtnMomo, SECRET, None, b"{]", now()).await, CallbackReply::BadRequest(_)));
    assert_eq!(env.state(&id).await, PurchaseState::Pending);
    assert_eq!(env.grants(&r).await, 0);
}

#[tokio::test]
async fn a_wallet_the_router_does_not_take_is_refused_before_anything() {
    let env = Env::start().await;
    let r = env.router("cafe-01", Country::Kenya, "mpesa").await;
    let before = env.cloud.purchase_count().await;
    let (status, body) = env.buy(&r, Wallet::AirtelMoney, "DA:A1:19:00:06:01").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "wallet_not_taken");
    // A Ugandan number at a Kenyan router's Airtel Money (a Kenyan merchant): refused too.
    let r = env.router_for(Wallet::AirtelMoney).await;
    let body = json!({"mac": "DA:A1:19:00:06:02", "ip": "10.5.50.23", "package_id": "1h", "phone": "+256752123456",
        "wallet": "airtel_money"});
    let reply = purchase(&env.ctx(), &r.record, body.to_string().as_bytes(), now()).await;
    assert_eq!((reply.status, reply.body["error"].as_str()), (400, Some("wallet_not_for_number")), "{}", reply.body);
    assert!(reply.body["message"].as_str().unwrap_or_default().contains("Kenya numbers only"), "{}", reply.body);
    assert_eq!(env.cloud.purchase_count().await, before);
    assert!(env.airtel.payments().is_empty());
}

/// The prompt went out but its answer was lost (a 500 after the payment was taken): the purchase
/// was linked before the prompt, so the callback that follows settles it as any other; one grant.
#[tokio::test]
async fn a_lost_answer_then_its_callback_is_one_grant() {
    let env = Env::start().await;
    for (i, w) in BOTH.into_iter().enumerate() {
        let r = env.router_for(w).await;
        env.sim(w).lose_answers(500, 1);
        let (status, body) = env.buy(&r, w, &format!("DA:A1:19:00:07:0{i}")).await;
        assert_eq!(status, 201, "{body}");
        let id = pid(&body);
        assert_eq!(env.state(&id).await, PurchaseState::Pending, "{w:?}: not unknown, its reference is known");
        let replies = env.deliver(w, i, i + 1).await;
        assert_eq!(replies, [CallbackReply::Accepted], "{w:?}");
        assert_eq!(env.state(&id).await, PurchaseState::Paid, "{w:?}");
        assert_eq!(env.grants(&r).await, 1);
    }
}

/// The wallet is down for ten minutes (every status query a 503) and the callback is lost: the
/// reconciler's queries count for nothing, the purchase stays pending (not unknown), and once the
/// wallet answers the payment is found and granted once.
#[tokio::test]
async fn a_wallet_down_for_ten_minutes_uses_up_no_tries() {
    let env = Env::start().await;
    let mut ids = Vec::new();
    let mut routers = Vec::new();
    for (i, w) in BOTH.into_iter().enumerate() {
        let r = env.router_for(w).await;
        env.sim(w).push_scenario(Scenario::paid().lost());
        ids.push(pid(&env.buy(&r, w, &format!("DA:A1:19:00:08:0{i}")).await.1));
        routers.push(r);
        // Eleven runs a minute apart, more than the tries a purchase has.
        env.sim(w).inject(Endpoint::Status, 503, 11);
    }
    let cfg = ReconcileConfig::default();
    let t0 = now();
    for minute in 1..=11 {
        let report = reconcile(env.settle(), &env.providers, cfg, t0 + 61 * minute).await.unwrap();
        assert_eq!((report.no_answer, report.paid, report.unknown), (2, 0, 0), "minute {minute}: {report:?}");
    }
    for id in &ids {
        let p = env.cloud.store.get_purchase(id).await.unwrap().unwrap();
        assert_eq!((p.state, p.reconcile_tries), (PurchaseState::Pending, 0));
    }
    let report = reconcile(env.settle(), &env.providers, cfg, t0 + 61 * 12).await.unwrap();
    assert_eq!(report.paid, 2, "{report:?}");
    for r in &routers {
        assert_eq!(env.grants_at(r, t0 + 61 * 12).await, 1);
    }
}
