//! The bytes the emulated switches and the in-process responder put on the wire, and the
//! little they need to read back on the hot path.
//!
//! Every message is built once with the `flowlab-openflow` codec ([`encode`]) into a
//! template; the hot path then only patches a few fields in place (xid, buffer id, input
//! port, the frame's MAC addresses). The offsets of those fields are fixed by the wire
//! formats and written down once per version in the private `field` modules; the tests
//! decode patched templates with the codec to prove them. Responses are classified from
//! the 8-byte header alone (PACKET_OUT is type 13 and FLOW_MOD type 14 in both 1.0 and
//! 1.3), and the buffer id is read at its fixed offset, so counting allocates nothing.

use std::ops::Range;

use flowlab_openflow::{
    encode, v10, v13, Action, FlowMod, Instruction, Match, Message, OxmField, PacketIn, PortNo,
    NO_BUFFER,
};

/// `OFPT_PACKET_OUT`, the same number in 1.0 and 1.3.
pub const PACKET_OUT: u8 = v10::msg_type::PACKET_OUT;
/// `OFPT_FLOW_MOD`, the same number in 1.0 and 1.3.
pub const FLOW_MOD: u8 = v10::msg_type::FLOW_MOD;
/// `OFPT_PACKET_IN`, the same number in 1.0 and 1.3.
pub const PACKET_IN: u8 = v10::msg_type::PACKET_IN;
/// `OFPT_ECHO_REQUEST`, the same number in every version.
pub const ECHO_REQUEST: u8 = v10::msg_type::ECHO_REQUEST;

/// Length of the Ethernet frame carried in every packet_in (an IPv4/UDP frame padded to
/// the Ethernet minimum, as cbench's).
pub const FRAME_LEN: usize = 60;

/// Byte ranges, in the header and in the message bodies, per version.
mod field {
    use std::ops::Range;

    /// `ofp_header.xid`.
    pub const XID: Range<usize> = 4..8;
    /// `buffer_id` of packet_in and packet_out (1.0 and 1.3).
    pub const BUFFER_ID: Range<usize> = 8..12;

    pub mod v10 {
        use std::ops::Range;
        /// `ofp_packet_in.in_port` (16 bits).
        pub const PI_IN_PORT: Range<usize> = 14..16;
        /// Start of `ofp_packet_in.data`.
        pub const PI_DATA: usize = 18;
        /// `ofp_flow_mod.command` (16 bits): after header (8), match (40), cookie (8).
        pub const FM_COMMAND: Range<usize> = 56..58;
        /// `ofp_flow_mod.buffer_id`: after the command, idle and hard timeouts and
        /// priority (2 each).
        pub const FM_BUFFER_ID: Range<usize> = 64..68;
    }

    pub mod v13 {
        use std::ops::Range;
        /// The value of the `in_port` OXM, the only match field: header (8), buffer id,
        /// total length, reason, table id (8), cookie (8), match type and length (4), OXM
        /// header (4).
        pub const PI_IN_PORT: Range<usize> = 32..36;
        /// Start of the data: the 12-byte match padded to 16, then 2 bytes of padding.
        pub const PI_DATA: usize = 42;
        /// `ofp_flow_mod.command` (8 bits): after header (8), cookie and mask (16), table
        /// id (1).
        pub const FM_COMMAND: usize = 25;
        /// `ofp_flow_mod.buffer_id`: after the command, idle and hard timeouts and
        /// priority (2 each).
        pub const FM_BUFFER_ID: Range<usize> = 32..36;
    }

    /// Ethernet destination within the frame.
    pub const ETH_DST: Range<usize> = 0..6;
    /// Ethernet source within the frame.
    pub const ETH_SRC: Range<usize> = 6..12;
}

/// The wire version byte for `of13`.
pub fn version(of13: bool) -> u8 {
    if of13 {
        v13::VERSION
    } else {
        v10::VERSION
    }
}

fn put_u32(buf: &mut [u8], at: Range<usize>, v: u32) {
    buf[at].copy_from_slice(&v.to_be_bytes());
}

fn get_u32(buf: &[u8], at: Range<usize>) -> Option<u32> {
    let b = buf.get(at)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The 60-byte IPv4/UDP frame of switch `switch`, before the MAC addresses are patched:
/// 10.S.S.1 → 10.S.S.2, UDP 1024 → 2048, a valid IP checksum.
pub fn frame(switch: u16) -> Vec<u8> {
    let mut f = vec![0u8; FRAME_LEN];
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let s = switch.to_be_bytes();
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&46u16.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[10, s[0], s[1], 1]);
    ip[16..20].copy_from_slice(&[10, s[0], s[1], 2]);
    let mut sum: u32 = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let udp = &mut f[34..42];
    udp[0..2].copy_from_slice(&1024u16.to_be_bytes());
    udp[2..4].copy_from_slice(&2048u16.to_be_bytes());
    udp[4..6].copy_from_slice(&26u16.to_be_bytes());
    f
}

