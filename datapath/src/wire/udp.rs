//! UDP (RFC 768) datagrams.
//!
//! A checksum field of 0 means "no checksum" (IPv4 only); a computed checksum of 0 is sent
//! as 0xffff (see [`checksum::udp_nonzero`]).

use core::net::Ipv4Addr;

use super::{checksum, get_u16, set_u16, Error, IpProtocol, PseudoHeader, Result};

mod field {
    use crate::wire::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// Offset of the checksum field, for incremental updates.
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// A view of a UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the 8-byte header. The length field is not checked here (see
    /// [`payload`](Self::payload)).
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

    /// Length field (header plus payload), as sent.
    #[inline]
    pub fn len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Whether the length field announces no payload.
    #[inline]
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// Checksum (0: none).
    #[inline]
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The payload, as far as both the length field and the buffer reach.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let range = self.payload_range();
        &self.buffer.as_ref()[range]
    }

    #[inline]
    fn payload_range(&self) -> core::ops::Range<usize> {
        let end = usize::from(self.len()).clamp(HEADER_LEN, self.buffer.as_ref().len());
        HEADER_LEN..end
    }

    /// Whether the checksum verifies under `ph` over the datagram as its length field
    /// bounds it; a zero checksum always verifies. `false` if the length field is out of
    /// bounds.
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let len = usize::from(self.len());
        if len < HEADER_LEN || len > self.buffer.as_ref().len() {
            return false;
        }
        ph.verify(IpProtocol::Udp, &self.buffer.as_ref()[..len])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
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

    /// Sets the length field.
    #[inline]
    pub fn set_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH, value);
    }

    /// Sets the checksum.
    #[inline]
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }

    /// Computes the checksum under `ph` over the datagram as its length field bounds it
    /// (clamped to the buffer) and stores it, 0 turned into 0xffff.
    pub fn fill_checksum(&mut self, ph: &PseudoHeader) {
        self.set_checksum(0);
        let len = usize::from(self.len()).clamp(HEADER_LEN, self.buffer.as_ref().len());
        let c = ph.checksum(IpProtocol::Udp, &self.buffer.as_ref()[..len]);
        self.set_checksum(checksum::udp_nonzero(c));
    }

    /// Applies an RFC 1624 update to a checksum that is present; a zero checksum (none)
    /// stays zero, and a result of zero is stored as 0xffff.
    #[inline]
    fn update_checksum(&mut self, update: impl FnOnce(u16) -> u16) {
        let c = self.checksum();
        if c != 0 {
            self.set_checksum(checksum::udp_nonzero(update(c)));
        }
    }

    /// Sets the source port and fixes the checksum incrementally (if there is one).
    #[inline]
    pub fn rewrite_src_port(&mut self, value: u16) {
        let old = self.src_port();
        self.set_src_port(value);
        self.update_checksum(|c| checksum::update_u16(c, old, value));
    }

    /// Sets the destination port and fixes the checksum incrementally (if there is one).
    #[inline]
    pub fn rewrite_dst_port(&mut self, value: u16) {
        let old = self.dst_port();
        self.set_dst_port(value);
        self.update_checksum(|c| checksum::update_u16(c, old, value));
    }

    /// Fixes the checksum (if there is one) after an IPv4 address of the pseudo-header
    /// changed from `old` to `new`.
    #[inline]
    pub fn fix_checksum_for_addr(&mut self, old: Ipv4Addr, new: Ipv4Addr) {
        self.update_checksum(|c| checksum::update_u32(c, old.into(), new.into()));
    }

    /// The payload, mutable (same bounds as [`payload`](UdpPacket::payload)).
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        &mut self.buffer.as_mut()[range]
    }
}

