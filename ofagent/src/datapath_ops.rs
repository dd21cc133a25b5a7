//! OpenFlow requests onto the pipeline: flow, group and meter mods, packet-outs, the
//! statistics, and frames through the pipeline with the packet-ins they cause.
//!
//! # What the controller sees is what it sent
//!
//! The pipeline keeps flows as classifier matches and datapath actions, a form that
//! forgets details a controller may check: the order of OXM fields, the `max_len` of an
//! output to a plain port, 1.0's `set_tp_src` against a 1.3 `set_field`. So the agent
//! keeps, beside the pipeline, the match and instructions exactly as the controller sent
//! them, per flow (keyed by table, priority and classifier match, which is what makes a
//! flow unique) and per group; statistics replies and flow-removed messages are built
//! from those. The side tables follow the pipeline: adds insert, modifies update the
//! flows the modify selected, and every removal the pipeline reports (delete, expiry,
//! group or meter delete) removes.

use std::collections::HashMap;
use std::time::Duration;

use flowlab_datapath::actions::OutputPort;
use flowlab_datapath::classifier::{FlowFlags, Match as DpMatch};
use flowlab_datapath::pipeline::{
    self as pl, FlowRemovedReason, PacketInReason, Pipeline, PipelineConfig, PipelineError,
    PipelineOutput, RemovedFlow, TableMiss,
};
use flowlab_openflow::model::error_code::{
    BadActionCode, BadInstructionCode, BadRequestCode, ErrorCode, FlowModFailedCode,
    GroupModFailedCode, MeterModFailedCode, TableFeaturesFailedCode,
};
use flowlab_openflow::model::multipart::{
    AggregateStats, BucketCounter, FlowStats, GroupDesc, GroupFeatures, GroupStats, MeterBandStats,
    MeterConfig, MeterFeatures, MeterStats, MultipartReplyBody, MultipartRequestBody,
    TableFeatures, TableStats,
};
use flowlab_openflow::model::port::config as port_config;
use flowlab_openflow::model::{
    Bucket, FlowMod, FlowModCommand, FlowRemoved, GroupMod, Instruction, Match, Message, MeterBand,
    MeterMod, OxmField, PacketIn, PacketOut, PortNo, GROUP_ANY, NO_BUFFER, TABLE_ALL,
};

use crate::agent::{Agent, AgentConfig, AgentFailMode, FrameOutputs, Request};
use crate::conn::{AsyncKind, OFP10};
use crate::translate::{actions_to_dp, instructions_to_dp, match_from_dp, match_to_dp, ActionUse};

/// Ethernet's minimum frame length without the FCS.
const MIN_FRAME: usize = 60;

/// Reusable buffers for frames through the pipeline.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    out: PipelineOutput,
    /// The original match and instructions of each flow, keyed as the pipeline keys it.
    flows: HashMap<(u8, u16, DpMatch), (Match, Vec<Instruction>)>,
    /// The original buckets of each group.
    groups: HashMap<u32, Vec<Bucket>>,
}

/// The pipeline an agent starts with: misses are reported (the agent decides per
/// connection version what a miss means).
pub(crate) fn new_pipeline(config: &AgentConfig) -> Pipeline {
    let pc = PipelineConfig {
        n_tables: config.n_tables.max(1),
        miss: TableMiss::Controller,
        max_entries: config.max_entries,
        ..PipelineConfig::default()
    };
    Pipeline::new(pc)
}

