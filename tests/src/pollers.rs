//! What AWS runs around the functions: the SQS event-source mapping for router events, with
//! partial batch failures, and the schedules.

use std::time::Duration;

use serde_json::{Value, json};

use crate::gateway::Invoker;

/// An SQS event as Lambda's event-source mapping delivers it.
pub fn sqs_event(messages: &[(String, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": id, "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "local",
                               "ApproximateFirstReceiveTimestamp": "0"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:router-events", "awsRegion": "eu-west-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

pub fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": hotspot_core::MessageId::generate().as_str(), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "eu-west-1",
        "resources": [], "detail": {}
    })
}

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
