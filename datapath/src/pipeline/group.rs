//! Groups (OpenFlow 1.3 §5.6): the group table, group_mod and its checks, bucket choice.
//!
//! A group is a list of buckets, each an action list. Its type says which buckets a packet
//! goes through: `All` every bucket (each on its own copy of the packet), `Select` one
//! chosen by a hash of the packet's addresses and ports weighted by the bucket weights (so
//! one connection always takes the same bucket while many spread by weight), `Indirect`
//! its one bucket, `FastFailover` the first *live* bucket.
//!
//! Liveness: a bucket that watches nothing is live; one that watches a port is live while
//! that port is (the caller reports ports with
//! [`Pipeline::set_port_live`](super::Pipeline::set_port_live); a port never reported is
//! down); one that watches a group is live while that group has a live bucket. A bucket
//! that watches both is live if either is, as in Open vSwitch. Select groups skip dead
//! buckets and buckets of weight 0.
//!
//! Definitions and counters live apart (`GroupDefs` and a counter vector indexed alike)
//! so a packet can read bucket actions while counting on the same group.

use core::time::Duration;
use std::collections::{HashMap, HashSet};

use crate::actions::Action;
use crate::key::FlowKey;

use super::error::PipelineError;
use super::instructions::check_actions;
use super::table::{FlowRemovedReason, RemovedFlow};
use super::{Pipeline, GROUP_ALL, GROUP_ANY, GROUP_MAX, PORT_ANY};

/// How a group uses its buckets (`ofp_group_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupType {
    /// Every bucket, each on its own copy of the packet (`OFPGT_ALL`): multicast, flooding.
    All,
    /// One bucket, chosen by a hash of the flow, weighted (`OFPGT_SELECT`).
    Select,
    /// The one bucket (`OFPGT_INDIRECT`): a shared next hop.
    Indirect,
    /// The first live bucket (`OFPGT_FF`).
    FastFailover,
}

impl GroupType {
    /// The OpenFlow type number.
    pub fn number(self) -> u8 {
        match self {
            GroupType::All => 0,
            GroupType::Select => 1,
            GroupType::Indirect => 2,
            GroupType::FastFailover => 3,
        }
    }
}

/// One bucket of a group (`ofp_bucket`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bucket {
    /// Relative weight, for select groups only (0 elsewhere; a select bucket of weight 0
    /// is never chosen).
    pub weight: u16,
    /// Port whose liveness gates the bucket ([`PORT_ANY`]: none).
    pub watch_port: u32,
    /// Group whose liveness gates the bucket ([`GROUP_ANY`]: none).
    pub watch_group: u32,
    /// The actions, applied in order to the packet (a copy of it, for `All`).
    pub actions: Vec<Action>,
}

impl Bucket {
    /// A bucket of weight 0 watching nothing.
    pub fn new(actions: Vec<Action>) -> Self {
        Bucket {
            weight: 0,
            watch_port: PORT_ANY,
            watch_group: GROUP_ANY,
            actions,
        }
    }

    /// Sets the weight.
    #[must_use]
    pub fn with_weight(mut self, weight: u16) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the watch port.
    #[must_use]
    pub fn with_watch_port(mut self, port: u32) -> Self {
        self.watch_port = port;
        self
    }

    /// Sets the watch group.
    #[must_use]
    pub fn with_watch_group(mut self, group_id: u32) -> Self {
        self.watch_group = group_id;
        self
    }

    /// Whether the bucket watches a port or a group.
    pub fn has_watch(&self) -> bool {
        self.watch_port != PORT_ANY || self.watch_group != GROUP_ANY
    }
}

/// What a group_mod does (`ofp_group_mod_command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupModCommand {
    /// Create a group.
    Add,
    /// Replace a group's type and buckets (its counters stay).
    Modify,
    /// Remove a group ([`GROUP_ALL`]: every group) and the flows that forward to it.
    Delete,
}

