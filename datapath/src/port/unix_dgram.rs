//! Unix datagram ports: the uml_switch / VDE data path.
//!
//! A [`UnixDgramPort`] owns one `SOCK_DGRAM` socket, bound to its own name and `connect()`ed
//! to its client's data address, and moves frames with `recvmmsg`/`sendmmsg`.
//! [`recv_batch_from`] and [`send_batch_to`] are the same loops for an unconnected shared
//! socket (uml_switch's `-compat-v0` data socket), where the peer is named per datagram.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

use super::unix_addr::UnixAddr;
use super::{cvt, Port, RxBatch, BATCH};

/// Socket buffer size asked for on every data socket.
pub const SOCKET_BUFFER: usize = 4 << 20;

/// A datagram port connected to one client.
#[derive(Debug)]
pub struct UnixDgramPort {
    fd: OwnedFd,
    local: UnixAddr,
    peer: UnixAddr,
    kind: &'static str,
}

impl UnixDgramPort {
    /// Creates a socket bound to `local`, connected to `peer`, non-blocking, with enlarged
    /// buffers. `kind` names the port kind in listings ("uml", "vde", ...).
    pub fn connect(local: UnixAddr, peer: UnixAddr, kind: &'static str) -> io::Result<Self> {
        let fd = dgram_socket()?;
        bind(fd.as_raw_fd(), &local)?;
        // SAFETY: peer is a valid sockaddr_un of the given length.
        cvt(unsafe { libc::connect(fd.as_raw_fd(), peer.as_ptr(), peer.len()) })?;
        Ok(UnixDgramPort {
            fd,
            local,
            peer,
            kind,
        })
    }

    /// The address this port's socket is bound to (what the client sends to).
    pub fn local_addr(&self) -> &UnixAddr {
        &self.local
    }

    /// The client's data address.
    pub fn peer_addr(&self) -> &UnixAddr {
        &self.peer
    }
}

