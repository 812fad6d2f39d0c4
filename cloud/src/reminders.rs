//! When a subscriber is reminded: the pure decision. Three days before the paid time ends ("ends
//! soon") and once it has ("has ended", within a day of it), each at most once per expiry (a
//! renewal arms both again). Only accounts with a phone; an account sold unpaid (it waits for
//! its first payment) is not told it has ended. A sale's welcome (the credentials) goes once,
//! within a day of the sale.

use crate::store::{AccountNotice, AccountRecord};

pub const REMIND_BEFORE_SECS: i64 = 3 * 86_400;
/// An "has ended" SMS later than this after the expiry is news nobody needs.
pub const ENDED_WITHIN_SECS: i64 = 86_400;

/// A welcome SMS queued longer ago than this (SMS was off then, say) is dropped, not sent: its
/// news is old, and the operator printed the credentials at the counter anyway.
pub const WELCOME_WITHIN_SECS: i64 = 86_400;

/// Whether a welcome queued at `queued_at` is still worth sending.
pub fn welcome_due(now: i64, queued_at: i64) -> bool {
    now.saturating_sub(queued_at) <= WELCOME_WITHIN_SECS
}

pub fn due(now: i64, a: &AccountRecord) -> Option<AccountNotice> {
    a.phone.as_ref()?;
    let e = a.expires_at;
    if e <= now {
        let worth = now - e <= ENDED_WITHIN_SECS && e > a.created_at;
        (worth && a.ended_notice_for != Some(e)).then_some(AccountNotice::Ended)
    } else {
        (e - now <= REMIND_BEFORE_SECS && a.reminded_for != Some(e)).then_some(AccountNotice::EndsSoon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::renewal::{OddAmount, Plan};
    use hotspot_core::currency::{Currency, Money};

    fn account(created_at: i64, expires_at: i64) -> AccountRecord {
        AccountRecord {
            number: "79927398713".parse().unwrap(),
            router_id: "cafe-01".parse().unwrap(),
            package_id: "home-10m".parse().unwrap(),
            service: "pppoe".into(),
            password: "pw".into(),
            plan: Plan {
                price: Money::whole_units(Currency::Kes, 1500).unwrap(),
                period_secs: 30 * 86_400,
                odd_amount: OddAmount::Hold,
            },
            expires_at,
            created_at,
            renewals: 0,
            phone: Some("254712345678".parse().unwrap()),
            reminded_for: None,
            ended_notice_for: None,
            name: None,
            wireguard: None,
        }
    }

    #[test]
    fn a_welcome_goes_within_a_day_of_the_sale() {
        assert!(welcome_due(1000, 1000));
        assert!(welcome_due(1000 + 86_400, 1000));
        assert!(!welcome_due(1001 + 86_400, 1000), "stale: dropped");
    }

    #[test]
    fn three_days_before_and_at_the_end_once_each_per_expiry() {
        let day = 86_400;
        let mut a = account(0, 30 * day);
        assert_eq!(due(26 * day, &a), None, "four days before");
        assert_eq!(due(27 * day, &a), Some(AccountNotice::EndsSoon));
        a.reminded_for = Some(a.expires_at);
        assert_eq!(due(28 * day, &a), None, "sent for this expiry");
        assert_eq!(due(30 * day, &a), Some(AccountNotice::Ended));
        a.ended_notice_for = Some(a.expires_at);
        assert_eq!(due(30 * day + 60, &a), None);
        a.ended_notice_for = None;
        assert_eq!(due(32 * day, &a), None, "more than a day late: not sent");
        // Renewed: both armed again for the new expiry.
        a.expires_at = 60 * day;
        assert_eq!(due(57 * day, &a), Some(AccountNotice::EndsSoon));
        // No phone, or sold unpaid: nothing.
        a.phone = None;
        assert_eq!(due(57 * day, &a), None);
        let unpaid = account(100, 100);
        assert_eq!(due(200, &unpaid), None);
    }
}
