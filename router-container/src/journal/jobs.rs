//! Jobs as received from the queue, and their outcomes.

use hotspot_core::wire::{ApplyFailed, Envelope, Payload};
use hotspot_core::{MessageId, PurchaseId};
use rusqlite::{OptionalExtension, params};

use super::db::{Journal, Result, json, parse};
use super::grants::GrantState;
use super::outbox::insert_outbox;
use crate::router::naming::{random_password, username_for};

hotspot_core::string_enum! {
    /// Where a job stands: `Received` is recorded but not yet applied (or applied, its outcome
    /// not yet recorded); the others are final.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum JobState("job state") { Received = "received", Applied = "applied", Failed = "failed", Rejected = "rejected" }
}

impl JobState {
    pub fn is_final(self) -> bool {
        self != JobState::Received
    }
}

impl Journal {
    /// Records a verified job unless its id is journaled already. Returns the state it had
    /// before (`None`: recorded now), for `decide::job::admit` to judge. A grant's record (with
    /// its generated password) is created in the same transaction.
    pub fn record_job(&self, env: &Envelope, raw: &str, now: i64) -> Result<Option<JobState>> {
        let mut db = self.db();
        let tx = db.transaction()?;
        let existing: Option<String> =
            tx.query_row("SELECT state FROM jobs WHERE id = ?1", [env.id.as_str()], |r| r.get(0)).optional()?;
        let mut before = None;
        if let Some(state) = existing {
            let state: JobState = parse(&state, "job state")?;
            // Only a refused copy gives way (as `decide::job::admit` judges it afterwards).
            if state != JobState::Rejected {
                tx.execute("UPDATE jobs SET attempts = attempts + 1 WHERE id = ?1", [env.id.as_str()])?;
                tx.commit()?;
                return Ok(Some(state));
            }
            // A copy of this job was refused (stale, say): this one, verified, takes its place.
            tx.execute("DELETE FROM jobs WHERE id = ?1", [env.id.as_str()])?;
            before = Some(state);
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
            if g.package.devices() > 1 {
                tx.execute(
                    "INSERT OR IGNORE INTO grant_devices (purchase_id, mac, added_at) VALUES (?1, ?2, ?3)",
                    params![g.purchase_id.as_str(), g.mac.to_string(), now],
                )?;
            }
        }
        tx.commit()?;
        if matches!(env.payload, Payload::Grant(_)) {
            self.grants_changed();
        }
        Ok(before)
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
        self.finish(id, state, error, events, None, now)
    }

    /// A grant job's outcome, the grant's new state (and whether its guest is online) and the
    /// report it owes, in one commit: one flash write for what would otherwise be two.
    pub fn finish_grant_job(
        &self,
        id: &MessageId,
        grant: &PurchaseId,
        grant_state: GrantState,
        online: Option<bool>,
        events: &[Payload],
        now: i64,
    ) -> Result<()> {
        self.finish(id, JobState::Applied, None, events, Some((grant, grant_state, online)), now)?;
        self.grants_changed();
        Ok(())
    }

    fn finish(
        &self,
        id: &MessageId,
        state: JobState,
        error: Option<&str>,
        events: &[Payload],
        grant: Option<(&PurchaseId, GrantState, Option<bool>)>,
        now: i64,
    ) -> Result<()> {
        // Before the SQS message goes: synced.
        self.durably(|tx| {
            // A finished job is kept for its id and outcome only: its body goes (smaller rows,
            // fewer pages written for every job after it).
            tx.execute(
                "UPDATE jobs SET state = ?2, error = ?3, done_at = ?4, body = '' WHERE id = ?1",
                params![id.as_str(), state.as_str(), error, now],
            )?;
            if let Some((purchase, s, online)) = grant {
                tx.execute(
                    "UPDATE grants SET state = ?2, online = COALESCE(?3, online), updated_at = ?4 WHERE purchase_id = ?1",
                    params![purchase.as_str(), s.as_str(), online, now],
                )?;
            }
            for e in events {
                insert_outbox(tx, e, now)?;
            }
            Ok(())
        })
    }

    /// A job that failed verification: nothing is applied; the rejection is reported once.
    pub fn reject_job(&self, id: Option<&MessageId>, error: &str, now: i64) -> Result<bool> {
        // Before the SQS message goes: synced.
        self.durably(|tx| {
            if let Some(id) = id {
                let n = tx.execute(
                    "INSERT OR IGNORE INTO jobs (id, kind, body, state, error, received_at, done_at)
                     VALUES (?1, 'unknown', '', 'rejected', ?2, ?3, ?3)",
                    params![id.as_str(), error, now],
                )?;
                if n == 0 {
                    return Ok(false);
                }
            }
            let report = Payload::ApplyFailed(ApplyFailed {
                job_id: id.cloned().unwrap_or_else(|| MessageId::derived("unreadable", &PurchaseId::generate())),
                purchase_id: None,
                error: error.chars().take(300).collect(),
                rejected: true,
            });
            insert_outbox(tx, &report, now)?;
            Ok(true)
        })
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
        s.map(|s| parse(&s, "job state")).transpose()
    }

    pub fn jobs_waiting(&self) -> Result<u32> {
        let db = self.db();
        let n: i64 = db.query_row("SELECT COUNT(*) FROM jobs WHERE state = 'received'", [], |r| r.get(0))?;
        Ok(n.clamp(0, u32::MAX as i64) as u32)
    }
}
