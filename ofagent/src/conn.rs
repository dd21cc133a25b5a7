//! One OpenFlow connection: byte buffers, version negotiation, liveness, role and the
//! asynchronous-message configuration.
//!
//! # Negotiation
//!
//! Both sides send `HELLO` first. Ours carries the highest version we speak in its header
//! and, when we speak 1.3, a version bitmap of everything we speak. The peer's hello is
//! parsed here by hand rather than by the codec, because a peer may well speak only a
//! version the codec does not (1.4, 1.5): then the versions shared by both bitmaps decide
//! (the highest wins); without a bitmap, the lower of the two header versions is used if
//! we speak it. With nothing shared the peer gets `HELLO_FAILED/INCOMPATIBLE` with a text
//! that says what each side offered and how to fix it, and the connection closes once the
//! error is written.
//!
//! # Liveness
//!
//! Any message from the peer counts as life. After `probe_interval` of silence we send an
//! `ECHO_REQUEST`; if another `probe_interval` passes without a byte, the connection is
//! declared dead and closed (Open vSwitch's inactivity probe).

use std::time::Duration;

use flowlab_openflow::model::AsyncConfig;

/// OpenFlow 1.0's wire version.
pub const OFP10: u8 = 0x01;
/// OpenFlow 1.3's wire version.
pub const OFP13: u8 = 0x04;

/// Largest message accepted (the header's length field is 16 bits).
pub const MAX_MESSAGE: usize = 65_535;

/// Output kept for a peer that stops reading before the connection is dropped.
pub const MAX_PENDING_OUTPUT: usize = 64 << 20;

/// Where a connection came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An active connection to the `i`-th configured controller.
    Controller(usize),
    /// A client of a passive listener (ovs-ofctl, test tools).
    Passive,
}

/// The controller role of a connection (OpenFlow 1.3 §6.3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Full access, receives all asynchronous messages (the default).
    Equal,
    /// Full access; the other controllers become slaves.
    Master,
    /// Read-only; receives port status only (by default).
    Slave,
}

impl Role {
    /// `OFPCR_ROLE_*`.
    pub fn to_wire(self) -> u32 {
        match self {
            Role::Equal => 1,
            Role::Master => 2,
            Role::Slave => 3,
        }
    }
}

/// The asynchronous-message defaults of OpenFlow 1.3 §7.3.10: a master or equal
/// controller gets every packet-in, port-status and flow-removed reason; a slave gets
/// port status only.
pub fn default_async() -> AsyncConfig {
    AsyncConfig {
        packet_in_mask: [0b111, 0],
        port_status_mask: [0b111, 0b111],
        flow_removed_mask: [0b1111, 0],
    }
}

/// The state of one connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) origin: Origin,
    /// Negotiated wire version (None until the peer's hello).
    pub(crate) version: Option<u8>,
    pub(crate) input: Vec<u8>,
    pub(crate) output: Vec<u8>,
    /// Bytes of `output` already written.
    pub(crate) written: usize,
    /// Why the agent wants the connection closed (once the output is written).
    pub(crate) close: Option<String>,
    pub(crate) role: Role,
    pub(crate) async_config: AsyncConfig,
    pub(crate) last_rx: Duration,
    pub(crate) echo_sent: Option<Duration>,
    pub(crate) next_xid: u32,
}

impl Conn {
    pub(crate) fn new(origin: Origin, now: Duration) -> Conn {
        Conn {
            origin,
            version: None,
            input: Vec::new(),
            output: Vec::with_capacity(4096),
            written: 0,
            close: None,
            role: Role::Equal,
            async_config: default_async(),
            last_rx: now,
            echo_sent: None,
            next_xid: 0x1000_0000,
        }
    }

    /// Bytes waiting to be written.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.output[self.written.min(self.output.len())..]
    }

    /// `n` bytes were written.
    pub(crate) fn consume(&mut self, n: usize) {
        self.written = (self.written + n).min(self.output.len());
        if self.written == self.output.len() {
            self.output.clear();
            self.written = 0;
        } else if self.written > 1 << 20 {
            self.output.drain(..self.written);
            self.written = 0;
        }
    }

    /// An xid for a message the switch starts (async messages, echo probes).
    pub(crate) fn xid(&mut self) -> u32 {
        self.next_xid = self.next_xid.wrapping_add(1);
        self.next_xid
    }

    /// Whether the peer should get an async message of `kind` with reason number
    /// `reason`, given its role and `set_async` configuration.
    pub(crate) fn wants_async(&self, kind: AsyncKind, reason: u8) -> bool {
        if self.version.is_none() || self.close.is_some() {
            return false;
        }
        let i = usize::from(self.role == Role::Slave);
        let mask = match kind {
            AsyncKind::PacketIn => self.async_config.packet_in_mask[i],
            AsyncKind::PortStatus => self.async_config.port_status_mask[i],
            AsyncKind::FlowRemoved => self.async_config.flow_removed_mask[i],
        };
        reason < 32 && mask & (1 << reason) != 0
    }
}

/// The three asynchronous message kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AsyncKind {
    PacketIn,
    PortStatus,
    FlowRemoved,
}

