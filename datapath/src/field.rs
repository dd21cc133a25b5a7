//! OpenFlow match fields by name: the bridge between OXM TLVs and [`FlowKey`] words.
//!
//! [`Field`] names every OpenFlow 1.3 OXM basic field (plus TCP_FLAGS). Values cross this
//! module as bytes in network byte order, exactly as an OXM TLV carries them, so that an
//! OpenFlow agent converts OXM lists to datapath matches and back without knowing the
//! layout of [`FlowKey`]:
//!
//! * [`Match::set_field`] / [`Match::field`] / [`Match::clear_field`] /
//!   [`Match::oxm_fields`] write and read a match field by field;
//! * [`FlowKey::get_field`] / [`FlowKey::set_field`] do the same on a key;
//! * [`FieldValue`] is one field with its value kept inline (no allocation), the argument
//!   of the `set_field` action.
//!
//! # One table, three readers
//!
//! Every field maps to one slot of [`FlowKey`] through one pair of functions (`read_slot`
//! and `write_slot` below), used for the key's value *and* for the match's mask: a mask is
//! just another `FlowKey`. The significant bits of each field ([`Field::value_bits`]) are
//! the same bits the classifier treats as the field's full mask, so an exact OXM match and
//! an exact classifier match are the same thing.
//!
//! # Fields that share a slot
//!
//! `FlowKey` keeps one pair of transport ports for TCP, UDP and SCTP and one ICMP type and
//! code for ICMPv4 and ICMPv6, as the frame can only carry one of them. Writing `UDP_SRC`
//! writes the same slot as `TCP_SRC`; OpenFlow's prerequisites (`IP_PROTO` = 17) make the
//! difference, and the readers use them: [`Match::field`] answers for `TCP_SRC` only when
//! the match's `IP_PROTO` is 6 or wildcarded, and [`Match::oxm_fields`] names the slot after
//! the match's `IP_PROTO`. `IN_PHY_PORT` has no slot: every port here is physical, so it is
//! always equal to `IN_PORT`, and matching it is matching `IN_PORT`.
//!
//! # Errors
//!
//! [`FieldError`] says what was wrong in terms an agent maps straight to OpenFlow error
//! codes: a value of the wrong length (`OFPBMC_BAD_LEN`), bits outside the field
//! (`OFPBMC_BAD_VALUE`), a mask on a field that takes none or with bits outside the field
//! (`OFPBMC_BAD_MASK`), value bits outside the mask (`OFPBMC_BAD_WILDCARDS`), a
//! prerequisite not met (`OFPBMC_BAD_PREREQ`).

use core::fmt;

use crate::classifier::Match;
use crate::key::{FlowKey, VLAN_PRESENT};

/// Longest OXM value of a [`Field`] in bytes (IPv6 addresses).
pub const MAX_FIELD_LEN: usize = 16;

/// An OpenFlow 1.3 OXM basic-class field (`OFPXMT_OFB_*`); the discriminant is its OXM
/// field number, so fields order as OpenFlow numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Field {
    /// Ingress port (4 bytes).
    InPort = 0,
    /// Physical ingress port (4 bytes).
    InPhyPort = 1,
    /// Pipeline metadata (8 bytes, maskable).
    Metadata = 2,
    /// Ethernet destination (6 bytes, maskable).
    EthDst = 3,
    /// Ethernet source (6 bytes, maskable).
    EthSrc = 4,
    /// EtherType after VLAN tags (2 bytes).
    EthType = 5,
    /// VLAN id with `OFPVID_PRESENT` 0x1000 (2 bytes, 13 bits, maskable).
    VlanVid = 6,
    /// VLAN priority (1 byte, 3 bits).
    VlanPcp = 7,
    /// IP DSCP (1 byte, 6 bits).
    IpDscp = 8,
    /// IP ECN (1 byte, 2 bits).
    IpEcn = 9,
    /// IP protocol (1 byte).
    IpProto = 10,
    /// IPv4 source (4 bytes, maskable).
    Ipv4Src = 11,
    /// IPv4 destination (4 bytes, maskable).
    Ipv4Dst = 12,
    /// TCP source port (2 bytes).
    TcpSrc = 13,
    /// TCP destination port (2 bytes).
    TcpDst = 14,
    /// UDP source port (2 bytes).
    UdpSrc = 15,
    /// UDP destination port (2 bytes).
    UdpDst = 16,
    /// SCTP source port (2 bytes).
    SctpSrc = 17,
    /// SCTP destination port (2 bytes).
    SctpDst = 18,
    /// ICMPv4 type (1 byte).
    Icmpv4Type = 19,
    /// ICMPv4 code (1 byte).
    Icmpv4Code = 20,
    /// ARP opcode (2 bytes).
    ArpOp = 21,
    /// ARP sender protocol address (4 bytes, maskable).
    ArpSpa = 22,
    /// ARP target protocol address (4 bytes, maskable).
    ArpTpa = 23,
    /// ARP sender hardware address (6 bytes, maskable).
    ArpSha = 24,
    /// ARP target hardware address (6 bytes, maskable).
    ArpTha = 25,
    /// IPv6 source (16 bytes, maskable).
    Ipv6Src = 26,
    /// IPv6 destination (16 bytes, maskable).
    Ipv6Dst = 27,
    /// IPv6 flow label (4 bytes, 20 bits, maskable).
    Ipv6Flabel = 28,
    /// ICMPv6 type (1 byte).
    Icmpv6Type = 29,
    /// ICMPv6 code (1 byte).
    Icmpv6Code = 30,
    /// ND target address (16 bytes).
    Ipv6NdTarget = 31,
    /// ND source link-layer address (6 bytes).
    Ipv6NdSll = 32,
    /// ND target link-layer address (6 bytes).
    Ipv6NdTll = 33,
    /// MPLS label of the outermost entry (4 bytes, 20 bits).
    MplsLabel = 34,
    /// MPLS traffic class of the outermost entry (1 byte, 3 bits).
    MplsTc = 35,
    /// MPLS bottom-of-stack bit of the outermost entry (1 byte, 1 bit).
    MplsBos = 36,
    /// PBB I-SID (3 bytes, maskable).
    PbbIsid = 37,
    /// Tunnel id (8 bytes, maskable).
    TunnelId = 38,
    /// IPv6 extension header pseudo-field (2 bytes, 9 bits, maskable).
    Ipv6Exthdr = 39,
    /// TCP flags (2 bytes, 12 bits, maskable): OpenFlow 1.5 field 42; OpenFlow 1.3 carries
    /// it in the ONF experimenter class (`ONFOXM_ET_TCP_FLAGS`) under the same number.
    TcpFlags = 42,
}

impl Field {
    /// Every field, in OXM order.
    pub const ALL: [Field; 41] = [
        Field::InPort,
        Field::InPhyPort,
        Field::Metadata,
        Field::EthDst,
        Field::EthSrc,
        Field::EthType,
        Field::VlanVid,
        Field::VlanPcp,
        Field::IpDscp,
        Field::IpEcn,
        Field::IpProto,
        Field::Ipv4Src,
        Field::Ipv4Dst,
        Field::TcpSrc,
        Field::TcpDst,
        Field::UdpSrc,
        Field::UdpDst,
        Field::SctpSrc,
        Field::SctpDst,
        Field::Icmpv4Type,
        Field::Icmpv4Code,
        Field::ArpOp,
        Field::ArpSpa,
        Field::ArpTpa,
        Field::ArpSha,
        Field::ArpTha,
        Field::Ipv6Src,
        Field::Ipv6Dst,
        Field::Ipv6Flabel,
        Field::Icmpv6Type,
        Field::Icmpv6Code,
        Field::Ipv6NdTarget,
        Field::Ipv6NdSll,
        Field::Ipv6NdTll,
        Field::MplsLabel,
        Field::MplsTc,
        Field::MplsBos,
        Field::PbbIsid,
        Field::TunnelId,
        Field::Ipv6Exthdr,
        Field::TcpFlags,
    ];

