//! The Daraja token shared by every Lambda instance: one DynamoDB item, conditional writes.
//! A new token may invalidate the previous one (Safaricom's FAQ), so only the holder of a short
//! lease fetches; the others read what it stored.

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use daraja::{AccessToken, StoredToken, TokenStore, TokenStoreError};

use crate::store::{Store, is_condition_failure};

const PK: &str = "DARAJA#TOKEN";
const SK: &str = "META";

pub struct DynamoTokenStore {
    store: Store,
}

impl DynamoTokenStore {
    pub fn new(store: Store) -> Self {
        DynamoTokenStore { store }
    }
}

fn err<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> TokenStoreError + '_ {
    move |e| TokenStoreError::new(format!("{what}: {e:?}"))
}

impl TokenStore for DynamoTokenStore {
    async fn load(&self) -> Result<Option<StoredToken>, TokenStoreError> {
        let item = self.store.get_item(PK.into(), SK).await.map_err(err("load token"))?;
        let Some(item) = item else { return Ok(None) };
        let token = item.get("token").and_then(|v| v.as_s().ok());
        let expires = item.get("expires_at").and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
        Ok(match (token, expires) {
            (Some(t), Some(e)) => Some(StoredToken { token: AccessToken::new(t.clone()), expires_at: e }),
            _ => None,
        })
    }

    async fn try_lease(&self, holder: &str, now: i64, until: i64) -> Result<bool, TokenStoreError> {
        self.update_if("take lease", |u| {
            u.update_expression("SET lease_holder = :h, lease_until = :u")
                .condition_expression("attribute_not_exists(lease_until) OR lease_until < :now")
                .expression_attribute_values(":h", AttributeValue::S(holder.into()))
                .expression_attribute_values(":u", AttributeValue::N(until.to_string()))
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
        })
        .await
    }

    async fn store(&self, holder: &str, token: StoredToken) -> Result<bool, TokenStoreError> {
        self.update_if("store token", |u| {
            u.update_expression("SET #t = :t, expires_at = :e REMOVE lease_holder, lease_until")
                .condition_expression("lease_holder = :h")
                .expression_attribute_names("#t", "token")
                .expression_attribute_values(":t", AttributeValue::S(token.token.secret().into()))
                .expression_attribute_values(":e", AttributeValue::N(token.expires_at.to_string()))
                .expression_attribute_values(":h", AttributeValue::S(holder.into()))
        })
        .await
    }

    async fn release(&self, holder: &str) -> Result<(), TokenStoreError> {
        // Not holding the lease (any more) is fine: someone else's refresh goes on.
        self.update_if("release lease", |u| {
            u.update_expression("REMOVE lease_holder, lease_until")
                .condition_expression("lease_holder = :h")
                .expression_attribute_values(":h", AttributeValue::S(holder.into()))
        })
        .await
        .map(|_| ())
    }
}

impl DynamoTokenStore {
    /// A conditional update of the token item: true if it was made, false if its condition refused it.
    async fn update_if(
        &self,
        what: &str,
        build: impl FnOnce(UpdateItemFluentBuilder) -> UpdateItemFluentBuilder,
    ) -> Result<bool, TokenStoreError> {
        let update = self
            .store
            .db
            .update_item()
            .table_name(&self.store.table)
            .key("pk", AttributeValue::S(PK.into()))
            .key("sk", AttributeValue::S(SK.into()));
        match build(update).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(err(what)(e)),
        }
    }
}
