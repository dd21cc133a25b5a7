//! Matches as ordered lists of OXM fields, the same for OpenFlow 1.0 and 1.3.
//!
//! A [`Match`] is the list of [`OxmField`]s in the order they were received (or built),
//! each a field id, its value in network byte order and an optional mask of the same
//! width. This is exactly what an OpenFlow 1.3 `ofp_match` carries, so 1.3 matches
//! round-trip byte for byte. OpenFlow 1.0's fixed `ofp_match` is converted to the same
//! list (see `v10::match10`); because one 1.0 meaning has several wire spellings (an
//! all-wildcard `nw_src` can be written with any prefix count from 32 to 63, wildcarded
//! fields may hold stray values), a match decoded from 1.0 also keeps its wire form in
//! [`Match::v10_wire`], and the 1.0 encoder reuses it while it still means `fields`.
//! Equality of matches compares `fields` only.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::port::PortNo;
use crate::v10::MatchV10;

/// Identifies an OXM field: a basic-class (`OFPXMC_OPENFLOW_BASIC`, 0x8000) field of
/// OpenFlow 1.3 (plus 1.4's `PBB_UCA`), an experimenter field, or any other class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OxmId {
    /// Switch input port (4 bytes).
    InPort,
    /// Switch physical input port (4 bytes).
    InPhyPort,
    /// Metadata passed between tables (8 bytes, maskable).
    Metadata,
    /// Ethernet destination address (6 bytes, maskable).
    EthDst,
    /// Ethernet source address (6 bytes, maskable).
    EthSrc,
    /// Ethernet frame type (2 bytes).
    EthType,
    /// VLAN id with `OFPVID_PRESENT` (0x1000); 0 (`OFPVID_NONE`) matches untagged frames
    /// (2 bytes, maskable).
    VlanVid,
    /// VLAN priority (1 byte).
    VlanPcp,
    /// IP DSCP, the 6 upper bits of the ToS byte (1 byte).
    IpDscp,
    /// IP ECN, the 2 lower bits of the ToS byte (1 byte).
    IpEcn,
    /// IP protocol (1 byte).
    IpProto,
    /// IPv4 source address (4 bytes, maskable).
    Ipv4Src,
    /// IPv4 destination address (4 bytes, maskable).
    Ipv4Dst,
    /// TCP source port (2 bytes).
    TcpSrc,
    /// TCP destination port (2 bytes).
    TcpDst,
    /// UDP source port (2 bytes).
    UdpSrc,
    /// UDP destination port (2 bytes).
    UdpDst,
    /// SCTP source port (2 bytes).
    SctpSrc,
    /// SCTP destination port (2 bytes).
    SctpDst,
    /// ICMPv4 type (1 byte).
    Icmpv4Type,
    /// ICMPv4 code (1 byte).
    Icmpv4Code,
    /// ARP opcode (2 bytes).
    ArpOp,
    /// ARP source IPv4 address (4 bytes, maskable).
    ArpSpa,
    /// ARP target IPv4 address (4 bytes, maskable).
    ArpTpa,
    /// ARP source hardware address (6 bytes, maskable).
    ArpSha,
    /// ARP target hardware address (6 bytes, maskable).
    ArpTha,
    /// IPv6 source address (16 bytes, maskable).
    Ipv6Src,
    /// IPv6 destination address (16 bytes, maskable).
    Ipv6Dst,
    /// IPv6 flow label (4 bytes, maskable).
    Ipv6Flabel,
    /// ICMPv6 type (1 byte).
    Icmpv6Type,
    /// ICMPv6 code (1 byte).
    Icmpv6Code,
    /// Target address for IPv6 neighbour discovery (16 bytes).
    Ipv6NdTarget,
    /// Source link-layer address for ND (6 bytes).
    Ipv6NdSll,
    /// Target link-layer address for ND (6 bytes).
    Ipv6NdTll,
    /// MPLS label (4 bytes).
    MplsLabel,
    /// MPLS traffic class (1 byte).
    MplsTc,
    /// MPLS bottom-of-stack bit (1 byte).
    MplsBos,
    /// PBB I-SID (3 bytes, maskable).
    PbbIsid,
    /// Logical port metadata / tunnel id (8 bytes, maskable).
    TunnelId,
    /// IPv6 extension header pseudo-field (2 bytes, maskable).
    Ipv6Exthdr,
    /// PBB UCA header field (1 byte; OpenFlow 1.4 field 41, accepted in 1.3).
    PbbUca,
    /// An experimenter field (`OFPXMC_EXPERIMENTER`, 0xffff): the value follows the
    /// 4-byte experimenter id on the wire.
    Experimenter {
        /// The field number within the experimenter's space (7 bits).
        field: u8,
        /// The experimenter id.
        experimenter: u32,
    },
    /// Any other class (e.g. Nicira's NXM 0x0000/0x0001), or an unassigned basic field:
    /// passed through as opaque value (and mask) bytes.
    Unknown {
        /// The OXM class.
        class: u16,
        /// The field number (7 bits).
        field: u8,
    },
}

