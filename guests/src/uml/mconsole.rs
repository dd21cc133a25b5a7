//! The UML management console ("mconsole"): a unix datagram socket at
//! `uml_dir/umid/mconsole` that takes text commands (`version`, `cad`, `halt`, `reboot`,
//! `config ethN=...`, `remove ethN`, `sysrq X`, `stop`, `go`, `proc FILE`, ...).
//!
//! Wire format (the kernel's `arch/um/include/shared/mconsole.h`, protocol version 2). All
//! integers are 32-bit in the **host's** byte order (UML runs on this host):
//!
//! ```text
//! request:  magic 0xcafebabe | version 2 | len | data[len]        (len < 512, no NUL)
//! reply:    err              | more      | len | data[len]        (len counts a final NUL)
//! ```
//!
//! A reply longer than 511 bytes comes as several datagrams, each with `more = 1` but the
//! last; `err` is non-zero on the first datagram of a failed command. The kernel sends the
//! reply to the request's source address, so a client must bind its socket (this one binds
//! a unique abstract name: nothing to clean up).
//!
//! [`Request`] and [`Reply`] are views over bytes (`new_checked`, `check_len`; no accessor
//! panics after a successful check); [`RequestRepr`] and [`ReplyRepr`] parse and emit.
//! [`Mconsole`] is the client.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use thiserror::Error;

/// The request magic.
pub const MAGIC: u32 = 0xcafe_babe;
/// The protocol version this module speaks.
pub const VERSION: u32 = 2;
/// The largest data field of a request or reply datagram.
pub const MAX_DATA: usize = 512;

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const MAGIC: Field = 0..4;
    pub const VERSION: Field = 4..8;
    pub const REQ_LEN: Field = 8..12;
    pub const ERR: Field = 0..4;
    pub const MORE: Field = 4..8;
    pub const REPLY_LEN: Field = 8..12;
    pub const DATA: usize = 12;
}

/// Length of the fixed header of requests and replies.
pub const HEADER_LEN: usize = field::DATA;

/// A malformed datagram.
#[derive(Debug, Error, PartialEq, Eq, Clone, Copy)]
pub enum WireError {
    /// Shorter than its header or than its `len` field says.
    #[error("truncated mconsole datagram")]
    Truncated,
    /// The `len` field is larger than the protocol allows.
    #[error("mconsole length {0} exceeds {MAX_DATA}")]
    TooLong(u32),
    /// A request without the magic number.
    #[error("bad mconsole magic {0:#x}")]
    BadMagic(u32),
}

fn get_u32(b: &[u8], f: field::Field) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[f]);
    u32::from_ne_bytes(x)
}

fn set_u32(b: &mut [u8], f: field::Field, v: u32) {
    b[f].copy_from_slice(&v.to_ne_bytes());
}

/// A view over a request datagram.
#[derive(Debug, Clone)]
pub struct Request<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Request<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Request<T> {
        Request { buffer }
    }

    /// Wraps a buffer after [`Request::check_len`].
    pub fn new_checked(buffer: T) -> Result<Request<T>, WireError> {
        let r = Request::new_unchecked(buffer);
        r.check_len()?;
        Ok(r)
    }

    /// Checks that the header and `len` bytes of data are present and `len` is legal.
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let len = get_u32(b, field::REQ_LEN);
        if len as usize >= MAX_DATA {
            return Err(WireError::TooLong(len));
        }
        if b.len() < HEADER_LEN + len as usize {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// The magic field.
    pub fn magic(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::MAGIC)
    }

    /// The version field.
    pub fn version(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::VERSION)
    }

    /// The length field.
    pub fn len(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::REQ_LEN)
    }

    /// True when the data is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The command text bytes.
    pub fn data(&self) -> &[u8] {
        let len = self.len() as usize;
        &self.buffer.as_ref()[field::DATA..field::DATA + len]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Request<T> {
    /// Sets the magic field.
    pub fn set_magic(&mut self, v: u32) {
        set_u32(self.buffer.as_mut(), field::MAGIC, v)
    }

    /// Sets the version field.
    pub fn set_version(&mut self, v: u32) {
        set_u32(self.buffer.as_mut(), field::VERSION, v)
    }

    /// Sets the length field.
    pub fn set_len(&mut self, v: u32) {
        set_u32(self.buffer.as_mut(), field::REQ_LEN, v)
    }

    /// The data bytes (as many as the length field says), for writing.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let len = self.len() as usize;
        &mut self.buffer.as_mut()[field::DATA..field::DATA + len]
    }
}

/// A request: one command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRepr<'a> {
    /// The command, e.g. `cad` or `config eth0=daemon,,unix,/tmp/sw.ctl`.
    pub command: &'a [u8],
}

