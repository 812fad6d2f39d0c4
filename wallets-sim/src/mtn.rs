//! MTN MoMo Collection, as `momodeveloper.mtn.com` documents it: `POST /collection/token/` (Basic
//! API user and key, plus the subscription key), `POST /collection/v1_0/requesttopay` (202, no body;
//! keyed by `X-Reference-Id`), `GET /collection/v1_0/requesttopay/{referenceId}`, and the status
//! body sent to `X-Callback-Url` when the payer answers.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use daraja_sim::serve::{Resp, json, read_body};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::book::{Endpoint, PayState, PaymentRecord};
use crate::config::MtnSimConfig;
use crate::shared::{Kind, Shared, header};

pub(crate) fn receipt(seq: u64) -> String {
    format!("{}", 1_000_000_000 + seq)
}

fn error(status: StatusCode, code: &str, message: &str) -> Resp {
    json(status, json!({"code": code, "message": message}).to_string())
}

/// A UUID in its hyphenated text form.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) async fn route(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    let Kind::Mtn(cfg) = &shared.kind else { unreachable!("routed by kind") };
    let (parts, body) = req.into_parts();
    let Some(body) = read_body(body).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST", "Body too large.");
    };
    let path = parts.uri.path();
    // APIM checks the subscription key before anything else, in its own error shape.
    if header(&parts.headers, "Ocp-Apim-Subscription-Key") != Some(cfg.subscription_key.as_str()) {
        return json(
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}).to_string(),
        );
    }
    match (&parts.method, path) {
        (&Method::POST, "/collection/token/") => token(shared, cfg, &parts.headers),
        (&Method::POST, "/collection/v1_0/requesttopay") => request_to_pay(shared, cfg, &parts.headers, body),
        (&Method::GET, p) if p.starts_with("/collection/v1_0/requesttopay/") => {
            status(shared, cfg, &parts.headers, &p["/collection/v1_0/requesttopay/".len()..])
        }
        _ => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "Requested resource was not found."),
    }
}

fn fault(shared: &Shared, e: Endpoint) -> Option<Resp> {
    let status = shared.book.hit(e)?;
    let code = if status == 503 { "SERVICE_UNAVAILABLE" } else { "INTERNAL_PROCESSING_ERROR" };
    Some(error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), code, "Injected fault."))
}

fn token(shared: &Shared, cfg: &MtnSimConfig, h: &HeaderMap) -> Resp {
    if let Some(r) = fault(shared, Endpoint::Token) {
        return r;
    }
    let want = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", cfg.api_user, cfg.api_key));
    if header(h, "Authorization") != Some(format!("Basic {want}").as_str()) {
        return json(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "login_failed"}).to_string());
    }
    let t = shared.book.issue_token(std::time::Duration::from_secs(cfg.token_lifetime_secs));
    json(
        StatusCode::OK,
        json!({"access_token": t, "token_type": "access_token", "expires_in": cfg.token_lifetime_secs}).to_string(),
    )
}

/// Bearer token and target environment, as every API call needs them.
fn authorised(shared: &Shared, cfg: &MtnSimConfig, h: &HeaderMap) -> Option<Resp> {
    let ok = crate::shared::bearer_ok(shared, h);
    if !ok {
        return Some(json(
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "message": "Access denied due to invalid access token."}).to_string(),
        ));
    }
    if header(h, "X-Target-Environment") != Some(cfg.target_environment.as_str()) {
        return Some(error(
            StatusCode::FORBIDDEN,
            "NOT_ALLOWED_TARGET_ENVIRONMENT",
            "Access to target environment is forbidden.",
        ));
    }
    None
}

