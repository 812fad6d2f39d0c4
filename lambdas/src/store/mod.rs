//! DynamoDB access: one table, keys and indexes described in `docs/dynamodb.md`.

pub mod audit;
pub mod calendar;
mod checkout;
mod item;
pub mod operator;
mod package;
mod purchase;
pub mod ratelimit;
mod receipt;
pub mod revenue;
mod router;
pub mod schema;
mod session;
pub mod session_ops;
pub mod voucher;

use aws_sdk_dynamodb::Client;

pub use audit::{AuditEntry, AuditResult};
pub(crate) use item::is_condition_failure;
pub use operator::{Grant, OperatorRecord, OperatorRole};
pub use package::PackageRecord;
pub use purchase::{NewPurchase, Paid, Purchase, PurchaseState, Transition};
pub use ratelimit::Slot;
pub use revenue::PaymentRow;
pub use router::{RouterHealth, RouterRecord};
pub use session::SessionRecord;
pub use session_ops::LiveSession;
pub use voucher::{VoucherBatchRecord, VoucherRecord};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB: {0}")]
    Dynamo(String),
    #[error("record {key} is corrupt: {why}")]
    Corrupt { key: String, why: String },
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} not found")]
    NotFound(String),
}

impl StoreError {
    pub(crate) fn dynamo<E: std::fmt::Debug>(e: E) -> Self {
        StoreError::Dynamo(format!("{e:?}"))
    }
}

/// The table and its client.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Client,
    pub(crate) table: String,
}

impl Store {
    pub fn new(db: Client, table: impl Into<String>) -> Self {
        Store { db, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
