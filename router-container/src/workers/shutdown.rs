//! The stop signal every worker watches, and the one rest-between-rounds they all take.

use std::time::Duration;

use tokio::sync::{Notify, watch};

/// Turns true once, when the agent stops (as does a dropped sender: nobody is left to say so).
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl From<watch::Receiver<bool>> for Shutdown {
    fn from(rx: watch::Receiver<bool>) -> Self {
        Shutdown(rx)
    }
}

impl Shutdown {
    pub fn is_shutdown(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Resolves when the agent stops.
    pub async fn recv(&mut self) {
        while !self.is_shutdown() {
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }

    /// Rests for `d`, or until `wake` is notified; false if the agent is stopping.
    pub async fn rest(&mut self, d: Duration, wake: Option<&Notify>) -> bool {
        let woken = async {
            match wake {
                Some(n) => n.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = woken => {}
            _ = self.recv() => {}
        }
        !self.is_shutdown()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rest_ends_on_time_on_a_wake_or_at_shutdown() {
        let (tx, rx) = watch::channel(false);
        let mut s = Shutdown::from(rx);
        assert!(s.rest(Duration::from_millis(20), None).await, "a plain rest");
        let wake = std::sync::Arc::new(Notify::new());
        wake.notify_one();
        let t = tokio::time::Instant::now();
        assert!(s.rest(Duration::from_secs(60), Some(&wake)).await);
        assert!(t.elapsed() < Duration::from_secs(1), "woken at once");
        tx.send(true).unwrap();
        assert!(!s.rest(Duration::from_secs(60), None).await, "stopping");
        assert!(s.is_shutdown());
    }

    #[tokio::test]
    async fn a_dropped_sender_means_stop() {
        let (tx, rx) = watch::channel(false);
        let mut s = Shutdown::from(rx);
        drop(tx);
        assert!(!s.rest(Duration::from_secs(60), None).await);
    }
}
