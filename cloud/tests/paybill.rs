//! Paybill renewals against DynamoDB (moto): a confirmation renews its account exactly once
//! however often M-Pesa repeats it (one after another or at the same time); two payments at once
//! both count; a payment naming no account, or an amount the plan does not take, renews nothing
//! and is kept for the operator as an unmatched receipt; validation refuses what would be held.

use hotspot_cloud::paybill::{Confirmed, Refusal, confirm, validate};
use hotspot_cloud::renewal::{OddAmount, Plan};
use hotspot_cloud::store::{AccountRecord, C2bRecord, ReceiptSource, Store, StoreError, schema};
use hotspot_core::AccountNumber;
use hotspot_core::currency::{Currency, Money};
use testkit::Moto;

const NOW: i64 = 1_790_000_000;
const MONTH: i64 = 30 * 86_400;

fn kes(units: u64) -> Money {
    Money::whole_units(Currency::Kes, units).expect("a KES amount")
}

async fn setup() -> (Moto, Store) {
    let moto = Moto::start().await.expect("moto");
    schema::create_table(&moto.dynamodb(), "hotspot").await.unwrap();
    let store = Store::new(moto.dynamodb(), "hotspot");
    (moto, store)
}

async fn account(store: &Store, odd_amount: OddAmount, expires_at: i64) -> AccountNumber {
    let number = AccountNumber::issue();
    let a = AccountRecord {
        number: number.clone(),
        router_id: "cafe-01".parse().unwrap(),
        package_id: "home-10m".parse().unwrap(),
        service: "pppoe".into(),
        password: "kT9-pppoe-secret".into(),
        plan: Plan { price: kes(1500), period_secs: MONTH, odd_amount },
        expires_at,
        created_at: NOW - MONTH,
        renewals: 0,
        phone: None,
        reminded_for: None,
        ended_notice_for: None,
        name: None,
        wireguard: None,
    };
    store.create_account(&a).await.unwrap();
    assert!(matches!(store.create_account(&a).await, Err(StoreError::AlreadyExists(_))), "one account per number");
    number
}

fn pay(trans_id: &str, bill_ref: &str, units: u64) -> C2bRecord {
    C2bRecord { trans_id: trans_id.into(), bill_ref: bill_ref.into(), amount: kes(units), at: NOW }
}

#[tokio::test]
async fn a_confirmation_renews_once_however_often_it_comes() {
    let (_moto, store) = setup().await;
    let n = account(&store, OddAmount::Hold, NOW + 86_400).await;
    let p = pay("RKTQDM7W6S", n.as_str(), 1500);
    let first = confirm(&store, &p, NOW).await.unwrap();
    let until = NOW + 86_400 + MONTH;
    assert!(matches!(&first, Confirmed::Renewed { until: u, fresh: true, .. } if *u == until), "{first:?}");
    // M-Pesa repeats it, one after another and several at once.
    let again = confirm(&store, &p, NOW + 5).await.unwrap();
    assert!(matches!(&again, Confirmed::Renewed { until: u, fresh: false, .. } if *u == until), "{again:?}");
    let (a, b, c) =
        tokio::join!(confirm(&store, &p, NOW + 6), confirm(&store, &p, NOW + 6), confirm(&store, &p, NOW + 6));
    for r in [a, b, c] {
        assert!(matches!(r.unwrap(), Confirmed::Renewed { fresh: false, .. }));
    }
    let acc = store.get_account(&n).await.unwrap().unwrap();
    assert_eq!((acc.expires_at, acc.renewals), (until, 1), "renewed exactly once");
    // In the revenue report's renewals once, with its router and package.
    let rows = store.renewals_between(NOW - 60, NOW + 60).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].trans_id.as_str(), rows[0].router_id.as_str(), rows[0].package_id.as_str()),
        ("RKTQDM7W6S", "cafe-01", "home-10m")
    );
}

#[tokio::test]
async fn the_same_new_payment_at_once_counts_once_and_two_payments_both_count() {
    let (_moto, store) = setup().await;
    let n = account(&store, OddAmount::Hold, NOW - 10).await;
    let p = pay("RKTQDM7W70", n.as_str(), 1500);
    let (a, b) = tokio::join!(confirm(&store, &p, NOW), confirm(&store, &p, NOW));
    let fresh = [a.unwrap(), b.unwrap()].iter().filter(|c| matches!(c, Confirmed::Renewed { fresh: true, .. })).count();
    assert_eq!(fresh, 1);
    let (one, two) = (pay("RKTQDM7W71", n.as_str(), 1500), pay("RKTQDM7W72", n.as_str(), 3000));
    let (x, y) = tokio::join!(confirm(&store, &one, NOW), confirm(&store, &two, NOW));
    assert!(matches!(x.unwrap(), Confirmed::Renewed { fresh: true, .. }));
    assert!(matches!(y.unwrap(), Confirmed::Renewed { fresh: true, .. }));
    let acc = store.get_account(&n).await.unwrap().unwrap();
    // Lapsed: counted on from now; then one month and two months on top.
    assert_eq!((acc.expires_at, acc.renewals), (NOW + 4 * MONTH, 3));
}

