//! WireGuard accounts: the buyer's key pair and tunnel address (made at the sale), and the
//! client config they import or scan, once the router has reported its end of the tunnel.

use std::net::Ipv4Addr;

use hotspot_core::WgKey;

/// The tunnel network of a router's WireGuard accounts: the router is `.1`, buyers from `.2` on.
pub const TUNNEL_BASE: Ipv4Addr = Ipv4Addr::new(10, 66, 0, 0);
/// Addresses for this many accounts per router (10.66.0.2 … 10.66.255.254).
pub const MAX_HOSTS: u32 = 65_532;

/// A fresh key pair: (private, public).
pub fn key_pair() -> (WgKey, WgKey) {
    let secret = x25519_dalek::StaticSecret::from(rand::random::<[u8; 32]>());
    let public = x25519_dalek::PublicKey::from(&secret);
    (WgKey::from_bytes(secret.to_bytes()), WgKey::from_bytes(public.to_bytes()))
}

/// The address of the `n`th account (0-based); `None` past [`MAX_HOSTS`].
pub fn host_address(n: u32) -> Option<Ipv4Addr> {
    (n < MAX_HOSTS).then(|| Ipv4Addr::from(u32::from(TUNNEL_BASE) + 2 + n))
}

/// The port a router's WireGuard interface listens on when the operator names none.
pub const DEFAULT_PORT: u16 = 13231;

/// Where a buyer's device reaches the router: `host` or `host:port` (a DNS name or an IPv4
/// address; the port 13231 when left out), as the client config's `Endpoint` takes it.
pub fn endpoint(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let (host, port) = match raw.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("{p:?} is not a port"))?),
        None => (raw, DEFAULT_PORT),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(format!("{host:?} is not a host name or IPv4 address"));
    }
    Ok(format!("{}:{port}", host.to_ascii_lowercase()))
}

/// The QR code as an element for an HTML page (the SVG without its XML declaration).
pub fn config_qr_inline(config: &str) -> Result<String, String> {
    let svg = config_qr_svg(config)?;
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// What a client config needs.
pub struct ClientConfig<'a> {
    pub private_key: &'a WgKey,
    pub address: Ipv4Addr,
    pub server_key: &'a WgKey,
    /// `host:port` the buyer's device reaches the router at (its public name or address).
    pub endpoint: &'a str,
    pub dns: Option<Ipv4Addr>,
}

/// A `wg-quick` config (what WireGuard's apps import, as a file or a QR code): all traffic
/// through the tunnel, kept alive through NAT.
pub fn client_config(c: &ClientConfig<'_>) -> String {
    let dns = c.dns.map(|d| format!("DNS = {d}\n")).unwrap_or_default();
    format!(
        "[Interface]\nPrivateKey = {}\nAddress = {}/32\n{dns}\n[Peer]\nPublicKey = {}\nEndpoint = {}\nAllowedIPs = 0.0.0.0/0\nPersistentKeepalive = 25\n",
        c.private_key, c.address, c.server_key, c.endpoint
    )
}

/// The config as a QR code (SVG), for the buyer's phone to scan.
pub fn config_qr_svg(config: &str) -> Result<String, String> {
    let code = qrcode::QrCode::with_error_correction_level(config.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| e.to_string())?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(320, 320).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_pair_up_and_addresses_count_from_two() {
        let (private, public) = key_pair();
        let again = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(private.bytes()));
        assert_eq!(public.bytes(), again.to_bytes());
        assert_eq!(host_address(0), Some(Ipv4Addr::new(10, 66, 0, 2)));
        assert_eq!(host_address(254), Some(Ipv4Addr::new(10, 66, 1, 0)));
        assert_eq!(host_address(MAX_HOSTS - 1), Some(Ipv4Addr::new(10, 66, 255, 253)));
        assert_eq!(host_address(MAX_HOSTS), None);
    }

    #[test]
    fn the_config_is_wg_quick_and_fits_a_qr_code() {
        let (private, _) = key_pair();
        let (_, server) = key_pair();
        let c = ClientConfig {
            private_key: &private,
            address: Ipv4Addr::new(10, 66, 0, 2),
            server_key: &server,
            endpoint: "vpn.cafe.example:13231",
            dns: Some(Ipv4Addr::new(1, 1, 1, 1)),
        };
        let text = client_config(&c);
        assert!(text.starts_with("[Interface]\nPrivateKey = "));
        assert!(text.contains("Address = 10.66.0.2/32\nDNS = 1.1.1.1\n"));
        assert!(text.contains(&format!("[Peer]\nPublicKey = {server}\nEndpoint = vpn.cafe.example:13231\n")));
        let svg = config_qr_svg(&text).unwrap();
        assert!(svg.contains("<svg") && svg.len() > 1000);
    }

    #[test]
    fn endpoints_are_a_host_and_a_port() {
        assert_eq!(endpoint("vpn.Cafe.example").unwrap(), "vpn.cafe.example:13231");
        assert_eq!(endpoint(" 41.90.1.2:51820 ").unwrap(), "41.90.1.2:51820");
        for bad in
            ["", ":51820", "vpn.cafe:0", "vpn.cafe:port", "-bad.example", "a b", "x".repeat(64).as_str(), "vpn/../x"]
        {
            assert!(endpoint(bad).is_err(), "{bad:?}");
        }
        let qr = config_qr_inline("[Interface]").unwrap();
        assert!(qr.starts_with("<svg") && qr.ends_with("</svg>"), "{qr}");
    }
}