/// The OpenFlow error a pipeline refusal answers with.
pub(crate) fn pipeline_error(e: PipelineError) -> ErrorCode {
    use PipelineError as P;
    match e {
        P::BadTableId { .. } => ErrorCode::FlowModFailed(FlowModFailedCode::BadTableId),
        P::TableFull { .. } => ErrorCode::FlowModFailed(FlowModFailedCode::TableFull),
        P::Overlap => ErrorCode::FlowModFailed(FlowModFailedCode::Overlap),
        P::BadFlowFlags { .. } => ErrorCode::FlowModFailed(FlowModFailedCode::BadFlags),
        P::BadGotoTable { .. } => ErrorCode::BadInstruction(BadInstructionCode::BadTableId),
        P::BadOutGroup { .. } => ErrorCode::BadAction(BadActionCode::BadOutGroup),
        P::BadOutPort { .. } => ErrorCode::BadAction(BadActionCode::BadOutPort),
        P::GroupExists { .. } => ErrorCode::GroupModFailed(GroupModFailedCode::GroupExists),
        P::InvalidGroup { .. } => ErrorCode::GroupModFailed(GroupModFailedCode::InvalidGroup),
        P::UnknownGroup { .. } => ErrorCode::GroupModFailed(GroupModFailedCode::UnknownGroup),
        P::GroupLoop { .. } => ErrorCode::GroupModFailed(GroupModFailedCode::Loop),
        P::ChainedGroup { .. } => ErrorCode::GroupModFailed(GroupModFailedCode::ChainedGroup),
        P::OutOfGroups => ErrorCode::GroupModFailed(GroupModFailedCode::OutOfGroups),
        P::OutOfBuckets => ErrorCode::GroupModFailed(GroupModFailedCode::OutOfBuckets),
        P::WatchUnsupported => ErrorCode::GroupModFailed(GroupModFailedCode::WatchUnsupported),
        P::BadWatch { .. } => ErrorCode::GroupModFailed(GroupModFailedCode::BadWatch),
        P::MeterExists { .. } => ErrorCode::MeterModFailed(MeterModFailedCode::MeterExists),
        P::InvalidMeter { .. } => ErrorCode::MeterModFailed(MeterModFailedCode::InvalidMeter),
        P::UnknownMeter { .. } => ErrorCode::MeterModFailed(MeterModFailedCode::UnknownMeter),
        P::BadMeterFlags { .. } => ErrorCode::MeterModFailed(MeterModFailedCode::BadFlags),
        P::BadRate => ErrorCode::MeterModFailed(MeterModFailedCode::BadRate),
        P::BadBand { .. } => ErrorCode::MeterModFailed(MeterModFailedCode::BadBand),
        P::OutOfMeters => ErrorCode::MeterModFailed(MeterModFailedCode::OutOfMeters),
        P::OutOfBands => ErrorCode::MeterModFailed(MeterModFailedCode::OutOfBands),
        #[allow(unreachable_patterns)]
        _ => ErrorCode::BadRequest(BadRequestCode::Eperm),
    }
}

fn secs(d: Duration) -> u16 {
    d.as_secs().min(u64::from(u16::MAX)) as u16
}

fn flags_to_dp(flags: u16, version: u8) -> FlowFlags {
    // 1.0: SEND_FLOW_REM 1, CHECK_OVERLAP 2, EMERG 4 (refused elsewhere).
    // 1.3: SEND_FLOW_REM 1, CHECK_OVERLAP 2, RESET_COUNTS 4, NO_PKT_COUNTS 8, NO_BYT_COUNTS 16.
    let mut f = FlowFlags::EMPTY;
    if flags & 1 != 0 {
        f |= FlowFlags::SEND_FLOW_REM;
    }
    if flags & 2 != 0 {
        f |= FlowFlags::CHECK_OVERLAP;
    }
    if version != OFP10 {
        if flags & 4 != 0 {
            f |= FlowFlags::RESET_COUNTS;
        }
        if flags & 8 != 0 {
            f |= FlowFlags::NO_PKT_COUNTS;
        }
        if flags & 16 != 0 {
            f |= FlowFlags::NO_BYT_COUNTS;
        }
    }
    f
}

fn flags_from_dp(f: FlowFlags, version: u8) -> u16 {
    let mut out = 0;
    if f.contains(FlowFlags::SEND_FLOW_REM) {
        out |= 1;
    }
    if f.contains(FlowFlags::CHECK_OVERLAP) {
        out |= 2;
    }
    if version != OFP10 {
        if f.contains(FlowFlags::RESET_COUNTS) {
            out |= 4;
        }
        if f.contains(FlowFlags::NO_PKT_COUNTS) {
            out |= 8;
        }
        if f.contains(FlowFlags::NO_BYT_COUNTS) {
            out |= 16;
        }
    }
    out
}

fn removed_reason(r: FlowRemovedReason) -> u8 {
    match r {
        FlowRemovedReason::IdleTimeout => 0,
        FlowRemovedReason::HardTimeout => 1,
        FlowRemovedReason::Delete => 2,
        FlowRemovedReason::GroupDelete => 3,
        // 1.3 has no meter-delete reason; 1.4 calls it 5. Deleted is the closest.
        FlowRemovedReason::MeterDelete => 2,
    }
}

