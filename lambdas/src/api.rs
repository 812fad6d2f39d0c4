//! Replies of the HTTP functions, and router authentication for the agent-facing routes.

use hotspot_core::api::{ApiError, codes};
use hotspot_core::reqsig::{self, ReqSigError};
use serde_json::Value;

use hotspot_cloud::store::{RouterRecord, Store, StoreError};

/// An HTTP reply: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// A typed body (`hotspot_core::api` for the agent's routes).
    pub fn json<T: serde::Serialize>(status: u16, body: &T) -> Self {
        // Our reply types hold no maps with non-string keys: serialising them cannot fail.
        Reply { status, body: serde_json::to_value(body).unwrap_or(Value::Null) }
    }

    pub fn ok<T: serde::Serialize>(body: &T) -> Self {
        Reply::json(200, body)
    }

    /// An error with a stable machine-readable code and a sentence a person can act on.
    pub fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Reply::refused(status, &ApiError::new(code, message))
    }

    pub fn refused(status: u16, e: &ApiError) -> Self {
        Reply::json(status, e)
    }

    pub fn unavailable(e: &StoreError) -> Self {
        tracing::error!(error = %e, "storage unavailable");
        Reply::error(503, "unavailable", "The service is busy; try again in a moment.")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Signature(#[from] ReqSigError),
    #[error("router disabled")]
    Disabled,
    #[error("unknown router")]
    UnknownRouter,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    pub fn reply(&self) -> Reply {
        match self {
            AuthError::Store(e) => Reply::unavailable(e),
            // Only after the signature checked out: the router's own agent learns why, to tell guests.
            AuthError::Disabled => {
                Reply::error(403, codes::ROUTER_DISABLED, "This hotspot is not selling WiFi right now. Ask the staff.")
            }
            // One answer for every authentication failure: a prober learns nothing.
            _ => Reply::error(401, "unauthorized", "Request signature refused."),
        }
    }
}

/// A request as the HTTP function sees it.
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub body: &'a [u8],
}

/// Establishes which router is calling, from its signature with its own key.
pub async fn authenticate(store: &Store, req: &Incoming<'_>, now: i64) -> Result<RouterRecord, AuthError> {
    let router_id = reqsig::claimed_router((req.header)(reqsig::HEADER_ROUTER).as_deref())?;
    let router = store.get_router(&router_id).await?.ok_or(AuthError::UnknownRouter)?;
    let parts = reqsig::Request { method: req.method, path: req.path, router: &router.id, body: req.body };
    let (time, sig) = ((req.header)(reqsig::HEADER_TIME), (req.header)(reqsig::HEADER_SIGNATURE));
    // During a key rotation either key is accepted; the events function retires the old one
    // when the router's first report under the new one arrives.
    router.verify_signed(
        |key| reqsig::verify(key, &parts, time.as_deref(), sig.as_deref(), now),
        |e| matches!(e, ReqSigError::BadSignature),
    )?;
    if router.disabled_at.is_some() {
        tracing::warn!(router_id = %router.id, "request from a disabled router refused");
        return Err(AuthError::Disabled);
    }
    Ok(router)
}

pub fn not_found(what: &str) -> Reply {
    Reply::error(404, "not_found", format!("No such {what}."))
}

pub fn bad_request(message: impl Into<String>) -> Reply {
    Reply::error(400, "bad_request", message)
}

/// Reads a small JSON body into a typed request; the error names the bad field.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8], max: usize) -> Result<T, Reply> {
    if body.len() > max {
        return Err(Reply::error(413, "too_large", format!("Request body over {max} bytes.")));
    }
    serde_json::from_slice(body).map_err(|e| bad_request(format!("Invalid request: {e}")))
}
