//! Match fields: names, values, prerequisites, and the match as ovs-ofctl prints it.
//!
//! A match key is an OXM field under its Open vSwitch name or alias (`dl_src`, `eth_src`),
//! its OXM name (`ipv4_src`, `icmpv6_type`), a protocol shorthand (`tcp` sets `eth_type`
//! and `ip_proto`), or one of the Open vSwitch spellings whose OXM field depends on the
//! rest of the match: `nw_src`/`nw_dst` (IPv4 addresses, or the ARP addresses under `arp`
//! and `rarp`), `nw_proto` (`ip_proto`, or `arp_op`), `nw_tos` (the ToS byte, stored as
//! `ip_dscp`), `tp_src`/`tp_dst` (the TCP, UDP or SCTP port, or ICMP type and code) and
//! `icmp_type`/`icmp_code` (ICMPv4 or ICMPv6), and the VLAN keys `dl_vlan` (0xffff: no
//! tag), `vlan_vid` and `vlan_tci`. [`MatchBuilder`] collects the keys in any order and
//! resolves them once the protocol is known, then checks every field's OXM prerequisite.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::lex::{self, bad, Item};
use super::FlowTextError;
use crate::model::{Match, OxmField, OxmId};
use crate::v10;

const ETH_IP: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_ARP: u16 = 0x0806;
const ETH_RARP: u16 = 0x8035;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MCAST: u16 = 0x8848;
const ETH_PBB: u16 = 0x88e7;

/// `OFPVID_PRESENT`: the tag-present bit of `vlan_vid` (the CFI bit of a TCI).
const VID_PRESENT: u16 = 0x1000;

/// How a field's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// A port name or number.
    Port,
    /// An Ethernet address.
    Mac,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An unsigned number of this many bits, printed in decimal.
    Dec(u32),
    /// An unsigned number of this many bits, printed in hexadecimal.
    Hex(u32),
}

/// The format of a basic field's value (`None` for experimenter and unknown fields).
pub(super) fn format_of(id: OxmId) -> Option<Format> {
    use Format::*;
    use OxmId as I;
    Some(match id {
        I::InPort | I::InPhyPort => Port,
        I::Metadata | I::TunnelId => Hex(64),
        I::EthDst | I::EthSrc | I::ArpSha | I::ArpTha | I::Ipv6NdSll | I::Ipv6NdTll => Mac,
        I::EthType => Hex(16),
        I::VlanVid => Dec(13),
        I::VlanPcp | I::MplsTc => Dec(3),
        I::IpDscp => Dec(6),
        I::IpEcn => Dec(2),
        I::IpProto | I::Icmpv4Type | I::Icmpv4Code | I::Icmpv6Type | I::Icmpv6Code => Dec(8),
        I::Ipv4Src | I::Ipv4Dst | I::ArpSpa | I::ArpTpa => Ipv4,
        I::TcpSrc | I::TcpDst | I::UdpSrc | I::UdpDst | I::SctpSrc | I::SctpDst | I::ArpOp => {
            Dec(16)
        }
        I::Ipv6Src | I::Ipv6Dst | I::Ipv6NdTarget => Ipv6,
        I::Ipv6Flabel => Hex(20),
        I::MplsLabel => Dec(20),
        I::MplsBos | I::PbbUca => Dec(1),
        I::PbbIsid => Hex(24),
        I::Ipv6Exthdr => Hex(9),
        I::Experimenter { .. } | I::Unknown { .. } => return None,
    })
}

/// What a match key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// Exactly this field.
    Field(OxmId),
    /// A protocol shorthand: `eth_type` and maybe `ip_proto`.
    Proto(u16, Option<u8>),
    /// `nw_src`/`ip_src`: `ipv4_src`, or `arp_spa` under ARP.
    NwSrc,
    /// `nw_dst`/`ip_dst`: `ipv4_dst`, or `arp_tpa` under ARP.
    NwDst,
    /// `nw_proto`/`ip_proto`: `ip_proto`, or `arp_op` under ARP.
    NwProto,
    /// `nw_tos`: the ToS byte's DSCP bits, stored as `ip_dscp`.
    NwTos,
    /// `tp_src`: the L4 source port, or the ICMP type.
    TpSrc,
    /// `tp_dst`: the L4 destination port, or the ICMP code.
    TpDst,
    /// `icmp_type`: ICMPv4 or ICMPv6 by `ip_proto`.
    IcmpType,
    /// `icmp_code`: ICMPv4 or ICMPv6 by `ip_proto`.
    IcmpCode,
    /// `dl_vlan`: a VLAN id, or 0xffff for untagged packets.
    DlVlan,
    /// `vlan_tci`: the 802.1Q TCI with its CFI bit as "tag present".
    VlanTci,
}