impl Agent {
    pub(crate) fn handle_flow_mod(&mut self, r: &Request<'_>, m: FlowMod) {
        let command = match m.command {
            FlowModCommand::Add => pl::FlowModCommand::Add,
            FlowModCommand::Modify => pl::FlowModCommand::Modify,
            FlowModCommand::ModifyStrict => pl::FlowModCommand::ModifyStrict,
            FlowModCommand::Delete => pl::FlowModCommand::Delete,
            FlowModCommand::DeleteStrict => pl::FlowModCommand::DeleteStrict,
            FlowModCommand::Unknown(_) => {
                self.error(r, ErrorCode::FlowModFailed(FlowModFailedCode::BadCommand));
                return;
            }
        };
        if r.version == OFP10 && m.flags & 4 != 0 {
            // OFPFF_EMERG: no emergency flow cache here.
            self.error(r, ErrorCode::FlowModFailed(FlowModFailedCode::Unsupported));
            return;
        }
        let dp_match = match match_to_dp(&m.match_, r.version) {
            Ok(x) => x,
            Err(code) => {
                self.error(r, code);
                return;
            }
        };
        let instructions = match instructions_to_dp(&m.instructions) {
            Ok(x) => x,
            Err(code) => {
                self.error(r, code);
                return;
            }
        };
        let is_delete =
            command == pl::FlowModCommand::Delete || command == pl::FlowModCommand::DeleteStrict;
        let table_id = if r.version == OFP10 {
            if is_delete {
                TABLE_ALL
            } else {
                0
            }
        } else {
            m.table_id
        };
        if table_id == TABLE_ALL && !is_delete && command == pl::FlowModCommand::Add {
            self.error(r, ErrorCode::FlowModFailed(FlowModFailedCode::BadTableId));
            return;
        }
        let mut fm = pl::FlowMod::new(command, table_id, dp_match, m.priority)
            .with_instructions(instructions)
            .with_cookie(m.cookie, m.cookie_mask)
            .with_flags(flags_to_dp(m.flags, r.version))
            .with_timeouts(
                Duration::from_secs(u64::from(m.idle_timeout)),
                Duration::from_secs(u64::from(m.hard_timeout)),
            );
        // The out_port/out_group filters apply to deletes only (1.3 §A.3.4.1); 1.0 has
        // no out_group, and its modify commands add when nothing matches.
        if is_delete {
            fm = fm.with_out(m.out_port.0, m.out_group);
        }
        fm.modify_adds = r.version == OFP10;
        // Which flows a modify will touch, to keep the side table in step.
        let modified: Vec<(u8, u16, DpMatch)> = if matches!(
            command,
            pl::FlowModCommand::Modify | pl::FlowModCommand::ModifyStrict
        ) {
            let req = pl::FlowStatsRequest {
                table_id,
                cookie: m.cookie,
                cookie_mask: m.cookie_mask,
                flow_match: dp_match,
                ..pl::FlowStatsRequest::default()
            };
            self.pipeline
                .flow_stats(&req, r.now)
                .unwrap_or_default()
                .into_iter()
                .filter(|s| {
                    command == pl::FlowModCommand::Modify
                        || (s.priority == m.priority && s.flow_match == dp_match)
                })
                .map(|s| (s.table_id, s.priority, s.flow_match))
                .collect()
        } else {
            Vec::new()
        };
        match self.pipeline.flow_mod(&fm, r.now) {
            Ok(result) => {
                self.stats.flow_mods += 1;
                match result {
                    pl::FlowModResult::Added { .. } => {
                        self.scratch.flows.insert(
                            (table_id, m.priority, dp_match),
                            (m.match_.clone(), m.instructions.clone()),
                        );
                    }
                    pl::FlowModResult::Modified { count } => {
                        if count == 0 && r.version == OFP10 {
                            self.scratch.flows.insert(
                                (table_id, m.priority, dp_match),
                                (m.match_.clone(), m.instructions.clone()),
                            );
                        }
                        for k in modified {
                            if let Some(e) = self.scratch.flows.get_mut(&k) {
                                e.1 = m.instructions.clone();
                            } else {
                                self.scratch
                                    .flows
                                    .insert(k, (match_from_dp(&k.2), m.instructions.clone()));
                            }
                        }
                    }
                    pl::FlowModResult::Deleted { removed } => {
                        self.flows_removed(removed, r.now);
                    }
                }
                if m.buffer_id != NO_BUFFER && !(r.version == OFP10 && m.buffer_id == 0xffff) {
                    self.error(r, ErrorCode::BadRequest(BadRequestCode::BufferUnknown));
                }
            }
            Err(e) => {
                let code = pipeline_error(e);
                self.error(r, code);
            }
        }
    }

