//! The agent's decisions, as pure functions of `now` and state: what to do with a job the
//! journal already knows, when to check expiry next, which sessions started or ended, how to
//! bring the router in line with the journal. The workers (`crate::workers`) do the I/O around
//! them; the tests call them with any `now` they like.

pub mod clock;
pub mod devices;
pub mod expiry;
pub mod job;
pub mod polling;
pub mod reconcile;
pub mod sessions;
