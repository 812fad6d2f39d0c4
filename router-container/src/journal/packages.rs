//! The packages on sale here: the portal shows them with the cloud unreachable.

use std::sync::Arc;

use hotspot_core::{Package, PackageId};
use rusqlite::params;

use super::db::{Journal, Result, from_json, json};

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
