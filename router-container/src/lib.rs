//! The on-router agent. Runs in the RouterOS container: serves the captive portal, pulls signed
//! jobs from the router's SQS queue, applies them through the RouterOS API, journals every step
//! in SQLite, and expires grants on time even when the cloud is unreachable.

pub mod portal;
