//! Port numbers and port descriptions, the same for OpenFlow 1.0 and 1.3.
//!
//! OpenFlow 1.0 numbers ports with 16 bits and 1.3 with 32; the reserved ports sit at the
//! top of each range (`0xfff8..=0xffff` and `0xfffffff8..=0xffffffff`). [`PortNo`] holds
//! the 1.3 number; a 1.0 number `p >= 0xff00` (1.0's `OFPP_MAX`) becomes `p | 0xffff0000`,
//! so `OFPP_CONTROLLER` is the same value whichever version carried it, and 1.0's
//! `OFPP_NONE` (0xffff) is 1.3's `OFPP_ANY`.

/// A port number in OpenFlow 1.3's 32-bit space (1.0 numbers are mapped, see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PortNo(pub u32);

impl PortNo {
    /// Highest number of a physical port (`OFPP_MAX`, 0xffffff00); 1.0's is 0xff00.
    pub const MAX: PortNo = PortNo(0xffff_ff00);
    /// Send the packet out the port it came in on (`OFPP_IN_PORT`).
    pub const IN_PORT: PortNo = PortNo(0xffff_fff8);
    /// Submit the packet to the first flow table (`OFPP_TABLE`, packet_out only).
    pub const TABLE: PortNo = PortNo(0xffff_fff9);
    /// The traditional non-OpenFlow pipeline (`OFPP_NORMAL`).
    pub const NORMAL: PortNo = PortNo(0xffff_fffa);
    /// All ports except the input port and those with flooding disabled (`OFPP_FLOOD`).
    pub const FLOOD: PortNo = PortNo(0xffff_fffb);
    /// All ports except the input port (`OFPP_ALL`).
    pub const ALL: PortNo = PortNo(0xffff_fffc);
    /// The controller (`OFPP_CONTROLLER`).
    pub const CONTROLLER: PortNo = PortNo(0xffff_fffd);
    /// The local networking stack (`OFPP_LOCAL`).
    pub const LOCAL: PortNo = PortNo(0xffff_fffe);
    /// No port / any port (1.3 `OFPP_ANY`, 1.0 `OFPP_NONE`).
    pub const ANY: PortNo = PortNo(0xffff_ffff);

    /// The port for a 1.0 wire number.
    pub fn from_v10(p: u16) -> PortNo {
        if p >= 0xff00 {
            PortNo(u32::from(p) | 0xffff_0000)
        } else {
            PortNo(u32::from(p))
        }
    }

    /// The 1.0 wire number, or `None` if the port has none (numbers between 0xff00 and
    /// 0xffffff00 have no 16-bit form).
    pub fn to_v10(self) -> Option<u16> {
        if self.0 < 0xff00 {
            Some(self.0 as u16)
        } else if self.0 >= 0xffff_ff00 {
            Some((self.0 & 0xffff) as u16)
        } else {
            None
        }
    }

    /// Whether this is one of the reserved ports (above [`PortNo::MAX`]).
    pub fn is_reserved(self) -> bool {
        self.0 > Self::MAX.0
    }
}

impl From<u32> for PortNo {
    fn from(p: u32) -> Self {
        PortNo(p)
    }
}

/// Port feature bits (`curr`, `advertised`, `supported`, `peer`) in OpenFlow 1.3
/// numbering. 1.0 numbers the speeds 0..=6 the same and has no 40G/100G/1T/other bits; its
/// medium and autonegotiation bits 7..=11 are 1.3's 11..=15 (the codec moves them).
pub mod features {
    /// 10 Mb half duplex.
    pub const RATE_10MB_HD: u32 = 1 << 0;
    /// 10 Mb full duplex.
    pub const RATE_10MB_FD: u32 = 1 << 1;
    /// 100 Mb half duplex.
    pub const RATE_100MB_HD: u32 = 1 << 2;
    /// 100 Mb full duplex.
    pub const RATE_100MB_FD: u32 = 1 << 3;
    /// 1 Gb half duplex.
    pub const RATE_1GB_HD: u32 = 1 << 4;
    /// 1 Gb full duplex.
    pub const RATE_1GB_FD: u32 = 1 << 5;
    /// 10 Gb full duplex.
    pub const RATE_10GB_FD: u32 = 1 << 6;
    /// 40 Gb full duplex (1.3 only).
    pub const RATE_40GB_FD: u32 = 1 << 7;
    /// 100 Gb full duplex (1.3 only).
    pub const RATE_100GB_FD: u32 = 1 << 8;
    /// 1 Tb full duplex (1.3 only).
    pub const RATE_1TB_FD: u32 = 1 << 9;
    /// Other rate, not in the list (1.3 only).
    pub const OTHER: u32 = 1 << 10;
    /// Copper medium.
    pub const COPPER: u32 = 1 << 11;
    /// Fiber medium.
    pub const FIBER: u32 = 1 << 12;
    /// Autonegotiation.
    pub const AUTONEG: u32 = 1 << 13;
    /// Pause.
    pub const PAUSE: u32 = 1 << 14;
    /// Asymmetric pause.
    pub const PAUSE_ASYM: u32 = 1 << 15;

