//! The Daraja access token every Lambda instance shares: one item, written only by the holder
//! of a short lease (a new token may invalidate the previous one, Safaricom's FAQ says).

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{n, s, written};
use super::table::{Store, StoreError};

const PK: &str = "DARAJA#TOKEN";
const SK: &str = "META";

/// The token as stored: its secret and when it expires (Unix seconds).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredDarajaToken {
    pub token: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for StoredDarajaToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDarajaToken").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

impl Store {
    pub async fn load_daraja_token(&self) -> Result<Option<StoredDarajaToken>, StoreError> {
        let Some(item) = self.get_item(PK.into(), SK).await? else { return Ok(None) };
        let token = item.get("token").and_then(|v| v.as_s().ok());
        let expires = item.get("expires_at").and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
        Ok(match (token, expires) {
            (Some(t), Some(e)) => Some(StoredDarajaToken { token: t.clone(), expires_at: e }),
            _ => None,
        })
    }

    /// Takes the refresh lease until `until` unless someone else holds it; true if taken.
    pub async fn try_daraja_token_lease(&self, holder: &str, now: i64, until: i64) -> Result<bool, StoreError> {
        self.update_token_if(|u| {
            u.update_expression("SET lease_holder = :h, lease_until = :u")
                .condition_expression("attribute_not_exists(lease_until) OR lease_until < :now")
                .expression_attribute_values(":h", s(holder))
                .expression_attribute_values(":u", n(until))
                .expression_attribute_values(":now", n(now))
        })
        .await
    }

    /// Stores a fresh token and drops the lease, if `holder` still holds it; true if stored.
    pub async fn store_daraja_token(&self, holder: &str, token: &StoredDarajaToken) -> Result<bool, StoreError> {
        self.update_token_if(|u| {
            u.update_expression("SET #t = :t, expires_at = :e REMOVE lease_holder, lease_until")
                .condition_expression("lease_holder = :h")
                .expression_attribute_names("#t", "token")
                .expression_attribute_values(":t", s(&token.token))
                .expression_attribute_values(":e", n(token.expires_at))
                .expression_attribute_values(":h", s(holder))
        })
        .await
    }

    /// Gives the lease up. Not holding it (any more) is fine: someone else's refresh goes on.
    pub async fn release_daraja_token_lease(&self, holder: &str) -> Result<(), StoreError> {
        self.update_token_if(|u| {
            u.update_expression("REMOVE lease_holder, lease_until")
                .condition_expression("lease_holder = :h")
                .expression_attribute_values(":h", s(holder))
        })
        .await
        .map(|_| ())
    }

    async fn update_token_if(
        &self,
        build: impl FnOnce(UpdateItemFluentBuilder) -> UpdateItemFluentBuilder,
    ) -> Result<bool, StoreError> {
        let update = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(PK.into()))
            .key("sk", AttributeValue::S(SK.into()));
        written(build(update).send().await)
    }
}
