//! OpenFlow 1.0 (wire version 0x01): constants, structure sizes and the wire codec.
//!
//! - [`error`]: `OFPET_*`/code constants and the table to and from [`ErrorCode`].
//! - [`match10`]: the fixed `ofp_match` ([`MatchV10`]) and its conversion to OXM fields.
//! - `action`: 1.0 actions onto the shared [`Action`] model.
//! - `codec`: messages and stats bodies.
//!
//! [`ErrorCode`]: crate::ErrorCode
//! [`Action`]: crate::Action

pub mod error;
pub mod match10;

pub(crate) mod action;
pub(crate) mod codec;

pub use match10::MatchV10;

/// The wire version.
pub const VERSION: u8 = 0x01;

/// Message types (`ofp_type`).
#[allow(missing_docs)]
pub mod msg_type {
    pub const HELLO: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const VENDOR: u8 = 4;
    pub const FEATURES_REQUEST: u8 = 5;
    pub const FEATURES_REPLY: u8 = 6;
    pub const GET_CONFIG_REQUEST: u8 = 7;
    pub const GET_CONFIG_REPLY: u8 = 8;
    pub const SET_CONFIG: u8 = 9;
    pub const PACKET_IN: u8 = 10;
    pub const FLOW_REMOVED: u8 = 11;
    pub const PORT_STATUS: u8 = 12;
    pub const PACKET_OUT: u8 = 13;
    pub const FLOW_MOD: u8 = 14;
    pub const PORT_MOD: u8 = 15;
    pub const STATS_REQUEST: u8 = 16;
    pub const STATS_REPLY: u8 = 17;
    pub const BARRIER_REQUEST: u8 = 18;
    pub const BARRIER_REPLY: u8 = 19;
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 20;
    pub const QUEUE_GET_CONFIG_REPLY: u8 = 21;
}

/// Stats types (`ofp_stats_types`).
#[allow(missing_docs)]
pub mod stats_type {
    pub const DESC: u16 = 0;
    pub const FLOW: u16 = 1;
    pub const AGGREGATE: u16 = 2;
    pub const TABLE: u16 = 3;
    pub const PORT: u16 = 4;
    pub const QUEUE: u16 = 5;
    pub const VENDOR: u16 = 0xffff;
}

/// Action types (`ofp_action_type`).
#[allow(missing_docs)]
pub mod action_type {
    pub const OUTPUT: u16 = 0;
    pub const SET_VLAN_VID: u16 = 1;
    pub const SET_VLAN_PCP: u16 = 2;
    pub const STRIP_VLAN: u16 = 3;
    pub const SET_DL_SRC: u16 = 4;
    pub const SET_DL_DST: u16 = 5;
    pub const SET_NW_SRC: u16 = 6;
    pub const SET_NW_DST: u16 = 7;
    pub const SET_NW_TOS: u16 = 8;
    pub const SET_TP_SRC: u16 = 9;
    pub const SET_TP_DST: u16 = 10;
    pub const ENQUEUE: u16 = 11;
    pub const VENDOR: u16 = 0xffff;
}

/// Switch capability bits (`ofp_capabilities`).
#[allow(missing_docs)]
pub mod capabilities {
    pub const FLOW_STATS: u32 = 1 << 0;
    pub const TABLE_STATS: u32 = 1 << 1;
    pub const PORT_STATS: u32 = 1 << 2;
    pub const STP: u32 = 1 << 3;
    pub const RESERVED: u32 = 1 << 4;
    pub const IP_REASM: u32 = 1 << 5;
    pub const QUEUE_STATS: u32 = 1 << 6;
    pub const ARP_MATCH_IP: u32 = 1 << 7;
}

/// Flow-mod flags (`ofp_flow_mod_flags`).
#[allow(missing_docs)]
pub mod flow_mod_flags {
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    pub const EMERG: u16 = 1 << 2;
}

/// Fixed sizes of the structures (`sizeof` in `openflow.h` 1.0.0), without any variable
/// tail. `PACKET_IN` is where the frame starts (the C struct is padded to 20).
#[allow(missing_docs)]
pub mod size {
    pub const HEADER: usize = 8;
    pub const PHY_PORT: usize = 48;
    pub const SWITCH_FEATURES: usize = 32;
    pub const SWITCH_CONFIG: usize = 12;
    pub const MATCH: usize = 40;
    pub const FLOW_MOD: usize = 72;
    pub const PACKET_IN: usize = 18;
    pub const PACKET_OUT: usize = 16;
    pub const FLOW_REMOVED: usize = 88;
    pub const PORT_STATUS: usize = 64;
    pub const PORT_MOD: usize = 32;
    pub const ERROR_MSG: usize = 12;
    pub const VENDOR_HEADER: usize = 12;
    pub const STATS_REQUEST: usize = 12;
    pub const STATS_REPLY: usize = 12;
    pub const DESC_STATS: usize = 1056;
    pub const FLOW_STATS_REQUEST: usize = 44;
    pub const FLOW_STATS: usize = 88;
    pub const AGGREGATE_STATS_REPLY: usize = 24;
    pub const TABLE_STATS: usize = 64;
    pub const PORT_STATS_REQUEST: usize = 8;
    pub const PORT_STATS: usize = 104;
    pub const QUEUE_STATS_REQUEST: usize = 8;
    pub const QUEUE_STATS: usize = 32;
    pub const QUEUE_GET_CONFIG_REQUEST: usize = 12;
    pub const QUEUE_GET_CONFIG_REPLY: usize = 16;
    pub const PACKET_QUEUE: usize = 8;
    pub const QUEUE_PROP_HEADER: usize = 8;
    pub const QUEUE_PROP_MIN_RATE: usize = 16;
    pub const ACTION_HEADER: usize = 8;
    pub const ACTION_OUTPUT: usize = 8;
    pub const ACTION_ENQUEUE: usize = 16;
    pub const ACTION_VLAN_VID: usize = 8;
    pub const ACTION_VLAN_PCP: usize = 8;
    pub const ACTION_DL_ADDR: usize = 16;
    pub const ACTION_NW_ADDR: usize = 8;
    pub const ACTION_NW_TOS: usize = 8;
    pub const ACTION_TP_PORT: usize = 8;
    pub const ACTION_VENDOR_HEADER: usize = 8;
}
