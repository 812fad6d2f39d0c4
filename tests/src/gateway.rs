//! An API Gateway HTTP API stand-in: routes → functions, through the Lambda runtime interface.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

/// Invokes functions through `cargo lambda watch`'s invoke API.
#[derive(Clone)]
pub struct Invoker {
    http: reqwest::Client,
    base: String,
    counts: Arc<Mutex<BTreeMap<String, Invocations>>>,
}

/// How often one function was invoked and for how long in all (wall time seen by the caller,
/// runtime-interface overhead included): what the benchmark prices.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Invocations {
    pub count: u64,
    pub total: Duration,
    /// The sum of each invocation's time rounded up to a whole millisecond, as Lambda bills it.
    pub billed_ms: u64,
}

impl Invoker {
    pub fn new(runtime_port: u16) -> Invoker {
        // reqwest is built without a default crypto provider (no aws-lc in the tree).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Invoker {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{runtime_port}"),
            counts: Arc::default(),
        }
    }

    /// Invocations so far, by function (every caller shares one tally: gateway, pollers, tests).
    pub fn invocations(&self) -> BTreeMap<String, Invocations> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub async fn invoke(&self, function: &str, event: &Value) -> Result<Value, String> {
        let started = Instant::now();
        let out = self.invoke_once(function, event).await;
        let took = started.elapsed();
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let c = counts.entry(function.to_string()).or_default();
        c.count += 1;
        c.total += took;
        c.billed_ms += took.as_nanos().div_ceil(1_000_000) as u64;
        out
    }

    /// Waits until `function` answers an invocation (it has started and polls the runtime API),
    /// up to `within`; these readiness calls are not counted.
    pub async fn wait_ready(&self, function: &str, event: &Value, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            match self.invoke_once(function, event).await {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => return Err(format!("{function} never answered: {e}")),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn invoke_once(&self, function: &str, event: &Value) -> Result<Value, String> {
        let resp = self
            .http
            .post(format!("{}/2015-03-31/functions/{function}/invocations", self.base))
            .body(event.to_string())
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{function}: HTTP {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|_| format!("{function} answered {text}"))
    }
}

/// Which function serves a route (as the AWS stack's HttpApi routes them).
pub fn route(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("POST", "/purchases") => Some("purchase"),
        ("GET", "/packages") => Some("status"),
        ("GET", "/grants") => Some("status"),
        ("GET", p) if p.starts_with("/purchases/") => Some("status"),
        ("POST", p) if p.starts_with("/cb/") => Some("callback"),
        // MTN sends its callbacks with PUT as often as with POST.
        ("PUT", p) if p.starts_with("/cb/mtn/") => Some("callback"),
        ("POST", "/radius/authorize" | "/radius/accounting") => Some("radius"),
        ("GET" | "POST", p) if p.starts_with("/portal/") && p.len() > "/portal/".len() => Some("portal"),
        ("GET" | "POST", p) if p == "/account" || p.starts_with("/account/") && p.len() > "/account/".len() => {
            Some("portal")
        }
        ("GET" | "POST", p) if p == "/admin" || p.starts_with("/admin/") => Some("admin"),
        _ => None,
    }
}

async fn handle(
    inv: Arc<Invoker>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
        .collect();
    let reply = |status: u16, body: Bytes| {
        let mut r = Response::new(Full::new(body));
        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
        r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
        r
    };
    let Some(function) = route(&method, &path) else {
        return Ok(reply(404, Bytes::from_static(br#"{"message":"Not Found"}"#)));
    };
    // API Gateway's own payload limit.
    let body = match Limited::new(req.into_body(), 10 * 1024 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(reply(413, Bytes::from_static(br#"{"message":"Request Entity Too Large"}"#))),
    };
    let event = testkit::lambda::http_event(&method, &path, &query, &headers, &body, &peer.ip().to_string());
    match inv.invoke(function, &event).await {
        Ok(out) => {
            let status = out["statusCode"].as_u64().unwrap_or(502) as u16;
            let text = out["body"].as_str().unwrap_or("");
            // A binary reply (a PDF) comes base64-encoded; API Gateway decodes it for the client.
            let body = match out["isBase64Encoded"].as_bool() {
                Some(true) => match base64::engine::general_purpose::STANDARD.decode(text) {
                    Ok(b) => Bytes::from(b),
                    Err(_) => return Ok(reply(502, Bytes::from_static(br#"{"message":"Internal Server Error"}"#))),
                },
                _ => Bytes::from(text.to_string()),
            };
            let mut r = reply(status, body);
            // Payload format 2.0: headers as an object, Set-Cookie values in `cookies`.
            if let Some(h) = out["headers"].as_object() {
                for (k, v) in h {
                    if let (Ok(k), Some(Ok(v))) = (
                        hyper::header::HeaderName::from_bytes(k.as_bytes()),
                        v.as_str().map(hyper::header::HeaderValue::from_str),
                    ) {
                        r.headers_mut().insert(k, v);
                    }
                }
            }
            for c in out["cookies"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if let Ok(v) = hyper::header::HeaderValue::from_str(c) {
                    r.headers_mut().append(hyper::header::SET_COOKIE, v);
                }
            }
            Ok(r)
        }
        Err(e) => Ok(reply(502, Bytes::from(json!({"message": e}).to_string()))),
    }
}

/// Serves the gateway on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, invoker: Invoker) {
    let inv = Arc::new(invoker);
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        let inv = inv.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(inv.clone(), peer, req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}
