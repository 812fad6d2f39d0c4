//! The ledger: every M-Pesa receipt (callback, STK query, operator's credit) against every
//! purchase, matched one to one, and what does not match (`hotspotctl report ledger`).
//!
//! `build` is the decision, a pure function of the records and `now`; `load` reads the records.
//! A receipt an STK query recorded (`query:<CheckoutRequestID>`, no receipt number) stands in for
//! the callback's until that comes: a real receipt for the same purchase supersedes it.

use std::collections::{BTreeMap, HashMap, HashSet};

use hotspot_core::PurchaseId;

use crate::store::{PaymentRow, Purchase, PurchaseState, ReceiptRecord, ReceiptSource, Store, StoreError};

/// A paid purchase's grant has this long to be applied before the ledger calls it not granted.
pub const GRANT_GRACE_SECS: i64 = 300;

/// A receipt and the purchase it paid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub receipt: ReceiptRecord,
    pub purchase: PaymentRow,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// One receipt, one purchase, granted (or its grant within the grace).
    pub matched: Vec<Matched>,
    /// Paid within `GRANT_GRACE_SECS`, its grant not yet applied: in flight, not a problem yet.
    pub awaiting_grant: Vec<Matched>,
    /// Money taken, no grant: a receipt whose purchase is not paid, or a paid purchase whose
    /// grant was not applied in time.
    pub paid_not_granted: Vec<Matched>,
    /// A purchase recorded as paid with no receipt behind it.
    pub granted_not_paid: Vec<PaymentRow>,
    /// Receipts no purchase claims (and no operator credited).
    pub unmatched: Vec<ReceiptRecord>,
    /// The receipt's amount differs from the package's price (no grant was given).
    pub amount_mismatches: Vec<Matched>,
    /// A purchase with more than one real receipt: the guest paid twice for one grant.
    pub paid_twice: Vec<(PaymentRow, Vec<ReceiptRecord>)>,
    /// Unmatched receipts an operator settled as grants (also in `matched`).
    pub credits: Vec<ReceiptRecord>,
    /// Query placeholders a real receipt replaced (not counted anywhere else).
    pub superseded: usize,
}

impl Ledger {
    /// Nothing in doubt: every receipt has its grant and every grant its receipt.
    pub fn is_clean(&self) -> bool {
        self.problems() == 0
    }

    /// How many lines need an operator.
    pub fn problems(&self) -> usize {
        self.paid_not_granted.len()
            + self.granted_not_paid.len()
            + self.unmatched.len()
            + self.amount_mismatches.len()
            + self.paid_twice.len()
    }

    /// Clean and nothing in flight either.
    pub fn is_settled(&self) -> bool {
        self.is_clean() && self.awaiting_grant.is_empty()
    }
}

impl From<&Purchase> for PaymentRow {
    fn from(p: &Purchase) -> Self {
        PaymentRow {
            id: p.id.clone(),
            router_id: p.router_id.clone(),
            package_id: p.package.id().clone(),
            package_name: p.package.name().to_string(),
            price: p.package.price(),
            state: p.state,
            receipt: p.receipt.clone(),
            checkout_id: p.checkout_id.clone(),
            paid_amount: p.paid_amount,
            paid_at: p.paid_at,
            created_at: p.created_at,
            phone: p.phone.clone(),
            wallet: p.wallet,
        }
    }
}

