//! Statistics and features: flow, aggregate, table, group, meter.

use core::time::Duration;
use std::collections::HashMap;

use crate::actions::Action;
use crate::classifier::{FlowEntry, FlowFlags, Match};

use super::error::PipelineError;
use super::group::{Bucket, GroupType, PacketCounts};
use super::instructions::Instructions;
use super::meter::{Band, MeterFlags};
use super::{Pipeline, GROUP_ALL, GROUP_ANY, METER_ALL, METER_MAX, PORT_ANY, TABLE_ALL};

/// Which flows a flow or aggregate statistics request covers (`ofp_flow_stats_request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowStatsRequest {
    /// One table, or [`TABLE_ALL`].
    pub table_id: u8,
    /// Only flows with an output to this port ([`PORT_ANY`]: all).
    pub out_port: u32,
    /// Only flows with a group action to this group ([`GROUP_ANY`]: all).
    pub out_group: u32,
    /// Only flows whose cookie equals this on the bits of `cookie_mask`.
    pub cookie: u64,
    /// See `cookie` (0: all).
    pub cookie_mask: u64,
    /// Only flows at least as specific as this match (non-strict).
    pub flow_match: Match,
}

impl Default for FlowStatsRequest {
    /// Every flow of every table.
    fn default() -> Self {
        FlowStatsRequest {
            table_id: TABLE_ALL,
            out_port: PORT_ANY,
            out_group: GROUP_ANY,
            cookie: 0,
            cookie_mask: 0,
            flow_match: Match::catchall(),
        }
    }
}

impl FlowStatsRequest {
    fn accepts(&self, e: &FlowEntry<Instructions>) -> bool {
        e.cookie_matches(self.cookie, self.cookie_mask)
            && e.actions().outputs_to(self.out_port)
            && e.actions().uses_group(self.out_group)
    }
}

/// One flow's statistics (`ofp_flow_stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowStats {
    /// Its table.
    pub table_id: u8,
    /// How long it has existed.
    pub duration: Duration,
    /// Its priority.
    pub priority: u16,
    /// Its idle timeout.
    pub idle_timeout: Duration,
    /// Its hard timeout.
    pub hard_timeout: Duration,
    /// Its flags.
    pub flags: FlowFlags,
    /// Its cookie.
    pub cookie: u64,
    /// Packets matched.
    pub packet_count: u64,
    /// Bytes matched.
    pub byte_count: u64,
    /// Its match.
    pub flow_match: Match,
    /// Its instructions.
    pub instructions: Instructions,
}

/// Totals over the flows a request covers (`ofp_aggregate_stats_reply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AggregateStats {
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Flows.
    pub flow_count: u32,
}

/// One table's statistics (`ofp_table_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableStats {
    /// The table.
    pub table_id: u8,
    /// Flows in it.
    pub active_count: u32,
    /// Packets looked up in it.
    pub lookup_count: u64,
    /// Packets that matched a flow in it.
    pub matched_count: u64,
}

/// One group's statistics (`ofp_group_stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStats {
    /// The group.
    pub group_id: u32,
    /// Flows and groups that forward to it.
    pub ref_count: u32,
    /// Packets and bytes through it.
    pub counts: PacketCounts,
    /// How long it has existed.
    pub duration: Duration,
    /// Per bucket, packets and bytes.
    pub buckets: Vec<PacketCounts>,
}

/// One group's description (`ofp_group_desc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDesc {
    /// The group.
    pub group_id: u32,
    /// Its type.
    pub group_type: GroupType,
    /// Its buckets, as configured.
    pub buckets: Vec<Bucket>,
}

/// What the group table supports (`ofp_group_features`): bitmaps with OpenFlow's bit
/// numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupFeatures {
    /// Group types, bit `1 << OFPGT_*`.
    pub types: u32,
    /// `OFPGFC_SELECT_WEIGHT | OFPGFC_SELECT_LIVENESS | OFPGFC_CHAINING |
    /// OFPGFC_CHAINING_CHECKS`.
    pub capabilities: u32,
    /// Groups at most, per type (all, select, indirect, fast failover).
    pub max_groups: [u32; 4],
    /// Actions supported in buckets, per type, bit `1 << OFPAT_*`.
    pub actions: [u32; 4],
}

