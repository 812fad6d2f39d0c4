//! Packages on sale at a router. Retiring keeps the record: time already sold is honoured.

use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use hotspot_core::{Package, PackageId, RouterId};

use super::item::{Reader, is_condition_failure, n, s};
use super::schema::router_pk;
use super::table::{Store, StoreError};
use crate::renewal::OddAmount;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRecord {
    pub package: Package,
    pub on_sale: bool,
    /// For subscriber accounts sold on it: what a payment that is not a whole number of periods
    /// does (the cloud's alone: the router's package has no such term).
    pub odd_amounts: OddAmount,
}

fn package_sk(id: &PackageId) -> String {
    format!("PKG#{id}")
}

impl Store {
    /// Adds or replaces a package and puts it on sale.
    pub async fn put_package(&self, router: &RouterId, p: &Package, now: i64) -> Result<(), StoreError> {
        self.package_put(router, p, now)?.send().await.map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// The write that puts a package on sale, for `put_package` and `add_package`.
    fn package_put(&self, router: &RouterId, p: &Package, now: i64) -> Result<PutItemFluentBuilder, StoreError> {
        let json = serde_json::to_string(p).map_err(StoreError::dynamo)?;
        Ok(self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(router_pk(router.as_str())))
            .item("sk", s(package_sk(p.id())))
            .item("package", s(json))
            .item("on_sale", AttributeValue::Bool(true))
            .item("updated_at", n(now)))
    }

    /// Stops selling a package.
    pub async fn retire_package(&self, router: &RouterId, id: &PackageId, now: i64) -> Result<(), StoreError> {
        self.set_package_attr(router, id, "on_sale", AttributeValue::Bool(false), now).await
    }

    /// Sets one attribute of an existing package (and `updated_at`).
    async fn set_package_attr(
        &self,
        router: &RouterId,
        id: &PackageId,
        name: &str,
        value: AttributeValue,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(router_pk(router.as_str())))
            .key("sk", s(package_sk(id)))
            .update_expression("SET #a = :v, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#a", name)
            .expression_attribute_values(":v", value)
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(|e| match is_condition_failure(&e) {
                true => StoreError::NotFound(format!("package {id} at {router}")),
                false => StoreError::dynamo(e),
            })?;
        Ok(())
    }

    /// Adds a new package, on sale. Refuses an id the router already has (on sale or retired).
    pub async fn add_package(&self, router: &RouterId, p: &Package, now: i64) -> Result<(), StoreError> {
        self.package_put(router, p, now)?.condition_expression("attribute_not_exists(pk)").send().await.map_err(
            |e| match is_condition_failure(&e) {
                true => StoreError::AlreadyExists(format!("package {} at {router}", p.id())),
                false => StoreError::dynamo(e),
            },
        )?;
        Ok(())
    }

    /// Replaces an existing package's terms; `on_sale` is changed only when given. Time already
    /// sold keeps the terms it was sold with (each purchase carries its package).
    pub async fn update_package(
        &self,
        router: &RouterId,
        p: &Package,
        on_sale: Option<bool>,
        now: i64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(p).map_err(StoreError::dynamo)?;
        let mut req = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(router_pk(router.as_str())))
            .key("sk", s(package_sk(p.id())))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":p", s(json))
            .expression_attribute_values(":now", n(now));
        req = match on_sale {
            Some(v) => req
                .update_expression("SET package = :p, updated_at = :now, on_sale = :s")
                .expression_attribute_values(":s", AttributeValue::Bool(v)),
            None => req.update_expression("SET package = :p, updated_at = :now"),
        };
        req.send().await.map_err(|e| match is_condition_failure(&e) {
            true => StoreError::NotFound(format!("package {} at {router}", p.id())),
            false => StoreError::dynamo(e),
        })?;
        Ok(())
    }

    /// Sets what accounts sold on the package from now on do with an odd amount (accounts
    /// already sold keep the plan they were sold with).
    pub async fn set_package_odd_amounts(
        &self,
        router: &RouterId,
        id: &PackageId,
        odd: OddAmount,
        now: i64,
    ) -> Result<(), StoreError> {
        self.set_package_attr(router, id, "odd_amounts", s(odd.as_str()), now).await
    }

    pub async fn get_package(&self, router: &RouterId, id: &PackageId) -> Result<Option<PackageRecord>, StoreError> {
        self.get_item(router_pk(router.as_str()), &package_sk(id)).await?.as_ref().map(parse).transpose()
    }

    /// Every package of a router, on sale or retired, by id.
    pub async fn list_packages(&self, router: &RouterId) -> Result<Vec<PackageRecord>, StoreError> {
        self.query_router_prefix(router, "PKG#", None).await?.iter().map(parse).collect()
    }
}

fn parse(item: &super::item::Item) -> Result<PackageRecord, StoreError> {
    let r = Reader::new(item);
    let on_sale = item.get("on_sale").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
    let odd_amounts = r.opt_parse::<OddAmount>("odd_amounts")?.unwrap_or_default();
    Ok(PackageRecord { package: r.json("package")?, on_sale, odd_amounts })
}
