//! `hotspotctl router add | list | show` against moto (DynamoDB, SQS, IAM, STS), running the
//! binary itself.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use aws_sdk_sqs::types::QueueAttributeName;
use common::{AGENT_SETTINGS, env_of};
use hotspot_cloud::store::{RouterHealth, Store, schema};
use hotspot_core::RouterId;
use hotspotctl::provision::{self, Clients};
use testkit::Moto;

const TABLE: &str = "hotspot";
const API_ID: &str = "abc123def4";
const ACCOUNT: &str = "123456789012";

struct Stack {
    moto: Moto,
    events_url: String,
    dir: tempfile::TempDir,
}

async fn stack() -> Stack {
    let moto = Moto::start().await.expect("moto starts");
    schema::create_table(&moto.dynamodb(), TABLE).await.expect("table");
    let events_url = moto.create_queue("hotspot-events").await.expect("events queue");
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Stack { moto, events_url, dir };
    // The caller becomes the first admin, as an operator does once per stack.
    let init = s.hotspotctl(&["operator", "init"]).await;
    assert!(init.status.success(), "{}", text(&init.stderr));
    s
}

impl Stack {
    async fn hotspotctl(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_hotspotctl"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", self.dir.path().join("no-aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("no-aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", Moto::REGION)
            .env("TABLE_NAME", TABLE)
            .env("EVENTS_QUEUE_URL", &self.events_url)
            .env("CLOUD_API_URL", format!("https://{API_ID}.execute-api.{}.amazonaws.com", Moto::REGION))
            .output()
            .await
            .expect("hotspotctl runs")
    }

    async fn add(&self, id: &str, name: &str, version: &str, out: &str) -> Output {
        self.hotspotctl(&["router", "add", "--id", id, "--name", name, "--routeros-version", version, "--out", out])
            .await
    }

    fn store(&self) -> Store {
        Store::new(self.moto.dynamodb(), TABLE)
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.moto.sdk_config())
    }

    fn clients(&self) -> Clients {
        Clients::new(&self.moto.sdk_config(), TABLE)
    }

    async fn queue_attrs(&self, url: &str) -> BTreeMap<String, String> {
        let out = self
            .moto
            .sqs()
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .expect("queue attributes");
        out.attributes.unwrap_or_default().into_iter().map(|(k, v)| (k.as_str().to_string(), v)).collect()
    }

    /// What exists in the cloud, to compare before and after a refused command (the audit log,
    /// which records the refusal, aside).
    async fn snapshot(&self) -> String {
        let queues = self.moto.sqs().list_queues().send().await.expect("list queues");
        let mut queues = queues.queue_urls.unwrap_or_default();
        queues.sort();
        let users = self.iam().list_users().send().await.expect("list users");
        let mut out = format!("queues {queues:?}\n");
        for u in users.users {
            let keys = self.iam().list_access_keys().user_name(&u.user_name).send().await.expect("keys");
            let ids: Vec<String> = keys.access_key_metadata.into_iter().filter_map(|k| k.access_key_id).collect();
            let pols = self.iam().list_user_policies().user_name(&u.user_name).send().await.expect("policies");
            out += &format!("user {} keys {ids:?} policies {:?}\n", u.user_name, pols.policy_names);
        }
        let items = self.moto.dynamodb().scan().table_name(TABLE).send().await.expect("scan");
        let mut items: Vec<String> = items
            .items()
            .iter()
            .filter(|i| !i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("AUDIT#")))
            .map(|i| format!("{:?}", i.iter().collect::<BTreeMap<_, _>>()))
            .collect();
        items.sort();
        out += &format!("items {items:?}\n");
        out
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// IAM returns policy documents URL-encoded (RFC 3986); moto may or may not.
fn decode_policy(doc: &str) -> serde_json::Value {
    if let Ok(v) = serde_json::from_str(doc) {
        return v;
    }
    let b = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(h, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    serde_json::from_slice(&out).expect("policy is JSON")
}

/// Every (effect, action, resource) the policy allows.
fn grants(policy: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    let list = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a.iter().map(|x| x.as_str().expect("string").to_string()).collect(),
            other => panic!("unexpected {other}"),
        }
    };
    let mut out = BTreeSet::new();
    for st in policy["Statement"].as_array().expect("statements") {
        assert!(st.get("NotAction").is_none() && st.get("NotResource").is_none() && st.get("Condition").is_none());
        for a in list(&st["Action"]) {
            for r in list(&st["Resource"]) {
                out.insert((st["Effect"].as_str().expect("effect").to_string(), a.clone(), r));
            }
        }
    }
    out
}

