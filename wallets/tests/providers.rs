//! Each provider's client against its simulator, over HTTP on loopback: the journeys (paid, failed,
//! a duplicate notification, a lost one found by the status query, a payer who answers late) and
//! the faults (outages before and after the prompt, expired and wrong credentials, a retried start).

use std::time::Duration;

use daraja_sim::{CallbackSink, DarajaSim, SimConfig};
use hotspot_core::currency::{Currency, Money};
use hotspot_core::phone::{Country, PhoneNumber};
use wallets::airtel::{self, AirtelClient, AirtelConfig};
use wallets::mtn::{self, MtnClient, MtnConfig};
use wallets::{Notification, Outcome, PaymentFailure, PaymentRequest, Provider, Secret, WalletError};
use wallets_sim::{AirtelSimConfig, Decision, Endpoint, MtnSimConfig, Scenario, WalletSim};

const WAIT: Duration = Duration::from_secs(10);

/// An environment on its way up.
type Starting = std::pin::Pin<Box<dyn std::future::Future<Output = Env>>>;

enum Kind {
    Mtn(MtnClient),
    Airtel(AirtelClient),
}

struct Env {
    sim: WalletSim,
    sink: CallbackSink,
    client: Kind,
}

impl Env {
    async fn mtn() -> Env {
        Env::mtn_with(MtnSimConfig::default()).await
    }

    async fn mtn_with(s: MtnSimConfig) -> Env {
        let sim = WalletSim::mtn(s.clone()).await.unwrap();
        let sink = CallbackSink::start().await.unwrap();
        let cfg = MtnConfig::new(
            sim.base_url(),
            s.subscription_key,
            s.api_user,
            s.api_key,
            s.target_environment,
            Country::Uganda,
        );
        Env { client: Kind::Mtn(MtnClient::new(cfg).unwrap()), sim, sink }
    }

    async fn airtel() -> Env {
        Env::airtel_with(None).await
    }

    async fn airtel_with(key: Option<&str>) -> Env {
        let sink = CallbackSink::start().await.unwrap();
        let s = AirtelSimConfig {
            callback_url: Some(sink.url("/cb/airtel/s3cret")),
            callback_key: key.map(str::to_string),
            ..AirtelSimConfig::default()
        };
        let sim = WalletSim::airtel(s.clone()).await.unwrap();
        let mut cfg = AirtelConfig::new(sim.base_url(), s.client_id, s.client_secret, Country::Uganda);
        cfg.callback_key = key.map(Secret::new);
        Env { client: Kind::Airtel(AirtelClient::new(cfg).unwrap()), sim, sink }
    }

    fn request(&self, reference: &str) -> PaymentRequest {
        PaymentRequest {
            payer: PhoneNumber::parse(Country::Uganda, "0772123456").unwrap(),
            amount: Money::parse(Currency::Ugx, "1000").unwrap(),
            reference: reference.into(),
            label: "Cafe & WiFi".into(),
            description: "1 hour".into(),
            callback_url: self.sink.url("/cb/mtn/s3cret"),
        }
    }

    async fn start(&self, reference: &str) -> Result<wallets::Started, WalletError> {
        let req = self.request(reference);
        match &self.client {
            Kind::Mtn(c) => c.start(&req).await,
            Kind::Airtel(c) => c.start(&req).await,
        }
    }

    async fn status(&self, reference: &str) -> Result<Outcome, WalletError> {
        match &self.client {
            Kind::Mtn(c) => c.status(reference).await,
            Kind::Airtel(c) => c.status(reference).await,
        }
    }

    /// The notifications the sink received, parsed as the callback function would.
    async fn notifications(&self, n: usize) -> Vec<Notification> {
        let bodies = self.sink.wait_for(n, WAIT).await;
        bodies
            .iter()
            .map(|b| match &self.client {
                Kind::Mtn(c) => mtn::parse_callback(c.config(), b).unwrap(),
                Kind::Airtel(c) => airtel::parse_callback(c.config(), b).unwrap(),
            })
            .collect()
    }

    fn envs() -> [fn() -> Starting; 2] {
        [|| Box::pin(Env::mtn()), || Box::pin(Env::airtel())]
    }
}

fn failed_code(e: &Env) -> &'static str {
    match e.client {
        Kind::Mtn(_) => "NOT_ENOUGH_FUNDS",
        Kind::Airtel(_) => "DP00800001007",
    }
}

