//! `hotspotctl router add --mode radius` and `hotspotctl radius ca` against moto (DynamoDB, SQS,
//! IAM, STS, SSM), running the binary itself.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use common::{Tok, lines, prop};
use hotspot_cloud::store::router::RouterMode;
use hotspot_cloud::store::{Store, schema};
use hotspot_core::RouterId;
use testkit::Moto;

const TABLE: &str = "hotspot";
const API_ID: &str = "abc123def4";

struct Stack {
    moto: Moto,
    dir: tempfile::TempDir,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn stack() -> Stack {
    let moto = Moto::start().await.expect("moto starts");
    schema::create_table(&moto.dynamodb(), TABLE).await.expect("table");
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Stack { moto, dir };
    let init = s.hotspotctl(&["operator", "init"]).await;
    assert!(init.status.success(), "{}", text(&init.stderr));
    s
}

impl Stack {
    async fn hotspotctl(&self, args: &[&str]) -> Output {
        self.command(args).output().await.expect("hotspotctl runs")
    }

    /// `hotspotctl` with this stack's AWS and RADIUS settings and nothing from the caller's.
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotspotctl"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("EVENTS_QUEUE_URL")
            .env_remove("RADIUS_CA_CERT")
            .env_remove("RADIUS_CA_KEY")
            .env("AWS_CONFIG_FILE", self.dir.path().join("no-aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("no-aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", Moto::REGION)
            .env("TABLE_NAME", TABLE)
            .env("RADIUS_ADDRESS", "198.51.100.7")
            .env("CLOUD_API_URL", format!("https://{API_ID}.execute-api.{}.amazonaws.com", Moto::REGION));
        c
    }

    /// `router add --mode radius` with these extra arguments.
    async fn add(&self, id: &str, version: &str, extra: &[&str]) -> Output {
        let mut args = vec!["router", "add", "--mode", "radius", "--id", id, "--name", "Cafe \"Westlands\" $x"];
        args.extend(["--routeros-version", version]);
        args.extend(extra);
        self.hotspotctl(&args).await
    }

    fn store(&self) -> Store {
        Store::new(self.moto.dynamodb(), TABLE)
    }

    fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.moto.sdk_config())
    }

    /// What exists in the cloud (the audit log aside) and the files written.
    async fn snapshot(&self) -> String {
        let queues = self.moto.sqs().list_queues().send().await.expect("list queues");
        let iam = aws_sdk_iam::Client::new(&self.moto.sdk_config());
        let users = iam.list_users().send().await.expect("users");
        let users: Vec<String> = users.users.into_iter().map(|u| u.user_name).collect();
        let params = self.ssm().describe_parameters().send().await.expect("parameters");
        let params: Vec<String> = params.parameters().iter().filter_map(|p| p.name.clone()).collect();
        let items = self.moto.dynamodb().scan().table_name(TABLE).send().await.expect("scan");
        let mut items: Vec<String> = items
            .items()
            .iter()
            .filter(|i| !i.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("AUDIT#")))
            .map(|i| format!("{:?}", i.iter().collect::<BTreeMap<_, _>>()))
            .collect();
        items.sort();
        let mut files: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        files.sort();
        format!(
            "queues {:?}\nusers {users:?}\nparams {params:?}\nitems {items:?}\nfiles {files:?}\n",
            queues.queue_urls
        )
    }

    fn script(&self, name: &str) -> (String, u32) {
        let path = self.dir.path().join(name);
        let mode = std::fs::metadata(&path).expect("script written").permissions().mode() & 0o777;
        (std::fs::read_to_string(&path).expect("script"), mode)
    }
}

fn line<'a>(ls: &'a [Vec<Tok>], words: &[&str]) -> &'a [Tok] {
    let found: Vec<&Vec<Tok>> = ls
        .iter()
        .filter(|l| words.iter().enumerate().all(|(i, w)| l.get(i) == Some(&Tok::Word((*w).to_string()))))
        .collect();
    assert_eq!(found.len(), 1, "one line starting {words:?}");
    found[0]
}

