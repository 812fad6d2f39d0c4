//! The client against the simulator, one test per scenario: push, callback (parsed by
//! `parse_callback` exactly as the callback Lambda will), and STK query.

mod common;

use common::{WAIT, env, phone, push_request};
use daraja::{CallbackOutcome, QueryOutcome, ResultCode, StkCallback, parse_callback};
use daraja_sim::{Answer, CallbackMode, Scenario};
use hotspot_core::wire::PaymentFailure;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn one_callback(env: &common::Env) -> StkCallback {
    let got = env.sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "exactly one callback");
    parse_callback(&got[0]).expect("the simulator's callback parses")
}

#[tokio::test]
async fn success() {
    let env = env().await;
    env.sim.push_scenario(Scenario::paid());
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 20)).await.expect("push accepted");
    let cb = one_callback(&env).await;
    assert_eq!(cb.checkout_request_id, accepted.checkout_request_id);
    assert_eq!(cb.merchant_request_id, accepted.merchant_request_id);
    match cb.outcome {
        CallbackOutcome::Paid { amount, receipt, phone: p, transaction_date } => {
            assert_eq!(amount.map(|a| a.get()), Some(20));
            assert_eq!(p, Some(phone("254712345678")));
            assert!(receipt.is_some_and(|r| r.len() == 10));
            assert!(transaction_date.is_some_and(|d| d.len() == 14));
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(env.client.stk_query(&accepted.checkout_request_id).await.expect("query"), QueryOutcome::Paid);
    // What Daraja received: the paybill, the phone in both party fields, the texts as given.
    let pushes = env.sim.pushes();
    assert_eq!(pushes.len(), 1);
    let p = &pushes[0];
    assert_eq!((p.phone.as_str(), p.amount, p.party_b.as_str()), ("254712345678", 20, "174379"));
    assert_eq!((p.transaction_type.as_str(), p.account_reference.as_str()), ("CustomerPayBillOnline", "HOTSPOT-1H"));
    // The simulator's body shows Amount with decimals, as Daraja writes it.
    assert!(env.sim.callbacks()[0].body.contains(r#""Name":"Amount","Value":20.00"#));
}

#[tokio::test]
async fn every_failure_code() {
    let env = env().await;
    let table = [
        (1, PaymentFailure::InsufficientFunds),
        (17, PaymentFailure::TooSoon),
        (1019, PaymentFailure::Expired),
        (1025, PaymentFailure::PromptFailed),
        (1032, PaymentFailure::Cancelled),
        (1037, PaymentFailure::PhoneUnreachable),
        (2001, PaymentFailure::WrongPin),
        (2028, PaymentFailure::Other),
        (9999, PaymentFailure::PromptFailed),
    ];
    for (i, (code, reason)) in table.into_iter().enumerate() {
        env.sim.push_scenario(Scenario::failed(code));
        let accepted = env.client.stk_push(&push_request(&env, "0722000111", 10)).await.expect("push accepted");
        let got = env.sink.wait_for(i + 1, WAIT).await;
        assert_eq!(got.len(), i + 1);
        let cb = parse_callback(&got[i]).expect("parses");
        assert_eq!(cb.checkout_request_id, accepted.checkout_request_id);
        let CallbackOutcome::Failed { code: got_code, description } = cb.outcome else { panic!("{code}: not failed") };
        assert_eq!(got_code.code(), code.to_string());
        assert_eq!(got_code.failure(), Some(reason), "{code}");
        assert_eq!(
            CallbackOutcome::Failed { code: got_code.clone(), description: description.clone() }.failure(),
            Some(reason)
        );
        assert!(!description.is_empty());
        match env.client.stk_query(&accepted.checkout_request_id).await.expect("query") {
            QueryOutcome::Failed { code: q, .. } => assert_eq!(q, got_code),
            o => panic!("{code}: {o:?}"),
        }
    }
}

#[tokio::test]
async fn callback_never_sent_only_query_tells() {
    let env = env().await;
    env.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 50)).await.expect("push accepted");
    assert_eq!(env.client.stk_query(&accepted.checkout_request_id).await.expect("query"), QueryOutcome::Paid);
    assert!(env.sim.callbacks().is_empty());
    assert!(env.sink.received().is_empty());
}

#[tokio::test]
async fn callback_sent_twice_parses_the_same() {
    let env = env().await;
    env.sim.push_scenario(Scenario::failed(1032).with_callback(CallbackMode::Twice));
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 50)).await.expect("push accepted");
    let got = env.sink.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2);
    let (a, b) = (parse_callback(&got[0]).expect("first"), parse_callback(&got[1]).expect("second"));
    assert_eq!(a, b);
    assert_eq!(a.checkout_request_id, accepted.checkout_request_id);
}