#[tokio::test]
async fn paid_notified_and_queried_alike() {
    for env in Env::envs() {
        let e = env().await;
        let started = e.start("p-paid-1").await.unwrap();
        let [n] = &e.notifications(1).await[..] else { panic!("one notification") };
        assert_eq!(n.reference, started.reference);
        let Outcome::Paid(p) = &n.outcome else { panic!("{n:?}") };
        assert!(p.receipt.is_some());
        let Outcome::Paid(q) = e.status(&started.reference).await.unwrap() else { panic!("status paid") };
        assert_eq!(q.receipt, p.receipt);
        // What reached the provider: the number in its form, the amount in its type.
        let [rec] = &e.sim.payments()[..] else { panic!("one payment") };
        match e.client {
            Kind::Mtn(_) => {
                assert_eq!(
                    (rec.msisdn.as_str(), rec.amount.as_str(), rec.currency.as_str()),
                    ("256772123456", "1000", "UGX")
                )
            }
            Kind::Airtel(_) => assert_eq!((rec.msisdn.as_str(), rec.amount.as_str()), ("772123456", "1000")),
        }
    }
}

#[tokio::test]
async fn failed_with_our_reason() {
    for env in Env::envs() {
        let e = env().await;
        e.sim.push_scenario(Scenario::failed(failed_code(&e)));
        let started = e.start("p-failed-1").await.unwrap();
        let n = e.notifications(1).await;
        assert!(matches!(n[0].outcome, Outcome::Failed(_)), "{:?}", n[0]);
        let Outcome::Failed(f) = e.status(&started.reference).await.unwrap() else { panic!("status failed") };
        assert_eq!(f.reason, PaymentFailure::InsufficientFunds);
        assert_eq!(f.code, failed_code(&e));
    }
}

#[tokio::test]
async fn a_duplicate_notification_is_the_same_notification() {
    for env in Env::envs() {
        let e = env().await;
        e.sim.push_scenario(Scenario::paid().twice());
        e.start("p-twice-1").await.unwrap();
        let n = e.notifications(2).await;
        assert_eq!(n.len(), 2);
        assert_eq!(n[0], n[1]);
    }
}

#[tokio::test]
async fn a_lost_notification_is_found_by_the_status_query() {
    for env in Env::envs() {
        let e = env().await;
        e.sim.push_scenario(Scenario::paid().lost());
        let started = e.start("p-lost-1").await.unwrap();
        assert!(matches!(e.status(&started.reference).await.unwrap(), Outcome::Paid(_)));
        assert!(e.sink.received().is_empty());
    }
}

#[tokio::test]
async fn pending_until_the_payer_answers() {
    for env in Env::envs() {
        let e = env().await;
        e.sim.push_scenario(Scenario::pending());
        let started = e.start("p-late-1").await.unwrap();
        assert_eq!(e.status(&started.reference).await.unwrap(), Outcome::Pending);
        assert!(e.sim.answer(&started.reference, Decision::Paid));
        assert!(matches!(e.notifications(1).await[0].outcome, Outcome::Paid(_)));
        assert!(matches!(e.status(&started.reference).await.unwrap(), Outcome::Paid(_)));
        // Answered once: a second answer changes nothing.
        assert!(!e.sim.answer(&started.reference, Decision::Failed("X".into())));
    }
}

#[tokio::test]
async fn outages_say_whether_a_prompt_may_be_out() {
    for env in Env::envs() {
        let e = env().await;
        e.sim.inject(Endpoint::Pay, 503, 1);
        let err = e.start("p-outage-1").await.unwrap_err();
        assert!(matches!(err, WalletError::NoAnswer { may_have_prompted: false, .. }), "{err:?}");
        e.sim.inject(Endpoint::Pay, 500, 1);
        let err = e.start("p-outage-2").await.unwrap_err();
        assert!(err.may_have_prompted(), "{err:?}");
        // A status query in an outage is no answer, never a decision.
        let started = e.start("p-outage-3").await.unwrap();
        e.sim.inject(Endpoint::Status, 503, 1);
        assert!(matches!(e.status(&started.reference).await, Err(WalletError::NoAnswer { .. })));
        assert!(matches!(e.status(&started.reference).await.unwrap(), Outcome::Paid(_)));
    }
}

#[tokio::test]
async fn an_expired_token_is_replaced_once() {
    for env in Env::envs() {
        let e = env().await;
        e.start("p-token-1").await.unwrap();
        e.start("p-token-2").await.unwrap();
        assert_eq!(e.sim.hits(Endpoint::Token), 1, "one token serves both");
        e.sim.expire_tokens();
        e.start("p-token-3").await.unwrap();
        assert_eq!(e.sim.hits(Endpoint::Token), 2);
        assert_eq!(e.sim.payments().len(), 3);
    }
}

