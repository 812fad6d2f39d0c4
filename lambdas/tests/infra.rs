//! The AWS stack template (`infra/template.yaml`): `cfn-lint` passes with no errors or warnings,
//! and the template matches the code — one function per binary in `src/bin`, each built by
//! cargo-lambda with its settings and routes, and the table's keys, attributes and indexes as
//! `store/schema.rs` creates them. Text checks only (no YAML dependency).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

#[path = "support/template.rs"]
mod template;
use template::{binaries, read, resources, root, values};

/// The function resource built from binary `bin`.
fn function_for<'a>(res: &'a [(String, String)], bin: &str) -> &'a str {
    let found: Vec<_> = res
        .iter()
        .filter(|(_, b)| b.contains("Type: AWS::Serverless::Function") && values(b, "Binary") == [bin])
        .collect();
    assert_eq!(found.len(), 1, "expected one function with BuildProperties Binary: {bin}, found {}", found.len());
    &found[0].1
}

#[test]
fn cfn_lint_passes_without_errors_or_warnings() {
    let root = root();
    let lint = root.join(".venv/bin/cfn-lint");
    assert!(
        lint.exists(),
        "{} is missing: create the venv (python3 -m venv .venv && .venv/bin/pip install cfn-lint==1.58.0)",
        lint.display()
    );
    let out = Command::new(&lint)
        .arg("infra/template.yaml")
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", lint.display()));
    assert!(
        out.status.success(),
        "cfn-lint failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_binary_is_a_cargo_lambda_function() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let bins = binaries();
    assert_eq!(bins.len(), 8, "the brief's six functions, the dashboard and RADIUS: {bins:?}");
    for bin in &bins {
        let f = function_for(&res, bin);
        assert_eq!(values(f, "BuildMethod"), ["rust-cargolambda"], "{bin}");
        assert_eq!(values(f, "CodeUri"), ["../lambdas"], "{bin}");
    }
    let declared: BTreeSet<String> = res
        .iter()
        .filter(|(_, b)| b.contains("Type: AWS::Serverless::Function"))
        .flat_map(|(_, b)| values(b, "Binary").into_iter().map(str::to_string))
        .collect();
    assert_eq!(declared, bins, "functions in the template without a binary, or the reverse");
    for fact in ["Runtime: provided.al2023", "Architectures: [arm64]", "Handler: bootstrap", "TABLE_NAME: !Ref Table"] {
        assert!(template.contains(fact), "Globals lack {fact}");
    }
}

#[test]
fn each_function_gets_the_settings_its_code_reads() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let daraja = ["DARAJA_ENV", "DARAJA_SHORTCODE", "DARAJA_CONSUMER_KEY", "DARAJA_CONSUMER_SECRET", "DARAJA_PASSKEY"];
    let callback = ["CALLBACK_BASE_URL", "CALLBACK_SECRET"];
    // Secrets must come from SSM, never as plain values in the template.
    let sms = ["AT_USERNAME", "AT_ENV", "AT_API_KEY", "AT_SENDER_ID"];
    let wallets = [
        "AIRTEL_ENV",
        "AIRTEL_COUNTRY",
        "AIRTEL_CLIENT_ID",
        "AIRTEL_CLIENT_SECRET",
        "AIRTEL_CALLBACK_KEY",
        "AIRTEL_MESSAGE_SIGNING",
        "MTN_ENV",
        "MTN_COUNTRY",
        "MTN_TARGET_ENVIRONMENT",
        "MTN_API_USER",
        "MTN_API_KEY",
        "MTN_SUBSCRIPTION_KEY",
    ];
    let secret = [
        "DARAJA_CONSUMER_KEY",
        "DARAJA_CONSUMER_SECRET",
        "DARAJA_PASSKEY",
        "CALLBACK_SECRET",
        "AT_API_KEY",
        "AIRTEL_CLIENT_SECRET",
        "AIRTEL_CALLBACK_KEY",
        "MTN_API_KEY",
        "MTN_SUBSCRIPTION_KEY",
    ];
    let config = read("lambdas/src/config.rs");
    for name in daraja.iter().chain(&callback).chain(&sms).chain(&wallets) {
        assert!(config.contains(&format!("\"{name}\"")), "config.rs no longer reads {name}: update this test");
    }
    for bin in binaries() {
        let src = read(&format!("lambdas/src/bin/{bin}.rs"));
        let f = function_for(&res, &bin);
        let mut needed: Vec<&str> = Vec::new();
        if src.contains(".daraja()") || src.contains(".providers()") {
            needed.extend(daraja);
        }
        if src.contains(".providers()") || src.contains(".notices()") {
            needed.extend(wallets);
        }
        if src.contains("callback_url(") {
            needed.extend(callback);
        }
        if src.contains(".sms()") {
            needed.extend(sms);
        }
        for name in needed {
            let plain = !values(f, name).is_empty();
            let param = !values(f, &format!("{name}_PARAM")).is_empty();
            assert!(plain || param, "{bin} reads {name} but its function sets neither {name} nor {name}_PARAM");
            if secret.contains(&name) {
                assert!(param && !plain, "{bin}: {name} must come from SSM ({name}_PARAM)");
            }
        }
    }
}

