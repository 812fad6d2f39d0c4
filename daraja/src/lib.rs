//! Safaricom Daraja M-Pesa Express (STK push) client.
//!
//! - [`DarajaClient`]: STK push and STK query, with the OAuth token shared between instances
//!   through a [`TokenStore`] ([`MemoryTokenStore`] here; DynamoDB in the Lambdas).
//! - [`parse_callback`]: the pure parser for the callback body Safaricom POSTs.
//! - [`ResultCode`]: result codes and what the guest is told ([`ResultCode::failure`]).
//! - C2B (Paybill from the subscriber's phone): [`DarajaClient::register_c2b_urls`], [`parse_c2b`]
//!   for the validation and confirmation requests, and their answers.
//!
//! Parsing is tolerant of every real-world shape we know of (see `tests/fixtures/`).

mod c2b;
mod callback;
mod client;
mod json;
mod result_code;
mod timestamp;
mod token;

pub use c2b::{
    C2bError, C2bNotification, C2bRejection, MAX_C2B_BYTES, ResponseType, confirmation_ack, parse_c2b,
    parse_register_response, validation_accept, validation_reject,
};
pub use callback::{CallbackError, CallbackOutcome, MAX_CALLBACK_BYTES, StkCallback, parse_callback};
pub use client::{
    ClientConfig, ConfigError, DarajaClient, DarajaError, Environment, QueryOutcome, RequestError, RetryPolicy, Secret,
    StkPushAccepted, StkPushRequest, TransactionType, parse_oauth_response, parse_push_response, parse_query_response,
};
pub use json::{ApiError, ApiErrorKind};
pub use result_code::ResultCode;
pub use timestamp::{Timestamp, password};
pub use token::{AccessToken, MemoryTokenStore, StoredToken, TokenStore, TokenStoreError};
