//! Leases: one holder at a time for a job that must not run twice at once (the reconciler),
//! with an expiry so a holder that died frees it by itself.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{n, s, written};
use super::schema::META;
use super::table::{Store, StoreError};

fn lease_pk(name: &str) -> String {
    format!("LEASE#{name}")
}

impl Store {
    /// Takes lease `name` for `holder` until `until`, unless someone else holds it now.
    pub async fn try_lease(&self, name: &str, holder: &str, now: i64, until: i64) -> Result<bool, StoreError> {
        written(
            self.db
                .put_item()
                .table_name(&self.table)
                .item("pk", s(lease_pk(name)))
                .item("sk", s(META))
                .item("holder", s(holder))
                .item("until", n(until))
                .item("ttl", n(until + 86_400))
                .condition_expression("attribute_not_exists(pk) OR #u < :now")
                .expression_attribute_names("#u", "until")
                .expression_attribute_values(":now", n(now))
                .send()
                .await,
        )
    }

    /// Gives lease `name` up, if `holder` still holds it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        written(
            self.db
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(lease_pk(name)))
                .key("sk", s(META))
                .condition_expression("holder = :h")
                .expression_attribute_values(":h", AttributeValue::S(holder.into()))
                .send()
                .await,
        )
        .map(|_| ())
    }
}