#[test]
fn http_functions_serve_the_routes_their_code_documents() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let mut seen = 0;
    for bin in binaries() {
        let src = read(&format!("lambdas/src/bin/{bin}.rs"));
        let doc = src.lines().next().unwrap_or_default();
        // e.g. "//! `GET /purchases/{id}` and `GET /packages` for …"
        let routes: BTreeSet<(String, String)> = doc
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|s| s.split_once(' '))
            .filter(|(m, p)| matches!(*m, "GET" | "POST" | "PUT" | "ANY") && p.starts_with('/'))
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        let f = function_for(&res, &bin);
        let declared: BTreeSet<(String, String)> = values(f, "Method")
            .into_iter()
            .zip(values(f, "Path"))
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(declared, routes, "{bin}: routes in the template vs its doc comment");
        if !routes.is_empty() {
            assert!(f.contains("Type: HttpApi") && f.contains("ApiId: !Ref HttpApi"), "{bin}");
            seen += routes.len();
        }
    }
    assert_eq!(
        seen, 12,
        "the four wallet callbacks, POST /purchases, GET /purchases/{{id}}, GET /packages, GET /grants, ANY /admin, ANY /admin/{{proxy+}}, POST /radius/authorize, POST /radius/accounting"
    );
}

/// `(burst, rate)` of a throttle block's `ThrottlingBurstLimit` / `ThrottlingRateLimit` lines.
fn throttle(block: &str) -> (u32, f64) {
    let one = |key: &str| -> &str {
        let v = values(block, key);
        assert_eq!(v.len(), 1, "{key} in {block:?}");
        v[0]
    };
    (one("ThrottlingBurstLimit").parse().expect("burst"), one("ThrottlingRateLimit").parse().expect("rate"))
}

