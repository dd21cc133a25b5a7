//! Counting: per-switch tallies, one snapshot of every switch per second, and the rates
//! of the one-second intervals between snapshots.
//!
//! The workers add to shared atomic counters once per batch of messages; the sampler
//! copies all of them at (about) every whole second since the load started. An interval's
//! rate is its count difference over its measured length, so a late snapshot does not
//! inflate a rate. The first `warmup` intervals are dropped; the figures reported are the
//! medians over the remaining intervals (of the total, and of each switch).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::stats::median;

/// What one switch (or all of them) sent and received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// FLOW_MODs received (flow setups).
    pub flow_mods: u64,
    /// PACKET_OUTs received.
    pub packet_outs: u64,
    /// Other messages received.
    pub other: u64,
    /// OFPT_ERRORs received (also in `other`).
    pub errors: u64,
    /// PACKET_INs sent.
    pub packet_ins: u64,
    /// Completed round trips (latency mode).
    pub rtts: u64,
    /// Sum of their durations, ns.
    pub rtt_ns: u64,
    /// Round trips given up (latency mode).
    pub timeouts: u64,
}

impl Tally {
    /// Field-wise sum.
    pub fn add(&mut self, o: &Tally) {
        self.flow_mods += o.flow_mods;
        self.packet_outs += o.packet_outs;
        self.other += o.other;
        self.errors += o.errors;
        self.packet_ins += o.packet_ins;
        self.rtts += o.rtts;
        self.rtt_ns += o.rtt_ns;
        self.timeouts += o.timeouts;
    }

    /// Field-wise difference `self - earlier` (saturating).
    pub fn since(&self, earlier: &Tally) -> Tally {
        Tally {
            flow_mods: self.flow_mods.saturating_sub(earlier.flow_mods),
            packet_outs: self.packet_outs.saturating_sub(earlier.packet_outs),
            other: self.other.saturating_sub(earlier.other),
            errors: self.errors.saturating_sub(earlier.errors),
            packet_ins: self.packet_ins.saturating_sub(earlier.packet_ins),
            rtts: self.rtts.saturating_sub(earlier.rtts),
            rtt_ns: self.rtt_ns.saturating_sub(earlier.rtt_ns),
            timeouts: self.timeouts.saturating_sub(earlier.timeouts),
        }
    }

    /// Flow mods plus packet outs: what cbench counts.
    pub fn responses(&self) -> u64 {
        self.flow_mods + self.packet_outs
    }
}

/// A switch's counters, shared between its worker and the sampler.
#[derive(Debug, Default)]
pub struct SharedTally {
    flow_mods: AtomicU64,
    packet_outs: AtomicU64,
    other: AtomicU64,
    errors: AtomicU64,
    packet_ins: AtomicU64,
    rtts: AtomicU64,
    rtt_ns: AtomicU64,
    timeouts: AtomicU64,
}

impl SharedTally {
    /// Adds a local tally and clears it.
    pub fn flush(&self, t: &mut Tally) {
        if *t == Tally::default() {
            return;
        }
        let pairs = [
            (&self.flow_mods, t.flow_mods),
            (&self.packet_outs, t.packet_outs),
            (&self.other, t.other),
            (&self.errors, t.errors),
            (&self.packet_ins, t.packet_ins),
            (&self.rtts, t.rtts),
            (&self.rtt_ns, t.rtt_ns),
            (&self.timeouts, t.timeouts),
        ];
        for (a, v) in pairs {
            if v != 0 {
                a.fetch_add(v, Ordering::Relaxed);
            }
        }
        *t = Tally::default();
    }

    /// The current values.
    pub fn load(&self) -> Tally {
        Tally {
            flow_mods: self.flow_mods.load(Ordering::Relaxed),
            packet_outs: self.packet_outs.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            packet_ins: self.packet_ins.load(Ordering::Relaxed),
            rtts: self.rtts.load(Ordering::Relaxed),
            rtt_ns: self.rtt_ns.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
        }
    }
}

/// Every switch's counters at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Seconds since the load started.
    pub at: f64,
    /// One tally per switch.
    pub switches: Vec<Tally>,
}

