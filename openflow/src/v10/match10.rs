//! OpenFlow 1.0's fixed `ofp_match` and its meaning as OXM fields.
//!
//! 1.0 matches twelve fixed fields with a wildcard bit each (a prefix length for the IP
//! addresses). [`MatchV10::to_fields`] says the same thing in OXM terms:
//!
//! | 1.0 | OXM |
//! |---|---|
//! | `in_port` | `in_port` (ports mapped as [`PortNo::from_v10`]) |
//! | `dl_src`, `dl_dst` | `eth_src`, `eth_dst` |
//! | `dl_vlan` | `vlan_vid`: `0xffff` (no tag) is `OFPVID_NONE` (0), `v` is `0x1000 \| v` |
//! | `dl_vlan_pcp` | `vlan_pcp` |
//! | `dl_type` | `eth_type` |
//! | `nw_tos` | `ip_dscp` = `nw_tos >> 2` |
//! | `nw_proto` | `ip_proto`, or `arp_op` when `dl_type` is ARP |
//! | `nw_src`/`nw_dst` + prefix bits | `ipv4_src`/`ipv4_dst` (`arp_spa`/`arp_tpa` for ARP), masked below /32 |
//! | `tp_src`/`tp_dst` | by `nw_proto`: `tcp_*` (6), `udp_*` (17), `sctp_*` (132), `icmpv4_type`/`_code` (1); ignored otherwise, as Open vSwitch does |
//!
//! The reverse, [`MatchV10::from_fields`], fails for fields and masks 1.0 cannot say.
//! Several wire forms mean one list (see [`Match`]), so the list alone does not give the
//! bytes back; the codec keeps the received form beside the list.

use crate::error::EncodeError;
use crate::model::oxm::{Match, OxmField, OxmId};
use crate::model::port::PortNo;
use crate::wire::{Reader, Writer};
use crate::DecodeError;

/// `OFPFW_*` wildcard bits.
#[allow(missing_docs)]
pub mod wildcards {
    pub const IN_PORT: u32 = 1 << 0;
    pub const DL_VLAN: u32 = 1 << 1;
    pub const DL_SRC: u32 = 1 << 2;
    pub const DL_DST: u32 = 1 << 3;
    pub const DL_TYPE: u32 = 1 << 4;
    pub const NW_PROTO: u32 = 1 << 5;
    pub const TP_SRC: u32 = 1 << 6;
    pub const TP_DST: u32 = 1 << 7;
    pub const NW_SRC_SHIFT: u32 = 8;
    pub const NW_SRC_MASK: u32 = 0x3f << NW_SRC_SHIFT;
    pub const NW_DST_SHIFT: u32 = 14;
    pub const NW_DST_MASK: u32 = 0x3f << NW_DST_SHIFT;
    pub const DL_VLAN_PCP: u32 = 1 << 20;
    pub const NW_TOS: u32 = 1 << 21;
    pub const ALL: u32 = (1 << 22) - 1;
}

use wildcards as w;

/// `dl_vlan` meaning "no VLAN tag" (`OFP_VLAN_NONE`).
pub const VLAN_NONE: u16 = 0xffff;

const ETH_TYPE_ARP: u16 = 0x0806;

/// The 40-byte `ofp_match` of OpenFlow 1.0, field for field (padding included, so that
/// any received match is written back unchanged).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MatchV10 {
    pub wildcards: u32,
    pub in_port: u16,
    pub dl_src: [u8; 6],
    pub dl_dst: [u8; 6],
    pub dl_vlan: u16,
    pub dl_vlan_pcp: u8,
    pub pad1: u8,
    pub dl_type: u16,
    pub nw_tos: u8,
    pub nw_proto: u8,
    pub pad2: [u8; 2],
    pub nw_src: u32,
    pub nw_dst: u32,
    pub tp_src: u16,
    pub tp_dst: u16,
}

impl MatchV10 {
    /// Size on the wire.
    pub const LEN: usize = 40;

    /// Reads the 40 bytes.
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<MatchV10, DecodeError> {
        Ok(MatchV10 {
            wildcards: r.u32()?,
            in_port: r.u16()?,
            dl_src: r.array()?,
            dl_dst: r.array()?,
            dl_vlan: r.u16()?,
            dl_vlan_pcp: r.u8()?,
            pad1: r.u8()?,
            dl_type: r.u16()?,
            nw_tos: r.u8()?,
            nw_proto: r.u8()?,
            pad2: r.array()?,
            nw_src: r.u32()?,
            nw_dst: r.u32()?,
            tp_src: r.u16()?,
            tp_dst: r.u16()?,
        })
    }

