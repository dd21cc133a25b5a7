//! Ethernet II frames (IEEE 802.3 with an EtherType, no FCS).

use core::fmt;

use super::{get_array, get_u16, protocol_enum, set_u16, Error, Result};

protocol_enum! {
    /// An EtherType: the protocol of an Ethernet payload or of the header after a tag.
    pub enum EtherType(u16) {
        /// IPv4.
        Ipv4 = 0x0800,
        /// ARP.
        Arp = 0x0806,
        /// IEEE 802.1Q VLAN tag (C-tag).
        Vlan = 0x8100,
        /// IPv6.
        Ipv6 = 0x86dd,
        /// MPLS unicast.
        Mpls = 0x8847,
        /// MPLS multicast.
        MplsMulticast = 0x8848,
        /// IEEE 802.1ad provider bridging (QinQ S-tag).
        QinQ = 0x88a8,
        /// LLDP (IEEE 802.1AB).
        Lldp = 0x88cc,
        /// IEEE 802.1ah provider backbone bridging I-tag.
        Pbb = 0x88e7,
    }
}

impl EtherType {
    /// Whether this type announces an 802.1Q or 802.1ad tag.
    #[inline]
    pub fn is_vlan(self) -> bool {
        matches!(self, EtherType::Vlan | EtherType::QinQ)
    }

    /// Whether this type announces an MPLS label stack.
    #[inline]
    pub fn is_mpls(self) -> bool {
        matches!(self, EtherType::Mpls | EtherType::MplsMulticast)
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Unknown(n) => write!(f, "0x{n:04x}"),
            known => write!(f, "{known:?}"),
        }
    }
}

/// A 48-bit Ethernet (MAC) address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// The address as bytes, in wire order.
    #[inline]
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Whether this is the broadcast address.
    #[inline]
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Whether the group bit is set (multicast, broadcast included).
    #[inline]
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual (unicast) address.
    #[inline]
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the locally-administered bit is set.
    #[inline]
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl From<[u8; 6]> for EthernetAddress {
    fn from(b: [u8; 6]) -> Self {
        EthernetAddress(b)
    }
}

impl From<EthernetAddress> for [u8; 6] {
    fn from(a: EthernetAddress) -> Self {
        a.0
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

mod field {
    use crate::wire::{Field, Rest};

    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: Rest = 14..;
}

/// Length of an Ethernet II header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// Offset of the EtherType: where a pushed VLAN tag goes, after the two addresses.
pub const ETHERTYPE_OFFSET: usize = field::ETHERTYPE.start;

/// A view of an Ethernet II frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Ok if the buffer holds the 14-byte header.
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

    /// Length of the header.
    #[inline]
    pub const fn header_len() -> usize {
        HEADER_LEN
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress(get_array(self.buffer.as_ref(), field::DESTINATION))
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress(get_array(self.buffer.as_ref(), field::SOURCE))
    }

    /// EtherType of the payload (a tag type when the frame is tagged).
    #[inline]
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// The payload: everything after the header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    #[inline]
    pub fn set_dst_addr(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&value.0);
    }

    /// Sets the source address.
    #[inline]
    pub fn set_src_addr(&mut self, value: EthernetAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&value.0);
    }

    /// Sets the EtherType.
    #[inline]
    pub fn set_ethertype(&mut self, value: EtherType) {
        set_u16(self.buffer.as_mut(), field::ETHERTYPE, value.into());
    }

    /// The payload, mutable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for EthernetFrame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// Smallest value of the type/length field that is an EtherType; below it the field is an
/// IEEE 802.3 length and an LLC header follows.
pub const ETHERTYPE_MIN: u16 = 0x0600;

mod snap_field {
    use crate::wire::Field;

    pub const DSAP: usize = 0;
    pub const SSAP: usize = 1;
    pub const CONTROL: usize = 2;
    pub const OUI: Field = 3..6;
    pub const ETHERTYPE: Field = 6..8;
}

/// Length of an LLC header with a SNAP extension.
pub const SNAP_HEADER_LEN: usize = snap_field::ETHERTYPE.end;

/// For the payload of an IEEE 802.3 frame (type/length field below [`ETHERTYPE_MIN`]):
/// the EtherType carried by an LLC/SNAP header with a zero OUI (RFC 1042), `None` for any
/// other LLC payload (or one too short).
pub fn snap_ethertype(llc: &[u8]) -> Option<EtherType> {
    if llc.len() < SNAP_HEADER_LEN
        || llc[snap_field::DSAP] != 0xaa
        || llc[snap_field::SSAP] != 0xaa
        || llc[snap_field::CONTROL] != 0x03
        || llc[snap_field::OUI] != [0, 0, 0]
    {
        return None;
    }
    Some(EtherType::from(get_u16(llc, snap_field::ETHERTYPE)))
}

