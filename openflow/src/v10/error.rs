//! OpenFlow 1.0 error types and codes, and the table to and from [`ErrorCode`].
//!
//! 1.0 defines six error types. Meanings only 1.3 names are sent as the nearest 1.0 pair:
//!
//! | meaning | 1.0 (type, code) |
//! |---|---|
//! | `BadInstruction(*)` | `BAD_ACTION`: `BAD_TYPE` for unknown/unsupported, `BAD_LEN`, `BAD_VENDOR`/`BAD_VENDOR_TYPE` for experimenter, `EPERM`, else `BAD_ARGUMENT` |
//! | `BadMatch(*)` | `BAD_REQUEST`: `BAD_LEN` for `BadLen`, `EPERM` for `Eperm`, else `BAD_TYPE` |
//! | `BadAction` 1.3-only codes | `BAD_ACTION`: `BAD_TYPE`/`BAD_LEN` for set-field type/length, `UnsupportedOrder` as `FLOW_MOD_FAILED`/`UNSUPPORTED`, else `BAD_ARGUMENT` |
//! | `BadRequest` 1.3-only codes | `BAD_REQUEST`: `BAD_LEN` for multipart overflow, else `EPERM` |
//! | `FlowModFailed` 1.3-only codes | `UNKNOWN`/`BAD_TABLE_ID` as `EPERM`, `BAD_TIMEOUT` as `BAD_EMERG_TIMEOUT`, `BAD_FLAGS` as `BAD_COMMAND` |
//! | `PortModFailed` 1.3-only codes | `PORT_MOD_FAILED`/`BAD_PORT` (`Eperm`: `BAD_REQUEST`/`EPERM`) |
//! | group, table, switch-config, role, meter, table-features errors | `BAD_REQUEST`/`BAD_TYPE` (1.0 has no such message) |

use crate::model::error_code::*;

/// `OFPET_HELLO_FAILED`.
pub const HELLO_FAILED: u16 = 0;
/// `OFPET_BAD_REQUEST`.
pub const BAD_REQUEST: u16 = 1;
/// `OFPET_BAD_ACTION`.
pub const BAD_ACTION: u16 = 2;
/// `OFPET_FLOW_MOD_FAILED`.
pub const FLOW_MOD_FAILED: u16 = 3;
/// `OFPET_PORT_MOD_FAILED`.
pub const PORT_MOD_FAILED: u16 = 4;
/// `OFPET_QUEUE_OP_FAILED`.
pub const QUEUE_OP_FAILED: u16 = 5;

/// `OFPHFC_*` codes.
#[allow(missing_docs)]
pub mod hello_failed {
    pub const INCOMPATIBLE: u16 = 0;
    pub const EPERM: u16 = 1;
}

/// `OFPBRC_*` codes.
#[allow(missing_docs)]
pub mod bad_request {
    pub const BAD_VERSION: u16 = 0;
    pub const BAD_TYPE: u16 = 1;
    pub const BAD_STAT: u16 = 2;
    pub const BAD_VENDOR: u16 = 3;
    pub const BAD_SUBTYPE: u16 = 4;
    pub const EPERM: u16 = 5;
    pub const BAD_LEN: u16 = 6;
    pub const BUFFER_EMPTY: u16 = 7;
    pub const BUFFER_UNKNOWN: u16 = 8;
}

/// `OFPBAC_*` codes.
#[allow(missing_docs)]
pub mod bad_action {
    pub const BAD_TYPE: u16 = 0;
    pub const BAD_LEN: u16 = 1;
    pub const BAD_VENDOR: u16 = 2;
    pub const BAD_VENDOR_TYPE: u16 = 3;
    pub const BAD_OUT_PORT: u16 = 4;
    pub const BAD_ARGUMENT: u16 = 5;
    pub const EPERM: u16 = 6;
    pub const TOO_MANY: u16 = 7;
    pub const BAD_QUEUE: u16 = 8;
}