/// A group table change (`ofp_group_mod`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupMod {
    /// What to do.
    pub command: GroupModCommand,
    /// The group's type (ignored by delete).
    pub group_type: GroupType,
    /// The group (up to [`GROUP_MAX`]; [`GROUP_ALL`] for delete).
    pub group_id: u32,
    /// The buckets (ignored by delete).
    pub buckets: Vec<Bucket>,
}

/// A group's definition with what the datapath precomputes from it.
#[derive(Debug, Clone)]
pub(crate) struct GroupDef {
    pub(crate) id: u32,
    pub(crate) group_type: GroupType,
    pub(crate) buckets: Vec<Bucket>,
    /// Per bucket: whether its actions may change the frame's bytes (then the bucket runs
    /// on its own copy).
    pub(crate) rewrites: Vec<bool>,
    pub(crate) created: Duration,
}

/// Packet and byte counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PacketCounts {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

impl PacketCounts {
    /// Counts one packet of `bytes` bytes.
    #[inline]
    pub fn add(&mut self, bytes: u64) {
        self.packets = self.packets.wrapping_add(1);
        self.bytes = self.bytes.wrapping_add(bytes);
    }
}

/// A group's counters, in the same slot as its definition.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupCounters {
    pub(crate) group: PacketCounts,
    pub(crate) buckets: Vec<PacketCounts>,
}

/// The group definitions: id → slot, the slots, and each slot's liveness.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupDefs {
    index: HashMap<u32, u32>,
    slots: Vec<Option<GroupDef>>,
    free: Vec<u32>,
    /// Per slot: whether the group has a live bucket. Recomputed by
    /// [`refresh_liveness`](Self::refresh_liveness) whenever a port or a group changes, so
    /// a packet reads one flag instead of walking watch chains.
    live: Vec<bool>,
}

/// Deepest chain of groups a packet follows (group_mod refuses loops, so this only
/// bounds legitimate but absurd chains), and of watch groups a liveness check follows.
pub(crate) const MAX_GROUP_DEPTH: usize = 32;

impl GroupDefs {
    /// The slot of group `id`.
    #[inline]
    pub(crate) fn slot_of(&self, id: u32) -> Option<u32> {
        self.index.get(&id).copied()
    }

    /// The group in `slot`.
    #[inline]
    pub(crate) fn at(&self, slot: u32) -> Option<&GroupDef> {
        self.slots.get(slot as usize)?.as_ref()
    }

    /// Group `id`.
    pub(crate) fn get(&self, id: u32) -> Option<&GroupDef> {
        self.at(self.slot_of(id)?)
    }

    /// Number of groups.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether `bucket` of a group of type `ty` may be used now: not a select bucket of
    /// weight 0, and watching nothing, or a live port, or a live group.
    #[inline]
    pub(crate) fn bucket_live(
        &self,
        ty: GroupType,
        bucket: &Bucket,
        live_ports: &HashSet<u32>,
    ) -> bool {
        if ty == GroupType::Select && bucket.weight == 0 {
            return false;
        }
        !bucket.has_watch()
            || (bucket.watch_port != PORT_ANY && live_ports.contains(&bucket.watch_port))
            || (bucket.watch_group != GROUP_ANY && self.group_live(bucket.watch_group))
    }

    /// Whether group `id` exists and has a live bucket (as of the last refresh).
    #[inline]
    pub(crate) fn group_live(&self, id: u32) -> bool {
        self.slot_of(id)
            .and_then(|s| self.live.get(s as usize).copied())
            .unwrap_or(false)
    }

