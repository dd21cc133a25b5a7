//! Control connections: accepting, reading a request (or a management line) into a port,
//! the reply, teardown on EOF, and management replies and capture streams.

use super::*;

pub(super) struct ControlListener {
    pub(super) listener: UnixListener,
    pub(super) kind: Listener,
    pub(super) path: PathBuf,
}

pub(super) enum ConnState {
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

pub(super) struct Conn {
    pub(super) stream: UnixStream,
    pub(super) listener: Listener,
    pub(super) state: ConnState,
    pub(super) want_out: bool,
}

impl Switch {
    pub(super) fn on_listener(&mut self, i: usize) {
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

    pub(super) fn close_conn(&mut self, c: usize) {
        if let Some(conn) = self.conns.get_mut(c).and_then(Option::take) {
            self.epoll_del(conn.stream.as_raw_fd());
            if let ConnState::Capture { .. } = conn.state {
                self.captures -= 1;
            }
        }
    }

    pub(super) fn on_conn(&mut self, c: usize, flags: u32) {
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

    pub(super) fn on_conn_eof(&mut self, c: usize) {
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
    pub(super) fn on_conn_bytes(&mut self, c: usize, bytes: &[u8]) -> bool {
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
    pub(super) fn try_complete(&mut self, c: usize) -> bool {
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

    pub(super) fn new_port(&mut self, c: usize, req: UmlRequest) {
        let Some(conn) = self.conns.get(c).and_then(Option::as_ref) else {
            return;
        };
        let listener = conn.listener;
        let pid = flowlab_datapath::port::peer_pid(conn.stream.as_raw_fd());
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

    pub(super) fn bind_conn_to_port(&mut self, c: usize, n: u32, req: &UmlRequest) {
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

    pub(super) fn on_mgmt(&mut self, c: usize, line: &str) {
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
    pub(super) fn pump_conn(&mut self, c: usize) {
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

    pub(super) fn view(&self) -> mgmt::View<'_> {
        mgmt::View {
            mode: if self.of.is_some() {
                "openflow"
            } else {
                self.forwarding.name()
            },
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
            openflow: self.of.as_ref().map_or_else(Vec::new, |o| o.describe()),
        }
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
