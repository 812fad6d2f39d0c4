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
    assert_eq!(bins.len(), 9, "the brief's six functions, the dashboard, RADIUS and the cloud portal: {bins:?}");
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
        // The module comment's first paragraph, e.g. "//! `GET /purchases/{id}` and `GET /packages` for …"
        let doc: String =
            src.lines().take_while(|l| l.starts_with("//!") && l.trim() != "//!").collect::<Vec<_>>().join("\n");
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
        seen, 20,
        "the four wallet callbacks, the two C2B URLs, POST /purchases, GET /purchases/{{id}}, GET /packages, GET /grants, ANY /admin, ANY /admin/{{proxy+}}, POST /radius/authorize, POST /radius/accounting, GET and POST /portal/{{proxy+}}, GET and POST /account and /account/{{proxy+}}"
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
    assert_eq!(
        callbacks.len(),
        6,
        "M-Pesa's, Airtel's and MTN's (PUT and POST) callback routes, M-Pesa's two C2B URLs"
    );
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
        [
            "/cb/{secret}",
            "/cb/airtel/{secret}",
            "/cb/mtn/{secret}",
            "/cb/mtn/{secret}",
            "/cb/c2b/{secret}/validation",
            "/cb/c2b/{secret}/confirmation"
        ],
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

// ------------------------------------------------------------------ the RADIUS service

/// The block of resource `id`.
fn resource<'a>(res: &'a [(String, String)], id: &str) -> &'a str {
    &res.iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no resource {id}")).1
}

/// The `(actions, resources)` of each `- Effect:` statement of a role's policies (the trust
/// policy's first). `Key: x`, `Key: [a, b]` and `Key:` + `- a` lines are read.
fn statements(role: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let lines: Vec<&str> = role.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let list = |chunk: &[&str], key: &str| -> Vec<String> {
        let Some(i) = chunk.iter().position(|l| l.trim().trim_start_matches("- ").starts_with(&format!("{key}:")))
        else {
            return Vec::new();
        };
        let rest = chunk[i].trim().trim_start_matches("- ")[key.len() + 1..].trim();
        if let Some(inner) = rest.strip_prefix('[') {
            return inner.trim_end_matches(']').split(',').map(|s| s.trim().to_string()).collect();
        }
        if !rest.is_empty() {
            return vec![template::unquote(rest).to_string()];
        }
        chunk[i + 1..]
            .iter()
            .take_while(|l| indent(l) > indent(chunk[i]) && l.trim().starts_with("- "))
            .map(|l| template::unquote(l.trim()[2..].trim()).to_string())
            .collect()
    };
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].trim().starts_with("- Effect:")).collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let chunk = &lines[s..starts.get(k + 1).copied().unwrap_or(lines.len())];
            (list(chunk, "Action"), list(chunk, "Resource"))
        })
        .collect()
}

