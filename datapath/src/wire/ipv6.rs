//! IPv6 (RFC 8200) fixed headers and extension headers.
//!
//! Three extension header views: [`Ipv6ExtHeader`] for the headers whose length counts
//! 8-octet units beyond the first (Hop-by-Hop Options, Routing, Destination Options),
//! [`Ipv6FragmentHeader`] (fixed 8 bytes) and [`IpAuthHeader`] (RFC 4302, whose length
//! counts 4-octet units beyond the first two). ESP is not walkable: what follows it is
//! encrypted.

use core::net::Ipv6Addr;

use super::{get_array, get_u16, get_u32, set_u16, set_u32, Error, IpProtocol, Result};

mod field {
    use crate::wire::Field;

    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// Offset of the next-header field of the fixed header.
pub const NEXT_HEADER_OFFSET: usize = field::NXT_HDR;

const FLOW_LABEL_MASK: u32 = 0x000f_ffff;

/// A view of an IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the 40-byte fixed header. The payload length field is not
    /// checked here (see [`payload`](Self::payload)).
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    fn ver_tc_flow(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::VER_TC_FLOW)
    }

    /// Version (6 for IPv6).
    #[inline]
    pub fn version(&self) -> u8 {
        (self.ver_tc_flow() >> 28) as u8
    }

    /// Traffic class (DSCP and ECN).
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        (self.ver_tc_flow() >> 20) as u8
    }

    /// DSCP (high 6 bits of the traffic class).
    #[inline]
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// ECN (low 2 bits of the traffic class).
    #[inline]
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x03
    }

    /// Flow label (20 bits).
    #[inline]
    pub fn flow_label(&self) -> u32 {
        self.ver_tc_flow() & FLOW_LABEL_MASK
    }

    /// Payload length field (extension headers included), as sent.
    #[inline]
    pub fn payload_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Next header: the first extension header or the upper-layer protocol.
    #[inline]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// Hop limit.
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(get_array::<16>(self.buffer.as_ref(), field::SRC_ADDR))
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(get_array::<16>(self.buffer.as_ref(), field::DST_ADDR))
    }

    /// The payload (extension headers included), as far as both the payload length field
    /// and the buffer reach.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let range = self.payload_range();
        &self.buffer.as_ref()[range]
    }

    #[inline]
    fn payload_range(&self) -> core::ops::Range<usize> {
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(self.buffer.as_ref().len());
        HEADER_LEN..end
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    #[inline]
    fn set_ver_tc_flow(&mut self, mask: u32, bits: u32) {
        let v = self.ver_tc_flow();
        set_u32(
            self.buffer.as_mut(),
            field::VER_TC_FLOW,
            (v & !mask) | (bits & mask),
        );
    }

    /// Sets the version.
    #[inline]
    pub fn set_version(&mut self, value: u8) {
        self.set_ver_tc_flow(0xf000_0000, u32::from(value) << 28);
    }

    /// Sets the traffic class.
    #[inline]
    pub fn set_traffic_class(&mut self, value: u8) {
        self.set_ver_tc_flow(0x0ff0_0000, u32::from(value) << 20);
    }

    /// Sets the DSCP (low 6 bits of `value`), keeping the ECN.
    #[inline]
    pub fn set_dscp(&mut self, value: u8) {
        let tc = (self.traffic_class() & 0x03) | (value << 2);
        self.set_traffic_class(tc);
    }

    /// Sets the ECN (low 2 bits of `value`), keeping the DSCP.
    #[inline]
    pub fn set_ecn(&mut self, value: u8) {
        let tc = (self.traffic_class() & 0xfc) | (value & 0x03);
        self.set_traffic_class(tc);
    }

    /// Sets the flow label (low 20 bits of `value`).
    #[inline]
    pub fn set_flow_label(&mut self, value: u32) {
        self.set_ver_tc_flow(FLOW_LABEL_MASK, value);
    }

    /// Sets the payload length field.
    #[inline]
    pub fn set_payload_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH, value);
    }

    /// Sets the next header.
    #[inline]
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::NXT_HDR] = value.into();
    }

    /// Sets the hop limit.
    #[inline]
    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = value;
    }

    /// Sets the source address.
    #[inline]
    pub fn set_src_addr(&mut self, value: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    /// Sets the destination address.
    #[inline]
    pub fn set_dst_addr(&mut self, value: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }

    /// The payload, mutable (same bounds as [`payload`](Ipv6Packet::payload)).
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.buffer.as_mut()[range]
    }
}

