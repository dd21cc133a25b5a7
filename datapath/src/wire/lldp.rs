//! LLDP (IEEE 802.1AB) data units: a TLV view, an iterator, and a minimal LLDPDU.
//!
//! An LLDPDU is the payload of an Ethernet frame of type 0x88cc: a run of TLVs, each with
//! a 16-bit header of a 7-bit type and a 9-bit value length. It opens with Chassis ID,
//! Port ID and Time To Live, in that order, and closes with End Of LLDPDU:
//!
//! ```text
//! +--------+--------+----------------------------+
//! | type(7)|   length (9)   | value (length bytes)|
//! +--------+--------+----------------------------+
//! ```
//!
//! [`LldpRepr`] is that minimal LLDPDU — what a controller sends out of every port to
//! discover links — and [`LldpRepr::emit_frame`] writes it as a whole Ethernet frame.

use super::{
    get_u16, protocol_enum, set_u16, Error, EtherType, EthernetAddress, EthernetFrame,
    EthernetRepr, Result,
};

protocol_enum! {
    /// LLDP TLV type.
    pub enum LldpTlvType(u8) {
        /// End of LLDPDU.
        End = 0,
        /// Chassis ID.
        ChassisId = 1,
        /// Port ID.
        PortId = 2,
        /// Time to live.
        Ttl = 3,
        /// Port description.
        PortDescription = 4,
        /// System name.
        SystemName = 5,
        /// System description.
        SystemDescription = 6,
        /// System capabilities.
        SystemCapabilities = 7,
        /// Management address.
        ManagementAddress = 8,
        /// Organizationally specific.
        OrgSpecific = 127,
    }
}

/// Chassis ID subtypes (802.1AB §8.5.2.2).
pub mod chassis_subtype {
    /// Chassis component (entPhysicalAlias).
    pub const CHASSIS_COMPONENT: u8 = 1;
    /// Interface alias.
    pub const INTERFACE_ALIAS: u8 = 2;
    /// Port component.
    pub const PORT_COMPONENT: u8 = 3;
    /// MAC address.
    pub const MAC_ADDRESS: u8 = 4;
    /// Network address.
    pub const NETWORK_ADDRESS: u8 = 5;
    /// Interface name.
    pub const INTERFACE_NAME: u8 = 6;
    /// Locally assigned.
    pub const LOCALLY_ASSIGNED: u8 = 7;
}

/// Port ID subtypes (802.1AB §8.5.3.2).
pub mod port_subtype {
    /// Interface alias.
    pub const INTERFACE_ALIAS: u8 = 1;
    /// Port component.
    pub const PORT_COMPONENT: u8 = 2;
    /// MAC address.
    pub const MAC_ADDRESS: u8 = 3;
    /// Network address.
    pub const NETWORK_ADDRESS: u8 = 4;
    /// Interface name.
    pub const INTERFACE_NAME: u8 = 5;
    /// Agent circuit ID.
    pub const AGENT_CIRCUIT_ID: u8 = 6;
    /// Locally assigned.
    pub const LOCALLY_ASSIGNED: u8 = 7;
}

/// The nearest-bridge group address LLDP is sent to (never forwarded by 802.1D bridges).
pub const MULTICAST_NEAREST_BRIDGE: EthernetAddress =
    EthernetAddress([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]);

/// Shortest Ethernet frame without FCS; [`LldpRepr::emit_frame`] pads up to it.
pub const MIN_FRAME_LEN: usize = 60;

mod field {
    use crate::wire::{Field, Rest};

    pub const TYPE_LEN: Field = 0..2;
    pub const VALUE: Rest = 2..;
}

/// Length of a TLV header.
pub const HEADER_LEN: usize = field::VALUE.start;

/// Longest TLV value (9 bits).
pub const VALUE_MAX: usize = 511;

/// Shortest and longest chassis/port id (subtype byte plus 1..=255 bytes of id).
const ID_LEN: core::ops::RangeInclusive<usize> = 2..=256;
const TTL_LEN: usize = 2;