/// `RADIUS_API_URL`, not the `...` of a comment.
fn is_env_name(n: &str) -> bool {
    !n.is_empty() && n.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn ssm_arn(param: &str) -> String {
    format!("!Sub \"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter${{{param}}}\"")
}

/// The resources of the RADIUS service (all but the image repository, which exists so the image
/// can be pushed before the service is turned on, and the function's alarms).
const RADIUS_SERVICE: &[&str] = &[
    "RadiusVpc",
    "RadiusInternetGateway",
    "RadiusGatewayAttachment",
    "RadiusRouteTable",
    "RadiusDefaultRoute",
    "RadiusSubnetA",
    "RadiusSubnetB",
    "RadiusSubnetARoutes",
    "RadiusSubnetBRoutes",
    "RadiusAddressA",
    "RadiusAddressB",
    "RadiusLoadBalancer",
    "RadiusAuthTargetGroup",
    "RadiusAcctTargetGroup",
    "RadiusRadsecTargetGroup",
    "RadiusAuthListener",
    "RadiusAcctListener",
    "RadiusRadsecListener",
    "RadiusServiceSecurityGroup",
    "RadiusCluster",
    "RadiusServiceLogGroup",
    "RadiusExecutionRole",
    "RadiusTaskRole",
    "RadiusTaskDefinition",
    "RadiusService",
    "RadiusAuthNoHealthyTargetAlarm",
    "RadiusAcctNoHealthyTargetAlarm",
    "RadiusRadsecNoHealthyTargetAlarm",
    "RadiusUnhealthyTargetAlarm",
    "RadiusServiceBelowDesiredAlarm",
    "RadiusServiceNoTaskAlarm",
];

#[test]
fn the_radius_service_exists_only_with_an_image_and_bills_nothing_otherwise() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    assert!(template.contains("  HasRadiusService: !Not [!Equals [!Ref RadiusImageUri, \"\"]]\n"));
    let params = template.split("\nParameters:\n").nth(1).and_then(|t| t.split("\nConditions:\n").next()).unwrap();
    let image = params.split("  RadiusImageUri:\n").nth(1).expect("a RadiusImageUri parameter");
    assert!(image.starts_with("    Type: String\n    Default: \"\"\n"), "RadiusImageUri: empty by default");
    for id in RADIUS_SERVICE {
        // The first `Condition:` is the resource's (a policy statement's may follow).
        assert_eq!(values(resource(&res, id), "Condition").first(), Some(&"HasRadiusService"), "{id}");
    }
    // Every resource named Radius… is the function's (always there), the repository, or the service's.
    let always = [
        "RadiusFunction",
        "RadiusRole",
        "RadiusLogGroup",
        "RadiusRepository",
        "RadiusFunctionErrorAlarm",
        "RadiusFunctionThrottleAlarm",
    ];
    for (id, block) in res.iter().filter(|(id, _)| id.starts_with("Radius")) {
        if always.contains(&id.as_str()) {
            assert!(
                !values(block, "Condition").contains(&"HasRadiusService"),
                "{id} should not depend on the RADIUS service"
            );
        } else {
            assert!(RADIUS_SERVICE.contains(&id.as_str()), "{id}: add it to RADIUS_SERVICE (and its test)");
        }
    }
    let repo = resource(&res, "RadiusRepository");
    assert_eq!(values(repo, "Type"), ["AWS::ECR::Repository"]);
    assert_eq!(values(repo, "EmptyOnDelete"), ["true"]);
    let logs = resource(&res, "RadiusServiceLogGroup");
    assert_eq!(values(logs, "RetentionInDays"), ["!Ref LogRetentionDays"], "retention like the others");
}

