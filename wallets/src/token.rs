//! One instance's cached bearer token (Airtel's live three minutes, MTN's an hour). Refreshes are
//! single-flight: concurrent calls wait for the one fetch instead of each asking for a token.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use daraja::Secret;

use crate::WalletError;

/// Refresh this long before the provider's expiry, so a token never dies mid-request.
const MARGIN: Duration = Duration::from_secs(20);

#[derive(Default)]
pub struct TokenCache {
    current: Mutex<Option<(Secret, Instant)>>,
}

impl TokenCache {
    /// The cached token, or a new one from `fetch` (the token and its lifetime). `rejected`: the
    /// provider just refused this token, so it is not handed out again.
    pub async fn get<F, Fut>(&self, rejected: Option<&Secret>, fetch: F) -> Result<Secret, WalletError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Duration), WalletError>>,
    {
        let mut cur = self.current.lock().await;
        if let Some((t, until)) = cur.as_ref()
            && Instant::now() < *until
            && rejected != Some(t)
        {
            return Ok(t.clone());
        }
        let (token, life) = fetch().await?;
        // A lifetime shorter than the margin is used once, not cached.
        let until = Instant::now() + life.saturating_sub(MARGIN);
        *cur = Some((token.clone(), until));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_fetch_serves_until_expiry_or_rejection() {
        let cache = TokenCache::default();
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            Ok((Secret::new(format!("t{n}")), Duration::from_secs(180)))
        };
        let a = cache.get(None, fetch).await.unwrap();
        let b = cache.get(None, fetch).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        let c = cache.get(Some(&a), fetch).await.unwrap();
        assert_ne!(a, c);
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_fetch_caches_nothing() {
        let cache = TokenCache::default();
        let r = cache.get(None, || async { Err(WalletError::WrongCredentials("no".into())) }).await;
        assert!(matches!(r, Err(WalletError::WrongCredentials(_))));
        let t = cache.get(None, || async { Ok((Secret::new("ok"), Duration::from_secs(60))) }).await.unwrap();
        assert_eq!(t.expose(), "ok");
    }
}
