//! SQS-triggered: router reports. Failed messages are returned as partial batch failures.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use lambdas::runtime::{Cloud, fatal, init_logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let iam = aws_sdk_iam::Client::new(&cloud.sdk);
    let ev = lambdas::events::Events { store: &cloud.store, sqs: &cloud.sqs, iam: &iam };
    let ev = &ev;
    lambda_runtime::run(service_fn(move |e: LambdaEvent<SqsEvent>| async move {
        let records: Vec<(String, String)> = e
            .payload
            .records
            .into_iter()
            .map(|r| (r.message_id.unwrap_or_default(), r.body.unwrap_or_default()))
            .collect();
        let failed = lambdas::events::handle_batch(ev, &records, hotspot_core::clock::now_unix()).await;
        let mut resp = SqsBatchResponse::default();
        resp.batch_item_failures = failed
            .into_iter()
            .map(|id| {
                let mut f = BatchItemFailure::default();
                f.item_identifier = id;
                f
            })
            .collect();
        Ok::<_, Error>(resp)
    }))
    .await
}
