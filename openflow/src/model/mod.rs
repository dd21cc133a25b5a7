//! The semantic message model: one type per meaning, for OpenFlow 1.0 and 1.3 alike.
//!
//! Nothing here stores a length, a padding byte or a version: the encoders compute them.
//! Where one version has a field the other lacks, the field is here and documented with
//! the version that carries it; decoding the other version fills a stated default.
//! Encoding to a version that lacks a field ignores it when it is informational (a
//! packet-in's cookie, a port's speed, stats durations, 1.0 table-stats names in 1.3) and
//! fails with [`EncodeError`](crate::EncodeError) when dropping it would change what the
//! peer does (a flow-mod's cookie mask, a 1.3-only action or match field). Bit sets whose
//! bits mean different things per version (switch capabilities, flow-mod flags) are kept
//! in the carrying version's numbering, with constants in `v10`/`v13`; those that only
//! moved (port features) are normalised to 1.3 numbering.

pub mod action;
pub mod error_code;
pub mod multipart;
pub mod oxm;
pub mod port;

pub use action::{Action, Instruction};
pub use error_code::ErrorCode;
pub use multipart::{MultipartReply, MultipartRequest};
pub use oxm::{Match, OxmField, OxmId};
pub use port::{Port, PortNo};

/// `buffer_id` meaning "no buffered packet" (`OFP_NO_BUFFER`).
pub const NO_BUFFER: u32 = 0xffff_ffff;
/// Table id meaning "all tables" (`OFPTT_ALL`).
pub const TABLE_ALL: u8 = 0xff;
/// Group id meaning "any group" in requests (`OFPG_ANY`).
pub const GROUP_ANY: u32 = 0xffff_ffff;
/// Group id meaning "all groups" (`OFPG_ALL`).
pub const GROUP_ALL: u32 = 0xffff_fffc;
/// Meter id meaning "all meters" (`OFPM_ALL`).
pub const METER_ALL: u32 = 0xffff_ffff;
/// Queue id meaning "all queues" (`OFPQ_ALL`).
pub const QUEUE_ALL: u32 = 0xffff_ffff;

/// One OpenFlow message, whatever its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `OFPT_HELLO`: version negotiation.
    Hello(Hello),
    /// `OFPT_ERROR`.
    Error(ErrorMsg),
    /// `OFPT_ECHO_REQUEST` with its arbitrary payload.
    EchoRequest(Vec<u8>),
    /// `OFPT_ECHO_REPLY` with the request's payload.
    EchoReply(Vec<u8>),
    /// `OFPT_EXPERIMENTER` (1.0 `OFPT_VENDOR`), passed through.
    Experimenter(Experimenter),
    /// `OFPT_FEATURES_REQUEST`.
    FeaturesRequest,
    /// `OFPT_FEATURES_REPLY`.
    FeaturesReply(SwitchFeatures),
    /// `OFPT_GET_CONFIG_REQUEST`.
    GetConfigRequest,
    /// `OFPT_GET_CONFIG_REPLY`.
    GetConfigReply(SwitchConfig),
    /// `OFPT_SET_CONFIG`.
    SetConfig(SwitchConfig),
    /// `OFPT_PACKET_IN`.
    PacketIn(PacketIn),
    /// `OFPT_FLOW_REMOVED`.
    FlowRemoved(FlowRemoved),
    /// `OFPT_PORT_STATUS`.
    PortStatus(PortStatus),
    /// `OFPT_PACKET_OUT`.
    PacketOut(PacketOut),
    /// `OFPT_FLOW_MOD`.
    FlowMod(FlowMod),
    /// `OFPT_GROUP_MOD` (1.3).
    GroupMod(GroupMod),
    /// `OFPT_PORT_MOD`.
    PortMod(PortMod),
    /// `OFPT_TABLE_MOD` (1.3).
    TableMod(TableMod),
    /// `OFPT_MULTIPART_REQUEST` (1.0 `OFPT_STATS_REQUEST`).
    MultipartRequest(MultipartRequest),
    /// `OFPT_MULTIPART_REPLY` (1.0 `OFPT_STATS_REPLY`).
    MultipartReply(MultipartReply),
    /// `OFPT_BARRIER_REQUEST`.
    BarrierRequest,
    /// `OFPT_BARRIER_REPLY`.
    BarrierReply,
    /// `OFPT_QUEUE_GET_CONFIG_REQUEST` for a port.
    QueueGetConfigRequest(PortNo),
    /// `OFPT_QUEUE_GET_CONFIG_REPLY`.
    QueueGetConfigReply(QueueGetConfigReply),
    /// `OFPT_ROLE_REQUEST` (1.3).
    RoleRequest(RoleMsg),
    /// `OFPT_ROLE_REPLY` (1.3).
    RoleReply(RoleMsg),
    /// `OFPT_GET_ASYNC_REQUEST` (1.3).
    GetAsyncRequest,
    /// `OFPT_GET_ASYNC_REPLY` (1.3).
    GetAsyncReply(AsyncConfig),
    /// `OFPT_SET_ASYNC` (1.3).
    SetAsync(AsyncConfig),
    /// `OFPT_METER_MOD` (1.3).
    MeterMod(MeterMod),
}

