//! Running packets: the per-packet frame context, action lists, the action set, groups,
//! and the walk through the tables with the path cache in front.

use core::time::Duration;
use std::collections::HashSet;

use crate::actions::{apply_with, Action, ActionSetKey, ApplyContext, ApplyError};
use crate::actions::{OutputList, OutputPort};
use crate::field::Field;
use crate::key::{extract, FlowKey, FrameLayout};

use super::cache::{layout_word, CacheKey, Path, PathCache, Probe, Step};
use super::group::{GroupCounters, GroupDefs, GroupType, MAX_GROUP_DEPTH};
use super::meter::{remark_dscp, MeterTable, Verdict};
use super::output::{FrameRef, PacketIn, PacketInReason, PipelineOutput, PortOutput};
use super::table::Table;
use super::TableMiss;

/// Whether an action may change the frame's bytes (so outputs before it need a copy of
/// the frame as it was). Outputs, groups, `set_queue` and the `set_field`s of metadata
/// and tunnel id (which live beside the frame) do not.
pub(crate) fn touches_frame(action: &Action) -> bool {
    match action {
        Action::SetQueue(_) => false,
        Action::SetField(v) => !matches!(v.field(), Field::Metadata | Field::TunnelId),
        a => !a.is_output(),
    }
}

/// Whether the flow key after `action` (on a frame of layout `layout`, not truncated) is a
/// function of the flow key before it. True for rewrites of fields the key holds; false
/// for those that uncover headers the key does not describe (popping an inner VLAN tag,
/// MPLS or PBB decapsulation, TTL copies between headers, rewriting the type fields that
/// decide how the rest of the frame is parsed). See the module documentation.
pub(crate) fn key_determined(action: &Action, layout: &FrameLayout) -> bool {
    match action {
        Action::SetEthSrc(_)
        | Action::SetEthDst(_)
        | Action::SetVlanVid(_)
        | Action::SetVlanPcp(_)
        | Action::PushVlan(_)
        | Action::SetIpv4Src(_)
        | Action::SetIpv4Dst(_)
        | Action::SetIpDscp(_)
        | Action::SetIpTtl(_)
        | Action::DecIpTtl
        | Action::SetTpSrc(_)
        | Action::SetTpDst(_)
        | Action::SetQueue(_) => true,
        Action::PopVlan => layout.vlan_tags <= 1,
        Action::SetField(v) => !matches!(
            v.field(),
            Field::EthType | Field::IpProto | Field::Icmpv6Type | Field::Icmpv6Code
        ),
        a => a.is_output(),
    }
}

/// Who put an action in front of the packet: for packet-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Source {
    pub(crate) table_id: u8,
    pub(crate) cookie: u64,
    /// A table-miss flow (priority 0, match-all): its controller outputs are reported as
    /// `NoMatch`.
    pub(crate) miss_flow: bool,
}

impl Source {
    /// A packet-out's own actions.
    pub(crate) const PACKET_OUT: Source = Source {
        table_id: 0xff,
        cookie: u64::MAX,
        miss_flow: false,
    };
}

/// One packet (or one copy of it) being processed.
#[derive(Debug)]
pub(crate) struct FrameCtx<'f> {
    pub(crate) frame: &'f mut Vec<u8>,
    /// How outputs refer to this frame.
    pub(crate) slot: FrameRef,
    pub(crate) layout: FrameLayout,
    /// The flow key; stale while `key_dirty`.
    pub(crate) key: FlowKey,
    pub(crate) key_dirty: bool,
    /// Metadata, tunnel id, queue.
    pub(crate) actx: ApplyContext,
    pub(crate) in_port: u32,
    /// A rewrite whose effect on the key the key does not determine has run.
    pub(crate) hidden: bool,
    /// Outputs and packet-ins from these indices on may still refer to the live frame.
    out_from: usize,
    pin_from: usize,
}

impl<'f> FrameCtx<'f> {
    /// A context for `frame` (referred to as `slot`) from `in_port`, with pipeline fields
    /// `actx`, outputs counted from `out`'s current length. The key is extracted on first
    /// use.
    pub(crate) fn new(
        frame: &'f mut Vec<u8>,
        slot: FrameRef,
        in_port: u32,
        actx: ApplyContext,
        out: &PipelineOutput,
    ) -> Self {
        FrameCtx {
            frame,
            slot,
            layout: FrameLayout::default(),
            key: FlowKey::default(),
            key_dirty: true,
            actx,
            in_port,
            hidden: false,
            out_from: out.outputs.len(),
            pin_from: out.packet_ins.len(),
        }
    }

