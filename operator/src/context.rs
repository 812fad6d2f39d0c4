//! One command's connection to the stack: the clients, who is calling, and the audit trail.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use hotspot_cloud::store::{AuditEntry, AuditResult, OperatorRecord, ScopedRole, Store};
use hotspot_core::RouterId;

use crate::Error;
use crate::access::{self, Action, Scope};
use crate::cli::AwsArgs;
use crate::dates::UtcOffset;

pub struct Ctx {
    pub config: SdkConfig,
    pub store: Store,
    pub sqs: aws_sdk_sqs::Client,
    pub table: String,
    /// The caller's ARN (`sts:GetCallerIdentity`).
    pub arn: String,
    pub operator: Option<OperatorRecord>,
    pub offset: UtcOffset,
    /// The command line as typed (no command takes a secret), for the audit log.
    pub argv: Vec<String>,
}

/// The one clock (`hotspot_core::clock`), under the CLI's short name.
pub use hotspot_core::clock::now_unix as now;

/// The AWS configuration for `--region` / `--endpoint-url` (or the environment's).
pub async fn load_config(aws: &AwsArgs) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(r) = &aws.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(e) = &aws.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

impl Ctx {
    pub async fn connect(aws: &AwsArgs, offset: UtcOffset, argv: Vec<String>) -> Result<Ctx, Error> {
        let table = aws
            .table
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Usage("--table (or TABLE_NAME) is required".into()))?
            .to_string();
        let config = load_config(aws).await;
        let sts = aws_sdk_sts::Client::new(&config);
        let who = sts.get_caller_identity().send().await.map_err(|e| {
            Error::Aws(format!("sts:GetCallerIdentity (who are you?): {}", aws_sdk_sts::error::DisplayErrorContext(&e)))
        })?;
        let arn = who.arn.filter(|a| !a.is_empty()).ok_or_else(|| Error::Aws("STS returned no ARN".into()))?;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&config), table.clone());
        let operator = store.get_operator(&arn).await?;
        Ok(Ctx { sqs: aws_sdk_sqs::Client::new(&config), config, store, table, arn, operator, offset, argv })
    }

    pub fn access(&self) -> Option<&ScopedRole> {
        self.operator.as_ref().map(|o| &o.access)
    }

    /// Checks the caller may run `action` on `router`; a refusal is audited and returned.
    pub async fn authorize(&self, action: Action, router: Option<&RouterId>) -> Result<Scope, Error> {
        let any = match self.operator {
            Some(_) => true,
            None => !self.store.list_operators().await?.is_empty(),
        };
        match access::authorize(action, self.access(), router, &self.arn, any) {
            Ok(scope) => Ok(scope),
            Err(refusal) => {
                let detail = refusal.to_string();
                self.audit(action, router, AuditResult::Refused, &detail).await?;
                Err(Error::Refused(refusal))
            }
        }
    }

    /// Records what happened in the audit log.
    pub async fn audit(
        &self,
        action: Action,
        router: Option<&RouterId>,
        result: AuditResult,
        detail: &str,
    ) -> Result<(), Error> {
        let mut args = BTreeMap::new();
        args.insert("argv".to_string(), self.argv.join(" "));
        if let Some(r) = router {
            args.insert("router".to_string(), r.to_string());
        }
        let entry = AuditEntry {
            at: now(),
            id: hex::encode(rand::random::<[u8; 8]>()),
            who: self.arn.clone(),
            role: access::role_label(self.access()),
            action: action.name().to_string(),
            args,
            result,
            detail: detail.chars().take(1000).collect(),
        };
        self.store.put_audit(&entry).await.map_err(|e| Error::AuditFailed(e.to_string()))
    }
}
