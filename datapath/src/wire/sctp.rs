//! The SCTP (RFC 9260) common header: what OpenFlow matches on (the ports).
//!
//! The checksum is a CRC32c over the whole packet; this module reads and writes the field
//! but does not compute it.

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

impl<T: AsRef<[u8]> + AsMut<[u8]>> SctpPacket<T> {
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