    /// Writes the 40 bytes.
    pub(crate) fn emit(&self, w: &mut Writer<'_>) {
        w.u32(self.wildcards);
        w.u16(self.in_port);
        w.bytes(&self.dl_src);
        w.bytes(&self.dl_dst);
        w.u16(self.dl_vlan);
        w.u8(self.dl_vlan_pcp);
        w.u8(self.pad1);
        w.u16(self.dl_type);
        w.u8(self.nw_tos);
        w.u8(self.nw_proto);
        w.bytes(&self.pad2);
        w.u32(self.nw_src);
        w.u32(self.nw_dst);
        w.u16(self.tp_src);
        w.u16(self.tp_dst);
    }

    fn matches(&self, bit: u32) -> bool {
        self.wildcards & bit == 0
    }

    /// The prefix length matched by the 6 wildcard bits at `shift` (0 = wildcarded).
    fn prefix(&self, shift: u32) -> u32 {
        let count = (self.wildcards >> shift) & 0x3f;
        32 - count.min(32)
    }

    /// The OXM fields this match means (see the module table), in OXM field order.
    pub fn to_fields(&self) -> Vec<OxmField> {
        let mut f = Vec::new();
        if self.matches(w::IN_PORT) {
            f.push(OxmField::in_port(PortNo::from_v10(self.in_port)));
        }
        if self.matches(w::DL_DST) {
            f.push(OxmField::eth_dst(self.dl_dst));
        }
        if self.matches(w::DL_SRC) {
            f.push(OxmField::eth_src(self.dl_src));
        }
        let is_arp = self.matches(w::DL_TYPE) && self.dl_type == ETH_TYPE_ARP;
        if self.matches(w::DL_TYPE) {
            f.push(OxmField::eth_type(self.dl_type));
        }
        if self.matches(w::DL_VLAN) {
            let vid = if self.dl_vlan == VLAN_NONE {
                0
            } else {
                0x1000 | (self.dl_vlan & 0xfff)
            };
            f.push(OxmField::from_uint(OxmId::VlanVid, u64::from(vid)));
        }
        // A priority only exists on a tagged frame: with `dl_vlan` = none (as
        // ovs-testcontroller sends for untagged traffic) the priority is dropped, as Open
        // vSwitch does, since OpenFlow 1.3 forbids VLAN_PCP beside VLAN_VID=NONE.
        let untagged = self.matches(w::DL_VLAN) && self.dl_vlan == VLAN_NONE;
        if self.matches(w::DL_VLAN_PCP) && !untagged {
            f.push(OxmField::from_uint(
                OxmId::VlanPcp,
                u64::from(self.dl_vlan_pcp),
            ));
        }
        if self.matches(w::NW_TOS) {
            f.push(OxmField::from_uint(
                OxmId::IpDscp,
                u64::from(self.nw_tos >> 2),
            ));
        }
        let proto = self.matches(w::NW_PROTO).then_some(self.nw_proto);
        if let Some(p) = proto {
            if is_arp {
                f.push(OxmField::from_uint(OxmId::ArpOp, u64::from(p)));
            } else {
                f.push(OxmField::ip_proto(p));
            }
        }
        for (shift, addr, ip_id, arp_id) in [
            (w::NW_SRC_SHIFT, self.nw_src, OxmId::Ipv4Src, OxmId::ArpSpa),
            (w::NW_DST_SHIFT, self.nw_dst, OxmId::Ipv4Dst, OxmId::ArpTpa),
        ] {
            let prefix = self.prefix(shift);
            if prefix == 0 {
                continue;
            }
            let id = if is_arp { arp_id } else { ip_id };
            let mask = if prefix == 32 {
                u32::MAX
            } else {
                !(u32::MAX >> prefix)
            };
            let value = (addr & mask).to_be_bytes();
            if prefix == 32 {
                f.push(OxmField::new(id, value));
            } else {
                f.push(OxmField::masked(id, value, mask.to_be_bytes()));
            }
        }
        let ids = match proto {
            Some(6) => Some((OxmId::TcpSrc, OxmId::TcpDst)),
            Some(17) => Some((OxmId::UdpSrc, OxmId::UdpDst)),
            Some(132) => Some((OxmId::SctpSrc, OxmId::SctpDst)),
            Some(1) => Some((OxmId::Icmpv4Type, OxmId::Icmpv4Code)),
            _ => None,
        };
        if let (Some((src, dst)), false) = (ids, is_arp) {
            if self.matches(w::TP_SRC) {
                f.push(OxmField::from_uint(src, u64::from(self.tp_src)));
            }
            if self.matches(w::TP_DST) {
                f.push(OxmField::from_uint(dst, u64::from(self.tp_dst)));
            }
        }
        f
    }

