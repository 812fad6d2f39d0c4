//! Reports owed upstream, kept until the events queue has them. What was sent is remembered in
//! memory and deleted in bulk (every `PURGE_EVERY`, or `PURGE_AT` reports): a delete per report
//! would be a flash write per report. After a restart the unpurged ones go again, which the
//! cloud takes as it took them the first time (its handling of reports is idempotent).

use std::time::{Duration, Instant};

use hotspot_core::MessageId;
use hotspot_core::wire::Payload;
use rusqlite::{Connection, params};

use super::db::{Journal, Result, from_json, json, parse};

const PURGE_EVERY: Duration = Duration::from_secs(60);
const PURGE_AT: usize = 64;

impl Journal {
    pub fn enqueue_event(&self, payload: &Payload, now: i64) -> Result<()> {
        self.enqueue_events(std::slice::from_ref(payload), now)
    }

    /// Several reports in one commit.
    pub fn enqueue_events(&self, payloads: &[Payload], now: i64) -> Result<()> {
        if payloads.is_empty() {
            return Ok(());
        }
        let mut db = self.db();
        let tx = db.transaction()?;
        for p in payloads {
            insert_outbox(&tx, p, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The oldest reports not yet sent.
    /// The oldest reports not yet sent.
    pub fn outbox(&self, limit: usize) -> Result<Vec<(i64, MessageId, Payload)>> {
        let after = self.sent.lock().unwrap_or_else(|p| p.into_inner()).upto;
        let db = self.db();
        let mut st = db.prepare_cached("SELECT seq, id, payload FROM outbox WHERE seq > ?2 ORDER BY seq LIMIT ?1")?;
        let rows = st.query_map([limit as i64, after], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for r in rows {
            let (seq, id, p) = r?;
            out.push((seq, parse(&id, "event id")?, from_json(&p)?));
        }
        Ok(out)
    }

    pub fn ack_outbox(&self, seq: i64) -> Result<()> {
        self.ack_outbox_all(&[seq])
    }

    /// Reports the events queue has: not sent again; deleted with the next purge.
    pub fn ack_outbox_all(&self, seqs: &[i64]) -> Result<()> {
        let due = {
            let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
            for &s in seqs {
                sent.upto = sent.upto.max(s);
                sent.unpurged += 1;
            }
            sent.unpurged >= PURGE_AT || sent.last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY)
        };
        if due { self.purge_sent() } else { Ok(()) }
    }

    /// Deletes every report already sent, in one commit (also on prune and shutdown).
    pub fn purge_sent(&self) -> Result<()> {
        let upto = self.sent.lock().unwrap_or_else(|p| p.into_inner()).upto;
        if upto > 0 {
            let db = self.db();
            db.execute("DELETE FROM outbox WHERE seq <= ?1", [upto])?;
        }
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.unpurged = 0;
        sent.last_purge = Some(Instant::now());
        Ok(())
    }
}

pub(super) fn insert_outbox(c: &Connection, payload: &Payload, now: i64) -> Result<()> {
    c.execute(
        "INSERT INTO outbox (id, payload, created_at) VALUES (?1, ?2, ?3)",
        params![MessageId::generate().as_str(), json(payload)?, now],
    )?;
    Ok(())
}
