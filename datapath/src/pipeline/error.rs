//! [`PipelineError`]: every way the pipeline refuses a request, one variant per OpenFlow 1.3
//! error meaning.

/// Why the pipeline refused a flow_mod, group_mod, meter_mod, packet_out or statistics
/// request.
///
/// Each variant is one OpenFlow 1.3 error type and code (named in its documentation), so the
/// agent maps it onto the wire without inspecting anything else; OpenFlow 1.0 agents map the
/// few that 1.0 knows and send the closest code for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// `OFPET_FLOW_MOD_FAILED`/`OFPFMFC_BAD_TABLE_ID`: the table does not exist (or
    /// `OFPTT_ALL` where one table is needed).
    #[error("bad table id {table_id}")]
    BadTableId {
        /// The requested table.
        table_id: u8,
    },
    /// `OFPET_FLOW_MOD_FAILED`/`OFPFMFC_TABLE_FULL`: the table holds its maximum number of
    /// flows.
    #[error("table {table_id} is full")]
    TableFull {
        /// The full table.
        table_id: u8,
    },
    /// `OFPET_FLOW_MOD_FAILED`/`OFPFMFC_OVERLAP`: `CHECK_OVERLAP` was set and a flow of the
    /// same priority overlaps.
    #[error("flow overlaps a flow of the same priority")]
    Overlap,
    /// `OFPET_FLOW_MOD_FAILED`/`OFPFMFC_BAD_FLAGS`: unknown flow_mod flag bits.
    #[error("unsupported flow flags {flags:#x}")]
    BadFlowFlags {
        /// The flags as given.
        flags: u16,
    },
    /// `OFPET_BAD_INSTRUCTION`/`OFPBIC_BAD_TABLE_ID`: a goto_table that does not go forward
    /// or leaves the pipeline.
    #[error("goto table {goto} from table {table_id} is not allowed")]
    BadGotoTable {
        /// The table the flow is in.
        table_id: u8,
        /// The goto target.
        goto: u8,
    },
    /// `OFPET_BAD_ACTION`/`OFPBAC_BAD_OUT_GROUP`: an action names a group that does not
    /// exist.
    #[error("group {group_id} does not exist")]
    BadOutGroup {
        /// The group named.
        group_id: u32,
    },
    /// `OFPET_BAD_ACTION`/`OFPBAC_BAD_OUT_PORT`: an output the context forbids (`OFPP_TABLE`
    /// outside a packet-out).
    #[error("output to port {port:#x} is not allowed here")]
    BadOutPort {
        /// The OpenFlow 1.3 port number.
        port: u32,
    },
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_GROUP_EXISTS`: add of a group id in use.
    #[error("group {group_id} exists")]
    GroupExists {
        /// The group.
        group_id: u32,
    },
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_INVALID_GROUP`: a reserved group id, an indirect
    /// group without exactly one bucket, bucket weights outside a select group, or a fast
    /// failover bucket that watches nothing.
    #[error("invalid group {group_id}")]
    InvalidGroup {
        /// The group.
        group_id: u32,
    },
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_UNKNOWN_GROUP`: modify of a group that does not
    /// exist.
    #[error("unknown group {group_id}")]
    UnknownGroup {
        /// The group.
        group_id: u32,
    },
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_LOOP`: the group's buckets would forward to the
    /// group itself, directly or through other groups.
    #[error("group {group_id} would forward to itself")]
    GroupLoop {
        /// The group.
        group_id: u32,
    },
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_CHAINED_GROUP`: delete of a group another group
    /// forwards to.
    #[error("group {group_id} is referenced by another group")]
    ChainedGroup {
        /// The group.
        group_id: u32,
    },
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_OUT_OF_GROUPS`: the group table is full.
    #[error("no room for more groups")]
    OutOfGroups,
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_OUT_OF_BUCKETS`: more buckets than a group may have.
    #[error("too many buckets")]
    OutOfBuckets,
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_WATCH_UNSUPPORTED`: a watch port or group in a
    /// group type that does not use liveness (all, indirect).
    #[error("watch not supported for this group type")]
    WatchUnsupported,
    /// `OFPET_GROUP_MOD_FAILED`/`OFPGMFC_BAD_WATCH`: a watch group that does not exist.
    #[error("watch group {group_id} does not exist")]
    BadWatch {
        /// The watched group.
        group_id: u32,
    },
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_METER_EXISTS`: add of a meter id in use.
    #[error("meter {meter_id} exists")]
    MeterExists {
        /// The meter.
        meter_id: u32,
    },
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_INVALID_METER`: meter id 0 or a reserved id.
    #[error("invalid meter {meter_id}")]
    InvalidMeter {
        /// The meter.
        meter_id: u32,
    },
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_UNKNOWN_METER`: modify of, statistics of, or a flow
    /// instruction naming, a meter that does not exist.
    #[error("unknown meter {meter_id}")]
    UnknownMeter {
        /// The meter.
        meter_id: u32,
    },
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_BAD_FLAGS`: both `KBPS` and `PKTPS`, or unknown
    /// flag bits.
    #[error("bad meter flags {flags:#x}")]
    BadMeterFlags {
        /// The flags as given.
        flags: u16,
    },
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_BAD_RATE`: a band rate of zero.
    #[error("bad meter band rate")]
    BadRate,
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_BAD_BAND`: a band type this pipeline does not
    /// implement.
    #[error("unsupported meter band type {band_type}")]
    BadBand {
        /// The OpenFlow band type number.
        band_type: u16,
    },
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_OUT_OF_METERS`: the meter table is full.
    #[error("no room for more meters")]
    OutOfMeters,
    /// `OFPET_METER_MOD_FAILED`/`OFPMMFC_OUT_OF_BANDS`: more bands than a meter may have.
    #[error("too many meter bands")]
    OutOfBands,
}
