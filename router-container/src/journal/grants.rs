//! Grants as the agent keeps them: what the router should hold, and until when.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use hotspot_core::{MacAddr, Package, PurchaseId};
use rusqlite::{OptionalExtension, params};

use super::db::{Journal, NO_GRANT_MEMO_MAX, Result, from_json, parse};

/// A grant as the agent keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub purchase_id: PurchaseId,
    pub username: String,
    /// Made here, never leaves the router.
    pub password: String,
    pub mac: MacAddr,
    pub ip: Option<std::net::Ipv4Addr>,
    pub package: Package,
    pub expires_at: i64,
    pub state: GrantState,
    pub online: bool,
}

hotspot_core::string_enum! {
    /// `Pending`: journaled, the router may not have it yet; `Active`: on the router; `Ended`:
    /// expired or revoked and removed from the router.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum GrantState("grant state") { Pending = "pending", Active = "active", Ended = "ended" }
}

impl Journal {
    pub fn grant(&self, purchase: &PurchaseId) -> Result<Option<GrantRecord>> {
        let db = self.db();
        let mut st = db.prepare_cached(GRANT_SELECT_BY_ID)?;
        let row = st.query_row([purchase.as_str()], grant_row).optional()?;
        row.map(|r| r.into_record()).transpose()
    }

    /// Grants that are not ended.
    pub fn live_grants(&self) -> Result<Vec<GrantRecord>> {
        self.grants_where("state != 'ended'", params![])
    }

    /// The active grant of a device that has time left, if any (the latest to expire).
    pub fn active_grant_for(&self, mac: MacAddr, now: i64) -> Result<Option<GrantRecord>> {
        // Read before the query: a write after this makes the answer below count for nothing.
        let generation = self.grants_gen.load(Ordering::Acquire);
        {
            let memo = self.no_active_grant.lock().unwrap_or_else(|p| p.into_inner());
            if memo.0 == generation && memo.1.contains(&mac) {
                return Ok(None);
            }
        }
        let found = self
            .grants_where(
                "(mac = ?1 OR purchase_id IN (SELECT purchase_id FROM grant_devices WHERE mac = ?1))
                 AND state = 'active' AND expires_at > ?2",
                params![mac.to_string(), now],
            )?
            .pop();
        if found.is_none() {
            // Time only ever runs out: without a write, a device with none now has none later.
            let mut memo = self.no_active_grant.lock().unwrap_or_else(|p| p.into_inner());
            if memo.0 != generation {
                *memo = (generation, HashSet::new());
            }
            if memo.1.len() < NO_GRANT_MEMO_MAX {
                memo.1.insert(mac);
            }
        }
        Ok(found)
    }

    /// Called after every write to `grants` (with the db lock held).
    pub(super) fn grants_changed(&self) {
        self.grants_gen.fetch_add(1, Ordering::AcqRel);
    }

    /// Live grants whose wall-clock expiry has come.
    pub fn due_grants(&self, now: i64) -> Result<Vec<GrantRecord>> {
        self.grants_where("state != 'ended' AND expires_at <= ?1", params![now])
    }

    /// When the next live grant or used voucher expires, to sleep until then.
    pub fn next_expiry(&self) -> Result<Option<i64>> {
        let db = self.db();
        let g: Option<i64> =
            db.query_row("SELECT MIN(expires_at) FROM grants WHERE state != 'ended'", [], |r| r.get(0))?;
        let v: Option<i64> =
            db.query_row("SELECT MIN(expires_at) FROM vouchers WHERE ended = 0 AND expires_at IS NOT NULL", [], |r| {
                r.get(0)
            })?;
        drop(db);
        let accounts = self.next_account_expiry()?;
        Ok([g, v, accounts].into_iter().flatten().min())
    }

