//! Every documented payload in `tests/fixtures/` (sources in each directory's README) read by the
//! parsers, byte for byte as documented.

use hotspot_core::currency::{Currency, Money};
use hotspot_core::phone::Country;
use wallets::airtel::{self, AirtelConfig};
use wallets::mtn::{self, MtnConfig};
use wallets::{Outcome, PaymentFailure, Secret, WalletError};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

fn mtn_sandbox() -> MtnConfig {
    MtnConfig::new(mtn::SANDBOX_URL, "k", "u", "s", "sandbox", Country::Uganda)
}

fn mtn_uganda() -> MtnConfig {
    MtnConfig::new(mtn::PRODUCTION_URL, "k", "u", "s", "mtnuganda", Country::Uganda)
}

fn airtel_uganda() -> AirtelConfig {
    AirtelConfig::new(airtel::STAGING_URL, "id", "secret", Country::Uganda)
}

#[test]
fn mtn_token_has_a_numeric_lifetime() {
    let (t, life) = mtn::parse_token(200, &fixture("mtn/token_ok.json")).unwrap();
    assert!(t.expose().starts_with("eyJ"));
    assert_eq!(life.as_secs(), 3600);
    let e = mtn::parse_token(500, &fixture("mtn/error_500_token_login_failed.json")).unwrap_err();
    assert!(matches!(e, WalletError::WrongCredentials(_)), "{e:?}");
    let e = mtn::parse_token(401, &fixture("mtn/error_401_invalid_subscription_key.json")).unwrap_err();
    assert!(matches!(e, WalletError::WrongCredentials(_)), "{e:?}");
}

#[test]
fn mtn_statuses() {
    let cfg = mtn_sandbox();
    let Outcome::Paid(p) = mtn::parse_status(&cfg, 200, &fixture("mtn/status_successful.json")).unwrap() else {
        panic!("paid")
    };
    assert_eq!(p.receipt.as_deref(), Some("1195582132"));
    // The sandbox's EUR amount read in the merchant's currency's units.
    assert_eq!(p.amount, Some(Money::parse(Currency::Ugx, "50000").unwrap()));
    // A Swedish sandbox test number is no number of ours: no payer rather than a wrong one.
    assert_eq!(p.payer, None);

    let failed = |f: &str| match mtn::parse_status(&cfg, 200, &fixture(f)).unwrap() {
        Outcome::Failed(f) => f,
        o => panic!("{f}: {o:?}"),
    };
    let f = failed("mtn/status_failed.json");
    assert_eq!((f.code.as_str(), f.reason), ("INTERNAL_PROCESSING_ERROR", PaymentFailure::SystemBusy));
    let f = failed("mtn/status_rejected.json");
    assert_eq!((f.code.as_str(), f.reason), ("APPROVAL_REJECTED", PaymentFailure::Cancelled));
    assert_eq!(mtn::parse_status(&cfg, 200, &fixture("mtn/status_pending.json")).unwrap(), Outcome::Pending);
}

#[test]
fn mtn_docs_examples_with_numbers_and_reason_objects() {
    let cfg = mtn_uganda();
    let Outcome::Paid(p) = mtn::parse_status(&cfg, 200, &fixture("mtn/status_successful_docs_example.json")).unwrap()
    else {
        panic!("paid")
    };
    assert_eq!(p.receipt.as_deref(), Some("23503452"));
    assert_eq!(p.amount, Some(Money::parse(Currency::Ugx, "100").unwrap()));
    let Outcome::Failed(f) =
        mtn::parse_status(&cfg, 200, &fixture("mtn/status_failed_docs_example_reason_object.json")).unwrap()
    else {
        panic!("failed")
    };
    assert_eq!(f.code, "PAYER_NOT_FOUND");
    assert_eq!(f.description, "Payee does not exist");
    assert_eq!(f.reason, PaymentFailure::NotMpesa);
    // A paid status in another currency than the merchant's: the amount is not believed.
    let Outcome::Paid(p) = mtn::parse_status(&cfg, 200, &fixture("mtn/status_successful.json")).unwrap() else {
        panic!("paid")
    };
    assert_eq!(p.amount, None);
}

