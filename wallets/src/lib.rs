//! One interface over the mobile-money wallets a guest pays from: M-Pesa through Daraja,
//! Airtel Money through the Airtel Africa Open API, MTN MoMo through the MoMo Collection API.
//!
//! - [`Provider`]: start a payment (phone, amount, reference) and get the provider's reference
//!   for it; ask its [`Outcome`] (reconciliation, a guest waiting on a lost notification).
//! - Each provider's notification parser (`mpesa::parse_callback`, [`airtel::parse_callback`],
//!   [`mtn::parse_callback`]) gives a [`Notification`]: the reference and the outcome.
//! - Outcomes are provider-neutral: paid (receipt, amount in the currency's minor units, payer),
//!   failed with a reason from our list ([`PaymentFailure`]) and the provider's own code, or pending.
//!
//! The HTTP calls are thin shells; every body is read by a pure `parse_*` function tested on
//! the providers' documented payloads (`tests/fixtures/`).

pub mod airtel;
mod http;
pub mod mpesa;
pub mod mtn;
mod outcome;
pub mod signing;
mod token;

/// A credential; `Debug` is redacted (Daraja's, the same for every wallet).
pub use daraja::Secret;
pub use outcome::{Failure, Notification, Outcome, Payment, PaymentRequest, Started, WalletError};
pub use token::TokenCache;

pub use hotspot_core::wire::PaymentFailure;

use std::future::Future;

/// A payment provider: what the purchase, the status read and the reconciler call.
pub trait Provider: Send + Sync {
    /// Sends the payment prompt to the payer's phone. `Ok`: the provider took it, under the
    /// reference it returns (which its notification and status query carry).
    fn start(&self, req: &PaymentRequest) -> impl Future<Output = Result<Started, WalletError>> + Send;

    /// Where the payment stands, by the provider's reference.
    fn status(&self, reference: &str) -> impl Future<Output = Result<Outcome, WalletError>> + Send;
}
