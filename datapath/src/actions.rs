//! Actions: frame rewrites and output decisions.
//!
//! An OpenFlow action list is executed in order on one frame. Rewrites change the frame's
//! bytes in place; outputs are not sent from here but collected into an [`OutputList`]
//! the caller provided, and the caller sends them after [`apply`] returns. There is no
//! `Drop` action: a list without outputs (the empty list in particular) drops the frame.
//! [`Action`] covers OpenFlow 1.0's actions and every OpenFlow 1.3 action but the
//! pipeline's own (`write_metadata`, `goto_table`, meters: instructions, not actions).
//!
//! # Outputs see the frame as it was when they ran
//!
//! In `[SetVlanVid(10), Output(1), PopVlan, Output(2)]` port 1 must get the tagged frame
//! and port 2 the untagged one. The common case has every output after every rewrite, so
//! each [`Output`] normally refers to the final frame ([`FrameVersion::Final`]) and nothing
//! is copied. Only when a rewrite follows an output does [`apply`] copy the frame as it was
//! into the list ([`FrameVersion::Snapshot`]) before rewriting: the one allocation, for the
//! uncommon case. A `Group` is an output like the others: the caller runs the group's
//! buckets on the frame version it names.
//!
//! # State that is not in the frame
//!
//! `set_field` of `METADATA` or `TUNNEL_ID`, and `set_queue`, change no byte of the frame.
//! They write an [`ApplyContext`] that [`apply_with`] takes from the caller: the pipeline
//! copies `metadata` and `tunnel_id` into the key of its next lookup, a tunnel port reads
//! `tunnel_id`, and each [`Output`] records the queue current when it ran. [`apply`] is
//! `apply_with` on a throwaway context.
//!
//! # Checksums
//!
//! Every rewrite keeps the checksums valid without reading the payload again, by RFC 1624
//! incremental updates: the IPv4 header checksum when the TTL, DSCP, ECN, protocol or an
//! address changes; the TCP, UDP or ICMPv6 checksum when a field they cover changes,
//! directly (ports, ICMP type and code, ND target and link-layer options) or through the
//! pseudo-header (IPv4 and IPv6 addresses; not the IPv6 destination while a Routing
//! header has segments left, since the pseudo-header then holds the final destination).
//! A UDP checksum of 0 ("none") stays 0. The transport checksum is only touched when
//! [`FrameLayout::l4_complete`] says its header is in the frame; a later fragment has no
//! transport header, and its datagram's checksum lives in the first fragment.
//!
//! SCTP's CRC32c is not incremental: a port rewrite computes it over the packet before
//! and after and moves the stored value by the difference, so a correct checksum stays
//! correct and a corrupt one stays corrupt (as Open vSwitch does).
//!
//! # Pushing and popping headers
//!
//! Following OpenFlow 1.3 §5.12.1: a VLAN tag is pushed outermost (right after the
//! addresses), copying VID and PCP from the tag it covers; an MPLS entry is pushed right
//! before the network header, after any VLAN tags, copying label, TC and TTL from the
//! entry it covers, or with label 0, TC 0 and the IP TTL (0 if not IP) on a frame without
//! MPLS; a PBB backbone header (EtherType, I-TAG with the customer addresses) is pushed
//! right after the addresses, which become the backbone addresses, with I-PCP copied from
//! the outer VLAN tag and I-SID from an I-TAG already there (else 0). After a push or pop
//! (and after `set_field` of `ETH_TYPE`, `IP_PROTO`, `ICMPV6_TYPE`/`CODE` or an MPLS field,
//! which change how the rest of the frame parses) the [`FrameLayout`] is derived again
//! from the new frame; VLAN pushes and pops just shift its offsets.
//!
//! # Headers that are not there
//!
//! OpenFlow checks prerequisites when a flow is added (no `SetTpSrc` without `ip_proto`
//! TCP or UDP). At run time a rewrite whose header the frame lacks does nothing, as in
//! Open vSwitch: `set_field` of `VLAN_VID` on an untagged frame, `IPV6_ND_SLL` on a
//! solicitation without that option, `pop_mpls` on a frame without MPLS. The exceptions,
//! per OpenFlow 1.0: `SetVlanVid` and `SetVlanPcp` on an untagged frame push an 802.1Q tag
//! first (VID or PCP as given, the other zero).

use core::net::Ipv4Addr;

use crate::field::{Field, FieldValue};
use crate::key::{extract, FlowKey, FrameLayout, L3Kind, L4Kind};
use crate::wire::{checksum, ethernet, icmpv4, icmpv6, ipv6, mpls, pbb, sctp, vlan};
use crate::wire::{ArpOperation, ArpPacket, EtherType, EthernetAddress, EthernetFrame};
use crate::wire::{Icmpv6Message, Icmpv6Packet, Ipv6Packet, MplsLabel, NdOptionType, PbbITag};
use crate::wire::{IpAuthHeader, IpProtocol, Ipv4Packet, Ipv6ExtHeader, Ipv6FragmentHeader};
use crate::wire::{SctpPacket, TcpPacket, UdpPacket, VlanTag};

/// One action of an OpenFlow-style action list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Send to this port.
    Output(u32),
    /// Send back out of the port the frame came in on.
    InPort,
    /// Send to every port but the ingress port (and ports excluded from flooding).
    Flood,
    /// Send to every port but the ingress port.
    All,
    /// Send to the controller, at most `max_len` bytes of the frame (`u16::MAX`: all).
    Controller {
        /// Bytes of the frame to include in the packet-in.
        max_len: u16,
    },
    /// Set the Ethernet source address.
    SetEthSrc(EthernetAddress),
    /// Set the Ethernet destination address.
    SetEthDst(EthernetAddress),
    /// Push a new outermost VLAN tag with this TPID (0x8100 or 0x88a8; others do
    /// nothing). Its PCP and VID are copied from the tag it covers, or zero on an untagged
    /// frame (OpenFlow 1.3).
    PushVlan(EtherType),
    /// Pop the outermost VLAN tag (nothing on an untagged frame).
    PopVlan,
    /// Set the VLAN id (12 bits) of the outermost tag.
    SetVlanVid(u16),
    /// Set the priority (3 bits) of the outermost tag.
    SetVlanPcp(u8),
    /// Set the IPv4 source address.
    SetIpv4Src(Ipv4Addr),
    /// Set the IPv4 destination address.
    SetIpv4Dst(Ipv4Addr),
    /// Set the DSCP (6 bits) of IPv4 or IPv6.
    SetIpDscp(u8),
    /// Set the IPv4 TTL or the IPv6 hop limit (OpenFlow 1.3 `set_nw_ttl`).
    SetIpTtl(u8),
    /// Decrement the IPv4 TTL or the IPv6 hop limit (`dec_nw_ttl`); on a TTL of 0 or 1,
    /// stop with [`ApplyError::InvalidTtl`] instead.
    DecIpTtl,
    /// Set the TCP or UDP source port (OpenFlow 1.0 `set_tp_src`).
    SetTpSrc(u16),
    /// Set the TCP or UDP destination port (OpenFlow 1.0 `set_tp_dst`).
    SetTpDst(u16),
    /// Send to the local port (`OFPP_LOCAL`).
    Local,
    /// Hand to the switch's normal (non-OpenFlow) processing (`OFPP_NORMAL`).
    Normal,
    /// Submit to the first flow table (`OFPP_TABLE`, packet-out only).
    Table,
    /// Process through this group (OpenFlow 1.3 `OFPAT_GROUP`): recorded as an output
    /// [`OutputPort::Group`] of the frame as it is at that point.
    Group(u32),
    /// Set the queue of later outputs (`OFPAT_SET_QUEUE`); recorded, the bytes are not
    /// touched. See [`ApplyContext::queue`].
    SetQueue(u32),
    /// Set one field (`OFPAT_SET_FIELD`). Frame fields are rewritten in place (checksums
    /// kept); `METADATA` and `TUNNEL_ID` go to the [`ApplyContext`]; `IN_PORT`,
    /// `IN_PHY_PORT`, `IPV6_EXTHDR` and `TCP_FLAGS` do nothing. A `VLAN_VID` value sets
    /// the outer tag's VID (the `OFPVID_PRESENT` bit is ignored); `ETH_TYPE` sets the
    /// EtherType after the VLAN tags (the one `ETH_TYPE` matches).
    SetField(FieldValue),
    /// Push an MPLS label stack entry with this EtherType (0x8847 or 0x8848; others do
    /// nothing) before the network header, after any VLAN tags.
    PushMpls(EtherType),
    /// Pop the outermost MPLS entry; this EtherType names what is left.
    PopMpls(EtherType),
    /// Set the TTL of the outermost MPLS entry.
    SetMplsTtl(u8),
    /// Decrement the TTL of the outermost MPLS entry; on 0 or 1 stop with
    /// [`ApplyError::InvalidTtl`].
    DecMplsTtl,
    /// Copy the TTL outwards: from the next-to-outermost header (the next MPLS entry, or
    /// the IPv4/IPv6 header after the bottom of the stack) to the outermost MPLS entry.
    CopyTtlOut,
    /// Copy the TTL inwards: from the outermost MPLS entry to the next-to-outermost
    /// header (the IPv4 header checksum kept).
    CopyTtlIn,
    /// Push a PBB backbone header with this EtherType (0x88e7; others do nothing).
    PushPbb(EtherType),
    /// Pop the PBB backbone header, leaving the customer frame.
    PopPbb,
}

impl Action {
    /// Whether this action decides an output (rather than rewriting the frame).
    #[inline]
    pub fn is_output(&self) -> bool {
        self.output_port().is_some()
    }

    /// The output this action decides, if it is one.
    #[inline]
    pub fn output_port(&self) -> Option<OutputPort> {
        Some(match *self {
            Action::Output(p) => OutputPort::Port(p),
            Action::InPort => OutputPort::InPort,
            Action::Flood => OutputPort::Flood,
            Action::All => OutputPort::All,
            Action::Controller { max_len } => OutputPort::Controller { max_len },
            Action::Local => OutputPort::Local,
            Action::Normal => OutputPort::Normal,
            Action::Table => OutputPort::Table,
            Action::Group(g) => OutputPort::Group(g),
            _ => return None,
        })
    }

    /// Where this action goes in an OpenFlow 1.3 action set (§5.10): sort an action set by
    /// this key to get its execution order; two actions with the same key replace each
    /// other (an action set holds one action of each type, and one `set_field` per field).
    pub fn action_set_key(&self) -> ActionSetKey {
        match *self {
            Action::CopyTtlIn => ActionSetKey::CopyTtlIn,
            Action::PopVlan => ActionSetKey::PopVlan,
            Action::PopMpls(_) => ActionSetKey::PopMpls,
            Action::PopPbb => ActionSetKey::PopPbb,
            Action::PushMpls(_) => ActionSetKey::PushMpls,
            Action::PushPbb(_) => ActionSetKey::PushPbb,
            Action::PushVlan(_) => ActionSetKey::PushVlan,
            Action::CopyTtlOut => ActionSetKey::CopyTtlOut,
            Action::DecMplsTtl => ActionSetKey::DecMplsTtl,
            Action::DecIpTtl => ActionSetKey::DecNwTtl,
            Action::SetMplsTtl(_) => ActionSetKey::SetMplsTtl,
            Action::SetIpTtl(_) => ActionSetKey::SetNwTtl,
            Action::SetField(v) => ActionSetKey::SetField(v.field()),
            Action::SetEthSrc(_) => ActionSetKey::SetField(Field::EthSrc),
            Action::SetEthDst(_) => ActionSetKey::SetField(Field::EthDst),
            Action::SetVlanVid(_) => ActionSetKey::SetField(Field::VlanVid),
            Action::SetVlanPcp(_) => ActionSetKey::SetField(Field::VlanPcp),
            Action::SetIpv4Src(_) => ActionSetKey::SetField(Field::Ipv4Src),
            Action::SetIpv4Dst(_) => ActionSetKey::SetField(Field::Ipv4Dst),
            Action::SetIpDscp(_) => ActionSetKey::SetField(Field::IpDscp),
            Action::SetTpSrc(_) => ActionSetKey::SetTpSrc,
            Action::SetTpDst(_) => ActionSetKey::SetTpDst,
            Action::SetQueue(_) => ActionSetKey::SetQueue,
            Action::Group(_) => ActionSetKey::Group,
            Action::Output(_)
            | Action::InPort
            | Action::Flood
            | Action::All
            | Action::Controller { .. }
            | Action::Local
            | Action::Normal
            | Action::Table => ActionSetKey::Output,
        }
    }

    /// The §5.10 slot of this action, 0 (`copy_ttl_in`) to 10 (`output`): copy TTL in,
    /// pop, push-MPLS, push-PBB, push-VLAN, copy TTL out, decrement TTL, set, qos, group,
    /// output. Actions of one slot run in [`action_set_key`](Self::action_set_key) order.
    pub fn action_set_slot(&self) -> u8 {
        self.action_set_key().slot()
    }
}

