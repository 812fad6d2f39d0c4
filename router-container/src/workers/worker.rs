//! What every worker is: rounds of work with a rest between, until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::shutdown::Shutdown;

pub trait Worker: Send + Sized + 'static {
    /// One round of work; returns how long to rest before the next. A round that waits on
    /// something slow (a long poll) gives up when `shutdown` fires.
    fn round(&mut self, shutdown: &mut Shutdown) -> impl Future<Output = Duration> + Send;

    /// What may end a rest early (a grant whose expiry came sooner).
    fn wake(&self) -> Option<Arc<Notify>> {
        None
    }

    /// Rounds until shutdown.
    fn run(mut self, shutdown: impl Into<Shutdown>) -> impl Future<Output = ()> + Send {
        let mut shutdown = shutdown.into();
        async move {
            let wake = self.wake();
            while !shutdown.is_shutdown() {
                let rest = self.round(&mut shutdown).await;
                if !shutdown.rest(rest, wake.as_deref()).await {
                    break;
                }
            }
        }
    }
}
