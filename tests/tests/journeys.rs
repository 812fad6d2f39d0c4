//! Guest journeys through the whole system on the local stack: portal → purchase λ → STK push →
//! the phone → callback λ → SQS → agent → an active hotspot session; each checked in DynamoDB,
//! on the router and on the guest's page.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use std::time::Duration;

use daraja_sim::{Answer, Scenario};
use e2e::guest::{Guest, bin_dir, db_state, http};
use e2e::stack::{Options, Stack};
use hotspot_cloud::store::PurchaseState;
use hotspot_core::PurchaseId;

#[tokio::test]
async fn a_guest_pays_and_is_online_without_typing_a_code() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (wait, id) = guest.buy("24h", "0712 345 678").await;
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains("Check your phone"), "{page}");
    // The guest approves the prompt on their phone.
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert_eq!((push.amount, push.phone.as_str()), (50, "254712345678"));
    assert_eq!(push.account_reference, "Cafe Westlan", "the prompt names the hotspot (12 characters)");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains("http://example.com/"), "forwards the guest where they were going: {page}");
    // On the router: a user bound to the guest's MAC, logged in.
    let st = stack.routeros.state();
    let session = st.session_of(stack.options.guest_mac).expect("an active hotspot session");
    assert_eq!(session.user, format!("hs-{id}"));
    // In DynamoDB: paid, then active once the agent's report came back.
    db_state(&stack, &id, PurchaseState::Active).await;
    let p = stack.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!(p.expires_at.zip(p.paid_at).map(|(e, s)| e - s), Some(86_400));
}

#[tokio::test]
async fn a_cancelled_prompt_is_explained_to_the_guest() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (wait, id) = guest.buy("1h", "0712 345 678").await;
    let push = stack.daraja.pushes().pop().unwrap();
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Cancel));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "failed");
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains("You cancelled the M-Pesa request."), "{page}");
    db_state(&stack, &id, PurchaseState::Failed).await;
    assert!(stack.routeros.state().users.is_empty(), "no grant");
}

async fn paid_online(stack: &Stack, guest: &Guest<'_>, id: &PurchaseId) {
    assert_eq!(guest.wait_for_state(id, &["online", "failed"]).await, "online");
    db_state(stack, id, PurchaseState::Active).await;
}

#[tokio::test]
async fn duplicate_callbacks_give_one_grant() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::paid().with_callback(daraja_sim::CallbackMode::Twice));
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    paid_online(&stack, &guest, &id).await;
    let cbs = stack.daraja.callbacks();
    assert_eq!(cbs.len(), 2, "Safaricom called twice");
    assert!(cbs.iter().all(|c| c.status == Some(200)), "both acknowledged: {cbs:?}");
    let st = stack.routeros.state();
    assert_eq!((st.users.len(), st.active.len()), (1, 1), "one grant");
}

#[tokio::test]
async fn insufficient_funds_is_explained() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::failed(1));
    let (wait, id) = guest.buy("7d", "0712 345 678").await;
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "failed");
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains("Your M-Pesa balance was not enough."), "{page}");
    db_state(&stack, &id, PurchaseState::Failed).await;
}

#[tokio::test]
async fn a_lost_callback_is_recovered_by_the_reconciler() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::paid().with_callback(daraja_sim::CallbackMode::Never));
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    assert_eq!(guest.state(&id).await, "awaiting_payment");
    // A minute passes with no callback (the reconciler leaves younger purchases to the callback).
    stack
        .moto
        .dynamodb()
        .update_item()
        .table_name("hotspot")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("PURCHASE#{id}")))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("META".into()))
        .update_expression("SET created_at = :t")
        .expression_attribute_values(
            ":t",
            aws_sdk_dynamodb::types::AttributeValue::N((hotspot_core::clock::now_unix() - 120).to_string()),
        )
        .send()
        .await
        .unwrap();
    let report = stack.invoker.invoke("reconcile", &testkit::lambda::scheduled_event()).await.unwrap();
    assert_eq!(report["paid"], 1, "{report}");
    paid_online(&stack, &guest, &id).await;
    assert!(stack.daraja.callbacks().is_empty(), "no callback ever came");
}