/// The position and identity of an action in an OpenFlow 1.3 action set (§5.10).
///
/// Variants are declared in execution order, so `Ord` sorts an action set into the order
/// the spec runs it. Equal keys mean "the same action type": writing one replaces the
/// other. Within the pop slot the tags come off outermost-first (VLAN, then MPLS, then
/// PBB); `set_field` is one key per [`Field`], ordered by OXM number. OpenFlow 1.0-style
/// `SetTpSrc`/`SetTpDst` (which act on TCP or UDP, whichever is there) have keys of their
/// own in the set slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionSetKey {
    /// `copy_ttl_in`.
    CopyTtlIn,
    /// `pop_vlan`.
    PopVlan,
    /// `pop_mpls`.
    PopMpls,
    /// `pop_pbb`.
    PopPbb,
    /// `push_mpls`.
    PushMpls,
    /// `push_pbb`.
    PushPbb,
    /// `push_vlan`.
    PushVlan,
    /// `copy_ttl_out`.
    CopyTtlOut,
    /// `dec_mpls_ttl`.
    DecMplsTtl,
    /// `dec_nw_ttl`.
    DecNwTtl,
    /// `set_mpls_ttl`.
    SetMplsTtl,
    /// `set_nw_ttl`.
    SetNwTtl,
    /// `set_field` of one field.
    SetField(Field),
    /// OpenFlow 1.0 `set_tp_src`.
    SetTpSrc,
    /// OpenFlow 1.0 `set_tp_dst`.
    SetTpDst,
    /// `set_queue` (the qos slot).
    SetQueue,
    /// `group`.
    Group,
    /// `output` (any output port).
    Output,
}

impl ActionSetKey {
    /// The §5.10 slot: 0 copy TTL in, 1 pop, 2 push-MPLS, 3 push-PBB, 4 push-VLAN, 5 copy
    /// TTL out, 6 decrement TTL, 7 set, 8 qos, 9 group, 10 output.
    pub fn slot(self) -> u8 {
        match self {
            ActionSetKey::CopyTtlIn => 0,
            ActionSetKey::PopVlan | ActionSetKey::PopMpls | ActionSetKey::PopPbb => 1,
            ActionSetKey::PushMpls => 2,
            ActionSetKey::PushPbb => 3,
            ActionSetKey::PushVlan => 4,
            ActionSetKey::CopyTtlOut => 5,
            ActionSetKey::DecMplsTtl | ActionSetKey::DecNwTtl => 6,
            ActionSetKey::SetMplsTtl
            | ActionSetKey::SetNwTtl
            | ActionSetKey::SetField(_)
            | ActionSetKey::SetTpSrc
            | ActionSetKey::SetTpDst => 7,
            ActionSetKey::SetQueue => 8,
            ActionSetKey::Group => 9,
            ActionSetKey::Output => 10,
        }
    }
}

/// Where an output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputPort {
    /// A port number.
    Port(u32),
    /// The ingress port.
    InPort,
    /// Flooding.
    Flood,
    /// All ports but the ingress port.
    All,
    /// The controller, with the packet-in truncated to `max_len` bytes.
    Controller {
        /// Bytes of the frame to include.
        max_len: u16,
    },
    /// The local port (`OFPP_LOCAL`).
    Local,
    /// The first flow table (`OFPP_TABLE`).
    Table,
    /// The switch's normal processing (`OFPP_NORMAL`).
    Normal,
    /// A group: the caller runs the group's buckets on this version of the frame.
    Group(u32),
}

/// Which bytes an output sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FrameVersion {
    /// The frame as [`apply`] left it.
    #[default]
    Final,
    /// A copy taken before a later rewrite: an index into the list's snapshots.
    Snapshot(usize),
}

/// One output decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Output {
    /// Where to.
    pub port: OutputPort,
    /// Which version of the frame.
    pub frame: FrameVersion,
    /// The queue a [`Action::SetQueue`] before it chose, if any.
    pub queue: Option<u32>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            port: OutputPort::Port(0),
            frame: FrameVersion::Final,
            queue: None,
        }
    }
}

/// Pipeline state that actions read or write besides the frame's bytes.
///
/// `METADATA` and `TUNNEL_ID` are match fields that no header carries: a `set_field` of
/// either writes here, and the pipeline copies them into the [`FlowKey`] of the next
/// table lookup (and a tunnel port reads `tunnel_id` on output). `queue` is what the last
/// `SetQueue` chose; each output records the queue current when it ran.
///
/// [`FlowKey`]: crate::key::FlowKey
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ApplyContext {
    /// Pipeline metadata (OXM `METADATA`).
    pub metadata: u64,
    /// Tunnel id (OXM `TUNNEL_ID`).
    pub tunnel_id: u64,
    /// The queue for outputs (`set_queue`), `None` for the port's default queue.
    pub queue: Option<u32>,
}

/// Outputs kept without allocating.
pub const INLINE_OUTPUTS: usize = 8;

/// The outputs of one [`apply`]: up to [`INLINE_OUTPUTS`] inline, more on the heap, and
/// the frame snapshots outputs refer to. Reuse one list across frames: `apply` clears it.
#[derive(Debug, Clone, Default)]
pub struct OutputList {
    inline: [Output; INLINE_OUTPUTS],
    len: usize,
    spill: Vec<Output>,
    snapshots: Vec<Vec<u8>>,
}

impl OutputList {
    /// An empty list (allocates nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every output and snapshot (keeps the heap capacity).
    pub fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
        self.snapshots.clear();
    }

    /// Number of outputs.
    #[inline]
    pub fn len(&self) -> usize {
        self.len + self.spill.len()
    }

    /// Whether there is no output: the frame is dropped.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends an output.
    #[inline]
    pub fn push(&mut self, output: Output) {
        if self.len < INLINE_OUTPUTS {
            self.inline[self.len] = output;
            self.len += 1;
        } else {
            self.spill.push(output);
        }
    }

    /// The `i`-th output.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&Output> {
        if i < self.len {
            self.inline.get(i)
        } else {
            self.spill.get(i - self.len)
        }
    }

    #[inline]
    fn get_mut(&mut self, i: usize) -> Option<&mut Output> {
        if i < self.len {
            self.inline.get_mut(i)
        } else {
            self.spill.get_mut(i - self.len)
        }
    }

    /// The outputs in order.
    pub fn iter(&self) -> impl Iterator<Item = &Output> + '_ {
        self.inline[..self.len].iter().chain(self.spill.iter())
    }

    /// The bytes `output` sends, given the frame as `apply` left it.
    pub fn frame_of<'a>(&'a self, output: &Output, final_frame: &'a [u8]) -> &'a [u8] {
        match output.frame {
            FrameVersion::Final => final_frame,
            FrameVersion::Snapshot(i) => self.snapshots.get(i).map_or(final_frame, Vec::as_slice),
        }
    }

    /// Number of snapshots taken (0 unless a rewrite followed an output).
    #[inline]
    pub fn snapshot_count(&self) -> usize {
        self.snapshots.len()
    }

    /// Before a rewrite: the outputs since `from` that still refer to the final frame get a
    /// copy of the frame as it is now. Returns the new `from`.
    fn freeze(&mut self, from: usize, frame: &[u8]) -> usize {
        let end = self.len();
        if from < end {
            let idx = self.snapshots.len();
            self.snapshots.push(frame.to_vec());
            for i in from..end {
                if let Some(o) = self.get_mut(i) {
                    o.frame = FrameVersion::Snapshot(idx);
                }
            }
        }
        end
    }
}

/// Why [`apply`] stopped before the end of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// `DecIpTtl` met a TTL (or hop limit) of 0 or 1. OpenFlow sends the frame to the
    /// controller with reason `OFPR_INVALID_TTL` when the switch is configured to, and
    /// drops it otherwise; the outputs collected before it stand.
    #[error("invalid ttl")]
    InvalidTtl,
}

/// Executes `actions` on `frame`: rewrites in place, outputs into `out` (cleared first).
///
/// `layout` must come from [`extract`] on this frame; it is kept up
/// to date as headers are pushed and popped. Pushing a header grows the frame: a vector
/// with spare capacity does not reallocate. `SetField` of `METADATA` or `TUNNEL_ID` and
/// `SetQueue` need somewhere to go: [`apply_with`] takes it; here they are dropped.
pub fn apply(
    actions: &[Action],
    frame: &mut Vec<u8>,
    layout: &mut FrameLayout,
    out: &mut OutputList,
) -> Result<(), ApplyError> {
    apply_with(actions, frame, layout, out, &mut ApplyContext::default())
}

/// [`apply`] with pipeline state: `SetField` of `METADATA` or `TUNNEL_ID` and `SetQueue`
/// write `ctx`, and every output records `ctx.queue` as it is when the output runs. `ctx`
/// is not reset: the pipeline passes the state the frame carries from earlier tables.
pub fn apply_with(
    actions: &[Action],
    frame: &mut Vec<u8>,
    layout: &mut FrameLayout,
    out: &mut OutputList,
    ctx: &mut ApplyContext,
) -> Result<(), ApplyError> {
    out.clear();
    // Outputs from this index on still refer to the live frame.
    let mut live_from = 0;
    for action in actions {
        if let Some(port) = action.output_port() {
            out.push(Output {
                port,
                frame: FrameVersion::Final,
                queue: ctx.queue,
            });
            continue;
        }
        match *action {
            Action::SetQueue(q) => {
                ctx.queue = Some(q);
                continue;
            }
            Action::SetField(v) if v.field() == Field::Metadata => {
                ctx.metadata = v.to_uint() as u64;
                continue;
            }
            Action::SetField(v) if v.field() == Field::TunnelId => {
                ctx.tunnel_id = v.to_uint() as u64;
                continue;
            }
            _ => {}
        }
        if !applies(action, frame, layout) {
            continue;
        }
        let ttl_expired = match *action {
            Action::DecIpTtl => ttl(frame, layout).is_some_and(|t| t <= 1),
            Action::DecMplsTtl => mpls_outer(frame, layout).is_some_and(|m| m.ttl() <= 1),
            _ => false,
        };
        if ttl_expired {
            return Err(ApplyError::InvalidTtl);
        }
        live_from = out.freeze(live_from, frame);
        rewrite(action, frame, layout);
    }
    Ok(())
}

/// The IPv4 header of the frame, when the layout says there is one and it is whole.
fn ipv4_mut<'a>(frame: &'a mut [u8], layout: &FrameLayout) -> Option<Ipv4Packet<&'a mut [u8]>> {
    if layout.l3 != L3Kind::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(frame.get_mut(usize::from(layout.l3_offset)..)?).ok()?;
    (ip.version() == 4).then_some(ip)
}

/// The IPv6 header of the frame, when the layout says there is one.
fn ipv6_mut<'a>(frame: &'a mut [u8], layout: &FrameLayout) -> Option<Ipv6Packet<&'a mut [u8]>> {
    if layout.l3 != L3Kind::Ipv6 {
        return None;
    }
    let ip = Ipv6Packet::new_checked(frame.get_mut(usize::from(layout.l3_offset)..)?).ok()?;
    (ip.version() == 6).then_some(ip)
}

/// The transport header bytes, when the layout says they are complete.
fn l4_mut<'a>(frame: &'a mut [u8], layout: &FrameLayout, kind: L4Kind) -> Option<&'a mut [u8]> {
    if layout.l4 != kind || !layout.l4_complete {
        return None;
    }
    frame.get_mut(usize::from(layout.l4_offset)..)
}

/// The outer VLAN tag (after its TPID), when the frame has one.
fn outer_tag(frame: &mut [u8]) -> Option<VlanTag<&mut [u8]>> {
    let eth = EthernetFrame::new_checked(&*frame).ok()?;
    if !eth.ethertype().is_vlan() {
        return None;
    }
    VlanTag::new_checked(frame.get_mut(ethernet::HEADER_LEN..)?).ok()
}

/// Where the EtherType that names the network header is (after the VLAN tags, or in the
/// SNAP header): two bytes before the network header.
fn ethertype_at(frame: &[u8], layout: &FrameLayout) -> Option<usize> {
    if layout.l3 == L3Kind::None {
        return None;
    }
    let at = usize::from(layout.l3_offset).checked_sub(2)?;
    (at >= ethernet::ETHERTYPE_OFFSET && at + 2 <= frame.len()).then_some(at)
}

/// The outermost MPLS label stack entry.
fn mpls_outer<'a>(frame: &'a mut [u8], layout: &FrameLayout) -> Option<MplsLabel<&'a mut [u8]>> {
    if layout.l3 != L3Kind::Mpls {
        return None;
    }
    MplsLabel::new_checked(frame.get_mut(usize::from(layout.l3_offset)..)?).ok()
}

/// The outer PBB I-TAG (with the customer addresses and EtherType after it).
fn pbb_mut<'a>(frame: &'a mut [u8], layout: &FrameLayout) -> Option<PbbITag<&'a mut [u8]>> {
    if layout.l3 != L3Kind::Pbb {
        return None;
    }
    PbbITag::new_checked(frame.get_mut(usize::from(layout.l3_offset)..)?).ok()
}

/// The ARP packet, when it is the Ethernet/IPv4 kind OpenFlow matches.
fn arp_mut<'a>(frame: &'a mut [u8], layout: &FrameLayout) -> Option<ArpPacket<&'a mut [u8]>> {
    if layout.l3 != L3Kind::Arp {
        return None;
    }
    let arp = ArpPacket::new_checked(frame.get_mut(usize::from(layout.l3_offset)..)?).ok()?;
    arp.is_ethernet_ipv4().then_some(arp)
}

/// The ICMPv6 message when it is a neighbor solicitation or advertisement with its target.
fn nd_mut<'a>(frame: &'a mut [u8], layout: &FrameLayout) -> Option<Icmpv6Packet<&'a mut [u8]>> {
    let icmp = Icmpv6Packet::new_checked(l4_mut(frame, layout, L4Kind::Icmpv6)?).ok()?;
    let nd = matches!(
        icmp.msg_type(),
        Icmpv6Message::NeighborSolicit | Icmpv6Message::NeighborAdvert
    );
    (nd && icmp.check_message_len().is_ok()).then_some(icmp)
}