    /// Recomputes every group's liveness from the port states: a depth-first walk along
    /// watch groups, each group evaluated once; a group met again on its own watch chain
    /// (a watch cycle) or deeper than [`MAX_GROUP_DEPTH`] counts as dead there.
    pub(crate) fn refresh_liveness(&mut self, live_ports: &HashSet<u32>) {
        /// Per slot: not yet known, being evaluated, done.
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            Unknown,
            Visiting,
            Done(bool),
        }
        fn eval(
            defs: &GroupDefs,
            slot: usize,
            state: &mut [State],
            ports: &HashSet<u32>,
            depth: usize,
        ) -> bool {
            match state.get(slot) {
                Some(State::Done(v)) => return *v,
                Some(State::Visiting) | None => return false,
                Some(State::Unknown) if depth >= MAX_GROUP_DEPTH => return false,
                Some(State::Unknown) => {}
            }
            let Some(g) = defs.slots[slot].as_ref() else {
                state[slot] = State::Done(false);
                return false;
            };
            state[slot] = State::Visiting;
            let live = g.buckets.iter().any(|b| {
                if g.group_type == GroupType::Select && b.weight == 0 {
                    return false;
                }
                !b.has_watch()
                    || (b.watch_port != PORT_ANY && ports.contains(&b.watch_port))
                    || (b.watch_group != GROUP_ANY
                        && defs
                            .slot_of(b.watch_group)
                            .is_some_and(|w| eval(defs, w as usize, state, ports, depth + 1)))
            });
            state[slot] = State::Done(live);
            live
        }
        let mut state = vec![State::Unknown; self.slots.len()];
        let live: Vec<bool> = (0..self.slots.len())
            .map(|s| eval(self, s, &mut state, live_ports, 0))
            .collect();
        self.live = live;
    }

    /// The bucket a select group takes for a packet with flow key `key`: weighted by the
    /// live buckets' weights, chosen by [`select_hash`].
    pub(crate) fn select_bucket(
        &self,
        g: &GroupDef,
        key: &FlowKey,
        live_ports: &HashSet<u32>,
    ) -> Option<usize> {
        let live = |b: &Bucket| self.bucket_live(g.group_type, b, live_ports);
        let total: u64 = g
            .buckets
            .iter()
            .filter(|b| live(b))
            .map(|b| u64::from(b.weight))
            .sum();
        if total == 0 {
            return None;
        }
        // Scale the hash onto 0..total (the high half of a 64×64 product: unbiased enough
        // and no division).
        let mut point = ((u128::from(select_hash(key)) * u128::from(total)) >> 64) as u64;
        for (i, b) in g.buckets.iter().enumerate() {
            if !live(b) {
                continue;
            }
            let w = u64::from(b.weight);
            if point < w {
                return Some(i);
            }
            point -= w;
        }
        None
    }

    /// The first live bucket (fast failover).
    pub(crate) fn first_live(&self, g: &GroupDef, live_ports: &HashSet<u32>) -> Option<usize> {
        g.buckets
            .iter()
            .position(|b| self.bucket_live(g.group_type, b, live_ports))
    }

    /// Every group id, ascending.
    pub(crate) fn ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.index.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Whether some group other than `except` has a bucket that forwards to `id`.
    fn forwarded_to_by_other(&self, id: u32) -> bool {
        self.slots.iter().flatten().any(|g| {
            g.id != id
                && g.buckets
                    .iter()
                    .flat_map(|b| &b.actions)
                    .any(|a| *a == Action::Group(id))
        })
    }

    /// Number of groups whose buckets forward to `id` (part of its reference count).
    pub(crate) fn references_to(&self, id: u32) -> u32 {
        self.slots
            .iter()
            .flatten()
            .filter(|g| forwards(&g.buckets).any(|f| f == id))
            .count() as u32
    }

    /// Whether `id` is reachable from the groups `buckets` forward to, following bucket
    /// group actions through the installed groups (with `id`'s own buckets taken from
    /// `buckets`, as a modify would leave them).
    fn would_loop(&self, id: u32, buckets: &[Bucket]) -> bool {
        let mut stack: Vec<(u32, usize)> = forwards(buckets).map(|g| (g, 1)).collect();
        let mut seen = HashSet::new();
        while let Some((g, depth)) = stack.pop() {
            if g == id || depth > MAX_GROUP_DEPTH {
                return true;
            }
            if !seen.insert(g) {
                continue;
            }
            if let Some(def) = self.get(g) {
                stack.extend(forwards(&def.buckets).map(|n| (n, depth + 1)));
            }
        }
        false
    }

    fn insert(&mut self, def: GroupDef) -> u32 {
        let id = def.id;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(def);
                s
            }
            None => {
                self.slots.push(Some(def));
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(id, slot);
        slot
    }

    fn remove(&mut self, id: u32) -> Option<u32> {
        // (Liveness is refreshed by the caller once the change is complete.)
        let slot = self.index.remove(&id)?;
        self.slots[slot as usize] = None;
        self.free.push(slot);
        Some(slot)
    }
}

