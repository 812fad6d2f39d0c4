//! Tolerant reading of Daraja JSON: keys in camelCase or PascalCase, numbers as strings, and
//! the documented error body.

use serde_json::Value;

/// `obj[name]`, falling back to an ASCII case-insensitive match (`errorCode` / `ErrorCode`).
pub(crate) fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// A scalar as text: strings trimmed, integers as digits, whole floats without the `.0`.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else if let Some(i) = n.as_i64() {
                Some(i.to_string())
            } else {
                let f = n.as_f64()?;
                // 20191219102115.0 must read as the integer it is, not "2.0191219102115e13".
                if f.fract() == 0.0 && f.abs() < 1e15 { Some(format!("{}", f as i64)) } else { Some(f.to_string()) }
            }
        }
        _ => None,
    }
}

/// `text(field(v, name))`, and `None` for an empty string.
pub(crate) fn text_field(v: &Value, name: &str) -> Option<String> {
    field(v, name).and_then(text).filter(|s| !s.is_empty())
}

/// The documented error body `{"requestId","errorCode","errorMessage"}`, in either key case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub request_id: Option<String>,
    pub error_code: String,
    pub error_message: String,
}

/// What an [`ApiError`] means for the caller. `500.001.1001` has several meanings, so it is
/// told apart by its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// `404.001.03`: the token is invalid or expired (a newer token may have replaced it).
    InvalidToken,
    /// `400.002.02`: a request field is invalid.
    InvalidField,
    /// `500.003.02`: spike arrest (rate limited); nothing was processed.
    SpikeArrest,
    /// `500.001.1001` "The transaction is being processed": the customer has not answered yet.
    StillProcessing,
    /// `500.001.1001` "Unable to lock subscriber...": a prompt is already open on that phone.
    SubscriberLocked,
    /// `500.001.1001` "Wrong credentials": Password/Timestamp or passkey wrong.
    WrongCredentials,
    /// `500.001.1001` "Merchant does not exist".
    MerchantNotFound,
    /// `400.008.01` / `400.008.02`: bad OAuth credentials or grant type.
    BadOAuthRequest,
    Other,
}

impl ApiError {
    /// Reads an error body; `None` if there is no error code in it.
    pub fn from_json(v: &Value) -> Option<Self> {
        let error_code = text_field(v, "errorCode")?;
        Some(ApiError {
            request_id: text_field(v, "requestId"),
            error_code,
            error_message: text_field(v, "errorMessage").unwrap_or_default(),
        })
    }

    pub fn kind(&self) -> ApiErrorKind {
        let msg = self.error_message.to_ascii_lowercase();
        match self.error_code.as_str() {
            "404.001.03" => ApiErrorKind::InvalidToken,
            "400.002.02" => ApiErrorKind::InvalidField,
            "500.003.02" => ApiErrorKind::SpikeArrest,
            "400.008.01" | "400.008.02" => ApiErrorKind::BadOAuthRequest,
            "500.001.1001" if msg.contains("being processed") => ApiErrorKind::StillProcessing,
            "500.001.1001" if msg.contains("lock subscriber") => ApiErrorKind::SubscriberLocked,
            "500.001.1001" if msg.contains("wrong credentials") => ApiErrorKind::WrongCredentials,
            "500.001.1001" if msg.contains("merchant does not exist") => ApiErrorKind::MerchantNotFound,
            _ => ApiErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_of_scalars() {
        assert_eq!(text(&json!("  3599 ")).as_deref(), Some("3599"));
        assert_eq!(text(&json!(3599)).as_deref(), Some("3599"));
        assert_eq!(text(&json!(-1)).as_deref(), Some("-1"));
        assert_eq!(text(&json!(20191219102115.0)).as_deref(), Some("20191219102115"));
        assert_eq!(text(&json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(text(&json!(null)), None);
        assert_eq!(text(&json!({})), None);
    }

    #[test]
    fn error_kinds() {
        let e =
            |code: &str, msg: &str| ApiError { request_id: None, error_code: code.into(), error_message: msg.into() };
        assert_eq!(e("500.001.1001", "The transaction is being processed").kind(), ApiErrorKind::StillProcessing);
        assert_eq!(e("500.001.1001", "Wrong credentials").kind(), ApiErrorKind::WrongCredentials);
        assert_eq!(e("500.001.1001", "Merchant does not exist").kind(), ApiErrorKind::MerchantNotFound);
        assert_eq!(
            e(
                "500.001.1001",
                "Unable to lock subscriber, a transaction is already in process for the current subscriber"
            )
            .kind(),
            ApiErrorKind::SubscriberLocked
        );
        assert_eq!(e("500.001.1001", "something new").kind(), ApiErrorKind::Other);
        assert_eq!(e("404.001.03", "Invalid Access Token").kind(), ApiErrorKind::InvalidToken);
        assert_eq!(e("500.003.02", "Spike arrest violation").kind(), ApiErrorKind::SpikeArrest);
    }
}
