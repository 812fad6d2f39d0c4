//! One API session over TCP or TLS: a writer task, a reader task, and replies routed by tag.

use std::collections::HashMap;
// 32-bit: ARMv5 (the hEX refresh) has no 64-bit atomics. Tags wrap after 4 billion commands.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::codec::{DecodeError, Decoder, encode_sentence};
use crate::config::Config;
use crate::error::{Error, Result, Trap};
use crate::sentence::{Attrs, Command, Reply, ReplyKind};

/// Everything a command got back: its `!re` rows and the attributes on `!done` (`ret`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub rows: Vec<Attrs>,
    /// Per row (same index), the bytes of values that were not UTF-8 (`Reply::raw`).
    pub raw: Vec<std::collections::BTreeMap<String, Vec<u8>>>,
    pub done: Attrs,
}

impl Response {
    /// `=ret=` from `!done`, e.g. the id of a new item.
    pub fn ret(&self) -> Option<&str> {
        self.done.get("ret").map(String::as_str)
    }
}

/// Why the session ended; cloned to every command still waiting.
#[derive(Debug, Clone)]
enum Failure {
    Fatal(String),
    Lost(String),
    Decode(DecodeError),
}

impl Failure {
    fn to_error(&self) -> Error {
        match self {
            Failure::Fatal(r) => Error::Fatal(r.clone()),
            Failure::Lost(r) => Error::ConnectionLost(r.clone()),
            Failure::Decode(e) => Error::Decode(e.clone()),
        }
    }

    fn describe(&self) -> String {
        self.to_error().to_string()
    }
}

enum Event {
    Reply(Reply),
    Failed(Failure),
}

type Pending = HashMap<String, mpsc::UnboundedSender<Event>>;

struct Shared {
    /// `None` once the session is dead, so late commands fail instead of waiting forever.
    pending: Mutex<Option<Pending>>,
    dead: watch::Sender<Option<Failure>>,
}

