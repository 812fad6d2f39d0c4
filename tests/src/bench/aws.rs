//! AWS requests counted on the local stack, and what they would cost.
//!
//! DynamoDB and SQS requests come from moto's opt-in request log (`HOTSPOT_MOTO_COUNT_FILE`, see
//! `scripts/moto_server.py`); Lambda invocations and their durations from the gateway's
//! [`crate::gateway::Invoker`]; API Gateway requests are the invocations of the routed functions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::gateway::Invocations;

// ---------------------------------------------------------------- public prices
//
// Region eu-west-1 (Europe, Ireland), on-demand list prices without free tiers, as published on
// the AWS pricing pages for Lambda, DynamoDB, SQS and API Gateway in 2025 (this machine cannot
// reach them: check before quoting). af-south-1 (Cape Town) lists higher prices for most of these.

pub const REGION: &str = "eu-west-1";
/// Lambda, arm64: USD 0.20 per million requests.
pub const LAMBDA_REQUEST_USD: f64 = 0.20 / 1e6;
/// Lambda, arm64: USD 0.0000133334 per GB-second.
pub const LAMBDA_GB_SECOND_USD: f64 = 0.000_013_333_4;
/// The functions' memory, from `infra/template.yaml` (`MemorySize: 256`).
pub const LAMBDA_MEMORY_GB: f64 = 0.25;
/// DynamoDB on-demand write request unit: half the pre-November-2024 USD 1.4135 per million
/// (AWS halved on-demand throughput prices on 2024-11-01).
pub const DYNAMODB_WRU_USD: f64 = 1.4135 / 2.0 / 1e6;
/// DynamoDB on-demand read request unit: half the pre-November-2024 USD 0.283 per million.
pub const DYNAMODB_RRU_USD: f64 = 0.283 / 2.0 / 1e6;
/// SQS standard queue: USD 0.40 per million requests (64 KB chunks; our messages are smaller).
pub const SQS_STANDARD_USD: f64 = 0.40 / 1e6;
/// SQS FIFO queue: USD 0.50 per million requests.
pub const SQS_FIFO_USD: f64 = 0.50 / 1e6;
/// API Gateway HTTP API: USD 1.11 per million requests (first 300 million a month, eu-west-1).
pub const HTTP_API_USD: f64 = 1.11 / 1e6;

// ---------------------------------------------------------------- assumptions
//
// moto does not meter capacity, so request units are estimated per request: a write of an item
// up to 1 KB is one WRU and each sparse index it enters or leaves one more, so writes are priced
// at 2 WRU (transactional items at 4); a read of up to 4 KB at 1 RRU (strongly consistent).

pub const WRU_PER_WRITE: f64 = 2.0;
pub const RRU_PER_READ: f64 = 1.0;
/// AWS's SQS event source mapping keeps about five long polls (20 s) open on the events queue,
/// whatever the traffic: a cost of the deployment, not of a router or a purchase.
pub const ESM_POLLERS: f64 = 5.0;
pub const SECONDS_PER_MONTH: f64 = 30.0 * 86_400.0;

/// The functions the HTTP API routes to (each of their invocations is one API request).
pub const HTTP_FUNCTIONS: [&str; 3] = ["purchase", "status", "callback"];

/// Requests over some span of the run. Fractions appear once tallies are scaled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub dynamodb_requests: f64,
    pub dynamodb_read_units: f64,
    pub dynamodb_write_units: f64,
    /// Requests on the routers' FIFO job queues.
    pub sqs_fifo: f64,
    /// Requests on the standard events queue, except the event source mapping's receives.
    pub sqs_standard: f64,
    /// The local event-source poller's receives on the events queue (1 s polls; not priced here).
    pub sqs_esm_receives: f64,
    /// Lambda invocations by function: (count, billed milliseconds).
    pub lambda: BTreeMap<String, (f64, f64)>,
}

impl Tally {
    pub fn lambda_invocations(&self) -> f64 {
        self.lambda.values().map(|(n, _)| n).sum::<f64>() + 0.0
    }

    pub fn http_api_requests(&self) -> f64 {
        HTTP_FUNCTIONS.iter().filter_map(|f| self.lambda.get(*f)).map(|(n, _)| n).sum::<f64>() + 0.0
    }

    pub fn sqs_requests(&self) -> f64 {
        self.sqs_fifo + self.sqs_standard
    }