#[test]
fn mtn_errors() {
    assert!(mtn::parse_request_response(202, b"").is_ok());
    // A retry of the same reference id: the first one went out.
    assert!(mtn::parse_request_response(409, &fixture("mtn/error_409_resource_already_exist.json")).is_ok());
    let cfg = mtn_uganda();
    let Outcome::Failed(f) = mtn::parse_status(&cfg, 404, &fixture("mtn/error_404_resource_not_found.json")).unwrap()
    else {
        panic!("not found")
    };
    assert_eq!(f.code, "RESOURCE_NOT_FOUND");
    let e = mtn::parse_request_response(500, br#"{"code":"INVALID_CURRENCY","message":"Currency not supported."}"#)
        .unwrap_err();
    assert!(matches!(e, WalletError::Refused { .. }) && !e.may_have_prompted(), "{e:?}");
    let e = mtn::parse_request_response(500, br#"{"code":"INTERNAL_PROCESSING_ERROR","message":"x"}"#).unwrap_err();
    assert!(e.may_have_prompted(), "{e:?}");
}

#[test]
fn mtn_callbacks_carry_the_external_id() {
    let cfg = mtn_sandbox();
    let n = mtn::parse_callback(&cfg, &fixture("mtn/callback_successful.json")).unwrap();
    assert_eq!(n.reference, mtn::reference_id("79853abc-9f6a-11ef-9077-00155d27efc1"));
    assert!(matches!(n.outcome, Outcome::Paid(_)));
    let n = mtn::parse_callback(&cfg, &fixture("mtn/callback_failed.json")).unwrap();
    assert!(matches!(n.outcome, Outcome::Failed(_)));
    assert_eq!(mtn::parse_callback(&cfg, b"{}"), Err(mtn::CallbackError::NoReference));
    assert_eq!(mtn::parse_callback(&cfg, b"nope"), Err(mtn::CallbackError::NotJson));
    assert_eq!(mtn::parse_callback(&cfg, br#"{"externalId":"a","status":"WEIRD"}"#), Err(mtn::CallbackError::NoStatus));
}

#[test]
fn airtel_token_lifetime_is_a_string() {
    let (_, life) = airtel::parse_token(200, &fixture("airtel/token_ok.json")).unwrap();
    assert_eq!(life.as_secs(), 180);
}

#[test]
fn airtel_payment_answers() {
    assert!(airtel::parse_payment_response(200, &fixture("airtel/payment_accepted.json")).is_ok());
    // v2's sample has `"id": false`: the answer is still read.
    assert!(airtel::parse_payment_response(200, &fixture("airtel/payment_accepted_v2_id_false.json")).is_ok());
    let e =
        airtel::parse_payment_response(400, &fixture("airtel/payment_error_400_msisdn_not_found.json")).unwrap_err();
    match e {
        WalletError::Refused { failure, .. } => assert_eq!(failure, PaymentFailure::NotMpesa),
        e => panic!("{e:?}"),
    }
    let e = airtel::parse_payment_response(500, &fixture("airtel/payment_error_500_something_went_wrong.json"))
        .unwrap_err();
    assert!(e.may_have_prompted(), "{e:?}");
}

#[test]
fn airtel_enquiries_decide_by_the_transaction_status() {
    // `success: false` beside `TS` in Airtel's own sample: TS wins.
    let Outcome::Paid(p) = airtel::parse_enquiry(200, &fixture("airtel/enquiry_success.json")).unwrap() else {
        panic!("paid")
    };
    assert_eq!(p.receipt.as_deref(), Some("C36*****67"));
    let Outcome::Failed(f) = airtel::parse_enquiry(200, &fixture("airtel/enquiry_failed.json")).unwrap() else {
        panic!("failed")
    };
    assert_eq!((f.code.as_str(), f.reason), ("DP00800001005", PaymentFailure::Expired));
    assert_eq!(airtel::parse_enquiry(200, &fixture("airtel/enquiry_in_progress.json")).unwrap(), Outcome::Pending);
    assert_eq!(airtel::parse_enquiry(200, &fixture("airtel/enquiry_ambiguous.json")).unwrap(), Outcome::Pending);
}

#[test]
fn airtel_callbacks() {
    let cfg = airtel_uganda();
    let n = airtel::parse_callback(&cfg, &fixture("airtel/callback_success.json")).unwrap();
    assert_eq!(n.reference, "BBZMiscxy");
    let Outcome::Paid(p) = n.outcome else { panic!("paid") };
    assert_eq!(p.receipt.as_deref(), Some("MP210603.1234.L06941"));
    // No amount in Airtel's callback: the push was for the amount asked.
    assert_eq!(p.amount, None);
    let n = airtel::parse_callback(&cfg, &fixture("airtel/callback_failed.json")).unwrap();
    assert!(matches!(n.outcome, Outcome::Failed(_)));
    // Without callback authentication a hash is ignored; with it, a wrong or missing hash refuses.
    assert!(airtel::parse_callback(&cfg, &fixture("airtel/callback_success_with_hash.json")).is_ok());
    let keyed = AirtelConfig { callback_key: Some(Secret::new("app-private-key")), ..airtel_uganda() };
    assert_eq!(
        airtel::parse_callback(&keyed, &fixture("airtel/callback_success_with_hash.json")),
        Err(airtel::CallbackError::BadHash)
    );
    assert_eq!(
        airtel::parse_callback(&keyed, &fixture("airtel/callback_success.json")),
        Err(airtel::CallbackError::BadHash)
    );
    // The documented body re-signed with our key, pretty-printed as the fixture is: accepted.
    let raw = String::from_utf8(fixture("airtel/callback_success.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let tx_start = raw.find("{\n    \"id\"").unwrap();
    let tx_end = raw.rfind('}').unwrap();
    let tx = raw[tx_start..tx_end].trim_end();
    let hash = airtel::callback_hash(&Secret::new("app-private-key"), tx);
    let signed = format!(r#"{{"transaction": {tx}, "hash": "{hash}"}}"#);
    let n = airtel::parse_callback(&keyed, signed.as_bytes()).unwrap();
    assert_eq!(n.reference, v["transaction"]["id"].as_str().unwrap());
}