#[tokio::test]
async fn a_v6_router_gets_a_record_a_secret_and_a_clients_conf_entry() {
    let s = stack().await;
    let out = s.add("hex-01", "6.49.10", &["--radius-client-address", "197.248.10.5"]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("provisioned for RADIUS mode"), "{stdout}");
    assert!(stdout.contains("/hotspot/radius/clients/hex-01"), "{stdout}");
    let portal = "https://abc123def4.execute-api.eu-west-1.amazonaws.com/portal/hex-01";
    assert!(
        stdout.contains(&format!(
            "Hotspot pages: hex-01-hotspot-html/ (login.html sends guests to the cloud portal at {portal})"
        )),
        "{stdout}"
    );

    // The record: RADIUS mode, no queue, a key.
    let id: RouterId = "hex-01".parse().expect("id");
    let r = s.store().get_router(&id).await.expect("read").expect("recorded");
    assert_eq!(r.mode(), RouterMode::Radius);
    assert_eq!(r.queue_url, "");
    assert_eq!(r.name, "Cafe \"Westlands\" $x");
    // No queue, no IAM user: it runs no agent.
    let queues = s.moto.sqs().list_queues().send().await.expect("queues");
    assert!(queues.queue_urls.unwrap_or_default().is_empty());
    let iam = aws_sdk_iam::Client::new(&s.moto.sdk_config());
    assert!(iam.list_users().send().await.expect("users").users.is_empty());
    // The hotspot pages, their login page sending guests to this router's cloud portal.
    for (name, original) in hotspot_html::PAGES {
        let page = std::fs::read_to_string(s.dir.path().join("hex-01-hotspot-html").join(name)).expect("page written");
        assert_eq!(page, original.replace(hotspot_html::PORTAL_PLACEHOLDER, portal), "{name}");
    }

    // The script: mode 0600, UDP with the secret the service's entry holds.
    let (script, mode) = s.script("hex-01.rsc");
    assert_eq!(mode, 0o600);
    let ls = lines(&script).expect("tokenizes");
    let radius = line(&ls, &["/radius", "add"]);
    let secret = prop(radius, "secret").expect("secret");
    assert_eq!(prop(radius, "address").as_deref(), Some("198.51.100.7"));
    let ident = line(&ls, &["/system", "identity", "set"]);
    assert_eq!(prop(ident, "name").as_deref(), Some("hex-01"));
    let wg = line(&ls, &["/ip", "hotspot", "walled-garden", "add"]);
    assert_eq!(prop(wg, "dst-host"), Some(format!("{API_ID}.execute-api.{}.amazonaws.com", Moto::REGION)));
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret), "the secret is printed nowhere");

    let p = s
        .ssm()
        .get_parameter()
        .name("/hotspot/radius/clients/hex-01")
        .with_decryption(true)
        .send()
        .await
        .expect("parameter");
    let p = p.parameter.expect("parameter");
    assert_eq!(p.r#type, Some(aws_sdk_ssm::types::ParameterType::SecureString));
    assert_eq!(
        p.value.as_deref(),
        Some(
            format!(
                "client hex-01 {{\n\tipaddr = 197.248.10.5\n\tsecret = \"{secret}\"\n\tshortname = hex-01\n\tnas_type = other\n}}\n"
            )
            .as_str()
        )
    );

    // A second add of the id is refused and changes nothing.
    let before = s.snapshot().await;
    let again = s.add("hex-01", "6.49", &["--radius-client-address", "197.248.10.6", "--out", "again.rsc"]).await;
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("router hex-01 already exists; nothing was changed"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(s.snapshot().await, before);

    // A leftover parameter (no record) is refused too.
    s.ssm()
        .put_parameter()
        .name("/hotspot/radius/clients/hex-02")
        .value("x")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("leftover");
    let before = s.snapshot().await;
    let left = s.add("hex-02", "6.49", &["--radius-client-address", "197.248.10.6"]).await;
    assert!(!left.status.success());
    assert!(
        text(&left.stderr).contains("SSM parameter /hotspot/radius/clients/hex-02 already exists"),
        "{}",
        text(&left.stderr)
    );
    assert_eq!(s.snapshot().await, before);

    let show = s.hotspotctl(&["router", "show", "--id", "hex-01"]).await;
    assert!(show.status.success(), "{}", text(&show.stderr));
    assert!(text(&show.stdout).contains("mode        radius"), "{}", text(&show.stdout));
    assert!(!text(&show.stdout).contains(&secret));

    // A RADIUS router has nothing to rotate.
    let rot = s.hotspotctl(&["router", "rotate", "--id", "hex-01", "--routeros-version", "7.20"]).await;
    assert!(!rot.status.success());
    assert!(text(&rot.stderr).contains("RADIUS-mode router"), "{}", text(&rot.stderr));
}

#[tokio::test]
async fn a_v7_router_gets_a_certificate_our_ca_signed() {
    let s = stack().await;
    // A new deployment's CA and server certificate, offline.
    let ca = s.hotspotctl(&["radius", "ca", "--out", "pki", "--server-name", "radius.example.com"]).await;
    assert!(ca.status.success(), "{}", text(&ca.stderr));
    let pki = s.dir.path().join("pki");
    for (f, mode) in [("ca.pem", 0o644), ("ca.key", 0o600), ("server.pem", 0o644), ("server.key", 0o600)] {
        let m = std::fs::metadata(pki.join(f)).expect("written").permissions().mode() & 0o777;
        assert_eq!(m, mode, "{f}");
    }
    let again = s.hotspotctl(&["radius", "ca", "--out", "pki", "--server-name", "radius.example.com"]).await;
    assert!(!again.status.success(), "a CA is never overwritten");
    assert!(text(&again.stderr).contains("exists already"), "{}", text(&again.stderr));

    let out = s.add("hap-01", "7.20.2", &["--radius-ca-cert", "pki/ca.pem", "--radius-ca-key", "pki/ca.key"]).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let id: RouterId = "hap-01".parse().expect("id");
    let r = s.store().get_router(&id).await.expect("read").expect("recorded");
    assert_eq!(r.mode(), RouterMode::Radius);
    // Nothing per router in the service for RadSec.
    let params = s.ssm().describe_parameters().send().await.expect("parameters");
    assert!(params.parameters().is_empty());

    let (script, mode) = s.script("hap-01.rsc");
    assert_eq!(mode, 0o600);
    let ls = lines(&script).expect("tokenizes");
    let radius = line(&ls, &["/radius", "add"]);
    assert_eq!(prop(radius, "protocol").as_deref(), Some("radsec"));
    assert_eq!(prop(radius, "certificate").as_deref(), Some("hotspot-radius-hap-01"));
    let files: BTreeMap<String, String> = ls
        .iter()
        .filter(|l| l.starts_with(&[Tok::Word("/file".into()), Tok::Word("add".into())]))
        .map(|l| (prop(l, "name").expect("name"), prop(l, "contents").expect("contents")))
        .collect();
    assert_eq!(files["hotspot-radius-ca.pem"], std::fs::read_to_string(pki.join("ca.pem")).expect("ca"));
    std::fs::write(pki.join("router.pem"), &files["hotspot-radius-hap-01.pem"]).expect("write");
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile", "ca.pem", "-purpose", "sslclient", "router.pem"])
        .current_dir(&pki)
        .output()
        .expect("openssl");
    assert!(verify.status.success(), "{}{}", text(&verify.stdout), text(&verify.stderr));
    let subject = Command::new("openssl")
        .args(["x509", "-in", "router.pem", "-noout", "-subject", "-nameopt", "RFC2253"])
        .current_dir(&pki)
        .output()
        .expect("openssl");
    assert_eq!(text(&subject.stdout).trim(), "subject=CN=hap-01");
    // The private key went into the script only.
    let key = &files["hotspot-radius-hap-01.key"];
    assert!(key.contains("PRIVATE KEY"));
    assert!(!stdout.contains(key.as_str()) && !stderr.contains(key.as_str()));
}

/// Each refusal says why, and leaves no script, no record, no parameter.
#[tokio::test]
async fn refused_adds_change_nothing() {
    let s = stack().await;
    let ca = s.hotspotctl(&["radius", "ca", "--out", "pki", "--server-name", "10.1.2.3"]).await;
    assert!(ca.status.success(), "{}", text(&ca.stderr));
    let other = s.hotspotctl(&["radius", "ca", "--out", "other", "--server-name", "10.1.2.3"]).await;
    assert!(other.status.success(), "{}", text(&other.stderr));
    let before = s.snapshot().await;
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--routeros-version", "6.49"], "--radius-client-address"),
        (vec!["--routeros-version", "6.40", "--radius-client-address", "197.248.10.5"], "6.41 or later"),
        (
            vec!["--routeros-version", "7.8", "--radius-ca-cert", "pki/ca.pem", "--radius-ca-key", "pki/ca.key"],
            "7.9 or later",
        ),
        (vec!["--routeros-version", "7.20"], "--radius-ca-cert"),
        (vec!["--routeros-version", "6.49", "--radius-client-address", "192.168.88.1"], "not a public address"),
        (
            vec!["--routeros-version", "7.20", "--radius-ca-cert", "other/ca.pem", "--radius-ca-key", "pki/ca.key"],
            "not a CA made by",
        ),
        (
            vec![
                "--routeros-version",
                "7.20",
                "--radius-client-address",
                "197.248.10.5",
                "--radius-ca-cert",
                "pki/ca.pem",
                "--radius-ca-key",
                "pki/ca.key",
            ],
            "is for RouterOS 6",
        ),
    ];
    for (extra, says) in cases {
        let mut args = vec!["router", "add", "--mode", "radius", "--id", "cafe-09", "--name", "Cafe Nine"];
        args.extend(&extra);
        let out = s.hotspotctl(&args).await;
        assert!(!out.status.success(), "{extra:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{extra:?}: {err}");
        // A value clap refuses while parsing (the client address) stops before any AWS call.
        assert!(err.contains("nothing was changed") || err.contains("invalid value"), "{extra:?}: {err}");
        assert_eq!(s.snapshot().await, before, "{extra:?}");
    }
    // No --radius-address (nor RADIUS_ADDRESS).
    let out = s
        .command(&["router", "add", "--mode", "radius", "--id", "cafe-09", "--name", "N", "--routeros-version", "6.49"])
        .args(["--radius-client-address", "197.248.10.5"])
        .env_remove("RADIUS_ADDRESS")
        .output()
        .await
        .expect("runs");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--radius-address"), "{}", text(&out.stderr));
    assert_eq!(s.snapshot().await, before);

    // Container mode keeps refusing RouterOS 6, and points at RADIUS mode.
    let out = s.hotspotctl(&["router", "add", "--id", "cafe-09", "--name", "N", "--routeros-version", "6.49"]).await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("containers need RouterOS 7.x") && err.contains("--mode radius"), "{err}");
    assert_eq!(s.snapshot().await, before);
}