/// The end of the network payload: the IPv4 total length or the IPv6 payload length,
/// within the frame (Ethernet padding excluded).
fn l3_end(frame: &mut [u8], layout: &FrameLayout) -> Option<usize> {
    let l3 = usize::from(layout.l3_offset);
    let len = if let Some(ip) = ipv4_mut(frame, layout) {
        usize::from(ip.total_len())
    } else {
        ipv6::HEADER_LEN + usize::from(ipv6_mut(frame, layout)?.payload_len())
    };
    Some((l3 + len).min(frame.len()))
}

/// The SCTP packet (common header and chunks, without Ethernet padding).
fn sctp_range(frame: &mut [u8], layout: &FrameLayout) -> Option<core::ops::Range<usize>> {
    l4_mut(frame, layout, L4Kind::Sctp)?;
    let start = usize::from(layout.l4_offset);
    let end = l3_end(frame, layout)?;
    (end >= start + sctp::HEADER_LEN).then_some(start..end)
}

/// Where the LL address of the first ND option `want` (source for a solicitation, target
/// for an advertisement) is in the frame.
fn nd_option_at(frame: &mut [u8], layout: &FrameLayout, want: NdOptionType) -> Option<usize> {
    let end = l3_end(frame, layout)?;
    let icmp = nd_mut(frame, layout)?;
    let msg = match want {
        NdOptionType::SourceLinkLayerAddr => Icmpv6Message::NeighborSolicit,
        _ => Icmpv6Message::NeighborAdvert,
    };
    if icmp.msg_type() != msg || icmp.msg_code() != 0 {
        return None;
    }
    let mut pos = usize::from(layout.l4_offset) + icmp.header_len();
    while pos + icmpv6::ND_OPTION_UNIT <= end {
        let (ty, units) = (*frame.get(pos)?, usize::from(*frame.get(pos + 1)?));
        if units == 0 {
            return None;
        }
        if NdOptionType::from(ty) == want {
            return Some(pos + 2);
        }
        pos += units * icmpv6::ND_OPTION_UNIT;
    }
    None
}

/// The IPv6 extension header chain, walked as [`extract`] walks it.
struct Ipv6Chain {
    /// Where the next-header byte naming what `ip_proto` holds is.
    proto_at: usize,
    /// Whether a Routing header still has segments left: the transport pseudo-header then
    /// holds the final destination, not the IPv6 destination address.
    routing: bool,
}

fn ipv6_chain(frame: &mut [u8], layout: &FrameLayout) -> Option<Ipv6Chain> {
    let ip = ipv6_mut(frame, layout)?;
    let mut nh = ip.next_header();
    let l3 = usize::from(layout.l3_offset);
    let mut chain = Ipv6Chain {
        proto_at: l3 + ipv6::NEXT_HEADER_OFFSET,
        routing: false,
    };
    let mut pos = l3 + ipv6::HEADER_LEN;
    // Every header is at least 8 bytes long, so the chain ends within the frame.
    loop {
        let rest = frame.get(pos..).unwrap_or(&[]);
        let len = match nh {
            IpProtocol::HopByHop | IpProtocol::Ipv6Route | IpProtocol::Ipv6Opts => {
                let Ok(h) = Ipv6ExtHeader::new_checked(rest) else {
                    break;
                };
                if nh == IpProtocol::Ipv6Route && h.data().get(1).is_some_and(|&s| s != 0) {
                    chain.routing = true;
                }
                nh = h.next_header();
                h.header_len()
            }
            IpProtocol::Ah => {
                let Ok(h) = IpAuthHeader::new_checked(rest) else {
                    break;
                };
                nh = h.next_header();
                h.header_len()
            }
            IpProtocol::Ipv6Frag => {
                let Ok(h) = Ipv6FragmentHeader::new_checked(rest) else {
                    break;
                };
                chain.proto_at = pos;
                if h.frag_offset() != 0 {
                    break;
                }
                nh = h.next_header();
                h.header_len()
            }
            _ => break,
        };
        // The next-header byte is the first of every extension header.
        chain.proto_at = pos;
        pos += len;
    }
    Some(chain)
}

/// The TTL or hop limit, for `DecIpTtl`.
fn ttl(frame: &mut [u8], layout: &FrameLayout) -> Option<u8> {
    if let Some(ip) = ipv4_mut(frame, layout) {
        return Some(ip.ttl());
    }
    ipv6_mut(frame, layout).map(|ip| ip.hop_limit())
}

/// The header under the outermost MPLS entry that carries a TTL, for the TTL copies.
#[derive(Clone, Copy)]
enum TtlInner {
    /// The next MPLS entry, at this offset.
    Mpls(usize),
    /// An IPv4 header after the bottom of the stack.
    Ipv4(usize),
    /// An IPv6 header after the bottom of the stack.
    Ipv6(usize),
}

fn ttl_inner(frame: &mut [u8], layout: &FrameLayout) -> Option<TtlInner> {
    let bos = mpls_outer(frame, layout)?.bos();
    let at = usize::from(layout.l3_offset) + mpls::HEADER_LEN;
    let rest = frame.get(at..)?;
    if !bos {
        return MplsLabel::new_checked(rest)
            .ok()
            .map(|_| TtlInner::Mpls(at));
    }
    // MPLS does not say what it carries; the IP version nibble does.
    match rest.first()? >> 4 {
        4 => Ipv4Packet::new_checked(rest)
            .ok()
            .map(|_| TtlInner::Ipv4(at)),
        6 => Ipv6Packet::new_checked(rest)
            .ok()
            .map(|_| TtlInner::Ipv6(at)),
        _ => None,
    }
}

fn inner_ttl(frame: &[u8], inner: TtlInner) -> u8 {
    let tail = |at: usize| frame.get(at..).unwrap_or(&[]);
    match inner {
        TtlInner::Mpls(at) => MplsLabel::new_checked(tail(at)).map_or(0, |m| m.ttl()),
        TtlInner::Ipv4(at) => Ipv4Packet::new_checked(tail(at)).map_or(0, |ip| ip.ttl()),
        TtlInner::Ipv6(at) => Ipv6Packet::new_checked(tail(at)).map_or(0, |ip| ip.hop_limit()),
    }
}

fn set_inner_ttl(frame: &mut [u8], inner: TtlInner, ttl: u8) {
    match inner {
        TtlInner::Mpls(at) => {
            if let Some(Ok(mut m)) = frame.get_mut(at..).map(MplsLabel::new_checked) {
                m.set_ttl(ttl);
            }
        }
        TtlInner::Ipv4(at) => {
            if let Some(Ok(mut ip)) = frame.get_mut(at..).map(Ipv4Packet::new_checked) {
                ip.rewrite_ttl(ttl);
            }
        }
        TtlInner::Ipv6(at) => {
            if let Some(Ok(mut ip)) = frame.get_mut(at..).map(Ipv6Packet::new_checked) {
                ip.set_hop_limit(ttl);
            }
        }
    }
}

/// Whether the rewrite would change anything (its header is there).
fn applies(action: &Action, frame: &mut [u8], layout: &FrameLayout) -> bool {
    let has_eth = frame.len() >= ethernet::HEADER_LEN;
    match *action {
        Action::SetEthSrc(_) | Action::SetEthDst(_) => has_eth,
        Action::PushVlan(tpid) => has_eth && tpid.is_vlan(),
        Action::SetVlanVid(_) | Action::SetVlanPcp(_) => has_eth,
        Action::PopVlan => outer_tag(frame).is_some(),
        Action::SetIpv4Src(_) | Action::SetIpv4Dst(_) => ipv4_mut(frame, layout).is_some(),
        Action::SetIpDscp(_) | Action::SetIpTtl(_) | Action::DecIpTtl => {
            ipv4_mut(frame, layout).is_some() || ipv6_mut(frame, layout).is_some()
        }
        Action::SetTpSrc(_) | Action::SetTpDst(_) => {
            l4_mut(frame, layout, L4Kind::Tcp).is_some()
                || l4_mut(frame, layout, L4Kind::Udp).is_some()
        }
        Action::SetField(v) => field_applies(v.field(), frame, layout),
        Action::PushMpls(t) => t.is_mpls() && ethertype_at(frame, layout).is_some(),
        Action::PopMpls(_) => {
            ethertype_at(frame, layout).is_some() && mpls_outer(frame, layout).is_some()
        }
        Action::SetMplsTtl(_) | Action::DecMplsTtl => mpls_outer(frame, layout).is_some(),
        Action::CopyTtlOut | Action::CopyTtlIn => ttl_inner(frame, layout).is_some(),
        Action::PushPbb(t) => has_eth && t == EtherType::Pbb,
        Action::PopPbb => pbb_mut(frame, layout).is_some(),
        Action::Output(_)
        | Action::InPort
        | Action::Flood
        | Action::All
        | Action::Controller { .. }
        | Action::Local
        | Action::Normal
        | Action::Table
        | Action::Group(_)
        | Action::SetQueue(_) => false,
    }
}

/// Whether `SetField` of `field` finds its header in the frame.
fn field_applies(field: Field, frame: &mut [u8], layout: &FrameLayout) -> bool {
    use Field::*;
    match field {
        EthDst | EthSrc => frame.len() >= ethernet::HEADER_LEN,
        EthType => ethertype_at(frame, layout).is_some(),
        VlanVid | VlanPcp => outer_tag(frame).is_some(),
        IpDscp | IpEcn => ipv4_mut(frame, layout).is_some() || ipv6_mut(frame, layout).is_some(),
        IpProto => ipv4_mut(frame, layout).is_some() || ipv6_chain(frame, layout).is_some(),
        Ipv4Src | Ipv4Dst => ipv4_mut(frame, layout).is_some(),
        TcpSrc | TcpDst => l4_mut(frame, layout, L4Kind::Tcp).is_some(),
        UdpSrc | UdpDst => l4_mut(frame, layout, L4Kind::Udp).is_some(),
        SctpSrc | SctpDst => sctp_range(frame, layout).is_some(),
        Icmpv4Type | Icmpv4Code => {
            l4_mut(frame, layout, L4Kind::Icmpv4).is_some_and(|b| b.len() >= icmpv4::HEADER_LEN)
        }
        Icmpv6Type | Icmpv6Code => {
            l4_mut(frame, layout, L4Kind::Icmpv6).is_some_and(|b| b.len() >= icmpv6::HEADER_LEN)
        }
        ArpOp | ArpSpa | ArpTpa | ArpSha | ArpTha => arp_mut(frame, layout).is_some(),
        Ipv6Src | Ipv6Dst | Ipv6Flabel => ipv6_mut(frame, layout).is_some(),
        Ipv6NdTarget => nd_mut(frame, layout).is_some(),
        Ipv6NdSll => nd_option_at(frame, layout, NdOptionType::SourceLinkLayerAddr).is_some(),
        Ipv6NdTll => nd_option_at(frame, layout, NdOptionType::TargetLinkLayerAddr).is_some(),
        MplsLabel | MplsTc | MplsBos => mpls_outer(frame, layout).is_some(),
        PbbIsid => pbb_mut(frame, layout).is_some(),
        // Pipeline state (written to the context), or not a set_field target.
        Metadata | TunnelId | InPort | InPhyPort | Ipv6Exthdr | TcpFlags => false,
    }
}

/// Performs one rewrite `applies` accepted.
fn rewrite(action: &Action, frame: &mut Vec<u8>, layout: &mut FrameLayout) {
    match *action {
        Action::SetEthSrc(a) => {
            if let Ok(mut eth) = EthernetFrame::new_checked(&mut frame[..]) {
                eth.set_src_addr(a);
            }
        }
        Action::SetEthDst(a) => {
            if let Ok(mut eth) = EthernetFrame::new_checked(&mut frame[..]) {
                eth.set_dst_addr(a);
            }
        }
        Action::PushVlan(tpid) => {
            let tci = outer_tag(frame).map_or(0, |t| t.tci());
            push_tag(frame, layout, tpid, tci);
        }
        Action::PopVlan => pop_tag(frame, layout),
        Action::SetVlanVid(vid) => match outer_tag(frame) {
            Some(mut t) => t.set_vid(vid),
            None => push_tag(frame, layout, EtherType::Vlan, vid & vlan::VID_MASK),
        },
        Action::SetVlanPcp(pcp) => match outer_tag(frame) {
            Some(mut t) => t.set_pcp(pcp),
            None => {
                push_tag(frame, layout, EtherType::Vlan, 0);
                if let Some(mut t) = outer_tag(frame) {
                    t.set_pcp(pcp);
                }
            }
        },
        Action::SetIpv4Src(a) => set_ipv4_addr(frame, layout, true, a),
        Action::SetIpv4Dst(a) => set_ipv4_addr(frame, layout, false, a),
        Action::SetIpDscp(dscp) => {
            if let Some(mut ip) = ipv4_mut(frame, layout) {
                ip.rewrite_dscp(dscp);
            } else if let Some(mut ip) = ipv6_mut(frame, layout) {
                ip.set_dscp(dscp);
            }
        }
        Action::SetIpTtl(t) => set_ttl(frame, layout, t),
        Action::DecIpTtl => {
            if let Some(t) = ttl(frame, layout) {
                set_ttl(frame, layout, t.saturating_sub(1));
            }
        }
        Action::SetTpSrc(p) => {
            set_tp_port(frame, layout, L4Kind::Tcp, true, p);
            set_tp_port(frame, layout, L4Kind::Udp, true, p);
        }
        Action::SetTpDst(p) => {
            set_tp_port(frame, layout, L4Kind::Tcp, false, p);
            set_tp_port(frame, layout, L4Kind::Udp, false, p);
        }
        Action::SetField(v) => set_field(v, frame, layout),
        Action::PushMpls(t) => push_mpls(frame, layout, t),
        Action::PopMpls(t) => pop_mpls(frame, layout, t),
        Action::SetMplsTtl(t) => {
            if let Some(mut m) = mpls_outer(frame, layout) {
                m.set_ttl(t);
            }
        }
        Action::DecMplsTtl => {
            if let Some(mut m) = mpls_outer(frame, layout) {
                let t = m.ttl().saturating_sub(1);
                m.set_ttl(t);
            }
        }
        Action::CopyTtlOut => {
            if let Some(inner) = ttl_inner(frame, layout) {
                let t = inner_ttl(frame, inner);
                if let Some(mut m) = mpls_outer(frame, layout) {
                    m.set_ttl(t);
                }
            }
        }
        Action::CopyTtlIn => {
            if let Some(inner) = ttl_inner(frame, layout) {
                if let Some(t) = mpls_outer(frame, layout).map(|m| m.ttl()) {
                    set_inner_ttl(frame, inner, t);
                }
            }
        }
        Action::PushPbb(t) => push_pbb(frame, layout, t),
        Action::PopPbb => pop_pbb(frame, layout),
        Action::Output(_)
        | Action::InPort
        | Action::Flood
        | Action::All
        | Action::Controller { .. }
        | Action::Local
        | Action::Normal
        | Action::Table
        | Action::Group(_)
        | Action::SetQueue(_) => {}
    }
}

