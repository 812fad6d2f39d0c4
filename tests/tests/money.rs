//! Nothing paid is lost on the whole local stack: a router that was offline for a day when its
//! guest paid still grants once it is back, an agent older than the cloud takes what the newer
//! cloud sends, and the ledger comes out clean.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use std::time::Duration;

use daraja_sim::{Answer, Scenario};
use e2e::bench::money::online_within;
use e2e::guest::{Guest, bin_dir, db_state};
use e2e::stack::{Options, Stack};
use hotspot_cloud::jobs::JOB_TTL_SECS;
use hotspot_cloud::store::PurchaseState;
use hotspot_core::PurchaseId;
use hotspot_core::clock::now_unix;
use hotspot_core::wire::{Direction, Envelope, Payload, sign_value};
use serde_json::json;

/// The guest paid; the router was offline for 25 h, so the grant job waiting on its queue is
/// older than a job may be (24 h) and the agent refuses it as stale. Before, that refusal was
/// journaled under the job's id and nothing re-sent it: the guest never got online. Now the
/// refusal (and the long absence) make the agent ask the cloud for the grants it is owed, the
/// cloud signs the same job afresh, and the fresh copy is applied in place of the refused one.
#[tokio::test]
async fn a_router_offline_for_25_hours_after_its_guest_paid_grants_when_it_returns() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    // The router drops off the internet, and then the guest approves the prompt.
    let (id, grant) = paid_while_the_agent_is_off(&stack, "7d", "0712 345 678").await;
    // The grant waits on the router's queue. A day and an hour pass: the same message, as the
    // agent would receive it then (the job signed 25 h before the router's clock).
    let stale = Envelope::new(
        grant.id.clone(),
        stack.router.id.clone(),
        now_unix() - 25 * 3600,
        JOB_TTL_SECS,
        grant.payload.clone(),
    );
    queue(&stack, stale.sign(&stack.router.key), "a-day-later").await;

    stack.start_agent(&[]).await.expect("the agent starts again");
    online_once_and_settled(&stack, &id).await;
}

/// An agent one wire version behind the cloud: the cloud was upgraded first (as it always is)
/// and its grant carries fields this agent has never heard of, at the top, in the body, in the
/// package, and a payment source it does not know. Before the compatibility rule the agent
/// refused the job as malformed (`deny_unknown_fields`, closed enums) and the guest who paid
/// never got online; now it ignores what it does not know, under the same signature.
#[tokio::test]
async fn an_agent_one_wire_version_behind_applies_what_a_newer_cloud_sends() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    // The agent is not polling, so the grant waits on the queue for the newer cloud's copy.
    let (id, grant) = paid_while_the_agent_is_off(&stack, "1h", "0712 345 679").await;

    let mut newer = grant.to_unsigned_value();
    newer["trace_id"] = json!("1-67890abc-def");
    newer["body"]["priority"] = json!(7);
    newer["body"]["package"]["colour"] = json!("green");
    newer["body"]["source"]["kind"] = json!("airtel");
    newer["body"]["source"]["transaction_id"] = json!("AM2612010001");
    let text = sign_value(newer, &stack.router.key).expect("signed as the newer cloud signs");
    assert!(text.contains("\"colour\":\"green\"") && text.contains("\"kind\":\"airtel\""), "{text}");
    queue(&stack, text, "from-a-newer-cloud").await;

    // The cloud API is out of reach, so the agent cannot fetch a re-signed copy (GET /grants)
    // had it refused this one: online means the newer message itself was applied.
    stack.uplink.cut_api();
    stack.start_agent(&[]).await.expect("the agent starts again");
    online_within(&stack, stack.options.guest_mac, Duration::from_secs(30)).await.expect("online from the queue alone");
    stack.uplink.restore();
    online_once_and_settled(&stack, &id).await;
}

/// The guest buys, the agent stops, the guest pays: the purchase and its grant job, taken off
/// the router's queue.
async fn paid_while_the_agent_is_off(stack: &Stack, package: &str, phone: &str) -> (PurchaseId, Envelope) {
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = Guest::new(stack).buy(package, phone).await;
    stack.stop_agent();
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    db_state(stack, &id, PurchaseState::Paid).await;
    let grant = waiting_grant(stack, &id).await;
    (id, grant)
}

/// The grant job for `id` the cloud left on the router's queue (the agent is stopped).
async fn waiting_grant(stack: &Stack, id: &PurchaseId) -> Envelope {
    let mut waiting = Vec::new();
    // (A long poll the stopped agent had open may hide it for its few seconds' visibility.)
    for _ in 0..150 {
        waiting = stack.moto.drain(&stack.router.queue_url).await.expect("drain");
        if !waiting.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    waiting
        .iter()
        .map(|b| {
            Envelope::verify(b.as_bytes(), &stack.router.key, &stack.router.id, now_unix(), Direction::CloudToRouter)
                .expect("signed for this router")
        })
        .find(|e| matches!(&e.payload, Payload::Grant(g) if g.purchase_id == *id))
        .expect("the grant")
}

/// Puts a message on the router's queue, as the cloud would send it.
async fn queue(stack: &Stack, body: String, dedup: &str) {
    stack
        .moto
        .sqs()
        .send_message()
        .queue_url(&stack.router.queue_url)
        .message_body(body)
        .message_group_id(stack.router.id.as_str())
        .message_deduplication_id(dedup)
        .send()
        .await
        .expect("queued");
}

/// The guest is online with exactly one grant, the purchase active, the ledger clean.
async fn online_once_and_settled(stack: &Stack, id: &PurchaseId) {
    online_within(stack, stack.options.guest_mac, Duration::from_secs(30)).await.expect("the guest is online");
    let st = stack.routeros.state();
    let session = st.session_of(stack.options.guest_mac).expect("the guest is online");
    assert_eq!(session.user, format!("hs-{id}"));
    db_state(stack, id, PurchaseState::Active).await;
    assert_eq!(st.users.iter().filter(|u| u.name == format!("hs-{id}")).count(), 1, "one grant");

    let now = now_unix();
    let ledger = hotspot_cloud::ledger::load(&stack.store, now - 3600, now + 60, now).await.expect("ledger");
    assert!(ledger.is_settled(), "{ledger:#?}");
    assert_eq!(ledger.matched.len(), 1);
}
