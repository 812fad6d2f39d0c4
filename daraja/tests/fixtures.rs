//! Parsing of real-world payload shapes (see tests/fixtures/README.md for where each was documented).

use daraja::{
    ApiError, ApiErrorKind, CallbackOutcome, DarajaError, QueryOutcome, ResultCode, parse_callback,
    parse_oauth_response, parse_push_response, parse_query_response,
};
use hotspot_core::wire::PaymentFailure;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn paid(name: &str) -> (u32, Option<String>, Option<String>, Option<String>) {
    let cb = parse_callback(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    match cb.outcome {
        CallbackOutcome::Paid { amount, receipt, phone, transaction_date } => {
            (amount.map(|a| a.get()).unwrap_or(0), receipt, phone.map(|p| p.digits().to_string()), transaction_date)
        }
        o => panic!("{name}: {o:?}"),
    }
}

#[test]
fn success_callback_with_decimal_amount() {
    let cb = parse_callback(&fixture("callback_success.json")).expect("parses");
    assert_eq!(cb.checkout_request_id, "ws_CO_191220191020363925");
    assert_eq!(cb.merchant_request_id, "29115-34620561-1");
    assert_eq!(
        paid("callback_success.json"),
        (1, Some("NLJ7RT61SV".into()), Some("254708374149".into()), Some("20191219102115".into()))
    );
}

#[test]
fn success_callback_with_integer_amount_in_another_order() {
    assert_eq!(
        paid("callback_success_integer_amount_reordered.json"),
        (1, Some("RGR7XYZ12A".into()), Some("254712345678".into()), Some("20230727162425".into()))
    );
}

#[test]
fn success_callback_with_value_less_balance() {
    assert_eq!(
        paid("callback_success_balance_without_value.json"),
        (1, Some("LGR7OWQX0R".into()), Some("254721566839".into()), Some("20170727154800".into()))
    );
}

fn failed(name: &str) -> (ResultCode, String) {
    match parse_callback(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}")).outcome {
        CallbackOutcome::Failed { code, description } => (code, description),
        o => panic!("{name}: {o:?}"),
    }
}

#[test]
fn failure_callbacks() {
    let (code, desc) = failed("callback_cancelled.json");
    assert_eq!((code.clone(), desc.as_str()), (ResultCode::Cancelled, "Request cancelled by user."));
    assert_eq!(code.failure(), Some(PaymentFailure::Cancelled));
    let (code, _) = failed("callback_insufficient_funds.json");
    assert_eq!(code.failure(), Some(PaymentFailure::InsufficientFunds));
}

/// A string code as Safaricom sends it: SFC_IC0003, a number that is not an M-Pesa subscriber.
#[test]
fn string_result_code_is_read_and_kept() {
    let (code, _) = failed("callback_string_result_code.json");
    assert_eq!(code, ResultCode::NotSafaricom);
    assert_eq!(code.code(), "SFC_IC0003", "kept as sent, for support");
    assert_eq!(code.failure(), Some(PaymentFailure::NotMpesa), "the guest is told to use an M-Pesa number");
}

fn api_error(name: &str, status: u16) -> ApiError {
    // An error body is an error whichever answer it arrives in.
    match parse_push_response(status, &fixture(name)) {
        Err(DarajaError::Api { status: s, error }) => {
            assert_eq!(s, status);
            error
        }
        r => panic!("{name}: {r:?}"),
    }
}

#[test]
fn error_bodies_in_both_key_cases() {
    let e = api_error("error_invalid_token.json", 404);
    assert_eq!((e.error_code.as_str(), e.kind()), ("404.001.03", ApiErrorKind::InvalidToken));
    assert_eq!(e.request_id.as_deref(), Some("11728-2929992-1"));
    let e = api_error("error_pascal_case.json", 400);
    assert_eq!(e.error_code, "400.002.02");
    assert_eq!(e.error_message, "Bad Request - Invalid PhoneNumber");
    assert_eq!(e.request_id.as_deref(), Some("a0b1-4c2d-9e3f-7a8b9c0d1e2f"));
    assert_eq!(e.kind(), ApiErrorKind::InvalidField);
    assert_eq!(api_error("error_spike_arrest.json", 500).kind(), ApiErrorKind::SpikeArrest);
    assert_eq!(api_error("error_wrong_credentials.json", 500).kind(), ApiErrorKind::WrongCredentials);
    assert_eq!(api_error("error_subscriber_locked.json", 500).kind(), ApiErrorKind::SubscriberLocked);
}

#[test]
fn oauth_expires_in_as_string_or_number() {
    for name in ["oauth_string_expires_in.json", "oauth_numeric_expires_in.json"] {
        let t = parse_oauth_response(200, &fixture(name), 1_000).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.expires_at, 1_000 + 3599, "{name}");
        assert!(!t.token.secret().is_empty());
    }
    let t = parse_oauth_response(200, &fixture("oauth_string_expires_in.json"), 0).expect("parses");
    assert_eq!(t.token.secret(), "c9SQxWWhmdVRlyh0zh8gZDTkubVF");
    assert!(matches!(
        parse_oauth_response(400, &fixture("error_invalid_token.json"), 0),
        Err(DarajaError::Api { status: 400, .. })
    ));
    // Bad credentials often come back as an empty 400.
    assert!(matches!(parse_oauth_response(400, b"", 0), Err(DarajaError::Unexpected { status: 400, .. })));
}

#[test]
fn push_accepted() {
    let a = parse_push_response(200, &fixture("push_accepted.json")).expect("accepted");
    assert_eq!(a.checkout_request_id, "ws_CO_191220191020363925");
    assert_eq!(a.merchant_request_id, "29115-34620561-1");
    assert_eq!(a.customer_message, "Success. Request accepted for processing");
    let r = parse_push_response(200, br#"{"ResponseCode":"1","ResponseDescription":"no"}"#);
    assert!(matches!(r, Err(DarajaError::Rejected { ref code, .. }) if code == "1"), "{r:?}");
}

#[test]
fn query_shapes() {
    assert_eq!(parse_query_response(500, &fixture("query_pending.json")).expect("pending"), QueryOutcome::Pending);
    assert_eq!(parse_query_response(200, &fixture("query_success.json")).expect("paid"), QueryOutcome::Paid);
    assert_eq!(
        parse_query_response(200, &fixture("query_cancelled.json")).expect("failed"),
        QueryOutcome::Failed { code: ResultCode::Cancelled, description: "Request cancelled by user".into() }
    );
    // The other meanings of 500.001.1001 are errors, not "pending".
    assert!(matches!(
        parse_query_response(500, &fixture("error_wrong_credentials.json")),
        Err(DarajaError::Api { status: 500, .. })
    ));
    assert!(matches!(parse_query_response(502, b"<html>bad gateway</html>"), Err(DarajaError::Unexpected { .. })));
}
