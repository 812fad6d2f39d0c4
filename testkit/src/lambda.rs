//! Running Lambda functions locally as AWS runs them: `cargo lambda watch --only-lambda-apis`
//! emulates the runtime API; our binaries poll it; the event JSON is what AWS delivers.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::paths::{venv_bin, workspace_root};

fn request_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("local-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// An API Gateway HTTP API (payload format 2.0) event.
pub fn http_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    source_ip: &str,
) -> Value {
    // API Gateway hands the Cookie header over as a `cookies` list, not among the headers.
    let is_cookie = |k: &str| k.eq_ignore_ascii_case("cookie");
    let hdrs: serde_json::Map<String, Value> =
        headers.iter().filter(|(k, _)| !is_cookie(k)).map(|(k, v)| (k.to_ascii_lowercase(), json!(v))).collect();
    let cookies: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| is_cookie(k))
        .flat_map(|(_, v)| v.split(';').map(str::trim).filter(|c| !c.is_empty()))
        .collect();
    json!({
        "cookies": cookies,
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost", "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": "local"},
            "requestId": request_id(), "routeKey": "$default", "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0
        },
        "body": String::from_utf8_lossy(body),
        "isBase64Encoded": false
    })
}

/// An SQS event as Lambda's event-source mapping delivers it: `(message id, body)` pairs.
pub fn sqs_event(messages: &[(String, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": id, "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "local",
                               "ApproximateFirstReceiveTimestamp": "0"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:router-events", "awsRegion": "eu-west-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// An EventBridge scheduled event.
pub fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": request_id(), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "eu-west-1",
        "resources": [], "detail": {}
    })
}

/// Starts `cargo lambda watch --only-lambda-apis` on `port` (it lists the workspace's binaries).
pub fn watch_runtime(port: u16, stderr: impl Into<Stdio>) -> std::io::Result<Child> {
    Command::new(venv_bin("cargo-lambda"))
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(workspace_root().join("lambdas"))
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
}

/// A function binary wired to the runtime API on `rt_port` and to AWS at `aws_endpoint` (moto),
/// with a clean environment; the caller adds the function's own settings and spawns it.
pub fn function(exe: &Path, name: &str, rt_port: u16, aws_endpoint: &str) -> Command {
    let mut c = Command::new(exe);
    c.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{rt_port}/.rt/{name}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_ENDPOINT_URL", aws_endpoint)
        .env("AWS_REGION", crate::Moto::REGION)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    c
}