/// A view of one TLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LldpTlv<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> LldpTlv<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        LldpTlv { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let t = Self::new_unchecked(buffer);
        t.check_len()?;
        Ok(t)
    }

    /// Ok if the buffer holds the header and the value its length announces.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < self.total_len() {
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

    /// TLV type.
    #[inline]
    pub fn tlv_type(&self) -> LldpTlvType {
        LldpTlvType::from((get_u16(self.buffer.as_ref(), field::TYPE_LEN) >> 9) as u8)
    }

    /// Length of the value.
    #[inline]
    pub fn value_len(&self) -> usize {
        usize::from(get_u16(self.buffer.as_ref(), field::TYPE_LEN) & 0x01ff)
    }

    /// Length of the whole TLV.
    #[inline]
    pub fn total_len(&self) -> usize {
        HEADER_LEN + self.value_len()
    }

    /// The value.
    #[inline]
    pub fn value(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.total_len()]
    }

    /// The subtype byte and the id of a Chassis ID or Port ID TLV; `None` for other types
    /// or an empty value.
    #[inline]
    pub fn id(&self) -> Option<(u8, &[u8])> {
        match self.tlv_type() {
            LldpTlvType::ChassisId | LldpTlvType::PortId => {
                self.value().split_first().map(|(s, id)| (*s, id))
            }
            _ => None,
        }
    }

    /// The seconds of a Time To Live TLV; `None` for other types or a value not 2 bytes long.
    #[inline]
    pub fn ttl(&self) -> Option<u16> {
        match (self.tlv_type(), self.value()) {
            (LldpTlvType::Ttl, &[a, b]) => Some(u16::from_be_bytes([a, b])),
            _ => None,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> LldpTlv<T> {
    /// Sets type and value length (the length is masked to 9 bits).
    #[inline]
    pub fn set_header(&mut self, tlv_type: LldpTlvType, value_len: usize) {
        let word = (u16::from(u8::from(tlv_type) & 0x7f) << 9) | (value_len & VALUE_MAX) as u16;
        set_u16(self.buffer.as_mut(), field::TYPE_LEN, word);
    }

    /// The value, mutable.
    #[inline]
    pub fn value_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// Iterator over the TLVs of an LLDPDU. Yields each TLV up to and including End Of LLDPDU,
/// or one error (a TLV running past the buffer), then stops.
#[derive(Debug, Clone)]
pub struct LldpTlvIter<'a> {
    rest: &'a [u8],
}

impl<'a> LldpTlvIter<'a> {
    /// Iterates over the TLVs of `lldpdu` (the Ethernet payload).
    #[inline]
    pub fn new(lldpdu: &'a [u8]) -> Self {
        LldpTlvIter { rest: lldpdu }
    }
}

impl<'a> Iterator for LldpTlvIter<'a> {
    type Item = Result<LldpTlv<&'a [u8]>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match LldpTlv::new_checked(self.rest) {
            Ok(t) => {
                let (this, rest) = self.rest.split_at(t.total_len());
                self.rest = if t.tlv_type() == LldpTlvType::End {
                    &[]
                } else {
                    rest
                };
                Some(Ok(LldpTlv::new_unchecked(this)))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for LldpTlvIter<'_> {}

/// A chassis or port identifier: a subtype and 1..=255 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LldpId<'a> {
    /// Subtype ([`chassis_subtype`] or [`port_subtype`]).
    pub subtype: u8,
    /// The identifier.
    pub id: &'a [u8],
}

/// A minimal LLDPDU: the three mandatory TLVs (other TLVs are skipped when parsing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LldpRepr<'a> {
    /// Chassis ID.
    pub chassis_id: LldpId<'a>,
    /// Port ID.
    pub port_id: LldpId<'a>,
    /// Time to live in seconds (0: forget this neighbor).
    pub ttl: u16,
}

impl<'a> LldpRepr<'a> {
    /// Reads an LLDPDU: Chassis ID, Port ID and TTL first and in that order, with valid
    /// lengths (`Malformed` otherwise); the rest up to End (or the end of the buffer) must
    /// be well-formed TLVs.
    pub fn parse(lldpdu: &'a [u8]) -> Result<LldpRepr<'a>> {
        let mut tlvs = LldpTlvIter::new(lldpdu);
        let mut next_id = |want: LldpTlvType| -> Result<LldpId<'a>> {
            let t = tlvs.next().ok_or(Error::Truncated)??;
            let len = t.value_len();
            if t.tlv_type() != want || !ID_LEN.contains(&len) {
                return Err(Error::Malformed);
            }
            // Slice the input itself, so that the id borrows for 'a, not from the view.
            let tlv: &'a [u8] = t.into_inner();
            let value = &tlv[HEADER_LEN..HEADER_LEN + len];
            Ok(LldpId {
                subtype: value[0],
                id: &value[1..],
            })
        };
        let chassis_id = next_id(LldpTlvType::ChassisId)?;
        let port_id = next_id(LldpTlvType::PortId)?;
        let t = tlvs.next().ok_or(Error::Truncated)??;
        if t.value_len() != TTL_LEN {
            return Err(Error::Malformed);
        }
        let ttl = t.ttl().ok_or(Error::Malformed)?;
        for t in tlvs {
            t?;
        }
        Ok(LldpRepr {
            chassis_id,
            port_id,
            ttl,
        })
    }

    /// Bytes [`emit`](Self::emit) writes: the three TLVs and End.
    pub fn buffer_len(&self) -> usize {
        3 * HEADER_LEN + 2 + self.chassis_id.id.len() + self.port_id.id.len() + TTL_LEN + HEADER_LEN
    }

    /// Writes the LLDPDU into the front of `buf`; `Malformed` if an id is empty or longer
    /// than 255 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        for id in [self.chassis_id, self.port_id] {
            if !ID_LEN.contains(&(id.id.len() + 1)) {
                return Err(Error::Malformed);
            }
        }
        let buf = buf
            .get_mut(..self.buffer_len())
            .ok_or(Error::BufferTooSmall)?;
        let mut at = 0;
        let mut put = |ty: LldpTlvType, parts: &[&[u8]]| {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            let mut t = LldpTlv::new_unchecked(&mut buf[at..at + HEADER_LEN + len]);
            t.set_header(ty, len);
            let mut o = 0;
            for p in parts {
                t.value_mut()[o..o + p.len()].copy_from_slice(p);
                o += p.len();
            }
            at += HEADER_LEN + len;
        };
        put(
            LldpTlvType::ChassisId,
            &[&[self.chassis_id.subtype], self.chassis_id.id],
        );
        put(
            LldpTlvType::PortId,
            &[&[self.port_id.subtype], self.port_id.id],
        );
        put(LldpTlvType::Ttl, &[&self.ttl.to_be_bytes()]);
        put(LldpTlvType::End, &[]);
        Ok(())
    }

    /// Length of the frame [`emit_frame`](Self::emit_frame) writes (padded to 60 bytes).
    pub fn frame_len(&self) -> usize {
        (super::ethernet::HEADER_LEN + self.buffer_len()).max(MIN_FRAME_LEN)
    }

    /// Writes a whole Ethernet frame from `src` to the nearest-bridge group address,
    /// zero-padded to the minimum frame length, and returns its length.
    pub fn emit_frame(&self, src: EthernetAddress, buf: &mut [u8]) -> Result<usize> {
        let len = self.frame_len();
        let buf = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut frame = EthernetFrame::new_unchecked(&mut *buf);
        EthernetRepr {
            src_addr: src,
            dst_addr: MULTICAST_NEAREST_BRIDGE,
            ethertype: EtherType::Lldp,
        }
        .emit(&mut frame)?;
        let payload = frame.payload_mut();
        self.emit(payload)?;
        payload[self.buffer_len()..].fill(0);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Chassis: MAC 02:00:00:00:00:01; port: locally assigned "1"; TTL 120;
    // a System Name "sw1"; End.
    const LLDPDU: [u8; 31] = [
        0x02, 0x07, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // chassis id
        0x04, 0x02, 0x07, b'1', // port id
        0x06, 0x02, 0x00, 0x78, // ttl
        0x0a, 0x03, b's', b'w', b'1', // system name
        0x00, 0x00, // end
        0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, // junk after End: ignored
    ];

    const CHASSIS: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

    fn repr() -> LldpRepr<'static> {
        LldpRepr {
            chassis_id: LldpId {
                subtype: chassis_subtype::MAC_ADDRESS,
                id: &CHASSIS,
            },
            port_id: LldpId {
                subtype: port_subtype::LOCALLY_ASSIGNED,
                id: b"1",
            },
            ttl: 120,
        }
    }

    #[test]
    fn iterate() {
        let tlvs: Vec<_> = LldpTlvIter::new(&LLDPDU).map(|t| t.unwrap()).collect();
        let types: Vec<_> = tlvs.iter().map(|t| t.tlv_type()).collect();
        assert_eq!(
            types,
            [
                LldpTlvType::ChassisId,
                LldpTlvType::PortId,
                LldpTlvType::Ttl,
                LldpTlvType::SystemName,
                LldpTlvType::End
            ]
        );
        assert_eq!(tlvs[0].id(), Some((4, &CHASSIS[..])));
        assert_eq!(tlvs[1].id(), Some((7, &b"1"[..])));
        assert_eq!(tlvs[2].ttl(), Some(120));
        assert_eq!(tlvs[3].value(), b"sw1");
        assert_eq!(tlvs[3].id(), None);
        assert_eq!(tlvs[4].value_len(), 0);
    }

    #[test]
    fn parse() {
        assert_eq!(LldpRepr::parse(&LLDPDU).unwrap(), repr());
    }

    #[test]
    fn emit() {
        let r = repr();
        assert_eq!(r.buffer_len(), 17 + 2);
        let mut buf = [0xa5u8; 20];
        r.emit(&mut buf).unwrap();
        let mut expect = [0u8; 20];
        expect[..17].copy_from_slice(&LLDPDU[..17]);
        expect[17..19].copy_from_slice(&[0, 0]);
        expect[19] = 0xa5;
        assert_eq!(buf, expect);
        assert_eq!(r.emit(&mut [0u8; 18]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn emit_frame() {
        let r = repr();
        let mut buf = [0xa5u8; 64];
        let n = r.emit_frame(EthernetAddress(CHASSIS), &mut buf).unwrap();
        assert_eq!(n, 60);
        let frame = EthernetFrame::new_checked(&buf[..n]).unwrap();
        assert_eq!(frame.dst_addr(), MULTICAST_NEAREST_BRIDGE);
        assert_eq!(frame.src_addr(), EthernetAddress(CHASSIS));
        assert_eq!(frame.ethertype(), EtherType::Lldp);
        assert_eq!(LldpRepr::parse(frame.payload()).unwrap(), r);
        assert!(buf[14 + 19..60].iter().all(|&b| b == 0));
        assert!(buf[60..].iter().all(|&b| b == 0xa5));

        // A long port name makes a frame longer than the minimum.
        let long = [b'p'; 100];
        let r2 = LldpRepr {
            port_id: LldpId {
                subtype: port_subtype::INTERFACE_NAME,
                id: &long,
            },
            ..r
        };
        let mut big = [0u8; 200];
        let n = r2.emit_frame(EthernetAddress(CHASSIS), &mut big).unwrap();
        assert_eq!(n, 14 + r2.buffer_len());
        assert_eq!(LldpRepr::parse(&big[14..n]).unwrap(), r2);
    }

    #[test]
    fn malformed() {
        // Order: Port ID first.
        let mut m = LLDPDU;
        m[0] = 0x04;
        assert_eq!(LldpRepr::parse(&m), Err(Error::Malformed));
        // TTL of 3 bytes.
        let mut m = LLDPDU;
        m[14] = 0x03;
        assert!(LldpRepr::parse(&m).is_err());
        // A TLV running past the end.
        assert_eq!(LldpRepr::parse(&LLDPDU[..20]), Err(Error::Truncated));
        assert_eq!(LldpRepr::parse(&LLDPDU[..8]), Err(Error::Truncated));
        assert_eq!(LldpRepr::parse(&[]), Err(Error::Truncated));
        // An empty id cannot be emitted.
        let bad = LldpRepr {
            port_id: LldpId {
                subtype: 7,
                id: b"",
            },
            ..repr()
        };
        assert_eq!(bad.emit(&mut [0u8; 64]), Err(Error::Malformed));
        // The iterator stops after one error.
        let errs: Vec<_> = LldpTlvIter::new(&LLDPDU[..20])
            .filter(|t| t.is_err())
            .collect();
        assert_eq!(errs, vec![Err(Error::Truncated)]);
        assert_eq!(LldpTlvIter::new(&LLDPDU[..20]).count(), 4);
    }
}
