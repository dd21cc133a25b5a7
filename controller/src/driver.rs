//! The tokio driver: sockets and time for the sans-IO [`Controller`].
//!
//! One task per switch connection, on a multi-threaded runtime; listeners (`ptcp:`,
//! `punix:`) accept switches, and `tcp:`/`unix:` targets are connected out to switches
//! that listen passively, again and again with capped exponential backoff while they
//! are down. TCP connections get `TCP_NODELAY`: OpenFlow is request/response, and a
//! packet-in's answer must not wait for Nagle.
//!
//! # One lock, taken per batch
//!
//! The controller (connections, apps, view) sits behind one mutex, so apps see one
//! event at a time and never a thread. A connection's task takes the lock once per read
//! (up to [`READ_BUFFER`] bytes, hundreds of packet-ins under load), hands all of it to
//! [`Controller::receive`], takes the connection's whole output with one buffer swap
//! ([`Controller::take_pending`]), and lets go; the write happens outside the lock. So
//! the lock is taken per batch, not per message, and a batch of input becomes one write.
//!
//! Each task reads and writes concurrently (a `select!` over both), so a switch that is
//! itself blocked writing to us never deadlocks against our write to it. Output a handler
//! sends to another switch is written by that switch's task: the controller lists the
//! connections that got output ([`Controller::take_dirty`]) and their tasks are woken.
//! A one-second ticker drives keepalive and the apps' timers.
//!
//! # The JSON API
//!
//! With [`DriverConfig::api`], an HTTP listener serves [`crate::api`] on the same runtime:
//! one task per client connection (at most [`MAX_API_CONNECTIONS`] at once; more are
//! answered 503 and closed). A request takes the lock only to render its answer into
//! bytes; the write happens outside it. A flow-table request sends its statistics request
//! under the lock, registers a [`Notify`] for it, and waits without the lock; the
//! connection task that reads the switch's last reply part wakes it (the controller lists
//! finished API requests, [`Controller::take_api_done`], next to the dirty connections).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use flowlab_ofagent::backoff::{Backoff, INITIAL_BACKOFF, MAX_BACKOFF};
use flowlab_ofagent::target::Target;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::{Notify, Semaphore};

use crate::api::http::{serve_connection, HttpLimits};
use crate::api::{self, ApiPolicy, Plan, Response, Route};
use crate::controller::{ApiReply, ApiRequestId, ConnId, Controller};

/// Bytes read from a connection at once.
pub const READ_BUFFER: usize = 64 * 1024;

/// A connection yields to the others after this many read batches in a row.
pub const YIELD_EVERY: u32 = 4;

/// How often the controller is ticked.
pub const TICK: Duration = Duration::from_secs(1);

/// JSON API connections served at once; more are answered 503 and closed.
pub const MAX_API_CONNECTIONS: usize = 32;

/// Where the driver listens and what it connects to.
#[derive(Debug, Clone, Default)]
pub struct DriverConfig {
    /// Passive targets (`ptcp:`, `punix:`) to accept switches on.
    pub listen: Vec<Target>,
    /// Active targets (`tcp:`, `unix:`) of switches that listen.
    pub connect: Vec<Target>,
    /// Print connections, joins and closes to stderr.
    pub verbose: bool,
    /// Serve the JSON API and the topology page on this address (port 0: any free port).
    pub api: Option<SocketAddr>,
    /// Allow [`DriverConfig::api`] on an address that is not loopback (and then accept
    /// any `Host`).
    pub api_any: bool,
}

struct Core {
    ctl: Controller,
    wakers: Vec<Option<Arc<Notify>>>,
    dirty: Vec<ConnId>,
    /// HTTP requests waiting for a switch's answer.
    api_waiters: HashMap<ApiRequestId, Arc<Notify>>,
    api_done: Vec<ApiRequestId>,
}

struct Shared {
    core: Mutex<Core>,
    start: Instant,
    verbose: bool,
}

impl Shared {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        // A panicking app poisons the lock; the state is still the controller's own.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log(&self, text: std::fmt::Arguments<'_>) {
        if self.verbose {
            eprintln!("flowlab-controller: {text}");
        }
    }
}

