//! What the revenue report reads: every purchase with money recorded (or in doubt) in a time
//! range, from the sparse `ledger` index (one Query per month, no scan): a purchase enters it
//! when it is paid or paid the wrong amount (`ledger_at` = the payment's time) or left in doubt
//! (`ledger_at` = its creation), so a month's report reads only that month's money.

use hotspot_core::currency::Money;
use hotspot_core::phone::PhoneNumber;
use hotspot_core::wallet::Wallet;
use hotspot_core::{PackageId, PurchaseId, RouterId};

use hotspot_core::calendar::next_month_start;

use super::item::{Item, Reader, n, s};
use super::purchase::PurchaseState;
use super::schema::{GSI_LEDGER, LEDGER_PURCHASES, LEDGER_RENEWALS, ledger_month};
use super::table::{Store, StoreError};

/// One purchase as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: PurchaseId,
    pub router_id: RouterId,
    pub package_id: PackageId,
    pub package_name: String,
    pub price: Money,
    pub state: PurchaseState,
    pub receipt: Option<String>,
    /// The prompt's CheckoutRequestID, when it was stored.
    pub checkout_id: Option<String>,
    pub paid_amount: Option<Money>,
    pub paid_at: Option<i64>,
    pub created_at: i64,
    pub phone: PhoneNumber,
    pub wallet: Wallet,
}

/// A payment that renewed a subscriber's account (Paybill, an STK push from their page, or a held
/// payment an operator credited), as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalRow {
    /// M-Pesa's receipt (`TransID`), or the CheckoutRequestID of an STK renewal.
    pub trans_id: String,
    pub router_id: RouterId,
    pub package_id: PackageId,
    pub account: hotspot_core::AccountNumber,
    pub amount: Money,
    pub at: i64,
}

fn parse_renewal(item: &Item) -> Result<RenewalRow, StoreError> {
    let r = Reader::new(item);
    Ok(RenewalRow {
        trans_id: r.str("trans_id")?.to_string(),
        router_id: r.parse("router_id")?,
        package_id: r.parse("package_id")?,
        account: r.parse("account")?,
        amount: r.money("amount", "currency")?,
        at: r.i64("at")?,
    })
}

#[derive(serde::Deserialize)]
struct PackageName {
    id: PackageId,
    name: String,
}

fn parse(item: &Item) -> Result<PaymentRow, StoreError> {
    let r = Reader::new(item);
    let package: PackageName = r.json("package")?;
    Ok(PaymentRow {
        id: r.parse("purchase_id")?,
        router_id: r.parse("router_id")?,
        package_id: package.id,
        package_name: package.name,
        price: r.money("price", "currency")?,
        state: r.parse("state")?,
        receipt: r.opt_str("receipt")?.map(str::to_string),
        checkout_id: r.opt_str("checkout_id")?.map(str::to_string),
        paid_amount: r.opt_money("paid_amount", "paid_currency")?,
        paid_at: r.opt_i64("paid_at")?,
        created_at: r.i64("created_at")?,
        phone: r.parse("phone")?,
        wallet: r.opt_parse("wallet")?.unwrap_or(Wallet::Mpesa),
    })
}

impl Store {
    /// The `ledger` index's items of `kind` with `from <= ledger_at <= to`: one Query per month.
    /// Index reads are eventually consistent: a payment a second old may be missing.
    pub(crate) async fn query_ledger(&self, kind: &str, from: i64, to: i64) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut month_at = from;
        while month_at <= to {
            let q = self
                .db
                .query()
                .table_name(&self.table)
                .index_name(GSI_LEDGER)
                .key_condition_expression("ledger = :l AND ledger_at BETWEEN :f AND :t")
                .expression_attribute_values(":l", s(ledger_month(kind, month_at)))
                .expression_attribute_values(":f", n(from))
                .expression_attribute_values(":t", n(to));
            out.extend(self.query_all(q).await?);
            month_at = next_month_start(month_at);
        }
        Ok(out)
    }

    /// Purchases paid (or paid the wrong amount) with `from <= paid_at <= to`, and purchases
    /// left `unknown` created in that range, oldest first. A purchase in doubt that was later
    /// failed is in the index still and is left out here.
    pub async fn payments_between(&self, from: i64, to: i64) -> Result<Vec<PaymentRow>, StoreError> {
        let mut rows = Vec::new();
        for item in self.query_ledger(LEDGER_PURCHASES, from, to).await? {
            let row = parse(&item)?;
            let counted = match row.state {
                PurchaseState::Unknown => (from..=to).contains(&row.created_at),
                _ => row.paid_at.is_some_and(|at| (from..=to).contains(&at)),
            };
            if counted {
                rows.push(row);
            }
        }
        rows.sort_by(|a, b| {
            (a.paid_at.unwrap_or(a.created_at), &a.id).cmp(&(b.paid_at.unwrap_or(b.created_at), &b.id))
        });
        Ok(rows)
    }

    /// Payments that renewed subscribers' accounts with `from <= at <= to`, oldest first.
    pub async fn renewals_between(&self, from: i64, to: i64) -> Result<Vec<RenewalRow>, StoreError> {
        let mut rows: Vec<RenewalRow> =
            self.query_ledger(LEDGER_RENEWALS, from, to).await?.iter().map(parse_renewal).collect::<Result<_, _>>()?;
        rows.sort_by(|a, b| (a.at, &a.trans_id).cmp(&(b.at, &b.trans_id)));
        Ok(rows)
    }
}