/// The OXM class of OpenFlow basic fields.
pub const OXM_CLASS_BASIC: u16 = 0x8000;
/// The OXM class of experimenter fields.
pub const OXM_CLASS_EXPERIMENTER: u16 = 0xffff;

/// (id, field number, value width in bytes, maskable, name) of every basic field.
const BASIC: [(OxmId, u8, u8, bool, &str); 41] = [
    (OxmId::InPort, 0, 4, false, "in_port"),
    (OxmId::InPhyPort, 1, 4, false, "in_phy_port"),
    (OxmId::Metadata, 2, 8, true, "metadata"),
    (OxmId::EthDst, 3, 6, true, "eth_dst"),
    (OxmId::EthSrc, 4, 6, true, "eth_src"),
    (OxmId::EthType, 5, 2, false, "eth_type"),
    (OxmId::VlanVid, 6, 2, true, "vlan_vid"),
    (OxmId::VlanPcp, 7, 1, false, "vlan_pcp"),
    (OxmId::IpDscp, 8, 1, false, "ip_dscp"),
    (OxmId::IpEcn, 9, 1, false, "ip_ecn"),
    (OxmId::IpProto, 10, 1, false, "ip_proto"),
    (OxmId::Ipv4Src, 11, 4, true, "ipv4_src"),
    (OxmId::Ipv4Dst, 12, 4, true, "ipv4_dst"),
    (OxmId::TcpSrc, 13, 2, false, "tcp_src"),
    (OxmId::TcpDst, 14, 2, false, "tcp_dst"),
    (OxmId::UdpSrc, 15, 2, false, "udp_src"),
    (OxmId::UdpDst, 16, 2, false, "udp_dst"),
    (OxmId::SctpSrc, 17, 2, false, "sctp_src"),
    (OxmId::SctpDst, 18, 2, false, "sctp_dst"),
    (OxmId::Icmpv4Type, 19, 1, false, "icmpv4_type"),
    (OxmId::Icmpv4Code, 20, 1, false, "icmpv4_code"),
    (OxmId::ArpOp, 21, 2, false, "arp_op"),
    (OxmId::ArpSpa, 22, 4, true, "arp_spa"),
    (OxmId::ArpTpa, 23, 4, true, "arp_tpa"),
    (OxmId::ArpSha, 24, 6, true, "arp_sha"),
    (OxmId::ArpTha, 25, 6, true, "arp_tha"),
    (OxmId::Ipv6Src, 26, 16, true, "ipv6_src"),
    (OxmId::Ipv6Dst, 27, 16, true, "ipv6_dst"),
    (OxmId::Ipv6Flabel, 28, 4, true, "ipv6_flabel"),
    (OxmId::Icmpv6Type, 29, 1, false, "icmpv6_type"),
    (OxmId::Icmpv6Code, 30, 1, false, "icmpv6_code"),
    (OxmId::Ipv6NdTarget, 31, 16, false, "ipv6_nd_target"),
    (OxmId::Ipv6NdSll, 32, 6, false, "ipv6_nd_sll"),
    (OxmId::Ipv6NdTll, 33, 6, false, "ipv6_nd_tll"),
    (OxmId::MplsLabel, 34, 4, false, "mpls_label"),
    (OxmId::MplsTc, 35, 1, false, "mpls_tc"),
    (OxmId::MplsBos, 36, 1, false, "mpls_bos"),
    (OxmId::PbbIsid, 37, 3, true, "pbb_isid"),
    (OxmId::TunnelId, 38, 8, true, "tunnel_id"),
    (OxmId::Ipv6Exthdr, 39, 2, true, "ipv6_exthdr"),
    (OxmId::PbbUca, 41, 1, false, "pbb_uca"),
];

