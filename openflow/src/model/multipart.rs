//! Multipart (1.0: stats) requests and replies.
//!
//! A long reply is split over several messages with `OFPMPF_REPLY_MORE` in `flags`; each
//! message is one [`MultipartReply`] here, and reassembly is the caller's business.

use super::action::Instruction;
use super::oxm::{Match, OxmId};
use super::port::{Port, PortNo};
use super::{Bucket, MeterBand};

/// `OFPMPF_REQ_MORE` / `OFPMPF_REPLY_MORE`: more messages follow.
pub const MORE: u16 = 1;

/// `OFPT_MULTIPART_REQUEST` (1.0 `OFPT_STATS_REQUEST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartRequest {
    /// `OFPMPF_REQ_*` flags.
    pub flags: u16,
    /// The request.
    pub body: MultipartRequestBody,
}

/// The body of a multipart request, one variant per `OFPMP_*` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartRequestBody {
    /// `OFPMP_DESC`.
    Desc,
    /// `OFPMP_FLOW`.
    Flow(FlowStatsRequest),
    /// `OFPMP_AGGREGATE`.
    Aggregate(FlowStatsRequest),
    /// `OFPMP_TABLE`.
    Table,
    /// `OFPMP_PORT_STATS` for a port or [`PortNo::ANY`].
    PortStats(PortNo),
    /// `OFPMP_QUEUE`.
    Queue {
        /// Port, or all ports ([`PortNo::ANY`] in 1.3, [`PortNo::ALL`] in 1.0).
        port_no: PortNo,
        /// Queue or `QUEUE_ALL`.
        queue_id: u32,
    },
    /// `OFPMP_GROUP` for a group or `GROUP_ALL` (1.3).
    Group(u32),
    /// `OFPMP_GROUP_DESC` (1.3).
    GroupDesc,
    /// `OFPMP_GROUP_FEATURES` (1.3).
    GroupFeatures,
    /// `OFPMP_METER` for a meter or `METER_ALL` (1.3).
    Meter(u32),
    /// `OFPMP_METER_CONFIG` for a meter or `METER_ALL` (1.3).
    MeterConfig(u32),
    /// `OFPMP_METER_FEATURES` (1.3).
    MeterFeatures,
    /// `OFPMP_TABLE_FEATURES`: empty to query, or tables to set (1.3).
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC` (1.3).
    PortDesc,
    /// `OFPMP_EXPERIMENTER` (1.0 `OFPST_VENDOR`, whose first data word is `exp_type`).
    Experimenter {
        /// The experimenter id.
        experimenter: u32,
        /// The experimenter-defined type.
        exp_type: u32,
        /// The rest.
        data: Vec<u8>,
    },
}

/// Flow and aggregate statistics request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowStatsRequest {
    /// Table to read, or `TABLE_ALL`.
    pub table_id: u8,
    /// Require entries outputting to this port ([`PortNo::ANY`] for no restriction).
    pub out_port: PortNo,
    /// Require entries outputting to this group (1.3; `GROUP_ANY` from 1.0).
    pub out_group: u32,
    /// Require entries with this cookie (1.3).
    pub cookie: u64,
    /// Which cookie bits must match (1.3; 0 from 1.0).
    pub cookie_mask: u64,
    /// Fields to match.
    pub match_: Match,
}

/// `OFPMP_MULTIPART_REPLY` (1.0 `OFPT_STATS_REPLY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartReply {
    /// `OFPMPF_REPLY_*` flags.
    pub flags: u16,
    /// The reply.
    pub body: MultipartReplyBody,
}

/// The body of a multipart reply, one variant per `OFPMP_*` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartReplyBody {
    /// `OFPMP_DESC`.
    Desc(DescStats),
    /// `OFPMP_FLOW`.
    Flow(Vec<FlowStats>),
    /// `OFPMP_AGGREGATE`.
    Aggregate(AggregateStats),
    /// `OFPMP_TABLE`.
    Table(Vec<TableStats>),
    /// `OFPMP_PORT_STATS`.
    PortStats(Vec<PortStats>),
    /// `OFPMP_QUEUE`.
    Queue(Vec<QueueStats>),
    /// `OFPMP_GROUP` (1.3).
    Group(Vec<GroupStats>),
    /// `OFPMP_GROUP_DESC` (1.3).
    GroupDesc(Vec<GroupDesc>),
    /// `OFPMP_GROUP_FEATURES` (1.3).
    GroupFeatures(GroupFeatures),
    /// `OFPMP_METER` (1.3).
    Meter(Vec<MeterStats>),
    /// `OFPMP_METER_CONFIG` (1.3).
    MeterConfig(Vec<MeterConfig>),
    /// `OFPMP_METER_FEATURES` (1.3).
    MeterFeatures(MeterFeatures),
    /// `OFPMP_TABLE_FEATURES` (1.3).
    TableFeatures(Vec<TableFeatures>),
    /// `OFPMP_PORT_DESC` (1.3).
    PortDesc(Vec<Port>),
    /// `OFPMP_EXPERIMENTER` (1.0 `OFPST_VENDOR`).
    Experimenter {
        /// The experimenter id.
        experimenter: u32,
        /// The experimenter-defined type.
        exp_type: u32,
        /// The rest.
        data: Vec<u8>,
    },
}

