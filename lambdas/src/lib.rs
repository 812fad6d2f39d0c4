//! The cloud side: DynamoDB records, signed jobs on router queues, and the logic each Lambda
//! function runs. Handlers (the binaries) stay thin; tests call this library directly.

pub mod callback;
pub mod deliver;
pub mod jobs;
pub mod store;
