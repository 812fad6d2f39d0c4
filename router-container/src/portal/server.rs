//! The portal's HTTP/1.1 server: bounded connections, timeouts, keep-alive limits, graceful stop.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::backend::PortalBackend;
use super::host;
use super::ratelimit::RateLimiter;
use super::routes::{self, Ends};
use super::state::{CardsCache, PortalConfig, Shared};
use portal_pages::csrf::CsrfKey;

/// Serves the portal on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in flight finish (up to `cfg.shutdown_grace`) and returns.
pub async fn serve<B: PortalBackend>(listener: TcpListener, backend: Arc<B>, cfg: PortalConfig, shutdown: impl Future) {
    let max_conns = cfg.max_connections.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let shared = Arc::new(Shared {
        backend,
        csrf: CsrfKey::random(),
        limiter: RateLimiter::new(cfg.rate_limit, cfg.rate_table_size),
        voucher_limiter: RateLimiter::new(cfg.voucher_rate_limit, cfg.rate_table_size),
        voucher_failures: RateLimiter::new(cfg.voucher_failure_budget, 1),
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
    let per_address = Arc::new(PerAddress::new(shared.cfg.max_connections_per_address));
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
        let ip = host::canonical(peer.ip());
        let Some(slot) = per_address.take(ip) else {
            // Dropped at once (with its permit): the client holds its limit already.
            tracing::debug!(%ip, "portal: connection refused, too many from this address");
            continue;
        };
        tokio::spawn(connection(stream, ip, shared.clone(), builder.clone(), stop_rx.clone(), (permit, slot)));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit: having them all back means every connection has ended.
    let _ = tokio::time::timeout(shared.cfg.shutdown_grace, slots.acquire_many(max_conns as u32)).await;
}

async fn connection<B: PortalBackend>(
    stream: TcpStream,
    ip: IpAddr,
    shared: Arc<Shared<B>>,
    builder: Arc<http1::Builder>,
    mut stop: watch::Receiver<bool>,
    _slots: (OwnedSemaphorePermit, AddressSlot),
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else { return };
    let ends = Ends { peer: ip, local };
    let served = Arc::new(AtomicU32::new(0));
    let svc_shared = shared.clone();
    let service = service_fn(move |req| {
        let shared = svc_shared.clone();
        let nth = served.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        async move { Ok::<_, Infallible>(routes::handle(&shared, ends, req, nth).await) }
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

/// Connections open per client address.
struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One of an address's connections; gives its place back when dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn new(max: usize) -> Self {
        PerAddress { max: max.max(1), open: Mutex::new(HashMap::new()) }
    }

    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot { table: self.clone(), ip })
    }

    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.open.lock().map(|o| o.len()).unwrap_or(0)
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_holds_at_most_its_share() {
        let t = Arc::new(PerAddress::new(3));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let held: Vec<_> = (0..3).map(|_| t.take(a).unwrap()).collect();
        assert!(t.take(a).is_none());
        let other = t.take(b).unwrap();
        drop(held);
        assert_eq!(t.addresses(), 1, "an address with nothing open is forgotten");
        let again: Vec<_> = (0..3).map(|_| t.take(a).unwrap()).collect();
        drop((again, other));
        assert_eq!(t.addresses(), 0);
    }
}
