//! The captive portal guests see before they are online.

pub mod backend;

pub use backend::*;