/// `OFPT_HELLO` body: a list of elements (empty in 1.0).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hello {
    /// The hello elements in wire order.
    pub elements: Vec<HelloElement>,
}

impl Hello {
    /// A hello advertising exactly these wire versions in a version bitmap.
    pub fn with_versions(versions: &[u8]) -> Hello {
        let mut words: Vec<u32> = Vec::new();
        for &v in versions {
            let i = usize::from(v / 32);
            if words.len() <= i {
                words.resize(i + 1, 0);
            }
            words[i] |= 1 << (v % 32);
        }
        Hello {
            elements: vec![HelloElement::VersionBitmap(words)],
        }
    }

    /// The versions of the first version bitmap element, if any (bit `n` of word `i` is
    /// version `32 * i + n`).
    pub fn versions(&self) -> Option<Vec<u8>> {
        self.elements.iter().find_map(|e| match e {
            HelloElement::VersionBitmap(words) => Some(
                (0..words.len().min(8) * 32)
                    .filter(|&v| words[v / 32] & (1 << (v % 32)) != 0)
                    .map(|v| v as u8)
                    .collect(),
            ),
            HelloElement::Unknown { .. } => None,
        })
    }
}

/// One element of a hello message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloElement {
    /// `OFPHET_VERSIONBITMAP`: the supported versions as bitmap words.
    VersionBitmap(Vec<u32>),
    /// Any other element type, passed through (body without the 4-byte element header,
    /// without padding).
    Unknown {
        /// The element type.
        elem_type: u16,
        /// The element body.
        data: Vec<u8>,
    },
}

/// `OFPT_ERROR` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMsg {
    /// What went wrong.
    pub code: ErrorCode,
    /// Usually at least 64 bytes of the failed request.
    pub data: Vec<u8>,
}

/// `OFPT_EXPERIMENTER` (1.3) or `OFPT_VENDOR` (1.0). A 1.0 vendor message carries the
/// 32 bits after the vendor id (Nicira's subtype) in `exp_type`, so both forms have the
/// same shape; a 1.0 vendor message shorter than that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Experimenter {
    /// The experimenter id.
    pub experimenter: u32,
    /// The experimenter-defined type.
    pub exp_type: u32,
    /// The rest of the message.
    pub data: Vec<u8>,
}

