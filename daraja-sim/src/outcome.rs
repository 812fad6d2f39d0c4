//! A push's outcome: the customer's answer (or the scenario's), the record of it, and the
//! callback it sends (or holds) as the scenario says.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::Shared;
use crate::model::{Answer, CallbackDelivery, CallbackMode, PushRecord, SimResult, result_desc};
use crate::util::{UPPER_DIGITS, eat_now, random_string};

/// Answers a pending prompt as the customer.
pub(crate) fn answer(shared: &Arc<Shared>, checkout_request_id: &str, answer: Answer) -> bool {
    let pending =
        shared.lock().pushes.iter().any(|p| p.checkout_request_id == checkout_request_id && p.result_code.is_none());
    if !pending {
        return false;
    }
    let result = match answer {
        Answer::Pay => SimResult::Paid,
        Answer::Cancel => SimResult::Failed { code: 1032 },
        Answer::WrongPin => SimResult::Failed { code: 2001 },
    };
    finish(shared, checkout_request_id, result)
}

/// Records the result of a push and sends (or holds) its callback as the scenario says.
pub(crate) fn finish(shared: &Arc<Shared>, checkout_request_id: &str, result: SimResult) -> bool {
    let (url, body, mode) = {
        let mut st = shared.lock();
        let Some(p) =
            st.pushes.iter_mut().find(|p| p.checkout_request_id == checkout_request_id && p.result_code.is_none())
        else {
            return false;
        };
        let (code, code_json) = match &result {
            SimResult::Paid | SimResult::PaidBalanceWithoutValue | SimResult::AwaitPhone => {
                ("0".to_string(), "0".to_string())
            }
            SimResult::Failed { code } => (code.to_string(), code.to_string()),
            SimResult::StringCode { code } => (code.clone(), json!(code).to_string()),
        };
        let desc = match &result {
            SimResult::StringCode { .. } => "The transaction could not be completed.".to_string(),
            _ => result_desc(&code).to_string(),
        };
        p.result_code = Some(code.clone());
        p.result_desc = Some(desc.clone());
        let body = callback_body(p, &result, &code_json, &desc);
        let url = p.callback_url.clone();
        let mode = p.scenario.callback;
        if mode == CallbackMode::Held {
            st.held.entry(checkout_request_id.to_string()).or_default().push((url.clone(), body.clone()));
        }
        (url, body, mode)
    };
    let id = checkout_request_id.to_string();
    let sh = shared.clone();
    match mode {
        CallbackMode::Never | CallbackMode::Held => {}
        CallbackMode::Once => {
            tokio::spawn(async move { deliver(&sh, &id, &url, &body).await });
        }
        CallbackMode::Twice => {
            tokio::spawn(async move {
                deliver(&sh, &id, &url, &body).await;
                deliver(&sh, &id, &url, &body).await;
            });
        }
        CallbackMode::Delayed { millis } => {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                deliver(&sh, &id, &url, &body).await;
            });
        }
    }
    true
}

/// Sends held callbacks now.
pub(crate) fn release(shared: &Arc<Shared>, checkout_request_id: &str) -> usize {
    let held = shared.lock().held.remove(checkout_request_id).unwrap_or_default();
    let n = held.len();
    for (url, body) in held {
        let (sh, id) = (shared.clone(), checkout_request_id.to_string());
        tokio::spawn(async move { deliver(&sh, &id, &url, &body).await });
    }
    n
}

async fn deliver(shared: &Shared, checkout_request_id: &str, url: &str, body: &str) {
    let status =
        match shared.http.post(url).header("content-type", "application/json").body(body.to_string()).send().await {
            Ok(r) => Some(r.status().as_u16()),
            Err(e) => {
                tracing::warn!(checkout = %checkout_request_id, error = %e, "callback POST failed");
                None
            }
        };
    shared.lock().callbacks.push(CallbackDelivery {
        checkout_request_id: checkout_request_id.to_string(),
        url: url.to_string(),
        body: body.to_string(),
        status,
    });
}

/// The callback JSON, written by hand so Amount can be `1.00` exactly as Daraja sends it.
fn callback_body(p: &PushRecord, result: &SimResult, code_json: &str, desc: &str) -> String {
    let head = format!(
        r#""MerchantRequestID":{},"CheckoutRequestID":{},"ResultCode":{code_json},"ResultDesc":{}"#,
        json!(p.merchant_request_id),
        json!(p.checkout_request_id),
        json!(desc)
    );
    let receipt = json!(random_string(UPPER_DIGITS, 10));
    let date = eat_now();
    let items = match result {
        SimResult::Paid | SimResult::AwaitPhone => format!(
            r#"{{"Name":"Amount","Value":{}.00}},{{"Name":"MpesaReceiptNumber","Value":{receipt}}},{{"Name":"TransactionDate","Value":{date}}},{{"Name":"PhoneNumber","Value":{}}}"#,
            p.amount, p.phone
        ),
        SimResult::PaidBalanceWithoutValue => format!(
            r#"{{"Name":"Amount","Value":{}}},{{"Name":"MpesaReceiptNumber","Value":{receipt}}},{{"Name":"Balance"}},{{"Name":"TransactionDate","Value":{date}}},{{"Name":"PhoneNumber","Value":{}}}"#,
            p.amount, p.phone
        ),
        SimResult::Failed { .. } | SimResult::StringCode { .. } => String::new(),
    };
    if items.is_empty() {
        format!(r#"{{"Body":{{"stkCallback":{{{head}}}}}}}"#)
    } else {
        format!(r#"{{"Body":{{"stkCallback":{{{head},"CallbackMetadata":{{"Item":[{items}]}}}}}}}}"#)
    }
}
