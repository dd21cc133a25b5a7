//! What every scenario shares: the switch under test, client setup and MAC learning, the
//! counting receiver thread and the sender's credit window.

use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use flowlab_datapath::port::unix_dgram::recv_batch_from;
use flowlab_datapath::port::{RxBatch, BATCH};
use flowlab_hub::client::{poll_one, ClientStyle, UmlClient};

use crate::frames::{self, Kind, BROADCAST};

/// The switch a measurement runs against.
#[derive(Clone, Debug)]
pub struct Target {
    /// Control socket to connect to.
    pub ctl: PathBuf,
    /// Process whose CPU time is measured.
    pub pid: i32,
}

/// Which kind of client data socket the bench uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// UML-style request, data socket `connect()`ed to the switch.
    Connected,
    /// UML's daemon transport: unconnected data socket (receive queue capped at
    /// `net.unix.max_dgram_qlen`).
    Uml,
}

impl ClientKind {
    /// The hub client style.
    pub fn style(self) -> ClientStyle {
        match self {
            ClientKind::Connected => ClientStyle::UmlConnected,
            ClientKind::Uml => ClientStyle::Uml,
        }
    }

    /// Name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Connected => "connected",
            ClientKind::Uml => "uml",
        }
    }
}

/// Connects `n` clients, retrying briefly while the switch is not yet listening.
pub fn connect(target: &Target, kind: ClientKind, n: usize) -> Result<Vec<UmlClient>> {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match UmlClient::connect(&target.ctl, kind.style()) {
            Ok(c) => out.push(c),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound
                ) && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(10))
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "connecting {} client {} to {}",
                        kind.name(),
                        out.len(),
                        target.ctl.display()
                    )
                })
            }
        }
    }
    Ok(out)
}

/// Sends one frame, waiting (up to 1 s) while the switch's socket is full.
pub fn send_one(c: &UmlClient, frame: &[u8]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        if c.send(frame).context("sending a frame")? {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("switch socket stayed full for 1 s");
        }
        thread::sleep(Duration::from_micros(100));
    }
}

/// Reads and discards everything that arrives on `clients` until `quiet` passes with none.
pub fn drain_all(clients: &[UmlClient], quiet: Duration, max_frame: usize) -> Result<u64> {
    let mut batch = RxBatch::new(max_frame);
    let mut pfds: Vec<libc::pollfd> = clients
        .iter()
        .map(|c| libc::pollfd {
            fd: c.data_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut n = 0;
    while poll_many(&mut pfds, quiet)? > 0 {
        for p in &pfds {
            if p.revents != 0 {
                while recv_batch_from(p.fd, &mut batch, None)? > 0 {
                    n += batch.len() as u64;
                }
            }
        }
    }
    Ok(n)
}

/// Makes the switch learn every client's MAC (`frames::mac(run, i)` for client `i`): each
/// sends one broadcast from its MAC, then everything flooded back is drained.
pub fn learn(clients: &[UmlClient], run: u32, max_frame: usize) -> Result<()> {
    for (i, c) in clients.iter().enumerate() {
        let f = frames::build(BROADCAST, frames::mac(run, i), run, Kind::Learn, 64);
        send_one(c, &f)?;
        // Let UML-style receivers (11-datagram queues) keep up with the floods.
        if clients.len() > 2 {
            drain_all(clients, Duration::from_millis(2), max_frame)?;
        }
    }
    drain_all(clients, Duration::from_millis(30), max_frame)?;
    Ok(())
}

/// `poll` on several descriptors; returns the number ready (0 on timeout).
pub fn poll_many(pfds: &mut [libc::pollfd], timeout: Duration) -> io::Result<usize> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    loop {
        for p in pfds.iter_mut() {
            p.revents = 0;
        }
        // SAFETY: pfds is a valid array of pollfd.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// State shared between the sender and the receiver thread.
#[derive(Debug)]
pub struct RxShared {
    base: Instant,
    counts: Vec<AtomicU64>,
    last_ns: AtomicU64,
    stray: AtomicU64,
    waiting: AtomicBool,
    stop: AtomicBool,
}

impl RxShared {
    /// Counters for `receivers` sockets; times are measured from `base`.
    pub fn new(receivers: usize, base: Instant) -> Self {
        RxShared {
            base,
            counts: (0..receivers).map(|_| AtomicU64::new(0)).collect(),
            last_ns: AtomicU64::new(0),
            stray: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        }
    }

    /// Frames counted by the slowest receiver.
    pub fn min_count(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.load(SeqCst))
            .min()
            .unwrap_or(0)
    }

    /// Frames counted by all receivers together.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.load(SeqCst)).sum()
    }

    /// Frames received that were not this run's data.
    pub fn stray(&self) -> u64 {
        self.stray.load(SeqCst)
    }

    /// When the last data frame was counted, since `base`.
    pub fn last_rx(&self) -> Duration {
        Duration::from_nanos(self.last_ns.load(SeqCst))
    }

    /// Tells the receiver thread to finish.
    pub fn stop(&self) {
        self.stop.store(true, SeqCst);
    }
}

/// The receiver thread: reads `fds` with `recvmmsg` (blocking in `poll` when idle), counts
/// the data frames of `run` of kind `kind` per socket, and wakes `sender` when it waits for
/// credit. Runs until [`RxShared::stop`].
pub fn receive_loop(
    fds: &[RawFd],
    run: u32,
    kind: Kind,
    max_frame: usize,
    shared: &RxShared,
    sender: Option<&Thread>,
) -> io::Result<()> {
    let mut batch = RxBatch::new(max_frame);
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    while !shared.stop.load(SeqCst) {
        if poll_many(&mut pfds, Duration::from_millis(5))? == 0 {
            continue;
        }
        let mut got = false;
        for (i, p) in pfds.iter().enumerate() {
            if p.revents == 0 {
                continue;
            }
            let (mut good, mut bad) = (0u64, 0u64);
            for _ in 0..16 {
                let n = recv_batch_from(p.fd, &mut batch, None)?;
                for j in 0..n {
                    let (f, truncated) = batch.frame(j);
                    if !truncated && frames::parse(f, run, kind).is_some() {
                        good += 1;
                    } else {
                        bad += 1;
                    }
                }
                if n < BATCH {
                    break;
                }
            }
            if good > 0 {
                shared.counts[i].fetch_add(good, SeqCst);
                got = true;
            }
            if bad > 0 {
                shared.stray.fetch_add(bad, SeqCst);
            }
        }
        if got {
            shared
                .last_ns
                .store(shared.base.elapsed().as_nanos() as u64, SeqCst);
            if let Some(t) = sender {
                if shared.waiting.swap(false, SeqCst) {
                    t.unpark();
                }
            }
        }
    }
    Ok(())
}

/// The sender's credit window: at most `window` frames in flight, where in flight = frames
/// the switch accepted − frames the slowest receiver counted − frames written off. When the
/// receivers make no progress for `stall`, everything in flight is written off as lost
/// (so a lossy switch cannot deadlock the sender); the loss itself is measured at the end.
#[derive(Debug)]
pub struct Credit<'a> {
    shared: &'a RxShared,
    window: u64,
    stall: Duration,
    written_off: u64,
    /// Times the window was written off.
    pub stalls: u64,
}

