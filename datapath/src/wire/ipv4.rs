//! IPv4 (RFC 791) headers.

use core::net::Ipv4Addr;

use super::{checksum, get_array, get_u16, set_u16, Error, IpProtocol, Result};

mod field {
    use crate::wire::Field;

    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;

    // The 16-bit words the checksum sees around single-byte fields.
    pub const VER_DSCP_WORD: Field = VER_IHL..DSCP_ECN + 1;
    pub const TTL_PROTO_WORD: Field = TTL..PROTOCOL + 1;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the header with its options: `Truncated` if it is shorter,
    /// `Malformed` if the IHL is below 5. The total length field is not checked here (see
    /// [`payload`](Self::payload)).
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::Truncated)
        } else if usize::from(self.header_len()) < HEADER_LEN {
            Err(Error::Malformed)
        } else if len < usize::from(self.header_len()) {
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

    /// Version (4 for IPv4).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4), options included.
    #[inline]
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Differentiated services code point (6 bits).
    #[inline]
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// Explicit congestion notification (2 bits).
    #[inline]
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    /// Total length field (header plus payload), as sent.
    #[inline]
    pub fn total_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Identification.
    #[inline]
    pub fn ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::IDENT)
    }

    /// Don't fragment flag.
    #[inline]
    pub fn dont_frag(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_DF != 0
    }

    /// More fragments flag.
    #[inline]
    pub fn more_frags(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_MF != 0
    }

    /// Fragment offset in bytes (the field × 8).
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        (get_u16(self.buffer.as_ref(), field::FLG_OFF) & OFFSET_MASK) << 3
    }

    /// Whether this packet is a fragment (more-fragments set, or a non-zero offset).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF) & (FLAG_MF | OFFSET_MASK) != 0
    }

    /// Time to live.
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload.
    #[inline]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Header checksum.
    #[inline]
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get_array::<4>(self.buffer.as_ref(), field::SRC_ADDR))
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get_array::<4>(self.buffer.as_ref(), field::DST_ADDR))
    }

    /// Whether the header checksum verifies.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        let hdr = &self.buffer.as_ref()[..usize::from(self.header_len())];
        checksum::data(hdr) == 0xffff
    }

    /// The options (the header past its first 20 bytes).
    #[inline]
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.header_len())]
    }

    /// The payload, as far as both the total length field and the buffer reach (a total
    /// length below the header length gives an empty payload).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let range = self.payload_range();
        &self.buffer.as_ref()[range]
    }

    #[inline]
    fn payload_range(&self) -> core::ops::Range<usize> {
        let start = usize::from(self.header_len());
        let end = usize::from(self.total_len()).clamp(start, self.buffer.as_ref().len());
        start..end
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets the version.
    #[inline]
    pub fn set_version(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (value << 4);
    }

    /// Sets the header length in bytes (rounded down to a multiple of 4, at most 60).
    #[inline]
    pub fn set_header_len(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((value / 4) & 0x0f);
    }

    /// Sets the DSCP (low 6 bits of `value`).
    #[inline]
    pub fn set_dscp(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & 0x03) | (value << 2);
    }

    /// Sets the ECN (low 2 bits of `value`).
    #[inline]
    pub fn set_ecn(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & 0xfc) | (value & 0x03);
    }

    /// Sets the total length field.
    #[inline]
    pub fn set_total_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH, value);
    }

    /// Sets the identification.
    #[inline]
    pub fn set_ident(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::IDENT, value);
    }

    #[inline]
    fn set_flg_off(&mut self, mask: u16, bits: u16) {
        let v = get_u16(self.buffer.as_ref(), field::FLG_OFF);
        set_u16(
            self.buffer.as_mut(),
            field::FLG_OFF,
            (v & !mask) | (bits & mask),
        );
    }

    /// Clears the flags and the fragment offset.
    #[inline]
    pub fn clear_flags(&mut self) {
        self.set_flg_off(0xffff, 0);
    }

    /// Sets the don't-fragment flag.
    #[inline]
    pub fn set_dont_frag(&mut self, value: bool) {
        self.set_flg_off(FLAG_DF, if value { FLAG_DF } else { 0 });
    }

    /// Sets the more-fragments flag.
    #[inline]
    pub fn set_more_frags(&mut self, value: bool) {
        self.set_flg_off(FLAG_MF, if value { FLAG_MF } else { 0 });
    }

    /// Sets the fragment offset in bytes (a multiple of 8).
    #[inline]
    pub fn set_frag_offset(&mut self, value: u16) {
        self.set_flg_off(OFFSET_MASK, value >> 3);
    }

    /// Sets the time to live.
    #[inline]
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    /// Sets the protocol.
    #[inline]
    pub fn set_next_header(&mut self, value: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = value.into();
    }

    /// Sets the header checksum.
    #[inline]
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the source address.
    #[inline]
    pub fn set_src_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    /// Sets the destination address.
    #[inline]
    pub fn set_dst_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }

    /// Computes the header checksum from scratch and stores it.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = usize::from(self.header_len());
        let sum = checksum::data(&self.buffer.as_ref()[..hl]);
        self.set_checksum(checksum::finish(sum));
    }

    /// Runs `write`, then fixes the header checksum incrementally (RFC 1624) for the change
    /// it made to the word at `word`.
    #[inline]
    fn rewrite_word(&mut self, word: core::ops::Range<usize>, write: impl FnOnce(&mut Self)) {
        let old = get_u16(self.buffer.as_ref(), word.clone());
        write(self);
        let new = get_u16(self.buffer.as_ref(), word);
        let c = checksum::update_u16(self.checksum(), old, new);
        self.set_checksum(c);
    }

    /// Sets the TTL and fixes the header checksum incrementally.
    #[inline]
    pub fn rewrite_ttl(&mut self, value: u8) {
        self.rewrite_word(field::TTL_PROTO_WORD, |p| p.set_ttl(value));
    }

    /// Sets the DSCP (low 6 bits of `value`) and fixes the header checksum incrementally.
    #[inline]
    pub fn rewrite_dscp(&mut self, value: u8) {
        self.rewrite_word(field::VER_DSCP_WORD, |p| p.set_dscp(value));
    }

    /// Sets the ECN (low 2 bits of `value`) and fixes the header checksum incrementally.
    #[inline]
    pub fn rewrite_ecn(&mut self, value: u8) {
        self.rewrite_word(field::VER_DSCP_WORD, |p| p.set_ecn(value));
    }

    /// Sets the protocol and fixes the header checksum incrementally (the transport
    /// checksum, whose pseudo-header holds the protocol too, is the caller's).
    #[inline]
    pub fn rewrite_next_header(&mut self, value: IpProtocol) {
        self.rewrite_word(field::TTL_PROTO_WORD, |p| p.set_next_header(value));
    }

    /// Sets the source address, fixes the header checksum incrementally, and returns the
    /// old address (for the transport checksum's pseudo-header).
    #[inline]
    pub fn rewrite_src_addr(&mut self, value: Ipv4Addr) -> Ipv4Addr {
        let old = self.src_addr();
        self.set_src_addr(value);
        let c = checksum::update_u32(self.checksum(), old.into(), value.into());
        self.set_checksum(c);
        old
    }

    /// Sets the destination address, fixes the header checksum incrementally, and returns
    /// the old address.
    #[inline]
    pub fn rewrite_dst_addr(&mut self, value: Ipv4Addr) -> Ipv4Addr {
        let old = self.dst_addr();
        self.set_dst_addr(value);
        let c = checksum::update_u32(self.checksum(), old.into(), value.into());
        self.set_checksum(c);
        old
    }

    /// The options, mutable.
    #[inline]
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = usize::from(self.header_len());
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }

    /// The payload, mutable (same bounds as [`payload`](Ipv4Packet::payload)).
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.buffer.as_mut()[range]
    }
}

