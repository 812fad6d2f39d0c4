//! Purchases started from this router's portal, and the payment failures reported for them.

use hotspot_core::wire::PaymentFailure;
use hotspot_core::{MacAddr, PurchaseId};
use rusqlite::{OptionalExtension, params};

use super::db::{Journal, Result, from_json, json, parse};

impl Journal {
    pub fn record_purchase(&self, purchase: &PurchaseId, mac: MacAddr, now: i64) -> Result<()> {
        let db = self.db();
        db.execute(
            "INSERT OR IGNORE INTO purchases (purchase_id, mac, created_at) VALUES (?1, ?2, ?3)",
            params![purchase.as_str(), mac.to_string(), now],
        )?;
        Ok(())
    }

    /// The MAC a purchase was started for, here or (for grants) as the cloud says.
    pub fn purchase_mac(&self, purchase: &PurchaseId) -> Result<Option<MacAddr>> {
        let db = self.db();
        let m: Option<String> = db
            .query_row(
                "SELECT mac FROM purchases WHERE purchase_id = ?1 UNION ALL SELECT mac FROM grants WHERE purchase_id = ?1 LIMIT 1",
                [purchase.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        m.map(|m| parse(&m, "mac")).transpose()
    }

    pub fn record_payment_failure(
        &self,
        purchase: &PurchaseId,
        reason: PaymentFailure,
        code: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let db = self.db();
        db.execute(
            "INSERT OR REPLACE INTO payment_failures (purchase_id, reason, code, at) VALUES (?1, ?2, ?3, ?4)",
            params![purchase.as_str(), json(&reason)?, code, now],
        )?;
        Ok(())
    }

    pub fn payment_failure(&self, purchase: &PurchaseId) -> Result<Option<PaymentFailure>> {
        let db = self.db();
        let r: Option<String> = db
            .query_row("SELECT reason FROM payment_failures WHERE purchase_id = ?1", [purchase.as_str()], |r| r.get(0))
            .optional()?;
        r.map(|r| from_json(&r)).transpose()
    }
}