    /// The OXM field number (`OFPXMT_OFB_*`).
    #[inline]
    pub fn oxm_field(self) -> u8 {
        self as u8
    }

    /// The field with this OXM field number, if there is one (42 is TCP_FLAGS).
    pub fn from_oxm(field: u8) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.oxm_field() == field)
    }

    /// The OXM value length in bytes (the mask, when there is one, has the same length).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(self) -> usize {
        use Field::*;
        match self {
            VlanPcp | IpDscp | IpEcn | IpProto | Icmpv4Type | Icmpv4Code | Icmpv6Type
            | Icmpv6Code | MplsTc | MplsBos => 1,
            EthType | VlanVid | TcpSrc | TcpDst | UdpSrc | UdpDst | SctpSrc | SctpDst | ArpOp
            | Ipv6Exthdr | TcpFlags => 2,
            PbbIsid => 3,
            InPort | InPhyPort | Ipv4Src | Ipv4Dst | ArpSpa | ArpTpa | Ipv6Flabel | MplsLabel => 4,
            EthDst | EthSrc | ArpSha | ArpTha | Ipv6NdSll | Ipv6NdTll => 6,
            Metadata | TunnelId => 8,
            Ipv6Src | Ipv6Dst | Ipv6NdTarget => 16,
        }
    }

    /// Whether OpenFlow 1.3 allows a bit mask on this field (`OFPXMT_OFB_*` with "Mask: Yes").
    pub fn maskable(self) -> bool {
        use Field::*;
        matches!(
            self,
            Metadata
                | EthDst
                | EthSrc
                | VlanVid
                | Ipv4Src
                | Ipv4Dst
                | ArpSpa
                | ArpTpa
                | ArpSha
                | ArpTha
                | Ipv6Src
                | Ipv6Dst
                | Ipv6Flabel
                | PbbIsid
                | TunnelId
                | Ipv6Exthdr
                | TcpFlags
        )
    }

    /// Whether OpenFlow 1.3 allows this field as a `set_field` target. Not: `IN_PORT`,
    /// `IN_PHY_PORT` and `METADATA` (the spec excludes them; metadata has its own
    /// instruction), and the pseudo-fields `IPV6_EXTHDR` and `TCP_FLAGS` (not in 1.3's
    /// basic class) that describe rather than carry bytes.
    pub fn settable(self) -> bool {
        !matches!(
            self,
            Field::InPort
                | Field::InPhyPort
                | Field::Metadata
                | Field::Ipv6Exthdr
                | Field::TcpFlags
        )
    }

    /// The significant bits of the field, in network byte order ([`len`](Self::len)
    /// bytes): `0x1fff` for VLAN_VID (12 VID bits and `OFPVID_PRESENT`), `0x3f` for
    /// IP_DSCP, `0x000fffff` for IPV6_FLABEL and MPLS_LABEL, `0x01ff` for IPV6_EXTHDR,
    /// `0x0fff` for TCP_FLAGS, and so on; all ones for whole-byte fields.
    pub fn value_bits(self) -> FieldBytes {
        use Field::*;
        let bits: u128 = match self {
            VlanVid => 0x1fff,
            VlanPcp | MplsTc => 0x07,
            IpDscp => 0x3f,
            IpEcn => 0x03,
            MplsBos => 0x01,
            Ipv6Flabel | MplsLabel => 0x000f_ffff,
            Ipv6Exthdr => 0x01ff,
            TcpFlags => 0x0fff,
            _ => u128::MAX,
        };
        FieldBytes::from_uint(bits, self.len())
    }

    /// The field's direct OpenFlow 1.3 prerequisite (Table 12), if any. Prerequisites
    /// chain: `TCP_SRC` needs `IP_PROTO` = 6, which needs `ETH_TYPE` = IPv4 or IPv6.
    pub fn prerequisite(self) -> Option<Prerequisite> {
        use Field::*;
        const IP: &[u16] = &[0x0800, 0x86dd];
        const V4: &[u16] = &[0x0800];
        const V6: &[u16] = &[0x86dd];
        let p = match self {
            InPhyPort => Prerequisite::Present(InPort),
            VlanPcp => Prerequisite::VlanTagged,
            IpDscp | IpEcn | IpProto => Prerequisite::OneOf(EthType, IP),
            Ipv4Src | Ipv4Dst => Prerequisite::OneOf(EthType, V4),
            TcpSrc | TcpDst | TcpFlags => Prerequisite::OneOf(IpProto, &[6]),
            UdpSrc | UdpDst => Prerequisite::OneOf(IpProto, &[17]),
            SctpSrc | SctpDst => Prerequisite::OneOf(IpProto, &[132]),
            Icmpv4Type | Icmpv4Code => Prerequisite::OneOf(IpProto, &[1]),
            ArpOp | ArpSpa | ArpTpa | ArpSha | ArpTha => Prerequisite::OneOf(EthType, &[0x0806]),
            Ipv6Src | Ipv6Dst | Ipv6Flabel | Ipv6Exthdr => Prerequisite::OneOf(EthType, V6),
            Icmpv6Type | Icmpv6Code => Prerequisite::OneOf(IpProto, &[58]),
            Ipv6NdTarget => Prerequisite::OneOf(Icmpv6Type, &[135, 136]),
            Ipv6NdSll => Prerequisite::OneOf(Icmpv6Type, &[135]),
            Ipv6NdTll => Prerequisite::OneOf(Icmpv6Type, &[136]),
            MplsLabel | MplsTc | MplsBos => Prerequisite::OneOf(EthType, &[0x8847, 0x8848]),
            PbbIsid => Prerequisite::OneOf(EthType, &[0x88e7]),
            InPort | Metadata | EthDst | EthSrc | EthType | VlanVid | TunnelId => return None,
        };
        Some(p)
    }

    /// The OpenFlow name of the field (`"ipv4_src"`), as ovs-ofctl and the spec's
    /// `OFPXMT_OFB_*` suffix in lower case spell it.
    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            InPort => "in_port",
            InPhyPort => "in_phy_port",
            Metadata => "metadata",
            EthDst => "eth_dst",
            EthSrc => "eth_src",
            EthType => "eth_type",
            VlanVid => "vlan_vid",
            VlanPcp => "vlan_pcp",
            IpDscp => "ip_dscp",
            IpEcn => "ip_ecn",
            IpProto => "ip_proto",
            Ipv4Src => "ipv4_src",
            Ipv4Dst => "ipv4_dst",
            TcpSrc => "tcp_src",
            TcpDst => "tcp_dst",
            UdpSrc => "udp_src",
            UdpDst => "udp_dst",
            SctpSrc => "sctp_src",
            SctpDst => "sctp_dst",
            Icmpv4Type => "icmpv4_type",
            Icmpv4Code => "icmpv4_code",
            ArpOp => "arp_op",
            ArpSpa => "arp_spa",
            ArpTpa => "arp_tpa",
            ArpSha => "arp_sha",
            ArpTha => "arp_tha",
            Ipv6Src => "ipv6_src",
            Ipv6Dst => "ipv6_dst",
            Ipv6Flabel => "ipv6_flabel",
            Icmpv6Type => "icmpv6_type",
            Icmpv6Code => "icmpv6_code",
            Ipv6NdTarget => "ipv6_nd_target",
            Ipv6NdSll => "ipv6_nd_sll",
            Ipv6NdTll => "ipv6_nd_tll",
            MplsLabel => "mpls_label",
            MplsTc => "mpls_tc",
            MplsBos => "mpls_bos",
            PbbIsid => "pbb_isid",
            TunnelId => "tunnel_id",
            Ipv6Exthdr => "ipv6_exthdr",
            TcpFlags => "tcp_flags",
        }
    }

    /// Checks that `value` is a value of this field: its length, and no bit outside
    /// [`value_bits`](Self::value_bits).
    pub fn check_value(self, value: &[u8]) -> Result<(), FieldError> {
        self.check_len(value)?;
        if outside(value, &self.value_bits()) {
            return Err(FieldError::BadValue(self));
        }
        Ok(())
    }

    fn check_len(self, bytes: &[u8]) -> Result<(), FieldError> {
        if bytes.len() == self.len() {
            Ok(())
        } else {
            Err(FieldError::BadLen {
                field: self,
                expected: self.len() as u8,
                got: bytes.len().min(255) as u8,
            })
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `bytes` has a bit set that `allowed` has clear (same lengths).
fn outside(bytes: &[u8], allowed: &[u8]) -> bool {
    bytes.iter().zip(allowed).any(|(b, a)| b & !a != 0)
}

/// What a field needs another field of the same match to be (OpenFlow 1.3 Table 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prerequisite {
    /// The field must be matched exactly, to one of these values.
    OneOf(Field, &'static [u16]),
    /// The field must be matched exactly (any value).
    Present(Field),
    /// `VLAN_VID` must say "a tag is present": `OFPVID_PRESENT` in value and mask.
    VlanTagged,
}

/// Why a field value, mask or match was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// The value or mask has the wrong length (`OFPBMC_BAD_LEN`).
    #[error("{field}: {got} bytes, expected {expected}")]
    BadLen {
        /// The field.
        field: Field,
        /// Its length.
        expected: u8,
        /// The length given.
        got: u8,
    },
    /// The value has bits outside the field (`OFPBMC_BAD_VALUE`).
    #[error("{0}: value has bits outside the field")]
    BadValue(Field),
    /// A mask on a field that takes none, or a mask with bits outside the field
    /// (`OFPBMC_BAD_MASK`).
    #[error("{0}: bad mask")]
    BadMask(Field),
    /// The value has bits set where the mask is clear (`OFPBMC_BAD_WILDCARDS`).
    #[error("{0}: value bits outside the mask")]
    BadWildcards(Field),
    /// The field's prerequisite is not met by the match (`OFPBMC_BAD_PREREQ`).
    #[error("{0}: prerequisite not met")]
    BadPrerequisite(Field),
    /// The value contradicts another field of the match (`IN_PHY_PORT` unlike `IN_PORT`).
    #[error("{0}: conflicts with another field")]
    Conflict(Field),
}

/// Up to [`MAX_FIELD_LEN`] bytes kept inline: a field value or mask in network byte order.
/// Dereferences to the bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FieldBytes {
    len: u8,
    bytes: [u8; MAX_FIELD_LEN],
}