impl Shared {
    fn fail_all(&self, failure: Failure) {
        let drained = match self.pending.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        for (_, tx) in drained.into_iter().flatten() {
            let _ = tx.send(Event::Failed(failure.clone()));
        }
        self.dead.send_if_modified(|d| {
            if d.is_none() {
                *d = Some(failure);
                true
            } else {
                false
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A logged-in session. Cheap to share; commands from many tasks run concurrently on it.
pub struct Connection {
    shared: Arc<Shared>,
    writer: mpsc::UnboundedSender<Vec<u8>>,
    next_tag: AtomicU32,
    dead_rx: watch::Receiver<Option<Failure>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        // Listeners outlive the handle; they must hear that nothing more will come.
        self.shared.fail_all(Failure::Lost("session closed".into()));
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

impl Connection {
    /// Connects, optionally wraps in TLS, and logs in.
    pub async fn open(config: &Config) -> Result<Connection> {
        let addr = config.addr.clone();
        let tcp = tokio::time::timeout(config.connect_timeout, TcpStream::connect(&addr))
            .await
            .map_err(|_| Error::Connect { addr: addr.clone(), source: std::io::ErrorKind::TimedOut.into() })?
            .map_err(|source| Error::Connect { addr: addr.clone(), source })?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Stream> = match &config.tls {
            None => Box::new(tcp),
            Some(tls) => {
                let connector = tokio_rustls::TlsConnector::from(tls.client_config.clone());
                let s = tokio::time::timeout(config.connect_timeout, connector.connect(tls.server_name.clone(), tcp))
                    .await
                    .map_err(|_| Error::Tls("handshake timed out".into()))?
                    .map_err(|e| Error::Tls(e.to_string()))?;
                Box::new(s)
            }
        };
        let conn = Connection::start(stream, config);
        let login = Command::new("/login").attr("name", &config.username).attr("password", &config.password);
        match conn.call(&login, config.login_timeout).await {
            Ok(_) => Ok(conn),
            Err(Error::Trap(t)) => Err(Error::Login { user: config.username.clone(), message: t.message }),
            Err(e) => Err(e),
        }
    }

    fn start(stream: Box<dyn Stream>, config: &Config) -> Connection {
        let (rd, wr) = tokio::io::split(stream);
        let (dead, dead_rx) = watch::channel(None);
        let shared = Arc::new(Shared { pending: Mutex::new(Some(HashMap::new())), dead });
        let (writer, wrx) = mpsc::unbounded_channel();
        let reader_task = tokio::spawn(read_loop(rd, Decoder::new(config.limits), shared.clone()));
        let writer_task = tokio::spawn(write_loop(wr, wrx, shared.clone()));
        Connection { shared, writer, next_tag: AtomicU32::new(1), dead_rx, tasks: vec![reader_task, writer_task] }
    }

    /// True until the session failed or closed.
    pub fn is_alive(&self) -> bool {
        self.dead_rx.borrow().is_none()
    }

    /// Resolves with a description once the session is dead.
    pub async fn closed(&self) -> String {
        let mut rx = self.dead_rx.clone();
        loop {
            if let Some(f) = rx.borrow_and_update().as_ref() {
                return f.describe();
            }
            if rx.changed().await.is_err() {
                return "connection dropped".into();
            }
        }
    }

    /// Sends a command tagged with a fresh tag and waits for `!done`, up to `timeout`.
    /// On timeout the command is cancelled on the router with `/cancel`.
    pub async fn call(&self, cmd: &Command, timeout: Duration) -> Result<Response> {
        let (tag, mut rx) = self.send(cmd)?;
        let mut guard = TagGuard { conn: self, tag: &tag, finished: false };
        let mut resp = Response::default();
        let mut trap: Option<Trap> = None;
        let collect = async {
            loop {
                match rx.recv().await {
                    None => return Err(self.dead_error()),
                    Some(Event::Failed(f)) => return Err(f.to_error()),
                    Some(Event::Reply(r)) => match r.kind {
                        ReplyKind::Re => {
                            resp.rows.push(r.attrs);
                            resp.raw.push(r.raw);
                        }
                        ReplyKind::Empty => {}
                        // A command can trap more than once; the first says why.
                        ReplyKind::Trap => {
                            trap.get_or_insert_with(|| Trap::from_attrs(&cmd.path, &r.attrs));
                        }
                        ReplyKind::Done => {
                            resp.done = r.attrs;
                            return Ok(());
                        }
                        // The reader fails every command on a tagged !fatal; handled there.
                        ReplyKind::Fatal(reason) => return Err(Error::Fatal(reason)),
                    },
                }
            }
        };
        match tokio::time::timeout(timeout, collect).await {
            Ok(Ok(())) => {
                guard.finished = true;
                match trap {
                    Some(t) => Err(Error::Trap(t)),
                    None => Ok(resp),
                }
            }
            Ok(Err(e)) => {
                guard.finished = true;
                Err(e)
            }
            Err(_) => Err(Error::Timeout { command: cmd.path.clone(), timeout }),
        }
    }

    /// Starts a command that answers until cancelled (`/…/listen`, `print =follow=`): each
    /// `!re` comes out of [`Listener::next`] as it arrives. Dropping the listener cancels the
    /// command on the router.
    pub fn listen(&self, cmd: &Command) -> Result<Listener> {
        let (tag, rx) = self.send(cmd)?;
        Ok(Listener {
            command: cmd.path.clone(),
            tag,
            rx,
            shared: self.shared.clone(),
            writer: self.writer.clone(),
            finished: false,
        })
    }

    /// Sends `cmd` under a fresh tag, its replies routed to the receiver returned.
    fn send(&self, cmd: &Command) -> Result<(String, mpsc::UnboundedReceiver<Event>)> {
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed).to_string();
        let bytes = encode_sentence(&cmd.to_words(Some(&tag)))?;
        let (tx, rx) = mpsc::unbounded_channel();
        match self.shared.lock().as_mut() {
            Some(p) => {
                p.insert(tag.clone(), tx);
            }
            None => return Err(self.dead_error()),
        }
        if self.writer.send(bytes).is_err() {
            if let Some(p) = self.shared.lock().as_mut() {
                p.remove(&tag);
            }
            return Err(self.dead_error());
        }
        Ok((tag, rx))
    }

    fn dead_error(&self) -> Error {
        match self.dead_rx.borrow().as_ref() {
            Some(f) => f.to_error(),
            None => Error::ConnectionLost("session writer stopped".into()),
        }
    }
}

/// Asks the router to stop the command tagged `tag`. `/cancel` carries a tag of its own, `c` and
/// the command's (unique as the command's is); its answer finds no one waiting and is dropped.
fn send_cancel(writer: &mpsc::UnboundedSender<Vec<u8>>, tag: &str) {
    let words = Command::new("/cancel").attr("tag", tag).to_words(Some(&format!("c{tag}")));
    if let Ok(bytes) = encode_sentence(&words) {
        let _ = writer.send(bytes);
    }
}

/// A command that keeps answering (see [`Connection::listen`]).
pub struct Listener {
    command: String,
    tag: String,
    rx: mpsc::UnboundedReceiver<Event>,
    shared: Arc<Shared>,
    writer: mpsc::UnboundedSender<Vec<u8>>,
    finished: bool,
}

impl Listener {
    /// The next `!re`'s attributes; `Ok(None)` when the router ended the command (`!done`),
    /// an error when it refused it (`!trap`) or the session died.
    pub async fn next(&mut self) -> Result<Option<Attrs>> {
        if self.finished {
            return Ok(None);
        }
        let mut trap: Option<Trap> = None;
        loop {
            match self.rx.recv().await {
                None => {
                    self.finished = true;
                    return Err(Error::ConnectionLost("session ended".into()));
                }
                Some(Event::Failed(f)) => {
                    self.finished = true;
                    return Err(f.to_error());
                }
                Some(Event::Reply(r)) => match r.kind {
                    ReplyKind::Re if trap.is_none() => return Ok(Some(r.attrs)),
                    ReplyKind::Re | ReplyKind::Empty => {}
                    ReplyKind::Trap => {
                        trap.get_or_insert_with(|| Trap::from_attrs(&self.command, &r.attrs));
                    }
                    ReplyKind::Done => {
                        self.finished = true;
                        return match trap {
                            Some(t) => Err(Error::Trap(t)),
                            None => Ok(None),
                        };
                    }
                    ReplyKind::Fatal(reason) => {
                        self.finished = true;
                        return Err(Error::Fatal(reason));
                    }
                },
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let alive = match self.shared.lock().as_mut() {
            Some(p) => {
                p.remove(&self.tag);
                true
            }
            None => false,
        };
        if alive && !self.finished {
            send_cancel(&self.writer, &self.tag);
        }
    }
}

/// Unregisters a tag when its call ends, and cancels it on the router if it had not finished
/// (timeout, or the caller dropped the future).
struct TagGuard<'a> {
    conn: &'a Connection,
    tag: &'a str,
    finished: bool,
}

impl Drop for TagGuard<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.conn.shared.lock().as_mut() {
            p.remove(self.tag);
        }
        if !self.finished && self.conn.is_alive() {
            send_cancel(&self.conn.writer, self.tag);
        }
    }
}

async fn read_loop(mut rd: impl AsyncRead + Unpin, mut dec: Decoder, shared: Arc<Shared>) {
    let failure = loop {
        let n = match rd.read_buf(dec.buffer_mut()).await {
            Ok(0) => break Failure::Lost("router closed the connection".into()),
            Ok(n) => n,
            Err(e) => break Failure::Lost(e.to_string()),
        };
        debug_assert!(n > 0);
        match dispatch(&mut dec, &shared) {
            Ok(()) => {}
            Err(f) => break f,
        }
    };
    shared.fail_all(failure);
}

fn dispatch(dec: &mut Decoder, shared: &Shared) -> Result<(), Failure> {
    while let Some(words) = dec.next_sentence_bytes().map_err(Failure::Decode)? {
        let reply = Reply::parse_bytes(words).map_err(|e| Failure::Lost(format!("protocol error: {e}")))?;
        if let ReplyKind::Fatal(reason) = &reply.kind {
            return Err(Failure::Fatal(reason.clone()));
        }
        let Some(tag) = reply.tag.as_deref() else {
            tracing::debug!(?reply, "untagged reply ignored");
            continue;
        };
        let is_done = reply.kind == ReplyKind::Done;
        let mut g = shared.lock();
        let Some(pending) = g.as_mut() else { return Ok(()) };
        let sender = if is_done { pending.remove(tag) } else { pending.get(tag).cloned() };
        drop(g);
        if let Some(tx) = sender {
            let _ = tx.send(Event::Reply(reply));
        }
    }
    Ok(())
}

async fn write_loop(mut wr: impl AsyncWrite + Unpin, mut rx: mpsc::UnboundedReceiver<Vec<u8>>, shared: Arc<Shared>) {
    let mut batch = Vec::with_capacity(64 * 1024);
    while let Some(first) = rx.recv().await {
        batch.clear();
        batch.extend_from_slice(&first);
        // Coalesce what is already queued into one write: pipelined bursts become few syscalls.
        while batch.len() < 256 * 1024 {
            match rx.try_recv() {
                Ok(more) => batch.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        if let Err(e) = async {
            wr.write_all(&batch).await?;
            wr.flush().await
        }
        .await
        {
            shared.fail_all(Failure::Lost(format!("write failed: {e}")));
            return;
        }
    }
}
