//! The on-router agent. Runs in the RouterOS container: serves the captive portal, pulls signed
//! jobs from the router's SQS queue, applies them through the RouterOS API, journals every step
//! in SQLite, and expires grants on time even when the cloud is unreachable.

pub mod agent;
pub mod backend;
pub mod cloud;
pub mod config;
pub mod crashpoint;
pub mod expiry;
pub mod https;
pub mod jobs;
pub mod journal;
pub mod portal;
pub mod reports;
pub mod router;
pub mod run;
