//! The simulator over raw HTTP, checked independently of the `daraja` client: validation and
//! error bodies, OAuth, the phone page and the HTTP control API.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use daraja_sim::{CallbackSink, DarajaSim, SANDBOX_PASSKEY, SANDBOX_SHORTCODE, SimConfig, http_client};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

struct Sim {
    sim: DarajaSim,
    sink: CallbackSink,
    http: reqwest::Client,
}

async fn start(cfg: SimConfig) -> Sim {
    Sim {
        sim: DarajaSim::start(cfg).await.expect("sim"),
        sink: CallbackSink::start().await.expect("sink"),
        http: http_client().expect("http client"),
    }
}

impl Sim {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    async fn oauth(&self, query: &str, user: &str, pass: &str) -> (u16, Value) {
        let r =
            self.http.get(self.url(&format!("/oauth/v1/generate{query}"))).basic_auth(user, Some(pass)).send().await;
        read(r.expect("oauth")).await
    }

    async fn token(&self) -> String {
        let (status, v) = self.oauth("?grant_type=client_credentials", "sim-consumer-key", "sim-consumer-secret").await;
        assert_eq!(status, 200, "{v}");
        v["access_token"].as_str().expect("token").to_string()
    }

    /// A valid push body, computed by hand (not by the client library).
    fn push_body(&self, phone: &str) -> Value {
        let ts = "20240101120000";
        json!({
            "BusinessShortCode": 174379,
            "Password": STANDARD.encode(format!("{SANDBOX_SHORTCODE}{SANDBOX_PASSKEY}{ts}")),
            "Timestamp": ts,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": 1,
            "PartyA": phone,
            "PartyB": 174379,
            "PhoneNumber": phone,
            "CallBackURL": self.sink.url("/cb"),
            "AccountReference": "ACC-1",
            "TransactionDesc": "WiFi",
        })
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let r = self.http.post(self.url(path)).bearer_auth(token).body(body.to_string()).send().await;
        read(r.expect("post")).await
    }

    async fn push(&self, token: &str, body: &Value) -> (u16, Value) {
        self.post("/mpesa/stkpush/v1/processrequest", token, body).await
    }

    async fn control(&self, path: &str, body: Value) -> u16 {
        let r = self.http.post(self.url(path)).body(body.to_string()).send().await.expect("control");
        r.status().as_u16()
    }
}

async fn read(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn oauth_checks_grant_type_and_credentials() {
    let s = start(SimConfig::for_tests()).await;
    let (status, v) = s.oauth("", "sim-consumer-key", "sim-consumer-secret").await;
    assert_eq!((status, v["errorCode"].as_str()), (400, Some("400.008.02")));
    let (status, v) = s.oauth("?grant_type=client_credentials", "sim-consumer-key", "nope").await;
    assert_eq!((status, v["errorCode"].as_str()), (400, Some("400.008.01")));
    let (status, v) = s.oauth("?grant_type=client_credentials", "sim-consumer-key", "sim-consumer-secret").await;
    assert_eq!(status, 200);
    assert_eq!(v["expires_in"], json!("3599"), "a string by default");
    assert_eq!(s.sim.oauth_calls(), 3, "every request is recorded");

    let s = start(SimConfig { expires_in_as_number: true, ..SimConfig::for_tests() }).await;
    let (_, v) = s.oauth("?grant_type=client_credentials", "sim-consumer-key", "sim-consumer-secret").await;
    assert_eq!(v["expires_in"], json!(3599));
}

#[tokio::test]
async fn push_validation_answers_with_documented_errors() {
    let s = start(SimConfig::for_tests()).await;
    let token = s.token().await;
    let good = s.push_body("254712345678");
    let (status, v) = s.push("wrong-token", &good).await;
    assert_eq!(
        (status, v["errorCode"].as_str(), v["errorMessage"].as_str()),
        (404, Some("404.001.03"), Some("Invalid Access Token"))
    );

    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("Password", json!("d3Jvbmc="), 500, "Wrong credentials"),
        ("BusinessShortCode", json!("600000"), 500, "Merchant does not exist"),
        ("BusinessShortCode", json!("17a379"), 400, "Bad Request - Invalid BusinessShortCode"),
        ("Timestamp", json!("20241301120000"), 400, "Bad Request - Invalid Timestamp"),
        ("TransactionType", json!("CustomerPay"), 400, "Bad Request - Invalid TransactionType"),
        ("Amount", json!(0), 400, "Bad Request - Invalid Amount"),
        ("Amount", json!(1.5), 400, "Bad Request - Invalid Amount"),
        ("Amount", json!(250_001), 400, "Bad Request - Invalid Amount"),
        ("PartyA", json!("0712345678"), 400, "Bad Request - Invalid PartyA"),
        ("PhoneNumber", json!("254812345678"), 400, "Bad Request - Invalid PhoneNumber"),
        ("CallBackURL", json!("http://example.com/cb"), 400, "Bad Request - Invalid CallBackURL"),
        ("CallBackURL", json!("ftp://127.0.0.1/cb"), 400, "Bad Request - Invalid CallBackURL"),
        ("AccountReference", json!("1234567890123"), 400, "Bad Request - Invalid AccountReference"),
        ("AccountReference", json!(""), 400, "Bad Request - Invalid AccountReference"),
        ("TransactionDesc", json!("12345678901234"), 400, "Bad Request - Invalid TransactionDesc"),
    ];
    for (field, value, want_status, want_msg) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        let (status, v) = s.push(&token, &body).await;
        assert_eq!((status, v["errorMessage"].as_str()), (want_status, Some(want_msg)), "{field}={value}");
    }
    assert!(s.sim.pushes().is_empty(), "nothing invalid was accepted");
    // Password checked against the request's own Timestamp: a new pair is fine.
    let mut body = good.clone();
    body["Timestamp"] = json!("20250615083000");
    body["Password"] = json!(STANDARD.encode(format!("{SANDBOX_SHORTCODE}{SANDBOX_PASSKEY}20250615083000")));
    body["Amount"] = json!("250000");
    let (status, v) = s.push(&token, &body).await;
    assert_eq!((status, v["ResponseCode"].as_str()), (200, Some("0")), "{v}");
    assert!(v["CheckoutRequestID"].as_str().is_some_and(|c| c.starts_with("ws_CO_")));
}