impl Core {
    /// Wakes the tasks of connections that got output from elsewhere, and the HTTP
    /// requests whose switch answered.
    fn wake_dirty(&mut self, except: Option<ConnId>) {
        self.ctl.take_api_done(&mut self.api_done);
        for id in self.api_done.drain(..) {
            if let Some(n) = self.api_waiters.get(&id) {
                n.notify_one();
            }
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        self.ctl.take_dirty(&mut dirty);
        for &id in &dirty {
            if Some(id) != except {
                if let Some(Some(w)) = self.wakers.get(id) {
                    w.notify_one();
                }
            }
        }
        dirty.clear();
        self.dirty = dirty;
    }
}

/// What the driver bound: the actual addresses (a `ptcp:0` target gets a port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// A TCP listener.
    Tcp(SocketAddr),
    /// A unix stream listener.
    Unix(PathBuf),
    /// The JSON API's HTTP listener.
    Api(SocketAddr),
}

/// A running driver: its listeners are bound. [`Driver::run`] serves until `shutdown`
/// completes.
pub struct Driver {
    shared: Arc<Shared>,
    tcp: Vec<TcpListener>,
    unix: Vec<(UnixListener, PathBuf)>,
    connect: Vec<Target>,
    api: Option<(TcpListener, ApiPolicy)>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("bound", &self.bound())
            .finish()
    }
}

/// Binds `path` as a unix stream socket, replacing a stale socket file (one nobody
/// accepts on) but never a live one or anything that is not a socket.
fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{} is in use by a running process", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    UnixListener::bind(path)
}

impl Driver {
    /// Binds every listener of `config` (must be called within a tokio runtime).
    pub async fn bind(controller: Controller, config: DriverConfig) -> io::Result<Driver> {
        let mut tcp = Vec::new();
        let mut unix = Vec::new();
        for t in &config.listen {
            match t {
                Target::PassiveTcp { port, ip } => {
                    tcp.push(TcpListener::bind(SocketAddr::new(*ip, *port)).await?);
                }
                Target::PassiveUnix(path) => unix.push((bind_unix(path)?, path.clone())),
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{other}: --listen takes ptcp:PORT[:IP] or punix:PATH"),
                    ))
                }
            }
        }
        for t in &config.connect {
            if t.is_passive() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{t}: --connect takes tcp:HOST:PORT or unix:PATH"),
                ));
            }
        }
        let api = match config.api {
            None => None,
            Some(addr) => {
                let loopback = addr.ip().is_loopback();
                if !loopback && !config.api_any {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("--api {addr}: not a loopback address (add --api-any to allow it)"),
                    ));
                }
                let policy = ApiPolicy {
                    loopback_hosts_only: loopback && !config.api_any,
                };
                Some((TcpListener::bind(addr).await?, policy))
            }
        };
        Ok(Driver {
            shared: Arc::new(Shared {
                core: Mutex::new(Core {
                    ctl: controller,
                    wakers: Vec::new(),
                    dirty: Vec::new(),
                    api_waiters: HashMap::new(),
                    api_done: Vec::new(),
                }),
                start: Instant::now(),
                verbose: config.verbose,
            }),
            tcp,
            unix,
            connect: config.connect,
            api,
        })
    }

    /// The bound listeners.
    pub fn bound(&self) -> Vec<Bound> {
        let mut v: Vec<Bound> = self
            .tcp
            .iter()
            .filter_map(|l| l.local_addr().ok().map(Bound::Tcp))
            .collect();
        v.extend(self.unix.iter().map(|(_, p)| Bound::Unix(p.clone())));
        if let Some(addr) = self.api.as_ref().and_then(|(l, _)| l.local_addr().ok()) {
            v.push(Bound::Api(addr));
        }
        v
    }

    /// Serves switches until `shutdown` completes; then removes the unix sockets it
    /// bound.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Driver {
            shared,
            tcp,
            unix,
            connect,
            api,
        } = self;
        let mut tasks = tokio::task::JoinSet::new();
        for l in tcp {
            tasks.spawn(accept_tcp(shared.clone(), l));
        }
        let mut paths = Vec::new();
        for (l, path) in unix {
            paths.push(path);
            tasks.spawn(accept_unix(shared.clone(), l));
        }
        for t in connect {
            tasks.spawn(connect_loop(shared.clone(), t));
        }
        if let Some((listener, policy)) = api {
            tasks.spawn(accept_api(shared.clone(), listener, policy));
        }
        tasks.spawn(ticker(shared.clone()));
        shutdown.await;
        tasks.abort_all();
        for p in paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

