//! The packages on sale here: the portal shows them with the cloud unreachable.

use std::sync::Arc;

use hotspot_core::{Package, PackageId};
use rusqlite::params;

use hotspot_core::phone::Country;
use hotspot_core::wallet::{Offered, Wallet};

use super::db::{Journal, JournalError, Result, from_json, json, parse};

impl Journal {
    pub fn replace_packages(&self, packages: &[Package]) -> Result<()> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute("DELETE FROM packages", [])?;
        for (i, p) in packages.iter().enumerate() {
            tx.execute(
                "INSERT OR REPLACE INTO packages (id, body, position) VALUES (?1, ?2, ?3)",
                params![p.id().as_str(), json(p)?, i as i64],
            )?;
        }
        tx.commit()?;
        // Under the db lock, so a reader cannot put back what was there before.
        *self.packages.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(packages.to_vec()));
        Ok(())
    }

    pub fn packages(&self) -> Result<Arc<Vec<Package>>> {
        if let Some(p) = self.packages.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(p.clone());
        }
        let db = self.db();
        let mut st = db.prepare_cached("SELECT body FROM packages ORDER BY position")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(from_json(&r?)?);
        }
        let out = Arc::new(out);
        *self.packages.lock().unwrap_or_else(|p| p.into_inner()) = Some(out.clone());
        Ok(out)
    }

    pub fn package(&self, id: &PackageId) -> Result<Option<Package>> {
        Ok(self.packages()?.iter().find(|p| p.id() == id).cloned())
    }
}

impl Journal {
    /// Keeps where the router sells and the wallets guests may pay from. Empty wallets or no
    /// country (a cloud from before the choice): that part unchanged. What equals the kept one
    /// writes nothing (the router's flash).
    pub fn set_market(&self, wallets: &[Wallet], country: Option<Country>) -> Result<()> {
        if let Some(c) = country.filter(|c| *c != self.country().unwrap_or_default()) {
            self.db()
                .execute("INSERT OR REPLACE INTO settings (name, value) VALUES ('country', ?1)", params![c.as_str()])?;
            *self.country.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
        }
        if wallets.is_empty() {
            return Ok(());
        }
        let offered = Offered::new(wallets.to_vec()).map_err(|e| JournalError::Corrupt(e.to_string()))?;
        if self.wallets()? == offered {
            return Ok(());
        }
        self.db().execute(
            "INSERT OR REPLACE INTO settings (name, value) VALUES ('wallets', ?1)",
            params![offered.to_string()],
        )?;
        *self.wallets.lock().unwrap_or_else(|p| p.into_inner()) = Some(offered);
        Ok(())
    }

    fn setting(&self, name: &str) -> Result<Option<String>> {
        let db = self.db();
        let mut st = db.prepare_cached("SELECT value FROM settings WHERE name = ?1")?;
        Ok(st.query_map([name], |r| r.get::<_, String>(0))?.next().transpose()?)
    }

    /// The wallets guests may pay from: M-Pesa alone until the cloud said otherwise.
    pub fn wallets(&self) -> Result<Offered> {
        if let Some(w) = self.wallets.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(w.clone());
        }
        let offered = match self.setting("wallets")? {
            Some(v) => parse::<Offered>(&v, "wallets")?,
            None => Offered::default(),
        };
        *self.wallets.lock().unwrap_or_else(|p| p.into_inner()) = Some(offered.clone());
        Ok(offered)
    }

    /// Where the router sells, whose numbers its guests type in their own way (`0772…`): Kenya
    /// until the cloud said otherwise.
    pub fn country(&self) -> Result<Country> {
        if let Some(c) = *self.country.lock().unwrap_or_else(|p| p.into_inner()) {
            return Ok(c);
        }
        let c = match self.setting("country")? {
            Some(v) => parse::<Country>(&v, "country")?,
            None => Country::default(),
        };
        *self.country.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallets_are_kept_across_opens_and_written_only_on_change() {
        let dir = std::env::temp_dir().join(format!("journal-wallets-{}", hotspot_core::MessageId::generate()));
        let j = Journal::open(&dir).unwrap();
        assert_eq!(j.wallets().unwrap(), Offered::default());
        assert_eq!(j.country().unwrap(), Country::Kenya);
        j.set_market(&[], None).unwrap();
        assert_eq!(j.wallets().unwrap(), Offered::default(), "an empty list changes nothing");
        j.set_market(&[Wallet::AirtelMoney, Wallet::MtnMomo], Some(Country::Uganda)).unwrap();
        drop(j);
        let j = Journal::open(&dir).unwrap();
        assert_eq!(j.wallets().unwrap().as_slice(), &[Wallet::AirtelMoney, Wallet::MtnMomo]);
        assert_eq!(j.country().unwrap(), Country::Uganda);
        j.set_market(&[], None).unwrap();
        assert_eq!(j.country().unwrap(), Country::Uganda, "no country said: kept");
        assert!(j.set_market(&[Wallet::Mpesa, Wallet::Mpesa], None).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
