//! The switch: one thread, one epoll loop, every socket non-blocking.
//!
//! # What the loop owns
//!
//! * control listeners: the `-unix` socket and/or `DIR/ctl` of `--vde DIR`;
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
//! # Control-plane rules
//!
//! A port lives exactly as long as its control connection: EOF or an error on it removes
//! the port, purges every MAC learned there, drops its queue and unlinks its socket file.
//! Bytes arriving later on a port's control connection are read and ignored (logged once),
//! never fatal. A malformed request gets one clear log line and its connection is closed.
//! A pending connection that stays silent for [`PENDING_TIMEOUT`] is closed.

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
use flowlab_datapath::port::{OutputQueue, Port, RxBatch, BATCH};

use crate::capture::{CaptureFilter, Direction, PcapngWriter};
use crate::cli::{ModeArg, SwitchArgs};
use crate::forwarding::{Decision, Forwarding};
use crate::log::Log;
use crate::mgmt::{self, MGMT_PREFIX};
use crate::request::{Listener, RequestKind, UmlRequest, Version, MAX_REQUEST_LEN};

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

struct ControlListener {
    listener: UnixListener,
    kind: Listener,
    path: PathBuf,
}

enum ConnState {
    Pending {
        buf: Vec<u8>,
        since: Instant,
    },
    Port {
        port: u32,
        ignored_logged: bool,
    },
    Reply {
        out: Vec<u8>,
    },
    Capture {
        writer: PcapngWriter,
        filter: CaptureFilter,
    },
}

struct Conn {
    stream: UnixStream,
    listener: Listener,
    state: ConnState,
    want_out: bool,
}

/// A v0 client: no socket of its own, reached through the shared data socket.
#[derive(Debug)]
struct V0Port {
    shared: RawFd,
    dest: UnixAddr,
}

impl Port for V0Port {
    fn fd(&self) -> RawFd {
        self.shared
    }
    fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.set_count(0);
        Ok(0)
    }
    fn send_batch(&mut self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize> {
        // An unconnected peer cannot be waited on: a full v0 client loses the rest.
        let n = send_batch_to(self.shared, Some(&self.dest), frames, errors)?;
        *errors += (frames.len() - n) as u64;
        Ok(frames.len())
    }
    fn kind(&self) -> &'static str {
        "uml-v0"
    }
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
}

struct SharedV0 {
    fd: OwnedFd,
    path: PathBuf,
    by_addr: HashMap<UnixAddr, u32>,
    addrs: Box<[UnixAddr; BATCH]>,
}