/// One meter's statistics (`ofp_meter_stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterStats {
    /// The meter.
    pub meter_id: u32,
    /// Flows that use it.
    pub flow_count: u32,
    /// Packets and bytes that entered it.
    pub input: PacketCounts,
    /// How long it has existed.
    pub duration: Duration,
    /// Per band, packets and bytes the band applied to.
    pub bands: Vec<PacketCounts>,
}

/// One meter's configuration (`ofp_meter_config`): exactly what the meter_mod said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterConfig {
    /// The meter.
    pub meter_id: u32,
    /// Its flags.
    pub flags: MeterFlags,
    /// Its bands.
    pub bands: Vec<Band>,
}

/// What the meter table supports (`ofp_meter_features`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterFeatures {
    /// Largest meter id.
    pub max_meter: u32,
    /// Band types, bit `1 << OFPMBT_*`.
    pub band_types: u32,
    /// Meter flags supported (`OFPMF_*`).
    pub capabilities: u32,
    /// Bands per meter at most.
    pub max_bands: u8,
    /// Colours at most.
    pub max_color: u8,
}

/// `1 << OFPAT_*` of every action a bucket may hold: output, copy TTL out/in, set/dec
/// MPLS TTL, push/pop VLAN, push/pop MPLS, set queue, group, set/dec NW TTL, set field,
/// push/pop PBB.
const ACTION_BITS: u32 = 1
    | 1 << 11
    | 1 << 12
    | 1 << 15
    | 1 << 16
    | 1 << 17
    | 1 << 18
    | 1 << 19
    | 1 << 20
    | 1 << 21
    | 1 << 22
    | 1 << 23
    | 1 << 24
    | 1 << 25
    | 1 << 26
    | 1 << 27;

impl Pipeline {
    /// The tables a request names.
    fn request_tables(&self, table_id: u8) -> Result<core::ops::Range<u8>, PipelineError> {
        let n = self.n_tables();
        if table_id == TABLE_ALL {
            Ok(0..n)
        } else if table_id < n {
            Ok(table_id..table_id + 1)
        } else {
            Err(PipelineError::BadTableId { table_id })
        }
    }

    /// Statistics of the flows `req` covers, at `now`, table by table.
    pub fn flow_stats(
        &self,
        req: &FlowStatsRequest,
        now: Duration,
    ) -> Result<Vec<FlowStats>, PipelineError> {
        let mut v = Vec::new();
        for t in self.request_tables(req.table_id)? {
            let flows = &self.tables[usize::from(t)].flows;
            let mut chosen: Vec<_> = flows
                .select(&req.flow_match)
                .filter(|(_, e)| req.accepts(e))
                .map(|(_, e)| e)
                .collect();
            chosen.sort_by_key(|e| (u16::MAX - e.priority(), e.sequence()));
            v.extend(chosen.into_iter().map(|e| FlowStats {
                table_id: t,
                duration: e.duration(now),
                priority: e.priority(),
                idle_timeout: e.idle_timeout(),
                hard_timeout: e.hard_timeout(),
                flags: e.flags(),
                cookie: e.cookie(),
                packet_count: e.counters().packets,
                byte_count: e.counters().bytes,
                flow_match: *e.flow_match(),
                instructions: e.actions().clone(),
            }));
        }
        Ok(v)
    }

    /// Totals over the flows `req` covers.
    pub fn aggregate_stats(&self, req: &FlowStatsRequest) -> Result<AggregateStats, PipelineError> {
        let mut a = AggregateStats::default();
        for t in self.request_tables(req.table_id)? {
            for (_, e) in self.tables[usize::from(t)].flows.select(&req.flow_match) {
                if req.accepts(e) {
                    a.packet_count = a.packet_count.wrapping_add(e.counters().packets);
                    a.byte_count = a.byte_count.wrapping_add(e.counters().bytes);
                    a.flow_count += 1;
                }
            }
        }
        Ok(a)
    }

    /// Statistics of every table.
    pub fn table_stats(&self) -> Vec<TableStats> {
        self.tables
            .iter()
            .enumerate()
            .map(|(i, t)| TableStats {
                table_id: i as u8,
                active_count: t.flows.len() as u32,
                lookup_count: t.counters.lookups,
                matched_count: t.counters.matches,
            })
            .collect()
    }

