//! Airtel Money collection, as the Airtel Africa developer portal documents it (fixtures in
//! `wallets/tests/fixtures/airtel/`): `POST /auth/oauth2/token` (`expires_in` a string),
//! `POST /merchant/v1/payments/` (the amount a JSON number, the number without its country
//! code, keyed by the merchant's transaction id), `GET /standard/v1/payments/{id}` (status `TS`,
//! `TF`, `TIP`, ...), and the callback POSTed to the one URL in the application's settings, with a
//! `hash` when callback authentication is on.

use std::sync::{Arc, OnceLock};

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockEncryptMut, KeyIvInit};

use base64::Engine as _;
use bytes::Bytes;
use daraja_sim::serve::{Resp, json, read_body};
use hmac::{Hmac, Mac as _};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, StatusCode};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::book::{Endpoint, PayState, PaymentRecord};
use crate::config::AirtelSimConfig;
use crate::shared::{Kind, Shared, header};

pub(crate) fn receipt(seq: u64) -> String {
    format!("MP261204.{:04}.L{:05}", seq / 100_000 % 10_000, seq % 100_000)
}

/// The portal table's words for a response code.
fn describe(code: &str) -> &'static str {
    match code {
        "DP00800001001" => "Transaction is successful.",
        "DP00800001002" => "Incorrect pin has been entered.",
        "DP00800001003" => "The User has exceeded their wallet allowed transaction limit.",
        "DP00800001004" => "The amount User is trying to transfer is less than the minimum amount allowed.",
        "DP00800001005" => "User didn't enter the pin.",
        "DP00800001007" => "User wallet does not have enough money to cover the payable amount.",
        "DP00800001008" => "The transaction was refused.",
        "DP00800001024" => "The transaction was timed out.",
        "DP00800001025" => "Transaction Not Found.",
        _ => "Transaction failed.",
    }
}

/// `{"status": {...}}`, the shape of every answer's status part and of an error's whole body.
fn status_part(code: &str, success: bool, message: &str, response_code: &str, result_code: &str) -> Value {
    json!({"code": code, "message": message, "result_code": result_code, "response_code": response_code, "success": success})
}

fn error(http: StatusCode, response_code: &str, message: &str) -> Resp {
    let code = http.as_u16().to_string();
    json(
        http,
        json!({"status": {"response_code": response_code, "code": code, "success": false, "message": message}})
            .to_string(),
    )
}

pub(crate) async fn route(shared: &Arc<Shared>, req: Request<Incoming>) -> Resp {
    let Kind::Airtel(cfg) = &shared.kind else { unreachable!("routed by kind") };
    let (parts, body) = req.into_parts();
    let Some(body) = read_body(body).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "", "Request too large");
    };
    match (&parts.method, parts.uri.path()) {
        (&Method::POST, "/auth/oauth2/token") => token(shared, cfg, body),
        (&Method::POST, "/merchant/v1/payments/") if cfg.message_signing => {
            // inferred: where signing is enforced, an unsigned v1 payment is refused as unsigned.
            error(StatusCode::FORBIDDEN, "DP00800001026", "Forbidden: X-signature and payload did not match")
        }
        (&Method::POST, "/merchant/v1/payments/") => pay(shared, cfg, &parts.headers, body),
        (&Method::POST, "/merchant/v2/payments/") => match signed(&parts.headers, &body) {
            true => pay(shared, cfg, &parts.headers, body),
            false => error(StatusCode::FORBIDDEN, "DP00800001026", "Forbidden: X-signature and payload did not match"),
        },
        (&Method::GET, "/v1/rsa/encryption-keys") => encryption_key(shared, cfg, &parts.headers),
        (&Method::GET, p) if p.starts_with("/standard/v1/payments/") => {
            enquiry(shared, cfg, &parts.headers, &p["/standard/v1/payments/".len()..])
        }
        _ => error(StatusCode::NOT_FOUND, "", "Not Found"),
    }
}

/// The simulator's RSA key pair for message signing (a test key made for it, `keys/`).
fn signing_key() -> Option<&'static RsaPrivateKey> {
    static KEY: OnceLock<Option<RsaPrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::from_pkcs8_pem(include_str!("../keys/airtel-sim-rsa.pem")).ok()).as_ref()
}

