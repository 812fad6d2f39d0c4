//! C2B (Paybill from the subscriber's own phone): the published request shapes read, and the
//! whole exchange against the simulator — the client registers the URLs; a subscriber pays;
//! M-Pesa asks the validation URL, which accepts a known account and refuses an unknown one
//! (`C2B00012`); only an accepted (or, with `ResponseType` `Completed`, an unanswered) payment
//! completes and is confirmed.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use daraja::{C2bRejection, DarajaError, ResponseType, parse_c2b, validation_accept, validation_reject};
use daraja_sim::serve::{json, read_body, serve_with};
use daraja_sim::{C2bValidation, DarajaSim, SimConfig};
use hyper::StatusCode;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

#[test]
fn the_published_confirmation_and_validation_read() {
    let c = parse_c2b(&fixture("c2b_confirmation.json")).expect("confirmation");
    assert_eq!((c.transaction_type.as_str(), c.trans_id.as_str(), c.amount), ("Pay Bill", "RKTQDM7W6S", 10));
    assert_eq!((c.short_code.as_str(), c.bill_ref.as_str()), ("600638", "invoice008"));
    assert_eq!((c.msisdn.as_str(), c.trans_time.as_str()), ("25470****149", "20191122063845"));
    assert_eq!(c.org_account_balance.as_deref(), Some("49197.00"));
    let v = parse_c2b(&fixture("c2b_validation.json")).expect("validation");
    assert_eq!((v.trans_id, v.org_account_balance), ("RKTQDM7W6S".to_string(), None));
}

#[test]
fn malformed_requests_are_refused() {
    let good: serde_json::Value = serde_json::from_slice(&fixture("c2b_confirmation.json")).unwrap();
    let with = |k: &str, v: serde_json::Value| {
        let mut g = good.clone();
        g[k] = v;
        serde_json::to_vec(&g).unwrap()
    };
    for body in [
        b"".to_vec(),
        b"[]".to_vec(),
        b"{".to_vec(),
        with("TransAmount", "10.50".into()),
        with("TransAmount", "0".into()),
        with("TransID", "".into()),
        with("TransTime", "2019-11-22".into()),
        vec![b' '; 9000],
    ] {
        assert!(parse_c2b(&body).is_err(), "{}", String::from_utf8_lossy(&body));
    }
}

/// The merchant's two URLs: validation accepts the accounts it knows; confirmations are kept.
struct Merchant {
    url: String,
    confirmations: Arc<Mutex<Vec<Bytes>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Merchant {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn merchant(accounts: &[&str]) -> Merchant {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let confirmations: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let known: Arc<HashMap<String, ()>> = Arc::new(accounts.iter().map(|a| (a.to_string(), ())).collect());
    let kept = confirmations.clone();
    let task = tokio::spawn(serve_with(listener, move |req: hyper::Request<hyper::body::Incoming>| {
        let (kept, known) = (kept.clone(), known.clone());
        async move {
            let path = req.uri().path().to_string();
            let Some(body) = read_body(req.into_body()).await else {
                return json(StatusCode::PAYLOAD_TOO_LARGE, "{}".into());
            };
            let Ok(n) = parse_c2b(&body) else { return json(StatusCode::BAD_REQUEST, "{}".into()) };
            match path.as_str() {
                "/c2b/validate" if known.contains_key(&n.bill_ref) => json(StatusCode::OK, validation_accept()),
                "/c2b/validate" => json(StatusCode::OK, validation_reject(C2bRejection::InvalidAccountNumber)),
                _ => {
                    kept.lock().unwrap().push(body);
                    json(StatusCode::OK, daraja::confirmation_ack())
                }
            }
        }
    }));
    Merchant { url, confirmations, task }
}

async fn with_validation() -> (DarajaSim, daraja::DarajaClient<daraja::MemoryTokenStore>) {
    let sim = DarajaSim::start(SimConfig { c2b_external_validation: true, ..SimConfig::for_tests() }).await.unwrap();
    let client = common::client(&sim, Arc::new(daraja::MemoryTokenStore::new()));
    (sim, client)
}

#[tokio::test]
async fn a_known_account_is_paid_and_confirmed_an_unknown_one_is_refused() {
    let (sim, client) = with_validation().await;
    let m = merchant(&["ACC-1001"]).await;
    let (confirm, validate) = (format!("{}/c2b/confirm", m.url), format!("{}/c2b/validate", m.url));
    client.register_c2b_urls(&confirm, &validate, ResponseType::Cancelled).await.expect("registered");
    let reg = sim.c2b_registration().expect("registration");
    assert_eq!((reg.confirmation_url, reg.validation_url, reg.response_type), (confirm, validate, "Cancelled".into()));

    let paid = sim.c2b_pay("254712345678", 500, "ACC-1001").await;
    assert_eq!(
        (paid.validation, paid.completed, paid.confirmation_status),
        (Some(C2bValidation::Accepted), true, Some(200))
    );
    let got = m.confirmations.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let n = parse_c2b(&got[0]).expect("the confirmation reads");
    assert_eq!((n.amount, n.bill_ref.as_str(), n.trans_id.as_str()), (500, "ACC-1001", paid.trans_id.as_str()));
    assert_eq!(n.msisdn, "25471****678", "C2B v2 masks the payer's number");
    assert!(n.org_account_balance.is_some());
    // The simulator sends exactly the published sample's fields, no more and no fewer.
    let keys = |b: &[u8]| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(b).unwrap();
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&got[0]), keys(&fixture("c2b_confirmation.json")));

