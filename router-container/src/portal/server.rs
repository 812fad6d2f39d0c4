//! The portal's HTTP/1.1 server: bounded connections, timeouts, keep-alive limits, graceful stop.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::backend::PortalBackend;
use super::csrf::CsrfKey;
use super::ratelimit::RateLimiter;
use super::routes;
use super::state::{CardsCache, PortalConfig, Shared};

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