    /// The flow key of the frame as it is now, with the current metadata and tunnel id.
    #[inline]
    pub(crate) fn fresh_key(&mut self) -> &FlowKey {
        if self.key_dirty {
            self.layout = extract(self.frame, self.in_port, &mut self.key);
            self.key_dirty = false;
        }
        self.key.metadata = self.actx.metadata;
        self.key.tunnel_id = self.actx.tunnel_id;
        &self.key
    }
}

/// The action set of one packet: at most one action per [`ActionSetKey`], kept sorted by
/// key, which is the order OpenFlow 1.3 §5.10 executes them in.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionSet {
    entries: Vec<(ActionSetKey, Action, Source)>,
}

impl ActionSet {
    /// Empties the set (keeps capacity).
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Write-actions: each action replaces the set's action of its key.
    pub(crate) fn write(&mut self, actions: &[Action], src: Source) {
        for a in actions {
            let k = a.action_set_key();
            match self.entries.binary_search_by(|e| e.0.cmp(&k)) {
                Ok(i) => self.entries[i] = (k, *a, src),
                Err(i) => self.entries.insert(i, (k, *a, src)),
            }
        }
    }

    /// The actions in execution order.
    #[cfg(test)]
    pub(crate) fn actions(&self) -> Vec<Action> {
        self.entries.iter().map(|e| e.1).collect()
    }
}

/// What the action-running half of the pipeline borrows: groups, ports, the output.
#[derive(Debug)]
pub(crate) struct Engine<'a> {
    pub(crate) groups: &'a GroupDefs,
    pub(crate) group_counters: &'a mut [GroupCounters],
    pub(crate) live_ports: &'a HashSet<u32>,
    pub(crate) out: &'a mut PipelineOutput,
    pub(crate) scratch: &'a mut OutputList,
    pub(crate) miss_send_len: u16,
    pub(crate) invalid_ttl_to_controller: bool,
    /// Group buckets this packet may still run (see [`BUCKET_BUDGET`]).
    pub(crate) budget: u32,
}

/// Group buckets one packet may run in all. Group chains are loop-free, but a chain of
/// `All` groups fans out geometrically; this bounds the work one packet can cause.
pub(crate) const BUCKET_BUDGET: u32 = 4096;

