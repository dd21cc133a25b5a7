//! Windowed load: one client sends N frames with `sendmmsg`, the others count them with
//! `recvmmsg` in a receiver thread. Scenario (a) (unicast A→B) and (c) (broadcast flood)
//! are both this loop.
//!
//! Pacing: the sender keeps at most `window` frames in flight (accepted by the switch but
//! not yet counted by the slowest receiver), so the switch's queues never overflow because
//! of the bench; a switch that still loses frames loses them honestly (counted at the end
//! after a quiet period).

use std::os::fd::RawFd;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use flowlab_datapath::port::BATCH;

use crate::cpu::{self, CpuDelta};
use crate::frames::{self, Kind, BROADCAST};
use crate::traffic::{self, ClientKind, Credit, RxShared, Target};

/// Parameters of one windowed run.
#[derive(Clone, Debug)]
pub struct LoadParams {
    /// Client style for all ports.
    pub kind: ClientKind,
    /// Ports: 1 sender + (ports − 1) receivers.
    pub ports: usize,
    /// Frame size in bytes.
    pub size: usize,
    /// Frames to send.
    pub frames: u64,
    /// Most frames in flight.
    pub window: u64,
    /// Broadcast (flood) instead of unicast to port 1.
    pub broadcast: bool,
    /// No receiver progress for this long writes the window off.
    pub stall: Duration,
    /// How long to wait without progress for the last frames.
    pub quiet: Duration,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct LoadResult {
    /// Frames the switch accepted from the sender.
    pub sent: u64,
    /// Frames refused for good by the switch socket (errors other than EAGAIN).
    pub refused: u64,
    /// Times the sender met a full switch socket (EAGAIN) and had to wait.
    pub eagain: u64,
    /// Times the credit window was written off after a stall.
    pub stalls: u64,
    /// Copies counted by all receivers.
    pub delivered: u64,
    /// Copies expected: sent × receivers.
    pub expected: u64,
    /// Frames received that were not this run's data.
    pub stray: u64,
    /// First send to last receive, seconds.
    pub secs: f64,
    /// Switch CPU over the run.
    pub cpu: CpuDelta,
}

impl LoadResult {
    /// Delivered copies per second.
    pub fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.delivered as f64 / self.secs
        } else {
            f64::NAN
        }
    }

    /// Copies lost, % of expected.
    pub fn loss_pct(&self) -> f64 {
        if self.expected == 0 {
            return f64::NAN;
        }
        100.0 * self.expected.saturating_sub(self.delivered) as f64 / self.expected as f64
    }

    /// Switch CPU µs per delivered copy (from /proc/PID/stat).
    pub fn cpu_per_copy(&self) -> f64 {
        if self.delivered == 0 {
            return f64::NAN;
        }
        self.cpu.stat_us / self.delivered as f64
    }

    /// Switch CPU µs per delivered copy (from schedstat), when available.
    pub fn sched_per_copy(&self) -> Option<f64> {
        (self.delivered > 0)
            .then(|| self.cpu.sched_us.map(|u| u / self.delivered as f64))
            .flatten()
    }
}

/// Runs one windowed load against `target`.
pub fn run(target: &Target, p: &LoadParams) -> Result<LoadResult> {
    if p.ports < 2 {
        return Err(anyhow!("need at least 2 ports"));
    }
    let run = frames::next_run();
    let max_frame = p.size.max(64) + 64;
    let clients = traffic::connect(target, p.kind, p.ports)?;
    traffic::learn(&clients, run, max_frame)?;

    let dst = if p.broadcast {
        BROADCAST
    } else {
        frames::mac(run, 1)
    };
    let template = frames::build(dst, frames::mac(run, 0), run, Kind::Data, p.size);
    let mut bufs: Vec<Vec<u8>> = vec![template; BATCH];
    let fds: Vec<RawFd> = clients[1..].iter().map(|c| c.data_fd()).collect();
    let receivers = fds.len() as u64;
    let sender = &clients[0];
    let base = Instant::now();
    let shared = RxShared::new(fds.len(), base);
    let me = thread::current();

    let cpu0 = cpu::sample(target.pid).context("reading the switch's CPU time")?;
    let (sent, refused, eagain, stalls, t0) = thread::scope(|s| -> Result<_> {
        let rx =
            s.spawn(|| traffic::receive_loop(&fds, run, Kind::Data, max_frame, &shared, Some(&me)));
        let t0 = base.elapsed();
        let mut credit = Credit::new(&shared, p.window, p.stall);
        let (mut sent, mut refused, mut eagain) = (0u64, 0u64, 0u64);
        let result = (|| -> Result<()> {
            while sent < p.frames {
                let remaining = p.frames - sent;
                let want = remaining.min(8).min((p.window / 2).max(1));
                let avail = credit.wait(sent - refused, want);
                let k = avail.min(remaining).min(BATCH as u64) as usize;
                for (i, b) in bufs.iter_mut().take(k).enumerate() {
                    frames::set_seq(b, sent + i as u64);
                }
                let mut refs: [&[u8]; BATCH] = [&[]; BATCH];
                for (r, b) in refs.iter_mut().zip(&bufs) {
                    *r = b.as_slice();
                }
                let mut errors = 0;
                let taken = sender
                    .send_many(&refs[..k], &mut errors)
                    .context("sending")?;
                sent += taken as u64;
                refused += errors;
                if taken < k {
                    eagain += 1;
                    traffic::wait_room(sender)?;
                }
            }
            traffic::wait_delivery(&shared, sent - refused, p.quiet);
            Ok(())
        })();
        shared.stop();
        rx.join()
            .map_err(|_| anyhow!("receiver thread panicked"))?
            .context("receiving")?;
        result?;
        Ok((sent, refused, eagain, credit.stalls, t0))
    })?;
    let cpu1 = cpu::sample(target.pid).context("reading the switch's CPU time")?;

    let delivered = shared.total();
    let end = if delivered > 0 {
        shared.last_rx()
    } else {
        base.elapsed()
    };
    Ok(LoadResult {
        sent,
        refused,
        eagain,
        stalls,
        delivered,
        expected: sent * receivers,
        stray: shared.stray(),
        secs: end.saturating_sub(t0).as_secs_f64(),
        cpu: cpu1.since(&cpu0),
    })
}