impl FieldBytes {
    /// Copies `bytes` (`None` if longer than [`MAX_FIELD_LEN`]).
    pub fn new(bytes: &[u8]) -> Option<FieldBytes> {
        let mut b = FieldBytes {
            len: u8::try_from(bytes.len()).ok()?,
            bytes: [0; MAX_FIELD_LEN],
        };
        b.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(b)
    }

    /// The low `len` bytes of `value`, big-endian (`len` at most 16).
    pub fn from_uint(value: u128, len: usize) -> FieldBytes {
        let len = len.min(MAX_FIELD_LEN);
        let mut b = FieldBytes {
            len: len as u8,
            bytes: [0; MAX_FIELD_LEN],
        };
        b.bytes[..len].copy_from_slice(&value.to_be_bytes()[MAX_FIELD_LEN - len..]);
        b
    }

    /// The bytes as a big-endian unsigned number.
    pub fn to_uint(&self) -> u128 {
        self.iter()
            .fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
    }

    /// Whether every byte is zero.
    pub fn is_zero(&self) -> bool {
        self.iter().all(|&b| b == 0)
    }
}

impl core::ops::Deref for FieldBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl AsRef<[u8]> for FieldBytes {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for FieldBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.iter() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// One field and a value of it in network byte order (as in an OXM TLV), inline: the
/// argument of a `set_field` action. Built only through checks, so its value always has
/// the field's length and no bit outside the field.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldValue {
    field: Field,
    value: FieldBytes,
}

impl FieldValue {
    /// `value` for `field`, checked by [`Field::check_value`].
    pub fn new(field: Field, value: &[u8]) -> Result<FieldValue, FieldError> {
        field.check_value(value)?;
        let value = FieldBytes::new(value).ok_or(FieldError::BadValue(field))?;
        Ok(FieldValue { field, value })
    }

    /// `value` as a big-endian number of the field's length; [`FieldError::BadValue`] if it
    /// does not fit the field's bits.
    pub fn from_uint(field: Field, value: u128) -> Result<FieldValue, FieldError> {
        let bytes = FieldBytes::from_uint(value, field.len());
        if bytes.to_uint() != value {
            return Err(FieldError::BadValue(field));
        }
        FieldValue::new(field, &bytes)
    }

    /// The field.
    #[inline]
    pub fn field(&self) -> Field {
        self.field
    }

    /// The value bytes (exactly [`Field::len`] of them).
    #[inline]
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The value as a big-endian number.
    #[inline]
    pub fn to_uint(&self) -> u128 {
        self.value.to_uint()
    }
}

impl fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.field, self.value)
    }
}

/// Reads `field`'s slot of `key` as OXM bytes. `IN_PHY_PORT` reads `in_port`.
fn read_slot(key: &FlowKey, field: Field) -> FieldBytes {
    use Field::*;
    let n = field.len();
    let int = |v: u128| FieldBytes::from_uint(v, n);
    match field {
        InPort | InPhyPort => int(key.in_port.into()),
        Metadata => int(key.metadata.into()),
        EthDst => int_bytes(&key.eth_dst),
        EthSrc => int_bytes(&key.eth_src),
        EthType => int(key.eth_type.into()),
        VlanVid => int(key.vlan_vid.into()),
        VlanPcp => int(key.vlan_pcp.into()),
        IpDscp => int(key.ip_dscp.into()),
        IpEcn => int(key.ip_ecn.into()),
        IpProto => int(key.ip_proto.into()),
        Ipv4Src => int(key.ipv4_src.into()),
        Ipv4Dst => int(key.ipv4_dst.into()),
        TcpSrc | UdpSrc | SctpSrc => int(key.tp_src.into()),
        TcpDst | UdpDst | SctpDst => int(key.tp_dst.into()),
        Icmpv4Type | Icmpv6Type => int(key.icmp_type.into()),
        Icmpv4Code | Icmpv6Code => int(key.icmp_code.into()),
        ArpOp => int(key.arp_op.into()),
        ArpSpa => int(key.arp_spa.into()),
        ArpTpa => int(key.arp_tpa.into()),
        ArpSha => int_bytes(&key.arp_sha),
        ArpTha => int_bytes(&key.arp_tha),
        Ipv6Src => int_bytes(&key.ipv6_src),
        Ipv6Dst => int_bytes(&key.ipv6_dst),
        Ipv6Flabel => int(key.ipv6_flabel.into()),
        Ipv6NdTarget => int_bytes(&key.nd_target),
        Ipv6NdSll => int_bytes(&key.nd_sll),
        Ipv6NdTll => int_bytes(&key.nd_tll),
        MplsLabel => int(key.mpls_label.into()),
        MplsTc => int(key.mpls_tc.into()),
        MplsBos => int(key.mpls_bos.into()),
        PbbIsid => int(key.pbb_isid.into()),
        TunnelId => int(key.tunnel_id.into()),
        Ipv6Exthdr => int(key.ipv6_exthdr.into()),
        TcpFlags => int(key.tcp_flags.into()),
    }
}

fn int_bytes(b: &[u8]) -> FieldBytes {
    FieldBytes::new(b).unwrap_or_default()
}

