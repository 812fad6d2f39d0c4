//! Provisioning a router in the cloud: its FIFO queue and dead-letter queue, a least-privilege
//! IAM user with an access key, its signing key and its DynamoDB record. If a step fails, what
//! this run created is removed again (newest first) and the error says what was undone.

use std::fmt;

use aws_sdk_sqs::types::QueueAttributeName;
use hotspot_cloud::store::{RouterRecord, Store, StoreError};
use hotspot_core::phone::Country;
use hotspot_core::wallet::Offered;
use hotspot_core::{RouterId, RouterKey};
use serde_json::json;

use crate::rsc::Secret;

/// Messages a router never managed to process stay this long in the dead-letter queue.
pub const RETENTION_SECS: u32 = 14 * 24 * 3600;
/// Deliveries before a job moves to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 10;

pub fn queue_name(id: &RouterId) -> String {
    format!("router-{id}.fifo")
}
pub fn dlq_name(id: &RouterId) -> String {
    format!("router-{id}-dlq.fifo")
}
pub use hotspot_cloud::store::iam_user_name;
pub fn policy_name(id: &RouterId) -> String {
    format!("hotspot-router-{id}")
}

/// The SQS actions a router may use on its own job queue.
pub const ROUTER_QUEUE_ACTIONS: [&str; 4] =
    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"];

/// One thing this run created in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Queue {
        name: String,
        url: String,
    },
    IamUser(String),
    UserPolicy {
        user: String,
        policy: String,
    },
    AccessKey {
        user: String,
        id: String,
    },
    /// A v6 RADIUS-mode router's `clients.conf` entry.
    SsmParameter(String),
    RouterRecord(RouterId),
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Created::Queue { name, .. } => write!(f, "SQS queue {name}"),
            Created::IamUser(u) => write!(f, "IAM user {u}"),
            Created::UserPolicy { user, policy } => write!(f, "inline policy {policy} of IAM user {user}"),
            Created::AccessKey { user, id } => write!(f, "access key {id} of IAM user {user}"),
            Created::SsmParameter(name) => write!(f, "SSM parameter {name}"),
            Created::RouterRecord(id) => write!(f, "router record {id} in DynamoDB"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("router {0} already exists; nothing was changed")]
    RouterExists(RouterId),
    #[error("{what} already exists (left over from an earlier attempt?); nothing was changed. Remove it first.")]
    Leftover { what: String },
    #[error("{step} failed: {why}\n{}", rollback_report(.undone, .not_undone))]
    Step { step: String, why: String, undone: Vec<String>, not_undone: Vec<String> },
    #[error("{step} failed: {why}; nothing was changed")]
    Precheck { step: &'static str, why: String },
    #[error("cannot derive the API id from {0:?}: pass --api-id")]
    ApiId(String),
}

fn rollback_report(undone: &[String], not_undone: &[String]) -> String {
    let mut s = String::new();
    if undone.is_empty() && not_undone.is_empty() {
        s.push_str("Nothing had been created.");
    }
    if !undone.is_empty() {
        s.push_str("Removed again: ");
        s.push_str(&undone.join("; "));
        s.push('.');
    }
    if !not_undone.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str("STILL PRESENT (remove by hand): ");
        s.push_str(&not_undone.join("; "));
        s.push('.');
    }
    s
}

pub fn aws_err<E: std::error::Error>(e: E) -> String {
    // The error and its causes (service code and message), bounded.
    aws_sdk_sqs::error::DisplayErrorContext(&e).to_string().chars().take(600).collect()
}

/// The AWS clients provisioning uses.
pub struct Clients {
    pub store: Store,
    pub sqs: aws_sdk_sqs::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub region: String,
}

