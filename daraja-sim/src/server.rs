//! Request routing and the Daraja endpoints.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::model::{Answer, Endpoint, Fault, PushRecord, RecordedRequest, Scenario, SimResult};
use crate::outcome::{answer, finish, release};
use crate::util::{self, DIGITS, Resp, eat_now, json, random_string, read_body, respond};
use crate::{Shared, c2b, phone};

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    util::serve_with(listener, move |req| handle(shared.clone(), req)).await
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Resp {
    let (parts, body) = req.into_parts();
    let Some(body) = read_body(body).await else {
        return respond(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", "body too large");
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let authorization =
        parts.headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    shared.lock().requests.push(RecordedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        authorization: authorization.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let endpoint = match (&parts.method, path.as_str()) {
        (&Method::GET, "/oauth/v1/generate") => Some(Endpoint::OAuth),
        (&Method::POST, "/mpesa/stkpush/v1/processrequest") => Some(Endpoint::StkPush),
        (&Method::POST, "/mpesa/stkpushquery/v1/query") => Some(Endpoint::StkQuery),
        (&Method::POST, "/mpesa/c2b/v1/registerurl" | "/mpesa/c2b/v2/registerurl") => Some(Endpoint::C2bRegister),
        (&Method::POST, "/mpesa/c2b/v1/simulate" | "/mpesa/c2b/v2/simulate") => Some(Endpoint::C2bSimulate),
        _ => None,
    };
    if let Some(ep) = endpoint {
        let fault = shared.lock().faults.get_mut(&ep).and_then(|q| q.pop_front());
        match fault {
            Some(Fault::Respond { status, body }) => {
                return json(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body);
            }
            Some(Fault::Delay { millis }) => tokio::time::sleep(Duration::from_millis(millis)).await,
            None => {}
        }
        let auth = authorization.as_deref().unwrap_or("");
        return match ep {
            Endpoint::OAuth => oauth(&shared, query.as_deref().unwrap_or(""), auth),
            Endpoint::StkPush => stk_push(&shared, auth, &body),
            Endpoint::StkQuery => stk_query(&shared, auth, &body),
            Endpoint::C2bRegister | Endpoint::C2bSimulate if !bearer_ok(&shared, auth) => {
                error(&shared, "404.001.03", "Invalid Access Token")
            }
            Endpoint::C2bRegister => c2b::register(&shared, &body, |u| callback_url_ok(&shared, u)),
            Endpoint::C2bSimulate => c2b::simulate(&shared, &body),
        };
    }
    match (&parts.method, path.as_str()) {
        (&Method::GET, "/phone") => phone::page(&shared),
        (&Method::POST, "/phone/answer") => phone::answer_form(&shared, &body),
        (&Method::GET, "/sim/requests") => json(StatusCode::OK, to_json(&shared.lock().requests)),
        (&Method::GET, "/sim/pushes") => json(StatusCode::OK, to_json(&shared.lock().pushes)),
        (&Method::GET, "/sim/callbacks") => json(StatusCode::OK, to_json(&shared.lock().callbacks)),
        (&Method::POST, "/sim/scenarios") => control(&body, |s: Scenario| {
            shared.lock().scenarios.push_back(s);
            true
        }),
        (&Method::POST, "/sim/faults") => control(&body, |f: FaultControl| {
            shared.lock().faults.entry(f.endpoint).or_default().push_back(f.fault);
            true
        }),
        (&Method::POST, "/sim/answer") => {
            control(&body, |a: AnswerControl| answer(&shared, &a.checkout_request_id, a.answer))
        }
        (&Method::POST, "/sim/release") => {
            control(&body, |r: ReleaseControl| release(&shared, &r.checkout_request_id) > 0)
        }
        (&Method::POST, "/sim/expire-tokens") => {
            shared.lock().tokens.clear();
            json(StatusCode::OK, r#"{"ok":true}"#.into())
        }
        _ => respond(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

#[derive(serde::Deserialize)]
struct FaultControl {
    endpoint: Endpoint,
    fault: Fault,
}

#[derive(serde::Deserialize)]
struct AnswerControl {
    checkout_request_id: String,
    answer: Answer,
}

#[derive(serde::Deserialize)]
struct ReleaseControl {
    checkout_request_id: String,
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Runs a control action on a JSON body: 200 if it applied, 404 if its target is unknown, 400 if the body is bad.
fn control<T: serde::de::DeserializeOwned>(body: &Bytes, f: impl FnOnce(T) -> bool) -> Resp {
    match serde_json::from_slice::<T>(body).map(f) {
        Ok(true) => json(StatusCode::OK, r#"{"ok":true}"#.into()),
        Ok(false) => json(StatusCode::NOT_FOUND, r#"{"ok":false,"error":"no such pending push"}"#.into()),
        Err(e) => json(StatusCode::BAD_REQUEST, json!({"ok": false, "error": e.to_string()}).to_string()),
    }
}

/// Daraja's error body; the HTTP status is the code's first part (`404.001.03` → 404).
fn error(shared: &Shared, code: &str, message: &str) -> Resp {
    let status = code.split('.').next().and_then(|s| s.parse::<u16>().ok()).unwrap_or(500);
    let request_id = format!("sim-{}", random_string(DIGITS, 8));
    let body = if shared.cfg.pascal_case_errors {
        json!({"RequestId": request_id, "ErrorCode": code, "ErrorMessage": message})
    } else {
        json!({"requestId": request_id, "errorCode": code, "errorMessage": message})
    };
    json(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body.to_string())
}

fn oauth(shared: &Shared, query: &str, auth: &str) -> Resp {
    let grant_ok =
        form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "grant_type" && v == "client_credentials");
    if !grant_ok {
        return error(shared, "400.008.02", "Invalid grant type passed");
    }
    let creds = auth
        .strip_prefix("Basic ")
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let expected = format!("{}:{}", shared.cfg.consumer_key, shared.cfg.consumer_secret);
    if creds.as_deref() != Some(expected.as_str()) {
        return error(shared, "400.008.01", "Invalid Authentication passed");
    }
    let token = random_string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 28);
    {
        let mut st = shared.lock();
        if shared.cfg.new_token_invalidates_old {
            st.tokens.clear();
        }
        st.tokens.insert(token.clone(), tokio::time::Instant::now() + shared.cfg.token_lifetime);
    }
    let secs = shared.cfg.token_lifetime.as_secs();
    let expires_in = if shared.cfg.expires_in_as_number { json!(secs) } else { json!(secs.to_string()) };
    json(StatusCode::OK, json!({"access_token": token, "expires_in": expires_in}).to_string())
}

fn bearer_ok(shared: &Shared, auth: &str) -> bool {
    let Some(t) = auth.strip_prefix("Bearer ") else { return false };
    let mut st = shared.lock();
    match st.tokens.get(t.trim()) {
        Some(exp) if *exp > tokio::time::Instant::now() => true,
        Some(_) => {
            st.tokens.remove(t.trim());
            false
        }
        None => false,
    }
}

/// A field as text, whether Daraja's caller sent it as a string or a number.
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_msisdn(s: &str) -> bool {
    s.len() == 12 && (s.starts_with("2547") || s.starts_with("2541")) && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_shortcode(s: &str) -> bool {
    (5..=9).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn callback_url_ok(shared: &Shared, url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else { return false };
    match (u.scheme(), u.host()) {
        ("https", Some(_)) => true,
        ("http", Some(host)) if shared.cfg.allow_http_loopback_callbacks => match host {
            url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        },
        _ => false,
    }
}

/// Checks BusinessShortCode, Timestamp and Password the way Daraja does; `Some` is the error answer.
fn check_credentials(shared: &Shared, v: &Value) -> Option<Resp> {
    let bad = |field: &str| Some(error(shared, "400.002.02", &format!("Bad Request - Invalid {field}")));
    let Some(shortcode) = text(v, "BusinessShortCode").filter(|s| is_shortcode(s)) else {
        return bad("BusinessShortCode");
    };
    if shortcode != shared.cfg.shortcode {
        return Some(error(shared, "500.001.1001", "Merchant does not exist"));
    }
    let Some(ts) = text(v, "Timestamp").filter(|t| util::valid_timestamp(t)) else { return bad("Timestamp") };
    let expected = STANDARD.encode(format!("{shortcode}{}{ts}", shared.cfg.passkey));
    if text(v, "Password").as_deref() != Some(expected.as_str()) {
        return Some(error(shared, "500.001.1001", "Wrong credentials"));
    }
    None
}

/// What every M-Pesa Express call checks first, in Daraja's order: the token, the JSON, the
/// shortcode/password pair. The request's JSON, or the error reply.
fn authorized_request(shared: &Shared, auth: &str, body: &Bytes) -> Result<Value, Box<Resp>> {
    if !bearer_ok(shared, auth) {
        return Err(Box::new(error(shared, "404.001.03", "Invalid Access Token")));
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err(Box::new(error(shared, "400.002.02", "Bad Request - Invalid JSON")));
    };
    match check_credentials(shared, &v) {
        Some(r) => Err(Box::new(r)),
        None => Ok(v),
    }
}

fn stk_push(shared: &Arc<Shared>, auth: &str, body: &Bytes) -> Resp {
    let v = match authorized_request(shared, auth, body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let bad = |field: &str| error(shared, "400.002.02", &format!("Bad Request - Invalid {field}"));
    let Some(tx_type) =
        text(&v, "TransactionType").filter(|t| t == "CustomerPayBillOnline" || t == "CustomerBuyGoodsOnline")
    else {
        return bad("TransactionType");
    };
    // Whole shillings only: "1", 1 and 1.0 pass; 1.5 and 0 do not.
    let amount = text(&v, "Amount")
        .and_then(|a| a.parse::<f64>().ok())
        .filter(|a| a.fract() == 0.0 && (1.0..=250_000.0).contains(a));
    let Some(amount) = amount.map(|a| a as u32) else { return bad("Amount") };
    let Some(_party_a) = text(&v, "PartyA").filter(|p| is_msisdn(p)) else { return bad("PartyA") };
    let Some(party_b) = text(&v, "PartyB").filter(|p| is_shortcode(p)) else { return bad("PartyB") };
    let Some(phone) = text(&v, "PhoneNumber").filter(|p| is_msisdn(p)) else { return bad("PhoneNumber") };
    let Some(callback_url) = text(&v, "CallBackURL").filter(|u| callback_url_ok(shared, u)) else {
        return bad("CallBackURL");
    };
    let len_ok = |s: &String, max: usize| (1..=max).contains(&s.chars().count());
    let Some(account_reference) = text(&v, "AccountReference").filter(|s| len_ok(s, 12)) else {
        return bad("AccountReference");
    };
    let Some(transaction_desc) = text(&v, "TransactionDesc").filter(|s| len_ok(s, 13)) else {
        return bad("TransactionDesc");
    };
    let business_short_code = shared.cfg.shortcode.clone();

    let mut st = shared.lock();
    // Daraja refuses a second prompt while one is open on the same phone.
    if st.pushes.iter().any(|p| p.phone == phone && p.result_code.is_none()) {
        drop(st);
        return error(
            shared,
            "500.001.1001",
            "Unable to lock subscriber, a transaction is already in process for the current subscriber",
        );
    }
    let mut scenario = match st.scenarios.pop_front() {
        Some(s) => s,
        None if shared.cfg.phone_conventions => Scenario::for_phone(&phone),
        None => Scenario::await_phone(),
    };
    // A paybill push must pay the paybill; anything else ends in 2028 like the real thing.
    if tx_type == "CustomerPayBillOnline" && party_b != business_short_code {
        scenario.result = SimResult::Failed { code: 2028 };
    }
    st.seq += 1;
    let merchant_request_id = format!("{}-{}-1", random_string(DIGITS, 5), 30_000_000 + st.seq);
    let checkout_request_id = format!("ws_CO_{}{}", eat_now(), random_string(DIGITS, 10));
    let record = PushRecord {
        checkout_request_id: checkout_request_id.clone(),
        merchant_request_id: merchant_request_id.clone(),
        phone,
        amount,
        business_short_code,
        party_b,
        transaction_type: tx_type,
        account_reference,
        transaction_desc,
        callback_url,
        scenario: scenario.clone(),
        result_code: None,
        result_desc: None,
    };
    st.pushes.push(record);
    drop(st);
    if scenario.result != SimResult::AwaitPhone {
        finish(shared, &checkout_request_id, scenario.result);
    }
    tracing::info!(checkout = %checkout_request_id, "STK push accepted");
    json(
        StatusCode::OK,
        json!({
            "MerchantRequestID": merchant_request_id,
            "CheckoutRequestID": checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        })
        .to_string(),
    )
}

fn stk_query(shared: &Shared, auth: &str, body: &Bytes) -> Resp {
    let v = match authorized_request(shared, auth, body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let id = text(&v, "CheckoutRequestID").unwrap_or_default();
    let found = shared.lock().pushes.iter().find(|p| p.checkout_request_id == id).cloned();
    let Some(p) = found else {
        return error(shared, "400.002.02", "Bad Request - Invalid CheckoutRequestID");
    };
    let Some(code) = p.result_code else {
        return error(shared, "500.001.1001", "The transaction is being processed");
    };
    // STK query sends ResultCode as a string, unlike the callback.
    json(
        StatusCode::OK,
        json!({
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": p.merchant_request_id,
            "CheckoutRequestID": p.checkout_request_id,
            "ResultCode": code,
            "ResultDesc": p.result_desc.unwrap_or_default(),
        })
        .to_string(),
    )
}