/// The groups a bucket list forwards to.
fn forwards(buckets: &[Bucket]) -> impl Iterator<Item = u32> + '_ {
    buckets
        .iter()
        .flat_map(|b| &b.actions)
        .filter_map(|a| match a {
            Action::Group(g) => Some(*g),
            _ => None,
        })
}

/// The group table: definitions and, slot by slot, counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupTable {
    pub(crate) defs: GroupDefs,
    pub(crate) counters: Vec<GroupCounters>,
}

impl GroupTable {
    /// Whether group `id` exists.
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.defs.slot_of(id).is_some()
    }

    /// The counters of group `id`.
    pub(crate) fn counters_of(&self, id: u32) -> Option<&GroupCounters> {
        self.counters.get(self.defs.slot_of(id)? as usize)
    }
}

/// The hash a select group chooses by: Ethernet addresses and type, IP (or ARP)
/// addresses, IP protocol and transport ports. Packets of one flow hash alike; the hash is
/// fixed (not seeded), so a flow keeps its bucket across restarts too.
pub(crate) fn select_hash(key: &FlowKey) -> u64 {
    let mut mac = [0u8; 16];
    mac[..6].copy_from_slice(&key.eth_src);
    mac[6..12].copy_from_slice(&key.eth_dst);
    mac[12..14].copy_from_slice(&key.eth_type.to_be_bytes());
    mac[14] = key.ip_proto;
    let words = [
        u64::from_le_bytes(mac[..8].try_into().unwrap_or_default()),
        u64::from_le_bytes(mac[8..].try_into().unwrap_or_default()),
        u64::from(key.ipv4_src) << 32 | u64::from(key.ipv4_dst),
        u64::from(key.arp_spa) << 32 | u64::from(key.arp_tpa),
        u64::from(key.tp_src) << 16 | u64::from(key.tp_dst),
        u64::from_le_bytes(key.ipv6_src[..8].try_into().unwrap_or_default()),
        u64::from_le_bytes(key.ipv6_src[8..].try_into().unwrap_or_default()),
        u64::from_le_bytes(key.ipv6_dst[..8].try_into().unwrap_or_default()),
        u64::from_le_bytes(key.ipv6_dst[8..].try_into().unwrap_or_default()),
    ];
    super::cache::hash_words(0x5e1e_c7ed_b0c3_e7a1, &words, 0)
}