/// One interval between two snapshots.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// Start, seconds since the load started.
    pub start: f64,
    /// Length, seconds.
    pub secs: f64,
    /// Per switch: what happened in the interval.
    pub switches: Vec<Tally>,
}

impl Interval {
    /// All switches together.
    pub fn total(&self) -> Tally {
        let mut t = Tally::default();
        for s in &self.switches {
            t.add(s);
        }
        t
    }

    /// `pick(total) / secs`.
    pub fn rate(&self, pick: impl Fn(&Tally) -> u64) -> f64 {
        pick(&self.total()) as f64 / self.secs
    }
}

/// The intervals between consecutive snapshots (those of zero length are skipped).
pub fn intervals(snaps: &[Snapshot]) -> Vec<Interval> {
    snaps
        .windows(2)
        .filter(|w| w[1].at > w[0].at)
        .map(|w| Interval {
            start: w[0].at,
            secs: w[1].at - w[0].at,
            switches: w[1]
                .switches
                .iter()
                .zip(&w[0].switches)
                .map(|(b, a)| b.since(a))
                .collect(),
        })
        .collect()
}

/// The figures of one measurement, from the intervals after the warm-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Intervals used.
    pub intervals: usize,
    /// Seconds they cover.
    pub secs: f64,
    /// Median over intervals of flow_mods/s, all switches.
    pub flow_mods_per_s: f64,
    /// Median over intervals of packet_outs/s, all switches.
    pub packet_outs_per_s: f64,
    /// Median over intervals of (flow_mods + packet_outs)/s: cbench's figure.
    pub responses_per_s: f64,
    /// Median over intervals of packet_ins sent/s.
    pub packet_ins_per_s: f64,
    /// Lowest and highest interval flow_mods/s.
    pub flow_mods_range: (f64, f64),
    /// Per switch: median over intervals of its flow_mods/s.
    pub per_switch_flow_mods: Vec<f64>,
    /// Per switch: median over intervals of its packet_outs/s.
    pub per_switch_packet_outs: Vec<f64>,
    /// Everything counted in the used intervals.
    pub total: Tally,
    /// Mean round trip, µs (latency mode: completed round trips only).
    pub mean_rtt_us: Option<f64>,
}

