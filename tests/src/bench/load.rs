//! Load on the portal (and on nginx serving the same bytes): keep-alive clients, each a distinct
//! guest device at its own loopback address, joined to the RouterOS simulator's host table while
//! it is connected.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hotspot_core::MacAddr;
use testkit::ChildGuard;

use super::http::{self, Conn};
use crate::stack::Stack;

/// A guest device: its address and MAC. `block` keeps the benchmark's phases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guest {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
}

/// Guests per address block: 127.B.x.1–254 for x in 0..=255.
pub const GUESTS_PER_BLOCK: u32 = 254 * 256;

/// The `i`-th guest of block `block` (1–254): 127.block.(i / 254).(i % 254 + 1), MAC
/// 02:B0:block:i (locally administered).
pub fn guest(block: u8, i: u32) -> Guest {
    let i = i % GUESTS_PER_BLOCK;
    let ip = Ipv4Addr::new(127, block, (i / 254) as u8, (i % 254 + 1) as u8);
    let mac = MacAddr::from_bytes([2, 0xb0, block, (i >> 16) as u8, (i >> 8) as u8, i as u8])
        .expect("02:… is a unicast, non-zero address");
    Guest { ip, mac }
}

/// The portal's front page as login.html opens it for `g`.
pub fn portal_target(g: &Guest) -> String {
    format!("/?mac={}&ip={}&dst=http%3A%2F%2Fexample.com%2F&identity=Cafe%20Westlands", g.mac, g.ip)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LoadResult {
    pub ok: u64,
    pub failed: u64,
    pub connections: u64,
    pub elapsed: Duration,
}

impl LoadResult {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `connections` clients fetch the portal page from `target` for `duration`. Each client is a
/// new guest making `per_guest` requests on one keep-alive
/// connection, then leaves and the next guest comes: the portal allows a burst of 40 requests per
/// address. Guests are numbered from `next` in address block `block`; with `router` (the
/// portal's runs) they join its RouterOS simulator's host table from just before they connect
/// until they leave. nginx's runs leave the router alone: nothing there would look.
pub async fn run(
    router: Option<Arc<Stack>>,
    target: SocketAddr,
    connections: usize,
    per_guest: u32,
    duration: Duration,
    block: u8,
    next: Arc<AtomicU32>,
) -> LoadResult {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let conns = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (router, next, ok, failed, conns) =
            (router.clone(), next.clone(), ok.clone(), failed.clone(), conns.clone());
        tasks.spawn(async move {
            let join = |g: &Guest| {
                if let Some(r) = &router {
                    r.routeros.add_host(g.mac, g.ip);
                }
            };
            let leave = |g: &Guest| {
                if let Some(r) = &router {
                    r.routeros.remove_host(g.mac);
                }
            };
            let mut g = guest(block, next.fetch_add(1, Ordering::Relaxed));
            join(&g);
            while Instant::now() < deadline {
                // The next guest's device joins while this one is served: on a hotspot the router
                // has seen a device (DHCP, its first packets) before its browser opens the portal.
                let following = guest(block, next.fetch_add(1, Ordering::Relaxed));
                join(&following);
                let req = http::get(&portal_target(&g));
                match Conn::connect(g.ip, target).await {
                    Ok(mut c) => {
                        conns.fetch_add(1, Ordering::Relaxed);
                        for _ in 0..per_guest {
                            if Instant::now() >= deadline {
                                break;
                            }
                            match c.request(&req).await {
                                Ok(r) if r.status == 200 => {
                                    ok.fetch_add(1, Ordering::Relaxed);
                                    if r.close {
                                        break;
                                    }
                                }
                                Ok(_) | Err(_) => {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                            }
                        }
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                leave(&g);
                g = following;
            }
            leave(&g);
        });
    }
    while tasks.join_next().await.is_some() {}
    LoadResult {
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        connections: conns.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct HoldResult {
    pub connected: usize,
    pub max_open: usize,
    pub ok: u64,
    pub failed: u64,
}

/// `n` guests (block `block`) each hold one keep-alive connection to the portal and fetch the
/// page about every `period` until `duration` has passed.
pub async fn hold(
    stack: Arc<Stack>,
    target: SocketAddr,
    n: u32,
    period: Duration,
    duration: Duration,
    block: u8,
) -> HoldResult {
    let open = Arc::new(AtomicUsize::new(0));
    let max_open = Arc::new(AtomicUsize::new(0));
    let connected = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let g = guest(block, i);
        stack.routeros.add_host(g.mac, g.ip);
        let (open, max_open, connected, ok, failed) =
            (open.clone(), max_open.clone(), connected.clone(), ok.clone(), failed.clone());
        tasks.spawn(async move {
            let req = http::get(&portal_target(&g));
            let Ok(mut c) = Conn::connect(g.ip, target).await else {
                failed.fetch_add(1, Ordering::Relaxed);
                return;
            };
            connected.fetch_add(1, Ordering::Relaxed);
            let now_open = open.fetch_add(1, Ordering::Relaxed) + 1;
            max_open.fetch_max(now_open, Ordering::Relaxed);
            // Spread the clients over the period so requests do not all come at once.
            let offset = period.mul_f64(f64::from(i % 100) / 100.0);
            tokio::time::sleep(offset).await;
            while Instant::now() < deadline {
                match c.request(&req).await {
                    Ok(r) if r.status == 200 && !r.close => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                tokio::time::sleep(period).await;
            }
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
    while tasks.join_next().await.is_some() {}
    for i in 0..n {
        stack.routeros.remove_host(guest(block, i).mac);
    }
    HoldResult {
        connected: connected.load(Ordering::Relaxed),
        max_open: max_open.load(Ordering::Relaxed),
        ok: ok.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
    }
}

/// nginx serving one file at every path, with the portal's security headers, one worker pinned
/// to `cpu`. Stopped (SIGTERM, then kill) when dropped.
pub struct Nginx {
    child: Option<ChildGuard>,
    pub pid: u32,
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // The server stops (and is waited for), then its files go.
        self.child.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Nginx {
    pub async fn start(nginx: &Path, body: &[u8], cpu: Option<usize>, dir: &Path) -> Result<Nginx, String> {
        let www = dir.join("www");
        std::fs::create_dir_all(&www).map_err(|e| format!("{}: {e}", www.display()))?;
        std::fs::write(www.join("index.html"), body).map_err(|e| format!("index.html: {e}"))?;
        let port = testkit::free_port().map_err(|e| e.to_string())?;
        let d = dir.display();
        // Debian's defaults where they matter for a static file (sendfile, tcp_nopush, keep-alive);
        // no access log (the portal keeps none either).
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_timeout 65;\n\
               types {{ text/html html; }}\n  default_type text/html;\n\
               client_body_temp_path {d}/tmp-body;\n  proxy_temp_path {d}/tmp-proxy;\n  fastcgi_temp_path {d}/tmp-fcgi;\n\
               uwsgi_temp_path {d}/tmp-uwsgi;\n  scgi_temp_path {d}/tmp-scgi;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {d}/www;\n\
                 location / {{\n      try_files /index.html =404;\n\
                   add_header Content-Security-Policy \"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'\";\n\
                   add_header X-Content-Type-Options nosniff;\n      add_header Referrer-Policy no-referrer;\n\
                   add_header Cache-Control no-store;\n      add_header X-Frame-Options DENY;\n    }}\n  }}\n}}\n"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).map_err(|e| format!("nginx.conf: {e}"))?;
        let mut cmd = match cpu {
            Some(c) => {
                let mut t = Command::new("taskset");
                t.args(["-c", &c.to_string()]).arg(nginx);
                t
            }
            None => Command::new(nginx),
        };
        cmd.arg("-e")
            .arg(dir.join("error.log"))
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().map_err(|e| format!("{}: {e}", nginx.display()))?;
        let pid = child.id();
        let guard = ChildGuard(child);
        if !testkit::wait_port(port).await {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            return Err(format!("nginx did not start: {log}"));
        }
        Ok(Nginx { child: Some(guard), pid, addr: SocketAddr::from(([127, 0, 0, 1], port)), dir: dir.to_path_buf() })
    }

    /// The worker process (the one serving requests).
    pub fn worker(&self) -> Option<u32> {
        super::sys::children(self.pid, None).into_iter().next()
    }
}

/// Runs `wrk -t1 -cN -dS` (pinned to `cpu`) against `url`; its requests per second.
pub fn wrk(wrk: &Path, url: &str, connections: usize, secs: u64, cpu: Option<usize>) -> Result<f64, String> {
    let mut cmd = match cpu {
        Some(c) => {
            let mut t = Command::new("taskset");
            t.args(["-c", &c.to_string()]).arg(wrk);
            t
        }
        None => Command::new(wrk),
    };
    let out = cmd
        .args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s"), url])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", wrk.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("wrk said: {text}{}", String::from_utf8_lossy(&out.stderr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guests_are_distinct_and_valid() {
        let a = guest(3, 0);
        assert_eq!(a.ip, Ipv4Addr::new(127, 3, 0, 1));
        assert_eq!(a.mac.to_string(), "02:B0:03:00:00:00");
        let b = guest(3, 254);
        assert_eq!(b.ip, Ipv4Addr::new(127, 3, 1, 1));
        let ips: std::collections::HashSet<Ipv4Addr> = (0..2000).map(|i| guest(7, i).ip).collect();
        let macs: std::collections::HashSet<String> = (0..2000).map(|i| guest(7, i).mac.to_string()).collect();
        assert_eq!((ips.len(), macs.len()), (2000, 2000));
    }
}
