//! Unix seqpacket ports: UML's vector transport `bess` (`vecN:transport=bess,dst=PATH`).
//!
//! # Why a second UML transport
//!
//! UML's legacy `daemon` transport (the uml_switch protocol) sends each frame with one
//! `sendto` on an *unconnected* datagram socket and reads one frame per `read` in its
//! SIGIO handler. Both directions lose frames under load and nobody learns of it: a full
//! switch socket makes the guest's `sendto` fail with `EAGAIN` and the guest drops the
//! frame (its TX-drop counter), and a switch writing to a guest meets the kernel's cap of
//! `max_dgram_qlen` + 1 datagrams on an unconnected receiver. TCP then spends its time in
//! loss recovery. The legacy transports are also gone from mainline UML since 2025.
//!
//! The vector driver's `bess` transport is a *connected* `SOCK_SEQPACKET` socket: UML
//! connects to `dst`, and one message is one raw Ethernet frame (no header). Being
//! connected changes two things:
//!
//! * **Backpressure instead of loss.** A full peer makes `sendmmsg` stop short with
//!   `EAGAIN`. This side parks the rest in the port's [`super::OutputQueue`] until
//!   `EPOLLOUT`, which on a connected socket really means "the guest can take a frame":
//!   nothing is lost towards the guest. The guest's vector driver keeps what it could not
//!   send in its TX ring and retries; only when that ring is full too does it drop
//!   (measured: about a quarter of the daemon transport's losses).
//! * **Batches in the guest.** The vector driver reads with `recvmmsg` and writes with
//!   `sendmmsg`, a whole ring per system call and per SIGIO, where the daemon transport
//!   pays one host system call and often one signal per frame.
//!
//! A port is the accepted connection itself: it lives until the guest closes it (EOF), and
//! there is no control connection or request to parse. EOF shows as zero-length messages
//! from `recvmmsg` (a seqpacket socket reads 0 at end of file), reported as
//! [`io::ErrorKind::UnexpectedEof`]. The guest never sends empty frames.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::unix_addr::UnixAddr;
use super::unix_dgram::{enlarge_buffers, recv_batch_from, send_batch_to, SOCKET_BUFFER};
use super::{cvt, peer_pid, Port, RxBatch};

/// Connections waiting to be accepted.
const BACKLOG: libc::c_int = 128;

