//! The agent's SQLite journal (WAL). Every job is recorded before it is applied; its outcome
//! and the report it owes upstream are recorded in one transaction; the SQS message is deleted
//! only after that. So a crash between any two steps replays to the same state: a recorded job is
//! never applied twice to different effect, and a recorded outcome is never lost.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hotspot_core::wire::{Envelope, Payload, PaymentFailure};
use hotspot_core::{MacAddr, MessageId, Package, PackageId, PurchaseId, VoucherCode};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("journal record is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, JournalError>;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Recorded, not yet applied (or applied but the outcome not yet recorded).
    Received,
    Applied,
    Failed,
    Rejected,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Received => "received",
            JobState::Applied => "applied",
            JobState::Failed => "failed",
            JobState::Rejected => "rejected",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "received" => JobState::Received,
            "applied" => JobState::Applied,
            "failed" => JobState::Failed,
            "rejected" => JobState::Rejected,
            o => return Err(JournalError::Corrupt(format!("job state {o:?}"))),
        })
    }
    pub fn is_final(self) -> bool {
        self != JobState::Received
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    /// Journaled; the router may not have it yet.
    Pending,
    /// On the router.
    Active,
    /// Expired or revoked and removed from the router.
    Ended,
}

impl GrantState {
    fn as_str(self) -> &'static str {
        match self {
            GrantState::Pending => "pending",
            GrantState::Active => "active",
            GrantState::Ended => "ended",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => GrantState::Pending,
            "active" => GrantState::Active,
            "ended" => GrantState::Ended,
            o => return Err(JournalError::Corrupt(format!("grant state {o:?}"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherRecord {
    pub code: VoucherCode,
    pub package: Package,
    pub first_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub ended: bool,
}

/// The hotspot user name of a purchase's grant.
pub fn username_for(p: &PurchaseId) -> String {
    format!("hs-{p}")
}

/// The purchase a hotspot user name belongs to, if it is one of ours.
pub fn purchase_of(username: &str) -> Option<PurchaseId> {
    username.strip_prefix("hs-")?.parse().ok()
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    use rand::Rng;
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

pub struct Journal {
    db: Mutex<Connection>,
    /// The packages on sale, as last written: the portal reads them on every page view, and
    /// only this journal writes them.
    packages: Mutex<Option<Arc<Vec<Package>>>>,
    /// Bumped after every write to `grants`: a device found without an active grant stays so
    /// until the next bump, so the portal asks SQLite once per device and change, not per page.
    grants_gen: AtomicU64,
    no_active_grant: Mutex<(u64, HashSet<MacAddr>)>,
}

/// Devices remembered as having no active grant, at most.
const NO_GRANT_MEMO_MAX: usize = 4096;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT, received_at INTEGER NOT NULL, done_at INTEGER);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS grants (
    purchase_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password TEXT NOT NULL,
    mac TEXT NOT NULL, ip TEXT, package TEXT NOT NULL, expires_at INTEGER NOT NULL,
    state TEXT NOT NULL, online INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS grants_due ON grants(state, expires_at);
CREATE INDEX IF NOT EXISTS grants_mac ON grants(mac, state, expires_at);
CREATE TABLE IF NOT EXISTS payment_failures (
    purchase_id TEXT PRIMARY KEY, reason TEXT NOT NULL, code TEXT, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS purchases (purchase_id TEXT PRIMARY KEY, mac TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS packages (id TEXT PRIMARY KEY, body TEXT NOT NULL, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS vouchers (
    code TEXT PRIMARY KEY, package TEXT NOT NULL, batch_id TEXT NOT NULL,
    first_used_at INTEGER, expires_at INTEGER, ended INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
";

/// Bounds on what the journal keeps, so a router's flash never fills.
const MAX_OUTBOX: i64 = 10_000;
const KEEP_DONE_SECS: i64 = 30 * 86_400;

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| JournalError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| JournalError::Corrupt(e.to_string()))
}

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse().map_err(|_| JournalError::Corrupt(format!("{what} {s:?}")))
}

impl Journal {
    pub fn open(dir: &Path) -> Result<Journal> {
        std::fs::create_dir_all(dir).map_err(|e| JournalError::Corrupt(format!("{}: {e}", dir.display())))?;
        Self::from_connection(Connection::open(dir.join("journal.sqlite3"))?)
    }

    pub fn in_memory() -> Result<Journal> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(c: Connection) -> Result<Journal> {
        c.pragma_update(None, "journal_mode", "WAL")?;
        // Durable at each commit: an outcome recorded is an outcome kept across power loss.
        c.pragma_update(None, "synchronous", "FULL")?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        // Plans that do not depend on bound values: otherwise (the bundled SQLite has STAT4)
        // every cached statement is compiled again whenever its parameters change, which on
        // the portal's per-page grant lookup cost ten times the lookup itself.
        c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        c.execute_batch(SCHEMA)?;
        Ok(Journal {
            db: Mutex::new(c),
            packages: Mutex::new(None),
            grants_gen: AtomicU64::new(0),
            no_active_grant: Mutex::new((0, HashSet::new())),
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves SQLite consistent (transactions roll back).
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a verified job. Returns the job's state: `Received` for a new (or unfinished) job
    /// that must be applied, a final state for a duplicate that must only be acknowledged.
    /// A grant's record (with its generated password) is created in the same transaction.
    pub fn record_job(&self, env: &Envelope, raw: &str, now: i64) -> Result<JobState> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let existing: Option<String> =
            tx.query_row("SELECT state FROM jobs WHERE id = ?1", [env.id.as_str()], |r| r.get(0)).optional()?;
        if let Some(state) = existing {
            tx.execute("UPDATE jobs SET attempts = attempts + 1 WHERE id = ?1", [env.id.as_str()])?;
            tx.commit()?;
            return JobState::parse(&state);
        }
        tx.execute(
            "INSERT INTO jobs (id, kind, body, state, received_at) VALUES (?1, ?2, ?3, 'received', ?4)",
            params![env.id.as_str(), env.payload.type_name(), raw, now],
        )?;
        if let Payload::Grant(g) = &env.payload {
            tx.execute(
                "INSERT OR IGNORE INTO grants (purchase_id, username, password, mac, ip, package, expires_at, state,
                     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8)",
                params![
                    g.purchase_id.as_str(),
                    username_for(&g.purchase_id),
                    random_password(),
                    g.mac.to_string(),
                    g.ip.map(|i| i.to_string()),
                    json(&g.package)?,
                    g.expires_at,
                    now
                ],
            )?;
        }
        tx.commit()?;
        if matches!(env.payload, Payload::Grant(_)) {
            self.grants_changed();
        }
        Ok(JobState::Received)
    }

    /// Records a job's outcome together with the reports it owes upstream, atomically.
    pub fn finish_job(
        &self,
        id: &MessageId,
        state: JobState,
        error: Option<&str>,
        events: &[Payload],
        now: i64,
    ) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "UPDATE jobs SET state = ?2, error = ?3, done_at = ?4 WHERE id = ?1",
            params![id.as_str(), state.as_str(), error, now],
        )?;
        for e in events {
            insert_outbox(&tx, e, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A job that failed verification: nothing is applied; the rejection is reported once.
    pub fn reject_job(&self, id: Option<&MessageId>, error: &str, now: i64) -> Result<bool> {
        let mut db = self.db();
        let tx = db.transaction()?;
        if let Some(id) = id {
            let n = tx.execute(
                "INSERT OR IGNORE INTO jobs (id, kind, body, state, error, received_at, done_at)
                 VALUES (?1, 'unknown', '', 'rejected', ?2, ?3, ?3)",
                params![id.as_str(), error, now],
            )?;
            if n == 0 {
                tx.commit()?;
                return Ok(false);
            }
        }
        let report = Payload::ApplyFailed(hotspot_core::wire::ApplyFailed {
            job_id: id.cloned().unwrap_or_else(|| MessageId::derived("unreadable", &PurchaseId::generate())),
            purchase_id: None,
            error: error.chars().take(300).collect(),
            rejected: true,
        });
        insert_outbox(&tx, &report, now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Jobs recorded but not finished (after a crash, or while RouterOS was down), oldest first.
    pub fn unfinished_jobs(&self) -> Result<Vec<(MessageId, String)>> {
        let db = self.db();
        let mut st =
            db.prepare_cached("SELECT id, body FROM jobs WHERE state = 'received' ORDER BY received_at, rowid")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row?;
            out.push((parse(&id, "job id")?, body));
        }
        Ok(out)
    }

    pub fn job_state(&self, id: &MessageId) -> Result<Option<JobState>> {
        let db = self.db();
        let s: Option<String> =
            db.query_row("SELECT state FROM jobs WHERE id = ?1", [id.as_str()], |r| r.get(0)).optional()?;
        s.map(|s| JobState::parse(&s)).transpose()
    }

    pub fn jobs_waiting(&self) -> Result<u32> {
        let db = self.db();
        let n: i64 = db.query_row("SELECT COUNT(*) FROM jobs WHERE state = 'received'", [], |r| r.get(0))?;
        Ok(n.clamp(0, u32::MAX as i64) as u32)
    }

    // --- grants ---

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
            .grants_where("mac = ?1 AND state = 'active' AND expires_at > ?2", params![mac.to_string(), now])?
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
    fn grants_changed(&self) {
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
        Ok(match (g, v) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
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

    pub fn set_grant_expiry(&self, purchase: &PurchaseId, expires_at: i64, now: i64) -> Result<bool> {
        let db = self.db();
        let n = db.execute(
            "UPDATE grants SET expires_at = ?2, updated_at = ?3 WHERE purchase_id = ?1 AND state != 'ended'",
            params![purchase.as_str(), expires_at, now],
        )?;
        self.grants_changed();
        Ok(n > 0)
    }

    // --- purchases started here, failures reported for them ---

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

    // --- packages ---

    pub fn replace_packages(&self, packages: &[Package]) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute("DELETE FROM packages", [])?;
        for (i, p) in packages.iter().enumerate() {
            tx.execute(
                "INSERT OR REPLACE INTO packages (id, body, position) VALUES (?1, ?2, ?3)",
                params![p.id().as_str(), json(p)?, i as i64],
            )?;
        }
        tx.commit()?;
        // Under the db lock, so a reader cannot put back what was there before.
        *self.packages.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(packages.to_vec()));
        Ok(())
    }

    pub fn packages(&self) -> Result<Arc<Vec<Package>>> {
        if let Some(p) = self.packages.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(p.clone());
        }
        let db = self.db();
        let mut st = db.prepare_cached("SELECT body FROM packages ORDER BY position")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(from_json(&r?)?);
        }
        let out = Arc::new(out);
        *self.packages.lock().unwrap_or_else(|p| p.into_inner()) = Some(out.clone());
        Ok(out)
    }

    pub fn package(&self, id: &PackageId) -> Result<Option<Package>> {
        Ok(self.packages()?.iter().find(|p| p.id() == id).cloned())
    }

    // --- vouchers ---

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

    // --- reports owed upstream ---

    pub fn enqueue_event(&self, payload: &Payload, now: i64) -> Result<()> {
        let db = self.db();
        insert_outbox(&db, payload, now)
    }

    /// The oldest reports not yet sent.
    pub fn outbox(&self, limit: usize) -> Result<Vec<(i64, MessageId, Payload)>> {
        let db = self.db();
        let mut st = db.prepare_cached("SELECT seq, id, payload FROM outbox ORDER BY seq LIMIT ?1")?;
        let rows = st
            .query_map([limit as i64], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        let mut out = Vec::new();
        for r in rows {
            let (seq, id, p) = r?;
            out.push((seq, parse(&id, "event id")?, from_json(&p)?));
        }
        Ok(out)
    }

    pub fn ack_outbox(&self, seq: i64) -> Result<()> {
        let db = self.db();
        db.execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
        Ok(())
    }

    /// Drops what is no longer needed: finished jobs after a month, and the oldest reports past
    /// the outbox bound (a router offline for weeks keeps its newest news).
    pub fn prune(&self, now: i64) -> Result<()> {
        let db = self.db();
        db.execute("DELETE FROM jobs WHERE state != 'received' AND done_at < ?1", [now - KEEP_DONE_SECS])?;
        db.execute("DELETE FROM grants WHERE state = 'ended' AND updated_at < ?1", [now - KEEP_DONE_SECS])?;
        self.grants_changed();
        db.execute("DELETE FROM purchases WHERE created_at < ?1", [now - KEEP_DONE_SECS])?;
        db.execute("DELETE FROM payment_failures WHERE at < ?1", [now - KEEP_DONE_SECS])?;
        db.execute("DELETE FROM outbox WHERE seq <= (SELECT MAX(seq) FROM outbox) - ?1", [MAX_OUTBOX])?;
        Ok(())
    }
}

fn insert_outbox(c: &Connection, payload: &Payload, now: i64) -> Result<()> {
    c.execute(
        "INSERT INTO outbox (id, payload, created_at) VALUES (?1, ?2, ?3)",
        params![MessageId::generate().as_str(), json(payload)?, now],
    )?;
    Ok(())
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
            state: GrantState::parse(&self.7)?,
            online: self.8,
        })
    }
}
