//! Paybill (M-Pesa C2B) for subscriber accounts: the validation answer, and the confirmation
//! that renews an account exactly once. The decision is `renewal::renewal`; this reads the account
//! and writes the outcome (`Store::record_c2b`), deciding again if another payment moved the
//! account first. Nothing paid is lost: a payment that renews nothing is held, as an unmatched
//! receipt in the operator's ledger.

use hotspot_core::currency::Money;
use hotspot_core::{AccountNumber, RouterId};

use crate::renewal::{Held, Renewal, renewal};
use crate::store::{
    AccountRecord, C2bOutcome, C2bRecord, C2bWrite, ExpiryChange, StkRenewal, StkRenewalState, Store, StoreError,
};

/// Why validation refuses a payment (M-Pesa then cancels it; the money stays with the payer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such account, or a number with a typing mistake (Daraja's `C2B00012`).
    UnknownAccount,
    /// An amount the account's plan would only hold (Daraja's `C2B00013`).
    Amount,
}

/// What a confirmation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    Renewed {
        account: AccountNumber,
        router: RouterId,
        until: i64,
        /// False when this payment was recorded before (a repeated confirmation).
        fresh: bool,
    },
    Held {
        why: String,
        fresh: bool,
    },
}

async fn account_for(store: &Store, bill_ref: &str) -> Result<Option<AccountRecord>, StoreError> {
    match bill_ref.parse::<AccountNumber>() {
        Ok(number) => store.get_account(&number).await,
        Err(_) => Ok(None),
    }
}

/// The validation request's answer: accept a payment that would renew an account.
pub async fn validate(store: &Store, bill_ref: &str, paid: Money, now: i64) -> Result<Result<(), Refusal>, StoreError> {
    let Some(a) = account_for(store, bill_ref).await? else { return Ok(Err(Refusal::UnknownAccount)) };
    Ok(match renewal(now, a.expires_at, &a.plan, paid) {
        Renewal::Extend { .. } => Ok(()),
        Renewal::Held(_) => Err(Refusal::Amount),
    })
}

/// How many times a confirmation decides again when other payments keep moving its account.
const ATTEMPTS: usize = 8;

fn confirmed(outcome: C2bOutcome, router: Option<RouterId>, fresh: bool) -> Confirmed {
    match (outcome, router) {
        (C2bOutcome::Renewed { account, until, .. }, Some(router)) => {
            Confirmed::Renewed { account, router, until, fresh }
        }
        (C2bOutcome::Renewed { account, until, .. }, None) => {
            Confirmed::Held { why: format!("renewed {account} to {until}, router unknown"), fresh }
        }
        (C2bOutcome::Held { why }, _) => Confirmed::Held { why, fresh },
    }
}

/// The confirmation: renew the account the payment names, once per M-Pesa receipt, or hold it.
pub async fn confirm(store: &Store, p: &C2bRecord, now: i64) -> Result<Confirmed, StoreError> {
    for _ in 0..ATTEMPTS {
        let account = account_for(store, &p.bill_ref).await?;
        let decision = match &account {
            Some(a) => renewal(now, a.expires_at, &a.plan, p.amount),
            None => Renewal::Held(Held::UnknownAccount),
        };
        let (outcome, change) = match (decision, &account) {
            (Renewal::Extend { from, until }, Some(a)) => (
                C2bOutcome::Renewed { account: a.number.clone(), from, until },
                Some(ExpiryChange {
                    account: a.number.clone(),
                    router: a.router_id.clone(),
                    package: a.package_id.clone(),
                    old: a.expires_at,
                    new: until,
                }),
            ),
            (Renewal::Held(h), _) => (C2bOutcome::Held { why: h.describe() }, None),
            (Renewal::Extend { .. }, None) => (C2bOutcome::Held { why: Held::UnknownAccount.describe() }, None),
        };
        let router = account.map(|a| a.router_id);
        match store.record_c2b(p, &outcome, change.as_ref()).await? {
            C2bWrite::Written => return Ok(confirmed(outcome, router, true)),
            C2bWrite::Duplicate(Some(before)) => return Ok(confirmed(before, router, false)),
            C2bWrite::Duplicate(None) => {
                return Ok(Confirmed::Held { why: "a receipt with this number is on record".into(), fresh: false });
            }
            C2bWrite::AccountMoved => continue,
        }
    }
    Err(StoreError::Dynamo(format!("payment {}: its account kept changing; try again", p.trans_id)))
}