/// An IPv6 fixed header as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header.
    pub next_header: IpProtocol,
    /// Payload length (extension headers included).
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Reads the fixed header strictly: version 6, payload within the buffer.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Result<Ipv6Repr> {
        p.check_len()?;
        if p.version() != 6 {
            return Err(Error::Malformed);
        }
        if HEADER_LEN + usize::from(p.payload_len()) > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(Ipv6Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: usize::from(p.payload_len()),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
        })
    }

    /// Bytes of header [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header; `Malformed` if the payload length or flow label overflow.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv6Packet<T>) -> Result<()> {
        let len = u16::try_from(self.payload_len).map_err(|_| Error::Malformed)?;
        if self.flow_label > FLOW_LABEL_MASK {
            return Err(Error::Malformed);
        }
        p.check_len().map_err(|_| Error::BufferTooSmall)?;
        set_u32(
            p.buffer.as_mut(),
            field::VER_TC_FLOW,
            (6 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label,
        );
        p.set_payload_len(len);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

mod ext_field {
    use crate::wire::Field;

    pub const NXT_HDR: usize = 0;
    pub const LENGTH: usize = 1;
    pub const DATA_START: usize = 2;
    /// The fragment header's fields.
    pub const FRAG_OFF_M: Field = 2..4;
    pub const FRAG_IDENT: Field = 4..8;
    pub const FRAG_END: usize = FRAG_IDENT.end;
    /// The authentication header's fields.
    pub const AH_SPI: Field = 4..8;
    pub const AH_SEQ: Field = 8..12;
    pub const AH_END: usize = AH_SEQ.end;
}

/// Smallest extension header: next header, length, 6 bytes of options or data.
pub const EXT_HEADER_LEN: usize = 8;

/// A view of a Hop-by-Hop Options, Routing or Destination Options header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6ExtHeader<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6ExtHeader { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Ok if the buffer holds the whole header as its length field says.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < EXT_HEADER_LEN || len < self.header_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    #[inline]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[ext_field::NXT_HDR])
    }

    /// Length of this header in bytes: (length field + 1) × 8.
    #[inline]
    pub fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[ext_field::LENGTH]) + 1) * 8
    }

    /// The options or routing data after the two first bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[ext_field::DATA_START..self.header_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6ExtHeader<T> {
    /// Sets the next header.
    #[inline]
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[ext_field::NXT_HDR] = value.into();
    }

    /// Sets the length in bytes (a multiple of 8, from 8 to 2048).
    #[inline]
    pub fn set_header_len(&mut self, value: usize) {
        self.buffer.as_mut()[ext_field::LENGTH] = (value / 8).saturating_sub(1).min(255) as u8;
    }

    /// The data, mutable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[ext_field::DATA_START..end]
    }
}

/// A view of an IPv6 Fragment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6FragmentHeader { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Ok if the buffer holds the 8-byte header.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < ext_field::FRAG_END {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Length of the header.
    #[inline]
    pub const fn header_len(&self) -> usize {
        ext_field::FRAG_END
    }

    /// Next header.
    #[inline]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[ext_field::NXT_HDR])
    }

    /// Fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        get_u16(self.buffer.as_ref(), ext_field::FRAG_OFF_M) & 0xfff8
    }

    /// More fragments flag.
    #[inline]
    pub fn more_frags(&self) -> bool {
        get_u16(self.buffer.as_ref(), ext_field::FRAG_OFF_M) & 0x1 != 0
    }

    /// Identification.
    #[inline]
    pub fn ident(&self) -> u32 {
        get_u32(self.buffer.as_ref(), ext_field::FRAG_IDENT)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragmentHeader<T> {
    /// Sets the next header.
    #[inline]
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[ext_field::NXT_HDR] = value.into();
    }

    /// Sets the fragment offset in bytes (a multiple of 8) and the more-fragments flag,
    /// clearing the reserved bits.
    #[inline]
    pub fn set_frag(&mut self, offset: u16, more: bool) {
        set_u16(
            self.buffer.as_mut(),
            ext_field::FRAG_OFF_M,
            (offset & 0xfff8) | u16::from(more),
        );
    }

    /// Sets the identification.
    #[inline]
    pub fn set_ident(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), ext_field::FRAG_IDENT, value);
    }
}

