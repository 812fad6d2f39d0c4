//! The captive portal guests see before they are online.

pub mod backend;
mod csrf;
mod escape;
mod form;
mod handlers;
mod i18n;
mod pages;
mod plumbing;
mod ratelimit;
mod redirect;
mod routes;
mod server;
mod state;

pub use backend::*;
pub use ratelimit::RateLimitConfig;
pub use server::serve;
pub use state::PortalConfig;
