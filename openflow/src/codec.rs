//! The entry points: [`decode`] and [`encode`] dispatch on the version.
//!
//! Hello, error and echo have the same layout in every OpenFlow version, and version
//! negotiation needs them before a version is agreed, so they decode and encode for any
//! version byte; everything else only for 0x01 and 0x04.

use crate::error::{DecodeError, EncodeError};
use crate::model::{ErrorCode, ErrorMsg, Hello, HelloElement, Message};
use crate::wire::{Reader, Writer};
use crate::{v10, v13};

/// The 8-byte `ofp_header` every message starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Wire version (0x01 for 1.0, 0x04 for 1.3).
    pub version: u8,
    /// Message type, numbered per version.
    pub msg_type: u8,
    /// Length of the whole message including the header.
    pub length: u16,
    /// Transaction id.
    pub xid: u32,
}

impl Header {
    /// Size on the wire.
    pub const LEN: usize = 8;

    /// Reads the header at the front of `buf` (no check of `length` against `buf`).
    pub fn parse(buf: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(buf, "ofp_header");
        Ok(Header {
            version: r.u8()?,
            msg_type: r.u8()?,
            length: r.u16()?,
            xid: r.u32()?,
        })
    }
}

/// Decodes the message at the front of `buf` (bytes after its `length` are ignored; use
/// [`Framer`](crate::Framer) to split a stream).
pub fn decode(buf: &[u8]) -> Result<(Header, Message), DecodeError> {
    let h = Header::parse(buf)?;
    let len = usize::from(h.length);
    if len < Header::LEN {
        return Err(DecodeError::BadLength {
            what: "ofp_header",
            len,
        });
    }
    let Some(msg) = buf.get(..len) else {
        return Err(DecodeError::Truncated {
            what: "message",
            needed: len,
            available: buf.len(),
        });
    };
    let body = &msg[Header::LEN..];
    let m = match (h.version, h.msg_type) {
        (_, v13::msg_type::HELLO) => Message::Hello(decode_hello(body)),
        (_, v13::msg_type::ECHO_REQUEST) => Message::EchoRequest(body.to_vec()),
        (_, v13::msg_type::ECHO_REPLY) => Message::EchoReply(body.to_vec()),
        (v10::VERSION, _) => v10::codec::decode(&h, body)?,
        (v13::VERSION, _) => v13::codec::decode(&h, body)?,
        (0x02 | 0x03 | 0x05 | 0x06, v13::msg_type::ERROR) => decode_error(h.version, body)?,
        (v, _) => return Err(DecodeError::BadVersion(v)),
    };
    Ok((h, m))
}

