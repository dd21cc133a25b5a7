//! TCP (RFC 9293) segments.

use core::net::Ipv4Addr;

use super::{
    checksum, get_u16, get_u32, set_u16, set_u32, Error, IpProtocol, PseudoHeader, Result,
};

mod field {
    use crate::wire::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    pub const FLAGS: Field = 12..14;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// Offset of the checksum field, for incremental updates.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// TCP flag bits as OpenFlow's TCP_FLAGS match field numbers them (the low 12 bits of the
/// data-offset/flags word).
pub mod flags {
    /// No more data.
    pub const FIN: u16 = 0x001;
    /// Synchronize sequence numbers.
    pub const SYN: u16 = 0x002;
    /// Reset.
    pub const RST: u16 = 0x004;
    /// Push.
    pub const PSH: u16 = 0x008;
    /// Acknowledgment field significant.
    pub const ACK: u16 = 0x010;
    /// Urgent pointer significant.
    pub const URG: u16 = 0x020;
    /// ECN echo.
    pub const ECE: u16 = 0x040;
    /// Congestion window reduced.
    pub const CWR: u16 = 0x080;
    /// ECN nonce (historic, RFC 3540).
    pub const NS: u16 = 0x100;
    /// All 12 bits (3 reserved bits included).
    pub const MASK: u16 = 0xfff;
}

/// A view of a TCP segment. The buffer should be the IP payload: checksums cover all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the header with its options: `Truncated` if it is shorter,
    /// `Malformed` if the data offset is below 5.
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

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// Sequence number.
    #[inline]
    pub fn seq_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::SEQ_NUM)
    }

    /// Acknowledgment number.
    #[inline]
    pub fn ack_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::ACK_NUM)
    }

    /// Header length in bytes (data offset × 4), options included.
    #[inline]
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::FLAGS.start] >> 4) * 4
    }

    /// The 12 flag bits (see [`flags`]).
    #[inline]
    pub fn flags(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::FLAGS) & flags::MASK
    }

    /// FIN flag.
    #[inline]
    pub fn fin(&self) -> bool {
        self.flags() & flags::FIN != 0
    }

    /// SYN flag.
    #[inline]
    pub fn syn(&self) -> bool {
        self.flags() & flags::SYN != 0
    }

    /// RST flag.
    #[inline]
    pub fn rst(&self) -> bool {
        self.flags() & flags::RST != 0
    }

    /// PSH flag.
    #[inline]
    pub fn psh(&self) -> bool {
        self.flags() & flags::PSH != 0
    }

    /// ACK flag.
    #[inline]
    pub fn ack(&self) -> bool {
        self.flags() & flags::ACK != 0
    }

    /// URG flag.
    #[inline]
    pub fn urg(&self) -> bool {
        self.flags() & flags::URG != 0
    }

    /// Window size.
    #[inline]
    pub fn window_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::WIN_SIZE)
    }

    /// Checksum.
    #[inline]
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Urgent pointer.
    #[inline]
    pub fn urgent_at(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::URGENT)
    }

    /// The options.
    #[inline]
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.header_len())]
    }

    /// The payload: everything after the header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[usize::from(self.header_len())..]
    }

    /// Whether the checksum verifies over the whole buffer under `ph`.
    #[inline]
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        ph.verify(IpProtocol::Tcp, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the source port.
    #[inline]
    pub fn set_src_port(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::SRC_PORT, value);
    }

    /// Sets the destination port.
    #[inline]
    pub fn set_dst_port(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::DST_PORT, value);
    }

    /// Sets the sequence number.
    #[inline]
    pub fn set_seq_number(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::SEQ_NUM, value);
    }

    /// Sets the acknowledgment number.
    #[inline]
    pub fn set_ack_number(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::ACK_NUM, value);
    }

    /// Sets the header length in bytes (rounded down to a multiple of 4, at most 60).
    #[inline]
    pub fn set_header_len(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::FLAGS.start];
        *b = (*b & 0x0f) | (((value / 4) & 0x0f) << 4);
    }

    /// Sets the 12 flag bits, keeping the data offset.
    #[inline]
    pub fn set_flags(&mut self, value: u16) {
        let word = get_u16(self.buffer.as_ref(), field::FLAGS) & !flags::MASK;
        set_u16(
            self.buffer.as_mut(),
            field::FLAGS,
            word | (value & flags::MASK),
        );
    }

    /// Sets the window size.
    #[inline]
    pub fn set_window_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::WIN_SIZE, value);
    }

    /// Sets the checksum.
    #[inline]
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Sets the urgent pointer.
    #[inline]
    pub fn set_urgent_at(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::URGENT, value);
    }

    /// Computes the checksum over the whole buffer under `ph` and stores it.
    #[inline]
    pub fn fill_checksum(&mut self, ph: &PseudoHeader) {
        self.set_checksum(0);
        let c = ph.checksum(IpProtocol::Tcp, self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// Sets the source port and fixes the checksum incrementally (RFC 1624).
    #[inline]
    pub fn rewrite_src_port(&mut self, value: u16) {
        let c = checksum::update_u16(self.checksum(), self.src_port(), value);
        self.set_src_port(value);
        self.set_checksum(c);
    }

    /// Sets the destination port and fixes the checksum incrementally.
    #[inline]
    pub fn rewrite_dst_port(&mut self, value: u16) {
        let c = checksum::update_u16(self.checksum(), self.dst_port(), value);
        self.set_dst_port(value);
        self.set_checksum(c);
    }

    /// Fixes the checksum incrementally after an IPv4 address of the pseudo-header
    /// changed from `old` to `new`.
    #[inline]
    pub fn fix_checksum_for_addr(&mut self, old: Ipv4Addr, new: Ipv4Addr) {
        let c = checksum::update_u32(self.checksum(), old.into(), new.into());
        self.set_checksum(c);
    }

    /// The options, mutable.
    #[inline]
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = usize::from(self.header_len());
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }

    /// The payload, mutable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = usize::from(self.header_len());
        &mut self.buffer.as_mut()[hl..]
    }
}

