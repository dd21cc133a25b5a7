//! Scenario (d): UML-like clients at a fixed offered rate, and the no-drop rate search.
//!
//! Both ports use unconnected data sockets, as UML's daemon transport does, so each one's
//! receive queue is capped at `net.unix.max_dgram_qlen` datagrams: a switch that forwards a
//! burst faster than the receiver reads, without queueing it itself, loses frames. The
//! sender offers frames on a fixed schedule (frame i is due at i / rate), in small batches
//! (`sendmmsg` of b frames every b / rate seconds, at least `--burst-gap-us` (50) µs apart up to `burst`
//! frames), sleeping with 1 ns timer slack and spinning the last few µs. When the sender
//! itself was held up (descheduled) by more than two batches, it does not make up for it
//! with a burst: the schedule slips, which shows as an offered rate below the target. Like UML, a frame
//! the switch's socket refuses (EAGAIN) is dropped and counted, never retried. The
//! receiver reads as fast as it can (`recvmmsg`, blocking in `poll` only when empty).

use std::os::fd::RawFd;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use flowlab_datapath::port::BATCH;

use crate::cpu::{self, CpuDelta};
use crate::frames::{self, Kind};
use crate::traffic::{self, ClientKind, RxShared, Target};

/// Parameters of one fixed-rate run.
#[derive(Clone, Debug)]
pub struct RateParams {
    /// Offered frames per second.
    pub rate: f64,
    /// Seconds of sending.
    pub secs: f64,
    /// Frame size.
    pub size: usize,
    /// Most frames per `sendmmsg`.
    pub burst: usize,
    /// Least time between two batches, in µs (batches grow up to `burst` to keep it).
    pub burst_gap_us: f64,
    /// Client style (UML-like by default).
    pub kind: ClientKind,
}

/// What one fixed-rate run measured.
#[derive(Clone, Debug)]
pub struct RateResult {
    /// The asked rate, frames/s.
    pub target: f64,
    /// Frames offered (handed to `sendmmsg`).
    pub offered: u64,
    /// Offered frames the switch's socket refused (EAGAIN or error); dropped like UML does.
    pub refused: u64,
    /// Frames the receiver counted.
    pub delivered: u64,
    /// Times the sender fell behind its schedule by more than two batches (and 200 µs) and
    /// let the schedule slip rather than catch up with a burst.
    pub slips: u64,
    /// First to last offer, seconds.
    pub send_secs: f64,
    /// Switch CPU over the run.
    pub cpu: CpuDelta,
}

impl RateResult {
    /// The rate actually offered, frames/s.
    pub fn achieved(&self) -> f64 {
        if self.send_secs > 0.0 {
            self.offered as f64 / self.send_secs
        } else {
            f64::NAN
        }
    }

    /// Frames lost (refused at send or lost after), % of offered.
    pub fn loss_pct(&self) -> f64 {
        if self.offered == 0 {
            return f64::NAN;
        }
        100.0 * self.offered.saturating_sub(self.delivered) as f64 / self.offered as f64
    }

    /// Frames refused at send, % of offered.
    pub fn refused_pct(&self) -> f64 {
        if self.offered == 0 {
            return f64::NAN;
        }
        100.0 * self.refused as f64 / self.offered as f64
    }

    /// Switch CPU µs per delivered frame.
    pub fn cpu_per_frame(&self) -> f64 {
        if self.delivered == 0 {
            return f64::NAN;
        }
        self.cpu.stat_us / self.delivered as f64
    }
}

/// Sets the calling thread's timer slack (ns); returns the previous value.
fn set_timer_slack(ns: libc::c_ulong) -> libc::c_ulong {
    // SAFETY: prctl with integer arguments.
    unsafe {
        let old = libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0);
        libc::prctl(libc::PR_SET_TIMERSLACK, ns, 0, 0, 0);
        old.max(1) as libc::c_ulong
    }
}

