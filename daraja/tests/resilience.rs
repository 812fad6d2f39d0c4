//! Retries where safe, never a blind STK push retry, timeouts, token expiry and the errors a
//! misconfiguration produces.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{config_for, env, env_with, push_request};
use daraja::{
    ApiErrorKind, ClientConfig, DarajaClient, DarajaError, Environment, MemoryTokenStore, QueryOutcome, RequestError,
};
use daraja_sim::{Endpoint, Fault, Scenario, SimConfig};

const PUSH: &str = "/mpesa/stkpush/v1/processrequest";
const QUERY: &str = "/mpesa/stkpushquery/v1/query";

#[tokio::test]
async fn oauth_is_retried_after_a_gateway_error() {
    let env = env().await;
    env.sim.inject_fault(Endpoint::OAuth, Fault::service_unavailable());
    env.client.access_token().await.expect("second attempt succeeds");
    assert_eq!(env.sim.oauth_calls(), 2);
}

#[tokio::test]
async fn oauth_retries_are_bounded() {
    let env = env().await;
    for _ in 0..5 {
        env.sim.inject_fault(Endpoint::OAuth, Fault::service_unavailable());
    }
    let e = env.client.access_token().await.expect_err("all attempts fail");
    assert!(matches!(e, DarajaError::Unexpected { status: 503, .. }), "{e:?}");
    assert_eq!(env.sim.oauth_calls(), 3, "max_attempts is 3");
}

#[tokio::test]
async fn query_is_retried_through_spike_arrest_and_gateway_errors() {
    let env = env().await;
    env.sim.push_scenario(Scenario::failed(1037));
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 10)).await.expect("push accepted");
    env.sim.inject_fault(Endpoint::StkQuery, Fault::spike_arrest());
    env.sim.inject_fault(Endpoint::StkQuery, Fault::service_unavailable());
    let outcome = env.client.stk_query(&accepted.checkout_request_id).await.expect("third attempt answers");
    assert!(matches!(outcome, QueryOutcome::Failed { code: daraja::ResultCode::PhoneUnreachable, .. }));
    assert_eq!(env.sim.count(QUERY), 3);
}

#[tokio::test]
async fn push_is_never_retried_on_spike_arrest() {
    let env = env().await;
    env.sim.inject_fault(Endpoint::StkPush, Fault::spike_arrest());
    let e = env.client.stk_push(&push_request(&env, "0712345678", 10)).await.expect_err("rejected");
    assert_eq!(e.api_kind(), Some(ApiErrorKind::SpikeArrest));
    assert!(e.is_transient() && !e.may_have_prompted());
    assert_eq!(env.sim.count(PUSH), 1);
}

#[tokio::test]
async fn push_is_never_retried_on_a_gateway_error() {
    let env = env().await;
    env.sim.inject_fault(Endpoint::StkPush, Fault::service_unavailable());
    let e = env.client.stk_push(&push_request(&env, "0712345678", 10)).await.expect_err("5xx");
    assert!(e.may_have_prompted(), "a bare 5xx may have been processed: {e:?}");
    assert_eq!(env.sim.count(PUSH), 1);
}

#[tokio::test]
async fn push_timeout_is_reported_as_maybe_prompted_and_not_retried() {
    let sim = daraja_sim::DarajaSim::start(SimConfig::for_tests()).await.expect("sim");
    let sink = daraja_sim::CallbackSink::start().await.expect("sink");
    let mut cfg = config_for(&sim);
    cfg.request_timeout = Duration::from_millis(300);
    let client = DarajaClient::new(cfg, Arc::new(MemoryTokenStore::new())).expect("client");
    client.access_token().await.expect("token first, so only the push is slow");
    sim.inject_fault(Endpoint::StkPush, Fault::delay(Duration::from_secs(30)));
    let env = common::Env { sim, sink, client };
    let e = env.client.stk_push(&push_request(&env, "0712345678", 10)).await.expect_err("times out");
    assert!(matches!(e, DarajaError::Transport { maybe_sent: true, .. }), "{e:?}");
    assert!(e.may_have_prompted());
    assert_eq!(env.sim.count(PUSH), 1);
}

#[tokio::test]
async fn expired_token_is_refreshed_and_the_push_resent_once() {
    let env = env().await;
    env.client.access_token().await.expect("token");
    env.sim.expire_tokens();
    env.sim.push_scenario(Scenario::paid());
    env.client.stk_push(&push_request(&env, "0712345678", 10)).await.expect("accepted after refresh");
    assert_eq!(env.sim.oauth_calls(), 2);
    assert_eq!(env.sim.count(PUSH), 2, "one rejected for the token, one accepted");
    assert_eq!(env.sim.pushes().len(), 1, "the customer was prompted once");
}

#[tokio::test]
async fn expired_token_is_refreshed_for_a_query() {
    let env = env().await;
    env.sim.push_scenario(Scenario::paid());
    let accepted = env.client.stk_push(&push_request(&env, "0712345678", 10)).await.expect("accepted");
    env.sim.expire_tokens();
    assert_eq!(env.client.stk_query(&accepted.checkout_request_id).await.expect("query"), QueryOutcome::Paid);
    assert_eq!(env.sim.oauth_calls(), 2);
}

#[tokio::test]
async fn bad_consumer_secret_is_not_retried() {
    let env = env().await;
    let mut cfg = config_for(&env.sim);
    cfg.consumer_secret = daraja::Secret::new("wrong");
    let client = DarajaClient::new(cfg, Arc::new(MemoryTokenStore::new())).expect("client");
    let e = client.access_token().await.expect_err("refused");
    assert_eq!(e.api_kind(), Some(ApiErrorKind::BadOAuthRequest));
    assert_eq!(env.sim.oauth_calls(), 1);
}