/// `OFPT_FEATURES_REPLY` body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwitchFeatures {
    /// Datapath id: the lower 48 bits are a MAC address.
    pub datapath_id: u64,
    /// Packets the switch can buffer at once.
    pub n_buffers: u32,
    /// Number of flow tables.
    pub n_tables: u8,
    /// Auxiliary connection id (1.3; 0 from 1.0).
    pub auxiliary_id: u8,
    /// Capability bits in the carrying version's numbering (`v10::capabilities`,
    /// `v13::capabilities`: bit 3 is STP in 1.0 and GROUP_STATS in 1.3).
    pub capabilities: u32,
    /// 1.0: bitmap of supported actions (`1 << OFPAT10_*`); 1.3: the reserved word.
    pub actions: u32,
    /// The ports (1.0 only: 1.3 lists them with a port-desc multipart request, and the
    /// 1.3 encoder ignores this list).
    pub ports: Vec<Port>,
}

/// `OFPT_GET_CONFIG_REPLY` and `OFPT_SET_CONFIG` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwitchConfig {
    /// `OFPC_*` fragment handling flags (same in both versions).
    pub flags: u16,
    /// Bytes of a table-miss packet sent to the controller.
    pub miss_send_len: u16,
}

/// `OFPT_PACKET_IN` body.
///
/// 1.0 carries only the input port, which the model keeps as the `in_port` field of
/// `match_` (the 1.0 encoder requires it and ignores the other fields, `table_id` and
/// `cookie`; the 1.0 decoder fills `table_id` 0 and `cookie` all ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketIn {
    /// Buffer id, or [`NO_BUFFER`].
    pub buffer_id: u32,
    /// Full length of the frame.
    pub total_len: u16,
    /// Why the packet is sent (`OFPR_NO_MATCH` 0, `OFPR_ACTION` 1, `OFPR_INVALID_TTL` 2).
    pub reason: u8,
    /// Table that was looked up (1.3).
    pub table_id: u8,
    /// Cookie of the flow entry that was looked up (1.3).
    pub cookie: u64,
    /// Pipeline fields, including `in_port`.
    pub match_: Match,
    /// The frame (or its first bytes).
    pub data: Vec<u8>,
}

impl PacketIn {
    /// The input port (the match's `in_port`).
    pub fn in_port(&self) -> Option<PortNo> {
        self.match_.in_port()
    }
}

/// `OFPT_FLOW_REMOVED` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRemoved {
    /// Opaque controller-issued identifier.
    pub cookie: u64,
    /// Priority of the flow entry.
    pub priority: u16,
    /// `OFPRR_IDLE_TIMEOUT` 0, `HARD_TIMEOUT` 1, `DELETE` 2, `GROUP_DELETE` 3 (1.3).
    pub reason: u8,
    /// Table of the entry (1.3; 0 from 1.0).
    pub table_id: u8,
    /// Seconds the flow was alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Idle timeout from the flow mod.
    pub idle_timeout: u16,
    /// Hard timeout from the flow mod (1.3; 0 from 1.0).
    pub hard_timeout: u16,
    /// Packets matched.
    pub packet_count: u64,
    /// Bytes matched.
    pub byte_count: u64,
    /// The entry's match.
    pub match_: Match,
}

/// `OFPT_PORT_STATUS` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortStatus {
    /// `OFPPR_ADD` 0, `OFPPR_DELETE` 1, `OFPPR_MODIFY` 2.
    pub reason: u8,
    /// The port.
    pub desc: Port,
}

/// `OFPT_PACKET_OUT` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketOut {
    /// Buffer id, or [`NO_BUFFER`] when the frame is in `data`.
    pub buffer_id: u32,
    /// The packet's input port ([`PortNo::CONTROLLER`] or `ANY` for none).
    pub in_port: PortNo,
    /// Actions to apply.
    pub actions: Vec<Action>,
    /// The frame, when not buffered.
    pub data: Vec<u8>,
}

/// Flow-mod commands (`OFPFC_*`, the same numbers in both versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowModCommand {
    /// New flow.
    Add,
    /// Modify all matching flows.
    Modify,
    /// Modify the entry strictly matching wildcards and priority.
    ModifyStrict,
    /// Delete all matching flows.
    Delete,
    /// Delete the entry strictly matching wildcards and priority.
    DeleteStrict,
    /// Another number (1.0 carries 16 bits, 1.3 8).
    Unknown(u16),
}

