//! The OpenFlow multi-table pipeline: flow tables, instructions, the action set, groups
//! and meters, sans-IO and independent of any wire format (the agent maps OpenFlow 1.0 and
//! 1.3 messages onto it).
//!
//! # Tables and instructions
//!
//! A [`Pipeline`] has `n_tables` flow tables, numbered from 0 (OpenFlow 1.3 §5). A packet
//! starts in table 0. In each table the highest-priority matching flow (the
//! [classifier](crate::classifier) decides, ties broken by insertion order) applies its
//! [`Instructions`] in the spec's order: meter, apply-actions, clear-actions,
//! write-actions, write-metadata, goto-table. Apply-actions change the packet at once and
//! may send copies out; write-actions collect into the packet's *action set*; goto-table
//! continues in a later table (never an earlier one: flow_mod refuses that, so a packet
//! visits each table at most once and the walk ends). Metadata (written by
//! write-metadata, 64 bits under a mask) and changes to header fields are visible to the
//! lookups of later tables.
//!
//! When no goto follows, the action set runs, in the fixed order of §5.10 (copy TTL in,
//! pops, pushes, copy TTL out, TTL decrements, set-fields, queue, group, output), one
//! action per type, the group winning over the output. A packet that matches nothing in a
//! table meets the pipeline's [`TableMiss`]: to the controller (OpenFlow 1.0, with reason
//! `NoMatch` and `miss_send_len` bytes) or dropped (OpenFlow 1.3, where a controller that
//! wants misses installs a table-miss flow: priority 0, match-all, an ordinary flow whose
//! controller output is still reported as `NoMatch`). A miss ends the walk without running
//! the action set.
//!
//! # Groups and meters
//!
//! See [`group`] and [`meter`]. Both are checked when a flow refers to them: a flow_mod
//! naming a missing group or meter fails, and deleting a group or a meter removes the flows
//! that use it (returned for flow-removed messages), so a packet never meets a dangling
//! reference. Group chains are loop-free by the same kind of check at group_mod.
//!
//! # Outputs and packet order
//!
//! Nothing is sent from here. [`Pipeline::process`] fills a [`PipelineOutput`] with port
//! outputs and packet-in events, in the order the actions produced them (apply-actions of
//! table 0, of table 1, ..., then the action set; group buckets in bucket order). Outputs
//! refer to the caller's frame itself unless the frame was rewritten after them, in which
//! case they get a copy taken just before the rewrite: a flow that rewrites and then outputs
//! (the usual shape) copies nothing. A group's buckets each work on their own copy when they
//! rewrite; a bucket that only outputs shares the frame. Packets are processed one at a
//! time, in the order the caller hands them over, against the tables as the last change
//! left them: a flow_mod between two packets applies to the second one whole.
//!
//! # The microflow cache across tables
//!
//! Most packets belong to a few long flows, and a packet's walk costs one classifier
//! lookup (a probe per subtable) per table visited. The pipeline caches whole walks: the
//! key is the packet's *input* flow key (with in_port, the input metadata and tunnel id)
//! plus its [`FrameLayout`](crate::key::FrameLayout), the value the list of flows it
//! matched in each table visited (or the miss that ended it). A cached packet skips every
//! classifier lookup: one hash and one key comparison, then the flows' instructions run as
//! usual (counters, meters, actions, action set), so only the lookups are cached, never
//! their effects. Entries are valid for one *pipeline generation*, which every flow_mod,
//! group_mod, meter_mod and expiry moves on: one change invalidates every entry at once
//! without touching it.
//!
//! Why the input key is enough, although metadata and set-field actions change the key
//! between tables: the walk is a deterministic function of the input key and the tables.
//! Table 0 is looked up with the input key. The flow found there is fixed (same tables),
//! so its write-metadata and its apply-actions are fixed; the metadata after it is a
//! function of the input metadata, and each rewrite it applies sets header fields to
//! constants or to functions of fields the key holds (decrement the TTL, push a VLAN tag
//! copying the outer tag). So the key of table 1's lookup is a function of the input key,
//! and so on down the walk. The cache key carries the layout as well as the flow key
//! because whether a rewrite applies depends on the header being there whole, which the
//! layout says and the key alone does not always (a cut header and a header of zeros have
//! equal keys).
//!
//! That argument needs every rewrite before the last lookup to be of that kind, and some
//! are not: popping a VLAN tag from a double-tagged frame uncovers an inner tag the key
//! never held; MPLS and PBB pops uncover whole headers; TTL copies move values the key does
//! not hold; set-field of EtherType or IP protocol changes how the rest is parsed. A walk
//! where one of those ran before a later lookup is not cached (the packet pays full
//! lookups, and stays correct). Likewise a walk cut short by a meter drop or an invalid TTL
//! is not stored (the next packet of the flow may get further), and a DSCP remark band that
//! fires before a goto (meters are state, not key) makes the walk uncacheable and, on a
//! cache hit, sends the rest of that packet's walk to the classifier. A truncated frame's
//! walk is not cached either. The proptest at the bottom of `tests.rs` checks a cached and
//! an uncached pipeline against each other on random flows, frames and flow_mods.
//!
//! # Time
//!
//! Nothing here reads a clock: every call that counts, meters or expires takes `now`, a
//! [`Duration`] since an epoch of the caller's choosing.