/// Switch-wide counters (per-port ones live in each port).
#[derive(Clone, Copy, Debug, Default)]
pub struct SwitchStats {
    /// Frames decided (accepted for forwarding).
    pub frames: u64,
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

/// Frame indices per output port for the batch being processed.
struct OutLists {
    lists: Vec<Vec<u8>>,
    touched: Vec<u32>,
}

impl OutLists {
    fn push(&mut self, port: u32, frame: usize) {
        let p = port as usize;
        if p >= self.lists.len() {
            self.lists.resize_with(p + 1, Vec::new);
        }
        if self.lists[p].is_empty() {
            self.touched.push(port);
        }
        self.lists[p].push(frame as u8);
    }
}

/// A running switch.
pub struct Switch {
    args: SwitchArgs,
    log: Log,
    epoll: OwnedFd,
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
    watch_stdin: bool,
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
            watch_stdin: false,
        };
        install_signal_handlers();
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
        if let Some(data) = sw.args.compat_v0_data.clone() {
            sw.bind_shared_v0(&data)?;
        }
        if let Some(dir) = sw.args.vde_dir.clone() {
            sw.bind_vde(&dir)?;
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
                unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), events.as_mut_ptr(), 64, 1000) };
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
                    TOKEN_STDIN if self.on_stdin() => {
                        self.log.line("EOF on stdin, cleaning up and exiting");
                        self.cleanup();
                        return Ok(());
                    }
                    _ => {}
                }
            }
            self.tick();
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

    fn free_port_number(&self, wanted: u32) -> Option<u32> {
        let w = wanted as usize;
        if w > 0 && w < MAX_PORTS && self.ports.get(w).is_none_or(|s| s.is_none()) {
            return Some(wanted);
        }
        if w > 0 {
            return None;
        }
        (1..MAX_PORTS)
            .find(|&n| self.ports.get(n).is_none_or(|s| s.is_none()))
            .map(|n| n as u32)
    }

    fn add_port(
        &mut self,
        io: Box<dyn Port>,
        conn: Option<usize>,
        name: String,
        peer: String,
        dump: bool,
    ) -> io::Result<u32> {
        let n = self
            .free_port_number(0)
            .ok_or_else(|| io::Error::other("no free port number"))?;
        self.install_port(n, io, conn, name, peer, dump)?;
        Ok(n)
    }

    fn install_port(
        &mut self,
        n: u32,
        io: Box<dyn Port>,
        conn: Option<usize>,
        name: String,
        peer: String,
        dump: bool,
    ) -> io::Result<()> {
        let registered = io.kind() != "uml-v0";
        if registered {
            self.epoll_add(io.fd(), TOKEN_PORT | n as u64, libc::EPOLLIN as u32)?;
        }
        if self.ports.len() <= n as usize {
            self.ports.resize_with(n as usize + 1, || None);
        }
        self.ports[n as usize] = Some(PortSlot {
            io,
            conn,
            name,
            peer,
            counters: PortCounters::default(),
            queue: OutputQueue::new(self.args.port_queue),
            want_out: false,
            dump,
            registered,
        });
        if dump {
            self.dump_ports.push(n);
        }
        self.stats.ports_created += 1;
        Ok(())
    }

    fn remove_port(&mut self, n: u32) {
        let Some(slot) = self.ports.get_mut(n as usize).and_then(Option::take) else {
            return;
        };
        if slot.registered {
            self.epoll_del(slot.io.fd());
        }
        if let Some(shared) = &mut self.shared {
            shared.by_addr.retain(|_, p| *p != n);
        }
        self.dump_ports.retain(|&p| p != n);
        self.forwarding.macs_mut().purge_port(n);
        self.stats.ports_removed += 1;
        drop(slot); // closes the socket and unlinks its file
    }

    fn on_port(&mut self, n: u32, flags: u32) {
        if flags & libc::EPOLLOUT as u32 != 0 {
            self.flush_queue(n);
        }
        if flags & (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0 {
            let Some(slot) = self.ports.get_mut(n as usize).and_then(Option::as_mut) else {
                return;
            };
            match slot.io.recv_batch(&mut self.batch) {
                Ok(0) => {
                    if flags & libc::EPOLLHUP as u32 != 0 && slot.conn.is_none() {
                        self.log.error(&format!("port {n} ({}) hung up", slot.name));
                        self.remove_port(n);
                    }
                }
                Ok(count) => {
                    if slot.dump {
                        // A dump port only listens.
                        return;
                    }
                    self.forward_batch(n, count);
                }
                Err(e) => {
                    slot.counters.rx_errors += 1;
                    self.log
                        .rate_limited(&format!("port {n} ({}): receive failed: {e}", slot.name));
                    if slot.conn.is_none() && e.raw_os_error() != Some(libc::EAGAIN) {
                        self.remove_port(n);
                    }
                }
            }
        }
    }

    fn on_shared(&mut self) {
        let Some(shared) = &mut self.shared else {
            return;
        };
        match recv_batch_from(
            shared.fd.as_raw_fd(),
            &mut self.batch,
            Some(&mut shared.addrs),
        ) {
            Ok(count) => self.on_shared_tail(0, count),
            Err(e) => self
                .log
                .rate_limited(&format!("v0 data socket: receive failed: {e}")),
        }
    }

    /// Forwards frames `i..count` of a batch read from the shared v0 socket, one run of
    /// frames from the same sender at a time.
    fn on_shared_tail(&mut self, mut i: usize, count: usize) {
        while i < count {
            let Some(shared) = &self.shared else { return };
            let Some(&port) = shared.by_addr.get(&shared.addrs[i]) else {
                self.stats.unknown_senders += 1;
                let from = shared.addrs[i];
                self.log.rate_limited(&format!(
                    "Unknown connection for packet from {from}: dropped"
                ));
                i += 1;
                continue;
            };
            let mut j = i + 1;
            while j < count && shared.by_addr.get(&shared.addrs[j]) == Some(&port) {
                j += 1;
            }
            self.forward_range(port, i, j);
            i = j;
        }
    }

    fn forward_batch(&mut self, in_port: u32, count: usize) {
        self.forward_range(in_port, 0, count);
    }

    /// Forwards frames `from..to` of the current batch, all received on `in_port`.
    fn forward_range(&mut self, in_port: u32, from: usize, to: usize) {
        let now_ms = self.start.elapsed().as_millis() as u64;
        let max_ports = self.ports.len();
        let capture_time = (self.captures > 0).then(unix_micros);
        for i in from..to {
            let (frame, truncated) = self.batch.frame(i);
            let Some(slot) = self
                .ports
                .get_mut(in_port as usize)
                .and_then(Option::as_mut)
            else {
                return;
            };
            if truncated {
                slot.counters.rx_errors += 1;
                self.stats.oversize += 1;
                self.log.rate_limited(&format!(
                    "port {in_port} ({}): dropped a frame longer than --max-frame {}",
                    slot.name, self.args.max_frame
                ));
                continue;
            }
            if frame.len() < 14 {
                slot.counters.rx_errors += 1;
                self.stats.runts += 1;
                self.log.rate_limited(&format!(
                    "port {in_port} ({}): dropped a {}-byte runt frame",
                    slot.name,
                    frame.len()
                ));
                continue;
            }
            slot.counters.rx_packets += 1;
            slot.counters.rx_bytes += frame.len() as u64;
            let (decision, learned) = self.forwarding.decide(frame, in_port, now_ms);
            self.stats.frames += 1;
            match learned {
                Learned::New => self.log.event(&format!(
                    " Addr: {} New port {in_port}",
                    fmt_mac(&frame[6..12])
                )),
                Learned::Moved { from } => self.log.event(&format!(
                    " Addr: {} New port {in_port} old port {from}",
                    fmt_mac(&frame[6..12])
                )),
                _ => {}
            }
            if let Some(t) = capture_time {
                capture_frame(
                    &mut self.conns,
                    &self.ports,
                    in_port,
                    Direction::Inbound,
                    t,
                    frame,
                );
            }
            match decision {
                Decision::Flood => {
                    self.stats.flooded += 1;
                    for p in 1..max_ports {
                        if p as u32 != in_port && self.ports[p].is_some() {
                            self.out.push(p as u32, i);
                        }
                    }
                }
                Decision::Unicast(p) => {
                    self.stats.unicast += 1;
                    self.out.push(p, i);
                    for &d in &self.dump_ports {
                        if d != in_port {
                            self.out.push(d, i);
                        }
                    }
                }
                Decision::Filter => {
                    self.stats.filtered += 1;
                    for &d in &self.dump_ports {
                        if d != in_port {
                            self.out.push(d, i);
                        }
                    }
                }
            }
        }
        self.transmit(capture_time);
    }

    /// Sends every output list built for the current batch.
    fn transmit(&mut self, capture_time: Option<u64>) {
        let touched = std::mem::take(&mut self.out.touched);
        for &p in &touched {
            let list = std::mem::take(&mut self.out.lists[p as usize]);
            self.send_to_port(p, &list, capture_time);
            let mut list = list;
            list.clear();
            self.out.lists[p as usize] = list;
        }
        let mut touched = touched;
        touched.clear();
        self.out.touched = touched;
    }

    fn send_to_port(&mut self, p: u32, indices: &[u8], capture_time: Option<u64>) {
        if !self.port_exists(p) {
            return;
        }
        let mut refs: [&[u8]; BATCH] = [&[]; BATCH];
        for (r, &i) in refs.iter_mut().zip(indices) {
            *r = self.batch.frame(i as usize).0;
        }
        let frames = &refs[..indices.len()];
        if let Some(t) = capture_time {
            for f in frames {
                capture_frame(&mut self.conns, &self.ports, p, Direction::Outbound, t, f);
            }
        }
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        let mut start = 0;
        if slot.queue.is_empty() {
            let mut errors = 0;
            match slot.io.send_batch(frames, &mut errors) {
                Ok(sent) => {
                    start = sent;
                    let ok = sent as u64 - errors.min(sent as u64);
                    slot.counters.tx_packets += ok;
                    slot.counters.tx_bytes +=
                        frames[..sent].iter().map(|f| f.len() as u64).sum::<u64>();
                    slot.counters.tx_errors += errors;
                }
                Err(e) => {
                    slot.counters.tx_errors += frames.len() as u64;
                    start = frames.len();
                    let name = slot.name.clone();
                    self.log
                        .rate_limited(&format!("port {p} ({name}): send failed: {e}"));
                }
            }
        }
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        for f in &frames[start..] {
            if !slot.queue.push(f) {
                slot.counters.tx_drops += 1;
            }
        }
        if !slot.queue.is_empty() && !slot.want_out && slot.registered {
            slot.want_out = true;
            let fd = slot.io.fd();
            self.epoll_mod(
                fd,
                TOKEN_PORT | p as u64,
                (libc::EPOLLIN | libc::EPOLLOUT) as u32,
            );
        }
    }

    fn flush_queue(&mut self, p: u32) {
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        let mut errors = 0;
        let before = slot.queue.len();
        match slot.queue.flush(slot.io.as_mut(), &mut errors) {
            Ok(sent) => {
                slot.counters.tx_packets += sent as u64 - errors.min(sent as u64);
                slot.counters.tx_errors += errors;
            }
            Err(e) => {
                slot.counters.tx_errors += before as u64;
                slot.queue.clear();
                let name = slot.name.clone();
                self.log
                    .rate_limited(&format!("port {p} ({name}): send failed: {e}"));
            }
        }
        let Some(slot) = self.ports.get_mut(p as usize).and_then(Option::as_mut) else {
            return;
        };
        if slot.queue.is_empty() && slot.want_out {
            slot.want_out = false;
            let fd = slot.io.fd();
            self.epoll_mod(fd, TOKEN_PORT | p as u64, libc::EPOLLIN as u32);
        }
    }

    // ----- control connections -----------------------------------------------------

    fn on_listener(&mut self, i: usize) {
        loop {
            let (stream, kind) = {
                let l = &self.listeners[i];
                match l.listener.accept() {
                    Ok((s, _)) => (s, l.kind),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.log
                            .rate_limited(&format!("accept on '{}': {e}", l.path.display()));
                        return;
                    }
                }
            };
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let slot = self
                .conns
                .iter()
                .position(Option::is_none)
                .unwrap_or_else(|| {
                    self.conns.push(None);
                    self.conns.len() - 1
                });
            if self
                .epoll_add(
                    stream.as_raw_fd(),
                    TOKEN_CONN | slot as u64,
                    libc::EPOLLIN as u32,
                )
                .is_err()
            {
                continue;
            }
            self.conns[slot] = Some(Conn {
                stream,
                listener: kind,
                state: ConnState::Pending {
                    buf: Vec::with_capacity(MAX_REQUEST_LEN),
                    since: Instant::now(),
                },
                want_out: false,
            });
        }
    }

    fn close_conn(&mut self, c: usize) {
        if let Some(conn) = self.conns.get_mut(c).and_then(Option::take) {
            self.epoll_del(conn.stream.as_raw_fd());
            if let ConnState::Capture { .. } = conn.state {
                self.captures -= 1;
            }
        }
    }

    fn on_conn(&mut self, c: usize, flags: u32) {
        let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
            return;
        };
        if flags & libc::EPOLLOUT as u32 != 0 {
            if let Err(done) = write_pending(conn) {
                if done {
                    self.close_conn(c);
                    return;
                }
            }
        }
        if flags & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) as u32 == 0 {
            return;
        }
        let mut scratch = [0u8; MAX_REQUEST_LEN];
        loop {
            let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
                return;
            };
            let r = conn.stream.read(&mut scratch);
            match r {
                Ok(0) => {
                    self.on_conn_eof(c);
                    return;
                }
                Ok(n) => {
                    if !self.on_conn_bytes(c, &scratch[..n]) {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let port = match &conn.state {
                        ConnState::Port { port, .. } => Some(*port),
                        _ => None,
                    };
                    if let Some(p) = port {
                        self.log.line(&format!("Disconnect (port {p}: {e})"));
                        self.remove_port(p);
                    }
                    self.close_conn(c);
                    return;
                }
            }
        }
    }

    fn on_conn_eof(&mut self, c: usize) {
        let Some(conn) = self.conns.get(c).and_then(Option::as_ref) else {
            return;
        };
        match &conn.state {
            ConnState::Port { port, .. } => {
                let p = *port;
                let name = self
                    .ports
                    .get(p as usize)
                    .and_then(Option::as_ref)
                    .map(|s| s.name.clone());
                self.log.line(&format!(
                    "Disconnect (port {p}, {})",
                    name.unwrap_or_default()
                ));
                self.remove_port(p);
            }
            ConnState::Pending { buf, .. } if !buf.is_empty() => {
                self.stats.bad_requests += 1;
                let n = buf.len();
                self.log.line(&format!(
                    "Bad request: connection closed after {n} bytes of a request"
                ));
            }
            ConnState::Pending { .. } => self.log.line("EOF from new port"),
            _ => {}
        }
        self.close_conn(c);
    }

    /// Handles bytes read on connection `c`. Returns false if the connection was closed
    /// or should not be read further now.
    fn on_conn_bytes(&mut self, c: usize, bytes: &[u8]) -> bool {
        let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
            return false;
        };
        match &mut conn.state {
            ConnState::Port {
                port,
                ignored_logged,
            } => {
                if !*ignored_logged {
                    *ignored_logged = true;
                    let p = *port;
                    self.log.line(&format!(
                        "port {p}: ignoring {} unexpected bytes on its control connection (further ones ignored silently)",
                        bytes.len()
                    ));
                }
                true
            }
            ConnState::Reply { .. } | ConnState::Capture { .. } => true,
            ConnState::Pending { buf, .. } => {
                let room = MAX_REQUEST_LEN * 2 - buf.len();
                buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
                self.try_complete(c)
            }
        }
    }

    /// Parses a pending connection's request once enough bytes are in.
    fn try_complete(&mut self, c: usize) -> bool {
        let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
            return false;
        };
        let ConnState::Pending { buf, .. } = &mut conn.state else {
            return true;
        };
        if MGMT_PREFIX
            .as_bytes()
            .starts_with(&buf[..buf.len().min(MGMT_PREFIX.len())])
        {
            let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
                if buf.len() >= MAX_REQUEST_LEN {
                    self.stats.bad_requests += 1;
                    self.log.line("Bad request: management line too long");
                    self.close_conn(c);
                    return false;
                }
                return true;
            };
            let line = String::from_utf8_lossy(&buf[MGMT_PREFIX.len()..nl])
                .trim()
                .to_string();
            self.on_mgmt(c, &line);
            return false;
        }
        let have = buf.len();
        let needed = request_len_needed(buf);
        if have < needed {
            return true;
        }
        let bytes = std::mem::take(buf);
        let kind = conn.listener;
        match UmlRequest::parse(&bytes, kind) {
            Ok(req) => self.new_port(c, req),
            Err(e) => {
                self.stats.bad_requests += 1;
                self.log.line(&format!(
                    "Bad request: {e} ({have} bytes); connection closed"
                ));
                self.close_conn(c);
            }
        }
        false
    }

    fn new_port(&mut self, c: usize, req: UmlRequest) {
        let Some(conn) = self.conns.get(c).and_then(Option::as_ref) else {
            return;
        };
        let listener = conn.listener;
        let pid = peer_pid(conn.stream.as_raw_fd());
        let wanted = match req.kind {
            RequestKind::Port { wanted } => wanted,
            _ => 0,
        };
        let Some(n) = self.free_port_number(wanted) else {
            self.stats.bad_requests += 1;
            self.log.line(&format!(
                "Bad request: port {wanted} is taken or out of range (1..{}); connection closed",
                MAX_PORTS - 1
            ));
            self.close_conn(c);
            return;
        };
        let dump = req.kind == RequestKind::Dump;
        let kind_name = match (listener, dump, req.version) {
            (_, true, _) => "dump",
            (Listener::Vde, _, _) => "vde",
            (Listener::Uml, _, Version::V0) => "uml-v0",
            (Listener::Uml, _, _) => "uml",
        };
        let mut name = format!("port{n} {kind_name}");
        if !req.description.is_empty() {
            name.push(' ');
            name.push_str(&req.description);
        }
        if let Some(pid) =
            pid.filter(|_| !req.description.contains("pid=") && !req.description.contains("PID="))
        {
            name.push_str(&format!(" pid={pid}"));
        }
        let peer = req.addr.to_string();
        if req.version == Version::V0 {
            let Some(shared) = &mut self.shared else {
                self.stats.bad_requests += 1;
                self.log
                    .line("Bad request: a version 0 request needs -compat-v0; connection closed");
                self.close_conn(c);
                return;
            };
            shared.by_addr.insert(req.addr, n);
            let io = Box::new(V0Port {
                shared: shared.fd.as_raw_fd(),
                dest: req.addr,
            });
            if let Err(e) = self.install_port(n, io, Some(c), name, peer, dump) {
                self.log.line(&format!("New connection failed: {e}"));
                self.close_conn(c);
                return;
            }
            self.bind_conn_to_port(c, n, &req);
            return;
        }
        self.serial += 1;
        let local = match listener {
            Listener::Uml => UnixAddr::abstract_full(
                format!("flowlab-hub/{}/{}/{}", std::process::id(), n, self.serial).as_bytes(),
            ),
            Listener::Vde => {
                let dir = self.args.vde_dir.clone().unwrap_or_default();
                let path = dir.join(format!("{n:03}.{}", self.serial));
                let _ = std::fs::remove_file(&path);
                match UnixAddr::pathname(&path) {
                    Ok(a) => a,
                    Err(e) => {
                        self.log.line(&format!("New connection failed: {e}"));
                        self.close_conn(c);
                        return;
                    }
                }
            }
        };
        let port = match UnixDgramPort::connect(local, req.addr, kind_name) {
            Ok(p) => p,
            Err(e) => {
                self.stats.bad_requests += 1;
                self.log.line(&format!(
                    "Bad request: cannot reach the client's data socket {}: {e}; connection closed",
                    req.addr
                ));
                self.close_conn(c);
                return;
            }
        };
        if let Some(p) = local.path() {
            // The client must be able to send to us (vde_switch widens it the same way).
            let _ =
                std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o777));
        }
        // Reply before the port goes live: one 110-byte write of our data address.
        let reply = local.to_wire();
        let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
            return;
        };
        match conn.stream.write(&reply) {
            Ok(110) => {}
            Ok(k) => {
                self.log
                    .line(&format!("New connection failed: short reply ({k} bytes)"));
                self.close_conn(c);
                return;
            }
            Err(e) => {
                self.log.line(&format!("New connection failed: reply: {e}"));
                self.close_conn(c);
                return;
            }
        }
        if let Err(e) = self.install_port(n, Box::new(port), Some(c), name, peer, dump) {
            self.log.line(&format!("New connection failed: {e}"));
            self.close_conn(c);
            return;
        }
        self.bind_conn_to_port(c, n, &req);
    }

    fn bind_conn_to_port(&mut self, c: usize, n: u32, req: &UmlRequest) {
        if let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) {
            conn.state = ConnState::Port {
                port: n,
                ignored_logged: false,
            };
        }
        let name = self.ports[n as usize]
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let v = match req.version {
            Version::V0 => 0,
            Version::V1 => 1,
            Version::V3 => 3,
        };
        self.log.line(&format!(
            "New connection ({name}, protocol v{v}, data {})",
            req.addr
        ));
    }

    fn on_mgmt(&mut self, c: usize, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let text = match words.as_slice() {
            ["capture", which] => {
                let filter = if *which == "all" {
                    Some(CaptureFilter::All)
                } else {
                    which
                        .parse::<u32>()
                        .ok()
                        .filter(|&p| self.port_exists(p))
                        .map(CaptureFilter::Port)
                };
                match filter {
                    Some(filter) => {
                        let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
                            return;
                        };
                        conn.state = ConnState::Capture {
                            writer: PcapngWriter::new(),
                            filter,
                        };
                        self.captures += 1;
                        self.log.line(&format!("capture of {which} started"));
                        self.pump_conn(c);
                        return;
                    }
                    None => format!("error: no port '{which}' (see 'ports')\n"),
                }
            }
            ["show"] => mgmt::show(&self.view()),
            ["ports"] => mgmt::ports(&self.view()),
            ["macs"] => mgmt::macs(&self.view()),
            ["counters"] => mgmt::counters(&self.view()),
            _ => format!("error: unknown command '{line}'\n"),
        };
        let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
            return;
        };
        conn.state = ConnState::Reply {
            out: text.into_bytes(),
        };
        self.pump_conn(c);
    }

    /// Writes what a management connection has pending; closes a finished reply.
    fn pump_conn(&mut self, c: usize) {
        let Some(conn) = self.conns.get_mut(c).and_then(Option::as_mut) else {
            return;
        };
        match write_pending(conn) {
            Ok(()) => {
                if matches!(conn.state, ConnState::Reply { .. }) {
                    // SAFETY: shutdown on our socket so the reader sees EOF at once.
                    unsafe { libc::shutdown(conn.stream.as_raw_fd(), libc::SHUT_WR) };
                    self.close_conn(c);
                    return;
                }
                if conn.want_out {
                    conn.want_out = false;
                    let fd = conn.stream.as_raw_fd();
                    self.epoll_mod(fd, TOKEN_CONN | c as u64, libc::EPOLLIN as u32);
                }
            }
            Err(true) => self.close_conn(c),
            Err(false) => {
                if !conn.want_out {
                    conn.want_out = true;
                    let fd = conn.stream.as_raw_fd();
                    self.epoll_mod(
                        fd,
                        TOKEN_CONN | c as u64,
                        (libc::EPOLLIN | libc::EPOLLOUT) as u32,
                    );
                }
            }
        }
    }

    fn port_exists(&self, p: u32) -> bool {
        self.ports.get(p as usize).is_some_and(Option::is_some)
    }

    fn view(&self) -> mgmt::View<'_> {
        mgmt::View {
            mode: self.forwarding.name(),
            uptime: self.start.elapsed(),
            now_ms: self.start.elapsed().as_millis() as u64,
            controls: self.listeners.iter().map(|l| l.path.as_path()).collect(),
            ports: self
                .ports
                .iter()
                .enumerate()
                .filter_map(|(n, s)| {
                    s.as_ref().map(|s| mgmt::PortView {
                        number: n as u32,
                        kind: s.io.kind(),
                        name: &s.name,
                        peer: &s.peer,
                        counters: s.counters,
                        queued: s.queue.len(),
                    })
                })
                .collect(),
            macs: self.forwarding.macs(),
            stats: self.stats,
            max_frame: self.args.max_frame,
        }
    }

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
    fn tick(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_aging) >= AGING_INTERVAL {
            self.last_aging = now;
            let now_ms = self.start.elapsed().as_millis() as u64;
            self.forwarding.macs_mut().age(now_ms);
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
        if self.captures > 0 {
            for c in 0..self.conns.len() {
                if matches!(
                    self.conns[c].as_ref().map(|c| &c.state),
                    Some(ConnState::Capture { .. })
                ) {
                    self.pump_conn(c);
                }
            }
        }
    }

    fn cleanup(&mut self) {
        for n in 0..self.ports.len() {
            self.remove_port(n as u32);
        }
        for l in &self.listeners {
            let _ = std::fs::remove_file(&l.path);
        }
        if let Some(s) = &self.shared {
            let _ = std::fs::remove_file(&s.path);
        }
        if let Some(d) = &self.vde_dir_created {
            let _ = std::fs::remove_dir(d);
        }
    }

    /// Switch-wide counters.
    pub fn stats(&self) -> SwitchStats {
        self.stats
    }
}

