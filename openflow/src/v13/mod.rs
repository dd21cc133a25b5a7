//! OpenFlow 1.3 (wire version 0x04): constants, structure sizes and the wire codec.
//!
//! - [`error`]: `OFPET_*`/code constants and the table to and from [`ErrorCode`].
//! - `oxm`: OXM TLVs and `ofp_match`.
//! - `action`: actions and instructions.
//! - `codec`: messages; `multipart`: multipart bodies.
//!
//! [`ErrorCode`]: crate::ErrorCode

pub mod error;

pub(crate) mod action;
pub(crate) mod codec;
pub(crate) mod multipart;
pub(crate) mod oxm;

/// The wire version.
pub const VERSION: u8 = 0x04;

/// Size of `ofp_header`.
pub const HEADER_LEN: usize = 8;

/// Message types (`ofp_type`).
#[allow(missing_docs)]
pub mod msg_type {
    pub const HELLO: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const EXPERIMENTER: u8 = 4;
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
    pub const GROUP_MOD: u8 = 15;
    pub const PORT_MOD: u8 = 16;
    pub const TABLE_MOD: u8 = 17;
    pub const MULTIPART_REQUEST: u8 = 18;
    pub const MULTIPART_REPLY: u8 = 19;
    pub const BARRIER_REQUEST: u8 = 20;
    pub const BARRIER_REPLY: u8 = 21;
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 22;
    pub const QUEUE_GET_CONFIG_REPLY: u8 = 23;
    pub const ROLE_REQUEST: u8 = 24;
    pub const ROLE_REPLY: u8 = 25;
    pub const GET_ASYNC_REQUEST: u8 = 26;
    pub const GET_ASYNC_REPLY: u8 = 27;
    pub const SET_ASYNC: u8 = 28;
    pub const METER_MOD: u8 = 29;
}