    /// Flows the pipeline removed: forget them, and tell controllers about those with
    /// `SEND_FLOW_REM`.
    pub(crate) fn flows_removed(&mut self, removed: Vec<RemovedFlow>, _now: Duration) {
        for f in removed {
            let original = self
                .scratch
                .flows
                .remove(&(f.table_id, f.priority, f.flow_match));
            if !f.send_flow_rem {
                continue;
            }
            let match_ = original.map_or_else(|| match_from_dp(&f.flow_match), |o| o.0);
            let reason = removed_reason(f.reason);
            let msg = Message::FlowRemoved(FlowRemoved {
                cookie: f.cookie,
                priority: f.priority,
                reason,
                table_id: f.table_id,
                duration_sec: f.duration.as_secs() as u32,
                duration_nsec: f.duration.subsec_nanos(),
                idle_timeout: secs(f.idle_timeout),
                hard_timeout: secs(f.hard_timeout),
                packet_count: f.packet_count,
                byte_count: f.byte_count,
                match_,
            });
            self.broadcast(AsyncKind::FlowRemoved, reason, &msg);
        }
    }

    pub(crate) fn expire_flows(&mut self, now: Duration, _out: &mut FrameOutputs) {
        let removed = self.pipeline.expire(now);
        if !removed.is_empty() {
            self.flows_removed(removed, now);
        }
    }

    pub(crate) fn set_port_live(&mut self, port: u32, live: bool) {
        self.pipeline.set_port_live(port, live);
    }

    pub(crate) fn handle_group_mod(&mut self, r: &Request<'_>, m: GroupMod) {
        let command = match m.command {
            0 => pl::GroupModCommand::Add,
            1 => pl::GroupModCommand::Modify,
            2 => pl::GroupModCommand::Delete,
            _ => {
                self.error(r, ErrorCode::GroupModFailed(GroupModFailedCode::BadCommand));
                return;
            }
        };
        let group_type = match m.group_type {
            0 => pl::GroupType::All,
            1 => pl::GroupType::Select,
            2 => pl::GroupType::Indirect,
            3 => pl::GroupType::FastFailover,
            _ => {
                self.error(r, ErrorCode::GroupModFailed(GroupModFailedCode::BadType));
                return;
            }
        };
        let mut buckets = Vec::with_capacity(m.buckets.len());
        for b in &m.buckets {
            match actions_to_dp(&b.actions, ActionUse::Flow) {
                Ok(actions) => buckets.push(pl::Bucket {
                    weight: b.weight,
                    watch_port: b.watch_port.0,
                    watch_group: b.watch_group,
                    actions,
                }),
                Err(code) => {
                    self.error(r, code);
                    return;
                }
            }
        }
        let gm = pl::GroupMod {
            command,
            group_type,
            group_id: m.group_id,
            buckets,
        };
        match self.pipeline.group_mod(&gm, r.now) {
            Ok(removed) => {
                match command {
                    pl::GroupModCommand::Delete => {
                        if m.group_id == flowlab_openflow::model::GROUP_ALL {
                            self.scratch.groups.clear();
                        } else {
                            self.scratch.groups.remove(&m.group_id);
                        }
                    }
                    _ => {
                        self.scratch.groups.insert(m.group_id, m.buckets.clone());
                    }
                }
                self.flows_removed(removed, r.now);
            }
            Err(e) => self.error(r, pipeline_error(e)),
        }
    }

    pub(crate) fn handle_meter_mod(&mut self, r: &Request<'_>, m: MeterMod) {
        let command = match m.command {
            0 => pl::MeterModCommand::Add,
            1 => pl::MeterModCommand::Modify,
            2 => pl::MeterModCommand::Delete,
            _ => {
                self.error(r, ErrorCode::MeterModFailed(MeterModFailedCode::BadCommand));
                return;
            }
        };
        let mut bands = Vec::with_capacity(m.bands.len());
        for b in &m.bands {
            bands.push(match b {
                MeterBand::Drop { rate, burst_size } => pl::Band {
                    kind: pl::BandKind::Drop,
                    rate: *rate,
                    burst_size: *burst_size,
                },
                MeterBand::DscpRemark {
                    rate,
                    burst_size,
                    prec_level,
                } => pl::Band {
                    kind: pl::BandKind::DscpRemark {
                        prec_level: *prec_level,
                    },
                    rate: *rate,
                    burst_size: *burst_size,
                },
                MeterBand::Experimenter { .. } => {
                    self.error(r, ErrorCode::MeterModFailed(MeterModFailedCode::BadBand));
                    return;
                }
            });
        }
        let mm = pl::MeterMod {
            command,
            flags: pl::MeterFlags(m.flags),
            meter_id: m.meter_id,
            bands,
        };
        match self.pipeline.meter_mod(&mm, r.now) {
            Ok(removed) => self.flows_removed(removed, r.now),
            Err(e) => self.error(r, pipeline_error(e)),
        }
    }

