//! `hotspotctl report ledger` against moto: receipts and purchases written through the store as
//! the functions write them; every kind of doubt is listed, `--credit` settles an unmatched
//! receipt as exactly one grant (twice run, one purchase and one job), refuses what it must
//! without changing anything, and is audited.

mod support;

use hotspot_cloud::store::{NewPurchase, Paid, PurchaseState, ReceiptRecord, ReceiptSource, Store};
use hotspot_core::calendar::days_from_civil;
use hotspot_core::currency::{Currency, Money};
use hotspot_core::wire::Payload;
use hotspot_core::{Package, PurchaseId, RouterId};
use support::{Env, text};

fn package(id: &str, price: u32) -> Package {
    serde_json::from_value(serde_json::json!({
        "id": id, "name": format!("pkg {id}"), "price": price, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
    }))
    .expect("package")
}

fn receipt(key: &str, purchase: Option<&PurchaseId>, amount: u64, at: i64) -> ReceiptRecord {
    ReceiptRecord {
        key: key.into(),
        checkout_id: Some(format!("ws_CO_{key}")),
        phone: "254712345678".parse().ok(),
        amount: Money::whole_units(Currency::Kes, amount).ok(),
        at,
        source: ReceiptSource::Callback,
        purchase_id: purchase.cloned(),
        router_id: purchase.map(|_| "cafe-a".parse().expect("router")),
        credited_by: None,
    }
}

async fn paid_purchase(store: &Store, n: u8, pkg: &Package, at: i64, active: bool) -> PurchaseId {
    let id = PurchaseId::generate();
    store
        .create_purchase(&NewPurchase {
            id: id.clone(),
            router_id: "cafe-a".parse::<RouterId>().expect("router"),
            package: pkg.clone(),
            mac: format!("DA:A1:19:00:02:{n:02X}").parse().expect("mac"),
            ip: None,
            phone: "254712345678".parse().expect("phone"),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
            created_at: at - 20,
        })
        .await
        .expect("purchase");
    store.mark_paid(&id, &Paid { receipt: format!("TL{n:08}"), amount: pkg.price(), paid_at: at }).await.expect("paid");
    if active {
        store.mark_active(&id, &"cafe-a".parse().expect("router"), at + 1).await.expect("active");
    }
    id
}

