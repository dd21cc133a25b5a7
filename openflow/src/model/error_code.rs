//! OpenFlow error kinds, one meaning per variant, mapped to (type, code) per version.
//!
//! The numbers differ between versions: 1.3 inserts `BAD_INSTRUCTION` (3) and
//! `BAD_MATCH` (4) and renumbers the later types, and renumbers the flow-mod codes.
//! [`ErrorCode`] names the meaning; `v10::error::to_wire`/`from_wire` and
//! `v13::error::to_wire`/`from_wire` are the two tables ([`ErrorCode::to_wire`] picks by
//! version). The code enums use 1.3's names and numbers, plus a few 1.0-only meanings.
//! A pair a version does not define decodes to [`ErrorCode::Unknown`] and is written back
//! unchanged.

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $val:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant,)*
            /// A code this model does not name, as a 1.3 code number (1.0-only meanings
            /// above use numbers from 0x8000 that the 1.3 table translates).
            Unknown(u16),
        }

        impl $name {
            /// The code from its OpenFlow 1.3 number.
            pub fn from_v13(code: u16) -> Self {
                match code {
                    $($val => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }

            /// The OpenFlow 1.3 number (1.0-only meanings return their closest 1.3 code).
            pub fn to_v13(self) -> u16 {
                match self {
                    $(Self::$variant => $val,)*
                    Self::Unknown(c) => c,
                }
            }
        }
    };
}

code_enum! {
    /// `OFPET_HELLO_FAILED` codes.
    HelloFailedCode {
        /// No compatible version.
        Incompatible = 0,
        /// Permissions error.
        Eperm = 1,
    }
}

code_enum! {
    /// `OFPET_BAD_REQUEST` codes.
    BadRequestCode {
        /// `ofp_header.version` not supported.
        BadVersion = 0,
        /// `ofp_header.type` not supported.
        BadType = 1,
        /// `ofp_multipart_request.type` (1.0 `ofp_stats_request.type`) not supported.
        BadMultipart = 2,
        /// Experimenter (1.0 vendor) id not supported.
        BadExperimenter = 3,
        /// Experimenter type (1.0 vendor subtype) not supported.
        BadExpType = 4,
        /// Permissions error.
        Eperm = 5,
        /// Wrong request length for type.
        BadLen = 6,
        /// Specified buffer has already been used.
        BufferEmpty = 7,
        /// Specified buffer does not exist.
        BufferUnknown = 8,
        /// Specified table id is invalid or does not exist (1.3).
        BadTableId = 9,
        /// Denied because controller is slave (1.3).
        IsSlave = 10,
        /// Invalid port (1.3).
        BadPort = 11,
        /// Invalid packet in packet-out (1.3).
        BadPacket = 12,
        /// Multipart request overflowed the assigned buffer (1.3).
        MultipartBufferOverflow = 13,
    }
}

code_enum! {
    /// `OFPET_BAD_ACTION` codes.
    BadActionCode {
        /// Unknown action type.
        BadType = 0,
        /// Length problem in actions.
        BadLen = 1,
        /// Unknown experimenter id.
        BadExperimenter = 2,
        /// Unknown action for experimenter id.
        BadExpType = 3,
        /// Problem validating output port.
        BadOutPort = 4,
        /// Bad action argument.
        BadArgument = 5,
        /// Permissions error.
        Eperm = 6,
        /// Can't handle this many actions.
        TooMany = 7,
        /// Problem validating output queue.
        BadQueue = 8,
        /// Invalid group id in forward action (1.3).
        BadOutGroup = 9,
        /// Action can't apply for this match, or set-field missing prerequisite (1.3).
        MatchInconsistent = 10,
        /// Action order is unsupported for the action list (1.3).
        UnsupportedOrder = 11,
        /// Actions uses an unsupported tag/encap (1.3).
        BadTag = 12,
        /// Unsupported type in set-field action (1.3).
        BadSetType = 13,
        /// Length problem in set-field action (1.3).
        BadSetLen = 14,
        /// Bad argument in set-field action (1.3).
        BadSetArgument = 15,
    }
}

code_enum! {
    /// `OFPET_BAD_INSTRUCTION` codes (1.3).
    BadInstructionCode {
        /// Unknown instruction.
        UnknownInst = 0,
        /// Switch or table does not support the instruction.
        UnsupInst = 1,
        /// Invalid table id specified.
        BadTableId = 2,
        /// Metadata value unsupported by datapath.
        UnsupMetadata = 3,
        /// Metadata mask value unsupported by datapath.
        UnsupMetadataMask = 4,
        /// Unknown experimenter id specified.
        BadExperimenter = 5,
        /// Unknown instruction for experimenter id.
        BadExpType = 6,
        /// Length problem in instructions.
        BadLen = 7,
        /// Permissions error.
        Eperm = 8,
    }
}

