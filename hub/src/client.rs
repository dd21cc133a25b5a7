//! A client of the uml_switch / VDE control protocol, as UML, libvdeplug and `uml_dump`
//! speak it. The tests, `flowlab-bench` and `flowlab-hub ctl` use it; it works against
//! flowlab-hub, uml_switch and vde_switch alike.
//!
//! Three styles of client, the ones a switch meets:
//!
//! * [`ClientStyle::Uml`]: UML's daemon transport. An abstract data address bound with the
//!   full length 110, the 124-byte v3 request, `sendto` every frame; the socket is never
//!   connected, so the kernel caps its input queue at `max_dgram_qlen`.
//! * [`ClientStyle::UmlConnected`]: the same request, then `connect()` to the reply.
//! * [`ClientStyle::Vde`]: libvdeplug. A pathname data socket in a directory, the packed
//!   VDE request with a description and wanted port, then `connect()`.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flowlab_datapath::port::unix_addr::{UnixAddr, SOCKADDR_UN_LEN};
use flowlab_datapath::port::unix_dgram::{bind, dgram_socket, send_batch_to};

use crate::request::{UmlRequest, REQ_NEW_CONTROL};

/// How the client talks to the switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientStyle {
    /// UML daemon transport: abstract address, unconnected socket.
    Uml,
    /// UML-style request, connected data socket.
    UmlConnected,
    /// libvdeplug: pathname socket in `dir`, VDE request, connected.
    Vde {
        /// Where to create the client's data socket.
        dir: PathBuf,
        /// Wanted port (0 = any).
        port: u32,
        /// Port description.
        description: String,
    },
    /// A Netkit `uml_dump` client: v3 request type 1 on the `-unix` socket.
    Dump,
}

/// A connected port of a switch.
#[derive(Debug)]
pub struct UmlClient {
    ctl: UnixStream,
    data: OwnedFd,
    local: UnixAddr,
    switch: UnixAddr,
    connected: bool,
}

/// True once a stream socket bound at `path` is listening, as seen from this thread's
/// network namespace.
///
/// A switch binds its control path and only then calls `listen()`, so a client that
/// connects as soon as the path exists can be refused in between (uml_switch and
/// vde_switch have the same window). This reads `/proc/thread-self/net/unix`, where a
/// listening socket carries the `__SO_ACCEPTCON` flag, so probing never touches the
/// switch: no accepted-and-dropped connection shows up in its log. Without `/proc`, it
/// falls back to the path being a socket. A switch in another network namespace lists
/// its sockets there: see [`wait_listening_of`].
pub fn is_listening(path: &Path) -> bool {
    listening_in(Path::new("/proc/thread-self/net/unix"), path)
}

fn listening_in(table: &Path, path: &Path) -> bool {
    const SO_ACCEPTCON: u32 = 0x0001_0000;
    let Ok(table) = std::fs::read(table) else {
        use std::os::unix::fs::FileTypeExt;
        return std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    };
    let want = path.as_os_str().as_encoded_bytes();
    table.split(|&b| b == b'\n').skip(1).any(|line| {
        // Num RefCount Protocol Flags Type St Inode Path
        let mut cols = line.split(|&b| b == b' ').filter(|c| !c.is_empty());
        let flags = cols.nth(3);
        let path_col = cols.nth(3);
        let listening = flags
            .and_then(|f| std::str::from_utf8(f).ok())
            .and_then(|f| u32::from_str_radix(f, 16).ok())
            .is_some_and(|f| f & SO_ACCEPTCON != 0);
        listening && path_col == Some(want)
    })
}

/// Waits up to `limit` for [`is_listening`]; true if it became so.
pub fn wait_listening(path: &Path, limit: Duration) -> bool {
    poll(limit, || is_listening(path))
}

/// Waits up to `limit` until process `pid` (in whatever network namespace) has a socket
/// listening at `path`; true if it came to be.
pub fn wait_listening_of(pid: u32, path: &Path, limit: Duration) -> bool {
    let table = PathBuf::from(format!("/proc/{pid}/net/unix"));
    poll(limit, || table.exists() && listening_in(&table, path))
}

