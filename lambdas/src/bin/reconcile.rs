//! Scheduled each minute: status queries for stale pending purchases, then the outbox sweep,
//! then the subscribers' SMS: a new account's welcome and the reminders (when SMS is set up).

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
    // The Paybill subscribers renew to, named in their reminders.
    let paybill = cloud.settings.optional("DARAJA_SHORTCODE").await.unwrap_or_else(|e| fatal(e));
    // The subscribers' own page (`/account`), named in their welcome SMS.
    let base = cloud.settings.optional("CALLBACK_BASE_URL").await.unwrap_or_else(|e| fatal(e));
    let page = base.map(|b| format!("{}/account", b.trim_end_matches('/')));
    let (wallets, paybill, sms, page) = (&wallets, paybill.as_deref(), sms.as_ref(), page.as_deref());
    lambda_runtime::run(service_fn(move |_e: LambdaEvent<serde_json::Value>| async move {
        let now = hotspot_core::clock::now_unix();
        let report = reconcile(settle, wallets, ReconcileConfig::default(), now).await?;
        tracing::info!(report = ?report, "reconciled");
        if let Some(sms) = sms {
            match lambdas::reminders::send_welcomes(settle.store, sms, paybill, page, now).await {
                Ok(n) if n > 0 => tracing::info!(sent = n, "account welcomes"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "account welcomes not read; the next run tries again"),
            }
            match lambdas::reminders::send_reminders(settle.store, sms, paybill, now).await {
                Ok(n) if n > 0 => tracing::info!(sent = n, "account reminders"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "account reminders not read; the next run tries again"),
            }
        }
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
