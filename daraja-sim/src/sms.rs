//! A stand-in for Africa's Talking's SMS API (`POST /version1/messaging`), so SMS receipts can be
//! tested and seen locally: it checks the `apiKey` header and the form fields as the real API
//! does, answers in the documented shape (`SMSMessageData.Recipients[].statusCode` 101 Success),
//! and keeps every message. It lives beside the Daraja simulator because both play the guest's
//! phone. `GET /` shows the inbox.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::{Method, StatusCode};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::util::{self, html_escape, json, read_body, respond};

pub const SMS_USERNAME: &str = "sandbox";
pub const SMS_API_KEY: &str = "atsk_local_simulator_key";

/// How the simulator answers the next sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsMode {
    /// 201 with statusCode 101 (Success).
    Deliver,
    /// 201 with statusCode 405 (InsufficientBalance): the account is out of credit.
    OutOfCredit,
    /// 500, as during an outage.
    ServerError,
    /// Never answers (a hung upstream): the sender's timeout must fire.
    Hang,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    pub to: String,
    pub message: String,
    pub from: Option<String>,
    pub message_id: String,
}

#[derive(Default)]
struct Inbox {
    messages: Vec<SmsMessage>,
    attempts: usize,
}

pub struct SmsSim {
    addr: SocketAddr,
    inbox: Arc<Mutex<Inbox>>,
    mode: Arc<Mutex<SmsMode>>,
    task: JoinHandle<()>,
}

impl SmsSim {
    pub async fn start() -> std::io::Result<SmsSim> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let inbox: Arc<Mutex<Inbox>> = Arc::default();
        let mode = Arc::new(Mutex::new(SmsMode::Deliver));
        let (ib, md) = (inbox.clone(), mode.clone());
        let task = tokio::spawn(util::serve_with(listener, move |req| {
            let (ib, md) = (ib.clone(), md.clone());
            async move {
                match (req.method().clone(), req.uri().path()) {
                    (Method::POST, "/version1/messaging") => {}
                    (Method::GET, "/") => return respond(StatusCode::OK, "text/html; charset=utf-8", inbox_page(&ib)),
                    _ => return json(StatusCode::NOT_FOUND, r#"{"error":"not found"}"#.into()),
                }
                let key_ok = req.headers().get("apikey").and_then(|v| v.to_str().ok()) == Some(SMS_API_KEY);
                let Some(body) = read_body(req.into_body()).await else {
                    return json(StatusCode::PAYLOAD_TOO_LARGE, "{}".into());
                };
                let mode = *md.lock().unwrap_or_else(|p| p.into_inner());
                lock(&ib).attempts += 1;
                if !key_ok {
                    return respond(StatusCode::UNAUTHORIZED, "text/plain", "The supplied authentication is invalid");
                }
                let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
                let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let (Some(username), Some(to), Some(message)) = (field("username"), field("to"), field("message"))
                else {
                    return respond(StatusCode::BAD_REQUEST, "text/plain", "Request is missing required form field");
                };
                if username != SMS_USERNAME {
                    return respond(StatusCode::UNAUTHORIZED, "text/plain", "The supplied authentication is invalid");
                }
                match mode {
                    SmsMode::Hang => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return json(StatusCode::GATEWAY_TIMEOUT, "{}".into());
                    }
                    SmsMode::ServerError => return json(StatusCode::INTERNAL_SERVER_ERROR, "{}".into()),
                    SmsMode::OutOfCredit => {
                        let r = json!({"SMSMessageData": {"Message": "Sent to 0/1 Total Cost: 0", "Recipients": [
                            {"statusCode": 405, "number": to, "status": "InsufficientBalance", "cost": "0", "messageId": "None"}
                        ]}});
                        return json(StatusCode::CREATED, r.to_string());
                    }
                    SmsMode::Deliver => {}
                }
                // A number in international form, in any country Africa's Talking reaches (its own
                // Node SDK checks `to` against /^\+\d{1,3}\d{3,}$/): +254…, +256…, +233….
                let valid = to
                    .strip_prefix('+')
                    .is_some_and(|d| (4..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
                if !valid {
                    let r = json!({"SMSMessageData": {"Message": "Sent to 0/1 Total Cost: 0", "Recipients": [
                        {"statusCode": 403, "number": to, "status": "InvalidPhoneNumber", "cost": "0", "messageId": "None"}
                    ]}});
                    return json(StatusCode::CREATED, r.to_string());
                }
                let message_id = format!("ATXid_{}", util::random_string(b"0123456789abcdef", 32));
                lock(&ib).messages.push(SmsMessage {
                    to: to.clone(),
                    message,
                    from: field("from"),
                    message_id: message_id.clone(),
                });
                let r = json!({"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients": [
                    {"statusCode": 101, "number": to, "status": "Success", "cost": "KES 0.8000", "messageId": message_id}
                ]}});
                json(StatusCode::CREATED, r.to_string())
            }
        }));
        Ok(SmsSim { addr, inbox, mode, task })
    }

    /// The base URL to configure as `AT_ENV`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn messages(&self) -> Vec<SmsMessage> {
        lock(&self.inbox).messages.clone()
    }

    /// Send requests received, delivered or not.
    pub fn attempts(&self) -> usize {
        lock(&self.inbox).attempts
    }

    pub fn set_mode(&self, mode: SmsMode) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
    }
}

impl Drop for SmsSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(m: &Mutex<Inbox>) -> std::sync::MutexGuard<'_, Inbox> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn inbox_page(inbox: &Mutex<Inbox>) -> String {
    let rows: String = lock(inbox)
        .messages
        .iter()
        .rev()
        .map(|m| format!("<li><b>{}</b><br>{}</li>", html_escape(&m.to), html_escape(&m.message)))
        .collect();
    format!(
        "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><meta http-equiv=refresh content=3><title>SMS inbox</title><h1>SMS inbox</h1><ul>{}</ul>",
        if rows.is_empty() { "<li>No messages yet.</li>".to_string() } else { rows }
    )
}
