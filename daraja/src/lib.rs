//! Safaricom Daraja M-Pesa Express (STK push) client.
//!
//! - [`DarajaClient`]: STK push and STK query, with the OAuth token shared between instances
//!   through a [`TokenStore`] ([`MemoryTokenStore`] here; DynamoDB in the Lambdas).
//! - [`parse_callback`]: the pure parser for the callback body Safaricom POSTs.
//! - [`ResultCode`]: result codes and what the guest is told ([`ResultCode::failure`]).
//!
//! Parsing is tolerant of every real-world shape we know of (see `tests/fixtures/`).

mod callback;
mod client;
mod json;
mod result_code;
mod timestamp;
mod token;

pub use callback::{CallbackError, CallbackOutcome, MAX_CALLBACK_BYTES, StkCallback, parse_callback};
pub use client::{
    ClientConfig, ConfigError, DarajaClient, DarajaError, Environment, QueryOutcome, RequestError, RetryPolicy, Secret,
    StkPushAccepted, StkPushRequest, TransactionType, parse_oauth_response, parse_push_response, parse_query_response,
};
pub use json::{ApiError, ApiErrorKind};
pub use result_code::ResultCode;
pub use timestamp::{Timestamp, password};
pub use token::{AccessToken, MemoryTokenStore, StoredToken, TokenStore, TokenStoreError};