code_enum! {
    /// `OFPET_BAD_MATCH` codes (1.3).
    BadMatchCode {
        /// Unsupported match type.
        BadType = 0,
        /// Length problem in match.
        BadLen = 1,
        /// Match uses an unsupported tag/encap.
        BadTag = 2,
        /// Unsupported datalink address mask.
        BadDlAddrMask = 3,
        /// Unsupported network address mask.
        BadNwAddrMask = 4,
        /// Unsupported combination of fields masked or omitted.
        BadWildcards = 5,
        /// Unsupported field type in the match.
        BadField = 6,
        /// Unsupported value in a match field.
        BadValue = 7,
        /// Unsupported mask specified in the match.
        BadMask = 8,
        /// A prerequisite was not met.
        BadPrereq = 9,
        /// A field type was duplicated.
        DupField = 10,
        /// Permissions error.
        Eperm = 11,
    }
}

code_enum! {
    /// `OFPET_FLOW_MOD_FAILED` codes.
    FlowModFailedCode {
        /// Unspecified error.
        Unspecified = 0,
        /// Flow not added because table was full (1.0 `ALL_TABLES_FULL`).
        TableFull = 1,
        /// Table does not exist.
        BadTableId = 2,
        /// Attempted to add overlapping flow with `CHECK_OVERLAP` set.
        Overlap = 3,
        /// Permissions error.
        Eperm = 4,
        /// Flow not added because of unsupported idle/hard timeout.
        BadTimeout = 5,
        /// Unsupported or unknown command.
        BadCommand = 6,
        /// Unsupported or unknown flags.
        BadFlags = 7,
        /// 1.0 `BAD_EMERG_TIMEOUT`: emergency flow with a timeout (1.3: `BAD_TIMEOUT`).
        BadEmergTimeout = 0x8003,
        /// 1.0 `UNSUPPORTED`: action list can't be processed in the order given
        /// (1.3: `BAD_ACTION`/`UNSUPPORTED_ORDER`).
        Unsupported = 0x8005,
    }
}

code_enum! {
    /// `OFPET_GROUP_MOD_FAILED` codes (1.3).
    GroupModFailedCode {
        /// Group not added because a group with that id already exists.
        GroupExists = 0,
        /// Group not added because the group specified is invalid.
        InvalidGroup = 1,
        /// Switch does not support unequal load sharing with select groups.
        WeightUnsupported = 2,
        /// The group table is full.
        OutOfGroups = 3,
        /// The maximum number of action buckets for a group has been exceeded.
        OutOfBuckets = 4,
        /// Switch does not support groups that forward to groups.
        ChainingUnsupported = 5,
        /// This group cannot watch the watch_port or watch_group specified.
        WatchUnsupported = 6,
        /// Group entry would cause a loop.
        Loop = 7,
        /// Group not modified because the group does not exist.
        UnknownGroup = 8,
        /// Group not deleted because another group is forwarding to it.
        ChainedGroup = 9,
        /// Unsupported or unknown group type.
        BadType = 10,
        /// Unsupported or unknown command.
        BadCommand = 11,
        /// Error in bucket.
        BadBucket = 12,
        /// Error in watch port/group.
        BadWatch = 13,
        /// Permissions error.
        Eperm = 14,
    }
}

code_enum! {
    /// `OFPET_PORT_MOD_FAILED` codes.
    PortModFailedCode {
        /// Specified port number does not exist.
        BadPort = 0,
        /// Specified hardware address does not match the port number.
        BadHwAddr = 1,
        /// Specified config is invalid (1.3).
        BadConfig = 2,
        /// Specified advertise is invalid (1.3).
        BadAdvertise = 3,
        /// Permissions error (1.3).
        Eperm = 4,
    }
}

code_enum! {
    /// `OFPET_TABLE_MOD_FAILED` codes (1.3).
    TableModFailedCode {
        /// Specified table does not exist.
        BadTable = 0,
        /// Specified config is invalid.
        BadConfig = 1,
        /// Permissions error.
        Eperm = 2,
    }
}

code_enum! {
    /// `OFPET_QUEUE_OP_FAILED` codes.
    QueueOpFailedCode {
        /// Invalid port (or port does not exist).
        BadPort = 0,
        /// Queue does not exist.
        BadQueue = 1,
        /// Permissions error.
        Eperm = 2,
    }
}