/// Writes OXM bytes (of the field's length, checked by the caller) into `field`'s slot.
fn write_slot(key: &mut FlowKey, field: Field, bytes: &[u8]) {
    use Field::*;
    let v = FieldBytes::new(bytes).unwrap_or_default().to_uint();
    // Every number below fits its slot: `bytes` has the field's length.
    let (v8, v16, v32, v64) = (v as u8, v as u16, v as u32, v as u64);
    let copy = |dst: &mut [u8]| {
        if dst.len() == bytes.len() {
            dst.copy_from_slice(bytes);
        }
    };
    match field {
        InPort | InPhyPort => key.in_port = v32,
        Metadata => key.metadata = v64,
        EthDst => copy(&mut key.eth_dst),
        EthSrc => copy(&mut key.eth_src),
        EthType => key.eth_type = v16,
        VlanVid => key.vlan_vid = v16,
        VlanPcp => key.vlan_pcp = v8,
        IpDscp => key.ip_dscp = v8,
        IpEcn => key.ip_ecn = v8,
        IpProto => key.ip_proto = v8,
        Ipv4Src => key.ipv4_src = v32,
        Ipv4Dst => key.ipv4_dst = v32,
        TcpSrc | UdpSrc | SctpSrc => key.tp_src = v16,
        TcpDst | UdpDst | SctpDst => key.tp_dst = v16,
        Icmpv4Type | Icmpv6Type => key.icmp_type = v8,
        Icmpv4Code | Icmpv6Code => key.icmp_code = v8,
        ArpOp => key.arp_op = v16,
        ArpSpa => key.arp_spa = v32,
        ArpTpa => key.arp_tpa = v32,
        ArpSha => copy(&mut key.arp_sha),
        ArpTha => copy(&mut key.arp_tha),
        Ipv6Src => copy(&mut key.ipv6_src),
        Ipv6Dst => copy(&mut key.ipv6_dst),
        Ipv6Flabel => key.ipv6_flabel = v32,
        Ipv6NdTarget => copy(&mut key.nd_target),
        Ipv6NdSll => copy(&mut key.nd_sll),
        Ipv6NdTll => copy(&mut key.nd_tll),
        MplsLabel => key.mpls_label = v32,
        MplsTc => key.mpls_tc = v8,
        MplsBos => key.mpls_bos = v8,
        PbbIsid => key.pbb_isid = v32,
        TunnelId => key.tunnel_id = v64,
        Ipv6Exthdr => key.ipv6_exthdr = v16,
        TcpFlags => key.tcp_flags = v16,
    }
}

impl FlowKey {
    /// The value of `field` in this key, as OXM bytes. A field the frame does not carry
    /// reads as zeros; `IN_PHY_PORT` reads `in_port`; TCP, UDP and SCTP ports read the
    /// same slot, and so do ICMPv4 and ICMPv6 type and code.
    pub fn get_field(&self, field: Field) -> FieldBytes {
        read_slot(self, field)
    }

    /// Sets `field` from OXM bytes (checked by [`Field::check_value`]).
    pub fn set_field(&mut self, field: Field, value: &[u8]) -> Result<(), FieldError> {
        field.check_value(value)?;
        write_slot(self, field, value);
        Ok(())
    }
}

impl Match {
    /// Matches `field` on `value` under `mask` (`None`: exactly), both in network byte
    /// order as an OXM TLV carries them; replaces what the match had for the field.
    ///
    /// Refused, leaving the match as it was: a value or mask of the wrong length, a value
    /// with bits outside the field, a mask on a field OpenFlow 1.3 does not mask or with
    /// bits outside the field, value bits outside the mask, and an `IN_PHY_PORT` unlike an
    /// exact `IN_PORT` already there. An all-zero mask wildcards the field. Prerequisites
    /// are not checked here (OXM lists come in any order): see
    /// [`check_prerequisites`](Self::check_prerequisites).
    pub fn set_field(
        &mut self,
        field: Field,
        value: &[u8],
        mask: Option<&[u8]>,
    ) -> Result<(), FieldError> {
        field.check_value(value)?;
        let bits = field.value_bits();
        let mask = match mask {
            None => bits,
            Some(m) => {
                if !field.maskable() {
                    return Err(FieldError::BadMask(field));
                }
                field.check_len(m)?;
                if outside(m, &bits) {
                    return Err(FieldError::BadMask(field));
                }
                if outside(value, m) {
                    return Err(FieldError::BadWildcards(field));
                }
                FieldBytes::new(m).ok_or(FieldError::BadMask(field))?
            }
        };
        if field == Field::InPhyPort {
            let (m, v) = (read_slot(self.mask(), field), read_slot(self.key(), field));
            let exact_in_port = *m == *bits;
            if exact_in_port && *v != *value {
                return Err(FieldError::Conflict(field));
            }
        }
        let (mut key, mut m) = (*self.key(), *self.mask());
        write_slot(&mut key, field, value);
        write_slot(&mut m, field, &mask);
        *self = Match::new(key, m);
        Ok(())
    }

    /// Wildcards `field` again.
    pub fn clear_field(&mut self, field: Field) {
        if field == Field::InPhyPort {
            return;
        }
        let (key, mut m) = (*self.key(), *self.mask());
        write_slot(&mut m, field, &FieldBytes::from_uint(0, field.len()));
        *self = Match::new(key, m);
    }

    /// What the match requires of `field`: `None` when the field is wildcarded, else the
    /// value and, for a partial mask, the mask (`None` when exact), as OXM bytes.
    ///
    /// Fields sharing a slot answer only when the match does not name another owner:
    /// `TCP_SRC` when `IP_PROTO` is 6 or wildcarded, `ICMPV6_TYPE` when it is 58 or
    /// wildcarded, and so on. `IN_PHY_PORT` is always `None` (it reads as `IN_PORT`).
    pub fn field(&self, field: Field) -> Option<(FieldBytes, Option<FieldBytes>)> {
        if field == Field::InPhyPort || !self.slot_owned_by(field) {
            return None;
        }
        let m = read_slot(self.mask(), field);
        if m.is_zero() {
            return None;
        }
        let v = read_slot(self.key(), field);
        let mask = (*m != *field.value_bits()).then_some(m);
        Some((v, mask))
    }

    /// Every field the match requires, in OXM order, named as an OXM list would name
    /// them: the transport ports after `IP_PROTO` (TCP when it is not 17 or 132), the ICMP
    /// type and code after it too (ICMPv6 when it is 58). `IN_PHY_PORT` is never listed.
    /// The slots that are not OXM fields (`ip_ttl`, `ip_frag`, OpenFlow 1.0 only) are not
    /// listed either.
    pub fn oxm_fields(&self) -> impl Iterator<Item = (Field, FieldBytes, Option<FieldBytes>)> + '_ {
        let proto = self.field(Field::IpProto).map(|(v, _)| v.to_uint());
        Field::ALL.iter().copied().filter_map(move |f| {
            use Field::*;
            let named = match f {
                InPhyPort => false,
                TcpSrc | TcpDst => !matches!(proto, Some(17 | 132)),
                UdpSrc | UdpDst => proto == Some(17),
                SctpSrc | SctpDst => proto == Some(132),
                Icmpv4Type | Icmpv4Code => proto != Some(58),
                Icmpv6Type | Icmpv6Code => proto == Some(58),
                _ => true,
            };
            if !named {
                return None;
            }
            let m = read_slot(self.mask(), f);
            if m.is_zero() {
                return None;
            }
            let mask = (*m != *f.value_bits()).then_some(m);
            Some((f, read_slot(self.key(), f), mask))
        })
    }

    /// Whether the match's `IP_PROTO` leaves `field`'s shared slot to `field`.
    fn slot_owned_by(&self, field: Field) -> bool {
        use Field::*;
        let owner: u8 = match field {
            TcpSrc | TcpDst => 6,
            UdpSrc | UdpDst => 17,
            SctpSrc | SctpDst => 132,
            Icmpv4Type | Icmpv4Code => 1,
            Icmpv6Type | Icmpv6Code => 58,
            _ => return true,
        };
        self.mask().ip_proto == 0 || self.key().ip_proto == owner
    }

    /// Whether `prerequisite` holds in this match.
    pub fn meets(&self, prerequisite: Prerequisite) -> bool {
        match prerequisite {
            Prerequisite::OneOf(f, values) => match self.field(f) {
                Some((v, None)) => values.iter().any(|&x| u128::from(x) == v.to_uint()),
                _ => false,
            },
            Prerequisite::Present(f) => matches!(self.field(f), Some((_, None))),
            Prerequisite::VlanTagged => {
                let present = u128::from(VLAN_PRESENT);
                match self.field(Field::VlanVid) {
                    Some((v, m)) => {
                        let m = m.map_or(present, |m| m.to_uint());
                        m & present != 0 && v.to_uint() & present != 0
                    }
                    None => false,
                }
            }
        }
    }

    /// Checks OpenFlow 1.3's prerequisites (transitively) for every field the match
    /// requires, as [`oxm_fields`](Self::oxm_fields) names them; the first field whose
    /// prerequisite fails is the error.
    pub fn check_prerequisites(&self) -> Result<(), FieldError> {
        for (f, _, _) in self.oxm_fields() {
            let mut cur = f;
            while let Some(p) = cur.prerequisite() {
                if !self.meets(p) {
                    return Err(FieldError::BadPrerequisite(f));
                }
                cur = match p {
                    Prerequisite::OneOf(next, _) | Prerequisite::Present(next) => next,
                    Prerequisite::VlanTagged => Field::VlanVid,
                };
            }
        }
        Ok(())
    }
}