/// What a peer's hello offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeerHello {
    pub(crate) header_version: u8,
    pub(crate) bitmap: Option<Vec<u8>>,
}

/// Parses a hello of any version: header, then elements (`OFPHET_VERSIONBITMAP` = 1).
/// Malformed elements are ignored (the header version still counts), as the spec asks
/// implementations to be lenient with hello elements.
pub(crate) fn parse_hello(msg: &[u8]) -> PeerHello {
    let header_version = msg.first().copied().unwrap_or(0);
    let mut bitmap = None;
    let mut rest = msg.get(8..).unwrap_or(&[]);
    while rest.len() >= 4 {
        let etype = u16::from_be_bytes([rest[0], rest[1]]);
        let elen = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        if elen < 4 || elen > rest.len() {
            break;
        }
        if etype == 1 && bitmap.is_none() {
            let mut versions = Vec::new();
            for (w, word) in rest[4..elen].chunks_exact(4).enumerate() {
                let bits = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
                for b in 0..32 {
                    if bits & (1 << b) != 0 {
                        if let Ok(v) = u8::try_from(w * 32 + b) {
                            versions.push(v);
                        }
                    }
                }
            }
            bitmap = Some(versions);
        }
        let padded = elen.div_ceil(8) * 8;
        rest = rest.get(padded.min(rest.len())..).unwrap_or(&[]);
    }
    PeerHello {
        header_version,
        bitmap,
    }
}

/// The version both sides speak, or None.
pub(crate) fn negotiate(ours: &[u8], peer: &PeerHello) -> Option<u8> {
    let our_max = ours.iter().copied().max()?;
    match &peer.bitmap {
        Some(theirs) => ours.iter().copied().filter(|v| theirs.contains(v)).max(),
        None => {
            let v = our_max.min(peer.header_version);
            ours.contains(&v).then_some(v)
        }
    }
}

/// "1.0, 1.3" for wire versions 1 and 4.
pub(crate) fn version_names(versions: &[u8]) -> String {
    versions
        .iter()
        .map(|&v| match v {
            1 => "1.0".to_string(),
            2 => "1.1".to_string(),
            3 => "1.2".to_string(),
            4 => "1.3".to_string(),
            5 => "1.4".to_string(),
            6 => "1.5".to_string(),
            other => format!("wire version {other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(version: u8, bitmap: Option<u32>) -> Vec<u8> {
        let mut m = vec![version, 0, 0, 8, 0, 0, 0, 1];
        if let Some(b) = bitmap {
            m.extend_from_slice(&[0, 1, 0, 8]);
            m.extend_from_slice(&b.to_be_bytes());
            let len = m.len() as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
        }
        m
    }

    #[test]
    fn bitmaps_pick_the_highest_shared_version() {
        let both = [OFP10, OFP13];
        let p = parse_hello(&hello(6, Some(0b111_0010)));
        assert_eq!(p.bitmap, Some(vec![1, 4, 5, 6]));
        assert_eq!(negotiate(&both, &p), Some(4));
        assert_eq!(negotiate(&[OFP10], &p), Some(1));
        let p = parse_hello(&hello(5, Some(0b10_0000)));
        assert_eq!(negotiate(&both, &p), None, "1.5 only");
    }

    #[test]
    fn without_a_bitmap_the_lower_header_version_decides() {
        let both = [OFP10, OFP13];
        assert_eq!(negotiate(&both, &parse_hello(&hello(1, None))), Some(1));
        assert_eq!(negotiate(&both, &parse_hello(&hello(4, None))), Some(4));
        assert_eq!(negotiate(&both, &parse_hello(&hello(6, None))), Some(4));
        assert_eq!(negotiate(&both, &parse_hello(&hello(3, None))), None);
        assert_eq!(negotiate(&[OFP13], &parse_hello(&hello(1, None))), None);
    }

    #[test]
    fn malformed_elements_do_not_panic() {
        for m in [
            vec![4, 0, 0, 12, 0, 0, 0, 1, 0, 1, 0, 200],
            vec![4, 0, 0, 12, 0, 0, 0, 1, 0, 1, 0, 2],
            vec![4, 0],
            vec![],
        ] {
            let p = parse_hello(&m);
            assert!(p.bitmap.is_none());
        }
    }

    #[test]
    fn consumed_output_is_released() {
        let mut c = Conn::new(Origin::Passive, Duration::ZERO);
        c.output.extend_from_slice(b"abcdef");
        c.consume(2);
        assert_eq!(c.pending(), b"cdef");
        c.consume(4);
        assert!(c.pending().is_empty());
        assert!(c.output.is_empty());
    }

    #[test]
    fn slaves_get_port_status_only_by_default() {
        let mut c = Conn::new(Origin::Passive, Duration::ZERO);
        c.version = Some(OFP13);
        assert!(c.wants_async(AsyncKind::PacketIn, 0));
        c.role = Role::Slave;
        assert!(!c.wants_async(AsyncKind::PacketIn, 0));
        assert!(!c.wants_async(AsyncKind::FlowRemoved, 2));
        assert!(c.wants_async(AsyncKind::PortStatus, 1));
    }
}
