//! Shared by the operator-command tests: moto with the table, routers with their queues, AWS
//! identities for operators, and the `hotspotctl` binary run as one of them.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use hotspot_cloud::store::{RouterRecord, Store, schema};
use hotspot_core::wire::{Direction, Envelope, Payload};
use hotspot_core::{RouterId, RouterKey};
use testkit::Moto;

pub const TABLE: &str = "hotspot";

/// AWS credentials one operator runs hotspotctl with.
#[derive(Clone)]
pub struct Identity {
    pub key_id: String,
    pub secret: String,
    pub arn: String,
}

pub struct Env {
    pub moto: Moto,
    pub dir: tempfile::TempDir,
    pub admin: Identity,
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Env {
    /// moto with the table; the default caller has made themselves the first admin.
    pub async fn start() -> Env {
        let moto = Moto::start().await.expect("moto starts");
        schema::create_table(&moto.dynamodb(), TABLE).await.expect("table");
        Env::on(moto).await
    }

    /// For a stack that already has moto and the table.
    pub async fn on(moto: Moto) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut env = Env {
            moto,
            dir,
            admin: Identity { key_id: "testing".into(), secret: "testing".into(), arn: String::new() },
        };
        let init = env.run(&env.admin.clone(), &["operator", "init"]).await;
        assert!(init.status.success(), "{}", text(&init.stderr));
        let who = env.run(&env.admin.clone(), &["operator", "whoami"]).await;
        let out = text(&who.stdout);
        env.admin.arn = out.split_whitespace().next().expect("whoami prints the ARN").to_string();
        assert!(out.contains("(admin)"), "{out}");
        env
    }

    pub fn store(&self) -> Store {
        Store::new(self.moto.dynamodb(), TABLE)
    }

    /// A router record with its FIFO queue, as `router add` leaves it (without IAM).
    pub async fn router(&self, id: &str) -> RouterRecord {
        let id: RouterId = id.parse().expect("router id");
        let queue_url = self.moto.create_fifo_queue(&format!("router-{id}.fifo")).await.expect("queue");
        let r = RouterRecord {
            id: id.clone(),
            name: format!("Cafe {id}"),
            queue_url,
            key: RouterKey::generate(),
            created_at: 1_700_000_000,
            disabled_at: None,
            rotation: None,
            retiring_access_key: None,
            wallets: Default::default(),
            country: Default::default(),
        };
        self.store().put_router(&r).await.expect("router");
        r
    }

    /// A new IAM user in moto and its access key: STS names that user as the caller.
    pub async fn identity(&self, name: &str) -> Identity {
        let iam = aws_sdk_iam::Client::new(&self.moto.sdk_config());
        iam.create_user().user_name(name).send().await.expect("iam user");
        let key = iam.create_access_key().user_name(name).send().await.expect("access key");
        let key = key.access_key.expect("key");
        let id = Identity { key_id: key.access_key_id, secret: key.secret_access_key, arn: String::new() };
        let who = self.run(&id, &["operator", "whoami"]).await;
        let out = text(&who.stdout);
        assert!(out.contains("(not an operator)"), "{out} {}", text(&who.stderr));
        Identity { arn: out.split_whitespace().next().expect("arn").to_string(), ..id }
    }

    pub async fn run(&self, who: &Identity, args: &[&str]) -> Output {
        run_hotspotctl(&self.moto.endpoint, self.dir.path(), who, args).await
    }

    /// Every job waiting on a router's queue, verified with its key, oldest first.
    pub async fn jobs(&self, r: &RouterRecord) -> Vec<Envelope> {
        let bodies = self.moto.drain(&r.queue_url).await.expect("drain");
        bodies
            .iter()
            .map(|b| {
                Envelope::verify(b.as_bytes(), &r.key, &r.id, hotspot_core::clock::now_unix(), Direction::CloudToRouter)
                    .expect("a job signed for this router")
            })
            .collect()
    }
}

pub async fn run_hotspotctl(endpoint: &str, dir: &Path, who: &Identity, args: &[&str]) -> Output {
    run_hotspotctl_with(endpoint, dir, who, args, &[]).await
}

/// As `run_hotspotctl`, with more of the environment (`DARAJA_*` settings).
pub async fn run_hotspotctl_with(
    endpoint: &str,
    dir: &Path,
    who: &Identity,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_hotspotctl"))
        .envs(env.iter().copied())
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("HOTSPOT_PORTAL_URL")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", &who.key_id)
        .env("AWS_SECRET_ACCESS_KEY", &who.secret)
        .env("AWS_REGION", Moto::REGION)
        .env("TABLE_NAME", TABLE)
        .output()
        .await
        .expect("hotspotctl runs")
}

/// The payload types of some jobs, in order.
pub fn types(jobs: &[Envelope]) -> Vec<&'static str> {
    jobs.iter().map(|j| j.payload.type_name()).collect()
}

pub fn packages_synced(j: &Envelope) -> Vec<String> {
    match &j.payload {
        Payload::PackagesSync(s) => s.packages.iter().map(|p| format!("{}:{}", p.id(), p.price().plain())).collect(),
        other => panic!("not a packages_sync: {other:?}"),
    }
}
