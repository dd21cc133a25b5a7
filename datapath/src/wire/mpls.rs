//! MPLS label stack entries (RFC 3032), EtherTypes 0x8847 and 0x8848.
//!
//! ```text
//!  0                   1                   2                   3
//! +---------------------------------------+-----+-+---------------+
//! |                Label                  | TC  |S|      TTL      |
//! +---------------------------------------+-----+-+---------------+
//! ```

use super::{get_u32, set_u32, Error, Result};

mod field {
    use crate::wire::{Field, Rest};

    pub const ENTRY: Field = 0..4;
    pub const PAYLOAD: Rest = 4..;
}

/// Length of one label stack entry.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// Largest label value (20 bits).
pub const LABEL_MAX: u32 = 0x000f_ffff;
const LABEL_SHIFT: u32 = 12;
const TC_SHIFT: u32 = 9;
const BOS_BIT: u32 = 1 << 8;

/// A view of one MPLS label stack entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MplsLabel<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MplsLabel<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        MplsLabel { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let l = Self::new_unchecked(buffer);
        l.check_len()?;
        Ok(l)
    }

    /// Ok if the buffer holds a 4-byte entry.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    fn entry(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::ENTRY)
    }

    /// Label (20 bits).
    #[inline]
    pub fn label(&self) -> u32 {
        self.entry() >> LABEL_SHIFT
    }

    /// Traffic class (3 bits).
    #[inline]
    pub fn tc(&self) -> u8 {
        ((self.entry() >> TC_SHIFT) & 0x7) as u8
    }

    /// Bottom-of-stack bit.
    #[inline]
    pub fn bos(&self) -> bool {
        self.entry() & BOS_BIT != 0
    }

    /// Time to live.
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.entry() as u8
    }

    /// What follows this entry (the next entry, or the payload after the bottom one).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MplsLabel<T> {
    #[inline]
    fn set_entry(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::ENTRY, value);
    }

    /// Sets the label (low 20 bits of `value`).
    #[inline]
    pub fn set_label(&mut self, value: u32) {
        let e = self.entry() & !(LABEL_MAX << LABEL_SHIFT);
        self.set_entry(e | ((value & LABEL_MAX) << LABEL_SHIFT));
    }

    /// Sets the traffic class (low 3 bits of `value`).
    #[inline]
    pub fn set_tc(&mut self, value: u8) {
        let e = self.entry() & !(0x7 << TC_SHIFT);
        self.set_entry(e | (u32::from(value & 0x7) << TC_SHIFT));
    }

    /// Sets the bottom-of-stack bit.
    #[inline]
    pub fn set_bos(&mut self, value: bool) {
        let e = self.entry() & !BOS_BIT;
        self.set_entry(if value { e | BOS_BIT } else { e });
    }

    /// Sets the time to live.
    #[inline]
    pub fn set_ttl(&mut self, value: u8) {
        let e = self.entry() & !0xff;
        self.set_entry(e | u32::from(value));
    }
}

/// One label stack entry as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MplsRepr {
    /// Label (20 bits).
    pub label: u32,
    /// Traffic class (3 bits).
    pub tc: u8,
    /// Bottom of stack.
    pub bos: bool,
    /// Time to live.
    pub ttl: u8,
}

impl MplsRepr {
    /// Reads an entry.
    pub fn parse<T: AsRef<[u8]>>(l: &MplsLabel<T>) -> Result<MplsRepr> {
        l.check_len()?;
        Ok(MplsRepr {
            label: l.label(),
            tc: l.tc(),
            bos: l.bos(),
            ttl: l.ttl(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the entry; `Malformed` if the label or TC does not fit.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, l: &mut MplsLabel<T>) -> Result<()> {
        if self.label > LABEL_MAX || self.tc > 7 {
            return Err(Error::Malformed);
        }
        l.check_len().map_err(|_| Error::BufferTooSmall)?;
        l.set_entry(
            (self.label << LABEL_SHIFT)
                | (u32::from(self.tc) << TC_SHIFT)
                | if self.bos { BOS_BIT } else { 0 }
                | u32::from(self.ttl),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Label 0x12345, TC 5, S=1, TTL 64.
    const ENTRY: [u8; 4] = [0x12, 0x34, 0x5b, 0x40];

    #[test]
    fn parse() {
        let l = MplsLabel::new_checked(&ENTRY[..]).unwrap();
        assert_eq!(
            MplsRepr::parse(&l).unwrap(),
            MplsRepr {
                label: 0x12345,
                tc: 5,
                bos: true,
                ttl: 64
            }
        );
        assert!(l.payload().is_empty());
        assert_eq!(
            MplsLabel::new_checked(&ENTRY[..3]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn emit() {
        let mut buf = [0xa5u8; 5];
        let r = MplsRepr {
            label: 0x12345,
            tc: 5,
            bos: true,
            ttl: 64,
        };
        r.emit(&mut MplsLabel::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(buf, [0x12, 0x34, 0x5b, 0x40, 0xa5]);
        let bad = MplsRepr {
            label: LABEL_MAX + 1,
            ..r
        };
        assert_eq!(
            bad.emit(&mut MplsLabel::new_unchecked(&mut buf[..])),
            Err(Error::Malformed)
        );
    }

    #[test]
    fn setters() {
        let mut buf = ENTRY;
        let mut l = MplsLabel::new_unchecked(&mut buf[..]);
        l.set_label(LABEL_MAX);
        l.set_bos(false);
        assert_eq!(
            (l.label(), l.tc(), l.bos(), l.ttl()),
            (LABEL_MAX, 5, false, 64)
        );
        l.set_tc(2);
        l.set_ttl(1);
        assert_eq!(
            (l.label(), l.tc(), l.bos(), l.ttl()),
            (LABEL_MAX, 2, false, 1)
        );
    }
}
