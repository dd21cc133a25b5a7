//! Decode and encode errors, and the OpenFlow error a decode error answers with.

use crate::model::error_code::{
    BadActionCode, BadInstructionCode, BadMatchCode, BadRequestCode, ErrorCode, HelloFailedCode,
};

/// Why bytes did not decode. [`DecodeError::error_code`] gives the OpenFlow error to send
/// back, [`DecodeError::ofp_error`] its (type, code) in a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end before a structure does.
    #[error("truncated {what}: needs {needed} bytes, {available} available")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// A length field is impossible (too short, too long, not a multiple of 8, ...).
    #[error("bad length {len} in {what}")]
    BadLength {
        /// The structure whose length is wrong.
        what: &'static str,
        /// The length found.
        len: usize,
    },
    /// The header's version is not one this crate speaks.
    #[error("unsupported version {0:#04x}")]
    BadVersion(u8),
    /// The message type is unknown in its version.
    #[error("unknown message type {msg_type} in version {version:#04x}")]
    BadType {
        /// The header version.
        version: u8,
        /// The header type.
        msg_type: u8,
    },
    /// The multipart (stats) type is unknown.
    #[error("unknown multipart type {0}")]
    BadMultipart(u16),
    /// An action type is unknown.
    #[error("unknown action type {0}")]
    BadActionType(u16),
    /// An action's length is wrong for its type.
    #[error("bad length {len} for action type {action_type}")]
    BadActionLen {
        /// The action type.
        action_type: u16,
        /// The length found.
        len: usize,
    },
    /// An action's argument is out of range (e.g. a 1.0 VLAN id above 4095).
    #[error("bad argument in action type {0}")]
    BadActionArgument(u16),
    /// A `set_field` action's OXM field is malformed.
    #[error("bad set_field: {0}")]
    BadSetField(&'static str),
    /// An instruction type is unknown.
    #[error("unknown instruction type {0}")]
    BadInstructionType(u16),
    /// An instruction's length is wrong for its type.
    #[error("bad length {len} for instruction type {inst_type}")]
    BadInstructionLen {
        /// The instruction type.
        inst_type: u16,
        /// The length found.
        len: usize,
    },
    /// The match type is not `OFPMT_OXM`.
    #[error("unsupported match type {0}")]
    BadMatchType(u16),
    /// The match's length is wrong.
    #[error("bad match length {0}")]
    BadMatchLen(usize),
    /// An OXM field's length does not fit its field.
    #[error("bad length {len} for oxm field {class:#06x}:{field}")]
    BadOxmLen {
        /// The OXM class.
        class: u16,
        /// The OXM field.
        field: u8,
        /// The payload length found.
        len: usize,
    },
    /// A hello element is malformed.
    #[error("bad hello element")]
    BadHello,
}

impl DecodeError {
    /// The OpenFlow error that answers this decode error.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            DecodeError::Truncated { .. } | DecodeError::BadLength { .. } => {
                ErrorCode::BadRequest(BadRequestCode::BadLen)
            }
            DecodeError::BadVersion(_) => ErrorCode::BadRequest(BadRequestCode::BadVersion),
            DecodeError::BadType { .. } => ErrorCode::BadRequest(BadRequestCode::BadType),
            DecodeError::BadMultipart(_) => ErrorCode::BadRequest(BadRequestCode::BadMultipart),
            DecodeError::BadActionType(_) => ErrorCode::BadAction(BadActionCode::BadType),
            DecodeError::BadActionLen { .. } => ErrorCode::BadAction(BadActionCode::BadLen),
            DecodeError::BadActionArgument(_) => ErrorCode::BadAction(BadActionCode::BadArgument),
            DecodeError::BadSetField(_) => ErrorCode::BadAction(BadActionCode::BadSetLen),
            DecodeError::BadInstructionType(_) => {
                ErrorCode::BadInstruction(BadInstructionCode::UnknownInst)
            }
            DecodeError::BadInstructionLen { .. } => {
                ErrorCode::BadInstruction(BadInstructionCode::BadLen)
            }
            DecodeError::BadMatchType(_) => ErrorCode::BadMatch(BadMatchCode::BadType),
            DecodeError::BadMatchLen(_) | DecodeError::BadOxmLen { .. } => {
                ErrorCode::BadMatch(BadMatchCode::BadLen)
            }
            DecodeError::BadHello => ErrorCode::HelloFailed(HelloFailedCode::Incompatible),
        }
    }

    /// The (type, code) of the error message answering this decode error in OpenFlow
    /// `version` (1.0 has no instruction and match error types: those become
    /// `BAD_ACTION` and `BAD_REQUEST` codes, see `v10::error`).
    pub fn ofp_error(&self, version: u8) -> (u16, u16) {
        self.error_code().to_wire(version)
    }
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message or one of its parts has no form in this version.
    #[error("{what} cannot be expressed in version {version:#04x}")]
    Unsupported {
        /// The wire version asked for.
        version: u8,
        /// What has no form there.
        what: &'static str,
    },
    /// The message (or a length-prefixed part of it) would exceed its length field.
    #[error("{what} too long")]
    TooLong {
        /// What is too long.
        what: &'static str,
    },
    /// A value is malformed (e.g. an OXM value of the wrong width, a mask of another
    /// width than its value).
    #[error("bad value in {what}")]
    BadValue {
        /// What is malformed.
        what: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_map_to_per_version_codes() {
        let e = DecodeError::BadType {
            version: 1,
            msg_type: 99,
        };
        assert_eq!(e.ofp_error(0x01), (1, 1));
        assert_eq!(e.ofp_error(0x04), (1, 1));
        let e = DecodeError::BadMatchLen(3);
        assert_eq!(e.ofp_error(0x04), (4, 1));
        assert_eq!(e.ofp_error(0x01), (1, 6));
        let e = DecodeError::BadInstructionType(9);
        assert_eq!(e.ofp_error(0x04), (3, 0));
        assert_eq!(e.ofp_error(0x01).0, 2);
    }
}