/// A paid purchase at a RADIUS-mode router (no queue) is settled without a job: the outbox
/// marks it done and the session the RADIUS API reads is there.
#[tokio::test]
async fn a_paid_purchase_at_a_radius_router_sends_no_job() {
    use hotspot_cloud::store::{NewPurchase, Paid};
    let s = stack().await;
    let out = s.add("hex-03", "6.49", &["--radius-client-address", "197.248.10.9"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = s.store();
    let router: RouterId = "hex-03".parse().expect("id");
    let pkg: hotspot_core::Package = serde_json::from_value(serde_json::json!({
        "id": "1h", "name": "1 hour", "price": 10, "validity": "1h", "rate_limit": "2M/5M", "devices": 1
    }))
    .expect("package");
    store.put_package(&router, &pkg, 1_700_000_000).await.expect("package");
    let id = hotspot_core::PurchaseId::generate();
    let now = hotspot_core::clock::now_unix();
    store
        .create_purchase(&NewPurchase {
            id: id.clone(),
            router_id: router.clone(),
            package: pkg.clone(),
            mac: "DA:A1:19:00:02:01".parse().expect("mac"),
            ip: None,
            phone: "254712345678".parse().expect("phone"),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
            created_at: now - 20,
        })
        .await
        .expect("purchase");
    store
        .mark_paid(&id, &Paid { receipt: "TL00000001".into(), amount: pkg.price(), paid_at: now })
        .await
        .expect("paid");
    let p = store.get_purchase(&id).await.expect("read").expect("purchase");
    assert!(p.job_pending, "a paid purchase owes its grant");
    let sent = hotspot_cloud::outbox::deliver(&store, &s.moto.sqs(), &p, now).await.expect("delivered");
    assert!(sent);
    let p = store.get_purchase(&id).await.expect("read").expect("purchase");
    assert!(!p.job_pending, "nothing left in the outbox");
    assert!(store.get_session(&id).await.expect("read").is_some(), "the session RADIUS reads");
    // Nothing to sweep later either.
    assert_eq!(
        hotspot_cloud::outbox::sweep_outbox(&store, &s.moto.sqs(), now + 600, now + 600).await.expect("sweep"),
        0
    );
    // At the expiry the sweep has no queue to send a revoke to: the router's Session-Timeout ends
    // it there; the session just leaves the live list, once.
    assert_eq!(lambdas::expiry::expire(&store, &s.moto.sqs(), now + 3700).await.expect("sweep"), 1);
    assert!(store.get_session(&id).await.expect("read").expect("session").revoked_at.is_some());
    assert_eq!(lambdas::expiry::expire(&store, &s.moto.sqs(), now + 3800).await.expect("sweep"), 0, "once");

    // Vouchers for it are written for its RADIUS logins, with no job to push.
    let made = s.hotspotctl(&["voucher", "generate", "--router", "hex-03", "--package", "1h", "--count", "5"]).await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let codes = store.list_vouchers(&router, None).await.expect("vouchers");
    assert_eq!(codes.len(), 5);
    let batches = store.list_voucher_batches(&router).await.expect("batches");
    assert_eq!((batches.len(), batches[0].pushed), (1, 5), "the batch counts them all written");
}
