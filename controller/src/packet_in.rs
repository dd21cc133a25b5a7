//! A zero-copy view of an `OFPT_PACKET_IN` message, for the hot path.
//!
//! Packet-ins are most of what a controller reads: under cbench every message but the
//! handshake is one. Decoding each into the codec's [`PacketIn`] model would copy the
//! frame and allocate a match per message, so the controller reads packet-ins through
//! this view instead: the fixed fields are read in place, the frame is a slice of the
//! received bytes, and the 1.3 match is walked only far enough to find `in_port`.
//! [`PacketInView::to_model`] gives the full model (every match field) when an app wants
//! it; the codec does that decoding, so both paths agree on what a packet-in means.
//!
//! Layouts (after the 8-byte `ofp_header`):
//!
//! ```text
//! 1.0: buffer_id u32 | total_len u16 | in_port u16 | reason u8 | pad u8 | data ...
//! 1.3: buffer_id u32 | total_len u16 | reason u8 | table_id u8 | cookie u64 |
//!      ofp_match (type u16, length u16, OXM TLVs, padded to 8) | pad[2] | data ...
//! ```
//!
//! After [`PacketInView::parse`] succeeds no accessor panics: every offset was checked.

use flowlab_openflow::model::{OxmId, PacketIn, PortNo};
use flowlab_openflow::{v10, v13, DecodeError, Message};

/// Byte ranges of the fixed parts, from the start of the message (header included).
mod field {
    use std::ops::Range;
    pub const BUFFER_ID: Range<usize> = 8..12;
    pub const TOTAL_LEN: Range<usize> = 12..14;
    /// 1.0 only.
    pub const V10_IN_PORT: Range<usize> = 14..16;
    /// 1.0 only.
    pub const V10_REASON: usize = 16;
    /// 1.0: where the frame starts (the C struct is padded to 20, the frame starts at 18).
    pub const V10_DATA: usize = 18;
    /// 1.3 only.
    pub const V13_REASON: usize = 14;
    /// 1.3 only.
    pub const V13_TABLE_ID: usize = 15;
    /// 1.3 only.
    pub const V13_COOKIE: Range<usize> = 16..24;
    /// 1.3: where `ofp_match` starts.
    pub const V13_MATCH: usize = 24;
}

/// Why bytes are not a packet-in this view can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketInError {
    /// The message is not an `OFPT_PACKET_IN`.
    #[error("not a packet-in")]
    NotPacketIn,
    /// The header's version is neither 1.0 nor 1.3.
    #[error("unsupported version {0:#04x}")]
    BadVersion(u8),
    /// The message ends before its fixed part, or its length field disagrees with it.
    #[error("truncated packet-in")]
    Truncated,
    /// The 1.3 match is malformed (bad type or length, or an OXM that overruns it).
    #[error("bad match in packet-in")]
    BadMatch,
    /// The message carries no input port (a 1.3 match without `in_port`).
    #[error("packet-in without in_port")]
    NoInPort,
}