    /// DynamoDB + SQS requests + Lambda invocations (the event source mapping's polls excluded).
    pub fn aws_requests(&self) -> f64 {
        self.dynamodb_requests + self.sqs_requests() + self.lambda_invocations()
    }

    pub fn gb_seconds(&self) -> f64 {
        self.lambda.values().map(|(_, ms)| ms / 1000.0 * LAMBDA_MEMORY_GB).sum::<f64>() + 0.0
    }

    pub fn usd(&self) -> f64 {
        self.dynamodb_read_units * DYNAMODB_RRU_USD
            + self.dynamodb_write_units * DYNAMODB_WRU_USD
            + self.sqs_fifo * SQS_FIFO_USD
            + self.sqs_standard * SQS_STANDARD_USD
            + self.lambda_invocations() * LAMBDA_REQUEST_USD
            + self.gb_seconds() * LAMBDA_GB_SECOND_USD
            + self.http_api_requests() * HTTP_API_USD
    }

    fn zip(&self, other: &Tally, f: impl Fn(f64, f64) -> f64) -> Tally {
        let mut lambda = BTreeMap::new();
        for k in self.lambda.keys().chain(other.lambda.keys()) {
            let a = self.lambda.get(k).copied().unwrap_or_default();
            let b = other.lambda.get(k).copied().unwrap_or_default();
            lambda.insert(k.clone(), (f(a.0, b.0), f(a.1, b.1)));
        }
        Tally {
            dynamodb_requests: f(self.dynamodb_requests, other.dynamodb_requests),
            dynamodb_read_units: f(self.dynamodb_read_units, other.dynamodb_read_units),
            dynamodb_write_units: f(self.dynamodb_write_units, other.dynamodb_write_units),
            sqs_fifo: f(self.sqs_fifo, other.sqs_fifo),
            sqs_standard: f(self.sqs_standard, other.sqs_standard),
            sqs_esm_receives: f(self.sqs_esm_receives, other.sqs_esm_receives),
            lambda,
        }
    }

    /// `self - other`, never below zero (for taking a background rate out of a busy span).
    pub fn minus(&self, other: &Tally) -> Tally {
        self.zip(other, |a, b| (a - b).max(0.0))
    }

    pub fn scaled(&self, k: f64) -> Tally {
        self.zip(&Tally::default(), |a, _| a * k)
    }

    pub fn summary(&self) -> String {
        let lambda: Vec<String> = self.lambda.iter().map(|(f, (n, ms))| format!("{f}={n:.2}/{ms:.0}ms")).collect();
        format!(
            "dynamodb {:.2} req ({:.2} RRU, {:.2} WRU), sqs fifo {:.2} standard {:.2} (esm polls {:.2} not priced), lambda [{}], http api {:.2}",
            self.dynamodb_requests,
            self.dynamodb_read_units,
            self.dynamodb_write_units,
            self.sqs_fifo,
            self.sqs_standard,
            self.sqs_esm_receives,
            lambda.join(" "),
            self.http_api_requests()
        )
    }
}

/// moto's request log, read span by span.
pub struct MotoLog {
    path: PathBuf,
    events_queue: String,
}

/// A position in the log (bytes written so far).
#[derive(Debug, Clone, Copy)]
pub struct Mark(u64);

impl MotoLog {
    pub fn new(path: &Path, events_queue_url: &str) -> MotoLog {
        let events_queue = events_queue_url.rsplit('/').next().unwrap_or_default().to_string();
        MotoLog { path: path.to_path_buf(), events_queue }
    }

