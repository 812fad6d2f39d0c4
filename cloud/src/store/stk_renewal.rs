//! A subscriber's renewal by STK push from their page (`/account`): the push's CheckoutRequestID
//! names which account it renews, for the callback and, when the callback is lost, the reconcile
//! function's status query. Undecided ones sit in the `live` index's `STKRENEW` partition (range:
//! when pushed), which the reconciler reads once a minute; deciding one takes it out.

use hotspot_core::AccountNumber;
use hotspot_core::currency::Money;
use hotspot_core::phone::PhoneNumber;

use super::item::{Reader, amount, n, s};
use super::schema::{GSI_LIVE, META};
use super::table::{Store, StoreError};

/// The `live` partition of undecided STK renewals.
const PENDING: &str = "STKRENEW";

fn renewal_pk(checkout: &str) -> String {
    format!("STKRENEW#{checkout}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StkRenewalState {
    Pending,
    /// Paid: the account runs to `until` (this payment's renewal, or the one before it).
    Renewed {
        until: i64,
    },
    /// Not paid (cancelled, timed out, wrong PIN), or paid and held for the operator: `why`.
    Failed {
        why: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkRenewal {
    /// M-Pesa's CheckoutRequestID.
    pub checkout: String,
    pub account: AccountNumber,
    pub amount: Money,
    pub phone: PhoneNumber,
    /// Random; the waiting page's link carries it, so a CheckoutRequestID alone shows nothing.
    pub token: String,
    pub created_at: i64,
    pub state: StkRenewalState,
}

fn parse(item: &super::item::Item) -> Result<StkRenewal, StoreError> {
    let r = Reader::new(item);
    let state = match r.str("state")? {
        "pending" => StkRenewalState::Pending,
        "renewed" => StkRenewalState::Renewed { until: r.i64("until")? },
        _ => StkRenewalState::Failed { why: r.opt_str("why")?.unwrap_or_default().to_string() },
    };
    Ok(StkRenewal {
        checkout: r.str("checkout")?.to_string(),
        account: r.parse("account")?,
        amount: r.money("amount", "currency")?,
        phone: r.parse("phone")?,
        token: r.str("token")?.to_string(),
        created_at: r.i64("created_at")?,
        state,
    })
}

impl Store {
    /// Records a pushed renewal, undecided. A second record of the same push changes nothing.
    pub async fn put_stk_renewal(&self, r: &StkRenewal) -> Result<(), StoreError> {
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(renewal_pk(&r.checkout)))
            .item("sk", s(META))
            .item("checkout", s(&r.checkout))
            .item("account", s(r.account.as_str()))
            .item("amount", amount(r.amount))
            .item("currency", s(r.amount.currency().as_str()))
            .item("phone", s(r.phone.e164()))
            .item("token", s(&r.token))
            .item("created_at", n(r.created_at))
            .item("state", s("pending"))
            .item("live", s(PENDING))
            .item("expires_at", n(r.created_at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        super::item::written(res).map(|_| ())
    }

    pub async fn get_stk_renewal(&self, checkout: &str) -> Result<Option<StkRenewal>, StoreError> {
        self.get_item(renewal_pk(checkout), META).await?.as_ref().map(parse).transpose()
    }

    /// Undecided renewals pushed at or before `before`, oldest first (at most `limit`).
    pub async fn stale_stk_renewals(&self, before: i64, limit: i32) -> Result<Vec<StkRenewal>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_LIVE)
            .key_condition_expression("live = :l AND expires_at <= :b")
            .expression_attribute_values(":l", s(PENDING))
            .expression_attribute_values(":b", n(before))
            .limit(limit);
        self.query_all(q).await?.iter().map(parse).collect()
    }

    /// Decides a renewal, once: false if it was decided before (a repeated callback, or the
    /// callback and the reconciler both).
    pub async fn decide_stk_renewal(&self, checkout: &str, state: &StkRenewalState) -> Result<bool, StoreError> {
        let mut u = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(renewal_pk(checkout)))
            .key("sk", s(META))
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":pending", s("pending"));
        u = match state {
            StkRenewalState::Pending => return Ok(false),
            StkRenewalState::Renewed { until } => u
                .update_expression("SET #st = :s, #u = :u REMOVE live")
                .expression_attribute_names("#u", "until")
                .expression_attribute_values(":s", s("renewed"))
                .expression_attribute_values(":u", n(until)),
            StkRenewalState::Failed { why } => u
                .update_expression("SET #st = :s, why = :w REMOVE live")
                .expression_attribute_values(":s", s("failed"))
                .expression_attribute_values(":w", s(why)),
        };
        super::item::written(u.send().await)
    }
}