/// A packet_in encoded once, patched per packet.
#[derive(Clone, Debug)]
pub struct PacketInTemplate {
    bytes: Vec<u8>,
    of13: bool,
}

impl PacketInTemplate {
    /// A packet_in (`OFPR_NO_MATCH`, table 0) of switch `switch`'s frame.
    pub fn new(of13: bool, switch: u16) -> PacketInTemplate {
        let data = frame(switch);
        let pi = PacketIn {
            buffer_id: 0,
            total_len: data.len() as u16,
            reason: 0,
            table_id: 0,
            cookie: if of13 { u64::MAX } else { 0 },
            match_: Match::new().with(OxmField::in_port(PortNo(1))),
            data,
        };
        let mut bytes = Vec::new();
        encode(version(of13), 0, &Message::PacketIn(pi), &mut bytes)
            .expect("a packet_in with in_port encodes in both versions");
        PacketInTemplate { bytes, of13 }
    }

    /// Length of one packet_in.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Appends one packet_in to `out`.
    pub fn push(
        &self,
        out: &mut Vec<u8>,
        xid: u32,
        buffer_id: u32,
        in_port: u16,
        src: [u8; 6],
        dst: [u8; 6],
    ) {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        let m = &mut out[start..];
        put_u32(m, field::XID, xid);
        put_u32(m, field::BUFFER_ID, buffer_id);
        let data = if self.of13 {
            put_u32(m, field::v13::PI_IN_PORT, u32::from(in_port));
            field::v13::PI_DATA
        } else {
            m[field::v10::PI_IN_PORT].copy_from_slice(&in_port.to_be_bytes());
            field::v10::PI_DATA
        };
        let f = &mut m[data..];
        f[field::ETH_DST].copy_from_slice(&dst);
        f[field::ETH_SRC].copy_from_slice(&src);
    }
}

/// What a message from the controller is, as far as counting goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// A FLOW_MOD adding a flow (a flow setup, as cbench counts them), with its buffer id.
    FlowMod(Option<u32>),
    /// A PACKET_OUT, with its buffer id.
    PacketOut(Option<u32>),
    /// Anything else: handled by the slow path.
    Other(u8),
}

impl Response {
    /// The buffer id the response refers to, if it is a flow_mod or a packet_out.
    pub fn buffer_id(self) -> Option<u32> {
        match self {
            Response::FlowMod(b) | Response::PacketOut(b) => b,
            Response::Other(_) => None,
        }
    }
}

/// Classifies a whole message from its header; reads the buffer id of flow_mods and
/// packet_outs at its fixed offset (`None` if the message is too short to hold it). A
/// FLOW_MOD that does not add a flow (`OFPFC_ADD`, 0), such as the deletes a controller
/// may send when a switch connects, is `Other(FLOW_MOD)`: no flow setup.
pub fn classify(msg: &[u8]) -> Response {
    let version = msg.first().copied().unwrap_or(0);
    let t = msg.get(1).copied().unwrap_or(0xff);
    match t {
        FLOW_MOD => {
            let (command, at) = if version == v13::VERSION {
                (
                    msg.get(field::v13::FM_COMMAND).map(|&c| u16::from(c)),
                    field::v13::FM_BUFFER_ID,
                )
            } else {
                (
                    msg.get(field::v10::FM_COMMAND)
                        .map(|b| u16::from_be_bytes([b[0], b[1]])),
                    field::v10::FM_BUFFER_ID,
                )
            };
            match command {
                Some(0) => Response::FlowMod(get_u32(msg, at)),
                _ => Response::Other(FLOW_MOD),
            }
        }
        PACKET_OUT => Response::PacketOut(get_u32(msg, field::BUFFER_ID)),
        other => Response::Other(other),
    }
}

/// The buffer id of a packet_in (at the same offset in 1.0 and 1.3).
pub fn packet_in_buffer_id(msg: &[u8]) -> Option<u32> {
    get_u32(msg, field::BUFFER_ID)
}

/// A flow_mod encoded once, for the in-process responder: add an exact in_port/eth_dst
/// flow with output to port 2, for the buffered packet (patched per packet_in).
#[derive(Clone, Debug)]
pub struct FlowModTemplate {
    bytes: Vec<u8>,
    buffer_at: Range<usize>,
}

