//! The captive portal guests see before they are online.

pub mod backend;
mod csrf;
mod escape;
mod form;
mod handlers;
pub mod host;
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

/// The parsers every request meets before a handler, for the fuzz target (`router-container/fuzz`).
#[doc(hidden)]
pub mod fuzzing {
    pub use super::csrf::CsrfKey;
    pub use super::form::{Form, decode};
    pub use super::host::allowed as host_allowed;
    pub use super::i18n::Lang;
    pub use super::redirect::safe_destination;
}