/// `OFPFMFC_*` codes.
#[allow(missing_docs)]
pub mod flow_mod_failed {
    pub const ALL_TABLES_FULL: u16 = 0;
    pub const OVERLAP: u16 = 1;
    pub const EPERM: u16 = 2;
    pub const BAD_EMERG_TIMEOUT: u16 = 3;
    pub const BAD_COMMAND: u16 = 4;
    pub const UNSUPPORTED: u16 = 5;
}

/// `OFPPMFC_*` codes.
#[allow(missing_docs)]
pub mod port_mod_failed {
    pub const BAD_PORT: u16 = 0;
    pub const BAD_HW_ADDR: u16 = 1;
}

/// `OFPQOFC_*` codes.
#[allow(missing_docs)]
pub mod queue_op_failed {
    pub const BAD_PORT: u16 = 0;
    pub const BAD_QUEUE: u16 = 1;
    pub const EPERM: u16 = 2;
}

/// The 1.0 (type, code) of an error (see the module table for 1.3-only meanings).
/// [`ErrorCode::Experimenter`] has no 1.0 form; this gives `(0xffff, exp_type)`, which the
/// encoder refuses.
pub fn to_wire(e: ErrorCode) -> (u16, u16) {
    use bad_action as ba;
    use bad_request as br;
    use flow_mod_failed as fm;
    match e {
        ErrorCode::HelloFailed(c) => (HELLO_FAILED, c.to_v13()),
        ErrorCode::BadRequest(c) => match c.to_v13() {
            n @ 0..=8 => (BAD_REQUEST, n),
            13 => (BAD_REQUEST, br::BAD_LEN),
            9..=12 => (BAD_REQUEST, br::EPERM),
            n => (BAD_REQUEST, n),
        },
        ErrorCode::BadAction(c) => match c {
            BadActionCode::BadSetType => (BAD_ACTION, ba::BAD_TYPE),
            BadActionCode::BadSetLen => (BAD_ACTION, ba::BAD_LEN),
            BadActionCode::UnsupportedOrder => (FLOW_MOD_FAILED, fm::UNSUPPORTED),
            BadActionCode::Unknown(n) => (BAD_ACTION, n),
            c => match c.to_v13() {
                n @ 0..=8 => (BAD_ACTION, n),
                _ => (BAD_ACTION, ba::BAD_ARGUMENT),
            },
        },
        ErrorCode::BadInstruction(c) => match c {
            BadInstructionCode::UnknownInst | BadInstructionCode::UnsupInst => {
                (BAD_ACTION, ba::BAD_TYPE)
            }
            BadInstructionCode::BadLen => (BAD_ACTION, ba::BAD_LEN),
            BadInstructionCode::BadExperimenter => (BAD_ACTION, ba::BAD_VENDOR),
            BadInstructionCode::BadExpType => (BAD_ACTION, ba::BAD_VENDOR_TYPE),
            BadInstructionCode::Eperm => (BAD_ACTION, ba::EPERM),
            _ => (BAD_ACTION, ba::BAD_ARGUMENT),
        },
        ErrorCode::BadMatch(c) => match c {
            BadMatchCode::BadLen => (BAD_REQUEST, br::BAD_LEN),
            BadMatchCode::Eperm => (BAD_REQUEST, br::EPERM),
            _ => (BAD_REQUEST, br::BAD_TYPE),
        },
        ErrorCode::FlowModFailed(c) => match c {
            FlowModFailedCode::TableFull => (FLOW_MOD_FAILED, fm::ALL_TABLES_FULL),
            FlowModFailedCode::Overlap => (FLOW_MOD_FAILED, fm::OVERLAP),
            FlowModFailedCode::Eperm
            | FlowModFailedCode::Unspecified
            | FlowModFailedCode::BadTableId => (FLOW_MOD_FAILED, fm::EPERM),
            FlowModFailedCode::BadEmergTimeout | FlowModFailedCode::BadTimeout => {
                (FLOW_MOD_FAILED, fm::BAD_EMERG_TIMEOUT)
            }
            FlowModFailedCode::BadCommand | FlowModFailedCode::BadFlags => {
                (FLOW_MOD_FAILED, fm::BAD_COMMAND)
            }
            FlowModFailedCode::Unsupported => (FLOW_MOD_FAILED, fm::UNSUPPORTED),
            FlowModFailedCode::Unknown(n) => (FLOW_MOD_FAILED, n),
        },
        ErrorCode::PortModFailed(c) => match c {
            PortModFailedCode::BadHwAddr => (PORT_MOD_FAILED, port_mod_failed::BAD_HW_ADDR),
            PortModFailedCode::Eperm => (BAD_REQUEST, br::EPERM),
            PortModFailedCode::Unknown(n) => (PORT_MOD_FAILED, n),
            _ => (PORT_MOD_FAILED, port_mod_failed::BAD_PORT),
        },
        ErrorCode::QueueOpFailed(c) => (QUEUE_OP_FAILED, c.to_v13()),
        ErrorCode::GroupModFailed(_)
        | ErrorCode::TableModFailed(_)
        | ErrorCode::SwitchConfigFailed(_)
        | ErrorCode::RoleRequestFailed(_)
        | ErrorCode::MeterModFailed(_)
        | ErrorCode::TableFeaturesFailed(_) => (BAD_REQUEST, br::BAD_TYPE),
        ErrorCode::Experimenter { exp_type, .. } => (0xffff, exp_type),
        ErrorCode::Unknown { err_type, code } => (err_type, code),
    }
}

