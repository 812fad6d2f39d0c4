//! Voucher codes this router holds as hotspot users, and when each was first used.

use hotspot_core::{Package, VoucherCode};
use rusqlite::{OptionalExtension, params};

use super::db::{Journal, Result, from_json, json, parse};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherRecord {
    pub code: VoucherCode,
    pub package: Package,
    pub first_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub ended: bool,
}

impl Journal {
    pub fn add_vouchers(&self, batch_id: &str, package: &Package, codes: &[VoucherCode]) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let body = json(package)?;
        for c in codes {
            tx.execute(
                "INSERT OR IGNORE INTO vouchers (code, package, batch_id) VALUES (?1, ?2, ?3)",
                params![c.as_str(), body, batch_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn voucher(&self, code: &VoucherCode) -> Result<Option<VoucherRecord>> {
        let db = self.db();
        let row = db
            .query_row(
                "SELECT package, first_used_at, expires_at, ended FROM vouchers WHERE code = ?1",
                [code.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(p, f, e, ended)| {
            Ok(VoucherRecord {
                code: code.clone(),
                package: from_json(&p)?,
                first_used_at: f,
                expires_at: e,
                ended: ended != 0,
            })
        })
        .transpose()
    }

    /// First use starts the package's validity; later uses keep the first expiry.
    pub fn voucher_used(&self, code: &VoucherCode, now: i64) -> Result<Option<i64>> {
        let Some(v) = self.voucher(code)? else { return Ok(None) };
        if let Some(e) = v.expires_at {
            return Ok(Some(e));
        }
        let expires = now.saturating_add(v.package.validity().secs() as i64);
        let db = self.db();
        db.execute(
            "UPDATE vouchers SET first_used_at = ?2, expires_at = ?3 WHERE code = ?1 AND expires_at IS NULL",
            params![code.as_str(), now, expires],
        )?;
        Ok(Some(expires))
    }

    pub fn due_vouchers(&self, now: i64) -> Result<Vec<VoucherCode>> {
        let db = self.db();
        let mut st = db.prepare_cached("SELECT code FROM vouchers WHERE ended = 0 AND expires_at <= ?1")?;
        let rows = st.query_map([now], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(parse(&r?, "voucher code")?);
        }
        Ok(out)
    }

    pub fn end_voucher(&self, code: &VoucherCode) -> Result<()> {
        let db = self.db();
        db.execute("UPDATE vouchers SET ended = 1 WHERE code = ?1", [code.as_str()])?;
        Ok(())
    }
}