fn seqpacket_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call.
    let raw = cvt(unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    // SAFETY: raw is a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// A non-blocking listening seqpacket socket bound to `path`. Fails with
/// [`io::ErrorKind::AddrInUse`] when `path` exists (see [`is_live`]).
pub fn listen(path: &Path) -> io::Result<OwnedFd> {
    let addr = UnixAddr::pathname(path)?;
    let fd = seqpacket_socket()?;
    // SAFETY: addr is a valid sockaddr_un of the given length.
    cvt(unsafe { libc::bind(fd.as_raw_fd(), addr.as_ptr(), addr.len()) })?;
    // SAFETY: listen on our bound socket.
    if let Err(e) = cvt(unsafe { libc::listen(fd.as_raw_fd(), BACKLOG) }) {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(fd)
}

/// Whether a live server accepts seqpacket connections at `path`: true if a connection
/// succeeds, false if the socket refuses (stale) or `path` is not a socket; other errors
/// are returned.
pub fn is_live(path: &Path) -> io::Result<bool> {
    let addr = UnixAddr::pathname(path)?;
    let fd = seqpacket_socket()?;
    // SAFETY: addr is a valid sockaddr_un of the given length.
    let r = unsafe { libc::connect(fd.as_raw_fd(), addr.as_ptr(), addr.len()) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        // A live listener with a full backlog answers EAGAIN to a non-blocking connect;
        // a live socket of another type (a uml_switch control socket) EPROTOTYPE.
        Some(libc::EAGAIN | libc::EINPROGRESS | libc::EPROTOTYPE) => Ok(true),
        Some(libc::ECONNREFUSED | libc::ENOTSOCK) => Ok(false),
        _ => Err(e),
    }
}

/// Accepts one pending connection from `listener` as a port; None when there is none.
pub fn accept(listener: RawFd) -> io::Result<Option<SeqpacketPort>> {
    loop {
        // SAFETY: accept4 without a peer address.
        let raw = unsafe {
            libc::accept4(
                listener,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        };
        if raw >= 0 {
            // SAFETY: raw is a fresh descriptor we own.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            enlarge_buffers(raw, SOCKET_BUFFER);
            let peer_pid = peer_pid(raw);
            return Ok(Some(SeqpacketPort { fd, peer_pid }));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            // The client gave up between connect and accept: nothing to accept.
            Some(libc::EAGAIN | libc::ECONNABORTED) => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// One accepted `bess` connection: a guest's vector interface.
#[derive(Debug)]
pub struct SeqpacketPort {
    fd: OwnedFd,
    peer_pid: Option<u32>,
}

impl SeqpacketPort {
    /// The connecting process (the guest's UML process), when known.
    pub fn peer_pid(&self) -> Option<u32> {
        self.peer_pid
    }

    /// A port over an already connected seqpacket socket (one end of a `socketpair`, or a
    /// descriptor handed over by a launcher).
    pub fn from_fd(fd: OwnedFd) -> SeqpacketPort {
        let peer_pid = peer_pid(fd.as_raw_fd());
        SeqpacketPort { fd, peer_pid }
    }
}

impl Port for SeqpacketPort {
    fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        let n = recv_batch_from(self.fd.as_raw_fd(), batch, None)?;
        // End of file reads as zero-length messages that fill the rest of the batch: keep
        // what came before them. An empty message between frames is a runt like any other.
        let eof_run = (0..n)
            .rev()
            .take_while(|&i| batch.frame(i).0.is_empty())
            .count();
        let frames = n - eof_run;
        batch.set_count(frames);
        if frames == 0 && n > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the guest closed the connection",
            ));
        }
        Ok(frames)
    }

    fn send_batch(&mut self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize> {
        send_batch_to(self.fd.as_raw_fd(), None, frames, errors)
    }

    fn kind(&self) -> &'static str {
        "bess"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::OutputQueue;

    fn pair() -> (SeqpacketPort, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: socketpair into a two-element array.
        let r = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(r, 0);
        // SAFETY: both are fresh descriptors we own.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        (SeqpacketPort::from_fd(a), b)
    }

    fn temp_path(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "flowlab-seqpacket-{name}-{}-{:?}.sock",
            std::process::id(),
            std::thread::current().id()
        ))
    }

    #[test]
    fn frames_keep_their_boundaries_both_ways() {
        let (mut port, guest) = pair();
        let frames: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 60 + i as usize]).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let mut errs = 0;
        assert_eq!(port.send_batch(&refs, &mut errs).unwrap(), 40);
        assert_eq!(errs, 0);
        let mut batch = RxBatch::new(2048);
        let mut got = Vec::new();
        while got.len() < 40 {
            let n = recv_batch_from(guest.as_raw_fd(), &mut batch, None).unwrap();
            assert!(n > 0);
            got.extend((0..n).map(|i| batch.frame(i).0.to_vec()));
        }
        assert_eq!(got, frames);
        send_batch_to(guest.as_raw_fd(), None, &refs[..3], &mut errs).unwrap();
        assert_eq!(port.recv_batch(&mut batch).unwrap(), 3);
        assert_eq!(batch.frame(2).0, &frames[2][..]);
        assert_eq!(port.recv_batch(&mut batch).unwrap(), 0, "nothing more");
        assert_eq!(port.kind(), "bess");
        assert_eq!(port.peer_pid(), Some(std::process::id()));
    }

    #[test]
    fn an_empty_message_between_frames_is_not_end_of_file() {
        let (mut port, guest) = pair();
        let f = [7u8; 64];
        let mut errs = 0;
        send_batch_to(guest.as_raw_fd(), None, &[&f, &[], &f], &mut errs).unwrap();
        let mut batch = RxBatch::new(2048);
        assert_eq!(port.recv_batch(&mut batch).unwrap(), 3);
        assert!(batch.frame(1).0.is_empty() && batch.frame(2).0 == f);
        assert_eq!(
            port.recv_batch(&mut batch).unwrap(),
            0,
            "the port is still open"
        );
    }

    #[test]
    fn a_live_socket_of_another_type_is_live() {
        let path = temp_path("stream");
        let _ = std::fs::remove_file(&path);
        let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert!(is_live(&path).unwrap(), "a stream listener is in use");
        drop(l);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn end_of_file_comes_after_the_last_frames() {
        let (mut port, guest) = pair();
        let f = [7u8; 64];
        let mut errs = 0;
        send_batch_to(guest.as_raw_fd(), None, &[&f, &f], &mut errs).unwrap();
        drop(guest);
        let mut batch = RxBatch::new(2048);
        assert_eq!(port.recv_batch(&mut batch).unwrap(), 2);
        let e = port.recv_batch(&mut batch).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_full_guest_pushes_back_instead_of_losing() {
        let (mut port, guest) = pair();
        let frame = vec![1u8; 200];
        let mut queue = OutputQueue::new(100_000);
        let mut errs = 0;
        // Far more than the guest's receive buffer holds.
        let mut taken = 0;
        let total = 6_000;
        for _ in 0..total {
            if queue.is_empty() && port.send_batch(&[&frame], &mut errs).unwrap() == 1 {
                taken += 1;
            } else {
                assert!(queue.push(&frame));
            }
        }
        assert!(!queue.is_empty(), "the guest's buffer never filled");
        assert_eq!(queue.bytes(), queue.len() * frame.len());
        assert_eq!(errs, 0);
        // The guest drains; the queue flushes; every frame arrives exactly once.
        let mut batch = RxBatch::new(2048);
        let mut received = 0;
        while received < total {
            let n = recv_batch_from(guest.as_raw_fd(), &mut batch, None).unwrap();
            received += n;
            if !queue.is_empty() {
                queue.flush(&mut port, &mut errs).unwrap();
            }
            if n == 0 && queue.is_empty() {
                break;
            }
        }
        assert_eq!(received, total, "taken at once: {taken}");
        assert_eq!(queue.bytes(), 0);
        assert_eq!(errs, 0);
    }

    #[test]
    fn listener_accepts_ports_and_tells_live_from_stale() {
        let path = temp_path("listen");
        let _ = std::fs::remove_file(&path);
        let l = listen(&path).unwrap();
        assert!(accept(l.as_raw_fd()).unwrap().is_none(), "nobody yet");
        assert!(is_live(&path).unwrap(), "our own listener is live");
        // The probe's connection is pending: accept it, then a real client.
        let probe = accept(l.as_raw_fd()).unwrap();
        assert!(probe.is_some());
        let client = seqpacket_socket().unwrap();
        let addr = UnixAddr::pathname(&path).unwrap();
        // SAFETY: addr is a valid sockaddr_un.
        let r = unsafe { libc::connect(client.as_raw_fd(), addr.as_ptr(), addr.len()) };
        assert_eq!(r, 0);
        let mut port = accept(l.as_raw_fd()).unwrap().expect("a connection");
        let mut errs = 0;
        send_batch_to(client.as_raw_fd(), None, &[&[9u8; 60][..]], &mut errs).unwrap();
        let mut batch = RxBatch::new(2048);
        assert_eq!(port.recv_batch(&mut batch).unwrap(), 1);
        assert!(matches!(
            listen(&path).map_err(|e| e.kind()),
            Err(io::ErrorKind::AddrInUse)
        ));
        drop(l);
        assert!(
            !is_live(&path).unwrap(),
            "a closed listener's file is stale"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