/// `OFPMP_DESC` reply: text fields (wire widths in parentheses).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DescStats {
    /// Manufacturer description (256).
    pub mfr_desc: String,
    /// Hardware description (256).
    pub hw_desc: String,
    /// Software description (256).
    pub sw_desc: String,
    /// Serial number (32).
    pub serial_num: String,
    /// Human readable description of the datapath (256).
    pub dp_desc: String,
}

/// One flow entry's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowStats {
    /// Table of the entry.
    pub table_id: u8,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// `OFPFF_*` flags (1.3; 0 from 1.0).
    pub flags: u16,
    /// Cookie.
    pub cookie: u64,
    /// Packets matched.
    pub packet_count: u64,
    /// Bytes matched.
    pub byte_count: u64,
    /// The match.
    pub match_: Match,
    /// The instructions (from 1.0: its actions as one `ApplyActions`, or none).
    pub instructions: Vec<Instruction>,
}

/// `OFPMP_AGGREGATE` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AggregateStats {
    /// Packets.
    pub packet_count: u64,
    /// Bytes.
    pub byte_count: u64,
    /// Flows.
    pub flow_count: u32,
}

/// One table's statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableStats {
    /// The table.
    pub table_id: u8,
    /// Name (1.0 only, 32 bytes).
    pub name: String,
    /// Wildcards the table supports (1.0 only, `OFPFW_*`).
    pub wildcards: u32,
    /// Maximum entries (1.0 only).
    pub max_entries: u32,
    /// Active entries.
    pub active_count: u32,
    /// Packets looked up.
    pub lookup_count: u64,
    /// Packets that hit.
    pub matched_count: u64,
}

/// One port's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortStats {
    /// The port.
    pub port_no: PortNo,
    /// Received packets.
    pub rx_packets: u64,
    /// Transmitted packets.
    pub tx_packets: u64,
    /// Received bytes.
    pub rx_bytes: u64,
    /// Transmitted bytes.
    pub tx_bytes: u64,
    /// Packets dropped by RX.
    pub rx_dropped: u64,
    /// Packets dropped by TX.
    pub tx_dropped: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Frame alignment errors.
    pub rx_frame_err: u64,
    /// Packets with RX overrun.
    pub rx_over_err: u64,
    /// CRC errors.
    pub rx_crc_err: u64,
    /// Collisions.
    pub collisions: u64,
    /// Seconds the port has been alive (1.3).
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec` (1.3).
    pub duration_nsec: u32,
}

/// One queue's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// The port.
    pub port_no: PortNo,
    /// The queue.
    pub queue_id: u32,
    /// Transmitted bytes.
    pub tx_bytes: u64,
    /// Transmitted packets.
    pub tx_packets: u64,
    /// Packets dropped due to overrun.
    pub tx_errors: u64,
    /// Seconds the queue has been alive (1.3).
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec` (1.3).
    pub duration_nsec: u32,
}

/// Packet and byte counters of a group bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketCounter {
    /// Packets processed by the bucket.
    pub packet_count: u64,
    /// Bytes processed by the bucket.
    pub byte_count: u64,
}

/// One group's statistics (1.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupStats {
    /// The group.
    pub group_id: u32,
    /// Flows or groups forwarding to it.
    pub ref_count: u32,
    /// Packets processed.
    pub packet_count: u64,
    /// Bytes processed.
    pub byte_count: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Per-bucket counters.
    pub bucket_stats: Vec<BucketCounter>,
}

/// One group's description (1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDesc {
    /// `OFPGT_*`.
    pub group_type: u8,
    /// The group.
    pub group_id: u32,
    /// Its buckets.
    pub buckets: Vec<Bucket>,
}

/// `OFPMP_GROUP_FEATURES` reply (1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupFeatures {
    /// Bitmap of `OFPGT_*` supported.
    pub types: u32,
    /// Bitmap of `OFPGFC_*` capabilities.
    pub capabilities: u32,
    /// Maximum groups per type.
    pub max_groups: [u32; 4],
    /// Bitmaps of `OFPAT_*` supported per type.
    pub actions: [u32; 4],
}