#[tokio::test]
async fn the_ledger_names_every_doubt_and_a_credit_settles_one_exactly_once() {
    let env = Env::start().await;
    let store = env.store();
    let router = env.router("cafe-a").await;
    let h1 = package("1h", 10);
    store.put_package(&router.id, &h1, 1_700_000_000).await.expect("package");
    let day = days_from_civil(2026, 2, 3) * 86_400 - 3 * 3600 + 3600;
    let range = ["report", "ledger", "--from", "2026-02-03", "--to", "2026-02-03"];

    // A clean day first: one receipt, one granted purchase.
    let good = paid_purchase(&store, 1, &h1, day, true).await;
    store.record_receipt(&receipt("TL00000001", Some(&good), 10, day)).await.expect("receipt");
    let out = env.run(&env.admin, &range).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 matched, 0 awaiting their grant, 0 in doubt: clean"),
        "{}",
        text(&out.stdout)
    );

    // Then every kind of doubt.
    let no_receipt = paid_purchase(&store, 2, &h1, day + 60, true).await;
    let twice = paid_purchase(&store, 3, &h1, day + 120, true).await;
    store.record_receipt(&receipt("TL00000003", Some(&twice), 10, day + 120)).await.expect("r");
    store.record_receipt(&receipt("TL00000033", Some(&twice), 10, day + 125)).await.expect("r");
    let stuck = paid_purchase(&store, 4, &h1, day + 180, false).await;
    store.record_receipt(&receipt("TL00000004", Some(&stuck), 10, day + 180)).await.expect("r");
    store.record_receipt(&receipt("TL00000005", None, 10, day + 240)).await.expect("r");
    store.record_receipt(&receipt("TL00000006", None, 7, day + 300)).await.expect("r");
    let out = env.run(&env.admin, &range).await;
    let table = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (section, n) in [
        ("Paid, not granted", 1),
        ("Unmatched receipts", 2),
        ("Paid twice", 1),
        ("Granted, not paid", 1),
        ("Amount mismatches", 0),
    ] {
        let line = table.lines().find(|l| l.starts_with(section)).unwrap_or_else(|| panic!("{section}: {table}"));
        assert!(line.ends_with(&format!(": {n}")), "{line}\n{table}");
    }
    for id in [&no_receipt, &twice, &stuck] {
        assert!(table.contains(id.as_str()), "{id}: {table}");
    }
    assert!(table.contains("2547****5678") && !table.contains("254712345678"), "{table}");

    // A credit: refused for the wrong amount, an unknown receipt, a matched one; nothing changes.
    let credit = |key: &'static str| {
        vec![
            "report",
            "ledger",
            "--from",
            "2026-02-03",
            "--to",
            "2026-02-03",
            "--credit",
            key,
            "--router",
            "cafe-a",
            "--package",
            "1h",
            "--mac",
            "DA:A1:19:00:02:99",
        ]
    };
    for (key, why) in
        [("TL00000006", "is for KES 7"), ("TL99999999", "no M-Pesa receipt"), ("TL00000004", "already paid")]
    {
        let out = env.run(&env.admin, &credit(key)).await;
        assert!(!out.status.success(), "{key}");
        assert!(
            text(&out.stderr).contains(why) && text(&out.stderr).contains("nothing was changed"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = env
        .run(&env.admin, &["report", "ledger", "--from", "2026-02-03", "--to", "2026-02-03", "--credit", "TL00000005"])
        .await;
    assert!(!out.status.success(), "--credit needs --router, --package and --mac");
    assert!(env.jobs(&router).await.is_empty(), "a refused credit sends nothing");

    // Twice run: one purchase, one grant job, the receipt matched and credited by the caller.
    for _ in 0..2 {
        let out = env.run(&env.admin, &credit("TL00000005")).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let r = store.get_receipt("TL00000005").await.expect("get").expect("receipt");
    let credited = r.purchase_id.clone().expect("matched");
    assert_eq!(r.credited_by.as_deref(), Some(env.admin.arn.as_str()));
    let p = store.get_purchase(&credited).await.expect("get").expect("purchase");
    assert_eq!((p.state, p.receipt.as_deref()), (PurchaseState::Paid, Some("TL00000005")));
    let jobs = env.jobs(&router).await;
    let grants: Vec<_> =
        jobs.iter().filter(|j| matches!(&j.payload, Payload::Grant(g) if g.purchase_id == credited)).collect();
    assert_eq!(grants.len(), 1, "{jobs:?}");
    let Payload::Grant(g) = &grants[0].payload else { unreachable!() };
    assert_eq!(g.mac.to_string(), "DA:A1:19:00:02:99");
    // Run with other details after the fact: refused.
    let mut other = credit("TL00000005");
    let last = other.len() - 1;
    other[last] = "DA:A1:19:00:02:98";
    let out = env.run(&env.admin, &other).await;
    assert!(!out.status.success() && text(&out.stderr).contains("credited before"), "{}", text(&out.stderr));

    // Once the router applied it, the ledger lists the credit and one fewer unmatched receipt.
    store.mark_active(&credited, &p.router_id, p.paid_at.unwrap_or(0) + 1).await.expect("active");
    let table = text(&env.run(&env.admin, &range).await.stdout);
    let line = table.lines().find(|l| l.starts_with("Unmatched receipts")).expect("unmatched line");
    assert!(line.ends_with(": 1"), "{table}");
    let line = table.lines().find(|l| l.starts_with("Credited by an operator")).expect("credits line");
    assert!(line.ends_with(": 1"), "{table}");

    // Audited, with who did it.
    let audit = store
        .list_audit(hotspot_core::clock::now_unix() - 3600, hotspot_core::clock::now_unix() + 60, None)
        .await
        .expect("audit");
    let credits: Vec<_> = audit.iter().filter(|e| e.action == "report ledger --credit").collect();
    assert!(credits.iter().any(|e| e.who == env.admin.arn && e.detail.contains("credited")), "{credits:?}");
    assert!(credits.iter().any(|e| e.detail.contains("nothing was changed")), "refusals too: {credits:?}");
}
