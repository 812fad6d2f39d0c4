//! The captive portal guests see before they are online.

pub mod backend;
mod csrf;
mod escape;
mod form;
mod i18n;
mod pages;
mod ratelimit;
mod redirect;
mod routes;
mod server;

pub use backend::*;
pub use ratelimit::RateLimitConfig;
pub use server::{PortalConfig, serve};
