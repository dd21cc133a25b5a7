//! Meters (OpenFlow 1.3 §5.7): per-flow rate limiting by token buckets.
//!
//! A meter has bands, each a rate (kilobits or packets per second) and a burst. Every band
//! keeps its own token bucket, filled at the band's rate up to its burst; a packet costs
//! its size in bits (or one packet) from each band whose bucket can pay, and *exceeds* the
//! bands whose buckets cannot. Of the exceeded bands the one with the highest rate applies
//! (the spec's "band with the highest rate lower than the measured rate"): `Drop` drops the
//! packet, `DscpRemark` raises its drop precedence. No exceeded band: the packet passes.
//!
//! Arithmetic is exact integers: a bucket holds `units × 10⁹` where a unit is a bit (kbps
//! meters) or a thousandth of a packet (pktps meters), so a band of rate `r` gains
//! `r × 1000` units a second, that is `elapsed_ns × r × 1000` scaled units, with no rounding
//! and no floating point. Buckets start full.
//!
//! The burst is the `burst_size` of the band when the meter has the `BURST` flag
//! (kilobits or packets), otherwise 100 ms at the band's rate, but at least one 1518-byte
//! frame (kbps) or one packet (pktps). Configuration is stored exactly as given, and meter
//! config statistics echo it, whatever was used internally.
//!
//! DSCP remark raises the drop precedence of Assured Forwarding code points (RFC 2597: AF
//! class 1–4 in the top three bits, drop precedence 1–3 in the next two) by `prec_level`,
//! saturating at 3; other code points (best effort, class selectors, EF) have no drop
//! precedence to raise and are left alone, as the reference switch (ofsoftswitch13) does.

use core::time::Duration;
use std::collections::HashMap;

use super::error::PipelineError;
use super::group::PacketCounts;
use super::table::{FlowRemovedReason, RemovedFlow};
use super::{Pipeline, METER_ALL, METER_MAX};

/// Meter flags (`ofp_meter_flags`), with their OpenFlow 1.3 bit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MeterFlags(pub u16);

impl MeterFlags {
    /// Rates in kilobits per second (the default when neither unit is set).
    pub const KBPS: MeterFlags = MeterFlags(1 << 0);
    /// Rates in packets per second.
    pub const PKTPS: MeterFlags = MeterFlags(1 << 1);
    /// Use the bands' `burst_size`.
    pub const BURST: MeterFlags = MeterFlags(1 << 2);
    /// Collect statistics (this pipeline always does).
    pub const STATS: MeterFlags = MeterFlags(1 << 3);
    /// Every flag this pipeline knows.
    pub const ALL: MeterFlags = MeterFlags(0xf);

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: MeterFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for MeterFlags {
    type Output = MeterFlags;

    fn bitor(self, rhs: MeterFlags) -> MeterFlags {
        MeterFlags(self.0 | rhs.0)
    }
}

/// What a band does to packets above its rate (`ofp_meter_band_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BandKind {
    /// Drop them (`OFPMBT_DROP`).
    Drop,
    /// Raise their DSCP drop precedence by `prec_level` (`OFPMBT_DSCP_REMARK`).
    DscpRemark {
        /// Drop precedence levels to add.
        prec_level: u8,
    },
    /// Another band type, by number (experimenter 0xffff included): refused with
    /// [`PipelineError::BadBand`].
    Other(u16),
}

impl BandKind {
    /// The OpenFlow band type number.
    pub fn number(self) -> u16 {
        match self {
            BandKind::Drop => 1,
            BandKind::DscpRemark { .. } => 2,
            BandKind::Other(n) => n,
        }
    }
}

/// One meter band (`ofp_meter_band_header` and its type's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Band {
    /// What happens above the rate.
    pub kind: BandKind,
    /// The rate, in kb/s or packets/s by the meter's flags; not zero.
    pub rate: u32,
    /// The burst, in kilobits or packets; used with [`MeterFlags::BURST`].
    pub burst_size: u32,
}

/// What a meter_mod does (`ofp_meter_mod_command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeterModCommand {
    /// Create a meter.
    Add,
    /// Replace a meter's flags and bands (its packet counts stay, its buckets refill).
    Modify,
    /// Remove a meter ([`METER_ALL`]: every meter) and the flows that use it.
    Delete,
}

