//! What every request handler shares: the backend, the settings (`PortalConfig`), the CSRF key, the rate
//! limiters and the package cards as last rendered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotspot_core::Package;

use super::ratelimit::{RateLimitConfig, RateLimiter};
use portal_pages::csrf::CsrfKey;
use portal_pages::i18n::Lang;

#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Connections one client address may hold at once; more are closed as they arrive, so one
    /// device cannot take the slots every other guest needs (a phone opens about six).
    pub max_connections_per_address: usize,
    /// Names besides its own address the portal answers to as `Host` (lowercase), e.g. the
    /// hotspot's DNS name; a request for any other name is sent to the portal's address.
    pub names: Vec<String>,
    /// Time to receive a request's headers, and how long an idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// Time to receive a request's body once its headers arrived.
    pub body_read_timeout: Duration,
    /// Time to answer a request, backend calls included (503 above): a hung router or cloud
    /// call must not hold connections forever.
    pub request_timeout: Duration,
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers) accepted (431 above).
    pub max_header_bytes: usize,
    /// Requests served on one connection before it is closed.
    pub max_requests_per_connection: u32,
    /// A connection is asked to close after this long, however busy.
    pub max_connection_age: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Every request, per client IP.
    pub rate_limit: RateLimitConfig,
    /// Voucher attempts, per client IP, so codes cannot be guessed.
    pub voucher_rate_limit: RateLimitConfig,
    /// Wrong voucher codes on this router from all clients together: guessing from many
    /// addresses runs out too. While it is spent, codes are refused for everyone.
    pub voucher_failure_budget: RateLimitConfig,
    /// Clients tracked by each rate limiter (the least recently seen are forgotten first).
    pub rate_table_size: usize,
    /// Packages listed at most, keeping the page small.
    pub max_packages_shown: usize,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            max_connections: 512,
            max_connections_per_address: 16,
            names: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 4096,
            max_header_bytes: 16 * 1024,
            max_requests_per_connection: 100,
            max_connection_age: Duration::from_secs(300),
            shutdown_grace: Duration::from_secs(5),
            // The waiting page polls every 1.5 s; a guest never gets near 2 per second for long.
            rate_limit: RateLimitConfig { burst: 40, refill_every: Duration::from_millis(500) },
            voucher_rate_limit: RateLimitConfig { burst: 5, refill_every: Duration::from_secs(120) },
            // 60 wrong codes at once, then 3 a minute: 31^8 codes take ~5e8 years at that rate.
            voucher_failure_budget: RateLimitConfig { burst: 60, refill_every: Duration::from_secs(20) },
            rate_table_size: 4096,
            max_packages_shown: 24,
        }
    }
}

/// State every request handler sees.
pub(crate) struct Shared<B> {
    pub backend: Arc<B>,
    pub cfg: PortalConfig,
    pub csrf: CsrfKey,
    pub limiter: RateLimiter,
    pub voucher_limiter: RateLimiter,
    pub voucher_failures: RateLimiter,
    pub cards: CardsCache,
}

/// The package cards as last rendered, per language: every guest gets the same until the
/// backend hands out another packages list.
#[derive(Default)]
pub(crate) struct CardsCache(Mutex<Vec<CardsEntry>>);

type CardsEntry = (Lang, Arc<Vec<Package>>, Arc<str>);

impl CardsCache {
    pub fn get(&self, lang: Lang, packages: &Arc<Vec<Package>>, render: impl FnOnce() -> String) -> Arc<str> {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, html)) = cache.iter().find(|(l, p, _)| *l == lang && Arc::ptr_eq(p, packages)) {
            return html.clone();
        }
        let html: Arc<str> = render().into();
        cache.retain(|(l, _, _)| *l != lang);
        cache.push((lang, packages.clone(), html.clone()));
        html
    }
}