/// A view of an IP Authentication Header (RFC 4302).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAuthHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IpAuthHeader<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        IpAuthHeader { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Ok if the buffer holds the whole header as its length field says; `Malformed` if that
    /// length is below the 12 fixed bytes.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < ext_field::AH_END {
            Err(Error::Truncated)
        } else if self.header_len() < ext_field::AH_END {
            Err(Error::Malformed)
        } else if len < self.header_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    #[inline]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[ext_field::NXT_HDR])
    }

    /// Length of this header in bytes: (length field + 2) × 4.
    #[inline]
    pub fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[ext_field::LENGTH]) + 2) * 4
    }

    /// Security parameters index.
    #[inline]
    pub fn spi(&self) -> u32 {
        get_u32(self.buffer.as_ref(), ext_field::AH_SPI)
    }

    /// Sequence number.
    #[inline]
    pub fn seq_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), ext_field::AH_SEQ)
    }

    /// Integrity check value.
    #[inline]
    pub fn icv(&self) -> &[u8] {
        &self.buffer.as_ref()[ext_field::AH_END..self.header_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IpAuthHeader<T> {
    /// Sets the next header.
    #[inline]
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[ext_field::NXT_HDR] = value.into();
    }

    /// Sets the length in bytes (a multiple of 4, from 12 to 1028).
    #[inline]
    pub fn set_header_len(&mut self, value: usize) {
        self.buffer.as_mut()[ext_field::LENGTH] = (value / 4).saturating_sub(2).min(255) as u8;
    }

    /// Sets the security parameters index.
    #[inline]
    pub fn set_spi(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), ext_field::AH_SPI, value);
    }

    /// Sets the sequence number.
    #[inline]
    pub fn set_seq_number(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), ext_field::AH_SEQ, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2001:db8::1 -> 2001:db8::2, TC 0xb9, flow 0x12345, next header Hop-by-Hop, hop limit
    // 255, 16 bytes of payload: a Hop-by-Hop header (8) then a Fragment header (8), then
    // two bytes of Ethernet padding.
    const PACKET: [u8; 58] = [
        0x6b, 0x91, 0x23, 0x45, 0x00, 0x10, 0x00, 0xff, //
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, //
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, //
        // Hop-by-Hop: next Fragment, length 0, PadN of 4
        0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, //
        // Fragment: next UDP, offset 1480, M=1, ident 0xdeadbeef
        0x11, 0x00, 0x05, 0xc9, 0xde, 0xad, 0xbe, 0xef, //
        0x00, 0x00,
    ];

    fn repr() -> Ipv6Repr {
        Ipv6Repr {
            src_addr: "2001:db8::1".parse().unwrap(),
            dst_addr: "2001:db8::2".parse().unwrap(),
            next_header: IpProtocol::HopByHop,
            payload_len: 16,
            hop_limit: 255,
            traffic_class: 0xb9,
            flow_label: 0x12345,
        }
    }

    #[test]
    fn parse() {
        let p = Ipv6Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!((p.traffic_class(), p.dscp(), p.ecn()), (0xb9, 46, 1));
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload().len(), 16);
        assert_eq!(Ipv6Repr::parse(&p).unwrap(), repr());

        let hbh = Ipv6ExtHeader::new_checked(p.payload()).unwrap();
        assert_eq!(hbh.next_header(), IpProtocol::Ipv6Frag);
        assert_eq!(hbh.header_len(), 8);
        assert_eq!(hbh.data(), &[1, 4, 0, 0, 0, 0]);
        let frag = Ipv6FragmentHeader::new_checked(&p.payload()[hbh.header_len()..]).unwrap();
        assert_eq!(frag.next_header(), IpProtocol::Udp);
        assert_eq!(frag.frag_offset(), 1480);
        assert!(frag.more_frags());
        assert_eq!(frag.ident(), 0xdead_beef);
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 58];
        repr()
            .emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(&buf[..40], &PACKET[..40]);
        assert!(buf[40..].iter().all(|&b| b == 0xa5));

        let mut h = Ipv6ExtHeader::new_unchecked(&mut buf[40..48]);
        h.set_next_header(IpProtocol::Ipv6Frag);
        h.set_header_len(8);
        h.data_mut().copy_from_slice(&[1, 4, 0, 0, 0, 0]);
        let mut f = Ipv6FragmentHeader::new_unchecked(&mut buf[48..56]);
        f.set_next_header(IpProtocol::Udp);
        buf[49] = 0;
        let mut f = Ipv6FragmentHeader::new_unchecked(&mut buf[48..56]);
        f.set_frag(1480, true);
        f.set_ident(0xdead_beef);
        assert_eq!(&buf[..56], &PACKET[..56]);
        assert_eq!(&buf[56..], &[0xa5, 0xa5]);
    }

    #[test]
    fn lengths() {
        assert_eq!(
            Ipv6Packet::new_checked(&PACKET[..39]).unwrap_err(),
            Error::Truncated
        );
        let p = Ipv6Packet::new_checked(&PACKET[..50]).unwrap();
        assert_eq!(p.payload().len(), 10);
        assert_eq!(Ipv6Repr::parse(&p), Err(Error::Truncated));
        // An extension header announcing 16 bytes with 8 present.
        let mut hbh = [0x11u8, 0x01, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            Ipv6ExtHeader::new_checked(&hbh[..]).unwrap_err(),
            Error::Truncated
        );
        hbh[1] = 0;
        assert!(Ipv6ExtHeader::new_checked(&hbh[..]).is_ok());
        assert_eq!(
            Ipv6FragmentHeader::new_checked(&hbh[..7]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn auth_header() {
        // Next TCP, length 4 -> 24 bytes, SPI 0x100, seq 7, 12 bytes of ICV.
        let mut ah = [0u8; 24];
        ah[..12].copy_from_slice(&[6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 7]);
        let h = IpAuthHeader::new_checked(&ah[..]).unwrap();
        assert_eq!(h.next_header(), IpProtocol::Tcp);
        assert_eq!(h.header_len(), 24);
        assert_eq!((h.spi(), h.seq_number(), h.icv().len()), (0x100, 7, 12));
        assert_eq!(
            IpAuthHeader::new_checked(&ah[..20]).unwrap_err(),
            Error::Truncated
        );
        ah[1] = 0; // 8 bytes: shorter than the fixed part
        assert_eq!(
            IpAuthHeader::new_checked(&ah[..]).unwrap_err(),
            Error::Malformed
        );

        let mut buf = [0xa5u8; 12];
        let mut h = IpAuthHeader::new_unchecked(&mut buf[..]);
        h.set_next_header(IpProtocol::Udp);
        h.set_header_len(12);
        h.set_spi(1);
        h.set_seq_number(2);
        buf[2] = 0;
        buf[3] = 0;
        assert_eq!(buf, [17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    }

    #[test]
    fn setters() {
        let mut b = PACKET;
        let mut p = Ipv6Packet::new_unchecked(&mut b[..]);
        p.set_dscp(10);
        assert_eq!((p.dscp(), p.ecn(), p.flow_label()), (10, 1, 0x12345));
        p.set_ecn(3);
        p.set_flow_label(0xfffff);
        assert_eq!(
            (p.dscp(), p.ecn(), p.flow_label(), p.version()),
            (10, 3, 0xfffff, 6)
        );
        p.set_payload_len(8);
        assert_eq!(p.payload_mut().len(), 8);
    }
}