/// A meter table change (`ofp_meter_mod`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeterMod {
    /// What to do.
    pub command: MeterModCommand,
    /// Units and burst use.
    pub flags: MeterFlags,
    /// The meter (1 to [`METER_MAX`]; [`METER_ALL`] for delete).
    pub meter_id: u32,
    /// The bands (ignored by delete).
    pub bands: Vec<Band>,
}

/// What a meter decided for one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Under every band's rate.
    Pass,
    /// A drop band applies.
    Drop,
    /// A DSCP remark band applies, with this precedence increase.
    Remark(u8),
}

/// A band's bucket and counters.
#[derive(Debug, Clone, Copy)]
struct BandState {
    /// Scaled units (see the module documentation).
    tokens: u128,
    capacity: u128,
    /// Scaled units gained per nanosecond: `rate × 1000`.
    per_ns: u128,
    counts: PacketCounts,
}

/// Scale of bucket contents: units × this.
const SCALE: u128 = 1_000_000_000;
/// The smallest default burst of a kbps band: one 1518-byte frame, in bits.
const MIN_BURST_BITS: u128 = 1518 * 8;

/// One meter: its configuration as given, its buckets and counters.
#[derive(Debug, Clone)]
pub(crate) struct Meter {
    pub(crate) flags: MeterFlags,
    pub(crate) bands: Vec<Band>,
    state: Vec<BandState>,
    last: Duration,
    pub(crate) input: PacketCounts,
    pub(crate) created: Duration,
}

impl Meter {
    fn new(m: &MeterMod, now: Duration) -> Self {
        let pktps = m.flags.contains(MeterFlags::PKTPS);
        let state = m
            .bands
            .iter()
            .map(|b| {
                let per_s = u128::from(b.rate) * 1000;
                let capacity_units = if m.flags.contains(MeterFlags::BURST) && b.burst_size > 0 {
                    u128::from(b.burst_size) * 1000
                } else {
                    let min = if pktps { 1000 } else { MIN_BURST_BITS };
                    (per_s / 10).max(min)
                };
                BandState {
                    tokens: capacity_units * SCALE,
                    capacity: capacity_units * SCALE,
                    per_ns: per_s,
                    counts: PacketCounts::default(),
                }
            })
            .collect();
        Meter {
            flags: m.flags,
            bands: m.bands.clone(),
            state,
            last: now,
            input: PacketCounts::default(),
            created: now,
        }
    }

    /// Meters one packet of `bytes` bytes at `now`.
    pub(crate) fn apply(&mut self, bytes: u64, now: Duration) -> Verdict {
        self.input.add(bytes);
        let elapsed = now.saturating_sub(self.last).as_nanos();
        self.last = self.last.max(now);
        let cost_units = if self.flags.contains(MeterFlags::PKTPS) {
            1000
        } else {
            u128::from(bytes) * 8
        };
        let cost = cost_units * SCALE;
        let mut chosen: Option<usize> = None;
        for (i, st) in self.state.iter_mut().enumerate() {
            st.tokens = st
                .tokens
                .saturating_add(elapsed.saturating_mul(st.per_ns))
                .min(st.capacity);
            if st.tokens >= cost {
                st.tokens -= cost;
            } else {
                let better = match chosen {
                    None => true,
                    Some(c) => self.bands[c].rate < self.bands[i].rate,
                };
                if better {
                    chosen = Some(i);
                }
            }
        }
        let Some(i) = chosen else {
            return Verdict::Pass;
        };
        self.state[i].counts.add(bytes);
        match self.bands[i].kind {
            BandKind::Drop => Verdict::Drop,
            BandKind::DscpRemark { prec_level } => Verdict::Remark(prec_level),
            BandKind::Other(_) => Verdict::Pass,
        }
    }

    /// Per band: packets and bytes the band applied to.
    pub(crate) fn band_counts(&self) -> impl Iterator<Item = PacketCounts> + '_ {
        self.state.iter().map(|s| s.counts)
    }
}

/// The meter table.
#[derive(Debug, Clone, Default)]
pub(crate) struct MeterTable {
    pub(crate) meters: HashMap<u32, Meter>,
}

impl MeterTable {
    /// Whether meter `id` exists.
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.meters.contains_key(&id)
    }

    /// Meters one packet; an unknown meter (none should be: flows using a meter go with
    /// it) passes everything.
    #[inline]
    pub(crate) fn apply(&mut self, id: u32, bytes: u64, now: Duration) -> Verdict {
        self.meters
            .get_mut(&id)
            .map_or(Verdict::Pass, |m| m.apply(bytes, now))
    }

    /// Every meter id, ascending.
    pub(crate) fn ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.meters.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

