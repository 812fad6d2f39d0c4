//! One address floods the portal (half-sent requests that hold connections, reconnecting as soon
//! as they are closed, and request spam) while honest guests pay. Bounded in connections and
//! time, loopback only; it stops by itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use daraja_sim::{Answer, Scenario};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use super::http::{self, Conn};
use super::load::{Guest, portal_target};
use super::money::{buy, online_within};
use crate::stack::Stack;

/// Connections the flooding address tries to hold at once, and request spammers beside them.
pub const HOLDERS: usize = 300;
pub const SPAMMERS: usize = 8;

#[derive(Debug, Default)]
pub struct Flood {
    /// Connections the flooder opened (each one the portal accepted or refused).
    pub connects: AtomicU64,
    /// Spam requests the portal answered (any status) and of those, 429s.
    pub answered: AtomicU64,
    pub limited: AtomicU64,
    stop: AtomicBool,
}

/// Starts the flood from `from`; it runs until `stop` or `limit`, whichever first.
pub fn start(portal: SocketAddr, from: Guest, limit: Duration) -> (Arc<Flood>, tokio::task::JoinSet<()>) {
    let flood = Arc::new(Flood::default());
    let until = Instant::now() + limit;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..HOLDERS {
        let f = flood.clone();
        tasks.spawn(async move {
            while !f.stop.load(Ordering::Relaxed) && Instant::now() < until {
                let Ok(sock) = TcpSocket::new_v4() else { return };
                if sock.bind(SocketAddr::from((from.ip, 0))).is_err() {
                    return;
                }
                let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(1), sock.connect(portal)).await else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                f.connects.fetch_add(1, Ordering::Relaxed);
                // Half a request, then hold the connection until the portal closes it.
                let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await;
                let mut buf = [0u8; 512];
                let left = until.saturating_duration_since(Instant::now());
                let _ =
                    tokio::time::timeout(left, async { while !matches!(s.read(&mut buf).await, Ok(0) | Err(_)) {} })
                        .await;
            }
        });
    }
    for _ in 0..SPAMMERS {
        let f = flood.clone();
        tasks.spawn(async move {
            let req = http::get(&portal_target(&from));
            while !f.stop.load(Ordering::Relaxed) && Instant::now() < until {
                let Ok(mut c) = Conn::connect(from.ip, portal).await else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                f.connects.fetch_add(1, Ordering::Relaxed);
                while let Ok(r) = c.request(&req).await {
                    f.answered.fetch_add(1, Ordering::Relaxed);
                    if r.status == 429 {
                        f.limited.fetch_add(1, Ordering::Relaxed);
                    }
                    if r.close || f.stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            }
        });
    }
    (flood, tasks)
}

impl Flood {
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What the honest guests saw.
#[derive(Debug, Default)]
pub struct Honest {
    /// Milliseconds for a guest's three portal requests (the page, buying, the waiting page).
    pub pages_ms: Vec<f64>,
    pub failed: usize,
    /// Guests whose session appeared on the router within 30 s of buying.
    pub online: usize,
}

/// `guests` pay at once (each approves the prompt on the phone, the callback comes); each is
/// timed from opening the portal to the waiting page.
pub async fn honest_guests(stack: &Arc<Stack>, guests: Vec<(Guest, String)>) -> Honest {
    let mut set = tokio::task::JoinSet::new();
    for (g, phone) in guests {
        let stack = stack.clone();
        set.spawn(async move {
            let t0 = Instant::now();
            let b = buy(&stack, &g, &phone, Scenario::await_phone()).await;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            let r = match b {
                Ok(b) if stack.daraja.answer(&b.checkout, Answer::Pay) => {
                    Ok((ms, online_within(&stack, g.mac, Duration::from_secs(30)).await.is_some()))
                }
                Ok(_) => Err("the prompt could not be answered".to_string()),
                Err(e) => Err(e),
            };
            stack.routeros.remove_host(g.mac);
            r
        });
    }
    let mut out = Honest::default();
    while let Some(r) = set.join_next().await {
        match r {
            Ok(Ok((ms, online))) => {
                out.pages_ms.push(ms);
                out.online += usize::from(online);
            }
            Ok(Err(e)) => {
                super::progress(format!("  an honest guest failed: {e}"));
                out.failed += 1;
            }
            Err(_) => out.failed += 1,
        }
    }
    out
}
