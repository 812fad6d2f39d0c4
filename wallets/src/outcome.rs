//! What every provider's answers come to: the same few provider-neutral shapes.

use hotspot_core::currency::Money;
use hotspot_core::phone::PhoneNumber;
use hotspot_core::wire::PaymentFailure;

/// A payment to ask for.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    pub payer: PhoneNumber,
    pub amount: Money,
    /// Our own id for the payment (the purchase's): unique, ASCII letters, digits and `-`. Airtel
    /// and MTN key their answers by it; Daraja has its own id.
    pub reference: String,
    /// What the payer's prompt says the payment is for: the hotspot's name.
    pub label: String,
    /// What is bought: the package's name (M-Pesa's TransactionDesc, MTN's note to the payee).
    pub description: String,
    /// The notification URL, secret path included.
    pub callback_url: String,
}

/// A prompt the provider took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The provider's key for the payment: its notification and status query carry it
    /// (Daraja's CheckoutRequestID; our reference for Airtel; the X-Reference-Id for MTN).
    pub reference: String,
    /// The provider's own words for the guest, when it has any.
    pub message: Option<String>,
}

/// Where a payment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not decided yet (the payer has not answered, or the provider is still processing).
    Pending,
    Paid(Payment),
    Failed(Failure),
}

/// A payment made. Each part is what the provider said, when it said it: a status query of
/// Daraja has no receipt, and an amount is checked against the price by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payment {
    /// The provider's transaction id the payer sees in their SMS.
    pub receipt: Option<String>,
    pub amount: Option<Money>,
    pub payer: Option<PhoneNumber>,
}

/// A payment that did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: PaymentFailure,
    /// The provider's own code (`1032`, `TF`/`DP00800001005`, `APPROVAL_REJECTED`), for support.
    pub code: String,
    pub description: String,
}

/// A provider's notification: which payment, and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// As [`Started::reference`].
    pub reference: String,
    pub outcome: Outcome,
}

/// A call that got no decision.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The provider refused the request: no prompt went out.
    #[error("refused ({code}): {message}")]
    Refused { failure: PaymentFailure, code: String, message: String },
    /// The provider refused our credentials: no guest can pay until the operator fixes them.
    #[error("our credentials were refused: {0}")]
    WrongCredentials(String),
    /// No answer the provider meant (transport, timeout, 5xx, rate limit, a body we cannot read).
    /// `may_have_prompted`: the request may have reached the provider, so the payer may have a
    /// prompt; a start is then not retried.
    #[error("no answer: {why}")]
    NoAnswer { may_have_prompted: bool, why: String },
    /// Our own request was not one the provider takes (nothing was sent).
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl WalletError {
    pub fn may_have_prompted(&self) -> bool {
        matches!(self, WalletError::NoAnswer { may_have_prompted: true, .. })
    }

    /// The same error from a call that cannot prompt anyone (a token, a status query).
    pub(crate) fn not_prompting(self) -> WalletError {
        match self {
            WalletError::NoAnswer { why, .. } => WalletError::NoAnswer { may_have_prompted: false, why },
            e => e,
        }
    }

    pub(crate) fn unreadable(what: &str, status: u16, may_have_prompted: bool) -> WalletError {
        WalletError::NoAnswer { may_have_prompted, why: format!("{what}: HTTP {status} with a body we cannot read") }
    }
}