/// A TCP header without options, as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number.
    pub ack_number: u32,
    /// Flags (see [`flags`]).
    pub flags: u16,
    /// Window size.
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
}

impl TcpRepr {
    /// Reads the header strictly: the checksum must verify under `ph`. Options are skipped.
    pub fn parse<T: AsRef<[u8]>>(p: &TcpPacket<T>, ph: &PseudoHeader) -> Result<TcpRepr> {
        p.check_len()?;
        if !p.verify_checksum(ph) {
            return Err(Error::Checksum);
        }
        Ok(TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq_number: p.seq_number(),
            ack_number: p.ack_number(),
            flags: p.flags(),
            window_len: p.window_len(),
            urgent_at: p.urgent_at(),
        })
    }

    /// Bytes of header [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes a 20-byte header followed by `payload`, with the checksum under `ph`. The
    /// view's buffer must be exactly header plus payload long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        p: &mut TcpPacket<T>,
        payload: &[u8],
        ph: &PseudoHeader,
    ) -> Result<()> {
        if p.buffer.as_ref().len() != HEADER_LEN + payload.len() {
            return Err(Error::BufferTooSmall);
        }
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_seq_number(self.seq_number);
        p.set_ack_number(self.ack_number);
        set_u16(p.buffer.as_mut(), field::FLAGS, 0);
        p.set_header_len(HEADER_LEN as u8);
        p.set_flags(self.flags);
        p.set_window_len(self.window_len);
        p.set_urgent_at(self.urgent_at);
        p.payload_mut().copy_from_slice(payload);
        p.fill_checksum(ph);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph() -> PseudoHeader {
        PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 2),
        }
    }

    // 49152 -> 80 SYN, seq 1, window 64240, one option: MSS 1460. Checksum filled below.
    const SYN: [u8; 24] = [
        0xc0, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0xfa,
        0xf0, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
    ];

    fn syn() -> [u8; 24] {
        let mut b = SYN;
        let c = ph().checksum(IpProtocol::Tcp, &b);
        b[16..18].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parse() {
        let b = syn();
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (49152, 80));
        assert_eq!((p.seq_number(), p.ack_number()), (1, 0));
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.flags(), flags::SYN);
        assert!(p.syn() && !p.ack() && !p.fin() && !p.rst() && !p.psh() && !p.urg());
        assert_eq!(p.window_len(), 64240);
        assert_eq!(p.options(), &[0x02, 0x04, 0x05, 0xb4]);
        assert!(p.payload().is_empty());
        assert!(p.verify_checksum(&ph()));
        let r = TcpRepr::parse(&p, &ph()).unwrap();
        assert_eq!(r.flags, flags::SYN);
        let other = PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 0, 2, 9),
            dst: Ipv4Addr::new(192, 0, 2, 2),
        };
        assert_eq!(TcpRepr::parse(&p, &other), Err(Error::Checksum));
    }

    #[test]
    fn emit() {
        let r = TcpRepr {
            src_port: 80,
            dst_port: 49152,
            seq_number: 100,
            ack_number: 2,
            flags: flags::SYN | flags::ACK,
            window_len: 65535,
            urgent_at: 0,
        };
        let mut buf = [0xa5u8; 23];
        r.emit(&mut TcpPacket::new_unchecked(&mut buf[..22]), b"hi", &ph())
            .unwrap();
        assert_eq!(buf[22], 0xa5);
        assert_eq!(
            &buf[..16],
            &[0, 80, 0xc0, 0, 0, 0, 0, 100, 0, 0, 0, 2, 0x50, 0x12, 0xff, 0xff]
        );
        assert_eq!(&buf[18..22], &[0, 0, b'h', b'i']);
        let p = TcpPacket::new_checked(&buf[..22]).unwrap();
        assert!(p.verify_checksum(&ph()));
        assert_eq!(TcpRepr::parse(&p, &ph()).unwrap(), r);
    }

    #[test]
    fn lengths() {
        let b = syn();
        assert_eq!(
            TcpPacket::new_checked(&b[..19]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            TcpPacket::new_checked(&b[..23]).unwrap_err(),
            Error::Truncated
        );
        let mut m = b;
        m[12] = 0x40; // data offset 4
        assert_eq!(
            TcpPacket::new_checked(&m[..]).unwrap_err(),
            Error::Malformed
        );
        m[12] = 0x50; // the MSS option is now payload
        assert_eq!(TcpPacket::new_checked(&m[..]).unwrap().payload().len(), 4);
    }

    #[test]
    fn flags_keep_offset() {
        let mut b = syn();
        let mut p = TcpPacket::new_unchecked(&mut b[..]);
        p.set_flags(0xffff);
        assert_eq!((p.flags(), p.header_len()), (0xfff, 24));
        p.set_header_len(20);
        assert_eq!((p.flags(), p.header_len()), (0xfff, 20));
    }

    #[test]
    fn incremental_rewrites() {
        let mut b = syn();
        let mut p = TcpPacket::new_unchecked(&mut b[..]);
        p.rewrite_dst_port(8080);
        p.rewrite_src_port(1);
        assert_eq!((p.src_port(), p.dst_port()), (1, 8080));
        assert!(p.verify_checksum(&ph()));
        let new_src = Ipv4Addr::new(203, 0, 113, 7);
        p.fix_checksum_for_addr(Ipv4Addr::new(192, 0, 2, 1), new_src);
        let moved = PseudoHeader::V4 {
            src: new_src,
            dst: Ipv4Addr::new(192, 0, 2, 2),
        };
        assert!(p.verify_checksum(&moved));
        assert!(!p.verify_checksum(&ph()));
    }
}
