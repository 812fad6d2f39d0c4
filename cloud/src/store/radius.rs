//! RADIUS accounting, one item per device login holding the latest counters the router
//! reported: under a purchase's session (`SESSION#<purchase>` / `ACCT#<Acct-Session-Id>`), or
//! beside a printed voucher in its router's partition (`ROUTER#<id>` /
//! `VACCT#<code>#<Acct-Session-Id>`). Repeats and late or reordered packets change nothing:
//! counters only grow, and a stop stays a stop.

use aws_sdk_dynamodb::types::AttributeValue;
use hotspot_core::{PurchaseId, RouterId, VoucherCode};

use super::item::{Reader, n, s, written};
use super::schema::{router_pk, session_pk};
use super::table::{Store, StoreError};
use crate::radius::Usage;

const ACCT: &str = "ACCT#";

fn voucher_acct_prefix(code: &VoucherCode) -> String {
    format!("VACCT#{code}#")
}

impl Store {
    /// Records what an accounting request reports for `id`'s session at `router`. False when the
    /// session is not this router's (nothing is written) or the report is older than one kept.
    pub async fn record_radius_usage(
        &self,
        id: &PurchaseId,
        router: &RouterId,
        u: &Usage,
        now: i64,
    ) -> Result<bool, StoreError> {
        match self.get_session(id).await? {
            Some(session) if &session.router_id == router => {}
            _ => return Ok(false),
        }
        let made = self.put_usage(session_pk(id.as_str()), ACCT, router, u, now).await?;
        if made {
            self.record_session_start(id, router, now).await?;
        }
        Ok(made)
    }

    /// Records what an accounting request reports for the voucher `code` at `router`. False when
    /// it is no voucher of that router's (nothing is written) or the report is older.
    pub async fn record_voucher_radius_usage(
        &self,
        router: &RouterId,
        code: &VoucherCode,
        u: &Usage,
        now: i64,
    ) -> Result<bool, StoreError> {
        if self.get_voucher(router, code).await?.is_none() {
            return Ok(false);
        }
        self.put_usage(router_pk(router.as_str()), &voucher_acct_prefix(code), router, u, now).await
    }

    /// Every device login recorded under the voucher `code` at `router`.
    pub async fn voucher_radius_usage(&self, router: &RouterId, code: &VoucherCode) -> Result<Vec<Usage>, StoreError> {
        self.query_usage(router_pk(router.as_str()), &voucher_acct_prefix(code)).await
    }

    /// Every device login recorded under `id`'s session (a package allows at most ten devices;
    /// each login is one item, so this stays small).
    pub async fn radius_usage(&self, id: &PurchaseId) -> Result<Vec<Usage>, StoreError> {
        self.query_usage(session_pk(id.as_str()), ACCT).await
    }

    async fn put_usage(
        &self,
        pk: String,
        prefix: &str,
        router: &RouterId,
        u: &Usage,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut set = vec!["router_id = :r", "updated_at = :now", "started_at = if_not_exists(started_at, :now)"];
        set.extend(["bytes_in = :bi", "bytes_out = :bo"]);
        if u.mac.is_some() {
            set.push("mac = :m");
        }
        if u.stopped {
            set.push("stopped = :t");
        }
        let mut req = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(format!("{prefix}{}", u.acct_session)))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(
                "attribute_not_exists(pk) OR (bytes_in <= :bi AND bytes_out <= :bo AND (attribute_not_exists(stopped) OR :stop = :t))",
            )
            .expression_attribute_values(":r", s(router.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":bi", n(u.bytes_in))
            .expression_attribute_values(":bo", n(u.bytes_out))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":stop", AttributeValue::Bool(u.stopped));
        if let Some(m) = u.mac {
            req = req.expression_attribute_values(":m", s(m.to_string()));
        }
        written(req.send().await)
    }

    async fn query_usage(&self, pk: String, prefix: &str) -> Result<Vec<Usage>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :a)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":a", s(prefix))
            .consistent_read(true);
        let items = self.query_capped(q, 1000).await?;
        items
            .iter()
            .map(|item| {
                let r = Reader::new(item);
                let sk = r.str("sk")?;
                Ok(Usage {
                    acct_session: sk.strip_prefix(prefix).unwrap_or(sk).to_string(),
                    mac: r.opt_parse("mac")?,
                    bytes_in: r.opt_i64("bytes_in")?.unwrap_or(0).max(0) as u64,
                    bytes_out: r.opt_i64("bytes_out")?.unwrap_or(0).max(0) as u64,
                    stopped: matches!(item.get("stopped"), Some(AttributeValue::Bool(true))),
                })
            })
            .collect()
    }
}
