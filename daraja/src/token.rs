//! Sharing one OAuth token between concurrent instances.
//!
//! Safaricom's FAQ says issuing a new token may invalidate the previous one, so instances
//! that each fetched their own would knock each other's tokens out. Instead every instance
//! reads the token from a shared [`TokenStore`], and only the instance holding a short
//! refresh lease asks Daraja for a new one.

use std::fmt;
use std::future::Future;
use std::sync::Mutex;

/// A bearer token. `Debug` is redacted so it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(value: impl Into<String>) -> Self {
        AccessToken(value.into())
    }

    /// The token itself, for the `Authorization` header or the store.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

/// A token and when it expires (Unix seconds, by the clock of the instance that fetched it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub token: AccessToken,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("token store: {message}")]
pub struct TokenStoreError {
    pub message: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TokenStoreError {
    pub fn new(message: impl Into<String>) -> Self {
        TokenStoreError { message: message.into(), source: None }
    }
}

/// Where instances share the current token, and the lease that lets one of them refresh it.
///
/// The lease is a compare-and-set: `try_lease` succeeds only when no unexpired lease exists
/// (whoever holds it, the caller included), and `store`/`release` act only for the holder
/// named. A DynamoDB implementation is one item with conditional writes.
pub trait TokenStore: Send + Sync {
    /// The current token, if any (possibly expired: the client decides).
    fn load(&self) -> impl Future<Output = Result<Option<StoredToken>, TokenStoreError>> + Send;

    /// Takes the refresh lease for `holder` until `until` (Unix seconds) if there is no lease
    /// or the existing one ended before `now`. Returns whether `holder` now holds it.
    fn try_lease(
        &self,
        holder: &str,
        now: i64,
        until: i64,
    ) -> impl Future<Output = Result<bool, TokenStoreError>> + Send;

    /// Saves a freshly fetched token and ends `holder`'s lease, only if `holder` still holds
    /// the lease (otherwise a newer refresh is under way and this token must not overwrite it).
    /// Returns whether the token was saved.
    fn store(&self, holder: &str, token: StoredToken) -> impl Future<Output = Result<bool, TokenStoreError>> + Send;

    /// Ends `holder`'s lease without a new token (the fetch failed), so others need not wait for it to lapse.
    fn release(&self, holder: &str) -> impl Future<Output = Result<(), TokenStoreError>> + Send;
}

/// A [`TokenStore`] for one process (tests, or a single long-running service).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    token: Option<StoredToken>,
    lease: Option<(String, i64)>,
}

impl MemoryTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut MemoryState) -> T) -> Result<T, TokenStoreError> {
        // A poisoned lock only means another thread panicked mid-update of plain data; the data is still usable.
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&mut g))
    }
}

impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<StoredToken>, TokenStoreError> {
        self.with(|s| s.token.clone())
    }

    async fn try_lease(&self, holder: &str, now: i64, until: i64) -> Result<bool, TokenStoreError> {
        self.with(|s| match &s.lease {
            Some((_, end)) if *end >= now => false,
            _ => {
                s.lease = Some((holder.to_string(), until));
                true
            }
        })
    }

    async fn store(&self, holder: &str, token: StoredToken) -> Result<bool, TokenStoreError> {
        self.with(|s| match &s.lease {
            Some((h, _)) if h == holder => {
                s.token = Some(token);
                s.lease = None;
                true
            }
            _ => false,
        })
    }

    async fn release(&self, holder: &str) -> Result<(), TokenStoreError> {
        self.with(|s| {
            if matches!(&s.lease, Some((h, _)) if h == holder) {
                s.lease = None;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(v: &str) -> StoredToken {
        StoredToken { token: AccessToken::new(v), expires_at: 100 }
    }

    #[tokio::test]
    async fn lease_is_exclusive_until_it_lapses() {
        let s = MemoryTokenStore::new();
        assert!(s.try_lease("a", 0, 10).await.unwrap());
        assert!(!s.try_lease("b", 5, 15).await.unwrap());
        assert!(!s.try_lease("a", 5, 15).await.unwrap(), "not even the holder may take it twice");
        // b takes over after a's lease lapsed; a's late token must not overwrite b's.
        assert!(s.try_lease("b", 11, 21).await.unwrap());
        assert!(!s.store("a", tok("old")).await.unwrap());
        assert!(s.store("b", tok("new")).await.unwrap());
        assert_eq!(s.load().await.unwrap(), Some(tok("new")));
        // After a store the lease is free again; release by a non-holder is a no-op.
        assert!(s.try_lease("c", 12, 22).await.unwrap());
        s.release("a").await.unwrap();
        assert!(!s.try_lease("d", 12, 22).await.unwrap());
        s.release("c").await.unwrap();
        assert!(s.try_lease("d", 12, 22).await.unwrap());
    }

    #[test]
    fn token_debug_is_redacted() {
        assert_eq!(format!("{:?}", AccessToken::new("sekrit")), "AccessToken(***)");
    }
}
