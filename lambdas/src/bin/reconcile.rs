//! Scheduled each minute: status queries for stale pending purchases, then the outbox sweep.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lambdas::reconcile::{ReconcileConfig, reconcile};
use lambdas::runtime::{Cloud, fatal, init_logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let (wallets, notices) = cloud.providers().await.unwrap_or_else(|e| fatal(e));
    let sms = cloud.sms().await.unwrap_or_else(|e| fatal(e));
    let settle = cloud.settle(sms.as_ref(), &notices);
    let wallets = &wallets;
    lambda_runtime::run(service_fn(move |_e: LambdaEvent<serde_json::Value>| async move {
        let now = hotspot_core::clock::now_unix();
        let report = reconcile(settle, wallets, ReconcileConfig::default(), now).await?;
        tracing::info!(report = ?report, "reconciled");
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
