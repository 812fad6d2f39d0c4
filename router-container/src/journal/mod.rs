//! The agent's SQLite journal (WAL). Every job is recorded before it is applied; its outcome
//! and the report it owes upstream are recorded in one transaction; the SQS message is deleted
//! only after that. So a crash between any two steps replays to the same state: a recorded job is
//! never applied twice to different effect, and a recorded outcome is never lost.
//!
//! This file is only the face: `db` opens the database and keeps its bounds; each kind of
//! record has its own module.

mod accounts;
mod db;
mod grants;
mod jobs;
mod outbox;
mod packages;
mod purchases;
mod vouchers;

pub use accounts::{AccountChange, AccountRecord};
pub use db::{Journal, JournalError, Result};
pub use grants::{GrantRecord, GrantState};
pub use jobs::JobState;
pub use vouchers::VoucherRecord;