    pub(crate) fn handle_packet_out(
        &mut self,
        r: &Request<'_>,
        p: PacketOut,
        out: &mut FrameOutputs,
    ) {
        if p.buffer_id != NO_BUFFER && !(r.version == OFP10 && p.buffer_id == 0xffff) {
            self.error(r, ErrorCode::BadRequest(BadRequestCode::BufferUnknown));
            return;
        }
        let in_port = p.in_port;
        let valid_in = in_port == PortNo::CONTROLLER
            || in_port == PortNo::ANY
            || in_port == PortNo::LOCAL
            || (in_port.0 >= 1 && in_port.0 <= PortNo::MAX.0);
        if !valid_in {
            self.error(r, ErrorCode::BadRequest(BadRequestCode::BadPort));
            return;
        }
        let actions = match actions_to_dp(&p.actions, ActionUse::PacketOut) {
            Ok(a) => a,
            Err(code) => {
                self.error(r, code);
                return;
            }
        };
        if p.data.len() < 14 {
            // Nothing to send (an empty packet-out is how some tools probe).
            return;
        }
        let mut frame = p.data;
        let orig_len = frame.len();
        let mut po = std::mem::take(&mut self.scratch.out);
        let res = self
            .pipeline
            .packet_out(&mut frame, in_port.0, &actions, r.now, &mut po);
        match res {
            Ok(()) => self.deliver(in_port.0, &frame, orig_len, &po, out),
            Err(e) => self.error(r, pipeline_error(e)),
        }
        self.scratch.out = po;
    }

    /// A frame received on `in_port`: through the pipeline, then out.
    pub fn frame(
        &mut self,
        in_port: u32,
        frame: &mut Vec<u8>,
        now: Duration,
        out: &mut FrameOutputs,
    ) {
        let Some(port) = self.ports.get(&in_port) else {
            return;
        };
        if port.config & (port_config::NO_RECV | port_config::PORT_DOWN) != 0 {
            return;
        }
        let mut po = std::mem::take(&mut self.scratch.out);
        let orig_len = frame.len();
        self.pipeline.process(frame, in_port, now, &mut po);
        self.deliver(in_port, frame, orig_len, &po, out);
        self.scratch.out = po;
    }

    /// Carries out a pipeline result: port outputs, flooding, the learning switch, and
    /// packet-ins to the connections that take them.
    ///
    /// A frame that a pop made shorter than Ethernet's 60-byte minimum is padded back to
    /// it with zeros, as a hardware port pads on transmit (a frame that arrived short
    /// stays as short as it came).
    fn deliver(
        &mut self,
        in_port: u32,
        frame: &[u8],
        orig_len: usize,
        po: &PipelineOutput,
        out: &mut FrameOutputs,
    ) {
        let min_len = orig_len.min(MIN_FRAME);
        let mut padded = Vec::new();
        for (o, bytes) in po.iter(frame) {
            let bytes = if bytes.len() < min_len {
                padded.clear();
                padded.extend_from_slice(bytes);
                padded.resize(min_len, 0);
                padded.as_slice()
            } else {
                bytes
            };
            match o.port {
                OutputPort::Port(p) => {
                    if p != in_port && self.can_forward(p) {
                        out.push(p, bytes);
                    }
                }
                OutputPort::InPort => {
                    if self.ports.contains_key(&in_port) {
                        out.push(in_port, bytes);
                    }
                }
                OutputPort::Flood | OutputPort::All => {
                    let flood = o.port == OutputPort::Flood;
                    for (&n, p) in &self.ports {
                        if n != in_port
                            && p.config & (port_config::NO_FWD | port_config::PORT_DOWN) == 0
                            && !(flood && p.config & port_config::NO_FLOOD != 0)
                        {
                            out.push(n, bytes);
                        }
                    }
                }
                OutputPort::Normal => out.push_normal(in_port, bytes),
                // No local port on this switch; TABLE and groups are resolved by the
                // pipeline; a controller output arrives as a packet-in.
                OutputPort::Local
                | OutputPort::Table
                | OutputPort::Group(_)
                | OutputPort::Controller { .. } => {}
            }
        }
        let no_packet_in = self
            .ports
            .get(&in_port)
            .is_some_and(|p| p.config & port_config::NO_PACKET_IN != 0);
        for pi in po.packet_ins() {
            let mut data = po.frame(pi.frame, frame);
            if data.len() < min_len {
                padded.clear();
                padded.extend_from_slice(data);
                padded.resize(min_len, 0);
                data = padded.as_slice();
            }
            if pi.reason == PacketInReason::NoMatch {
                let standalone = self.config.fail_mode == AgentFailMode::Standalone
                    && !self.controller_connected();
                if standalone {
                    self.stats.fail_open_frames += 1;
                    out.push_normal(in_port, data);
                    continue;
                }
            }
            if no_packet_in {
                continue;
            }
            let reason = match pi.reason {
                PacketInReason::NoMatch => 0u8,
                PacketInReason::Action => 1,
                PacketInReason::InvalidTtl => 2,
            };
            let max_len = pi.max_len;
            let keep = if max_len == 0xffff {
                data.len()
            } else {
                data.len().min(usize::from(max_len))
            };
            let mut m = Match::new().with(OxmField::in_port(PortNo(pi.in_port)));
            if pi.metadata != 0 {
                m.set(OxmField::from_uint(
                    flowlab_openflow::model::OxmId::Metadata,
                    pi.metadata,
                ));
            }
            if pi.tunnel_id != 0 {
                m.set(OxmField::from_uint(
                    flowlab_openflow::model::OxmId::TunnelId,
                    pi.tunnel_id,
                ));
            }
            let msg = Message::PacketIn(PacketIn {
                buffer_id: NO_BUFFER,
                total_len: data.len().min(usize::from(u16::MAX)) as u16,
                reason,
                table_id: pi.table_id,
                cookie: pi.cookie,
                match_: m,
                data: data[..keep].to_vec(),
            });
            let sent = if pi.reason == PacketInReason::NoMatch && pi.cookie == u64::MAX {
                // A miss with no table-miss entry: only 1.0 sends it to the controller.
                self.broadcast_v10(&msg)
            } else {
                self.broadcast(AsyncKind::PacketIn, reason, &msg)
            };
            self.stats.packet_ins += sent as u64;
        }
    }

