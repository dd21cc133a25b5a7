//! Zero-copy views over frame bytes, one module per protocol.
//!
//! Every protocol is read and written on two levels:
//!
//! * a typed **view** (`EthernetFrame<T>`, `Ipv4Packet<T>`, ...) over any `T: AsRef<[u8]>`
//!   (`&[u8]`, `&mut [u8]`, `Vec<u8>`). Getters live in `impl<T: AsRef<[u8]>>`, setters in
//!   `impl<T: AsRef<[u8]> + AsMut<[u8]>>`. A view copies nothing: it is the buffer plus the
//!   knowledge of where each field sits (a private `mod field` per header; no offset is
//!   written anywhere else).
//! * a small **`Repr`** value (`EthernetRepr`, `ArpRepr`, `Ipv4Repr`, `UdpRepr`, ...) that
//!   `parse`s a view strictly (versions, lengths, checksums) and `emit`s itself into one;
//!   `buffer_len` says how many bytes `emit` needs.
//!
//! # Panic contract
//!
//! `Xxx::new_unchecked` wraps any buffer and never fails; `Xxx::check_len` verifies that the
//! buffer holds the whole header, options included as far as the header's own length field
//! says (IPv4 IHL, TCP data offset, ...). **After `check_len` succeeds — which is what
//! `new_checked` does — no getter and no setter of the view panics**, whatever the bytes
//! hold. Untrusted input goes through `new_checked`.
//!
//! Length fields that describe the *payload* (IPv4 total length, IPv6 payload length, UDP
//! length) are not trusted by the views: `payload()` is clamped to the bytes that are really
//! there, so a truncated capture or an Ethernet frame with trailing padding both read
//! safely. The strict checks (payload length within the buffer, checksums) belong to
//! `Repr::parse`, which reports them as [`Error`].
//!
//! Protocol numbers never fail to parse: [`EtherType`], [`IpProtocol`] and the message-type
//! enums carry an `Unknown(..)` variant. Build them with `From<u8>`/`From<u16>`, so that a
//! known number always maps to its named variant.

use core::fmt;

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod lldp;
pub mod mpls;
pub mod pbb;
pub mod sctp;
pub mod tcp;
pub mod udp;
pub mod vlan;

pub use self::arp::{ArpOperation, ArpPacket, ArpRepr};
pub use self::checksum::PseudoHeader;
pub use self::ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
pub use self::icmpv4::{Icmpv4Message, Icmpv4Packet, Icmpv4Repr};
pub use self::icmpv6::{
    Icmpv6Message, Icmpv6Packet, Icmpv6Repr, NdOption, NdOptionIter, NdOptionType,
};
pub use self::ipv4::{Ipv4Packet, Ipv4Repr};
pub use self::ipv6::{IpAuthHeader, Ipv6ExtHeader, Ipv6FragmentHeader, Ipv6Packet, Ipv6Repr};
pub use self::lldp::{LldpId, LldpRepr, LldpTlv, LldpTlvIter, LldpTlvType};
pub use self::mpls::{MplsLabel, MplsRepr};
pub use self::pbb::{PbbITag, PbbRepr};
pub use self::sctp::SctpPacket;
pub use self::tcp::{TcpPacket, TcpRepr};
pub use self::udp::{UdpPacket, UdpRepr};
pub use self::vlan::{VlanRepr, VlanTag};

/// What went wrong reading or writing a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the header (or the payload a length field announces) does.
    #[error("truncated")]
    Truncated,
    /// A field holds a value that makes the header meaningless (a length below the minimum,
    /// a wrong version, an option of length zero).
    #[error("malformed")]
    Malformed,
    /// The checksum does not verify.
    #[error("bad checksum")]
    Checksum,
    /// Well-formed, but not something this crate represents (an ARP for a non-Ethernet
    /// hardware type, an ICMP message without a `Repr` variant).
    #[error("unsupported")]
    Unsupported,
    /// The output buffer is too small for `emit`.
    #[error("buffer too small")]
    BufferTooSmall,
}

/// Result of the wire layer.
pub type Result<T> = core::result::Result<T, Error>;

/// A fixed field: a byte range inside a header.
pub(crate) type Field = core::ops::Range<usize>;
/// The variable tail of a header, from a fixed offset to its end.
pub(crate) type Rest = core::ops::RangeFrom<usize>;

/// Reads a big-endian `u16` at `field`. Panics only if `field` lies outside `data`, which the
/// views rule out with `check_len`.
#[inline(always)]
pub(crate) fn get_u16(data: &[u8], field: Field) -> u16 {
    u16::from_be_bytes([data[field.start], data[field.start + 1]])
}

/// Reads a big-endian `u32` at `field`.
#[inline(always)]
pub(crate) fn get_u32(data: &[u8], field: Field) -> u32 {
    let s = field.start;
    u32::from_be_bytes([data[s], data[s + 1], data[s + 2], data[s + 3]])
}