    pub fn mark(&self) -> Mark {
        Mark(std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0))
    }

    /// The log's text between two marks.
    fn text_between(&self, from: Mark, to: Mark) -> String {
        let bytes = std::fs::read(&self.path).unwrap_or_default();
        let end = (to.0 as usize).min(bytes.len());
        let start = (from.0 as usize).min(end);
        String::from_utf8_lossy(&bytes[start..end]).into_owned()
    }

    /// DynamoDB requests logged between two marks, by action (`Query`, `GetItem`, `Scan`…).
    pub fn dynamodb_actions_between(&self, from: Mark, to: Mark) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for line in self.text_between(from, to).lines() {
            if let [_, "dynamodb", action, ..] = line.split('\t').collect::<Vec<_>>().as_slice() {
                *out.entry(action.to_string()).or_insert(0) += 1;
            }
        }
        out
    }

    /// When messages were sent to the events queue (the agent's reports and heartbeats), in
    /// moto's seconds.
    pub fn sends_to_events_between(&self, from: Mark, to: Mark) -> Vec<f64> {
        self.text_between(from, to)
            .lines()
            .filter_map(|line| match line.split('\t').collect::<Vec<_>>().as_slice() {
                [t, "sqs", "SendMessage", q, ..] if *q == self.events_queue => t.parse().ok(),
                _ => None,
            })
            .collect()
    }

    /// Tallies the requests logged between two marks.
    pub fn between(&self, from: Mark, to: Mark) -> Tally {
        let mut t = Tally::default();
        for line in self.text_between(from, to).lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let [_, service, action, queue, items] = f.as_slice() else { continue };
            let items: f64 = items.parse().unwrap_or(1.0);
            match *service {
                "dynamodb" => {
                    let (reads, writes) = match *action {
                        "GetItem" | "Query" | "Scan" => (RRU_PER_READ, 0.0),
                        "BatchGetItem" => (RRU_PER_READ * items, 0.0),
                        "TransactGetItems" => (2.0 * RRU_PER_READ * items, 0.0),
                        "PutItem" | "UpdateItem" | "DeleteItem" => (0.0, WRU_PER_WRITE),
                        "BatchWriteItem" => (0.0, WRU_PER_WRITE * items),
                        "TransactWriteItems" => (0.0, 2.0 * WRU_PER_WRITE * items),
                        // Table management and the like: not data-plane, not metered per request.
                        _ => continue,
                    };
                    t.dynamodb_requests += 1.0;
                    t.dynamodb_read_units += reads;
                    t.dynamodb_write_units += writes;
                }
                "sqs" if queue.ends_with(".fifo") => t.sqs_fifo += 1.0,
                "sqs" if *queue == self.events_queue && *action == "ReceiveMessage" => t.sqs_esm_receives += 1.0,
                "sqs" if *queue != "-" => t.sqs_standard += 1.0,
                _ => {}
            }
        }
        t
    }
}

/// Lambda invocations between two snapshots of [`crate::gateway::Invoker::invocations`].
pub fn invocations_between(
    before: &BTreeMap<String, Invocations>,
    after: &BTreeMap<String, Invocations>,
) -> BTreeMap<String, (f64, f64)> {
    after
        .iter()
        .map(|(f, a)| {
            let b = before.get(f).copied().unwrap_or_default();
            (f.clone(), ((a.count - b.count.min(a.count)) as f64, a.billed_ms.saturating_sub(b.billed_ms) as f64))
        })
        .filter(|(_, (n, _))| *n > 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_price_and_subtract() {
        let dir = std::env::temp_dir().join(format!("bench-aws-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let log = dir.join("moto.log");
        std::fs::write(
            &log,
            "1.0\tdynamodb\tGetItem\t-\t1\n1.1\tdynamodb\tTransactWriteItems\t-\t2\n1.2\tsqs\tSendMessage\trouter-a.fifo\t1\n\
             1.3\tsqs\tReceiveMessage\trouter-events\t1\n1.4\tsqs\tSendMessage\trouter-events\t1\n1.5\tdynamodb\tCreateTable\t-\t1\n",
        )
        .unwrap();
        let m = MotoLog::new(&log, "http://127.0.0.1:1/123456789012/router-events");
        let mut t = m.between(Mark(0), m.mark());
        assert_eq!(t.dynamodb_requests, 2.0);
        assert_eq!((t.dynamodb_read_units, t.dynamodb_write_units), (1.0, 8.0));
        assert_eq!((t.sqs_fifo, t.sqs_standard, t.sqs_esm_receives), (1.0, 1.0, 1.0));
        t.lambda.insert("callback".into(), (1.0, 100.0));
        assert_eq!(t.http_api_requests(), 1.0);
        assert_eq!(t.aws_requests(), 5.0);
        let usd = t.usd();
        let want = DYNAMODB_RRU_USD
            + 8.0 * DYNAMODB_WRU_USD
            + SQS_FIFO_USD
            + SQS_STANDARD_USD
            + LAMBDA_REQUEST_USD
            + 0.1 * LAMBDA_MEMORY_GB * LAMBDA_GB_SECOND_USD
            + HTTP_API_USD;
        assert!((usd - want).abs() < 1e-15, "{usd} {want}");
        assert_eq!(t.minus(&t.scaled(2.0)).aws_requests(), 0.0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
