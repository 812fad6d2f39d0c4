//! The SMS receipt's at-most-once claim and outcome, on the purchase item.

use hotspot_core::PurchaseId;

use super::item::{n, s, written};
use super::schema::{META, purchase_pk};
use super::table::{Store, StoreError};

impl Store {
    /// Claims the purchase's one SMS receipt. False if it was claimed before (a repeated callback,
    /// the reconciler and the callback racing): that one sends it.
    pub async fn claim_sms(&self, id: &PurchaseId, now: i64) -> Result<bool, StoreError> {
        let r = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(purchase_pk(id.as_str())))
            .key("sk", s(META))
            .update_expression("SET sms_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(sms_at)")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        written(r)
    }

    /// What happened to the SMS (`sent <message id>` or `failed: <why>`).
    pub async fn record_sms(&self, id: &PurchaseId, outcome: &str) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(purchase_pk(id.as_str())))
            .key("sk", s(META))
            .update_expression("SET sms = :o")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":o", s(outcome))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// The recorded SMS outcome, for support and tests.
    pub async fn sms_outcome(&self, id: &PurchaseId) -> Result<Option<String>, StoreError> {
        let item = self.get_item(purchase_pk(id.as_str()), META).await?;
        Ok(item.and_then(|i| i.get("sms").and_then(|v| v.as_s().ok()).cloned()))
    }
}