impl<'a> RequestRepr<'a> {
    /// Parses a request (magic checked; the version is not, it is reported by the view).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(r: &'a Request<&'a T>) -> Result<Self, WireError> {
        r.check_len()?;
        if r.magic() != MAGIC {
            return Err(WireError::BadMagic(r.magic()));
        }
        let len = r.len() as usize;
        let b: &'a [u8] = r.buffer.as_ref();
        Ok(RequestRepr {
            command: &b[field::DATA..field::DATA + len],
        })
    }

    /// The datagram length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.command.len()
    }

    /// Writes the request into `r`, whose buffer must be [`RequestRepr::buffer_len`] long
    /// or longer. Fails when the command is too long for the protocol.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, r: &mut Request<T>) -> Result<(), WireError> {
        if self.command.len() >= MAX_DATA {
            return Err(WireError::TooLong(self.command.len() as u32));
        }
        if r.buffer.as_ref().len() < self.buffer_len() {
            return Err(WireError::Truncated);
        }
        r.set_magic(MAGIC);
        r.set_version(VERSION);
        r.set_len(self.command.len() as u32);
        r.data_mut().copy_from_slice(self.command);
        Ok(())
    }

    /// The request as a fresh datagram.
    pub fn to_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut v = vec![0u8; self.buffer_len()];
        self.emit(&mut Request::new_unchecked(&mut v[..]))?;
        Ok(v)
    }
}

/// A view over a reply datagram.
#[derive(Debug, Clone)]
pub struct Reply<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Reply<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Reply<T> {
        Reply { buffer }
    }

    /// Wraps a buffer after [`Reply::check_len`].
    pub fn new_checked(buffer: T) -> Result<Reply<T>, WireError> {
        let r = Reply::new_unchecked(buffer);
        r.check_len()?;
        Ok(r)
    }

    /// Checks that the header and `len` bytes of data are present and `len` is legal.
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let len = get_u32(b, field::REPLY_LEN);
        if len as usize > MAX_DATA {
            return Err(WireError::TooLong(len));
        }
        if b.len() < HEADER_LEN + len as usize {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// The error field (0: success).
    pub fn err(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::ERR)
    }

    /// The more field (non-zero: another datagram follows).
    pub fn more(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::MORE)
    }

    /// The length field (including the terminating NUL the kernel sends).
    pub fn len(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::REPLY_LEN)
    }

    /// True when the data is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data bytes, as many as the length field says.
    pub fn data(&self) -> &[u8] {
        let len = self.len() as usize;
        &self.buffer.as_ref()[field::DATA..field::DATA + len]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Reply<T> {
    /// Sets the error field.
    pub fn set_err(&mut self, v: u32) {
        set_u32(self.buffer.as_mut(), field::ERR, v)
    }

    /// Sets the more field.
    pub fn set_more(&mut self, v: u32) {
        set_u32(self.buffer.as_mut(), field::MORE, v)
    }

    /// Sets the length field.
    pub fn set_len(&mut self, v: u32) {
        set_u32(self.buffer.as_mut(), field::REPLY_LEN, v)
    }

    /// The data bytes (as many as the length field says), for writing.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let len = self.len() as usize;
        &mut self.buffer.as_mut()[field::DATA..field::DATA + len]
    }
}

/// One reply datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyRepr<'a> {
    /// Non-zero when the command failed.
    pub err: u32,
    /// Another datagram follows.
    pub more: bool,
    /// The text, without the terminating NUL.
    pub data: &'a [u8],
}

impl<'a> ReplyRepr<'a> {
    /// Parses a reply; one trailing NUL is dropped from the data.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(r: &'a Reply<&'a T>) -> Result<Self, WireError> {
        r.check_len()?;
        let len = r.len() as usize;
        let b: &'a [u8] = r.buffer.as_ref();
        let mut data = &b[field::DATA..field::DATA + len];
        if let [rest @ .., 0] = data {
            data = rest;
        }
        Ok(ReplyRepr {
            err: r.err(),
            more: r.more() != 0,
            data,
        })
    }

    /// The datagram length (the data plus the NUL the kernel appends).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data.len() + 1
    }

    /// Writes the reply as the kernel does (with a terminating NUL).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, r: &mut Reply<T>) -> Result<(), WireError> {
        if self.data.len() + 1 > MAX_DATA {
            return Err(WireError::TooLong(self.data.len() as u32 + 1));
        }
        if r.buffer.as_ref().len() < self.buffer_len() {
            return Err(WireError::Truncated);
        }
        r.set_err(self.err);
        r.set_more(self.more as u32);
        r.set_len(self.data.len() as u32 + 1);
        let d = r.data_mut();
        d[..self.data.len()].copy_from_slice(self.data);
        d[self.data.len()] = 0;
        Ok(())
    }
}

