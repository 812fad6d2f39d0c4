//! Typed errors returned by the client.

use std::time::Duration;

use crate::codec::{DecodeError, EncodeError};
use crate::sentence::ReplyError;

/// What a `!trap` message means, for the messages the agent must react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrapKind {
    /// `failure: already have user with this name for this server` and similar duplicates.
    AlreadyExists,
    /// `no such item`.
    NoSuchItem,
    /// `input does not match any value of profile`.
    UnknownProfile,
    /// `invalid user name or password (6)` at login.
    InvalidLogin,
    /// `/cancel` or a timeout interrupted the command (category 2).
    Interrupted,
    Other,
}

impl TrapKind {
    pub fn classify(message: &str, category: Option<u8>) -> TrapKind {
        let m = message.to_ascii_lowercase();
        if category == Some(2) || m == "interrupted" {
            TrapKind::Interrupted
        } else if m.contains("already have") || m.contains("already exists") {
            TrapKind::AlreadyExists
        } else if m.contains("no such item") {
            TrapKind::NoSuchItem
        } else if m.contains("does not match any value of profile") {
            TrapKind::UnknownProfile
        } else if m.starts_with("invalid user name or password") || m.starts_with("cannot log in") {
            TrapKind::InvalidLogin
        } else {
            TrapKind::Other
        }
    }
}

/// A `!trap` reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("router refused {command}: {message}{}", category.map(|c| format!(" (category {c})")).unwrap_or_default())]
pub struct Trap {
    pub command: String,
    pub message: String,
    pub category: Option<u8>,
    pub kind: TrapKind,
}

impl Trap {
    /// The trap a `!trap` reply's attributes describe, for `command`.
    pub fn from_attrs(command: &str, attrs: &crate::sentence::Attrs) -> Trap {
        let message = attrs.get("message").cloned().unwrap_or_default();
        let category = attrs.get("category").and_then(|c| c.parse().ok());
        let kind = TrapKind::classify(&message, category);
        Trap { command: command.to_string(), message, category, kind }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("login as {user:?} failed: {message}")]
    Login { user: String, message: String },
    #[error(transparent)]
    Trap(#[from] Trap),
    #[error("router closed the session: {0}")]
    Fatal(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    #[error("not connected to the router (reconnecting: {0})")]
    NotConnected(String),
    #[error("{command} got no reply within {timeout:?} (cancelled)")]
    Timeout { command: String, timeout: Duration },
    #[error("router sent bytes that are not the API protocol: {0}")]
    Decode(#[from] DecodeError),
    #[error("cannot encode command: {0}")]
    Encode(#[from] EncodeError),
    #[error("router sent an unexpected reply: {0}")]
    Protocol(String),
    #[error("router value for {field} is not valid: {detail}")]
    Field { field: &'static str, detail: String },
    #[error("client is shut down")]
    Closed,
}

impl From<ReplyError> for Error {
    fn from(e: ReplyError) -> Self {
        Error::Protocol(e.to_string())
    }
}

impl Error {
    /// The trap kind, when this error is a `!trap`.
    pub fn trap_kind(&self) -> Option<&TrapKind> {
        match self {
            Error::Trap(t) => Some(&t.kind),
            _ => None,
        }
    }

    /// True when the command may not have reached the router or its outcome is unknown,
    /// so a caller should check state and retry rather than treat it as a refusal.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::ConnectionLost(_)
                | Error::NotConnected(_)
                | Error::Timeout { .. }
                | Error::Fatal(_)
                | Error::Decode(_)
                | Error::Tls(_)
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_real_messages() {
        let cases = [
            ("failure: already have user with this name for this server", None, TrapKind::AlreadyExists),
            ("input does not match any value of profile", None, TrapKind::UnknownProfile),
            ("no such item", None, TrapKind::NoSuchItem),
            ("invalid user name or password (6)", None, TrapKind::InvalidLogin),
            ("interrupted", Some(2), TrapKind::Interrupted),
            ("something else", Some(1), TrapKind::Other),
        ];
        for (m, c, k) in cases {
            assert_eq!(TrapKind::classify(m, c), k, "{m}");
        }
    }
}
