//! Bounds-checked reading and length-patching writing of OpenFlow structures.
//!
//! OpenFlow has some sixty fixed-layout structures, most followed by variable lists whose
//! lengths sit in headers. Rather than a zero-copy view per structure, both wire layers
//! read through a [`Reader`], a cursor whose every read checks the remaining length and
//! fails with [`DecodeError::Truncated`] naming the structure, so no input can make a
//! read panic; and write through a [`Writer`] that appends to the caller's `Vec` and
//! patches length fields once a structure's end is known. Each structure's fixed size is
//! a named constant in `v10`/`v13`, asserted against the bytes written in their tests.

use crate::error::{DecodeError, EncodeError};

/// A bounds-checked cursor over bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, reporting truncation as of `what`.
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether nothing is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails with [`DecodeError::BadLength`] if bytes are left over after a fixed-size
    /// structure.
    pub(crate) fn end(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::BadLength {
                what,
                len: self.buf.len(),
            })
        }
    }

    fn truncated(&self, needed: usize) -> DecodeError {
        DecodeError::Truncated {
            what: self.what,
            needed,
            available: self.remaining(),
        }
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.truncated(n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// Skips `n` bytes (padding).
    pub(crate) fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.bytes(n).map(|_| ())
    }

    /// The next byte.
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// The next big-endian u16.
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// The next big-endian u32.
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// The next big-endian u64.
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A sub-reader over the next `n` bytes, reporting as `what`.
    pub(crate) fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated {
                what,
                needed: n,
                available: self.remaining(),
            });
        }
        Ok(Reader::new(self.bytes(n)?, what))
    }

    /// The next `u16`/`u32` values without consuming them.
    pub(crate) fn peek_u16(&self, at: usize) -> Option<u16> {
        let s = self.buf.get(self.pos + at..self.pos + at + 2)?;
        Some(u16::from_be_bytes([s[0], s[1]]))
    }

    /// A NUL-padded text field of `n` bytes (see [`text_from_bytes`]).
    pub(crate) fn text(&mut self, n: usize) -> Result<String, DecodeError> {
        Ok(text_from_bytes(self.bytes(n)?))
    }
}

/// Text from a fixed-width NUL-padded field: the bytes before the first NUL, as UTF-8
/// with invalid sequences replaced, cut back (at a character boundary) to the field width
/// so that the text always encodes again into the same field and decodes to itself.
pub(crate) fn text_from_bytes(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let mut s = String::from_utf8_lossy(&b[..end]).into_owned();
    if s.len() > b.len() {
        let mut cut = b.len();
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Appends big-endian values to a `Vec` and patches lengths afterwards.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out }
    }

    /// The current end, to patch lengths relative to.
    pub(crate) fn pos(&self) -> usize {
        self.out.len()
    }

    /// Appends a byte.
    pub(crate) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    /// Appends a u16.
    pub(crate) fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a u32.
    pub(crate) fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends a u64.
    pub(crate) fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// Appends bytes.
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    /// Appends `n` zero bytes.
    pub(crate) fn zeros(&mut self, n: usize) {
        self.out.resize(self.out.len() + n, 0);
    }

    /// Appends zeros until the length since `start` is a multiple of `align`.
    pub(crate) fn pad_from(&mut self, start: usize, align: usize) {
        let len = self.out.len() - start;
        self.zeros((align - len % align) % align);
    }

    /// Appends a text field of exactly `n` bytes, NUL padded.
    pub(crate) fn text(
        &mut self,
        s: &str,
        n: usize,
        what: &'static str,
    ) -> Result<(), EncodeError> {
        if s.len() > n || s.contains('\0') {
            return Err(EncodeError::TooLong { what });
        }
        self.bytes(s.as_bytes());
        self.zeros(n - s.len());
        Ok(())
    }

    /// Writes the length of everything since `start` as a u16 at `at`.
    pub(crate) fn patch_len16(
        &mut self,
        at: usize,
        start: usize,
        what: &'static str,
    ) -> Result<(), EncodeError> {
        let len =
            u16::try_from(self.out.len() - start).map_err(|_| EncodeError::TooLong { what })?;
        self.out[at..at + 2].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reports_truncation_instead_of_panicking() {
        let mut r = Reader::new(&[1, 2, 3], "thing");
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(
            r.u16(),
            Err(DecodeError::Truncated {
                what: "thing",
                needed: 2,
                available: 1
            })
        );
        assert!(r.sub(2, "inner").is_err());
        assert_eq!(r.rest(), &[3]);
    }

    #[test]
    fn text_stops_at_nul_and_stays_within_its_field() {
        assert_eq!(text_from_bytes(b"eth0\0\0\0\0"), "eth0");
        // Four invalid bytes become four replacement characters (12 bytes), cut to 3.
        let s = text_from_bytes(&[0xff, 0xfe, 0xfd, 0xfc]);
        assert!(s.len() <= 4);
        let mut out = Vec::new();
        Writer::new(&mut out).text(&s, 4, "t").unwrap();
        assert_eq!(text_from_bytes(&out), s);
    }

    #[test]
    fn writer_patches_lengths_and_pads() {
        let mut out = vec![0xa5];
        let mut w = Writer::new(&mut out);
        let start = w.pos();
        w.u16(0);
        w.u8(7);
        w.pad_from(start, 8);
        w.patch_len16(start, start, "x").unwrap();
        assert_eq!(out, [0xa5, 0, 8, 7, 0, 0, 0, 0, 0]);
    }
}
