//! Readings from `/proc` and CPU pinning (Linux).

use std::path::Path;
use std::process::{Command, Stdio};

/// Clock ticks per second in `/proc/<pid>/stat` (USER_HZ, 100 on every Linux we run on).
const TICKS_PER_SEC: f64 = 100.0;

/// Resident memory of `pid` in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Bytes `pid` has caused to be written to storage (`write_bytes` in `/proc/<pid>/io`): its
/// journal's commits and checkpoints, what would wear a router's flash.
pub fn write_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines().find_map(|l| l.strip_prefix("write_bytes:")).and_then(|v| v.trim().parse().ok())
}

/// User plus system CPU time `pid` has used, in seconds.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields count from after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Children of `parent`, optionally only those running `exe` (compared after resolving links).
pub fn children(parent: u32, exe: Option<&Path>) -> Vec<u32> {
    let want = exe.and_then(|e| std::fs::canonicalize(e).ok());
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut out: Vec<u32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| ppid(*pid) == Some(parent))
        .filter(|pid| match &want {
            None => true,
            Some(w) => std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| &p == w),
        })
        .collect();
    out.sort_unstable();
    out
}

pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

/// Pins every thread of `pid` to `cpus` (a `taskset` list such as `1` or `0-1`).
pub fn pin(pid: u32, cpus: &str) -> Result<(), String> {
    let st = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("taskset: {e}"))?;
    if st.status.success() {
        Ok(())
    } else {
        Err(format!("taskset -p {cpus} {pid}: {}", String::from_utf8_lossy(&st.stderr).trim()))
    }
}