#[test]
fn the_radius_task_is_a_small_arm64_fargate_task_with_the_settings_freeradius_reads() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let task = resource(&res, "RadiusTaskDefinition");
    for (key, want) in [
        ("Type", "AWS::ECS::TaskDefinition"),
        ("RequiresCompatibilities", "[FARGATE]"),
        ("NetworkMode", "awsvpc"),
        ("Cpu", "256"),
        ("Memory", "512"),
        ("CpuArchitecture", "ARM64"),
        ("OperatingSystemFamily", "LINUX"),
        ("Image", "!Ref RadiusImageUri"),
        ("ExecutionRoleArn", "!GetAtt RadiusExecutionRole.Arn"),
        ("TaskRoleArn", "!GetAtt RadiusTaskRole.Arn"),
        ("LogDriver", "awslogs"),
        ("awslogs-group", "!Ref RadiusServiceLogGroup"),
        ("InitProcessEnabled", "true"),
    ] {
        assert_eq!(values(task, key), [want], "RadiusTaskDefinition {key}");
    }
    for port in [
        "{ContainerPort: 1812, Protocol: udp}",
        "{ContainerPort: 1813, Protocol: udp}",
        "{ContainerPort: 2083, Protocol: tcp}",
    ] {
        assert!(task.contains(&format!("- {port}\n")), "the task maps {port}");
    }
    // {Name: RADIUS_AUTH_PORT, Value: "1812"}
    let env: BTreeMap<&str, &str> = task
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- {Name: ")?.strip_suffix('}')?.split_once(", Value: "))
        .map(|(k, v)| (k, template::unquote(v)))
        .collect();
    // What radiusd.conf expands ($ENV{NAME}): set on the task, or (a secret) NAME_PARAM for the
    // entrypoint to fetch.
    let conf = read("radius/raddb/radiusd.conf");
    let wanted: BTreeSet<&str> =
        conf.split("$ENV{").skip(1).filter_map(|s| s.split('}').next()).filter(|n| is_env_name(n)).collect();
    assert!(wanted.contains("RADIUS_API_URL") && wanted.contains("RADIUS_AUTH_PORT"), "{wanted:?}");
    for name in &wanted {
        if *name == "RADIUS_API_SECRET" {
            assert!(!env.contains_key(name), "the API secret must come from SSM, not the task definition");
            assert_eq!(env.get("RADIUS_API_SECRET_PARAM"), Some(&"!Ref RadiusApiSecretParam"));
        } else {
            assert!(env.contains_key(name), "radiusd.conf reads $ENV{{{name}}}; the task sets {env:?}");
        }
    }
    for (name, want) in [("RADIUS_AUTH_PORT", "1812"), ("RADIUS_ACCT_PORT", "1813"), ("RADIUS_RADSEC_PORT", "2083")] {
        assert_eq!(env.get(name), Some(&want), "{name}");
    }
    assert_eq!(
        env.get("RADIUS_API_URL"),
        Some(&"!Sub \"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}\"")
    );
    // The entrypoint reads every setting the task gives it, and needs none the task lacks.
    let entry = read("radius/entrypoint.sh");
    for name in
        env.keys().filter(|n| n.ends_with("_PARAM") || n.starts_with("RADIUS_CLIENTS_") || **n == "RADIUS_TLS_DIR")
    {
        assert!(entry.contains(&format!("${{{name}")), "radius/entrypoint.sh never reads {name}");
    }
    for required in entry.lines().filter(|l| l.starts_with(": \"${")).flat_map(|l| l.split("\"${").skip(1)) {
        let name = required.split([':', '}']).next().unwrap();
        assert!(env.contains_key(name), "the entrypoint requires {name}; the task does not set it");
    }
    let service = resource(&res, "RadiusService");
    for (key, want) in [
        ("LaunchType", "FARGATE"),
        ("DesiredCount", "!Ref RadiusDesiredCount"),
        ("TaskDefinition", "!Ref RadiusTaskDefinition"),
        ("AssignPublicIp", "ENABLED"),
        ("MinimumHealthyPercent", "100"),
    ] {
        assert_eq!(values(service, key), [want], "RadiusService {key}");
    }
    for (port, tg) in
        [("1812", "RadiusAuthTargetGroup"), ("1813", "RadiusAcctTargetGroup"), ("2083", "RadiusRadsecTargetGroup")]
    {
        let line = format!("- {{ContainerName: radius, ContainerPort: {port}, TargetGroupArn: !Ref {tg}}}\n");
        assert!(service.contains(&line), "RadiusService registers port {port} in {tg}");
    }
}

