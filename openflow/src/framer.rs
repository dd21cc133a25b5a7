//! Splitting a TCP (or unix stream) byte stream into whole OpenFlow messages.
//!
//! Every OpenFlow message starts with the 8-byte `ofp_header` whose 16-bit `length`
//! covers the whole message, so framing needs nothing but the first four bytes. A length
//! below 8 can never be right and poisons the stream (there is no way to resynchronise).

use crate::error::DecodeError;
use crate::v13::HEADER_LEN;

/// The largest message the 16-bit length field allows.
pub const MAX_MESSAGE_LEN: usize = u16::MAX as usize;

/// The length of the message at the front of `buf`: `None` if fewer than 4 bytes are
/// there yet (the length is in bytes 2..4), `Some(Ok(n))` for a message of `n` bytes
/// (which may still be incomplete: compare with `buf.len()`), `Some(Err(_))` if the length
/// is below the header size.
pub fn frame_len(buf: &[u8]) -> Option<Result<usize, DecodeError>> {
    let len = usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]));
    if len < HEADER_LEN {
        return Some(Err(DecodeError::BadLength {
            what: "ofp_header",
            len,
        }));
    }
    Some(Ok(len))
}

/// Accumulates stream bytes and hands out whole messages.
///
/// ```
/// use flowlab_openflow::Framer;
/// let mut f = Framer::new();
/// f.extend(&[0x04, 0x00, 0x00, 0x08, 0, 0]);
/// assert!(f.next_frame().is_none());
/// f.extend(&[0, 1, 0x04, 0x02]);
/// assert_eq!(f.next_frame().unwrap().unwrap(), &[4, 0, 0, 8, 0, 0, 0, 1]);
/// assert!(f.next_frame().is_none());
/// assert_eq!(f.buffered(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Framer {
    buf: Vec<u8>,
    start: usize,
    max_len: usize,
    poisoned: Option<DecodeError>,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new()
    }
}

impl Framer {
    /// A framer accepting messages up to [`MAX_MESSAGE_LEN`].
    pub fn new() -> Framer {
        Framer::with_max_len(MAX_MESSAGE_LEN)
    }

    /// A framer refusing messages longer than `max_len` bytes.
    pub fn with_max_len(max_len: usize) -> Framer {
        Framer {
            buf: Vec::new(),
            start: 0,
            max_len,
            poisoned: None,
        }
    }

    /// Appends received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, if one is buffered. After an error the stream cannot be
    /// resynchronised and every later call returns the same error.
    pub fn next_frame(&mut self) -> Option<Result<&[u8], DecodeError>> {
        if let Some(e) = &self.poisoned {
            return Some(Err(e.clone()));
        }
        let data = &self.buf[self.start..];
        let n = match frame_len(data)? {
            Ok(n) if n > self.max_len => Err(DecodeError::BadLength {
                what: "ofp_header (above the framer's limit)",
                len: n,
            }),
            other => other,
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.poisoned = Some(e.clone());
                return Some(Err(e));
            }
        };
        if data.len() < n {
            return None;
        }
        let start = self.start;
        self.start += n;
        Some(Ok(&self.buf[start..start + n]))
    }

    /// Bytes buffered but not yet handed out.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_len_needs_four_bytes_and_rejects_short_lengths() {
        assert_eq!(frame_len(&[4, 0, 0]), None);
        assert_eq!(frame_len(&[4, 0, 0, 16]), Some(Ok(16)));
        assert!(matches!(frame_len(&[4, 0, 0, 7]), Some(Err(_))));
    }

    #[test]
    fn framer_splits_concatenated_messages_fed_byte_by_byte() {
        let mut stream = Vec::new();
        for (i, len) in [8u16, 12, 8, 300].iter().enumerate() {
            stream.extend_from_slice(&[4, 2]);
            stream.extend_from_slice(&len.to_be_bytes());
            stream.extend_from_slice(&(i as u32).to_be_bytes());
            stream.resize(stream.len() + usize::from(*len) - 8, 0xa5);
        }
        let mut f = Framer::new();
        let mut got = Vec::new();
        for b in &stream {
            f.extend(std::slice::from_ref(b));
            while let Some(frame) = f.next_frame() {
                got.push(frame.unwrap().to_vec());
            }
        }
        assert_eq!(
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            [8, 12, 8, 300]
        );
        assert_eq!(got.concat(), stream);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn framer_poisons_on_bad_length_and_enforces_its_limit() {
        let mut f = Framer::new();
        f.extend(&[4, 0, 0, 3, 0, 0, 0, 0]);
        assert!(f.next_frame().unwrap().is_err());
        f.extend(&[4, 0, 0, 8, 0, 0, 0, 0]);
        assert!(f.next_frame().unwrap().is_err());
        let mut f = Framer::with_max_len(64);
        f.extend(&[4, 0, 0, 65]);
        assert!(f.next_frame().unwrap().is_err());
    }
}