#[tokio::test]
async fn forged_callbacks_and_spoofed_macs_are_refused() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    let checkout = stack.daraja.pushes().pop().unwrap().checkout_request_id;
    let body = |checkout: &str| {
        format!(
            r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"m","CheckoutRequestID":"{checkout}","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{{"Item":[{{"Name":"Amount","Value":10}},{{"Name":"MpesaReceiptNumber","Value":"FORGED0001"}}]}}}}}}}}"#
        )
    };
    let gw = stack.gateway_url.trim_start_matches("http://").to_string();
    let post = |path: String, b: String| {
        let gw = gw.clone();
        async move {
            http(&gw, format!("POST {path} HTTP/1.1\r\nHost: api\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}", b.len())).await
        }
    };
    // The right CheckoutRequestID on a guessed path is refused.
    assert_eq!(post("/cb/guessed-secret".into(), body(&checkout)).await.0, 404);
    // An invented id on the right path is acknowledged (kept in case its purchase shows up) and grants nothing.
    assert_eq!(post(format!("/cb/{}", e2e::stack::CALLBACK_SECRET), body("ws_CO_forged")).await.0, 200);
    assert_eq!(post(format!("/cb/{}", e2e::stack::CALLBACK_SECRET), "{not json".into()).await.0, 400);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stack.store.get_purchase(&id).await.unwrap().unwrap().state, PurchaseState::Pending);
    assert!(stack.routeros.state().users.is_empty(), "no grant");
    // A page request claiming another device's MAC is refused.
    let (status, page) = guest.get("/?mac=DA:A1:19:3C:5E:99&ip=127.0.0.1").await;
    assert_eq!(status, 403, "{page}");
}

#[tokio::test]
async fn routeros_down_then_back_still_gets_the_guest_online() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    // The router's API goes away; the guest pays meanwhile.
    stack.routeros.update_faults(|f| f.reject_logins = true);
    stack.routeros.kill_sessions(None);
    let push = stack.daraja.pushes().pop().unwrap();
    stack.daraja.answer(&push.checkout_request_id, Answer::Pay);
    db_state(&stack, &id, PurchaseState::Paid).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(stack.routeros.state().users.is_empty(), "nothing applied while RouterOS is down");
    // The API comes back: the journaled grant is applied.
    stack.routeros.update_faults(|f| f.reject_logins = false);
    for _ in 0..300 {
        if stack.routeros.state().session_of(stack.options.guest_mac).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stack.routeros.state().session_of(stack.options.guest_mac).is_some(), "online once RouterOS is back");
    db_state(&stack, &id, PurchaseState::Active).await;
}

#[tokio::test]
async fn a_voucher_is_redeemed_on_the_portal() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    let code: hotspot_core::VoucherCode = "HJKM2345".parse().unwrap();
    let batch = hotspot_core::wire::Payload::VouchersBatch(hotspot_core::wire::VouchersBatch {
        batch_id: "batch-1".into(),
        package: e2e::stack::packages()[0].clone(),
        codes: vec![code.clone()],
    });
    hotspot_cloud::jobs::send_job(
        &stack.moto.sqs(),
        &stack.router,
        hotspot_core::MessageId::generate(),
        batch,
        hotspot_core::clock::now_unix(),
    )
    .await
    .unwrap();
    for _ in 0..300 {
        if stack.routeros.state().user("HJKM2345").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, page) = guest.get("/").await;
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[at..].split('"').next().unwrap().to_string();
    let (status, page) = guest.post("/voucher", &format!("code=hjkm-2345&csrf={csrf}&lang=en")).await;
    assert_eq!(status, 200, "{page}");
    let st = stack.routeros.state();
    assert_eq!(st.session_of(stack.options.guest_mac).map(|s| s.user.as_str()), Some("HJKM2345"));
    // The container's log is the router's log, readable with `read` policy: the code is never
    // in it whole, only its first two characters.
    let logs: String = ["agent.log", "agent-stderr.log"]
        .iter()
        .map(|f| std::fs::read_to_string(stack.state_dir.join(f)).unwrap_or_default())
        .collect();
    assert!(logs.contains("HJ******"), "the login is logged, masked");
    for whole in ["HJKM2345", "HJKM-2345", "hjkm-2345", "KM2345"] {
        assert!(!logs.contains(whole), "{whole} in the agent's log");
    }
}