#[test]
fn the_radius_load_balancer_has_fixed_addresses_and_passes_the_radius_ports_through() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let nlb = resource(&res, "RadiusLoadBalancer");
    assert_eq!(values(nlb, "Type"), ["AWS::ElasticLoadBalancingV2::LoadBalancer", "network"]);
    assert_eq!(values(nlb, "Scheme"), ["internet-facing"]);
    assert_eq!(values(nlb, "- SubnetId"), ["!Ref RadiusSubnetA", "!Ref RadiusSubnetB"]);
    assert_eq!(
        values(nlb, "AllocationId"),
        ["!GetAtt RadiusAddressA.AllocationId", "!GetAtt RadiusAddressB.AllocationId"]
    );
    assert!(nlb.contains("- Key: load_balancing.cross_zone.enabled\n          Value: \"true\""));
    for eip in ["RadiusAddressA", "RadiusAddressB"] {
        assert_eq!(values(resource(&res, eip), "Domain"), ["vpc"], "{eip}");
    }
    // Listener → (protocol, port, target group); target group → (protocol, port).
    let mut listeners = BTreeSet::new();
    for (id, block) in res.iter().filter(|(_, b)| b.contains("Type: AWS::ElasticLoadBalancingV2::Listener\n")) {
        assert_eq!(values(block, "LoadBalancerArn"), ["!Ref RadiusLoadBalancer"], "{id}");
        let tg = values(block, "TargetGroupArn")[0].trim_start_matches("!Ref ").to_string();
        let tg_block = resource(&res, &tg);
        assert_eq!(values(tg_block, "Protocol"), values(block, "Protocol"), "{id} and {tg}: one protocol");
        assert_eq!(values(tg_block, "Port"), values(block, "Port"), "{id} and {tg}: one port");
        assert_eq!(values(tg_block, "TargetType"), ["ip"], "{tg}: Fargate tasks register by address");
        assert_eq!(values(tg_block, "HealthCheckProtocol"), ["TCP"], "{tg}: NLB health checks are never UDP");
        assert_eq!(values(tg_block, "HealthCheckPort"), ["2083"], "{tg}: the RadSec port answers TCP");
        assert_eq!(values(tg_block, "VpcId"), ["!Ref RadiusVpc"], "{tg}");
        listeners.insert((values(block, "Protocol")[0].to_string(), values(block, "Port")[0].to_string(), tg));
    }
    let want: BTreeSet<(String, String, String)> = [
        ("UDP", "1812", "RadiusAuthTargetGroup"),
        ("UDP", "1813", "RadiusAcctTargetGroup"),
        ("TCP", "2083", "RadiusRadsecTargetGroup"),
    ]
    .iter()
    .map(|(p, n, t)| (p.to_string(), n.to_string(), t.to_string()))
    .collect();
    assert_eq!(listeners, want, "RADIUS over UDP, RadSec over TCP (TLS is FreeRADIUS's, never the NLB's)");
    assert!(
        !template.contains("Protocol: TLS"),
        "no TLS listener: the router's client certificate must reach FreeRADIUS"
    );
    assert!(
        resource(&res, "RadiusRadsecListener").contains("- Key: tcp.idle_timeout.seconds\n          Value: \"6000\"")
    );
    // The addresses the routers are given.
    let outputs = template.split("\nOutputs:\n").nth(1).expect("Outputs");
    for eip in ["RadiusAddressA", "RadiusAddressB"] {
        assert!(outputs.contains(&format!("  {eip}:\n    Condition: HasRadiusService\n")), "output {eip}");
        assert!(outputs.contains(&format!("    Value: !Ref {eip}\n")), "output {eip} is the Elastic IP");
    }
    assert!(outputs.contains("    Value: !Join [\",\", [!Ref RadiusAddressA, !Ref RadiusAddressB]]\n"));
    assert!(outputs.contains("    Value: !GetAtt RadiusRepository.RepositoryUri\n"));
}

#[test]
fn the_radius_security_group_opens_only_the_radius_ports() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let sg = resource(&res, "RadiusServiceSecurityGroup");
    let rules = |key: &str| -> Vec<String> {
        let after = sg.split(&format!("      {key}:\n")).nth(1).unwrap_or_else(|| panic!("no {key}"));
        after
            .lines()
            .take_while(|l| l.starts_with("        - {"))
            .map(|l| l.trim().split(", Description:").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        rules("SecurityGroupIngress"),
        [
            "- {IpProtocol: udp, FromPort: 1812, ToPort: 1812, CidrIp: 0.0.0.0/0",
            "- {IpProtocol: udp, FromPort: 1813, ToPort: 1813, CidrIp: 0.0.0.0/0",
            "- {IpProtocol: tcp, FromPort: 2083, ToPort: 2083, CidrIp: 0.0.0.0/0",
        ]
    );
    assert_eq!(rules("SecurityGroupEgress"), ["- {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0"]);
    let service = resource(&res, "RadiusService");
    assert_eq!(values(service, "SecurityGroups"), ["[!Ref RadiusServiceSecurityGroup]"]);
}