fn set_ttl(frame: &mut [u8], layout: &FrameLayout, t: u8) {
    if let Some(mut ip) = ipv4_mut(frame, layout) {
        ip.rewrite_ttl(t);
    } else if let Some(mut ip) = ipv6_mut(frame, layout) {
        ip.set_hop_limit(t);
    }
}

/// Sets an IPv4 address and fixes the IPv4 header checksum and the TCP or UDP checksum
/// (whose pseudo-header holds the address).
fn set_ipv4_addr(frame: &mut [u8], layout: &FrameLayout, src: bool, a: Ipv4Addr) {
    let Some(mut ip) = ipv4_mut(frame, layout) else {
        return;
    };
    let old = if src {
        ip.rewrite_src_addr(a)
    } else {
        ip.rewrite_dst_addr(a)
    };
    if let Some(b) = l4_mut(frame, layout, L4Kind::Tcp) {
        TcpPacket::new_unchecked(b).fix_checksum_for_addr(old, a);
    } else if let Some(b) = l4_mut(frame, layout, L4Kind::Udp) {
        UdpPacket::new_unchecked(b).fix_checksum_for_addr(old, a);
    }
}

/// Sets a TCP or UDP port (if the transport is `kind`), fixing its checksum.
fn set_tp_port(frame: &mut [u8], layout: &FrameLayout, kind: L4Kind, src: bool, p: u16) {
    let Some(b) = l4_mut(frame, layout, kind) else {
        return;
    };
    match (kind, src) {
        (L4Kind::Tcp, true) => TcpPacket::new_unchecked(b).rewrite_src_port(p),
        (L4Kind::Tcp, false) => TcpPacket::new_unchecked(b).rewrite_dst_port(p),
        (L4Kind::Udp, true) => UdpPacket::new_unchecked(b).rewrite_src_port(p),
        (L4Kind::Udp, false) => UdpPacket::new_unchecked(b).rewrite_dst_port(p),
        _ => {}
    }
}

/// Rewrites the SCTP packet with `write`, carrying the checksum over: the stored value
/// changes by exactly the change of the correct one, so a packet that arrived with a
/// wrong checksum leaves with a wrong one (as Open vSwitch does) and a right one stays
/// right. SCTP's CRC32c covers no pseudo-header, only the packet.
fn sctp_rewrite(
    frame: &mut [u8],
    layout: &FrameLayout,
    write: impl FnOnce(&mut SctpPacket<&mut [u8]>),
) {
    let Some(range) = sctp_range(frame, layout) else {
        return;
    };
    let Some(bytes) = frame.get_mut(range) else {
        return;
    };
    let mut p = SctpPacket::new_unchecked(bytes);
    let (stored, before) = (p.checksum(), p.compute_checksum());
    write(&mut p);
    let after = p.compute_checksum();
    p.set_checksum(stored ^ before ^ after);
}

/// Fixes the transport checksum after the pseudo-header's protocol number changed from
/// `old` to `new` (TCP at offset 16, UDP at 6 unless zero over IPv4, ICMPv6 at 2).
fn fix_l4_for_proto(frame: &mut [u8], layout: &FrameLayout, old: u8, new: u8) {
    if !layout.l4_complete {
        return;
    }
    let at = usize::from(layout.l4_offset);
    let csum_at = match (old, layout.l3) {
        (6, _) => at + 16,
        (17, _) => at + 6,
        (58, L3Kind::Ipv6) => at + 2,
        _ => return,
    };
    let Some(b) = frame.get_mut(csum_at..csum_at + 2) else {
        return;
    };
    let c = u16::from_be_bytes([b[0], b[1]]);
    if old == 17 && c == 0 && layout.l3 == L3Kind::Ipv4 {
        return; // no UDP checksum over IPv4
    }
    let c = checksum::update_u16(c, u16::from(old), u16::from(new));
    b.copy_from_slice(&c.to_be_bytes());
}

/// Fixes a TCP, UDP or ICMPv6 checksum whose IPv6 pseudo-header changed from `old` to
/// `new` (an address).
fn fix_l4_for_ipv6(frame: &mut [u8], layout: &FrameLayout, old: &[u8; 16], new: &[u8; 16]) {
    if let Some(b) = l4_mut(frame, layout, L4Kind::Tcp) {
        let mut t = TcpPacket::new_unchecked(b);
        let c = checksum::update_bytes(t.checksum(), old, new);
        t.set_checksum(c);
    } else if let Some(b) = l4_mut(frame, layout, L4Kind::Udp) {
        let mut u = UdpPacket::new_unchecked(b);
        if u.checksum() != 0 {
            let c = checksum::update_bytes(u.checksum(), old, new);
            u.set_checksum(checksum::udp_nonzero(c));
        }
    } else if let Some(b) = l4_mut(frame, layout, L4Kind::Icmpv6) {
        if let Ok(mut i) = Icmpv6Packet::new_checked(b) {
            let c = checksum::update_bytes(i.checksum(), old, new);
            i.set_checksum(c);
        }
    }
}