/// The DSCP after a remark band with `prec_level`: an AF code point's drop precedence
/// raised (saturating at 3); any other code point unchanged.
pub fn remark_dscp(dscp: u8, prec_level: u8) -> u8 {
    let class = (dscp >> 3) & 0x7;
    let precedence = (dscp >> 1) & 0x3;
    let is_af = (1..=4).contains(&class) && precedence != 0 && dscp & 1 == 0;
    if !is_af {
        return dscp;
    }
    let raised = precedence.saturating_add(prec_level).min(3);
    (class << 3) | (raised << 1)
}

impl Pipeline {
    /// Applies a meter_mod (OpenFlow 1.3 §5.7 and §7.3.4.5) at `now`. A delete returns the
    /// flows removed because they used a deleted meter (reason
    /// [`FlowRemovedReason::MeterDelete`]; OpenFlow 1.3 agents report it as `DELETE`).
    ///
    /// Errors: id 0 or reserved ([`PipelineError::InvalidMeter`]), add of an existing id
    /// ([`PipelineError::MeterExists`]), modify of a missing one
    /// ([`PipelineError::UnknownMeter`]), both units or unknown flags
    /// ([`PipelineError::BadMeterFlags`]), a zero rate ([`PipelineError::BadRate`]), an
    /// unknown band type ([`PipelineError::BadBand`]), and the table's limits.
    pub fn meter_mod(
        &mut self,
        m: &MeterMod,
        now: Duration,
    ) -> Result<Vec<RemovedFlow>, PipelineError> {
        let id = m.meter_id;
        if m.command == MeterModCommand::Delete {
            let doomed: Vec<u32> = if id == METER_ALL {
                self.meters.ids()
            } else if self.meters.contains(id) {
                vec![id]
            } else {
                return Ok(Vec::new());
            };
            for d in &doomed {
                self.meters.meters.remove(d);
            }
            let removed = self.remove_flows_where(FlowRemovedReason::MeterDelete, now, |ins| {
                ins.meter.is_some_and(|mid| doomed.contains(&mid))
            });
            self.bump();
            return Ok(removed);
        }
        if id == 0 || id > METER_MAX {
            return Err(PipelineError::InvalidMeter { meter_id: id });
        }
        let flags = m.flags;
        if flags.0 & !MeterFlags::ALL.0 != 0 || flags.contains(MeterFlags::KBPS | MeterFlags::PKTPS)
        {
            return Err(PipelineError::BadMeterFlags { flags: flags.0 });
        }
        if m.bands.len() > usize::from(self.config.max_bands) {
            return Err(PipelineError::OutOfBands);
        }
        for b in &m.bands {
            if let BandKind::Other(n) = b.kind {
                return Err(PipelineError::BadBand { band_type: n });
            }
            if b.rate == 0 {
                return Err(PipelineError::BadRate);
            }
        }
        let exists = self.meters.contains(id);
        match m.command {
            MeterModCommand::Add if exists => {
                return Err(PipelineError::MeterExists { meter_id: id })
            }
            MeterModCommand::Add if self.meters.meters.len() >= self.config.max_meters => {
                return Err(PipelineError::OutOfMeters)
            }
            MeterModCommand::Modify if !exists => {
                return Err(PipelineError::UnknownMeter { meter_id: id })
            }
            _ => {}
        }
        let mut meter = Meter::new(m, now);
        if let Some(old) = self.meters.meters.get(&id) {
            meter.input = old.input;
            meter.created = old.created;
        }
        self.meters.meters.insert(id, meter);
        self.bump();
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(flags: MeterFlags, bands: Vec<Band>) -> Meter {
        let m = MeterMod {
            command: MeterModCommand::Add,
            flags,
            meter_id: 1,
            bands,
        };
        Meter::new(&m, Duration::ZERO)
    }

    fn drop_band(rate: u32, burst_size: u32) -> Band {
        Band {
            kind: BandKind::Drop,
            rate,
            burst_size,
        }
    }

    /// Sends `pps` packets of `bytes` for `secs` seconds, evenly spaced; returns how many
    /// passed.
    fn run(m: &mut Meter, start: Duration, pps: u64, bytes: u64, secs: u64) -> u64 {
        let gap = Duration::from_nanos(1_000_000_000 / pps);
        (0..pps * secs)
            .filter(|i| m.apply(bytes, start + gap * (*i as u32)) == Verdict::Pass)
            .count() as u64
    }

    #[test]
    fn pktps_drop_limits_to_the_rate() {
        let mut m = meter(MeterFlags::PKTPS, vec![drop_band(100, 0)]);
        // 200 packets a second for 10 s: about 100 a second pass (plus the first burst).
        let passed = run(&mut m, Duration::ZERO, 200, 1500, 10);
        assert!((1000..=1012).contains(&passed), "passed {passed}");
        assert_eq!(m.input.packets, 2000);
        let band = m.band_counts().next().unwrap();
        assert_eq!(band.packets, 2000 - passed);
        assert_eq!(band.bytes, band.packets * 1500);
        // Below the rate nothing is dropped.
        let mut m = meter(MeterFlags::PKTPS, vec![drop_band(100, 0)]);
        assert_eq!(run(&mut m, Duration::ZERO, 50, 64, 10), 500);
    }

    #[test]
    fn kbps_drop_limits_to_the_rate() {
        // 1 Mb/s meter, 2 Mb/s of 1500-byte frames (about 167 frames/s).
        let mut m = meter(MeterFlags::KBPS, vec![drop_band(1000, 0)]);
        let passed = run(&mut m, Duration::ZERO, 167, 1500, 20);
        let kbps = passed * 1500 * 8 / 20 / 1000;
        assert!((990..=1010).contains(&kbps), "{kbps} kb/s passed");
    }

    #[test]
    fn burst_is_honoured_when_flagged() {
        let burst = |flags, size| {
            let mut m = meter(flags, vec![drop_band(10, size)]);
            // A burst of 100 packets at one instant: the bucket decides alone.
            (0..100)
                .filter(|_| m.apply(100, Duration::from_secs(1)) == Verdict::Pass)
                .count()
        };
        assert_eq!(burst(MeterFlags::PKTPS | MeterFlags::BURST, 40), 40);
        // Without the flag the configured size is ignored: 100 ms at 10 pkt/s is below
        // the one-packet minimum.
        assert_eq!(burst(MeterFlags::PKTPS, 40), 1);
    }

    #[test]
    fn highest_exceeded_band_applies() {
        let remark = Band {
            kind: BandKind::DscpRemark { prec_level: 1 },
            rate: 100,
            burst_size: 0,
        };
        let mut m = meter(MeterFlags::PKTPS, vec![drop_band(200, 0), remark]);
        let gap = Duration::from_micros(2500); // 400 pkt/s
        let verdicts: Vec<_> = (0..4000u32).map(|i| m.apply(64, gap * i)).collect();
        let count = |v| verdicts.iter().filter(|x| **x == v).count();
        // ~100/s pass, ~100/s remarked (between the rates), ~200/s dropped.
        assert!(
            (990..=1030).contains(&count(Verdict::Pass)),
            "{}",
            count(Verdict::Pass)
        );
        assert!((950..=1050).contains(&count(Verdict::Remark(1))));
        assert!((1950..=2050).contains(&count(Verdict::Drop)));
    }

    #[test]
    fn clock_going_backwards_does_not_refill() {
        let mut m = meter(MeterFlags::PKTPS | MeterFlags::BURST, vec![drop_band(1, 1)]);
        assert_eq!(m.apply(1, Duration::from_secs(10)), Verdict::Pass);
        assert_eq!(m.apply(1, Duration::from_secs(5)), Verdict::Drop);
        assert_eq!(m.apply(1, Duration::from_secs(10)), Verdict::Drop);
        assert_eq!(m.apply(1, Duration::from_secs(11)), Verdict::Pass);
    }

    #[test]
    fn dscp_remark_values() {
        // AF11 (10) → AF12 (12) → AF13 (14), saturating.
        assert_eq!(remark_dscp(10, 1), 12);
        assert_eq!(remark_dscp(10, 2), 14);
        assert_eq!(remark_dscp(12, 1), 14);
        assert_eq!(remark_dscp(14, 1), 14);
        assert_eq!(remark_dscp(34, 9), 38); // AF41 → AF43
                                            // Not AF: unchanged.
        for dscp in [0u8, 8, 24, 46, 48, 56, 11] {
            assert_eq!(remark_dscp(dscp, 1), dscp);
        }
    }
}
