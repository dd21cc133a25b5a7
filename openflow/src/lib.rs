//! flowlab-openflow: the sans-IO OpenFlow 1.0 and 1.3 codec.
//!
//! One idea: programs speak one semantic [`Message`] model, and the version is a property
//! of the connection, applied only at the wire. [`decode`] turns the bytes of a message of
//! either version into its [`Header`] and a [`Message`]; [`encode`] writes a [`Message`]
//! in the version asked for, computing every length and padding, and fails with
//! [`EncodeError`] when the version cannot say it. Where one 1.0 meaning has several
//! spellings (the fixed `ofp_match`), the received spelling rides along in the model so
//! that decoding and encoding again gives back the same bytes.
//!
//! | module | holds |
//! |---|---|
//! | [`model`] | the semantic model: [`Message`] and its payloads, [`Match`]/[`OxmField`], [`Action`], [`Instruction`], [`PortNo`], [`ErrorCode`] |
//! | [`v10`] | OpenFlow 1.0 (0x01): constants, sizes, error table, `ofp_match` ([`v10::MatchV10`]), wire codec |
//! | [`v13`] | OpenFlow 1.3 (0x04): constants, sizes, error table, OXM, wire codec |
//! | [`framer`] | splitting a byte stream into whole messages ([`frame_len`], [`Framer`]) |
//! | `error` | [`DecodeError`] (with the OpenFlow error to answer it) and [`EncodeError`] |
//! | `wire` | the bounds-checked reader and length-patching writer both wire layers use |
//!
//! Nothing here does I/O or panics on input: every read is bounds-checked
//! (the fuzz target in `fuzz/` holds the codec to that).
#![warn(missing_docs)]

mod codec;
mod error;
pub mod flow_text;
pub mod framer;
pub mod model;
pub mod v10;
pub mod v13;
mod wire;

pub use codec::{decode, encode, Header};
pub use error::{DecodeError, EncodeError};
pub use framer::{frame_len, Framer, MAX_MESSAGE_LEN};
pub use model::*;