/// An Ethernet II header as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Source address.
    pub src_addr: EthernetAddress,
    /// Destination address.
    pub dst_addr: EthernetAddress,
    /// EtherType.
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Reads the header of a frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        frame.check_len()?;
        Ok(EthernetRepr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header (the payload is left alone).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) -> Result<()> {
        frame.check_len().map_err(|_| Error::BufferTooSmall)?;
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An IPv4 frame: 00:11:22:33:44:55 <- 02:00:00:00:00:01, then 4 payload bytes.
    const FRAME: [u8; 18] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0xde,
        0xad, 0xbe, 0xef,
    ];

    fn repr() -> EthernetRepr {
        EthernetRepr {
            dst_addr: EthernetAddress([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
            src_addr: EthernetAddress([0x02, 0, 0, 0, 0, 0x01]),
            ethertype: EtherType::Ipv4,
        }
    }

    #[test]
    fn parse() {
        let frame = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(
            frame.dst_addr(),
            EthernetAddress([0x00, 0x11, 0x22, 0x33, 0x44, 0x55])
        );
        assert_eq!(frame.src_addr().to_string(), "02:00:00:00:00:01");
        assert_eq!(frame.ethertype(), EtherType::Ipv4);
        assert_eq!(frame.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(EthernetRepr::parse(&frame).unwrap(), repr());
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 18];
        let r = repr();
        assert_eq!(r.buffer_len(), 14);
        let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
        r.emit(&mut frame).unwrap();
        frame
            .payload_mut()
            .copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(buf, FRAME);
    }

    #[test]
    fn emit_leaves_payload_alone() {
        let mut buf = [0xa5u8; 16];
        repr()
            .emit(&mut EthernetFrame::new_unchecked(&mut buf[..]))
            .unwrap();
        assert_eq!(&buf[14..], &[0xa5, 0xa5]);
        assert_eq!(&buf[..14], &FRAME[..14]);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            EthernetFrame::new_checked(&FRAME[..13]).unwrap_err(),
            Error::Truncated
        );
        let mut small = [0u8; 10];
        let err = repr().emit(&mut EthernetFrame::new_unchecked(&mut small[..]));
        assert_eq!(err, Err(Error::BufferTooSmall));
        assert!(EthernetFrame::new_checked(&FRAME[..14])
            .unwrap()
            .payload()
            .is_empty());
    }

    #[test]
    fn ethertypes() {
        for (n, t) in [
            (0x0800, EtherType::Ipv4),
            (0x0806, EtherType::Arp),
            (0x8100, EtherType::Vlan),
            (0x88a8, EtherType::QinQ),
            (0x86dd, EtherType::Ipv6),
            (0x8847, EtherType::Mpls),
            (0x8848, EtherType::MplsMulticast),
            (0x88e7, EtherType::Pbb),
            (0x88cc, EtherType::Lldp),
            (0x1234, EtherType::Unknown(0x1234)),
        ] {
            assert_eq!(EtherType::from(n), t);
            assert_eq!(u16::from(t), n);
        }
        assert!(EtherType::QinQ.is_vlan() && EtherType::Vlan.is_vlan());
        assert!(!EtherType::Ipv4.is_vlan());
        assert!(EtherType::MplsMulticast.is_mpls());
        assert_eq!(EtherType::Unknown(0x9100).to_string(), "0x9100");
    }

    #[test]
    fn snap() {
        let llc = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06, 0xff];
        assert_eq!(snap_ethertype(&llc), Some(EtherType::Arp));
        assert_eq!(snap_ethertype(&llc[..7]), None);
        let mut cisco = llc;
        cisco[5] = 0x0c; // a non-zero OUI
        assert_eq!(snap_ethertype(&cisco), None);
        assert_eq!(snap_ethertype(&[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]), None); // STP
    }

    #[test]
    fn address_classes() {
        assert!(EthernetAddress::BROADCAST.is_broadcast());
        assert!(EthernetAddress::BROADCAST.is_multicast());
        let lldp = EthernetAddress([0x01, 0x80, 0xc2, 0, 0, 0x0e]);
        assert!(lldp.is_multicast() && !lldp.is_broadcast());
        let local = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
        assert!(local.is_unicast() && local.is_local());
        assert_eq!(format!("{local:?}"), "02:00:00:00:00:01");
    }
}