/// Multipart types (`ofp_multipart_type`).
#[allow(missing_docs)]
pub mod multipart_type {
    pub const DESC: u16 = 0;
    pub const FLOW: u16 = 1;
    pub const AGGREGATE: u16 = 2;
    pub const TABLE: u16 = 3;
    pub const PORT_STATS: u16 = 4;
    pub const QUEUE: u16 = 5;
    pub const GROUP: u16 = 6;
    pub const GROUP_DESC: u16 = 7;
    pub const GROUP_FEATURES: u16 = 8;
    pub const METER: u16 = 9;
    pub const METER_CONFIG: u16 = 10;
    pub const METER_FEATURES: u16 = 11;
    pub const TABLE_FEATURES: u16 = 12;
    pub const PORT_DESC: u16 = 13;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// Action types (`ofp_action_type`).
#[allow(missing_docs)]
pub mod action_type {
    pub const OUTPUT: u16 = 0;
    pub const COPY_TTL_OUT: u16 = 11;
    pub const COPY_TTL_IN: u16 = 12;
    pub const SET_MPLS_TTL: u16 = 15;
    pub const DEC_MPLS_TTL: u16 = 16;
    pub const PUSH_VLAN: u16 = 17;
    pub const POP_VLAN: u16 = 18;
    pub const PUSH_MPLS: u16 = 19;
    pub const POP_MPLS: u16 = 20;
    pub const SET_QUEUE: u16 = 21;
    pub const GROUP: u16 = 22;
    pub const SET_NW_TTL: u16 = 23;
    pub const DEC_NW_TTL: u16 = 24;
    pub const SET_FIELD: u16 = 25;
    pub const PUSH_PBB: u16 = 26;
    pub const POP_PBB: u16 = 27;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// Instruction types (`ofp_instruction_type`).
#[allow(missing_docs)]
pub mod instruction_type {
    pub const GOTO_TABLE: u16 = 1;
    pub const WRITE_METADATA: u16 = 2;
    pub const WRITE_ACTIONS: u16 = 3;
    pub const APPLY_ACTIONS: u16 = 4;
    pub const CLEAR_ACTIONS: u16 = 5;
    pub const METER: u16 = 6;
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// Switch capability bits (`ofp_capabilities`).
#[allow(missing_docs)]
pub mod capabilities {
    pub const FLOW_STATS: u32 = 1 << 0;
    pub const TABLE_STATS: u32 = 1 << 1;
    pub const PORT_STATS: u32 = 1 << 2;
    pub const GROUP_STATS: u32 = 1 << 3;
    pub const IP_REASM: u32 = 1 << 5;
    pub const QUEUE_STATS: u32 = 1 << 6;
    pub const PORT_BLOCKED: u32 = 1 << 8;
}

/// Flow-mod flags (`ofp_flow_mod_flags`).
#[allow(missing_docs)]
pub mod flow_mod_flags {
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    pub const RESET_COUNTS: u16 = 1 << 2;
    pub const NO_PKT_COUNTS: u16 = 1 << 3;
    pub const NO_BYT_COUNTS: u16 = 1 << 4;
}

/// Table-features property types (`ofp_table_feature_prop_type`).
#[allow(missing_docs)]
pub mod table_feature_prop {
    pub const INSTRUCTIONS: u16 = 0;
    pub const INSTRUCTIONS_MISS: u16 = 1;
    pub const NEXT_TABLES: u16 = 2;
    pub const NEXT_TABLES_MISS: u16 = 3;
    pub const WRITE_ACTIONS: u16 = 4;
    pub const WRITE_ACTIONS_MISS: u16 = 5;
    pub const APPLY_ACTIONS: u16 = 6;
    pub const APPLY_ACTIONS_MISS: u16 = 7;
    pub const MATCH: u16 = 8;
    pub const WILDCARDS: u16 = 10;
    pub const WRITE_SETFIELD: u16 = 12;
    pub const WRITE_SETFIELD_MISS: u16 = 13;
    pub const APPLY_SETFIELD: u16 = 14;
    pub const APPLY_SETFIELD_MISS: u16 = 15;
    pub const EXPERIMENTER: u16 = 0xfffe;
    pub const EXPERIMENTER_MISS: u16 = 0xffff;
}

/// Fixed sizes of the structures (`sizeof` in `openflow.h` 1.3.5), without any variable
/// tail.
#[allow(missing_docs)]
pub mod size {
    pub const HEADER: usize = 8;
    pub const HELLO_ELEM_HEADER: usize = 4;
    pub const ERROR_MSG: usize = 12;
    pub const ERROR_EXPERIMENTER_MSG: usize = 16;
    pub const EXPERIMENTER_HEADER: usize = 16;
    pub const SWITCH_FEATURES: usize = 32;
    pub const SWITCH_CONFIG: usize = 12;
    pub const PORT: usize = 64;
    pub const PORT_STATUS: usize = 80;
    pub const MATCH_HEADER: usize = 4;
    pub const PACKET_IN: usize = 32;
    pub const FLOW_REMOVED: usize = 56;
    pub const PACKET_OUT: usize = 24;
    pub const FLOW_MOD: usize = 56;
    pub const GROUP_MOD: usize = 16;
    pub const BUCKET: usize = 16;
    pub const PORT_MOD: usize = 40;
    pub const TABLE_MOD: usize = 16;
    pub const MULTIPART_REQUEST: usize = 16;
    pub const MULTIPART_REPLY: usize = 16;
    pub const DESC: usize = 1056;
    pub const FLOW_STATS_REQUEST: usize = 40;
    pub const FLOW_STATS: usize = 56;
    pub const AGGREGATE_STATS_REPLY: usize = 24;
    pub const TABLE_STATS: usize = 24;
    pub const PORT_STATS_REQUEST: usize = 8;
    pub const PORT_STATS: usize = 112;
    pub const QUEUE_STATS_REQUEST: usize = 8;
    pub const QUEUE_STATS: usize = 40;
    pub const GROUP_STATS_REQUEST: usize = 8;
    pub const GROUP_STATS: usize = 40;
    pub const BUCKET_COUNTER: usize = 16;
    pub const GROUP_DESC: usize = 8;
    pub const GROUP_FEATURES: usize = 40;
    pub const METER_MULTIPART_REQUEST: usize = 8;
    pub const METER_STATS: usize = 40;
    pub const METER_BAND_STATS: usize = 16;
    pub const METER_CONFIG: usize = 8;
    pub const METER_FEATURES: usize = 16;
    pub const TABLE_FEATURES: usize = 64;
    pub const TABLE_FEATURE_PROP_HEADER: usize = 4;
    pub const EXPERIMENTER_MULTIPART_HEADER: usize = 8;
    pub const QUEUE_GET_CONFIG_REQUEST: usize = 16;
    pub const QUEUE_GET_CONFIG_REPLY: usize = 16;
    pub const PACKET_QUEUE: usize = 16;
    pub const QUEUE_PROP_HEADER: usize = 8;
    pub const QUEUE_PROP_RATE: usize = 16;
    pub const QUEUE_PROP_EXPERIMENTER: usize = 16;
    pub const ROLE_REQUEST: usize = 24;
    pub const ASYNC_CONFIG: usize = 32;
    pub const METER_MOD: usize = 16;
    pub const METER_BAND: usize = 16;
    pub const ACTION_HEADER: usize = 8;
    pub const ACTION_OUTPUT: usize = 16;
    pub const ACTION_GENERIC: usize = 8;
    pub const ACTION_EXPERIMENTER_HEADER: usize = 8;
    pub const INSTRUCTION_GOTO_TABLE: usize = 8;
    pub const INSTRUCTION_WRITE_METADATA: usize = 24;
    pub const INSTRUCTION_ACTIONS: usize = 8;
    pub const INSTRUCTION_METER: usize = 8;
    pub const INSTRUCTION_EXPERIMENTER: usize = 8;
}