/// A UDP header as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Reads the header strictly: the length field between 8 and the buffer, and a
    /// checksum that is zero or verifies under `ph`.
    pub fn parse<T: AsRef<[u8]>>(p: &UdpPacket<T>, ph: &PseudoHeader) -> Result<UdpRepr> {
        p.check_len()?;
        let len = usize::from(p.len());
        if len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len > p.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        if !p.verify_checksum(ph) {
            return Err(Error::Checksum);
        }
        Ok(UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        })
    }

    /// Bytes of header [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header and `payload`, with a checksum under `ph` (`None`: no checksum,
    /// IPv4 only). The view's buffer must be exactly header plus payload long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        p: &mut UdpPacket<T>,
        payload: &[u8],
        ph: Option<&PseudoHeader>,
    ) -> Result<()> {
        let len = u16::try_from(HEADER_LEN + payload.len()).map_err(|_| Error::Malformed)?;
        if p.buffer.as_ref().len() != usize::from(len) {
            return Err(Error::BufferTooSmall);
        }
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len(len);
        p.payload_mut().copy_from_slice(payload);
        match ph {
            Some(ph) => p.fill_checksum(ph),
            None => p.set_checksum(0),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv6Addr;

    fn ph() -> PseudoHeader {
        PseudoHeader::V6 {
            src: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            dst: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
        }
    }

    // 5353 -> 53, length 12, payload "abcd"; checksum filled by `datagram`.
    const DATAGRAM: [u8; 12] = [
        0x14, 0xe9, 0x00, 0x35, 0x00, 0x0c, 0, 0, b'a', b'b', b'c', b'd',
    ];

    fn datagram() -> [u8; 12] {
        let mut b = DATAGRAM;
        let c = checksum::udp_nonzero(ph().checksum(IpProtocol::Udp, &b));
        b[6..8].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parse() {
        let b = datagram();
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (5353, 53, 12));
        assert_eq!(p.payload(), b"abcd");
        assert!(p.verify_checksum(&ph()));
        assert_eq!(
            UdpRepr::parse(&p, &ph()).unwrap(),
            UdpRepr {
                src_port: 5353,
                dst_port: 53
            }
        );
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 13];
        let r = UdpRepr {
            src_port: 5353,
            dst_port: 53,
        };
        r.emit(
            &mut UdpPacket::new_unchecked(&mut buf[..12]),
            b"abcd",
            Some(&ph()),
        )
        .unwrap();
        assert_eq!(&buf[..12], &datagram()[..]);
        assert_eq!(buf[12], 0xa5);
        r.emit(&mut UdpPacket::new_unchecked(&mut buf[..12]), b"abcd", None)
            .unwrap();
        assert_eq!(&buf[6..8], &[0, 0]);
        assert_eq!(
            r.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), b"abcd", None),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn incremental_rewrites() {
        let mut b = datagram();
        let mut p = UdpPacket::new_unchecked(&mut b[..]);
        p.rewrite_src_port(1);
        p.rewrite_dst_port(65535);
        assert_eq!((p.src_port(), p.dst_port()), (1, 65535));
        assert!(p.verify_checksum(&ph()));
        let c = p.checksum();
        p.fill_checksum(&ph());
        assert_eq!(p.checksum(), c);

        // No checksum stays no checksum.
        p.set_checksum(0);
        p.rewrite_dst_port(7);
        p.fix_checksum_for_addr(Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8));
        assert_eq!(p.checksum(), 0);
    }

    #[test]
    fn update_never_yields_zero() {
        // A datagram whose checksum, after changing the source port, would be 0x0000 from
        // scratch: UDP must send 0xffff.
        let ph = PseudoHeader::V4 {
            src: Ipv4Addr::new(198, 51, 100, 1),
            dst: Ipv4Addr::new(198, 51, 100, 2),
        };
        let mut b = [0u8, 1, 0, 2, 0, 8, 0, 0];
        let mut p = UdpPacket::new_unchecked(&mut b[..]);
        p.fill_checksum(&ph);
        // Pick the port that makes the one's-complement sum 0xffff.
        let sum_without_src = checksum::combine(&[ph.sum(IpProtocol::Udp, 8), 2, 8]);
        let port = !sum_without_src;
        p.rewrite_src_port(port);
        assert_eq!(
            ph.checksum(IpProtocol::Udp, &{
                let mut z = b;
                z[6] = 0;
                z[7] = 0;
                z
            }),
            0
        );
        assert_eq!(UdpPacket::new_unchecked(&b[..]).checksum(), 0xffff);
        assert!(UdpPacket::new_unchecked(&b[..]).verify_checksum(&ph));
    }

    #[test]
    fn lengths_and_checksums() {
        let b = datagram();
        assert_eq!(
            UdpPacket::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
        // Truncated capture: the view reads what is there, the Repr refuses.
        let p = UdpPacket::new_checked(&b[..10]).unwrap();
        assert_eq!(p.payload(), b"ab");
        assert_eq!(UdpRepr::parse(&p, &ph()), Err(Error::Truncated));
        // Trailing padding is outside the datagram.
        let mut padded = [0u8; 16];
        padded[..12].copy_from_slice(&b);
        padded[12] = 0xff;
        let p = UdpPacket::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload(), b"abcd");
        assert!(p.verify_checksum(&ph()));
        // A length below the header.
        let mut m = b;
        m[5] = 4;
        let p = UdpPacket::new_checked(&m[..]).unwrap();
        assert!(p.payload().is_empty() && p.is_empty());
        assert_eq!(UdpRepr::parse(&p, &ph()), Err(Error::Malformed));
        // A corrupt checksum; then none at all.
        let mut m = b;
        m[8] = b'x';
        assert_eq!(
            UdpRepr::parse(&UdpPacket::new_unchecked(&m[..]), &ph()),
            Err(Error::Checksum)
        );
        m[6] = 0;
        m[7] = 0;
        assert!(UdpRepr::parse(&UdpPacket::new_unchecked(&m[..]), &ph()).is_ok());
    }
}
