//! The captive portal guests see before they are online. Its pages and languages are
//! `portal_pages`'s (shared with the cloud portal); the serving, forms and rules are here.

pub mod backend;
mod form;
mod handlers;
pub mod host;
mod plumbing;
mod ratelimit;
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
    pub use super::form::{Form, decode};
    pub use super::host::allowed as host_allowed;
    pub use portal_pages::csrf::CsrfKey;
    pub use portal_pages::i18n::Lang;
    pub use portal_pages::redirect::safe_destination;
}