/// Summarises the intervals after dropping the first `warmup`.
pub fn summarize(all: &[Interval], warmup: usize) -> Summary {
    let used = all.get(warmup..).unwrap_or(&[]);
    if used.is_empty() {
        return Summary::default();
    }
    let rates =
        |pick: fn(&Tally) -> u64| -> Vec<f64> { used.iter().map(|i| i.rate(pick)).collect() };
    let fm = rates(|t| t.flow_mods);
    let switches = used.iter().map(|i| i.switches.len()).max().unwrap_or(0);
    let per_switch = |pick: fn(&Tally) -> u64| -> Vec<f64> {
        (0..switches)
            .map(|s| {
                let v: Vec<f64> = used
                    .iter()
                    .filter_map(|i| i.switches.get(s).map(|t| pick(t) as f64 / i.secs))
                    .collect();
                median(&v).unwrap_or(0.0)
            })
            .collect()
    };
    let mut total = Tally::default();
    for i in used {
        total.add(&i.total());
    }
    Summary {
        intervals: used.len(),
        secs: used.iter().map(|i| i.secs).sum(),
        flow_mods_per_s: median(&fm).unwrap_or(0.0),
        packet_outs_per_s: median(&rates(|t| t.packet_outs)).unwrap_or(0.0),
        responses_per_s: median(&rates(Tally::responses)).unwrap_or(0.0),
        packet_ins_per_s: median(&rates(|t| t.packet_ins)).unwrap_or(0.0),
        flow_mods_range: (
            fm.iter().copied().fold(f64::INFINITY, f64::min),
            fm.iter().copied().fold(0.0, f64::max),
        ),
        per_switch_flow_mods: per_switch(|t| t.flow_mods),
        per_switch_packet_outs: per_switch(|t| t.packet_outs),
        mean_rtt_us: (total.rtts > 0).then(|| total.rtt_ns as f64 / total.rtts as f64 / 1e3),
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(flow_mods: u64, packet_outs: u64, packet_ins: u64) -> Tally {
        Tally {
            flow_mods,
            packet_outs,
            packet_ins,
            ..Tally::default()
        }
    }

    #[test]
    fn shared_tally_accumulates_and_clears_the_local_one() {
        let s = SharedTally::default();
        let mut t = Tally {
            flow_mods: 3,
            rtt_ns: 10,
            rtts: 1,
            ..Tally::default()
        };
        s.flush(&mut t);
        assert_eq!(t, Tally::default());
        let mut t2 = tally(2, 5, 9);
        s.flush(&mut t2);
        let got = s.load();
        assert_eq!(got.flow_mods, 5);
        assert_eq!(got.packet_outs, 5);
        assert_eq!(got.packet_ins, 9);
        assert_eq!(got.rtt_ns, 10);
        assert_eq!(got.responses(), 10);
        assert_eq!(got.since(&tally(1, 1, 1)).flow_mods, 4);
        assert_eq!(tally(1, 0, 0).since(&tally(3, 0, 0)).flow_mods, 0);
    }

    #[test]
    fn intervals_are_differences_over_measured_lengths() {
        let snaps = vec![
            Snapshot {
                at: 0.0,
                switches: vec![tally(0, 0, 0), tally(0, 0, 0)],
            },
            Snapshot {
                at: 1.0,
                switches: vec![tally(100, 10, 200), tally(300, 0, 300)],
            },
            // A late snapshot: 1.5 s long; its rate is not inflated.
            Snapshot {
                at: 2.5,
                switches: vec![tally(250, 25, 500), tally(600, 0, 750)],
            },
            Snapshot {
                at: 2.5,
                switches: vec![tally(250, 25, 500), tally(600, 0, 750)],
            },
        ];
        let iv = intervals(&snaps);
        assert_eq!(iv.len(), 2);
        assert_eq!(iv[0].total(), tally(400, 10, 500));
        assert_eq!(iv[0].rate(|t| t.flow_mods), 400.0);
        assert_eq!(iv[1].secs, 1.5);
        assert_eq!(iv[1].switches[0], tally(150, 15, 300));
        assert_eq!(iv[1].rate(|t| t.flow_mods), 300.0);
    }

    #[test]
    fn summary_drops_warmup_and_takes_medians() {
        let mk = |a: u64, b: u64| Interval {
            start: 0.0,
            secs: 1.0,
            switches: vec![tally(a, 1, a + 1), tally(b, 0, b)],
        };
        // Warm-up interval is huge; it must not count.
        let iv = vec![mk(1_000_000, 0), mk(10, 20), mk(30, 40), mk(20, 100)];
        let s = summarize(&iv, 1);
        assert_eq!(s.intervals, 3);
        assert_eq!(s.secs, 3.0);
        // Totals per interval: 30, 70, 120 → median 70.
        assert_eq!(s.flow_mods_per_s, 70.0);
        assert_eq!(s.flow_mods_range, (30.0, 120.0));
        assert_eq!(s.packet_outs_per_s, 1.0);
        assert_eq!(s.responses_per_s, 71.0);
        assert_eq!(s.per_switch_flow_mods, vec![20.0, 40.0]);
        assert_eq!(s.per_switch_packet_outs, vec![1.0, 0.0]);
        assert_eq!(s.total.flow_mods, 220);
        assert_eq!(s.mean_rtt_us, None);
        assert_eq!(summarize(&iv, 4), Summary::default());
        assert_eq!(summarize(&iv, 9), Summary::default());
    }

    #[test]
    fn mean_round_trip() {
        let iv = vec![Interval {
            start: 0.0,
            secs: 1.0,
            switches: vec![Tally {
                rtts: 4,
                rtt_ns: 200_000,
                ..Tally::default()
            }],
        }];
        assert_eq!(summarize(&iv, 0).mean_rtt_us, Some(50.0));
    }
}