/// Appends `msg` as an OpenFlow `version` message with transaction id `xid` to `out`.
/// On error `out` is left as it was.
pub fn encode(version: u8, xid: u32, msg: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    let r = encode_inner(version, xid, msg, out);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

fn encode_inner(
    version: u8,
    xid: u32,
    msg: &Message,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    match msg {
        Message::Hello(hello) => {
            let (mut w, start) = begin(out, version, v13::msg_type::HELLO, xid);
            encode_hello(&mut w, hello)?;
            finish(&mut w, start)
        }
        Message::EchoRequest(data) | Message::EchoReply(data) => {
            let t = if matches!(msg, Message::EchoRequest(_)) {
                v13::msg_type::ECHO_REQUEST
            } else {
                v13::msg_type::ECHO_REPLY
            };
            let (mut w, start) = begin(out, version, t, xid);
            w.bytes(data);
            finish(&mut w, start)
        }
        _ if version == v10::VERSION => v10::codec::encode(xid, msg, out),
        _ if version == v13::VERSION => v13::codec::encode(xid, msg, out),
        Message::Error(e) if matches!(version, 0x02 | 0x03 | 0x05 | 0x06) => {
            let (mut w, start) = begin(out, version, v13::msg_type::ERROR, xid);
            encode_error(&mut w, version, e)?;
            finish(&mut w, start)
        }
        _ => Err(EncodeError::Unsupported {
            version,
            what: "this version",
        }),
    }
}

/// Starts a message: writes the header with length 0 and returns the writer and the
/// message's start.
pub(crate) fn begin(out: &mut Vec<u8>, version: u8, msg_type: u8, xid: u32) -> (Writer<'_>, usize) {
    let mut w = Writer::new(out);
    let start = w.pos();
    w.u8(version);
    w.u8(msg_type);
    w.u16(0);
    w.u32(xid);
    (w, start)
}

/// Patches the header's length.
pub(crate) fn finish(w: &mut Writer<'_>, start: usize) -> Result<(), EncodeError> {
    w.patch_len16(start + 2, start, "message")
}

/// Hello elements; a malformed tail is dropped (peers must ignore what they do not
/// understand in a hello, and negotiation must not fail on it).
fn decode_hello(body: &[u8]) -> Hello {
    let mut r = Reader::new(body, "hello element");
    let mut elements = Vec::new();
    while r.remaining() >= 4 {
        let (Some(t), Some(len)) = (r.peek_u16(0), r.peek_u16(2)) else {
            break;
        };
        let len = usize::from(len);
        if len < 4 || len > r.remaining() {
            break;
        }
        let Ok(mut e) = r.sub(len, "hello element") else {
            break;
        };
        let _ = e.skip(4);
        let data = e.rest();
        if t == 1 {
            let words = data
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if data.len() % 4 != 0 {
                break;
            }
            elements.push(HelloElement::VersionBitmap(words));
        } else {
            elements.push(HelloElement::Unknown {
                elem_type: t,
                data: data.to_vec(),
            });
        }
        let pad = (8 - len % 8) % 8;
        if r.skip(pad.min(r.remaining())).is_err() {
            break;
        }
    }
    Hello { elements }
}

fn encode_hello(w: &mut Writer<'_>, hello: &Hello) -> Result<(), EncodeError> {
    for e in &hello.elements {
        let start = w.pos();
        match e {
            HelloElement::VersionBitmap(words) => {
                w.u16(1);
                w.u16(0);
                for &word in words {
                    w.u32(word);
                }
            }
            HelloElement::Unknown { elem_type, data } => {
                w.u16(*elem_type);
                w.u16(0);
                w.bytes(data);
            }
        }
        w.patch_len16(start + 2, start, "hello element")?;
        w.pad_from(start, 8);
    }
    Ok(())
}

/// `OFPT_ERROR` body in `version`'s numbering (any version but 0x01 uses 1.3's).
pub(crate) fn decode_error(version: u8, body: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader::new(body, "ofp_error_msg");
    let err_type = r.u16()?;
    let code = r.u16()?;
    let code = if err_type == v13::error::EXPERIMENTER && version != v10::VERSION {
        ErrorCode::Experimenter {
            exp_type: code,
            experimenter: r.u32()?,
        }
    } else {
        ErrorCode::from_wire(version, err_type, code)
    };
    Ok(Message::Error(ErrorMsg {
        code,
        data: r.rest().to_vec(),
    }))
}

/// `OFPT_ERROR` body.
pub(crate) fn encode_error(
    w: &mut Writer<'_>,
    version: u8,
    e: &ErrorMsg,
) -> Result<(), EncodeError> {
    match e.code {
        ErrorCode::Experimenter {
            exp_type,
            experimenter,
        } => {
            if version == v10::VERSION {
                return Err(EncodeError::Unsupported {
                    version,
                    what: "experimenter error",
                });
            }
            w.u16(v13::error::EXPERIMENTER);
            w.u16(exp_type);
            w.u32(experimenter);
        }
        code => {
            let (t, c) = code.to_wire(version);
            w.u16(t);
            w.u16(c);
        }
    }
    w.bytes(&e.data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_with_bitmap_round_trips_for_any_version() {
        let bytes = [
            0x05, 0x00, 0x00, 0x10, 0, 0, 0, 7, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x32,
        ];
        let (h, m) = decode(&bytes).unwrap();
        assert_eq!((h.version, h.xid, h.length), (5, 7, 16));
        let Message::Hello(hello) = &m else {
            panic!("{m:?}")
        };
        assert_eq!(hello.versions(), Some(vec![1, 4, 5]));
        let mut out = vec![0xa5];
        encode(5, 7, &m, &mut out).unwrap();
        assert_eq!(&out[1..], &bytes);
    }

    #[test]
    fn bitmap_elements_are_padded_to_eight() {
        let hello = Message::Hello(Hello::with_versions(&[1, 4, 33]));
        let mut out = Vec::new();
        encode(4, 1, &hello, &mut out).unwrap();
        assert_eq!(out.len(), 8 + 16);
        assert_eq!(&out[8..12], &[0, 1, 0, 12]);
        assert_eq!(decode(&out).unwrap().1, hello);
    }

    #[test]
    fn short_and_unknown_inputs_are_errors() {
        assert!(matches!(
            decode(&[4, 0, 0]),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            decode(&[4, 0, 0, 4, 0, 0, 0, 0]),
            Err(DecodeError::BadLength { .. })
        ));
        assert!(matches!(
            decode(&[4, 2, 0, 9, 0, 0, 0, 0]),
            Err(DecodeError::Truncated { .. })
        ));
        assert_eq!(
            decode(&[9, 5, 0, 8, 0, 0, 0, 0]),
            Err(DecodeError::BadVersion(9))
        );
    }

    #[test]
    fn failed_encode_leaves_output_untouched() {
        let mut out = vec![1, 2, 3];
        assert!(encode(9, 0, &Message::BarrierRequest, &mut out).is_err());
        assert_eq!(out, [1, 2, 3]);
    }
}
