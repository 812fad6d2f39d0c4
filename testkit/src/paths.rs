use std::net::TcpListener;
use std::path::PathBuf;

/// The workspace root (this crate lives one level below it).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A program installed in the project's Python venv (`.venv`, made by `scripts/test.sh`).
/// `HOTSPOT_VENV` overrides the venv's location.
pub fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("HOTSPOT_VENV").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv"));
    venv.join("bin").join(name)
}

/// A port the OS just handed out on loopback. Another process could take it before we
/// bind again, so callers that spawn servers retry on failure.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