/// `GET /v1/rsa/encryption-keys`: the public key partners sign with.
fn encryption_key(shared: &Shared, cfg: &AirtelSimConfig, h: &HeaderMap) -> Resp {
    if let Some(r) = authorised(shared, cfg, h) {
        return r;
    }
    let der = signing_key().and_then(|k| RsaPublicKey::from(k).to_public_key_der().ok());
    let Some(der) = der else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "DP02010001000", "Error while fetching encryption key");
    };
    let key = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
    json(
        StatusCode::OK,
        json!({
            "data": {"key_id": "sim-key-1", "key": key, "valid_upto": "2030-12-31 23:59:59"},
            "status": status_part("200", true, "Successfully fetched Encryption Key", "DP02010001001", "ESB000010"),
        })
        .to_string(),
    )
}

/// As Airtel checks a v2 request: `x-key` decrypted with the private key gives the AES key and
/// IV; the body encrypted with them must be `x-signature`.
fn signed(h: &HeaderMap, body: &[u8]) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Some(sig), Some(xkey), Some(private)) = (header(h, "x-signature"), header(h, "x-key"), signing_key()) else {
        return false;
    };
    let Some(wrapped) = b64.decode(xkey).ok().and_then(|k| private.decrypt(Pkcs1v15Encrypt, &k).ok()) else {
        return false;
    };
    let Some((k, iv)) = std::str::from_utf8(&wrapped).ok().and_then(|w| w.split_once(':')) else { return false };
    let (Ok(k), Ok(iv)) = (b64.decode(k), b64.decode(iv)) else { return false };
    let (Ok(k), Ok(iv)) = (<[u8; 32]>::try_from(k.as_slice()), <[u8; 16]>::try_from(iv.as_slice())) else {
        return false;
    };
    let expected = cbc::Encryptor::<aes::Aes256>::new(&k.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(body);
    b64.encode(expected) == sig
}

fn fault(shared: &Shared, e: Endpoint) -> Option<Resp> {
    let status = shared.book.hit(e)?;
    Some(error(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        "DP00800001005",
        "Something Went Wrong",
    ))
}

fn token(shared: &Shared, cfg: &AirtelSimConfig, body: Bytes) -> Resp {
    if let Some(r) = fault(shared, Endpoint::Token) {
        return r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    if s("client_id") != Some(cfg.client_id.as_str())
        || s("client_secret") != Some(cfg.client_secret.as_str())
        || s("grant_type") != Some("client_credentials")
    {
        // inferred: the OAuth2 error shape; Airtel's is not in the samples.
        return json(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_client", "error_description": "Access denied"}).to_string(),
        );
    }
    let t = shared.book.issue_token(std::time::Duration::from_secs(cfg.token_lifetime_secs));
    // `expires_in` is a string, as documented.
    json(
        StatusCode::OK,
        json!({"access_token": t, "expires_in": cfg.token_lifetime_secs.to_string(), "token_type": "bearer"})
            .to_string(),
    )
}

/// Bearer token and the merchant's country headers.
fn authorised(shared: &Shared, cfg: &AirtelSimConfig, h: &HeaderMap) -> Option<Resp> {
    let ok = crate::shared::bearer_ok(shared, h);
    if !ok {
        return Some(error(StatusCode::UNAUTHORIZED, "", "Invalid or expired access token"));
    }
    if header(h, "X-Country") != Some(cfg.country.as_str()) || header(h, "X-Currency") != Some(cfg.currency.as_str()) {
        return Some(error(StatusCode::BAD_REQUEST, "", "ROUTER005: country route not configured"));
    }
    None
}

fn pay(shared: &Arc<Shared>, cfg: &AirtelSimConfig, h: &HeaderMap, body: Bytes) -> Resp {
    if let Some(r) = authorised(shared, cfg, h) {
        return r;
    }
    if let Some(r) = fault(shared, Endpoint::Pay) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "", "ESB000008: field validation error");
    };
    let tx = v.get("transaction");
    let sub = v.get("subscriber");
    let get = |o: Option<&Value>, k: &str| o.and_then(|o| o.get(k)).and_then(Value::as_str).map(str::to_string);
    // The amount is a JSON number in every documented sample; a string is a field error here.
    let Some(amount) = tx.and_then(|t| t.get("amount")).filter(|a| a.as_f64().is_some_and(|x| x > 0.0)) else {
        return error(StatusCode::BAD_REQUEST, "", "ESB000008: transaction.amount must be a positive number");
    };
    let Some(id) = get(tx, "id").filter(|i| !i.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "", "ESB000008: transaction.id is required");
    };
    for (o, k) in [(tx, "country"), (sub, "country")] {
        if get(o, k).as_deref() != Some(cfg.country.as_str()) {
            return error(StatusCode::BAD_REQUEST, "", "ESB000034: invalid country");
        }
    }
    for (o, k) in [(tx, "currency"), (sub, "currency")] {
        if get(o, k).as_deref() != Some(cfg.currency.as_str()) {
            return error(StatusCode::BAD_REQUEST, "", "ESB000035: invalid currency");
        }
    }
    // "Do not send country code in msisdn": 9 digits, no leading 0 or country code.
    let Some(msisdn) =
        get(sub, "msisdn").filter(|m| m.len() == 9 && m.bytes().all(|b| b.is_ascii_digit()) && !m.starts_with('0'))
    else {
        return error(StatusCode::BAD_REQUEST, "DP00800001005", "Msisdn Not Found");
    };
    if shared.book.find(&id).is_some() {
        // inferred: a 200 whose result_code says the id exists.
        return json(
            StatusCode::OK,
            json!({"status": status_part("200", false, "External Transaction ID already exists", "", "ESB000041")})
                .to_string(),
        );
    }
    let p = PaymentRecord {
        reference: id.clone(),
        external_id: id.clone(),
        msisdn,
        amount: amount.to_string(),
        currency: cfg.currency.clone(),
        callback_url: cfg.callback_url.clone(),
        state: PayState::Pending,
        delivery: Default::default(),
        callbacks_sent: 0,
    };
    if let Some(status) = crate::shared::take(shared, p, receipt, callback) {
        return error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "DP00800001005",
            "Something Went Wrong",
        );
    }
    json(
        StatusCode::OK,
        json!({
            "data": {"transaction": {"id": id, "status": "SUCCESS"}},
            "status": status_part("200", true, "SUCCESS", "DP00800001006", "ESB000010"),
        })
        .to_string(),
    )
}

