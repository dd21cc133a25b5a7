//! What the controller knows about each connected switch: its datapath id, version,
//! features, ports and description, filled in as the switch's replies arrive.
//!
//! A switch is in the view from its `FEATURES_REPLY` on (see `switch_conn` for why
//! nothing else is waited for); the ports of a 1.3 switch and the description of any
//! switch arrive later, or never, and the view shows what has arrived.

use std::collections::BTreeMap;
use std::fmt;

use flowlab_openflow::model::multipart::DescStats;
use flowlab_openflow::model::{Port, PortNo};

/// A switch's datapath id (the lower 48 bits are usually a MAC address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DatapathId(pub u64);

impl fmt::Display for DatapathId {
    /// Sixteen hex digits, as Open vSwitch prints a datapath id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// One switch as the controller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchView {
    /// The datapath id from `FEATURES_REPLY`.
    pub dpid: DatapathId,
    /// The negotiated wire version (0x01 or 0x04).
    pub version: u8,
    /// Packets the switch can buffer (0: every packet-in carries its whole frame).
    pub n_buffers: u32,
    /// Flow tables.
    pub n_tables: u8,
    /// Capability bits in the version's numbering.
    pub capabilities: u32,
    /// The ports: from `FEATURES_REPLY` (1.0), `PORT_DESC` (1.3) and `PORT_STATUS`.
    pub ports: BTreeMap<PortNo, Port>,
    /// Whether a port list has arrived (always for 1.0; for 1.3 once `PORT_DESC` is
    /// answered, which some switches never do).
    pub ports_known: bool,
    /// The `OFPMP_DESC` reply, once (and if) it arrives.
    pub desc: Option<DescStats>,
}

impl SwitchView {
    /// The port `no`, if known.
    pub fn port(&self, no: PortNo) -> Option<&Port> {
        self.ports.get(&no)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datapath_ids_print_as_sixteen_hex_digits() {
        assert_eq!(DatapathId(0xf1).to_string(), "00000000000000f1");
        assert_eq!(DatapathId(u64::MAX).to_string(), "ffffffffffffffff");
    }
}
