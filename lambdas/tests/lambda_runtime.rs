//! The function binaries run through the Lambda runtime API (`cargo lambda watch
//! --only-lambda-apis`), invoked with real API Gateway HTTP API (v2), SQS and EventBridge event
//! JSON, against moto and the Daraja simulator: purchase → callback → grant job → router event
//! → status, plus the scheduled functions.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Cloud, Signed, now};
use daraja_sim::{CallbackMode, Scenario};
use hotspot_core::MessageId;
use hotspot_core::wire::{Applied, Envelope, Payload};
use serde_json::{Value, json};
use testkit::{ChildGuard, lambda};

const SECRET: &str = "cb-secret-0123456789abcdefghij";

struct Runtime {
    port: u16,
    http: reqwest::Client,
    logs: std::path::PathBuf,
    _procs: Vec<ChildGuard>,
}

impl Runtime {
    async fn start(cloud: &Cloud) -> Runtime {
        let port = testkit::free_port().unwrap();
        let cargo_lambda = testkit::venv_bin("cargo-lambda");
        assert!(cargo_lambda.exists(), "{} missing: run scripts/test.sh to create the venv", cargo_lambda.display());
        let watch = lambda::watch_runtime(port, Stdio::null()).expect("cargo lambda watch starts");
        let mut procs = vec![ChildGuard(watch)];
        assert!(testkit::wait_port(port).await, "cargo lambda watch is not listening");
        let functions = [
            ("purchase", env!("CARGO_BIN_EXE_purchase")),
            ("status", env!("CARGO_BIN_EXE_status")),
            ("callback", env!("CARGO_BIN_EXE_callback")),
            ("reconcile", env!("CARGO_BIN_EXE_reconcile")),
            ("expiry", env!("CARGO_BIN_EXE_expiry")),
            ("events", env!("CARGO_BIN_EXE_events")),
        ];
        let sim_cfg = daraja_sim::SimConfig::for_tests();
        // Secrets as SecureString parameters, read at cold start (the plain env holds only names).
        let ssm = aws_sdk_ssm::Client::new(&cloud.moto.sdk_config());
        for (name, value) in [
            ("/hotspot/daraja/consumer_secret", sim_cfg.consumer_secret.as_str()),
            ("/hotspot/daraja/passkey", daraja_sim::SANDBOX_PASSKEY),
            ("/hotspot/callback_secret", SECRET),
        ] {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .send()
                .await
                .unwrap();
        }
        let logs = std::env::temp_dir().join(format!("lambda-logs-{port}"));
        std::fs::create_dir_all(&logs).unwrap();
        for (name, exe) in functions {
            let child = lambda::function(std::path::Path::new(exe), name, port, &cloud.moto.endpoint)
                .env("TABLE_NAME", "hotspot")
                .env("DARAJA_ENV", cloud.sim.base_url())
                .env("DARAJA_CONSUMER_KEY", &sim_cfg.consumer_key)
                .env("DARAJA_CONSUMER_SECRET_PARAM", "/hotspot/daraja/consumer_secret")
                .env("DARAJA_SHORTCODE", daraja_sim::SANDBOX_SHORTCODE)
                .env("DARAJA_PASSKEY_PARAM", "/hotspot/daraja/passkey")
                .env("CALLBACK_BASE_URL", "http://127.0.0.1:9")
                .env("CALLBACK_SECRET_PARAM", "/hotspot/callback_secret")
                .env("RUST_LOG", "info")
                .stdout(std::fs::File::create(logs.join(format!("{name}.log"))).unwrap())
                .stderr(Stdio::null())
                .spawn()
                .expect("function starts");
            procs.push(ChildGuard(child));
        }
        // reqwest is built without a default crypto provider (no aws-lc in the tree): install ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Runtime { port, http: reqwest::Client::new(), logs, _procs: procs }
    }

    /// Every log line a function wrote, parsed: each must be a JSON object.
    fn log_lines(&self, function: &str) -> Vec<Value> {
        let text = std::fs::read_to_string(self.logs.join(format!("{function}.log"))).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("{function}: not a JSON log line: {l}")))
            .collect()
    }

    async fn invoke(&self, function: &str, event: Value) -> Value {
        let url = format!("http://127.0.0.1:{}/2015-03-31/functions/{function}/invocations", self.port);
        let resp =
            self.http.post(url).body(event.to_string()).timeout(Duration::from_secs(60)).send().await.expect("invoke");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{function}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{function} answered {text}"))
    }

    async fn http(
        &self,
        function: &str,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> (u16, Value) {
        let out = self.invoke(function, lambda::http_event(method, path, "", headers, body, "196.201.214.200")).await;
        let status = out["statusCode"].as_u64().unwrap() as u16;
        let body = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        (status, body)
    }
}

