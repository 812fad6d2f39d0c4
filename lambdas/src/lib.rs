//! The cloud side: DynamoDB records, signed jobs on router queues, and the logic each Lambda
//! function runs. Handlers (the binaries) stay thin; tests call this library directly.

pub mod api;
pub mod callback;
pub mod config;
pub mod deliver;
pub mod events;
pub mod expiry;
pub mod jobs;
pub mod purchase;
pub mod reconcile;
pub mod runtime;
pub mod sms;
pub mod store;
pub mod token_store;
