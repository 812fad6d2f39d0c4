//! Printed vouchers, kept in the router's partition so a batch can be exported again:
//! `ROUTER#<id>` / `VOUCHER#<code>` per code, `ROUTER#<id>` / `VBATCH#<batch id>` per batch.
//! A code is unique at its router (it is the hotspot user's name there).

use aws_sdk_dynamodb::types::{DeleteRequest, Put, TransactWriteItem, Update, WriteRequest};
use hotspot_core::{MacAddr, Package, RouterId, VoucherCode};

use super::item::{Item, Reader, amount, cancelled_by_condition, n, s};
use super::schema::router_pk;
use super::table::{Store, StoreError};

/// At most this many codes are written in one transaction (DynamoDB's limit is 100 items).
pub const VOUCHERS_PER_WRITE: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherRecord {
    pub code: VoucherCode,
    pub router_id: RouterId,
    pub batch_id: String,
    /// The package as sold on the slip.
    pub package: Package,
    pub created_at: i64,
    /// When a guest first came online with it, and on which device (the router reports it).
    pub used: Option<VoucherUse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherUse {
    pub at: i64,
    pub mac: MacAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherBatchRecord {
    pub batch_id: String,
    pub router_id: RouterId,
    pub package: Package,
    pub count: u32,
    /// How many of its codes are on the router's queue.
    pub pushed: u32,
    /// How many of its codes guests have used.
    pub used: u32,
    pub created_at: i64,
    pub created_by: String,
}

fn voucher_sk(code: &VoucherCode) -> String {
    format!("VOUCHER#{code}")
}

fn batch_sk(batch: &str) -> String {
    format!("VBATCH#{batch}")
}

fn parse_voucher(item: &Item) -> Result<VoucherRecord, StoreError> {
    let r = Reader::new(item);
    Ok(VoucherRecord {
        code: r.parse("code")?,
        router_id: r.parse("router_id")?,
        batch_id: r.str("batch_id")?.to_string(),
        package: r.json("package")?,
        created_at: r.i64("created_at")?,
        used: match r.opt_i64("used_at")? {
            Some(at) => Some(VoucherUse { at, mac: r.parse("used_mac")? }),
            None => None,
        },
    })
}

fn parse_batch(item: &Item) -> Result<VoucherBatchRecord, StoreError> {
    let r = Reader::new(item);
    let count = |name| r.i64(name).map(|v| v.clamp(0, u32::MAX as i64) as u32);
    Ok(VoucherBatchRecord {
        batch_id: r.str("batch_id")?.to_string(),
        router_id: r.parse("router_id")?,
        package: r.json("package")?,
        count: count("count")?,
        pushed: count("pushed")?,
        used: r.opt_i64("used")?.map_or(0, |v| v.clamp(0, u32::MAX as i64) as u32),
        created_at: r.i64("created_at")?,
        created_by: r.str("created_by")?.to_string(),
    })
}

impl Store {
    /// Records a new batch (before its codes).
    pub async fn put_voucher_batch(&self, b: &VoucherBatchRecord) -> Result<(), StoreError> {
        let package = serde_json::to_string(&b.package).map_err(StoreError::dynamo)?;
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(router_pk(b.router_id.as_str())))
            .item("sk", s(batch_sk(&b.batch_id)))
            .item("batch_id", s(&b.batch_id))
            .item("router_id", s(b.router_id.as_str()))
            .item("package", s(package))
            .item("count", n(b.count))
            .item("pushed", n(b.pushed))
            .item("created_at", n(b.created_at))
            .item("created_by", s(&b.created_by))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    pub async fn set_voucher_batch_pushed(
        &self,
        router: &RouterId,
        batch: &str,
        pushed: u32,
    ) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(router_pk(router.as_str())))
            .key("sk", s(batch_sk(batch)))
            .update_expression("SET pushed = :p")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":p", n(pushed))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// Writes up to [`VOUCHERS_PER_WRITE`] codes in one transaction: all or none. A code that
    /// already exists at the router fails the whole write with `AlreadyExists`.
    pub async fn put_vouchers(&self, vouchers: &[VoucherRecord]) -> Result<(), StoreError> {
        if vouchers.is_empty() {
            return Ok(());
        }
        if vouchers.len() > VOUCHERS_PER_WRITE {
            return Err(StoreError::Dynamo(format!("at most {VOUCHERS_PER_WRITE} vouchers per write")));
        }
        let mut req = self.db.transact_write_items();
        for v in vouchers {
            let package = serde_json::to_string(&v.package).map_err(StoreError::dynamo)?;
            let put = Put::builder()
                .table_name(&self.table)
                .item("pk", s(router_pk(v.router_id.as_str())))
                .item("sk", s(voucher_sk(&v.code)))
                .item("code", s(v.code.as_str()))
                .item("router_id", s(v.router_id.as_str()))
                .item("batch_id", s(&v.batch_id))
                .item("package", s(package))
                .item("price", amount(v.package.price()))
                .item("currency", s(v.package.price().currency().as_str()))
                .item("created_at", n(v.created_at))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(StoreError::dynamo)?;
            req = req.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if cancelled_by_condition(&e) => {
                Err(StoreError::AlreadyExists("a voucher code in this write".into()))
            }
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// Deletes codes (those whose job could not be queued), 25 per request.
    pub async fn delete_vouchers(&self, router: &RouterId, codes: &[VoucherCode]) -> Result<(), StoreError> {
        for chunk in codes.chunks(25) {
            let mut reqs = Vec::with_capacity(chunk.len());
            for c in chunk {
                let del = DeleteRequest::builder()
                    .key("pk", s(router_pk(router.as_str())))
                    .key("sk", s(voucher_sk(c)))
                    .build()
                    .map_err(StoreError::dynamo)?;
                reqs.push(WriteRequest::builder().delete_request(del).build());
            }
            let mut pending = Some(reqs);
            for _ in 0..5 {
                let Some(batch) = pending.take().filter(|b| !b.is_empty()) else { break };
                let out = self
                    .db
                    .batch_write_item()
                    .request_items(&self.table, batch)
                    .send()
                    .await
                    .map_err(StoreError::dynamo)?;
                pending = out.unprocessed_items.and_then(|mut u| u.remove(&self.table));
            }
            if pending.is_some_and(|p| !p.is_empty()) {
                return Err(StoreError::Dynamo("some voucher deletes stayed unprocessed".into()));
            }
        }
        Ok(())
    }

    /// A guest came online with `code` at `router`: the first time, the voucher is marked used and
    /// its batch counts one more, together. False when it was used already or is not a printed
    /// voucher there (a returning guest's re-login code): nothing changes.
    pub async fn mark_voucher_used(
        &self,
        router: &RouterId,
        code: &VoucherCode,
        at: i64,
        mac: &MacAddr,
    ) -> Result<bool, StoreError> {
        let pk = router_pk(router.as_str());
        let Some(item) = self.get_item(pk.clone(), &voucher_sk(code)).await? else { return Ok(false) };
        let v = parse_voucher(&item)?;
        if v.used.is_some() {
            return Ok(false);
        }
        let mark = Update::builder()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(voucher_sk(code)))
            .update_expression("SET used_at = :t, used_mac = :m")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(used_at)")
            .expression_attribute_values(":t", n(at))
            .expression_attribute_values(":m", s(mac.to_string()))
            .build()
            .map_err(StoreError::dynamo)?;
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(batch_sk(&v.batch_id)))
            .update_expression("ADD used :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(StoreError::dynamo)?;
        let res = self
            .db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(mark).build())
            .transact_items(TransactWriteItem::builder().update(count).build())
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            // Marked meanwhile (a duplicate report): the first one counted.
            Err(e) if cancelled_by_condition(&e) => Ok(false),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// One printed voucher at a router.
    pub async fn get_voucher(
        &self,
        router: &RouterId,
        code: &VoucherCode,
    ) -> Result<Option<VoucherRecord>, StoreError> {
        self.get_item(router_pk(router.as_str()), &voucher_sk(code)).await?.as_ref().map(parse_voucher).transpose()
    }

    /// The printed voucher `code` at any of `routers` (a code is unique per router only), read
    /// 100 routers a request: the support desk's search.
    pub async fn find_voucher(
        &self,
        routers: &[RouterId],
        code: &VoucherCode,
    ) -> Result<Vec<VoucherRecord>, StoreError> {
        let keys = routers.iter().map(|r| (router_pk(r.as_str()), voucher_sk(code))).collect();
        let mut out = self.get_items(keys).await?.iter().map(parse_voucher).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.router_id.cmp(&b.router_id));
        Ok(out)
    }

    /// A router's vouchers, optionally of one batch, by code.
    pub async fn list_vouchers(
        &self,
        router: &RouterId,
        batch: Option<&str>,
    ) -> Result<Vec<VoucherRecord>, StoreError> {
        let items = self.query_router_prefix(router, "VOUCHER#", batch).await?;
        let mut out = items.iter().map(parse_voucher).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }

    /// A router's voucher batches, oldest first.
    pub async fn list_voucher_batches(&self, router: &RouterId) -> Result<Vec<VoucherBatchRecord>, StoreError> {
        let items = self.query_router_prefix(router, "VBATCH#", None).await?;
        let mut out = items.iter().map(parse_batch).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (a.created_at, &a.batch_id).cmp(&(b.created_at, &b.batch_id)));
        Ok(out)
    }
}