#[tokio::test]
async fn functions_run_through_the_lambda_runtime_interface() {
    let cloud = Cloud::start().await;
    let r = cloud.router("cafe-01").await;
    let rt = Runtime::start(&cloud).await;

    // Purchase, signed by the router.
    cloud.sim.push_scenario(Scenario::paid().with_callback(CallbackMode::Never));
    let body = json!({"mac": "DA:A1:19:00:00:01", "ip": "10.5.50.23", "package_id": "1h", "phone": "254712345678"})
        .to_string();
    let req = Signed::new(&r.record, "POST", "/purchases", body.as_bytes());
    let (status, v) = rt.http("purchase", "POST", "/purchases", &req.headers, body.as_bytes()).await;
    assert_eq!(status, 201, "{v}");
    let id: hotspot_core::PurchaseId = v["purchase_id"].as_str().unwrap().parse().unwrap();
    // Unsigned: refused.
    let (status, _) = rt.http("purchase", "POST", "/purchases", &[], body.as_bytes()).await;
    assert_eq!(status, 401);

    // Safaricom's callback, on the secret path.
    let checkout = cloud.sim.pushes()[0].checkout_request_id.clone();
    let cb = format!(
        r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"m-1","CheckoutRequestID":"{checkout}","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{{"Item":[{{"Name":"Amount","Value":10.00}},{{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"}},{{"Name":"PhoneNumber","Value":254712345678}}]}}}}}}}}"#
    );
    let (status, _) = rt.http("callback", "POST", "/cb/wrong-secret", &[], cb.as_bytes()).await;
    assert_eq!(status, 404, "bad secret");
    let (status, ack) = rt.http("callback", "POST", &format!("/cb/{SECRET}"), &[], cb.as_bytes()).await;
    assert_eq!((status, ack), (200, json!({"ResultCode": 0, "ResultDesc": "Accepted"})));
    let jobs = cloud.drain_jobs(&r).await;
    assert!(matches!(&jobs[..], [Payload::Grant(g)] if g.purchase_id == id), "{jobs:?}");

    // The router reports the grant applied, through the SQS-triggered events function.
    let applied = Envelope::new(
        MessageId::generate(),
        r.record.id.clone(),
        now(),
        600,
        Payload::Applied(Applied {
            job_id: MessageId::derived("grant", &id),
            job_type: hotspot_core::wire::MessageType::Grant,
            purchase_id: Some(id.clone()),
            online: true,
            wireguard: None,
        }),
    )
    .sign(&r.record.key);
    let out =
        rt.invoke("events", lambda::sqs_event(&[("m-1".into(), applied), ("m-2".into(), "garbage".into())])).await;
    assert_eq!(out["batchItemFailures"], json!([{"itemIdentifier": "m-2"}]));

    // The agent reads the purchase's state.
    let path = format!("/purchases/{id}");
    let req = Signed::new(&r.record, "GET", &path, b"");
    let (status, v) = rt.http("status", "GET", &path, &req.headers, b"").await;
    assert_eq!((status, v["state"].as_str()), (200, Some("active")), "{v}");

    // The scheduled functions answer with their reports.
    let report = rt.invoke("reconcile", lambda::scheduled_event()).await;
    assert_eq!(report["queried"], json!(0), "{report}");
    let expired = rt.invoke("expiry", lambda::scheduled_event()).await;
    assert_eq!(expired, json!({"revoked": 0}));

    // CloudWatch logs: JSON lines; every line logged during an invocation carries the runtime's
    // request id; phone numbers only masked; no secrets.
    for f in ["purchase", "callback", "events"] {
        let lines = rt.log_lines(f);
        assert!(!lines.is_empty(), "{f} logged nothing");
        let raw = std::fs::read_to_string(rt.logs.join(format!("{f}.log"))).unwrap();
        for secret in ["254712345678", "0712345678", SECRET, "sim-consumer-secret", daraja_sim::SANDBOX_PASSKEY] {
            assert!(!raw.contains(secret), "{f} logged {secret}");
        }
        for l in &lines {
            let spans = l["spans"].as_array().cloned().unwrap_or_default();
            assert!(spans.iter().any(|s| s["requestId"].is_string()), "{f}: line without a request id: {l}");
        }
    }
    let purchase_log = std::fs::read_to_string(rt.logs.join("purchase.log")).unwrap();
    assert!(purchase_log.contains("2547****5678"), "the masked phone is logged: {purchase_log}");
    assert!(purchase_log.contains(id.as_str()), "the purchase id is logged");
    let _ = std::fs::remove_dir_all(&rt.logs);
}

#[test]
fn a_missing_setting_stops_start_up_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_callback"))
        .env_clear()
        .env("AWS_REGION", "eu-west-1")
        .env("TABLE_NAME", "hotspot")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CALLBACK_BASE_URL"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_purchase")).env_clear().env("AWS_REGION", "eu-west-1").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("TABLE_NAME"));
}