/// Why a held payment was not credited (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum CreditHeldError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An operator credits a held Paybill payment (a mistyped account number with validation off,
/// say) to the account it was meant for: it renews that account as a confirmation would have,
/// once; the receipt leaves the ledger's unmatched list, marked with who credited it.
pub async fn credit_held(
    store: &Store,
    trans_id: &str,
    router: &RouterId,
    number: &AccountNumber,
    by: &str,
    now: i64,
) -> Result<Confirmed, CreditHeldError> {
    let refused = |why: String| Err(CreditHeldError::Refused(why));
    for _ in 0..ATTEMPTS {
        let Some((p, outcome)) = store.c2b_payment(trans_id).await? else {
            return refused(format!("no Paybill payment {trans_id} on record; nothing was changed"));
        };
        match outcome {
            Some(C2bOutcome::Held { .. }) => {}
            Some(C2bOutcome::Renewed { account, .. }) => {
                return refused(format!("payment {trans_id} already renewed account {account}; nothing was changed"));
            }
            None => return refused(format!("payment {trans_id} has no outcome on record; nothing was changed")),
        }
        let Some(a) = store.get_account(number).await?.filter(|a| a.router_id == *router) else {
            return refused(format!("router {router} has no account {number}; nothing was changed"));
        };
        let (from, until) = match renewal(now, a.expires_at, &a.plan, p.amount) {
            Renewal::Extend { from, until } => (from, until),
            Renewal::Held(h) => return refused(format!("{}; nothing was changed", h.describe())),
        };
        let change = ExpiryChange {
            account: a.number.clone(),
            router: a.router_id.clone(),
            package: a.package_id.clone(),
            old: a.expires_at,
            new: until,
        };
        match store.credit_c2b(trans_id, p.at, &change, from, by).await? {
            C2bWrite::Written => {
                return Ok(Confirmed::Renewed { account: a.number, router: a.router_id, until, fresh: true });
            }
            C2bWrite::AccountMoved => continue,
            C2bWrite::Duplicate(_) => {
                return refused(format!("payment {trans_id} was credited meanwhile; nothing more was changed"));
            }
        }
    }
    Err(StoreError::Dynamo(format!("payment {trans_id}: the account kept changing; try again")).into())
}

/// What M-Pesa said of a renewal's STK push (from its callback or a status query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StkOutcome {
    /// Paid: the amount and M-Pesa's receipt when the provider said them (a status query does
    /// not).
    Paid {
        amount: Option<Money>,
        receipt: Option<String>,
    },
    NotPaid {
        why: String,
    },
}

/// Settles a renewal the subscriber paid by STK push from their page: renews the account as a
/// Paybill payment of the amount would, once per push (the CheckoutRequestID stands for the
/// receipt, which a status query does not give), then marks the push decided. A repeat, or the
/// callback and the reconciler both, renews once. Returns the renewal as now decided.
pub async fn settle_stk(
    store: &Store,
    r: &StkRenewal,
    outcome: &StkOutcome,
    now: i64,
) -> Result<(StkRenewalState, Option<Confirmed>), StoreError> {
    let (state, confirmed) = match outcome {
        StkOutcome::NotPaid { why } => (StkRenewalState::Failed { why: why.clone() }, None),
        StkOutcome::Paid { amount, .. } => {
            let p = C2bRecord {
                trans_id: r.checkout.clone(),
                bill_ref: r.account.to_string(),
                amount: amount.unwrap_or(r.amount),
                at: now,
            };
            let c = confirm(store, &p, now).await?;
            let state = match &c {
                Confirmed::Renewed { until, .. } => StkRenewalState::Renewed { until: *until },
                Confirmed::Held { why, .. } => {
                    StkRenewalState::Failed { why: format!("paid, held for the operator: {why}") }
                }
            };
            (state, Some(c))
        }
    };
    if !store.decide_stk_renewal(&r.checkout, &state).await? {
        // Decided before: that decision stands (it made the same renewal, if any).
        if let Some(before) = store.get_stk_renewal(&r.checkout).await? {
            return Ok((before.state, confirmed));
        }
    }
    Ok((state, confirmed))
}
