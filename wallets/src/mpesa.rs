//! M-Pesa through Daraja, behind [`Provider`]: the Daraja client as it is, its answers
//! translated into the neutral shapes. A payment is in whole Kenya shillings from a Kenyan number.

use daraja::{ApiErrorKind, CallbackOutcome, DarajaClient, DarajaError, QueryOutcome, StkPushRequest, TokenStore};
use hotspot_core::currency::{Currency, Money};
use hotspot_core::phone::PhoneNumber;
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{Msisdn, Shillings};

use crate::{Failure, Notification, Outcome, Payment, PaymentRequest, Provider, Started, WalletError};

/// Daraja's AccountReference (shown on the prompt beside the business name): at most 12 ASCII
/// letters, digits, spaces, `-` and `.`.
pub fn account_reference(label: &str) -> String {
    let words: Vec<String> = label
        .split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.').collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    let name: String = words.join(" ").chars().take(12).collect();
    if name.trim().is_empty() { "WiFi".into() } else { name.trim_end().to_string() }
}

/// Daraja's TransactionDesc: at most 13 printable ASCII characters.
fn transaction_desc(description: &str) -> String {
    let ascii: String = description.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(13).collect();
    if ascii.trim().is_empty() { "WiFi".into() } else { ascii.trim().to_string() }
}

/// Whole Kenya shillings, as M-Pesa Express takes an amount.
pub fn shillings(m: Money) -> Result<Shillings, WalletError> {
    if m.currency() != Currency::Kes || !m.minor().is_multiple_of(100) {
        return Err(WalletError::Invalid(format!("M-Pesa Express takes whole Kenya shillings, not {m}")));
    }
    Shillings::new(m.minor() / 100).map_err(|e| WalletError::Invalid(e.to_string()))
}

/// Whole shillings as [`Money`].
pub fn money(s: Shillings) -> Money {
    Money::from_minor(Currency::Kes, u64::from(s.get()) * 100).expect("KES 250,000 is far below Money's limit")
}

fn wallet_error(e: DarajaError) -> WalletError {
    match e.api_kind() {
        Some(ApiErrorKind::WrongCredentials) => return WalletError::WrongCredentials(e.to_string()),
        Some(ApiErrorKind::SubscriberLocked) => {
            return WalletError::Refused {
                failure: PaymentFailure::SubscriberBusy,
                code: e.to_string(),
                message: String::new(),
            };
        }
        _ => {}
    }
    if e.may_have_prompted() || e.is_transient() {
        WalletError::NoAnswer { may_have_prompted: e.may_have_prompted(), why: e.to_string() }
    } else {
        let code = e.to_string();
        WalletError::Refused { failure: PaymentFailure::PromptFailed, code, message: String::new() }
    }
}

/// A Daraja callback's outcome, neutral.
pub fn outcome(o: CallbackOutcome) -> Outcome {
    match o {
        CallbackOutcome::Paid { amount, receipt, phone: payer, .. } => Outcome::Paid(Payment {
            receipt: receipt.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()),
            amount: amount.map(money),
            payer: payer.map(PhoneNumber::from),
        }),
        CallbackOutcome::Failed { code, description } => Outcome::Failed(Failure {
            reason: code.failure().unwrap_or(PaymentFailure::Other),
            code: code.code(),
            description,
        }),
    }
}

/// The Daraja callback body as a [`Notification`].
pub fn parse_callback(body: &[u8]) -> Result<Notification, daraja::CallbackError> {
    let cb = daraja::parse_callback(body)?;
    Ok(Notification { reference: cb.checkout_request_id, outcome: outcome(cb.outcome) })
}

impl<S: TokenStore> Provider for DarajaClient<S> {
    async fn start(&self, req: &PaymentRequest) -> Result<Started, WalletError> {
        let phone = Msisdn::try_from(req.payer.clone())
            .map_err(|_| WalletError::Invalid("M-Pesa Express takes Kenyan numbers only".into()))?;
        let push = StkPushRequest {
            phone,
            amount: shillings(req.amount)?,
            callback_url: req.callback_url.clone(),
            account_reference: account_reference(&req.label),
            transaction_desc: transaction_desc(&req.description),
        };
        let accepted = self.stk_push(&push).await.map_err(wallet_error)?;
        Ok(Started { reference: accepted.checkout_request_id, message: Some(accepted.customer_message) })
    }

    async fn status(&self, reference: &str) -> Result<Outcome, WalletError> {
        Ok(match self.stk_query(reference).await.map_err(wallet_error)? {
            QueryOutcome::Pending => Outcome::Pending,
            QueryOutcome::Paid => Outcome::Paid(Payment::default()),
            QueryOutcome::Failed { code, description } => Outcome::Failed(Failure {
                reason: code.failure().unwrap_or(PaymentFailure::Other),
                code: code.code(),
                description,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fit_darajas_fields() {
        assert_eq!(account_reference("Mama Mboga's Café & WiFi"), "Mama Mbogas");
        assert_eq!(account_reference("☕☕"), "WiFi");
        assert_eq!(transaction_desc("WiFi 24 hours unlimited"), "WiFi 24 hours");
    }

    #[test]
    fn only_whole_shillings_go_to_mpesa() {
        assert_eq!(shillings(Money::parse(Currency::Kes, "50").unwrap()).unwrap().get(), 50);
        assert!(shillings(Money::parse(Currency::Kes, "50.50").unwrap()).is_err());
        assert!(shillings(Money::parse(Currency::Ugx, "500").unwrap()).is_err());
        assert_eq!(money(Shillings::new(20).unwrap()), Money::parse(Currency::Kes, "20").unwrap());
    }
}