/// A packet-in read in place. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInView<'a> {
    msg: &'a [u8],
    in_port: PortNo,
    /// 1.3: the OXM TLVs of the match (without its 4-byte header and padding).
    oxm: &'a [u8],
    data_at: usize,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> PacketInView<'a> {
    /// Reads the packet-in message `msg` (header included, exactly one message: bytes past
    /// the header's length are not part of it).
    pub fn parse(msg: &'a [u8]) -> Result<PacketInView<'a>, PacketInError> {
        if msg.len() < 8 {
            return Err(PacketInError::Truncated);
        }
        let len = usize::from(be16(msg, 2));
        let msg = msg.get(..len).ok_or(PacketInError::Truncated)?;
        let (version, msg_type) = (msg[0], msg[1]);
        match version {
            v10::VERSION => {
                if msg_type != v10::msg_type::PACKET_IN {
                    return Err(PacketInError::NotPacketIn);
                }
                if msg.len() < field::V10_DATA {
                    return Err(PacketInError::Truncated);
                }
                let in_port = PortNo::from_v10(be16(msg, field::V10_IN_PORT.start));
                Ok(PacketInView {
                    msg,
                    in_port,
                    oxm: &[],
                    data_at: field::V10_DATA,
                })
            }
            v13::VERSION => {
                if msg_type != v13::msg_type::PACKET_IN {
                    return Err(PacketInError::NotPacketIn);
                }
                let m = field::V13_MATCH;
                if msg.len() < m + 4 {
                    return Err(PacketInError::Truncated);
                }
                let (match_type, match_len) = (be16(msg, m), usize::from(be16(msg, m + 2)));
                if match_type != 1 || match_len < 4 {
                    return Err(PacketInError::BadMatch);
                }
                let padded = match_len.div_ceil(8) * 8;
                // The match (padded), then two bytes of padding, then the frame.
                let data_at = m + padded + 2;
                if msg.len() < data_at {
                    return Err(PacketInError::Truncated);
                }
                let oxm = &msg[m + 4..m + match_len];
                let in_port = find_in_port(oxm)?.ok_or(PacketInError::NoInPort)?;
                Ok(PacketInView {
                    msg,
                    in_port,
                    oxm,
                    data_at,
                })
            }
            v => Err(PacketInError::BadVersion(v)),
        }
    }

    /// The wire version (0x01 or 0x04).
    pub fn version(&self) -> u8 {
        self.msg[0]
    }

    /// The transaction id of the message.
    pub fn xid(&self) -> u32 {
        be32(self.msg, 4)
    }

    /// The switch's buffer id, or [`NO_BUFFER`](flowlab_openflow::NO_BUFFER).
    pub fn buffer_id(&self) -> u32 {
        be32(self.msg, field::BUFFER_ID.start)
    }

    /// The full length of the frame on the switch (the data may be cut shorter).
    pub fn total_len(&self) -> u16 {
        be16(self.msg, field::TOTAL_LEN.start)
    }

    /// Why the switch sent it (`OFPR_NO_MATCH` 0, `OFPR_ACTION` 1, `OFPR_INVALID_TTL` 2).
    pub fn reason(&self) -> u8 {
        if self.version() == v10::VERSION {
            self.msg[field::V10_REASON]
        } else {
            self.msg[field::V13_REASON]
        }
    }

    /// The table looked up (1.3; 0 for 1.0).
    pub fn table_id(&self) -> u8 {
        if self.version() == v10::VERSION {
            0
        } else {
            self.msg[field::V13_TABLE_ID]
        }
    }

    /// The cookie of the flow entry that sent it (1.3; all ones for 1.0, as the codec).
    pub fn cookie(&self) -> u64 {
        if self.version() == v10::VERSION {
            u64::MAX
        } else {
            let c = &self.msg[field::V13_COOKIE];
            u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
        }
    }

    /// The input port.
    pub fn in_port(&self) -> PortNo {
        self.in_port
    }

    /// The frame (or its first bytes, see [`PacketInView::total_len`]).
    pub fn data(&self) -> &'a [u8] {
        &self.msg[self.data_at..]
    }

    /// The whole message, header included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.msg
    }

    /// The 1.3 match's OXM TLVs (empty for 1.0).
    pub fn oxm_bytes(&self) -> &'a [u8] {
        self.oxm
    }

    /// Whether the switch buffered the packet (a packet-out or flow-mod naming
    /// [`PacketInView::buffer_id`] releases it).
    pub fn is_buffered(&self) -> bool {
        self.buffer_id() != flowlab_openflow::NO_BUFFER
    }

    /// The frame's Ethernet destination, if the data holds one.
    pub fn eth_dst(&self) -> Option<[u8; 6]> {
        self.data().get(0..6).and_then(|b| b.try_into().ok())
    }

    /// The frame's Ethernet source, if the data holds one.
    pub fn eth_src(&self) -> Option<[u8; 6]> {
        self.data().get(6..12).and_then(|b| b.try_into().ok())
    }

    /// The frame's EtherType (the outer one: a VLAN tag shows as 0x8100).
    pub fn eth_type(&self) -> Option<u16> {
        self.data()
            .get(12..14)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// The codec's full model of the message (every match field, an owned copy of the
    /// frame).
    pub fn to_model(&self) -> Result<PacketIn, DecodeError> {
        match flowlab_openflow::decode(self.msg)? {
            (_, Message::PacketIn(p)) => Ok(p),
            (h, _) => Err(DecodeError::BadType {
                version: h.version,
                msg_type: h.msg_type,
            }),
        }
    }
}

