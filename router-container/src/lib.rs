//! The on-router agent. Runs in the RouterOS container: serves the captive portal, pulls signed
//! jobs from the router's SQS queue, applies them through the RouterOS API, journals every step
//! in SQLite, and expires grants on time even when the cloud is unreachable.
//!
//! `run` starts the `workers` (each a loop of rounds over the shared `agent`) and the `portal`
//! (served through `guests`); `decide` holds their decisions as pure functions; `jobs` applies
//! jobs; `journal` and `router` are the two stores of truth it keeps in line.

pub mod agent;
pub mod clock;
pub mod cloud;
pub mod config;
pub mod crashpoint;
pub mod decide;
pub mod guests;
pub mod hosts;
pub mod https;
pub mod jobs;
pub mod journal;
pub mod keys;
pub mod portal;
pub mod router;
pub mod run;
pub mod selfcheck;
pub mod workers;
