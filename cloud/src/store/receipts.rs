//! Every M-Pesa payment the cloud learned of, callback or STK query, kept apart from the
//! purchases so the ledger can match the two one to one (`hotspotctl report ledger`). A receipt
//! nobody's purchase claims is `unmatched` (a sparse attribute) until an operator credits it.

use hotspot_core::currency::Money;
use hotspot_core::phone::PhoneNumber;
use hotspot_core::{AccountNumber, PurchaseId, RouterId};

use aws_sdk_dynamodb::types::ReturnValue;

use super::item::{Item, Reader, amount, is_condition_failure, n, s, written};
use super::schema::{GSI_PENDING, LEDGER_RECEIPTS, META, ledger_month};
use super::table::{Store, StoreError};

/// A purchase whose prompt's CheckoutRequestID was never stored (the push timed out, the
/// function died): kept under its phone for a while, so its callback can still find it.
const UNLINKED_TTL_SECS: i64 = 86_400;
/// The `pending` index partition of receipts no purchase claims yet.
pub(crate) const UNMATCHED: &str = "receipt";

hotspot_core::string_enum! {
    /// Where the cloud learned of a payment.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ReceiptSource("receipt source") { Callback = "callback", Query = "query", Credit = "credit", C2b = "c2b" }
}

/// One payment as M-Pesa reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRecord {
    /// The M-Pesa receipt number, or `query:<CheckoutRequestID>` for a payment only STK query
    /// confirmed (the query carries no number).
    pub key: String,
    pub checkout_id: Option<String>,
    pub phone: Option<PhoneNumber>,
    pub amount: Option<Money>,
    pub at: i64,
    pub source: ReceiptSource,
    /// The purchase it paid for; `None` while unmatched.
    pub purchase_id: Option<PurchaseId>,
    pub router_id: Option<RouterId>,
    /// Who credited it as a grant, for an unmatched receipt an operator settled.
    pub credited_by: Option<String>,
}

pub(crate) fn receipt_pk(key: &str) -> String {
    format!("RECEIPT#{key}")
}

fn unlinked_pk(phone: &PhoneNumber) -> String {
    format!("UNLINKED#{}", phone.e164())
}

pub(crate) fn parse(item: &Item) -> Result<ReceiptRecord, StoreError> {
    let r = Reader::new(item);
    let amount = r.opt_money("amount", "currency")?;
    Ok(ReceiptRecord {
        key: r.str("receipt")?.to_string(),
        checkout_id: r.opt_str("checkout_id")?.map(str::to_string),
        phone: r.opt_parse("phone")?,
        amount,
        at: r.i64("at")?,
        source: r.parse("source")?,
        purchase_id: r.opt_parse("purchase_id")?,
        router_id: r.opt_parse("router_id")?,
        credited_by: r.opt_str("credited_by")?.map(str::to_string),
    })
}

/// A purchase left `unknown` without a CheckoutRequestID, as its phone's callback may find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlinkedPurchase {
    pub purchase_id: PurchaseId,
    pub price: Money,
    pub created_at: i64,
}

/// What keeping a receipt for a purchase did (`Store::claim_receipt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// It was new.
    Recorded,
    /// It was kept unmatched; now it pays for the purchase.
    Claimed,
    /// It already paid for this purchase (a repeat).
    Already,
    /// It pays for another purchase (named if readable); nothing changed.
    Taken(Option<PurchaseId>),
}

