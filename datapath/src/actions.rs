//! Actions: frame rewrites and output decisions.
//!
//! An OpenFlow action list is executed in order on one frame. Rewrites change the frame's
//! bytes in place; outputs are not sent from here but collected into an [`OutputList`]
//! the caller provided, and the caller sends them after [`apply`] returns. There is no
//! `Drop` action: a list without outputs (the empty list in particular) drops the frame.
//!
//! # Outputs see the frame as it was when they ran
//!
//! In `[SetVlanVid(10), Output(1), PopVlan, Output(2)]` port 1 must get the tagged frame
//! and port 2 the untagged one. The common case has every output after every rewrite, so
//! each [`Output`] normally refers to the final frame ([`FrameVersion::Final`]) and nothing
//! is copied. Only when a rewrite follows an output does [`apply`] copy the frame as it was
//! into the list ([`FrameVersion::Snapshot`]) before rewriting: the one allocation, for the
//! uncommon case.
//!
//! # Checksums
//!
//! Every rewrite keeps the checksums valid by RFC 1624 incremental updates, never by
//! reading the payload again: the IPv4 header checksum when the TTL, DSCP or an address
//! changes; the TCP or UDP checksum when a port changes or an IPv4 address (part of their
//! pseudo-header) does. A UDP checksum of 0 ("none") stays 0. The transport checksum is
//! only touched when [`FrameLayout::l4_complete`] says its header is in the frame; a later
//! fragment has no transport header, and its datagram's checksum lives in the first
//! fragment.
//!
//! # Headers that are not there
//!
//! OpenFlow checks prerequisites when a flow is added (no `SetTpSrc` without `ip_proto`
//! TCP or UDP). At run time a rewrite whose header the frame lacks does nothing, as in
//! Open vSwitch. The exceptions, per OpenFlow 1.0: `SetVlanVid` and `SetVlanPcp` on an
//! untagged frame push an 802.1Q tag first (VID or PCP as given, the other zero).

use core::net::Ipv4Addr;

use crate::key::{FrameLayout, L3Kind, L4Kind};
use crate::wire::{ethernet, vlan, EtherType, EthernetAddress, EthernetFrame, Ipv4Packet};
use crate::wire::{Ipv6Packet, TcpPacket, UdpPacket, VlanTag};

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
    /// Push a new outermost VLAN tag with this TPID (0x8100 or 0x88a8). Its PCP and VID
    /// are copied from the tag it covers, or zero on an untagged frame (OpenFlow 1.3).
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
    /// Set the IPv4 TTL or the IPv6 hop limit.
    SetIpTtl(u8),
    /// Decrement the IPv4 TTL or the IPv6 hop limit; on a TTL of 0 or 1, stop with
    /// [`ApplyError::InvalidTtl`] instead.
    DecIpTtl,
    /// Set the TCP or UDP source port.
    SetTpSrc(u16),
    /// Set the TCP or UDP destination port.
    SetTpDst(u16),
}

impl Action {
    /// Whether this action decides an output (rather than rewriting the frame).
    #[inline]
    pub fn is_output(&self) -> bool {
        matches!(
            self,
            Action::Output(_)
                | Action::InPort
                | Action::Flood
                | Action::All
                | Action::Controller { .. }
        )
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
}

impl Default for Output {
    fn default() -> Self {
        Output {
            port: OutputPort::Port(0),
            frame: FrameVersion::Final,
        }
    }
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
/// `layout` must come from [`extract`](crate::key::extract) on this frame; it is kept up
/// to date as tags are pushed and popped. Pushing a tag grows the frame by 4 bytes: a
/// vector with spare capacity does not reallocate.
pub fn apply(
    actions: &[Action],
    frame: &mut Vec<u8>,
    layout: &mut FrameLayout,
    out: &mut OutputList,
) -> Result<(), ApplyError> {
    out.clear();
    // Outputs from this index on still refer to the live frame.
    let mut live_from = 0;
    for action in actions {
        let port = match *action {
            Action::Output(p) => Some(OutputPort::Port(p)),
            Action::InPort => Some(OutputPort::InPort),
            Action::Flood => Some(OutputPort::Flood),
            Action::All => Some(OutputPort::All),
            Action::Controller { max_len } => Some(OutputPort::Controller { max_len }),
            _ => None,
        };
        if let Some(port) = port {
            out.push(Output {
                port,
                frame: FrameVersion::Final,
            });
            continue;
        }
        if !applies(action, frame, layout) {
            continue;
        }
        if *action == Action::DecIpTtl && ttl(frame, layout).is_some_and(|t| t <= 1) {
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

/// The TTL or hop limit, for `DecIpTtl`.
fn ttl(frame: &mut [u8], layout: &FrameLayout) -> Option<u8> {
    if let Some(ip) = ipv4_mut(frame, layout) {
        return Some(ip.ttl());
    }
    ipv6_mut(frame, layout).map(|ip| ip.hop_limit())
}

/// Whether the rewrite would change anything (its header is there).
fn applies(action: &Action, frame: &mut [u8], layout: &FrameLayout) -> bool {
    let has_eth = frame.len() >= ethernet::HEADER_LEN;
    match *action {
        Action::SetEthSrc(_) | Action::SetEthDst(_) | Action::PushVlan(_) => has_eth,
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
        Action::Output(_)
        | Action::InPort
        | Action::Flood
        | Action::All
        | Action::Controller { .. } => false,
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
        Action::SetIpv4Src(a) | Action::SetIpv4Dst(a) => {
            let Some(mut ip) = ipv4_mut(frame, layout) else {
                return;
            };
            let old = match action {
                Action::SetIpv4Src(_) => ip.rewrite_src_addr(a),
                _ => ip.rewrite_dst_addr(a),
            };
            if let Some(b) = l4_mut(frame, layout, L4Kind::Tcp) {
                TcpPacket::new_unchecked(b).fix_checksum_for_addr(old, a);
            } else if let Some(b) = l4_mut(frame, layout, L4Kind::Udp) {
                UdpPacket::new_unchecked(b).fix_checksum_for_addr(old, a);
            }
        }
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
        Action::SetTpSrc(p) | Action::SetTpDst(p) => {
            let src = matches!(action, Action::SetTpSrc(_));
            if let Some(b) = l4_mut(frame, layout, L4Kind::Tcp) {
                let mut tcp = TcpPacket::new_unchecked(b);
                if src {
                    tcp.rewrite_src_port(p);
                } else {
                    tcp.rewrite_dst_port(p);
                }
            } else if let Some(b) = l4_mut(frame, layout, L4Kind::Udp) {
                let mut udp = UdpPacket::new_unchecked(b);
                if src {
                    udp.rewrite_src_port(p);
                } else {
                    udp.rewrite_dst_port(p);
                }
            }
        }
        Action::Output(_)
        | Action::InPort
        | Action::Flood
        | Action::All
        | Action::Controller { .. } => {}
    }
}

fn set_ttl(frame: &mut [u8], layout: &FrameLayout, t: u8) {
    if let Some(mut ip) = ipv4_mut(frame, layout) {
        ip.rewrite_ttl(t);
    } else if let Some(mut ip) = ipv6_mut(frame, layout) {
        ip.set_hop_limit(t);
    }
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
    let len = frame.len();
    frame.resize(len + vlan::HEADER_LEN, 0);
    frame.copy_within(at..len, at + vlan::HEADER_LEN);
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
}
