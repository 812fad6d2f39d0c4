use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::paths::{free_port, venv_bin};

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("moto_server not found at {0}: run scripts/test.sh once to create the venv (or set HOTSPOT_VENV)")]
    MotoMissing(PathBuf),
    #[error("moto_server did not start: {0}")]
    Start(String),
    #[error("AWS call against moto failed: {0}")]
    Aws(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A running `moto_server` (DynamoDB + SQS and the rest of AWS, over the real wire protocols).
pub struct Moto {
    child: Child,
    log: PathBuf,
    pub port: u16,
    pub endpoint: String,
    config: SdkConfig,
}

impl Moto {
    pub const REGION: &'static str = "eu-west-1";

    /// Starts a fresh server on a random free loopback port and waits until it answers.
    /// It runs through `scripts/moto_server.py`, which serializes DynamoDB requests as real
    /// DynamoDB's per-item atomicity requires (moto's backend alone has no locks).
    pub async fn start() -> Result<Moto, HarnessError> {
        let bin = std::env::var_os("MOTO_PYTHON").map(PathBuf::from).unwrap_or_else(|| venv_bin("python"));
        let launcher = crate::paths::workspace_root().join("scripts/moto_server.py");
        if !bin.exists() || !venv_bin("moto_server").exists() {
            return Err(HarnessError::MotoMissing(bin));
        }
        let mut last = String::new();
        // The port can be taken between our probe and moto's bind: try a few.
        for _ in 0..5 {
            let port = free_port()?;
            let log = std::env::temp_dir().join(format!("moto-{port}-{}.log", std::process::id()));
            let child = Command::new(&bin)
                .arg(&launcher)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .spawn()?;
            let endpoint = format!("http://127.0.0.1:{port}");
            let config = sdk_config(&endpoint).await;
            let mut moto = Moto { child, log, port, endpoint, config };
            match moto.wait_ready(Duration::from_secs(60)).await {
                Ok(()) => return Ok(moto),
                Err(e) => last = e,
            }
        }
        Err(HarnessError::Start(last))
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}: {}", self.log_tail()));
            }
            if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let req = b"GET /moto-api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
                let mut buf = [0u8; 12];
                if s.write_all(req).await.is_ok() && s.read_exact(&mut buf).await.is_ok() && buf.starts_with(b"HTTP/1.")
                {
                    // Another test's moto may hold the port we probed (ours then failed to bind):
                    // only a server our child listens with is ours.
                    return match listener_is_ours(self.port, self.child.id()) {
                        Some(false) => {
                            let _ = self.child.kill();
                            Err(format!("port {} was taken by another server", self.port))
                        }
                        _ => Ok(()),
                    };
                }
            }
            if started.elapsed() > limit {
                return Err(format!("not answering after {limit:?}: {}", self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        let start = s.len().saturating_sub(2000);
        s[start..].to_string()
    }

    /// SDK configuration pointing at this server, with test credentials.
    pub fn sdk_config(&self) -> SdkConfig {
        self.config.clone()
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    /// Creates an on-demand table with a string partition key and optional string sort key.
    pub async fn create_table(&self, name: &str, pk: &str, sk: Option<&str>) -> Result<(), HarnessError> {
        let mut req = self
            .dynamodb()
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(pk))
            .key_schema(key(pk, KeyType::Hash));
        if let Some(sk) = sk {
            req = req.attribute_definitions(attr(sk)).key_schema(key(sk, KeyType::Range));
        }
        req.send().await.map_err(|e| HarnessError::Aws(format!("{e:?}")))?;
        Ok(())
    }

    /// Creates a FIFO queue (name must end in `.fifo`) and returns its URL.
    pub async fn create_fifo_queue(&self, name: &str) -> Result<String, HarnessError> {
        let out = self
            .sqs()
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .map_err(|e| HarnessError::Aws(format!("{e:?}")))?;
        out.queue_url.ok_or_else(|| HarnessError::Aws("create_queue returned no URL".into()))
    }

    /// Receives and deletes every message waiting on a queue; returns their bodies, oldest first.
    pub async fn drain(&self, queue_url: &str) -> Result<Vec<String>, HarnessError> {
        let sqs = self.sqs();
        let mut out = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| HarnessError::Aws(format!("{e:?}")))?
                .messages
                .unwrap_or_default();
            if got.is_empty() {
                return Ok(out);
            }
            for m in got {
                if let Some(h) = m.receipt_handle {
                    sqs.delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(h)
                        .send()
                        .await
                        .map_err(|e| HarnessError::Aws(format!("{e:?}")))?;
                }
                out.extend(m.body);
            }
        }
    }

    /// Creates a standard queue and returns its URL.
    pub async fn create_queue(&self, name: &str) -> Result<String, HarnessError> {
        let out =
            self.sqs().create_queue().queue_name(name).send().await.map_err(|e| HarnessError::Aws(format!("{e:?}")))?;
        out.queue_url.ok_or_else(|| HarnessError::Aws("create_queue returned no URL".into()))
    }
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn key(name: &str, kt: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(kt).build().expect("name and type are set")
}

/// The SDK configuration for a local endpoint: test credentials, fixed region.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(Moto::REGION))
        .test_credentials()
        .load()
        .await
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Whether the socket listening on loopback `port` belongs to process `pid` (Linux `/proc`);
/// `None` where that cannot be told.
fn listener_is_ours(port: u16, pid: u32) -> Option<bool> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want = format!("0100007F:{port:04X}");
    let inode = table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // local_address rem_address st … inode; st 0A is LISTEN.
        (f.len() > 9 && f[1] == want && f[3] == "0A").then(|| f[9].to_string())
    })?;
    let target = format!("socket:[{inode}]");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == target)))
}
