//! The SCTP (RFC 9260) common header: what OpenFlow matches on (the ports).
//!
//! The checksum is a CRC32c (Castagnoli, reflected polynomial 0x82f63b78) over the whole
//! packet with the checksum field taken as zero. RFC 9260 Appendix A transmits the CRC's
//! least significant byte first, so the field, read big-endian as [`SctpPacket::checksum`]
//! reads it, holds the CRC with its bytes swapped; [`SctpPacket::compute_checksum`] answers
//! in the field's reading.

use super::{get_u16, get_u32, set_u16, set_u32, Error, Result};

mod field {
    use crate::wire::{Field, Rest};

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const VERIFICATION_TAG: Field = 4..8;
    pub const CHECKSUM: Field = 8..12;
    pub const CHUNKS: Rest = 12..;
}

/// Length of the common header.
pub const HEADER_LEN: usize = field::CHUNKS.start;

/// A view of an SCTP packet's common header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SctpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> SctpPacket<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        SctpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the 12-byte common header.
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

    /// Verification tag.
    #[inline]
    pub fn verification_tag(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::VERIFICATION_TAG)
    }

    /// CRC32c checksum field.
    #[inline]
    pub fn checksum(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The chunks after the common header.
    #[inline]
    pub fn chunks(&self) -> &[u8] {
        &self.buffer.as_ref()[field::CHUNKS]
    }
}

impl<T: AsRef<[u8]>> SctpPacket<T> {
    /// The checksum the whole buffer (one SCTP packet, nothing after it) should carry, as
    /// [`checksum`](Self::checksum) reads the field.
    pub fn compute_checksum(&self) -> u32 {
        let b = self.buffer.as_ref();
        let mut crc = crc32c_update(!0, &b[..field::CHECKSUM.start]);
        crc = crc32c_update(crc, &[0; 4]);
        crc = crc32c_update(crc, &b[field::CHECKSUM.end..]);
        (!crc).swap_bytes()
    }

    /// Whether the checksum field verifies over the whole buffer.
    pub fn verify_checksum(&self) -> bool {
        self.compute_checksum() == self.checksum()
    }
}

/// CRC32c lookup table, reflected polynomial 0x82f63b78 (built at compile time).
const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// Feeds `bytes` into a running CRC32c register (start from `!0`, finish with `!`).
fn crc32c_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc = CRC32C_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// The CRC32c (Castagnoli) of `bytes`: `crc32c(b"123456789") == 0xe306_9283`.
pub fn crc32c(bytes: &[u8]) -> u32 {
    !crc32c_update(!0, bytes)
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SctpPacket<T> {
    /// Computes the checksum over the whole buffer and stores it.
    pub fn fill_checksum(&mut self) {
        let c = self.compute_checksum();
        self.set_checksum(c);
    }

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

    /// Sets the verification tag.
    #[inline]
    pub fn set_verification_tag(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::VERIFICATION_TAG, value);
    }

    /// Sets the checksum field.
    #[inline]
    pub fn set_checksum(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::CHECKSUM, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET: [u8; 13] = [
        0x0b, 0x59, 0x0b, 0x5a, 0, 0, 0, 7, 0xde, 0xad, 0xbe, 0xef, 0x01,
    ];

    #[test]
    fn parse() {
        let p = SctpPacket::new_checked(&PACKET[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (2905, 2906));
        assert_eq!((p.verification_tag(), p.checksum()), (7, 0xdead_beef));
        assert_eq!(p.chunks(), &[1]);
        assert_eq!(
            SctpPacket::new_checked(&PACKET[..11]).unwrap_err(),
            Error::Truncated
        );
    }

    /// A bit-at-a-time CRC32c, written apart from the table-driven one.
    fn crc32c_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                let lsb = crc & 1;
                crc >>= 1;
                if lsb == 1 {
                    crc ^= 0x82f6_3b78;
                }
            }
        }
        crc ^ 0xffff_ffff
    }

    #[test]
    fn crc32c_check_values() {
        // The catalogued check value of CRC-32C (Castagnoli), and RFC 3720 B.4's vectors.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let inc: Vec<u8> = (0u8..32).collect();
        assert_eq!(crc32c(&inc), 0x46dd_794e);
        for n in 0..64usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(crc32c(&data), crc32c_bitwise(&data));
        }
    }

    #[test]
    fn checksum_of_a_real_packet() {
        // An SCTP INIT (ports 5000 -> 5001, tag 0). tshark, given it in an IPv4 frame with
        // `-o sctp.checksum:CRC-32C`, shows "Checksum (CRC32C): 0xdde82ca1 [correct]": the
        // field holds the CRC (0xa12ce8dd) least significant byte first.
        let mut pkt = [
            0x13, 0x88, 0x13, 0x89, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header
            0x01, 0x00, 0x00, 0x14, 0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0xa0, 0x00, 0x00, 0x0a,
            0xff, 0xff, 0x01, 0x02, 0x03, 0x04,
        ];
        let good = crc32c_bitwise(&pkt);
        assert_eq!(good, 0xa12c_e8dd);
        pkt[8..12].copy_from_slice(&good.to_le_bytes());
        let mut p = SctpPacket::new_checked(&mut pkt[..]).unwrap();
        assert_eq!(p.checksum(), 0xdde8_2ca1);
        assert!(p.verify_checksum());
        assert_eq!(p.compute_checksum(), good.swap_bytes());
        p.set_src_port(1);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(
            &pkt[8..12],
            &crc32c_bitwise(&{
                let mut z = pkt;
                z[8..12].fill(0);
                z
            })
            .to_le_bytes()
        );
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 13];
        let mut p = SctpPacket::new_unchecked(&mut buf[..]);
        p.set_src_port(2905);
        p.set_dst_port(2906);
        p.set_verification_tag(7);
        p.set_checksum(0xdead_beef);
        assert_eq!(&buf[..12], &PACKET[..12]);
        assert_eq!(buf[12], 0xa5);
    }
}
