//! The network side: accepts API sessions over TCP or TLS, decodes commands with the client's
//! codec, runs them against the shared [`World`], and injects faults.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use routeros::codec::{Decoder, Limits, encode_sentence};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::menu::{Outcome, Request};
use crate::version::RosVersion;
use crate::world::{HostsDirty, World};
use routeros::Attrs;

/// Faults to inject; change them at any time with [`crate::Simulator::set_faults`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Faults {
    /// Delay before every command (except `/login` and `/cancel`) runs and replies.
    /// Each command waits on its own: other tagged commands are not held up.
    pub command_latency: Duration,
    /// Per-path delay overriding `command_latency` (path prefix match, longest wins).
    pub path_latency: Vec<(String, Duration)>,
    /// Delay before `/login` answers.
    pub login_delay: Duration,
    /// The next N command replies are cut in the middle and the connection is closed.
    /// The command itself has taken effect (the hard case: applied but not acknowledged).
    pub drop_mid_reply: u32,
    /// The next command is answered with `!fatal <reason>` and the connection closed, not run.
    pub fatal_next: Option<String>,
    /// Refuse logins (as if the API user was removed) with the usual trap.
    pub reject_logins: bool,
}

impl Faults {
    fn latency_for(&self, path: &str) -> Duration {
        self.path_latency
            .iter()
            .filter(|(p, _)| path.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, d)| *d)
            .unwrap_or(self.command_latency)
    }
}

/// Counters for assertions (e.g. that a client really pipelines).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub connections_accepted: u64,
    pub connections_open: usize,
    pub commands: u64,
    /// Most commands that were in progress at once on one connection.
    pub max_in_flight: usize,
    pub cancelled: u64,
    /// `/ip/hotspot/host/listen` commands running now.
    pub listening: usize,
}

pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub faults: Mutex<Faults>,
    pub username: String,
    /// The API user's password: `/user set password=` (a script import) changes it.
    pub password: Mutex<String>,
    pub limits: Limits,
    accepted: AtomicU64,
    open: AtomicUsize,
    commands: AtomicU64,
    max_in_flight: AtomicUsize,
    cancelled: AtomicU64,
    /// Bumped to make every open session close (with `!fatal` when a reason is set).
    pub kill: watch::Sender<(u64, Option<String>)>,
    /// Sessions running `/ip/hotspot/host/listen`, and the rows they last heard of.
    host_listeners: Mutex<HostListeners>,
    /// Commands received, by path (`/ip/hotspot/host/print`).
    by_path: Mutex<HashMap<String, u64>>,
}

#[derive(Default)]
struct HostListeners {
    subs: Vec<(Weak<Session>, Option<String>)>,
    last: BTreeMap<String, Attrs>,
}

/// The world, locked; when it is let go, sessions listening to the host table hear what changed
/// (every change, however made: a command, a test control, the clock).
pub(crate) struct WorldGuard<'a> {
    world: std::sync::MutexGuard<'a, World>,
    shared: &'a Shared,
}

impl std::ops::Deref for WorldGuard<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl std::ops::DerefMut for WorldGuard<'_> {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.world
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        let dirty = self.world.take_hosts_dirty();
        if dirty != HostsDirty::Clean {
            self.shared.publish_hosts(&self.world, dirty);
        }
    }
}

impl Shared {
    pub fn new(world: World, username: String, password: String, limits: Limits) -> Shared {
        Shared {
            world: Mutex::new(world),
            faults: Mutex::new(Faults::default()),
            username,
            password: Mutex::new(password),
            limits,
            accepted: AtomicU64::new(0),
            open: AtomicUsize::new(0),
            commands: AtomicU64::new(0),
            max_in_flight: AtomicUsize::new(0),
            cancelled: AtomicU64::new(0),
            kill: watch::channel((0, None)).0,
            host_listeners: Mutex::new(HostListeners::default()),
            by_path: Mutex::new(HashMap::new()),
        }
    }

