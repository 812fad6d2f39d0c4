//! The job consumer: long polls the router's FIFO queue and hands each message to the job
//! handler; deletes a message only once its outcome is journaled. Back to back while a guest may
//! be owed a grant, with a rest between polls otherwise (`decide::polling`).

use std::time::{Duration, Instant};

use super::shutdown::Shutdown;
use super::worker::Worker;
use crate::agent::Agent;
use crate::crashpoint;
use crate::decide::polling::rest_after_receive;
use crate::jobs::{Disposition, JobHandler};

/// Long poll, as SQS allows at most.
pub const WAIT_SECS: i32 = 20;
/// How long a received message stays hidden. Short, because a long poll of an agent that just
/// died (a restart, a reboot) can still take the next job, and it then waits out this whole
/// time, holding back the router's FIFO group: a guest who paid just then waits this long.
pub const VISIBILITY_SECS: i32 = 3;
/// While a batch is still being applied, its messages are hidden for this long again, every
/// `EXTEND_EVERY`, so a slow RouterOS never makes SQS hand them out twice.
pub const EXTENDED_VISIBILITY_SECS: i32 = 10;
const EXTEND_EVERY: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Out of reach of the queue this long, the agent asks for its owed grants once it is back:
/// jobs may have gone stale or been dropped meanwhile.
pub const LONG_ABSENCE: Duration = Duration::from_secs(600);

pub struct JobConsumer {
    agent: Agent,
    jobs: JobHandler,
    backoff: Duration,
    /// Since when every receive has failed.
    failing_since: Option<Instant>,
    /// Resting between polls (no guest paying): logged when it starts, not at every poll.
    resting: bool,
}

impl JobConsumer {
    pub fn new(agent: Agent) -> Self {
        JobConsumer {
            jobs: JobHandler::new(agent.clone()),
            agent,
            backoff: Duration::from_secs(1),
            failing_since: None,
            resting: false,
        }
    }
}

impl JobConsumer {
    /// Hides messages still being applied for `EXTENDED_VISIBILITY_SECS` more.
    async fn extend_visibility(&self, handles: &[String]) {
        use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry as Entry;
        for chunk in handles.chunks(10) {
            let entries: Vec<Entry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    Entry::builder()
                        .id(i.to_string())
                        .receipt_handle(h)
                        .visibility_timeout(EXTENDED_VISIBILITY_SECS)
                        .build()
                        .ok()
                })
                .collect();
            let a = &self.agent;
            let sent = a
                .sqs
                .change_message_visibility_batch()
                .queue_url(&a.cfg.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "SQS visibility not extended; a redelivery is a journaled duplicate");
            }
        }
    }
}

impl Worker for JobConsumer {
    async fn round(&mut self, shutdown: &mut Shutdown) -> Duration {
        let a = &self.agent;
        // A job's freshness cannot be judged by a clock at 1970: leave jobs queued until NTP.
        if let Some(rest) = a.wait_for_clock("jobs") {
            return rest;
        }
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
                if self.failing_since.take().is_some_and(|t| t.elapsed() >= LONG_ABSENCE) {
                    tracing::info!("the queue is back after a long absence: asking for owed grants");
                    a.converge_wake.notify_one();
                }
                let batch: Vec<(String, String)> = out
                    .messages
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|m| Some((m.body?, m.receipt_handle?)))
                    .collect();
                let pending = std::sync::Mutex::new(batch.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>());
                let apply = async {
                    for (body, handle) in &batch {
                        if self.jobs.handle_message(body).await == Disposition::Delete {
                            crashpoint::hit("before_sqs_delete");
                            if let Err(e) =
                                a.sqs.delete_message().queue_url(&a.cfg.queue_url).receipt_handle(handle).send().await
                            {
                                // Harmless: the redelivered copy is a journaled duplicate.
                                tracing::warn!(error = %e, "SQS delete failed");
                            }
                        }
                        pending.lock().unwrap_or_else(|p| p.into_inner()).retain(|h| h != handle);
                    }
                };
                let keep_hidden = async {
                    loop {
                        tokio::time::sleep(EXTEND_EVERY).await;
                        let handles = pending.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        self.extend_visibility(&handles).await;
                    }
                };
                tokio::select! {
                    _ = apply => {}
                    _ = keep_hidden => {}
                }
                let rest =
                    rest_after_receive(Instant::now(), batch.len(), a.jobs_expected.until(), a.cfg.idle_poll_rest);
                let resting = !rest.is_zero();
                if resting != self.resting {
                    self.resting = resting;
                    match resting {
                        true => {
                            tracing::info!(rest_secs = rest.as_secs(), "no guest paying: resting between job polls")
                        }
                        false => tracing::info!("polling back to back: a guest is paying or jobs came"),
                    }
                }
                rest
            }
            Err(e) => {
                let wait = self.backoff;
                self.failing_since.get_or_insert_with(Instant::now);
                tracing::warn!(error = %e, retry_in = ?wait, "SQS receive failed (cloud unreachable?)");
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                wait
            }
        }
    }

    /// A guest starting or checking a purchase ends an idle rest (and a backoff) at once.
    fn wake(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        Some(self.agent.jobs_expected.wake.clone())
    }
}