#[tokio::test]
async fn callback_delayed_query_knows_first() {
    let env = env().await;
    env.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Held));
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 50)).await.expect("push accepted");
    assert_eq!(env.client.stk_query(&accepted.checkout_request_id).await.expect("query"), QueryOutcome::Paid);
    assert!(env.sink.received().is_empty(), "callback still held");
    assert_eq!(env.sim.release_callbacks(&accepted.checkout_request_id), 1);
    let cb = one_callback(&env).await;
    assert!(matches!(cb.outcome, CallbackOutcome::Paid { .. }));
}

#[tokio::test]
async fn string_result_code() {
    let env = env().await;
    env.sim.push_scenario(Scenario::string_code("SFC_IC0003"));
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 50)).await.expect("push accepted");
    assert!(env.sink.wait_for(1, WAIT).await.first().is_some_and(|b| contains(b, br#""ResultCode":"SFC_IC0003""#)));
    let cb = one_callback(&env).await;
    let want = ResultCode::NotSafaricom;
    assert!(matches!(&cb.outcome, CallbackOutcome::Failed { code, .. } if *code == want), "{:?}", cb.outcome);
    match env.client.stk_query(&accepted.checkout_request_id).await.expect("query") {
        QueryOutcome::Failed { code, .. } => {
            assert_eq!(code, want);
            assert_eq!(code.failure(), Some(PaymentFailure::NotMpesa));
        }
        o => panic!("{o:?}"),
    }
}

#[tokio::test]
async fn success_with_value_less_balance() {
    let env = env().await;
    env.sim.push_scenario(Scenario::paid_balance_without_value());
    env.client.stk_push(&push_request(&env, "0712345678", 30)).await.expect("push accepted");
    let body = env.sink.wait_for(1, WAIT).await;
    assert!(body.first().is_some_and(|b| contains(b, br#"{"Name":"Balance"}"#)));
    match one_callback(&env).await.outcome {
        CallbackOutcome::Paid { amount, receipt, .. } => {
            assert_eq!(amount.map(|a| a.get()), Some(30));
            assert!(receipt.is_some());
        }
        o => panic!("{o:?}"),
    }
}

#[tokio::test]
async fn pending_until_the_phone_answers() {
    let env = env().await;
    env.sim.push_scenario(Scenario::await_phone());
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 50)).await.expect("push accepted");
    assert_eq!(env.client.stk_query(&accepted.checkout_request_id).await.expect("query"), QueryOutcome::Pending);
    // Pending is not an error, so it is not retried: one query, one request.
    assert_eq!(env.sim.count("/mpesa/stkpushquery/v1/query"), 1);
    // A second prompt to the same phone is refused while the first is open.
    let e = env.client.stk_push(&push_request(&env, "0712345678", 50)).await.expect_err("phone busy");
    assert_eq!(e.api_kind(), Some(daraja::ApiErrorKind::SubscriberLocked));
    assert!(!e.may_have_prompted());
    assert!(env.sim.answer(&accepted.checkout_request_id, Answer::Pay));
    assert!(!env.sim.answer(&accepted.checkout_request_id, Answer::Cancel), "already answered");
    assert!(matches!(one_callback(&env).await.outcome, CallbackOutcome::Paid { .. }));
    assert_eq!(env.client.stk_query(&accepted.checkout_request_id).await.expect("query"), QueryOutcome::Paid);
}

#[tokio::test]
async fn phone_number_convention_picks_outcomes() {
    let env = env().await;
    // No scenario queued: the last four digits decide (docs/daraja.md).
    let accepted = env.client.stk_push(&push_request(&env, "0700001032", 10)).await.expect("push accepted");
    let cb = one_callback(&env).await;
    assert!(matches!(cb.outcome, CallbackOutcome::Failed { code: ResultCode::Cancelled, .. }));
    assert_eq!(cb.checkout_request_id, accepted.checkout_request_id);
    let accepted = env.client.stk_push(&push_request(&env, "0700000100", 10)).await.expect("push accepted");
    assert_eq!(env.client.stk_query(&accepted.checkout_request_id).await.expect("query"), QueryOutcome::Paid);
    assert_eq!(env.sim.callbacks().len(), 1, "0100 sends no callback");
}
