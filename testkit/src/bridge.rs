//! The hotspot's hop from a guest's phone to the container: a forwarding proxy in front of the
//! agent's portal that applies the router's source NAT. A guest the router masquerades reaches
//! the portal from the router's own address, as on a real router whose `/ip hotspot setup`
//! masquerade has no exemption for the container; otherwise the guest's own address is kept.
//! (All of 127.0.0.0/8 is loopback on Linux, so any source address there can be bound.)

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Decides, for a guest address and the portal's, whether the router rewrites the source.
pub type SourceNat = Arc<dyn Fn(Ipv4Addr, Ipv4Addr) -> bool + Send + Sync>;

pub struct HotspotBridge {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HotspotBridge {
    /// Listens on `listen` (port 0: a free one) and forwards to `portal`; a masqueraded guest
    /// arrives from `router`.
    pub async fn start(
        listen: SocketAddr,
        portal: SocketAddr,
        router: Ipv4Addr,
        nat: SourceNat,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, peer)) = listener.accept().await else { continue };
                let nat = nat.clone();
                tokio::spawn(async move {
                    let (IpAddr::V4(guest), IpAddr::V4(portal_ip)) = (peer.ip(), portal.ip()) else { return };
                    let source = if nat(guest, portal_ip) { router } else { guest };
                    let Ok(outbound) = connect_from(source, portal).await else { return };
                    let (mut a, mut b) = (inbound, outbound);
                    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                });
            }
        });
        Ok(HotspotBridge { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

async fn connect_from(source: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::from((source, 0)))?;
    s.connect(to).await
}

impl Drop for HotspotBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}
