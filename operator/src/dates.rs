//! Dates as operators type them: `hotspot_core::dates`, shared with the dashboard.

pub use hotspot_core::dates::{Day, UtcOffset, minute};