    pub fn world(&self) -> WorldGuard<'_> {
        WorldGuard { world: self.world.lock().unwrap_or_else(|p| p.into_inner()), shared: self }
    }

    fn host_listeners(&self) -> std::sync::MutexGuard<'_, HostListeners> {
        self.host_listeners.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a listen: RouterOS reports changes from now on, not the rows already there.
    fn listen_hosts(&self, session: &Arc<Session>, tag: Option<String>) {
        let rows = self.world().host_rows();
        let mut l = self.host_listeners();
        l.subs.retain(|(s, _)| s.strong_count() > 0);
        if l.subs.is_empty() {
            l.last = rows;
        }
        l.subs.push((Arc::downgrade(session), tag));
    }

    /// Ends this session's listen tagged `tag`; false when it has none.
    fn unlisten_hosts(&self, session: &Arc<Session>, tag: &str) -> bool {
        let mut l = self.host_listeners();
        let before = l.subs.len();
        l.subs.retain(|(s, t)| !(std::ptr::eq(s.as_ptr(), Arc::as_ptr(session)) && t.as_deref() == Some(tag)));
        l.subs.len() != before
    }

    /// Sends each listening session a `!re` per host row that appeared or changed since the last
    /// call, and one with `.dead=true` (what RouterOS 7.23+ sends; its manual says `yes`) per
    /// row gone. Only the rows `dirty` names are compared.
    fn publish_hosts(&self, world: &World, dirty: HostsDirty) {
        let mut l = self.host_listeners();
        l.subs.retain(|(s, _)| s.strong_count() > 0);
        if l.subs.is_empty() {
            return;
        }
        let (now, gone): (BTreeMap<String, Attrs>, Vec<String>) = match &dirty {
            HostsDirty::Clean => return,
            HostsDirty::All => {
                let now = world.host_rows();
                let gone = l.last.keys().filter(|id| !now.contains_key(*id)).cloned().collect();
                (now, gone)
            }
            HostsDirty::Macs(macs) => {
                let now = world.host_rows_of(macs);
                // Rows print MACs as the world formats them.
                let names: Vec<String> = macs.iter().map(|m| m.to_string()).collect();
                let named = |row: &Attrs| row.get("mac-address").is_some_and(|m| names.contains(m));
                let gone = l
                    .last
                    .iter()
                    .filter(|(id, row)| named(row) && !now.contains_key(*id))
                    .map(|(id, _)| id.clone())
                    .collect();
                (now, gone)
            }
        };
        let mut changes: Vec<Vec<String>> = Vec::new();
        for (id, row) in &now {
            if l.last.get(id) != Some(row) {
                let mut w = vec!["!re".to_string()];
                w.extend(row.iter().map(|(k, v)| format!("={k}={v}")));
                changes.push(w);
            }
        }
        for id in &gone {
            changes.push(vec!["!re".into(), format!("=.id={id}"), "=.dead=true".into()]);
            l.last.remove(id);
        }
        if dirty == HostsDirty::All {
            l.last = now;
        } else {
            l.last.extend(now);
        }
        if changes.is_empty() {
            return;
        }
        for (s, tag) in &l.subs {
            if let Some(session) = s.upgrade() {
                session.send(changes.iter().flat_map(|w| sentence(with_tag(w.clone(), tag.as_deref()))).collect());
            }
        }
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> Stats {
        Stats {
            connections_accepted: self.accepted.load(Ordering::Relaxed),
            connections_open: self.open.load(Ordering::Relaxed),
            commands: self.commands.load(Ordering::Relaxed),
            max_in_flight: self.max_in_flight.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
            listening: self.host_listeners().subs.iter().filter(|(s, _)| s.strong_count() > 0).count(),
        }
    }

    /// How many commands with this path sessions have sent.
    pub fn commands_run(&self, path: &str) -> u64 {
        self.by_path.lock().unwrap_or_else(|p| p.into_inner()).get(path).copied().unwrap_or(0)
    }

    fn version(&self) -> RosVersion {
        self.world().version
    }
}

pub(crate) async fn accept_loop(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, shared: Arc<Shared>) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            shared.open.fetch_add(1, Ordering::Relaxed);
            match tls {
                None => serve(tcp, peer, shared.clone()).await,
                Some(acc) => match acc.accept(tcp).await {
                    Ok(s) => serve(s, peer, shared.clone()).await,
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                },
            }
            shared.open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

enum Out {
    Bytes(Vec<u8>),
    /// Write these bytes then close: used for `!fatal` and cut replies.
    Last(Vec<u8>),
}

/// Per-session state shared by the command tasks.
struct Session {
    out: mpsc::UnboundedSender<Out>,
    /// Commands waiting out their latency, by sequence number, with their tag; `/cancel` removes them.
    waiting: Mutex<HashMap<u64, Option<String>>>,
    next_seq: AtomicU64,
    in_flight: AtomicUsize,
    closing: watch::Sender<bool>,
}

