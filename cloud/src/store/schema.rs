//! The table's keys and indexes. `create_table` is what tests and the local stack use;
//! `infra/` declares the same shape for AWS.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};

use super::table::StoreError;

/// Sparse: purchases still `pending`, by creation time (the reconciler's work list).
pub const GSI_PENDING: &str = "pending";
/// Sparse: purchases whose job (grant / payment_failed) is not yet on the router's queue (outbox).
pub const GSI_OUTBOX: &str = "outbox";
/// Sparse: sessions not yet revoked, by `expires_at` (the expiry sweep's work list).
pub const GSI_LIVE: &str = "live";
/// Sparse: router records only (`fleet` = "router"), by id: the fleet list without a scan.
pub const GSI_FLEET: &str = "fleet";
/// Purchases by the paying phone (`by_phone`), newest last: the support desk's search.
pub const GSI_BY_PHONE: &str = "by_phone";
/// Purchases by the guest's device (`by_mac`), newest last.
pub const GSI_BY_MAC: &str = "by_mac";
/// Sparse: money the cloud learned of, by month and kind (`ledger` = `PURCHASE#yyyy-mm` for a
/// purchase paid, paid the wrong amount or left in doubt; `RECEIPT#yyyy-mm` for a receipt;
/// `RENEWAL#yyyy-mm` for a payment that renewed a subscriber's account) and
/// time (`ledger_at`): the revenue report and the ledger read a month with one Query, no scan.
pub const GSI_LEDGER: &str = "ledger";
/// Sparse: operator records only (`roster` = "operator"), by ARN: the operators page and
/// `hotspotctl operator list` without a scan.
pub const GSI_ROSTER: &str = "roster";

/// The `ledger` index's two kinds of money: purchases and receipts.
pub const LEDGER_PURCHASES: &str = "PURCHASE";
pub const LEDGER_RECEIPTS: &str = "RECEIPT";
/// …and subscriber accounts' renewals (a Paybill or STK payment that renewed an account).
pub const LEDGER_RENEWALS: &str = "RENEWAL";

/// The `ledger` index partition of `kind` ([`LEDGER_PURCHASES`], [`LEDGER_RECEIPTS`]) for the
/// month holding `at`.
pub fn ledger_month(kind: &str, at: i64) -> String {
    format!("{kind}#{}", hotspot_core::calendar::month_string(at))
}

pub fn purchase_pk(id: &str) -> String {
    format!("PURCHASE#{id}")
}
pub fn session_pk(purchase_id: &str) -> String {
    format!("SESSION#{purchase_id}")
}
/// Where a purchase and its Daraja callback meet (see `checkout.rs`).
pub fn checkout_pk(checkout_request_id: &str) -> String {
    format!("CHECKOUT#{checkout_request_id}")
}
pub fn router_pk(id: &str) -> String {
    format!("ROUTER#{id}")
}
pub const META: &str = "META";

fn attr(name: &str, t: ScalarAttributeType) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().map_err(StoreError::dynamo)
}

fn key(name: &str, t: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder().attribute_name(name).key_type(t).build().map_err(StoreError::dynamo)
}

fn gsi(name: &str, hash: &str, range: Option<&str>) -> Result<GlobalSecondaryIndex, StoreError> {
    let mut b = GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build());
    if let Some(r) = range {
        b = b.key_schema(key(r, KeyType::Range)?);
    }
    b.build().map_err(StoreError::dynamo)
}

/// Creates the table (on-demand) with its indexes.
pub async fn create_table(db: &Client, table: &str) -> Result<(), StoreError> {
    use ScalarAttributeType::{N, S};
    db.create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", S)?)
        .attribute_definitions(attr("sk", S)?)
        .attribute_definitions(attr("pending", S)?)
        .attribute_definitions(attr("created_at", N)?)
        .attribute_definitions(attr("outbox", S)?)
        .attribute_definitions(attr("updated_at", N)?)
        .attribute_definitions(attr("live", S)?)
        .attribute_definitions(attr("expires_at", N)?)
        .attribute_definitions(attr("fleet", S)?)
        .attribute_definitions(attr("router_id", S)?)
        .attribute_definitions(attr("by_phone", S)?)
        .attribute_definitions(attr("by_mac", S)?)
        .attribute_definitions(attr("ledger", S)?)
        .attribute_definitions(attr("ledger_at", N)?)
        .attribute_definitions(attr("roster", S)?)
        .attribute_definitions(attr("arn", S)?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(gsi(GSI_PENDING, "pending", Some("created_at"))?)
        .global_secondary_indexes(gsi(GSI_OUTBOX, "outbox", Some("updated_at"))?)
        .global_secondary_indexes(gsi(GSI_LIVE, "live", Some("expires_at"))?)
        .global_secondary_indexes(gsi(GSI_FLEET, "fleet", Some("router_id"))?)
        .global_secondary_indexes(gsi(GSI_BY_PHONE, "by_phone", Some("created_at"))?)
        .global_secondary_indexes(gsi(GSI_BY_MAC, "by_mac", Some("created_at"))?)
        .global_secondary_indexes(gsi(GSI_LEDGER, "ledger", Some("ledger_at"))?)
        .global_secondary_indexes(gsi(GSI_ROSTER, "roster", Some("arn"))?)
        .send()
        .await
        .map_err(StoreError::dynamo)?;
    // Rate-limit counters and other ephemeral items carry `ttl` (Unix seconds).
    db.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .attribute_name("ttl")
                .enabled(true)
                .build()
                .map_err(StoreError::dynamo)?,
        )
        .send()
        .await
        .map_err(StoreError::dynamo)?;
    Ok(())
}
