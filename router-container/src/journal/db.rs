//! The database itself: opening it (WAL, durable commits), its schema and bounds, the error
//! every record's access returns, and the helpers they share.

use std::collections::HashSet;
use std::path::Path;
// usize, not u64: ARMv5 (the hEX refresh) has no 64-bit atomics.
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use hotspot_core::wallet::Offered;
use hotspot_core::{MacAddr, Package};
use rusqlite::Connection;
use rusqlite::config::DbConfig;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("journal record is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, JournalError>;

pub struct Journal {
    pub(super) db: Mutex<Connection>,
    /// The packages on sale, as last written: the portal reads them on every page view, and
    /// only this journal writes them.
    pub(super) packages: Mutex<Option<Arc<Vec<Package>>>>,
    /// The wallets guests may pay from, as last written (the portal reads them on every page).
    pub(super) wallets: Mutex<Option<Offered>>,
    pub(super) country: Mutex<Option<hotspot_core::phone::Country>>,
    /// Bumped after every write to `grants`: a device found without an active grant stays so
    /// until the next bump, so the portal asks SQLite once per device and change, not per page.
    pub(super) grants_gen: AtomicUsize,
    pub(super) no_active_grant: Mutex<(usize, HashSet<MacAddr>)>,
    /// Reports sent but not yet deleted (see `outbox.rs`).
    pub(super) sent: Mutex<Sent>,
}

/// Reports sent since the last purge (see `outbox.rs`): every `seq` up to `upto` is at the cloud.
#[derive(Default)]
pub(super) struct Sent {
    pub(super) upto: i64,
    pub(super) unpurged: usize,
    pub(super) last_purge: Option<std::time::Instant>,
}

/// Devices remembered as having no active grant, at most.
pub(super) const NO_GRANT_MEMO_MAX: usize = 4096;

/// Written for a router's flash: tables keyed by text are WITHOUT ROWID (no second b-tree to
/// write), and the indexes are the ones whose entries do not move when a row's state does.
/// Journals from earlier builds keep their tables; their old indexes are dropped.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT, received_at INTEGER NOT NULL, done_at INTEGER);
DROP INDEX IF EXISTS jobs_state;
CREATE TABLE IF NOT EXISTS grants (
    purchase_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password TEXT NOT NULL,
    mac TEXT NOT NULL, ip TEXT, package TEXT NOT NULL, expires_at INTEGER NOT NULL,
    state TEXT NOT NULL, online INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
DROP INDEX IF EXISTS grants_due;
DROP INDEX IF EXISTS grants_mac;
CREATE INDEX IF NOT EXISTS grants_live ON grants(expires_at) WHERE state != 'ended';
CREATE INDEX IF NOT EXISTS grants_by_mac ON grants(mac);
CREATE TABLE IF NOT EXISTS grant_devices (
    purchase_id TEXT NOT NULL, mac TEXT NOT NULL, added_at INTEGER NOT NULL, PRIMARY KEY (purchase_id, mac));
CREATE INDEX IF NOT EXISTS grant_devices_mac ON grant_devices(mac);
CREATE TABLE IF NOT EXISTS payment_failures (
    purchase_id TEXT PRIMARY KEY, reason TEXT NOT NULL, code TEXT, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS purchases (
    purchase_id TEXT PRIMARY KEY, mac TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS packages (id TEXT PRIMARY KEY, body TEXT NOT NULL, position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vouchers (
    code TEXT PRIMARY KEY, package TEXT NOT NULL, batch_id TEXT NOT NULL,
    first_used_at INTEGER, expires_at INTEGER, ended INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
    number TEXT PRIMARY KEY, password TEXT NOT NULL, service TEXT NOT NULL, package TEXT NOT NULL,
    expires_at INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
    wireguard TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
";

/// Bounds on what the journal keeps, so a router's flash never fills.
const MAX_OUTBOX: i64 = 10_000;
const KEEP_DONE_SECS: i64 = 30 * 86_400;

pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| JournalError::Corrupt(e.to_string()))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| JournalError::Corrupt(e.to_string()))
}

pub(crate) fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T> {
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
        // Small pages (SQLite's smallest): every commit writes each page it touches whole, to the
        // WAL and again at the checkpoint. Measured per grant (docs/benchmarks.md): 512-byte
        // pages write 0.66x what 1 KiB ones do, and 0.25x the default 4 KiB.
        // (Ignored by a journal created before: its page size is fixed.)
        c.pragma_update(None, "page_size", 512)?;
        c.pragma_update(None, "journal_mode", "WAL")?;
        // Checkpoint rarely: a page written by many commits (the outbox's, an index's) then
        // goes to the database file once, not once per thousand WAL pages.
        c.pragma_update(None, "wal_autocheckpoint", 4000)?;
        c.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)?;
        // Commits are synced to flash only where it matters (`durably`): before an SQS message
        // is deleted. That sync makes every commit before it durable too (one WAL); the others
        // (a session report, a purchase noted at the portal) would at worst be lost to a power
        // cut, and the flash is written once per write-back, not once per commit.
        c.pragma_update(None, "synchronous", "NORMAL")?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        // Plans that do not depend on bound values: otherwise (the bundled SQLite has STAT4)
        // every cached statement is compiled again whenever its parameters change, which on
        // the portal's per-page grant lookup cost ten times the lookup itself.
        c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        c.execute_batch(SCHEMA)?;
        Ok(Journal {
            db: Mutex::new(c),
            packages: Mutex::new(None),
            wallets: Mutex::new(None),
            country: Mutex::new(None),
            grants_gen: AtomicUsize::new(0),
            no_active_grant: Mutex::new((0, HashSet::new())),
            sent: Mutex::new(Sent::default()),
        })
    }

    /// Runs `f` in a transaction whose commit is synced (with everything committed before it):
    /// an outcome recorded this way is kept across a power cut.
    pub(crate) fn durably<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut db = self.db();
        db.pragma_update(None, "synchronous", "FULL")?;
        let out = (|| {
            let tx = db.transaction()?;
            let v = f(&tx)?;
            tx.commit()?;
            Ok(v)
        })();
        db.pragma_update(None, "synchronous", "NORMAL")?;
        out
    }

    pub(crate) fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic elsewhere while holding the lock leaves SQLite consistent (transactions roll back).
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The newest time any record was written at (by a clock that was right then).
    pub fn newest_record_at(&self) -> Result<Option<i64>> {
        let db = self.db();
        let t: Option<i64> = db.query_row(
            "SELECT MAX(t) FROM (SELECT MAX(received_at) AS t FROM jobs UNION ALL SELECT MAX(updated_at) FROM grants
             UNION ALL SELECT MAX(created_at) FROM outbox)",
            [],
            |r| r.get(0),
        )?;
        Ok(t)
    }

    /// Drops what is no longer needed: finished jobs after a month, and the oldest reports past
    /// the outbox bound (a router offline for weeks keeps its newest news).
    pub fn prune(&self, now: i64) -> Result<()> {
        let db = self.db();
        db.execute("DELETE FROM jobs WHERE state != 'received' AND done_at < ?1", [now - KEEP_DONE_SECS])?;
        db.execute("DELETE FROM grants WHERE state = 'ended' AND updated_at < ?1", [now - KEEP_DONE_SECS])?;
        db.execute("DELETE FROM grant_devices WHERE purchase_id NOT IN (SELECT purchase_id FROM grants)", [])?;
        self.grants_changed();
        db.execute("DELETE FROM purchases WHERE created_at < ?1", [now - KEEP_DONE_SECS])?;
        db.execute("DELETE FROM payment_failures WHERE at < ?1", [now - KEEP_DONE_SECS])?;
        db.execute("DELETE FROM outbox WHERE seq <= (SELECT MAX(seq) FROM outbox) - ?1", [MAX_OUTBOX])?;
        Ok(())
    }
}
