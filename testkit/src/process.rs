//! Child processes and servers the tests start.

use std::process::{Child, Command};
use std::time::Duration;

/// A child process stopped when dropped: SIGTERM first (so it can stop cleanly), then kill.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to a minute for something to listen on a loopback port.
pub async fn wait_port(port: u16) -> bool {
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Sends one raw HTTP/1.1 request (which should say `Connection: close`) and returns the status
/// and the whole response text.
pub async fn raw_http(addr: &str, request: &str) -> (u16, String) {
    raw_http_from(None, addr, request).await
}

/// As `raw_http`, from the loopback address `source` (another guest device on the hotspot).
pub async fn raw_http_from(source: Option<std::net::Ipv4Addr>, addr: &str, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let connect = async {
        let to: std::net::SocketAddr = addr.parse().ok()?;
        let sock = tokio::net::TcpSocket::new_v4().ok()?;
        if let Some(src) = source {
            sock.bind(std::net::SocketAddr::from((src, 0))).ok()?;
        }
        sock.connect(to).await.ok()
    };
    let Some(mut s) = connect.await else { return (0, String::new()) };
    if s.write_all(request.as_bytes()).await.is_err() {
        return (0, String::new());
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    (text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), text)
}
