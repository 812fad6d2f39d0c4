//! The agent's shared parts, handed to each of its tasks.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use crate::config::Config;
use crate::journal::Journal;
use crate::router::Router;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone)]
pub struct Agent {
    pub cfg: Arc<Config>,
    pub journal: Arc<Journal>,
    pub router: Router,
    pub sqs: aws_sdk_sqs::Client,
    /// Wakes the expiry scheduler when a grant's expiry may now come sooner.
    pub expiry_wake: Arc<Notify>,
    pub started: Instant,
}

impl Agent {
    pub fn new(cfg: Config, journal: Journal, router: Router, sqs: aws_sdk_sqs::Client) -> Agent {
        Agent {
            cfg: Arc::new(cfg),
            journal: Arc::new(journal),
            router,
            sqs,
            expiry_wake: Arc::new(Notify::new()),
            started: Instant::now(),
        }
    }
}

/// The one clock (`hotspot_core::clock`), under the agent's short name.
pub use hotspot_core::clock::now_unix as now;
