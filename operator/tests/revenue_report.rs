//! `hotspotctl report revenue` against moto: purchases created through the store in every state;
//! the report's totals must equal the sum of the receipts created in range, by router, package
//! and day, with mismatched and unknown payments listed apart.

mod support;

use std::collections::BTreeMap;

use hotspot_cloud::store::{NewPurchase, Paid, Store};
use hotspot_core::calendar::days_from_civil;
use hotspot_core::currency::{Currency, Money};
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{MacAddr, Package, PurchaseId, RouterId};
use support::{Env, text};

fn package(id: &str, price: u32) -> Package {
    serde_json::from_value(serde_json::json!({
        "id": id, "name": format!("pkg {id}"), "price": price, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
    }))
    .expect("package")
}

enum Outcome {
    Paid { at: i64, active: bool },
    LatePaidAfterFailure { at: i64 },
    Mismatch { at: i64, amount: u64 },
    Unknown,
    Failed,
    Pending,
}

/// A receipt the test created, to compare with the report.
struct Receipt {
    router: String,
    package: String,
    day: &'static str,
    kes: u64,
}

async fn purchase(store: &Store, n: u32, router: &str, pkg: &Package, created: i64, o: Outcome) -> PurchaseId {
    let id = PurchaseId::generate();
    let mac: MacAddr = format!("DA:A1:19:00:01:{n:02X}").parse().expect("mac");
    store
        .create_purchase(&NewPurchase {
            id: id.clone(),
            router_id: router.parse::<RouterId>().expect("router"),
            package: pkg.clone(),
            mac,
            ip: None,
            phone: "254712345678".parse().expect("phone"),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
            created_at: created,
        })
        .await
        .expect("purchase");
    let receipt = format!("TK{n:08}");
    match o {
        Outcome::Paid { at, active } => {
            let t = store.mark_paid(&id, &Paid { receipt, amount: pkg.price(), paid_at: at }).await.expect("paid");
            assert!(t.applied());
            if active {
                assert!(
                    store.mark_active(&id, &router.parse().expect("router"), at + 5).await.expect("active").applied()
                );
            }
        }
        Outcome::LatePaidAfterFailure { at } => {
            store.mark_failed(&id, PaymentFailure::Expired, Some("1037"), created + 60).await.expect("failed");
            let t = store.mark_paid(&id, &Paid { receipt, amount: pkg.price(), paid_at: at }).await.expect("paid");
            assert!(t.applied());
        }
        Outcome::Mismatch { at, amount } => {
            let amount = Money::whole_units(Currency::Kes, amount).expect("amount");
            assert!(store.mark_amount_mismatch(&id, &receipt, Some(amount), at).await.expect("mismatch").applied());
        }
        Outcome::Unknown => assert!(store.mark_unknown(&id, None, created + 600).await.expect("unknown").applied()),
        Outcome::Failed => {
            store.mark_failed(&id, PaymentFailure::Cancelled, Some("1032"), created + 30).await.expect("failed");
        }
        Outcome::Pending => {}
    }
    id
}

/// `key → (payments, kes)` from the report's CSV (`key,currency,payments,amount`), and its TOTAL row.
fn parse_csv(csv: &str) -> (BTreeMap<String, (u64, u64)>, (u64, u64)) {
    let mut groups = BTreeMap::new();
    let mut total = None;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[1], "KES", "{line}");
        let v = (f[2].parse().expect("payments"), f[3].parse().expect("kes"));
        if f[0] == "TOTAL" {
            total = Some(v);
        } else {
            groups.insert(f[0].to_string(), v);
        }
    }
    (groups, total.expect("a TOTAL row"))
}