    /// How many flows (in every table) forward to each group and use each meter.
    fn references(&self) -> (HashMap<u32, u32>, HashMap<u32, u32>) {
        let mut groups = HashMap::new();
        let mut meters = HashMap::new();
        for t in &self.tables {
            for (_, e) in t.flows.iter() {
                let ins = e.actions();
                let mut seen: Vec<u32> = Vec::new();
                for a in ins.actions() {
                    if let Action::Group(g) = a {
                        if !seen.contains(g) {
                            seen.push(*g);
                            *groups.entry(*g).or_insert(0) += 1;
                        }
                    }
                }
                if let Some(m) = ins.meter {
                    *meters.entry(m).or_insert(0) += 1;
                }
            }
        }
        (groups, meters)
    }

    /// Statistics of group `group_id` ([`GROUP_ALL`]: every group, by id) at `now`; an
    /// unknown group gives none.
    pub fn group_stats(&self, group_id: u32, now: Duration) -> Vec<GroupStats> {
        let (flow_refs, _) = self.references();
        self.group_ids(group_id)
            .into_iter()
            .filter_map(|id| {
                let def = self.groups.defs.get(id)?;
                let c = self.groups.counters_of(id)?;
                Some(GroupStats {
                    group_id: id,
                    ref_count: flow_refs.get(&id).copied().unwrap_or(0)
                        + self.groups.defs.references_to(id),
                    counts: c.group,
                    duration: now.saturating_sub(def.created),
                    buckets: c.buckets.clone(),
                })
            })
            .collect()
    }

    /// Descriptions of every group, by id.
    pub fn group_desc(&self) -> Vec<GroupDesc> {
        self.groups
            .defs
            .ids()
            .into_iter()
            .filter_map(|id| {
                let def = self.groups.defs.get(id)?;
                Some(GroupDesc {
                    group_id: id,
                    group_type: def.group_type,
                    buckets: def.buckets.clone(),
                })
            })
            .collect()
    }

    fn group_ids(&self, group_id: u32) -> Vec<u32> {
        if group_id == GROUP_ALL {
            self.groups.defs.ids()
        } else if self.groups.contains(group_id) {
            vec![group_id]
        } else {
            Vec::new()
        }
    }

    /// What the group table supports.
    pub fn group_features(&self) -> GroupFeatures {
        let max = u32::try_from(self.config.max_groups).unwrap_or(u32::MAX);
        GroupFeatures {
            types: 0b1111,
            capabilities: 0b1111,
            max_groups: [max; 4],
            actions: [ACTION_BITS; 4],
        }
    }

    /// The meters a request names ([`METER_ALL`]: every meter); an unknown meter is
    /// [`PipelineError::UnknownMeter`].
    fn meter_ids(&self, meter_id: u32) -> Result<Vec<u32>, PipelineError> {
        if meter_id == METER_ALL {
            Ok(self.meters.ids())
        } else if self.meters.contains(meter_id) {
            Ok(vec![meter_id])
        } else {
            Err(PipelineError::UnknownMeter { meter_id })
        }
    }

    /// Statistics of meter `meter_id` ([`METER_ALL`]: every meter, by id) at `now`.
    pub fn meter_stats(
        &self,
        meter_id: u32,
        now: Duration,
    ) -> Result<Vec<MeterStats>, PipelineError> {
        let (_, meter_refs) = self.references();
        Ok(self
            .meter_ids(meter_id)?
            .into_iter()
            .filter_map(|id| {
                let m = self.meters.meters.get(&id)?;
                Some(MeterStats {
                    meter_id: id,
                    flow_count: meter_refs.get(&id).copied().unwrap_or(0),
                    input: m.input,
                    duration: now.saturating_sub(m.created),
                    bands: m.band_counts().collect(),
                })
            })
            .collect())
    }

    /// Configuration of meter `meter_id` ([`METER_ALL`]: every meter), as configured.
    pub fn meter_config(&self, meter_id: u32) -> Result<Vec<MeterConfig>, PipelineError> {
        Ok(self
            .meter_ids(meter_id)?
            .into_iter()
            .filter_map(|id| {
                let m = self.meters.meters.get(&id)?;
                Some(MeterConfig {
                    meter_id: id,
                    flags: m.flags,
                    bands: m.bands.clone(),
                })
            })
            .collect())
    }

    /// What the meter table supports.
    pub fn meter_features(&self) -> MeterFeatures {
        MeterFeatures {
            max_meter: u32::try_from(self.config.max_meters)
                .unwrap_or(u32::MAX)
                .min(METER_MAX),
            band_types: 1 << 1 | 1 << 2,
            capabilities: u32::from(MeterFlags::ALL.0),
            max_bands: self.config.max_bands,
            max_color: 0,
        }
    }
}