impl Engine<'_> {
    /// Runs `actions` on the frame; false when the packet is dropped (invalid TTL).
    pub(crate) fn run_actions(
        &mut self,
        actions: &[Action],
        fc: &mut FrameCtx,
        src: Source,
        depth: usize,
    ) -> bool {
        for a in actions {
            if !self.run_action(a, fc, src, depth) {
                return false;
            }
        }
        true
    }

    /// Runs one action.
    #[inline]
    fn run_action(&mut self, a: &Action, fc: &mut FrameCtx, src: Source, depth: usize) -> bool {
        match a.output_port() {
            Some(OutputPort::Group(g)) => {
                self.run_group(g, fc, src, depth, false);
                true
            }
            Some(port) => {
                self.emit(port, fc, src);
                true
            }
            None => self.rewrite(a, fc, src),
        }
    }

    /// Records an output of the frame as it is now.
    fn emit(&mut self, port: OutputPort, fc: &mut FrameCtx, src: Source) {
        match port {
            OutputPort::Controller { max_len } => {
                let reason = if src.miss_flow {
                    PacketInReason::NoMatch
                } else {
                    PacketInReason::Action
                };
                self.packet_in(reason, src.table_id, src.cookie, max_len, fc);
            }
            // Resubmission is the packet-out's business; groups are run by the caller.
            OutputPort::Table | OutputPort::Group(_) => {}
            port => self.out.outputs.push(PortOutput {
                port,
                queue: fc.actx.queue,
                frame: fc.slot,
            }),
        }
    }

    /// Records a packet-in of the frame as it is now.
    pub(crate) fn packet_in(
        &mut self,
        reason: PacketInReason,
        table_id: u8,
        cookie: u64,
        max_len: u16,
        fc: &FrameCtx,
    ) {
        self.out.packet_ins.push(PacketIn {
            reason,
            table_id,
            cookie,
            in_port: fc.in_port,
            metadata: fc.actx.metadata,
            tunnel_id: fc.actx.tunnel_id,
            max_len,
            frame: fc.slot,
        });
    }

    /// Outputs recorded since the last freeze that refer to the live frame get a copy of
    /// it, before the frame changes.
    fn freeze(&mut self, fc: &mut FrameCtx) {
        if self.out.refers_to(fc.out_from, fc.pin_from, fc.slot) {
            let copy = FrameRef::Buffer(self.out.copy_of(fc.frame));
            self.out.retarget(fc.out_from, fc.pin_from, fc.slot, copy);
        }
        fc.out_from = self.out.outputs.len();
        fc.pin_from = self.out.packet_ins.len();
    }

    /// Runs a non-output action; false when it drops the packet.
    fn rewrite(&mut self, a: &Action, fc: &mut FrameCtx, src: Source) -> bool {
        if touches_frame(a) {
            self.freeze(fc);
            if !key_determined(a, &fc.layout) {
                fc.hidden = true;
            }
            fc.key_dirty = true;
        }
        match apply_with(
            core::slice::from_ref(a),
            fc.frame,
            &mut fc.layout,
            self.scratch,
            &mut fc.actx,
        ) {
            Ok(()) => true,
            Err(ApplyError::InvalidTtl) => {
                if self.invalid_ttl_to_controller {
                    let len = self.miss_send_len;
                    self.packet_in(
                        PacketInReason::InvalidTtl,
                        src.table_id,
                        src.cookie,
                        len,
                        fc,
                    );
                }
                false
            }
            #[allow(unreachable_patterns)]
            Err(_) => false,
        }
    }

    /// A meter's DSCP remark band: raises the drop precedence of an IP packet.
    pub(crate) fn remark(&mut self, fc: &mut FrameCtx, prec_level: u8, src: Source) {
        let key = fc.fresh_key();
        if key.eth_type != 0x0800 && key.eth_type != 0x86dd {
            return;
        }
        let dscp = remark_dscp(key.ip_dscp, prec_level);
        if dscp != key.ip_dscp {
            self.rewrite(&Action::SetIpDscp(dscp), fc, src);
        }
    }

    /// Runs group `id` on the frame. With `consume`, nothing follows in this context, so
    /// the last bucket may rewrite the frame itself instead of a copy.
    pub(crate) fn run_group(
        &mut self,
        id: u32,
        fc: &mut FrameCtx,
        src: Source,
        depth: usize,
        consume: bool,
    ) {
        let groups: &GroupDefs = self.groups;
        if depth >= MAX_GROUP_DEPTH {
            return;
        }
        let Some(slot) = groups.slot_of(id) else {
            return;
        };
        let Some(g) = groups.at(slot) else {
            return;
        };
        let bytes = fc.frame.len() as u64;
        if let Some(c) = self.group_counters.get_mut(slot as usize) {
            c.group.add(bytes);
        }
        let one = match g.group_type {
            GroupType::All => {
                let last = g.buckets.len().saturating_sub(1);
                for i in 0..g.buckets.len() {
                    self.run_bucket(slot, i, fc, src, depth, consume && i == last);
                }
                return;
            }
            GroupType::Indirect => (!g.buckets.is_empty()).then_some(0),
            GroupType::Select => {
                let key = *fc.fresh_key();
                groups.select_bucket(g, &key, self.live_ports)
            }
            GroupType::FastFailover => groups.first_live(g, self.live_ports),
        };
        if let Some(i) = one {
            self.run_bucket(slot, i, fc, src, depth, consume);
        }
    }

    /// Runs bucket `i` of the group in `slot`: on a copy of the frame when it rewrites and
    /// the frame is still needed, on the frame itself otherwise.
    fn run_bucket(
        &mut self,
        slot: u32,
        i: usize,
        fc: &mut FrameCtx,
        src: Source,
        depth: usize,
        in_place: bool,
    ) {
        let groups: &GroupDefs = self.groups;
        let Some(g) = groups.at(slot) else {
            return;
        };
        let (Some(bucket), Some(&rewrites)) = (g.buckets.get(i), g.rewrites.get(i)) else {
            return;
        };
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let bytes = fc.frame.len() as u64;
        if let Some(c) = self
            .group_counters
            .get_mut(slot as usize)
            .and_then(|c| c.buckets.get_mut(i))
        {
            c.add(bytes);
        }
        if rewrites && !in_place {
            let b = self.out.copy_of(fc.frame);
            let mut buf = self.out.take(b);
            let mut child = FrameCtx {
                frame: &mut buf,
                slot: FrameRef::Buffer(b),
                layout: fc.layout,
                key: fc.key,
                key_dirty: fc.key_dirty,
                actx: fc.actx,
                in_port: fc.in_port,
                hidden: false,
                out_from: self.out.outputs.len(),
                pin_from: self.out.packet_ins.len(),
            };
            self.run_actions(&bucket.actions, &mut child, src, depth + 1);
            self.out.put_back(b, buf);
        } else {
            let saved = fc.actx;
            self.run_actions(&bucket.actions, fc, src, depth + 1);
            if !in_place {
                fc.actx = saved;
            }
        }
    }

    /// Executes the action set at the end of the pipeline: every action in §5.10 order;
    /// the group if there is one, else the output.
    pub(crate) fn run_action_set(&mut self, set: &ActionSet, fc: &mut FrameCtx) {
        let has_group = set.entries.iter().any(|e| e.0 == ActionSetKey::Group);
        for &(k, a, src) in &set.entries {
            match k {
                ActionSetKey::Output if has_group => {}
                ActionSetKey::Group => {
                    if let Action::Group(g) = a {
                        self.run_group(g, fc, src, 0, true);
                    }
                }
                _ => {
                    if !self.run_action(&a, fc, src, 0) {
                        return;
                    }
                }
            }
        }
    }
}

