//! The shared client handle: keeps one session alive, reconnecting with backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::Config;
use crate::connection::{Connection, Listener, Response};
use crate::error::{Error, Result};
use crate::sentence::Command;

#[derive(Clone)]
enum State {
    Up(Arc<Connection>),
    Down(String),
}

/// Cloneable handle; all clones share one session. Commands run concurrently (tagged pipelining).
/// Commands in flight when the session dies fail (their outcome on the router is unknown);
/// later commands wait, up to their timeout, for the background reconnect.
#[derive(Clone)]
pub struct Client {
    config: Arc<Config>,
    state: watch::Receiver<State>,
    _supervisor: Arc<SupervisorGuard>,
}

struct SupervisorGuard(tokio::task::JoinHandle<()>);

impl Drop for SupervisorGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Client {
    /// Connects and logs in once (so a wrong password or address is reported now), then keeps
    /// the session alive in the background.
    pub async fn connect(config: Config) -> Result<Client> {
        let conn = Arc::new(Connection::open(&config).await?);
        let config = Arc::new(config);
        let (tx, rx) = watch::channel(State::Up(conn.clone()));
        let task = tokio::spawn(supervise(config.clone(), tx, Some(conn)));
        Ok(Client { config, state: rx, _supervisor: Arc::new(SupervisorGuard(task)) })
    }

    /// Starts without waiting for the router: the session is opened (and re-opened) in the
    /// background, and calls wait for it up to their timeout. For an agent that boots before
    /// the router's API is reachable. Must be called inside a tokio runtime.
    pub fn start(config: Config) -> Client {
        let config = Arc::new(config);
        let (tx, rx) = watch::channel(State::Down("not connected yet".into()));
        let task = tokio::spawn(supervise(config.clone(), tx, None));
        Client { config, state: rx, _supervisor: Arc::new(SupervisorGuard(task)) }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// True when a logged-in session is up right now.
    pub fn is_connected(&self) -> bool {
        matches!(&*self.state.borrow(), State::Up(c) if c.is_alive())
    }

    /// Runs a command with the configured timeout.
    pub async fn call(&self, cmd: &Command) -> Result<Response> {
        self.call_with_timeout(cmd, self.config.command_timeout).await
    }

    /// Runs a command; the timeout covers waiting for a session too.
    pub async fn call_with_timeout(&self, cmd: &Command, timeout: Duration) -> Result<Response> {
        let deadline = tokio::time::Instant::now() + timeout;
        let conn = self.session(deadline).await?;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        conn.call(cmd, left).await.map_err(|e| match e {
            Error::Timeout { command, .. } => Error::Timeout { command, timeout },
            e => e,
        })
    }

    /// Starts a command that answers until cancelled, on the current session (waiting for one
    /// up to the command timeout). It ends with that session: listen again after an error.
    pub async fn listen(&self, cmd: &Command) -> Result<Listener> {
        let deadline = tokio::time::Instant::now() + self.config.command_timeout;
        self.session(deadline).await?.listen(cmd)
    }

    async fn session(&self, deadline: tokio::time::Instant) -> Result<Arc<Connection>> {
        let mut rx = self.state.clone();
        loop {
            let last = match &*rx.borrow_and_update() {
                State::Up(c) if c.is_alive() => return Ok(c.clone()),
                State::Up(_) => "session just closed".to_string(),
                State::Down(why) => why.clone(),
            };
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(Error::Closed),
                Err(_) => return Err(Error::NotConnected(last)),
            }
        }
    }
}

async fn supervise(config: Arc<Config>, tx: watch::Sender<State>, mut conn: Option<Arc<Connection>>) {
    loop {
        let mut backoff = Duration::ZERO;
        if let Some(c) = &conn {
            let why = tokio::select! {
                why = c.closed() => why,
                _ = tx.closed() => return,
            };
            tracing::warn!(addr = %config.addr, %why, "RouterOS session lost; reconnecting");
            let _ = tx.send(State::Down(why));
            backoff = config.backoff_min;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = tx.closed() => return,
            }
            match Connection::open(&config).await {
                Ok(c) => {
                    let c = Arc::new(c);
                    let _ = tx.send(State::Up(c.clone()));
                    conn = Some(c);
                    tracing::info!(addr = %config.addr, "RouterOS session established");
                    break;
                }
                Err(e) => {
                    tracing::warn!(addr = %config.addr, error = %e, ?backoff, "reconnect failed");
                    let _ = tx.send(State::Down(e.to_string()));
                    backoff = (backoff * 2).clamp(config.backoff_min, config.backoff_max);
                }
            }
        }
    }
}