    fn can_forward(&self, p: u32) -> bool {
        self.ports
            .get(&p)
            .is_some_and(|e| e.config & (port_config::NO_FWD | port_config::PORT_DOWN) == 0)
    }

    /// Statistics the pipeline answers. None when an error was sent.
    pub(crate) fn pipeline_multipart(
        &mut self,
        r: &Request<'_>,
        body: MultipartRequestBody,
    ) -> Option<Vec<MultipartReplyBody>> {
        let v = r.version;
        match body {
            MultipartRequestBody::Flow(q) => {
                let req = self.stats_request(r, &q)?;
                let list = match self.pipeline.flow_stats(&req, r.now) {
                    Ok(l) => l,
                    Err(e) => {
                        self.error(r, pipeline_error(e));
                        return None;
                    }
                };
                let stats: Vec<FlowStats> = list
                    .into_iter()
                    .map(|s| {
                        let key = (s.table_id, s.priority, s.flow_match);
                        let (match_, instructions) = self
                            .scratch
                            .flows
                            .get(&key)
                            .cloned()
                            .unwrap_or_else(|| (match_from_dp(&s.flow_match), Vec::new()));
                        FlowStats {
                            table_id: s.table_id,
                            duration_sec: s.duration.as_secs() as u32,
                            duration_nsec: s.duration.subsec_nanos(),
                            priority: s.priority,
                            idle_timeout: secs(s.idle_timeout),
                            hard_timeout: secs(s.hard_timeout),
                            flags: flags_from_dp(s.flags, v),
                            cookie: s.cookie,
                            packet_count: s.packet_count,
                            byte_count: s.byte_count,
                            match_,
                            instructions,
                        }
                    })
                    .collect();
                // A 1.0 controller sees the flows 1.0 can express (table 0, apply-actions
                // of 1.0 actions); a 1.3 controller sees every flow.
                let stats: Vec<FlowStats> = if v == OFP10 {
                    stats
                        .into_iter()
                        .filter(|s| {
                            let probe =
                                Message::MultipartReply(flowlab_openflow::model::MultipartReply {
                                    flags: 0,
                                    body: MultipartReplyBody::Flow(vec![s.clone()]),
                                });
                            flowlab_openflow::encode(OFP10, 0, &probe, &mut Vec::new()).is_ok()
                        })
                        .collect()
                } else {
                    stats
                };
                // Keep each reply message well under 64 KiB.
                let mut bodies: Vec<MultipartReplyBody> = stats
                    .chunks(100)
                    .map(|c| MultipartReplyBody::Flow(c.to_vec()))
                    .collect();
                if bodies.is_empty() {
                    bodies.push(MultipartReplyBody::Flow(Vec::new()));
                }
                Some(bodies)
            }
            MultipartRequestBody::Aggregate(q) => {
                let req = self.stats_request(r, &q)?;
                match self.pipeline.aggregate_stats(&req) {
                    Ok(a) => Some(vec![MultipartReplyBody::Aggregate(AggregateStats {
                        packet_count: a.packet_count,
                        byte_count: a.byte_count,
                        flow_count: a.flow_count,
                    })]),
                    Err(e) => {
                        self.error(r, pipeline_error(e));
                        None
                    }
                }
            }
            MultipartRequestBody::Table => {
                let n = self.n_tables(v);
                let list: Vec<TableStats> = self
                    .pipeline
                    .table_stats()
                    .into_iter()
                    .filter(|t| t.table_id < n)
                    .map(|t| TableStats {
                        table_id: t.table_id,
                        name: format!("table{}", t.table_id),
                        wildcards: 0x3f_ffff,
                        max_entries: self.config.max_entries.min(u32::MAX as usize) as u32,
                        active_count: t.active_count,
                        lookup_count: t.lookup_count,
                        matched_count: t.matched_count,
                    })
                    .collect();
                Some(
                    list.chunks(60)
                        .map(|c| MultipartReplyBody::Table(c.to_vec()))
                        .collect(),
                )
            }
            MultipartRequestBody::Group(id) => {
                let list = self
                    .pipeline
                    .group_stats(id, r.now)
                    .into_iter()
                    .map(|g| GroupStats {
                        group_id: g.group_id,
                        ref_count: g.ref_count,
                        packet_count: g.counts.packets,
                        byte_count: g.counts.bytes,
                        duration_sec: g.duration.as_secs() as u32,
                        duration_nsec: g.duration.subsec_nanos(),
                        bucket_stats: g
                            .buckets
                            .iter()
                            .map(|b| BucketCounter {
                                packet_count: b.packets,
                                byte_count: b.bytes,
                            })
                            .collect(),
                    })
                    .collect();
                Some(vec![MultipartReplyBody::Group(list)])
            }
            MultipartRequestBody::GroupDesc => {
                let list = self
                    .pipeline
                    .group_desc()
                    .into_iter()
                    .map(|g| GroupDesc {
                        group_type: g.group_type.number(),
                        group_id: g.group_id,
                        buckets: self
                            .scratch
                            .groups
                            .get(&g.group_id)
                            .cloned()
                            .unwrap_or_default(),
                    })
                    .collect();
                Some(vec![MultipartReplyBody::GroupDesc(list)])
            }
            MultipartRequestBody::GroupFeatures => {
                let f = self.pipeline.group_features();
                Some(vec![MultipartReplyBody::GroupFeatures(GroupFeatures {
                    types: f.types,
                    capabilities: f.capabilities,
                    max_groups: f.max_groups,
                    actions: f.actions,
                })])
            }
            MultipartRequestBody::Meter(id) => match self.pipeline.meter_stats(id, r.now) {
                Ok(list) => Some(vec![MultipartReplyBody::Meter(
                    list.into_iter()
                        .map(|m| MeterStats {
                            meter_id: m.meter_id,
                            flow_count: m.flow_count,
                            packet_in_count: m.input.packets,
                            byte_in_count: m.input.bytes,
                            duration_sec: m.duration.as_secs() as u32,
                            duration_nsec: m.duration.subsec_nanos(),
                            band_stats: m
                                .bands
                                .iter()
                                .map(|b| MeterBandStats {
                                    packet_band_count: b.packets,
                                    byte_band_count: b.bytes,
                                })
                                .collect(),
                        })
                        .collect(),
                )]),
                Err(e) => {
                    self.error(r, pipeline_error(e));
                    None
                }
            },
            MultipartRequestBody::MeterConfig(id) => match self.pipeline.meter_config(id) {
                Ok(list) => Some(vec![MultipartReplyBody::MeterConfig(
                    list.into_iter()
                        .map(|m| MeterConfig {
                            flags: m.flags.0,
                            meter_id: m.meter_id,
                            bands: m
                                .bands
                                .iter()
                                .map(|b| match b.kind {
                                    pl::BandKind::DscpRemark { prec_level } => {
                                        MeterBand::DscpRemark {
                                            rate: b.rate,
                                            burst_size: b.burst_size,
                                            prec_level,
                                        }
                                    }
                                    _ => MeterBand::Drop {
                                        rate: b.rate,
                                        burst_size: b.burst_size,
                                    },
                                })
                                .collect(),
                        })
                        .collect(),
                )]),
                Err(e) => {
                    self.error(r, pipeline_error(e));
                    None
                }
            },
            MultipartRequestBody::MeterFeatures => {
                let f = self.pipeline.meter_features();
                Some(vec![MultipartReplyBody::MeterFeatures(MeterFeatures {
                    max_meter: f.max_meter,
                    band_types: f.band_types,
                    capabilities: f.capabilities,
                    max_bands: f.max_bands,
                    max_color: f.max_color,
                })])
            }
            MultipartRequestBody::TableFeatures(set) => {
                if !set.is_empty() {
                    self.error(
                        r,
                        ErrorCode::TableFeaturesFailed(TableFeaturesFailedCode::Eperm),
                    );
                    return None;
                }
                Some(self.table_features())
            }
            _ => {
                self.error(r, ErrorCode::BadRequest(BadRequestCode::BadMultipart));
                None
            }
        }
    }

