//! Reading typed values out of DynamoDB items, with a clear error naming the bad attribute.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use hotspot_core::RouterId;
use hotspot_core::currency::{Currency, Money};

use super::schema::router_pk;
use super::table::{Store, StoreError};

/// True when a write was refused by its condition (the losing side of a race, or a repeat).
pub(crate) fn is_condition_failure<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|se| se.code()).is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// True when a transaction was cancelled because one of its conditions refused it.
pub(crate) fn cancelled_by_condition<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException;
    match e.as_service_error() {
        Some(TransactionCanceledException(t)) => {
            t.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
        }
        _ => false,
    }
}

/// A conditional write's outcome: true if it was made, false if its condition refused it.
pub(crate) fn written<T, E, R>(res: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match res {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failure(&e) => Ok(false),
        Err(e) => Err(StoreError::dynamo(e)),
    }
}

/// Follows `LastEvaluatedKey` from page to page; `page(start)` fetches one page.
async fn every_page<F, Fut>(page: F) -> Result<Vec<Item>, StoreError>
where
    F: FnMut(Option<Item>) -> Fut,
    Fut: Future<Output = Result<(Option<Vec<Item>>, Option<Item>), StoreError>>,
{
    pages_up_to(usize::MAX, page).await
}

/// As `every_page`, stopping once `cap` items are in (a sweep's work list: a page of items that
/// keep failing must not hide the ones after it, nor may one run take all night).
async fn pages_up_to<F, Fut>(cap: usize, mut page: F) -> Result<Vec<Item>, StoreError>
where
    F: FnMut(Option<Item>) -> Fut,
    Fut: Future<Output = Result<(Option<Vec<Item>>, Option<Item>), StoreError>>,
{
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let (got, next) = page(start).await?;
        items.extend(got.unwrap_or_default());
        match next {
            Some(k) if !k.is_empty() && items.len() < cap => start = Some(k),
            _ => {
                items.truncate(cap);
                return Ok(items);
            }
        }
    }
}

impl Store {
    /// Every item a Query returns, following its pages.
    pub(crate) async fn query_all(&self, q: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
        every_page(|start| {
            let q = q.clone().set_exclusive_start_key(start);
            async move { q.send().await.map(|p| (p.items, p.last_evaluated_key)).map_err(StoreError::dynamo) }
        })
        .await
    }

    /// Up to `cap` items of a Query, following its pages (each page as large as `q`'s limit).
    pub(crate) async fn query_capped(&self, q: QueryFluentBuilder, cap: usize) -> Result<Vec<Item>, StoreError> {
        pages_up_to(cap, |start| {
            let q = q.clone().set_exclusive_start_key(start);
            async move { q.send().await.map(|p| (p.items, p.last_evaluated_key)).map_err(StoreError::dynamo) }
        })
        .await
    }

    /// A router's items whose sort key starts with `prefix` (optionally of one batch), read
    /// consistently, every page.
    pub(crate) async fn query_router_prefix(
        &self,
        router: &RouterId,
        prefix: &str,
        batch: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut q = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(":pk", s(router_pk(router.as_str())))
            .expression_attribute_values(":p", s(prefix))
            .consistent_read(true);
        if let Some(b) = batch {
            q = q.filter_expression("batch_id = :b").expression_attribute_values(":b", s(b));
        }
        self.query_all(q).await
    }

    /// Every item a Scan returns, following its pages.
    pub(crate) async fn scan_all(&self, q: ScanFluentBuilder) -> Result<Vec<Item>, StoreError> {
        every_page(|start| {
            let q = q.clone().set_exclusive_start_key(start);
            async move { q.send().await.map(|p| (p.items, p.last_evaluated_key)).map_err(StoreError::dynamo) }
        })
        .await
    }

