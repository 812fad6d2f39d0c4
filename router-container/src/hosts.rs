//! The router's host table as the agent last heard it (`/ip/hotspot/host/listen`, fed by
//! `workers::host_watch`): which device an address is, without a RouterOS round trip per page.
//! Only pages that show things read it; whatever changes the router (buying, a voucher, logging
//! back in) still asks RouterOS itself.
//!
//! An entry counts for `TRUST_FOR` after RouterOS last reported it, and none counts while the
//! watch is down: if a router's listen ever stopped reporting without an error, an address would
//! fall back to a lookup within minutes rather than keep naming a device that has left.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hotspot_core::MacAddr;
use routeros::{Host, HostChange, ItemId};

/// How long a reported entry answers for its address. A first visit comes seconds after the
/// device joined (its entry was just reported); a device on the network for longer costs one
/// lookup, cached by the portal, as before.
pub const TRUST_FOR: Duration = Duration::from_secs(300);
/// Entries kept at most (a busy hotspot has a few thousand hosts); past it, new ones are looked up.
pub const MAX_HOSTS: usize = 16_384;

struct Entry {
    ip: Ipv4Addr,
    mac: MacAddr,
    heard: Instant,
}

#[derive(Default)]
struct Table {
    live: bool,
    by_id: HashMap<ItemId, Entry>,
    by_ip: HashMap<Ipv4Addr, ItemId>,
}

impl Table {
    fn put(&mut self, h: Host, now: Instant) {
        if !self.by_id.contains_key(&h.id) && self.by_id.len() >= MAX_HOSTS {
            return;
        }
        self.forget(&h.id);
        self.by_ip.insert(h.address, h.id.clone());
        self.by_id.insert(h.id, Entry { ip: h.address, mac: h.mac_address, heard: now });
    }

    fn forget(&mut self, id: &ItemId) {
        if let Some(old) = self.by_id.remove(id)
            && self.by_ip.get(&old.ip) == Some(id)
        {
            self.by_ip.remove(&old.ip);
        }
    }
}

/// Shared by the watch that fills it and the portal that reads it.
#[derive(Default)]
pub struct HostTable(Mutex<Table>);

impl HostTable {
    pub fn new() -> HostTable {
        HostTable::default()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The watch (re)started and the table was printed: these rows are all there is.
    pub fn load(&self, rows: Vec<Host>, now: Instant) {
        let mut t = self.table();
        *t = Table { live: true, ..Table::default() };
        for h in rows {
            t.put(h, now);
        }
    }

    /// A change RouterOS reported.
    pub fn apply(&self, change: HostChange, now: Instant) {
        let mut t = self.table();
        match change {
            HostChange::Seen(h) => t.put(h, now),
            HostChange::Gone(id) => t.forget(&id),
        }
    }

    /// The watch ended: nothing here can be believed until it is back.
    pub fn down(&self) {
        *self.table() = Table::default();
    }

    /// The device at `ip`, if the watch is up and reported it within `TRUST_FOR` of `now`.
    pub fn mac_of(&self, ip: Ipv4Addr, now: Instant) -> Option<MacAddr> {
        let t = self.table();
        if !t.live {
            return None;
        }
        let e = t.by_id.get(t.by_ip.get(&ip)?)?;
        (now.saturating_duration_since(e.heard) < TRUST_FOR).then_some(e.mac)
    }

    /// Entries held (for the watch's log line).
    pub fn len(&self) -> usize {
        self.table().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(id: &str, ip: &str, mac: &str) -> Host {
        Host {
            id: id.parse().unwrap(),
            mac_address: mac.parse().unwrap(),
            address: ip.parse().unwrap(),
            to_address: None,
            server: None,
            authorized: false,
            bypassed: false,
        }
    }

    const A: &str = "02:00:00:00:00:0a";
    const B: &str = "02:00:00:00:00:0b";

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn answers_only_while_the_watch_is_up() {
        let t = HostTable::new();
        let now = Instant::now();
        t.apply(HostChange::Seen(host("*1", "10.5.50.10", A)), now);
        assert_eq!(t.mac_of(ip("10.5.50.10"), now), None, "nothing counts before the table was loaded");
        t.load(vec![host("*1", "10.5.50.10", A)], now);
        assert_eq!(t.mac_of(ip("10.5.50.10"), now), Some(A.parse().unwrap()));
        assert_eq!(t.mac_of(ip("10.5.50.11"), now), None);
        t.down();
        assert_eq!(t.mac_of(ip("10.5.50.10"), now), None);
        assert!(t.is_empty());
    }

    #[test]
    fn follows_moves_removals_and_addresses_handed_on() {
        let t = HostTable::new();
        let now = Instant::now();
        t.load(vec![host("*1", "10.5.50.10", A)], now);
        // The device's address changed: the old one no longer names it.
        t.apply(HostChange::Seen(host("*1", "10.5.50.20", A)), now);
        assert_eq!(t.mac_of(ip("10.5.50.10"), now), None);
        assert_eq!(t.mac_of(ip("10.5.50.20"), now), Some(A.parse().unwrap()));
        // DHCP gave the address to another device before the first's entry went: the newest wins,
        // and the first's removal does not take the second's address with it.
        t.apply(HostChange::Seen(host("*2", "10.5.50.20", B)), now);
        assert_eq!(t.mac_of(ip("10.5.50.20"), now), Some(B.parse().unwrap()));
        t.apply(HostChange::Gone("*1".parse().unwrap()), now);
        assert_eq!(t.mac_of(ip("10.5.50.20"), now), Some(B.parse().unwrap()));
        t.apply(HostChange::Gone("*2".parse().unwrap()), now);
        assert_eq!(t.mac_of(ip("10.5.50.20"), now), None);
        assert!(t.is_empty());
    }

    #[test]
    fn an_entry_not_heard_of_for_long_is_looked_up_again() {
        let t = HostTable::new();
        let then = Instant::now();
        t.load(vec![host("*1", "10.5.50.10", A)], then);
        assert!(t.mac_of(ip("10.5.50.10"), then + TRUST_FOR - Duration::from_secs(1)).is_some());
        assert_eq!(t.mac_of(ip("10.5.50.10"), then + TRUST_FOR), None);
        // Reported again (it changed): trusted again.
        t.apply(HostChange::Seen(host("*1", "10.5.50.10", A)), then + TRUST_FOR);
        assert!(t.mac_of(ip("10.5.50.10"), then + TRUST_FOR).is_some());
    }

    #[test]
    fn a_full_table_takes_changes_but_no_new_hosts() {
        let t = HostTable::new();
        let now = Instant::now();
        let rows = (0..MAX_HOSTS as u32)
            .map(|i| host(&format!("*{:X}", i + 1), &Ipv4Addr::from(0x0a00_0000 + i).to_string(), A))
            .collect();
        t.load(rows, now);
        t.apply(HostChange::Seen(host("*FFFFFF", "192.168.1.1", B)), now);
        assert_eq!(t.mac_of(ip("192.168.1.1"), now), None);
        t.apply(HostChange::Seen(host("*1", "10.0.0.0", B)), now);
        assert_eq!(t.mac_of(ip("10.0.0.0"), now), Some(B.parse().unwrap()));
        assert_eq!(t.len(), MAX_HOSTS);
    }
}