impl Pipeline {
    /// Applies a group_mod (OpenFlow 1.3 §6.5) at `now`. A delete returns the flows it
    /// removed because they forwarded to a deleted group (reason
    /// [`FlowRemovedReason::GroupDelete`]); add and modify return nothing.
    ///
    /// Errors: add of an existing id ([`PipelineError::GroupExists`]), modify of a missing
    /// one ([`PipelineError::UnknownGroup`]), a reserved id, an indirect group without
    /// exactly one bucket, weights outside select groups or an unwatched fast failover
    /// bucket ([`PipelineError::InvalidGroup`]), watches on all/indirect groups
    /// ([`PipelineError::WatchUnsupported`]), a missing watch group
    /// ([`PipelineError::BadWatch`]), a missing group in a bucket
    /// ([`PipelineError::BadOutGroup`]), a chain back to the group
    /// ([`PipelineError::GroupLoop`]), delete of a group another group forwards to
    /// ([`PipelineError::ChainedGroup`]), and the table's limits.
    pub fn group_mod(
        &mut self,
        m: &GroupMod,
        now: Duration,
    ) -> Result<Vec<RemovedFlow>, PipelineError> {
        let id = m.group_id;
        match m.command {
            GroupModCommand::Add | GroupModCommand::Modify => {
                if id > GROUP_MAX {
                    return Err(PipelineError::InvalidGroup { group_id: id });
                }
                let exists = self.groups.contains(id);
                match m.command {
                    GroupModCommand::Add if exists => {
                        return Err(PipelineError::GroupExists { group_id: id })
                    }
                    GroupModCommand::Add if self.groups.defs.len() >= self.config.max_groups => {
                        return Err(PipelineError::OutOfGroups)
                    }
                    GroupModCommand::Modify if !exists => {
                        return Err(PipelineError::UnknownGroup { group_id: id })
                    }
                    _ => {}
                }
                self.check_group(m)?;
                let def = GroupDef {
                    id,
                    group_type: m.group_type,
                    buckets: m.buckets.clone(),
                    rewrites: m
                        .buckets
                        .iter()
                        .map(|b| b.actions.iter().any(super::exec::touches_frame))
                        .collect(),
                    created: now,
                };
                let counters = GroupCounters {
                    group: PacketCounts::default(),
                    buckets: vec![PacketCounts::default(); m.buckets.len()],
                };
                match self.groups.defs.slot_of(id) {
                    Some(slot) => {
                        // Modify: new buckets (and bucket counters), the group's own
                        // counters and age stay.
                        let s = slot as usize;
                        let created = self.groups.defs.slots[s]
                            .as_ref()
                            .map_or(now, |g| g.created);
                        self.groups.defs.slots[s] = Some(GroupDef { created, ..def });
                        self.groups.counters[s].buckets = counters.buckets;
                    }
                    None => {
                        let slot = self.groups.defs.insert(def) as usize;
                        if slot >= self.groups.counters.len() {
                            self.groups
                                .counters
                                .resize(slot + 1, GroupCounters::default());
                        }
                        self.groups.counters[slot] = counters;
                    }
                }
                self.groups.defs.refresh_liveness(&self.live_ports);
                self.bump();
                Ok(Vec::new())
            }
            GroupModCommand::Delete => {
                let doomed: Vec<u32> = if id == GROUP_ALL {
                    self.groups.defs.ids()
                } else if id > GROUP_MAX {
                    return Err(PipelineError::InvalidGroup { group_id: id });
                } else if !self.groups.contains(id) {
                    return Ok(Vec::new());
                } else if self.groups.defs.forwarded_to_by_other(id) {
                    return Err(PipelineError::ChainedGroup { group_id: id });
                } else {
                    vec![id]
                };
                for g in &doomed {
                    self.groups.defs.remove(*g);
                }
                self.groups.defs.refresh_liveness(&self.live_ports);
                let removed = self.remove_flows_where(FlowRemovedReason::GroupDelete, now, |ins| {
                    ins.actions()
                        .any(|a| matches!(a, Action::Group(g) if doomed.contains(g)))
                });
                self.bump();
                Ok(removed)
            }
        }
    }

