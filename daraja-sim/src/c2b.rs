//! C2B ("Register URL"): a subscriber pays the paybill from their own phone, at any time, with an
//! account number (`BillRefNumber`). The merchant registers two URLs for its shortcode; on a
//! payment M-Pesa POSTs the **validation** request (when external validation is on for the
//! shortcode), waits up to about 8 seconds for `{"ResultCode": "0"}` or a `C2B000xx` rejection,
//! and on acceptance (or on no answer, when the registration's `ResponseType` is `Completed`)
//! completes the payment and POSTs the **confirmation**. Payloads and codes as Daraja documents
//! them (docs/daraja.md, "C2B").

use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::Shared;
use crate::model::{
    C2B_VALIDATION_WAIT as VALIDATION_WAIT, C2bPay, C2bPayment, C2bRegistration, C2bValidation as Validation,
};
use crate::util::{DIGITS, Resp, json, random_string};

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn bad(field: &str) -> Resp {
    let body = json!({
        "requestId": format!("sim-{}", random_string(DIGITS, 8)),
        "errorCode": "400.002.02",
        "errorMessage": format!("Bad Request - Invalid {field}"),
    });
    json(StatusCode::BAD_REQUEST, body.to_string())
}

fn accepted(description: &str) -> Resp {
    let id = format!("{}-{}-1", random_string(DIGITS, 4), random_string(DIGITS, 7));
    // "OriginatorCoversationID": Daraja's own spelling.
    json(
        StatusCode::OK,
        json!({"OriginatorCoversationID": id, "ResponseCode": "0", "ResponseDescription": description}).to_string(),
    )
}

/// `POST /mpesa/c2b/v{1,2}/registerurl`.
pub(crate) fn register(shared: &Shared, body: &Bytes, url_ok: impl Fn(&str) -> bool) -> Resp {
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return bad("JSON") };
    let short_code = text(&v, "ShortCode").unwrap_or_default();
    if short_code != shared.cfg.shortcode {
        return bad("ShortCode");
    }
    let response_type = text(&v, "ResponseType").unwrap_or_default();
    if response_type != "Completed" && response_type != "Cancelled" {
        return bad("ResponseType");
    }
    let mut urls = Vec::new();
    for field in ["ConfirmationURL", "ValidationURL"] {
        let url = text(&v, field).unwrap_or_default();
        // Daraja refuses URLs naming M-Pesa or Safaricom in any case, public URL testers (mockbin,
        // requestbin) and (but for tests) anything not https.
        let lower = url.to_ascii_lowercase();
        let refused = ["mpesa", "m-pesa", "safaricom", "mockbin", "requestbin"];
        if !url_ok(&url) || refused.iter().any(|w| lower.contains(w)) {
            return bad(field);
        }
        urls.push(url);
    }
    let reg =
        C2bRegistration { short_code, response_type, confirmation_url: urls.remove(0), validation_url: urls.remove(0) };
    shared.lock().c2b_urls.insert(reg.short_code.clone(), reg);
    accepted("Success")
}

/// `POST /mpesa/c2b/v{1,2}/simulate` (the sandbox's stand-in for a subscriber paying).
pub(crate) fn simulate(shared: &Arc<Shared>, body: &Bytes) -> Resp {
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return bad("JSON") };
    if text(&v, "ShortCode").as_deref() != Some(shared.cfg.shortcode.as_str()) {
        return bad("ShortCode");
    }
    if text(&v, "CommandID").as_deref() != Some("CustomerPayBillOnline") {
        return bad("CommandID");
    }
    let Some(amount) = text(&v, "Amount").and_then(|a| a.parse::<u32>().ok()).filter(|a| (1..=250_000).contains(a))
    else {
        return bad("Amount");
    };
    let msisdn = text(&v, "Msisdn").unwrap_or_default();
    if msisdn.len() != 12 || !msisdn.starts_with("254") || !msisdn.bytes().all(|b| b.is_ascii_digit()) {
        return bad("Msisdn");
    }
    let bill_ref = text(&v, "BillRefNumber").unwrap_or_default();
    if bill_ref.chars().count() > 20 {
        return bad("BillRefNumber");
    }
    if !shared.lock().c2b_urls.contains_key(&shared.cfg.shortcode) {
        return bad("ShortCode (no URLs registered)");
    }
    let (sh, pay) = (shared.clone(), C2bPay { msisdn, amount, bill_ref });
    tokio::spawn(async move { pay_bill(&sh, pay).await });
    accepted("Accept the service request successfully.")
}