impl OxmId {
    /// Every basic field, in OXM field-number order.
    pub fn basic_fields() -> impl Iterator<Item = OxmId> {
        BASIC.iter().map(|b| b.0)
    }

    fn basic(self) -> Option<&'static (OxmId, u8, u8, bool, &'static str)> {
        BASIC.iter().find(|b| b.0 == self)
    }

    /// The id for a wire (class, field) pair; an experimenter field needs its
    /// experimenter id, which the wire carries after the header.
    pub fn from_wire(class: u16, field: u8, experimenter: Option<u32>) -> OxmId {
        match (class, experimenter) {
            (OXM_CLASS_BASIC, _) => BASIC
                .iter()
                .find(|b| b.1 == field)
                .map_or(OxmId::Unknown { class, field }, |b| b.0),
            (OXM_CLASS_EXPERIMENTER, Some(experimenter)) => OxmId::Experimenter {
                field,
                experimenter,
            },
            _ => OxmId::Unknown { class, field },
        }
    }

    /// The wire class.
    pub fn class(self) -> u16 {
        match self {
            OxmId::Experimenter { .. } => OXM_CLASS_EXPERIMENTER,
            OxmId::Unknown { class, .. } => class,
            _ => OXM_CLASS_BASIC,
        }
    }

    /// The wire field number (7 bits).
    pub fn field(self) -> u8 {
        match self {
            OxmId::Experimenter { field, .. } | OxmId::Unknown { field, .. } => field,
            other => other.basic().map_or(0, |b| b.1),
        }
    }

    /// The experimenter id of an experimenter field.
    pub fn experimenter(self) -> Option<u32> {
        match self {
            OxmId::Experimenter { experimenter, .. } => Some(experimenter),
            _ => None,
        }
    }

    /// Width of the value in bytes for a basic field (`None` for the others, whose width
    /// is whatever the wire says).
    pub fn value_len(self) -> Option<usize> {
        self.basic().map(|b| usize::from(b.2))
    }

    /// Whether OpenFlow 1.3 allows a mask on this field (unknown fields: assumed yes).
    pub fn maskable(self) -> bool {
        !matches!(self.basic(), Some(b) if !b.3)
    }

    /// The lower-case name used by os-ken and ovs-ofctl (`"in_port"`, `"eth_dst"`), for
    /// basic fields.
    pub fn name(self) -> Option<&'static str> {
        self.basic().map(|b| b.4)
    }

    /// The basic field with the given name.
    pub fn from_name(name: &str) -> Option<OxmId> {
        BASIC.iter().find(|b| b.4 == name).map(|b| b.0)
    }
}

/// One OXM field: id, value and optional mask, both in network byte order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OxmField {
    /// Which field.
    pub id: OxmId,
    /// The value bytes (for basic fields exactly [`OxmId::value_len`] bytes).
    pub value: Vec<u8>,
    /// The mask bytes, as wide as the value; `None` for an exact match.
    pub mask: Option<Vec<u8>>,
}