    /// Strongly consistent reads of many items (BatchGetItem, 100 keys a request), in no
    /// particular order; absent ones are left out. Keys DynamoDB leaves unprocessed (throttling)
    /// are asked for again, with a short backoff, a bounded number of times.
    pub(crate) async fn get_items(&self, keys: Vec<(String, String)>) -> Result<Vec<Item>, StoreError> {
        const PER_REQUEST: usize = 100;
        const ATTEMPTS: u32 = 8;
        let mut out = Vec::with_capacity(keys.len());
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<_> = keys.into_iter().filter(|k| seen.insert(k.clone())).collect();
        for chunk in keys.chunks(PER_REQUEST) {
            let mut wanted: Vec<Item> = chunk
                .iter()
                .map(|(pk, sk)| HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))]))
                .collect();
            for attempt in 0.. {
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(wanted))
                    .consistent_read(true)
                    .build()
                    .map_err(StoreError::dynamo)?;
                let got =
                    self.db.batch_get_item().request_items(&self.table, ka).send().await.map_err(StoreError::dynamo)?;
                out.extend(got.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                wanted =
                    got.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|ka| ka.keys).unwrap_or_default();
                if wanted.is_empty() {
                    break;
                }
                if attempt + 1 >= ATTEMPTS {
                    return Err(StoreError::Dynamo(format!(
                        "{} keys still unprocessed after {ATTEMPTS} tries",
                        wanted.len()
                    )));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        Ok(out)
    }

    /// A strongly consistent read of one item.
    pub(crate) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(out.item)
    }
}

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An amount as stored: a DynamoDB number (`20`, `2.5`); its currency is a sibling attribute
/// read by [`Reader::opt_money`].
pub(crate) fn amount(m: Money) -> AttributeValue {
    n(m.short_decimal())
}

pub(crate) struct Reader<'a> {
    pub item: &'a Item,
    pub key: String,
}

impl<'a> Reader<'a> {
    pub fn new(item: &'a Item) -> Self {
        let key = item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_else(|| "?".into());
        Reader { item, key }
    }

    fn corrupt(&self, why: String) -> StoreError {
        StoreError::Corrupt { key: self.key.clone(), why }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.as_str())),
            Some(_) => Err(self.corrupt(format!("{name} is not a string"))),
        }
    }

    pub fn str(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_str(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn opt_parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_str(name)?.map(|v| v.parse::<T>().map_err(|e| self.corrupt(format!("{name}: {e}")))).transpose()
    }

    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_parse(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => {
                v.parse().map(Some).map_err(|_| self.corrupt(format!("{name} is not an integer")))
            }
            Some(_) => Err(self.corrupt(format!("{name} is not a number"))),
        }
    }

    /// An amount written by [`amount`], in the currency named by the `currency` attribute; absent:
    /// Kenya shillings, as every record from before other currencies.
    pub fn opt_money(&self, name: &str, currency: &str) -> Result<Option<Money>, StoreError> {
        let code: Currency = self.opt_parse(currency)?.unwrap_or_default();
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => {
                Money::parse(code, v).map(Some).map_err(|e| self.corrupt(format!("{name}: {e}")))
            }
            Some(_) => Err(self.corrupt(format!("{name} is not a number"))),
        }
    }

    pub fn money(&self, name: &str, currency: &str) -> Result<Money, StoreError> {
        self.opt_money(name, currency)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn i64(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_i64(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        serde_json::from_str(self.str(name)?).map_err(|e| self.corrupt(format!("{name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema;

    /// Seven items read two per page: every page is followed, by Query and by Scan.
    #[tokio::test]
    async fn every_page_is_read() {
        let moto = testkit::Moto::start().await.expect("moto starts");
        schema::create_table(&moto.dynamodb(), "hotspot").await.expect("table");
        let store = Store::new(moto.dynamodb(), "hotspot");
        let router: RouterId = "cafe-01".parse().expect("router id");
        for i in 0..7 {
            store
                .db
                .put_item()
                .table_name("hotspot")
                .item("pk", s(router_pk(router.as_str())))
                .item("sk", s(format!("PKG#p{i}")))
                .send()
                .await
                .expect("put");
        }
        let q = store
            .db
            .query()
            .table_name("hotspot")
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(":pk", s(router_pk(router.as_str())))
            .expression_attribute_values(":p", s("PKG#"))
            .limit(2);
        assert_eq!(store.query_all(q).await.expect("query").len(), 7);
        let scan = store.db.scan().table_name("hotspot").limit(2);
        assert_eq!(store.scan_all(scan).await.expect("scan").len(), 7);
    }
}
