//! The revenue report, one computation for `hotspotctl report revenue` and the dashboard: the
//! wallets' receipts on record for paid purchases, grouped by router, package, day or wallet and
//! always by currency (shillings and cedis are never added up); each currency's total is the sum
//! of its receipts. Payments of the wrong amount and payments never confirmed are
//! listed apart and are not in the total. Subscribers' account renewals (Paybill, STK from their
//! page, credited) count beside the hotspot's purchases, with their own subtotal.

use std::collections::BTreeMap;

use hotspot_core::calendar::day_string;
use hotspot_core::currency::{Currency, Money};

use crate::csv::field;
use crate::store::{PaymentRow, PurchaseState, RenewalRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Router,
    Package,
    Day,
    /// By wallet and currency: what each provider should have paid out.
    Wallet,
}

impl GroupBy {
    pub fn heading(self) -> &'static str {
        match self {
            GroupBy::Router => "ROUTER",
            GroupBy::Package => "PACKAGE",
            GroupBy::Day => "DAY",
            GroupBy::Wallet => "WALLET",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTotal {
    pub key: String,
    pub payments: u64,
    pub amount: Money,
}

impl GroupTotal {
    fn add(&mut self, m: Money) {
        self.payments += 1;
        // In range by construction: a sum of at most 10^15 minor units is far beyond any ledger.
        self.amount = self.amount.checked_add(m).unwrap_or(self.amount);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    /// In key order (days oldest first), then currency.
    pub groups: Vec<GroupTotal>,
    /// One per currency paid in (`key` is the currency), in currency order.
    pub totals: Vec<GroupTotal>,
    pub payments: u64,
    /// Every payment counted, oldest first.
    pub counted: Vec<PaymentRow>,
    /// Money arrived, but not the package's price: no grant was made.
    pub mismatched: Vec<PaymentRow>,
    /// The reconciler could not confirm these either way.
    pub unknown: Vec<PaymentRow>,
    /// Account renewals counted, oldest first, and their subtotal per currency (`key`: the
    /// currency), which is in `totals` too.
    pub renewals: Vec<RenewalRow>,
    pub accounts: Vec<GroupTotal>,
}

/// What a receipt counts for: the amount the wallet confirmed (else the price it was asked).
fn amount(p: &PaymentRow) -> Money {
    p.paid_amount.unwrap_or(p.price)
}

fn zero(c: Currency) -> Money {
    Money::from_minor(c, 0).unwrap_or_else(|_| unreachable!("zero is in range"))
}

/// Groups `rows` (from `Store::payments_between`); days are local at `offset_secs` from UTC.
pub fn build(rows: &[PaymentRow], by: GroupBy, offset_secs: i64) -> Revenue {
    build_with_renewals(rows, &[], by, offset_secs)
}

/// As `build`, with subscribers' renewals (from `Store::renewals_between`) counted beside the
/// purchases: by router, by the account's package, by day, and as "M-Pesa Paybill" by wallet.
pub fn build_with_renewals(rows: &[PaymentRow], renewals: &[RenewalRow], by: GroupBy, offset_secs: i64) -> Revenue {
    let mut groups: BTreeMap<(String, Currency), GroupTotal> = BTreeMap::new();
    let mut totals: BTreeMap<Currency, GroupTotal> = BTreeMap::new();
    let mut accounts: BTreeMap<Currency, GroupTotal> = BTreeMap::new();
    let mut r = Revenue {
        groups: vec![],
        totals: vec![],
        payments: 0,
        counted: vec![],
        mismatched: vec![],
        unknown: vec![],
        renewals: vec![],
        accounts: vec![],
    };
    for p in rows {
        match p.state {
            PurchaseState::Paid | PurchaseState::Active if p.receipt.is_some() => {
                let key = match by {
                    GroupBy::Router => p.router_id.to_string(),
                    GroupBy::Package => p.package_id.to_string(),
                    GroupBy::Day => day_string(p.paid_at.unwrap_or(p.created_at), offset_secs),
                    GroupBy::Wallet => p.wallet.label().to_string(),
                };
                let m = amount(p);
                let c = m.currency();
                groups.entry((key.clone(), c)).or_insert(GroupTotal { key, payments: 0, amount: zero(c) }).add(m);
                totals.entry(c).or_insert(GroupTotal { key: c.to_string(), payments: 0, amount: zero(c) }).add(m);
                r.payments += 1;
                r.counted.push(p.clone());
            }
            PurchaseState::AmountMismatch => r.mismatched.push(p.clone()),
            PurchaseState::Unknown => r.unknown.push(p.clone()),
            _ => {}
        }
    }
    for p in renewals {
        let key = match by {
            GroupBy::Router => p.router_id.to_string(),
            GroupBy::Package => p.package_id.to_string(),
            GroupBy::Day => day_string(p.at, offset_secs),
            GroupBy::Wallet => "M-Pesa Paybill".to_string(),
        };
        let c = p.amount.currency();
        groups.entry((key.clone(), c)).or_insert(GroupTotal { key, payments: 0, amount: zero(c) }).add(p.amount);
        totals.entry(c).or_insert(GroupTotal { key: c.to_string(), payments: 0, amount: zero(c) }).add(p.amount);
        accounts.entry(c).or_insert(GroupTotal { key: c.to_string(), payments: 0, amount: zero(c) }).add(p.amount);
        r.payments += 1;
        r.renewals.push(p.clone());
    }
    r.groups = groups.into_values().collect();
    r.totals = totals.into_values().collect();
    r.accounts = accounts.into_values().collect();
    r
}

/// The grouped totals as CSV, with a TOTAL line per currency.
pub fn totals_csv(r: &Revenue, by: GroupBy) -> String {
    let mut out = format!("{},currency,payments,amount\n", by.heading().to_lowercase());
    for g in &r.groups {
        out.push_str(&format!("{},{},{},{}\n", field(&g.key), g.amount.currency(), g.payments, g.amount.plain()));
    }
    for t in &r.totals {
        out.push_str(&format!("TOTAL,{},{},{}\n", t.amount.currency(), t.payments, t.amount.plain()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAIROBI: i64 = 3 * 3600;

    fn kes(v: u32) -> Money {
        Money::parse(Currency::Kes, &v.to_string()).unwrap()
    }

    fn minor_sum<'a>(g: impl Iterator<Item = &'a GroupTotal>) -> u64 {
        g.map(|g| g.amount.minor()).sum()
    }

    fn row(
        id: u8,
        router: &str,
        pkg: &str,
        price: u32,
        state: PurchaseState,
        paid: Option<u32>,
        at: i64,
    ) -> PaymentRow {
        PaymentRow {
            id: format!("p{:024x}", id).parse().unwrap(),
            router_id: router.parse().unwrap(),
            package_id: pkg.parse().unwrap(),
            package_name: pkg.into(),
            price: kes(price),
            state,
            receipt: paid.map(|_| format!("RCPT{id}")),
            checkout_id: None,
            paid_amount: paid.map(kes),
            paid_at: paid.map(|_| at),
            created_at: at - 30,
            phone: "254712345678".parse().unwrap(),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
        }
    }

    #[test]
    fn groups_add_up_and_doubtful_payments_stay_apart() {
        // 2024-03-01 00:30 in Nairobi is still 29 Feb in UTC.
        let d1 = hotspot_core::calendar::days_from_civil(2024, 2, 29) * 86_400 + 21 * 3600 + 1800;
        let rows = vec![
            row(1, "cafe-a", "1h", 10, PurchaseState::Paid, Some(10), d1),
            row(2, "cafe-a", "1d", 50, PurchaseState::Active, Some(50), d1 + 100),
            row(3, "cafe-b", "1h", 10, PurchaseState::Active, Some(10), d1 - 3600),
            row(4, "cafe-b", "1h", 10, PurchaseState::AmountMismatch, Some(5), d1),
            row(5, "cafe-b", "1d", 50, PurchaseState::Unknown, None, d1),
            row(6, "cafe-b", "1d", 50, PurchaseState::Failed, None, d1),
        ];
        for by in [GroupBy::Router, GroupBy::Package, GroupBy::Day, GroupBy::Wallet] {
            let r = build(&rows, by, NAIROBI);
            assert_eq!((r.payments, minor_sum(r.totals.iter())), (3, 7_000), "{by:?}");
            assert_eq!(minor_sum(r.groups.iter()), 7_000);
            assert_eq!(r.mismatched.len(), 1);
            assert_eq!(r.unknown.len(), 1);
        }
        let by_day = build(&rows, GroupBy::Day, NAIROBI);
        let keys: Vec<(&str, String)> = by_day.groups.iter().map(|g| (g.key.as_str(), g.amount.plain())).collect();
        assert_eq!(keys, vec![("2024-02-29", "10".into()), ("2024-03-01", "60".into())]);
        let by_router = build(&rows, GroupBy::Router, NAIROBI);
        assert_eq!(
            totals_csv(&by_router, GroupBy::Router),
            "router,currency,payments,amount\ncafe-a,KES,2,60\ncafe-b,KES,1,10\nTOTAL,KES,3,70\n"
        );
    }

    #[test]
    fn each_wallet_has_its_total() {
        use hotspot_core::wallet::Wallet;
        let at = 1_772_000_000;
        let paid = |id, price, w| PaymentRow {
            wallet: w,
            ..row(id, "cafe-a", "1h", price, PurchaseState::Paid, Some(price), at)
        };
        let rows = vec![
            paid(1, 10, Wallet::Mpesa),
            paid(2, 50, Wallet::AirtelMoney),
            paid(3, 10, Wallet::AirtelMoney),
            paid(4, 250, Wallet::MtnMomo),
            PaymentRow {
                wallet: Wallet::AirtelMoney,
                ..row(5, "cafe-a", "1h", 10, PurchaseState::AmountMismatch, Some(5), at)
            },
        ];
        let r = build(&rows, GroupBy::Wallet, 0);
        assert_eq!(
            totals_csv(&r, GroupBy::Wallet),
            "wallet,currency,payments,amount\nAirtel Money,KES,2,60\nM-Pesa,KES,1,10\nMTN MoMo,KES,1,250\nTOTAL,KES,4,320\n"
        );
        assert_eq!(r.mismatched.len(), 1, "a wrong amount stays out of its wallet's total");
    }

    #[test]
    fn currencies_are_totalled_apart() {
        use hotspot_core::wallet::Wallet;
        let at = 1_772_000_000;
        let ugx = |v: &str| Money::parse(Currency::Ugx, v).unwrap();
        let ghs = |v: &str| Money::parse(Currency::Ghs, v).unwrap();
        let base = |id| row(id, "cafe-a", "1h", 10, PurchaseState::Paid, Some(10), at);
        let rows = vec![
            base(1),
            PaymentRow { wallet: Wallet::MtnMomo, price: ugx("5000"), paid_amount: Some(ugx("5000")), ..base(2) },
            PaymentRow { wallet: Wallet::MtnMomo, price: ugx("2000"), paid_amount: Some(ugx("2000")), ..base(3) },
            PaymentRow { wallet: Wallet::MtnMomo, price: ghs("2.5"), paid_amount: Some(ghs("2.50")), ..base(4) },
        ];
        let r = build(&rows, GroupBy::Wallet, 0);
        assert_eq!(
            totals_csv(&r, GroupBy::Wallet),
            "wallet,currency,payments,amount\nM-Pesa,KES,1,10\nMTN MoMo,UGX,2,7000\nMTN MoMo,GHS,1,2.50\n\
             TOTAL,KES,1,10\nTOTAL,UGX,2,7000\nTOTAL,GHS,1,2.50\n"
        );
    }

    #[test]
    fn account_renewals_count_beside_the_hotspots_purchases_with_their_own_subtotal() {
        let rows = vec![row(1, "cafe-01", "1h", 100, PurchaseState::Paid, Some(100), 1_790_000_000)];
        let renewal = RenewalRow {
            trans_id: "RKTQDM7W6S".into(),
            router_id: "cafe-01".parse().unwrap(),
            package_id: "home-10m".parse().unwrap(),
            account: "79927398713".parse().unwrap(),
            amount: kes(1500),
            at: 1_790_000_000,
        };
        let r = build_with_renewals(&rows, std::slice::from_ref(&renewal), GroupBy::Package, NAIROBI);
        assert_eq!(r.payments, 2);
        assert_eq!(r.totals[0].amount, kes(1600));
        assert_eq!((r.accounts[0].payments, r.accounts[0].amount), (1, renewal.amount));
        assert!(r.groups.iter().any(|g| g.key == "home-10m" && g.amount == renewal.amount), "{:?}", r.groups);
        let by_wallet = build_with_renewals(&rows, &[renewal], GroupBy::Wallet, 0);
        assert!(by_wallet.groups.iter().any(|g| g.key == "M-Pesa Paybill"));
        assert!(build(&rows, GroupBy::Wallet, 0).accounts.is_empty(), "purchases alone");
    }
}