#[test]
fn the_radius_task_role_reads_only_its_parameters_and_the_execution_role_only_pulls_and_logs() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let task = statements(resource(&res, "RadiusTaskRole"));
    let trust = |s: &[(Vec<String>, Vec<String>)], role: &str| {
        assert_eq!(s[0].0, ["sts:AssumeRole"], "{role}: the trust policy first");
    };
    trust(&task, "RadiusTaskRole");
    assert!(resource(&res, "RadiusTaskRole").contains("Principal: {Service: ecs-tasks.amazonaws.com}"));
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let params = ["RadiusApiSecretParam", "RadiusTlsKeyParam", "RadiusTlsCertParam", "RadiusTlsCaParam"].map(ssm_arn);
    let kms = "!Sub \"arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*\"";
    assert_eq!(
        task[1..].to_vec(),
        vec![
            (owned(&["ssm:GetParameter"]), params.to_vec()),
            (owned(&["ssm:GetParametersByPath"]), vec![ssm_arn("RadiusClientsPath")]),
            (owned(&["kms:Decrypt"]), owned(&[kms])),
        ],
        "RadiusTaskRole: exactly the parameters the entrypoint reads"
    );
    assert!(
        resource(&res, "RadiusTaskRole").contains("kms:ViaService: !Sub \"ssm.${AWS::Region}.amazonaws.com\""),
        "kms:Decrypt only through SSM"
    );
    // The entrypoint calls exactly those two SSM operations.
    let entry = read("radius/entrypoint.sh");
    let ops: BTreeSet<&str> = entry.split("ssm Get").skip(1).filter_map(|s| s.split(' ').next()).collect();
    assert_eq!(ops, ["Parameter", "ParametersByPath"].into_iter().collect(), "SSM operations in radius/entrypoint.sh");
    let exec = statements(resource(&res, "RadiusExecutionRole"));
    trust(&exec, "RadiusExecutionRole");
    assert_eq!(
        exec[1..].to_vec(),
        vec![
            (owned(&["ecr:GetAuthorizationToken"]), owned(&["*"])),
            (
                owned(&["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]),
                owned(&["!GetAtt RadiusRepository.Arn"])
            ),
            (owned(&["logs:CreateLogStream", "logs:PutLogEvents"]), owned(&["!GetAtt RadiusServiceLogGroup.Arn"])),
        ],
        "RadiusExecutionRole: pull from this stack's repository, write the service's log group"
    );
}

#[test]
fn the_radius_alarms_watch_the_service_and_the_function() {
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let actions = "!If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]";
    let lb = "{Name: LoadBalancer, Value: !GetAtt RadiusLoadBalancer.LoadBalancerFullName}";
    let tg = |g: &str| format!("{{Name: TargetGroup, Value: !GetAtt {g}.TargetGroupFullName}}");
    // (alarm, namespace, metric, statistic, comparison, threshold, dimension lines)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a str, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            "RadiusAuthNoHealthyTargetAlarm",
            "AWS/NetworkELB",
            "HealthyHostCount",
            "Minimum",
            "LessThanThreshold",
            "1",
            vec![lb.into(), tg("RadiusAuthTargetGroup")],
        ),
        (
            "RadiusAcctNoHealthyTargetAlarm",
            "AWS/NetworkELB",
            "HealthyHostCount",
            "Minimum",
            "LessThanThreshold",
            "1",
            vec![lb.into(), tg("RadiusAcctTargetGroup")],
        ),
        (
            "RadiusRadsecNoHealthyTargetAlarm",
            "AWS/NetworkELB",
            "HealthyHostCount",
            "Minimum",
            "LessThanThreshold",
            "1",
            vec![lb.into(), tg("RadiusRadsecTargetGroup")],
        ),
        (
            "RadiusUnhealthyTargetAlarm",
            "AWS/NetworkELB",
            "UnHealthyHostCount",
            "Maximum",
            "GreaterThanThreshold",
            "0",
            vec![lb.into(), tg("RadiusRadsecTargetGroup")],
        ),
        (
            "RadiusServiceBelowDesiredAlarm",
            "AWS/NetworkELB",
            "HealthyHostCount",
            "Minimum",
            "LessThanThreshold",
            "!Ref RadiusDesiredCount",
            vec![lb.into(), tg("RadiusRadsecTargetGroup")],
        ),
        (
            "RadiusServiceNoTaskAlarm",
            "AWS/ECS",
            "CPUUtilization",
            "SampleCount",
            "LessThanThreshold",
            "1",
            vec![
                "{Name: ClusterName, Value: !Ref RadiusCluster}".into(),
                "{Name: ServiceName, Value: !GetAtt RadiusService.Name}".into(),
            ],
        ),
    ];
    for (id, ns, metric, stat, cmp, threshold, dims) in &cases {
        let a = resource(&res, id);
        for (key, want) in [
            ("Type", "AWS::CloudWatch::Alarm"),
            ("Namespace", *ns),
            ("MetricName", *metric),
            ("Statistic", *stat),
            ("ComparisonOperator", *cmp),
            ("Threshold", *threshold),
            ("AlarmActions", actions),
        ] {
            assert_eq!(values(a, key), [want], "{id} {key}");
        }
        let got: Vec<&str> = a
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- {Name: ").map(|_| l.trim().trim_start_matches("- ")))
            .collect();
        assert_eq!(got, dims.iter().map(String::as_str).collect::<Vec<_>>(), "{id} dimensions");
        // No data means no healthy target / no task, except for the unhealthy count.
        let missing = if *metric == "UnHealthyHostCount" { "notBreaching" } else { "breaching" };
        assert_eq!(values(a, "TreatMissingData"), [missing], "{id}");
    }
    // The function's, in the callback function's style.
    for (id, metric) in [("RadiusFunctionErrorAlarm", "Errors"), ("RadiusFunctionThrottleAlarm", "Throttles")] {
        let a = resource(&res, id);
        for (key, want) in [
            ("Namespace", "AWS/Lambda"),
            ("MetricName", metric),
            ("Value", "!Ref RadiusFunction"),
            ("Statistic", "Sum"),
            ("Threshold", "0"),
            ("ComparisonOperator", "GreaterThanThreshold"),
            ("TreatMissingData", "notBreaching"),
            ("AlarmActions", actions),
        ] {
            assert_eq!(values(a, key), [want], "{id} {key}");
        }
        assert_eq!(values(a, "- Name"), ["FunctionName"], "{id}");
    }
}

