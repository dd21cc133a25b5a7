//! OpenFlow 1.3 error types and codes, and the table to and from [`ErrorCode`].
//!
//! Codes are the ones of the 1.3 code enums in [`crate::model::error_code`]
//! (`BadRequestCode::BadLen.to_v13()` is `OFPBRC_BAD_LEN`), so only the types are listed
//! here.

use crate::model::error_code::*;

/// `OFPET_HELLO_FAILED`.
pub const HELLO_FAILED: u16 = 0;
/// `OFPET_BAD_REQUEST`.
pub const BAD_REQUEST: u16 = 1;
/// `OFPET_BAD_ACTION`.
pub const BAD_ACTION: u16 = 2;
/// `OFPET_BAD_INSTRUCTION`.
pub const BAD_INSTRUCTION: u16 = 3;
/// `OFPET_BAD_MATCH`.
pub const BAD_MATCH: u16 = 4;
/// `OFPET_FLOW_MOD_FAILED`.
pub const FLOW_MOD_FAILED: u16 = 5;
/// `OFPET_GROUP_MOD_FAILED`.
pub const GROUP_MOD_FAILED: u16 = 6;
/// `OFPET_PORT_MOD_FAILED`.
pub const PORT_MOD_FAILED: u16 = 7;
/// `OFPET_TABLE_MOD_FAILED`.
pub const TABLE_MOD_FAILED: u16 = 8;
/// `OFPET_QUEUE_OP_FAILED`.
pub const QUEUE_OP_FAILED: u16 = 9;
/// `OFPET_SWITCH_CONFIG_FAILED`.
pub const SWITCH_CONFIG_FAILED: u16 = 10;
/// `OFPET_ROLE_REQUEST_FAILED`.
pub const ROLE_REQUEST_FAILED: u16 = 11;
/// `OFPET_METER_MOD_FAILED`.
pub const METER_MOD_FAILED: u16 = 12;
/// `OFPET_TABLE_FEATURES_FAILED`.
pub const TABLE_FEATURES_FAILED: u16 = 13;
/// `OFPET_EXPERIMENTER`.
pub const EXPERIMENTER: u16 = 0xffff;

/// The 1.3 (type, code) of an error. [`ErrorCode::Experimenter`] gives
/// `(EXPERIMENTER, exp_type)`.
pub fn to_wire(e: ErrorCode) -> (u16, u16) {
    match e {
        ErrorCode::HelloFailed(c) => (HELLO_FAILED, c.to_v13()),
        ErrorCode::BadRequest(c) => (BAD_REQUEST, c.to_v13()),
        ErrorCode::BadAction(c) => (BAD_ACTION, c.to_v13()),
        ErrorCode::BadInstruction(c) => (BAD_INSTRUCTION, c.to_v13()),
        ErrorCode::BadMatch(c) => (BAD_MATCH, c.to_v13()),
        ErrorCode::FlowModFailed(FlowModFailedCode::BadEmergTimeout) => {
            (FLOW_MOD_FAILED, FlowModFailedCode::BadTimeout.to_v13())
        }
        ErrorCode::FlowModFailed(FlowModFailedCode::Unsupported) => {
            (BAD_ACTION, BadActionCode::UnsupportedOrder.to_v13())
        }
        ErrorCode::FlowModFailed(c) => (FLOW_MOD_FAILED, c.to_v13()),
        ErrorCode::GroupModFailed(c) => (GROUP_MOD_FAILED, c.to_v13()),
        ErrorCode::PortModFailed(c) => (PORT_MOD_FAILED, c.to_v13()),
        ErrorCode::TableModFailed(c) => (TABLE_MOD_FAILED, c.to_v13()),
        ErrorCode::QueueOpFailed(c) => (QUEUE_OP_FAILED, c.to_v13()),
        ErrorCode::SwitchConfigFailed(c) => (SWITCH_CONFIG_FAILED, c.to_v13()),
        ErrorCode::RoleRequestFailed(c) => (ROLE_REQUEST_FAILED, c.to_v13()),
        ErrorCode::MeterModFailed(c) => (METER_MOD_FAILED, c.to_v13()),
        ErrorCode::TableFeaturesFailed(c) => (TABLE_FEATURES_FAILED, c.to_v13()),
        ErrorCode::Experimenter { exp_type, .. } => (EXPERIMENTER, exp_type),
        ErrorCode::Unknown { err_type, code } => (err_type, code),
    }
}

/// The meaning of a 1.3 (type, code) pair (not for `OFPET_EXPERIMENTER`, whose body
/// differs; the codec handles it). Codes a type does not define come back as the type's
/// `Unknown(code)`; unknown types as [`ErrorCode::Unknown`].
pub fn from_wire(err_type: u16, code: u16) -> ErrorCode {
    if code >= 0x8000 {
        // The code enums use these numbers for 1.0-only meanings.
        return ErrorCode::Unknown { err_type, code };
    }
    match err_type {
        HELLO_FAILED => ErrorCode::HelloFailed(HelloFailedCode::from_v13(code)),
        BAD_REQUEST => ErrorCode::BadRequest(BadRequestCode::from_v13(code)),
        BAD_ACTION => ErrorCode::BadAction(BadActionCode::from_v13(code)),
        BAD_INSTRUCTION => ErrorCode::BadInstruction(BadInstructionCode::from_v13(code)),
        BAD_MATCH => ErrorCode::BadMatch(BadMatchCode::from_v13(code)),
        FLOW_MOD_FAILED => ErrorCode::FlowModFailed(FlowModFailedCode::from_v13(code)),
        GROUP_MOD_FAILED => ErrorCode::GroupModFailed(GroupModFailedCode::from_v13(code)),
        PORT_MOD_FAILED => ErrorCode::PortModFailed(PortModFailedCode::from_v13(code)),
        TABLE_MOD_FAILED => ErrorCode::TableModFailed(TableModFailedCode::from_v13(code)),
        QUEUE_OP_FAILED => ErrorCode::QueueOpFailed(QueueOpFailedCode::from_v13(code)),
        SWITCH_CONFIG_FAILED => {
            ErrorCode::SwitchConfigFailed(SwitchConfigFailedCode::from_v13(code))
        }
        ROLE_REQUEST_FAILED => ErrorCode::RoleRequestFailed(RoleRequestFailedCode::from_v13(code)),
        METER_MOD_FAILED => ErrorCode::MeterModFailed(MeterModFailedCode::from_v13(code)),
        TABLE_FEATURES_FAILED => {
            ErrorCode::TableFeaturesFailed(TableFeaturesFailedCode::from_v13(code))
        }
        _ => ErrorCode::Unknown { err_type, code },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_pair_round_trips() {
        let counts = [2u16, 14, 16, 9, 12, 8, 15, 5, 3, 3, 3, 3, 12, 6];
        for (t, &n) in counts.iter().enumerate() {
            for c in 0..n + 2 {
                let e = from_wire(t as u16, c);
                assert_eq!(to_wire(e), (t as u16, c), "{e:?}");
            }
        }
        assert_eq!(from_wire(4, 1), ErrorCode::BadMatch(BadMatchCode::BadLen));
        assert_eq!(
            from_wire(5, 3),
            ErrorCode::FlowModFailed(FlowModFailedCode::Overlap)
        );
    }
}