#[tokio::test]
async fn wrong_credentials_are_said_so() {
    let s = MtnSimConfig::default();
    let sim = WalletSim::mtn(s.clone()).await.unwrap();
    let cfg =
        MtnConfig::new(sim.base_url(), s.subscription_key, s.api_user, "wrong", s.target_environment, Country::Uganda);
    let err = MtnClient::new(cfg).unwrap().status(&mtn::reference_id("x")).await.unwrap_err();
    assert!(matches!(err, WalletError::WrongCredentials(_)), "{err:?}");

    let s = AirtelSimConfig::default();
    let sim = WalletSim::airtel(s.clone()).await.unwrap();
    let cfg = AirtelConfig::new(sim.base_url(), s.client_id, "wrong", Country::Uganda);
    let err = AirtelClient::new(cfg).unwrap().status("p-1").await.unwrap_err();
    assert!(matches!(err, WalletError::WrongCredentials(_)), "{err:?}");
}

#[tokio::test]
async fn a_retried_start_is_one_payment() {
    for env in Env::envs() {
        let e = env().await;
        let a = e.start("p-retry-1").await.unwrap();
        let b = e.start("p-retry-1").await.unwrap();
        assert_eq!(a.reference, b.reference);
        assert_eq!(e.sim.payments().len(), 1);
    }
}

#[tokio::test]
async fn wrong_country_or_currency_sends_nothing() {
    for env in Env::envs() {
        let e = env().await;
        let mut req = e.request("p-kenyan-1");
        req.payer = PhoneNumber::parse(Country::Kenya, "0733123456").unwrap();
        let r = match &e.client {
            Kind::Mtn(c) => c.start(&req).await,
            Kind::Airtel(c) => c.start(&req).await,
        };
        assert!(matches!(r, Err(WalletError::Invalid(_))), "{r:?}");
        assert_eq!(e.sim.hits(Endpoint::Pay), 0);
    }
}

#[tokio::test]
async fn airtel_callback_authentication() {
    let e = Env::airtel_with(Some("app-private-key")).await;
    e.start("p-hash-1").await.unwrap();
    let n = e.notifications(1).await;
    assert!(matches!(n[0].outcome, Outcome::Paid(_)));
    // The same body under another key is refused.
    let other = AirtelConfig {
        callback_key: Some(Secret::new("another")),
        ..AirtelConfig::new("https://x", "i", "s", Country::Uganda)
    };
    let body = e.sink.received()[0].clone();
    assert_eq!(airtel::parse_callback(&other, &body), Err(airtel::CallbackError::BadHash));
}

#[tokio::test]
async fn mtn_sandbox_takes_euros_and_put_or_post_callbacks() {
    let s = MtnSimConfig {
        target_environment: "sandbox".into(),
        currency: "EUR".into(),
        callback_post: true,
        reason_as_object: true,
        ..MtnSimConfig::default()
    };
    let e = Env::mtn_with(s).await;
    e.sim.push_scenario(Scenario::failed("APPROVAL_REJECTED"));
    let started = e.start("p-sandbox-1").await.unwrap();
    let n = e.notifications(1).await;
    let Outcome::Failed(f) = &n[0].outcome else { panic!("{n:?}") };
    assert_eq!((f.code.as_str(), f.reason), ("APPROVAL_REJECTED", PaymentFailure::Cancelled));
    assert_eq!(n[0].reference, started.reference);
    assert_eq!(e.sim.payments()[0].currency, "EUR");
}

/// M-Pesa through the same interface: Daraja's client and simulator as they are.
#[tokio::test]
async fn mpesa_behind_the_interface() {
    let sim = DarajaSim::start(SimConfig::for_tests()).await.unwrap();
    let sink = CallbackSink::start().await.unwrap();
    let s = sim.config();
    let cfg = daraja::ClientConfig::paybill(
        daraja::Environment::Custom(sim.base_url()),
        s.consumer_key.clone(),
        s.consumer_secret.clone(),
        s.shortcode.clone(),
        s.passkey.clone(),
    );
    let client = daraja::DarajaClient::new(cfg, std::sync::Arc::new(daraja::MemoryTokenStore::new())).unwrap();
    let req = PaymentRequest {
        payer: PhoneNumber::parse(Country::Kenya, "0712340000").unwrap(),
        amount: Money::parse(Currency::Kes, "20").unwrap(),
        reference: "p-mpesa-1".into(),
        label: "Mama's Cafe".into(),
        description: "WiFi 1 hour".into(),
        callback_url: sink.url("/cb/s3cret"),
    };
    let started = client.start(&req).await.unwrap();
    let body = sink.wait_for(1, WAIT).await[0].clone();
    let n = wallets::mpesa::parse_callback(&body).unwrap();
    assert_eq!(n.reference, started.reference);
    let Outcome::Paid(p) = n.outcome else { panic!("paid") };
    assert_eq!(p.amount, Some(Money::parse(Currency::Kes, "20").unwrap()));
    assert_eq!(p.payer.map(|p| p.e164()), Some("254712340000".to_string()));
    assert!(matches!(
        client.start(&PaymentRequest { amount: Money::parse(Currency::Kes, "20.50").unwrap(), ..req.clone() }).await,
        Err(WalletError::Invalid(_))
    ));
    assert!(matches!(client.status(&started.reference).await.unwrap(), Outcome::Paid(_)));
}