#[tokio::test]
async fn wrong_passkey_reads_as_wrong_credentials_in_both_key_cases() {
    for pascal in [false, true] {
        let env = env_with(SimConfig { pascal_case_errors: pascal, ..SimConfig::for_tests() }).await;
        let mut cfg = config_for(&env.sim);
        cfg.passkey = daraja::Secret::new("not-the-passkey");
        let client = DarajaClient::new(cfg, Arc::new(MemoryTokenStore::new())).expect("client");
        let e = client.stk_push(&push_request(&env, "0712345678", 10)).await.expect_err("refused");
        assert_eq!(e.api_kind(), Some(ApiErrorKind::WrongCredentials), "pascal={pascal}: {e:?}");
        let e = client.stk_query("ws_CO_123").await.expect_err("refused");
        assert_eq!(e.api_kind(), Some(ApiErrorKind::WrongCredentials), "pascal={pascal}: {e:?}");
        assert!(env.sim.pushes().is_empty());
    }
}

#[tokio::test]
async fn invalid_requests_never_reach_daraja() {
    let env = env().await;
    let mut r = push_request(&env, "0712345678", 10);
    r.account_reference = "THIRTEEN-CHRS".into();
    assert!(matches!(env.client.stk_push(&r).await, Err(DarajaError::Request(RequestError::AccountReference))));
    let mut r = push_request(&env, "0712345678", 10);
    r.transaction_desc = "fourteen chars".into();
    assert!(matches!(env.client.stk_push(&r).await, Err(DarajaError::Request(RequestError::TransactionDesc))));
    let mut r = push_request(&env, "0712345678", 10);
    r.callback_url = "http://example.com/cb".into();
    assert!(matches!(env.client.stk_push(&r).await, Err(DarajaError::Request(RequestError::CallbackUrl))));
    assert!(matches!(
        env.client.stk_query("ws CO\n").await,
        Err(DarajaError::Request(RequestError::CheckoutRequestId))
    ));
    assert!(env.sim.requests().is_empty());
}

#[tokio::test]
async fn unknown_checkout_id_is_an_invalid_field() {
    let env = env().await;
    let e = env.client.stk_query("ws_CO_000000").await.expect_err("unknown");
    assert_eq!(e.api_kind(), Some(ApiErrorKind::InvalidField));
    assert_eq!(env.sim.count(QUERY), 1, "a 4xx is not retried");
}

#[tokio::test]
async fn simulator_checks_the_callback_url_itself() {
    // The simulator without loopback http refuses what the client lets through for tests.
    let env = env_with(SimConfig::default()).await;
    let e = env.client.stk_push(&push_request(&env, "0712345678", 10)).await.expect_err("http callback refused");
    let DarajaError::Api { error, .. } = e else { panic!("{e:?}") };
    assert_eq!(error.error_message, "Bad Request - Invalid CallBackURL");
}

#[tokio::test]
async fn buy_goods_pays_the_till() {
    let env = env().await;
    let s = env.sim.config();
    let cfg = ClientConfig {
        retry: config_for(&env.sim).retry,
        ..ClientConfig::buy_goods(
            Environment::Custom(env.sim.base_url()),
            s.consumer_key.clone(),
            s.consumer_secret.clone(),
            s.shortcode.clone(),
            "5123456",
            s.passkey.clone(),
        )
    };
    let client = DarajaClient::new(cfg, Arc::new(MemoryTokenStore::new())).expect("client");
    env.sim.push_scenario(Scenario::paid());
    client.stk_push(&push_request(&env, "0112345678", 10)).await.expect("accepted");
    let p = &env.sim.pushes()[0];
    assert_eq!(
        (p.transaction_type.as_str(), p.party_b.as_str(), p.business_short_code.as_str(), p.phone.as_str()),
        ("CustomerBuyGoodsOnline", "5123456", "174379", "254112345678")
    );
    assert_eq!(p.result_code.as_deref(), Some("0"));
}

#[tokio::test]
async fn paybill_to_another_party_b_fails_with_2028() {
    let env = env().await;
    let mut cfg = config_for(&env.sim);
    cfg.party_b = "600000".into();
    let client = DarajaClient::new(cfg, Arc::new(MemoryTokenStore::new())).expect("client");
    env.sim.push_scenario(Scenario::paid());
    let accepted = client.stk_push(&push_request(&env, "0712345678", 10)).await.expect("accepted");
    match client.stk_query(&accepted.checkout_request_id).await.expect("query") {
        QueryOutcome::Failed { code, .. } => assert_eq!(code, daraja::ResultCode::NotPermitted),
        o => panic!("{o:?}"),
    }
}

#[test]
fn config_is_validated() {
    let store = Arc::new(MemoryTokenStore::new());
    let ok = ClientConfig::paybill(Environment::Sandbox, "k", "s", "174379", "p");
    assert!(DarajaClient::new(ok.clone(), store.clone()).is_ok());
    let bad = ClientConfig { business_short_code: "17a379".into(), ..ok.clone() };
    assert!(DarajaClient::new(bad, store.clone()).is_err());
    let bad = ClientConfig { environment: Environment::Custom("ftp://x".into()), ..ok.clone() };
    assert!(DarajaClient::new(bad, store.clone()).is_err());
    let bad = ClientConfig::paybill(Environment::Production, "k", "s", "174379", "");
    assert!(DarajaClient::new(bad, store).is_err());
}
