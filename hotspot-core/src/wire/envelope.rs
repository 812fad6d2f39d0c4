//! Signing and verifying messages.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::canonical::canonical_json;
use super::messages::{Direction, MessageType, Payload};
use crate::{MessageId, RouterId, RouterKey};

pub const WIRE_VERSION: u64 = 1;
/// SQS's own message limit; anything larger is not ours.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Clocks drift; a message issued further ahead than this is refused.
pub const MAX_FUTURE_SKEW_SECS: i64 = 300;
const DOMAIN: &[u8] = b"hotspot-wire/v1\n";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message is not a well-formed wire message: {0}")]
    Malformed(String),
    #[error("unknown wire version {0} (this build speaks version {WIRE_VERSION})")]
    UnknownVersion(u64),
    #[error("bad signature")]
    BadSignature,
    #[error("message is for router {got}, not {expected}")]
    WrongRouter { expected: String, got: String },
    #[error("message is stale: not_after {not_after} has passed (now {now})")]
    Stale { not_after: i64, now: i64 },
    #[error("message issued in the future: issued_at {issued_at}, now {now}")]
    FromFuture { issued_at: i64, now: i64 },
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("message type {0:?} does not travel in this direction")]
    WrongDirection(String),
}

/// A verified (or to-be-signed) message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: MessageId,
    pub router_id: RouterId,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; after this the message must not take effect.
    pub not_after: i64,
    pub payload: Payload,
}

/// The exact bytes the HMAC covers for an unsigned message object.
pub fn signing_input(unsigned: &Value) -> Result<Vec<u8>, WireError> {
    let body = canonical_json(unsigned).map_err(|e| WireError::Malformed(e.to_string()))?;
    let mut input = Vec::with_capacity(DOMAIN.len() + body.len());
    input.extend_from_slice(DOMAIN);
    input.extend_from_slice(&body);
    Ok(input)
}

/// Signs any message object (without `sig`) as a signer of any version would: the HMAC covers
/// the whole canonical object, fields this build does not know included. `Envelope::sign` is
/// this for the messages it knows; tests use it to play a newer peer.
pub fn sign_value(mut unsigned: Value, key: &RouterKey) -> Result<String, WireError> {
    let input = signing_input(&unsigned)?;
    let mut mac = mac_for(key);
    mac.update(&input);
    let sig = hex::encode(mac.finalize().into_bytes());
    match &mut unsigned {
        Value::Object(m) => m.insert("sig".into(), Value::from(sig)),
        _ => return Err(WireError::Malformed("a message is a JSON object".into())),
    };
    let text = canonical_json(&unsigned).map_err(|e| WireError::Malformed(e.to_string()))?;
    String::from_utf8(text).map_err(|e| WireError::Malformed(e.to_string()))
}

fn mac_for(key: &RouterKey) -> Hmac<Sha256> {
    // HMAC takes keys of any length; 32 bytes cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length")
}

impl Envelope {
    pub fn new(id: MessageId, router_id: RouterId, issued_at: i64, ttl_secs: i64, payload: Payload) -> Self {
        Envelope { id, router_id, issued_at, not_after: issued_at.saturating_add(ttl_secs), payload }
    }

    /// The message as a JSON object, without `sig`.
    pub fn to_unsigned_value(&self) -> Value {
        let tagged = serde_json::to_value(&self.payload).expect("payloads always serialize");
        let mut m = Map::new();
        m.insert("v".into(), Value::from(WIRE_VERSION));
        m.insert("id".into(), Value::from(self.id.as_str()));
        m.insert("router_id".into(), Value::from(self.router_id.as_str()));
        m.insert("issued_at".into(), Value::from(self.issued_at));
        m.insert("not_after".into(), Value::from(self.not_after));
        if let Value::Object(t) = tagged {
            for (k, v) in t {
                m.insert(k, v);
            }
        }
        Value::Object(m)
    }

    /// Signs with the router's key; returns the message text to send (canonical form plus `sig`).
    pub fn sign(&self, key: &RouterKey) -> String {
        sign_value(self.to_unsigned_value(), key).expect("typed payloads hold no floats")
    }

    /// Verifies a received message. Checks, in order: size and shape, version, signature,
    /// router, freshness, type and direction, body. Each failure has its own error.
    pub fn verify(
        text: &[u8],
        key: &RouterKey,
        expected_router: &RouterId,
        now: i64,
        direction: Direction,
    ) -> Result<Envelope, WireError> {
        Self::check(text, key, expected_router, Some(now), direction)
    }