pub mod error;
pub mod group;
pub mod instructions;
pub mod meter;
pub mod output;
pub mod stats;
pub mod table;

mod cache;
mod exec;

#[cfg(test)]
mod tests;

use core::time::Duration;
use std::collections::HashSet;

pub use error::PipelineError;
pub use group::{Bucket, GroupMod, GroupModCommand, GroupType, PacketCounts};
pub use instructions::{action_port_number, Instructions};
pub use meter::{remark_dscp, Band, BandKind, MeterFlags, MeterMod, MeterModCommand};
pub use output::{FrameRef, PacketIn, PacketInReason, PipelineOutput, PortOutput};
pub use stats::{
    AggregateStats, FlowStats, FlowStatsRequest, GroupDesc, GroupFeatures, GroupStats, MeterConfig,
    MeterFeatures, MeterStats, TableStats,
};
pub use table::{FlowMod, FlowModCommand, FlowModResult, FlowRemovedReason, RemovedFlow};

/// The pipeline moves to the datapath thread.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Pipeline>();
    assert_send::<PipelineOutput>();
};

use crate::actions::{Action, ApplyContext, OutputList};
use crate::classifier::{FlowTable, DEFAULT_MICROFLOW_CAPACITY};
use crate::counters::{MicroflowCounters, TableCounters};
use crate::key::extract;

use exec::{ActionSet, Engine, FrameCtx, Source, Stage};
use group::GroupTable;
use meter::MeterTable;
use table::Table;

/// Largest ordinary port number (`OFPP_MAX`).
pub const PORT_MAX: u32 = 0xffff_ff00;
/// The ingress port (`OFPP_IN_PORT`).
pub const PORT_IN_PORT: u32 = 0xffff_fff8;
/// The pipeline (`OFPP_TABLE`, packet-out only).
pub const PORT_TABLE: u32 = 0xffff_fff9;
/// Normal processing (`OFPP_NORMAL`).
pub const PORT_NORMAL: u32 = 0xffff_fffa;
/// Flooding (`OFPP_FLOOD`).
pub const PORT_FLOOD: u32 = 0xffff_fffb;
/// All ports but the ingress port (`OFPP_ALL`).
pub const PORT_ALL: u32 = 0xffff_fffc;
/// The controller (`OFPP_CONTROLLER`).
pub const PORT_CONTROLLER: u32 = 0xffff_fffd;
/// The local port (`OFPP_LOCAL`).
pub const PORT_LOCAL: u32 = 0xffff_fffe;
/// No port: the "no filter" value of `out_port` and `watch_port` (`OFPP_ANY`).
pub const PORT_ANY: u32 = 0xffff_ffff;
/// Largest group id (`OFPG_MAX`).
pub const GROUP_MAX: u32 = 0xffff_ff00;
/// Every group, for group delete and statistics (`OFPG_ALL`).
pub const GROUP_ALL: u32 = 0xffff_fffc;
/// No group: the "no filter" value of `out_group` and `watch_group` (`OFPG_ANY`).
pub const GROUP_ANY: u32 = 0xffff_ffff;
/// Largest meter id (`OFPM_MAX`).
pub const METER_MAX: u32 = 0xffff_0000;
/// Every meter, for meter delete and statistics (`OFPM_ALL`).
pub const METER_ALL: u32 = 0xffff_ffff;
/// Every table, for flow delete, modify and statistics (`OFPTT_ALL`).
pub const TABLE_ALL: u8 = 0xff;
/// `max_len` asking for the whole frame, unbuffered (`OFPCML_NO_BUFFER`).
pub const NO_BUFFER: u16 = 0xffff;

/// What happens to a packet no flow of a table matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableMiss {
    /// Send it to the controller with reason `NoMatch` (OpenFlow 1.0).
    Controller,
    /// Drop it (OpenFlow 1.3 without a table-miss flow).
    Drop,
}

