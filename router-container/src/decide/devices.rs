//! Packages for more than one device: who may join a grant with its code.

use hotspot_core::MacAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// Already one of the grant's devices: only log it in.
    AlreadyIn,
    /// A free place: add it.
    Add,
    /// No free place, but this device of the grant is not online (a phone that came back with
    /// another MAC, a laptop that left): it gives its place up.
    Replace(MacAddr),
    /// Every place is taken by a device that is online now.
    Full,
}

/// `joined` are the grant's devices (the paying one first), `max` the package's devices,
/// `online` the devices with a session now.
pub fn join(joined: &[MacAddr], max: u8, mac: MacAddr, online: &[MacAddr]) -> Join {
    if joined.contains(&mac) {
        return Join::AlreadyIn;
    }
    if joined.len() < usize::from(max.max(1)) {
        return Join::Add;
    }
    // The longest-joined device that is not online gives way (never the one asking).
    match joined.iter().find(|m| !online.contains(m)) {
        Some(away) => Join::Replace(*away),
        None => Join::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u8) -> MacAddr {
        format!("DA:A1:19:00:00:{n:02X}").parse().unwrap()
    }

    #[test]
    fn devices_join_up_to_the_limit() {
        assert_eq!(join(&[m(1)], 3, m(1), &[m(1)]), Join::AlreadyIn);
        assert_eq!(join(&[m(1)], 3, m(2), &[m(1)]), Join::Add);
        assert_eq!(join(&[m(1), m(2)], 3, m(3), &[m(1), m(2)]), Join::Add);
        assert_eq!(join(&[m(1), m(2), m(3)], 3, m(4), &[m(1), m(2), m(3)]), Join::Full);
        assert_eq!(join(&[m(1), m(2), m(3)], 3, m(4), &[m(1), m(3)]), Join::Replace(m(2)), "m(2) is away");
    }

    #[test]
    fn a_one_device_package_moves_to_the_new_device_when_the_old_is_away() {
        assert_eq!(join(&[m(1)], 1, m(2), &[]), Join::Replace(m(1)));
        assert_eq!(join(&[m(1)], 1, m(2), &[m(1)]), Join::Full);
    }
}
