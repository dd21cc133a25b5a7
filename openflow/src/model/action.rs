//! Actions and instructions, one enum each for both versions.
//!
//! OpenFlow 1.3 rewrites header fields with `set_field` and an OXM TLV; 1.0 has one action
//! per field (`set_dl_src`, `set_nw_tos`, ...). The model keeps only the 1.3 form: a 1.0
//! `set_dl_src` decodes to [`Action::SetField`] of `eth_src`, `set_vlan_vid` to `vlan_vid`
//! with `OFPVID_PRESENT`, `set_nw_tos` to `ip_dscp` (the ToS byte shifted right by two),
//! `strip_vlan` to [`Action::PopVlan`], and the 1.0 encoder maps them back. 1.0's
//! `set_tp_src`/`set_tp_dst` rewrite whatever L4 protocol the packet has, which no single
//! 1.3 field says, so they keep their own variants ([`Action::SetTpSrc`],
//! [`Action::SetTpDst`]); the 1.0 encoder also accepts `set_field` of a TCP or UDP port for
//! them. An action one version cannot express is an `EncodeError` there.

use super::oxm::OxmField;
use super::port::PortNo;

/// Buffer length for `OFPP_CONTROLLER` output meaning "send the whole packet"
/// (`OFPCML_NO_BUFFER`).
pub const CONTROLLER_MAX_LEN_NO_BUFFER: u16 = 0xffff;

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Output to a port; `max_len` is the number of bytes sent to the controller when
    /// `port` is [`PortNo::CONTROLLER`].
    Output {
        /// The output port.
        port: PortNo,
        /// Bytes of the packet to send to the controller.
        max_len: u16,
    },
    /// Copy the TTL outwards, from next-to-outermost to outermost header (1.3).
    CopyTtlOut,
    /// Copy the TTL inwards, from outermost to next-to-outermost header (1.3).
    CopyTtlIn,
    /// Set the MPLS TTL (1.3).
    SetMplsTtl(u8),
    /// Decrement the MPLS TTL (1.3).
    DecMplsTtl,
    /// Push a VLAN tag with this EtherType (1.3).
    PushVlan(u16),
    /// Pop the outer VLAN tag (1.0 `strip_vlan`).
    PopVlan,
    /// Push an MPLS label stack entry with this EtherType (1.3).
    PushMpls(u16),
    /// Pop the outer MPLS entry; the argument is the EtherType of the payload (1.3).
    PopMpls(u16),
    /// Set the queue id for output (1.3; 1.0 uses [`Action::Enqueue`]).
    SetQueue(u32),
    /// Apply a group (1.3).
    Group(u32),
    /// Set the IP TTL (1.3).
    SetNwTtl(u8),
    /// Decrement the IP TTL (1.3).
    DecNwTtl,
    /// Set a header field (1.3 `set_field`; 1.0's `set_dl_*`/`set_nw_*`/`set_vlan_*`).
    SetField(OxmField),
    /// Push a PBB service tag with this EtherType (1.3).
    PushPbb(u16),
    /// Pop the outer PBB service tag (1.3).
    PopPbb,
    /// Set the TCP/UDP source port, whichever the packet carries (1.0 `set_tp_src`).
    SetTpSrc(u16),
    /// Set the TCP/UDP destination port (1.0 `set_tp_dst`).
    SetTpDst(u16),
    /// Output to a queue of a port (1.0 `enqueue`).
    Enqueue {
        /// The output port.
        port: PortNo,
        /// The queue on that port.
        queue_id: u32,
    },
    /// An experimenter (1.3) or vendor (1.0) action, e.g. a Nicira extension, passed
    /// through as the bytes after the experimenter id (including any padding).
    Experimenter {
        /// The experimenter id (0x00002320 for Nicira).
        experimenter: u32,
        /// The action body after the id.
        data: Vec<u8>,
    },
}

impl Action {
    /// `Output` to `port` with `max_len` for the controller as "no buffer" (whole packet).
    pub fn output(port: PortNo) -> Action {
        Action::Output {
            port,
            max_len: CONTROLLER_MAX_LEN_NO_BUFFER,
        }
    }
}

/// One instruction of an OpenFlow 1.3 flow entry. A 1.0 action list is one
/// [`Instruction::ApplyActions`] (and an empty list no instruction at all).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Instruction {
    /// Continue processing in this table.
    GotoTable(u8),
    /// Write the masked metadata.
    WriteMetadata {
        /// The value.
        metadata: u64,
        /// Which bits to write.
        mask: u64,
    },
    /// Merge these actions into the action set.
    WriteActions(Vec<Action>),
    /// Apply these actions now.
    ApplyActions(Vec<Action>),
    /// Clear the action set.
    ClearActions,
    /// Apply a meter.
    Meter(u32),
    /// An experimenter instruction, passed through as the bytes after the experimenter id.
    Experimenter {
        /// The experimenter id.
        experimenter: u32,
        /// The instruction body after the id.
        data: Vec<u8>,
    },
}