code_enum! {
    /// `OFPET_SWITCH_CONFIG_FAILED` codes (1.3).
    SwitchConfigFailedCode {
        /// Specified flags are invalid.
        BadFlags = 0,
        /// Specified length is invalid.
        BadLen = 1,
        /// Permissions error.
        Eperm = 2,
    }
}

code_enum! {
    /// `OFPET_ROLE_REQUEST_FAILED` codes (1.3).
    RoleRequestFailedCode {
        /// Stale message: old generation id.
        Stale = 0,
        /// Controller role change unsupported.
        Unsup = 1,
        /// Invalid role.
        BadRole = 2,
    }
}

code_enum! {
    /// `OFPET_METER_MOD_FAILED` codes (1.3).
    MeterModFailedCode {
        /// Unspecified error.
        Unspecified = 0,
        /// Meter not added because a meter with that id already exists.
        MeterExists = 1,
        /// Meter not added because the meter specified is invalid.
        InvalidMeter = 2,
        /// Meter not modified because the meter does not exist.
        UnknownMeter = 3,
        /// Unsupported or unknown command.
        BadCommand = 4,
        /// Flag configuration unsupported.
        BadFlags = 5,
        /// Rate unsupported.
        BadRate = 6,
        /// Burst size unsupported.
        BadBurst = 7,
        /// Band unsupported.
        BadBand = 8,
        /// Band value unsupported.
        BadBandValue = 9,
        /// No more meters available.
        OutOfMeters = 10,
        /// The maximum number of bands for a meter has been exceeded.
        OutOfBands = 11,
    }
}

code_enum! {
    /// `OFPET_TABLE_FEATURES_FAILED` codes (1.3).
    TableFeaturesFailedCode {
        /// Specified table does not exist.
        BadTable = 0,
        /// Invalid metadata mask.
        BadMetadata = 1,
        /// Unknown property type.
        BadType = 2,
        /// Length problem in properties.
        BadLen = 3,
        /// Unsupported property value.
        BadArgument = 4,
        /// Permissions error.
        Eperm = 5,
    }
}

/// The meaning of an OpenFlow error message (type and code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Hello protocol failed.
    HelloFailed(HelloFailedCode),
    /// Request was not understood.
    BadRequest(BadRequestCode),
    /// Error in action description.
    BadAction(BadActionCode),
    /// Error in instruction list (1.3).
    BadInstruction(BadInstructionCode),
    /// Error in match (1.3).
    BadMatch(BadMatchCode),
    /// Problem modifying a flow entry.
    FlowModFailed(FlowModFailedCode),
    /// Problem modifying a group entry (1.3).
    GroupModFailed(GroupModFailedCode),
    /// Port mod request failed.
    PortModFailed(PortModFailedCode),
    /// Table mod request failed (1.3).
    TableModFailed(TableModFailedCode),
    /// Queue operation failed.
    QueueOpFailed(QueueOpFailedCode),
    /// Switch config request failed (1.3).
    SwitchConfigFailed(SwitchConfigFailedCode),
    /// Controller role request failed (1.3).
    RoleRequestFailed(RoleRequestFailedCode),
    /// Error in meter (1.3).
    MeterModFailed(MeterModFailedCode),
    /// Setting table features failed (1.3).
    TableFeaturesFailed(TableFeaturesFailedCode),
    /// An experimenter error (1.3 `OFPET_EXPERIMENTER`).
    Experimenter {
        /// Experimenter-defined type.
        exp_type: u16,
        /// The experimenter id.
        experimenter: u32,
    },
    /// A (type, code) pair the version that carried it does not define, in that version's
    /// numbering.
    Unknown {
        /// The wire type.
        err_type: u16,
        /// The wire code.
        code: u16,
    },
}

impl ErrorCode {
    /// The wire (type, code) in OpenFlow `version` (0x01 uses the 1.0 table, any other
    /// the 1.3 one). [`ErrorCode::Experimenter`] has no pair; this returns
    /// `(0xffff, exp_type)` for it.
    pub fn to_wire(self, version: u8) -> (u16, u16) {
        if version == crate::v10::VERSION {
            crate::v10::error::to_wire(self)
        } else {
            crate::v13::error::to_wire(self)
        }
    }

    /// The meaning of a wire (type, code) pair in OpenFlow `version`.
    pub fn from_wire(version: u8, err_type: u16, code: u16) -> ErrorCode {
        if version == crate::v10::VERSION {
            crate::v10::error::from_wire(err_type, code)
        } else {
            crate::v13::error::from_wire(err_type, code)
        }
    }
}
