//! The template's IAM roles and alarms match the code, from a name-based call graph of the source
//! (text only, no parser): from each binary in `src/bin` we follow the functions it can reach in
//! `lambdas/src` and `cloud/src`, collect the AWS SDK operations and the `alarm = "…"` log lines
//! in those bodies, and require that
//! - the function's role allows exactly the actions those operations need (no more, no fewer),
//!   and `dynamodb:Query` on the table and on exactly the indexes its code queries;
//! - every alarm name its code can log has a metric filter on its log group and an alarm on it.
//!
//! How the graph is built: every `fn NAME` line starts a body that runs to the next one (code
//! after `#[cfg(test)]` and comment lines left out; same-named fns merged). A body reaches the fns
//! it names followed by `(` or `::<`: `.name(…)` only methods (fns taking `self`), `name(…)` only
//! free fns, `Type::name(…)` either; a bare argument (`.map(parse_purchase)`) free fns. Not
//! followed: paths into other crates (`lambda_runtime::run`), names bound in the body itself (the
//! closure `handle` in `serve_signed`), and the stop-list below. A type's `impl Trait for Type`
//! block is reached when a reached body names the type: another crate calls its methods (the
//! Daraja client calls `DynamoTokenStore`'s). By name, a call reaches every fn of that name, so
//! the graph errs towards reaching too much: `--nocapture` prints what each function reaches.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

#[path = "support/template.rs"]
mod template;
use template::{binaries, read, resources, root, unquote, values};

// ------------------------------------------------------------------ the code

/// Names never followed as calls: names of std / SDK / serde methods that some of our own fns
/// share (`Store::new`, the store's `parse` fns, `Display::fmt`, `Reply::json` / `Reply::ok`, the
/// token store's `err`). Following them would tie every `id.parse::<PurchaseId>()` or
/// `.map_err(…)` to those fns. None of our fns so named calls AWS or logs an alarm (checked
/// when this list was made; `new` constructors only build clients).
const STOP: &[&str] =
    &["new", "from", "parse", "get", "send", "into", "build", "map", "default", "fmt", "json", "clone", "ok", "err"];

/// The SDK operations we look for, as `.op()` (the fluent builders take no arguments), and the
/// IAM actions each needs. SSM SecureString reads also need `kms:Decrypt` (via SSM).
const OPERATIONS: &[(&str, &[&str])] = &[
    ("get_item", &["dynamodb:GetItem"]),
    ("put_item", &["dynamodb:PutItem"]),
    ("update_item", &["dynamodb:UpdateItem"]),
    ("delete_item", &["dynamodb:DeleteItem"]),
    ("query", &["dynamodb:Query"]),
    ("scan", &["dynamodb:Scan"]),
    ("batch_write_item", &["dynamodb:BatchWriteItem"]),
    ("batch_get_item", &["dynamodb:BatchGetItem"]),
    ("transact_write_items", &["dynamodb:TransactWriteItems"]),
    ("transact_get_items", &["dynamodb:TransactGetItems"]),
    ("send_message", &["sqs:SendMessage"]),
    ("receive_message", &["sqs:ReceiveMessage"]),
    ("delete_message", &["sqs:DeleteMessage"]),
    ("change_message_visibility", &["sqs:ChangeMessageVisibility"]),
    ("get_parameter", &["ssm:GetParameter", "kms:Decrypt"]),
    ("get_parameters", &["ssm:GetParameters", "kms:Decrypt"]),
    ("delete_access_key", &["iam:DeleteAccessKey"]),
];

/// One fn body (or impl block) of the source; `method` when the fn takes `self`.
#[derive(Clone)]
struct Body {
    file: String,
    text: String,
    method: bool,
}

/// Crates outside `lambdas` and `hotspot_cloud`: `lambda_runtime::run(…)` is not our `run`.
const EXTERNAL: &[&str] = &[
    "std",
    "core",
    "tokio",
    "lambda_runtime",
    "lambda_http",
    "aws_lambda_events",
    "serde",
    "serde_json",
    "tracing",
    "tracing_subscriber",
    "aws_config",
    "aws_sdk_dynamodb",
    "aws_sdk_sqs",
    "aws_sdk_ssm",
    "aws_sdk_iam",
    "daraja",
    "hotspot_core",
    "reqwest",
    "thiserror",
];