/// Matches `receipts` to `purchases`. Receipts whose purchase is not in `purchases` are judged
/// against nothing (callers pass every purchase a receipt names: `load` does).
pub fn build(receipts: &[ReceiptRecord], purchases: &[PaymentRow], now: i64, grant_grace_secs: i64) -> Ledger {
    let mut ledger = Ledger::default();
    let mut by_purchase: BTreeMap<&PurchaseId, Vec<&ReceiptRecord>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for r in receipts {
        if !seen.insert(r.key.as_str()) {
            continue;
        }
        match &r.purchase_id {
            Some(id) => by_purchase.entry(id).or_default().push(r),
            // A Paybill payment an operator credited to an account: settled (in `credits`).
            None if r.source == ReceiptSource::C2b && r.credited_by.is_some() => {}
            None => ledger.unmatched.push(r.clone()),
        }
        if r.credited_by.is_some() {
            ledger.credits.push(r.clone());
        }
    }
    let mut rows: BTreeMap<&PurchaseId, &PaymentRow> = BTreeMap::new();
    for p in purchases {
        rows.insert(&p.id, p);
    }
    for p in rows.values() {
        let Some(found) = by_purchase.get(&p.id) else {
            if p.state.is_paid() {
                ledger.granted_not_paid.push((*p).clone());
            }
            continue;
        };
        let (real, placeholders): (Vec<&ReceiptRecord>, Vec<&ReceiptRecord>) =
            found.iter().partition(|r| r.source != ReceiptSource::Query);
        if real.len() > 1 {
            ledger.paid_twice.push(((*p).clone(), real.iter().map(|r| (*r).clone()).collect()));
            continue;
        }
        let receipt = match real.first() {
            Some(r) => {
                ledger.superseded += placeholders.len();
                (*r).clone()
            }
            None => {
                // Several queries recorded for one purchase (it was re-prompted): one payment.
                ledger.superseded += placeholders.len().saturating_sub(1);
                (*placeholders[0]).clone()
            }
        };
        let line = Matched { receipt, purchase: (*p).clone() };
        let amount_differs = line.receipt.amount.is_some_and(|a| a != p.price);
        if p.state == PurchaseState::AmountMismatch || amount_differs {
            ledger.amount_mismatches.push(line);
            continue;
        }
        match p.state {
            PurchaseState::Active => ledger.matched.push(line),
            PurchaseState::Paid if now - p.paid_at.unwrap_or(line.receipt.at) <= grant_grace_secs => {
                ledger.awaiting_grant.push(line)
            }
            _ => ledger.paid_not_granted.push(line),
        }
    }
    // A receipt that names a purchase nobody passed: judged as money without its purchase.
    for (id, found) in &by_purchase {
        if !rows.contains_key(id) {
            ledger.unmatched.extend(found.iter().map(|r| (*r).clone()));
        }
    }
    ledger
}

