//! Nothing paid is lost on the whole local stack: a router that was offline for a day when its
//! guest paid still grants once it is back, and the ledger comes out clean.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use std::time::Duration;

use daraja_sim::{Answer, Scenario};
use e2e::guest::{Guest, bin_dir, db_state};
use e2e::stack::{Options, Stack};
use hotspot_cloud::jobs::JOB_TTL_SECS;
use hotspot_cloud::store::PurchaseState;
use hotspot_core::clock::now_unix;
use hotspot_core::wire::{Direction, Envelope, Payload};

/// The guest paid; the router was offline for 25 h, so the grant job waiting on its queue is
/// older than a job may be (24 h) and the agent refuses it as stale. Before, that refusal was
/// journaled under the job's id and nothing re-sent it: the guest never got online. Now the
/// refusal (and the long absence) make the agent ask the cloud for the grants it is owed, the
/// cloud signs the same job afresh, and the fresh copy is applied in place of the refused one.
#[tokio::test]
async fn a_router_offline_for_25_hours_after_its_guest_paid_grants_when_it_returns() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = guest.buy("7d", "0712 345 678").await;
    // The router drops off the internet, and then the guest approves the prompt.
    stack.stop_agent();
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    db_state(&stack, &id, PurchaseState::Paid).await;
    // The grant waits on the router's queue. A day and an hour pass: the same message, as the
    // agent would receive it then (the job signed 25 h before the router's clock).
    let mut waiting = Vec::new();
    // (A long poll the stopped agent had open may hide it for its few seconds' visibility.)
    for _ in 0..150 {
        waiting = stack.moto.drain(&stack.router.queue_url).await.expect("drain");
        if !waiting.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let jobs: Vec<Envelope> = waiting
        .iter()
        .map(|b| {
            Envelope::verify(b.as_bytes(), &stack.router.key, &stack.router.id, now_unix(), Direction::CloudToRouter)
                .expect("signed for this router")
        })
        .collect();
    let grant =
        jobs.iter().find(|e| matches!(&e.payload, Payload::Grant(g) if g.purchase_id == id)).expect("the grant");
    let stale = Envelope::new(
        grant.id.clone(),
        stack.router.id.clone(),
        now_unix() - 25 * 3600,
        JOB_TTL_SECS,
        grant.payload.clone(),
    );
    stack
        .moto
        .sqs()
        .send_message()
        .queue_url(&stack.router.queue_url)
        .message_body(stale.sign(&stack.router.key))
        .message_group_id(stack.router.id.as_str())
        .message_deduplication_id(format!("{}-a-day-later", grant.id))
        .send()
        .await
        .expect("the stale copy queued");

    stack.start_agent(&[]).await.expect("the agent starts again");
    for _ in 0..300 {
        if stack.routeros.state().session_of(stack.options.guest_mac).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let st = stack.routeros.state();
    let session = st.session_of(stack.options.guest_mac).expect("the guest is online");
    assert_eq!(session.user, format!("hs-{id}"));
    db_state(&stack, &id, PurchaseState::Active).await;
    assert_eq!(st.users.iter().filter(|u| u.name == format!("hs-{id}")).count(), 1, "one grant");

    let now = now_unix();
    let ledger = hotspot_cloud::ledger::load(&stack.store, now - 3600, now + 60, now).await.expect("ledger");
    assert!(ledger.is_settled(), "{ledger:#?}");
    assert_eq!(ledger.matched.len(), 1);
}
