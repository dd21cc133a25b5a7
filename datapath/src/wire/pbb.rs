//! IEEE 802.1ah provider backbone bridging: the I-tag (TPID 0x88e7) and the customer
//! Ethernet header it encapsulates.
//!
//! A view starts after the TPID:
//!
//! ```text
//! +-----+-+-+-+---+-----------------------------------------------+
//! |I-PCP|D|U|R|Res|                  I-SID (24)                   |
//! +-----+-+-+-+---+-----------------------------------------------+
//! |        customer destination address (6)  |  customer source   |
//! |        address (6) ...                   |  EtherType (2)     |
//! +---------------------------------------------------------------+
//! ```

use super::{
    get_array, get_u16, get_u32, set_u16, set_u32, Error, EtherType, EthernetAddress, Result,
};

mod field {
    use crate::wire::{Field, Rest};

    pub const ITCI: Field = 0..4;
    pub const CUSTOMER_DST: Field = 4..10;
    pub const CUSTOMER_SRC: Field = 10..16;
    pub const ETHERTYPE: Field = 16..18;
    pub const PAYLOAD: Rest = 18..;
}

/// Length of the I-tag plus the customer MACs and EtherType.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// Offset of the customer destination address: where the customer frame starts.
pub const CUSTOMER_DST_OFFSET: usize = field::CUSTOMER_DST.start;

/// Largest I-SID (24 bits).
pub const ISID_MAX: u32 = 0x00ff_ffff;
const PCP_SHIFT: u32 = 29;
const DEI_BIT: u32 = 1 << 28;
const UCA_BIT: u32 = 1 << 27;

/// A view of a PBB I-tag and its customer header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbbITag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PbbITag<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        PbbITag { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let t = Self::new_unchecked(buffer);
        t.check_len()?;
        Ok(t)
    }

    /// Ok if the buffer holds the I-tag, the customer addresses and EtherType.
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
    fn itci(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::ITCI)
    }

    /// Backbone service instance priority (3 bits).
    #[inline]
    pub fn pcp(&self) -> u8 {
        (self.itci() >> PCP_SHIFT) as u8
    }

    /// Drop eligible indicator.
    #[inline]
    pub fn dei(&self) -> bool {
        self.itci() & DEI_BIT != 0
    }

    /// Use customer addresses.
    #[inline]
    pub fn uca(&self) -> bool {
        self.itci() & UCA_BIT != 0
    }

    /// Backbone service instance identifier (24 bits).
    #[inline]
    pub fn isid(&self) -> u32 {
        self.itci() & ISID_MAX
    }

    /// Customer destination address.
    #[inline]
    pub fn customer_dst(&self) -> EthernetAddress {
        EthernetAddress(get_array(self.buffer.as_ref(), field::CUSTOMER_DST))
    }

    /// Customer source address.
    #[inline]
    pub fn customer_src(&self) -> EthernetAddress {
        EthernetAddress(get_array(self.buffer.as_ref(), field::CUSTOMER_SRC))
    }

    /// EtherType of the customer frame's payload.
    #[inline]
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// The customer frame's payload.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> PbbITag<T> {
    /// Sets the I-SID (low 24 bits of `value`).
    #[inline]
    pub fn set_isid(&mut self, value: u32) {
        let t = self.itci() & !ISID_MAX;
        set_u32(self.buffer.as_mut(), field::ITCI, t | (value & ISID_MAX));
    }

    /// Sets the priority (low 3 bits of `value`).
    #[inline]
    pub fn set_pcp(&mut self, value: u8) {
        let t = self.itci() & !(0x7 << PCP_SHIFT);
        set_u32(
            self.buffer.as_mut(),
            field::ITCI,
            t | (u32::from(value & 0x7) << PCP_SHIFT),
        );
    }

    /// Sets the customer destination address.
    #[inline]
    pub fn set_customer_dst(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::CUSTOMER_DST].copy_from_slice(&value.0);
    }

    /// Sets the customer source address.
    #[inline]
    pub fn set_customer_src(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::CUSTOMER_SRC].copy_from_slice(&value.0);
    }

    /// Sets the customer EtherType.
    #[inline]
    pub fn set_ethertype(&mut self, value: EtherType) {
        set_u16(self.buffer.as_mut(), field::ETHERTYPE, value.into());
    }
}

/// An I-tag and customer header as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PbbRepr {
    /// Priority (3 bits).
    pub pcp: u8,
    /// Drop eligible.
    pub dei: bool,
    /// Use customer addresses.
    pub uca: bool,
    /// Service instance (24 bits).
    pub isid: u32,
    /// Customer destination.
    pub customer_dst: EthernetAddress,
    /// Customer source.
    pub customer_src: EthernetAddress,
    /// Customer EtherType.
    pub ethertype: EtherType,
}

impl PbbRepr {
    /// Reads an I-tag (reserved bits are ignored).
    pub fn parse<T: AsRef<[u8]>>(t: &PbbITag<T>) -> Result<PbbRepr> {
        t.check_len()?;
        Ok(PbbRepr {
            pcp: t.pcp(),
            dei: t.dei(),
            uca: t.uca(),
            isid: t.isid(),
            customer_dst: t.customer_dst(),
            customer_src: t.customer_src(),
            ethertype: t.ethertype(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the I-tag (reserved bits zero) and customer header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, t: &mut PbbITag<T>) -> Result<()> {
        if self.pcp > 7 || self.isid > ISID_MAX {
            return Err(Error::Malformed);
        }
        t.check_len().map_err(|_| Error::BufferTooSmall)?;
        let itci = (u32::from(self.pcp) << PCP_SHIFT)
            | if self.dei { DEI_BIT } else { 0 }
            | if self.uca { UCA_BIT } else { 0 }
            | self.isid;
        set_u32(t.buffer.as_mut(), field::ITCI, itci);
        t.set_customer_dst(self.customer_dst);
        t.set_customer_src(self.customer_src);
        t.set_ethertype(self.ethertype);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // PCP 3, DEI 0, UCA 1, I-SID 0xabcdef; C-DA 02:..:02, C-SA 02:..:01; IPv4.
    const ITAG: [u8; 18] = [
        0x68, 0xab, 0xcd, 0xef, 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
    ];

    fn repr() -> PbbRepr {
        PbbRepr {
            pcp: 3,
            dei: false,
            uca: true,
            isid: 0xabcdef,
            customer_dst: EthernetAddress([2, 0, 0, 0, 0, 2]),
            customer_src: EthernetAddress([2, 0, 0, 0, 0, 1]),
            ethertype: EtherType::Ipv4,
        }
    }

    #[test]
    fn parse() {
        let t = PbbITag::new_checked(&ITAG[..]).unwrap();
        assert_eq!(PbbRepr::parse(&t).unwrap(), repr());
        assert!(t.payload().is_empty());
        assert_eq!(
            PbbITag::new_checked(&ITAG[..17]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 19];
        repr()
            .emit(&mut PbbITag::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(&buf[..18], &ITAG[..]);
        assert_eq!(buf[18], 0xa5);
    }

    #[test]
    fn setters() {
        let mut buf = ITAG;
        let mut t = PbbITag::new_unchecked(&mut buf[..]);
        t.set_isid(0x0100_0001);
        t.set_pcp(7);
        assert_eq!((t.isid(), t.pcp(), t.uca()), (0x000001, 7, true));
    }
}
