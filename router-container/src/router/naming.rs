//! How the agent names what it creates on the router, so it finds (and only ever removes)
//! its own objects.

use hotspot_core::{Package, PurchaseId};

/// Marks the router objects the agent owns (and may remove), in their comments.
pub const TAG: &str = "hotspot-agent";

/// The hotspot user name of a purchase's grant.
pub fn username_for(p: &PurchaseId) -> String {
    format!("hs-{p}")
}

/// The purchase a hotspot user name belongs to, if it is one of ours.
pub fn purchase_of(username: &str) -> Option<PurchaseId> {
    username.strip_prefix("hs-")?.parse().ok()
}

pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    use rand::Rng;
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// The user profile a package's users share (rate limit, devices).
pub fn profile_name(p: &Package) -> String {
    format!("hs-{}", p.id())
}

/// The address pool subscriber accounts take their addresses from, made by the agent with
/// [`ACCOUNT_POOL_RANGES`] when the router has none of that name, and never changed after: an
/// operator who wants other addresses edits the pool on the router.
pub const ACCOUNT_POOL: &str = "hs-accounts";
pub const ACCOUNT_POOL_RANGES: &str = "10.98.0.10-10.98.3.250";
/// The router's end of every account's link (PPP needs one; it need not be on any interface).
pub const ACCOUNT_LOCAL_ADDRESS: &str = "10.98.0.1";

/// The WireGuard interface the agent puts WireGuard accounts on, made when the first one comes
/// (the router makes its key), with [`WIREGUARD_ADDRESS`] on it; an existing one is used as it is.
pub const WIREGUARD_INTERFACE: &str = "hs-wg";
pub const WIREGUARD_LISTEN_PORT: u16 = 13231;
/// The router's end of the accounts' tunnel network (`hotspot_cloud::wireguard::TUNNEL_BASE`).
pub const WIREGUARD_ADDRESS: &str = "10.66.0.1/16";
