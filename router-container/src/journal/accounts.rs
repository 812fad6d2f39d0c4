//! Subscriber accounts (PPP secrets) the cloud sold: what each runs until, so the agent ends it
//! on time by itself, cloud or no cloud.

use hotspot_core::wire::{AccountSet, WireguardPeer};
use hotspot_core::{AccountNumber, Package};

use super::db::{Journal, Result, from_json, json, parse};

/// An account as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub number: AccountNumber,
    pub password: String,
    pub service: String,
    pub package: Package,
    pub expires_at: i64,
    /// Ended on the router (its time ran out).
    pub ended: bool,
    /// A WireGuard account's peer (service `wireguard`).
    pub wireguard: Option<WireguardPeer>,
}

/// What recording an `account_set` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    /// New, or a later expiry than the journal held: put it on the router.
    Apply,
    /// A copy no later than what the journal holds (a repeat, or a late old renewal): nothing.
    Stale,
}

type Row = (String, String, String, String, i64, i64, Option<String>);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn record((number, password, service, package, expires_at, ended, wireguard): Row) -> Result<AccountRecord> {
    Ok(AccountRecord {
        number: parse(&number, "account number")?,
        password,
        service,
        package: from_json(&package)?,
        expires_at,
        ended: ended != 0,
        wireguard: wireguard.as_deref().map(from_json).transpose()?,
    })
}

const SELECT: &str = "SELECT number, password, service, package, expires_at, ended, wireguard FROM accounts";

impl Journal {
    /// Records an account job; an expiry no later than the one held changes nothing.
    pub fn set_account(&self, a: &AccountSet, now: i64) -> Result<AccountChange> {
        let db = self.db();
        let changed = db.execute(
            "INSERT INTO accounts (number, password, service, package, expires_at, ended, updated_at, wireguard)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)
             ON CONFLICT(number) DO UPDATE SET password = ?2, service = ?3, package = ?4, expires_at = ?5,
                 ended = 0, updated_at = ?6, wireguard = ?7
             WHERE excluded.expires_at > accounts.expires_at",
            rusqlite::params![
                a.account.as_str(),
                a.password,
                a.service,
                json(&a.package)?,
                a.expires_at,
                now,
                a.wireguard.as_ref().map(json).transpose()?
            ],
        )?;
        Ok(if changed > 0 { AccountChange::Apply } else { AccountChange::Stale })
    }

    pub fn account(&self, number: &AccountNumber) -> Result<Option<AccountRecord>> {
        let db = self.db();
        let mut st = db.prepare_cached(&format!("{SELECT} WHERE number = ?1"))?;
        let mut rows = st.query_map([number.as_str()], row)?;
        rows.next().transpose()?.map(record).transpose()
    }

    /// Accounts whose time has run out and that are still on.
    pub fn due_accounts(&self, now: i64) -> Result<Vec<AccountRecord>> {
        let db = self.db();
        let mut st =
            db.prepare_cached(&format!("{SELECT} WHERE ended = 0 AND expires_at <= ?1 ORDER BY expires_at"))?;
        let rows = st.query_map([now], row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(record(r?)?);
        }
        Ok(out)
    }

    /// The account was ended on the router, at `expires_at` (unless a renewal came meanwhile).
    pub fn end_account(&self, number: &AccountNumber, expires_at: i64, now: i64) -> Result<()> {
        let db = self.db();
        db.execute(
            "UPDATE accounts SET ended = 1, updated_at = ?3 WHERE number = ?1 AND expires_at = ?2",
            rusqlite::params![number.as_str(), expires_at, now],
        )?;
        Ok(())
    }

    /// The soonest end of a running account.
    pub(super) fn next_account_expiry(&self) -> Result<Option<i64>> {
        let db = self.db();
        Ok(db.query_row("SELECT MIN(expires_at) FROM accounts WHERE ended = 0", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(expires_at: i64) -> AccountSet {
        AccountSet {
            account: "79927398713".parse().unwrap(),
            password: "pw".into(),
            service: "pppoe".into(),
            package: serde_json::from_value(serde_json::json!({
                "id": "home-10m", "name": "Home 10M", "price": 1500, "validity": "30d", "rate_limit": "10M/10M", "devices": 1
            }))
            .unwrap(),
            expires_at,
            wireguard: None,
        }
    }

    #[test]
    fn only_a_later_expiry_changes_an_account() {
        let j = Journal::in_memory().unwrap();
        assert_eq!(j.set_account(&set(1_000), 0).unwrap(), AccountChange::Apply);
        assert_eq!(j.set_account(&set(1_000), 1).unwrap(), AccountChange::Stale, "a repeat");
        assert_eq!(j.set_account(&set(900), 2).unwrap(), AccountChange::Stale, "an old renewal arriving late");
        assert_eq!(j.next_account_expiry().unwrap(), Some(1_000));
        assert!(j.due_accounts(999).unwrap().is_empty());
        let due = j.due_accounts(1_000).unwrap();
        assert_eq!(due.len(), 1);
        j.end_account(&due[0].number, 1_000, 1_000).unwrap();
        assert!(j.due_accounts(5_000).unwrap().is_empty());
        assert_eq!(j.next_account_expiry().unwrap(), None);
        // Renewed after it ended: on again, with the new expiry.
        assert_eq!(j.set_account(&set(2_000), 1_500).unwrap(), AccountChange::Apply);
        let a = j.account(&due[0].number).unwrap().unwrap();
        assert_eq!((a.expires_at, a.ended), (2_000, false));
        // An end for the old expiry (a race with the renewal) does not end the new time.
        j.end_account(&a.number, 1_000, 1_600).unwrap();
        assert!(!j.account(&a.number).unwrap().unwrap().ended);
    }
}
