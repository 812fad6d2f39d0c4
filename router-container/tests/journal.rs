//! The journal's lookups the portal makes on every page view: a device's active grant (by MAC,
//! not by scanning every grant) and the packages on sale (kept in memory, replaced on write).

mod common;

use common::package;
use hotspot_agent::journal::{GrantState, Journal};
use hotspot_core::wire::{Envelope, Grant, GrantSource, Payload};
use hotspot_core::{MacAddr, MessageId, Package, PurchaseId};

const NOW: i64 = 1_800_000_000;

fn record_grant(j: &Journal, mac: MacAddr, expires_at: i64) -> PurchaseId {
    let pid = PurchaseId::generate();
    let env = Envelope::new(
        MessageId::derived("grant", &pid),
        "cafe-01".parse().expect("router id"),
        NOW,
        3600,
        Payload::Grant(Grant {
            purchase_id: pid.clone(),
            mac,
            ip: None,
            package: package("hotspot_user"),
            expires_at,
            source: GrantSource::Mpesa { receipt: "NLJ7RT61SV".into() },
            phone: None,
        }),
    );
    j.record_job(&env, "{}", NOW).expect("job recorded");
    pid
}

#[test]
fn a_devices_active_grant_is_found_by_mac() {
    let j = Journal::in_memory().unwrap();
    let guest: MacAddr = "DA:A1:19:00:00:01".parse().unwrap();
    let other: MacAddr = "DA:A1:19:00:00:02".parse().unwrap();
    assert_eq!(j.active_grant_for(guest, NOW).unwrap(), None, "nothing yet");

    let pending = record_grant(&j, guest, NOW + 600);
    assert_eq!(j.active_grant_for(guest, NOW).unwrap(), None, "pending is not on the router yet");
    j.set_grant_state(&pending, GrantState::Active, Some(false), NOW).unwrap();
    let g = j.active_grant_for(guest, NOW).unwrap().expect("active grant");
    assert_eq!(g.purchase_id, pending);

    // Of two, the one that lasts longer; another device's grants never match.
    let later = record_grant(&j, guest, NOW + 7200);
    j.set_grant_state(&later, GrantState::Active, Some(false), NOW).unwrap();
    for i in 0..50 {
        let m = MacAddr::from_bytes([2, 0, 0, 0, 0, i]).unwrap();
        let p = record_grant(&j, m, NOW + 9000);
        j.set_grant_state(&p, GrantState::Active, Some(true), NOW).unwrap();
    }
    assert_eq!(j.active_grant_for(guest, NOW).unwrap().map(|g| g.purchase_id), Some(later.clone()));
    assert_eq!(j.active_grant_for(other, NOW).unwrap(), None);

    // Asked again and again (the portal does, per page view), a device without a grant stays
    // without one until a grant changes, and then the change is seen at once.
    let third: MacAddr = "DA:A1:19:00:00:03".parse().unwrap();
    for _ in 0..3 {
        assert_eq!(j.active_grant_for(third, NOW).unwrap(), None);
    }
    let p3 = record_grant(&j, third, NOW + 60);
    assert_eq!(j.active_grant_for(third, NOW).unwrap(), None, "pending");
    j.set_grant_state(&p3, GrantState::Active, Some(true), NOW).unwrap();
    assert_eq!(j.active_grant_for(third, NOW).unwrap().map(|g| g.purchase_id), Some(p3.clone()));
    assert!(j.set_grant_expiry(&p3, NOW - 1, NOW).unwrap());
    assert_eq!(j.active_grant_for(third, NOW).unwrap(), None, "cut short");
    assert!(j.set_grant_expiry(&p3, NOW + 60, NOW).unwrap());
    assert_eq!(j.active_grant_for(third, NOW).unwrap().map(|g| g.purchase_id), Some(p3), "extended again");

    // Expired by the clock, or ended: not found.
    assert_eq!(j.active_grant_for(guest, NOW + 7200).unwrap(), None, "expires_at is exclusive");
    j.set_grant_state(&later, GrantState::Ended, Some(false), NOW).unwrap();
    assert_eq!(j.active_grant_for(guest, NOW).unwrap().map(|g| g.purchase_id), Some(pending));

    // Moved to another device by a re-login: found under the new MAC only.
    let moved = j.active_grant_for(guest, NOW).unwrap().unwrap().purchase_id;
    assert!(j.set_grant_mac(&moved, other, None, NOW).unwrap());
    assert_eq!(j.active_grant_for(guest, NOW).unwrap(), None);
    assert_eq!(j.active_grant_for(other, NOW).unwrap().map(|g| g.purchase_id), Some(moved));
}

#[test]
fn packages_are_served_from_memory_and_replaced_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    assert!(j.packages().unwrap().is_empty());
    let one = package("hotspot_user");
    let mut two: Package = serde_json::from_value(serde_json::json!({
        "id": "1d", "name": "24 hours", "price": 50, "validity": "1d", "uptime_limit": "1d", "rate_limit": "2M/5M",
        "devices": 1, "style": "hotspot_user"
    }))
    .unwrap();
    j.replace_packages(&[one.clone(), two.clone()]).unwrap();
    assert_eq!(j.packages().unwrap().as_slice(), &[one.clone(), two.clone()]);
    assert_eq!(j.package(two.id()).unwrap(), Some(two.clone()));

    // A change is seen at once, and it is what a restarted agent reads back from disk.
    two = serde_json::from_value(serde_json::json!({
        "id": "1d", "name": "24 hours", "price": 60, "validity": "1d", "uptime_limit": "1d", "rate_limit": "2M/5M",
        "devices": 1, "style": "hotspot_user"
    }))
    .unwrap();
    j.replace_packages(std::slice::from_ref(&two)).unwrap();
    assert_eq!(j.packages().unwrap().as_slice(), std::slice::from_ref(&two));
    assert_eq!(j.package(one.id()).unwrap(), None);
    drop(j);
    let reopened = Journal::open(dir.path()).unwrap();
    assert_eq!(reopened.packages().unwrap().as_slice(), &[two]);
}