#[tokio::test]
async fn the_agent_killed_mid_apply_grants_once_after_restart() {
    let mut options = Options::local(bin_dir());
    // The agent dies the moment RouterOS has the grant, before its journal records it.
    options.agent_env.push(("HOTSPOT_AGENT_CRASH_AT".into(), "after_router_apply".into()));
    let stack = Stack::start(options).await.expect("the local stack starts");
    stack.daraja.push_scenario(Scenario::await_phone());
    let (_, id) = Guest::new(&stack).buy("1h", "0712 345 678").await;
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    let status = stack.agent_exit(Duration::from_secs(30)).await.expect("the agent crashed mid-apply");
    assert!(!status.success(), "{status:?}");
    assert_eq!(stack.routeros.state().users.len(), 1, "the router got the grant before the crash");
    // The container restarts: the journal finishes the grant, and nothing is applied twice.
    stack.restart_agent(&[]).await.expect("the agent restarts");
    let guest = Guest::new(&stack);
    paid_online(&stack, &guest, &id).await;
    let st = stack.routeros.state();
    assert_eq!((st.users.len(), st.active.len()), (1, 1), "one grant");
    assert_eq!(st.session_of(stack.options.guest_mac).map(|s| s.user.clone()), Some(format!("hs-{id}")));
}