/// Every match key (case-sensitive, as in Open vSwitch).
const KEYS: &[(&str, Key)] = {
    use Key::*;
    use OxmId as I;
    &[
        ("ip", Proto(ETH_IP, None)),
        ("ipv4", Proto(ETH_IP, None)),
        ("ip4", Proto(ETH_IP, None)),
        ("icmp", Proto(ETH_IP, Some(1))),
        ("tcp", Proto(ETH_IP, Some(6))),
        ("udp", Proto(ETH_IP, Some(17))),
        ("sctp", Proto(ETH_IP, Some(132))),
        ("ipv6", Proto(ETH_IPV6, None)),
        ("ip6", Proto(ETH_IPV6, None)),
        ("icmp6", Proto(ETH_IPV6, Some(58))),
        ("tcp6", Proto(ETH_IPV6, Some(6))),
        ("udp6", Proto(ETH_IPV6, Some(17))),
        ("sctp6", Proto(ETH_IPV6, Some(132))),
        ("arp", Proto(ETH_ARP, None)),
        ("rarp", Proto(ETH_RARP, None)),
        ("mpls", Proto(ETH_MPLS, None)),
        ("mplsm", Proto(ETH_MPLS_MCAST, None)),
        ("in_port", Field(I::InPort)),
        ("in_port_oxm", Field(I::InPort)),
        ("in_phy_port", Field(I::InPhyPort)),
        ("metadata", Field(I::Metadata)),
        ("tun_id", Field(I::TunnelId)),
        ("tunnel_id", Field(I::TunnelId)),
        ("dl_src", Field(I::EthSrc)),
        ("eth_src", Field(I::EthSrc)),
        ("dl_dst", Field(I::EthDst)),
        ("eth_dst", Field(I::EthDst)),
        ("dl_type", Field(I::EthType)),
        ("eth_type", Field(I::EthType)),
        ("dl_vlan", DlVlan),
        ("vlan_vid", Field(I::VlanVid)),
        ("vlan_tci", VlanTci),
        ("dl_vlan_pcp", Field(I::VlanPcp)),
        ("vlan_pcp", Field(I::VlanPcp)),
        ("nw_src", NwSrc),
        ("ip_src", NwSrc),
        ("nw_dst", NwDst),
        ("ip_dst", NwDst),
        ("ipv4_src", Field(I::Ipv4Src)),
        ("ipv4_dst", Field(I::Ipv4Dst)),
        ("nw_proto", NwProto),
        ("ip_proto", NwProto),
        ("nw_tos", NwTos),
        ("ip_dscp", Field(I::IpDscp)),
        ("nw_ecn", Field(I::IpEcn)),
        ("ip_ecn", Field(I::IpEcn)),
        ("tp_src", TpSrc),
        ("tp_dst", TpDst),
        ("tcp_src", Field(I::TcpSrc)),
        ("tcp_dst", Field(I::TcpDst)),
        ("udp_src", Field(I::UdpSrc)),
        ("udp_dst", Field(I::UdpDst)),
        ("sctp_src", Field(I::SctpSrc)),
        ("sctp_dst", Field(I::SctpDst)),
        ("icmp_type", IcmpType),
        ("icmp_code", IcmpCode),
        ("icmpv4_type", Field(I::Icmpv4Type)),
        ("icmpv4_code", Field(I::Icmpv4Code)),
        ("icmpv6_type", Field(I::Icmpv6Type)),
        ("icmpv6_code", Field(I::Icmpv6Code)),
        ("arp_op", Field(I::ArpOp)),
        ("arp_spa", Field(I::ArpSpa)),
        ("arp_tpa", Field(I::ArpTpa)),
        ("arp_sha", Field(I::ArpSha)),
        ("arp_tha", Field(I::ArpTha)),
        ("ipv6_src", Field(I::Ipv6Src)),
        ("ipv6_dst", Field(I::Ipv6Dst)),
        ("ipv6_label", Field(I::Ipv6Flabel)),
        ("ipv6_flabel", Field(I::Ipv6Flabel)),
        ("nd_target", Field(I::Ipv6NdTarget)),
        ("ipv6_nd_target", Field(I::Ipv6NdTarget)),
        ("nd_sll", Field(I::Ipv6NdSll)),
        ("ipv6_nd_sll", Field(I::Ipv6NdSll)),
        ("nd_tll", Field(I::Ipv6NdTll)),
        ("ipv6_nd_tll", Field(I::Ipv6NdTll)),
        ("mpls_label", Field(I::MplsLabel)),
        ("mpls_tc", Field(I::MplsTc)),
        ("mpls_bos", Field(I::MplsBos)),
        ("pbb_isid", Field(I::PbbIsid)),
        ("pbb_uca", Field(I::PbbUca)),
        ("ipv6_exthdr", Field(I::Ipv6Exthdr)),
    ]
};

fn key_of(name: &str) -> Option<Key> {
    KEYS.iter().find(|(n, _)| *n == name).map(|&(_, k)| k)
}

/// Whether `name` is an Open vSwitch field with no OpenFlow 1.0/1.3 OXM (registers,
/// connection tracking, tunnel metadata, ...), for a clearer error than "unknown".
pub(super) fn is_ovs_only_field(name: &str) -> bool {
    const NAMES: [&str; 19] = [
        "nw_ttl",
        "ip_frag",
        "nw_frag",
        "tcp_flags",
        "mpls_ttl",
        "pkt_mark",
        "skb_priority",
        "recirc_id",
        "dp_hash",
        "conj_id",
        "actset_output",
        "packet_type",
        "vlan_tci1",
        "dl_vlan1",
        "igmp_type",
        "igmp_code",
        "nd_reserved",
        "nd_options_type",
        "eth",
    ];
    const PREFIXES: [&str; 6] = ["reg", "xreg", "xxreg", "ct_", "tun_", "nsh_"];
    NAMES.contains(&name)
        || PREFIXES
            .iter()
            .any(|p| name.starts_with(p) && name.len() > p.len())
        || name.contains('[')
}

/// The field `set_field:VALUE->NAME` writes (names mean the same field whatever the
/// match: `nw_src` is `ipv4_src`, `tp_src` is `tcp_src`, as in Open vSwitch).
pub(super) fn set_field_id(name: &str) -> Option<OxmId> {
    match key_of(name)? {
        Key::Field(id) => Some(id),
        Key::NwSrc => Some(OxmId::Ipv4Src),
        Key::NwDst => Some(OxmId::Ipv4Dst),
        Key::NwProto => Some(OxmId::IpProto),
        Key::TpSrc => Some(OxmId::TcpSrc),
        Key::TpDst => Some(OxmId::TcpDst),
        Key::IcmpType => Some(OxmId::Icmpv4Type),
        Key::IcmpCode => Some(OxmId::Icmpv4Code),
        Key::Proto(..) | Key::NwTos | Key::DlVlan | Key::VlanTci => None,
    }
}

/// The name ovs-ofctl prints for a field in `set_field` (its canonical Open vSwitch name;
/// the OXM name for fields Open vSwitch lacks).
pub(super) fn field_name(id: OxmId) -> String {
    use OxmId as I;
    let s = match id {
        I::IpEcn => "nw_ecn",
        I::IpProto => "nw_proto",
        I::Ipv4Src => "ip_src",
        I::Ipv4Dst => "ip_dst",
        I::Icmpv4Type => "icmp_type",
        I::Icmpv4Code => "icmp_code",
        I::Ipv6Flabel => "ipv6_label",
        I::Ipv6NdTarget => "nd_target",
        I::Ipv6NdSll => "nd_sll",
        I::Ipv6NdTll => "nd_tll",
        I::TunnelId => "tun_id",
        I::Experimenter {
            field,
            experimenter,
        } => return format!("oxm(experimenter={experimenter:#010x},field={field})"),
        I::Unknown { class, field } => return format!("oxm(class={class:#06x},field={field})"),
        other => other.name().unwrap_or("oxm"),
    };
    s.to_string()
}

/// The name of a field in the "other fields" tail of a printed match: its OXM name,
/// which the parser maps to exactly that field.
fn oxm_key_name(id: OxmId) -> String {
    match id.name() {
        Some(n) => n.to_string(),
        None => field_name(id),
    }
}