/// The ledger of `from..=to`: receipts recorded and purchases paid (or left unknown) in the
/// range, with the purchases those receipts name and the receipts those purchases name, so a
/// payment near an edge of the range is judged whole.
pub async fn load(store: &Store, from: i64, to: i64, now: i64) -> Result<Ledger, StoreError> {
    let mut receipts = store.receipts_between(from, to).await?;
    let mut purchases = store.payments_between(from, to).await?;
    let have: HashSet<PurchaseId> = purchases.iter().map(|p| p.id.clone()).collect();
    let named: Vec<PurchaseId> =
        receipts.iter().filter_map(|r| r.purchase_id.clone()).filter(|id| !have.contains(id)).collect();
    purchases.extend(store.get_purchases(&named).await?.iter().map(PaymentRow::from));
    // Each paid purchase with no receipt in range names the keys its receipt may be under.
    let keys: HashSet<&str> = receipts.iter().map(|r| r.key.as_str()).collect();
    let with_receipt: HashSet<&PurchaseId> = receipts.iter().filter_map(|r| r.purchase_id.as_ref()).collect();
    let mut wanted: HashMap<String, PurchaseId> = HashMap::new();
    for p in purchases.iter().filter(|p| p.state.is_paid() && !with_receipt.contains(&p.id)) {
        let mut candidates: Vec<String> = p.receipt.iter().filter(|r| !r.is_empty()).cloned().collect();
        if let Some(c) = &p.checkout_id {
            candidates.push(format!("query:{c}"));
            candidates.push(format!("checkout:{c}"));
        }
        for key in candidates.into_iter().filter(|k| !keys.contains(k.as_str())) {
            wanted.insert(key, p.id.clone());
        }
    }
    let asked: Vec<String> = wanted.keys().cloned().collect();
    let mut found: Vec<ReceiptRecord> = store
        .get_receipts(&asked)
        .await?
        .into_iter()
        .filter(|r| r.purchase_id.is_some() && r.purchase_id.as_ref() == wanted.get(&r.key))
        .collect();
    found.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
    receipts.extend(found);
    Ok(build(&receipts, &purchases, now, GRANT_GRACE_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_core::currency::{Currency, Money};
    use hotspot_core::phone::PhoneNumber;
    use hotspot_core::{PackageId, RouterId};

    fn kes(v: u64) -> Money {
        Money::parse(Currency::Kes, &v.to_string()).unwrap()
    }

    fn row(id: &str, state: PurchaseState, paid_at: Option<i64>) -> PaymentRow {
        PaymentRow {
            id: id.parse().unwrap(),
            router_id: "r1-a".parse::<RouterId>().unwrap(),
            package_id: "1h".parse::<PackageId>().unwrap(),
            package_name: "1 hour".into(),
            price: kes(20),
            state,
            receipt: None,
            checkout_id: Some(format!("co-{id}")),
            paid_amount: paid_at.map(|_| kes(20)),
            paid_at,
            created_at: 0,
            phone: "254712345678".parse::<PhoneNumber>().unwrap(),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
        }
    }

    fn receipt(key: &str, purchase: Option<&str>, source: ReceiptSource, amount: u64) -> ReceiptRecord {
        ReceiptRecord {
            key: key.into(),
            checkout_id: None,
            phone: "254712345678".parse::<PhoneNumber>().ok(),
            amount: Some(kes(amount)).filter(|a| !a.is_zero()),
            at: 10,
            source,
            purchase_id: purchase.map(|p| p.parse().unwrap()),
            router_id: None,
            credited_by: None,
        }
    }

    const P1: &str = "p000000000000000000000001";
    const P2: &str = "p000000000000000000000002";

    #[test]
    fn one_receipt_one_active_purchase_is_clean() {
        let l = build(
            &[receipt("QK1", Some(P1), ReceiptSource::Callback, 20)],
            &[row(P1, PurchaseState::Active, Some(10))],
            1000,
            300,
        );
        assert!(l.is_settled(), "{l:?}");
        assert_eq!(l.matched.len(), 1);
    }

    #[test]
    fn a_real_receipt_supersedes_the_query_placeholder() {
        let l = build(
            &[
                receipt("query:co-1", Some(P1), ReceiptSource::Query, 20),
                receipt("QK1", Some(P1), ReceiptSource::Callback, 20),
            ],
            &[row(P1, PurchaseState::Active, Some(10))],
            1000,
            300,
        );
        assert!(l.is_clean(), "{l:?}");
        assert_eq!((l.matched.len(), l.superseded), (1, 1));
        assert_eq!(l.matched[0].receipt.key, "QK1");
    }

    #[test]
    fn each_kind_of_doubt_is_named() {
        let mut credited = receipt("QK9", Some(P2), ReceiptSource::Credit, 20);
        credited.credited_by = Some("arn:aws:iam::1:user/ops".into());
        let l = build(
            &[
                receipt("QK1", Some(P1), ReceiptSource::Callback, 20),
                receipt("QK2", Some(P1), ReceiptSource::Callback, 20),
                receipt("QK3", None, ReceiptSource::Callback, 20),
                credited,
            ],
            &[
                row(P1, PurchaseState::Active, Some(10)),
                row(P2, PurchaseState::Active, Some(10)),
                row("p000000000000000000000003", PurchaseState::Paid, Some(10)),
            ],
            1000,
            300,
        );
        assert_eq!(l.paid_twice.len(), 1, "{l:?}");
        assert_eq!(l.unmatched.len(), 1);
        assert_eq!(l.granted_not_paid.len(), 1);
        assert_eq!((l.credits.len(), l.matched.len()), (1, 1));
        assert_eq!(l.problems(), 3);
    }

    #[test]
    fn a_paid_grant_not_applied_in_time_is_money_without_a_grant() {
        let r = [receipt("QK1", Some(P1), ReceiptSource::Callback, 20)];
        let p = [row(P1, PurchaseState::Paid, Some(10))];
        assert_eq!(build(&r, &p, 100, 300).awaiting_grant.len(), 1);
        assert!(build(&r, &p, 100, 300).is_clean());
        assert_eq!(build(&r, &p, 10_000, 300).paid_not_granted.len(), 1);
        // A receipt kept before its purchase changed (a crash in between): still pending.
        let pending = [row(P1, PurchaseState::Pending, None)];
        assert_eq!(build(&r, &pending, 100, 300).paid_not_granted.len(), 1);
    }

    #[test]
    fn an_amount_other_than_the_price_is_a_mismatch() {
        let l = build(
            &[receipt("QK1", Some(P1), ReceiptSource::Callback, 10)],
            &[row(P1, PurchaseState::AmountMismatch, None)],
            1000,
            300,
        );
        assert_eq!(l.amount_mismatches.len(), 1);
        assert!(!l.is_clean());
    }
}
