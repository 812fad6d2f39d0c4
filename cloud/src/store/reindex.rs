//! After an upgrade: records written before an index existed are given its key attributes,
//! once, by `hotspotctl reindex` (the only Scans in the code: no page or function scans).
//! Operators join `roster`; purchases `by_phone`, `by_mac` and `ledger`; receipts `ledger`.
//! Each write only adds what is missing and is conditional on the record still existing, so a
//! second run, or a run beside live traffic, changes nothing that is already right.

use super::item::{Item, is_condition_failure, n, s};
use super::operator::ROSTER;
use super::purchase::{ledger_at, parse_purchase};
use super::schema::{LEDGER_PURCHASES, LEDGER_RECEIPTS, META, ledger_month};
use super::table::{Store, StoreError};

/// How many records of each kind were given index attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reindexed {
    pub operators: usize,
    pub purchases: usize,
    pub receipts: usize,
}

impl Store {
    /// Every item whose `pk` starts with `prefix` and whose `sk` is `sk` (a filtered Scan).
    pub(crate) async fn scan_prefix(&self, prefix: &str, sk: &str) -> Result<Vec<Item>, StoreError> {
        let q = self
            .db
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :p) AND sk = :sk")
            .expression_attribute_values(":p", s(prefix))
            .expression_attribute_values(":sk", s(sk))
            .consistent_read(true);
        self.scan_all(q).await
    }

    /// Adds the index attributes records written before the indexes lack.
    pub async fn reindex(&self) -> Result<Reindexed, StoreError> {
        let mut done = Reindexed::default();
        for item in self.scan_prefix("OPERATOR#", META).await? {
            if !item.contains_key("roster") {
                done.operators += self.add_attributes(&item, &[("roster", s(ROSTER))]).await? as usize;
            }
        }
        for item in self.scan_prefix("PURCHASE#", META).await? {
            let p = parse_purchase(&item)?;
            let mut add = Vec::new();
            if !item.contains_key("by_phone") {
                add.push(("by_phone", s(p.phone.e164())));
            }
            if !item.contains_key("by_mac") {
                add.push(("by_mac", s(p.mac.to_string())));
            }
            if let (false, Some(at)) = (item.contains_key("ledger"), ledger_at(&p)) {
                add.push(("ledger", s(ledger_month(LEDGER_PURCHASES, at))));
                add.push(("ledger_at", n(at)));
            }
            if !add.is_empty() {
                done.purchases += self.add_attributes(&item, &add).await? as usize;
            }
        }
        for item in self.scan_prefix("RECEIPT#", META).await? {
            if !item.contains_key("ledger") {
                let r = super::receipts::parse(&item)?;
                let add = [("ledger", s(ledger_month(LEDGER_RECEIPTS, r.at))), ("ledger_at", n(r.at))];
                done.receipts += self.add_attributes(&item, &add).await? as usize;
            }
        }
        Ok(done)
    }

    /// Sets `attrs` on the item (if it still exists and does not have them yet). True if written.
    async fn add_attributes(
        &self,
        item: &Item,
        attrs: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
    ) -> Result<bool, StoreError> {
        let (Some(pk), Some(sk)) = (item.get("pk"), item.get("sk")) else { return Ok(false) };
        let mut q = self.db.update_item().table_name(&self.table).key("pk", pk.clone()).key("sk", sk.clone());
        let mut set = Vec::new();
        let mut absent = vec!["attribute_exists(pk)".to_string()];
        for (i, (name, value)) in attrs.iter().enumerate() {
            set.push(format!("#a{i} = :v{i}"));
            absent.push(format!("attribute_not_exists(#a{i})"));
            q = q
                .expression_attribute_names(format!("#a{i}"), *name)
                .expression_attribute_values(format!(":v{i}"), value.clone());
        }
        let res = q
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(absent.join(" AND "))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            // Removed, or indexed by a live write meanwhile: nothing to add.
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }
}
