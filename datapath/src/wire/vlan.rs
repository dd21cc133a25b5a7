//! IEEE 802.1Q (C-tag, TPID 0x8100) and 802.1ad (S-tag, TPID 0x88a8) VLAN tags.
//!
//! The tag's TPID is the EtherType of the header before it, so a [`VlanTag`] view starts at
//! the tag control information (TCI), two bytes after that EtherType's first byte:
//!
//! ```text
//!  0                   1                   2                   3
//! +-----+-+-----------------------+-------------------------------+
//! | PCP |D|         VID           |   EtherType of what follows   |
//! +-----+-+-----------------------+-------------------------------+
//! ```

use super::{get_u16, set_u16, Error, EtherType, Result};

mod field {
    use crate::wire::{Field, Rest};

    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
    pub const PAYLOAD: Rest = 4..;
}

/// Length of a tag after its TPID: TCI and inner EtherType.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// Mask of the VLAN id within the TCI.
pub const VID_MASK: u16 = 0x0fff;
const PCP_SHIFT: u16 = 13;
const DEI_BIT: u16 = 0x1000;

/// A view of a VLAN tag (TCI and inner EtherType).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        VlanTag { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let tag = Self::new_unchecked(buffer);
        tag.check_len()?;
        Ok(tag)
    }

    /// Ok if the buffer holds the 4-byte tag.
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

    /// The whole tag control information.
    #[inline]
    pub fn tci(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::TCI)
    }

    /// Priority code point (3 bits).
    #[inline]
    pub fn pcp(&self) -> u8 {
        (self.tci() >> PCP_SHIFT) as u8
    }

    /// Drop eligible indicator (formerly CFI).
    #[inline]
    pub fn dei(&self) -> bool {
        self.tci() & DEI_BIT != 0
    }

    /// VLAN id (12 bits).
    #[inline]
    pub fn vid(&self) -> u16 {
        self.tci() & VID_MASK
    }

    /// EtherType of what follows the tag.
    #[inline]
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// Everything after the tag.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VlanTag<T> {
    /// Sets the whole TCI.
    #[inline]
    pub fn set_tci(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::TCI, value);
    }

    /// Sets the priority code point (low 3 bits of `value`).
    #[inline]
    pub fn set_pcp(&mut self, value: u8) {
        let tci = self.tci() & !(0x7 << PCP_SHIFT);
        self.set_tci(tci | (u16::from(value & 0x7) << PCP_SHIFT));
    }

    /// Sets the drop eligible indicator.
    #[inline]
    pub fn set_dei(&mut self, value: bool) {
        let tci = self.tci() & !DEI_BIT;
        self.set_tci(if value { tci | DEI_BIT } else { tci });
    }

    /// Sets the VLAN id (low 12 bits of `value`).
    #[inline]
    pub fn set_vid(&mut self, value: u16) {
        let tci = self.tci() & !VID_MASK;
        self.set_tci(tci | (value & VID_MASK));
    }

    /// Sets the inner EtherType.
    #[inline]
    pub fn set_ethertype(&mut self, value: EtherType) {
        set_u16(self.buffer.as_mut(), field::ETHERTYPE, value.into());
    }

    /// Everything after the tag, mutable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// A VLAN tag as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanRepr {
    /// Priority code point (0..=7).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id (0..=4095).
    pub vid: u16,
    /// EtherType of what follows.
    pub ethertype: EtherType,
}

impl VlanRepr {
    /// Reads a tag; a PCP or VID out of range cannot occur on the wire.
    pub fn parse<T: AsRef<[u8]>>(tag: &VlanTag<T>) -> Result<VlanRepr> {
        tag.check_len()?;
        Ok(VlanRepr {
            pcp: tag.pcp(),
            dei: tag.dei(),
            vid: tag.vid(),
            ethertype: tag.ethertype(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the tag; `Malformed` if `pcp` or `vid` does not fit its field.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, tag: &mut VlanTag<T>) -> Result<()> {
        if self.pcp > 7 || self.vid > VID_MASK {
            return Err(Error::Malformed);
        }
        tag.check_len().map_err(|_| Error::BufferTooSmall)?;
        tag.set_tci(
            (u16::from(self.pcp) << PCP_SHIFT) | if self.dei { DEI_BIT } else { 0 } | self.vid,
        );
        tag.set_ethertype(self.ethertype);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // PCP 5, DEI 1, VID 0x123, then IPv6, then one payload byte.
    const TAG: [u8; 5] = [0xb1, 0x23, 0x86, 0xdd, 0x60];

    #[test]
    fn parse() {
        let tag = VlanTag::new_checked(&TAG[..]).unwrap();
        assert_eq!(tag.pcp(), 5);
        assert!(tag.dei());
        assert_eq!(tag.vid(), 0x123);
        assert_eq!(tag.ethertype(), EtherType::Ipv6);
        assert_eq!(tag.payload(), &[0x60]);
        let r = VlanRepr::parse(&tag).unwrap();
        assert_eq!(
            r,
            VlanRepr {
                pcp: 5,
                dei: true,
                vid: 0x123,
                ethertype: EtherType::Ipv6
            }
        );
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 5];
        let r = VlanRepr {
            pcp: 5,
            dei: true,
            vid: 0x123,
            ethertype: EtherType::Ipv6,
        };
        r.emit(&mut VlanTag::new_unchecked(&mut buf[..4])).unwrap();
        assert_eq!(buf, [0xb1, 0x23, 0x86, 0xdd, 0xa5]);
        let bad = VlanRepr { vid: 0x1000, ..r };
        assert_eq!(
            bad.emit(&mut VlanTag::new_unchecked(&mut buf[..])),
            Err(Error::Malformed)
        );
    }

    #[test]
    fn setters_touch_only_their_bits() {
        let mut buf = TAG;
        let mut tag = VlanTag::new_unchecked(&mut buf[..]);
        tag.set_vid(0xfff);
        assert_eq!((tag.pcp(), tag.dei(), tag.vid()), (5, true, 0xfff));
        tag.set_pcp(0);
        assert_eq!((tag.pcp(), tag.dei(), tag.vid()), (0, true, 0xfff));
        tag.set_dei(false);
        tag.set_pcp(0xff);
        assert_eq!((tag.pcp(), tag.dei(), tag.vid()), (7, false, 0xfff));
        assert_eq!(tag.ethertype(), EtherType::Ipv6);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            VlanTag::new_checked(&TAG[..3]).unwrap_err(),
            Error::Truncated
        );
    }
}
