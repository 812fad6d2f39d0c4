//! RouterOS API client: a sans-IO codec ([`codec`]), reply/command values ([`sentence`]),
//! a tagged, pipelined async session over TCP or TLS ([`connection`]), a reconnecting handle
//! ([`Client`]), typed hotspot operations ([`ops`]) and typed account operations (PPP secrets,
//! WireGuard peers: [`accounts`]).

pub mod accounts;
pub mod client;
pub mod codec;
pub mod config;
pub mod connection;
pub mod error;
pub mod ops;
pub mod sentence;

pub use accounts::*;
pub use client::Client;
pub use codec::{DecodeError, Decoder, Limits};
pub use config::{API_PORT, API_SSL_PORT, Config, TlsSettings};
pub use connection::{Connection, Listener, Response};
pub use error::{Error, Result, Trap, TrapKind};
pub use ops::*;
pub use sentence::{Attrs, Command, Reply, ReplyKind};