impl Clients {
    pub fn new(config: &aws_config::SdkConfig, table: &str) -> Self {
        Clients {
            store: Store::new(aws_sdk_dynamodb::Client::new(config), table),
            sqs: aws_sdk_sqs::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}

/// What `router add` asks for.
pub struct NewRouter {
    pub id: RouterId,
    pub name: String,
    pub events_queue_url: String,
    pub api_id: String,
    pub country: Country,
    pub now: i64,
}

/// What provisioning produced. Holds secrets; `Debug` hides them.
pub struct Provisioned {
    pub record: RouterRecord,
    pub queue_url: String,
    pub queue_arn: String,
    pub dlq_url: String,
    pub events_queue_arn: String,
    pub iam_user: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub policy: serde_json::Value,
    pub created: Vec<Created>,
}

impl fmt::Debug for Provisioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provisioned")
            .field("router", &self.record.id)
            .field("queue_url", &self.queue_url)
            .field("iam_user", &self.iam_user)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The API id in an `https://{api-id}.execute-api.{region}.amazonaws.com[/stage]` URL.
pub fn api_id_from_url(url: &str) -> Option<String> {
    let host = url.strip_prefix("https://")?.split('/').next()?;
    let (id, rest) = host.split_once('.')?;
    (rest.starts_with("execute-api.") && !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| id.to_string())
}

/// The router's inline IAM policy: its own queue, the shared events queue, its own routes.
/// The API's request signature (per-router key) is what really authenticates a router's calls;
/// `execute-api:Invoke` only matters where the routes use IAM authorization.
pub fn router_policy(
    partition: &str,
    region: &str,
    account: &str,
    api_id: &str,
    queue_arn: &str,
    events_queue_arn: &str,
) -> serde_json::Value {
    let route = |r: &str| format!("arn:{partition}:execute-api:{region}:{account}:{api_id}/*/{r}");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnJobQueue",
                "Effect": "Allow",
                "Action": ROUTER_QUEUE_ACTIONS,
                "Resource": queue_arn,
            },
            {
                "Sid": "SharedEventsQueue",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": events_queue_arn,
            },
            {
                "Sid": "OwnRoutes",
                "Effect": "Allow",
                "Action": ["execute-api:Invoke"],
                "Resource": [route("POST/purchases"), route("GET/purchases/*"), route("GET/packages")],
            },
        ],
    })
}

/// The router's record, with a key made here: the last step, undoing the others if it fails.
async fn record_router<'a>(
    mut run: Run<'a>,
    id: &RouterId,
    name: &str,
    country: Country,
    now: i64,
    queue_url: String,
) -> Result<(Run<'a>, RouterRecord), ProvisionError> {
    let record = RouterRecord {
        id: id.clone(),
        name: name.to_string(),
        queue_url,
        key: RouterKey::generate(),
        created_at: now,
        disabled_at: None,
        rotation: None,
        retiring_access_key: None,
        wallets: Offered::for_country(country),
        country,
    };
    match run.c.store.put_router(&record).await {
        Ok(()) => run.created.push(Created::RouterRecord(id.clone())),
        Err(StoreError::AlreadyExists(_)) => {
            return Err(run
                .fail("recording the router", format!("router {id} was added meanwhile by someone else"))
                .await);
        }
        Err(e) => return Err(run.fail("recording the router", e.to_string()).await),
    }
    Ok((run, record))
}

struct Run<'a> {
    c: &'a Clients,
    created: Vec<Created>,
}

impl Run<'_> {
    /// Undoes what was created, newest first, and turns `why` into the error to report.
    async fn fail(self, step: &str, why: String) -> ProvisionError {
        let (undone, not_undone) = rollback(self.c, &self.created).await;
        ProvisionError::Step { step: step.to_string(), why, undone, not_undone }
    }

    async fn queue_url_if_exists(&self, name: &str) -> Result<Option<String>, String> {
        match self.c.sqs.get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_queue_does_not_exist()) => Ok(None),
            Err(e) => Err(aws_err(e)),
        }
    }

    async fn queue_arn(&self, url: &str) -> Result<String, String> {
        let out = self
            .c
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(aws_err)?;
        out.attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| format!("no QueueArn for {url}"))
    }

    async fn create_fifo(&mut self, name: &str, redrive: Option<String>) -> Result<String, String> {
        let mut req = self
            .c
            .sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
            .attributes(QueueAttributeName::MessageRetentionPeriod, RETENTION_SECS.to_string())
            .attributes(QueueAttributeName::ReceiveMessageWaitTimeSeconds, "20");
        if let Some(r) = redrive {
            req = req.attributes(QueueAttributeName::RedrivePolicy, r);
        }
        let out = req.send().await.map_err(aws_err)?;
        let url = out.queue_url.ok_or_else(|| format!("CreateQueue {name} returned no URL"))?;
        self.created.push(Created::Queue { name: name.to_string(), url: url.clone() });
        Ok(url)
    }
}

/// Removes what a run created, newest first. Returns what was removed and what could not be
/// (with why), as lines for the operator.
pub async fn rollback(c: &Clients, created: &[Created]) -> (Vec<String>, Vec<String>) {
    let mut undone = Vec::new();
    let mut not_undone = Vec::new();
    for item in created.iter().rev() {
        match undo(c, item).await {
            Ok(()) => undone.push(item.to_string()),
            Err(e) => not_undone.push(format!("{item} ({e})")),
        }
    }
    (undone, not_undone)
}

