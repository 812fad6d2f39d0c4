//! Session records: one per paid purchase, with the wall-clock expiry and the usage the router reports.

use hotspot_core::{PurchaseId, RouterId};

use super::item::{Reader, n, s, written};
use super::schema::{GSI_LIVE, META, session_pk};
use super::table::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub purchase_id: PurchaseId,
    pub router_id: RouterId,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub bytes_in: i64,
    pub bytes_out: i64,
}

fn parse(item: &super::item::Item) -> Result<SessionRecord, StoreError> {
    let r = Reader::new(item);
    Ok(SessionRecord {
        purchase_id: r.parse("purchase_id")?,
        router_id: r.parse("router_id")?,
        expires_at: r.i64("expires_at")?,
        revoked_at: r.opt_i64("revoked_at")?,
        started_at: r.opt_i64("started_at")?,
        ended_at: r.opt_i64("ended_at")?,
        bytes_in: r.opt_i64("bytes_in")?.unwrap_or(0),
        bytes_out: r.opt_i64("bytes_out")?.unwrap_or(0),
    })
}

impl Store {
    pub async fn get_session(&self, id: &PurchaseId) -> Result<Option<SessionRecord>, StoreError> {
        let item = self.get_item(session_pk(id.as_str()), META).await?;
        item.as_ref().map(parse).transpose()
    }

    /// Sessions past their expiry and not yet revoked (the expiry sweep's work list).
    pub async fn list_expired_sessions(&self, now: i64, limit: i32) -> Result<Vec<SessionRecord>, StoreError> {
        // Every page up to `limit`: sessions whose revoke keeps failing stay at the front.
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_LIVE)
            .key_condition_expression("live = :l AND expires_at <= :now")
            .expression_attribute_values(":l", s("live"))
            .expression_attribute_values(":now", n(now))
            .limit(limit.min(100));
        self.query_capped(q, limit.max(0) as usize).await?.iter().map(parse).collect()
    }

    /// The revoke job is queued: the session leaves the live index.
    pub async fn mark_session_revoked(&self, id: &PurchaseId, now: i64) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(session_pk(id.as_str())))
            .key("sk", s(META))
            .update_expression("SET revoked_at = :now REMOVE live")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// The router saw the guest come online.
    pub async fn record_session_start(&self, id: &PurchaseId, router: &RouterId, at: i64) -> Result<bool, StoreError> {
        self.session_update(id, router, "SET started_at = if_not_exists(started_at, :at)", vec![(":at", n(at))]).await
    }

    /// The router saw the session end, with its usage. Repeats overwrite with the same figures.
    pub async fn record_session_end(
        &self,
        id: &PurchaseId,
        router: &RouterId,
        at: i64,
        bytes_in: u64,
        bytes_out: u64,
    ) -> Result<bool, StoreError> {
        self.session_update(
            id,
            router,
            "SET ended_at = :at, bytes_in = :bi, bytes_out = :bo",
            vec![(":at", n(at)), (":bi", n(bytes_in)), (":bo", n(bytes_out))],
        )
        .await
    }

    /// Updates a session only if it belongs to `router`: one router cannot write another's usage.
    async fn session_update(
        &self,
        id: &PurchaseId,
        router: &RouterId,
        expr: &str,
        values: Vec<(&str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(session_pk(id.as_str())))
            .key("sk", s(META))
            .update_expression(expr)
            .condition_expression("router_id = :r")
            .expression_attribute_values(":r", s(router.as_str()));
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        written(req.send().await)
    }
}