/// The source split into fns: bodies by fn name (same-named fns merged), and `impl Trait for
/// Type` blocks by type. A trait impl's methods are called from other crates (the Daraja client
/// calls `DynamoTokenStore`'s `load` / `try_lease` / …), so such a block is reached as soon as a
/// reached body names its type.
struct Code {
    fns: BTreeMap<String, Vec<Body>>,
    impls: BTreeMap<String, Vec<Body>>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "bin") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The lines that are code: up to a `#[cfg(test)]` line, without comment lines.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().take_while(|l| l.trim() != "#[cfg(test)]").filter(|l| !l.trim_start().starts_with("//"))
}

/// `NAME` of a line declaring `fn NAME` (with pub / pub(crate) / async / const prefixes).
fn fn_name(line: &str) -> Option<&str> {
    let mut l = line.trim_start();
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe "] {
        l = l.strip_prefix(prefix).unwrap_or(l);
    }
    let rest = l.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// A fn's body; it is a method when its parameter list (up to the first `)`) names `self`.
fn body(file: &str, text: String) -> Body {
    let sig = text.split_once("fn ").map_or("", |(_, s)| s);
    let params = sig.split_once('(').map(|(_, p)| p.split(')').next().unwrap_or_default()).unwrap_or_default();
    let method = params.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|w| w == "self");
    Body { file: file.to_string(), text, method }
}

impl Code {
    fn load() -> Code {
        let root = root();
        let mut files = Vec::new();
        rust_files(&root.join("lambdas/src"), &mut files);
        rust_files(&root.join("cloud/src"), &mut files);
        files.sort();
        let mut code = Code { fns: BTreeMap::new(), impls: BTreeMap::new() };
        for path in files {
            let file = path.strip_prefix(&root).unwrap().display().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let mut current: Option<(String, String)> = None;
            let mut imp: Option<(String, String)> = None;
            for line in code_lines(&text) {
                if line.starts_with("impl") && line.contains(" for ") {
                    let ty = line.split(" for ").nth(1).unwrap_or_default();
                    let end = ty.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(ty.len());
                    imp = Some((ty[..end].to_string(), String::new()));
                } else if line == "}"
                    && let Some((ty, text)) = imp.take()
                {
                    code.impls.entry(ty).or_default().push(Body { file: file.clone(), text, method: true });
                }
                if let Some((_, t)) = imp.as_mut() {
                    t.push_str(line);
                    t.push('\n');
                }
                if let Some(name) = fn_name(line) {
                    if let Some((n, t)) = current.take() {
                        code.fns.entry(n).or_default().push(body(&file, t));
                    }
                    current = Some((name.to_string(), String::new()));
                }
                if let Some((_, t)) = current.as_mut() {
                    t.push_str(line);
                    t.push('\n');
                }
            }
            if let Some((n, t)) = current.take() {
                code.fns.entry(n).or_default().push(body(&file, t));
            }
        }
        code
    }

    /// What binary `bin` can reach: node → (its bodies, the call chain from the binary).
    /// Nodes are `fn NAME` and `impl for TYPE`.
    fn reach(&self, bin: &str) -> BTreeMap<String, (Vec<Body>, Vec<String>)> {
        let file = format!("lambdas/src/bin/{bin}.rs");
        let start: String = code_lines(&read(&file)).flat_map(|l| [l, "\n"]).collect();
        let mut reached: BTreeMap<String, (Vec<Body>, Vec<String>)> = BTreeMap::new();
        reached.insert(
            format!("bin {bin}"),
            (vec![Body { file, text: start, method: false }], vec![format!("bin {bin}")]),
        );
        let mut queue = VecDeque::from([format!("bin {bin}")]);
        while let Some(node) = queue.pop_front() {
            let (bodies, chain) = reached[&node].clone();
            let mut next: Vec<(String, Vec<Body>)> = Vec::new();
            for b in &bodies {
                for call in calls(&b.text) {
                    if STOP.contains(&call.name) {
                        continue;
                    }
                    // `.name(…)` calls a method; `name(…)` a free fn (or a closure bound right
                    // there: `let handle = …`, `handle: F`); `Type::name(…)` either; a bare
                    // argument may be a free fn passed as a value.
                    let found: Vec<Body> = self
                        .fns
                        .get(call.name)
                        .into_iter()
                        .flatten()
                        .filter(|f| match call.kind {
                            Kind::Method => f.method,
                            Kind::Free | Kind::Value => !f.method && !bound_locally(&b.text, call.name),
                            Kind::Path => true,
                        })
                        .cloned()
                        .collect();
                    if !found.is_empty() {
                        let node = match call.kind {
                            Kind::Method => format!("method {}", call.name),
                            _ => format!("fn {}", call.name),
                        };
                        next.push((node, found));
                    }
                }
                let words = identifiers(&b.text).map(|(w, _)| w).collect::<BTreeSet<_>>();
                for (ty, found) in &self.impls {
                    if words.contains(ty.as_str()) {
                        next.push((format!("impl for {ty}"), found.clone()));
                    }
                }
            }
            for (n, found) in next {
                if !reached.contains_key(&n) {
                    let mut c = chain.clone();
                    c.push(n.clone());
                    reached.insert(n.clone(), (found, c));
                    queue.push_back(n);
                }
            }
        }
        reached
    }
}

