//! The switch: one thread, one epoll loop, every socket non-blocking.
//!
//! # What the loop owns
//!
//! * control listeners: the `-unix` socket and/or `DIR/ctl` of `--vde DIR`;
//! * the `--bess PATH` listener for UML's vector transport: each accepted seqpacket
//!   connection is a port by itself, ended by its EOF (no request, no control connection);
//! * control connections: pending (request not yet complete), bound to a port (idle until
//!   EOF, which ends the port), or management (`flowlab-hub ctl`: a reply, or a live
//!   pcapng capture stream);
//! * ports, indexed by their number (lowest free from 1): a connected datagram socket per
//!   uml/VDE client, the tap, or a v0 client reached through the shared `-compat-v0`
//!   data socket;
//! * the forwarding mode (hub or learning switch) with its MAC table.
//!
//! # One pass of the fast path
//!
//! A readable port is drained one batch at a time (`recvmmsg`, up to 32 frames). Each
//! frame is checked (runts under 14 bytes and frames over `--max-frame` are dropped and
//! counted, never cut), its source learned and its destination decided; the frame's index
//! is appended to the output list of every port it goes to. When the whole batch is
//! decided, each output port gets its frames in one `sendmmsg`, in arrival order. Frames a
//! full peer refuses wait in that port's bounded queue, flushed on `EPOLLOUT`; while a
//! queue is non-empty, new frames for that port join its tail so order is kept. Ports are
//! level-triggered and read one batch per wakeup, so a busy port cannot starve others.
//!
//! # Sleeping
//!
//! The loop sleeps in `epoll_wait` with no timeout. Periodic work (MAC aging every
//! [`AGING_INTERVAL`], silent pending connections, rate-limit summaries) comes from a
//! one-second periodic timerfd, so going to sleep arms no timer and waking cancels none:
//! on a virtual machine each timer arm or cancel can cost an exit, paid per frame when
//! traffic is sparse.
//!
//! # Control-plane rules
//!
//! A port lives exactly as long as its control connection: EOF or an error on it removes
//! the port, purges every MAC learned there, drops its queue and unlinks its socket file.
//! Bytes arriving later on a port's control connection are read and ignored (logged once),
//! never fatal. A malformed request gets one clear log line and its connection is closed.
//! A pending connection that stays silent for [`PENDING_TIMEOUT`] is closed.

mod control;
mod fastpath;
mod openflow;
mod ports;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use flowlab_datapath::counters::PortCounters;
use flowlab_datapath::learning::{Learned, MacTable};
use flowlab_datapath::port::tap::TapPort;
use flowlab_datapath::port::unix_addr::UnixAddr;
use flowlab_datapath::port::unix_dgram::{
    bind, dgram_socket, recv_batch_from, send_batch_to, UnixDgramPort,
};
use flowlab_datapath::port::unix_seqpacket;
use flowlab_datapath::port::{OutputQueue, Port, RxBatch, BATCH};

use crate::capture::{CaptureFilter, Direction, PcapngWriter};
use crate::cli::{ModeArg, SwitchArgs};
use crate::forwarding::{Decision, Forwarding};
use crate::log::Log;
use crate::mgmt::{self, MGMT_PREFIX};
use crate::request::{Listener, RequestKind, UmlRequest, Version, MAX_REQUEST_LEN};
use flowlab_ofagent::agent::{Agent, AgentConfig, AgentFailMode, VersionSet};

use control::{Conn, ConnState, ControlListener};
use fastpath::OutLists;
use openflow::{OfState, TOKEN_OF_CONN, TOKEN_OF_LISTENER};
use ports::{SharedV0, V0Port};

/// A pending control connection that sent no complete request in this time is closed.
pub const PENDING_TIMEOUT: Duration = Duration::from_secs(10);
/// How often aged MAC entries are freed (uml_switch's `GC_INTERVAL`).
pub const AGING_INTERVAL: Duration = Duration::from_secs(2);
/// Highest port number handed out.
pub const MAX_PORTS: usize = 4096;

