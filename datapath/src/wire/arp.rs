//! ARP (RFC 826).
//!
//! The view reads any hardware/protocol address length; [`ArpRepr`] represents the one
//! combination a switch meets: Ethernet hardware addresses and IPv4 protocol addresses.

use core::net::Ipv4Addr;

use super::{get_u16, protocol_enum, set_u16, Error, EtherType, EthernetAddress, Field, Result};

protocol_enum! {
    /// ARP operation code.
    pub enum ArpOperation(u16) {
        /// Who has this protocol address?
        Request = 1,
        /// This hardware address has it.
        Reply = 2,
        /// RARP request.
        ReverseRequest = 3,
        /// RARP reply.
        ReverseReply = 4,
    }
}

/// ARP hardware type of Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;

mod field {
    use crate::wire::Field;

    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;

    // The addresses follow the fixed part; their sizes are HLEN and PLEN.
    #[inline]
    pub const fn sha(hlen: u8, _plen: u8) -> Field {
        let start = OPER.end;
        start..start + hlen as usize
    }
    #[inline]
    pub const fn spa(hlen: u8, plen: u8) -> Field {
        let start = sha(hlen, plen).end;
        start..start + plen as usize
    }
    #[inline]
    pub const fn tha(hlen: u8, plen: u8) -> Field {
        let start = spa(hlen, plen).end;
        start..start + hlen as usize
    }
    #[inline]
    pub const fn tpa(hlen: u8, plen: u8) -> Field {
        let start = tha(hlen, plen).end;
        start..start + plen as usize
    }
}

/// Length of the fixed part (before the addresses).
pub const HEADER_LEN: usize = field::OPER.end;

/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = field::tpa(6, 4).end;

/// A view of an ARP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Ok if the buffer holds the fixed part and the four addresses its lengths announce.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < field::tpa(self.hardware_len(), self.protocol_len()).end {
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

    /// Hardware type (1 for Ethernet).
    #[inline]
    pub fn hardware_type(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::HTYPE)
    }

    /// Protocol type, an EtherType.
    #[inline]
    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::PTYPE))
    }

    /// Hardware address length.
    #[inline]
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    #[inline]
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation.
    #[inline]
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(get_u16(self.buffer.as_ref(), field::OPER))
    }

    /// Whether this is the Ethernet/IPv4 layout (hardware type 1, protocol IPv4, lengths
    /// 6 and 4).
    #[inline]
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == HTYPE_ETHERNET
            && self.protocol_type() == EtherType::Ipv4
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }

    #[inline]
    fn addr(&self, f: fn(u8, u8) -> Field) -> &[u8] {
        &self.buffer.as_ref()[f(self.hardware_len(), self.protocol_len())]
    }

    /// Sender hardware address.
    #[inline]
    pub fn source_hardware_addr(&self) -> &[u8] {
        self.addr(field::sha)
    }

    /// Sender protocol address.
    #[inline]
    pub fn source_protocol_addr(&self) -> &[u8] {
        self.addr(field::spa)
    }

    /// Target hardware address.
    #[inline]
    pub fn target_hardware_addr(&self) -> &[u8] {
        self.addr(field::tha)
    }

    /// Target protocol address.
    #[inline]
    pub fn target_protocol_addr(&self) -> &[u8] {
        self.addr(field::tpa)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets the hardware type.
    #[inline]
    pub fn set_hardware_type(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::HTYPE, value);
    }

    /// Sets the protocol type.
    #[inline]
    pub fn set_protocol_type(&mut self, value: EtherType) {
        set_u16(self.buffer.as_mut(), field::PTYPE, value.into());
    }

    /// Sets the hardware address length (this moves the address fields: check the length
    /// again before reading them).
    #[inline]
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    /// Sets the protocol address length (this moves the address fields).
    #[inline]
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    /// Sets the operation.
    #[inline]
    pub fn set_operation(&mut self, value: ArpOperation) {
        set_u16(self.buffer.as_mut(), field::OPER, value.into());
    }

    #[inline]
    fn set_addr(&mut self, f: fn(u8, u8) -> Field, value: &[u8]) {
        let field = f(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[field].copy_from_slice(value);
    }

    /// Sets the sender hardware address.
    ///
    /// # Panics
    ///
    /// If `value` is not [`hardware_len`](ArpPacket::hardware_len) bytes long.
    #[inline]
    pub fn set_source_hardware_addr(&mut self, value: &[u8]) {
        self.set_addr(field::sha, value);
    }

    /// Sets the sender protocol address.
    ///
    /// # Panics
    ///
    /// If `value` is not [`protocol_len`](ArpPacket::protocol_len) bytes long.
    #[inline]
    pub fn set_source_protocol_addr(&mut self, value: &[u8]) {
        self.set_addr(field::spa, value);
    }

    /// Sets the target hardware address.
    ///
    /// # Panics
    ///
    /// If `value` is not [`hardware_len`](ArpPacket::hardware_len) bytes long.
    #[inline]
    pub fn set_target_hardware_addr(&mut self, value: &[u8]) {
        self.set_addr(field::tha, value);
    }

    /// Sets the target protocol address.
    ///
    /// # Panics
    ///
    /// If `value` is not [`protocol_len`](ArpPacket::protocol_len) bytes long.
    #[inline]
    pub fn set_target_protocol_addr(&mut self, value: &[u8]) {
        self.set_addr(field::tpa, value);
    }
}

