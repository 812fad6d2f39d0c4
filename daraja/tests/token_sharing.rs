//! One token shared by many instances through the TokenStore, refreshed early, by one instance at a time.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{client, config_for};
use daraja::{DarajaClient, MemoryTokenStore, QueryOutcome, TokenStore};
use daraja_sim::{DarajaSim, Scenario, SimConfig};
use tokio::sync::Barrier;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_instances_make_exactly_one_oauth_call() {
    // With invalidation on, a second OAuth call would break the first token holders' queries.
    let sim =
        DarajaSim::start(SimConfig { new_token_invalidates_old: true, ..SimConfig::for_tests() }).await.expect("sim");
    let sink = daraja_sim::CallbackSink::start().await.expect("sink");
    let store = Arc::new(MemoryTokenStore::new());
    // One push to have something to query (its own client, so its token is in the store too).
    sim.push_scenario(Scenario::paid());
    let seed = client(&sim, store.clone());
    let env = common::Env { sim, sink, client: seed };
    let checkout = env
        .client
        .stk_push(&common::push_request(&env, "0712345678", 10))
        .await
        .expect("push accepted")
        .checkout_request_id;
    env.sim.expire_tokens();

    const N: usize = 24;
    let barrier = Arc::new(Barrier::new(N));
    let mut tasks = Vec::new();
    for _ in 0..N {
        // A separate client per task: separate Lambda instances sharing only the store.
        let c = client(&env.sim, store.clone());
        let (b, id) = (barrier.clone(), checkout.clone());
        tasks.push(tokio::spawn(async move {
            b.wait().await;
            // The store still holds the expired token: every instance is refused once, and
            // they must agree on a single refresh.
            let outcome = c.stk_query(&id).await.expect("query");
            (c.access_token().await.expect("token"), outcome)
        }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        let (token, outcome) = t.await.expect("task");
        assert_eq!(outcome, QueryOutcome::Paid);
        tokens.push(token);
    }
    assert_eq!(env.sim.oauth_calls(), 2, "one for the seed push, exactly one for all {N} instances");
    assert!(tokens.windows(2).all(|w| w[0] == w[1]), "everyone got the same token");
    assert_eq!(store.load().await.expect("load").map(|t| t.token), tokens.first().cloned());
}

/// The control for the test above: instances that do not share a store each fetch a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_shared_store_every_instance_fetches_its_own() {
    let sim = DarajaSim::start(SimConfig::for_tests()).await.expect("sim");
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let c = client(&sim, Arc::new(MemoryTokenStore::new()));
        tasks.push(tokio::spawn(async move { c.access_token().await.expect("token") }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(sim.oauth_calls(), 5);
}

#[tokio::test]
async fn token_is_reused_until_the_refresh_margin() {
    let sim = DarajaSim::start(SimConfig::for_tests()).await.expect("sim");
    let c = client(&sim, Arc::new(MemoryTokenStore::new()));
    let a = c.access_token().await.expect("token");
    let b = c.access_token().await.expect("token");
    assert_eq!(a, b);
    assert_eq!(sim.oauth_calls(), 1);
}

#[tokio::test]
async fn token_inside_the_refresh_margin_is_replaced() {
    // Tokens live 200 s and the client refreshes 300 s early: every token is already due.
    let sim = DarajaSim::start(SimConfig { token_lifetime: Duration::from_secs(200), ..SimConfig::for_tests() })
        .await
        .expect("sim");
    let c = client(&sim, Arc::new(MemoryTokenStore::new()));
    let a = c.access_token().await.expect("token");
    let b = c.access_token().await.expect("token");
    assert_ne!(a, b);
    assert_eq!(sim.oauth_calls(), 2);
}

#[tokio::test]
async fn while_another_instance_refreshes_a_still_valid_token_is_used() {
    let sim = DarajaSim::start(SimConfig { token_lifetime: Duration::from_secs(200), ..SimConfig::for_tests() })
        .await
        .expect("sim");
    let store = Arc::new(MemoryTokenStore::new());
    let first = client(&sim, store.clone()).access_token().await.expect("token");
    // Someone else holds the refresh lease for a long time.
    let now = i64::try_from(std::time::UNIX_EPOCH.elapsed().expect("clock").as_secs()).expect("time");
    assert!(store.try_lease("other-instance", now, now + 3600).await.expect("lease"));
    let second = client(&sim, store.clone()).access_token().await.expect("token");
    assert_eq!(first, second, "due for refresh but valid for 200 s: used meanwhile");
    assert_eq!(sim.oauth_calls(), 1);
}

#[tokio::test]
async fn a_dead_holders_lease_lapses() {
    let sim = DarajaSim::start(SimConfig::for_tests()).await.expect("sim");
    let store = Arc::new(MemoryTokenStore::new());
    let now = i64::try_from(std::time::UNIX_EPOCH.elapsed().expect("clock").as_secs()).expect("time");
    // An instance took the lease and died; there is no token at all.
    assert!(store.try_lease("dead-instance", now, now + 1).await.expect("lease"));
    let mut cfg = config_for(&sim);
    cfg.lease_duration = Duration::from_secs(1);
    let c = DarajaClient::new(cfg, store.clone()).expect("client");
    c.access_token().await.expect("takes over once the lease lapsed");
    assert_eq!(sim.oauth_calls(), 1);
    assert!(store.load().await.expect("load").is_some());
}
