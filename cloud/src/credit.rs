//! Crediting an unmatched M-Pesa receipt as a grant, for `hotspotctl report ledger --credit` and
//! the dashboard: a purchase (id derived from the receipt) paid with it, the receipt matched to
//! it, the grant queued for the router. Refuses, changing nothing, a receipt that is not
//! unmatched or whose amount is not the package's price. Idempotent: running it twice (or again
//! after a crash) is one purchase and one grant.

use hotspot_core::currency::Money;
use hotspot_core::{MacAddr, PackageId, PurchaseId, RouterId};

use crate::outbox::deliver;
use crate::store::{Claim, NewPurchase, Paid, PurchaseState, ReceiptRecord, Store, StoreError, Transition};

/// What to credit, to whom, and who asks (kept on the receipt as `credited_by`).
pub struct Credit<'a> {
    pub key: &'a str,
    pub router: &'a RouterId,
    pub package: &'a PackageId,
    pub mac: MacAddr,
    pub by: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credited {
    pub purchase: PurchaseId,
    pub price: Money,
    /// False when the grant had been queued before (a repeat).
    pub sent: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing was changed, for this reason.
    #[error("{0}")]
    Refused(String),
    /// The receipt is credited and the purchase paid, but its grant is not on the queue yet.
    #[error("receipt {key} is credited, but {why}; run this again")]
    NotSent { key: String, why: String },
}

/// The purchase a credit of `key` makes (the same id every time).
pub fn purchase_for(key: &str) -> PurchaseId {
    PurchaseId::derived_from(&format!("credit:{key}"))
}

pub async fn credit_receipt(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    c: &Credit<'_>,
    now: i64,
) -> Result<Credited, CreditError> {
    let (key, router, package, mac) = (c.key, c.router, c.package, c.mac);
    let refused = |why: String| Err(CreditError::Refused(why));
    let id = purchase_for(key);
    let Some(r) = store.get_receipt(key).await? else {
        return refused(format!("no M-Pesa receipt {key:?} on record; nothing was changed"));
    };
    match &r.purchase_id {
        None => {}
        Some(p) if *p == id => {} // credited before, perhaps cut short: carry on
        Some(p) => return refused(format!("receipt {key} already paid for purchase {p}; nothing was changed")),
    }
    let Some(record) = store.get_package(router, package).await? else {
        return refused(format!("router {router} has no package {package}; nothing was changed"));
    };
    let price = record.package.price();
    if r.amount != Some(price) {
        return refused(format!(
            "receipt {key} is for {}, package {package} costs {price}; nothing was changed",
            r.amount.map(|a| a.to_string()).unwrap_or_else(|| "an amount not stated".into()),
        ));
    }
    let Some(phone) = r.phone.clone() else {
        return refused(format!("receipt {key} names no phone; nothing was changed"));
    };
    match store.get_purchase(&id).await? {
        Some(p) if p.router_id != *router || p.package.id() != package || p.mac != mac => {
            return refused(format!(
                "receipt {key} was credited before to {} ({}) at {}; nothing was changed",
                p.mac,
                p.package.id(),
                p.router_id
            ));
        }
        Some(_) => {}
        None => {
            let new = NewPurchase {
                id: id.clone(),
                router_id: router.clone(),
                package: record.package.clone(),
                mac,
                ip: None,
                phone,
                wallet: hotspot_core::wallet::Wallet::of_receipt_key(key),
                created_at: now,
            };
            store.create_purchase(&new).await?;
        }
    }
    // The receipt is claimed first, so no second credit can take it; a crash after this leaves a
    // receipt matched to a purchase not yet paid, which the ledger lists and a re-run finishes.
    let credit = ReceiptRecord { credited_by: Some(c.by.to_string()), ..r.clone() };
    if let Claim::Taken(other) = store.claim_receipt(&credit, &id, router).await? {
        return refused(format!(
            "receipt {key} was matched meanwhile (to {}); nothing more was changed",
            other.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
        ));
    }
    let current = match store.mark_paid(&id, &Paid { receipt: key.to_string(), amount: price, paid_at: now }).await? {
        Transition::Applied(p) | Transition::Unchanged(p) => p,
    };
    if current.state != PurchaseState::Paid && current.state != PurchaseState::Active {
        return refused(format!("purchase {id} is {}, not paid; nothing more was changed", current.state));
    }
    let sent = deliver(store, sqs, &current, now)
        .await
        .map_err(|e| CreditError::NotSent { key: key.to_string(), why: e.to_string() })?;
    Ok(Credited { purchase: id, price, sent })
}