/// A meter band's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MeterBandStats {
    /// Packets in the band.
    pub packet_band_count: u64,
    /// Bytes in the band.
    pub byte_band_count: u64,
}

/// One meter's statistics (1.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MeterStats {
    /// The meter.
    pub meter_id: u32,
    /// Flows bound to it.
    pub flow_count: u32,
    /// Packets in input.
    pub packet_in_count: u64,
    /// Bytes in input.
    pub byte_in_count: u64,
    /// Seconds alive.
    pub duration_sec: u32,
    /// Nanoseconds beyond `duration_sec`.
    pub duration_nsec: u32,
    /// Per-band counters.
    pub band_stats: Vec<MeterBandStats>,
}

/// One meter's configuration (1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterConfig {
    /// `OFPMF_*` flags.
    pub flags: u16,
    /// The meter.
    pub meter_id: u32,
    /// Its bands.
    pub bands: Vec<MeterBand>,
}

/// `OFPMP_METER_FEATURES` reply (1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MeterFeatures {
    /// Maximum number of meters.
    pub max_meter: u32,
    /// Bitmap of `OFPMBT_*` band types.
    pub band_types: u32,
    /// Bitmap of `OFPMF_*` flags.
    pub capabilities: u32,
    /// Maximum bands per meter.
    pub max_bands: u8,
    /// Maximum color value.
    pub max_color: u8,
}

/// One table's features (1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFeatures {
    /// The table.
    pub table_id: u8,
    /// Its name (32 bytes of UTF-8 on the wire).
    pub name: String,
    /// Metadata bits the table can match.
    pub metadata_match: u64,
    /// Metadata bits the table can write.
    pub metadata_write: u64,
    /// `OFPTC_*` config bits.
    pub config: u32,
    /// Maximum entries.
    pub max_entries: u32,
    /// The properties in wire order.
    pub properties: Vec<TableFeatureProp>,
}

/// An instruction or action id in a table-features property: the type, and for
/// experimenter ids the bytes after the 4-byte header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureId {
    /// `OFPIT_*` or `OFPAT_*`.
    pub id_type: u16,
    /// Bytes after the type and length (the experimenter id and more), usually empty.
    pub data: Vec<u8>,
}

/// An OXM id in a table-features property: the 32-bit OXM header as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OxmFeatureId {
    /// The field.
    pub id: OxmId,
    /// The has-mask bit.
    pub has_mask: bool,
    /// The header's length byte, kept as sent (senders disagree: some write the field's
    /// width, some 0).
    pub length: u8,
}

/// A table-features property (`OFPTFPT_*`); `miss` selects the `*_MISS` type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableFeatureProp {
    /// `OFPTFPT_INSTRUCTIONS[_MISS]`.
    Instructions {
        /// The `_MISS` variant.
        miss: bool,
        /// The instruction ids.
        ids: Vec<FeatureId>,
    },
    /// `OFPTFPT_NEXT_TABLES[_MISS]`.
    NextTables {
        /// The `_MISS` variant.
        miss: bool,
        /// The table ids.
        tables: Vec<u8>,
    },
    /// `OFPTFPT_WRITE_ACTIONS[_MISS]`.
    WriteActions {
        /// The `_MISS` variant.
        miss: bool,
        /// The action ids.
        ids: Vec<FeatureId>,
    },
    /// `OFPTFPT_APPLY_ACTIONS[_MISS]`.
    ApplyActions {
        /// The `_MISS` variant.
        miss: bool,
        /// The action ids.
        ids: Vec<FeatureId>,
    },
    /// `OFPTFPT_MATCH`.
    Match(Vec<OxmFeatureId>),
    /// `OFPTFPT_WILDCARDS`.
    Wildcards(Vec<OxmFeatureId>),
    /// `OFPTFPT_WRITE_SETFIELD[_MISS]`.
    WriteSetfield {
        /// The `_MISS` variant.
        miss: bool,
        /// The field ids.
        ids: Vec<OxmFeatureId>,
    },
    /// `OFPTFPT_APPLY_SETFIELD[_MISS]`.
    ApplySetfield {
        /// The `_MISS` variant.
        miss: bool,
        /// The field ids.
        ids: Vec<OxmFeatureId>,
    },
    /// `OFPTFPT_EXPERIMENTER[_MISS]`.
    Experimenter {
        /// The `_MISS` variant.
        miss: bool,
        /// The experimenter id.
        experimenter: u32,
        /// The experimenter-defined type.
        exp_type: u32,
        /// The rest, as 32-bit words.
        data: Vec<u32>,
    },
    /// Another property type, passed through (body after the 4-byte header, unpadded).
    Unknown {
        /// The property type.
        prop_type: u16,
        /// The body.
        data: Vec<u8>,
    },
}