#[tokio::test]
async fn with_the_cloud_unreachable_expiry_is_still_on_time() {
    let mut options = Options::local(bin_dir());
    let quick: hotspot_core::Package = serde_json::from_value(serde_json::json!({
        "id": "quick", "name": "Quick test", "price": 5, "validity": "6s", "rate_limit": "1M/1M", "devices": 1
    }))
    .unwrap();
    options.packages.push(quick);
    let stack = Stack::start(options).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::paid());
    let (_, id) = guest.buy("quick", "0712 345 678").await;
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
    let expires_at = stack.store.get_purchase(&id).await.unwrap().unwrap().expires_at.expect("expires_at");
    // The router loses its uplink: no SQS, no cloud API. Only the agent can end the session.
    stack.uplink.cut();
    let ended_at = loop {
        let now = hotspot_core::clock::now_unix();
        if stack.routeros.state().user(&format!("hs-{id}")).is_none() {
            break now;
        }
        assert!(now <= expires_at + 10, "the session outlived its expiry by 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(ended_at >= expires_at, "ended early: at {ended_at}, expiry {expires_at}");
    assert!(ended_at <= expires_at + 2, "ended late: at {ended_at}, expiry {expires_at}");
    assert!(stack.routeros.state().session_of(stack.options.guest_mac).is_none(), "logged out");
    // The uplink comes back: the agent's report reaches the cloud, which records the end.
    stack.uplink.restore();
    for _ in 0..300 {
        if stack.store.get_session(&id).await.unwrap().is_some_and(|s| s.ended_at.is_some()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the cloud never learned that session {id} ended");
}

#[tokio::test]
async fn the_sms_receipt_code_brings_a_device_with_a_new_mac_back_online() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::paid());
    let (_, id) = guest.buy("24h", "0712 345 678").await;
    paid_online(&stack, &guest, &id).await;
    // The receipt reaches the phone (after the grant, never before it is queued).
    let mut sms = None;
    for _ in 0..100 {
        if let Some(m) = stack.sms.messages().pop() {
            sms = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sms = sms.expect("an SMS receipt");
    assert_eq!(sms.to, "+254712345678");
    let code = sms.message.split("Enter code ").nth(1).and_then(|r| r.split(' ').next()).expect("a code").to_string();
    // The phone rejoins with a new randomized MAC at the same address: not the paid device.
    let new_mac: hotspot_core::MacAddr = "DA:A1:19:3C:5E:77".parse().unwrap();
    stack.routeros.remove_host(stack.options.guest_mac);
    stack.routeros.add_host(new_mac, stack.options.guest_ip);
    let (_, page) = guest.get("/").await;
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[at..].split('"').next().unwrap().to_string();
    // A wrong code is refused and changes nothing.
    let (status, _) = guest.post("/voucher", &format!("code=2345-6789&csrf={csrf}&lang=en")).await;
    assert_eq!(status, 400);
    assert!(stack.routeros.state().session_of(new_mac).is_none());
    let (status, page) = guest.post("/voucher", &format!("code={}&csrf={csrf}&lang=en", code.to_lowercase())).await;
    assert_eq!(status, 200, "{page}");
    let st = stack.routeros.state();
    assert_eq!(st.session_of(new_mac).map(|s| s.user.clone()), Some(format!("hs-{id}")), "the new device is online");
    assert_eq!(st.user(&format!("hs-{id}")).and_then(|u| u.mac_address), Some(new_mac), "the grant moved");
    assert_eq!(st.users.len(), 1, "still one grant");
}

/// The same journeys with Airtel Money and MTN MoMo at a hotspot in Uganda (Uganda shillings,
/// numbers typed the Ugandan way): the guest chooses the wallet on the portal (or lets the
/// number choose), approves the prompt, and is online; a failure is explained without naming
/// M-Pesa; a duplicate notification grants once; a lost one is found by the status the waiting
/// page asks for.
mod other_wallets {
    use super::*;
    use hotspot_core::currency::Currency;
    use hotspot_core::phone::Country;
    use hotspot_core::wallet::Wallet;
    use wallets_sim::{Decision, Scenario as WalletScenario};

    fn options() -> Options {
        Options {
            wallets: "airtel_money,mtn_momo".parse().unwrap(),
            country: Country::Uganda,
            packages: e2e::stack::packages_in(Currency::Ugx),
            ..Options::local(bin_dir())
        }
    }

    /// A Ugandan number on `w`'s network: Airtel's 075…, MTN's 077….
    fn number(w: Wallet, n: u8) -> String {
        let prefix = if w == Wallet::AirtelMoney { "0752" } else { "0772" };
        format!("{prefix} 123 4{n:02}")
    }

    fn sim(stack: &Stack, w: Wallet) -> &wallets_sim::WalletSim {
        if w == Wallet::AirtelMoney { &stack.airtel } else { &stack.mtn }
    }

    #[tokio::test]
    async fn a_guest_pays_with_each_wallet_and_is_online() {
        let stack = Stack::start(options()).await.expect("the local stack starts");
        for (i, w) in [Wallet::AirtelMoney, Wallet::MtnMomo].into_iter().enumerate() {
            let mac = format!("DA:A1:19:3C:5F:0{i}").parse().unwrap();
            let guest = Guest::device(&stack, mac, std::net::Ipv4Addr::new(127, 0, 1, 10 + i as u8));
            sim(&stack, w).push_scenario(WalletScenario::pending());
            let (wait, id) = guest.buy_with("24h", &number(w, i as u8), Some(w.as_str())).await;
            let (_, page) = guest.get(&wait).await;
            assert!(page.contains("A payment prompt has been sent to your phone."), "{page}");
            let p = sim(&stack, w).payments().pop().expect("a payment request");
            assert_eq!((p.amount.as_str(), p.currency.as_str()), ("5000", "UGX"));
            assert!(sim(&stack, w).answer(&p.reference, Decision::Paid));
            assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online", "{w:?}");
            db_state(&stack, &id, PurchaseState::Active).await;
            let stored = stack.store.get_purchase(&id).await.unwrap().unwrap();
            assert_eq!(
                (stored.wallet, stored.paid_amount.map(|m| m.to_string()).unwrap_or_default()),
                (w, "UGX 5,000".to_string())
            );
            assert_eq!(stored.phone.country(), Country::Uganda);
            // The receipt SMS: Uganda shillings, the wallet's name, Kampala's clock.
            let to = format!("+{}", stored.phone.e164());
            let mut sms = None;
            for _ in 0..100 {
                sms = stack.sms.messages().into_iter().find(|m| m.to == to);
                if sms.is_some() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let text = sms.expect("an SMS receipt").message;
            assert!(text.starts_with("WiFi paid: UGX 5,000 for 24 hours."), "{text}");
            assert!(text.contains(w.label()) && text.contains(" EAT."), "{text}");
        }
        assert!(stack.daraja.pushes().is_empty(), "no M-Pesa prompt");
    }

    #[tokio::test]
    async fn failure_duplicate_and_lost_notifications_for_each_wallet() {
        let stack = Stack::start(options()).await.expect("the local stack starts");
        let mut n = 0u8;
        let mut next_guest = |w: Wallet| {
            n += 1;
            let ip = std::net::Ipv4Addr::new(127, 0, 2, n);
            let mac = format!("DA:A1:19:3C:60:{n:02X}").parse().unwrap();
            (Guest::device(&stack, mac, ip), number(w, n))
        };
        for (w, failure) in [(Wallet::AirtelMoney, "DP00800001007"), (Wallet::MtnMomo, "NOT_ENOUGH_FUNDS")] {
            // Failed: explained in words that name no wallet.
            let (guest, phone) = next_guest(w);
            sim(&stack, w).push_scenario(WalletScenario::failed(failure));
            let (wait, id) = guest.buy_with("1h", &phone, Some(w.as_str())).await;
            assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "failed", "{w:?}");
            let (_, page) = guest.get(&wait).await;
            assert!(!page.contains("M-Pesa request"), "{page}");
            db_state(&stack, &id, PurchaseState::Failed).await;
            // Notified twice: one grant.
            let (guest, phone) = next_guest(w);
            sim(&stack, w).push_scenario(WalletScenario::paid().twice());
            let (_, id) = guest.buy_with("1h", &phone, Some(w.as_str())).await;
            paid_online(&stack, &guest, &id).await;
            let reference = sim(&stack, w).payments().pop().unwrap().reference;
            assert_eq!(sim(&stack, w).wait_callbacks(&reference, 2, Duration::from_secs(10)).await, 2);
            let grants = stack.routeros.state().users.iter().filter(|u| u.name == format!("hs-{id}")).count();
            assert_eq!(grants, 1, "{w:?}");
            // Never notified: the waiting page's status read asks the wallet.
            let (guest, phone) = next_guest(w);
            sim(&stack, w).push_scenario(WalletScenario::paid().lost());
            let (_, id) = guest.buy_with("1h", &phone, Some(w.as_str())).await;
            paid_online(&stack, &guest, &id).await;
        }
        // Not chosen: each number pays with its own network's wallet.
        for w in [Wallet::AirtelMoney, Wallet::MtnMomo] {
            let (guest, phone) = next_guest(w);
            let (_, id) = guest.buy_with("1h", &phone, Some("auto")).await;
            paid_online(&stack, &guest, &id).await;
            assert_eq!(stack.store.get_purchase(&id).await.unwrap().unwrap().wallet, w);
        }
    }
}