#[test]
fn the_radius_image_is_debian_freeradius_with_our_config_and_entrypoint() {
    let file = read("radius/Containerfile");
    assert!(file.contains("FROM docker.io/library/debian:bookworm-slim\n"));
    for pkg in ["freeradius", "freeradius-rest", "curl", "jq", "ca-certificates"] {
        assert!(file.split_whitespace().any(|w| w == pkg), "the image installs {pkg}");
    }
    assert!(file.contains("COPY raddb/radiusd.conf /etc/hotspot-radius/radiusd.conf\n"));
    assert!(file.contains("COPY entrypoint.sh /usr/local/bin/hotspot-radius\n"));
    assert!(file.contains("ENTRYPOINT [\"/usr/local/bin/hotspot-radius\"]\n"));
    assert!(file.contains("USER freerad\n"), "FreeRADIUS runs as its own user");
    let entry = read("radius/entrypoint.sh");
    assert!(
        entry.contains("/etc/hotspot-radius/radiusd.conf"),
        "the entrypoint reads the config where the image puts it"
    );
    let out = Command::new("bash").args(["-n", "radius/entrypoint.sh"]).current_dir(root()).output().expect("bash");
    assert!(out.status.success(), "bash -n radius/entrypoint.sh: {}", String::from_utf8_lossy(&out.stderr));
}