/// Reads a fixed-size byte array at `field` (`N` must equal the field's length).
#[inline(always)]
pub(crate) fn get_array<const N: usize>(data: &[u8], field: Field) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&data[field]);
    out
}

/// Writes a big-endian `u16` at `field`.
#[inline(always)]
pub(crate) fn set_u16(data: &mut [u8], field: Field, value: u16) {
    data[field].copy_from_slice(&value.to_be_bytes());
}

/// Writes a big-endian `u32` at `field`.
#[inline(always)]
pub(crate) fn set_u32(data: &mut [u8], field: Field, value: u32) {
    data[field].copy_from_slice(&value.to_be_bytes());
}

/// Declares a protocol-number enum that never fails to convert: every known number has a
/// named variant, every other one lands in `Unknown(..)`.
macro_rules! protocol_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident($repr:ty) {
            $( $(#[$vattr:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vattr])* $variant, )+
            /// A number without a name here.
            Unknown($repr),
        }

        impl ::core::convert::From<$repr> for $name {
            #[inline]
            fn from(value: $repr) -> Self {
                match value {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl ::core::convert::From<$name> for $repr {
            #[inline]
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
pub(crate) use protocol_enum;

protocol_enum! {
    /// An IP protocol number (IPv4 `protocol`, IPv6 `next header`).
    pub enum IpProtocol(u8) {
        /// IPv6 Hop-by-Hop Options.
        HopByHop = 0,
        /// ICMP for IPv4.
        Icmp = 1,
        /// IGMP.
        Igmp = 2,
        /// TCP.
        Tcp = 6,
        /// UDP.
        Udp = 17,
        /// IPv6 Routing header.
        Ipv6Route = 43,
        /// IPv6 Fragment header.
        Ipv6Frag = 44,
        /// GRE.
        Gre = 47,
        /// IPsec Encapsulating Security Payload.
        Esp = 50,
        /// IPsec Authentication Header.
        Ah = 51,
        /// ICMP for IPv6.
        Icmpv6 = 58,
        /// IPv6 No Next Header.
        Ipv6NoNxt = 59,
        /// IPv6 Destination Options.
        Ipv6Opts = 60,
        /// SCTP.
        Sctp = 132,
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpProtocol::Unknown(n) => write!(f, "0x{n:02x}"),
            known => write!(f, "{known:?}"),
        }
    }
}

/// Runs every view's `new_checked` over `bytes` and, where it succeeds, every getter and
/// `Repr::parse`: the panic contract, exercised. For the fuzz target and property tests;
/// not part of the API.
#[doc(hidden)]
pub fn exercise_views(bytes: &[u8]) {
    use core::hint::black_box;
    if let Ok(p) = EthernetFrame::new_checked(bytes) {
        black_box((p.src_addr(), p.dst_addr(), p.ethertype(), p.payload()));
        black_box(EthernetRepr::parse(&p).ok());
    }
    black_box(ethernet::snap_ethertype(bytes));
    if let Ok(p) = VlanTag::new_checked(bytes) {
        black_box((
            p.tci(),
            p.pcp(),
            p.dei(),
            p.vid(),
            p.ethertype(),
            p.payload(),
        ));
        black_box(VlanRepr::parse(&p).ok());
    }
    if let Ok(p) = MplsLabel::new_checked(bytes) {
        black_box((p.label(), p.tc(), p.bos(), p.ttl(), p.payload()));
        black_box(MplsRepr::parse(&p).ok());
    }
    if let Ok(p) = PbbITag::new_checked(bytes) {
        black_box((
            p.pcp(),
            p.dei(),
            p.uca(),
            p.isid(),
            p.customer_dst(),
            p.customer_src(),
        ));
        black_box((p.ethertype(), p.payload(), PbbRepr::parse(&p).ok()));
    }
    if let Ok(p) = ArpPacket::new_checked(bytes) {
        black_box((
            p.hardware_type(),
            p.protocol_type(),
            p.hardware_len(),
            p.protocol_len(),
        ));
        black_box((p.operation(), p.is_ethernet_ipv4()));
        black_box((p.source_hardware_addr(), p.source_protocol_addr()));
        black_box((p.target_hardware_addr(), p.target_protocol_addr()));
        black_box(ArpRepr::parse(&p).ok());
    }
    if let Ok(p) = Ipv4Packet::new_checked(bytes) {
        black_box((
            p.version(),
            p.header_len(),
            p.dscp(),
            p.ecn(),
            p.total_len(),
            p.ident(),
        ));
        black_box((
            p.dont_frag(),
            p.more_frags(),
            p.frag_offset(),
            p.is_fragment(),
            p.ttl(),
        ));
        black_box((p.next_header(), p.checksum(), p.src_addr(), p.dst_addr()));
        black_box((p.verify_checksum(), p.options(), p.payload()));
        black_box(Ipv4Repr::parse(&p).ok());
    }
    if let Ok(p) = Ipv6Packet::new_checked(bytes) {
        black_box((
            p.version(),
            p.traffic_class(),
            p.dscp(),
            p.ecn(),
            p.flow_label(),
        ));
        black_box((
            p.payload_len(),
            p.next_header(),
            p.hop_limit(),
            p.src_addr(),
            p.dst_addr(),
        ));
        black_box((p.payload(), Ipv6Repr::parse(&p).ok()));
    }
    if let Ok(p) = Ipv6ExtHeader::new_checked(bytes) {
        black_box((p.next_header(), p.header_len(), p.data()));
    }
    if let Ok(p) = Ipv6FragmentHeader::new_checked(bytes) {
        black_box((p.next_header(), p.frag_offset(), p.more_frags(), p.ident()));
    }
    if let Ok(p) = IpAuthHeader::new_checked(bytes) {
        black_box((
            p.next_header(),
            p.header_len(),
            p.spi(),
            p.seq_number(),
            p.icv(),
        ));
    }
    let ph = PseudoHeader::V4 {
        src: core::net::Ipv4Addr::LOCALHOST,
        dst: core::net::Ipv4Addr::BROADCAST,
    };
    if let Ok(p) = TcpPacket::new_checked(bytes) {
        black_box((
            p.src_port(),
            p.dst_port(),
            p.seq_number(),
            p.ack_number(),
            p.header_len(),
        ));
        black_box((
            p.flags(),
            p.fin(),
            p.syn(),
            p.rst(),
            p.psh(),
            p.ack(),
            p.urg(),
        ));
        black_box((
            p.window_len(),
            p.checksum(),
            p.urgent_at(),
            p.options(),
            p.payload(),
        ));
        black_box((p.verify_checksum(&ph), TcpRepr::parse(&p, &ph).ok()));
    }
    if let Ok(p) = UdpPacket::new_checked(bytes) {
        black_box((
            p.src_port(),
            p.dst_port(),
            p.len(),
            p.is_empty(),
            p.checksum(),
        ));
        black_box((
            p.payload(),
            p.verify_checksum(&ph),
            UdpRepr::parse(&p, &ph).ok(),
        ));
    }
    if let Ok(p) = SctpPacket::new_checked(bytes) {
        black_box((
            p.src_port(),
            p.dst_port(),
            p.verification_tag(),
            p.checksum(),
            p.chunks(),
        ));
    }
    if let Ok(p) = Icmpv4Packet::new_checked(bytes) {
        black_box((
            p.msg_type(),
            p.msg_code(),
            p.checksum(),
            p.echo_ident(),
            p.echo_seq_no(),
        ));
        black_box((p.data(), p.verify_checksum(), Icmpv4Repr::parse(&p).ok()));
    }
    if let Ok(p) = Icmpv6Packet::new_checked(bytes) {
        black_box((p.msg_type(), p.msg_code(), p.checksum(), p.header_len()));
        black_box((
            p.check_message_len().ok(),
            p.echo_ident(),
            p.echo_seq_no(),
            p.neighbor_flags(),
        ));
        black_box((
            p.router_advert(),
            p.target_addr(),
            p.redirect_dest(),
            p.payload(),
        ));
        for o in p.nd_options().flatten() {
            black_box((
                o.option_type(),
                o.total_len(),
                o.data(),
                o.link_layer_addr(),
            ));
        }
        let ph6 = PseudoHeader::V6 {
            src: std::net::Ipv6Addr::LOCALHOST,
            dst: std::net::Ipv6Addr::UNSPECIFIED,
        };
        black_box((p.verify_checksum(&ph6), Icmpv6Repr::parse(&p, &ph6).ok()));
    }
    for t in LldpTlvIter::new(bytes).flatten() {
        black_box((t.tlv_type(), t.value_len(), t.value(), t.id(), t.ttl()));
    }
    black_box(LldpRepr::parse(bytes).ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_numbers_round_trip() {
        for n in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(n)), n);
        }
        assert_eq!(IpProtocol::from(6), IpProtocol::Tcp);
        assert_eq!(IpProtocol::from(200), IpProtocol::Unknown(200));
        assert_eq!(IpProtocol::Sctp.to_string(), "Sctp");
        assert_eq!(IpProtocol::Unknown(0xfd).to_string(), "0xfd");
    }

    #[test]
    fn byte_helpers() {
        let mut b = [0u8; 8];
        set_u16(&mut b, 1..3, 0xabcd);
        set_u32(&mut b, 4..8, 0x0102_0304);
        assert_eq!(b, [0, 0xab, 0xcd, 0, 1, 2, 3, 4]);
        assert_eq!(get_u16(&b, 1..3), 0xabcd);
        assert_eq!(get_u32(&b, 4..8), 0x0102_0304);
        assert_eq!(get_array::<3>(&b, 5..8), [2, 3, 4]);
    }
}
