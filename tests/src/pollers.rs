//! What AWS runs around the functions: the SQS event-source mapping for router events, with
//! partial batch failures, and the schedules.

use std::time::Duration;

use testkit::lambda::{scheduled_event, sqs_event};

use crate::gateway::Invoker;

/// Feeds the events queue to the `events` function; deletes what it processed, leaves failures.
pub async fn events_mapping(sqs: aws_sdk_sqs::Client, queue_url: String, invoker: Invoker) {
    loop {
        let out =
            sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).wait_time_seconds(1).send().await;
        let msgs = match out {
            Ok(o) => o.messages.unwrap_or_default(),
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if msgs.is_empty() {
            continue;
        }
        let batch: Vec<(String, String, String)> =
            msgs.into_iter().filter_map(|m| Some((m.message_id?, m.body?, m.receipt_handle?))).collect();
        let records: Vec<(String, String)> = batch.iter().map(|(id, b, _)| (id.clone(), b.clone())).collect();
        let failed: Vec<String> = match invoker.invoke("events", &sqs_event(&records)).await {
            Ok(v) => v["batchItemFailures"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            Err(_) => batch.iter().map(|(id, _, _)| id.clone()).collect(),
        };
        for (id, _, handle) in &batch {
            if !failed.contains(id) {
                let _ = sqs.delete_message().queue_url(&queue_url).receipt_handle(handle).send().await;
            }
        }
    }
}

/// Invokes the scheduled functions every `every`.
pub async fn schedules(invoker: Invoker, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        for f in ["reconcile", "expiry"] {
            let _ = invoker.invoke(f, &scheduled_event()).await;
        }
    }
}