/// A receipt's item as `record_receipt` writes it (and `record_c2b`, inside its transaction).
pub(crate) fn receipt_item(r: &ReceiptRecord) -> Item {
    let mut item: Item = [
        ("pk", s(receipt_pk(&r.key))),
        ("sk", s(META)),
        ("receipt", s(&r.key)),
        ("at", n(r.at)),
        ("ledger", s(ledger_month(LEDGER_RECEIPTS, r.at))),
        ("ledger_at", n(r.at)),
        ("source", s(r.source.as_str())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut put = |k: &str, v| {
        item.insert(k.to_string(), v);
    };
    if let Some(c) = &r.checkout_id {
        put("checkout_id", s(c));
    }
    if let Some(p) = &r.phone {
        put("phone", s(p.e164()));
    }
    if let Some(a) = r.amount {
        put("amount", amount(a));
        put("currency", s(a.currency().as_str()));
    }
    match (&r.purchase_id, &r.router_id) {
        (Some(p), router) => {
            put("purchase_id", s(p.as_str()));
            if let Some(router) = router {
                put("router_id", s(router.as_str()));
            }
        }
        // In the `pending` index (partition "receipt") until matched or shown to the
        // operator: the reconciler looks at those left unmatched past a grace period.
        (None, _) => {
            put("unmatched", s("unmatched"));
            put("pending", s(UNMATCHED));
            put("created_at", n(r.at));
        }
    }
    if let Some(by) = &r.credited_by {
        put("credited_by", s(by));
    }
    item
}

impl Store {
    /// Records a payment once (a repeated callback is the same receipt). True if new.
    pub async fn record_receipt(&self, r: &ReceiptRecord) -> Result<bool, StoreError> {
        let req = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(receipt_item(r)))
            .condition_expression("attribute_not_exists(pk)");
        written(req.send().await)
    }

    pub async fn get_receipt(&self, key: &str) -> Result<Option<ReceiptRecord>, StoreError> {
        self.get_item(receipt_pk(key), META).await?.as_ref().map(parse).transpose()
    }

    /// Many receipts in a few reads (absent ones left out), for the ledger.
    pub async fn get_receipts(&self, keys: &[String]) -> Result<Vec<ReceiptRecord>, StoreError> {
        let keys = keys.iter().map(|k| (receipt_pk(k), META.to_string())).collect();
        self.get_items(keys).await?.iter().map(parse).collect()
    }

    /// Keeps `r` as the payment for `purchase`, in one conditional write: recorded if new,
    /// claimed if it was kept unmatched (the callback beat the link, a late match, an
    /// operator's credit, with `credited_by`), unchanged if it already paid for this purchase.
    /// A receipt that paid for another purchase is left as it is (`Claim::Taken`). What the
    /// receipt first said (when, how much, from whom) is never overwritten. The purchase is the
    /// one named here; `r.purchase_id` and `r.router_id` are not read.
    pub async fn claim_receipt(
        &self,
        r: &ReceiptRecord,
        purchase: &PurchaseId,
        router: &RouterId,
    ) -> Result<Claim, StoreError> {
        // The ledger index keeps the time the receipt first gave, like `at`.
        let mut set = vec![
            "receipt = :k",
            "#at = if_not_exists(#at, :at)",
            "ledger = if_not_exists(ledger, :lg)",
            "ledger_at = if_not_exists(#at, :at)",
            "#src = if_not_exists(#src, :src)",
        ];
        let mut req = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(receipt_pk(&r.key)))
            .key("sk", s(META))
            .condition_expression("attribute_not_exists(pk) OR attribute_exists(unmatched) OR purchase_id = :p")
            .expression_attribute_names("#at", "at")
            .expression_attribute_names("#src", "source")
            .expression_attribute_values(":k", s(&r.key))
            .expression_attribute_values(":at", n(r.at))
            .expression_attribute_values(":lg", s(ledger_month(LEDGER_RECEIPTS, r.at)))
            .expression_attribute_values(":src", s(r.source.as_str()))
            .expression_attribute_values(":p", s(purchase.as_str()))
            .expression_attribute_values(":r", s(router.as_str()))
            .return_values(ReturnValue::AllOld);
        if let Some(c) = &r.checkout_id {
            set.push("checkout_id = if_not_exists(checkout_id, :c)");
            req = req.expression_attribute_values(":c", s(c));
        }
        if let Some(p) = &r.phone {
            set.push("phone = if_not_exists(phone, :ph)");
            req = req.expression_attribute_values(":ph", s(p.e164()));
        }
        if let Some(a) = r.amount {
            set.push("amount = if_not_exists(amount, :am)");
            set.push("currency = if_not_exists(currency, :cur)");
            req = req
                .expression_attribute_values(":am", amount(a))
                .expression_attribute_values(":cur", s(a.currency().as_str()));
        }
        if let Some(by) = &r.credited_by {
            set.push("credited_by = :by");
            req = req.expression_attribute_values(":by", s(by));
        }
        set.extend(["purchase_id = :p", "router_id = :r"]);
        let expr = format!("SET {} REMOVE unmatched, pending", set.join(", "));
        match req.update_expression(expr).send().await {
            Ok(out) => Ok(match out.attributes {
                None => Claim::Recorded,
                Some(old) if old.is_empty() => Claim::Recorded,
                Some(old) if old.contains_key("unmatched") => Claim::Claimed,
                Some(_) => Claim::Already,
            }),
            Err(e) if is_condition_failure(&e) => {
                Ok(Claim::Taken(self.get_receipt(&r.key).await?.and_then(|r| r.purchase_id)))
            }
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// Every receipt with `from <= at <= to`, from the `ledger` index (one Query per month).
    pub async fn receipts_between(&self, from: i64, to: i64) -> Result<Vec<ReceiptRecord>, StoreError> {
        let items = self.query_ledger(LEDGER_RECEIPTS, from, to).await?;
        let mut out = items.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        Ok(out)
    }

    /// Keeps a purchase whose CheckoutRequestID was never stored under its phone (a day).
    pub async fn note_unlinked(&self, phone: &PhoneNumber, p: &UnlinkedPurchase) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(unlinked_pk(phone)))
            .item("sk", s(format!("PURCHASE#{}", p.purchase_id)))
            .item("purchase_id", s(p.purchase_id.as_str()))
            .item("price", amount(p.price))
            .item("currency", s(p.price.currency().as_str()))
            .item("created_at", n(p.created_at))
            .item("ttl", n(p.created_at + UNLINKED_TTL_SECS))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// The purchases of `phone` whose CheckoutRequestID was never stored.
    pub async fn unlinked_for(&self, phone: &PhoneNumber) -> Result<Vec<UnlinkedPurchase>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(unlinked_pk(phone)))
            .consistent_read(true);
        let mut out = Vec::new();
        for item in self.query_all(q).await? {
            let r = Reader::new(&item);
            let price = r.money("price", "currency")?;
            out.push(UnlinkedPurchase {
                purchase_id: r.parse("purchase_id")?,
                price,
                created_at: r.i64("created_at")?,
            });
        }
        Ok(out)
    }

    /// The purchase found its callback (or was decided otherwise): no longer unlinked.
    pub async fn forget_unlinked(&self, phone: &PhoneNumber, purchase: &PurchaseId) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(unlinked_pk(phone)))
            .key("sk", s(format!("PURCHASE#{purchase}")))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// Unmatched receipts recorded at or before `before`, not yet shown to the operator.
    pub async fn unmatched_receipts(&self, before: i64, limit: i32) -> Result<Vec<ReceiptRecord>, StoreError> {
        let out = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_PENDING)
            .key_condition_expression("pending = :h AND created_at <= :upto")
            .expression_attribute_values(":h", s(UNMATCHED))
            .expression_attribute_values(":upto", n(before))
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        out.items.unwrap_or_default().iter().map(parse).collect()
    }

    /// The operator was told of this unmatched receipt (an alarm): it leaves the reconciler's
    /// list and stays unmatched, in the ledger, until credited.
    pub async fn receipt_reported(&self, key: &str) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(receipt_pk(key)))
            .key("sk", s(META))
            .update_expression("REMOVE pending")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// An unmatched receipt turned out to be a subscriber's renewal (its callback beat the page's
    /// record of the push): it leaves the unmatched list, naming the account it renewed. False
    /// when there is no such unmatched receipt (the usual case: nothing to do).
    pub async fn receipt_renewed(
        &self,
        key: &str,
        account: &AccountNumber,
        router: &RouterId,
    ) -> Result<bool, StoreError> {
        let r = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(receipt_pk(key)))
            .key("sk", s(META))
            .update_expression("SET account = :a, router_id = :r REMOVE unmatched, pending")
            .condition_expression("attribute_exists(unmatched)")
            .expression_attribute_values(":a", s(account.as_str()))
            .expression_attribute_values(":r", s(router.as_str()))
            .send()
            .await;
        written(r)
    }
}