/// Every identifier in `text` with the byte offset just after it.
fn identifiers(text: &str) -> impl Iterator<Item = (&str, usize)> {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if word(b[i]) && (i == 0 || !word(b[i - 1])) && !b[i].is_ascii_digit() {
                let s = i;
                while i < b.len() && word(b[i]) {
                    i += 1;
                }
                return Some((&text[s..i], i));
            }
            i += 1;
        }
        None
    })
}

#[derive(Clone, Copy)]
enum Kind {
    /// `x.name(…)`
    Method,
    /// `name(…)`
    Free,
    /// `a::name(…)`
    Path,
    /// `f(name)`, `f(x, name)`: a fn passed as a value (`.map(parse_purchase)`)
    Value,
}

struct Call<'a> {
    name: &'a str,
    kind: Kind,
}

/// Calls in `text`: an identifier followed by `(` or `::<`, not declared there (`fn x(`), and not
/// a path into another crate (`lambda_runtime::run(`); and bare names passed as arguments.
fn calls(text: &str) -> impl Iterator<Item = Call<'_>> {
    identifiers(text).filter_map(move |(name, end)| {
        let after = &text[end..];
        let before = &text[..end - name.len()];
        let argument =
            (before.ends_with('(') || before.ends_with(", ")) && (after.starts_with(')') || after.starts_with(','));
        if argument {
            return Some(Call { name, kind: Kind::Value });
        }
        if !(after.starts_with('(') || after.starts_with("::<")) || before.trim_end().ends_with("fn") {
            return None;
        }
        let kind = if before.ends_with('.') {
            Kind::Method
        } else if let Some(path) = before.strip_suffix("::") {
            let first = path
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .split("::")
                .next()
                .unwrap_or_default();
            if EXTERNAL.contains(&first) {
                return None;
            }
            Kind::Path
        } else {
            Kind::Free
        };
        Some(Call { name, kind })
    })
}

/// `name` is a local binding in `text` (a closure parameter or variable), not a fn.
fn bound_locally(text: &str, name: &str) -> bool {
    [format!("let {name} ="), format!("let {name}:"), format!("{name}: F"), format!("{name}: impl Fn")]
        .iter()
        .any(|p| text.contains(p.as_str()))
}

/// The SDK operations called in `text` (`.op()`).
fn operations(text: &str) -> Vec<&'static str> {
    OPERATIONS.iter().filter(|(op, _)| text.contains(&format!(".{op}()"))).map(|(op, _)| *op).collect()
}

/// The IAM actions of the operations binary `bin` reaches: action → where its calls are.
fn derived_actions(code: &Code, bin: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (node, (bodies, chain)) in code.reach(bin) {
        for b in &bodies {
            for op in operations(&b.text) {
                let actions = OPERATIONS.iter().find(|(o, _)| *o == op).unwrap().1;
                for a in actions {
                    out.entry(a.to_string()).or_default().insert(format!(
                        "`.{op}()` in {node} ({}) via {}",
                        b.file,
                        chain.join(" → ")
                    ));
                }
            }
        }
    }
    out
}

/// Alarm names logged in `text` (`alarm = "NAME"`).
fn alarm_names(text: &str) -> Vec<String> {
    text.split("alarm = \"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_string).collect()
}

// ------------------------------------------------------------------ the template

fn resource<'a>(res: &'a [(String, String)], id: &str) -> &'a str {
    &res.iter().find(|(i, _)| i == id).unwrap_or_else(|| panic!("no resource {id}")).1
}

/// The function resource built from binary `bin`: (logical id, block).
fn function_for<'a>(res: &'a [(String, String)], bin: &str) -> (&'a str, &'a str) {
    let found: Vec<_> = res
        .iter()
        .filter(|(_, b)| b.contains("Type: AWS::Serverless::Function") && values(b, "Binary") == [bin])
        .collect();
    assert_eq!(found.len(), 1, "expected one function with BuildProperties Binary: {bin}");
    (&found[0].0, &found[0].1)
}

