//! Ports: where frames enter and leave the datapath.
//!
//! # The batched fast path
//!
//! The datapath thread owns every port. It waits for readiness (epoll, edge-triggered on
//! input), then drains a ready port with [`Port::recv_batch`] — up to [`BATCH`] frames per
//! system call (`recvmmsg`) into a preallocated [`RxBatch`] — processes the whole batch, and
//! hands each output port its frames in one [`Port::send_batch`] (`sendmmsg`). Nothing is
//! allocated per frame in the steady state, and a batch is processed as soon as it is read:
//! a lone frame is sent at once, batching never adds a wait.
//!
//! # Backpressure
//!
//! Sends never block. When a peer's socket is full, `send_batch` reports how many frames the
//! kernel took; the caller parks the rest in the port's bounded [`OutputQueue`] and asks for
//! `EPOLLOUT`, flushing the queue when the peer has room again. A full queue drops (and
//! counts) the newest frame. This matters for UML guests: their data socket is unconnected,
//! so the kernel caps its input at `net.unix.max_dgram_qlen` (10) datagrams plus one, and a
//! blind burst would lose everything past the eleventh frame.
//!
//! Ports are connected datagram sockets (the VDE design): each port's socket is
//! `connect()`ed to its client, so the kernel delivers only that client's frames to it (the
//! port is the socket, not a source address to look up), the client-to-switch direction has
//! no queue-length cap (Linux skips `max_dgram_qlen` when the receiver is connected back to
//! the sender), and `EPOLLOUT` means "this client can take a frame".
//!
//! UML's vector transport `bess` is the exception: a connected seqpacket socket per guest
//! ([`unix_seqpacket::SeqpacketPort`]), with backpressure both ways and batches in the
//! guest too.
//!
//! All port kinds implement [`Port`]; new kinds (VXLAN, UML's other vector transports)
//! slot in beside [`unix_dgram::UnixDgramPort`], [`unix_seqpacket::SeqpacketPort`] and
//! [`tap::TapPort`].

mod raw;
pub mod tap;
pub mod unix_addr;
pub mod unix_dgram;
pub mod unix_seqpacket;

pub use raw::{RawPort, RawPortError};

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;

/// Most frames moved per system call.
pub const BATCH: usize = 32;

/// A port: a source and sink of Ethernet frames behind a pollable file descriptor.
pub trait Port: std::fmt::Debug {
    /// The descriptor to register with epoll.
    fn fd(&self) -> RawFd;

    /// Receives up to `batch.capacity()` frames without blocking. Returns how many arrived
    /// (0 when the port has nothing to read). An error means the port is broken.
    fn recv_batch(&mut self, batch: &mut RxBatch) -> io::Result<usize>;

    /// Sends frames in order without blocking. Returns how many the kernel took; fewer
    /// than `frames.len()` means the peer is full (retry the rest on writability).
    /// Frames the peer rejected for good (too big, gone) count as taken and are reported
    /// through `errors`.
    fn send_batch(&mut self, frames: &[&[u8]], errors: &mut u64) -> io::Result<usize>;

    /// A short description of the kind, for `ports` listings ("uml", "vde", "tap", ...).
    fn kind(&self) -> &'static str;

    /// Whether the port's link is up (carrier), for ports that have one: a network
    /// interface reports it, a socket to a client has none (None).
    fn link_up(&self) -> Option<bool> {
        None
    }
}

/// Preallocated receive buffers for one batch.
#[derive(Debug)]
pub struct RxBatch {
    bufs: Vec<Box<[u8]>>,
    lens: [usize; BATCH],
    truncated: [bool; BATCH],
    count: usize,
}

impl RxBatch {
    /// Buffers for [`BATCH`] frames of up to `max_frame` bytes. A datagram larger than
    /// `max_frame` is reported as truncated, never delivered cut.
    pub fn new(max_frame: usize) -> Self {
        RxBatch {
            bufs: (0..BATCH)
                .map(|_| vec![0u8; max_frame.max(14)].into_boxed_slice())
                .collect(),
            lens: [0; BATCH],
            truncated: [false; BATCH],
            count: 0,
        }
    }

    /// A batch with no buffers (allocates nothing): a placeholder while the real batch is
    /// borrowed elsewhere. Receiving into it fails.
    pub fn empty() -> Self {
        RxBatch {
            bufs: Vec::new(),
            lens: [0; BATCH],
            truncated: [false; BATCH],
            count: 0,
        }
    }

    /// Number of buffers.
    pub fn capacity(&self) -> usize {
        BATCH
    }

    /// Size of each buffer.
    pub fn buf_len(&self) -> usize {
        self.bufs.first().map_or(0, |b| b.len())
    }

