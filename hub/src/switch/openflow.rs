//! OpenFlow mode's I/O: controller connections (active, with backoff), passive listeners
//! for ovs-ofctl and test tools, and carrying out what the agent decides for frames.
//!
//! The agent (`flowlab-ofagent`) is sans-IO: it takes bytes and frames and gives back
//! bytes per connection and frames per port. This file owns the sockets. Active TCP
//! connects are non-blocking (a controller on a far host never stalls the datapath); a
//! failed or lost connection is retried on the agent's backoff schedule, checked on the
//! loop's periodic timer (100 ms in OpenFlow mode). After every loop turn each connection
//! with pending output is written; what a slow peer does not take waits in the agent's
//! buffer with `EPOLLOUT` armed.

use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};

use flowlab_ofagent::agent::{Agent, ConnId, FrameOutputs, Origin, PortCounterSource};
use flowlab_ofagent::backoff::{Backoff, INITIAL_BACKOFF, MAX_BACKOFF};
use flowlab_ofagent::target::Target;

use super::fastpath::{capture_frame, unix_micros};
use super::*;

pub(super) const TOKEN_OF_LISTENER: u64 = 7 << 32;
pub(super) const TOKEN_OF_CONN: u64 = 8 << 32;

/// Largest read per readiness event (the agent frames messages itself).
const READ_CHUNK: usize = 64 * 1024;

pub(super) enum OfStream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl OfStream {
    fn fd(&self) -> RawFd {
        match self {
            OfStream::Tcp(s) => s.as_raw_fd(),
            OfStream::Unix(s) => s.as_raw_fd(),
        }
    }
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            OfStream::Tcp(s) => s.read(buf),
            OfStream::Unix(s) => s.read(buf),
        }
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OfStream::Tcp(s) => s.write(buf),
            OfStream::Unix(s) => s.write(buf),
        }
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            OfStream::Tcp(s) => s.take_error(),
            OfStream::Unix(s) => s.take_error(),
        }
    }
}

pub(super) enum OfListenerSocket {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

pub(super) struct OfConn {
    stream: OfStream,
    /// The agent's id, once connected.
    agent_id: Option<ConnId>,
    /// Index of the active controller this connection serves.
    controller: Option<usize>,
    want_out: bool,
    peer: String,
}

pub(super) struct ActiveController {
    target: Target,
    backoff: Backoff,
    conn: Option<usize>,
    /// The last failure, logged once per distinct text.
    last_error: String,
}

/// OpenFlow mode's state inside the switch.
pub(super) struct OfState {
    pub(super) agent: Agent,
    listeners: Vec<OfListenerSocket>,
    conns: Vec<Option<OfConn>>,
    controllers: Vec<ActiveController>,
    pub(super) outputs: FrameOutputs,
    pub(super) scratch: Vec<u8>,
    started: Instant,
}

impl OfState {
    pub(super) fn new(agent: Agent, controllers: &[Target]) -> OfState {
        let started = Instant::now();
        OfState {
            agent,
            listeners: Vec::new(),
            conns: Vec::new(),
            controllers: controllers
                .iter()
                .map(|t| ActiveController {
                    target: t.clone(),
                    backoff: Backoff::new(INITIAL_BACKOFF, MAX_BACKOFF, Duration::ZERO),
                    conn: None,
                    last_error: String::new(),
                })
                .collect(),
            outputs: FrameOutputs::default(),
            scratch: Vec::with_capacity(65_536),
            started,
        }
    }