#[tokio::test]
async fn a_payment_that_renews_nothing_is_held_in_the_ledger() {
    let (_moto, store) = setup().await;
    let n = account(&store, OddAmount::Hold, NOW).await;
    let unknown = AccountNumber::issue();
    let mut typo = n.as_str().as_bytes().to_vec();
    typo[2] = b'0' + (typo[2] - b'0' + 1) % 10;
    let typo = String::from_utf8(typo).unwrap();
    for (trans, bill_ref, units) in [
        ("RKTQDM7W80", unknown.as_str(), 1500),
        ("RKTQDM7W81", typo.as_str(), 1500),
        ("RKTQDM7W82", "", 1500),
        ("RKTQDM7W83", n.as_str(), 1000),
    ] {
        let c = confirm(&store, &pay(trans, bill_ref, units), NOW).await.unwrap();
        assert!(matches!(&c, Confirmed::Held { fresh: true, .. }), "{bill_ref}: {c:?}");
        let r = store.get_receipt(trans).await.unwrap().expect("kept as a receipt");
        assert_eq!((r.source, r.purchase_id, r.amount), (ReceiptSource::C2b, None, Some(kes(units))));
        let again = confirm(&store, &pay(trans, bill_ref, units), NOW).await.unwrap();
        assert!(matches!(again, Confirmed::Held { fresh: false, .. }));
    }
    let held = store.unmatched_receipts(NOW + 1, 10).await.unwrap();
    assert_eq!(held.len(), 4, "the operator sees each held payment once");
    let acc = store.get_account(&n).await.unwrap().unwrap();
    assert_eq!((acc.expires_at, acc.renewals), (NOW, 0), "nothing renewed");
}

#[tokio::test]
async fn validation_refuses_what_would_be_held() {
    let (_moto, store) = setup().await;
    let hold = account(&store, OddAmount::Hold, NOW).await;
    let pro = account(&store, OddAmount::ProRata, NOW).await;
    assert_eq!(validate(&store, hold.as_str(), kes(3000), NOW).await.unwrap(), Ok(()));
    assert_eq!(validate(&store, &format!(" {} ", hold.as_str()), kes(1500), NOW).await.unwrap(), Ok(()));
    assert_eq!(validate(&store, hold.as_str(), kes(1000), NOW).await.unwrap(), Err(Refusal::Amount));
    assert_eq!(validate(&store, pro.as_str(), kes(1000), NOW).await.unwrap(), Ok(()));
    for bad in [AccountNumber::issue().as_str(), "ACC-1001", "", "1234567890123456789"] {
        assert_eq!(validate(&store, bad, kes(1500), NOW).await.unwrap(), Err(Refusal::UnknownAccount), "{bad}");
    }
    // Pro rata: 1000 of 1500 buys 20 of 30 days.
    let c = confirm(&store, &pay("RKTQDM7W90", pro.as_str(), 1000), NOW).await.unwrap();
    assert!(matches!(c, Confirmed::Renewed { until, .. } if until == NOW + 20 * 86_400));
}

/// A router that was away longer than a job lives is owed its running accounts when it asks:
/// each as a fresh `account_set` with the account's current expiry; an account that ran out is
/// not owed (the agent ended it on time by itself).
#[tokio::test]
async fn a_router_back_after_days_is_owed_its_running_accounts() {
    use hotspot_cloud::outbox::owed_grants;
    use hotspot_cloud::store::RouterRecord;
    use hotspot_core::RouterKey;
    use hotspot_core::wire::{Direction, Envelope, Payload};

    let (_moto, store) = setup().await;
    let key = RouterKey::generate();
    let router = RouterRecord::new(
        "cafe-01".parse().unwrap(),
        "Cafe",
        "https://sqs.example/123/router-cafe-01.fifo",
        key.clone(),
        0,
    );
    store.put_router(&router).await.unwrap();
    let package: hotspot_core::Package = serde_json::from_value(serde_json::json!({
        "id": "home-10m", "name": "Home 10M", "price": 1500, "validity": "30d", "rate_limit": "10M/10M", "devices": 1
    }))
    .unwrap();
    store.put_package(&router.id, &package, 0).await.unwrap();
    let running = account(&store, OddAmount::Hold, NOW + 86_400).await;
    let _lapsed = account(&store, OddAmount::Hold, NOW - 60).await;
    // Renewed while the router was away: owed with the new expiry.
    confirm(&store, &pay("RKTQDM7WA0", running.as_str(), 1500), NOW).await.unwrap();
    let owed = owed_grants(&store, &router, NOW).await.unwrap();
    let sets: Vec<_> = owed
        .iter()
        .map(|b| Envelope::verify(b.as_bytes(), &key, &router.id, NOW, Direction::CloudToRouter).unwrap())
        .filter_map(|e| match e.payload {
            Payload::AccountSet(s) => Some((e.id, s)),
            _ => None,
        })
        .collect();
    assert_eq!(sets.len(), 1, "only the running account");
    let (id, set) = &sets[0];
    assert_eq!((&set.account, set.expires_at), (&running, NOW + 86_400 + MONTH));
    assert_eq!(*id, set.job_id(), "the id the renewal was first sent under");
}

