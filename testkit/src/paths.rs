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

/// A free loopback port for a server another process will bind. Taken from below the kernel's
/// ephemeral range (`ip_local_port_range`), where the ports every `bind(…:0)` and outgoing
/// connection get come from: a port handed out there and released could be given to the next
/// simulator or connection before the server binds it (an agent once found its portal's port
/// taken). Picked at random, so parallel tests rarely try the same one; checked by binding it.
pub fn free_port() -> std::io::Result<u16> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse::<u16>().ok()))
        .unwrap_or(32768);
    if low > 12_000 {
        let span = u32::from(low - 11_000);
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
                ^ std::process::id().wrapping_mul(2_654_435_761);
        let mut x = seed | 1;
        for _ in 0..64 {
            // xorshift: no crate needed for a port number.
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let port = 10_000 + (x % span) as u16;
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
    }
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A UDP port free now on loopback (the TCP one of the same number too: `free_port` checks that).
pub fn free_udp_port() -> std::io::Result<u16> {
    loop {
        let p = free_port()?;
        if std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return Ok(p);
        }
    }
}