/// Waits until `deadline_ns` after `start`: sleeps while more than 15 µs remain, then spins.
fn wait_until(start: Instant, deadline_ns: u64) {
    loop {
        let now = start.elapsed().as_nanos() as u64;
        if now >= deadline_ns {
            return;
        }
        let left = deadline_ns - now;
        if left > 15_000 {
            thread::sleep(Duration::from_nanos(left - 10_000));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Frames per batch at `rate`: enough for batches ≥ `gap_us` apart, at most `burst`.
pub fn batch_for(rate: f64, burst: usize, gap_us: f64) -> u64 {
    ((rate * gap_us * 1e-6).ceil() as u64).clamp(1, burst.clamp(1, BATCH) as u64)
}

/// Runs one fixed-rate measurement.
pub fn run(target: &Target, p: &RateParams) -> Result<RateResult> {
    if p.rate.is_nan() || p.rate <= 0.0 {
        return Err(anyhow!("rate must be positive"));
    }
    let run = frames::next_run();
    let max_frame = p.size.max(64) + 64;
    let clients = traffic::connect(target, p.kind, 2)?;
    traffic::learn(&clients, run, max_frame)?;
    let frame = frames::build(
        frames::mac(run, 1),
        frames::mac(run, 0),
        run,
        Kind::Data,
        p.size,
    );
    let mut bufs: Vec<Vec<u8>> = vec![frame; BATCH];
    let fds: [RawFd; 1] = [clients[1].data_fd()];
    let sender = &clients[0];
    let total = (p.rate * p.secs).round().max(1.0) as u64;
    let ns_per = 1e9 / p.rate;
    let b = batch_for(p.rate, p.burst, p.burst_gap_us);
    let base = Instant::now();
    let shared = RxShared::new(1, base);

    let old_slack = set_timer_slack(1);
    let cpu0 = cpu::sample(target.pid).context("reading the switch's CPU time")?;
    let outcome = thread::scope(|s| -> Result<(u64, u64, u64, f64)> {
        let rx = s.spawn(|| traffic::receive_loop(&fds, run, Kind::Data, max_frame, &shared, None));
        let result = (|| -> Result<(u64, u64, u64, f64)> {
            let (mut offered, mut refused, mut slips) = (0u64, 0u64, 0u64);
            let start = Instant::now();
            // Lateness beyond this is not made up with a burst: the schedule slips instead.
            let max_lag = (2.0 * b as f64 * ns_per).max(200_000.0) as u64;
            let mut shift = 0u64;
            while offered < total {
                let k = b.min(total - offered);
                let due = shift + ((offered + k - 1) as f64 * ns_per) as u64;
                wait_until(start, due);
                let now = start.elapsed().as_nanos() as u64;
                if now > due + max_lag {
                    shift += now - due;
                    slips += 1;
                }
                for (i, f) in bufs.iter_mut().take(k as usize).enumerate() {
                    frames::set_seq(f, offered + i as u64);
                }
                let mut refs: [&[u8]; BATCH] = [&[]; BATCH];
                for (r, f) in refs.iter_mut().zip(&bufs) {
                    *r = f.as_slice();
                }
                let mut errors = 0;
                let taken = sender
                    .send_many(&refs[..k as usize], &mut errors)
                    .context("sending")? as u64;
                refused += (k - taken) + errors;
                offered += k;
            }
            let send_secs = start.elapsed().as_secs_f64();
            traffic::wait_delivery(&shared, offered - refused, Duration::from_millis(200));
            Ok((offered, refused, slips, send_secs))
        })();
        shared.stop();
        rx.join()
            .map_err(|_| anyhow!("receiver thread panicked"))?
            .context("receiving")?;
        result
    });
    set_timer_slack(old_slack);
    let (offered, refused, slips, send_secs) = outcome?;
    let cpu1 = cpu::sample(target.pid).context("reading the switch's CPU time")?;
    Ok(RateResult {
        target: p.rate,
        offered,
        refused,
        delivered: shared.total(),
        slips,
        send_secs,
        cpu: cpu1.since(&cpu0),
    })
}

/// One probe of the search.
#[derive(Clone, Debug)]
pub struct Probe {
    /// Offered rate asked, frames/s.
    pub rate: f64,
    /// Loss %.
    pub loss_pct: f64,
    /// Rate actually offered.
    pub achieved: f64,
    /// Within the loss threshold.
    pub pass: bool,
}

/// Result of a no-drop rate search.
#[derive(Clone, Debug)]
pub struct SearchOutcome {
    /// Highest passing rate probed; `None` if even the bottom of the range failed.
    pub rate: Option<f64>,
    /// Every probe, in order.
    pub probes: Vec<Probe>,
    /// How the search ended.
    pub note: String,
}

/// Search parameters.
#[derive(Clone, Debug)]
pub struct SearchParams {
    /// Bottom of the range, frames/s.
    pub lo: f64,
    /// Top of the range, frames/s.
    pub hi: f64,
    /// Most loss (%) that still passes.
    pub threshold_pct: f64,
    /// Stop when hi / lo ≤ 1 + this.
    pub tolerance: f64,
    /// Most probes.
    pub max_probes: usize,
}

/// Rounds a rate to 3 significant digits, so probes have readable rates.
pub fn round_rate(r: f64) -> f64 {
    if r <= 0.0 || !r.is_finite() {
        return r;
    }
    let mag = 10f64.powi(r.log10().floor() as i32 - 2);
    (r / mag).round() * mag
}

/// Binary search (geometric midpoints) for the highest rate at which `probe` loses at most
/// `threshold_pct` %. `probe(rate)` runs one fixed-rate measurement.
pub fn search(
    sp: &SearchParams,
    mut probe: impl FnMut(f64) -> Result<RateResult>,
    mut progress: impl FnMut(&Probe),
) -> Result<SearchOutcome> {
    let mut probes = Vec::new();
    let mut test = |rate: f64, probes: &mut Vec<Probe>| -> Result<bool> {
        let r = probe(rate)?;
        let loss = r.loss_pct();
        let pr = Probe {
            rate,
            loss_pct: loss,
            achieved: r.achieved(),
            pass: loss <= sp.threshold_pct,
        };
        progress(&pr);
        let pass = pr.pass;
        probes.push(pr);
        Ok(pass)
    };
    let (mut lo, mut hi) = (sp.lo, sp.hi);
    if !test(lo, &mut probes)? {
        return Ok(SearchOutcome {
            rate: None,
            probes,
            note: format!("loses more than the threshold at {lo} fps, the bottom of the range"),
        });
    }
    if test(hi, &mut probes)? {
        return Ok(SearchOutcome {
            rate: Some(hi),
            probes,
            note: format!("no loss up to {hi} fps, the top of the range"),
        });
    }
    while hi / lo > 1.0 + sp.tolerance && probes.len() < sp.max_probes {
        let mid = round_rate((lo * hi).sqrt());
        if mid <= lo || mid >= hi {
            break;
        }
        if test(mid, &mut probes)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(SearchOutcome {
        rate: Some(lo),
        probes,
        note: format!("passes at {lo} fps, fails at {hi} fps"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(rate: f64, limit: f64) -> RateResult {
        let offered = 100_000;
        let delivered = if rate <= limit { offered } else { offered / 2 };
        RateResult {
            target: rate,
            offered,
            refused: 0,
            delivered,
            slips: 0,
            send_secs: 1.0,
            cpu: CpuDelta::default(),
        }
    }

    #[test]
    fn search_converges_on_the_limit() {
        let sp = SearchParams {
            lo: 10_000.0,
            hi: 1_000_000.0,
            threshold_pct: 0.1,
            tolerance: 0.05,
            max_probes: 20,
        };
        let out = search(&sp, |r| Ok(fake(r, 123_456.0)), |_| {}).unwrap();
        let rate = out.rate.unwrap();
        assert!(rate <= 123_456.0 && rate > 123_456.0 / 1.06, "{rate}");
        let out = search(&sp, |r| Ok(fake(r, 5_000.0)), |_| {}).unwrap();
        assert_eq!(out.rate, None);
        let out = search(&sp, |r| Ok(fake(r, 5e6)), |_| {}).unwrap();
        assert_eq!(out.rate, Some(1_000_000.0));
        assert_eq!(out.probes.len(), 2);
    }

    #[test]
    fn rounding_and_batches() {
        assert_eq!(round_rate(123_456.0), 123_000.0);
        assert_eq!(round_rate(99_949.0), 99_900.0);
        assert_eq!(batch_for(10_000.0, 8, 50.0), 1);
        assert_eq!(batch_for(100_000.0, 8, 50.0), 5);
        assert_eq!(batch_for(1e6, 8, 50.0), 8);
        assert_eq!(batch_for(1e6, 100, 50.0), BATCH as u64);
        assert_eq!(batch_for(50_000.0, 32, 640.0), 32);
    }
}