const TOKEN_LISTENER: u64 = 1 << 32;
const TOKEN_CONN: u64 = 2 << 32;
const TOKEN_PORT: u64 = 3 << 32;
const TOKEN_SHARED: u64 = 4 << 32;
const TOKEN_STDIN: u64 = 5 << 32;
const TOKEN_TIMER: u64 = 6 << 32;
const TOKEN_BESS: u64 = 9 << 32;
const TOKEN_INDEX: u64 = (1 << 32) - 1;

static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNAL.store(sig, Ordering::Relaxed);
}

/// Why the switch could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another live switch holds the control socket.
    #[error(
        "The control socket '{0}' has another server attached to it\n\
         You can either\n\
         \tremove '{0}', or\n\
         \trun this program with a different, unused filename"
    )]
    InUse(PathBuf),
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}

struct PortSlot {
    io: Box<dyn Port>,
    /// Index of the control connection, or None for the tap.
    conn: Option<usize>,
    name: String,
    peer: String,
    counters: PortCounters,
    queue: OutputQueue,
    want_out: bool,
    dump: bool,
    registered: bool,
    /// The link state last reported to the agent (ports with a carrier: raw, tap).
    link_up: bool,
}

/// Switch-wide counters (per-port ones live in each port).
#[derive(Clone, Copy, Debug, Default)]
pub struct SwitchStats {
    /// Frames decided (accepted for forwarding).
    pub frames: u64,
    /// Receive calls that returned frames (frames / rx_batches = the mean batch size).
    pub rx_batches: u64,
    /// Frames flooded.
    pub flooded: u64,
    /// Frames unicast to a learned port.
    pub unicast: u64,
    /// Frames filtered because the destination is behind the ingress port.
    pub filtered: u64,
    /// Frames under 14 bytes dropped.
    pub runts: u64,
    /// Frames over `--max-frame` dropped.
    pub oversize: u64,
    /// Control requests refused.
    pub bad_requests: u64,
    /// Ports created.
    pub ports_created: u64,
    /// Ports removed.
    pub ports_removed: u64,
    /// Frames from unknown senders on the shared v0 socket.
    pub unknown_senders: u64,
}

/// A running switch.
pub struct Switch {
    args: SwitchArgs,
    log: Log,
    epoll: OwnedFd,
    timer: OwnedFd,
    listeners: Vec<ControlListener>,
    conns: Vec<Option<Conn>>,
    ports: Vec<Option<PortSlot>>,
    dump_ports: Vec<u32>,
    captures: usize,
    shared: Option<SharedV0>,
    forwarding: Forwarding,
    batch: RxBatch,
    out: OutLists,
    stats: SwitchStats,
    start: Instant,
    last_aging: Instant,
    serial: u64,
    vde_dir_created: Option<PathBuf>,
    /// The `--bess` listener and its path.
    bess: Option<(OwnedFd, PathBuf)>,
    watch_stdin: bool,
    /// OpenFlow mode's agent and connections (None in hub and learning modes).
    of: Option<OfState>,
}

