//! What the revenue report reads: every purchase with money recorded (or in doubt) in a time
//! range. There is no index by payment time, so this is a filtered Scan of the table: it reads
//! every item once, which is fine for a month-end report, not for a dashboard polled each minute.

use hotspot_core::{Msisdn, PackageId, PurchaseId, RouterId, Shillings};

use super::item::{Item, Reader, n, s};
use super::purchase::PurchaseState;
use super::table::{Store, StoreError};

/// One purchase as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: PurchaseId,
    pub router_id: RouterId,
    pub package_id: PackageId,
    pub package_name: String,
    pub price: Shillings,
    pub state: PurchaseState,
    pub receipt: Option<String>,
    /// The prompt's CheckoutRequestID, when it was stored.
    pub checkout_id: Option<String>,
    pub paid_amount: Option<u32>,
    pub paid_at: Option<i64>,
    pub created_at: i64,
    pub phone: Msisdn,
}

#[derive(serde::Deserialize)]
struct PackageName {
    id: PackageId,
    name: String,
}

fn parse(item: &Item) -> Result<PaymentRow, StoreError> {
    let r = Reader::new(item);
    let package: PackageName = r.json("package")?;
    let corrupt = |why: String| StoreError::Corrupt { key: r.key.clone(), why };
    let price = r.i64("price")?;
    Ok(PaymentRow {
        id: r.parse("purchase_id")?,
        router_id: r.parse("router_id")?,
        package_id: package.id,
        package_name: package.name,
        price: Shillings::new(price.max(0) as u64).map_err(|e| corrupt(format!("price: {e}")))?,
        state: r.parse("state")?,
        receipt: r.opt_str("receipt")?.map(str::to_string),
        checkout_id: r.opt_str("checkout_id")?.map(str::to_string),
        paid_amount: r.opt_i64("paid_amount")?.map(|a| a.clamp(0, u32::MAX as i64) as u32),
        paid_at: r.opt_i64("paid_at")?,
        created_at: r.i64("created_at")?,
        phone: r.parse("phone")?,
    })
}

impl Store {
    /// Purchases paid (or paid the wrong amount) with `from <= paid_at <= to`, and purchases
    /// left `unknown` created in that range. A filtered Scan (see the module notes).
    pub async fn payments_between(&self, from: i64, to: i64) -> Result<Vec<PaymentRow>, StoreError> {
        let q = self
            .db
            .scan()
            .table_name(&self.table)
            .filter_expression(
                "begins_with(pk, :p) AND sk = :meta AND \
                     ((paid_at BETWEEN :f AND :t) OR (#st = :unknown AND created_at BETWEEN :f AND :t))",
            )
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":p", s("PURCHASE#"))
            .expression_attribute_values(":meta", s("META"))
            .expression_attribute_values(":f", n(from))
            .expression_attribute_values(":t", n(to))
            .expression_attribute_values(":unknown", s(PurchaseState::Unknown.as_str()))
            .consistent_read(true);
        let mut rows = self.scan_all(q).await?.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
        rows.sort_by(|a, b| {
            (a.paid_at.unwrap_or(a.created_at), &a.id).cmp(&(b.paid_at.unwrap_or(b.created_at), &b.id))
        });
        Ok(rows)
    }
}