/// Where Airtel enforces message signing: payments go by v2, signed with Airtel's public key,
/// and Airtel (here its simulator, checking as the portal describes) refuses an unsigned payment
/// and a body that is not the one signed.
#[tokio::test]
async fn airtel_message_signing() {
    let sink = CallbackSink::start().await.unwrap();
    let s = AirtelSimConfig {
        callback_url: Some(sink.url("/cb/airtel/s3cret")),
        message_signing: true,
        ..AirtelSimConfig::default()
    };
    let sim = WalletSim::airtel(s.clone()).await.unwrap();
    let cfg = AirtelConfig::new(sim.base_url(), s.client_id.clone(), s.client_secret.clone(), Country::Uganda);
    let req = PaymentRequest {
        payer: PhoneNumber::parse(Country::Uganda, "0752123456").unwrap(),
        amount: Money::parse(Currency::Ugx, "1000").unwrap(),
        reference: "p-signed-1".into(),
        label: "Cafe".into(),
        description: "1 hour".into(),
        callback_url: String::new(),
    };
    // Unsigned: refused, and no prompt went out.
    let err = AirtelClient::new(cfg.clone()).unwrap().start(&req).await.unwrap_err();
    match &err {
        WalletError::Refused { failure, code, .. } => {
            assert_eq!(*failure, PaymentFailure::PromptFailed);
            assert!(code.contains("DP00800001026"), "{code}");
        }
        e => panic!("{e:?}"),
    }
    assert!(sim.payments().is_empty());
    // Signed: taken, notified, queried alike.
    let signed = AirtelClient::new(AirtelConfig { message_signing: true, ..cfg }).unwrap();
    let started = signed.start(&req).await.unwrap();
    assert_eq!(sim.payments().len(), 1);
    assert!(matches!(signed.status(&started.reference).await.unwrap(), Outcome::Paid(_)));
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);

    // A body other than the one signed is refused.
    let http = daraja_sim::http_client().unwrap();
    let token_reply = http
        .post(format!("{}/auth/oauth2/token", sim.base_url()))
        .header("Content-Type", "application/json")
        .body(serde_json::json!({"client_id": s.client_id, "client_secret": s.client_secret, "grant_type": "client_credentials"}).to_string())
        .send()
        .await
        .unwrap();
    let token: serde_json::Value = serde_json::from_slice(&token_reply.bytes().await.unwrap()).unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let key_reply = http
        .get(format!("{}/v1/rsa/encryption-keys", sim.base_url()))
        .header("Authorization", &bearer)
        .header("X-Country", "UG")
        .header("X-Currency", "UGX")
        .send()
        .await
        .unwrap();
    let status = key_reply.status().as_u16();
    let key = wallets::signing::parse_encryption_key(status, &key_reply.bytes().await.unwrap()).unwrap();
    let body = |id: &str, amount: u32| {
        serde_json::json!({
            "reference": "Cafe",
            "subscriber": {"country": "UG", "currency": "UGX", "msisdn": "752123456"},
            "transaction": {"amount": amount, "country": "UG", "currency": "UGX", "id": id},
        })
        .to_string()
    };
    let sig = wallets::signing::sign(&key, body("p-signed-2", 1000).as_bytes()).unwrap();
    let post = |b: String| {
        http.post(format!("{}/merchant/v2/payments/", sim.base_url()))
            .header("Authorization", &bearer)
            .header("X-Country", "UG")
            .header("X-Currency", "UGX")
            .header("Content-Type", "application/json")
            .header("x-signature", &sig.signature)
            .header("x-key", &sig.key)
            .body(b)
            .send()
    };
    let tampered = post(body("p-signed-2", 1)).await.unwrap();
    assert_eq!(tampered.status().as_u16(), 403);
    assert!(tampered.text().await.unwrap().contains("DP00800001026"));
    assert_eq!(post(body("p-signed-2", 1000)).await.unwrap().status().as_u16(), 200);
    assert_eq!(sim.payments().len(), 2);
}