    let refused = sim.c2b_pay("254712345678", 500, "NO-SUCH").await;
    assert_eq!(refused.validation, Some(C2bValidation::Rejected { code: "C2B00012".into() }));
    assert!(!refused.completed && refused.confirmation.is_none());
    assert_eq!(m.confirmations.lock().unwrap().len(), 1, "no confirmation for a refused payment");
}

#[tokio::test]
async fn an_unanswered_validation_follows_the_response_type() {
    for (response_type, completes) in [(ResponseType::Completed, true), (ResponseType::Cancelled, false)] {
        let (sim, client) = with_validation().await;
        // A validation URL nobody listens on (a port just freed), a confirmation URL that keeps.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let m = merchant(&[]).await;
        let (confirm, validate) = (format!("{}/c2b/confirm", m.url), format!("http://{dead}/c2b/validate"));
        client.register_c2b_urls(&confirm, &validate, response_type).await.expect("registered");
        let p = sim.c2b_pay("254712345678", 50, "ANY").await;
        assert_eq!((p.validation, p.completed), (Some(C2bValidation::NoAnswer), completes), "{response_type:?}");
        assert_eq!(m.confirmations.lock().unwrap().len(), usize::from(completes), "{response_type:?}");
    }
}

#[tokio::test]
async fn without_external_validation_every_payment_is_confirmed() {
    let sim = DarajaSim::start(SimConfig::for_tests()).await.unwrap();
    let client = common::client(&sim, Arc::new(daraja::MemoryTokenStore::new()));
    let m = merchant(&[]).await;
    client
        .register_c2b_urls(
            &format!("{}/c2b/confirm", m.url),
            &format!("{}/c2b/validate", m.url),
            ResponseType::Completed,
        )
        .await
        .expect("registered");
    let p = sim.c2b_pay("254712345678", 50, "whatever").await;
    assert_eq!((p.validation, p.completed, p.confirmation_status), (None, true, Some(200)));
}

#[tokio::test]
async fn bad_registrations_are_refused() {
    let (sim, client) = with_validation().await;
    for (confirm, validate) in [
        ("https://example.com/mpesa/confirm", "https://example.com/validate"),
        ("https://example.com/confirm", "https://example.com/M-Pesa/validate"),
        ("https://mockbin.org/bin/x", "https://example.com/validate"),
        ("https://example.com/confirm", "http://example.com/validate"),
        ("not a url", "https://example.com/validate"),
    ] {
        let e = client.register_c2b_urls(confirm, validate, ResponseType::Completed).await.unwrap_err();
        assert!(matches!(e, DarajaError::Api { .. } | DarajaError::Rejected { .. }), "{confirm} {validate}: {e:?}");
    }
    assert!(sim.c2b_registration().is_none());
    // The sandbox's simulate call, by hand: refused with no URLs registered.
    let token = client.access_token().await.unwrap();
    let http = daraja_sim::http_client().unwrap();
    let r = http
        .post(format!("{}/mpesa/c2b/v1/simulate", sim.base_url()))
        .bearer_auth(token.secret())
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"ShortCode": sim.config().shortcode, "CommandID": "CustomerPayBillOnline", "Amount": 10,
                "Msisdn": "254708374149", "BillRefNumber": "x"})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(sim.c2b_payments().is_empty());
}
