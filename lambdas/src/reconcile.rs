//! The reconciler, each minute: asks Daraja about purchases still pending after a minute
//! (lost callbacks), gives up after a bounded number of tries as `unknown` (flagged for the
//! operator), and sends any job left in the outbox.

use daraja::{DarajaClient, QueryOutcome, TokenStore};
use hotspot_core::wire::PaymentFailure;

use hotspot_cloud::outbox::{deliver, sweep_outbox};
use hotspot_cloud::store::{Paid, Store, StoreError, Transition};

#[derive(Debug, Clone, Copy)]
pub struct ReconcileConfig {
    /// Leave the callback this long to arrive first.
    pub min_age_secs: i64,
    /// Queries per purchase before it is marked `unknown`.
    pub max_tries: i64,
    /// A purchase with no CheckoutRequestID (the push never confirmed) is `unknown` after this.
    pub no_checkout_grace_secs: i64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig { min_age_secs: 60, max_tries: 10, no_checkout_grace_secs: 300 }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub queried: usize,
    pub paid: usize,
    pub failed: usize,
    pub unknown: usize,
    pub still_pending: usize,
    pub jobs_sent: usize,
}

pub async fn reconcile<S: TokenStore>(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    sms: Option<&crate::sms::SmsClient>,
    daraja: &DarajaClient<S>,
    cfg: ReconcileConfig,
    now: i64,
) -> Result<ReconcileReport, StoreError> {
    let mut report = ReconcileReport::default();
    for p in store.list_pending(now - cfg.min_age_secs, 100).await? {
        let Some(checkout) = p.checkout_id.clone() else {
            if p.created_at <= now - cfg.no_checkout_grace_secs && store.mark_unknown(&p.id, now).await?.applied() {
                tracing::error!(alarm = "purchase_unknown", purchase_id = %p.id, "no CheckoutRequestID; flagged");
                report.unknown += 1;
            }
            continue;
        };
        report.queried += 1;
        let outcome = match daraja.stk_query(&checkout).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(purchase_id = %p.id, error = %e, "STK query failed; will retry");
                QueryOutcome::Pending
            }
        };
        let transition = match outcome {
            QueryOutcome::Paid => {
                // The query does not carry the receipt or amount; the amount is what we asked for.
                let paid = Paid { receipt: String::new(), amount: p.package.price(), paid_at: now };
                report.paid += 1;
                store.mark_paid(&p.id, &paid).await?
            }
            QueryOutcome::Failed { code, description } => {
                tracing::info!(purchase_id = %p.id, code = %code.code(), description = %description, "query: failed");
                report.failed += 1;
                store
                    .mark_failed(&p.id, code.failure().unwrap_or(PaymentFailure::Other), Some(&code.code()), now)
                    .await?
            }
            QueryOutcome::Pending => {
                let t = store.bump_reconcile_tries(&p.id).await?;
                if t.purchase().reconcile_tries >= cfg.max_tries {
                    tracing::error!(alarm = "purchase_unknown", purchase_id = %p.id, "still pending after {} queries; flagged", cfg.max_tries);
                    report.unknown += 1;
                    store.mark_unknown(&p.id, now).await?
                } else {
                    report.still_pending += 1;
                    t
                }
            }
        };
        if let Transition::Applied(p) = &transition {
            match deliver(store, sqs, p, now).await {
                Ok(true) => report.jobs_sent += 1,
                Ok(false) => {}
                Err(e) => tracing::error!(purchase_id = %p.id, error = %e, "job not queued; outbox keeps it"),
            }
            if let Some(sms) = sms {
                crate::sms::send_receipt(store, sms, p, now).await;
            }
        }
    }
    // Jobs decided more than 30 s ago and still unsent: a crash or an SQS outage in between.
    report.jobs_sent += sweep_outbox(store, sqs, now - 30, now).await?;
    Ok(report)
}
