//! Which of our sessions started or ended between two looks at `/ip/hotspot/active`.

use std::collections::HashMap;

use hotspot_core::VoucherCode;
use hotspot_core::wire::{SessionEnded, SessionStarted};
use routeros::ops::ActiveSession;

use crate::router::naming::purchase_of;

/// Ours: a purchase's user, or a voucher code the journal holds (an operator's own user may
/// well be spelled like a code: `MANAGER` is one).
pub fn is_ours(user: &str, known_voucher: impl Fn(&VoucherCode) -> bool) -> bool {
    purchase_of(user).is_some() || user.parse::<VoucherCode>().is_ok_and(|c| known_voucher(&c))
}

/// Our sessions last seen, by user name, each as the report it would give if it ended now.
pub type Seen = HashMap<String, SessionEnded>;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub started: Vec<SessionStarted>,
    pub ended: Vec<SessionEnded>,
    /// What to compare the next look with.
    pub seen: Seen,
}

/// Compares the router's active sessions with those seen last time; `ours` picks ours.
pub fn compare(seen: &Seen, active: Vec<ActiveSession>, ours: impl Fn(&str) -> bool, now: i64) -> Changes {
    let mut out = Changes::default();
    for s in active {
        let (Some(mac), Some(ip)) = (s.mac_address, s.address) else { continue };
        if !ours(&s.user) {
            continue;
        }
        let purchase_id = purchase_of(&s.user);
        if !seen.contains_key(&s.user) {
            out.started.push(SessionStarted {
                username: s.user.clone(),
                purchase_id: purchase_id.clone(),
                mac,
                ip,
                at: now,
            });
        }
        let last = SessionEnded {
            username: s.user.clone(),
            purchase_id,
            mac,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
            uptime_secs: s.uptime.map(|u| u.secs()).unwrap_or(0),
            reason: String::new(),
            at: now,
        };
        out.seen.insert(s.user, last);
    }
    for (user, last) in seen {
        if !out.seen.contains_key(user) {
            out.ended.push(SessionEnded { reason: "ended".into(), at: now, ..last.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::naming::username_for;
    use hotspot_core::PurchaseId;

    fn session(user: &str, mac: &str, bytes_in: u64) -> ActiveSession {
        ActiveSession {
            id: "*1".parse().unwrap(),
            user: user.into(),
            address: Some("10.5.50.23".parse().unwrap()),
            mac_address: Some(mac.parse().unwrap()),
            server: None,
            uptime: None,
            bytes_in,
            bytes_out: 7,
        }
    }

    #[test]
    fn starts_and_ends_of_our_sessions_only() {
        let ours = username_for(&PurchaseId::generate());
        let mine = |u: &str| is_ours(u, |c| c.as_str() == "ABCD2345");
        let first = compare(
            &Seen::new(),
            vec![
                session(&ours, "DA:A1:19:00:00:01", 1),
                session("admin", "DA:A1:19:00:00:02", 1),
                session("manager", "DA:A1:19:00:00:03", 1),
                session("ABCD2345", "DA:A1:19:00:00:04", 1),
            ],
            mine,
            100,
        );
        assert_eq!(first.started.len(), 2, "the operator's own users are not ours, code-like names included");
        assert_eq!(first.started[0].username, ours);
        assert_eq!(first.started[1].username, "ABCD2345", "a voucher the journal holds is");
        let first = Changes { seen: first.seen.into_iter().filter(|(k, _)| *k == ours).collect(), ..first };
        assert!(first.ended.is_empty());
        let again = compare(&first.seen, vec![session(&ours, "DA:A1:19:00:00:01", 500)], mine, 105);
        assert!(again.started.is_empty() && again.ended.is_empty(), "still online: no news");
        let gone = compare(&again.seen, vec![], mine, 110);
        assert_eq!(gone.ended.len(), 1);
        let e = &gone.ended[0];
        assert_eq!((e.bytes_in, e.reason.as_str(), e.at), (500, "ended", 110), "the last counters, ended now");
        assert!(gone.seen.is_empty());
    }

    #[test]
    fn a_session_without_address_or_mac_is_skipped() {
        let mut s = session(&username_for(&PurchaseId::generate()), "DA:A1:19:00:00:01", 1);
        s.address = None;
        assert_eq!(compare(&Seen::new(), vec![s], |_| true, 1), Changes::default());
    }
}