impl Drop for UnixDgramPort {
    fn drop(&mut self) {
        if let Some(p) = self.local.path() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Port for UnixDgramPort {
    fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize> {
        recv_batch_from(self.fd.as_raw_fd(), batch, None)
    }

    fn send_batch(&mut self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize> {
        send_batch_to(self.fd.as_raw_fd(), None, frames, errors)
    }

    fn kind(&self) -> &'static str {
        self.kind
    }
}

/// A non-blocking, close-on-exec `AF_UNIX` `SOCK_DGRAM` socket with enlarged buffers.
pub fn dgram_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call.
    let raw = cvt(unsafe {
        libc::socket(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    // SAFETY: raw is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    enlarge_buffers(raw, SOCKET_BUFFER);
    Ok(fd)
}

/// Binds `fd` to `addr`.
pub fn bind(fd: RawFd, addr: &UnixAddr) -> io::Result<()> {
    // SAFETY: addr is a valid sockaddr_un of the given length.
    cvt(unsafe { libc::bind(fd, addr.as_ptr(), addr.len()) }).map(|_| ())
}

/// Asks for `bytes` of send and receive buffer (forcing past the sysctl limits when
/// privileged); failures are ignored, the defaults then stay.
pub fn enlarge_buffers(fd: RawFd, bytes: usize) {
    let val = bytes as libc::c_int;
    for (force, plain) in [
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
    ] {
        // SAFETY: setsockopt with a c_int value.
        unsafe {
            let p = &val as *const libc::c_int as *const libc::c_void;
            let n = mem::size_of::<libc::c_int>() as libc::socklen_t;
            if libc::setsockopt(fd, libc::SOL_SOCKET, force, p, n) < 0 {
                libc::setsockopt(fd, libc::SOL_SOCKET, plain, p, n);
            }
        }
    }
}

/// `recvmmsg` into `batch` without blocking. With `addrs`, the sender of each datagram is
/// stored there (for a shared, unconnected socket). Returns the number of frames.
pub fn recv_batch_from(
    fd: RawFd,
    batch: &mut RxBatch,
    mut addrs: Option<&mut [UnixAddr; BATCH]>,
) -> io::Result<usize> {
    // SAFETY: all-zero is valid for these plain C structs.
    let mut iov: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
    let mut names: [libc::sockaddr_un; BATCH] = unsafe { mem::zeroed() };
    let bufs = batch.bufs_mut();
    for i in 0..BATCH {
        iov[i].iov_base = bufs[i].as_mut_ptr() as *mut libc::c_void;
        iov[i].iov_len = bufs[i].len();
        hdrs[i].msg_hdr.msg_iov = &mut iov[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
        if addrs.is_some() {
            hdrs[i].msg_hdr.msg_name = &mut names[i] as *mut libc::sockaddr_un as *mut libc::c_void;
            hdrs[i].msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        }
    }
    // SAFETY: hdrs points at BATCH valid headers whose buffers outlive the call.
    let n = unsafe {
        libc::recvmmsg(
            fd,
            hdrs.as_mut_ptr(),
            BATCH as libc::c_uint,
            libc::MSG_DONTWAIT,
            ptr::null_mut(),
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        batch.set_count(0);
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(e),
        };
    }
    let n = n as usize;
    for (i, h) in hdrs.iter().enumerate().take(n) {
        let truncated = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
        batch.set(i, h.msg_len as usize, truncated);
        if let Some(a) = addrs.as_deref_mut() {
            a[i] = UnixAddr::from_raw(names[i], h.msg_hdr.msg_namelen);
        }
    }
    batch.set_count(n);
    Ok(n)
}

/// `sendmmsg` of `frames` in order without blocking, to `dest` (or the connected peer).
/// Returns how many frames were taken; frames the kernel refused for good (too large,
/// peer gone) count as taken and add to `errors`.
pub fn send_batch_to(
    fd: RawFd,
    dest: Option<&UnixAddr>,
    frames: &[&[u8]],
    errors: &mut u64,
) -> io::Result<usize> {
    let mut done = 0;
    while done < frames.len() {
        let chunk = &frames[done..(done + BATCH).min(frames.len())];
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        let n = if chunk.len() == 1 {
            // One frame: plain sendto skips sendmmsg's per-message header and iovec
            // imports, which is most of the system call's own cost.
            let (name, len) = dest.map_or((ptr::null(), 0), |d| (d.as_ptr(), d.len()));
            // SAFETY: the frame and the address outlive the call.
            let r = unsafe {
                libc::sendto(
                    fd,
                    chunk[0].as_ptr() as *const libc::c_void,
                    chunk[0].len(),
                    flags,
                    name,
                    len,
                )
            };
            if r >= 0 {
                1
            } else {
                -1
            }
        } else {
            send_mmsg(fd, dest, chunk, flags)
        };
        if n > 0 {
            done += n as usize;
            continue;
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EAGAIN) => break,
            Some(libc::EINTR) => continue,
            Some(
                libc::EMSGSIZE
                | libc::ECONNREFUSED
                | libc::ENOENT
                | libc::ENOBUFS
                | libc::EPERM
                | libc::ENOTCONN,
            ) => {
                *errors += 1;
                done += 1;
            }
            _ => return Err(e),
        }
    }
    Ok(done)
}

/// One `sendmmsg` of up to [`BATCH`] frames; returns its raw result.
fn send_mmsg(
    fd: RawFd,
    dest: Option<&UnixAddr>,
    chunk: &[&[u8]],
    flags: libc::c_int,
) -> libc::c_int {
    // SAFETY: all-zero is valid for these plain C structs.
    let mut iov: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
    for (i, f) in chunk.iter().enumerate() {
        iov[i].iov_base = f.as_ptr() as *mut libc::c_void;
        iov[i].iov_len = f.len();
        hdrs[i].msg_hdr.msg_iov = &mut iov[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
        if let Some(d) = dest {
            hdrs[i].msg_hdr.msg_name = d.as_ptr() as *mut libc::c_void;
            hdrs[i].msg_hdr.msg_namelen = d.len();
        }
    }
    // SAFETY: hdrs points at chunk.len() valid headers; the frames outlive the call.
    unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), chunk.len() as libc::c_uint, flags) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::OutputQueue;

    fn unique(name: &str) -> UnixAddr {
        let n = format!(
            "flowlab-test/{}/{}/{:?}",
            name,
            std::process::id(),
            std::thread::current().id()
        );
        UnixAddr::abstract_full(n.as_bytes())
    }

    #[test]
    fn connected_pair_moves_batches() {
        let a_addr = unique("a");
        let b_addr = unique("b");
        // b is an unconnected UML-like client bound to b_addr.
        let b = dgram_socket().unwrap();
        bind(b.as_raw_fd(), &b_addr).unwrap();
        let mut a = UnixDgramPort::connect(a_addr, b_addr, "uml").unwrap();
        let frames: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 60]).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let mut errs = 0;
        assert_eq!(a.send_batch(&refs, &mut errs).unwrap(), 5);
        let mut batch = RxBatch::new(2048);
        assert_eq!(recv_batch_from(b.as_raw_fd(), &mut batch, None).unwrap(), 5);
        assert_eq!(batch.frame(3).0, &frames[3][..]);
        // b answers to a's address; a receives only from b.
        let mut e2 = 0;
        send_batch_to(b.as_raw_fd(), Some(&a_addr), &refs[..2], &mut e2).unwrap();
        assert_eq!(a.recv_batch(&mut batch).unwrap(), 2);
        assert_eq!(a.recv_batch(&mut batch).unwrap(), 0);
    }

    #[test]
    fn unconnected_peer_fills_and_queue_holds_the_rest() {
        let a_addr = unique("qa");
        let b_addr = unique("qb");
        let b = dgram_socket().unwrap();
        bind(b.as_raw_fd(), &b_addr).unwrap();
        let mut a = UnixDgramPort::connect(a_addr, b_addr, "uml").unwrap();
        let frames: Vec<Vec<u8>> = (0..200u8).map(|i| vec![i; 64]).collect();
        let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
        let mut errs = 0;
        let sent = a.send_batch(&refs, &mut errs).unwrap();
        assert!(
            sent < 200,
            "an unconnected receiver has a short queue, took {sent}"
        );
        let mut q = OutputQueue::new(1000);
        for f in &refs[sent..] {
            assert!(q.push(f));
        }
        let mut batch = RxBatch::new(2048);
        let mut got = Vec::new();
        for _ in 0..1000 {
            let n = recv_batch_from(b.as_raw_fd(), &mut batch, None).unwrap();
            for i in 0..n {
                got.push(batch.frame(i).0[0]);
            }
            q.flush(&mut a, &mut errs).unwrap();
            if got.len() == 200 {
                break;
            }
        }
        assert_eq!(got, (0..200u8).collect::<Vec<_>>(), "every frame, in order");
        assert_eq!(errs, 0);
    }

    #[test]
    fn oversized_datagram_is_flagged_truncated() {
        let a_addr = unique("ta");
        let b_addr = unique("tb");
        let b = dgram_socket().unwrap();
        bind(b.as_raw_fd(), &b_addr).unwrap();
        let mut a = UnixDgramPort::connect(a_addr, b_addr, "uml").unwrap();
        let mut e = 0;
        send_batch_to(b.as_raw_fd(), Some(&a_addr), &[&[7u8; 3000][..]], &mut e).unwrap();
        let mut batch = RxBatch::new(1518);
        assert_eq!(a.recv_batch(&mut batch).unwrap(), 1);
        assert!(batch.frame(0).1);
    }
}
