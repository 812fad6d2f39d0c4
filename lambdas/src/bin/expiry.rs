//! Scheduled: revoke jobs for sessions past their expiry (backstop for the agent's own expiry).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use lambdas::runtime::{Cloud, fatal, init_logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let cloud = &cloud;
    lambda_runtime::run(service_fn(move |_e: LambdaEvent<serde_json::Value>| async move {
        let revoked = lambdas::expiry::expire(&cloud.store, &cloud.sqs, hotspot_core::clock::now_unix()).await?;
        tracing::info!(revoked, "expiry sweep");
        Ok::<_, Error>(serde_json::json!({ "revoked": revoked }))
    }))
    .await
}
