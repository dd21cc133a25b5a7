//! Scenario (b): ping-pong round-trip time. A sends one frame to B, B's echo thread sends it
//! back on receipt, A waits for it (blocking in `poll`), K times.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use flowlab_datapath::port::unix_dgram::recv_batch_from;
use flowlab_datapath::port::RxBatch;
use flowlab_hub::client::{poll_one, UmlClient};

use crate::frames::{self, Kind};
use crate::stats::percentile_sorted;
use crate::traffic::{self, ClientKind, Target};

/// Parameters of one RTT run.
#[derive(Clone, Debug)]
pub struct RttParams {
    /// Client style of both ports.
    pub kind: ClientKind,
    /// Measured round trips.
    pub count: u64,
    /// Round trips before measuring.
    pub warmup: u64,
    /// Frame size.
    pub size: usize,
    /// A round trip not back after this is lost.
    pub timeout: Duration,
}

/// Round-trip times of one run.
#[derive(Clone, Debug)]
pub struct RttResult {
    /// Measured round trips in ns, ascending.
    pub sorted_ns: Vec<u64>,
    /// Round trips that timed out.
    pub lost: u64,
}

impl RttResult {
    /// Percentile `p` in µs.
    pub fn pct_us(&self, p: f64) -> f64 {
        percentile_sorted(&self.sorted_ns, p)
            .map(|n| n as f64 / 1e3)
            .unwrap_or(f64::NAN)
    }

    /// Mean in µs.
    pub fn mean_us(&self) -> f64 {
        if self.sorted_ns.is_empty() {
            return f64::NAN;
        }
        self.sorted_ns.iter().sum::<u64>() as f64 / self.sorted_ns.len() as f64 / 1e3
    }
}

/// B's side: echo every ping of `run` back, until `stop`.
fn echo(
    b: &UmlClient,
    run: u32,
    max_frame: usize,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<()> {
    use std::sync::atomic::Ordering::SeqCst;
    let mut batch = RxBatch::new(max_frame);
    let mut reply = Vec::with_capacity(max_frame);
    while !stop.load(SeqCst) {
        if !poll_one(b.data_fd(), libc::POLLIN, Duration::from_millis(5))? {
            continue;
        }
        while recv_batch_from(b.data_fd(), &mut batch, None)? > 0 {
            for j in 0..batch.len() {
                let (f, truncated) = batch.frame(j);
                if truncated || frames::parse(f, run, Kind::Ping).is_none() {
                    continue;
                }
                reply.clear();
                reply.extend_from_slice(f);
                frames::turn_around(&mut reply, Kind::Pong);
                traffic::send_one(b, &reply)?;
            }
        }
    }
    Ok(())
}

/// Runs one RTT measurement.
pub fn run(target: &Target, p: &RttParams) -> Result<RttResult> {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let run = frames::next_run();
    let max_frame = p.size.max(64) + 64;
    let clients = traffic::connect(target, p.kind, 2)?;
    traffic::learn(&clients, run, max_frame)?;
    let (a, b) = (&clients[0], &clients[1]);
    let mut ping = frames::build(
        frames::mac(run, 1),
        frames::mac(run, 0),
        run,
        Kind::Ping,
        p.size,
    );
    let stop = AtomicBool::new(false);
    let mut samples = Vec::with_capacity(p.count as usize);
    let mut lost = 0u64;
    thread::scope(|s| -> Result<()> {
        let echoer = s.spawn(|| echo(b, run, max_frame, &stop));
        let result = (|| -> Result<()> {
            let mut batch = RxBatch::new(max_frame);
            for seq in 0..p.warmup + p.count {
                frames::set_seq(&mut ping, seq);
                let t = Instant::now();
                traffic::send_one(a, &ping)?;
                let deadline = t + p.timeout;
                let mut back = None;
                'wait: loop {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    if !poll_one(a.data_fd(), libc::POLLIN, deadline - now)? {
                        continue;
                    }
                    while recv_batch_from(a.data_fd(), &mut batch, None)? > 0 {
                        for j in 0..batch.len() {
                            let (f, truncated) = batch.frame(j);
                            if !truncated && frames::parse(f, run, Kind::Pong) == Some(seq) {
                                back = Some(t.elapsed());
                                break 'wait;
                            }
                        }
                    }
                }
                match back {
                    Some(d) if seq >= p.warmup => samples.push(d.as_nanos() as u64),
                    Some(_) => {}
                    None if seq >= p.warmup => lost += 1,
                    None => {}
                }
            }
            Ok(())
        })();
        stop.store(true, SeqCst);
        echoer
            .join()
            .map_err(|_| anyhow!("echo thread panicked"))?
            .context("echo thread")?;
        result
    })?;
    samples.sort_unstable();
    Ok(RttResult {
        sorted_ns: samples,
        lost,
    })
}