/// Runs `write` on the bytes `at..at + N` of the frame, then fixes the checksum at
/// `csum_at` incrementally for the change (`at - base` must be even, `base` being where
/// the checksummed data starts).
fn rewrite_covered<const N: usize>(
    frame: &mut [u8],
    at: usize,
    csum_at: usize,
    write: impl FnOnce(&mut [u8; N]),
) {
    let Some(old) = frame
        .get(at..at + N)
        .and_then(|b| <[u8; N]>::try_from(b).ok())
    else {
        return;
    };
    let Some(c) = frame
        .get(csum_at..csum_at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
    else {
        return;
    };
    let mut new = old;
    write(&mut new);
    frame[at..at + N].copy_from_slice(&new);
    let c = checksum::update_bytes(c, &old, &new);
    frame[csum_at..csum_at + 2].copy_from_slice(&c.to_be_bytes());
}

/// Performs a `SetField` whose header `field_applies` found.
fn set_field(v: FieldValue, frame: &mut [u8], layout: &mut FrameLayout) {
    use Field::*;
    let val = v.value();
    let num = v.to_uint();
    let l4 = usize::from(layout.l4_offset);
    match v.field() {
        EthDst | EthSrc => {
            let (Ok(mut eth), Ok(a)) = (
                EthernetFrame::new_checked(&mut frame[..]),
                <[u8; 6]>::try_from(val),
            ) else {
                return;
            };
            if v.field() == EthDst {
                eth.set_dst_addr(EthernetAddress(a));
            } else {
                eth.set_src_addr(EthernetAddress(a));
            }
        }
        EthType => {
            if let Some(at) = ethertype_at(frame, layout) {
                frame[at..at + 2].copy_from_slice(val);
                relayout(frame, layout);
            }
        }
        VlanVid => {
            if let Some(mut t) = outer_tag(frame) {
                t.set_vid(num as u16 & vlan::VID_MASK);
            }
        }
        VlanPcp => {
            if let Some(mut t) = outer_tag(frame) {
                t.set_pcp(num as u8);
            }
        }
        IpDscp => {
            if let Some(mut ip) = ipv4_mut(frame, layout) {
                ip.rewrite_dscp(num as u8);
            } else if let Some(mut ip) = ipv6_mut(frame, layout) {
                ip.set_dscp(num as u8);
            }
        }
        IpEcn => {
            if let Some(mut ip) = ipv4_mut(frame, layout) {
                ip.rewrite_ecn(num as u8);
            } else if let Some(mut ip) = ipv6_mut(frame, layout) {
                ip.set_ecn(num as u8);
            }
        }
        IpProto => {
            let new = num as u8;
            let old = if let Some(mut ip) = ipv4_mut(frame, layout) {
                let old = u8::from(ip.next_header());
                ip.rewrite_next_header(IpProtocol::from(new));
                Some(old)
            } else if let Some(chain) = ipv6_chain(frame, layout) {
                frame
                    .get_mut(chain.proto_at)
                    .map(|b| std::mem::replace(b, new))
            } else {
                None
            };
            // The transport checksum covers the protocol number in its pseudo-header:
            // carry it over, so the checksum stays what a sender of the new protocol
            // number would have computed over the same bytes.
            if let Some(old) = old.filter(|&o| o != new) {
                fix_l4_for_proto(frame, layout, old, new);
            }
            // What follows the IP header is now another protocol.
            relayout(frame, layout);
        }
        Ipv4Src | Ipv4Dst => {
            let a = Ipv4Addr::from(num as u32);
            set_ipv4_addr(frame, layout, v.field() == Ipv4Src, a);
        }
        TcpSrc | UdpSrc => {
            let kind = if v.field() == TcpSrc {
                L4Kind::Tcp
            } else {
                L4Kind::Udp
            };
            set_tp_port(frame, layout, kind, true, num as u16);
        }
        TcpDst | UdpDst => {
            let kind = if v.field() == TcpDst {
                L4Kind::Tcp
            } else {
                L4Kind::Udp
            };
            set_tp_port(frame, layout, kind, false, num as u16);
        }
        SctpSrc => sctp_rewrite(frame, layout, |p| p.set_src_port(num as u16)),
        SctpDst => sctp_rewrite(frame, layout, |p| p.set_dst_port(num as u16)),
        Icmpv4Type | Icmpv4Code => {
            let ty = v.field() == Icmpv4Type;
            rewrite_covered::<2>(frame, l4, l4 + icmpv4::CHECKSUM_OFFSET, |w| {
                w[usize::from(!ty)] = num as u8;
            });
        }
        Icmpv6Type | Icmpv6Code => {
            let ty = v.field() == Icmpv6Type;
            rewrite_covered::<2>(frame, l4, l4 + icmpv6::CHECKSUM_OFFSET, |w| {
                w[usize::from(!ty)] = num as u8;
            });
            // A new type may bring or take away the ND fields.
            relayout(frame, layout);
        }
        ArpOp | ArpSpa | ArpTpa | ArpSha | ArpTha => {
            let Some(mut arp) = arp_mut(frame, layout) else {
                return;
            };
            match v.field() {
                ArpOp => arp.set_operation(ArpOperation::from(num as u16)),
                ArpSpa => arp.set_source_protocol_addr(val),
                ArpTpa => arp.set_target_protocol_addr(val),
                ArpSha => arp.set_source_hardware_addr(val),
                _ => arp.set_target_hardware_addr(val),
            }
        }
        Ipv6Src | Ipv6Dst => {
            let Ok(new) = <[u8; 16]>::try_from(val) else {
                return;
            };
            let routing = ipv6_chain(frame, layout).is_some_and(|c| c.routing);
            let Some(mut ip) = ipv6_mut(frame, layout) else {
                return;
            };
            let old = if v.field() == Ipv6Src {
                let old = ip.src_addr();
                ip.set_src_addr(new.into());
                old
            } else {
                let old = ip.dst_addr();
                ip.set_dst_addr(new.into());
                old
            };
            // With segments left in a Routing header, the pseudo-header's destination is
            // the final one, not this field.
            if v.field() == Ipv6Src || !routing {
                fix_l4_for_ipv6(frame, layout, &old.octets(), &new);
            }
        }
        Ipv6Flabel => {
            if let Some(mut ip) = ipv6_mut(frame, layout) {
                ip.set_flow_label(num as u32);
            }
        }
        Ipv6NdTarget => {
            if nd_mut(frame, layout).is_some() {
                rewrite_covered::<16>(
                    frame,
                    l4 + icmpv6::ND_TARGET_OFFSET,
                    l4 + icmpv6::CHECKSUM_OFFSET,
                    |t| t.copy_from_slice(val),
                );
            }
        }
        Ipv6NdSll | Ipv6NdTll => {
            let want = if v.field() == Ipv6NdSll {
                NdOptionType::SourceLinkLayerAddr
            } else {
                NdOptionType::TargetLinkLayerAddr
            };
            if let Some(at) = nd_option_at(frame, layout, want) {
                rewrite_covered::<6>(frame, at, l4 + icmpv6::CHECKSUM_OFFSET, |a| {
                    a.copy_from_slice(val);
                });
            }
        }
        MplsLabel | MplsTc | MplsBos => {
            if let Some(mut m) = mpls_outer(frame, layout) {
                match v.field() {
                    MplsLabel => m.set_label(num as u32),
                    MplsTc => m.set_tc(num as u8),
                    _ => m.set_bos(num != 0),
                }
            }
            // The bottom-of-stack bit says whether IP follows.
            relayout(frame, layout);
        }
        PbbIsid => {
            if let Some(mut t) = pbb_mut(frame, layout) {
                t.set_isid(num as u32);
            }
        }
        Metadata | TunnelId | InPort | InPhyPort | Ipv6Exthdr | TcpFlags => {}
    }
}

/// Re-derives the layout of a frame whose headers changed shape.
fn relayout(frame: &[u8], layout: &mut FrameLayout) {
    let mut scratch = FlowKey::default();
    *layout = extract(frame, 0, &mut scratch);
}

/// Opens `n` bytes at `at` (their content is left for the caller to write).
fn insert_gap(frame: &mut Vec<u8>, at: usize, n: usize) {
    let len = frame.len();
    if at > len {
        return;
    }
    frame.resize(len + n, 0);
    frame.copy_within(at..len, at + n);
}

/// Pushes an MPLS label stack entry right before the network header (after the VLAN
/// tags), with the EtherType `ethertype`. OpenFlow 1.3 §5.12.1 fills it: label, TC and TTL
/// copied from the entry it covers, or label 0, TC 0 and the IP TTL (0 when not IP) on a
/// frame without MPLS; bottom of stack set only in that second case.
fn push_mpls(frame: &mut Vec<u8>, layout: &mut FrameLayout, ethertype: EtherType) {
    let Some(et_at) = ethertype_at(frame, layout) else {
        return;
    };
    let (label, tc, bos, ttl) = match mpls_outer(frame, layout) {
        Some(m) => (m.label(), m.tc(), false, m.ttl()),
        None => (0, 0, true, ttl(frame, layout).unwrap_or(0)),
    };
    let at = et_at + 2;
    insert_gap(frame, at, mpls::HEADER_LEN);
    let Some(bytes) = frame.get_mut(et_at..at + mpls::HEADER_LEN) else {
        return;
    };
    bytes[..2].copy_from_slice(&u16::from(ethertype).to_be_bytes());
    let mut m = MplsLabel::new_unchecked(&mut bytes[2..]);
    m.set_label(label);
    m.set_tc(tc);
    m.set_bos(bos);
    m.set_ttl(ttl);
    relayout(frame, layout);
}

/// Pops the outermost MPLS entry; `ethertype` names what is left.
fn pop_mpls(frame: &mut Vec<u8>, layout: &mut FrameLayout, ethertype: EtherType) {
    let (Some(et_at), true) = (
        ethertype_at(frame, layout),
        mpls_outer(frame, layout).is_some(),
    ) else {
        return;
    };
    let at = et_at + 2;
    frame.drain(at..at + mpls::HEADER_LEN);
    frame[et_at..at].copy_from_slice(&u16::from(ethertype).to_be_bytes());
    relayout(frame, layout);
}

/// Pushes a PBB backbone header: 802.1ah's I-TAG (EtherType `ethertype`, I-PCP copied
/// from the outer VLAN tag, I-SID from an I-TAG already there or 0) right after the
/// addresses, the customer addresses copied into it, and the frame's own addresses kept as
/// backbone addresses (OpenFlow 1.3 §5.12.1). A later `SetField` of `ETH_DST`/`ETH_SRC`
/// sets the backbone addresses.
fn push_pbb(frame: &mut Vec<u8>, layout: &mut FrameLayout, ethertype: EtherType) {
    if frame.len() < ethernet::HEADER_LEN {
        return;
    }
    let isid = pbb_mut(frame, layout).map_or(0, |t| t.isid());
    let pcp = outer_tag(frame).map_or(0, |t| t.pcp());
    let mut addrs = [0u8; 12];
    addrs.copy_from_slice(&frame[..12]);
    let at = ethernet::ETHERTYPE_OFFSET;
    // EtherType, then the I-TAG up to (not including) its customer EtherType: that is the
    // frame's old EtherType or first tag, which stays where it is.
    let grow = 2 + pbb::HEADER_LEN - 2;
    insert_gap(frame, at, grow);
    let Some(bytes) = frame.get_mut(at..at + grow) else {
        return;
    };
    bytes[..2].copy_from_slice(&u16::from(ethertype).to_be_bytes());
    bytes[2..6].fill(0);
    bytes[6..18].copy_from_slice(&addrs);
    let mut tag = PbbITag::new_unchecked(&mut frame[at + 2..]);
    tag.set_isid(isid);
    tag.set_pcp(pcp);
    relayout(frame, layout);
}

/// Pops the PBB backbone header: the backbone addresses, any backbone VLAN tags and the
/// I-TAG go, and the customer frame inside (from its destination address on) is left.
fn pop_pbb(frame: &mut Vec<u8>, layout: &mut FrameLayout) {
    if pbb_mut(frame, layout).is_none() {
        return;
    }
    let customer = usize::from(layout.l3_offset) + pbb::CUSTOMER_DST_OFFSET;
    frame.drain(..customer);
    relayout(frame, layout);
}

/// Moves an offset of the layout by a tag's length (offsets of absent headers stay 0).
fn shift(offset: &mut u16, present: bool, grow: bool) {
    if present {
        let tag = vlan::HEADER_LEN as u16;
        *offset = if grow {
            offset.saturating_add(tag)
        } else {
            offset.saturating_sub(tag)
        };
    }
}

/// Inserts a tag `tpid`/`tci` right after the addresses.
fn push_tag(frame: &mut Vec<u8>, layout: &mut FrameLayout, tpid: EtherType, tci: u16) {
    let at = ethernet::ETHERTYPE_OFFSET;
    if frame.len() < ethernet::HEADER_LEN {
        return;
    }
    insert_gap(frame, at, vlan::HEADER_LEN);
    // The old EtherType is now the new tag's inner type; write the TPID and the TCI.
    let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
    eth.set_ethertype(tpid);
    VlanTag::new_unchecked(eth.payload_mut()).set_tci(tci);
    layout.vlan_tags = layout.vlan_tags.saturating_add(1);
    shift(&mut layout.l3_offset, layout.l3 != L3Kind::None, true);
    shift(&mut layout.l4_offset, layout.l4 != L4Kind::None, true);
}

/// Removes the outer tag; the EtherType it carried takes the TPID's place.
fn pop_tag(frame: &mut Vec<u8>, layout: &mut FrameLayout) {
    let Some(inner) = outer_tag(frame).map(|t| t.ethertype()) else {
        return;
    };
    let at = ethernet::ETHERTYPE_OFFSET;
    // TPID and TCI go; the inner EtherType slides into the TPID's place.
    frame.drain(at..at + vlan::HEADER_LEN);
    debug_assert_eq!(EthernetFrame::new_unchecked(&frame[..]).ethertype(), inner);
    layout.vlan_tags = layout.vlan_tags.saturating_sub(1);
    shift(&mut layout.l3_offset, layout.l3 != L3Kind::None, false);
    shift(&mut layout.l4_offset, layout.l4 != L4Kind::None, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{extract, FlowKey};
    use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice, VlanId};
    use proptest::prelude::*;

    const SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    const DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
    const PAYLOAD: &[u8] = b"the quick brown fox";

    fn tcp4(vlan: Option<u16>) -> Vec<u8> {
        let mut v = Vec::new();
        match vlan {
            Some(vid) => PacketBuilder::ethernet2(SRC, DST)
                .single_vlan(VlanId::try_new(vid).unwrap())
                .ipv4([198, 51, 100, 1], [198, 51, 100, 2], 64)
                .tcp(1234, 80, 7, 1000)
                .write(&mut v, PAYLOAD),
            None => PacketBuilder::ethernet2(SRC, DST)
                .ipv4([198, 51, 100, 1], [198, 51, 100, 2], 64)
                .tcp(1234, 80, 7, 1000)
                .write(&mut v, PAYLOAD),
        }
        .unwrap();
        v
    }

    fn udp4() -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(SRC, DST)
            .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 2)
            .udp(5353, 53)
            .write(&mut v, PAYLOAD)
            .unwrap();
        v
    }

    fn udp6() -> Vec<u8> {
        let mut v = Vec::new();
        let a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let mut b = a;
        b[15] = 2;
        PacketBuilder::ethernet2(SRC, DST)
            .ipv6(a, b, 1)
            .udp(5353, 53)
            .write(&mut v, PAYLOAD)
            .unwrap();
        v
    }

    /// Every checksum of the frame, recomputed from scratch by etherparse, equals the one
    /// in the frame (a UDP checksum of 0 meaning none).
    fn assert_checksums(frame: &[u8]) {
        let p = SlicedPacket::from_ethernet(frame).expect("etherparse parses the result");
        match (&p.net, &p.transport) {
            (Some(NetSlice::Ipv4(ip)), t) => {
                let h = ip.header().to_header();
                assert_eq!(h.header_checksum, h.calc_header_checksum(), "ipv4 header");
                match t {
                    Some(TransportSlice::Tcp(t)) => {
                        let c = t.to_header().calc_checksum_ipv4(&h, t.payload()).unwrap();
                        assert_eq!(t.checksum(), c, "tcp/ipv4");
                    }
                    Some(TransportSlice::Udp(u)) if u.checksum() != 0 => {
                        let c = u.to_header().calc_checksum_ipv4(&h, u.payload()).unwrap();
                        assert_eq!(u.checksum(), c, "udp/ipv4");
                    }
                    _ => {}
                }
            }
            (Some(NetSlice::Ipv6(ip)), t) => {
                let h = ip.header().to_header();
                match t {
                    Some(TransportSlice::Tcp(t)) => {
                        let c = t.to_header().calc_checksum_ipv6(&h, t.payload()).unwrap();
                        assert_eq!(t.checksum(), c, "tcp/ipv6");
                    }
                    Some(TransportSlice::Udp(u)) => {
                        let c = u.to_header().calc_checksum_ipv6(&h, u.payload()).unwrap();
                        assert_eq!(u.checksum(), c, "udp/ipv6");
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn run(actions: &[Action], frame: &mut Vec<u8>) -> (Result<(), ApplyError>, OutputList) {
        let mut key = FlowKey::default();
        let mut layout = extract(frame, 1, &mut key);
        let mut out = OutputList::new();
        let r = apply(actions, frame, &mut layout, &mut out);
        // The layout kept in step with the frame is the layout of the new frame.
        assert_eq!(
            layout,
            extract(frame, 1, &mut key),
            "layout after {actions:?}"
        );
        (r, out)
    }

    #[test]
    fn tcp_ipv4_rewrites() {
        let mut f = tcp4(None);
        let (r, out) = run(
            &[
                Action::SetIpv4Src(Ipv4Addr::new(203, 0, 113, 9)),
                Action::SetIpv4Dst(Ipv4Addr::new(198, 51, 100, 250)),
                Action::SetTpSrc(40000),
                Action::SetTpDst(8443),
                Action::SetIpDscp(46),
                Action::SetIpTtl(5),
                Action::SetEthSrc(EthernetAddress([2, 2, 2, 2, 2, 2])),
                Action::SetEthDst(EthernetAddress([4, 4, 4, 4, 4, 4])),
                Action::Output(2),
            ],
            &mut f,
        );
        assert_eq!(r, Ok(()));
        assert_eq!(out.len(), 1);
        assert_eq!(out.snapshot_count(), 0);
        assert_checksums(&f);
        let (k, _) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.ipv4_src, k.ipv4_dst), (0xcb00_7109, 0xc633_64fa));
        assert_eq!(
            (k.tp_src, k.tp_dst, k.ip_dscp, k.ip_ttl),
            (40000, 8443, 46, 5)
        );
        assert_eq!((k.eth_src, k.eth_dst), ([2; 6], [4; 6]));
        // The payload is untouched.
        assert!(f.ends_with(PAYLOAD));
    }

    #[test]
    fn udp_ipv4_rewrites_and_zero_checksum() {
        let mut f = udp4();
        let acts = [
            Action::SetIpv4Src(Ipv4Addr::new(10, 9, 8, 7)),
            Action::SetTpDst(5300),
            Action::SetTpSrc(0),
        ];
        run(&acts, &mut f).0.unwrap();
        assert_checksums(&f);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.ipv4_src, k.tp_src, k.tp_dst), (0x0a09_0807, 0, 5300));

        // Without a checksum: it stays absent.
        let mut f = udp4();
        let at = usize::from(l.l4_offset);
        UdpPacket::new_unchecked(&mut f[at..]).set_checksum(0);
        run(&acts, &mut f).0.unwrap();
        assert_eq!(UdpPacket::new_unchecked(&f[at..]).checksum(), 0);
        assert_checksums(&f);
    }

    #[test]
    fn ipv6_rewrites() {
        let mut f = udp6();
        let (r, _) = run(
            &[
                Action::SetIpDscp(10),
                Action::SetIpTtl(9),
                Action::DecIpTtl,
                Action::SetTpSrc(7),
            ],
            &mut f,
        );
        assert_eq!(r, Ok(()));
        assert_checksums(&f);
        let (k, _) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.ip_dscp, k.ip_ttl, k.tp_src), (10, 8, 7));
        // IPv4-only rewrites leave an IPv6 frame alone.
        let before = f.clone();
        run(&[Action::SetIpv4Src(Ipv4Addr::LOCALHOST)], &mut f)
            .0
            .unwrap();
        assert_eq!(f, before);
    }

    #[test]
    fn dec_ttl() {
        let mut f = tcp4(None);
        run(&[Action::DecIpTtl, Action::DecIpTtl], &mut f)
            .0
            .unwrap();
        assert_checksums(&f);
        assert_eq!(FlowKey::from_frame(&f, 1).0.ip_ttl, 62);

        for ttl in [0u8, 1] {
            let mut f = udp4();
            run(&[Action::SetIpTtl(ttl)], &mut f).0.unwrap();
            let before = f.clone();
            let (r, out) = run(
                &[Action::Output(1), Action::DecIpTtl, Action::Output(2)],
                &mut f,
            );
            assert_eq!(r, Err(ApplyError::InvalidTtl));
            assert_eq!(f, before, "nothing rewritten at ttl {ttl}");
            // The output before the failing action stands; the one after never ran.
            assert_eq!(
                out.iter().map(|o| o.port).collect::<Vec<_>>(),
                [OutputPort::Port(1)]
            );
        }

        // IPv6 hop limit 1.
        let mut f = udp6();
        assert_eq!(
            run(&[Action::DecIpTtl], &mut f).0,
            Err(ApplyError::InvalidTtl)
        );
        // Not IP: nothing to decrement, not an error.
        let mut arp = tcp4(None);
        EthernetFrame::new_unchecked(&mut arp[..]).set_ethertype(EtherType::Arp);
        assert_eq!(run(&[Action::DecIpTtl], &mut arp).0, Ok(()));
    }

    #[test]
    fn vlan_push_set_pop() {
        let original = tcp4(None);
        let mut f = original.clone();
        run(&[Action::PushVlan(EtherType::Vlan)], &mut f).0.unwrap();
        assert_eq!(&f[12..18], &[0x81, 0x00, 0x00, 0x00, 0x08, 0x00]);
        run(&[Action::SetVlanVid(0xabc), Action::SetVlanPcp(5)], &mut f)
            .0
            .unwrap();
        assert_eq!(&f[12..16], &[0x81, 0x00, 0xaa, 0xbc]);
        // A QinQ S-tag copies the C-tag's TCI.
        run(&[Action::PushVlan(EtherType::QinQ)], &mut f).0.unwrap();
        assert_eq!(
            &f[12..20],
            &[0x88, 0xa8, 0xaa, 0xbc, 0x81, 0x00, 0xaa, 0xbc]
        );
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!(
            (k.vlan_vid, k.vlan_pcp, k.eth_type),
            (0xabc | 0x1000, 5, 0x0800)
        );
        assert_eq!((l.vlan_tags, l.l3_offset, l.l4_offset), (2, 22, 42));
        assert_checksums(&f);
        run(&[Action::PopVlan, Action::PopVlan, Action::PopVlan], &mut f)
            .0
            .unwrap();
        assert_eq!(f, original);
    }

    #[test]
    fn set_vlan_on_untagged_pushes() {
        let mut f = tcp4(None);
        run(&[Action::SetVlanVid(0x1064)], &mut f).0.unwrap();
        assert_eq!(&f[12..18], &[0x81, 0x00, 0x00, 0x64, 0x08, 0x00]);
        let mut f = tcp4(None);
        run(&[Action::SetVlanPcp(7)], &mut f).0.unwrap();
        assert_eq!(&f[12..16], &[0x81, 0x00, 0xe0, 0x00]);
        let mut f = tcp4(Some(33));
        run(&[Action::SetVlanVid(34)], &mut f).0.unwrap();
        assert_eq!(FlowKey::from_frame(&f, 1).0.vlan_vid, 34 | 0x1000);
        assert_eq!(FlowKey::from_frame(&f, 1).1.vlan_tags, 1);
    }

    #[test]
    fn outputs_see_the_frame_of_their_time() {
        let mut f = tcp4(None);
        let (_, out) = run(
            &[
                Action::SetVlanVid(10),
                Action::Output(1),
                Action::InPort,
                Action::PopVlan,
                Action::Output(2),
                Action::SetTpDst(1),
                Action::Controller { max_len: 128 },
            ],
            &mut f,
        );
        assert_eq!(out.len(), 4);
        assert_eq!(out.snapshot_count(), 2);
        let frames: Vec<_> = out.iter().map(|o| out.frame_of(o, &f).to_vec()).collect();
        let keys: Vec<_> = frames.iter().map(|b| FlowKey::from_frame(b, 1).0).collect();
        assert_eq!((keys[0].vlan_vid, keys[0].tp_dst), (10 | 0x1000, 80));
        assert_eq!(frames[0], frames[1]);
        assert_eq!((keys[2].vlan_vid, keys[2].tp_dst), (0, 80));
        assert_eq!((keys[3].vlan_vid, keys[3].tp_dst), (0, 1));
        assert_eq!(out.get(3).unwrap().frame, FrameVersion::Final);
        assert_eq!(
            out.iter().map(|o| o.port).collect::<Vec<_>>(),
            [
                OutputPort::Port(1),
                OutputPort::InPort,
                OutputPort::Port(2),
                OutputPort::Controller { max_len: 128 }
            ]
        );
        for b in &frames {
            assert_checksums(b);
        }

        // Outputs after every rewrite: no copy.
        let mut f = tcp4(None);
        let (_, out) = run(&[Action::SetTpDst(1), Action::Flood, Action::All], &mut f);
        assert_eq!((out.len(), out.snapshot_count()), (2, 0));
        // A rewrite that does not apply does not copy either.
        let (_, out) = run(&[Action::Flood, Action::PopVlan], &mut f);
        assert_eq!((out.len(), out.snapshot_count()), (1, 0));
    }

    #[test]
    fn empty_list_drops() {
        let mut f = tcp4(None);
        let before = f.clone();
        let (r, out) = run(&[], &mut f);
        assert_eq!(r, Ok(()));
        assert!(out.is_empty());
        assert_eq!(f, before);
    }

    #[test]
    fn many_outputs_spill() {
        let mut f = tcp4(None);
        let acts: Vec<_> = (0..20).map(Action::Output).collect();
        let mut out = OutputList::new();
        let mut layout = extract(&f, 1, &mut FlowKey::default());
        apply(&acts, &mut f, &mut layout, &mut out).unwrap();
        assert_eq!(out.len(), 20);
        let ports: Vec<_> = out.iter().map(|o| o.port).collect();
        assert_eq!(ports, (0..20).map(OutputPort::Port).collect::<Vec<_>>());
        assert_eq!(out.get(19).map(|o| o.port), Some(OutputPort::Port(19)));
        assert_eq!(out.get(20), None);
        // Reusing the list clears it.
        apply(&[Action::Output(7)], &mut f, &mut layout, &mut out).unwrap();
        assert_eq!(
            out.iter().map(|o| o.port).collect::<Vec<_>>(),
            [OutputPort::Port(7)]
        );
    }

    #[test]
    fn short_frames_are_left_alone() {
        for n in 0..20 {
            let mut f = vec![0x81; n];
            let mut layout = FrameLayout::default();
            let mut out = OutputList::new();
            let all = [
                Action::SetEthSrc(EthernetAddress([1; 6])),
                Action::PushVlan(EtherType::Vlan),
                Action::PopVlan,
                Action::SetVlanVid(1),
                Action::SetIpv4Src(Ipv4Addr::LOCALHOST),
                Action::DecIpTtl,
                Action::SetTpSrc(1),
            ];
            apply(&all, &mut f, &mut layout, &mut out).unwrap();
            if n < 14 {
                assert_eq!(f, vec![0x81; n]);
            }
        }
    }

    fn action_strategy() -> impl Strategy<Value = Action> {
        prop_oneof![
            any::<u32>().prop_map(Action::Output),
            Just(Action::Flood),
            any::<[u8; 6]>().prop_map(|a| Action::SetEthSrc(EthernetAddress(a))),
            any::<[u8; 6]>().prop_map(|a| Action::SetEthDst(EthernetAddress(a))),
            prop_oneof![Just(EtherType::Vlan), Just(EtherType::QinQ)].prop_map(Action::PushVlan),
            Just(Action::PopVlan),
            (0u16..4096).prop_map(Action::SetVlanVid),
            (0u8..8).prop_map(Action::SetVlanPcp),
            any::<[u8; 4]>().prop_map(|a| Action::SetIpv4Src(a.into())),
            any::<[u8; 4]>().prop_map(|a| Action::SetIpv4Dst(a.into())),
            (0u8..64).prop_map(Action::SetIpDscp),
            (2u8..=255).prop_map(Action::SetIpTtl),
            Just(Action::DecIpTtl),
            any::<u16>().prop_map(Action::SetTpSrc),
            any::<u16>().prop_map(Action::SetTpDst),
        ]
    }

    fn frame_strategy() -> impl Strategy<Value = Vec<u8>> {
        (
            any::<bool>(),
            prop::option::of(0u16..4096),
            any::<bool>(),
            any::<([u8; 4], [u8; 4])>(),
            any::<(u16, u16)>(),
            2u8..=255,
            prop::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(v6, vlan, tcp, (a, b), (sp, dp), ttl, payload)| {
                let base = PacketBuilder::ethernet2(SRC, DST);
                let mut out = Vec::new();
                let mut a6 = [0u8; 16];
                let mut b6 = [0u8; 16];
                a6[12..].copy_from_slice(&a);
                b6[12..].copy_from_slice(&b);
                macro_rules! finish {
                    ($step:expr) => {{
                        let ip = $step;
                        if tcp {
                            ip.tcp(sp, dp, 1, 100).write(&mut out, &payload).unwrap()
                        } else {
                            ip.udp(sp, dp).write(&mut out, &payload).unwrap()
                        }
                    }};
                }
                match (vlan, v6) {
                    (Some(vid), false) => finish!(base
                        .single_vlan(VlanId::try_new(vid).unwrap())
                        .ipv4(a, b, ttl)),
                    (Some(vid), true) => finish!(base
                        .single_vlan(VlanId::try_new(vid).unwrap())
                        .ipv6(a6, b6, ttl)),
                    (None, false) => finish!(base.ipv4(a, b, ttl)),
                    (None, true) => finish!(base.ipv6(a6, b6, ttl)),
                }
                out
            })
    }

    proptest! {
        #[test]
        fn random_action_lists_keep_frames_valid(
            mut frame in frame_strategy(),
            actions in prop::collection::vec(action_strategy(), 0..12),
        ) {
            let (r, out) = run(&actions, &mut frame);
            // TTLs start at 2 or more and SetIpTtl sets 2 or more, but several DecIpTtl
            // may still run the TTL down.
            if r.is_err() {
                prop_assert!(actions.contains(&Action::DecIpTtl));
            }
            assert_checksums(&frame);
            for o in out.iter() {
                assert_checksums(out.frame_of(o, &frame));
            }
        }
    }

    // ---- OpenFlow 1.3 actions -------------------------------------------------------

    use crate::field::test_frames as tf;
    use crate::field::FieldBytes;

    fn sf(field: Field, value: &[u8]) -> Action {
        Action::SetField(FieldValue::new(field, value).unwrap())
    }

    fn run_ctx(
        actions: &[Action],
        frame: &mut Vec<u8>,
        ctx: &mut ApplyContext,
    ) -> (Result<(), ApplyError>, OutputList) {
        let mut key = FlowKey::default();
        let mut layout = extract(frame, 1, &mut key);
        let mut out = OutputList::new();
        let r = apply_with(actions, frame, &mut layout, &mut out, ctx);
        assert_eq!(
            layout,
            extract(frame, 1, &mut key),
            "layout after {actions:?}"
        );
        (r, out)
    }

    fn key(frame: &[u8]) -> FlowKey {
        FlowKey::from_frame(frame, 1).0
    }

    /// `(frame, field, new value)`: every field `SetField` rewrites in frame bytes.
    fn set_field_cases() -> Vec<(&'static str, Vec<u8>, Field, Vec<u8>)> {
        use Field::*;
        let b = |x: &[u8]| x.to_vec();
        vec![
            ("tcp4", tf::tcp4(), EthDst, b(&[0x0e, 1, 2, 3, 4, 5])),
            ("tcp4", tf::tcp4(), EthSrc, b(&[0x0e, 5, 4, 3, 2, 1])),
            ("tcp4_vlan", tf::tcp4_vlan(), VlanVid, b(&[0x10, 0x64])),
            ("tcp4_vlan", tf::tcp4_vlan(), VlanPcp, b(&[2])),
            ("tcp4", tf::tcp4(), IpDscp, b(&[10])),
            ("tcp4", tf::tcp4(), IpEcn, b(&[2])),
            ("tcp4", tf::tcp4(), Ipv4Src, b(&[192, 0, 2, 77])),
            ("tcp4", tf::tcp4(), Ipv4Dst, b(&[192, 0, 2, 78])),
            ("tcp4", tf::tcp4(), TcpSrc, b(&[0xab, 0xcd])),
            ("tcp4", tf::tcp4(), TcpDst, b(&[0x01, 0xbb])),
            ("udp4", tf::udp4(), UdpSrc, b(&[0x30, 0x39])),
            ("udp4", tf::udp4(), UdpDst, b(&[0x00, 0x44])),
            ("udp4", tf::udp4(), Ipv4Dst, b(&[10, 1, 2, 3])),
            ("sctp4", tf::sctp4(), SctpSrc, b(&[0x11, 0x11])),
            ("sctp4", tf::sctp4(), SctpDst, b(&[0x22, 0x22])),
            ("sctp4", tf::sctp4(), Ipv4Src, b(&[10, 0, 0, 1])),
            ("sctp6", tf::sctp6(), SctpDst, b(&[0x00, 0x07])),
            ("icmp4", tf::icmp4_frame(), Icmpv4Type, b(&[11])),
            ("icmp4", tf::icmp4_frame(), Icmpv4Code, b(&[1])),
            ("arp", tf::arp(), ArpOp, b(&[0, 2])),
            ("arp", tf::arp(), ArpSpa, b(&[10, 0, 0, 1])),
            ("arp", tf::arp(), ArpTpa, b(&[10, 0, 0, 2])),
            ("arp", tf::arp(), ArpSha, b(&[0x0e, 0, 0, 0, 0, 1])),
            ("arp", tf::arp(), ArpTha, b(&[0x0e, 0, 0, 0, 0, 2])),
            ("udp6", tf::udp6(), Ipv6Src, b(&[0xfd; 16])),
            ("udp6", tf::udp6(), Ipv6Dst, b(&[0xfe; 16])),
            ("udp6", tf::udp6(), Ipv6Flabel, b(&[0, 0x0a, 0xbc, 0xde])),
            ("udp6", tf::udp6(), IpDscp, b(&[63])),
            ("udp6", tf::udp6(), IpEcn, b(&[3])),
            ("tcp6_hop", tf::tcp6_hop(), Ipv6Src, b(&[0x20; 16])),
            ("tcp6_hop", tf::tcp6_hop(), TcpDst, b(&[0x1f, 0x90])),
            ("ns", tf::ns(), Icmpv6Code, b(&[1])),
            ("ns", tf::ns(), Icmpv6Type, b(&[136])),
            (
                "ns",
                tf::ns(),
                Ipv6NdTarget,
                b(&[0xfe, 0x80, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]),
            ),
            (
                "ns",
                tf::ns(),
                Ipv6NdSll,
                b(&[0x0e, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]),
            ),
            (
                "ns",
                tf::ns(),
                Ipv6Dst,
                b(&[0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0x0b]),
            ),
            (
                "na",
                tf::na(),
                Ipv6NdTll,
                b(&[0x0e, 0x11, 0x22, 0x33, 0x44, 0x55]),
            ),
            ("mpls2", tf::mpls2(), MplsLabel, b(&[0, 0x0f, 0xed, 0xcb])),
            ("mpls2", tf::mpls2(), MplsTc, b(&[2])),
            ("mpls2", tf::mpls2(), MplsBos, b(&[1])),
            ("pbb", tf::pbb(), PbbIsid, b(&[0x12, 0x34, 0x56])),
        ]
    }

    #[test]
    fn set_field_rewrites_every_frame_field() {
        for (name, original, field, value) in set_field_cases() {
            let what = format!("{field} on {name}");
            let before = key(&original);
            assert_ne!(
                &*before.get_field(field),
                &value[..],
                "{what}: a real change"
            );
            let mut f = original.clone();
            let (r, out) = run(
                &[Action::Output(1), sf(field, &value), Action::Output(2)],
                &mut f,
            );
            assert_eq!(r, Ok(()), "{what}");
            assert_eq!(f.len(), original.len(), "{what}");
            let after = key(&f);
            assert_eq!(&*after.get_field(field), &value[..], "{what}");
            tf::verify_checksums(&f);
            // The output before the rewrite saw the original frame.
            assert_eq!(
                out.frame_of(out.get(0).unwrap(), &f),
                &original[..],
                "{what}"
            );
            // Setting the old value back restores every byte, checksums included.
            let (r, _) = run(&[sf(field, &before.get_field(field))], &mut f);
            assert_eq!(r, Ok(()));
            assert_eq!(f, original, "{what}: round trip");
        }
    }

    #[test]
    fn set_field_without_its_header_does_nothing() {
        use Field::*;
        for (frame, field, value) in [
            (tf::tcp4(), VlanVid, &[0x10, 0x05][..]),
            (tf::tcp4(), VlanPcp, &[3]),
            (tf::tcp4(), UdpSrc, &[0, 1]),
            (tf::tcp4(), SctpSrc, &[0, 1]),
            (tf::udp4(), TcpDst, &[0, 1]),
            (tf::udp6(), Ipv4Src, &[1, 2, 3, 4]),
            (tf::tcp4(), Ipv6Src, &[1; 16]),
            (tf::tcp4(), ArpOp, &[0, 2]),
            (tf::tcp4(), MplsLabel, &[0, 0, 0, 1]),
            (tf::tcp4(), PbbIsid, &[0, 0, 1]),
            (tf::na(), Ipv6NdSll, &[1; 6]),
            (tf::ns(), Ipv6NdTll, &[1; 6]),
            (tf::udp6(), Ipv6NdTarget, &[1; 16]),
            (tf::icmp4_frame(), Icmpv6Type, &[1]),
            (tf::tcp4(), InPort, &[0, 0, 0, 9]),
            (tf::tcp4(), TcpFlags, &[0, 0x3f]),
        ] {
            let mut f = frame.clone();
            let (r, out) = run(&[Action::Output(1), sf(field, value)], &mut f);
            assert_eq!((r, f == frame), (Ok(()), true), "{field}");
            assert_eq!(
                out.snapshot_count(),
                0,
                "{field}: nothing changed, nothing copied"
            );
        }
    }

    #[test]
    fn set_eth_type_and_ip_proto() {
        // ETH_TYPE: the type after the tag; the tag stays.
        let mut f = tf::tcp4_vlan();
        run(&[sf(Field::EthType, &[0x88, 0xb5])], &mut f).0.unwrap();
        assert_eq!(&f[12..18], &[0x81, 0x00, 0xa1, 0x23, 0x88, 0xb5]);
        assert_eq!(key(&f).eth_type, 0x88b5);

        // IP_PROTO of IPv4: the header checksum follows.
        let mut f = tf::tcp4();
        run(&[sf(Field::IpProto, &[253])], &mut f).0.unwrap();
        let k = key(&f);
        assert_eq!((k.ip_proto, k.tp_src), (253, 0));
        assert!(Ipv4Packet::new_checked(&f[14..]).unwrap().verify_checksum());

        // IP_PROTO of IPv6 behind a Hop-by-Hop header: that header's next-header byte.
        let mut f = tf::tcp6_hop();
        run(&[sf(Field::IpProto, &[17])], &mut f).0.unwrap();
        assert_eq!((f[14 + 6], f[14 + 40]), (0, 17));
        assert_eq!(key(&f).ip_proto, 17);
        // Without extension headers: the fixed header's.
        let mut f = tf::udp6();
        run(&[sf(Field::IpProto, &[6])], &mut f).0.unwrap();
        assert_eq!(f[14 + 6], 6);
    }

    #[test]
    fn ipv6_dst_under_a_routing_header() {
        // A Routing header with a segment left: the TCP pseudo-header holds the final
        // destination, so rewriting the IPv6 destination leaves the TCP checksum alone.
        for (segments, changes) in [(1u8, false), (0, true)] {
            let mut rh = vec![6u8, 2, 0, segments, 0, 0, 0, 0];
            rh.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
            let f0 = tf::filled(tf::eth(
                0x86dd,
                &[&tf::ipv6(43, &tf::cat(&[&rh, &tf::tcp()]))],
            ));
            let csum = 14 + 40 + 24 + 16;
            let mut f = f0.clone();
            run(&[sf(Field::Ipv6Dst, &[0xfe; 16])], &mut f).0.unwrap();
            assert_eq!(
                f[csum..csum + 2] != f0[csum..csum + 2],
                changes,
                "segments {segments}"
            );
            // The source is in the pseudo-header either way.
            let mut f = f0.clone();
            run(&[sf(Field::Ipv6Src, &[0xfe; 16])], &mut f).0.unwrap();
            assert_ne!(f[csum..csum + 2], f0[csum..csum + 2]);
        }
    }

    /// A bit-at-a-time CRC32c, independent of the table-driven one in `wire::sctp`.
    fn crc32c_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x82f6_3b78
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn sctp_port_rewrite_recomputes_crc32c() {
        let l4 = 14 + 20;
        let mut f = tf::sctp4();
        run(
            &[
                sf(Field::SctpSrc, &[0x13, 0x88]),
                sf(Field::SctpDst, &[0x13, 0x89]),
            ],
            &mut f,
        )
        .0
        .unwrap();
        let mut zeroed = f[l4..].to_vec();
        zeroed[8..12].fill(0);
        // Least significant byte first on the wire (RFC 9260 Appendix A).
        assert_eq!(&f[l4 + 8..l4 + 12], &crc32c_bitwise(&zeroed).to_le_bytes());
        assert_eq!(&f[l4..l4 + 4], &[0x13, 0x88, 0x13, 0x89]);

        // Ethernet padding after the packet is not part of it.
        let mut padded = tf::sctp4();
        padded.extend_from_slice(&[0; 6]);
        run(
            &[
                sf(Field::SctpSrc, &[0x13, 0x88]),
                sf(Field::SctpDst, &[0x13, 0x89]),
            ],
            &mut padded,
        )
        .0
        .unwrap();
        assert_eq!(&padded[..f.len()], &f[..]);

        // A wrong checksum stays exactly as wrong.
        let mut bad = tf::sctp4();
        bad[l4 + 9] ^= 0x5a;
        run(&[sf(Field::SctpDst, &[0, 9])], &mut bad).0.unwrap();
        let p = SctpPacket::new_checked(&bad[l4..]).unwrap();
        assert_eq!(p.checksum() ^ p.compute_checksum(), 0x005a_0000);
    }

    fn entry(label: u32, tc: u8, bos: bool, ttl: u8) -> [u8; 4] {
        ((label << 12) | (u32::from(tc) << 9) | (u32::from(bos) << 8) | u32::from(ttl))
            .to_be_bytes()
    }

    #[test]
    fn push_mpls() {
        // On IPv4: label 0, TC 0, bottom of stack, the IP TTL.
        let orig = tf::tcp4();
        let mut f = orig.clone();
        run(&[Action::PushMpls(EtherType::Mpls)], &mut f).0.unwrap();
        let expect = tf::cat(&[
            &orig[..12],
            &[0x88, 0x47],
            &entry(0, 0, true, 64),
            &orig[14..],
        ]);
        assert_eq!(f, expect);
        let k = key(&f);
        assert_eq!((k.eth_type, k.mpls_label, k.mpls_bos), (0x8847, 0, 1));
        tf::verify_checksums(&f);
        // Popping it with the IPv4 EtherType gives the frame back.
        run(&[Action::PopMpls(EtherType::Ipv4)], &mut f).0.unwrap();
        assert_eq!(f, orig);

        // After the VLAN tag, not before it.
        let orig = tf::tcp4_vlan();
        let mut f = orig.clone();
        run(&[Action::PushMpls(EtherType::MplsMulticast)], &mut f)
            .0
            .unwrap();
        let expect = tf::cat(&[
            &orig[..16],
            &[0x88, 0x48],
            &entry(0, 0, true, 64),
            &orig[18..],
        ]);
        assert_eq!(f, expect);
        assert_eq!(key(&f).vlan_vid, 0x1123);

        // On IPv6: the hop limit. On ARP: TTL 0.
        let mut f = tf::udp6();
        run(&[Action::PushMpls(EtherType::Mpls)], &mut f).0.unwrap();
        assert_eq!(&f[14..18], &entry(0, 0, true, 64));
        let mut f = tf::arp();
        run(&[Action::PushMpls(EtherType::Mpls)], &mut f).0.unwrap();
        assert_eq!(&f[12..18], &[0x88, 0x47, 0, 0, 1, 0]);

        // On MPLS: a copy of the outer entry, not bottom of stack.
        let orig = tf::mpls2();
        let mut f = orig.clone();
        run(&[Action::PushMpls(EtherType::MplsMulticast)], &mut f)
            .0
            .unwrap();
        assert_eq!(
            &f[12..22],
            &[0x88, 0x48, 0x12, 0x34, 0x5a, 0x28, 0x12, 0x34, 0x5a, 0x28]
        );
        assert_eq!(&f[22..], &orig[18..]);

        // Not an MPLS EtherType: nothing.
        let mut f = tf::tcp4();
        run(&[Action::PushMpls(EtherType::Ipv4)], &mut f).0.unwrap();
        assert_eq!(f, tf::tcp4());
    }

    #[test]
    fn pop_mpls() {
        let orig = tf::mpls2();
        let mut f = orig.clone();
        run(&[Action::PopMpls(EtherType::Mpls)], &mut f).0.unwrap();
        assert_eq!(f, tf::cat(&[&orig[..14], &orig[18..]]));
        let k = key(&f);
        assert_eq!((k.mpls_label, k.mpls_tc, k.mpls_bos), (0xabc, 1, 1));
        run(&[Action::PopMpls(EtherType::Ipv4)], &mut f).0.unwrap();
        let k = key(&f);
        assert_eq!((k.eth_type, k.ip_proto, k.tp_dst), (0x0800, 17, 53));
        tf::verify_checksums(&f);
        // Nothing to pop.
        let before = f.clone();
        run(&[Action::PopMpls(EtherType::Ipv4)], &mut f).0.unwrap();
        assert_eq!(f, before);
    }

    #[test]
    fn mpls_ttl_actions() {
        let ttl_at = |f: &[u8], i: usize| f[14 + 4 * i + 3];
        let mut f = tf::mpls2();
        run(&[Action::DecMplsTtl], &mut f).0.unwrap();
        assert_eq!((ttl_at(&f, 0), ttl_at(&f, 1)), (39, 30));
        run(&[Action::SetMplsTtl(7)], &mut f).0.unwrap();
        assert_eq!(ttl_at(&f, 0), 7);
        // Copy out: from the second entry to the outer one; copy in: back.
        run(&[Action::CopyTtlOut], &mut f).0.unwrap();
        assert_eq!((ttl_at(&f, 0), ttl_at(&f, 1)), (30, 30));
        run(&[Action::SetMplsTtl(99), Action::CopyTtlIn], &mut f)
            .0
            .unwrap();
        assert_eq!((ttl_at(&f, 0), ttl_at(&f, 1)), (99, 99));

        // Bottom of the stack over IPv4: copy in rewrites the IP TTL and its checksum.
        run(&[Action::PopMpls(EtherType::Mpls)], &mut f).0.unwrap();
        run(&[Action::SetMplsTtl(12), Action::CopyTtlIn], &mut f)
            .0
            .unwrap();
        assert_eq!(f[18 + 8], 12);
        tf::verify_checksums(&f);
        run(&[Action::SetMplsTtl(1), Action::CopyTtlOut], &mut f)
            .0
            .unwrap();
        assert_eq!(ttl_at(&f, 0), 12);
        // Over IPv6: the hop limit.
        let mut f = tf::udp6();
        run(
            &[
                Action::PushMpls(EtherType::Mpls),
                Action::SetMplsTtl(9),
                Action::CopyTtlIn,
            ],
            &mut f,
        )
        .0
        .unwrap();
        assert_eq!(f[18 + 7], 9);

        // TTL 1 or 0: stop; the output before stands; nothing rewritten.
        for t in [1u8, 0] {
            let mut f = tf::mpls2();
            run(&[Action::SetMplsTtl(t)], &mut f).0.unwrap();
            let before = f.clone();
            let (r, out) = run(
                &[Action::Output(3), Action::DecMplsTtl, Action::Output(4)],
                &mut f,
            );
            assert_eq!(r, Err(ApplyError::InvalidTtl));
            assert_eq!((out.len(), f == before), (1, true));
        }
        // Not MPLS: no TTL to decrement, no error; the copies do nothing.
        let mut f = tf::tcp4();
        let (r, _) = run(
            &[Action::DecMplsTtl, Action::CopyTtlIn, Action::CopyTtlOut],
            &mut f,
        );
        assert_eq!((r, f == tf::tcp4()), (Ok(()), true));
    }

    #[test]
    fn push_and_pop_pbb() {
        let orig = tf::tcp4();
        let mut f = orig.clone();
        run(&[Action::PushPbb(EtherType::Pbb)], &mut f).0.unwrap();
        let expect = tf::cat(&[
            &tf::DST,
            &tf::SRC,
            &[0x88, 0xe7, 0, 0, 0, 0],
            &tf::DST,
            &tf::SRC,
            &orig[12..],
        ]);
        assert_eq!(f, expect);
        let (k, l) = FlowKey::from_frame(&f, 1);
        assert_eq!((k.eth_type, k.pbb_isid, l.l3_offset), (0x88e7, 0, 14));
        tf::verify_checksums(&f);
        // New backbone addresses leave the customer addresses alone.
        run(
            &[
                sf(Field::EthDst, &[0x0e; 6]),
                sf(Field::PbbIsid, &[0, 0, 42]),
            ],
            &mut f,
        )
        .0
        .unwrap();
        assert_eq!((&f[..6], &f[18..24]), (&[0x0e; 6][..], &tf::DST[..]));
        assert_eq!(key(&f).pbb_isid, 42);
        run(&[Action::PopPbb], &mut f).0.unwrap();
        assert_eq!(f, orig);

        // On a tagged frame: I-PCP from the tag, the tag kept inside.
        let orig = tf::tcp4_vlan();
        let mut f = orig.clone();
        run(&[Action::PushPbb(EtherType::Pbb)], &mut f).0.unwrap();
        assert_eq!(&f[12..18], &[0x88, 0xe7, 0xa0, 0, 0, 0]);
        assert_eq!(&f[30..], &orig[12..]);
        run(&[Action::PopPbb], &mut f).0.unwrap();
        assert_eq!(f, orig);

        // Over an I-TAG: its I-SID is copied.
        let mut f = tf::pbb();
        run(&[Action::PushPbb(EtherType::Pbb)], &mut f).0.unwrap();
        assert_eq!(&f[14..18], &[0, 0xab, 0xcd, 0xef]);

        // Popping the I-TAG of a PBB frame leaves the customer frame.
        let orig = tf::pbb();
        let mut f = orig.clone();
        run(&[Action::PopPbb], &mut f).0.unwrap();
        assert_eq!(f, orig[18..].to_vec());
        let k = key(&f);
        assert_eq!(
            (k.eth_dst[5], k.eth_src[5], k.eth_type, k.tp_dst),
            (0x0c, 0x0d, 0x0800, 53)
        );
        tf::verify_checksums(&f);

        // Wrong EtherType, or no I-TAG to pop: nothing.
        let mut f = tf::tcp4();
        run(&[Action::PushPbb(EtherType::Vlan), Action::PopPbb], &mut f)
            .0
            .unwrap();
        assert_eq!(f, tf::tcp4());
    }

    #[test]
    fn vlan_push_on_mpls_and_pop_order() {
        // push_vlan goes outermost even over MPLS; pop_vlan then takes it off again.
        let orig = tf::mpls2();
        let mut f = orig.clone();
        run(
            &[
                Action::PushVlan(EtherType::Vlan),
                sf(Field::VlanVid, &[0x10, 0x05]),
            ],
            &mut f,
        )
        .0
        .unwrap();
        assert_eq!(&f[12..18], &[0x81, 0x00, 0x00, 0x05, 0x88, 0x47]);
        assert_eq!(key(&f).mpls_label, 0x12345);
        run(&[Action::PopVlan], &mut f).0.unwrap();
        assert_eq!(f, orig);
        // A TPID that is not a VLAN one pushes nothing.
        run(&[Action::PushVlan(EtherType::Ipv4)], &mut f).0.unwrap();
        assert_eq!(f, orig);
    }

    #[test]
    fn outputs_queues_groups_and_context() {
        let mut f = tf::tcp4();
        let mut ctx = ApplyContext::default();
        let (r, out) = run_ctx(
            &[
                Action::SetQueue(3),
                Action::Output(1),
                Action::Group(7),
                sf(Field::Ipv4Src, &[192, 0, 2, 1]),
                Action::Local,
                Action::SetQueue(4),
                Action::Normal,
                Action::Table,
                sf(Field::Metadata, &[0, 0, 0, 0, 0, 0, 0, 5]),
                sf(Field::TunnelId, &[0, 0, 0, 0, 0, 1, 0, 0]),
            ],
            &mut f,
            &mut ctx,
        );
        assert_eq!(r, Ok(()));
        let got: Vec<_> = out.iter().map(|o| (o.port, o.queue)).collect();
        assert_eq!(
            got,
            [
                (OutputPort::Port(1), Some(3)),
                (OutputPort::Group(7), Some(3)),
                (OutputPort::Local, Some(3)),
                (OutputPort::Normal, Some(4)),
                (OutputPort::Table, Some(4)),
            ]
        );
        // The group saw the frame before the rewrite, like the output before it.
        let group = out.get(1).unwrap();
        assert_eq!(out.frame_of(group, &f), &tf::tcp4()[..]);
        assert_eq!(out.get(2).unwrap().frame, FrameVersion::Final);
        assert_eq!(out.snapshot_count(), 1);
        assert_eq!(
            ctx,
            ApplyContext {
                metadata: 5,
                tunnel_id: 0x1_0000,
                queue: Some(4)
            }
        );
        // Metadata and tunnel id touch no byte and copy nothing.
        let mut f = tf::tcp4();
        let (_, out) = run(
            &[
                Action::Output(1),
                sf(Field::Metadata, &[1; 8]),
                sf(Field::TunnelId, &[1; 8]),
            ],
            &mut f,
        );
        assert_eq!((f == tf::tcp4(), out.snapshot_count()), (true, 0));
        assert!(Action::Group(1).is_output() && !Action::SetQueue(1).is_output());
    }

    #[test]
    fn action_set_order() {
        use ActionSetKey as K;
        let set = [
            Action::Output(1),
            Action::Group(2),
            Action::SetQueue(3),
            sf(Field::Ipv4Dst, &[1, 2, 3, 4]),
            sf(Field::EthSrc, &[2; 6]),
            Action::SetIpTtl(3),
            Action::SetMplsTtl(3),
            Action::DecIpTtl,
            Action::DecMplsTtl,
            Action::CopyTtlOut,
            Action::PushVlan(EtherType::Vlan),
            Action::PushPbb(EtherType::Pbb),
            Action::PushMpls(EtherType::Mpls),
            Action::PopPbb,
            Action::PopMpls(EtherType::Ipv4),
            Action::PopVlan,
            Action::CopyTtlIn,
        ];
        let mut sorted = set.to_vec();
        sorted.sort_by_key(Action::action_set_key);
        let mut expect = set.to_vec();
        expect.reverse();
        assert_eq!(sorted, expect);
        let slots: Vec<u8> = sorted.iter().map(Action::action_set_slot).collect();
        assert_eq!(slots, [0, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7, 7, 8, 9, 10]);
        // One set_field per field: the same field replaces, another does not.
        assert_eq!(
            sf(Field::Ipv4Dst, &[1, 1, 1, 1]).action_set_key(),
            Action::SetIpv4Dst(Ipv4Addr::new(9, 9, 9, 9)).action_set_key()
        );
        assert_ne!(
            sf(Field::Ipv4Dst, &[1; 4]).action_set_key(),
            sf(Field::Ipv4Src, &[1; 4]).action_set_key()
        );
        // Every output kind is the one output of a set.
        for a in [
            Action::Flood,
            Action::Controller { max_len: 1 },
            Action::Table,
            Action::InPort,
        ] {
            assert_eq!(a.action_set_key(), K::Output);
        }
        assert!(K::SetField(Field::EthDst) < K::SetField(Field::Ipv4Src));
    }

    #[test]
    fn field_value_is_inline() {
        // A set_field action carries its value without a heap allocation, and stays small.
        assert!(core::mem::size_of::<Action>() <= 24);
        let v = FieldValue::new(Field::Ipv6Src, &[7; 16]).unwrap();
        assert_eq!(FieldBytes::new(v.value()).unwrap().len(), 16);
    }

    /// Any action, with any argument: fields of every kind with in-range values, EtherTypes
    /// that fit and that do not.
    fn any_action() -> impl Strategy<Value = Action> {
        let field_value = (0usize..Field::ALL.len(), any::<u128>()).prop_map(|(i, raw)| {
            let f = Field::ALL[i];
            let bits = f.value_bits().to_uint();
            FieldValue::from_uint(f, raw & bits).unwrap()
        });
        let ethertype = prop_oneof![
            Just(EtherType::Vlan),
            Just(EtherType::QinQ),
            Just(EtherType::Mpls),
            Just(EtherType::MplsMulticast),
            Just(EtherType::Pbb),
            Just(EtherType::Ipv4),
            Just(EtherType::Ipv6),
            any::<u16>().prop_map(EtherType::from),
        ];
        prop_oneof![
            action_strategy(),
            field_value.prop_map(Action::SetField),
            ethertype.clone().prop_map(Action::PushMpls),
            ethertype.clone().prop_map(Action::PopMpls),
            ethertype.clone().prop_map(Action::PushPbb),
            ethertype.prop_map(Action::PushVlan),
            any::<u8>().prop_map(Action::SetMplsTtl),
            Just(Action::DecMplsTtl),
            Just(Action::CopyTtlIn),
            Just(Action::CopyTtlOut),
            Just(Action::PopPbb),
            Just(Action::PopVlan),
            any::<u32>().prop_map(Action::Group),
            any::<u32>().prop_map(Action::SetQueue),
            Just(Action::Local),
            Just(Action::Normal),
            Just(Action::Table),
        ]
    }

    /// The literal frames, the builder frames, and both cut and bit-flipped.
    fn any_frame() -> impl Strategy<Value = Vec<u8>> {
        let literal = (0usize..tf::all().len()).prop_map(|i| tf::all().swap_remove(i).1);
        (
            prop_oneof![literal, frame_strategy()],
            any::<prop::sample::Index>(),
            prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
            any::<bool>(),
        )
            .prop_map(|(mut f, cut, flip, do_cut)| {
                if let Some((at, x)) = flip {
                    let i = at.index(f.len());
                    f[i] ^= x;
                }
                if do_cut {
                    f.truncate(cut.index(f.len() + 1));
                }
                f
            })
    }

    /// Rewrites whose effect keeps a valid frame valid (not EtherType, IP protocol or
    /// bottom-of-stack rewrites, which make the rest of the frame mean something else).
    fn checksum_safe_action() -> impl Strategy<Value = Action> {
        any_action().prop_filter("reinterprets the frame", |a| {
            !matches!(
                a,
                Action::SetField(v) if matches!(v.field(), Field::EthType | Field::IpProto | Field::MplsBos)
            ) && !matches!(a, Action::PopMpls(_) | Action::PushPbb(_) | Action::PushMpls(_))
        })
    }

    proptest! {
        #[test]
        fn any_actions_on_any_frame_never_panic(
            mut frame in any_frame(),
            actions in prop::collection::vec(any_action(), 0..16),
        ) {
            let mut ctx = ApplyContext::default();
            // `run_ctx` also checks the layout left is the layout of the new frame.
            let (r, out) = run_ctx(&actions, &mut frame, &mut ctx);
            if r.is_err() {
                prop_assert!(actions.iter().any(|a| matches!(a, Action::DecIpTtl | Action::DecMplsTtl)));
            }
            for o in out.iter() {
                let _ = FlowKey::from_frame(out.frame_of(o, &frame), 1);
            }
        }

        #[test]
        fn safe_actions_keep_checksums_valid(
            i in 0usize..13,
            actions in prop::collection::vec(checksum_safe_action(), 0..12),
        ) {
            let mut frame = tf::all().swap_remove(i).1;
            let (_, out) = run(&actions, &mut frame);
            tf::verify_checksums(&frame);
            for o in out.iter() {
                tf::verify_checksums(out.frame_of(o, &frame));
            }
        }
    }
}