/// Parses one value (no mask) of a field into its wire bytes.
pub(super) fn parse_value(key: &str, id: OxmId, s: &str) -> Result<Vec<u8>, FlowTextError> {
    let Some(fmt) = format_of(id) else {
        return Err(FlowTextError::NotSupported {
            token: key.to_string(),
            hint: "experimenter fields have no ovs-ofctl syntax".into(),
        });
    };
    let width = id.value_len().unwrap_or(8);
    Ok(match fmt {
        Format::Port => lex::port_value(key, s)?.0.to_be_bytes().to_vec(),
        Format::Mac => lex::mac(key, s)?.to_vec(),
        Format::Ipv4 => lex::ipv4(key, s)?.octets().to_vec(),
        Format::Ipv6 => lex::ipv6(key, s)?.octets().to_vec(),
        Format::Dec(bits) | Format::Hex(bits) => {
            let v = lex::uint(key, s, bits)?;
            v.to_be_bytes()[8 - width.min(8)..].to_vec()
        }
    })
}

/// Parses a mask of a field into its wire bytes.
fn parse_mask(key: &str, id: OxmId, s: &str) -> Result<Vec<u8>, FlowTextError> {
    match format_of(id) {
        Some(Format::Ipv4) => Ok(lex::ipv4_mask(key, s)?.to_be_bytes().to_vec()),
        Some(Format::Ipv6) => Ok(lex::ipv6_mask(key, s)?.to_be_bytes().to_vec()),
        _ => parse_value(key, id, s),
    }
}

/// Parses `value[/mask]` of a field. A mask is applied to the value; an all-ones mask
/// makes an exact match and an all-zeros mask no match at all (`None`).
fn parse_field(key: &str, id: OxmId, s: &str) -> Result<Option<OxmField>, FlowTextError> {
    let (v, m) = lex::split_mask(s);
    let mut value = parse_value(key, id, v)?;
    let Some(m) = m else {
        return Ok(Some(OxmField::new(id, value)));
    };
    if !id.maskable() {
        return Err(bad(key, s, format!("{key} cannot be masked in OpenFlow")));
    }
    let mask = parse_mask(key, id, m)?;
    for (b, m) in value.iter_mut().zip(&mask) {
        *b &= m;
    }
    if mask.iter().all(|&b| b == 0) {
        Ok(None)
    } else if mask == full_mask(id, mask.len()) {
        Ok(Some(OxmField::new(id, value)))
    } else {
        Ok(Some(OxmField::masked(id, value, mask)))
    }
}

/// The mask that matches every bit of a field (`len` bytes): the field's bit width, so
/// `vlan_vid=0x1005/0x1fff` is an exact match.
fn full_mask(id: OxmId, len: usize) -> Vec<u8> {
    match format_of(id) {
        Some(Format::Dec(bits) | Format::Hex(bits)) if bits < 64 => {
            let m = (1u64 << bits) - 1;
            m.to_be_bytes()[8usize.saturating_sub(len)..].to_vec()
        }
        _ => vec![0xff; len],
    }
}

/// The value of a field if it is an exact number.
fn exact_uint(f: &OxmField) -> Option<u64> {
    if f.mask.is_some() {
        None
    } else {
        f.value_uint()
    }
}

/// What the actions of a flow need to know about its match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct MatchInfo {
    /// The exact `eth_type`.
    pub eth_type: Option<u16>,
    /// The exact `ip_proto` of an IPv4 or IPv6 match.
    pub ip_proto: Option<u8>,
    /// Whether the match requires a VLAN tag (the present bit of `vlan_vid`'s value).
    pub has_vlan: bool,
}

impl MatchInfo {
    /// The facts of a match.
    pub fn of(m: &Match) -> MatchInfo {
        let eth_type = m
            .get(OxmId::EthType)
            .and_then(exact_uint)
            .and_then(|e| u16::try_from(e).ok());
        let ip_proto = match eth_type {
            Some(ETH_IP | ETH_IPV6) => m
                .get(OxmId::IpProto)
                .and_then(exact_uint)
                .and_then(|p| u8::try_from(p).ok()),
            _ => None,
        };
        let has_vlan = m
            .get(OxmId::VlanVid)
            .is_some_and(|f| f.value_uint().unwrap_or(0) & u64::from(VID_PRESENT) != 0);
        MatchInfo {
            eth_type,
            ip_proto,
            has_vlan,
        }
    }
}

/// Collects match keys in any order, then resolves them (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct MatchBuilder<'a> {
    items: Vec<(Item<'a>, Key)>,
}

/// A field being built and the key that wrote it (for errors).
type Built<'a> = Vec<(OxmField, &'a str)>;

fn insert<'a>(fields: &mut Built<'a>, f: OxmField, token: &'a str) -> Result<(), FlowTextError> {
    match fields.iter().find(|(g, _)| g.id == f.id) {
        Some((g, _)) if *g == f => Ok(()),
        Some((_, first)) => Err(FlowTextError::Conflict {
            token: token.to_string(),
            hint: format!("the match already has a different value from `{first}`"),
        }),
        None => {
            fields.push((f, token));
            Ok(())
        }
    }
}

fn prereq(token: &str, needs: &str) -> FlowTextError {
    FlowTextError::MissingPrerequisite {
        token: token.to_string(),
        hint: needs.to_string(),
    }
}

impl<'a> MatchBuilder<'a> {
    /// Takes `item` if its key is a match key; `Ok(false)` if it is not one.
    pub fn offer(&mut self, item: Item<'a>) -> Result<bool, FlowTextError> {
        if let Some(k) = key_of(item.key) {
            self.items.push((item, k));
            Ok(true)
        } else if is_ovs_only_field(item.key) {
            Err(FlowTextError::NotSupported {
                token: item.key.to_string(),
                hint: "an Open vSwitch extension field with no OpenFlow 1.0/1.3 match field".into(),
            })
        } else {
            Ok(false)
        }
    }