    /// Frames received by the last `recv_batch`.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if the last receive got nothing.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Frame `i` of the last receive, and whether it was longer than the buffer.
    pub fn frame(&self, i: usize) -> (&[u8], bool) {
        (&self.bufs[i][..self.lens[i]], self.truncated[i])
    }

    /// Frame `i` mutably (for in-place rewriting actions).
    pub fn frame_mut(&mut self, i: usize) -> &mut [u8] {
        let n = self.lens[i];
        &mut self.bufs[i][..n]
    }

    /// For drivers: the raw buffers to fill.
    pub fn bufs_mut(&mut self) -> &mut [Box<[u8]>] {
        &mut self.bufs
    }

    /// For drivers: record what buffer `i` received.
    pub fn set(&mut self, i: usize, len: usize, truncated: bool) {
        self.lens[i] = len.min(self.bufs[i].len());
        self.truncated[i] = truncated;
    }

    /// For drivers: record how many frames arrived.
    pub fn set_count(&mut self, n: usize) {
        self.count = n;
    }
}

/// Most bytes one [`OutputQueue`] holds, whatever its frame limit: a slow client cannot
/// make the switch hold more than this for it (with jumbo frames, the frame limit alone
/// would allow several megabytes per port).
pub const OUTPUT_QUEUE_BYTES: usize = 2 << 20;

/// A bounded FIFO of frames waiting for a full peer to drain.
#[derive(Debug)]
pub struct OutputQueue {
    frames: VecDeque<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    limit: usize,
    bytes: usize,
}

impl OutputQueue {
    /// A queue holding at most `limit` frames and [`OUTPUT_QUEUE_BYTES`] bytes.
    pub fn new(limit: usize) -> Self {
        OutputQueue {
            frames: VecDeque::new(),
            spare: Vec::new(),
            limit: limit.max(1),
            bytes: 0,
        }
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends a copy of `frame`; returns false (frame dropped) when the queue is full.
    pub fn push(&mut self, frame: &[u8]) -> bool {
        if self.frames.len() >= self.limit || self.bytes + frame.len() > OUTPUT_QUEUE_BYTES {
            return false;
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(frame);
        self.bytes += frame.len();
        self.frames.push_back(buf);
        true
    }

    /// Sends as much of the queue as the port takes. Returns the number of frames sent.
    pub fn flush(&mut self, port: &mut dyn Port, errors: &mut u64) -> io::Result<usize> {
        let mut sent_total = 0;
        while !self.frames.is_empty() {
            let n = self.frames.len().min(BATCH);
            let mut refs: [&[u8]; BATCH] = [&[]; BATCH];
            for (slot, f) in refs.iter_mut().zip(self.frames.iter()) {
                *slot = f.as_slice();
            }
            let sent = port.send_batch(&refs[..n], errors)?;
            for _ in 0..sent {
                if let Some(buf) = self.frames.pop_front() {
                    self.bytes -= buf.len();
                    if self.spare.len() < 64 {
                        self.spare.push(buf);
                    }
                }
            }
            sent_total += sent;
            if sent < n {
                break;
            }
        }
        Ok(sent_total)
    }

    /// Drops everything queued; returns how many frames were dropped.
    pub fn clear(&mut self) -> usize {
        let n = self.frames.len();
        self.frames.clear();
        self.bytes = 0;
        n
    }
}

/// The process id of a unix socket's peer (`SO_PEERCRED`), when the kernel tells.
pub fn peer_pid(fd: RawFd) -> Option<u32> {
    // SAFETY: all-zero is a valid ucred.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED fills a ucred of the given length.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    };
    (r == 0 && cred.pid > 0).then_some(cred.pid as u32)
}

/// Sets `O_NONBLOCK` and `FD_CLOEXEC` on a descriptor.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we were given; failure is reported via errno.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fdflags = libc::fcntl(fd, libc::F_GETFD);
        if fdflags < 0 || libc::fcntl(fd, libc::F_SETFD, fdflags | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Converts a libc return value into an `io::Result`.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_queue_bounds_frames_and_bytes() {
        let mut q = OutputQueue::new(3);
        assert!(q.push(&[1; 60]) && q.push(&[2; 60]) && q.push(&[3; 60]));
        assert!(!q.push(&[4; 60]), "frame limit");
        assert_eq!(q.clear(), 3);
        let mut q = OutputQueue::new(100_000);
        let jumbo = vec![0u8; 9216];
        let mut n = 0;
        while q.push(&jumbo) {
            n += 1;
        }
        assert_eq!(n, OUTPUT_QUEUE_BYTES / 9216, "byte limit");
        q.clear();
        assert!(q.push(&jumbo), "clear frees the byte budget");
    }
}