#[tokio::test]
async fn revenue_totals_equal_the_receipts_created() {
    let env = Env::start().await;
    let store = env.store();
    let (h1, d1) = (package("1h", 10), package("1d", 50));
    // Midnight starting 2026-01-10 in Nairobi (UTC+3).
    let day0 = days_from_civil(2026, 1, 10) * 86_400 - 3 * 3600;
    let mut receipts = Vec::new();
    let mut n = 0;
    let mut add = |router: &str, pkg: &Package, day: &'static str| {
        receipts.push(Receipt {
            router: router.into(),
            package: pkg.id().to_string(),
            day,
            kes: pkg.price().whole().expect("whole shillings"),
        });
    };
    let cases: Vec<(&str, &Package, i64, Outcome, Option<&'static str>)> = vec![
        ("cafe-a", &h1, day0 + 3600, Outcome::Paid { at: day0 + 3660, active: false }, Some("2026-01-10")),
        ("cafe-a", &d1, day0 + 7200, Outcome::Paid { at: day0 + 7230, active: true }, Some("2026-01-10")),
        (
            "cafe-a",
            &h1,
            day0 + 5 * 3600,
            Outcome::LatePaidAfterFailure { at: day0 + 5 * 3600 + 900 },
            Some("2026-01-10"),
        ),
        (
            "cafe-a",
            &h1,
            day0 + 86_400 + 100,
            Outcome::Paid { at: day0 + 86_400 + 130, active: true },
            Some("2026-01-11"),
        ),
        (
            "cafe-b",
            &h1,
            day0 + 2 * 86_400,
            Outcome::Paid { at: day0 + 2 * 86_400 + 60, active: true },
            Some("2026-01-12"),
        ),
        // The last second of the range counts; the second before it starts does not.
        (
            "cafe-b",
            &d1,
            day0 + 3 * 86_400 - 100,
            Outcome::Paid { at: day0 + 3 * 86_400 - 1, active: false },
            Some("2026-01-12"),
        ),
        ("cafe-b", &d1, day0 - 100, Outcome::Paid { at: day0 - 1, active: true }, None),
        ("cafe-a", &h1, day0 + 3 * 86_400, Outcome::Paid { at: day0 + 3 * 86_400 + 10, active: true }, None),
        // Apart, not in the totals.
        ("cafe-a", &h1, day0 + 3 * 3600, Outcome::Mismatch { at: day0 + 3 * 3600 + 40, amount: 5 }, None),
        ("cafe-b", &d1, day0 + 4 * 3600, Outcome::Unknown, None),
        ("cafe-a", &h1, day0 + 6 * 3600, Outcome::Failed, None),
        ("cafe-a", &d1, day0 + 7 * 3600, Outcome::Pending, None),
    ];
    let mut mismatch_id = None;
    let mut unknown_id = None;
    for (router, pkg, created, outcome, counted) in cases {
        n += 1;
        let (is_mismatch, is_unknown) =
            (matches!(outcome, Outcome::Mismatch { .. }), matches!(outcome, Outcome::Unknown));
        let id = purchase(&store, n, router, pkg, created, outcome).await;
        if let Some(day) = counted {
            add(router, pkg, day);
        }
        if is_mismatch {
            mismatch_id = Some(id.clone());
        }
        if is_unknown {
            unknown_id = Some(id);
        }
    }
    let (mismatch_id, unknown_id) = (mismatch_id.expect("mismatch"), unknown_id.expect("unknown"));
    let want_total = (receipts.len() as u64, receipts.iter().map(|r| r.kes).sum::<u64>());
    assert_eq!(want_total, (6, 140));

    let range = ["report", "revenue", "--from", "2026-01-10", "--to", "2026-01-12"];
    for by in ["router", "package", "day"] {
        let csv_path = env.dir.path().join(format!("by-{by}.csv"));
        let mut args = range.to_vec();
        args.extend(["--by", by, "--format", "csv", "--csv", csv_path.to_str().expect("path")]);
        let out = env.run(&env.admin, &args).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert_eq!(std::fs::read_to_string(&csv_path).expect("csv file"), stdout, "the file is what was printed");
        let (groups, total) = parse_csv(&stdout);
        assert_eq!(total, want_total, "by {by}: {stdout}");
        let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for r in &receipts {
            let key = match by {
                "router" => r.router.clone(),
                "package" => r.package.clone(),
                _ => r.day.to_string(),
            };
            let e = want.entry(key).or_default();
            e.0 += 1;
            e.1 += r.kes;
        }
        assert_eq!(groups, want, "by {by}");
    }

    // The table: the same totals, with the doubtful payments listed apart and phones masked.
    let details = env.dir.path().join("details.csv");
    let mut args = range.to_vec();
    args.extend(["--details-csv", details.to_str().expect("path")]);
    let out = env.run(&env.admin, &args).await;
    let table = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let total_line = table.lines().find(|l| l.starts_with("TOTAL")).expect("TOTAL line");
    assert_eq!(total_line.split_whitespace().collect::<Vec<_>>(), ["TOTAL", "6", "KES", "140"]);
    assert!(table.contains("Amount mismatches (money received, no grant; not in the total): 1"), "{table}");
    assert!(table.contains("Unknown payments (never confirmed either way; not in the total): 1"), "{table}");
    assert!(table.contains(mismatch_id.as_str()) && table.contains(unknown_id.as_str()), "{table}");
    assert!(table.contains("2547****5678") && !table.contains("254712345678"), "{table}");
    let details = std::fs::read_to_string(&details).expect("details");
    let cats: Vec<&str> = details.lines().skip(1).map(|l| l.split(',').next().expect("category")).collect();
    assert_eq!(cats.iter().filter(|c| **c == "counted").count(), 6);
    assert_eq!(cats.iter().filter(|c| **c == "amount_mismatch").count(), 1);
    assert_eq!(cats.iter().filter(|c| **c == "unknown").count(), 1);
    assert_eq!(cats.len(), 8, "failed and pending purchases are not listed: {details}");
    let counted_kes: u64 = details
        .lines()
        .filter(|l| l.starts_with("counted,"))
        .map(|l| l.split(',').nth(6).expect("paid").parse::<u64>().expect("kes"))
        .sum();
    assert_eq!(counted_kes, 140);
    assert!(!details.contains("254712345678"));

    // Bad ranges are refused.
    let out = env.run(&env.admin, &["report", "revenue", "--from", "2026-01-12", "--to", "2026-01-10"]).await;
    assert!(!out.status.success() && text(&out.stderr).contains("before --from"), "{}", text(&out.stderr));
    let out = env.run(&env.admin, &["report", "revenue", "--from", "2026-1-10", "--to", "2026-01-12"]).await;
    assert!(!out.status.success() && text(&out.stderr).contains("yyyy-mm-dd"), "{}", text(&out.stderr));
}
