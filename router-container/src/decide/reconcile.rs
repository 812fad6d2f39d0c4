//! Bringing the router in line with the journal: the journal is the truth about our users.

use std::collections::HashSet;

use hotspot_core::{PurchaseId, VoucherCode};

use crate::journal::{GrantRecord, GrantState};
use crate::router::naming::purchase_of;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Live grants the router lost (a reset, an operator's hand): put them back.
    pub recreate: Vec<PurchaseId>,
    /// Users we created whose grant ended (or is unknown), or whose voucher ended: remove them.
    pub remove: Vec<String>,
}

/// `live` are the journal's grants not ended; `on_router` the names of the users we created
/// (tagged); `voucher_ended` says whether a voucher code's time is over.
pub fn plan(
    live: &[GrantRecord],
    on_router: &[String],
    voucher_ended: impl Fn(&VoucherCode) -> bool,
    now: i64,
) -> Plan {
    let live: Vec<&GrantRecord> = live.iter().filter(|g| g.expires_at > now).collect();
    let present: HashSet<&str> = on_router.iter().map(String::as_str).collect();
    let keep: HashSet<&str> = live.iter().map(|g| g.username.as_str()).collect();
    let recreate = live
        .iter()
        .filter(|g| g.state == GrantState::Active && !present.contains(g.username.as_str()))
        .map(|g| g.purchase_id.clone())
        .collect();
    let remove = on_router
        .iter()
        .filter(|name| match purchase_of(name) {
            Some(_) => !keep.contains(name.as_str()),
            // Voucher users: removed once ended, else kept.
            None => name.parse::<VoucherCode>().is_ok_and(|c| voucher_ended(&c)),
        })
        .cloned()
        .collect();
    Plan { recreate, remove }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::router::naming::username_for;

    pub(crate) fn grant(mac: &str, expires_at: i64) -> GrantRecord {
        let purchase_id = PurchaseId::generate();
        GrantRecord {
            username: username_for(&purchase_id),
            purchase_id,
            password: "pw".into(),
            mac: mac.parse().unwrap(),
            ip: None,
            package: serde_json::from_value(serde_json::json!({
                "id": "1h", "name": "1 hour", "price": 10, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
            }))
            .unwrap(),
            expires_at,
            state: GrantState::Active,
            online: true,
        }
    }

    #[test]
    fn lost_grants_come_back_and_dead_users_go() {
        let kept = grant("DA:A1:19:00:00:01", 1_000);
        let lost = grant("DA:A1:19:00:00:02", 1_000);
        let expired = grant("DA:A1:19:00:00:03", 400);
        let stranger = username_for(&PurchaseId::generate());
        let on_router = vec![
            kept.username.clone(),
            expired.username.clone(),
            stranger.clone(),
            "ABCD2345".into(),
            "operator-own".into(),
        ];
        let live = [kept, lost.clone(), expired];
        let p = plan(&live, &on_router, |c| c.as_str() == "ABCD2345", 500);
        assert_eq!(p.recreate, vec![lost.purchase_id]);
        assert_eq!(p.remove, vec![live[2].username.clone(), stranger, "ABCD2345".to_string()]);
    }

    #[test]
    fn a_pending_grant_is_not_recreated_but_kept() {
        let mut g = grant("DA:A1:19:00:00:01", 1_000);
        g.state = GrantState::Pending;
        let p = plan(std::slice::from_ref(&g), &[g.username.clone()], |_| false, 10);
        assert_eq!(p, Plan::default());
        let p = plan(std::slice::from_ref(&g), &[], |_| false, 10);
        assert!(p.recreate.is_empty(), "the job that made it applies it");
    }
}
