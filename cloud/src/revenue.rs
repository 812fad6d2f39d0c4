//! The revenue report, one computation for `hotspotctl report revenue` and the dashboard: the
//! wallets' receipts on record for paid purchases, grouped by router, package, day or wallet; the total is
//! the sum of those receipts. Payments of the wrong amount and payments never confirmed are
//! listed apart and are not in the total.

use std::collections::BTreeMap;

use hotspot_core::calendar::day_string;

use crate::csv::field;
use crate::store::{PaymentRow, PurchaseState};

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
    pub kes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    /// In key order (days oldest first).
    pub groups: Vec<GroupTotal>,
    pub payments: u64,
    pub kes: u64,
    /// Every payment counted, oldest first.
    pub counted: Vec<PaymentRow>,
    /// Money arrived, but not the package's price: no grant was made.
    pub mismatched: Vec<PaymentRow>,
    /// The reconciler could not confirm these either way.
    pub unknown: Vec<PaymentRow>,
}

/// What a receipt counts for: the amount M-Pesa confirmed.
fn amount(p: &PaymentRow) -> u64 {
    u64::from(p.paid_amount.unwrap_or(p.price.get()))
}

/// Groups `rows` (from `Store::payments_between`); days are local at `offset_secs` from UTC.
pub fn build(rows: &[PaymentRow], by: GroupBy, offset_secs: i64) -> Revenue {
    let mut groups: BTreeMap<String, GroupTotal> = BTreeMap::new();
    let mut r = Revenue { groups: vec![], payments: 0, kes: 0, counted: vec![], mismatched: vec![], unknown: vec![] };
    for p in rows {
        match p.state {
            PurchaseState::Paid | PurchaseState::Active if p.receipt.is_some() => {
                let key = match by {
                    GroupBy::Router => p.router_id.to_string(),
                    GroupBy::Package => p.package_id.to_string(),
                    GroupBy::Day => day_string(p.paid_at.unwrap_or(p.created_at), offset_secs),
                    // Every price is in shillings until the store holds other currencies.
                    GroupBy::Wallet => format!("{} KES", p.wallet.label()),
                };
                let g = groups.entry(key.clone()).or_insert(GroupTotal { key, payments: 0, kes: 0 });
                g.payments += 1;
                g.kes += amount(p);
                r.payments += 1;
                r.kes += amount(p);
                r.counted.push(p.clone());
            }
            PurchaseState::AmountMismatch => r.mismatched.push(p.clone()),
            PurchaseState::Unknown => r.unknown.push(p.clone()),
            _ => {}
        }
    }
    r.groups = groups.into_values().collect();
    r
}

/// The grouped totals as CSV, with a TOTAL line.
pub fn totals_csv(r: &Revenue, by: GroupBy) -> String {
    let mut out = format!("{},payments,kes\n", by.heading().to_lowercase());
    for g in &r.groups {
        out.push_str(&format!("{},{},{}\n", field(&g.key), g.payments, g.kes));
    }
    out.push_str(&format!("TOTAL,{},{}\n", r.payments, r.kes));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAIROBI: i64 = 3 * 3600;

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
            price: hotspot_core::Shillings::new(u64::from(price)).unwrap(),
            state,
            receipt: paid.map(|_| format!("RCPT{id}")),
            checkout_id: None,
            paid_amount: paid,
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
            assert_eq!((r.payments, r.kes), (3, 70), "{by:?}");
            assert_eq!(r.groups.iter().map(|g| g.kes).sum::<u64>(), 70);
            assert_eq!(r.mismatched.len(), 1);
            assert_eq!(r.unknown.len(), 1);
        }
        let by_day = build(&rows, GroupBy::Day, NAIROBI);
        let keys: Vec<(&str, u64)> = by_day.groups.iter().map(|g| (g.key.as_str(), g.kes)).collect();
        assert_eq!(keys, vec![("2024-02-29", 10), ("2024-03-01", 60)]);
        let by_router = build(&rows, GroupBy::Router, NAIROBI);
        assert_eq!(
            totals_csv(&by_router, GroupBy::Router),
            "router,payments,kes\ncafe-a,2,60\ncafe-b,1,10\nTOTAL,3,70\n"
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
            "wallet,payments,kes\nAirtel Money KES,2,60\nM-Pesa KES,1,10\nMTN MoMo KES,1,250\nTOTAL,4,320\n"
        );
        assert_eq!(r.mismatched.len(), 1, "a wrong amount stays out of its wallet's total");
    }
}