#[tokio::test]
async fn router_add_provisions_everything_and_refuses_a_duplicate() {
    let s = stack().await;
    let id: RouterId = "cafe-01".parse().expect("id");
    let out = s.add("cafe-01", "Cafe Westlands", "7.20", "cafe-01.rsc").await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("Router cafe-01 (\"Cafe Westlands\") is provisioned"), "{stdout}");
    assert!(stdout.contains("/system/device-mode/update container=yes"), "{stdout}");

    // The record, with the key the script carries.
    let record = s.store().get_router(&id).await.expect("read").expect("router recorded");
    assert_eq!(record.name, "Cafe Westlands");
    assert!(record.queue_url.ends_with("/router-cafe-01.fifo"), "{}", record.queue_url);
    assert!(record.created_at > 0);

    // The queues.
    let q = s.queue_attrs(&record.queue_url).await;
    let dlq_url = s.moto.sqs().get_queue_url().queue_name("router-cafe-01-dlq.fifo").send().await.expect("dlq exists");
    let dlq = s.queue_attrs(dlq_url.queue_url().expect("url")).await;
    for (name, a) in [("queue", &q), ("dlq", &dlq)] {
        assert_eq!(a.get("FifoQueue").map(String::as_str), Some("true"), "{name}");
        assert_eq!(a.get("ContentBasedDeduplication").map(String::as_str), Some("false"), "{name}");
        assert_eq!(a.get("MessageRetentionPeriod").map(String::as_str), Some("1209600"), "{name}");
    }
    let redrive: serde_json::Value =
        serde_json::from_str(q.get("RedrivePolicy").expect("redrive policy")).expect("json");
    assert_eq!(redrive["deadLetterTargetArn"].as_str(), dlq.get("QueueArn").map(String::as_str));
    assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), "10");
    assert!(!dlq.contains_key("RedrivePolicy"), "the dead-letter queue has no DLQ of its own");

    // The IAM user: one inline policy, nothing attached, exactly these grants.
    let iam = s.iam();
    let user = "hotspot-router-cafe-01";
    iam.get_user().user_name(user).send().await.expect("user exists");
    let names = iam.list_user_policies().user_name(user).send().await.expect("policies").policy_names;
    assert_eq!(names, vec![user.to_string()]);
    let attached = iam.list_attached_user_policies().user_name(user).send().await.expect("attached");
    assert!(attached.attached_policies().is_empty());
    let groups = iam.list_groups_for_user().user_name(user).send().await.expect("groups");
    assert!(groups.groups.is_empty());
    let doc = iam.get_user_policy().user_name(user).policy_name(user).send().await.expect("policy").policy_document;
    let policy = decode_policy(&doc);
    let queue_arn = q.get("QueueArn").expect("arn").clone();
    let events_arn = format!("arn:aws:sqs:{}:{ACCOUNT}:hotspot-events", Moto::REGION);
    let route = |r: &str| format!("arn:aws:execute-api:{}:{ACCOUNT}:{API_ID}/*/{r}", Moto::REGION);
    let allow = |a: &str, r: &str| ("Allow".to_string(), a.to_string(), r.to_string());
    let expected: BTreeSet<_> = [
        allow("sqs:ReceiveMessage", &queue_arn),
        allow("sqs:DeleteMessage", &queue_arn),
        allow("sqs:ChangeMessageVisibility", &queue_arn),
        allow("sqs:GetQueueAttributes", &queue_arn),
        allow("sqs:SendMessage", &events_arn),
        allow("execute-api:Invoke", &route("POST/purchases")),
        allow("execute-api:Invoke", &route("GET/purchases/*")),
        allow("execute-api:Invoke", &route("GET/packages")),
    ]
    .into();
    assert_eq!(grants(&policy), expected);
    assert_eq!(queue_arn, format!("arn:aws:sqs:{}:{ACCOUNT}:router-cafe-01.fifo", Moto::REGION));

    // One access key, the one the script gives the agent.
    let keys = iam.list_access_keys().user_name(user).send().await.expect("keys").access_key_metadata;
    assert_eq!(keys.len(), 1);
    let path = s.dir.path().join("cafe-01.rsc");
    let mode = std::fs::metadata(&path).expect("script written").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the script holds secrets");
    let script = std::fs::read_to_string(&path).expect("script");
    let env = env_of(&script).expect("env parses");
    for k in AGENT_SETTINGS {
        assert!(env.get(*k).is_some_and(|v| !v.is_empty()), "{k} set");
    }
    assert_eq!(env.get("AWS_ACCESS_KEY_ID"), keys[0].access_key_id.as_ref());
    assert_eq!(env.get("HOTSPOT_ROUTER_KEY"), Some(&record.key.to_hex()));
    assert_eq!(env.get("SQS_QUEUE_URL"), Some(&record.queue_url));
    assert_eq!(env.get("EVENTS_QUEUE_URL"), Some(&s.events_url));
    assert_eq!(env.get("AWS_REGION").map(String::as_str), Some(Moto::REGION));
    assert!(script.contains("/container/envs add list=") && script.contains(" envlists="), "7.20 names");

    // The hotspot pages, with the portal's address filled in.
    let pages = s.dir.path().join("cafe-01-hotspot-html");
    for (name, original) in hotspot_html::PAGES {
        let page = std::fs::read_to_string(pages.join(name)).expect("page written");
        assert!(!page.contains(hotspot_html::PORTAL_PLACEHOLDER), "{name}");
        assert_eq!(page, original.replace(hotspot_html::PORTAL_PLACEHOLDER, "http://172.17.0.2"), "{name}");
    }
    let login = std::fs::read_to_string(pages.join("login.html")).expect("login.html");
    assert!(login.contains("http://172.17.0.2/?mac=$(mac-esc)"), "{login}");

    // Secrets appear in the script only.
    let secrets = ["HOTSPOT_ROUTER_KEY", "AWS_SECRET_ACCESS_KEY", "ROUTEROS_PASSWORD"].map(|k| env[k].clone());
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret");
        assert!(!stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()), "secret printed");
    }

    // `router list` and `router show` see it (never seen yet), and print no secrets either.
    let list = s.hotspotctl(&["router", "list"]).await;
    let list_out = text(&list.stdout);
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert!(list_out.lines().any(|l| l.starts_with("cafe-01 ") && l.contains("never seen")), "{list_out}");
    s.store()
        .record_heartbeat(
            &id,
            &RouterHealth {
                clock_unset_secs: 0,
                last_seen: now(),
                version: "0.1.0".into(),
                uptime_secs: 5,
                active_sessions: 3,
                ppp_sessions: 0,
                jobs_waiting: 1,
                selling: 2,
                selling_digest: None,
            },
        )
        .await
        .expect("heartbeat");
    let show = s.hotspotctl(&["router", "show", "--id", "cafe-01"]).await;
    let show_out = text(&show.stdout);
    assert!(show.status.success(), "{}", text(&show.stderr));
    assert!(show_out.contains("status      online"), "{show_out}");
    assert!(show_out.contains("sessions    3 active"), "{show_out}");
    assert!(show_out.contains("router-cafe-01-dlq.fifo (0 messages)"), "{show_out}");
    for secret in &secrets {
        assert!(!show_out.contains(secret.as_str()) && !list_out.contains(secret.as_str()));
    }

    // A second add of the same id is refused and changes nothing.
    let before = s.snapshot().await;
    let again = s.add("cafe-01", "Someone Else", "7.21", "again.rsc").await;
    assert!(!again.status.success());
    let err = text(&again.stderr);
    assert!(err.contains("router cafe-01 already exists; nothing was changed"), "{err}");
    assert_eq!(s.snapshot().await, before);
    assert!(!s.dir.path().join("again.rsc").exists(), "no script for a refused add");
    assert_eq!(std::fs::read_to_string(&path).expect("script"), script, "the first script is untouched");

    // An --out that exists stops a new router before anything is created.
    let taken = s.add("cafe-02", "Cafe Two", "7.19", "cafe-01.rsc").await;
    assert!(!taken.status.success());
    assert!(text(&taken.stderr).contains("nothing was changed"), "{}", text(&taken.stderr));
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn leftovers_are_refused_and_partial_work_is_rolled_back() {
    let s = stack().await;
    // A queue left over from an earlier attempt: refused before anything is created.
    let leftover = s.moto.create_fifo_queue("router-cafe-03.fifo").await.expect("queue");
    let before = s.snapshot().await;
    let out = s.add("cafe-03", "Cafe Three", "7.21", "cafe-03.rsc").await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("SQS queue router-cafe-03.fifo already exists"), "{err}");
    assert_eq!(s.snapshot().await, before, "nothing created, the leftover kept");
    assert!(s.moto.sqs().get_queue_url().queue_name("router-cafe-03.fifo").send().await.is_ok(), "{leftover}");
    assert!(!s.dir.path().join("cafe-03.rsc").exists());
    assert!(!s.dir.path().join("cafe-03-hotspot-html").exists());

    // An events queue that does not exist: refused before anything is created.
    let out = s
        .hotspotctl(&[
            "router",
            "add",
            "--id",
            "cafe-04",
            "--name",
            "Cafe Four",
            "--routeros-version",
            "7.20",
            "--events-queue-url",
            &format!("{}/{ACCOUNT}/no-such-queue", s.moto.endpoint),
        ])
        .await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("events queue"), "{}", text(&out.stderr));
    assert_eq!(s.snapshot().await, before);

    // API-SSL's port for the plain API, or NTP servers that are not host names: refused.
    for (flag, value, says) in
        [("--api-port", "8729", "API-SSL's port"), ("--ntp-servers", "ke.pool.ntp.org;reboot", "--ntp-servers")]
    {
        let out = s
            .hotspotctl(&[
                "router",
                "add",
                "--id",
                "cafe-06",
                "--name",
                "Cafe Six",
                "--routeros-version",
                "7.20",
                "--events-queue-url",
                &s.events_url,
                flag,
                value,
            ])
            .await;
        assert!(!out.status.success(), "{flag} {value}");
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
        assert_eq!(s.snapshot().await, before, "nothing created for {flag} {value}");
    }

    // Rollback removes every kind of thing a run creates, newest first.
    let clients = s.clients();
    let new = provision::NewRouter {
        id: "cafe-05".parse().expect("id"),
        name: "Cafe Five".into(),
        events_queue_url: s.events_url.clone(),
        api_id: API_ID.into(),
        country: hotspot_core::phone::Country::Kenya,
        now: 1,
    };
    let p = provision::provision(&clients, &new).await.expect("provisioned");
    assert!(matches!(p.created.last(), Some(provision::Created::RouterRecord(_))));
    let without_record = &p.created[..p.created.len() - 1];
    assert_eq!(without_record.len(), 5, "dlq, queue, user, policy, key: {:?}", p.created);
    let (undone, not_undone) = provision::rollback(&clients, without_record).await;
    assert!(not_undone.is_empty(), "{not_undone:?}");
    assert_eq!(undone.len(), 5);
    assert!(undone[0].starts_with("access key"), "{undone:?}");
    assert!(s.iam().get_user().user_name("hotspot-router-cafe-05").send().await.is_err(), "user removed");
    for q in ["router-cafe-05.fifo", "router-cafe-05-dlq.fifo"] {
        assert!(s.moto.sqs().get_queue_url().queue_name(q).send().await.is_err(), "{q} removed");
    }
}
