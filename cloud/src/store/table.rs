//! The table and its client, and the one error type every record's access returns.

use aws_sdk_dynamodb::Client;

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
