//! Daraja's token cache (`daraja::TokenStore`) on the shared DynamoDB item the store keeps
//! (`hotspot_cloud::store`'s token record): only the holder of a short lease fetches a token,
//! the other instances read what it stored.

use daraja::{AccessToken, StoredToken, TokenStore, TokenStoreError};
use hotspot_cloud::store::{Store, StoredDarajaToken};

pub struct DynamoTokenStore {
    store: Store,
}

impl DynamoTokenStore {
    pub fn new(store: Store) -> Self {
        DynamoTokenStore { store }
    }
}

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> TokenStoreError + '_ {
    move |e| TokenStoreError::new(format!("{what}: {e}"))
}

impl TokenStore for DynamoTokenStore {
    async fn load(&self) -> Result<Option<StoredToken>, TokenStoreError> {
        let t = self.store.load_daraja_token().await.map_err(err("load token"))?;
        Ok(t.map(|t| StoredToken { token: AccessToken::new(t.token), expires_at: t.expires_at }))
    }

    async fn try_lease(&self, holder: &str, now: i64, until: i64) -> Result<bool, TokenStoreError> {
        self.store.try_daraja_token_lease(holder, now, until).await.map_err(err("take lease"))
    }

    async fn store(&self, holder: &str, token: StoredToken) -> Result<bool, TokenStoreError> {
        let t = StoredDarajaToken { token: token.token.secret().into(), expires_at: token.expires_at };
        self.store.store_daraja_token(holder, &t).await.map_err(err("store token"))
    }

    async fn release(&self, holder: &str) -> Result<(), TokenStoreError> {
        self.store.release_daraja_token_lease(holder).await.map_err(err("release lease"))
    }
}