#[test]
fn every_route_has_its_own_throttle_and_the_callback_is_not_starved() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let api = &res.iter().find(|(id, _)| id == "HttpApi").expect("an HttpApi resource").1;
    // Every route the functions declare: "METHOD /path".
    let routes: BTreeSet<String> = res
        .iter()
        .filter(|(_, b)| b.contains("Type: AWS::Serverless::Function") && b.contains("Type: HttpApi"))
        .flat_map(|(_, b)| values(b, "Method").into_iter().zip(values(b, "Path")).map(|(m, p)| format!("{m} {p}")))
        .collect();
    assert!(routes.len() >= 5, "{routes:?}");
    // DefaultRouteSettings:\n  ThrottlingBurstLimit: …
    let section = |name: &str| -> String {
        let lines: Vec<&str> = api.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.trim() == format!("{name}:"))
            .unwrap_or_else(|| panic!("HttpApi has no {name}"));
        let indent = |l: &str| l.len() - l.trim_start().len();
        let base = indent(lines[i]);
        lines[i + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || indent(l) > base)
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let (default_burst, default_rate) = throttle(&section("DefaultRouteSettings"));
    // RouteSettings:\n  "POST /cb/{secret}":\n    ThrottlingBurstLimit: …
    let settings = section("RouteSettings");
    let mut per_route: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in settings.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        let t = line.trim();
        if let Some(key) = t.strip_suffix(':').filter(|_| t.starts_with('"')) {
            current = Some(key.trim_matches('"').to_string());
            per_route.insert(key.trim_matches('"').to_string(), String::new());
        } else if let Some(k) = &current {
            let block = per_route.get_mut(k).unwrap();
            block.push_str(line);
            block.push('\n');
        }
    }
    let keys: BTreeSet<String> = per_route.keys().cloned().collect();
    assert_eq!(keys, routes, "RouteSettings keys vs the functions' HttpApi routes (each route its own token bucket)");
    for (route, block) in &per_route {
        let (burst, rate) = throttle(block);
        assert!(burst > 0 && rate > 0.0, "{route}: a zero throttle refuses every request");
    }
    let callbacks: Vec<&String> = routes.iter().filter(|r| r.contains(" /cb/")).collect();
    assert_eq!(callbacks.len(), 4, "M-Pesa's, Airtel's and MTN's (PUT and POST) callback routes");
    for callback in callbacks {
        let (burst, rate) = throttle(&per_route[callback]);
        assert!(
            burst >= default_burst && rate >= default_rate,
            "{callback}: {burst}/{rate} is below the defaults {default_burst}/{default_rate}"
        );
    }
    let callback_fn = &res.iter().find(|(id, _)| id == "CallbackFunction").expect("CallbackFunction").1;
    assert_eq!(
        values(callback_fn, "Path"),
        ["/cb/{secret}", "/cb/airtel/{secret}", "/cb/mtn/{secret}", "/cb/mtn/{secret}"],
        "the callbacks' route paths"
    );
}

#[test]
fn events_schedules_and_queues_are_wired() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let events = function_for(&res, "events");
    assert!(events.contains("Type: SQS") && events.contains("Queue: !GetAtt EventsQueue.Arn"));
    assert!(events.contains("FunctionResponseTypes: [ReportBatchItemFailures]"));
    for bin in ["reconcile", "expiry"] {
        let f = function_for(&res, bin);
        assert!(f.contains("Type: Schedule") && f.contains("Schedule: rate(1 minute)"), "{bin} schedule");
    }
    let queue = &res.iter().find(|(id, _)| id == "EventsQueue").expect("EventsQueue").1;
    assert!(queue.contains("deadLetterTargetArn: !GetAtt EventsDeadLetterQueue.Arn"));
    assert_eq!(values(queue, "maxReceiveCount"), ["5"]);
}

#[test]
fn the_table_matches_the_code_schema() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let table = &res.iter().find(|(id, _)| id == "Table").expect("a Table resource").1;
    let schema = read("cloud/src/store/schema.rs");
    // pub const GSI_PENDING: &str = "pending";
    let gsis: Vec<&str> =
        schema.lines().filter(|l| l.starts_with("pub const GSI_")).filter_map(|l| l.split('"').nth(1)).collect();
    assert_eq!(gsis.len(), 8, "schema.rs declares eight indexes");
    let mut declared = values(table, "- IndexName");
    declared.sort_unstable();
    let mut expected = gsis.clone();
    expected.sort_unstable();
    assert_eq!(declared, expected, "the table's GSIs");
    // .attribute_definitions(attr("created_at", N)?)
    let attrs: Vec<(&str, &str)> = schema
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".attribute_definitions(attr(\""))
        .filter_map(|l| l.split_once("\", "))
        .map(|(name, rest)| (name, &rest[..1]))
        .collect();
    assert_eq!(attrs.len(), 16, "schema.rs attribute definitions");
    for (name, ty) in attrs {
        let line = format!("{{AttributeName: {name}, AttributeType: {ty}}}");
        assert!(table.contains(&line), "the table lacks {line}");
    }
    for fact in [
        "{AttributeName: pk, KeyType: HASH}",
        "{AttributeName: sk, KeyType: RANGE}",
        "BillingMode: PAY_PER_REQUEST",
        "PointInTimeRecoveryEnabled: true",
        "SSEEnabled: true",
    ] {
        assert!(table.contains(fact), "the table lacks {fact}");
    }
    assert!(schema.contains(".attribute_name(\"ttl\")"), "schema.rs TTL attribute changed: update the template");
    assert!(table.contains("TimeToLiveSpecification:\n        AttributeName: ttl\n        Enabled: true"));
}