/// An unfragmented IPv4 header without options, as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub next_header: IpProtocol,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// DSCP (6 bits).
    pub dscp: u8,
    /// ECN (2 bits).
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't fragment.
    pub dont_frag: bool,
}

impl Ipv4Repr {
    /// Reads a packet strictly: version 4, total length within the buffer and not below the
    /// header, a verifying checksum, not a fragment (`Unsupported`). Options are skipped.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Ipv4Repr> {
        p.check_len()?;
        if p.version() != 4 {
            return Err(Error::Malformed);
        }
        let total = usize::from(p.total_len());
        let hl = usize::from(p.header_len());
        if total < hl {
            return Err(Error::Malformed);
        }
        if total > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        if p.is_fragment() {
            return Err(Error::Unsupported);
        }
        Ok(Ipv4Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: total - hl,
            ttl: p.ttl(),
            dscp: p.dscp(),
            ecn: p.ecn(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
        })
    }

    /// Bytes of header [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes a 20-byte header with its checksum; the payload is left alone. `Malformed` if
    /// the total length would not fit 16 bits or DSCP/ECN overflow their fields.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv4Packet<T>) -> Result<()> {
        let total = u16::try_from(HEADER_LEN + self.payload_len).map_err(|_| Error::Malformed)?;
        if self.dscp > 0x3f || self.ecn > 3 {
            return Err(Error::Malformed);
        }
        if p.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::BufferTooSmall);
        }
        p.buffer.as_mut()[field::VER_IHL] = 0x40 | (HEADER_LEN / 4) as u8;
        p.buffer.as_mut()[field::DSCP_ECN] = (self.dscp << 2) | self.ecn;
        p.set_total_len(total);
        p.set_ident(self.ident);
        p.clear_flags();
        p.set_dont_frag(self.dont_frag);
        p.set_ttl(self.ttl);
        p.set_next_header(self.next_header);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        p.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 192.0.2.1 -> 198.51.100.2, UDP, TTL 64, DSCP 46 ECN 1, DF, ident 0x1234, 4-byte
    // payload, then 2 bytes of Ethernet padding.
    const PACKET: [u8; 26] = [
        0x45, 0xb9, 0x00, 0x18, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02,
        0x01, 0xc6, 0x33, 0x64, 0x02, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00,
    ];

    fn packet() -> [u8; 26] {
        let mut b = PACKET;
        let sum = checksum::finish(checksum::data(&b[..20]));
        b[10..12].copy_from_slice(&sum.to_be_bytes());
        b
    }

    fn repr() -> Ipv4Repr {
        Ipv4Repr {
            src_addr: Ipv4Addr::new(192, 0, 2, 1),
            dst_addr: Ipv4Addr::new(198, 51, 100, 2),
            next_header: IpProtocol::Udp,
            payload_len: 4,
            ttl: 64,
            dscp: 46,
            ecn: 1,
            ident: 0x1234,
            dont_frag: true,
        }
    }

    #[test]
    fn parse() {
        let b = packet();
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!((p.dscp(), p.ecn()), (46, 1));
        assert_eq!(p.total_len(), 24);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.next_header(), IpProtocol::Udp);
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert!(p.options().is_empty());
        assert_eq!(Ipv4Repr::parse(&p).unwrap(), repr());
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 26];
        let r = repr();
        r.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]))
            .unwrap();
        buf[20..24].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let mut expect = packet();
        expect[24..].copy_from_slice(&[0xa5, 0xa5]);
        assert_eq!(buf, expect);
    }

    #[test]
    fn bad_checksum_and_lengths() {
        let mut b = packet();
        b[11] ^= 1;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::Checksum));

        let b = packet();
        // Total length past the buffer: the view clamps, the Repr refuses.
        let p = Ipv4Packet::new_checked(&b[..22]).unwrap();
        assert_eq!(p.payload(), &[0xde, 0xad]);
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::Truncated));

        let mut b = packet();
        b[0] = 0x44; // IHL 4
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        b[0] = 0x47; // IHL 7: 28 bytes of header, only 26 here
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
        b[0] = 0x46; // 24-byte header: the 'payload' becomes the options
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.options(), &[0xde, 0xad, 0xbe, 0xef]);
        assert!(p.payload().is_empty());
        assert_eq!(
            Ipv4Packet::new_checked(&b[..19]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn fragments() {
        let mut b = packet();
        {
            let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
            p.set_more_frags(true);
            p.set_frag_offset(1480);
            p.fill_checksum();
            assert!(p.dont_frag() && p.more_frags() && p.is_fragment());
            assert_eq!(p.frag_offset(), 1480);
        }
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::Unsupported));
    }

    #[test]
    fn rewrites_keep_the_checksum_valid() {
        let mut b = packet();
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.rewrite_ttl(3);
        assert!(p.verify_checksum());
        p.rewrite_dscp(10);
        assert!(p.verify_checksum());
        assert_eq!(
            p.rewrite_src_addr(Ipv4Addr::new(10, 1, 2, 3)),
            Ipv4Addr::new(192, 0, 2, 1)
        );
        assert_eq!(
            p.rewrite_dst_addr(Ipv4Addr::new(255, 0, 0, 0)),
            Ipv4Addr::new(198, 51, 100, 2)
        );
        assert!(p.verify_checksum());
        assert_eq!((p.ttl(), p.dscp(), p.ecn()), (3, 10, 1));
        let inc = p.checksum();
        p.fill_checksum();
        assert_eq!(p.checksum(), inc);
    }

    #[test]
    fn setters() {
        let mut b = packet();
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.set_dscp(0x3f);
        p.set_ecn(2);
        assert_eq!((p.dscp(), p.ecn()), (0x3f, 2));
        p.set_ttl(1);
        p.set_src_addr(Ipv4Addr::new(198, 51, 100, 1));
        p.set_header_len(24);
        p.set_version(4);
        assert_eq!((p.header_len(), p.version(), p.ttl()), (24, 4, 1));
        p.fill_checksum();
        assert!(p.verify_checksum());
        p.options_mut().fill(1);
        p.set_header_len(20);
        p.payload_mut()[0] = 7;
        assert_eq!(p.payload()[0], 7);
    }
}
