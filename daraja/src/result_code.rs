//! Daraja `ResultCode`s for M-Pesa Express and what a guest should be told about each.

use std::fmt;

use hotspot_core::wire::PaymentFailure;

/// The outcome code of an STK push, from the callback or from STK query.
///
/// Codes arrive as numbers (`1032`) or strings (`"1032"`, `"SFC_IC0003"`); anything not
/// listed is kept verbatim in [`ResultCode::Other`] for support.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// 0: paid.
    Success,
    /// 1: the customer's balance was not enough.
    InsufficientFunds,
    /// 17: the same amount to the same customer within 2 minutes.
    TooSoon,
    /// 26: "System busy", M-Pesa's traffic-blocking condition.
    SystemBusy,
    /// 1001: "Unable to lock subscriber": another prompt or USSD session is open on the phone.
    SubscriberLocked,
    /// `SFC_IC0003`: the number is not a Safaricom M-Pesa subscriber.
    NotSafaricom,
    /// 1019: the prompt expired before the customer answered.
    Expired,
    /// 1025: the prompt could not be sent.
    PushError,
    /// 9999: the prompt could not be sent (another documented form).
    PushErrorGeneric,
    /// 1032: the customer cancelled.
    Cancelled,
    /// 1037: the phone could not be reached.
    PhoneUnreachable,
    /// 2001: wrong PIN (documented as "initiator information is invalid").
    WrongPin,
    /// 2028: the shortcode does not allow this TransactionType / PartyB (a merchant misconfiguration).
    NotPermitted,
    /// Any other code, exactly as received.
    Other(String),
}

impl ResultCode {
    /// Reads a code as it appears on the wire (already turned into text); surrounding blanks are ignored.
    pub fn parse(raw: &str) -> Self {
        let t = raw.trim();
        // Numeric codes may come as "0", "1032" or even "01032"; compare their value.
        let n = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) { t.parse::<u64>().ok() } else { None };
        match n {
            Some(0) => ResultCode::Success,
            Some(1) => ResultCode::InsufficientFunds,
            Some(17) => ResultCode::TooSoon,
            Some(26) => ResultCode::SystemBusy,
            Some(1001) => ResultCode::SubscriberLocked,
            Some(1019) => ResultCode::Expired,
            Some(1025) => ResultCode::PushError,
            Some(9999) => ResultCode::PushErrorGeneric,
            Some(1032) => ResultCode::Cancelled,
            Some(1037) => ResultCode::PhoneUnreachable,
            Some(2001) => ResultCode::WrongPin,
            Some(2028) => ResultCode::NotPermitted,
            _ if t.eq_ignore_ascii_case("SFC_IC0003") => ResultCode::NotSafaricom,
            _ => ResultCode::Other(t.to_string()),
        }
    }

    /// The code as Daraja writes it.
    pub fn code(&self) -> String {
        match self {
            ResultCode::Success => "0".into(),
            ResultCode::InsufficientFunds => "1".into(),
            ResultCode::TooSoon => "17".into(),
            ResultCode::SystemBusy => "26".into(),
            ResultCode::SubscriberLocked => "1001".into(),
            ResultCode::NotSafaricom => "SFC_IC0003".into(),
            ResultCode::Expired => "1019".into(),
            ResultCode::PushError => "1025".into(),
            ResultCode::PushErrorGeneric => "9999".into(),
            ResultCode::Cancelled => "1032".into(),
            ResultCode::PhoneUnreachable => "1037".into(),
            ResultCode::WrongPin => "2001".into(),
            ResultCode::NotPermitted => "2028".into(),
            ResultCode::Other(s) => s.clone(),
        }
    }

    pub fn is_success(&self) -> bool {
        *self == ResultCode::Success
    }

    /// What the guest is told, or `None` for a successful payment.
    pub fn failure(&self) -> Option<PaymentFailure> {
        Some(match self {
            ResultCode::Success => return None,
            ResultCode::InsufficientFunds => PaymentFailure::InsufficientFunds,
            ResultCode::TooSoon => PaymentFailure::TooSoon,
            ResultCode::SystemBusy => PaymentFailure::SystemBusy,
            ResultCode::SubscriberLocked => PaymentFailure::SubscriberBusy,
            ResultCode::NotSafaricom => PaymentFailure::NotMpesa,
            ResultCode::Expired => PaymentFailure::Expired,
            ResultCode::PushError | ResultCode::PushErrorGeneric => PaymentFailure::PromptFailed,
            ResultCode::Cancelled => PaymentFailure::Cancelled,
            ResultCode::PhoneUnreachable => PaymentFailure::PhoneUnreachable,
            ResultCode::WrongPin => PaymentFailure::WrongPin,
            ResultCode::NotPermitted | ResultCode::Other(_) => PaymentFailure::Other,
        })
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_maps_to_its_guest_reason() {
        let table: &[(&str, Option<PaymentFailure>)] = &[
            ("0", None),
            ("1", Some(PaymentFailure::InsufficientFunds)),
            ("17", Some(PaymentFailure::TooSoon)),
            ("1019", Some(PaymentFailure::Expired)),
            ("1025", Some(PaymentFailure::PromptFailed)),
            ("9999", Some(PaymentFailure::PromptFailed)),
            ("1032", Some(PaymentFailure::Cancelled)),
            ("1037", Some(PaymentFailure::PhoneUnreachable)),
            ("2001", Some(PaymentFailure::WrongPin)),
            ("2028", Some(PaymentFailure::Other)),
            ("SFC_IC0003", Some(PaymentFailure::NotMpesa)),
            ("26", Some(PaymentFailure::SystemBusy)),
            ("1001", Some(PaymentFailure::SubscriberBusy)),
            ("4999", Some(PaymentFailure::Other)),
        ];
        for (raw, want) in table {
            let code = ResultCode::parse(raw);
            assert_eq!(code.failure(), *want, "{raw}");
            assert_eq!(code.code(), *raw, "code kept for {raw}");
        }
    }

    #[test]
    fn numeric_forms_compare_by_value() {
        assert_eq!(ResultCode::parse(" 1032 "), ResultCode::Cancelled);
        assert_eq!(ResultCode::parse("01032"), ResultCode::Cancelled);
        assert_eq!(ResultCode::parse("00"), ResultCode::Success);
        assert_eq!(ResultCode::parse(""), ResultCode::Other(String::new()));
        assert_eq!(ResultCode::parse("99999999999999999999999"), ResultCode::Other("99999999999999999999999".into()));
    }
}