    /// 1.0 wire bits to the 1.3 numbering used in the model (1.0 bits above 11 are
    /// undefined and dropped).
    pub fn from_v10(bits: u32) -> u32 {
        (bits & 0x7f) | ((bits & 0xf80) << 4)
    }

    /// Model bits to 1.0 wire bits (the 1.3-only bits 7..=10 and above 15 are dropped).
    pub fn to_v10(bits: u32) -> u32 {
        (bits & 0x7f) | ((bits >> 4) & 0xf80)
    }
}

/// Port configuration bits (`ofp_port_config`), the same positions in both versions; bits
/// marked 1.0 are undefined in 1.3 and passed through unchanged.
pub mod config {
    /// Port is administratively down.
    pub const PORT_DOWN: u32 = 1 << 0;
    /// Disable 802.1D spanning tree on the port (1.0).
    pub const NO_STP: u32 = 1 << 1;
    /// Drop all packets received by the port.
    pub const NO_RECV: u32 = 1 << 2;
    /// Drop received 802.1D STP packets (1.0).
    pub const NO_RECV_STP: u32 = 1 << 3;
    /// Do not include this port when flooding (1.0).
    pub const NO_FLOOD: u32 = 1 << 4;
    /// Drop packets forwarded to the port.
    pub const NO_FWD: u32 = 1 << 5;
    /// Do not send packet-in messages for the port.
    pub const NO_PACKET_IN: u32 = 1 << 6;
}

/// Port state bits (`ofp_port_state`), passed through unchanged: 1.3's bits 0..=2 and
/// 1.0's spanning-tree state in bits 8..=9 do not collide.
pub mod state {
    /// No physical link present.
    pub const LINK_DOWN: u32 = 1 << 0;
    /// Port is blocked (1.3).
    pub const BLOCKED: u32 = 1 << 1;
    /// Live for fast failover groups (1.3).
    pub const LIVE: u32 = 1 << 2;
    /// 1.0: not learning or relaying frames.
    pub const STP_LISTEN: u32 = 0 << 8;
    /// 1.0: learning but not relaying frames.
    pub const STP_LEARN: u32 = 1 << 8;
    /// 1.0: learning and relaying frames.
    pub const STP_FORWARD: u32 = 2 << 8;
    /// 1.0: not part of the spanning tree.
    pub const STP_BLOCK: u32 = 3 << 8;
    /// 1.0: mask of the STP state.
    pub const STP_MASK: u32 = 3 << 8;
}

/// A port description (`ofp_phy_port` in 1.0, `ofp_port` in 1.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Port {
    /// The port number.
    pub port_no: PortNo,
    /// The port's MAC address.
    pub hw_addr: [u8; 6],
    /// The port's name (at most 16 bytes of UTF-8 on the wire).
    pub name: String,
    /// Configuration bits, see [`config`].
    pub config: u32,
    /// State bits, see [`state`].
    pub state: u32,
    /// Current features, see [`features`].
    pub curr: u32,
    /// Features advertised by the port.
    pub advertised: u32,
    /// Features supported by the port.
    pub supported: u32,
    /// Features advertised by the peer.
    pub peer: u32,
    /// Current bit rate in kb/s (1.3; 0 from 1.0).
    pub curr_speed: u32,
    /// Maximum bit rate in kb/s (1.3; 0 from 1.0).
    pub max_speed: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v10_port_numbers_map_onto_v13() {
        assert_eq!(PortNo::from_v10(0xfffd), PortNo::CONTROLLER);
        assert_eq!(PortNo::from_v10(0xffff), PortNo::ANY);
        assert_eq!(PortNo::from_v10(7), PortNo(7));
        assert_eq!(PortNo::CONTROLLER.to_v10(), Some(0xfffd));
        assert_eq!(PortNo(0x1_0000).to_v10(), None);
        for p in [0u16, 1, 0xfeff, 0xff00, 0xfff8, 0xffff] {
            assert_eq!(PortNo::from_v10(p).to_v10(), Some(p));
        }
    }

    #[test]
    fn feature_bits_move_between_versions() {
        // 1.0 100MB_FD | COPPER | AUTONEG = 0x288 is 1.3's 0x2808.
        assert_eq!(features::from_v10(0x288), 0x2808);
        assert_eq!(features::to_v10(0x2808), 0x288);
    }
}