    /// Time on the agent's clock.
    pub(super) fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Descriptions of every connection, for `ctl show`.
    pub(super) fn describe(&self) -> Vec<String> {
        let st = self.agent.stats();
        let cfg = self.agent.config();
        let mut v = vec![
            format!("datapath id {:016x}", cfg.datapath_id),
            format!(
                "messages in {}, out {}; flow mods {}; packet-ins {}; errors sent {}; fail-open frames {}",
                st.messages_in, st.messages_out, st.flow_mods, st.packet_ins, st.errors_sent, st.fail_open_frames
            ),
        ];
        for c in &self.controllers {
            let state = match c.conn {
                Some(_) => "connected".to_string(),
                None if c.last_error.is_empty() => "connecting".to_string(),
                None => format!("retrying ({})", c.last_error),
            };
            v.push(format!("controller {}: {state}", c.target));
        }
        for conn in self.conns.iter().flatten() {
            if conn.controller.is_none() {
                v.push(format!("client {}", conn.peer));
            }
        }
        v
    }
}

/// Port counters as the switch keeps them, for the agent's port stats replies.
struct SlotCounters<'a>(&'a [Option<PortSlot>]);

impl PortCounterSource for SlotCounters<'_> {
    fn port_counters(&self, port: u32) -> Option<PortCounters> {
        self.0
            .get(port as usize)
            .and_then(Option::as_ref)
            .map(|s| s.counters)
    }
}

impl Switch {
    /// Binds the passive listeners and starts the first active connection attempts.
    pub(super) fn start_openflow(&mut self, listeners: &[Target]) -> Result<(), StartError> {
        for t in listeners {
            let sock = match t {
                Target::PassiveTcp { port, ip } => {
                    let l = TcpListener::bind(SocketAddr::new(*ip, *port))
                        .map_err(io_err(format!("--listen {t}")))?;
                    let local = l.local_addr().map_err(io_err("getsockname"))?;
                    self.log.line(&format!(
                        "OpenFlow: listening on ptcp:{}:{}",
                        local.port(),
                        local.ip()
                    ));
                    OfListenerSocket::Tcp(l)
                }
                Target::PassiveUnix(path) => {
                    let l = bind_listener(path)?;
                    self.log
                        .line(&format!("OpenFlow: listening on punix:{}", path.display()));
                    OfListenerSocket::Unix(l, path.clone())
                }
                _ => continue,
            };
            let fd = match &sock {
                OfListenerSocket::Tcp(l) => {
                    l.set_nonblocking(true).map_err(io_err("set_nonblocking"))?;
                    l.as_raw_fd()
                }
                OfListenerSocket::Unix(l, _) => {
                    l.set_nonblocking(true).map_err(io_err("set_nonblocking"))?;
                    l.as_raw_fd()
                }
            };
            let Some(of) = self.of.as_mut() else {
                return Ok(());
            };
            let i = of.listeners.len();
            of.listeners.push(sock);
            self.epoll_add(fd, TOKEN_OF_LISTENER | i as u64, libc::EPOLLIN as u32)
                .map_err(io_err("epoll_ctl"))?;
        }
        self.of_reconnect();
        Ok(())
    }

    /// Starts every active connection whose backoff is due.
    pub(super) fn of_reconnect(&mut self) {
        let Some(of) = self.of.as_mut() else { return };
        let now = of.now();
        for i in 0..of.controllers.len() {
            let Some(of) = self.of.as_mut() else { return };
            let c = &mut of.controllers[i];
            if c.conn.is_some() || !c.backoff.due(now) {
                continue;
            }
            c.backoff.failed(now); // the next attempt if this one fails
            let target = c.target.clone();
            match connect_nonblocking(&target) {
                Ok((stream, connecting)) => {
                    let fd = stream.fd();
                    let slot = free_slot(&mut of.conns);
                    of.conns[slot] = Some(OfConn {
                        stream,
                        agent_id: None,
                        controller: Some(i),
                        want_out: connecting,
                        peer: target.to_string(),
                    });
                    of.controllers[i].conn = Some(slot);
                    let events = if connecting {
                        (libc::EPOLLIN | libc::EPOLLOUT) as u32
                    } else {
                        libc::EPOLLIN as u32
                    };
                    if let Err(e) = self.epoll_add(fd, TOKEN_OF_CONN | slot as u64, events) {
                        self.of_conn_failed(slot, &format!("epoll: {e}"));
                        continue;
                    }
                    if !connecting {
                        self.of_conn_established(slot);
                    }
                }
                Err(e) => {
                    let text = e.to_string();
                    let c = &mut of.controllers[i];
                    if c.last_error != text {
                        c.last_error = text.clone();
                        self.log.line(&format!(
                            "OpenFlow: connecting to {target}: {text} (will retry)"
                        ));
                    }
                }
            }
        }
    }

