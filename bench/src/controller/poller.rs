//! The thin I/O layer: where to connect (`tcp:HOST:PORT`, `unix:PATH`), a stream over
//! either, and a level-triggered epoll set.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};

/// A controller's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `tcp:HOST:PORT`.
    Tcp(String),
    /// `unix:PATH`.
    Unix(PathBuf),
}

impl Endpoint {
    /// Parses `tcp:HOST:PORT` (also `tcp:HOST` for port 6653) or `unix:PATH`.
    pub fn parse(s: &str) -> Result<Endpoint> {
        if let Some(rest) = s.strip_prefix("tcp:") {
            if rest.is_empty() {
                bail!("{s:?}: no host");
            }
            let addr = match rest.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && !h.ends_with(':') => {
                    let _: u16 = p.parse().map_err(|_| anyhow!("{s:?}: bad port {p:?}"))?;
                    rest.to_string()
                }
                _ => format!("{rest}:6653"),
            };
            return Ok(Endpoint::Tcp(addr));
        }
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                bail!("{s:?}: no path");
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        bail!("{s:?}: want tcp:HOST:PORT or unix:PATH")
    }

    /// Opens a blocking connection with TCP_NODELAY.
    pub fn connect(&self) -> io::Result<Stream> {
        match self {
            Endpoint::Tcp(addr) => {
                let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
                for a in addr.to_socket_addrs()? {
                    match TcpStream::connect(a) {
                        Ok(s) => {
                            s.set_nodelay(true)?;
                            return Ok(Stream::Tcp(s));
                        }
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
            Endpoint::Unix(p) => UnixStream::connect(p).map(Stream::Unix),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(a) => write!(f, "tcp:{a}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// A connected stream socket.
#[derive(Debug)]
pub enum Stream {
    /// TCP.
    Tcp(TcpStream),
    /// Unix domain.
    Unix(UnixStream),
}

impl Stream {
    /// Switches to non-blocking mode.
    pub fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nonblocking(true),
            Stream::Unix(s) => s.set_nonblocking(true),
        }
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A listening socket for the in-process responder.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix domain.
    Unix(UnixListener),
}

impl Listener {
    /// Accepts one connection (non-blocking listener: `WouldBlock` when none waits).
    pub fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept()?;
                s.set_nodelay(true)?;
                Ok(Stream::Tcp(s))
            }
            Listener::Unix(l) => Ok(Stream::Unix(l.accept()?.0)),
        }
    }

    /// Where switches connect to it.
    pub fn endpoint(&self) -> io::Result<Endpoint> {
        match self {
            Listener::Tcp(l) => Ok(Endpoint::Tcp(l.local_addr()?.to_string())),
            Listener::Unix(l) => l
                .local_addr()?
                .as_pathname()
                .map(|p| Endpoint::Unix(p.to_path_buf()))
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unnamed socket")),
        }
    }
}

impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l) => l.as_raw_fd(),
        }
    }
}

/// Readable.
pub const IN: u32 = libc::EPOLLIN as u32;
/// Writable.
pub const OUT: u32 = libc::EPOLLOUT as u32;
/// Hung up or failed.
pub const HUP: u32 = (libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) as u32;

/// A level-triggered epoll set; each fd is registered with a caller-chosen token.
#[derive(Debug)]
pub struct Epoll {
    fd: RawFd,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    /// A new set.
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes a flag and returns a new fd or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Epoll {
            fd,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; 256],
        })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: events | libc::EPOLLRDHUP as u32,
            u64: token,
        };
        // SAFETY: ev is a valid epoll_event for the duration of the call.
        if unsafe { libc::epoll_ctl(self.fd, op, fd, &mut ev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Adds `fd` with interest `events` (`IN`, `OUT`).
    pub fn add(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
    }

    /// Changes the interest of `fd`.
    pub fn modify(&self, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, token)
    }

    /// Removes `fd`.
    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits up to `timeout_ms` and returns the ready `(token, events)` pairs.
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<Vec<(u64, u32)>> {
        // SAFETY: the buffer holds events.len() entries.
        let n = unsafe {
            libc::epoll_wait(
                self.fd,
                self.events.as_mut_ptr(),
                self.events.len() as libc::c_int,
                timeout_ms,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(Vec::new());
            }
            return Err(e);
        }
        Ok(self.events[..n as usize]
            .iter()
            .map(|e| (e.u64, e.events))
            .collect())
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: closing the fd this value owns, once.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        assert_eq!(
            Endpoint::parse("tcp:127.0.0.1:6653").unwrap(),
            Endpoint::Tcp("127.0.0.1:6653".into())
        );
        assert_eq!(
            Endpoint::parse("tcp:localhost").unwrap(),
            Endpoint::Tcp("localhost:6653".into())
        );
        assert_eq!(
            Endpoint::parse("unix:/tmp/c.sock").unwrap(),
            Endpoint::Unix("/tmp/c.sock".into())
        );
        assert!(Endpoint::parse("tcp:").is_err());
        assert!(Endpoint::parse("tcp:h:notaport").is_err());
        assert!(Endpoint::parse("udp:1.2.3.4:5").is_err());
        assert!(Endpoint::parse("unix:").is_err());
        assert_eq!(
            Endpoint::parse("unix:/x").unwrap().to_string(),
            "unix:/x".to_string()
        );
    }

    #[test]
    fn epoll_reports_readable_streams() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut a = Stream::Unix(a);
        let b = Stream::Unix(b);
        b.set_nonblocking().unwrap();
        let mut ep = Epoll::new().unwrap();
        ep.add(b.as_raw_fd(), IN, 7).unwrap();
        assert!(ep.wait(0).unwrap().is_empty());
        a.write_all(b"x").unwrap();
        let ev = ep.wait(1000).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].0, 7);
        assert!(ev[0].1 & IN != 0);
        ep.modify(b.as_raw_fd(), IN | OUT, 8).unwrap();
        assert!(ep
            .wait(0)
            .unwrap()
            .iter()
            .any(|&(t, e)| t == 8 && e & OUT != 0));
        ep.delete(b.as_raw_fd()).unwrap();
        assert!(ep.wait(0).unwrap().is_empty());
    }
}