/// The meaning of a 1.0 (type, code) pair; pairs 1.0 does not define come back as
/// [`ErrorCode::Unknown`].
pub fn from_wire(err_type: u16, code: u16) -> ErrorCode {
    use flow_mod_failed as fm;
    match (err_type, code) {
        (HELLO_FAILED, 0..=1) => ErrorCode::HelloFailed(HelloFailedCode::from_v13(code)),
        (BAD_REQUEST, 0..=8) => ErrorCode::BadRequest(BadRequestCode::from_v13(code)),
        (BAD_ACTION, 0..=8) => ErrorCode::BadAction(BadActionCode::from_v13(code)),
        (FLOW_MOD_FAILED, fm::ALL_TABLES_FULL) => {
            ErrorCode::FlowModFailed(FlowModFailedCode::TableFull)
        }
        (FLOW_MOD_FAILED, fm::OVERLAP) => ErrorCode::FlowModFailed(FlowModFailedCode::Overlap),
        (FLOW_MOD_FAILED, fm::EPERM) => ErrorCode::FlowModFailed(FlowModFailedCode::Eperm),
        (FLOW_MOD_FAILED, fm::BAD_EMERG_TIMEOUT) => {
            ErrorCode::FlowModFailed(FlowModFailedCode::BadEmergTimeout)
        }
        (FLOW_MOD_FAILED, fm::BAD_COMMAND) => {
            ErrorCode::FlowModFailed(FlowModFailedCode::BadCommand)
        }
        (FLOW_MOD_FAILED, fm::UNSUPPORTED) => {
            ErrorCode::FlowModFailed(FlowModFailedCode::Unsupported)
        }
        (PORT_MOD_FAILED, 0..=1) => ErrorCode::PortModFailed(PortModFailedCode::from_v13(code)),
        (QUEUE_OP_FAILED, 0..=2) => ErrorCode::QueueOpFailed(QueueOpFailedCode::from_v13(code)),
        _ => ErrorCode::Unknown { err_type, code },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_round_trips() {
        for t in 0..8u16 {
            for c in 0..12u16 {
                assert_eq!(to_wire(from_wire(t, c)), (t, c));
            }
        }
    }

    #[test]
    fn numbering_differs_from_v13() {
        let e = ErrorCode::FlowModFailed(FlowModFailedCode::Overlap);
        assert_eq!(to_wire(e), (3, 1));
        assert_eq!(crate::v13::error::to_wire(e), (5, 3));
        let e = ErrorCode::BadMatch(BadMatchCode::BadField);
        assert_eq!(to_wire(e), (BAD_REQUEST, bad_request::BAD_TYPE));
        let e = ErrorCode::BadInstruction(BadInstructionCode::UnknownInst);
        assert_eq!(to_wire(e), (BAD_ACTION, bad_action::BAD_TYPE));
    }
}