/// How to build a [`Pipeline`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Number of flow tables, at least 1 (0 is taken as 1).
    pub n_tables: u8,
    /// What a table miss does.
    pub miss: TableMiss,
    /// Bytes of a missed packet the controller asks for (`miss_send_len`; default 128).
    pub miss_send_len: u16,
    /// Send packets whose TTL a decrement finds at 0 or 1 to the controller
    /// (`OFPC_INVALID_TTL_TO_CONTROLLER`) instead of dropping them silently.
    pub invalid_ttl_to_controller: bool,
    /// Flows per table at most.
    pub max_entries: usize,
    /// Groups at most.
    pub max_groups: usize,
    /// Buckets per group at most.
    pub max_buckets: usize,
    /// Meters at most.
    pub max_meters: usize,
    /// Bands per meter at most.
    pub max_bands: u8,
    /// Entries of the pipeline's microflow cache (0: no cache).
    pub cache_capacity: usize,
}

impl Default for PipelineConfig {
    /// 254 tables, table misses dropped (OpenFlow 1.3), a 4096-entry cache.
    fn default() -> Self {
        PipelineConfig {
            n_tables: 254,
            miss: TableMiss::Drop,
            miss_send_len: 128,
            invalid_ttl_to_controller: false,
            max_entries: crate::classifier::DEFAULT_MAX_ENTRIES,
            max_groups: 65_536,
            max_buckets: 64,
            max_meters: 65_536,
            max_bands: 8,
            cache_capacity: DEFAULT_MICROFLOW_CAPACITY,
        }
    }
}

impl PipelineConfig {
    /// The defaults with `n_tables` tables.
    pub fn with_tables(n_tables: u8) -> Self {
        PipelineConfig {
            n_tables,
            ..Self::default()
        }
    }
}

/// Where a packet enters: the port, and the pipeline fields a tunnel port or the caller
/// sets before table 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ingress {
    /// Ingress port.
    pub in_port: u32,
    /// Tunnel id (OXM `TUNNEL_ID`) of a packet from a tunnel port; 0 otherwise.
    pub tunnel_id: u64,
    /// Initial metadata (0 in OpenFlow).
    pub metadata: u64,
}

impl Ingress {
    /// A packet from `in_port`, no tunnel, metadata 0.
    pub fn port(in_port: u32) -> Self {
        Ingress {
            in_port,
            ..Self::default()
        }
    }
}

/// The OpenFlow pipeline: flow tables, groups, meters and the microflow cache over them.
/// See the [module documentation](self).
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    tables: Vec<Table>,
    groups: GroupTable,
    meters: MeterTable,
    live_ports: HashSet<u32>,
    cache: PathCache,
    /// Moves on with every change that can change a walk; cached walks carry it.
    generation: u64,
    action_set: ActionSet,
    scratch: OutputList,
}

use cache::PathCache;

