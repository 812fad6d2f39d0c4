//! Which `Host` the portal answers to: its own address (the one the guest's connection reached)
//! and the names the operator configured. A page on another name that resolves to the portal
//! (DNS rebinding) would otherwise be same-origin with it and could read CSRF tokens and buy.

use std::net::IpAddr;

/// True when `host` (the header's raw bytes) names the portal: the connection's local address
/// `local`, or one of `names` (lowercase, without a trailing dot). The port is not compared:
/// the router may forward port 80 to another port on the container.
pub fn allowed(host: Option<&[u8]>, local: IpAddr, names: &[String]) -> bool {
    let Some(host) = host.and_then(|h| std::str::from_utf8(h).ok()) else { return false };
    let Some(name) = strip_port(host.trim()) else { return false };
    if let Ok(ip) = name.parse::<IpAddr>() {
        return canonical(ip) == canonical(local);
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty() && names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The host part of `host[:port]` or `[v6]:port`; `None` when the port is not a number.
fn strip_port(host: &str) -> Option<&str> {
    if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        return match after {
            "" => Some(inside),
            p => p.strip_prefix(':').filter(|p| port_ok(p)).map(|_| inside),
        };
    }
    match host.rsplit_once(':') {
        // More than one colon without brackets is not a valid Host.
        Some((h, _)) if h.contains(':') => None,
        Some((h, p)) => port_ok(p).then_some(h),
        None => Some(host),
    }
}

fn port_ok(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// IPv4 clients of a dual-stack listener arrive as `::ffff:a.b.c.d`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Names from a comma-separated setting, lowercased, trailing dots dropped, empties skipped.
pub fn parse_names(list: &str) -> Vec<String> {
    list.split(',').map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase()).filter(|n| !n.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_address_and_configured_names_only() {
        let local: IpAddr = "10.5.50.2".parse().unwrap();
        let names = parse_names(" Hotspot.Cafe.Lan. ,, wifi.local");
        assert_eq!(names, ["hotspot.cafe.lan", "wifi.local"]);
        for ok in
            ["10.5.50.2", "10.5.50.2:80", "10.5.50.2:8080", "hotspot.cafe.lan", "HOTSPOT.cafe.lan.:80", "wifi.local"]
        {
            assert!(allowed(Some(ok.as_bytes()), local, &names), "{ok}");
        }
        for bad in [
            "evil.example",
            "10.5.50.3",
            "10.5.50.2:",
            "10.5.50.2:http",
            "10.5.50.2:123456",
            "hotspot.cafe.lan.evil.example",
            "",
            ":80",
            "::1",
            "[::1]:80",
            "10.5.50.2 evil",
        ] {
            assert!(!allowed(Some(bad.as_bytes()), local, &names), "{bad}");
        }
        assert!(!allowed(None, local, &names));
        assert!(!allowed(Some(b"\xff\xfe"), local, &names));
    }

    #[test]
    fn mapped_and_bracketed_addresses() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(allowed(Some(b"127.0.0.1:9000"), mapped, &[]));
        let v6: IpAddr = "fd00::2".parse().unwrap();
        assert!(allowed(Some(b"[fd00::2]:80"), v6, &[]));
        assert!(allowed(Some(b"[fd00::2]"), v6, &[]));
        assert!(!allowed(Some(b"[fd00::2]x"), v6, &[]));
    }
}