impl Switch {
    /// Sets everything up (tap, sockets) and prints uml_switch's startup lines. The control
    /// sockets exist once this returns, and not before the switch can serve them.
    pub fn start(args: SwitchArgs) -> Result<Switch, StartError> {
        let log = Log::new(!args.quiet);
        // SAFETY: plain epoll_create1.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(io_err("epoll_create1")(io::Error::last_os_error()));
        }
        // SAFETY: ep is a fresh descriptor we own.
        let epoll = unsafe { OwnedFd::from_raw_fd(ep) };
        // OpenFlow mode ticks at 100 ms: reconnect backoff, echo and flow timeouts.
        let tick = if args.openflow.is_some() {
            OF_TICK
        } else {
            Duration::from_secs(1)
        };
        let timer = periodic_timer(tick).map_err(io_err("timerfd"))?;
        let macs = MacTable::new(args.mac_table_size, args.mac_aging_secs * 1000);
        let forwarding = match args.mode {
            ModeArg::Hub => Forwarding::Hub(macs),
            ModeArg::Switch => Forwarding::Learning(macs),
        };
        let mut sw = Switch {
            batch: RxBatch::new(args.max_frame),
            args,
            log,
            epoll,
            timer,
            listeners: Vec::new(),
            conns: Vec::new(),
            ports: vec![None],
            dump_ports: Vec::new(),
            captures: 0,
            shared: None,
            forwarding,
            out: OutLists {
                lists: Vec::new(),
                touched: Vec::new(),
            },
            stats: SwitchStats::default(),
            start: Instant::now(),
            last_aging: Instant::now(),
            serial: 0,
            vde_dir_created: None,
            bess: None,
            watch_stdin: false,
            of: None,
        };
        if let Some(of) = &sw.args.openflow {
            let agent = build_agent(of, &sw.args);
            sw.of = Some(OfState::new(agent, &of.controllers));
        }
        install_signal_handlers();
        sw.epoll_add(sw.timer.as_raw_fd(), TOKEN_TIMER, libc::EPOLLIN as u32)
            .map_err(io_err("epoll timer"))?;
        let argv0 = sw.args.argv0.clone();
        if sw.args.mode == ModeArg::Hub {
            sw.log
                .line(&format!("{argv0} will be a hub instead of a switch"));
        }
        if sw.args.compat_v0_data.is_some() {
            sw.log.line("Control protocol 0 compatibility");
        }
        let mut tap_note = String::new();
        if let Some(dev) = sw.args.tap.clone() {
            match TapPort::open(&dev) {
                Ok(tap) => {
                    let n = sw.add_port(
                        Box::new(tap),
                        None,
                        format!("tap {dev}"),
                        dev.clone(),
                        false,
                    );
                    tap_note = format!(" tap device '{dev}'");
                    if let Err(e) = n {
                        sw.log.error(&format!("tap device '{dev}': {e}"));
                    }
                }
                Err(e) => sw
                    .log
                    .error(&format!("TUNSETIFF failed for tap device '{dev}': {e}")),
            }
        }
        for extra in sw.args.extra_ports.clone() {
            sw.open_extra_port(&extra)?;
        }
        if let Some(of) = sw.args.openflow.clone() {
            sw.start_openflow(&of.listeners)?;
        }
        if let Some(data) = sw.args.compat_v0_data.clone() {
            sw.bind_shared_v0(&data)?;
        }
        if let Some(dir) = sw.args.vde_dir.clone() {
            sw.bind_vde(&dir)?;
        }
        if let Some(path) = sw.args.bess.clone() {
            sw.bind_bess(&path)?;
        }
        if let Some(ctl) = sw.args.ctl.clone() {
            sw.bind_control(&ctl, Listener::Uml)?;
            match &sw.args.compat_v0_data {
                Some(d) => sw.log.line(&format!(
                    "{argv0} attached to unix sockets '{}' and '{}'{tap_note}",
                    ctl.display(),
                    d.display()
                )),
                None => sw.log.line(&format!(
                    "{argv0} attached to unix socket '{}'{tap_note}",
                    ctl.display()
                )),
            }
        }
        if let Some(dir) = &sw.args.vde_dir {
            sw.log.line(&format!(
                "{argv0} serving VDE clients at '{}'",
                dir.join("ctl").display()
            ));
        }
        if let Some(path) = &sw.args.bess {
            sw.log.line(&format!(
                "{argv0} serving UML vector (bess) clients at '{}'",
                path.display()
            ));
        }
        // SAFETY: isatty on fd 0.
        if unsafe { libc::isatty(0) } == 1 {
            sw.watch_stdin = true;
            sw.epoll_add(0, TOKEN_STDIN, libc::EPOLLIN as u32)
                .map_err(io_err("epoll stdin"))?;
        }
        Ok(sw)
    }

    /// Runs until a signal or EOF on a terminal stdin; then cleans up.
    pub fn run(mut self) -> io::Result<()> {
        let mut events: [libc::epoll_event; 64] = [libc::epoll_event { events: 0, u64: 0 }; 64];
        loop {
            let sig = SIGNAL.swap(0, Ordering::Relaxed);
            if sig != 0 {
                self.log
                    .line(&format!("Caught signal {sig}, cleaning up and exiting"));
                break;
            }
            // SAFETY: events is a valid array of 64 epoll_event.
            let n =
                unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), events.as_mut_ptr(), 64, -1) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in &events[..n as usize] {
                let (token, flags) = (ev.u64, ev.events);
                let index = (token & TOKEN_INDEX) as usize;
                match token & !TOKEN_INDEX {
                    TOKEN_PORT => self.on_port(index as u32, flags),
                    TOKEN_CONN => self.on_conn(index, flags),
                    TOKEN_LISTENER => self.on_listener(index),
                    TOKEN_SHARED => self.on_shared(),
                    TOKEN_TIMER => self.on_timer(),
                    TOKEN_BESS => self.on_bess(),
                    TOKEN_OF_LISTENER => self.on_of_listener(index),
                    TOKEN_OF_CONN => self.on_of_conn(index, flags),
                    TOKEN_STDIN if self.on_stdin() => {
                        self.log.line("EOF on stdin, cleaning up and exiting");
                        self.cleanup();
                        return Ok(());
                    }
                    _ => {}
                }
            }
            if self.of.is_some() {
                self.of_flush_all();
            }
            if self.captures > 0 {
                self.pump_captures();
            }
        }
        self.cleanup();
        Ok(())
    }

    /// Detaches into the background as uml_switch's `-daemon` does (`daemon(0, 1)`).
    pub fn daemonize(&self) -> io::Result<()> {
        // SAFETY: daemon(3) forks; the child continues with all our descriptors.
        if unsafe { libc::daemon(0, 1) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    // ----- setup -------------------------------------------------------------------

    fn bind_control(&mut self, path: &Path, kind: Listener) -> Result<(), StartError> {
        let listener = bind_listener(path)?;
        listener
            .set_nonblocking(true)
            .map_err(io_err("set_nonblocking"))?;
        let i = self.listeners.len();
        self.epoll_add(
            listener.as_raw_fd(),
            TOKEN_LISTENER | i as u64,
            libc::EPOLLIN as u32,
        )
        .map_err(io_err("epoll_ctl"))?;
        self.listeners.push(ControlListener {
            listener,
            kind,
            path: path.to_path_buf(),
        });
        Ok(())
    }

    fn bind_vde(&mut self, dir: &Path) -> Result<(), StartError> {
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io_err(format!("--vde {}", dir.display()))(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a directory",
                )))
            }
            Err(_) => {
                std::fs::DirBuilder::new()
                    .mode(0o700)
                    .create(dir)
                    .map_err(io_err(format!("creating VDE directory {}", dir.display())))?;
                self.vde_dir_created = Some(dir.to_path_buf());
            }
        }
        self.bind_control(&dir.join("ctl"), Listener::Vde)
    }

    /// Listens for UML vector-transport guests at `path`, taking over a stale socket file
    /// as [`bind_listener`] does.
    fn bind_bess(&mut self, path: &Path) -> Result<(), StartError> {
        let what = || format!("--bess '{}'", path.display());
        let fd = match unix_seqpacket::listen(path) {
            Ok(fd) => fd,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                if unix_seqpacket::is_live(path).map_err(io_err(what()))? {
                    return Err(StartError::InUse(path.to_path_buf()));
                }
                let _ = std::fs::remove_file(path);
                unix_seqpacket::listen(path).map_err(io_err(what()))?
            }
            Err(e) => return Err(io_err(what())(e)),
        };
        self.epoll_add(fd.as_raw_fd(), TOKEN_BESS, libc::EPOLLIN as u32)
            .map_err(io_err("epoll_ctl"))?;
        self.bess = Some((fd, path.to_path_buf()));
        Ok(())
    }

    /// Accepts every pending vector-transport guest as a new port.
    fn on_bess(&mut self) {
        loop {
            let Some((listener, _)) = &self.bess else {
                return;
            };
            let port = match unix_seqpacket::accept(listener.as_raw_fd()) {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    self.log.rate_limited(&format!("accept on --bess: {e}"));
                    return;
                }
            };
            let pid = port.peer_pid();
            let Some(n) = self.free_port_number(0) else {
                self.stats.bad_requests += 1;
                self.log.line(&format!(
                    "Bad request: no free port number (1..{}); vector connection closed",
                    MAX_PORTS - 1
                ));
                continue;
            };
            let mut name = format!("port{n} bess");
            let peer = match pid {
                Some(pid) => {
                    name.push_str(&format!(" pid={pid}"));
                    format!("pid={pid}")
                }
                None => "unknown".to_string(),
            };
            if let Err(e) = self.install_port(n, Box::new(port), None, name.clone(), peer, false) {
                self.log.line(&format!("New connection failed: {e}"));
                continue;
            }
            self.log.line(&format!(
                "New connection ({name}, UML vector transport bess)"
            ));
        }
    }

    fn bind_shared_v0(&mut self, path: &Path) -> Result<(), StartError> {
        let addr =
            UnixAddr::pathname(path).map_err(io_err(format!("data socket {}", path.display())))?;
        let fd = dgram_socket().map_err(io_err("socket"))?;
        if let Ok(m) = std::fs::symlink_metadata(path) {
            if m.file_type().is_socket() {
                let _ = std::fs::remove_file(path);
            }
        }
        bind(fd.as_raw_fd(), &addr)
            .map_err(io_err(format!("binding data socket {}", path.display())))?;
        self.epoll_add(fd.as_raw_fd(), TOKEN_SHARED, libc::EPOLLIN as u32)
            .map_err(io_err("epoll_ctl"))?;
        self.shared = Some(SharedV0 {
            fd,
            path: path.to_path_buf(),
            by_addr: HashMap::new(),
            addrs: Box::new([addr; BATCH]),
        });
        Ok(())
    }

    fn epoll_add(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: valid epoll fd, descriptor and event.
        if unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn epoll_mod(&self, fd: RawFd, token: u64, events: u32) {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: valid epoll fd, descriptor and event.
        unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_MOD, fd, &mut ev) };
    }

    fn epoll_del(&self, fd: RawFd) {
        // SAFETY: removing a descriptor; errors (already gone) are harmless.
        unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
    }

    // ----- ports -------------------------------------------------------------------

    fn on_stdin(&mut self) -> bool {
        let mut buf = [0u8; 256];
        // SAFETY: reading fd 0 into our buffer.
        let n = unsafe { libc::read(0, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
        if n == 0 {
            return true;
        }
        if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
            self.epoll_del(0);
        }
        false
    }

    /// Once per loop turn: aging, stale pending connections, capture flushing.
    /// Once a second (a periodic timerfd, so sleeping in epoll arms no timer): MAC aging
    /// every [`AGING_INTERVAL`], silent pending connections, suppressed-line counts.
    fn on_timer(&mut self) {
        let mut expirations = [0u8; 8];
        // SAFETY: reading the timerfd's 8-byte expiration count into our buffer.
        unsafe {
            libc::read(
                self.timer.as_raw_fd(),
                expirations.as_mut_ptr() as *mut libc::c_void,
                8,
            )
        };
        if self.of.is_some() {
            self.of_tick();
        }
        let now = Instant::now();
        if now.duration_since(self.last_aging) >= AGING_INTERVAL {
            self.last_aging = now;
            let now_ms = self.start.elapsed().as_millis() as u64;
            self.forwarding.macs_mut().age(now_ms);
        }
        let stale: Vec<usize> = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c.as_ref().map(|c| &c.state) {
                Some(ConnState::Pending { since, .. }) if since.elapsed() > PENDING_TIMEOUT => {
                    Some(i)
                }
                _ => None,
            })
            .collect();
        for c in stale {
            self.stats.bad_requests += 1;
            self.log.line(&format!(
                "Bad request: no complete request within {} s; connection closed",
                PENDING_TIMEOUT.as_secs()
            ));
            self.close_conn(c);
        }
        self.log.flush_suppressed();
    }

    /// Writes what each capture stream has buffered (after every loop turn with captures).
    fn pump_captures(&mut self) {
        for c in 0..self.conns.len() {
            if matches!(
                self.conns[c].as_ref().map(|c| &c.state),
                Some(ConnState::Capture { .. })
            ) {
                self.pump_conn(c);
            }
        }
    }

    fn cleanup(&mut self) {
        for n in 0..self.ports.len() {
            self.remove_port(n as u32);
        }
        self.of_cleanup();
        for l in &self.listeners {
            let _ = std::fs::remove_file(&l.path);
        }
        if let Some(s) = &self.shared {
            let _ = std::fs::remove_file(&s.path);
        }
        if let Some((_, path)) = &self.bess {
            let _ = std::fs::remove_file(path);
        }
        if let Some(d) = &self.vde_dir_created {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// The periodic timer's period in OpenFlow mode.
pub const OF_TICK: Duration = Duration::from_millis(100);

/// The agent for OpenFlow mode, from the command line.
fn build_agent(of: &crate::cli::OpenFlowArgs, args: &SwitchArgs) -> Agent {
    use crate::cli::FailMode;
    let dpid = of.dpid.unwrap_or_else(|| default_dpid(args));
    let config = AgentConfig {
        datapath_id: dpid,
        versions: VersionSet {
            of10: of.protocols.of10,
            of13: of.protocols.of13,
        },
        fail_mode: match of.fail_mode {
            FailMode::Secure => AgentFailMode::Secure,
            FailMode::Standalone => AgentFailMode::Standalone,
        },
        n_tables: of.tables,
        description: format!(
            "flowlab-hub {} on {}",
            env!("CARGO_PKG_VERSION"),
            args.ctl
                .as_ref()
                .or(args.vde_dir.as_ref())
                .map_or(String::new(), |p| p.display().to_string())
        ),
        ..AgentConfig::default()
    };
    Agent::new(config)
}

/// A datapath id unique per switch on this host: a locally administered MAC-like value
/// from the pid and the control socket path (Open vSwitch also derives it from a MAC).
fn default_dpid(args: &SwitchArgs) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    args.ctl.hash(&mut h);
    args.vde_dir.hash(&mut h);
    std::process::id().hash(&mut h);
    (h.finish() & 0x0000_feff_ffff_ffff) | 0x0000_0200_0000_0000
}

fn bind_listener(path: &Path) -> Result<UnixListener, StartError> {
    match UnixListener::bind(path) {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            // Stale or live? A live switch accepts; a stale socket refuses.
            match UnixStream::connect(path) {
                Ok(_) => Err(StartError::InUse(path.to_path_buf())),
                Err(ce)
                    if ce.kind() == io::ErrorKind::ConnectionRefused
                        || ce.raw_os_error() == Some(libc::ENOTSOCK) =>
                {
                    let _ = std::fs::remove_file(path);
                    UnixListener::bind(path)
                        .map_err(io_err(format!("binding '{}'", path.display())))
                }
                Err(ce) => Err(io_err(format!(
                    "binding '{}' (in use: {ce})",
                    path.display()
                ))(e)),
            }
        }
        Err(e) => Err(io_err(format!("binding '{}'", path.display()))(e)),
    }
}

/// A non-blocking timerfd that fires every `period`.
fn periodic_timer(period: Duration) -> io::Result<OwnedFd> {
    // SAFETY: plain timerfd_create.
    let fd = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let ts = libc::timespec {
        tv_sec: period.as_secs() as libc::time_t,
        tv_nsec: period.subsec_nanos() as _,
    };
    let spec = libc::itimerspec {
        it_interval: ts,
        it_value: ts,
    };
    // SAFETY: arming our timerfd with a valid itimerspec.
    if unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

fn install_signal_handlers() {
    // SAFETY: installing async-signal-safe handlers (one atomic store) and SIG_IGN.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0; // no SA_RESTART: epoll_wait returns EINTR
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// `xx:xx:xx:xx:xx:xx`.
pub fn fmt_mac(b: &[u8]) -> String {
    let m: [u8; 6] = b[..6].try_into().unwrap_or([0; 6]);
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

impl std::fmt::Debug for Switch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switch")
            .field("mode", &self.forwarding.name())
            .field("ports", &self.ports.iter().flatten().count())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