impl Pipeline {
    /// An empty pipeline.
    pub fn new(config: PipelineConfig) -> Self {
        let mut config = config;
        config.n_tables = config.n_tables.max(1);
        let tables = (0..config.n_tables)
            .map(|_| Table {
                flows: FlowTable::new().with_max_entries(config.max_entries),
                counters: TableCounters::default(),
            })
            .collect();
        Pipeline {
            cache: PathCache::new(config.cache_capacity),
            config,
            tables,
            groups: GroupTable::default(),
            meters: MeterTable::default(),
            live_ports: HashSet::new(),
            generation: 1,
            action_set: ActionSet::default(),
            scratch: OutputList::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Number of flow tables.
    pub fn n_tables(&self) -> u8 {
        self.config.n_tables
    }

    /// Changes what a table miss does.
    pub fn set_table_miss(&mut self, miss: TableMiss) {
        self.config.miss = miss;
    }

    /// Changes `miss_send_len` (OpenFlow set_config).
    pub fn set_miss_send_len(&mut self, len: u16) {
        self.config.miss_send_len = len;
    }

    /// Changes whether invalid TTLs go to the controller (OpenFlow set_config).
    pub fn set_invalid_ttl_to_controller(&mut self, on: bool) {
        self.config.invalid_ttl_to_controller = on;
    }

    /// Reports a port up (live) or down, for fast failover and select groups. A port never
    /// reported is down.
    pub fn set_port_live(&mut self, port: u32, live: bool) {
        let changed = if live {
            self.live_ports.insert(port)
        } else {
            self.live_ports.remove(&port)
        };
        if changed {
            // Liveness decides buckets, not lookups: cached walks stay valid.
            self.groups.defs.refresh_liveness(&self.live_ports);
        }
    }

    /// Whether `port` is reported live.
    pub fn port_live(&self, port: u32) -> bool {
        self.live_ports.contains(&port)
    }

    /// Hits and misses of the microflow cache.
    pub fn cache_counters(&self) -> MicroflowCounters {
        self.cache.counters()
    }

    /// Moves the generation on: every cached walk goes stale.
    fn bump(&mut self) {
        self.generation += 1;
    }

    /// Processes `frame`, received on `in_port`, at `now`: every table from 0, then the
    /// action set. Rewrites happen in `frame` itself; outputs and packet-ins go to `out`
    /// (cleared first), which refers to `frame` as the call left it.
    pub fn process(
        &mut self,
        frame: &mut Vec<u8>,
        in_port: u32,
        now: Duration,
        out: &mut PipelineOutput,
    ) {
        self.process_from(frame, Ingress::port(in_port), now, out);
    }

    /// [`process`](Self::process) with a tunnel id or initial metadata.
    pub fn process_from(
        &mut self,
        frame: &mut Vec<u8>,
        ingress: Ingress,
        now: Duration,
        out: &mut PipelineOutput,
    ) {
        out.clear();
        let actx = ApplyContext {
            metadata: ingress.metadata,
            tunnel_id: ingress.tunnel_id,
            queue: None,
        };
        let mut fc = FrameCtx::new(frame, FrameRef::Packet, ingress.in_port, actx, out);
        fc.layout = extract(fc.frame, ingress.in_port, &mut fc.key);
        fc.key_dirty = false;
        let (mut stage, mut engine) = self.split(out, now);
        stage.run(&mut engine, &mut fc);
    }

    /// Executes a packet-out's `actions` on `frame` from `in_port` (which may be
    /// [`PORT_CONTROLLER`]) at `now`, into `out` (cleared first). An output to
    /// [`Action::Table`] runs the frame as it is at that point through the pipeline (from
    /// table 0, as if received on `in_port`).
    ///
    /// Errors: a group action naming a missing group ([`PipelineError::BadOutGroup`]).
    pub fn packet_out(
        &mut self,
        frame: &mut Vec<u8>,
        in_port: u32,
        actions: &[Action],
        now: Duration,
        out: &mut PipelineOutput,
    ) -> Result<(), PipelineError> {
        for a in actions {
            if let Action::Group(g) = *a {
                if !self.groups.contains(g) {
                    return Err(PipelineError::BadOutGroup { group_id: g });
                }
            }
        }
        out.clear();
        let mut fc = FrameCtx::new(
            frame,
            FrameRef::Packet,
            in_port,
            ApplyContext::default(),
            out,
        );
        let (mut stage, mut engine) = self.split(out, now);
        for (i, a) in actions.iter().enumerate() {
            if *a != Action::Table {
                if !engine.run_actions(core::slice::from_ref(a), &mut fc, Source::PACKET_OUT, 0) {
                    break;
                }
                continue;
            }
            // A fresh walk: metadata and queue start over, the tunnel id stays.
            let actx = ApplyContext {
                tunnel_id: fc.actx.tunnel_id,
                ..ApplyContext::default()
            };
            if i + 1 == actions.len() {
                // The last action: the walk may have the frame itself.
                let saved = fc.actx;
                fc.actx = actx;
                fc.key_dirty = true;
                fc.hidden = false;
                stage.run(&mut engine, &mut fc);
                fc.actx = saved;
            } else {
                let b = engine.out.copy_of(fc.frame);
                let mut buf = engine.out.take(b);
                let mut child =
                    FrameCtx::new(&mut buf, FrameRef::Buffer(b), in_port, actx, engine.out);
                stage.run(&mut engine, &mut child);
                engine.out.put_back(b, buf);
            }
        }
        Ok(())
    }

    /// Splits the pipeline into the table walk and the action engine, which borrow
    /// different parts of it.
    fn split<'a>(
        &'a mut self,
        out: &'a mut PipelineOutput,
        now: Duration,
    ) -> (Stage<'a>, Engine<'a>) {
        let Pipeline {
            config,
            tables,
            groups,
            meters,
            live_ports,
            cache,
            generation,
            action_set,
            scratch,
        } = self;
        let stage = Stage {
            tables,
            meters,
            cache,
            action_set,
            generation: *generation,
            miss: config.miss,
            now,
        };
        let engine = Engine {
            groups: &groups.defs,
            group_counters: &mut groups.counters,
            live_ports,
            out,
            scratch,
            miss_send_len: config.miss_send_len,
            invalid_ttl_to_controller: config.invalid_ttl_to_controller,
            budget: exec::BUCKET_BUDGET,
        };
        (stage, engine)
    }

    /// Counters of table `table_id`, and its number of flows.
    pub fn table_counters(&self, table_id: u8) -> Option<(TableCounters, usize)> {
        let t = self.tables.get(usize::from(table_id))?;
        Some((t.counters, t.flows.len()))
    }
}