/// Byte-literal frames with every checksum filled from scratch, shared by the tests of
/// this module and of [`actions`](crate::actions).
#[cfg(test)]
pub(crate) mod test_frames {
    use crate::key::{extract, FlowKey, FrameLayout, L3Kind, L4Kind};
    use crate::wire::{
        Icmpv4Packet, Icmpv6Packet, Ipv4Packet, Ipv6Packet, MplsLabel, PseudoHeader, SctpPacket,
        TcpPacket, UdpPacket,
    };

    pub const DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
    pub const SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    pub const IP4_SRC: [u8; 4] = [198, 51, 100, 1];
    pub const IP4_DST: [u8; 4] = [203, 0, 113, 9];
    pub const IP6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    pub const IP6_DST: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    pub const ND_TARGET: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b];
    pub const PAYLOAD: &[u8] = b"flowlab!";

    pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    /// Ethernet DST <- SRC of `ethertype`, then `rest`.
    pub fn eth(ethertype: u16, rest: &[&[u8]]) -> Vec<u8> {
        let mut f = cat(&[&DST, &SRC, &ethertype.to_be_bytes()]);
        f.extend_from_slice(&cat(rest));
        f
    }

    /// IPv4 IP4_SRC -> IP4_DST, DSCP 46, ECN 1, TTL 64, DF, of `proto`, then `payload`.
    pub fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let t = total.to_be_bytes();
        #[rustfmt::skip]
        let mut h = vec![
            0x45, 0xb9, t[0], t[1], 0x12, 0x34, 0x40, 0x00,
            64, proto, 0, 0,
        ];
        h.extend_from_slice(&IP4_SRC);
        h.extend_from_slice(&IP4_DST);
        Ipv4Packet::new_unchecked(&mut h[..]).fill_checksum();
        h.extend_from_slice(payload);
        h
    }

    /// IPv6 IP6_SRC -> IP6_DST, DSCP 11, ECN 1, flow label 0x12345, hop limit 64.
    pub fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
        let l = (payload.len() as u16).to_be_bytes();
        let mut h = vec![0x62, 0xd1, 0x23, 0x45, l[0], l[1], next, 64];
        h.extend_from_slice(&IP6_SRC);
        h.extend_from_slice(&IP6_DST);
        h.extend_from_slice(payload);
        h
    }

    /// TCP 1234 -> 80, seq 1, SYN|ACK, then PAYLOAD (checksum left for `fill`).
    pub fn tcp() -> Vec<u8> {
        #[rustfmt::skip]
        let h: [u8; 20] = [
            0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0,
            0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0,
        ];
        cat(&[&h, PAYLOAD])
    }

    /// UDP 5353 -> 53 with PAYLOAD.
    pub fn udp() -> Vec<u8> {
        let len = (8 + PAYLOAD.len() as u16).to_be_bytes();
        cat(&[&[0x14, 0xe9, 0x00, 0x35, len[0], len[1], 0, 0], PAYLOAD])
    }

    /// SCTP 2905 -> 2906, tag 7, one DATA chunk.
    pub fn sctp() -> Vec<u8> {
        #[rustfmt::skip]
        let p: [u8; 28] = [
            0x0b, 0x59, 0x0b, 0x5a, 0, 0, 0, 7, 0, 0, 0, 0,
            // DATA: flags B|E, length 16, TSN 1, stream 0, seq 0, PPID 0.
            0x00, 0x03, 0x00, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        p.to_vec()
    }

    /// ICMPv4 destination unreachable, port unreachable.
    pub fn icmp4() -> Vec<u8> {
        cat(&[&[3, 3, 0, 0, 0, 0, 0, 0], PAYLOAD])
    }

    /// An ND message of `ty` (135 or 136) for ND_TARGET with `opts`.
    pub fn nd(ty: u8, opts: &[&[u8]]) -> Vec<u8> {
        let mut m = vec![ty, 0, 0, 0, if ty == 136 { 0x60 } else { 0 }, 0, 0, 0];
        m.extend_from_slice(&ND_TARGET);
        for o in opts {
            m.extend_from_slice(o);
        }
        m
    }

    pub const SLL: [u8; 8] = [1, 1, 0x02, 0, 0, 0, 0, 0x0a];
    pub const TLL: [u8; 8] = [2, 1, 0x02, 0, 0, 0, 0, 0x0b];
    pub const MTU: [u8; 8] = [5, 1, 0, 0, 0, 0, 0x05, 0xdc];

    /// ARP request 198.51.100.1 (SRC) asks for 203.0.113.9.
    #[rustfmt::skip]
    pub const ARP: [u8; 28] = [
        0, 1, 0x08, 0x00, 6, 4, 0, 1,
        0x02, 0, 0, 0, 0, 0x0a, 198, 51, 100, 1,
        0, 0, 0, 0, 0, 0, 203, 0, 113, 9,
    ];

    pub fn tcp4() -> Vec<u8> {
        filled(eth(0x0800, &[&ipv4(6, &tcp())]))
    }
    pub fn tcp4_vlan() -> Vec<u8> {
        // PCP 5, VID 0x123.
        filled(eth(0x8100, &[&[0xa1, 0x23, 0x08, 0x00], &ipv4(6, &tcp())]))
    }
    pub fn udp4() -> Vec<u8> {
        filled(eth(0x0800, &[&ipv4(17, &udp())]))
    }
    pub fn sctp4() -> Vec<u8> {
        filled(eth(0x0800, &[&ipv4(132, &sctp())]))
    }
    pub fn sctp6() -> Vec<u8> {
        filled(eth(0x86dd, &[&ipv6(132, &sctp())]))
    }
    pub fn icmp4_frame() -> Vec<u8> {
        filled(eth(0x0800, &[&ipv4(1, &icmp4())]))
    }
    pub fn arp() -> Vec<u8> {
        eth(0x0806, &[&ARP])
    }
    /// IPv6 with a Hop-by-Hop header (8 bytes of padding options), then TCP.
    pub fn tcp6_hop() -> Vec<u8> {
        let hop = [6u8, 0, 1, 4, 0, 0, 0, 0];
        filled(eth(0x86dd, &[&ipv6(0, &cat(&[&hop, &tcp()]))]))
    }
    pub fn udp6() -> Vec<u8> {
        filled(eth(0x86dd, &[&ipv6(17, &udp())]))
    }
    pub fn ns() -> Vec<u8> {
        filled(eth(0x86dd, &[&ipv6(58, &nd(135, &[&MTU, &SLL]))]))
    }
    pub fn na() -> Vec<u8> {
        filled(eth(0x86dd, &[&ipv6(58, &nd(136, &[&TLL]))]))
    }
    /// Two labels (0x12345 TC 5 TTL 40, then 0xabc TC 1 bottom TTL 30) over IPv4/UDP.
    pub fn mpls2() -> Vec<u8> {
        let mut ip = ipv4(17, &udp());
        fill_at(&mut ip, 0, true);
        eth(
            0x8847,
            &[&[0x12, 0x34, 0x5a, 0x28], &[0x00, 0xab, 0xc3, 0x1e], &ip],
        )
    }
    /// A PBB frame: I-TAG PCP 3, I-SID 0xabcdef, customer 02:..:0c <- 02:..:0d, IPv4/UDP.
    pub fn pbb() -> Vec<u8> {
        let mut ip = ipv4(17, &udp());
        fill_at(&mut ip, 0, true);
        let itag = [
            0x60, 0xab, 0xcd, 0xef, 2, 0, 0, 0, 0, 0x0c, 2, 0, 0, 0, 0, 0x0d, 8, 0,
        ];
        eth(0x88e7, &[&itag, &ip])
    }

    /// Every frame above, with a name.
    pub fn all() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("tcp4", tcp4()),
            ("tcp4_vlan", tcp4_vlan()),
            ("udp4", udp4()),
            ("sctp4", sctp4()),
            ("sctp6", sctp6()),
            ("icmp4", icmp4_frame()),
            ("arp", arp()),
            ("tcp6_hop", tcp6_hop()),
            ("udp6", udp6()),
            ("ns", ns()),
            ("na", na()),
            ("mpls2", mpls2()),
            ("pbb", pbb()),
        ]
    }

    /// Fills the transport checksum of `frame` from scratch (the IPv4 header checksum is
    /// filled by `ipv4`).
    pub fn filled(mut frame: Vec<u8>) -> Vec<u8> {
        let layout = extract(&frame, 0, &mut FlowKey::default());
        let l3 = usize::from(layout.l3_offset);
        fill_at(&mut frame, l3, layout.l3 == L3Kind::Ipv4);
        frame
    }

    /// The pseudo-header and transport range of the IP packet at `l3`.
    fn transport(frame: &[u8], l3: usize, v4: bool) -> Option<(PseudoHeader, u8, usize, usize)> {
        let mut key = FlowKey::default();
        // Parse the IP packet alone behind a fake Ethernet header.
        let et: &[u8] = if v4 { &[8, 0] } else { &[0x86, 0xdd] };
        let fake = cat(&[&[0; 12], et, frame.get(l3..)?]);
        let layout = extract(&fake, 0, &mut key);
        if layout.l4 == L4Kind::None || !layout.l4_complete {
            return None;
        }
        let l4 = l3 + usize::from(layout.l4_offset) - 14;
        let (ph, end) = if v4 {
            let ip = Ipv4Packet::new_checked(frame.get(l3..)?).ok()?;
            let ph = PseudoHeader::V4 {
                src: ip.src_addr(),
                dst: ip.dst_addr(),
            };
            (ph, l3 + usize::from(ip.total_len()))
        } else {
            let ip = Ipv6Packet::new_checked(frame.get(l3..)?).ok()?;
            let ph = PseudoHeader::V6 {
                src: ip.src_addr(),
                dst: ip.dst_addr(),
            };
            (ph, l3 + 40 + usize::from(ip.payload_len()))
        };
        Some((ph, key.ip_proto, l4, end.min(frame.len())))
    }

    fn fill_at(frame: &mut [u8], l3: usize, v4: bool) {
        let Some((ph, proto, l4, end)) = transport(frame, l3, v4) else {
            return;
        };
        let seg = &mut frame[l4..end];
        match proto {
            6 => TcpPacket::new_unchecked(seg).fill_checksum(&ph),
            17 => UdpPacket::new_unchecked(seg).fill_checksum(&ph),
            1 => Icmpv4Packet::new_unchecked(seg).fill_checksum(),
            58 => Icmpv6Packet::new_unchecked(seg).fill_checksum(&ph),
            132 => SctpPacket::new_unchecked(seg).fill_checksum(),
            _ => {}
        }
    }

    /// Checks every checksum of the frame from scratch: the IPv4 header (also under an
    /// MPLS stack or a PBB I-TAG) and TCP, UDP (0 = none), ICMPv4, ICMPv6 and SCTP.
    pub fn verify_checksums(frame: &[u8]) {
        let layout: FrameLayout = extract(frame, 0, &mut FlowKey::default());
        let mut l3 = usize::from(layout.l3_offset);
        let mut kind = layout.l3;
        if kind == L3Kind::Mpls {
            // Walk to the bottom of the stack; guess IP by its version nibble.
            while let Ok(m) = MplsLabel::new_checked(frame.get(l3..).unwrap_or(&[])) {
                l3 += 4;
                if m.bos() {
                    break;
                }
            }
            kind = match frame.get(l3).map(|b| b >> 4) {
                Some(4) => L3Kind::Ipv4,
                Some(6) => L3Kind::Ipv6,
                _ => return,
            };
        } else if kind == L3Kind::Pbb {
            l3 += 18;
            kind = match frame.get(l3 - 2..l3) {
                Some([8, 0]) => L3Kind::Ipv4,
                Some([0x86, 0xdd]) => L3Kind::Ipv6,
                _ => return,
            };
        }
        let v4 = match kind {
            L3Kind::Ipv4 => true,
            L3Kind::Ipv6 => false,
            _ => return,
        };
        if v4 {
            let Ok(ip) = Ipv4Packet::new_checked(&frame[l3..]) else {
                return;
            };
            assert!(ip.verify_checksum(), "ipv4 header checksum of {frame:02x?}");
        }
        let Some((ph, proto, l4, end)) = transport(frame, l3, v4) else {
            return;
        };
        let seg = &frame[l4..end];
        let ok = match proto {
            6 => TcpPacket::new_unchecked(seg).verify_checksum(&ph),
            17 => UdpPacket::new_unchecked(seg).verify_checksum(&ph),
            1 => Icmpv4Packet::new_unchecked(seg).verify_checksum(),
            58 => Icmpv6Packet::new_unchecked(seg).verify_checksum(&ph),
            132 => SctpPacket::new_unchecked(seg).verify_checksum(),
            _ => true,
        };
        assert!(ok, "protocol {proto} checksum of {frame:02x?}");
    }
}