/// `X` of a `!Ref X` / `!GetAtt X.Arn` value.
fn target<'a>(value: &'a str, tag: &str) -> &'a str {
    let v = value.strip_prefix(tag).unwrap_or_else(|| panic!("{value:?} is not {tag} …")).trim();
    v.strip_suffix(".Arn").unwrap_or(v)
}

/// One policy statement of a role: its actions and resources.
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
}

/// A `Key: x`, `Key: [a, b]` or `Key:` + `- a` lines list in a statement.
fn list(lines: &[&str], key: &str) -> Vec<String> {
    let Some(i) = lines.iter().position(|l| l.trim().trim_start_matches("- ").starts_with(&format!("{key}:"))) else {
        return Vec::new();
    };
    let rest = lines[i].trim().trim_start_matches("- ")[key.len() + 1..].trim();
    if let Some(inner) = rest.strip_prefix('[') {
        return inner.trim_end_matches(']').split(',').map(|s| s.trim().to_string()).collect();
    }
    if !rest.is_empty() {
        return vec![unquote(rest).to_string()];
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let base = indent(lines[i]);
    lines[i + 1..]
        .iter()
        .take_while(|l| indent(l) > base && l.trim().starts_with("- "))
        .map(|l| unquote(l.trim()[2..].trim()).to_string())
        .collect()
}

/// The statements of a role block (the trust policy's included).
fn statements(role: &str) -> Vec<Statement> {
    let lines: Vec<&str> = role.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].trim().starts_with("- Effect:")).collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let end = starts.get(k + 1).copied().unwrap_or(lines.len());
            let chunk = &lines[s..end];
            Statement { actions: list(chunk, "Action"), resources: list(chunk, "Resource") }
        })
        .collect()
}

/// What Lambda's SQS event source mapping does with the events function's role: it polls the
/// events queue for the function, so these are allowed on `EventsQueue` without our code calling
/// them.
const EVENT_SOURCE_MAPPING: (&str, &str, &[&str]) = (
    "EventsRole",
    "!GetAtt EventsQueue.Arn",
    &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
);

/// The actions `role` allows our code: without logs:* (the runtime's own log writes),
/// sts:AssumeRole (the trust policy) and the event source mapping's statement.
fn role_actions(res: &[(String, String)], role: &str) -> BTreeSet<String> {
    let (esm_role, esm_resource, esm_actions) = EVENT_SOURCE_MAPPING;
    statements(resource(res, role))
        .into_iter()
        .filter(|s| {
            let esm = role == esm_role
                && s.resources == [esm_resource]
                && s.actions.iter().all(|a| esm_actions.contains(&a.as_str()));
            !esm
        })
        .flat_map(|s| s.actions)
        .filter(|a| !a.starts_with("logs:") && a != "sts:AssumeRole")
        .collect()
}

// ------------------------------------------------------------------ IAM

#[test]
fn each_role_allows_exactly_the_aws_calls_its_code_can_reach() {
    let code = Code::load();
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let bins = binaries();
    assert_eq!(bins.len(), 9, "the nine functions: {bins:?}");
    let mut failures = Vec::new();
    for bin in &bins {
        let (_, f) = function_for(&res, bin);
        let role = target(values(f, "Role").first().copied().unwrap_or_else(|| panic!("{bin} has no Role")), "!GetAtt");
        let derived = derived_actions(&code, bin);
        let allowed = role_actions(&res, role);
        let wanted: BTreeSet<String> = derived.keys().cloned().collect();
        eprintln!("{bin} ({role}): {wanted:?}");
        let missing: Vec<String> = wanted
            .difference(&allowed)
            .map(|a| {
                format!(
                    "    {a}, needed by:\n{}",
                    derived[a].iter().map(|w| format!("      {w}\n")).collect::<String>()
                )
            })
            .collect();
        let superfluous: Vec<&String> = allowed.difference(&wanted).collect();
        if !missing.is_empty() || !superfluous.is_empty() {
            failures.push(format!(
                "{bin} ({role}):\n  missing:\n{}  superfluous (no reachable code calls them): {superfluous:?}",
                missing.concat()
            ));
        }
    }
    assert!(failures.is_empty(), "roles do not match the code:\n{}", failures.join("\n"));
}