    /// The 1.0 match for OXM fields: everything wildcarded (`OFPFW_ALL`) but the fields
    /// given. Fails for fields, values and masks 1.0 cannot express.
    pub fn from_fields(fields: &[OxmField]) -> Result<MatchV10, EncodeError> {
        let unsupported = |what| EncodeError::Unsupported {
            version: super::VERSION,
            what,
        };
        let bad = |what| EncodeError::BadValue { what };
        let mut m = MatchV10 {
            wildcards: w::ALL,
            ..MatchV10::default()
        };
        for f in fields {
            let exact = match &f.mask {
                None => true,
                Some(mask) => mask.iter().all(|&b| b == 0xff),
            };
            let uint = || {
                if Some(f.value.len()) != f.id.value_len() {
                    return Err(bad("oxm value width"));
                }
                f.value_uint().ok_or(bad("oxm value width"))
            };
            let need_exact = |what| {
                if exact {
                    Ok(())
                } else {
                    Err(unsupported(what))
                }
            };
            match f.id {
                OxmId::InPort => {
                    need_exact("masked in_port")?;
                    let p = PortNo(uint()? as u32);
                    m.in_port = p.to_v10().ok_or(unsupported("32-bit in_port"))?;
                    m.wildcards &= !w::IN_PORT;
                }
                OxmId::EthDst | OxmId::EthSrc => {
                    need_exact("masked ethernet address")?;
                    let mac = f.value_mac().ok_or(bad("eth address width"))?;
                    if f.id == OxmId::EthDst {
                        m.dl_dst = mac;
                        m.wildcards &= !w::DL_DST;
                    } else {
                        m.dl_src = mac;
                        m.wildcards &= !w::DL_SRC;
                    }
                }
                OxmId::VlanVid => {
                    need_exact("masked vlan_vid")?;
                    let v = uint()? as u16;
                    m.dl_vlan = if v == 0 {
                        VLAN_NONE
                    } else if v & 0x1000 != 0 {
                        v & 0xfff
                    } else {
                        return Err(bad("vlan_vid without OFPVID_PRESENT"));
                    };
                    m.wildcards &= !w::DL_VLAN;
                }
                OxmId::VlanPcp => {
                    m.dl_vlan_pcp = uint()? as u8;
                    m.wildcards &= !w::DL_VLAN_PCP;
                }
                OxmId::EthType => {
                    m.dl_type = uint()? as u16;
                    m.wildcards &= !w::DL_TYPE;
                }
                OxmId::IpDscp => {
                    m.nw_tos = (uint()? as u8) << 2;
                    m.wildcards &= !w::NW_TOS;
                }
                OxmId::IpProto => {
                    m.nw_proto = uint()? as u8;
                    m.wildcards &= !w::NW_PROTO;
                }
                OxmId::ArpOp => {
                    m.nw_proto = u8::try_from(uint()?).map_err(|_| unsupported("arp_op > 255"))?;
                    m.wildcards &= !w::NW_PROTO;
                }
                OxmId::Ipv4Src | OxmId::Ipv4Dst | OxmId::ArpSpa | OxmId::ArpTpa => {
                    let addr = u32::from_be_bytes(
                        f.value
                            .as_slice()
                            .try_into()
                            .map_err(|_| bad("ipv4 address width"))?,
                    );
                    let prefix = match &f.mask {
                        None => 32,
                        Some(mask) => {
                            let mask = u32::from_be_bytes(
                                mask.as_slice()
                                    .try_into()
                                    .map_err(|_| bad("ipv4 mask width"))?,
                            );
                            if mask.leading_ones() + mask.trailing_zeros() != 32 {
                                return Err(unsupported("non-prefix ipv4 mask"));
                            }
                            mask.leading_ones()
                        }
                    };
                    let (shift, bits) = if matches!(f.id, OxmId::Ipv4Src | OxmId::ArpSpa) {
                        m.nw_src = addr;
                        (w::NW_SRC_SHIFT, w::NW_SRC_MASK)
                    } else {
                        m.nw_dst = addr;
                        (w::NW_DST_SHIFT, w::NW_DST_MASK)
                    };
                    m.wildcards = (m.wildcards & !bits) | ((32 - prefix) << shift);
                }
                OxmId::TcpSrc | OxmId::UdpSrc | OxmId::SctpSrc | OxmId::Icmpv4Type => {
                    m.tp_src = uint()? as u16;
                    m.wildcards &= !w::TP_SRC;
                }
                OxmId::TcpDst | OxmId::UdpDst | OxmId::SctpDst | OxmId::Icmpv4Code => {
                    m.tp_dst = uint()? as u16;
                    m.wildcards &= !w::TP_DST;
                }
                _ => return Err(unsupported("oxm field without a 1.0 match field")),
            }
        }
        Ok(m)
    }

