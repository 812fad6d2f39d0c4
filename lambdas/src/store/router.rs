//! Router records: where a router's jobs go and the key that signs them.

use hotspot_core::{RouterId, RouterKey};

use super::item::{Reader, n, s};
use super::schema::{META, router_pk};
use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterRecord {
    pub id: RouterId,
    pub name: String,
    /// The router's own FIFO queue.
    pub queue_url: String,
    /// Signs jobs to this router and verifies its reports. Encrypted at rest by DynamoDB.
    pub key: RouterKey,
    pub created_at: i64,
}

impl Store {
    pub async fn put_router(&self, r: &RouterRecord) -> Result<(), StoreError> {
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(router_pk(r.id.as_str())))
            .item("sk", s(META))
            .item("router_id", s(r.id.as_str()))
            .item("name", s(&r.name))
            .item("queue_url", s(&r.queue_url))
            .item("key_hex", s(r.key.to_hex()))
            .item("created_at", n(r.created_at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                Err(StoreError::AlreadyExists(format!("router {}", r.id)))
            }
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    pub async fn get_router(&self, id: &RouterId) -> Result<Option<RouterRecord>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .key("pk", s(router_pk(id.as_str())))
            .key("sk", s(META))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        let Some(item) = out.item else { return Ok(None) };
        let r = Reader::new(&item);
        Ok(Some(RouterRecord {
            id: r.parse("router_id")?,
            name: r.str("name")?.to_string(),
            queue_url: r.str("queue_url")?.to_string(),
            key: r.parse("key_hex")?,
            created_at: r.i64("created_at")?,
        }))
    }
}