#[cfg(test)]
mod tests {
    use super::test_frames::*;
    use super::*;
    use crate::key::extract;

    /// One field of one frame and its expected OXM bytes.
    fn cases() -> Vec<(Field, Vec<u8>, Vec<u8>)> {
        use Field::*;
        let b = |x: &[u8]| x.to_vec();
        vec![
            (InPort, tcp4(), b(&[0, 0, 0, 7])),
            (InPhyPort, tcp4(), b(&[0, 0, 0, 7])),
            (Metadata, tcp4(), b(&[1, 2, 3, 4, 5, 6, 7, 8])),
            (EthDst, tcp4(), b(&DST)),
            (EthSrc, tcp4(), b(&SRC)),
            (EthType, tcp4_vlan(), b(&[0x08, 0x00])),
            (VlanVid, tcp4_vlan(), b(&[0x11, 0x23])),
            (VlanVid, tcp4(), b(&[0, 0])),
            (VlanPcp, tcp4_vlan(), b(&[5])),
            (IpDscp, tcp4(), b(&[46])),
            (IpEcn, tcp4(), b(&[1])),
            (IpProto, tcp4(), b(&[6])),
            (Ipv4Src, tcp4(), b(&IP4_SRC)),
            (Ipv4Dst, tcp4(), b(&IP4_DST)),
            (TcpSrc, tcp4(), b(&[0x04, 0xd2])),
            (TcpDst, tcp4(), b(&[0, 80])),
            (UdpSrc, udp4(), b(&[0x14, 0xe9])),
            (UdpDst, udp4(), b(&[0, 53])),
            (SctpSrc, sctp4(), b(&[0x0b, 0x59])),
            (SctpDst, sctp4(), b(&[0x0b, 0x5a])),
            (Icmpv4Type, icmp4_frame(), b(&[3])),
            (Icmpv4Code, icmp4_frame(), b(&[3])),
            (ArpOp, arp(), b(&[0, 1])),
            (ArpSpa, arp(), b(&IP4_SRC)),
            (ArpTpa, arp(), b(&IP4_DST)),
            (ArpSha, arp(), b(&SRC)),
            (ArpTha, arp(), b(&[0; 6])),
            (Ipv6Src, udp6(), b(&IP6_SRC)),
            (Ipv6Dst, udp6(), b(&IP6_DST)),
            (Ipv6Flabel, udp6(), b(&[0, 1, 0x23, 0x45])),
            (Icmpv6Type, ns(), b(&[135])),
            (Icmpv6Code, ns(), b(&[0])),
            (Ipv6NdTarget, ns(), b(&ND_TARGET)),
            (Ipv6NdSll, ns(), b(&SRC)),
            (Ipv6NdTll, na(), b(&DST)),
            (MplsLabel, mpls2(), b(&[0, 1, 0x23, 0x45])),
            (MplsTc, mpls2(), b(&[5])),
            (MplsBos, mpls2(), b(&[0])),
            (PbbIsid, pbb(), b(&[0xab, 0xcd, 0xef])),
            (TunnelId, tcp4(), b(&[0, 0, 0, 0, 0, 0, 0x12, 0x34])),
            (Ipv6Exthdr, tcp6_hop(), b(&[0, 0x40])),
            (TcpFlags, tcp4(), b(&[0, 0x12])),
        ]
    }