impl OxmField {
    /// An exact-match field from raw value bytes.
    pub fn new(id: OxmId, value: impl Into<Vec<u8>>) -> OxmField {
        OxmField {
            id,
            value: value.into(),
            mask: None,
        }
    }

    /// A masked field from raw value and mask bytes.
    pub fn masked(id: OxmId, value: impl Into<Vec<u8>>, mask: impl Into<Vec<u8>>) -> OxmField {
        OxmField {
            id,
            value: value.into(),
            mask: Some(mask.into()),
        }
    }

    /// A field from an unsigned integer, written big-endian in the field's width (basic
    /// fields; others get 8 bytes). Bits that do not fit are dropped.
    pub fn from_uint(id: OxmId, v: u64) -> OxmField {
        OxmField::new(id, uint_bytes(id, v))
    }

    /// A masked field from unsigned integers (see [`OxmField::from_uint`]).
    pub fn from_uint_masked(id: OxmId, v: u64, mask: u64) -> OxmField {
        OxmField::masked(id, uint_bytes(id, v), uint_bytes(id, mask))
    }

    /// `in_port` = `port`.
    pub fn in_port(port: PortNo) -> OxmField {
        OxmField::from_uint(OxmId::InPort, u64::from(port.0))
    }

    /// `eth_dst` = `mac`.
    pub fn eth_dst(mac: [u8; 6]) -> OxmField {
        OxmField::new(OxmId::EthDst, mac)
    }

    /// `eth_src` = `mac`.
    pub fn eth_src(mac: [u8; 6]) -> OxmField {
        OxmField::new(OxmId::EthSrc, mac)
    }

    /// `eth_type` = `t`.
    pub fn eth_type(t: u16) -> OxmField {
        OxmField::from_uint(OxmId::EthType, u64::from(t))
    }

    /// `ip_proto` = `p`.
    pub fn ip_proto(p: u8) -> OxmField {
        OxmField::from_uint(OxmId::IpProto, u64::from(p))
    }

    /// `ipv4_src` = `a`.
    pub fn ipv4_src(a: Ipv4Addr) -> OxmField {
        OxmField::new(OxmId::Ipv4Src, a.octets())
    }

    /// `ipv4_dst` = `a`.
    pub fn ipv4_dst(a: Ipv4Addr) -> OxmField {
        OxmField::new(OxmId::Ipv4Dst, a.octets())
    }

    /// The value as an unsigned big-endian integer (`None` if wider than 8 bytes).
    pub fn value_uint(&self) -> Option<u64> {
        be_uint(&self.value)
    }

    /// The mask as an unsigned big-endian integer.
    pub fn mask_uint(&self) -> Option<u64> {
        self.mask.as_deref().and_then(be_uint)
    }

    /// The value as a MAC address, if 6 bytes wide.
    pub fn value_mac(&self) -> Option<[u8; 6]> {
        self.value.as_slice().try_into().ok()
    }

    /// The value as an IPv4 address, if 4 bytes wide.
    pub fn value_ipv4(&self) -> Option<Ipv4Addr> {
        <[u8; 4]>::try_from(self.value.as_slice())
            .ok()
            .map(Ipv4Addr::from)
    }

    /// The value as an IPv6 address, if 16 bytes wide.
    pub fn value_ipv6(&self) -> Option<Ipv6Addr> {
        <[u8; 16]>::try_from(self.value.as_slice())
            .ok()
            .map(Ipv6Addr::from)
    }

    /// The value as a port number (for `in_port`/`in_phy_port`).
    pub fn value_port(&self) -> Option<PortNo> {
        <[u8; 4]>::try_from(self.value.as_slice())
            .ok()
            .map(|b| PortNo(u32::from_be_bytes(b)))
    }
}