    /// The match: fields in OXM field-number order (the order the 1.0 decoder produces).
    pub fn finish(self, version: u8) -> Result<Match, FlowTextError> {
        let mut fields: Built<'a> = Vec::new();

        // The protocol first: it decides what the other keys mean.
        for (item, key) in &self.items {
            match *key {
                Key::Proto(eth, proto) => {
                    item.no_value()?;
                    insert(&mut fields, OxmField::eth_type(eth), item.key)?;
                    if let Some(p) = proto {
                        insert(&mut fields, OxmField::ip_proto(p), item.key)?;
                    }
                }
                Key::Field(OxmId::EthType) => {
                    let v = item.need_value("an Ethernet type like 0x0800")?;
                    if let Some(f) = parse_field(item.key, OxmId::EthType, v)? {
                        insert(&mut fields, f, item.key)?;
                    }
                }
                _ => {}
            }
        }
        let eth = fields
            .iter()
            .find(|(f, _)| f.id == OxmId::EthType)
            .and_then(|(f, _)| exact_uint(f));
        let is_ip = matches!(eth, Some(e) if e == u64::from(ETH_IP) || e == u64::from(ETH_IPV6));
        let is_arp = matches!(eth, Some(e) if e == u64::from(ETH_ARP) || e == u64::from(ETH_RARP));
        for (item, key) in &self.items {
            if *key == Key::NwProto {
                let v = item.need_value("an IP protocol number")?;
                let p = lex::u8_value(item.key, v)?;
                let f = if is_arp {
                    OxmField::from_uint(OxmId::ArpOp, u64::from(p))
                } else if is_ip {
                    OxmField::ip_proto(p)
                } else {
                    return Err(prereq(item.key, "ip, ipv6, arp or rarp in the match"));
                };
                insert(&mut fields, f, item.key)?;
            }
        }
        let proto = if is_ip {
            fields
                .iter()
                .find(|(f, _)| f.id == OxmId::IpProto)
                .and_then(|(f, _)| exact_uint(f))
        } else {
            None
        };

        // Everything else.
        for (item, key) in &self.items {
            let k = item.key;
            let v = || item.need_value("a value");
            let one = |id| -> Result<Option<OxmField>, FlowTextError> { parse_field(k, id, v()?) };
            let new = match *key {
                Key::Proto(..) | Key::NwProto | Key::Field(OxmId::EthType) => continue,
                Key::Field(id) => one(id)?,
                Key::NwSrc | Key::NwDst => {
                    let src = *key == Key::NwSrc;
                    let id = match (is_arp, eth) {
                        (true, _) => [OxmId::ArpTpa, OxmId::ArpSpa][usize::from(src)],
                        (false, Some(e)) if e == u64::from(ETH_IP) => {
                            [OxmId::Ipv4Dst, OxmId::Ipv4Src][usize::from(src)]
                        }
                        _ => {
                            return Err(prereq(
                                k,
                                "ip or arp in the match (ipv6_src/ipv6_dst for IPv6)",
                            ))
                        }
                    };
                    one(id)?
                }
                Key::NwTos => {
                    if !is_ip {
                        return Err(prereq(k, "ip or ipv6 in the match"));
                    }
                    let tos = lex::u8_value(k, v()?)?;
                    if tos & 0x03 != 0 {
                        return Err(bad(
                            k,
                            v()?,
                            "the ToS DSCP bits are a multiple of 4 (nw_ecn sets the low two bits)",
                        ));
                    }
                    Some(OxmField::from_uint(OxmId::IpDscp, u64::from(tos >> 2)))
                }
                Key::TpSrc | Key::TpDst => {
                    let src = *key == Key::TpSrc;
                    let pick = |a: OxmId, b: OxmId| if src { a } else { b };
                    let id = match (proto, eth) {
                        (Some(6), _) => pick(OxmId::TcpSrc, OxmId::TcpDst),
                        (Some(17), _) => pick(OxmId::UdpSrc, OxmId::UdpDst),
                        (Some(132), _) => pick(OxmId::SctpSrc, OxmId::SctpDst),
                        (Some(1), Some(e)) if e == u64::from(ETH_IP) => {
                            pick(OxmId::Icmpv4Type, OxmId::Icmpv4Code)
                        }
                        (Some(58), Some(e)) if e == u64::from(ETH_IPV6) => {
                            pick(OxmId::Icmpv6Type, OxmId::Icmpv6Code)
                        }
                        _ => return Err(prereq(k, "tcp, udp, sctp, icmp or icmp6 in the match")),
                    };
                    one(id)?
                }
                Key::IcmpType | Key::IcmpCode => {
                    let ty = *key == Key::IcmpType;
                    let id = match (proto, eth) {
                        (Some(1), Some(e)) if e == u64::from(ETH_IP) => {
                            if ty {
                                OxmId::Icmpv4Type
                            } else {
                                OxmId::Icmpv4Code
                            }
                        }
                        (Some(58), Some(e)) if e == u64::from(ETH_IPV6) => {
                            if ty {
                                OxmId::Icmpv6Type
                            } else {
                                OxmId::Icmpv6Code
                            }
                        }
                        _ => return Err(prereq(k, "icmp or icmp6 in the match")),
                    };
                    one(id)?
                }
                Key::DlVlan => {
                    let s = v()?;
                    if s.contains('/') {
                        return Err(bad(
                            k,
                            s,
                            "dl_vlan takes no mask (use vlan_tci or vlan_vid)",
                        ));
                    }
                    let vid = lex::u16_value(k, s)?;
                    let value = match vid {
                        v10::match10::VLAN_NONE => 0,
                        0..=0xfff => VID_PRESENT | vid,
                        _ => {
                            return Err(bad(
                                k,
                                s,
                                "a VLAN id is 0 to 4095, or 0xffff for untagged packets",
                            ))
                        }
                    };
                    Some(OxmField::from_uint(OxmId::VlanVid, u64::from(value)))
                }
                Key::VlanTci => {
                    let (vid, pcp) = parse_tci(k, v()?)?;
                    if let Some(p) = pcp {
                        insert(&mut fields, p, k)?;
                    }
                    vid
                }
            };
            if let Some(f) = new {
                insert(&mut fields, f, k)?;
            }
        }

        vlan_rules(&mut fields, version)?;
        check_prerequisites(&fields)?;
        let mut out: Vec<OxmField> = fields.into_iter().map(|(f, _)| f).collect();
        out.sort_by_key(|f| f.id.field());
        Ok(Match::from_fields(out))
    }
}