    fn of_conn_established(&mut self, slot: usize) {
        let Some(of) = self.of.as_mut() else { return };
        let now = of.now();
        let Some(conn) = of.conns[slot].as_mut() else {
            return;
        };
        let origin = match conn.controller {
            Some(i) => Origin::Controller(i),
            None => Origin::Passive,
        };
        conn.agent_id = Some(of.agent.open(origin, now));
        if let Some(i) = conn.controller {
            let c = &mut of.controllers[i];
            c.backoff.connected(now);
            c.last_error.clear();
            let target = c.target.to_string();
            self.log.line(&format!("OpenFlow: connected to {target}"));
        }
        self.of_flush(slot);
    }

    /// A connection failed or ended: tell the agent and schedule a retry for a controller.
    fn of_conn_failed(&mut self, slot: usize, why: &str) {
        let Some(of) = self.of.as_mut() else { return };
        let now = of.now();
        let Some(conn) = of.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.epoll_del(conn.stream.fd());
        let Some(of) = self.of.as_mut() else { return };
        if let Some(id) = conn.agent_id {
            of.agent.close(id, now);
        }
        if let Some(i) = conn.controller {
            let c = &mut of.controllers[i];
            c.conn = None;
            if conn.agent_id.is_some() {
                c.backoff.disconnected(now);
                self.log.line(&format!(
                    "OpenFlow: connection to {} lost: {why}",
                    conn.peer
                ));
            } else if c.last_error != why {
                c.last_error = why.to_string();
                self.log.line(&format!(
                    "OpenFlow: connecting to {}: {why} (will retry)",
                    conn.peer
                ));
            }
        } else if !why.is_empty() {
            self.log
                .event(&format!("OpenFlow: client {} closed: {why}", conn.peer));
        }
    }