/// A held payment (a mistyped account number, validation off) is credited by the operator to the
/// account it was meant for: renewed once, the receipt settled in the ledger; a second credit,
/// an unknown payment and an amount the plan does not take are refused and change nothing.
#[tokio::test]
async fn an_operator_credits_a_held_payment_to_its_account_once() {
    use hotspot_cloud::paybill::{CreditHeldError, credit_held};

    let (_moto, store) = setup().await;
    let n = account(&store, OddAmount::Hold, NOW + 86_400).await;
    let router: hotspot_core::RouterId = "cafe-01".parse().unwrap();
    let mut typo = n.as_str().as_bytes().to_vec();
    typo[1] = b'0' + (typo[1] - b'0' + 3) % 10;
    let typo = String::from_utf8(typo).unwrap();
    let held = confirm(&store, &pay("RKTQDM7WC0", &typo, 1500), NOW).await.unwrap();
    assert!(matches!(held, Confirmed::Held { .. }));
    let odd = confirm(&store, &pay("RKTQDM7WC1", &typo, 1000), NOW).await.unwrap();
    assert!(matches!(odd, Confirmed::Held { .. }));
    assert_eq!(store.unmatched_receipts(NOW + 1, 10).await.unwrap().len(), 2);

    let c = credit_held(&store, "RKTQDM7WC0", &router, &n, "admin@cafe", NOW + 60).await.unwrap();
    assert!(matches!(&c, Confirmed::Renewed { until, .. } if *until == NOW + 86_400 + MONTH), "{c:?}");
    let acc = store.get_account(&n).await.unwrap().unwrap();
    assert_eq!((acc.expires_at, acc.renewals), (NOW + 86_400 + MONTH, 1));
    // Revenue now, at the time it was paid; the odd one still held is not.
    let rows = store.renewals_between(NOW - 60, NOW + 60).await.unwrap();
    assert_eq!(rows.iter().map(|r| (r.trans_id.as_str(), r.at)).collect::<Vec<_>>(), vec![("RKTQDM7WC0", NOW)]);
    let again = credit_held(&store, "RKTQDM7WC0", &router, &n, "admin@cafe", NOW + 61).await;
    assert!(matches!(again, Err(CreditHeldError::Refused(_))), "{again:?}");
    for (trans, who) in [("RKTQDM7WC1", &n), ("NO-SUCH", &n)] {
        assert!(matches!(
            credit_held(&store, trans, &router, who, "admin@cafe", NOW).await,
            Err(CreditHeldError::Refused(_))
        ));
    }
    let other_router: hotspot_core::RouterId = "cafe-02".parse().unwrap();
    assert!(matches!(
        credit_held(&store, "RKTQDM7WC1", &other_router, &n, "x", NOW).await,
        Err(CreditHeldError::Refused(_))
    ));
    assert_eq!(store.get_account(&n).await.unwrap().unwrap().renewals, 1, "nothing more renewed");

    // The ledger: the credited one is settled (a credit), the odd one still waits.
    let left = store.unmatched_receipts(NOW + 100, 10).await.unwrap();
    assert_eq!(left.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["RKTQDM7WC1"]);
    let receipts = vec![store.get_receipt("RKTQDM7WC0").await.unwrap().unwrap(), left[0].clone()];
    let ledger = hotspot_cloud::ledger::build(&receipts, &[], NOW + 100, 120);
    assert_eq!(ledger.unmatched.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["RKTQDM7WC1"]);
    assert_eq!(ledger.credits.iter().map(|r| r.credited_by.as_deref()).collect::<Vec<_>>(), [Some("admin@cafe")]);
}