/// `vlan_tci=VALUE[/MASK]` as `vlan_vid` and `vlan_pcp` fields.
fn parse_tci(key: &str, s: &str) -> Result<(Option<OxmField>, Option<OxmField>), FlowTextError> {
    let (v, m) = lex::split_mask(s);
    let mask = match m {
        Some(m) => lex::u16_value(key, m)?,
        None => 0xffff,
    };
    let tci = lex::u16_value(key, v)? & mask;
    let (vid_v, vid_m) = (tci & 0x1fff, mask & 0x1fff);
    let (pcp_v, pcp_m) = (tci >> 13, mask >> 13);
    let tag_known = mask & VID_PRESENT != 0;
    let tagged = tci & VID_PRESENT != 0;
    let vid = |v: u16, m: u16| match m {
        0 => None,
        0x1fff => Some(OxmField::from_uint(OxmId::VlanVid, u64::from(v))),
        _ => Some(OxmField::from_uint_masked(
            OxmId::VlanVid,
            u64::from(v),
            u64::from(m),
        )),
    };
    if tag_known && !tagged {
        // Untagged packets have no priority (their TCI is 0).
        if pcp_v != 0 {
            return Err(bad(key, s, "a priority needs the 0x1000 (tag present) bit"));
        }
        return Ok((vid(vid_v, vid_m), None));
    }
    let pcp = match pcp_m {
        0 => None,
        7 if tag_known => Some(OxmField::from_uint(OxmId::VlanPcp, u64::from(pcp_v))),
        7 => {
            return Err(bad(
                key,
                s,
                "a priority match needs the 0x1000 (tag present) bit in the mask",
            ))
        }
        _ => {
            return Err(bad(
                key,
                s,
                "OpenFlow matches all three priority bits or none",
            ))
        }
    };
    Ok((vid(vid_v, vid_m), pcp))
}

/// Whether a `vlan_vid` field matches untagged packets only.
fn untagged(f: &OxmField) -> bool {
    let v = f.value_uint().unwrap_or(0);
    let m = f.mask_uint().unwrap_or(0x1fff);
    m & u64::from(VID_PRESENT) != 0 && v & u64::from(VID_PRESENT) == 0
}

/// Whether a `vlan_vid` field requires a tag.
fn tagged(f: &OxmField) -> bool {
    let v = f.value_uint().unwrap_or(0);
    let m = f.mask_uint().unwrap_or(0x1fff);
    v & m & u64::from(VID_PRESENT) != 0
}

/// A priority needs a tag: untagged-plus-priority is a contradiction, and in 1.3 (where
/// `vlan_pcp` has the prerequisite `vlan_vid != NONE`) a bare priority gets
/// `vlan_vid=0x1000/0x1000`, as Open vSwitch encodes it. In 1.0, which has no such
/// prerequisite (and cannot mask `dl_vlan`), that implied `vlan_vid` is dropped.
fn vlan_rules(fields: &mut Built<'_>, version: u8) -> Result<(), FlowTextError> {
    let Some(&(_, pcp_token)) = fields.iter().find(|(f, _)| f.id == OxmId::VlanPcp) else {
        return Ok(());
    };
    let present = u64::from(VID_PRESENT);
    let implied = OxmField::from_uint_masked(OxmId::VlanVid, present, present);
    if version == v10::VERSION {
        fields.retain(|(f, _)| *f != implied);
    }
    match fields.iter().find(|(f, _)| f.id == OxmId::VlanVid) {
        Some((vid, _)) if untagged(vid) => Err(FlowTextError::Conflict {
            token: pcp_token.to_string(),
            hint: "a VLAN priority cannot match packets without a VLAN tag".into(),
        }),
        Some((vid, _)) if !tagged(vid) => Err(prereq(
            pcp_token,
            "a VLAN tag in the match (the 0x1000 bit of vlan_vid)",
        )),
        Some(_) => Ok(()),
        None if version == v10::VERSION => Ok(()),
        None => {
            fields.push((implied, pcp_token));
            Ok(())
        }
    }
}

/// Checks every field's OXM prerequisite against the whole match.
fn check_prerequisites(fields: &Built<'_>) -> Result<(), FlowTextError> {
    let get = |id| {
        fields
            .iter()
            .find(|(f, _)| f.id == id)
            .and_then(|(f, _)| exact_uint(f))
    };
    let eth = get(OxmId::EthType);
    let proto = get(OxmId::IpProto);
    let icmp6 = get(OxmId::Icmpv6Type);
    let eth_is = |types: &[u16]| eth.is_some_and(|e| types.iter().any(|&t| u64::from(t) == e));
    for (f, token) in fields {
        use OxmId as I;
        let (ok, needs) = match f.id {
            I::IpDscp | I::IpEcn | I::IpProto => (eth_is(&[ETH_IP, ETH_IPV6]), "ip or ipv6"),
            I::Ipv4Src | I::Ipv4Dst => (eth_is(&[ETH_IP]), "ip"),
            I::TcpSrc | I::TcpDst => (proto == Some(6), "tcp or tcp6"),
            I::UdpSrc | I::UdpDst => (proto == Some(17), "udp or udp6"),
            I::SctpSrc | I::SctpDst => (proto == Some(132), "sctp or sctp6"),
            I::Icmpv4Type | I::Icmpv4Code => (eth_is(&[ETH_IP]) && proto == Some(1), "icmp"),
            I::ArpOp | I::ArpSpa | I::ArpTpa | I::ArpSha | I::ArpTha => {
                (eth_is(&[ETH_ARP, ETH_RARP]), "arp or rarp")
            }
            I::Ipv6Src | I::Ipv6Dst | I::Ipv6Flabel | I::Ipv6Exthdr => {
                (eth_is(&[ETH_IPV6]), "ipv6")
            }
            I::Icmpv6Type | I::Icmpv6Code => (eth_is(&[ETH_IPV6]) && proto == Some(58), "icmp6"),
            I::Ipv6NdTarget => (
                matches!(icmp6, Some(135 | 136)),
                "icmp6 with icmp_type=135 or 136",
            ),
            I::Ipv6NdSll => (icmp6 == Some(135), "icmp6 with icmp_type=135"),
            I::Ipv6NdTll => (icmp6 == Some(136), "icmp6 with icmp_type=136"),
            I::MplsLabel | I::MplsTc | I::MplsBos => {
                (eth_is(&[ETH_MPLS, ETH_MPLS_MCAST]), "mpls or mplsm")
            }
            I::PbbIsid | I::PbbUca => (eth_is(&[ETH_PBB]), "dl_type=0x88e7"),
            I::InPhyPort => (get(I::InPort).is_some(), "in_port"),
            _ => (true, ""),
        };
        if !ok {
            return Err(prereq(token, &format!("{needs} in the match")));
        }
    }
    Ok(())
}