    /// As `verify`, but without the freshness checks: for a message verified when it arrived and
    /// kept since (the agent's journal), whose `not_after` may have passed while it waited.
    pub fn verify_kept(
        text: &[u8],
        key: &RouterKey,
        expected_router: &RouterId,
        direction: Direction,
    ) -> Result<Envelope, WireError> {
        Self::check(text, key, expected_router, None, direction)
    }

    fn check(
        text: &[u8],
        key: &RouterKey,
        expected_router: &RouterId,
        now: Option<i64>,
        direction: Direction,
    ) -> Result<Envelope, WireError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(WireError::Malformed(format!(
                "{} bytes is over the {MAX_MESSAGE_BYTES}-byte limit",
                text.len()
            )));
        }
        let v: Value = serde_json::from_slice(text).map_err(|e| WireError::Malformed(e.to_string()))?;
        let Value::Object(mut obj) = v else {
            return Err(WireError::Malformed("not a JSON object".into()));
        };
        match obj.get("v") {
            Some(Value::Number(n)) => match n.as_u64() {
                Some(WIRE_VERSION) => {}
                Some(other) => return Err(WireError::UnknownVersion(other)),
                None => return Err(WireError::Malformed("v is not a version number".into())),
            },
            _ => return Err(WireError::Malformed("missing version field v".into())),
        }
        let sig_hex = match obj.remove("sig") {
            Some(Value::String(s)) => s,
            _ => return Err(WireError::BadSignature),
        };
        let mut sig = [0u8; 32];
        hex::decode_to_slice(sig_hex.as_bytes(), &mut sig).map_err(|_| WireError::BadSignature)?;
        let unsigned = Value::Object(obj);
        let input = signing_input(&unsigned)?;
        let mut mac = mac_for(key);
        mac.update(&input);
        mac.verify_slice(&sig).map_err(|_| WireError::BadSignature)?;

        let Value::Object(mut obj) = unsigned else { unreachable!("built as an object above") };
        let field_str = |obj: &Map<String, Value>, k: &str| -> Result<String, WireError> {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| WireError::Malformed(format!("missing string field {k}")))
        };
        let field_int = |obj: &Map<String, Value>, k: &str| -> Result<i64, WireError> {
            obj.get(k).and_then(Value::as_i64).ok_or_else(|| WireError::Malformed(format!("missing integer field {k}")))
        };
        let router = field_str(&obj, "router_id")?;
        if router != expected_router.as_str() {
            return Err(WireError::WrongRouter { expected: expected_router.to_string(), got: router });
        }
        let issued_at = field_int(&obj, "issued_at")?;
        let not_after = field_int(&obj, "not_after")?;
        if let Some(now) = now {
            if now > not_after {
                return Err(WireError::Stale { not_after, now });
            }
            if issued_at > now.saturating_add(MAX_FUTURE_SKEW_SECS) {
                return Err(WireError::FromFuture { issued_at, now });
            }
        }
        let ty = field_str(&obj, "type")?;
        let Ok(kind) = ty.parse::<MessageType>() else { return Err(WireError::UnknownType(ty)) };
        if kind.direction() != direction {
            return Err(WireError::WrongDirection(ty));
        }
        let id: MessageId =
            field_str(&obj, "id")?.parse().map_err(|e: crate::IdError| WireError::Malformed(e.to_string()))?;
        let mut tagged = Map::new();
        tagged.insert("type".into(), Value::from(ty));
        tagged.insert("body".into(), obj.remove("body").unwrap_or(Value::Null));
        let payload: Payload =
            serde_json::from_value(Value::Object(tagged)).map_err(|e| WireError::Malformed(format!("body: {e}")))?;
        Ok(Envelope { id, router_id: expected_router.clone(), issued_at, not_after, payload })
    }

    /// Reads the id of a message that failed verification, so the rejection can be reported.
    pub fn peek_id(text: &[u8]) -> Option<MessageId> {
        Self::peek(text, "id")
    }

    /// The router an unverified message claims to come from, to pick the key that then decides
    /// whether that is true.
    pub fn peek_router(text: &[u8]) -> Option<RouterId> {
        Self::peek(text, "router_id")
    }

    fn peek<T: std::str::FromStr>(text: &[u8], field: &str) -> Option<T> {
        if text.len() > MAX_MESSAGE_BYTES {
            return None;
        }
        let v: Value = serde_json::from_slice(text).ok()?;
        v.get(field)?.as_str()?.parse().ok()
    }
}
