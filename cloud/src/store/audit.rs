//! The operators' audit log: one item per `hotspotctl` action (done, refused or failed), in a
//! partition per month (`AUDIT#yyyy-mm`), sorted by time and a random id.

use std::collections::BTreeMap;

use super::item::{Item, Reader, n, s};
use super::table::{Store, StoreError};
use hotspot_core::calendar::{month_string, next_month_start};

hotspot_core::string_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AuditResult("audit result") { Ok = "ok", Refused = "refused", Error = "error" }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: i64,
    /// Random, so two actions in the same second both keep their item.
    pub id: String,
    /// The caller's ARN.
    pub who: String,
    /// The caller's role then (`admin`, `manager`, `staff for <router>`, or `none`).
    pub role: String,
    /// The command, e.g. `voucher generate`.
    pub action: String,
    /// The arguments, never secrets.
    pub args: BTreeMap<String, String>,
    pub result: AuditResult,
    /// Why it was refused or failed; what it did when it succeeded.
    pub detail: String,
}

/// 2024-01-01 and 2100-01-01 UTC: the audit log's months lie between.
const AUDIT_FIRST: i64 = 1_704_067_200;
const AUDIT_LAST: i64 = 4_102_444_800;

fn audit_pk(at: i64) -> String {
    format!("AUDIT#{}", month_string(at))
}

fn audit_sk(at: i64, id: &str) -> String {
    format!("{:012}#{id}", at.max(0))
}

fn parse(item: &Item) -> Result<AuditEntry, StoreError> {
    let r = Reader::new(item);
    Ok(AuditEntry {
        at: r.i64("at")?,
        id: r.str("id")?.to_string(),
        who: r.str("who")?.to_string(),
        role: r.str("role")?.to_string(),
        action: r.str("action")?.to_string(),
        args: r.json("args")?,
        result: r.parse("result")?,
        detail: r.opt_str("detail")?.unwrap_or("").to_string(),
    })
}

impl Store {
    pub async fn put_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let args = serde_json::to_string(&e.args).map_err(StoreError::dynamo)?;
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(audit_pk(e.at)))
            .item("sk", s(audit_sk(e.at, &e.id)))
            .item("at", n(e.at))
            .item("id", s(&e.id))
            .item("who", s(&e.who))
            .item("role", s(&e.role))
            .item("action", s(&e.action))
            .item("args", s(args))
            .item("result", s(e.result.as_str()))
            .item("detail", s(&e.detail))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// Entries with `from <= at <= to`, oldest first, optionally of one caller: one Query per month.
    pub async fn list_audit(&self, from: i64, to: i64, who: Option<&str>) -> Result<Vec<AuditEntry>, StoreError> {
        // No entry predates the product or postdates 2100: a range past either (an open end,
        // `i64::MAX`) reads those months only, not billions of empty ones.
        let (from, to) = (from.max(AUDIT_FIRST), to.min(AUDIT_LAST));
        let mut out = Vec::new();
        let mut month_at = from;
        while month_at <= to {
            let mut q = self
                .db
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
                .expression_attribute_values(":pk", s(audit_pk(month_at)))
                .expression_attribute_values(":a", s(format!("{:012}#", from.max(0))))
                .expression_attribute_values(":b", s(format!("{:012}#~", to.max(0))))
                .consistent_read(true);
            if let Some(w) = who {
                q = q.filter_expression("who = :w").expression_attribute_values(":w", s(w));
            }
            for item in self.query_all(q).await? {
                out.push(parse(&item)?);
            }
            month_at = next_month_start(month_at);
        }
        Ok(out)
    }
}