/// The validation and confirmation body: the same fields, the balance only in the confirmation.
fn notification(shared: &Shared, trans_id: &str, p: &C2bPay, balance: &str) -> String {
    json!({
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": crate::util::eat_now(),
        "TransAmount": format!("{}.00", p.amount),
        "BusinessShortCode": shared.cfg.shortcode,
        "BillRefNumber": p.bill_ref,
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": "",
        "MSISDN": masked(&p.msisdn),
        "FirstName": "John",
        "MiddleName": "",
        "LastName": "Doe",
    })
    .to_string()
}

/// C2B v2 masks the payer's number (`254708374149` → `25470****149`, as in Daraja's published
/// sample): a merchant cannot tell the payer by it.
fn masked(msisdn: &str) -> String {
    match (msisdn.get(..5), msisdn.get(msisdn.len().saturating_sub(3)..)) {
        (Some(head), Some(tail)) if msisdn.len() == 12 => format!("{head}****{tail}"),
        _ => "****".into(),
    }
}

/// A subscriber pays the shortcode by Paybill: validation (if on), then completion and the
/// confirmation, or cancellation. Returns the payment as recorded.
pub(crate) async fn pay_bill(shared: &Arc<Shared>, p: C2bPay) -> C2bPayment {
    let reg = shared.lock().c2b_urls.get(&shared.cfg.shortcode).cloned();
    let trans_id = random_string(UPPER_DIGITS, 10);
    let mut rec = C2bPayment {
        trans_id: trans_id.clone(),
        msisdn: p.msisdn.clone(),
        amount: p.amount,
        bill_ref: p.bill_ref.clone(),
        validation: None,
        completed: false,
        confirmation_status: None,
        confirmation: None,
    };
    if let Some(reg) = reg {
        let completed = if shared.cfg.c2b_external_validation {
            let v = validate(shared, &reg.validation_url, &notification(shared, &trans_id, &p, "")).await;
            let go = match &v {
                Validation::Accepted => true,
                Validation::Rejected { .. } => false,
                Validation::NoAnswer => reg.response_type == "Completed",
            };
            rec.validation = Some(v);
            go
        } else {
            true
        };
        if completed {
            rec.completed = true;
            let body = notification(shared, &trans_id, &p, "49197.00");
            rec.confirmation_status = post(shared, &reg.confirmation_url, &body).await.map(|(s, _)| s);
            rec.confirmation = Some(body);
        }
    }
    shared.lock().c2b.push(rec.clone());
    rec
}

async fn post(shared: &Shared, url: &str, body: &str) -> Option<(u16, String)> {
    let send = shared.http.post(url).header("content-type", "application/json").body(body.to_string()).send();
    let resp = tokio::time::timeout(VALIDATION_WAIT, send).await.ok()?.ok()?;
    let status = resp.status().as_u16();
    let text = tokio::time::timeout(VALIDATION_WAIT, resp.text()).await.ok()?.ok()?;
    Some((status, text))
}

async fn validate(shared: &Shared, url: &str, body: &str) -> Validation {
    let Some((200, text)) = post(shared, url, body).await else { return Validation::NoAnswer };
    let Ok(v) = serde_json::from_str::<Value>(&text) else { return Validation::NoAnswer };
    match text_code(&v) {
        Some(c) if c == "0" => Validation::Accepted,
        Some(c) => Validation::Rejected { code: c },
        None => Validation::NoAnswer,
    }
}

/// `ResultCode`, as a string or a number.
fn text_code(v: &Value) -> Option<String> {
    text(v, "ResultCode")
}