fn uint_bytes(id: OxmId, v: u64) -> Vec<u8> {
    let n = id.value_len().unwrap_or(8).min(8);
    v.to_be_bytes()[8 - n..].to_vec()
}

fn be_uint(b: &[u8]) -> Option<u64> {
    if b.len() > 8 {
        return None;
    }
    Some(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

/// A flow match: OXM fields in wire order. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Match {
    /// The fields, in the order received or added.
    pub fields: Vec<OxmField>,
    /// The OpenFlow 1.0 `ofp_match` this match was decoded from; the 1.0 encoder writes it
    /// back unchanged while it still converts to `fields`, so the spelling survives a
    /// round trip. Ignored by equality and by the 1.3 encoder; `None` for built matches.
    pub v10_wire: Option<MatchV10>,
}

impl PartialEq for Match {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl Eq for Match {}

impl Match {
    /// The empty match (everything wildcarded).
    pub fn new() -> Match {
        Match::default()
    }

    /// A match from fields.
    pub fn from_fields(fields: Vec<OxmField>) -> Match {
        Match {
            fields,
            v10_wire: None,
        }
    }

    /// The first field with this id.
    pub fn get(&self, id: OxmId) -> Option<&OxmField> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// Whether a field with this id is present.
    pub fn contains(&self, id: OxmId) -> bool {
        self.get(id).is_some()
    }

    /// Replaces the field with the same id in place, or appends it.
    pub fn set(&mut self, field: OxmField) {
        match self.fields.iter_mut().find(|f| f.id == field.id) {
            Some(slot) => *slot = field,
            None => self.fields.push(field),
        }
    }

    /// Builder form of [`Match::set`].
    pub fn with(mut self, field: OxmField) -> Match {
        self.set(field);
        self
    }

    /// Removes every field with this id; returns the first removed.
    pub fn remove(&mut self, id: OxmId) -> Option<OxmField> {
        let pos = self.fields.iter().position(|f| f.id == id)?;
        let first = self.fields.remove(pos);
        self.fields.retain(|f| f.id != id);
        Some(first)
    }

    /// Whether the match has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The `in_port` value, if matched.
    pub fn in_port(&self) -> Option<PortNo> {
        self.get(OxmId::InPort).and_then(OxmField::value_port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_table_is_consistent() {
        for (i, b) in BASIC.iter().enumerate() {
            assert_eq!(OxmId::from_wire(OXM_CLASS_BASIC, b.1, None), b.0);
            assert_eq!(b.0.field(), b.1);
            assert_eq!(OxmId::from_name(b.4), Some(b.0));
            for other in &BASIC[i + 1..] {
                assert_ne!(b.1, other.1);
            }
        }
        assert_eq!(
            OxmId::from_wire(OXM_CLASS_BASIC, 40, None),
            OxmId::Unknown {
                class: 0x8000,
                field: 40
            }
        );
    }

    #[test]
    fn uint_helpers_use_the_field_width() {
        let f = OxmField::from_uint(OxmId::VlanVid, 0x1102);
        assert_eq!(f.value, vec![0x11, 0x02]);
        assert_eq!(f.value_uint(), Some(0x1102));
        let f = OxmField::from_uint(OxmId::PbbIsid, 0xabcdef);
        assert_eq!(f.value, vec![0xab, 0xcd, 0xef]);
        assert_eq!(OxmField::in_port(PortNo(7)).value_port(), Some(PortNo(7)));
    }

    #[test]
    fn match_set_get_remove() {
        let mut m = Match::new()
            .with(OxmField::eth_type(0x800))
            .with(OxmField::ip_proto(6));
        m.set(OxmField::eth_type(0x86dd));
        assert_eq!(m.fields.len(), 2);
        assert_eq!(
            m.get(OxmId::EthType).and_then(OxmField::value_uint),
            Some(0x86dd)
        );
        assert!(m.remove(OxmId::IpProto).is_some());
        assert!(!m.contains(OxmId::IpProto));
    }
}