    pub(super) fn on_of_listener(&mut self, i: usize) {
        loop {
            let Some(of) = self.of.as_mut() else { return };
            let Some(l) = of.listeners.get(i) else { return };
            let accepted = match l {
                OfListenerSocket::Tcp(l) => l.accept().map(|(s, a)| {
                    let _ = s.set_nodelay(true);
                    (OfStream::Tcp(s), a.to_string())
                }),
                OfListenerSocket::Unix(l, p) => l
                    .accept()
                    .map(|(s, _)| (OfStream::Unix(s), format!("punix:{}", p.display()))),
            };
            let (stream, peer) = match accepted {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.log.rate_limited(&format!("OpenFlow: accept: {e}"));
                    return;
                }
            };
            let ok = match &stream {
                OfStream::Tcp(s) => s.set_nonblocking(true),
                OfStream::Unix(s) => s.set_nonblocking(true),
            };
            if ok.is_err() {
                continue;
            }
            let fd = stream.fd();
            let slot = free_slot(&mut of.conns);
            of.conns[slot] = Some(OfConn {
                stream,
                agent_id: None,
                controller: None,
                want_out: false,
                peer,
            });
            if self
                .epoll_add(fd, TOKEN_OF_CONN | slot as u64, libc::EPOLLIN as u32)
                .is_err()
            {
                if let Some(of) = self.of.as_mut() {
                    of.conns[slot] = None;
                }
                continue;
            }
            self.of_conn_established(slot);
        }
    }

    pub(super) fn on_of_conn(&mut self, slot: usize, flags: u32) {
        let Some(of) = self.of.as_mut() else { return };
        let Some(conn) = of.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if conn.agent_id.is_none() {
            // A non-blocking connect finished (or failed).
            if flags & (libc::EPOLLOUT | libc::EPOLLERR | libc::EPOLLHUP) as u32 == 0 {
                return;
            }
            match conn.stream.take_error() {
                Ok(None) if flags & libc::EPOLLERR as u32 == 0 => {
                    conn.want_out = false;
                    let fd = conn.stream.fd();
                    self.epoll_mod(fd, TOKEN_OF_CONN | slot as u64, libc::EPOLLIN as u32);
                    self.of_conn_established(slot);
                }
                Ok(Some(e)) | Err(e) => self.of_conn_failed(slot, &e.to_string()),
                Ok(None) => self.of_conn_failed(slot, "connection refused"),
            }
            return;
        }
        if flags & libc::EPOLLOUT as u32 != 0 {
            self.of_flush(slot);
        }
        if flags & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) as u32 == 0 {
            return;
        }
        let Some(of) = self.of.as_mut() else { return };
        let mut buf = std::mem::take(&mut of.scratch);
        buf.resize(READ_CHUNK, 0);
        let mut closed: Option<String> = None;
        // Read what is there now, at most a few chunks per wakeup so one chatty client
        // cannot starve the ports.
        for _ in 0..8 {
            let Some(of) = self.of.as_mut() else { break };
            let Some(conn) = of.conns.get_mut(slot).and_then(Option::as_mut) else {
                break;
            };
            match conn.stream.read(&mut buf) {
                Ok(0) => {
                    closed = Some("end of stream".into());
                    break;
                }
                Ok(n) => {
                    let id = conn.agent_id.expect("checked above");
                    let now = of.now();
                    let counters = SlotCounters(&self.ports);
                    of.agent
                        .receive(id, &buf[..n], now, &counters, &mut of.outputs);
                    if n < buf.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    closed = Some(e.to_string());
                    break;
                }
            }
        }
        if let Some(of) = self.of.as_mut() {
            of.scratch = buf;
        }
        self.of_send_outputs();
        if let Some(why) = closed {
            self.of_conn_failed(slot, &why);
            return;
        }
        self.of_flush(slot);
    }

    /// Writes what the agent has for connection `slot`; closes it if the agent asked.
    pub(super) fn of_flush(&mut self, slot: usize) {
        let Some(of) = self.of.as_mut() else { return };
        let Some(conn) = of.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let Some(id) = conn.agent_id else { return };
        let mut failed = None;
        loop {
            let pending = of.agent.pending(id);
            if pending.is_empty() {
                break;
            }
            match conn.stream.write(pending) {
                Ok(0) => {
                    failed = Some("write returned 0".to_string());
                    break;
                }
                Ok(n) => of.agent.consume(id, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            }
        }
        if let Some(why) = failed {
            self.of_conn_failed(slot, &why);
            return;
        }
        let Some(of) = self.of.as_mut() else { return };
        let Some(conn) = of.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let left = !of.agent.pending(id).is_empty();
        let close = if left {
            None
        } else {
            of.agent.close_requested(id).map(str::to_string)
        };
        if left != conn.want_out {
            conn.want_out = left;
            let events = if left {
                (libc::EPOLLIN | libc::EPOLLOUT) as u32
            } else {
                libc::EPOLLIN as u32
            };
            let fd = conn.stream.fd();
            self.epoll_mod(fd, TOKEN_OF_CONN | slot as u64, events);
        }
        if let Some(why) = close {
            self.log.line(&format!("OpenFlow: {why}"));
            self.of_conn_failed(slot, "");
        }
    }

    /// After a loop turn: write every connection's pending output.
    pub(super) fn of_flush_all(&mut self) {
        let n = self.of.as_ref().map_or(0, |o| o.conns.len());
        for slot in 0..n {
            let Some(of) = self.of.as_ref() else { return };
            let wants = of.conns[slot]
                .as_ref()
                .and_then(|c| c.agent_id.filter(|_| !c.want_out))
                .is_some_and(|id| {
                    !of.agent.pending(id).is_empty() || of.agent.close_requested(id).is_some()
                });
            if wants {
                self.of_flush(slot);
            }
        }
    }

    /// The periodic timer in OpenFlow mode: link state of interface ports (a change is a
    /// port status to the controllers, and a dead port for fast-failover groups), agent
    /// timers (echo, expiry), reconnects.
    pub(super) fn of_tick(&mut self) {
        let Some(of) = self.of.as_mut() else { return };
        for (n, slot) in self.ports.iter_mut().enumerate() {
            let Some(slot) = slot.as_mut() else { continue };
            if let Some(up) = slot.io.link_up() {
                if up != slot.link_up {
                    slot.link_up = up;
                    of.agent.set_link(n as u32, up);
                }
            }
        }
        let now = of.now();
        of.agent.tick(now, &mut of.outputs);
        self.of_send_outputs();
        self.of_reconnect();
        self.of_flush_all();
    }

    /// Frames `from..to` of the current batch, received on `in_port`, through the agent.
    pub(super) fn of_forward_range(&mut self, in_port: u32, from: usize, to: usize) {
        let capture_time = (self.captures > 0).then(unix_micros);
        let Some(of) = self.of.as_mut() else { return };
        let now = of.now();
        for i in from..to {
            let (frame, truncated) = self.batch.frame(i);
            let Some(slot) = self
                .ports
                .get_mut(in_port as usize)
                .and_then(Option::as_mut)
            else {
                return;
            };
            if truncated || frame.len() < 14 {
                slot.counters.rx_errors += 1;
                if truncated {
                    self.stats.oversize += 1;
                } else {
                    self.stats.runts += 1;
                }
                continue;
            }
            slot.counters.rx_packets += 1;
            slot.counters.rx_bytes += frame.len() as u64;
            self.stats.frames += 1;
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
            of.scratch.clear();
            of.scratch.extend_from_slice(frame);
            of.agent
                .frame(in_port, &mut of.scratch, now, &mut of.outputs);
        }
        self.stats.rx_batches += 1;
        self.of_send_outputs();
    }

    /// Sends the frames the agent produced, grouped per port in order; frames for the
    /// learning switch (standalone fail mode, NORMAL) go through it.
    pub(super) fn of_send_outputs(&mut self) {
        let Some(of) = self.of.as_mut() else { return };
        if of.outputs.is_empty() {
            return;
        }
        let mut outputs = std::mem::take(&mut of.outputs);
        let capture_time = (self.captures > 0).then(unix_micros);
        // NORMAL: the learning switch decides, per frame.
        let now_ms = self.start.elapsed().as_millis() as u64;
        let max_ports = self.ports.len() as u32;
        for (in_port, range) in outputs.normal.drain(..) {
            let frame = &outputs.arena[range.clone()];
            let (decision, _) = self.forwarding.decide(frame, in_port, now_ms);
            match decision {
                Decision::Flood => {
                    for p in 1..max_ports {
                        if p != in_port && self.port_exists(p) {
                            outputs.frames.push((p, range.clone()));
                        }
                    }
                }
                Decision::Unicast(p) => outputs.frames.push((p, range.clone())),
                Decision::Filter => {}
            }
        }
        // Stable grouping by port keeps each port's frames in order.
        outputs.frames.sort_by_key(|(p, _)| *p);
        let mut i = 0;
        while i < outputs.frames.len() {
            let p = outputs.frames[i].0;
            let mut j = i;
            while j < outputs.frames.len() && outputs.frames[j].0 == p {
                j += 1;
            }
            for chunk in outputs.frames[i..j].chunks(BATCH) {
                let mut refs: [&[u8]; BATCH] = [&[]; BATCH];
                for (r, (_, range)) in refs.iter_mut().zip(chunk) {
                    *r = &outputs.arena[range.clone()];
                }
                self.send_frames(p, &refs[..chunk.len()], capture_time);
            }
            i = j;
        }
        outputs.clear();
        if let Some(of) = self.of.as_mut() {
            of.outputs = outputs;
        }
    }

    /// Tells the agent about a new port (port_status ADD to controllers).
    pub(super) fn of_port_added(&mut self, n: u32) {
        let Some(slot) = self.ports.get(n as usize).and_then(Option::as_ref) else {
            return;
        };
        let name = of_port_name(n, slot);
        let Some(of) = self.of.as_mut() else { return };
        let now = of.now();
        of.agent.add_port(n, &name, now);
    }

    /// Tells the agent a port is gone (port_status DELETE).
    pub(super) fn of_port_removed(&mut self, n: u32) {
        let Some(of) = self.of.as_mut() else { return };
        let now = of.now();
        of.agent.remove_port(n, now);
    }

    pub(super) fn of_cleanup(&mut self) {
        if let Some(of) = &self.of {
            for l in &of.listeners {
                if let OfListenerSocket::Unix(_, p) = l {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
    }
}

/// The OpenFlow name of a port (at most 15 bytes): the interface name for raw and tap
/// ports, `uml3` / `vde3` / `dump3` for clients.
fn of_port_name(n: u32, slot: &PortSlot) -> String {
    let kind = slot.io.kind();
    let mut name = match kind {
        "raw" | "tap" => slot.peer.clone(),
        "uml" | "uml-v0" => format!("uml{n}"),
        "vde" => format!("vde{n}"),
        other => format!("{other}{n}"),
    };
    name.truncate(15);
    name
}

fn free_slot<T>(v: &mut Vec<Option<T>>) -> usize {
    v.iter().position(Option::is_none).unwrap_or_else(|| {
        v.push(None);
        v.len() - 1
    })
}

/// Starts connecting to an active target without blocking: returns the stream and
/// whether the connection is still in progress.
fn connect_nonblocking(target: &Target) -> io::Result<(OfStream, bool)> {
    match target {
        Target::Unix(path) => {
            let s = UnixStream::connect(path)?;
            s.set_nonblocking(true)?;
            Ok((OfStream::Unix(s), false))
        }
        Target::Tcp { host, port } => {
            let addr = (host.as_str(), *port)
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| io::Error::other(format!("{host}: no address")))?;
            let domain = if addr.is_ipv4() {
                libc::AF_INET
            } else {
                libc::AF_INET6
            };
            // SAFETY: plain socket(2).
            let fd = unsafe {
                libc::socket(
                    domain,
                    libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    0,
                )
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: fd is a fresh socket we own; TcpStream takes ownership.
            let stream = unsafe { TcpStream::from_raw_fd(fd) };
            let _ = stream.set_nodelay(true);
            let (storage, len) = sockaddr_of(&addr);
            // SAFETY: storage holds a valid sockaddr of `len` bytes.
            let r = unsafe {
                libc::connect(
                    fd,
                    &storage as *const libc::sockaddr_storage as *const libc::sockaddr,
                    len,
                )
            };
            if r == 0 {
                return Ok((OfStream::Tcp(stream), false));
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINPROGRESS) {
                Ok((OfStream::Tcp(stream), true))
            } else {
                Err(e)
            }
        }
        _ => Err(io::Error::other("not an active target")),
    }
}

fn sockaddr_of(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe {
                std::ptr::write(
                    &mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in,
                    sin,
                )
            };
            (
                storage,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe {
                std::ptr::write(
                    &mut storage as *mut libc::sockaddr_storage as *mut libc::sockaddr_in6,
                    sin6,
                )
            };
            (
                storage,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}