    fn key_of(frame: &[u8]) -> FlowKey {
        let mut k = FlowKey::default();
        extract(frame, 7, &mut k);
        // Not from the frame: set as a tunnel port and write_metadata would.
        k.metadata = 0x0102_0304_0506_0708;
        k.tunnel_id = 0x1234;
        k
    }

    /// The value with the lowest significant bit of the field flipped.
    fn flip_low(field: Field, value: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let bits = field.value_bits();
        let i = bits.iter().rposition(|&b| b != 0).unwrap();
        let bit = bits[i] & bits[i].wrapping_neg();
        let mut v = value.to_vec();
        v[i] ^= bit;
        let mut mask = bits.to_vec();
        mask[i] &= !bit;
        (v, mask)
    }

    #[test]
    fn every_field_matches_real_frames() {
        let mut seen = std::collections::HashSet::new();
        for (field, frame, value) in cases() {
            seen.insert(field);
            let what = format!("{field} on {frame:02x?}");
            let k = key_of(&frame);
            assert_eq!(&*k.get_field(field), &value[..], "get_field {what}");

            let mut m = Match::catchall();
            m.set_field(field, &value, None).unwrap();
            assert!(m.matches(&k), "exact {what}");
            if field == Field::InPhyPort {
                assert_eq!(m.field(field), None);
                assert_eq!(
                    m.field(Field::InPort).map(|(v, _)| v.to_vec()),
                    Some(value.clone())
                );
            } else {
                let (v, mask) = m.field(field).unwrap();
                assert_eq!((&*v, mask), (&value[..], None), "{what}");
            }

            // One significant bit off: no match.
            let (other, mask) = flip_low(field, &value);
            let mut m2 = Match::catchall();
            m2.set_field(field, &other, None).unwrap();
            assert!(!m2.matches(&k), "flipped {what}");

            // The same bit masked out: a match again.
            if field.maskable() {
                let masked: Vec<u8> = other.iter().zip(&mask).map(|(a, b)| a & b).collect();
                let mut m3 = Match::catchall();
                m3.set_field(field, &masked, Some(&mask)).unwrap();
                assert!(m3.matches(&k), "masked {what}");
                let (v, m) = m3.field(field).unwrap();
                assert_eq!((&*v, m.as_deref()), (&masked[..], Some(&mask[..])));
                // Value bits outside the mask are refused.
                let outside: Vec<u8> = other.iter().zip(&value).map(|(a, b)| a | b).collect();
                assert_eq!(
                    m3.set_field(field, &outside, Some(&mask)),
                    Err(FieldError::BadWildcards(field))
                );
                // An all-zero mask wildcards the field.
                let zero = vec![0; field.len()];
                m3.set_field(field, &zero, Some(&zero)).unwrap();
                assert!(m3.is_catchall(), "{what}");
            } else {
                assert_eq!(
                    m2.set_field(field, &other, Some(&mask)),
                    Err(FieldError::BadMask(field))
                );
            }

            // The key side: set and read back.
            let mut k2 = k;
            k2.set_field(field, &other).unwrap();
            assert_eq!(&*k2.get_field(field), &other[..]);
            assert!(!m.matches(&k2), "key set_field {what}");
        }
        assert_eq!(seen.len(), Field::ALL.len(), "a case for every field");
    }

    #[test]
    fn numbering_lengths_and_bits() {
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(Field::from_oxm(f.oxm_field()), Some(*f));
            assert_eq!(f.value_bits().len(), f.len(), "{f}");
            if i < 40 {
                assert_eq!(
                    usize::from(f.oxm_field()),
                    i,
                    "{f} numbered as OpenFlow 1.3"
                );
            }
        }
        assert_eq!(Field::from_oxm(40), None);
        assert_eq!(Field::from_oxm(42), Some(Field::TcpFlags));
        assert_eq!(Field::from_oxm(255), None);
        assert_eq!(Field::Ipv4Src.to_string(), "ipv4_src");