/// What the table-walking half of the pipeline borrows.
#[derive(Debug)]
pub(crate) struct Stage<'a> {
    pub(crate) tables: &'a mut [Table],
    pub(crate) meters: &'a mut MeterTable,
    pub(crate) cache: &'a mut PathCache,
    pub(crate) action_set: &'a mut ActionSet,
    pub(crate) generation: u64,
    pub(crate) miss: TableMiss,
    pub(crate) now: Duration,
}

impl Stage<'_> {
    /// Takes the packet in `fc` through the tables from table 0, then executes its action
    /// set. See the module documentation for the cache.
    pub(crate) fn run(&mut self, e: &mut Engine, fc: &mut FrameCtx) {
        let bytes = fc.frame.len() as u64;
        let now = self.now;
        self.action_set.clear();
        fc.fresh_key();
        // Probe with the input key; on a miss, remember the key and its hash to store the
        // path under.
        let (mut replay, store) = if self.cache.enabled() {
            match self
                .cache
                .probe(self.generation, &fc.key, layout_word(&fc.layout))
            {
                Probe::Hit(entry) => (Some(entry), None),
                Probe::Miss(hash) => (None, Some((hash, CacheKey::new(&fc.key, &fc.layout)))),
            }
        } else {
            (None, None)
        };
        let mut cacheable = !fc.layout.truncated;
        let mut path = Path::EMPTY;
        let mut table_id: u8 = 0;
        let mut step = 0usize;
        let mut missed = false;
        loop {
            let t = usize::from(table_id);
            let Some(table) = self.tables.get_mut(t) else {
                return;
            };
            let cached = replay
                .and_then(|entry| self.cache.step(entry, step))
                .filter(|s| s.table == table_id);
            let found = match cached {
                Some(s) if s.flow.is_none_or_valid(table) => s.flow,
                _ => {
                    replay = None;
                    if step > 0 && fc.hidden {
                        cacheable = false;
                    }
                    table.flows.classify(fc.fresh_key())
                }
            };
            if store.is_some()
                && !path.push(Step {
                    table: table_id,
                    flow: found,
                })
            {
                cacheable = false;
            }
            table.counters.add_lookup(found.is_some());
            let Some(h) = found else {
                if self.miss == TableMiss::Controller {
                    let len = e.miss_send_len;
                    e.packet_in(PacketInReason::NoMatch, table_id, u64::MAX, len, fc);
                }
                // A miss ends the walk; the action set does not run.
                missed = true;
                break;
            };
            // (`found` resolves: the classifier found it, or the check above passed.)
            let Some(entry) = table.flows.get_mut(h) else {
                return;
            };
            entry.counters_mut().add_packet(bytes, now);
            let entry = &*entry;
            let ins = entry.actions();
            let src = Source {
                table_id,
                cookie: entry.cookie(),
                miss_flow: entry.priority() == 0 && entry.flow_match().is_catchall(),
            };
            if let Some(m) = ins.meter {
                match self.meters.apply(m, bytes, now) {
                    Verdict::Pass => {}
                    Verdict::Drop => return,
                    Verdict::Remark(level) => {
                        e.remark(fc, level, src);
                        if ins.goto_table.is_some() {
                            // The later lookups see a key the cache key does not imply.
                            cacheable = false;
                            replay = None;
                        }
                    }
                }
            }
            if let Some(actions) = &ins.apply_actions {
                if !e.run_actions(actions, fc, src, 0) {
                    return;
                }
            }
            if ins.clear_actions {
                self.action_set.clear();
            }
            if let Some(actions) = &ins.write_actions {
                self.action_set.write(actions, src);
            }
            if let Some((value, mask)) = ins.write_metadata {
                fc.actx.metadata = (fc.actx.metadata & !mask) | (value & mask);
            }
            match ins.goto_table {
                Some(next) => {
                    table_id = next;
                    step += 1;
                }
                None => break,
            }
        }
        if let (Some((hash, key)), true) = (store, cacheable) {
            self.cache.store(hash, self.generation, &key, &path);
        }
        if !missed {
            e.run_action_set(self.action_set, fc);
        }
    }
}