    fn grants_where(&self, cond: &str, p: impl rusqlite::Params) -> Result<Vec<GrantRecord>> {
        let db = self.db();
        let mut st = db.prepare_cached(&format!("{GRANT_SELECT} WHERE {cond} ORDER BY expires_at"))?;
        let rows = st.query_map(p, grant_row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?.into_record()?);
        }
        Ok(out)
    }

    pub fn set_grant_state(
        &self,
        purchase: &PurchaseId,
        state: GrantState,
        online: Option<bool>,
        now: i64,
    ) -> Result<()> {
        let db = self.db();
        db.execute(
            "UPDATE grants SET state = ?2, online = COALESCE(?3, online), updated_at = ?4 WHERE purchase_id = ?1",
            params![purchase.as_str(), state.as_str(), online, now],
        )?;
        self.grants_changed();
        Ok(())
    }

    /// Binds a live grant to another device (re-login from a new MAC).
    pub fn set_grant_mac(
        &self,
        purchase: &PurchaseId,
        mac: MacAddr,
        ip: Option<std::net::Ipv4Addr>,
        now: i64,
    ) -> Result<bool> {
        let db = self.db();
        let n = db.execute(
            "UPDATE grants SET mac = ?2, ip = ?3, online = 0, updated_at = ?4 WHERE purchase_id = ?1 AND state != 'ended'",
            params![purchase.as_str(), mac.to_string(), ip.map(|i| i.to_string()), now],
        )?;
        self.grants_changed();
        Ok(n > 0)
    }

    /// The devices of a grant for more than one device, the paying one first.
    pub fn grant_devices(&self, purchase: &PurchaseId) -> Result<Vec<MacAddr>> {
        let db = self.db();
        let mut st =
            db.prepare_cached("SELECT mac FROM grant_devices WHERE purchase_id = ?1 ORDER BY added_at, rowid")?;
        let rows = st.query_map([purchase.as_str()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(parse(&r?, "mac")?);
        }
        Ok(out)
    }

    /// Adds a device to a grant, in place of `replacing` when given.
    pub fn join_grant_device(
        &self,
        purchase: &PurchaseId,
        mac: MacAddr,
        replacing: Option<MacAddr>,
        now: i64,
    ) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        if let Some(old) = replacing {
            tx.execute(
                "DELETE FROM grant_devices WHERE purchase_id = ?1 AND mac = ?2",
                params![purchase.as_str(), old.to_string()],
            )?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO grant_devices (purchase_id, mac, added_at) VALUES (?1, ?2, ?3)",
            params![purchase.as_str(), mac.to_string(), now],
        )?;
        tx.commit()?;
        self.grants_changed();
        Ok(())
    }

    pub fn set_grant_expiry(&self, purchase: &PurchaseId, expires_at: i64, now: i64) -> Result<bool> {
        let db = self.db();
        let n = db.execute(
            "UPDATE grants SET expires_at = ?2, updated_at = ?3 WHERE purchase_id = ?1 AND state != 'ended'",
            params![purchase.as_str(), expires_at, now],
        )?;
        self.grants_changed();
        Ok(n > 0)
    }
}

const GRANT_SELECT: &str =
    "SELECT purchase_id, username, password, mac, ip, package, expires_at, state, online FROM grants";
const GRANT_SELECT_BY_ID: &str = "SELECT purchase_id, username, password, mac, ip, package, expires_at, state, online FROM grants WHERE purchase_id = ?1";

struct GrantRow(String, String, String, String, Option<String>, String, i64, String, bool);

fn grant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GrantRow> {
    Ok(GrantRow(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
}

impl GrantRow {
    fn into_record(self) -> Result<GrantRecord> {
        Ok(GrantRecord {
            purchase_id: parse(&self.0, "purchase id")?,
            username: self.1,
            password: self.2,
            mac: parse(&self.3, "mac")?,
            ip: self.4.map(|i| parse(&i, "ip")).transpose()?,
            package: from_json(&self.5)?,
            expires_at: self.6,
            state: parse(&self.7, "grant state")?,
            online: self.8,
        })
    }
}
