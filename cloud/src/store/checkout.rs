//! CheckoutRequestID → purchase, as one item that the purchase function and the callback meet at.
//!
//! Daraja may call back before the purchase function has stored the CheckoutRequestID its STK
//! push returned (the push response and the callback race), and an index on the purchase would
//! only be eventually consistent. So each side writes its half of `CHECKOUT#<id>` and reads the
//! other half in the same atomic UpdateItem: whichever writes second sees both and applies the
//! callback. Both may; the purchase transition is conditional, so the outcome lands once.

use aws_sdk_dynamodb::types::ReturnValue;
use hotspot_core::PurchaseId;

use super::item::{Item, Reader, n, s};
use super::purchase::Purchase;
use super::schema::{META, checkout_pk};
use super::table::{Store, StoreError};

/// Long enough for any late callback and a month-end dispute; the purchase keeps the outcome.
const CHECKOUT_TTL_SECS: i64 = 35 * 86_400;

impl Store {
    /// Stores the CheckoutRequestID once the STK push was accepted. Returns the callback body if
    /// the callback came first (the caller applies it).
    pub async fn link_checkout(
        &self,
        id: &PurchaseId,
        checkout_id: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.set_checkout(id, checkout_id, now).await?;
        let item = self.meet(checkout_id, "purchase_id", id.as_str(), now).await?;
        Ok(Reader::new(&item).opt_str("callback")?.map(str::to_string))
    }

    /// Keeps a callback's body under its CheckoutRequestID (the first one wins; repeats are the
    /// same outcome). Returns the purchase it belongs to, if the purchase function linked it yet.
    pub async fn record_callback(
        &self,
        checkout_id: &str,
        body: &str,
        now: i64,
    ) -> Result<Option<PurchaseId>, StoreError> {
        Ok(self.record_callback_for(checkout_id, body, now).await?.0)
    }

    /// As `record_callback`, and whether the push was a subscriber's renewal (`link_renewal`).
    pub async fn record_callback_for(
        &self,
        checkout_id: &str,
        body: &str,
        now: i64,
    ) -> Result<(Option<PurchaseId>, bool), StoreError> {
        let item = self.meet(checkout_id, "callback", body, now).await?;
        let r = Reader::new(&item);
        Ok((r.opt_parse("purchase_id")?, r.opt_str("renewal")?.is_some()))
    }

    /// Marks a CheckoutRequestID as a subscriber's renewal (`Store::put_stk_renewal` first).
    /// Returns the callback body if the callback came first (the caller settles it).
    pub async fn link_renewal(&self, checkout_id: &str, now: i64) -> Result<Option<String>, StoreError> {
        let item = self.meet(checkout_id, "renewal", "1", now).await?;
        Ok(Reader::new(&item).opt_str("callback")?.map(str::to_string))
    }

    /// The purchase a CheckoutRequestID belongs to (strongly consistent).
    pub async fn purchase_for_checkout(&self, checkout_id: &str) -> Result<Option<Purchase>, StoreError> {
        let Some(item) = self.get_item(checkout_pk(checkout_id), META).await? else { return Ok(None) };
        match Reader::new(&item).opt_parse::<PurchaseId>("purchase_id")? {
            Some(id) => self.get_purchase(&id).await,
            None => Ok(None),
        }
    }

    /// Writes one half (if not there yet) and returns the whole item, atomically.
    async fn meet(&self, checkout_id: &str, half: &str, value: &str, now: i64) -> Result<Item, StoreError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(checkout_pk(checkout_id)))
            .key("sk", s(META))
            .update_expression("SET #half = if_not_exists(#half, :v), #at = if_not_exists(#at, :now), #ttl = :ttl")
            .expression_attribute_names("#half", half)
            .expression_attribute_names("#at", format!("{half}_at"))
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":v", s(value))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":ttl", n(now + CHECKOUT_TTL_SECS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(out.attributes.unwrap_or_default())
    }
}