/// Whether a cached step's flow still resolves (always, unless the generation check has a
/// hole; then the packet takes the slow path).
trait StepCheck {
    fn is_none_or_valid(&self, table: &Table) -> bool;
}

impl StepCheck for Option<crate::classifier::FlowHandle> {
    #[inline]
    fn is_none_or_valid(&self, table: &Table) -> bool {
        match self {
            None => true,
            Some(h) => table.flows.get(*h).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::FieldValue;
    use crate::wire::EtherType;

    #[test]
    fn action_set_keeps_one_per_type_in_spec_order() {
        let mut set = ActionSet::default();
        let src = Source::PACKET_OUT;
        set.write(
            &[
                Action::Output(1),
                Action::Group(3),
                Action::SetVlanVid(4),
                Action::PushVlan(EtherType::Vlan),
                Action::DecIpTtl,
                Action::PopVlan,
                Action::SetQueue(2),
            ],
            src,
        );
        set.write(&[Action::Output(5), Action::SetVlanVid(6)], src);
        assert_eq!(
            set.actions(),
            [
                Action::PopVlan,
                Action::PushVlan(EtherType::Vlan),
                Action::DecIpTtl,
                Action::SetVlanVid(6),
                Action::SetQueue(2),
                Action::Group(3),
                Action::Output(5),
            ]
        );
        set.clear();
        assert!(set.actions().is_empty());
    }

    #[test]
    fn classification_of_actions() {
        let meta = FieldValue::from_uint(Field::Metadata, 1).unwrap();
        let tunnel = FieldValue::from_uint(Field::TunnelId, 1).unwrap();
        let eth_type = FieldValue::from_uint(Field::EthType, 0x0800).unwrap();
        let ipv4 = FieldValue::from_uint(Field::Ipv4Src, 1).unwrap();
        for a in [
            Action::Output(1),
            Action::Group(1),
            Action::SetQueue(1),
            Action::SetField(meta),
            Action::SetField(tunnel),
        ] {
            assert!(!touches_frame(&a), "{a:?}");
        }
        for a in [
            Action::PopVlan,
            Action::DecIpTtl,
            Action::SetField(ipv4),
            Action::PopPbb,
        ] {
            assert!(touches_frame(&a), "{a:?}");
        }
        let one = FrameLayout {
            vlan_tags: 1,
            ..FrameLayout::default()
        };
        let two = FrameLayout {
            vlan_tags: 2,
            ..FrameLayout::default()
        };
        assert!(key_determined(&Action::PopVlan, &one));
        assert!(!key_determined(&Action::PopVlan, &two));
        assert!(key_determined(&Action::SetField(ipv4), &one));
        assert!(!key_determined(&Action::SetField(eth_type), &one));
        assert!(!key_determined(&Action::PopMpls(EtherType::Ipv4), &one));
        assert!(!key_determined(&Action::PopPbb, &one));
        assert!(!key_determined(&Action::CopyTtlIn, &one));
    }
}