    fn stats_request(
        &mut self,
        r: &Request<'_>,
        q: &flowlab_openflow::model::multipart::FlowStatsRequest,
    ) -> Option<pl::FlowStatsRequest> {
        let flow_match = match match_to_dp(&q.match_, r.version) {
            Ok(m) => m,
            Err(code) => {
                self.error(r, code);
                return None;
            }
        };
        Some(pl::FlowStatsRequest {
            // 1.0 has one table: table 0.
            table_id: if r.version == OFP10 { 0 } else { q.table_id },
            out_port: q.out_port.0,
            out_group: if r.version == OFP10 {
                GROUP_ANY
            } else {
                q.out_group
            },
            cookie: q.cookie,
            cookie_mask: q.cookie_mask,
            flow_match,
        })
    }

    /// Table features: every table takes every field, instruction and action.
    fn table_features(&self) -> Vec<MultipartReplyBody> {
        use flowlab_openflow::model::multipart::{FeatureId, OxmFeatureId, TableFeatureProp};
        use flowlab_openflow::model::OxmId;
        let n = self.config.n_tables;
        let fields: Vec<OxmFeatureId> = OxmId::basic_fields()
            .filter(|id| crate::translate::field_of(*id).is_some())
            .map(|id| OxmFeatureId {
                id,
                has_mask: id.maskable(),
                length: id.value_len().unwrap_or(0) as u8 * if id.maskable() { 2 } else { 1 },
            })
            .collect();
        // Set-field properties list fields without masks (set_field takes none).
        let settable: Vec<OxmFeatureId> = OxmId::basic_fields()
            .filter(|id| crate::translate::field_of(*id).is_some_and(|f| f.settable()))
            .map(|id| OxmFeatureId {
                id,
                has_mask: false,
                length: id.value_len().unwrap_or(0) as u8,
            })
            .collect();
        let wildcards: Vec<OxmFeatureId> = fields
            .iter()
            .map(|f| OxmFeatureId {
                id: f.id,
                has_mask: false,
                length: f.id.value_len().unwrap_or(0) as u8,
            })
            .collect();
        let instructions: Vec<FeatureId> = [1u16, 2, 3, 4, 5, 6]
            .iter()
            .map(|&t| FeatureId {
                id_type: t,
                data: Vec::new(),
            })
            .collect();
        let actions: Vec<FeatureId> = [
            0u16, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
        ]
        .iter()
        .map(|&t| FeatureId {
            id_type: t,
            data: Vec::new(),
        })
        .collect();
        let mut all = Vec::new();
        for t in 0..n {
            let next: Vec<u8> = ((t + 1)..n).collect();
            let mut props = vec![
                TableFeatureProp::Instructions {
                    miss: false,
                    ids: instructions.clone(),
                },
                TableFeatureProp::Instructions {
                    miss: true,
                    ids: instructions.clone(),
                },
                TableFeatureProp::NextTables {
                    miss: false,
                    tables: next.clone(),
                },
                TableFeatureProp::NextTables {
                    miss: true,
                    tables: next,
                },
                TableFeatureProp::WriteActions {
                    miss: false,
                    ids: actions.clone(),
                },
                TableFeatureProp::WriteActions {
                    miss: true,
                    ids: actions.clone(),
                },
                TableFeatureProp::ApplyActions {
                    miss: false,
                    ids: actions.clone(),
                },
                TableFeatureProp::ApplyActions {
                    miss: true,
                    ids: actions.clone(),
                },
                TableFeatureProp::Match(fields.clone()),
                // Wildcards list the fields that may be left out, without masks.
                TableFeatureProp::Wildcards(wildcards.clone()),
            ];
            for miss in [false, true] {
                props.push(TableFeatureProp::WriteSetfield {
                    miss,
                    ids: settable.clone(),
                });
                props.push(TableFeatureProp::ApplySetfield {
                    miss,
                    ids: settable.clone(),
                });
            }
            all.push(TableFeatures {
                table_id: t,
                name: format!("table{t}"),
                metadata_match: u64::MAX,
                metadata_write: u64::MAX,
                config: 0,
                max_entries: self.config.max_entries.min(u32::MAX as usize) as u32,
                properties: props,
            });
        }
        // About 1.3 KiB per table: 20 tables per message.
        all.chunks(20)
            .map(|c| MultipartReplyBody::TableFeatures(c.to_vec()))
            .collect()
    }
}