async fn ticker(shared: Arc<Shared>) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let now = shared.now();
        let mut core = shared.lock();
        core.ctl.tick(now);
        core.wake_dirty(None);
    }
}

async fn accept_tcp(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let (r, w) = stream.into_split();
                tokio::spawn(serve(shared.clone(), r, w, format!("tcp:{peer}")));
            }
            Err(e) => {
                shared.log(format_args!("accept: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn accept_unix(shared: Arc<Shared>, listener: UnixListener) {
    let mut n = 0u64;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                n += 1;
                let (r, w) = stream.into_split();
                tokio::spawn(serve(shared.clone(), r, w, format!("unix#{n}")));
            }
            Err(e) => {
                shared.log(format_args!("accept: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn accept_api(shared: Arc<Shared>, listener: TcpListener, policy: ApiPolicy) {
    let slots = Arc::new(Semaphore::new(MAX_API_CONNECTIONS));
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                shared.log(format_args!("api accept: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            shared.log(format_args!("api: {peer}: too many connections"));
            tokio::spawn(async move {
                let mut out = Vec::new();
                Response::error(503, "too many API connections").encode(false, &mut out);
                let _ =
                    tokio::time::timeout(HttpLimits::DEFAULT.write, stream.write_all(&out)).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let answer = |route: Route| api_answer(shared.clone(), route);
            if let Err(e) = serve_connection(stream, policy, HttpLimits::DEFAULT, answer).await {
                shared.log(format_args!("api: {peer}: {e}"));
            }
            drop(slot);
        });
    }
}

/// Answers one API request (see the module documentation).
async fn api_answer(shared: Arc<Shared>, route: Route) -> Response {
    let now = shared.now();
    let plan = api::plan(&route, &shared.lock().ctl, now);
    let (dpid, version) = match plan {
        Plan::Respond(r) => return r,
        Plan::AskFlows { dpid, version } => (dpid, version),
    };
    let notify = Arc::new(Notify::new());
    let id = {
        let mut core = shared.lock();
        match core.ctl.api_request(dpid, api::flows_request(), now) {
            Ok(id) => {
                core.api_waiters.insert(id, notify.clone());
                core.wake_dirty(None);
                id
            }
            Err(e) => return api::request_failed(dpid, &e),
        }
    };
    let deadline = tokio::time::Instant::now() + api::FLOWS_TIMEOUT;
    loop {
        let reply = {
            let mut core = shared.lock();
            let r = core.ctl.api_reply(id);
            if !matches!(r, Some(ApiReply::Pending)) {
                core.api_waiters.remove(&id);
            }
            r
        };
        match reply {
            Some(ApiReply::Pending) => {}
            Some(r) => return api::render_flows(dpid, version, r),
            // Forgotten: only a request older than the controller's TTL is.
            None => return api::flows_timed_out(dpid),
        }
        if tokio::time::timeout_at(deadline, notify.notified())
            .await
            .is_err()
        {
            let mut core = shared.lock();
            core.ctl.api_abandon(id);
            core.api_waiters.remove(&id);
            return api::flows_timed_out(dpid);
        }
    }
}

async fn connect_loop(shared: Arc<Shared>, target: Target) {
    let mut backoff = Backoff::new(INITIAL_BACKOFF, MAX_BACKOFF, shared.now());
    loop {
        let label = target.to_string();
        let r = match &target {
            Target::Tcp { host, port } => match TcpStream::connect((host.as_str(), *port)).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    backoff.connected(shared.now());
                    let (r, w) = s.into_split();
                    serve(shared.clone(), r, w, label).await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Target::Unix(path) => match UnixStream::connect(path).await {
                Ok(s) => {
                    backoff.connected(shared.now());
                    let (r, w) = s.into_split();
                    serve(shared.clone(), r, w, label).await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
            // Refused in Driver::bind.
            _ => return,
        };
        let now = shared.now();
        match r {
            Ok(()) => backoff.disconnected(now),
            Err(e) => {
                shared.log(format_args!("{target}: {e}"));
                backoff.failed(now);
            }
        }
        let wait = backoff
            .next_attempt()
            .map_or(INITIAL_BACKOFF, |t| t.saturating_sub(shared.now()));
        tokio::time::sleep(wait).await;
    }
}

/// Runs `controller` as a program does: a multi-threaded runtime, the listeners and
/// connections of `config`, one stderr line per bound address (prefixed with `label`),
/// then service until SIGINT or SIGTERM.
pub fn run_program(controller: Controller, config: DriverConfig, label: &str) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let names = controller.app_names().join(",");
        let driver = Driver::bind(controller, config).await?;
        for b in driver.bound() {
            match b {
                Bound::Tcp(a) => eprintln!("{label}: listening on ptcp:{a} ({names})"),
                Bound::Unix(p) => {
                    eprintln!("{label}: listening on punix:{} ({names})", p.display())
                }
                Bound::Api(a) => eprintln!("{label}: JSON API on http://{a}/"),
            }
        }
        driver.run(shutdown_signal()).await;
        Ok(())
    })
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// One connection, from open to close. See the module documentation.
async fn serve<R, W>(shared: Arc<Shared>, mut rd: R, mut wr: W, label: String)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let notify = Arc::new(Notify::new());
    let id = {
        let mut core = shared.lock();
        let id = core.ctl.open(shared.now());
        if core.wakers.len() <= id {
            core.wakers.resize(id + 1, None);
        }
        core.wakers[id] = Some(notify.clone());
        id
    };
    shared.log(format_args!("{label}: connected"));
    let mut rbuf = vec![0u8; READ_BUFFER];
    let mut wbuf: Vec<u8> = Vec::with_capacity(READ_BUFFER);
    let mut wpos = 0usize;
    let mut closing: Option<String> = None;
    let mut joined = false;
    let mut batches = 0u32;
    let why = loop {
        if wpos == wbuf.len() {
            wpos = 0;
            let mut core = shared.lock();
            core.ctl.take_pending(id, &mut wbuf);
            if closing.is_none() {
                closing = core.ctl.close_requested(id).map(String::from);
            }
            if !joined {
                if let Some(dpid) = core.ctl.conn(id).and_then(|c| c.dpid()) {
                    joined = true;
                    let v = core.ctl.conn(id).and_then(|c| c.version()).unwrap_or(0);
                    drop(core);
                    shared.log(format_args!(
                        "{label}: switch {dpid} joined (OpenFlow {})",
                        if v == 1 { "1.0" } else { "1.3" }
                    ));
                }
            }
            if wbuf.is_empty() {
                if let Some(why) = closing.take() {
                    break why;
                }
            }
        }
        let writing = wpos < wbuf.len();
        tokio::select! {
            r = rd.read(&mut rbuf) => match r {
                Ok(0) => break "the switch closed the connection".to_string(),
                Ok(n) => {
                    let now = shared.now();
                    {
                        let mut core = shared.lock();
                        core.ctl.receive(id, &rbuf[..n], now);
                        core.wake_dirty(Some(id));
                    }
                    // Fairness: a switch that always has more to read would otherwise be
                    // served batch after batch while the others wait; every few batches
                    // it goes to the back of the runtime's queue.
                    batches += 1;
                    if batches == YIELD_EVERY {
                        batches = 0;
                        tokio::task::yield_now().await;
                    }
                }
                Err(e) => break format!("read: {e}"),
            },
            w = wr.write(&wbuf[wpos..]), if writing => match w {
                Ok(0) => break "the switch stopped reading".to_string(),
                Ok(n) => wpos += n,
                Err(e) => break format!("write: {e}"),
            },
            _ = notify.notified(), if !writing => {}
        }
    };
    let _ = wr.shutdown().await;
    {
        let mut core = shared.lock();
        core.ctl.close(id, shared.now());
        if let Some(w) = core.wakers.get_mut(id) {
            *w = None;
        }
        core.wake_dirty(None);
    }
    shared.log(format_args!("{label}: closed: {why}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps;
    use crate::config::Config;
    use crate::switch_conn::ConnConfig;
    use flowlab_openflow::model::{Message, SwitchFeatures};
    use flowlab_openflow::{Framer, Hello};

    fn controller() -> Controller {
        let apps = apps::build(&["hub".into()], &Config::default()).unwrap();
        Controller::new(ConnConfig::default(), apps).unwrap()
    }

    async fn read_msg(s: &mut TcpStream, f: &mut Framer) -> Message {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(frame) = f.next_frame() {
                return flowlab_openflow::decode(frame.unwrap()).unwrap().1;
            }
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed");
            f.extend(&buf[..n]);
        }
    }

    async fn send(s: &mut TcpStream, version: u8, m: &Message) {
        let mut b = Vec::new();
        flowlab_openflow::encode(version, 1, m, &mut b).unwrap();
        s.write_all(&b).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tcp_switch_is_handshaken_and_answered_over_real_sockets() {
        let driver = Driver::bind(
            controller(),
            DriverConfig {
                listen: vec![Target::parse("ptcp:0").unwrap()],
                ..DriverConfig::default()
            },
        )
        .await
        .unwrap();
        let [Bound::Tcp(addr)] = driver.bound()[..] else {
            panic!("{:?}", driver.bound())
        };
        let shared = driver.shared.clone();
        let stop = Arc::new(Notify::new());
        let stop2 = stop.clone();
        let run = tokio::spawn(driver.run(async move { stop2.notified().await }));
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut f = Framer::new();
        assert!(matches!(read_msg(&mut s, &mut f).await, Message::Hello(_)));
        send(&mut s, 1, &Message::Hello(Hello::default())).await;
        assert_eq!(read_msg(&mut s, &mut f).await, Message::FeaturesRequest);
        send(
            &mut s,
            1,
            &Message::FeaturesReply(SwitchFeatures {
                datapath_id: 0x77,
                ..SwitchFeatures::default()
            }),
        )
        .await;
        send(&mut s, 1, &Message::EchoRequest(b"x".to_vec())).await;
        loop {
            if let Message::EchoReply(d) = read_msg(&mut s, &mut f).await {
                assert_eq!(d, b"x");
                break;
            }
        }
        let joined = shared
            .lock()
            .ctl
            .switch(crate::view::DatapathId(0x77))
            .is_some();
        assert!(joined);
        drop(s);
        // The close is noticed and the switch leaves.
        for _ in 0..200 {
            if shared.lock().ctl.switches().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(shared.lock().ctl.switches().is_empty());
        stop.notify_one();
        run.await.unwrap();
    }

    /// One HTTP/1.0 exchange (the server closes after the response).
    async fn http_get(addr: SocketAddr, path: &str, host: &str) -> (u16, String) {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        let status = text
            .get(9..12)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (status, body)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_api_serves_the_view_and_asks_switches_for_flows() {
        use flowlab_openflow::model::multipart::{
            FlowStats, MultipartReply, MultipartReplyBody, MultipartRequestBody, MORE,
        };
        use flowlab_openflow::model::{Action, Instruction, Match, OxmField, PortNo};

        let refused = Driver::bind(
            controller(),
            DriverConfig {
                api: Some("0.0.0.0:0".parse().unwrap()),
                ..DriverConfig::default()
            },
        )
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("--api-any"), "{refused}");

        let driver = Driver::bind(
            controller(),
            DriverConfig {
                listen: vec![Target::parse("ptcp:0").unwrap()],
                api: Some("127.0.0.1:0".parse().unwrap()),
                ..DriverConfig::default()
            },
        )
        .await
        .unwrap();
        let (mut of_addr, mut api_addr) = (None, None);
        for b in driver.bound() {
            match b {
                Bound::Tcp(a) => of_addr = Some(a),
                Bound::Api(a) => api_addr = Some(a),
                Bound::Unix(_) => {}
            }
        }
        let (of_addr, api) = (of_addr.unwrap(), api_addr.unwrap());
        let stop = Arc::new(Notify::new());
        let stop2 = stop.clone();
        let run = tokio::spawn(driver.run(async move { stop2.notified().await }));

        let (status, body) = http_get(api, "/api/switches", "127.0.0.1").await;
        assert_eq!((status, body.as_str()), (200, "{\"switches\":[]}\n"));

        // A 1.3 switch joins.
        let mut s = TcpStream::connect(of_addr).await.unwrap();
        let mut f = Framer::new();
        assert!(matches!(read_msg(&mut s, &mut f).await, Message::Hello(_)));
        send(&mut s, 4, &Message::Hello(Hello::with_versions(&[4]))).await;
        send(
            &mut s,
            4,
            &Message::FeaturesReply(SwitchFeatures {
                datapath_id: 0xc1,
                n_tables: 2,
                ..SwitchFeatures::default()
            }),
        )
        .await;
        let mut joined = false;
        for _ in 0..200 {
            let (_, body) = http_get(api, "/api/topology", "localhost:1").await;
            if body.contains("\"dpid\":\"00000000000000c1\"") {
                joined = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(joined, "the switch never showed in /api/topology");
        let (status, _) = http_get(api, "/api/switches", "evil.example").await;
        assert_eq!(status, 403, "a rebound name is refused");
        let (status, _) = http_get(api, "/api/flows/00000000000000c2", "127.0.0.1").await;
        assert_eq!(status, 404);
        let (status, page) = http_get(api, "/", "127.0.0.1").await;
        assert_eq!(status, 200);
        assert!(page.contains("<svg id=\"topology\""));

        // Ask for its flows; the switch answers in two parts.
        let ask =
            tokio::spawn(
                async move { http_get(api, "/api/flows/00000000000000c1", "127.0.0.1").await },
            );
        let xid = loop {
            let mut buf = [0u8; 4096];
            let frame = loop {
                if let Some(frame) = f.next_frame() {
                    break frame.unwrap().to_vec();
                }
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed");
                f.extend(&buf[..n]);
            };
            let (h, m) = flowlab_openflow::decode(&frame).unwrap();
            if let Message::MultipartRequest(r) = m {
                if matches!(r.body, MultipartRequestBody::Flow(_)) {
                    break h.xid;
                }
            }
        };
        assert_eq!(
            crate::switch_conn::xid_owner(xid),
            crate::controller::API_OWNER
        );
        let flow = |priority: u16, port: u32| FlowStats {
            table_id: 0,
            duration_sec: 3,
            duration_nsec: 500_000_000,
            priority,
            idle_timeout: 0,
            hard_timeout: 0,
            flags: 0,
            cookie: 7,
            packet_count: 5,
            byte_count: 300,
            match_: Match::new().with(OxmField::in_port(PortNo(port))),
            instructions: vec![Instruction::ApplyActions(vec![Action::output(PortNo(2))])],
        };
        for (flags, priority) in [(MORE, 10), (0, 20)] {
            let mut b = Vec::new();
            flowlab_openflow::encode(
                4,
                xid,
                &Message::MultipartReply(MultipartReply {
                    flags,
                    body: MultipartReplyBody::Flow(vec![flow(priority, 1)]),
                }),
                &mut b,
            )
            .unwrap();
            s.write_all(&b).await.unwrap();
        }
        let (status, body) = ask.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let flows = v["flows"].as_array().unwrap();
        assert_eq!(flows.len(), 2, "{body}");
        assert_eq!(flows[0]["priority"], 10);
        assert_eq!(flows[1]["priority"], 20);
        assert_eq!(flows[1]["match"], "in_port=1");
        assert_eq!(flows[1]["actions"], "output:2");
        assert_eq!(flows[1]["duration"], 3.5);
        assert_eq!(flows[1]["packets"], 5);

        // A switch that does not answer: 504 after the timeout.
        let started = Instant::now();
        let (status, _) = http_get(api, "/api/flows/c1", "127.0.0.1").await;
        assert_eq!(status, 504);
        assert!(started.elapsed() >= api::FLOWS_TIMEOUT);
        let (status, body) = http_get(api, "/api/stats", "127.0.0.1").await;
        assert_eq!(status, 200);
        assert!(body.contains("\"SwitchJoin\":1"), "{body}");
        assert!(body.contains("\"api_waiting\":0"), "abandoned: {body}");
        stop.notify_one();
        run.await.unwrap();
    }

    #[test]
    fn stale_unix_sockets_are_replaced_live_ones_and_files_are_not() {
        let dir = std::env::temp_dir().join(format!("flc-drv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let live = bind_unix(&path).unwrap();
            assert_eq!(
                bind_unix(&path).unwrap_err().kind(),
                io::ErrorKind::AddrInUse
            );
            drop(live);
            // The file stays behind, stale: it is replaced.
            assert!(path.exists());
            let again = bind_unix(&path).unwrap();
            drop(again);
            std::fs::remove_file(&path).unwrap();
            std::fs::write(&path, b"not a socket").unwrap();
            assert_eq!(
                bind_unix(&path).unwrap_err().kind(),
                io::ErrorKind::AlreadyExists
            );
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