impl FlowModCommand {
    /// From the wire number.
    pub fn from_u16(v: u16) -> FlowModCommand {
        match v {
            0 => FlowModCommand::Add,
            1 => FlowModCommand::Modify,
            2 => FlowModCommand::ModifyStrict,
            3 => FlowModCommand::Delete,
            4 => FlowModCommand::DeleteStrict,
            other => FlowModCommand::Unknown(other),
        }
    }

    /// The wire number.
    pub fn to_u16(self) -> u16 {
        match self {
            FlowModCommand::Add => 0,
            FlowModCommand::Modify => 1,
            FlowModCommand::ModifyStrict => 2,
            FlowModCommand::Delete => 3,
            FlowModCommand::DeleteStrict => 4,
            FlowModCommand::Unknown(v) => v,
        }
    }

    /// Whether this is `Delete` or `DeleteStrict`.
    pub fn is_delete(self) -> bool {
        matches!(self, FlowModCommand::Delete | FlowModCommand::DeleteStrict)
    }
}

/// `OFPT_FLOW_MOD` body.
///
/// From 1.0: `cookie_mask` 0, `out_group` [`GROUP_ANY`], `table_id` [`TABLE_ALL`] for
/// deletes and 0 otherwise, and the action list as one [`Instruction::ApplyActions`] (none
/// if empty). To 1.0: those defaults are required (any `table_id` of 0 or `TABLE_ALL`),
/// and the instructions must be empty or one `ApplyActions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowMod {
    /// Opaque controller-issued identifier.
    pub cookie: u64,
    /// Mask restricting cookie bits for modify/delete (1.3).
    pub cookie_mask: u64,
    /// Table to put the flow in (1.3).
    pub table_id: u8,
    /// What to do.
    pub command: FlowModCommand,
    /// Idle time before discarding (seconds).
    pub idle_timeout: u16,
    /// Max time before discarding (seconds).
    pub hard_timeout: u16,
    /// Priority level of the flow entry.
    pub priority: u16,
    /// Buffered packet to apply to, or [`NO_BUFFER`] (1.0 also uses 0xffff).
    pub buffer_id: u32,
    /// For delete commands, require matching entries to output to this port.
    pub out_port: PortNo,
    /// For delete commands, require matching entries to output to this group (1.3).
    pub out_group: u32,
    /// `OFPFF_*` flags in the carrying version's numbering (bit 2 is `EMERG` in 1.0 and
    /// `RESET_COUNTS` in 1.3).
    pub flags: u16,
    /// The match.
    pub match_: Match,
    /// The instructions.
    pub instructions: Vec<Instruction>,
}

impl Default for FlowMod {
    fn default() -> Self {
        FlowMod {
            cookie: 0,
            cookie_mask: 0,
            table_id: 0,
            command: FlowModCommand::Add,
            idle_timeout: 0,
            hard_timeout: 0,
            priority: 0x8000,
            buffer_id: NO_BUFFER,
            out_port: PortNo::ANY,
            out_group: GROUP_ANY,
            flags: 0,
            match_: Match::new(),
            instructions: Vec::new(),
        }
    }
}

/// A group bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Relative weight (select groups).
    pub weight: u16,
    /// Port whose liveness decides (fast failover groups).
    pub watch_port: PortNo,
    /// Group whose liveness decides (fast failover groups).
    pub watch_group: u32,
    /// The bucket's actions.
    pub actions: Vec<Action>,
}

/// `OFPT_GROUP_MOD` body (1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMod {
    /// `OFPGC_ADD` 0, `MODIFY` 1, `DELETE` 2.
    pub command: u16,
    /// `OFPGT_ALL` 0, `SELECT` 1, `INDIRECT` 2, `FF` 3.
    pub group_type: u8,
    /// The group id.
    pub group_id: u32,
    /// The buckets.
    pub buckets: Vec<Bucket>,
}