/// An Ethernet/IPv4 ARP packet as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpRepr {
    /// Ethernet hardware addresses, IPv4 protocol addresses.
    EthernetIpv4 {
        /// Operation.
        operation: ArpOperation,
        /// Sender hardware address.
        source_hardware_addr: EthernetAddress,
        /// Sender protocol address.
        source_protocol_addr: Ipv4Addr,
        /// Target hardware address.
        target_hardware_addr: EthernetAddress,
        /// Target protocol address.
        target_protocol_addr: Ipv4Addr,
    },
}

impl ArpRepr {
    /// Reads an ARP packet; `Unsupported` for anything but Ethernet/IPv4.
    pub fn parse<T: AsRef<[u8]>>(p: &ArpPacket<T>) -> Result<ArpRepr> {
        p.check_len()?;
        if !p.is_ethernet_ipv4() {
            return Err(Error::Unsupported);
        }
        let mac = |b: &[u8]| {
            let mut a = [0u8; 6];
            a.copy_from_slice(b);
            EthernetAddress(a)
        };
        let ip = |b: &[u8]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        Ok(ArpRepr::EthernetIpv4 {
            operation: p.operation(),
            source_hardware_addr: mac(p.source_hardware_addr()),
            source_protocol_addr: ip(p.source_protocol_addr()),
            target_hardware_addr: mac(p.target_hardware_addr()),
            target_protocol_addr: ip(p.target_protocol_addr()),
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        match self {
            ArpRepr::EthernetIpv4 { .. } => ETHERNET_IPV4_LEN,
        }
    }

    /// Writes the packet.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut ArpPacket<T>) -> Result<()> {
        if p.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::BufferTooSmall);
        }
        match *self {
            ArpRepr::EthernetIpv4 {
                operation,
                source_hardware_addr,
                source_protocol_addr,
                target_hardware_addr,
                target_protocol_addr,
            } => {
                p.set_hardware_type(HTYPE_ETHERNET);
                p.set_protocol_type(EtherType::Ipv4);
                p.set_hardware_len(6);
                p.set_protocol_len(4);
                p.set_operation(operation);
                p.set_source_hardware_addr(&source_hardware_addr.0);
                p.set_source_protocol_addr(&source_protocol_addr.octets());
                p.set_target_hardware_addr(&target_hardware_addr.0);
                p.set_target_protocol_addr(&target_protocol_addr.octets());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // who-has 192.0.2.2 tell 192.0.2.1 (02:00:00:00:00:01), plus a byte of padding.
    const REQUEST: [u8; 29] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0,
        0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x02, 0x00,
    ];

    fn repr() -> ArpRepr {
        ArpRepr::EthernetIpv4 {
            operation: ArpOperation::Request,
            source_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            source_protocol_addr: Ipv4Addr::new(192, 0, 2, 1),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: Ipv4Addr::new(192, 0, 2, 2),
        }
    }

    #[test]
    fn parse() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.protocol_type(), EtherType::Ipv4);
        assert_eq!(p.operation(), ArpOperation::Request);
        assert_eq!(p.source_protocol_addr(), &[192, 0, 2, 1]);
        assert_eq!(p.target_protocol_addr(), &[192, 0, 2, 2]);
        assert_eq!(ArpRepr::parse(&p).unwrap(), repr());
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 29];
        let r = repr();
        assert_eq!(r.buffer_len(), 28);
        r.emit(&mut ArpPacket::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(&buf[..28], &REQUEST[..28]);
        assert_eq!(buf[28], 0xa5);
        let mut small = [0u8; 27];
        assert_eq!(
            r.emit(&mut ArpPacket::new_unchecked(&mut small[..])),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn lengths_follow_the_header() {
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..27]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            ArpPacket::new_checked(&REQUEST[..7]).unwrap_err(),
            Error::Truncated
        );
        // Hardware length 255 announces far more bytes than there are.
        let mut long = REQUEST;
        long[4] = 255;
        assert_eq!(
            ArpPacket::new_checked(&long[..]).unwrap_err(),
            Error::Truncated
        );
        // A zero-length layout is checkable and reads empty addresses.
        let mut empty = REQUEST;
        empty[4] = 0;
        empty[5] = 0;
        let p = ArpPacket::new_checked(&empty[..8]).unwrap();
        assert!(p.source_hardware_addr().is_empty() && p.target_protocol_addr().is_empty());
        assert_eq!(ArpRepr::parse(&p), Err(Error::Unsupported));
    }
}