fn enquiry(shared: &Shared, cfg: &AirtelSimConfig, h: &HeaderMap, id: &str) -> Resp {
    if let Some(r) = authorised(shared, cfg, h) {
        return r;
    }
    if let Some(r) = fault(shared, Endpoint::Status) {
        return r;
    }
    let Some(p) = shared.book.find(id) else {
        return json(
            StatusCode::OK,
            json!({"status": status_part("200", false, "Transaction Not Found", "DP00800001025", "ESB000045")})
                .to_string(),
        );
    };
    let (tx, status) = match &p.state {
        PayState::Pending => (
            json!({"id": p.reference, "message": "In process", "status": "TIP"}),
            status_part("200", true, "SUCCESS", "DP00800001006", "ESB000010"),
        ),
        // As the portal's sample: `success` false beside a TS.
        PayState::Paid { receipt } => (
            json!({"airtel_money_id": receipt, "id": p.reference, "message": "success", "status": "TS"}),
            status_part("200", false, "SUCCESS", "DP00800001006", "ESB000010"),
        ),
        PayState::Failed { code } => (
            json!({"id": p.reference, "message": describe(code), "status": "TF"}),
            json!({"response_code": code, "code": "200", "success": false, "message": "FAILED"}),
        ),
    };
    json(StatusCode::OK, json!({"data": {"transaction": tx}, "status": status}).to_string())
}

/// The transaction object in the documented key order, compact: what the `hash` is taken over.
fn transaction_json(p: &PaymentRecord) -> String {
    let q = |s: &str| Value::String(s.to_string()).to_string();
    match &p.state {
        PayState::Paid { receipt } => {
            let message = format!("Paid {} {} to SIM MERCHANT, Trans ID {receipt}.", p.currency, p.amount);
            format!(
                r#"{{"id":{},"message":{},"status_code":"TS","airtel_money_id":{}}}"#,
                q(&p.reference),
                q(&message),
                q(receipt)
            )
        }
        PayState::Failed { code } => {
            format!(r#"{{"id":{},"message":{},"status_code":"TF"}}"#, q(&p.reference), q(describe(code)))
        }
        PayState::Pending => format!(r#"{{"id":{},"message":"In process","status_code":"TIP"}}"#, q(&p.reference)),
    }
}

pub(crate) fn callback(http: &reqwest::Client, url: &str, kind: &Kind, p: &PaymentRecord) -> reqwest::RequestBuilder {
    let Kind::Airtel(cfg) = kind else { unreachable!("built by kind") };
    let tx = transaction_json(p);
    let body = match &cfg.callback_key {
        Some(key) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
            mac.update(tx.as_bytes());
            let hash = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
            format!(r#"{{"transaction":{tx},"hash":{}}}"#, Value::String(hash))
        }
        None => format!(r#"{{"transaction":{tx}}}"#),
    };
    http.post(url).header("Content-Type", "application/json").body(body)
}
