//! What a test (or the phone-number convention) chooses for a push, and what the simulator records.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a push ends and how its callback is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub result: SimResult,
    #[serde(default)]
    pub callback: CallbackMode,
}

/// The push's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SimResult {
    /// Paid; the callback's Amount is written `N.00`.
    Paid,
    /// Paid; integer Amount and a `{"Name":"Balance"}` item with no Value.
    PaidBalanceWithoutValue,
    /// Failed with this numeric ResultCode (1, 17, 1019, 1025, 1032, 1037, 2001, 2028, 9999...).
    Failed { code: u32 },
    /// Failed with a ResultCode sent as a JSON string, e.g. `SFC_IC0003`.
    StringCode { code: String },
    /// Stays pending until someone answers on the phone page or through [`crate::DarajaSim::answer`].
    AwaitPhone,
}

/// How the callback for a finished push is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallbackMode {
    #[default]
    Once,
    /// Never sent: only STK query reveals the result.
    Never,
    /// Sent twice, one after the other.
    Twice,
    /// Sent after a delay (for hand demos; tests should prefer `Held`).
    Delayed { millis: u64 },
    /// Kept until [`crate::DarajaSim::release_callbacks`] (or `POST /sim/release`): a delay the test controls.
    Held,
}

impl Scenario {
    pub fn paid() -> Self {
        Scenario { result: SimResult::Paid, callback: CallbackMode::Once }
    }
    pub fn failed(code: u32) -> Self {
        Scenario { result: SimResult::Failed { code }, callback: CallbackMode::Once }
    }
    pub fn string_code(code: &str) -> Self {
        Scenario { result: SimResult::StringCode { code: code.into() }, callback: CallbackMode::Once }
    }
    pub fn paid_balance_without_value() -> Self {
        Scenario { result: SimResult::PaidBalanceWithoutValue, callback: CallbackMode::Once }
    }
    pub fn await_phone() -> Self {
        Scenario { result: SimResult::AwaitPhone, callback: CallbackMode::Once }
    }
    pub fn with_callback(mut self, callback: CallbackMode) -> Self {
        self.callback = callback;
        self
    }

    /// The hand-demo convention: the last four digits of the phone number choose the outcome
    /// (documented in docs/daraja.md). Anything else waits for the phone page.
    pub fn for_phone(msisdn: &str) -> Self {
        let tail = &msisdn[msisdn.len().saturating_sub(4)..];
        match tail {
            "0000" => Scenario::paid(),
            "0100" => Scenario::paid().with_callback(CallbackMode::Never),
            "0200" => Scenario::paid().with_callback(CallbackMode::Twice),
            "0300" => Scenario::paid().with_callback(CallbackMode::Delayed { millis: 10_000 }),
            "0400" => Scenario::string_code("SFC_IC0003"),
            "0500" => Scenario::paid_balance_without_value(),
            "0001" => Scenario::failed(1),
            "0017" => Scenario::failed(17),
            "1019" | "1025" | "1032" | "1037" | "2001" | "2028" | "9999" => {
                Scenario::failed(tail.parse().unwrap_or(9999))
            }
            _ => Scenario::await_phone(),
        }
    }
}

/// An answer given on the phone (page or control API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Pay,
    Cancel,
    WrongPin,
}

/// A fault injected in front of one endpoint, used once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this status and body instead of handling the request.
    Respond { status: u16, body: String },
    /// Wait, then handle the request normally (a push is still accepted: its answer is just late).
    Delay { millis: u64 },
}

impl Fault {
    /// `500.003.02` spike arrest, as Daraja sends it.
    pub fn spike_arrest() -> Self {
        Fault::Respond {
            status: 500,
            body: r#"{"requestId":"sim-spike","errorCode":"500.003.02","errorMessage":"Spike arrest violation"}"#
                .into(),
        }
    }
    /// A bare gateway error with no JSON body.
    pub fn service_unavailable() -> Self {
        Fault::Respond { status: 503, body: "Service Unavailable".into() }
    }
    pub fn delay(d: Duration) -> Self {
        Fault::Delay { millis: d.as_millis() as u64 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    #[serde(rename = "oauth")]
    OAuth,
    StkPush,
    StkQuery,
    C2bRegister,
    C2bSimulate,
}

/// A request the simulator received, whatever its path.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub body: String,
}

/// An accepted push as the simulator keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct PushRecord {
    pub checkout_request_id: String,
    pub merchant_request_id: String,
    pub phone: String,
    pub amount: u32,
    pub business_short_code: String,
    pub party_b: String,
    pub transaction_type: String,
    pub account_reference: String,
    pub transaction_desc: String,
    pub callback_url: String,
    pub scenario: Scenario,
    /// `None` while the customer has not answered; then the ResultCode as sent.
    pub result_code: Option<String>,
    pub result_desc: Option<String>,
}

/// One callback POST the simulator made.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackDelivery {
    pub checkout_request_id: String,
    pub url: String,
    pub body: String,
    /// The receiver's HTTP status, or `None` if the POST failed.
    pub status: Option<u16>,
}

/// The documented description for a result code.
pub fn result_desc(code: &str) -> &'static str {
    match code {
        "0" => "The service request is processed successfully.",
        "1" => "The balance is insufficient for the transaction.",
        "17" => "Rule limited.",
        "1019" => "Transaction has expired",
        "1025" => "An error occurred while sending a push request",
        "1032" => "Request cancelled by user",
        "1037" => "DS timeout user cannot be reached",
        "2001" => "The initiator information is invalid.",
        "2028" => "The request is not permitted according to product assignment",
        "9999" => "An error occurred while sending a push request.",
        _ => "The transaction failed.",
    }
}

// C2B (docs/daraja.md, "C2B"): the shapes the simulator records.

/// How long M-Pesa waits for the validation answer.
pub const C2B_VALIDATION_WAIT: Duration = Duration::from_secs(8);

/// A shortcode's registered URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct C2bRegistration {
    pub short_code: String,
    /// `Completed` or `Cancelled`: what happens when the validation URL does not answer.
    pub response_type: String,
    pub confirmation_url: String,
    pub validation_url: String,
}

/// What the merchant's validation URL said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum C2bValidation {
    Accepted,
    /// A `C2B000xx` code (or anything not `0`).
    Rejected {
        code: String,
    },
    /// No answer in time, an error status or a body that is not the documented JSON.
    NoAnswer,
}

/// One C2B payment as the simulator made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct C2bPayment {
    pub trans_id: String,
    pub msisdn: String,
    pub amount: u32,
    pub bill_ref: String,
    /// `None` when external validation is off for the shortcode.
    pub validation: Option<C2bValidation>,
    pub completed: bool,
    /// The confirmation URL's HTTP status (`None`: not sent, or the POST failed).
    pub confirmation_status: Option<u16>,
    /// The confirmation's body, as sent.
    pub confirmation: Option<String>,
}

/// What a subscriber's Paybill payment is: from `msisdn`, `amount` shillings, account `bill_ref`.
#[derive(Debug, Clone)]
pub struct C2bPay {
    pub msisdn: String,
    pub amount: u32,
    pub bill_ref: String,
}