impl Session {
    fn send(&self, bytes: Vec<u8>) {
        let _ = self.out.send(Out::Bytes(bytes));
    }
    fn send_last(&self, bytes: Vec<u8>) {
        let _ = self.out.send(Out::Last(bytes));
        let _ = self.closing.send(true);
    }
    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Option<String>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn sentence(words: Vec<String>) -> Vec<u8> {
    // Words we build are small; encoding cannot fail below 4 GiB. Kept codepage bytes go out
    // as the bytes they are (`raw`).
    let words: Vec<Vec<u8>> = words.iter().map(|w| crate::raw::wire(w)).collect();
    encode_sentence(&words).unwrap_or_default()
}

fn with_tag(mut words: Vec<String>, tag: Option<&str>) -> Vec<String> {
    if let Some(t) = tag {
        words.push(format!(".tag={t}"));
    }
    words
}

fn encode_outcome(o: &Outcome, tag: Option<&str>, version: RosVersion) -> Vec<u8> {
    let mut bytes = Vec::new();
    for row in &o.rows {
        let mut w = vec!["!re".to_string()];
        w.extend(row.iter().map(|(k, v)| format!("={k}={v}")));
        bytes.extend(sentence(with_tag(w, tag)));
    }
    if let Some((cat, msg)) = &o.trap {
        let mut w = vec!["!trap".to_string()];
        if let Some(c) = cat {
            w.push(format!("=category={c}"));
        }
        w.push(format!("=message={msg}"));
        bytes.extend(sentence(with_tag(w, tag)));
    } else if o.is_listing && o.rows.is_empty() && version.sends_empty() {
        bytes.extend(sentence(with_tag(vec!["!empty".into()], tag)));
    }
    let mut w = vec!["!done".to_string()];
    w.extend(o.done.iter().map(|(k, v)| format!("={k}={v}")));
    bytes.extend(sentence(with_tag(w, tag)));
    bytes
}

fn trap_bytes(cat: Option<u8>, msg: &str, tag: Option<&str>) -> Vec<u8> {
    let o = Outcome { trap: Some((cat, msg.to_string())), ..Default::default() };
    encode_outcome(&o, tag, RosVersion::V7_17)
}

fn fatal_bytes(reason: &str) -> Vec<u8> {
    sentence(vec!["!fatal".into(), reason.into()])
}

fn parse_request(words: Vec<String>) -> (Request, Option<String>) {
    let mut it = words.into_iter();
    let mut req = Request { path: it.next().unwrap_or_default(), ..Default::default() };
    let mut tag = None;
    for w in it {
        if let Some(t) = w.strip_prefix(".tag=") {
            tag = Some(t.to_string());
        } else if w.starts_with('?') {
            req.queries.push(w);
        } else if let Some((k, v)) = routeros::sentence::split_attr(&w) {
            req.attrs.push((k.to_string(), v.to_string()));
        }
        // Other words (API attributes we do not emulate) are ignored, as RouterOS ignores unknown ones.
    }
    (req, tag)
}

async fn serve<S: AsyncRead + AsyncWrite + Send + 'static>(stream: S, peer: SocketAddr, shared: Arc<Shared>) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Out>();
    let (closing, mut closing_rx) = watch::channel(false);
    let session = Arc::new(Session {
        out: out_tx,
        waiting: Mutex::new(HashMap::new()),
        next_seq: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        closing,
    });
    let writer = tokio::spawn(async move {
        while let Some(o) = out_rx.recv().await {
            let (bytes, last) = match o {
                Out::Bytes(b) => (b, false),
                Out::Last(b) => (b, true),
            };
            if wr.write_all(&bytes).await.is_err() || wr.flush().await.is_err() {
                return;
            }
            if last {
                let _ = wr.shutdown().await;
                return;
            }
        }
    });
    let mut kill_rx = shared.kill.subscribe();
    kill_rx.borrow_and_update();
    let mut dec = Decoder::new(shared.limits);
    let mut logged_in = false;
    'conn: loop {
        let read = tokio::select! {
            r = rd.read_buf(dec.buffer_mut()) => r,
            _ = closing_rx.wait_for(|c| *c) => break 'conn,
            changed = kill_rx.changed() => {
                if changed.is_ok() {
                    let reason = kill_rx.borrow().1.clone();
                    match reason {
                        Some(r) => session.send_last(fatal_bytes(&r)),
                        None => session.send_last(Vec::new()),
                    }
                }
                break 'conn;
            }
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        loop {
            let words = match dec.next_sentence() {
                Ok(Some(w)) => w,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "bad bytes from client");
                    session.send_last(fatal_bytes("protocol error"));
                    break 'conn;
                }
            };
            let (req, tag) = parse_request(words);
            if !logged_in {
                if req.path != "/login" {
                    session.send(trap_bytes(None, "not logged in", tag.as_deref()));
                    continue;
                }
                // Login is answered in order: nothing else may run before it.
                let (delay, reject) = {
                    let f = shared.faults();
                    (f.login_delay, f.reject_logins)
                };
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let name = req.attrs.iter().find(|(k, _)| k == "name").map(|(_, v)| v.as_str());
                let pw = req.attrs.iter().find(|(k, _)| k == "password").map(|(_, v)| v.as_str());
                let right = pw.is_some_and(|p| *shared.password.lock().unwrap_or_else(|e| e.into_inner()) == p);
                if !reject && name == Some(shared.username.as_str()) && right {
                    logged_in = true;
                    session.send(encode_outcome(&Outcome::default(), tag.as_deref(), shared.version()));
                } else {
                    session.send(trap_bytes(None, "invalid user name or password (6)", tag.as_deref()));
                }
                continue;
            }
            handle(req, tag, &shared, &session);
        }
    }
    drop(session);
    let _ = writer.await;
}

