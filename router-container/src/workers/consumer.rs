//! The job consumer: long polls the router's FIFO queue and hands each message to the job
//! handler; deletes a message only once its outcome is journaled.

use std::time::Duration;

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::Agent;
use crate::crashpoint;
use crate::jobs::{Disposition, JobHandler};

/// Long poll, as SQS allows at most.
pub const WAIT_SECS: i32 = 20;
/// Time to apply a batch before SQS offers the messages again.
pub const VISIBILITY_SECS: i32 = 60;
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub struct JobConsumer {
    agent: Agent,
    jobs: JobHandler,
    backoff: Duration,
}

impl JobConsumer {
    pub fn new(agent: Agent) -> Self {
        JobConsumer { jobs: JobHandler::new(agent.clone()), agent, backoff: Duration::from_secs(1) }
    }
}

impl Worker for JobConsumer {
    async fn round(&mut self, shutdown: &mut Shutdown) -> Duration {
        let a = &self.agent;
        let recv = a
            .sqs
            .receive_message()
            .queue_url(&a.cfg.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(WAIT_SECS)
            .visibility_timeout(VISIBILITY_SECS)
            .send();
        let out = tokio::select! {
            r = recv => r,
            _ = shutdown.recv() => return Duration::ZERO,
        };
        match out {
            Ok(out) => {
                self.backoff = Duration::from_secs(1);
                for m in out.messages.unwrap_or_default() {
                    let (Some(body), Some(handle)) = (m.body, m.receipt_handle) else { continue };
                    if self.jobs.handle_message(&body).await == Disposition::Delete {
                        crashpoint::hit("before_sqs_delete");
                        if let Err(e) =
                            a.sqs.delete_message().queue_url(&a.cfg.queue_url).receipt_handle(handle).send().await
                        {
                            // Harmless: the redelivered copy is a journaled duplicate.
                            tracing::warn!(error = %e, "SQS delete failed");
                        }
                    }
                }
                Duration::ZERO
            }
            Err(e) => {
                let wait = self.backoff;
                tracing::warn!(error = %e, retry_in = ?wait, "SQS receive failed (cloud unreachable?)");
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                wait
            }
        }
    }
}