#[tokio::test]
async fn https_callback_required_unless_loopback_http_is_allowed() {
    let s = start(SimConfig::default()).await;
    let token = s.token().await;
    let (status, v) = s.push(&token, &s.push_body("254712345678")).await;
    assert_eq!((status, v["errorMessage"].as_str()), (400, Some("Bad Request - Invalid CallBackURL")));
    let mut body = s.push_body("254712345678");
    body["CallBackURL"] = json!("https://example.com/mpesa/cb");
    s.sim.push_scenario(daraja_sim::Scenario::paid().with_callback(daraja_sim::CallbackMode::Never));
    let (status, _) = s.push(&token, &body).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn pascal_case_error_bodies() {
    let s = start(SimConfig { pascal_case_errors: true, ..SimConfig::for_tests() }).await;
    let (status, v) = s.push("bad", &s.push_body("254712345678")).await;
    assert_eq!(status, 404);
    assert_eq!(v["ErrorCode"], json!("404.001.03"));
    assert!(v.get("errorCode").is_none() && v["RequestId"].is_string(), "{v}");
}

#[tokio::test]
async fn a_new_token_can_invalidate_the_old_one() {
    let s = start(SimConfig { new_token_invalidates_old: true, ..SimConfig::for_tests() }).await;
    let old = s.token().await;
    let new = s.token().await;
    s.sim.push_scenario(daraja_sim::Scenario::paid());
    assert_eq!(s.push(&old, &s.push_body("254712345678")).await.0, 404);
    assert_eq!(s.push(&new, &s.push_body("254712345678")).await.0, 200);

    // Off (the default), both stay valid until they expire.
    let s = start(SimConfig::for_tests()).await;
    let old = s.token().await;
    let _new = s.token().await;
    s.sim.push_scenario(daraja_sim::Scenario::paid());
    assert_eq!(s.push(&old, &s.push_body("254712345678")).await.0, 200);
}

#[tokio::test]
async fn short_token_lifetime_expires() {
    let s = start(SimConfig { token_lifetime: Duration::ZERO, ..SimConfig::for_tests() }).await;
    let token = s.token().await;
    assert_eq!(s.push(&token, &s.push_body("254712345678")).await.0, 404);
}

#[tokio::test]
async fn phone_page_escapes_and_answers_without_javascript() {
    let s = start(SimConfig::for_tests()).await;
    let token = s.token().await;
    let mut body = s.push_body("254799998888");
    body["AccountReference"] = json!("<b>\"&'x");
    s.sim.push_scenario(daraja_sim::Scenario::await_phone());
    let (status, v) = s.push(&token, &body).await;
    assert_eq!(status, 200);
    let id = v["CheckoutRequestID"].as_str().expect("id").to_string();

    let page = s.http.get(s.url("/phone")).send().await.expect("page");
    assert_eq!(page.headers().get("content-type").and_then(|h| h.to_str().ok()), Some("text/html; charset=utf-8"));
    let html = page.text().await.expect("html");
    assert!(html.contains("&lt;b&gt;&quot;&amp;&#39;x"), "{html}");
    assert!(!html.contains("<b>\""), "reflected text must be escaped");
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(html.contains(&format!(r#"name="id" value="{id}""#)));
    assert!(html.contains(r#"<form method="post" action="/phone/answer">"#));

    let r = s
        .http
        .post(s.url("/phone/answer"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("id={id}&answer=cancel"))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers().get("location").and_then(|h| h.to_str().ok()), Some("/phone"));
    let got = s.sink.wait_for(1, WAIT).await;
    let cb: Value = serde_json::from_slice(&got[0]).expect("callback JSON");
    assert_eq!(cb["Body"]["stkCallback"]["ResultCode"], json!(1032));
    assert_eq!(cb["Body"]["stkCallback"]["CheckoutRequestID"], json!(id));

    // Answering again, or nonsense, changes nothing.
    let again = s.http.post(s.url("/phone/answer")).body(format!("id={id}&answer=pay")).send().await.expect("again");
    assert_eq!(again.status().as_u16(), 404);
    let junk = s.http.post(s.url("/phone/answer")).body("id=x&answer=steal").send().await.expect("junk");
    assert_eq!(junk.status().as_u16(), 400);
    assert_eq!(s.sim.pushes()[0].result_code.as_deref(), Some("1032"));
    let html = s.http.get(s.url("/phone")).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("No prompts waiting."));
}

#[tokio::test]
async fn http_control_api() {
    let s = start(SimConfig::for_tests()).await;
    let token = s.token().await;
    assert_eq!(s.control("/sim/scenarios", json!({"result": {"kind": "failed", "code": 1}})).await, 200);
    assert_eq!(s.control("/sim/scenarios", json!({"result": {"kind": "nonsense"}})).await, 400);
    let (status, v) = s.push(&token, &s.push_body("254712345678")).await;
    assert_eq!(status, 200);
    let got = s.sink.wait_for(1, WAIT).await;
    let cb: Value = serde_json::from_slice(&got[0]).expect("callback JSON");
    assert_eq!(cb["Body"]["stkCallback"]["ResultCode"], json!(1));
    assert!(cb["Body"]["stkCallback"].get("CallbackMetadata").is_none());

    // Query: the result as a string.
    let q = json!({
        "BusinessShortCode": "174379",
        "Password": STANDARD.encode(format!("{SANDBOX_SHORTCODE}{SANDBOX_PASSKEY}20240101120000")),
        "Timestamp": "20240101120000",
        "CheckoutRequestID": v["CheckoutRequestID"],
    });
    let (status, qv) = s.post("/mpesa/stkpushquery/v1/query", &token, &q).await;
    assert_eq!((status, qv["ResultCode"].clone()), (200, json!("1")));

    // A pending push answered through the control API, with its callback held and released.
    assert_eq!(
        s.control("/sim/scenarios", json!({"result": {"kind": "await_phone"}, "callback": {"kind": "held"}})).await,
        200
    );
    let (_, v) = s.push(&token, &s.push_body("254711112222")).await;
    let id = v["CheckoutRequestID"].as_str().expect("id").to_string();
    let mut pending_q = q.clone();
    pending_q["CheckoutRequestID"] = json!(id);
    let (status, qv) = s.post("/mpesa/stkpushquery/v1/query", &token, &pending_q).await;
    assert_eq!((status, qv["errorCode"].as_str()), (500, Some("500.001.1001")));
    assert_eq!(qv["errorMessage"], json!("The transaction is being processed"));
    assert_eq!(s.control("/sim/answer", json!({"checkout_request_id": "ws_CO_nope", "answer": "pay"})).await, 404);
    assert_eq!(s.control("/sim/answer", json!({"checkout_request_id": id, "answer": "pay"})).await, 200);
    let (_, qv) = s.post("/mpesa/stkpushquery/v1/query", &token, &pending_q).await;
    assert_eq!(qv["ResultCode"], json!("0"));
    assert_eq!(s.sink.received().len(), 1, "second callback still held");
    assert_eq!(s.control("/sim/release", json!({"checkout_request_id": id})).await, 200);
    let got = s.sink.wait_for(2, WAIT).await;
    let cb: Value = serde_json::from_slice(&got[1]).expect("callback JSON");
    assert_eq!(cb["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Name"], json!("Amount"));

    // Faults and token expiry through HTTP.
    assert_eq!(
        s.control(
            "/sim/faults",
            json!({"endpoint": "oauth", "fault": {"kind": "respond", "status": 503, "body": "down"}})
        )
        .await,
        200
    );
    let (status, _) = s.oauth("?grant_type=client_credentials", "sim-consumer-key", "sim-consumer-secret").await;
    assert_eq!(status, 503);
    assert_eq!(s.control("/sim/expire-tokens", json!({})).await, 200);
    assert_eq!(s.push(&token, &s.push_body("254733334444")).await.0, 404);

    // Everything above was recorded and can be read back.
    let (status, reqs) = read(s.http.get(s.url("/sim/requests")).send().await.expect("requests")).await;
    assert_eq!(status, 200);
    let n = reqs.as_array().expect("list").len();
    assert_eq!(n, s.sim.requests().len());
    let (_, pushes) = read(s.http.get(s.url("/sim/pushes")).send().await.expect("pushes")).await;
    assert_eq!(pushes.as_array().expect("list").len(), 2);
    let (_, callbacks) = read(s.http.get(s.url("/sim/callbacks")).send().await.expect("callbacks")).await;
    assert_eq!(callbacks.as_array().expect("list").len(), 2);
}
