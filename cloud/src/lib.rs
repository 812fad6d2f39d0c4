//! The cloud's records and jobs, shared by the Lambda functions, `hotspotctl` and the
//! dashboard: the DynamoDB store (`docs/dynamodb.md`), signed jobs on router queues, and the
//! outbox that delivers a decided purchase's job exactly once.

pub mod access;
pub mod accounts;
pub mod credit;
pub mod csv;
pub mod desk;
pub mod jobs;
pub mod ledger;
pub mod outbox;
pub mod paybill;
pub mod radius;
pub mod reminders;
pub mod renewal;
pub mod revenue;
pub mod roster;
pub mod store;
pub mod vouchers;
pub mod wireguard;