    /// The match as a [`Match`], keeping this wire form.
    pub fn to_match(&self) -> Match {
        Match {
            fields: self.to_fields(),
            v10_wire: Some(*self),
        }
    }

    /// The 1.0 wire form of a [`Match`]: the one it was decoded from while that still
    /// means the same fields, else [`MatchV10::from_fields`].
    pub fn from_match(m: &Match) -> Result<MatchV10, EncodeError> {
        if let Some(wire) = &m.v10_wire {
            if wire.to_fields() == m.fields {
                return Ok(*wire);
            }
        }
        MatchV10::from_fields(&m.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn wire_size_is_40() {
        let mut out = Vec::new();
        MatchV10::default().emit(&mut Writer::new(&mut out));
        assert_eq!(out.len(), MatchV10::LEN);
        let back = MatchV10::parse(&mut Reader::new(&out, "match")).unwrap();
        assert_eq!(back, MatchV10::default());
    }

    #[test]
    fn all_wildcards_is_the_empty_match() {
        assert!(MatchV10 {
            wildcards: w::ALL,
            ..Default::default()
        }
        .to_fields()
        .is_empty());
        // Open vSwitch writes an all-wildcard nw_src with count 32; os-ken with 63.
        assert!(MatchV10 {
            wildcards: 0x3820ff,
            ..Default::default()
        }
        .to_fields()
        .is_empty());
        assert_eq!(MatchV10::from_fields(&[]).unwrap().wildcards, w::ALL);
    }

    #[test]
    fn tcp_match_maps_to_oxm_and_back() {
        let m = MatchV10 {
            wildcards: w::ALL
                & !(w::DL_TYPE | w::NW_PROTO | w::TP_DST | w::NW_SRC_MASK | w::DL_VLAN)
                | (8 << w::NW_SRC_SHIFT),
            dl_type: 0x0800,
            nw_proto: 6,
            nw_src: u32::from(Ipv4Addr::new(198, 51, 100, 0)),
            tp_dst: 80,
            dl_vlan: VLAN_NONE,
            ..Default::default()
        };
        let f = m.to_fields();
        assert_eq!(
            f,
            vec![
                OxmField::eth_type(0x800),
                OxmField::from_uint(OxmId::VlanVid, 0),
                OxmField::ip_proto(6),
                OxmField::masked(OxmId::Ipv4Src, [198, 51, 100, 0], [255, 255, 255, 0]),
                OxmField::from_uint(OxmId::TcpDst, 80),
            ]
        );
        assert_eq!(MatchV10::from_fields(&f).unwrap(), m);
    }

    #[test]
    fn arp_fields_use_nw_slots() {
        let f = vec![
            OxmField::eth_type(0x806),
            OxmField::from_uint(OxmId::ArpOp, 2),
            OxmField::new(OxmId::ArpTpa, [203, 0, 113, 9]),
        ];
        let m = MatchV10::from_fields(&f).unwrap();
        assert_eq!((m.nw_proto, m.nw_dst), (2, 0xcb00_7109));
        assert_eq!(m.to_fields(), f);
    }

    #[test]
    fn inexpressible_fields_fail() {
        assert!(MatchV10::from_fields(&[OxmField::from_uint(OxmId::Metadata, 1)]).is_err());
        assert!(MatchV10::from_fields(&[OxmField::masked(
            OxmId::Ipv4Dst,
            [1, 2, 3, 4],
            [255, 0, 255, 0]
        )])
        .is_err());
        assert!(MatchV10::from_fields(&[OxmField::in_port(PortNo(0x1_0000))]).is_err());
    }

    #[test]
    fn received_spelling_is_kept_while_it_still_holds() {
        let wire = MatchV10 {
            wildcards: 0x3820ff,
            ..Default::default()
        };
        let mut m = wire.to_match();
        assert_eq!(MatchV10::from_match(&m).unwrap(), wire);
        m.set(OxmField::eth_type(0x800));
        assert_ne!(MatchV10::from_match(&m).unwrap(), wire);
    }
}
