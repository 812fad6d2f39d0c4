//! A stand-in for the callback Lambda in tests: records every body POSTed to it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::util::{self, json, read_body};

/// An HTTP server on a random loopback port that keeps every request body it receives and
/// answers like a well-behaved callback receiver.
pub struct CallbackSink {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<Bytes>>>,
    count: watch::Receiver<usize>,
    task: JoinHandle<()>,
}

impl CallbackSink {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
        let (tx, count) = watch::channel(0usize);
        let tx = Arc::new(tx);
        let b = bodies.clone();
        let task = tokio::spawn(util::serve_with(listener, move |req| {
            let (b, tx) = (b.clone(), tx.clone());
            async move {
                let Some(body) = read_body(req.into_body()).await else {
                    return json(StatusCode::PAYLOAD_TOO_LARGE, "{}".into());
                };
                let n = {
                    let mut g = b.lock().unwrap_or_else(|p| p.into_inner());
                    g.push(body);
                    g.len()
                };
                tx.send_replace(n);
                json(StatusCode::OK, r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#.into())
            }
        }));
        Ok(CallbackSink { addr, bodies, count, task })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Bytes> {
        self.bodies.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until at least `n` bodies have arrived, or `limit` passed (a guard against a
    /// hung test, not a speed check); returns what arrived.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Bytes> {
        let mut rx = self.count.clone();
        let _ = tokio::time::timeout(limit, rx.wait_for(|c| *c >= n)).await;
        self.received()
    }
}

impl Drop for CallbackSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}
