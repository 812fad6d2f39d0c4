//! The portal's HTTP/1.1 server: bounded connections, timeouts, keep-alive limits, graceful stop.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotspot_core::Package;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::backend::PortalBackend;
use super::csrf::CsrfKey;
use super::i18n::Lang;
use super::ratelimit::{RateLimitConfig, RateLimiter};
use super::routes;

#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
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
    /// Clients tracked by each rate limiter (the least recently seen are forgotten first).
    pub rate_table_size: usize,
    /// Packages listed at most, keeping the page small.
    pub max_packages_shown: usize,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            max_connections: 512,
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

/// Serves the portal on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in flight finish (up to `cfg.shutdown_grace`) and returns.
pub async fn serve<B: PortalBackend>(listener: TcpListener, backend: Arc<B>, cfg: PortalConfig, shutdown: impl Future) {
    let max_conns = cfg.max_connections.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let shared = Arc::new(Shared {
        backend,
        csrf: CsrfKey::random(),
        limiter: RateLimiter::new(cfg.rate_limit, cfg.rate_table_size),
        voucher_limiter: RateLimiter::new(cfg.voucher_rate_limit, cfg.rate_table_size),
        cards: CardsCache::default(),
        cfg,
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.cfg.header_read_timeout)
        .keep_alive(true)
        .max_headers(64)
        // hyper refuses buffers below 8 KiB.
        .max_buf_size(shared.cfg.max_header_bytes.max(8192))
        .max_header_size(shared.cfg.max_header_bytes.max(1024));
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(max_conns));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "portal accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(stream, peer, shared.clone(), builder.clone(), stop_rx.clone(), permit));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit: having them all back means every connection has ended.
    let _ = tokio::time::timeout(shared.cfg.shutdown_grace, slots.acquire_many(max_conns as u32)).await;
}

async fn connection<B: PortalBackend>(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared<B>>,
    builder: Arc<http1::Builder>,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
    let ip = match peer.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let served = Arc::new(AtomicU32::new(0));
    let svc_shared = shared.clone();
    let service = service_fn(move |req| {
        let shared = svc_shared.clone();
        let nth = served.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        async move { Ok::<_, Infallible>(routes::handle(&shared, ip, req, nth).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let deadline = tokio::time::sleep(shared.cfg.max_connection_age);
    tokio::pin!(deadline);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, %ip, "portal connection ended with an error");
                }
                break;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
                deadline.as_mut().reset(tokio::time::Instant::now() + shared.cfg.shutdown_grace);
            }
            _ = &mut deadline => {
                if stopping {
                    break;
                }
                stopping = true;
                conn.as_mut().graceful_shutdown();
                deadline.as_mut().reset(tokio::time::Instant::now() + shared.cfg.shutdown_grace);
            }
        }
    }
}
