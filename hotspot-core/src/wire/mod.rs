//! The signed router↔cloud wire contract (version 1). See `docs/wire-contract.md`.
//!
//! Every message is a JSON object
//! `{"v":1,"type":…,"id":…,"router_id":…,"issued_at":…,"not_after":…,"body":{…},"sig":…}`
//! where `sig` is HMAC-SHA256 with the router's key over
//! `"hotspot-wire/v1\n"` followed by the canonical encoding of the object without `sig`.

mod canonical;
mod envelope;
mod messages;

pub use canonical::{CanonicalError, canonical_json};
pub use envelope::{
    Envelope, MAX_FUTURE_SKEW_SECS, MAX_MESSAGE_BYTES, WIRE_VERSION, WireError, sign_value, signing_input,
};
pub use messages::*;
