//! The Lambda functions' logic. Handlers (the binaries) stay thin; tests call this library
//! directly. Records, jobs and the outbox are `hotspot_cloud`'s, shared with `hotspotctl`.

pub mod admin;
pub mod api;
pub mod c2b;
pub mod callback;
pub mod config;
pub mod events;
pub mod expiry;
pub mod portal;
pub mod providers;
pub mod purchase;
pub mod radius;
pub mod reconcile;
pub mod reminders;
pub mod renewals;
pub mod runtime;
pub mod settle;
pub mod sms;
pub mod token_store;
