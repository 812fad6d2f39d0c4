//! `hotspot-agent --self-check`: exercises the parts built from C and assembly (SQLite, ring's
//! TLS and SHA-256) and the journal once, without a router or a network, so an image can be
//! tried on a CPU emulator (`qemu-arm-static -cpu arm926` for the hEX refresh's ARMv5) before a
//! router is: an instruction the CPU lacks would stop it here, not on the router.

use hotspot_core::wire::{Direction, Envelope, Heartbeat, Payload};
use hotspot_core::{MessageId, RouterId, RouterKey};

use crate::journal::Journal;

pub fn run() -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("hotspot-agent-self-check-{}", std::process::id()));
    let out = check(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn check(dir: &std::path::Path) -> Result<String, String> {
    let router: RouterId = "self-check".parse().map_err(|e| format!("{e}"))?;
    let key = RouterKey::generate();
    let hb = Payload::Heartbeat(Heartbeat {
        version: crate::agent::VERSION.into(),
        uptime_secs: 0,
        active_sessions: 0,
        ppp_sessions: 0,
        jobs_waiting: 0,
        packages: Vec::new(),
        packages_digest: None,
        clock_unset_secs: 0,
    });
    let now = hotspot_core::clock::now_unix();
    let text = Envelope::new(MessageId::generate(), router.clone(), now, 60, hb.clone()).sign(&key);
    Envelope::verify(text.as_bytes(), &key, &router, now, Direction::RouterToCloud)
        .map_err(|e| format!("wire: {e}"))?;
    let journal = Journal::open(dir).map_err(|e| format!("journal: {e}"))?;
    journal.enqueue_event(&hb, now).map_err(|e| format!("journal write: {e}"))?;
    let read = journal.outbox(10).map_err(|e| format!("journal read: {e}"))?;
    if read.len() != 1 {
        return Err(format!("journal: wrote 1 report, read {}", read.len()));
    }
    crate::https::client::<http_body_util::Full<bytes::Bytes>>(1).map_err(|e| format!("TLS: {e}"))?;
    Ok(format!("self-check ok: wire, journal (SQLite {}), TLS", rusqlite::version()))
}