/// A failed mconsole exchange.
#[derive(Debug, Error)]
pub enum MconsoleError {
    /// The socket could not be created, reached or read.
    #[error("mconsole {path}: {source}")]
    Io {
        /// The mconsole socket.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// No (complete) reply within the timeout.
    #[error("mconsole {path}: no reply to {command:?} within {timeout:?}")]
    Timeout {
        /// The mconsole socket.
        path: PathBuf,
        /// The command.
        command: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The guest answered with an error.
    #[error("mconsole {command:?} failed: {message}")]
    Refused {
        /// The command.
        command: String,
        /// The guest's message.
        message: String,
    },
    /// The command is too long, or the reply was malformed.
    #[error("mconsole {command:?}: {source}")]
    Wire {
        /// The command.
        command: String,
        /// What was wrong.
        source: WireError,
    },
}

static CLIENT_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A client of one guest's mconsole socket.
#[derive(Debug)]
pub struct Mconsole {
    socket: UnixDatagram,
    path: PathBuf,
}

impl Mconsole {
    /// Binds a unique abstract address and connects it to the guest's `mconsole` socket.
    pub fn connect(path: &Path) -> Result<Mconsole, MconsoleError> {
        let io_err = |source| MconsoleError::Io {
            path: path.to_path_buf(),
            source,
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "flowlab-mconsole-{}-{}-{nanos}",
            std::process::id(),
            CLIENT_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).map_err(io_err)?;
        let socket = UnixDatagram::bind_addr(&addr).map_err(io_err)?;
        socket.connect(path).map_err(io_err)?;
        Ok(Mconsole {
            socket,
            path: path.to_path_buf(),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends `command` and collects the reply datagrams until one has `more = 0`. Returns
    /// the reply text; a reply with `err != 0` becomes [`MconsoleError::Refused`].
    pub fn command(&self, command: &str, timeout: Duration) -> Result<String, MconsoleError> {
        let wire = |source| MconsoleError::Wire {
            command: command.to_string(),
            source,
        };
        let io_err = |source| MconsoleError::Io {
            path: self.path.clone(),
            source,
        };
        let req = RequestRepr {
            command: command.as_bytes(),
        }
        .to_bytes()
        .map_err(wire)?;
        // Drop stale datagrams (a late part of an earlier reply).
        self.socket.set_nonblocking(true).map_err(io_err)?;
        let mut buf = [0u8; HEADER_LEN + MAX_DATA];
        while self.socket.recv(&mut buf).is_ok() {}
        self.socket.set_nonblocking(false).map_err(io_err)?;
        self.socket.send(&req).map_err(io_err)?;
        let deadline = Instant::now() + timeout;
        let mut text = Vec::new();
        let mut err = 0;
        let mut first = true;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(MconsoleError::Timeout {
                    path: self.path.clone(),
                    command: command.to_string(),
                    timeout,
                });
            }
            self.socket.set_read_timeout(Some(left)).map_err(io_err)?;
            let n = match self.socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e)),
            };
            let view = Reply::new_checked(&buf[..n]).map_err(wire)?;
            let r = ReplyRepr::parse(&view).map_err(wire)?;
            if first {
                err = r.err;
                first = false;
            }
            text.extend_from_slice(r.data);
            if !r.more {
                break;
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        if err != 0 {
            return Err(MconsoleError::Refused {
                command: command.to_string(),
                message: text,
            });
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ne(v: u32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    #[test]
    fn request_emit_exact_bytes() {
        let repr = RequestRepr { command: b"cad" };
        assert_eq!(repr.buffer_len(), 15);
        let mut buf = [0xa5u8; 20];
        repr.emit(&mut Request::new_unchecked(&mut buf[..]))
            .unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(&ne(0xcafe_babe));
        want.extend_from_slice(&ne(2));
        want.extend_from_slice(&ne(3));
        want.extend_from_slice(b"cad");
        assert_eq!(&buf[..15], &want[..]);
        assert!(
            buf[15..].iter().all(|&b| b == 0xa5),
            "wrote past the request"
        );
        assert_eq!(repr.to_bytes().unwrap(), want);
    }

    #[test]
    fn request_roundtrip_and_errors() {
        let bytes = RequestRepr {
            command: b"config eth0=daemon,,unix,/tmp/x",
        }
        .to_bytes()
        .unwrap();
        let view = Request::new_checked(&bytes[..]).unwrap();
        assert_eq!(view.version(), VERSION);
        assert_eq!(
            RequestRepr::parse(&view).unwrap().command,
            b"config eth0=daemon,,unix,/tmp/x"
        );
        // Truncated data, short header, a bad magic, an oversized command.
        assert_eq!(
            Request::new_checked(&bytes[..bytes.len() - 1]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Request::new_checked(&bytes[..11]).unwrap_err(),
            WireError::Truncated
        );
        let mut bad = bytes.clone();
        bad[..4].copy_from_slice(&ne(0xdead_beef));
        let view = Request::new_checked(&bad[..]).unwrap();
        assert_eq!(
            RequestRepr::parse(&view).unwrap_err(),
            WireError::BadMagic(0xdead_beef)
        );
        let long = vec![b'x'; MAX_DATA];
        assert_eq!(
            RequestRepr { command: &long }.to_bytes().unwrap_err(),
            WireError::TooLong(512)
        );
        let ok = vec![b'x'; MAX_DATA - 1];
        assert_eq!(
            RequestRepr { command: &ok }.to_bytes().unwrap().len(),
            HEADER_LEN + 511
        );
        let mut big_len = bytes.clone();
        big_len[8..12].copy_from_slice(&ne(600));
        assert_eq!(
            Request::new_checked(&big_len[..]).unwrap_err(),
            WireError::TooLong(600)
        );
    }

    #[test]
    fn reply_parse_kernel_bytes() {
        // What the kernel sends for a successful `version`: err 0, more 0, len with NUL.
        let text = b"OK Linux 6.1.176 #1 Mon";
        let mut d = Vec::new();
        d.extend_from_slice(&ne(0));
        d.extend_from_slice(&ne(0));
        d.extend_from_slice(&ne(text.len() as u32 + 1));
        d.extend_from_slice(text);
        d.push(0);
        let view = Reply::new_checked(&d[..]).unwrap();
        let r = ReplyRepr::parse(&view).unwrap();
        assert_eq!(
            r,
            ReplyRepr {
                err: 0,
                more: false,
                data: text
            }
        );
        // Emitting gives the same bytes back, and nothing past them.
        let mut out = vec![0xa5u8; d.len() + 4];
        r.emit(&mut Reply::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(&out[..d.len()], &d[..]);
        assert!(out[d.len()..].iter().all(|&b| b == 0xa5));
        // An error reply with more = 1 and an empty text.
        let mut e = Vec::new();
        e.extend_from_slice(&ne(1));
        e.extend_from_slice(&ne(1));
        e.extend_from_slice(&ne(1));
        e.push(0);
        let view = Reply::new_checked(&e[..]).unwrap();
        let r = ReplyRepr::parse(&view).unwrap();
        assert_eq!((r.err, r.more, r.data), (1, true, &b""[..]));
        // Malformed: short, len past the end, len too big.
        assert_eq!(
            Reply::new_checked(&d[..5]).unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            Reply::new_checked(&d[..d.len() - 1]).unwrap_err(),
            WireError::Truncated
        );
        let mut big = d.clone();
        big[8..12].copy_from_slice(&ne(513));
        assert_eq!(
            Reply::new_checked(&big[..]).unwrap_err(),
            WireError::TooLong(513)
        );
    }

    #[test]
    fn client_against_fake_guest() {
        // A fake UML: answers `version` in two datagrams and refuses everything else.
        let dir = std::env::temp_dir().join(format!("flowlab-mc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mconsole");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        let t = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            for _ in 0..2 {
                let (n, from) = server.recv_from(&mut buf).unwrap();
                let view = Request::new_checked(&buf[..n]).unwrap();
                let cmd = RequestRepr::parse(&view).unwrap().command.to_vec();
                let to = from.as_abstract_name().unwrap().to_vec();
                let to = SocketAddr::from_abstract_name(&to).unwrap();
                let parts: Vec<(u32, bool, &[u8])> = if cmd == b"version" {
                    vec![(0, true, b"OK Linux "), (0, false, b"6.1")]
                } else {
                    vec![(1, false, b"unknown command")]
                };
                for (err, more, data) in parts {
                    let r = ReplyRepr { err, more, data };
                    let mut out = vec![0u8; r.buffer_len()];
                    r.emit(&mut Reply::new_unchecked(&mut out[..])).unwrap();
                    server.send_to_addr(&out, &to).unwrap();
                }
            }
            server
        });
        let mc = Mconsole::connect(&path).unwrap();
        assert_eq!(
            mc.command("version", Duration::from_secs(5)).unwrap(),
            "OK Linux 6.1"
        );
        match mc.command("frobnicate", Duration::from_secs(5)) {
            Err(MconsoleError::Refused { message, .. }) => assert_eq!(message, "unknown command"),
            other => panic!("{other:?}"),
        }
        let _server = t.join().unwrap();
        // Nobody answers now: a timeout, not a hang.
        let err = mc
            .command("version", Duration::from_millis(200))
            .unwrap_err();
        assert!(matches!(err, MconsoleError::Timeout { .. }), "{err:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
