//! Reports owed upstream, kept until the events queue has them.

use hotspot_core::MessageId;
use hotspot_core::wire::Payload;
use rusqlite::{Connection, params};

use super::db::{Journal, Result, from_json, json, parse};

impl Journal {
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
}

pub(super) fn insert_outbox(c: &Connection, payload: &Payload, now: i64) -> Result<()> {
    c.execute(
        "INSERT INTO outbox (id, payload, created_at) VALUES (?1, ?2, ?3)",
        params![MessageId::generate().as_str(), json(payload)?, now],
    )?;
    Ok(())
}