    /// The bucket checks of an add or modify.
    fn check_group(&self, m: &GroupMod) -> Result<(), PipelineError> {
        let id = m.group_id;
        let invalid = PipelineError::InvalidGroup { group_id: id };
        if m.buckets.len() > self.config.max_buckets {
            return Err(PipelineError::OutOfBuckets);
        }
        if m.group_type == GroupType::Indirect && m.buckets.len() != 1 {
            return Err(invalid);
        }
        for b in &m.buckets {
            if b.weight != 0 && m.group_type != GroupType::Select {
                return Err(invalid);
            }
            match m.group_type {
                GroupType::All | GroupType::Indirect if b.has_watch() => {
                    return Err(PipelineError::WatchUnsupported)
                }
                GroupType::FastFailover if !b.has_watch() => return Err(invalid),
                _ => {}
            }
            if b.watch_group != GROUP_ANY
                && (b.watch_group == id || !self.groups.contains(b.watch_group))
            {
                return Err(PipelineError::BadWatch {
                    group_id: b.watch_group,
                });
            }
            if b.actions.contains(&Action::Group(id)) {
                return Err(PipelineError::GroupLoop { group_id: id });
            }
            check_actions(&b.actions, &self.groups)?;
        }
        if self.groups.defs.would_loop(id, &m.buckets) {
            return Err(PipelineError::GroupLoop { group_id: id });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(src: [u8; 6], ip: u32, port: u16) -> FlowKey {
        FlowKey {
            eth_src: src,
            eth_type: 0x0800,
            ip_proto: 6,
            ipv4_src: ip,
            tp_src: port,
            ..FlowKey::default()
        }
    }

    #[test]
    fn select_hash_depends_on_the_flow_fields_only() {
        let a = key([2, 0, 0, 0, 0, 1], 1, 80);
        let mut same = a;
        same.in_port = 9;
        same.ip_ttl = 3;
        same.vlan_vid = 0x1005;
        assert_eq!(select_hash(&a), select_hash(&same));
        for other in [
            key([2, 0, 0, 0, 0, 2], 1, 80),
            key([2, 0, 0, 0, 0, 1], 2, 80),
            key([2, 0, 0, 0, 0, 1], 1, 81),
        ] {
            assert_ne!(select_hash(&a), select_hash(&other));
        }
        let mut arp = FlowKey {
            eth_type: 0x0806,
            arp_spa: 1,
            ..FlowKey::default()
        };
        let h = select_hash(&arp);
        arp.arp_tpa = 2;
        assert_ne!(h, select_hash(&arp));
    }

    #[test]
    fn liveness() {
        let mut defs = GroupDefs::default();
        let ff = |id, buckets| GroupDef {
            id,
            group_type: GroupType::FastFailover,
            rewrites: vec![false; 2],
            buckets,
            created: Duration::ZERO,
        };
        defs.insert(ff(
            1,
            vec![
                Bucket::new(vec![]).with_watch_port(5),
                Bucket::new(vec![]).with_watch_port(6),
            ],
        ));
        defs.insert(ff(2, vec![Bucket::new(vec![]).with_watch_group(1)]));
        // A watch cycle: 3 and 4 watch each other, and 4 also watches port 7.
        defs.insert(ff(3, vec![Bucket::new(vec![]).with_watch_group(4)]));
        defs.insert(ff(
            4,
            vec![
                Bucket::new(vec![]).with_watch_group(3),
                Bucket::new(vec![]).with_watch_port(7),
            ],
        ));
        let mut live = HashSet::new();
        defs.refresh_liveness(&live);
        for g in 1..=4 {
            assert!(!defs.group_live(g), "group {g} with every port down");
        }
        live.insert(6);
        defs.refresh_liveness(&live);
        assert!(defs.group_live(1));
        assert!(defs.group_live(2));
        assert!(!defs.group_live(3));
        let g1 = defs.get(1).unwrap();
        assert_eq!(defs.first_live(g1, &live), Some(1));
        live.insert(5);
        assert_eq!(defs.first_live(g1, &live), Some(0));
        live.insert(7);
        defs.refresh_liveness(&live);
        assert!(defs.group_live(3) && defs.group_live(4));
        // Either watch suffices.
        let both = Bucket::new(vec![]).with_watch_port(99).with_watch_group(1);
        assert!(defs.bucket_live(GroupType::FastFailover, &both, &live));
        assert!(!defs.group_live(9), "a missing group is dead");
    }
}