/// Bytes a pending request needs before it can be parsed (at least what is there, once
/// the form is known).
fn request_len_needed(buf: &[u8]) -> usize {
    use crate::request::{SWITCH_MAGIC, UML_REQUEST_LEN, V0_REQUEST_LEN, VDE_DESCRIPTION_OFFSET};
    if buf.len() < 8 {
        return 8;
    }
    let w0 = u32::from_ne_bytes(buf[0..4].try_into().expect("4 bytes"));
    if w0 != SWITCH_MAGIC {
        return V0_REQUEST_LEN;
    }
    match u32::from_ne_bytes(buf[4..8].try_into().expect("4 bytes")) {
        3 => VDE_DESCRIPTION_OFFSET,
        2 => 8,
        v if v > 3 => 8,
        _ => UML_REQUEST_LEN,
    }
}

/// Writes a connection's pending output. `Ok` when all is written, `Err(false)` when the
/// socket is full, `Err(true)` when the reader is gone.
fn write_pending(conn: &mut Conn) -> Result<(), bool> {
    loop {
        let pending: &[u8] = match &conn.state {
            ConnState::Reply { out } => out,
            ConnState::Capture { writer, .. } => writer.pending(),
            _ => return Ok(()),
        };
        if pending.is_empty() {
            return Ok(());
        }
        // SAFETY: sending from a buffer we borrow; MSG_NOSIGNAL avoids SIGPIPE.
        let r = unsafe {
            libc::send(
                conn.stream.as_raw_fd(),
                pending.as_ptr() as *const libc::c_void,
                pending.len(),
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Err(false),
                io::ErrorKind::Interrupted => continue,
                _ => Err(true),
            };
        }
        let n = r as usize;
        match &mut conn.state {
            ConnState::Reply { out } => {
                out.drain(..n);
            }
            ConnState::Capture { writer, .. } => writer.consume(n),
            _ => {}
        }
    }
}

fn capture_frame(
    conns: &mut [Option<Conn>],
    ports: &[Option<PortSlot>],
    port: u32,
    dir: Direction,
    micros: u64,
    frame: &[u8],
) {
    for conn in conns.iter_mut().flatten() {
        if let ConnState::Capture { writer, filter } = &mut conn.state {
            let wanted = match filter {
                CaptureFilter::All => dir == Direction::Inbound,
                CaptureFilter::Port(p) => *p == port,
            };
            if wanted {
                let name = ports
                    .get(port as usize)
                    .and_then(Option::as_ref)
                    .map_or("", |s| s.name.as_str());
                writer.frame(port, name, dir, micros, frame);
            }
        }
    }
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

fn peer_pid(fd: RawFd) -> Option<i32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED fills a ucred.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    };
    (r == 0 && cred.pid > 0).then_some(cred.pid)
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
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