/// A field's value in the match style of ovs-ofctl (`value` or `value/mask`).
fn format_match_value(f: &OxmField) -> String {
    let v = &f.value;
    let m = f.mask.as_deref();
    let hex_pair = |v: u64, m: Option<u64>, w: usize| match m {
        None => format!("{v:#0w$x}", w = w + 2),
        Some(m) => format!("{v:#0w$x}/{m:#0w$x}", w = w + 2),
    };
    let fmt = format_of(f.id);
    let numeric = matches!(fmt, Some(Format::Dec(_) | Format::Hex(_)) | None);
    let wide = (numeric && v.len() > 8) || m.is_some_and(|m| m.len() != v.len());
    match fmt {
        _ if f.id.value_len().is_some_and(|n| n != v.len()) || wide => raw_hex(f),
        Some(Format::Port) if m.is_none() => {
            f.value_port().map_or_else(|| raw_hex(f), lex::format_port)
        }
        Some(Format::Mac) => match m {
            None => lex::format_mac(v),
            Some(m) => format!("{}/{}", lex::format_mac(v), lex::format_mac(m)),
        },
        Some(Format::Ipv4) => {
            let a = f.value_ipv4().map_or(0, u32::from);
            let mask = m
                .and_then(|m| <[u8; 4]>::try_from(m).ok())
                .map(u32::from_be_bytes);
            match mask {
                None => Ipv4Addr::from(a).to_string(),
                Some(m) if m.leading_ones() + m.trailing_zeros() == 32 => {
                    format!("{}/{}", Ipv4Addr::from(a), m.leading_ones())
                }
                Some(m) => format!("{}/{}", Ipv4Addr::from(a), Ipv4Addr::from(m)),
            }
        }
        Some(Format::Ipv6) => {
            let a = f.value_ipv6().map_or(0, u128::from);
            let mask = m
                .and_then(|m| <[u8; 16]>::try_from(m).ok())
                .map(u128::from_be_bytes);
            match mask {
                None => Ipv6Addr::from(a).to_string(),
                Some(m) if m.leading_ones() + m.trailing_zeros() == 128 => {
                    format!("{}/{}", Ipv6Addr::from(a), m.leading_ones())
                }
                Some(m) => format!("{}/{}", Ipv6Addr::from(a), Ipv6Addr::from(m)),
            }
        }
        _ => {
            let n = f.value_uint().unwrap_or(0);
            let mask = f.mask_uint();
            match (f.id, mask) {
                (OxmId::Metadata | OxmId::TunnelId, _) => hex_pair(n, mask, 0),
                (OxmId::Ipv6Flabel, _) => hex_pair(n, mask, 5),
                (OxmId::EthType, None) => format!("{n:#06x}"),
                (_, None) if matches!(fmt, Some(Format::Dec(_))) => n.to_string(),
                _ => hex_pair(n, mask, 0),
            }
        }
    }
}

/// Bytes as `0x...` hexadecimal (value and mask), for fields whose width is not their
/// field's.
fn raw_hex(f: &OxmField) -> String {
    let hex = |b: &[u8]| {
        let mut s = String::from("0x");
        for x in b {
            s.push_str(&format!("{x:02x}"));
        }
        s
    };
    match &f.mask {
        None => hex(&f.value),
        Some(m) => format!("{}/{}", hex(&f.value), hex(m)),
    }
}

/// A `set_field` value the way ovs-ofctl prints it (numbers in decimal, or in minimal
/// hexadecimal for the hexadecimal fields).
pub(super) fn format_set_value(f: &OxmField) -> String {
    if f.mask.is_some() || f.id.value_len().is_some_and(|n| n != f.value.len()) {
        return raw_hex(f);
    }
    match format_of(f.id) {
        Some(Format::Dec(_)) => f.value_uint().map_or_else(|| raw_hex(f), |v| v.to_string()),
        Some(Format::Hex(_)) => f
            .value_uint()
            .map_or_else(|| raw_hex(f), lex::format_hex_min),
        Some(_) => format_match_value(f),
        None => raw_hex(f),
    }
}

/// The 802.1Q TCI value and mask that `vlan_vid` and `vlan_pcp` mean, as Open vSwitch
/// keeps them (a 1.0 "no tag" match is an exact TCI of 0, a 1.3 one masks the priority
/// out).
fn tci_of(vid: Option<&OxmField>, pcp: Option<&OxmField>, version: u8) -> (u16, u16) {
    let (mut tci, mut mask) = (0u16, 0u16);
    let mut no_tag = false;
    if let Some(f) = vid {
        let v = f.value_uint().unwrap_or(0) as u16 & 0x1fff;
        let m = f.mask_uint().map_or(0x1fff, |m| m as u16 & 0x1fff);
        tci |= v & m;
        mask |= m;
        no_tag = untagged(f);
        if no_tag && version == v10::VERSION && m == 0x1fff {
            mask = 0xffff;
        }
    }
    if let Some(f) = pcp {
        if no_tag {
            mask |= 0xe000;
        } else {
            tci |= ((f.value_uint().unwrap_or(0) as u16 & 7) << 13) | VID_PRESENT;
            mask |= 0xe000 | VID_PRESENT;
        }
    }
    (tci, mask)
}

/// The VLAN part of a match in ovs-ofctl's words: `dl_vlan`/`dl_vlan_pcp` when they say
/// it exactly, else `vlan_tci`.
fn format_vlan(tci: u16, mask: u16, out: &mut Vec<String>) {
    if mask == 0 {
        return;
    }
    let vid_mask = mask & 0x0fff;
    let pcp_mask = mask & 0xe000;
    if mask & VID_PRESENT != 0
        && tci & VID_PRESENT != 0
        && (vid_mask == 0 || vid_mask == 0x0fff)
        && (pcp_mask == 0 || pcp_mask == 0xe000)
        && (vid_mask | pcp_mask) != 0
    {
        if vid_mask != 0 {
            out.push(format!("dl_vlan={}", tci & 0x0fff));
        }
        if pcp_mask != 0 {
            out.push(format!("dl_vlan_pcp={}", tci >> 13));
        }
    } else if mask == 0xffff {
        out.push(format!("vlan_tci={tci:#06x}"));
    } else {
        out.push(format!("vlan_tci={tci:#06x}/{mask:#06x}"));
    }
}