fn request_to_pay(shared: &Arc<Shared>, cfg: &MtnSimConfig, h: &HeaderMap, body: Bytes) -> Resp {
    if let Some(r) = authorised(shared, cfg, h) {
        return r;
    }
    if let Some(r) = fault(shared, Endpoint::Pay) {
        return r;
    }
    let Some(reference) = header(h, "X-Reference-Id").filter(|r| is_uuid(r)) else {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "X-Reference-Id must be a UUID.");
    };
    if shared.book.find(reference).is_some() {
        return error(
            StatusCode::CONFLICT,
            "RESOURCE_ALREADY_EXIST",
            "Duplicated reference id. Creation of resource failed.",
        );
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "Request body is not valid JSON.");
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    // Amounts are strings in this API; a JSON number is refused.
    let Some(amount) = s("amount").filter(|a| !a.is_empty() && a.parse::<f64>().is_ok_and(|x| x > 0.0)) else {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "amount must be a positive number in a string.");
    };
    if s("currency").as_deref() != Some(cfg.currency.as_str()) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "INVALID_CURRENCY", "Currency not supported.");
    }
    let payer = v.get("payer");
    let party = |k: &str| payer.and_then(|p| p.get(k)).and_then(Value::as_str);
    let Some(msisdn) = party("partyId").filter(|p| {
        party("partyIdType") == Some("MSISDN") && p.bytes().all(|b| b.is_ascii_digit()) && (8..=15).contains(&p.len())
    }) else {
        return error(StatusCode::BAD_REQUEST, "PAYER_NOT_FOUND", "Payer partyId is not a valid MSISDN.");
    };
    for k in ["payerMessage", "payeeNote"] {
        match s(k) {
            Some(t) if t.contains('&') => {
                return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "Special characters are not allowed.");
            }
            Some(t) if !t.trim().is_empty() => {}
            _ => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_PROCESSING_ERROR",
                    "An internal error occurred.",
                );
            }
        }
    }
    let callback_url = header(h, "X-Callback-Url").map(str::to_string);
    if let Some(u) = &callback_url
        && !(u.starts_with("http://") || u.starts_with("https://"))
    {
        return error(StatusCode::BAD_REQUEST, "INVALID_CALLBACK_URL_HOST", "Callback URL host is not valid.");
    }
    let p = PaymentRecord {
        reference: reference.to_string(),
        external_id: s("externalId").unwrap_or_default(),
        msisdn: msisdn.to_string(),
        amount,
        currency: cfg.currency.clone(),
        callback_url,
        state: PayState::Pending,
        delivery: Default::default(),
        callbacks_sent: 0,
    };
    if let Some(status) = crate::shared::take(shared, p, receipt, callback) {
        return error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "INTERNAL_PROCESSING_ERROR",
            "Injected fault.",
        );
    }
    daraja_sim::serve::respond(StatusCode::ACCEPTED, "application/json", "")
}

/// The status body, as the status query and the callback send it.
pub(crate) fn status_body(cfg: &MtnSimConfig, p: &PaymentRecord) -> Value {
    let mut v = json!({
        "amount": p.amount,
        "currency": p.currency,
        "externalId": p.external_id,
        "payer": {"partyIdType": "MSISDN", "partyId": p.msisdn},
        "payerMessage": "WiFi",
        "payeeNote": p.external_id,
    });
    match &p.state {
        PayState::Pending => v["status"] = json!("PENDING"),
        PayState::Paid { receipt } => {
            v["status"] = json!("SUCCESSFUL");
            v["financialTransactionId"] = json!(receipt);
        }
        PayState::Failed { code } => {
            v["status"] = json!("FAILED");
            v["reason"] =
                if cfg.reason_as_object { json!({"code": code, "message": reason_message(code)}) } else { json!(code) };
        }
    }
    v
}

fn reason_message(code: &str) -> &'static str {
    match code {
        "APPROVAL_REJECTED" => "The payer rejected the request.",
        "NOT_ENOUGH_FUNDS" => "The payer does not have enough funds.",
        "EXPIRED" => "The request expired before the payer answered.",
        "PAYER_NOT_FOUND" => "The payer was not found.",
        _ => "The transaction failed.",
    }
}

fn status(shared: &Shared, cfg: &MtnSimConfig, h: &HeaderMap, reference: &str) -> Resp {
    if let Some(r) = authorised(shared, cfg, h) {
        return r;
    }
    if let Some(r) = fault(shared, Endpoint::Status) {
        return r;
    }
    match shared.book.find(reference) {
        Some(p) => json(StatusCode::OK, status_body(cfg, &p).to_string()),
        None => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "Requested resource was not found."),
    }
}

pub(crate) fn callback(http: &reqwest::Client, url: &str, kind: &Kind, p: &PaymentRecord) -> reqwest::RequestBuilder {
    let Kind::Mtn(cfg) = kind else { unreachable!("built by kind") };
    let rb = if cfg.callback_post { http.post(url) } else { http.put(url) };
    rb.header("Content-Type", "application/json").body(status_body(cfg, p).to_string())
}