async fn undo(c: &Clients, item: &Created) -> Result<(), String> {
    match item {
        Created::Queue { url, .. } => c.sqs.delete_queue().queue_url(url).send().await.map(drop).map_err(aws_err),
        Created::IamUser(u) => c.iam.delete_user().user_name(u).send().await.map(drop).map_err(aws_err),
        Created::UserPolicy { user, policy } => {
            c.iam.delete_user_policy().user_name(user).policy_name(policy).send().await.map(drop).map_err(aws_err)
        }
        Created::AccessKey { user, id } => {
            c.iam.delete_access_key().user_name(user).access_key_id(id).send().await.map(drop).map_err(aws_err)
        }
        Created::SsmParameter(name) => c.ssm.delete_parameter().name(name).send().await.map(drop).map_err(aws_err),
        // The record is the last step: nothing fails after it, so it is never undone here.
        Created::RouterRecord(id) => Err(format!("router record {id} is not removed automatically")),
    }
}

/// Refuses an id that has a router record (or an unreadable one) before anything is created.
async fn id_is_free(c: &Clients, id: &RouterId) -> Result<(), ProvisionError> {
    let pre = |why: String| ProvisionError::Precheck { step: "reading the router table", why };
    match c.store.get_router(id).await {
        Ok(Some(_)) => Err(ProvisionError::RouterExists(id.clone())),
        Ok(None) => Ok(()),
        Err(e @ StoreError::Corrupt { .. }) => Err(pre(format!("{e}; the id is taken"))),
        Err(e) => Err(pre(e.to_string())),
    }
}

/// Provisions a router in the cloud. Refuses an existing router id, or leftovers of one, before
/// changing anything.
pub async fn provision(c: &Clients, new: &NewRouter) -> Result<Provisioned, ProvisionError> {
    let id = &new.id;
    let pre = |step: &'static str| move |why: String| ProvisionError::Precheck { step, why };

    // Checks first: nothing is created for an id that exists, or whose leftovers do.
    id_is_free(c, id).await?;
    let mut run = Run { c, created: Vec::new() };
    for name in [queue_name(id), dlq_name(id)] {
        if run.queue_url_if_exists(&name).await.map_err(pre("looking up queues"))?.is_some() {
            return Err(ProvisionError::Leftover { what: format!("SQS queue {name}") });
        }
    }
    let user = iam_user_name(id);
    match c.iam.get_user().user_name(&user).send().await {
        Ok(_) => return Err(ProvisionError::Leftover { what: format!("IAM user {user}") }),
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_entity_exception()) => {}
        Err(e) => return Err(pre("looking up the IAM user")(aws_err(e))),
    }
    let identity = c.sts.get_caller_identity().send().await.map_err(|e| pre("sts:GetCallerIdentity")(aws_err(e)))?;
    let account = identity.account.ok_or_else(|| pre("sts:GetCallerIdentity")("no account in the answer".into()))?;
    // The partition (aws, aws-cn, aws-us-gov) from the caller's own ARN.
    let partition = identity
        .arn
        .as_deref()
        .and_then(|a| a.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_string();
    let events_queue_arn = run
        .queue_arn(&new.events_queue_url)
        .await
        .map_err(pre("reading the events queue's ARN (--events-queue-url)"))?;

    // From here on, every step is undone if a later one fails.
    let dlq_url = match run.create_fifo(&dlq_name(id), None).await {
        Ok(u) => u,
        Err(e) => return Err(run.fail("creating the dead-letter queue", e).await),
    };
    let dlq_arn = match run.queue_arn(&dlq_url).await {
        Ok(a) => a,
        Err(e) => return Err(run.fail("reading the dead-letter queue's ARN", e).await),
    };
    let redrive = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT }).to_string();
    let queue_url = match run.create_fifo(&queue_name(id), Some(redrive)).await {
        Ok(u) => u,
        Err(e) => return Err(run.fail("creating the router's queue", e).await),
    };
    let queue_arn = match run.queue_arn(&queue_url).await {
        Ok(a) => a,
        Err(e) => return Err(run.fail("reading the router's queue ARN", e).await),
    };

    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build();
    let tags = match (tag("hotspot:router", id.as_str()), tag("hotspot:role", "router-agent")) {
        (Ok(a), Ok(b)) => vec![a, b],
        (Err(e), _) | (_, Err(e)) => return Err(run.fail("building IAM tags", aws_err(e)).await),
    };
    match c.iam.create_user().user_name(&user).path("/hotspot/").set_tags(Some(tags)).send().await {
        Ok(_) => run.created.push(Created::IamUser(user.clone())),
        Err(e) => return Err(run.fail("creating the IAM user", aws_err(e)).await),
    }
    let policy = router_policy(&partition, &c.region, &account, &new.api_id, &queue_arn, &events_queue_arn);
    let policy_name = policy_name(id);
    match c
        .iam
        .put_user_policy()
        .user_name(&user)
        .policy_name(&policy_name)
        .policy_document(policy.to_string())
        .send()
        .await
    {
        Ok(_) => run.created.push(Created::UserPolicy { user: user.clone(), policy: policy_name }),
        Err(e) => return Err(run.fail("attaching the IAM policy", aws_err(e)).await),
    }
    let key = match c.iam.create_access_key().user_name(&user).send().await {
        Ok(out) => match out.access_key {
            Some(k) => k,
            None => return Err(run.fail("creating the access key", "no key in the answer".into()).await),
        },
        Err(e) => return Err(run.fail("creating the access key", aws_err(e)).await),
    };
    run.created.push(Created::AccessKey { user: user.clone(), id: key.access_key_id.clone() });

    let (run, record) = record_router(run, id, &new.name, new.country, new.now, queue_url.clone()).await?;

    Ok(Provisioned {
        record,
        queue_url,
        queue_arn,
        dlq_url,
        events_queue_arn,
        iam_user: user,
        access_key_id: key.access_key_id,
        secret_access_key: Secret(key.secret_access_key),
        policy,
        created: run.created,
    })
}