        // The significant bits are the classifier's: an exact classifier match on an
        // all-ones key keeps exactly `value_bits` of every field.
        let ones = FlowKey::from_words([u64::MAX; crate::key::FLOW_KEY_WORDS]);
        let exact = Match::exact(&ones);
        for f in Field::ALL {
            assert_eq!(read_slot(exact.mask(), f), f.value_bits(), "{f}");
        }
    }

    #[test]
    fn same_match_as_the_classifier_builders() {
        let mut m = Match::catchall();
        m.set_field(Field::EthType, &[8, 0], None).unwrap();
        m.set_field(Field::IpProto, &[6], None).unwrap();
        m.set_field(Field::Ipv4Dst, &[192, 0, 2, 0], Some(&[255, 255, 255, 0]))
            .unwrap();
        m.set_field(Field::TcpDst, &[0, 80], None).unwrap();
        m.set_field(Field::VlanVid, &[0x10, 0x00], Some(&[0x10, 0x00]))
            .unwrap();
        let built = Match::catchall()
            .eth_type(0x0800)
            .ip_proto(6)
            .ipv4_dst_prefix(0xc000_0200, 24)
            .tp_dst(80)
            .vlan_vid_masked(0x1000, 0x1000);
        assert_eq!(m, built);
        m.clear_field(Field::TcpDst);
        assert_eq!(m, built.tp_dst_masked(0, 0));
    }

    #[test]
    fn bad_values_lengths_and_masks() {
        use Field::*;
        let mut m = Match::catchall();
        let bad_len = m.set_field(Ipv4Src, &[1, 2, 3], None);
        assert_eq!(
            bad_len,
            Err(FieldError::BadLen {
                field: Ipv4Src,
                expected: 4,
                got: 3
            })
        );
        for (f, v) in [
            (VlanVid, &[0x20, 0x00][..]),
            (VlanPcp, &[8]),
            (IpDscp, &[0x40]),
            (IpEcn, &[4]),
            (Ipv6Flabel, &[0, 0x10, 0, 0]),
            (MplsLabel, &[0, 0x10, 0, 0]),
            (MplsTc, &[8]),
            (MplsBos, &[2]),
            (Ipv6Exthdr, &[0x02, 0]),
            (TcpFlags, &[0x10, 0]),
        ] {
            assert_eq!(m.set_field(f, v, None), Err(FieldError::BadValue(f)), "{f}");
            assert_eq!(FieldValue::new(f, v), Err(FieldError::BadValue(f)));
        }
        // Mask bits outside the field, and a mask of the wrong length.
        assert_eq!(
            m.set_field(VlanVid, &[0x10, 0], Some(&[0xf0, 0])),
            Err(FieldError::BadMask(VlanVid))
        );
        assert!(matches!(
            m.set_field(EthDst, &[0; 6], Some(&[0; 5])),
            Err(FieldError::BadLen { .. })
        ));
        // Refusals leave the match alone.
        assert!(m.is_catchall());
        // The largest values that fit are fine.
        for (f, v) in [
            (VlanVid, &[0x1f, 0xff][..]),
            (Ipv6Flabel, &[0, 0x0f, 0xff, 0xff]),
            (PbbIsid, &[0xff, 0xff, 0xff]),
            (Ipv6Exthdr, &[0x01, 0xff]),
        ] {
            m.set_field(f, v, None).unwrap();
            assert_eq!(m.field(f).map(|(v, _)| v.to_vec()), Some(v.to_vec()));
        }
        assert_eq!(
            FieldValue::from_uint(MplsLabel, 0x10_0000),
            Err(FieldError::BadValue(MplsLabel))
        );
        assert_eq!(
            FieldValue::from_uint(PbbIsid, 0x1ab_cdef),
            Err(FieldError::BadValue(PbbIsid))
        );
        let v = FieldValue::from_uint(PbbIsid, 0xab_cdef).unwrap();
        assert_eq!(
            (v.value(), v.to_uint()),
            (&[0xab, 0xcd, 0xef][..], 0xab_cdef)
        );
    }

    #[test]
    fn vlan_vid_encodings() {
        // OFPVID_NONE: untagged only; OFPVID_PRESENT/OFPVID_PRESENT: any tag.
        let (tagged, untagged) = (key_of(&tcp4_vlan()), key_of(&tcp4()));
        let mut none = Match::catchall();
        none.set_field(Field::VlanVid, &[0, 0], None).unwrap();
        assert!(none.matches(&untagged) && !none.matches(&tagged));
        let mut any = Match::catchall();
        any.set_field(Field::VlanVid, &[0x10, 0], Some(&[0x10, 0]))
            .unwrap();
        assert!(any.matches(&tagged) && !any.matches(&untagged));
        let mut one = Match::catchall();
        one.set_field(Field::VlanVid, &[0x11, 0x23], None).unwrap();
        assert!(one.matches(&tagged) && !one.matches(&untagged));
        // VLAN_PCP needs a tag.
        one.set_field(Field::VlanPcp, &[5], None).unwrap();
        assert_eq!(one.check_prerequisites(), Ok(()));
        none.set_field(Field::VlanPcp, &[5], None).unwrap();
        assert_eq!(
            none.check_prerequisites(),
            Err(FieldError::BadPrerequisite(Field::VlanPcp))
        );
    }

    #[test]
    fn shared_slots_and_oxm_lists() {
        let mut m = Match::catchall();
        m.set_field(Field::EthType, &[8, 0], None).unwrap();
        m.set_field(Field::IpProto, &[17], None).unwrap();
        m.set_field(Field::UdpDst, &[0, 53], None).unwrap();
        assert!(m.field(Field::TcpDst).is_none());
        assert!(m.field(Field::SctpDst).is_none());
        assert_eq!(
            m.field(Field::UdpDst).map(|(v, _)| v.to_vec()),
            Some(vec![0, 53])
        );
        let list: Vec<_> = m
            .oxm_fields()
            .map(|(f, v, mk)| (f, v.to_vec(), mk))
            .collect();
        assert_eq!(
            list,
            [
                (Field::EthType, vec![8, 0], None),
                (Field::IpProto, vec![17], None),
                (Field::UdpDst, vec![0, 53], None)
            ]
        );
        assert_eq!(m.check_prerequisites(), Ok(()));
        assert!(m.matches(&key_of(&udp4())));
        assert!(!m.matches(&key_of(&tcp4())));

        // ICMPv6 is named after IP_PROTO 58.
        let mut m = Match::catchall();
        for (f, v) in [
            (Field::EthType, &[0x86, 0xdd][..]),
            (Field::IpProto, &[58]),
            (Field::Icmpv6Type, &[135]),
            (Field::Ipv6NdTarget, &ND_TARGET),
            (Field::Ipv6NdSll, &SRC),
        ] {
            m.set_field(f, v, None).unwrap();
        }
        assert_eq!(m.check_prerequisites(), Ok(()));
        assert!(m.matches(&key_of(&ns())));
        let names: Vec<_> = m.oxm_fields().map(|(f, _, _)| f).collect();
        assert_eq!(
            names,
            [
                Field::EthType,
                Field::IpProto,
                Field::Icmpv6Type,
                Field::Ipv6NdTarget,
                Field::Ipv6NdSll
            ]
        );
        // Rebuilding a match from its OXM list gives the same match.
        let mut again = Match::catchall();
        for (f, v, mk) in m.oxm_fields() {
            again.set_field(f, &v, mk.as_deref()).unwrap();
        }
        assert_eq!(again, m);
    }

    #[test]
    fn prerequisites() {
        let mut m = Match::catchall();
        m.set_field(Field::TcpSrc, &[0, 80], None).unwrap();
        assert_eq!(
            m.check_prerequisites(),
            Err(FieldError::BadPrerequisite(Field::TcpSrc))
        );
        m.set_field(Field::IpProto, &[6], None).unwrap();
        // IP_PROTO needs ETH_TYPE in turn.
        assert_eq!(
            m.check_prerequisites(),
            Err(FieldError::BadPrerequisite(Field::IpProto))
        );
        m.set_field(Field::EthType, &[0x08, 0x06], None).unwrap();
        assert!(m.check_prerequisites().is_err());
        m.set_field(Field::EthType, &[0x86, 0xdd], None).unwrap();
        assert_eq!(m.check_prerequisites(), Ok(()));
        // A masked prerequisite is not exact.
        let mut m = Match::catchall();
        m.set_field(Field::Ipv4Src, &[10, 0, 0, 0], Some(&[255, 0, 0, 0]))
            .unwrap();
        assert!(m.check_prerequisites().is_err());
        m.set_field(Field::EthType, &[8, 0], None).unwrap();
        assert_eq!(m.check_prerequisites(), Ok(()));
        assert_eq!(
            Field::InPhyPort.prerequisite(),
            Some(Prerequisite::Present(Field::InPort))
        );
        assert_eq!(Field::EthDst.prerequisite(), None);
    }

    #[test]
    fn in_phy_port_is_in_port() {
        let mut m = Match::catchall();
        m.set_field(Field::InPort, &[0, 0, 0, 7], None).unwrap();
        m.set_field(Field::InPhyPort, &[0, 0, 0, 7], None).unwrap();
        assert_eq!(
            m.set_field(Field::InPhyPort, &[0, 0, 0, 8], None),
            Err(FieldError::Conflict(Field::InPhyPort))
        );
        assert!(m.matches(&key_of(&tcp4())));
        assert_eq!(m.oxm_fields().count(), 1);
    }

    #[test]
    fn settable_and_maskable_follow_the_spec() {
        let settable: Vec<_> = Field::ALL.iter().filter(|f| !f.settable()).collect();
        assert_eq!(
            settable,
            [
                &Field::InPort,
                &Field::InPhyPort,
                &Field::Metadata,
                &Field::Ipv6Exthdr,
                &Field::TcpFlags
            ]
        );
        assert_eq!(Field::ALL.iter().filter(|f| f.maskable()).count(), 17);
        assert!(!Field::TcpSrc.maskable() && Field::Ipv6Flabel.maskable());
    }

    #[test]
    fn test_frames_have_valid_checksums() {
        for (name, f) in all() {
            verify_checksums(&f);
            // And a corrupted transport byte is noticed.
            let layout = extract(&f, 0, &mut FlowKey::default());
            if layout.l4_complete && layout.l3 != crate::key::L3Kind::Arp {
                let mut bad = f.clone();
                let at = usize::from(layout.l4_offset) + 1;
                bad[at] ^= 0x40;
                let r = std::panic::catch_unwind(|| verify_checksums(&bad));
                assert!(r.is_err(), "{name}: corruption not seen");
            }
        }
    }
}