impl FlowModTemplate {
    /// The template for a version.
    pub fn new(of13: bool) -> FlowModTemplate {
        let fm = FlowMod {
            idle_timeout: 60,
            priority: 1,
            buffer_id: NO_BUFFER,
            match_: Match::new()
                .with(OxmField::in_port(PortNo(1)))
                .with(OxmField::eth_dst([2, 0, 0, 0, 0, 1])),
            instructions: vec![Instruction::ApplyActions(vec![Action::output(PortNo(2))])],
            ..FlowMod::default()
        };
        let mut bytes = Vec::new();
        encode(version(of13), 0, &Message::FlowMod(fm), &mut bytes)
            .expect("a plain flow_mod encodes in both versions");
        let buffer_at = if of13 {
            field::v13::FM_BUFFER_ID
        } else {
            field::v10::FM_BUFFER_ID
        };
        FlowModTemplate { bytes, buffer_at }
    }

    /// Appends one flow_mod for `buffer_id` to `out`.
    pub fn push(&self, out: &mut Vec<u8>, xid: u32, buffer_id: u32) {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        let m = &mut out[start..];
        put_u32(m, field::XID, xid);
        put_u32(m, self.buffer_at.clone(), buffer_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlab_openflow::{decode, FlowModCommand, PacketOut};

    #[test]
    fn patched_packet_ins_decode_to_what_was_patched() {
        for of13 in [false, true] {
            let t = PacketInTemplate::new(of13, 0x0102);
            let mut out = vec![0xa5; 3];
            let src = [2, 1, 2, 0, 0, 7];
            let dst = [6, 1, 2, 0, 0, 1];
            t.push(&mut out, 0xdead_beef, 4242, 3, src, dst);
            assert_eq!(out.len(), 3 + t.len());
            let (h, m) = decode(&out[3..]).unwrap();
            assert_eq!(h.version, version(of13));
            assert_eq!(h.xid, 0xdead_beef);
            let Message::PacketIn(pi) = m else {
                panic!("not a packet_in: {m:?}")
            };
            assert_eq!(pi.buffer_id, 4242);
            assert_eq!(pi.in_port(), Some(PortNo(3)));
            assert_eq!(pi.data.len(), FRAME_LEN);
            assert_eq!(&pi.data[0..6], &dst);
            assert_eq!(&pi.data[6..12], &src);
            assert_eq!(&pi.data[12..], &frame(0x0102)[12..]);
            assert_eq!(packet_in_buffer_id(&out[3..]), Some(4242));
        }
    }

    #[test]
    fn frame_has_a_valid_ip_checksum() {
        let f = frame(7);
        let sum: u32 = f[14..34]
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        assert_eq!(folded, 0xffff);
        assert_eq!(&f[26..30], &[10, 0, 7, 1]);
    }

    #[test]
    fn flow_mod_template_and_classification_agree_with_the_codec() {
        for of13 in [false, true] {
            let t = FlowModTemplate::new(of13);
            let mut out = Vec::new();
            t.push(&mut out, 9, 77);
            let (h, m) = decode(&out).unwrap();
            assert_eq!(h.xid, 9);
            let Message::FlowMod(fm) = m else { panic!() };
            assert_eq!(fm.buffer_id, 77);
            assert_eq!(classify(&out), Response::FlowMod(Some(77)));
            assert_eq!(classify(&out).buffer_id(), Some(77));

            // A flow_mod written by the codec with another buffer id, read back.
            let mut other = Vec::new();
            let fm2 = FlowMod {
                buffer_id: 0x1234_5678,
                ..FlowMod::default()
            };
            encode(version(of13), 1, &Message::FlowMod(fm2), &mut other).unwrap();
            assert_eq!(classify(&other), Response::FlowMod(Some(0x1234_5678)));
            // Deletes and modifies are no flow setups.
            for command in [FlowModCommand::Delete, FlowModCommand::Modify] {
                let mut del = Vec::new();
                let fm3 = FlowMod {
                    command,
                    ..FlowMod::default()
                };
                encode(version(of13), 1, &Message::FlowMod(fm3), &mut del).unwrap();
                assert_eq!(classify(&del), Response::Other(FLOW_MOD));
            }

            let po = PacketOut {
                buffer_id: 31,
                in_port: PortNo(1),
                actions: vec![Action::output(PortNo::FLOOD)],
                data: Vec::new(),
            };
            let mut p = Vec::new();
            encode(version(of13), 2, &Message::PacketOut(po), &mut p).unwrap();
            assert_eq!(classify(&p), Response::PacketOut(Some(31)));
        }
        assert_eq!(
            classify(&[1, 14, 0, 8, 0, 0, 0, 0]),
            Response::Other(FLOW_MOD)
        );
        assert_eq!(classify(&[1, 2, 0, 8]), Response::Other(ECHO_REQUEST));
        assert_eq!(classify(&[]), Response::Other(0xff));
        assert_eq!(Response::Other(3).buffer_id(), None);
    }
}