/// What a RADIUS-mode router gets in the cloud: its record (with its key, which makes the grant
/// passwords) and, for a v6 router, its `clients.conf` entry. No queue, no IAM user: it runs no
/// agent.
pub struct NewRadiusRouter {
    pub id: RouterId,
    pub name: String,
    pub country: Country,
    pub now: i64,
    /// v6: the `clients.conf` fragment, stored as a SecureString at
    /// [`crate::radius::client_parameter`].
    pub clients_conf: Option<Secret>,
}

pub struct ProvisionedRadius {
    pub record: RouterRecord,
    pub parameter: Option<String>,
    pub created: Vec<Created>,
}

pub async fn provision_radius(c: &Clients, new: &NewRadiusRouter) -> Result<ProvisionedRadius, ProvisionError> {
    let id = &new.id;
    let pre = |step: &'static str| move |why: String| ProvisionError::Precheck { step, why };
    id_is_free(c, id).await?;
    let name = crate::radius::client_parameter(id);
    if new.clients_conf.is_some() {
        match c.ssm.get_parameter().name(&name).send().await {
            Ok(_) => return Err(ProvisionError::Leftover { what: format!("SSM parameter {name}") }),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_parameter_not_found()) => {}
            Err(e) => return Err(pre("looking up the SSM parameter")(aws_err(e))),
        }
    }
    let mut run = Run { c, created: Vec::new() };
    let mut parameter = None;
    if let Some(conf) = &new.clients_conf {
        let res = c
            .ssm
            .put_parameter()
            .name(&name)
            .description(format!("FreeRADIUS clients.conf entry of router {id} (RADIUS over UDP)"))
            .value(&conf.0)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            // Never replace another run's secret: the router holding it would be locked out.
            .overwrite(false)
            .send()
            .await;
        match res {
            Ok(_) => {
                run.created.push(Created::SsmParameter(name.clone()));
                parameter = Some(name);
            }
            Err(e) => return Err(run.fail("storing the clients.conf entry", aws_err(e)).await),
        }
    }
    // No queue: that is what makes it a RADIUS-mode record (`RouterRecord::mode`).
    let (run, record) = record_router(run, id, &new.name, new.country, new.now, String::new()).await?;
    Ok(ProvisionedRadius { record, parameter, created: run.created })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_id_comes_from_execute_api_urls_only() {
        assert_eq!(api_id_from_url("https://abc123.execute-api.eu-west-1.amazonaws.com").as_deref(), Some("abc123"));
        assert_eq!(
            api_id_from_url("https://abc123.execute-api.eu-west-1.amazonaws.com/prod").as_deref(),
            Some("abc123")
        );
        for other in
            ["https://api.example.com", "http://abc123.execute-api.x.amazonaws.com", "https://a-b.execute-api.x"]
        {
            assert_eq!(api_id_from_url(other), None, "{other}");
        }
    }

    #[test]
    fn rollback_report_says_what_is_left() {
        let e = ProvisionError::Step {
            step: "creating the IAM user".into(),
            why: "boom".into(),
            undone: vec!["SQS queue q2".into(), "SQS queue q1".into()],
            not_undone: vec!["IAM user u (denied)".into()],
        };
        let msg = e.to_string();
        assert!(msg.starts_with("creating the IAM user failed: boom\n"), "{msg}");
        assert!(msg.contains("Removed again: SQS queue q2; SQS queue q1."), "{msg}");
        assert!(msg.contains("STILL PRESENT (remove by hand): IAM user u (denied)."), "{msg}");
    }
}