#[test]
fn queries_are_allowed_on_the_table_and_exactly_the_indexes_the_code_uses() {
    let code = Code::load();
    let template = read("infra/template.yaml");
    let res = resources(&template);
    // pub const GSI_PENDING: &str = "pending";
    let schema = read("cloud/src/store/schema.rs");
    let gsis: BTreeMap<&str, &str> = schema
        .lines()
        .filter_map(|l| l.strip_prefix("pub const ")?.split_once(": &str = \""))
        .filter(|(c, _)| c.starts_with("GSI_"))
        .map(|(c, v)| (c, v.trim_end_matches("\";")))
        .collect();
    assert_eq!(gsis.len(), 8, "schema.rs declares eight indexes: {gsis:?}");
    let mut failures = Vec::new();
    for bin in binaries() {
        let (_, f) = function_for(&res, &bin);
        let role = target(values(f, "Role")[0], "!GetAtt");
        let query_on: BTreeSet<String> = statements(resource(&res, role))
            .into_iter()
            .filter(|s| s.actions.iter().any(|a| a == "dynamodb:Query"))
            .flat_map(|s| s.resources)
            .collect();
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for (node, (bodies, chain)) in code.reach(&bin) {
            for b in &bodies {
                // A Query on the table itself (no index in the same body).
                if b.text.contains(".query()") && !b.text.contains(".index_name(") {
                    wanted.insert("!GetAtt Table.Arn".into());
                    if !query_on.contains("!GetAtt Table.Arn") {
                        failures.push(format!(
                            "{bin} ({role}): {node} ({}) queries the table itself (no .index_name), via {}, \
                             but dynamodb:Query is not allowed on !GetAtt Table.Arn",
                            b.file,
                            chain.join(" → ")
                        ));
                    }
                }
                // An index named by its schema constant (passed to `.index_name(…)` here or by the
                // caller of a fn that takes the index as a parameter).
                for (w, _) in identifiers(&b.text) {
                    if let Some(index) = gsis.get(w) {
                        let arn = format!("!Sub \"${{Table.Arn}}/index/{index}\"");
                        if !query_on.contains(&arn) {
                            failures.push(format!(
                                "{bin} ({role}): {node} ({}) uses index {index} ({w}), via {}, but dynamodb:Query \
                                 is not allowed on {arn}",
                                b.file,
                                chain.join(" → ")
                            ));
                        }
                        wanted.insert(arn);
                    }
                }
            }
        }
        let extra: Vec<&String> = query_on.difference(&wanted).collect();
        if !extra.is_empty() {
            failures.push(format!("{bin} ({role}): dynamodb:Query allowed on {extra:?}, which its code never queries"));
        }
    }
    failures.sort();
    failures.dedup();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_call_graph_finds_what_we_know_is_there() {
    // Guards against the graph silently losing edges (a renamed fn, a new stop word).
    let code = Code::load();
    let purchase = derived_actions(&code, "purchase");
    assert!(
        purchase.get("sqs:SendMessage").is_some_and(|w| w.iter().any(|w| w.contains("deliver"))),
        "purchase reaches the outbox's deliver (the callback beat the link): {purchase:?}"
    );
    for bin in ["purchase", "status", "reconcile"] {
        let d = derived_actions(&code, bin);
        assert!(
            d.get("dynamodb:UpdateItem").is_some_and(|w| w.iter().any(|w| w.contains("impl for DynamoTokenStore"))),
            "{bin} shares the Daraja token through the table (DynamoTokenStore)"
        );
    }
    for bin in binaries() {
        let d = derived_actions(&code, &bin);
        assert!(d.contains_key("dynamodb:GetItem"), "{bin} reads the table: {d:?}");
    }
}

// ------------------------------------------------------------------ alarms

/// The value of `key` in a block, a folded (`>-`) one joined from its indented lines.
fn scalar(block: &str, key: &str) -> String {
    let lines: Vec<&str> = block.lines().collect();
    let Some(i) = lines.iter().position(|l| l.trim().starts_with(&format!("{key}:"))) else { return String::new() };
    let v = lines[i].trim()[key.len() + 1..].trim();
    if v != ">-" && v != ">" {
        return unquote(v).to_string();
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let base = indent(lines[i]);
    lines[i + 1..].iter().take_while(|l| indent(l) > base).map(|l| l.trim()).collect::<Vec<_>>().join(" ")
}

/// `amount_mismatch` → `AmountMismatch`.
fn pascal(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

#[test]
fn every_alarm_the_code_can_log_is_watched_on_its_function_log_group() {
    let code = Code::load();
    let template = read("infra/template.yaml");
    let res = resources(&template);
    let of_type = |ty: &str| -> Vec<(String, String)> {
        res.iter().filter(|(_, b)| b.contains(&format!("Type: {ty}\n"))).cloned().collect()
    };
    let filters = of_type("AWS::Logs::MetricFilter");
    let alarms = of_type("AWS::CloudWatch::Alarm");
    let namespace = "!Sub \"${AWS::StackName}/hotspot\"";

    // Every alarm name anywhere in the source, and which binaries reach it.
    let mut everywhere: BTreeSet<String> = BTreeSet::new();
    for bodies in code.fns.values() {
        for b in bodies {
            everywhere.extend(alarm_names(&b.text));
        }
    }
    assert!(everywhere.contains("amount_mismatch"), "the alarm scan found nothing: {everywhere:?}");
    let mut reached_names: BTreeSet<String> = BTreeSet::new();
    let mut failures = Vec::new();
    let mut watched: BTreeSet<String> = BTreeSet::new();
    for bin in binaries() {
        let (_, f) = function_for(&res, &bin);
        let group = values(f, "LogGroup").first().map(|g| target(g, "!Ref").to_string());
        let Some(group) = group else {
            failures.push(format!("{bin}: no LoggingConfig LogGroup"));
            continue;
        };
        let prefix = group.strip_suffix("LogGroup").unwrap_or(&group).to_string();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (node, (bodies, chain)) in code.reach(&bin) {
            for b in &bodies {
                for name in alarm_names(&b.text) {
                    names.entry(name).or_insert_with(|| format!("{node} ({}) via {}", b.file, chain.join(" → ")));
                }
            }
        }
        eprintln!("{bin} ({group}) can log alarms: {:?}", names.keys().collect::<Vec<_>>());
        for (name, origin) in &names {
            reached_names.insert(name.clone());
            let pattern = format!("'{{ $.alarm = \"{name}\" }}'");
            let metric = format!("{prefix}{}", pascal(name));
            let filter = filters.iter().find(|(_, b)| {
                values(b, "LogGroupName") == [format!("!Ref {group}").as_str()]
                    && values(b, "FilterPattern") == [&pattern]
            });
            let Some((fid, filter)) = filter else {
                failures.push(format!(
                    "{bin} can log alarm {name:?} ({origin}) but no AWS::Logs::MetricFilter on {group} has \
                     FilterPattern {pattern}"
                ));
                continue;
            };
            watched.insert(fid.clone());
            if values(filter, "MetricName") != [metric.as_str()]
                || values(filter, "- MetricNamespace") != [namespace]
                || values(filter, "MetricValue") != ["1"]
            {
                failures
                    .push(format!("{fid}: want MetricNamespace {namespace}, MetricName {metric}, MetricValue \"1\""));
            }
            let alarm = alarms
                .iter()
                .find(|(_, b)| values(b, "MetricName") == [metric.as_str()] && values(b, "Namespace") == [namespace]);
            let Some((aid, alarm)) = alarm else {
                failures.push(format!("{bin}: no AWS::CloudWatch::Alarm on metric {metric} ({fid}, alarm {name:?})"));
                continue;
            };
            for (key, want) in [
                ("Statistic", "Sum"),
                ("Period", "60"),
                ("EvaluationPeriods", "1"),
                ("Threshold", "0"),
                ("ComparisonOperator", "GreaterThanThreshold"),
                ("TreatMissingData", "notBreaching"),
                ("AlarmActions", "!If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue]"),
            ] {
                if values(alarm, key) != [want] {
                    failures.push(format!("{aid}: {key} should be {want}, is {:?}", values(alarm, key)));
                }
            }
            if scalar(alarm, "AlarmDescription").len() < 80 {
                failures.push(format!("{aid}: say what money is in doubt and what to do (AlarmDescription)"));
            }
        }
    }
    let unreached: Vec<&String> = everywhere.difference(&reached_names).collect();
    if !unreached.is_empty() {
        failures.push(format!(
            "alarm names logged in code no function reaches (dead code, or the call graph lost an edge): {unreached:?}"
        ));
    }
    // And no filter watches an alarm name for a function that cannot log it.
    for (fid, b) in &filters {
        if values(b, "FilterPattern").first().is_some_and(|p| p.contains("$.alarm")) && !watched.contains(fid) {
            failures.push(format!("{fid} watches an alarm its log group's function cannot log"));
        }
    }
    assert!(failures.is_empty(), "alarms:\n{}", failures.join("\n"));
}
