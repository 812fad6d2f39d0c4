//! Sessions as operators see and change them: the live list, disconnect and extend. Each
//! change is conditional on the session being live at the named router.

use hotspot_core::{MacAddr, PackageId, PurchaseId, RouterId};

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

use super::item::{Item, Reader, n, s, written};
use super::schema::{GSI_LIVE, META, session_pk};
use super::table::{Store, StoreError};

/// A session not yet revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub purchase_id: PurchaseId,
    pub router_id: RouterId,
    pub mac: MacAddr,
    pub package_id: PackageId,
    pub paid_at: i64,
    pub expires_at: i64,
    pub started_at: Option<i64>,
}

fn parse(item: &Item) -> Result<LiveSession, StoreError> {
    let r = Reader::new(item);
    Ok(LiveSession {
        purchase_id: r.parse("purchase_id")?,
        router_id: r.parse("router_id")?,
        mac: r.parse("mac")?,
        package_id: r.parse("package_id")?,
        paid_at: r.i64("paid_at")?,
        expires_at: r.i64("expires_at")?,
        started_at: r.opt_i64("started_at")?,
    })
}

impl Store {
    /// Sessions not yet revoked (from the `live` index), optionally at one router, by expiry.
    pub async fn list_live_sessions(&self, router: Option<&RouterId>) -> Result<Vec<LiveSession>, StoreError> {
        let mut q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_LIVE)
            .key_condition_expression("live = :l")
            .expression_attribute_values(":l", s("live"));
        if let Some(r) = router {
            q = q.filter_expression("router_id = :r").expression_attribute_values(":r", s(r.as_str()));
        }
        self.query_all(q).await?.iter().map(parse).collect()
    }

    /// A live session at `router`, read from the table itself (strongly consistent).
    pub async fn get_live_session(
        &self,
        id: &PurchaseId,
        router: &RouterId,
    ) -> Result<Option<LiveSession>, StoreError> {
        let Some(item) = self.get_item(session_pk(id.as_str()), META).await? else { return Ok(None) };
        if !item.contains_key("live") {
            return Ok(None);
        }
        let sess = parse(&item)?;
        Ok((sess.router_id == *router).then_some(sess))
    }

    /// An operator disconnected the session: it leaves the live index. False when it was not live
    /// at `router`.
    pub async fn revoke_live_session(
        &self,
        id: &PurchaseId,
        router: &RouterId,
        by: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let res = self
            .update_session(id)
            .update_expression("SET revoked_at = :now, revoked_by = :by REMOVE live")
            .condition_expression("attribute_exists(live) AND router_id = :r")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":r", s(router.as_str()))
            .send()
            .await;
        written(res)
    }

    /// Moves a live session's expiry from `old` to `new` (conditional on `old`, so two operators
    /// extending at once cannot lose one extension). False when it was not live at `router` with
    /// that expiry.
    pub async fn set_live_session_expiry(
        &self,
        id: &PurchaseId,
        router: &RouterId,
        old: i64,
        new: i64,
    ) -> Result<bool, StoreError> {
        let res = self
            .update_session(id)
            .update_expression("SET expires_at = :new")
            .condition_expression("attribute_exists(live) AND router_id = :r AND expires_at = :old")
            .expression_attribute_values(":new", n(new))
            .expression_attribute_values(":old", n(old))
            .expression_attribute_values(":r", s(router.as_str()))
            .send()
            .await;
        written(res)
    }

    fn update_session(&self, id: &PurchaseId) -> UpdateItemFluentBuilder {
        self.db.update_item().table_name(&self.table).key("pk", s(session_pk(id.as_str()))).key("sk", s(META))
    }
}