fn handle(req: Request, tag: Option<String>, shared: &Arc<Shared>, session: &Arc<Session>) {
    shared.commands.fetch_add(1, Ordering::Relaxed);
    *shared.by_path.lock().unwrap_or_else(|p| p.into_inner()).entry(req.path.clone()).or_default() += 1;
    match req.path.as_str() {
        "/cancel" => {
            let target = req.attrs.iter().find(|(k, _)| k == "tag").map(|(_, v)| v.clone());
            let found = target.as_ref().is_some_and(|t| {
                if shared.unlisten_hosts(session, t) {
                    return true;
                }
                let mut w = session.waiting();
                let seq = w.iter().find(|(_, tag)| tag.as_ref() == Some(t)).map(|(s, _)| *s);
                seq.and_then(|s| w.remove(&s)).is_some()
            });
            if found {
                shared.cancelled.fetch_add(1, Ordering::Relaxed);
                session.send(trap_bytes(Some(2), "interrupted", target.as_deref()));
            }
            let o = if found || target.is_none() {
                Outcome::default()
            } else {
                Outcome { trap: Some((None, "no such command".into())), ..Default::default() }
            };
            session.send(encode_outcome(&o, tag.as_deref(), shared.version()));
            return;
        }
        // Answers only as the table changes, until cancelled; a listen on another menu is
        // refused below as RouterOS refuses what it does not have.
        "/ip/hotspot/host/listen" => {
            shared.listen_hosts(session, tag);
            return;
        }
        "/quit" => {
            session.send_last(fatal_bytes("session terminated on request"));
            return;
        }
        _ => {}
    }
    let (fatal, latency) = {
        let mut f = shared.faults();
        (f.fatal_next.take(), f.latency_for(&req.path))
    };
    if let Some(reason) = fatal {
        session.send_last(fatal_bytes(&reason));
        return;
    }
    let n = session.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    shared.max_in_flight.fetch_max(n, Ordering::Relaxed);
    if latency.is_zero() {
        run(&req, tag.as_deref(), shared, session);
        return;
    }
    let key = session.next_seq.fetch_add(1, Ordering::Relaxed);
    session.waiting().insert(key, tag.clone());
    let (shared, session) = (shared.clone(), session.clone());
    tokio::spawn(async move {
        tokio::time::sleep(latency).await;
        // Cancelled while waiting: it never ran; /cancel already answered for it.
        if session.waiting().remove(&key).is_none() {
            session.in_flight.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        run(&req, tag.as_deref(), &shared, &session);
    });
}

fn run(req: &Request, tag: Option<&str>, shared: &Shared, session: &Session) {
    let (outcome, version) = {
        let mut w = shared.world();
        (w.execute(req), w.version)
    };
    let bytes = encode_outcome(&outcome, tag, version);
    session.in_flight.fetch_sub(1, Ordering::Relaxed);
    let cut = {
        let mut f = shared.faults();
        if f.drop_mid_reply > 0 {
            f.drop_mid_reply -= 1;
            true
        } else {
            false
        }
    };
    if cut {
        let half = bytes.len() / 2;
        session.send_last(bytes[..half.max(1)].to_vec());
    } else {
        session.send(bytes);
    }
}