impl<'a> Credit<'a> {
    /// A window of `window` frames.
    pub fn new(shared: &'a RxShared, window: u64, stall: Duration) -> Self {
        Credit {
            shared,
            window: window.max(1),
            stall,
            written_off: 0,
            stalls: 0,
        }
    }

    /// Waits until at least `want` frames of credit are free given `accepted` frames taken
    /// by the switch so far; returns the credit.
    pub fn wait(&mut self, accepted: u64, want: u64) -> u64 {
        let want = want.clamp(1, self.window);
        let mut last = self.shared.min_count();
        let mut since = Instant::now();
        loop {
            let rx = self.shared.min_count();
            if rx != last {
                last = rx;
                since = Instant::now();
            }
            let in_flight = accepted.saturating_sub(rx + self.written_off);
            let credit = self.window.saturating_sub(in_flight);
            if credit >= want {
                return credit;
            }
            if since.elapsed() >= self.stall {
                self.written_off = accepted.saturating_sub(rx);
                self.stalls += 1;
                since = Instant::now();
                continue;
            }
            self.shared.waiting.store(true, SeqCst);
            if self.shared.min_count() != rx {
                self.shared.waiting.store(false, SeqCst);
                continue;
            }
            thread::park_timeout(Duration::from_millis(1));
        }
    }
}

/// Waits until the slowest receiver has `expected` frames or `quiet` passes without progress.
pub fn wait_delivery(shared: &RxShared, expected: u64, quiet: Duration) {
    let mut last = shared.total();
    let mut since = Instant::now();
    while shared.min_count() < expected {
        thread::sleep(Duration::from_millis(1));
        let now = shared.total();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            break;
        }
    }
}

/// Waits briefly for room after the switch's socket refused a frame: `poll` for POLLOUT on
/// a connected socket, a short sleep on an unconnected one (the kernel cannot tell it when
/// an unconnected peer has room).
pub fn wait_room(c: &UmlClient) -> io::Result<()> {
    if c.is_connected() {
        poll_one(c.data_fd(), libc::POLLOUT, Duration::from_millis(1))?;
    } else {
        thread::sleep(Duration::from_micros(20));
    }
    Ok(())
}