/// `OFPT_PORT_MOD` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMod {
    /// The port.
    pub port_no: PortNo,
    /// Must match the port's hardware address.
    pub hw_addr: [u8; 6],
    /// Config bits to set (see [`port::config`]).
    pub config: u32,
    /// Which config bits to change.
    pub mask: u32,
    /// Features to advertise (1.3 numbering, see [`port::features`]); 0 leaves them.
    pub advertise: u32,
}

/// `OFPT_TABLE_MOD` body (1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableMod {
    /// The table, or [`TABLE_ALL`].
    pub table_id: u8,
    /// Config bits (deprecated in 1.3).
    pub config: u32,
}

/// A queue property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueProp {
    /// `OFPQT_MIN_RATE` in 1/10 of a percent.
    MinRate(u16),
    /// `OFPQT_MAX_RATE` in 1/10 of a percent (1.3).
    MaxRate(u16),
    /// `OFPQT_EXPERIMENTER` (1.3), passed through (data not padded).
    Experimenter {
        /// The experimenter id.
        experimenter: u32,
        /// The property body after the id and its padding.
        data: Vec<u8>,
    },
    /// Another property type, passed through.
    Unknown {
        /// The property type.
        prop_type: u16,
        /// The body after the 8-byte property header.
        data: Vec<u8>,
    },
}

/// A queue and its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketQueue {
    /// The queue id.
    pub queue_id: u32,
    /// The port it is attached to (1.3; from 1.0 the reply's port).
    pub port: PortNo,
    /// Its properties.
    pub properties: Vec<QueueProp>,
}

/// `OFPT_QUEUE_GET_CONFIG_REPLY` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueGetConfigReply {
    /// The port asked about.
    pub port: PortNo,
    /// Its queues.
    pub queues: Vec<PacketQueue>,
}

/// `OFPT_ROLE_REQUEST` / `OFPT_ROLE_REPLY` body (1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleMsg {
    /// `OFPCR_ROLE_NOCHANGE` 0, `EQUAL` 1, `MASTER` 2, `SLAVE` 3.
    pub role: u32,
    /// Master election generation id.
    pub generation_id: u64,
}

/// `OFPT_GET_ASYNC_REPLY` / `OFPT_SET_ASYNC` body (1.3): for each message kind, the
/// reasons sent to a master/equal controller (`[0]`) and to a slave (`[1]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AsyncConfig {
    /// Bitmasks of `OFPR_*` packet-in reasons.
    pub packet_in_mask: [u32; 2],
    /// Bitmasks of `OFPPR_*` port-status reasons.
    pub port_status_mask: [u32; 2],
    /// Bitmasks of `OFPRR_*` flow-removed reasons.
    pub flow_removed_mask: [u32; 2],
}

/// A meter band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterBand {
    /// `OFPMBT_DROP`: drop packets above the rate.
    Drop {
        /// Rate (kb/s or packets/s per the meter flags).
        rate: u32,
        /// Burst size.
        burst_size: u32,
    },
    /// `OFPMBT_DSCP_REMARK`: raise the drop precedence.
    DscpRemark {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// Number of precedence levels to add.
        prec_level: u8,
    },
    /// `OFPMBT_EXPERIMENTER`, passed through.
    Experimenter {
        /// Rate.
        rate: u32,
        /// Burst size.
        burst_size: u32,
        /// The experimenter id.
        experimenter: u32,
        /// The band body after the 16-byte band header.
        data: Vec<u8>,
    },
}

/// `OFPT_METER_MOD` body (1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterMod {
    /// `OFPMC_ADD` 0, `MODIFY` 1, `DELETE` 2.
    pub command: u16,
    /// `OFPMF_*` flags.
    pub flags: u16,
    /// The meter id.
    pub meter_id: u32,
    /// The bands.
    pub bands: Vec<MeterBand>,
}
