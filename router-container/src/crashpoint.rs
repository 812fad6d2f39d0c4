//! Fault injection for crash-safety tests: `HOTSPOT_AGENT_CRASH_AT=<name>` aborts the process the
//! moment it reaches that point, as a power cut would. Unset in production: a no-op.

pub fn hit(name: &str) {
    if std::env::var("HOTSPOT_AGENT_CRASH_AT").is_ok_and(|v| v == name) {
        eprintln!("crashpoint {name}: aborting");
        std::process::abort();
    }
}