fn poll(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl UmlClient {
    /// Connects to the control socket at `ctl` and obtains a port.
    pub fn connect(ctl: &Path, style: ClientStyle) -> io::Result<Self> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let data = dgram_socket()?;
        let (local, request) = match &style {
            ClientStyle::Uml | ClientStyle::UmlConnected | ClientStyle::Dump => {
                // Like UML: {zero, pid, usecs} then garbage we choose to be a counter.
                let mut name = [0u8; 107];
                name[3..7].copy_from_slice(&std::process::id().to_ne_bytes());
                name[7..15].copy_from_slice(&n.to_ne_bytes());
                name[40] = 0x5a; // UML leaves heap garbage here: be as opaque
                let addr = UnixAddr::abstract_full(&name);
                let ty = if style == ClientStyle::Dump {
                    1
                } else {
                    u32::from(REQ_NEW_CONTROL)
                };
                (addr, UmlRequest::encode_uml_typed(&addr, ty).to_vec())
            }
            ClientStyle::Vde {
                dir,
                port,
                description,
            } => {
                let path = dir.join(format!(
                    ".{:05}-{:05}",
                    std::process::id() % 100_000,
                    n % 100_000
                ));
                let _ = std::fs::remove_file(&path);
                let addr = UnixAddr::pathname(&path)?;
                (
                    addr,
                    UmlRequest::encode_vde(&addr, REQ_NEW_CONTROL, *port, description),
                )
            }
        };
        bind(data.as_raw_fd(), &local)?;
        let handshake = || -> io::Result<(UnixStream, UnixAddr)> {
            let mut ctl = UnixStream::connect(ctl)?;
            ctl.set_read_timeout(Some(Duration::from_secs(5)))?;
            ctl.write_all(&request)?;
            let mut reply = [0u8; SOCKADDR_UN_LEN];
            ctl.read_exact(&mut reply)?;
            let switch = UnixAddr::from_wire(&reply).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "reply is not an AF_UNIX address",
                )
            })?;
            Ok((ctl, switch))
        };
        let (ctl, switch) = handshake().inspect_err(|_| {
            if let Some(p) = local.path() {
                let _ = std::fs::remove_file(p);
            }
        })?;
        let connected = !matches!(style, ClientStyle::Uml | ClientStyle::Dump);
        if connected {
            // SAFETY: switch is a valid sockaddr_un.
            if unsafe { libc::connect(data.as_raw_fd(), switch.as_ptr(), switch.len()) } < 0 {
                let e = io::Error::last_os_error();
                if let Some(p) = local.path() {
                    let _ = std::fs::remove_file(p);
                }
                return Err(e);
            }
        }
        Ok(UmlClient {
            ctl,
            data,
            local,
            switch,
            connected,
        })
    }

    /// Sends one frame; `Ok(false)` if the switch's socket was full.
    pub fn send(&self, frame: &[u8]) -> io::Result<bool> {
        let mut errors = 0;
        let n = self.send_many(&[frame], &mut errors)?;
        if errors > 0 {
            return Err(io::Error::other("frame refused by the switch socket"));
        }
        Ok(n == 1)
    }

    /// Sends frames in one `sendmmsg` loop; returns how many were taken.
    pub fn send_many(&self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize> {
        let dest = (!self.connected).then_some(&self.switch);
        send_batch_to(self.data.as_raw_fd(), dest, frames, errors)
    }

    /// Receives one frame, waiting up to `timeout`. `Ok(None)` on timeout.
    pub fn recv(&mut self, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        if !self.wait_readable(timeout)? {
            return Ok(None);
        }
        let mut buf = vec![0u8; 65536];
        // SAFETY: reading into our buffer.
        let n = unsafe {
            libc::recv(
                self.data.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(e)
            };
        }
        buf.truncate(n as usize);
        Ok(Some(buf))
    }

    /// Receives every frame that arrives until `quiet` passes with none; returns them.
    pub fn drain(&mut self, quiet: Duration) -> io::Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        while let Some(f) = self.recv(quiet)? {
            out.push(f);
        }
        Ok(out)
    }

    /// Waits until the data socket is readable or `timeout` passes.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        poll_one(self.data.as_raw_fd(), libc::POLLIN, timeout)
    }

    /// The data socket, for callers that batch themselves.
    pub fn data_fd(&self) -> RawFd {
        self.data.as_raw_fd()
    }

    /// The switch's data address for this port (where frames go).
    pub fn switch_addr(&self) -> &UnixAddr {
        &self.switch
    }

    /// True if the data socket is connected to the switch.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The control connection (to send junk in tests, or to watch for the switch closing it).
    pub fn control(&mut self) -> &mut UnixStream {
        &mut self.ctl
    }

    /// True once the switch has closed the control connection.
    pub fn control_closed(&mut self, timeout: Duration) -> io::Result<bool> {
        if !poll_one(self.ctl.as_raw_fd(), libc::POLLIN, timeout)? {
            return Ok(false);
        }
        let mut b = [0u8; 1];
        self.ctl.set_nonblocking(true)?;
        let r = match self.ctl.read(&mut b) {
            Ok(0) => Ok(true),
            Ok(_) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(true),
            Err(e) => Err(e),
        };
        self.ctl.set_nonblocking(false)?;
        r
    }
}

impl Drop for UmlClient {
    fn drop(&mut self) {
        if let Some(p) = self.local.path() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `poll` one descriptor for `events`.
pub fn poll_one(fd: RawFd, events: libc::c_short, timeout: Duration) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    loop {
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(r > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_is_told_apart_from_bound() {
        let dir = std::env::temp_dir().join(format!("fh-listening-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let bound = dir.join("bound");
        let listening = dir.join("listening");
        // A stream socket bound but not listening: the window a client can hit.
        // SAFETY: plain socket(2); the descriptor is owned right away.
        let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
        assert!(fd >= 0);
        // SAFETY: fd is fresh and ours.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        bind(fd.as_raw_fd(), &UnixAddr::pathname(&bound).unwrap()).unwrap();
        assert!(bound.exists());
        assert!(!is_listening(&bound));
        assert!(!is_listening(&listening));
        let _l = std::os::unix::net::UnixListener::bind(&listening).unwrap();
        assert!(is_listening(&listening));
        assert!(wait_listening(&listening, Duration::from_millis(10)));
        assert!(!wait_listening(&bound, Duration::from_millis(20)));
        assert!(wait_listening_of(
            std::process::id(),
            &listening,
            Duration::from_millis(10)
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