/// The match (and the priority unless it is the default 32768, or `None`) in
/// ovs-ofctl's order and spelling, comma-separated; empty for an empty match.
pub(super) fn format_match(m: &Match, priority: Option<u16>, version: u8) -> String {
    let mut out: Vec<String> = Vec::new();
    if let Some(p) = priority.filter(|&p| p != 0x8000) {
        out.push(format!("priority={p}"));
    }
    let mut t = Taker {
        m,
        done: vec![false; m.fields.len()],
    };
    let peek = |id| m.fields.iter().find(|f: &&OxmField| f.id == id);
    let eth = peek(OxmId::EthType)
        .and_then(exact_uint)
        .and_then(|e| u16::try_from(e).ok());
    let proto = match eth {
        Some(ETH_IP | ETH_IPV6) => peek(OxmId::IpProto).and_then(exact_uint),
        _ => None,
    };
    let named_proto = match (eth, proto) {
        (Some(ETH_IP), Some(1)) => Some("icmp"),
        (Some(ETH_IP), Some(6)) => Some("tcp"),
        (Some(ETH_IP), Some(17)) => Some("udp"),
        (Some(ETH_IP), Some(132)) => Some("sctp"),
        (Some(ETH_IPV6), Some(58)) => Some("icmp6"),
        (Some(ETH_IPV6), Some(6)) => Some("tcp6"),
        (Some(ETH_IPV6), Some(17)) => Some("udp6"),
        (Some(ETH_IPV6), Some(132)) => Some("sctp6"),
        _ => None,
    };
    let named_eth = match eth {
        Some(ETH_IP) => Some("ip"),
        Some(ETH_IPV6) => Some("ipv6"),
        Some(ETH_ARP) => Some("arp"),
        Some(ETH_RARP) => Some("rarp"),
        Some(ETH_MPLS) => Some("mpls"),
        Some(ETH_MPLS_MCAST) => Some("mplsm"),
        _ => None,
    };
    if let Some(name) = named_proto.or(named_eth) {
        out.push(name.to_string());
        t.take(OxmId::EthType);
        if named_proto.is_some() {
            t.take(OxmId::IpProto);
        }
    }
    let put = |name: &str, f: Option<&OxmField>, out: &mut Vec<String>| {
        if let Some(f) = f {
            out.push(format!("{name}={}", format_match_value(f)));
        }
    };
    put("tun_id", t.take(OxmId::TunnelId), &mut out);
    put("metadata", t.take(OxmId::Metadata), &mut out);
    put("in_port", t.take(OxmId::InPort), &mut out);
    // The VLAN fields as a TCI, when they have their widths (and the priority no mask).
    let well_formed = |f: Option<&OxmField>, n: usize, maskable: bool| {
        f.iter()
            .all(|f| f.value.len() == n && f.mask.iter().all(|m| maskable && m.len() == n))
    };
    if well_formed(peek(OxmId::VlanVid), 2, true) && well_formed(peek(OxmId::VlanPcp), 1, false) {
        let vid = t.take(OxmId::VlanVid).cloned();
        let pcp = t.take(OxmId::VlanPcp).cloned();
        let (tci, mask) = tci_of(vid.as_ref(), pcp.as_ref(), version);
        format_vlan(tci, mask, &mut out);
    }
    put("dl_src", t.take(OxmId::EthSrc), &mut out);
    put("dl_dst", t.take(OxmId::EthDst), &mut out);
    put("dl_type", t.take(OxmId::EthType), &mut out);
    let arp = matches!(eth, Some(ETH_ARP | ETH_RARP));
    match eth {
        Some(ETH_IPV6) => {
            put("ipv6_src", t.take(OxmId::Ipv6Src), &mut out);
            put("ipv6_dst", t.take(OxmId::Ipv6Dst), &mut out);
            put("ipv6_label", t.take(OxmId::Ipv6Flabel), &mut out);
        }
        Some(ETH_ARP | ETH_RARP) => {
            put("arp_spa", t.take(OxmId::ArpSpa), &mut out);
            put("arp_tpa", t.take(OxmId::ArpTpa), &mut out);
        }
        Some(ETH_IP) => {
            put("nw_src", t.take(OxmId::Ipv4Src), &mut out);
            put("nw_dst", t.take(OxmId::Ipv4Dst), &mut out);
        }
        _ => {}
    }
    if arp {
        put("arp_op", t.take(OxmId::ArpOp), &mut out);
        put("arp_sha", t.take(OxmId::ArpSha), &mut out);
        put("arp_tha", t.take(OxmId::ArpTha), &mut out);
    }
    if matches!(eth, Some(ETH_IP | ETH_IPV6)) {
        put("nw_proto", t.take(OxmId::IpProto), &mut out);
        if let Some(f) = t.take(OxmId::IpDscp) {
            match exact_uint(f).filter(|&d| d < 64) {
                Some(d) => out.push(format!("nw_tos={}", d << 2)),
                None => out.push(format!("ip_dscp={}", format_match_value(f))),
            }
        }
        put("nw_ecn", t.take(OxmId::IpEcn), &mut out);
    }
    if matches!(eth, Some(ETH_MPLS | ETH_MPLS_MCAST)) {
        put("mpls_label", t.take(OxmId::MplsLabel), &mut out);
        put("mpls_tc", t.take(OxmId::MplsTc), &mut out);
        put("mpls_bos", t.take(OxmId::MplsBos), &mut out);
    }
    let (src, dst) = match (eth, proto) {
        (Some(ETH_IP), Some(1)) => (OxmId::Icmpv4Type, OxmId::Icmpv4Code),
        (Some(ETH_IPV6), Some(58)) => (OxmId::Icmpv6Type, OxmId::Icmpv6Code),
        (_, Some(6)) => (OxmId::TcpSrc, OxmId::TcpDst),
        (_, Some(17)) => (OxmId::UdpSrc, OxmId::UdpDst),
        (_, Some(132)) => (OxmId::SctpSrc, OxmId::SctpDst),
        _ => (
            OxmId::Unknown { class: 0, field: 0 },
            OxmId::Unknown { class: 0, field: 0 },
        ),
    };
    if matches!(proto, Some(1 | 58)) {
        put("icmp_type", t.take(src), &mut out);
        put("icmp_code", t.take(dst), &mut out);
        if proto == Some(58) {
            put("nd_target", t.take(OxmId::Ipv6NdTarget), &mut out);
            put("nd_sll", t.take(OxmId::Ipv6NdSll), &mut out);
            put("nd_tll", t.take(OxmId::Ipv6NdTll), &mut out);
        }
    } else if proto.is_some() {
        put("tp_src", t.take(src), &mut out);
        put("tp_dst", t.take(dst), &mut out);
    }
    // Whatever ovs-ofctl would not print (fields Open vSwitch lacks, fields without their
    // prerequisites), by OXM name in wire order.
    for (f, done) in m.fields.iter().zip(&t.done) {
        if !done {
            out.push(format!("{}={}", oxm_key_name(f.id), format_match_value(f)));
        }
    }
    out.join(",")
}

/// Hands out the fields of a match for printing, each once.
struct Taker<'m> {
    m: &'m Match,
    done: Vec<bool>,
}

