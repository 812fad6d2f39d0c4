//! What a guest reads before they are online: the portal's pages (mobile-first, inline CSS, no
//! external assets, usable without JavaScript) and their languages. One home for both portals:
//! the agent's on the router and the cloud's for routers in RADIUS mode (`docs/radius.md`).

pub mod account;
pub mod csrf;
pub mod escape;
pub mod i18n;
pub mod pages;
pub mod redirect;
