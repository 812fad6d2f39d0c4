//! The agent's build time, as the earliest time its clock can plausibly read (a router without
//! a battery boots at 1970 until NTP answers). From SOURCE_DATE_EPOCH when set, else the last
//! commit's time, else a fixed floor.

use std::process::Command;

/// 2026-11-01T00:00:00Z: no build of this agent is older.
const FLOOR: i64 = 1_793_491_200;

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let from_env = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse::<i64>().ok());
    let from_git = || {
        let out = Command::new("git").args(["log", "-1", "--format=%ct"]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse::<i64>().ok()
    };
    let t = from_env.or_else(from_git).unwrap_or(FLOOR).max(FLOOR);
    println!("cargo:rustc-env=HOTSPOT_AGENT_BUILT_AT={t}");
}