/// Walks OXM TLVs for `in_port` (OXM header: class u16, field u7, has_mask u1, length u8).
fn find_in_port(mut oxm: &[u8]) -> Result<Option<PortNo>, PacketInError> {
    let in_port_field = OxmId::InPort.field();
    while !oxm.is_empty() {
        if oxm.len() < 4 {
            return Err(PacketInError::BadMatch);
        }
        let class = be16(oxm, 0);
        let field = oxm[2] >> 1;
        let has_mask = oxm[2] & 1 != 0;
        let len = usize::from(oxm[3]);
        let tlv = oxm.get(..4 + len).ok_or(PacketInError::BadMatch)?;
        if class == flowlab_openflow::model::oxm::OXM_CLASS_BASIC
            && field == in_port_field
            && !has_mask
            && len == 4
        {
            return Ok(Some(PortNo(be32(tlv, 4))));
        }
        oxm = &oxm[4 + len..];
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlab_openflow::model::{Match, OxmField};
    use flowlab_openflow::NO_BUFFER;

    fn frame() -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&[0x88, 0xb5]);
        f
    }

    fn encoded(version: u8, pi: &PacketIn) -> Vec<u8> {
        let mut out = Vec::new();
        flowlab_openflow::encode(version, 77, &Message::PacketIn(pi.clone()), &mut out).unwrap();
        out
    }

    fn model(match_: Match, buffer_id: u32) -> PacketIn {
        PacketIn {
            buffer_id,
            total_len: 60,
            reason: 1,
            table_id: 3,
            cookie: 0x1122_3344_5566_7788,
            match_,
            data: frame(),
        }
    }

    #[test]
    fn reads_a_v13_packet_in_in_place_and_agrees_with_the_codec() {
        // in_port after other fields, and a masked field, so the walk must skip TLVs.
        let m = Match::new()
            .with(OxmField::eth_type(0x88b5))
            .with(OxmField::from_uint_masked(OxmId::Metadata, 5, 0xff))
            .with(OxmField::in_port(PortNo(7)));
        let pi = model(m, 0x42);
        let bytes = encoded(4, &pi);
        let v = PacketInView::parse(&bytes).unwrap();
        assert_eq!(v.version(), 4);
        assert_eq!(v.xid(), 77);
        assert_eq!(v.in_port(), PortNo(7));
        assert_eq!(v.buffer_id(), 0x42);
        assert!(v.is_buffered());
        assert_eq!(v.total_len(), 60);
        assert_eq!((v.reason(), v.table_id()), (1, 3));
        assert_eq!(v.cookie(), 0x1122_3344_5566_7788);
        assert_eq!(v.data(), &frame()[..]);
        assert_eq!(v.eth_src(), Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(v.eth_dst(), Some([2, 0, 0, 0, 0, 2]));
        assert_eq!(v.eth_type(), Some(0x88b5));
        assert_eq!(v.to_model().unwrap(), pi);
    }

    #[test]
    fn reads_a_v10_packet_in() {
        let pi = model(Match::new().with(OxmField::in_port(PortNo(3))), NO_BUFFER);
        let bytes = encoded(1, &pi);
        let v = PacketInView::parse(&bytes).unwrap();
        assert_eq!(v.version(), 1);
        assert_eq!(v.in_port(), PortNo(3));
        assert!(!v.is_buffered());
        assert_eq!(v.reason(), 1);
        assert_eq!(v.data(), &frame()[..]);
        assert_eq!(v.cookie(), u64::MAX);
        let back = v.to_model().unwrap();
        assert_eq!(back.in_port(), Some(PortNo(3)));
        assert_eq!(back.data, frame());
    }

    #[test]
    fn every_truncation_is_an_error_never_a_panic() {
        for version in [1u8, 4] {
            let pi = model(Match::new().with(OxmField::in_port(PortNo(9))), 1);
            let bytes = encoded(version, &pi);
            for cut in 0..bytes.len() {
                let mut b = bytes[..cut].to_vec();
                if b.len() >= 4 {
                    // A length field that agrees with the cut bytes.
                    b[2..4].copy_from_slice(&(cut as u16).to_be_bytes());
                }
                let r = PacketInView::parse(&b);
                // Cutting only frame bytes leaves a valid, shorter packet-in.
                let header_len = if version == 1 { 18 } else { bytes.len() - 60 };
                assert_eq!(r.is_ok(), cut >= header_len, "v{version} cut {cut}: {r:?}");
            }
        }
    }

    #[test]
    fn a_bad_match_or_another_message_is_refused() {
        let pi = model(Match::new().with(OxmField::eth_type(0x800)), 1);
        assert_eq!(
            PacketInView::parse(&encoded(4, &pi)),
            Err(PacketInError::NoInPort)
        );
        let mut bytes = encoded(
            4,
            &model(Match::new().with(OxmField::in_port(PortNo(1))), 1),
        );
        bytes[field::V13_MATCH + 7] = 200; // the OXM's length overruns the match
        assert_eq!(PacketInView::parse(&bytes), Err(PacketInError::BadMatch));
        let mut other = Vec::new();
        flowlab_openflow::encode(4, 1, &Message::BarrierReply, &mut other).unwrap();
        assert_eq!(PacketInView::parse(&other), Err(PacketInError::NotPacketIn));
        other[0] = 5;
        assert_eq!(
            PacketInView::parse(&other),
            Err(PacketInError::BadVersion(5))
        );
    }
}