impl<'m> Taker<'m> {
    /// Marks the first not yet printed field with this id as printed and returns it.
    fn take(&mut self, id: OxmId) -> Option<&'m OxmField> {
        let m = self.m;
        let i = m
            .fields
            .iter()
            .enumerate()
            .position(|(i, f)| !self.done[i] && f.id == id)?;
        self.done[i] = true;
        m.fields.get(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_text::lex::Items;

    fn parse(text: &str, version: u8) -> Result<Match, FlowTextError> {
        let mut b = MatchBuilder::default();
        for item in Items::new(text) {
            let item = item?;
            assert!(b.offer(item)?, "not a match key: {}", item.key);
        }
        b.finish(version)
    }

    fn fmt(text: &str, version: u8) -> String {
        format_match(&parse(text, version).unwrap(), None, version)
    }

    #[test]
    fn every_basic_field_has_a_format_and_a_key() {
        for id in OxmId::basic_fields() {
            assert!(format_of(id).is_some(), "{id:?}");
            let key = if id == OxmId::IpProto {
                Key::NwProto
            } else {
                Key::Field(id)
            };
            assert!(KEYS.iter().any(|&(_, k)| k == key), "{id:?}");
        }
    }

    #[test]
    fn context_decides_nw_and_tp_keys() {
        let m = parse("arp,nw_src=10.0.0.1,nw_proto=2", 4).unwrap();
        assert!(m.contains(OxmId::ArpSpa) && m.contains(OxmId::ArpOp));
        let m = parse("udp6,tp_dst=53", 4).unwrap();
        assert_eq!(
            m.get(OxmId::UdpDst).and_then(OxmField::value_uint),
            Some(53)
        );
        let m = parse("icmp6,icmp_type=135,nd_target=fe80::1", 4).unwrap();
        assert!(m.contains(OxmId::Icmpv6Type) && m.contains(OxmId::Ipv6NdTarget));
        // Order does not matter.
        assert_eq!(
            parse("tp_dst=80,nw_src=1.2.3.4,tcp", 1).unwrap(),
            parse("tcp,nw_src=1.2.3.4,tp_dst=80", 1).unwrap()
        );
    }

    #[test]
    fn prerequisites_are_errors() {
        for (text, token) in [
            ("nw_src=1.2.3.4", "nw_src"),
            ("tp_dst=80", "tp_dst"),
            ("ip,tcp_dst=80", "tcp_dst"),
            ("udp,tcp_dst=80", "tcp_dst"),
            ("icmp6,nd_target=::1", "nd_target"),
            ("ipv6_src=::1", "ipv6_src"),
            ("mpls_label=5", "mpls_label"),
            ("nw_proto=6", "nw_proto"),
        ] {
            match parse(text, 4) {
                Err(FlowTextError::MissingPrerequisite { token: t, .. }) => {
                    assert_eq!(t, token, "{text}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            parse("tcp,udp", 4),
            Err(FlowTextError::Conflict { .. })
        ));
        assert!(parse("tcp,nw_proto=6", 4).is_ok());
        assert!(matches!(
            parse("tcp,tp_dst=80/0xff00", 4),
            Err(FlowTextError::BadValue { .. })
        ));
    }

    #[test]
    fn masks_normalise() {
        assert_eq!(
            fmt("dl_src=00:00:00:00:00:01/ff:ff:ff:00:00:00", 4),
            "dl_src=00:00:00:00:00:00/ff:ff:ff:00:00:00"
        );
        assert_eq!(
            fmt("ip,nw_src=1.2.3.4/255.255.0.0", 4),
            "ip,nw_src=1.2.0.0/16"
        );
        assert_eq!(
            fmt("ip,nw_src=1.2.3.4/255.0.255.0", 4),
            "ip,nw_src=1.0.3.0/255.0.255.0"
        );
        assert_eq!(fmt("ip,nw_src=1.2.3.4/32", 4), "ip,nw_src=1.2.3.4");
        assert_eq!(fmt("ip,nw_src=1.2.3.4/0", 4), "ip");
        assert_eq!(fmt("metadata=0x10/0xff", 4), "metadata=0x10/0xff");
        assert_eq!(
            fmt("ipv6,ipv6_label=0x5/0xf", 4),
            "ipv6,ipv6_label=0x00005/0x0000f"
        );
    }

    #[test]
    fn vlan_spellings() {
        assert_eq!(fmt("dl_vlan=0xffff", 1), "vlan_tci=0x0000");
        assert_eq!(fmt("dl_vlan=0xffff", 4), "vlan_tci=0x0000/0x1fff");
        assert_eq!(
            fmt("vlan_vid=0x1005,vlan_pcp=2", 4),
            "dl_vlan=5,dl_vlan_pcp=2"
        );
        assert_eq!(fmt("vlan_tci=0xf005", 4), "dl_vlan=5,dl_vlan_pcp=7");
        assert_eq!(fmt("vlan_vid=0x1000/0x1000", 4), "vlan_tci=0x1000/0x1000");
        assert_eq!(fmt("dl_vlan_pcp=3", 4), "dl_vlan_pcp=3");
        assert_eq!(fmt("dl_vlan_pcp=3", 1), "dl_vlan_pcp=3");
        assert_eq!(parse("dl_vlan_pcp=3", 4).unwrap().fields.len(), 2);
        assert_eq!(parse("dl_vlan_pcp=3", 1).unwrap().fields.len(), 1);
        assert!(matches!(
            parse("dl_vlan=0xffff,dl_vlan_pcp=3", 4),
            Err(FlowTextError::Conflict { .. })
        ));
        assert!(parse("dl_vlan=4096", 4).is_err());
        for t in [
            "vlan_tci=0x0000",
            "vlan_tci=0x0000/0x1fff",
            "vlan_tci=0x1005/0x1fff",
            "vlan_tci=0x0005/0x0fff",
        ] {
            let m = parse(t, 4).unwrap();
            assert_eq!(parse(&format_match(&m, None, 4), 4).unwrap(), m, "{t}");
        }
    }

    #[test]
    fn printed_in_ovs_order() {
        assert_eq!(
            fmt("tp_dst=2,nw_proto=6,ip,in_port=3,metadata=0x10/0xff,tun_id=5,dl_vlan=10,dl_src=00:00:00:00:00:01,nw_tos=8,nw_ecn=1", 4),
            "tcp,tun_id=0x5,metadata=0x10/0xff,in_port=3,dl_vlan=10,dl_src=00:00:00:00:00:01,nw_tos=8,nw_ecn=1,tp_dst=2"
        );
        assert_eq!(
            fmt("arp,arp_op=1,arp_tpa=10.0.0.0/8", 4),
            "arp,arp_tpa=10.0.0.0/8,arp_op=1"
        );
        assert_eq!(
            fmt("dl_type=0x88e7,pbb_isid=0x10", 4),
            "dl_type=0x88e7,pbb_isid=0x10"
        );
    }
}
