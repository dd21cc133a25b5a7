//! The internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! Sums here are *folded* one's-complement sums of big-endian 16-bit words, not yet
//! complemented: [`data`] of a header, [`combine`] of several pieces, and the
//! checksum field holds `!sum`. A receiver verifies by summing everything, checksum field
//! included, and expecting `0xffff`.
//!
//! The incremental update is RFC 1624 equation 3, `HC' = ~(~HC + ~m + m')`: when a 16-bit
//! word `m` of the covered data becomes `m'`, the checksum `HC` becomes `HC'` without
//! reading the rest of the data. Equation 3 (unlike the older RFC 1141 form) never turns a
//! valid checksum into the `-0` form a from-scratch computation would not produce.
//! Changed bytes must be passed as whole words at an even offset from the start of the
//! covered data: to change one byte, pass the word that holds it.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::IpProtocol;

/// Folds a wide one's-complement accumulator into 16 bits (end-around carry).
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// One's-complement sum of `bytes` read as big-endian 16-bit words; an odd last byte is
/// padded with a zero byte on the right (RFC 1071).
pub fn data(bytes: &[u8]) -> u16 {
    // A big-endian 32-bit word hi·2¹⁶+lo is congruent to hi+lo modulo 2¹⁶−1, so summing
    // 32-bit words into a 64-bit accumulator and folding once gives the same sum with half
    // the additions. 2³² words would be needed to overflow the accumulator.
    let mut acc: u64 = 0;
    let mut words = bytes.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    match *words.remainder() {
        [a] => acc += u64::from(a) << 8,
        [a, b] => acc += u64::from(u16::from_be_bytes([a, b])),
        [a, b, c] => acc += u64::from(u16::from_be_bytes([a, b])) + (u64::from(c) << 8),
        _ => {}
    }
    fold(acc)
}

/// One's-complement sum of partial sums.
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The checksum to store for data whose sum is `sum`.
#[inline]
pub fn finish(sum: u16) -> u16 {
    !sum
}

/// UDP's reading of a checksum field: 0 means "no checksum", so a computed 0 is sent as
/// 0xffff (the other one's-complement zero).
#[inline]
pub fn udp_nonzero(checksum: u16) -> u16 {
    if checksum == 0 {
        0xffff
    } else {
        checksum
    }
}

/// RFC 1624 eqn. 3: the checksum after one covered 16-bit word changes from `old` to `new`.
#[inline]
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    !fold(u64::from(!checksum) + u64::from(!old) + u64::from(new))
}

/// RFC 1624 eqn. 3 for a covered 32-bit word (two 16-bit words) changing.
#[inline]
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!checksum)
        + u64::from(!(old >> 16) as u16)
        + u64::from(!(old as u16))
        + u64::from(new >> 16)
        + u64::from(new as u16);
    !fold(acc)
}

/// RFC 1624 eqn. 3 for a run of covered bytes changing from `old` to `new` (same length,
/// starting at an even offset of the covered data).
///
/// # Panics
///
/// If `old` and `new` differ in length (a caller bug, never a property of input data).
pub fn update_bytes(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    assert_eq!(
        old.len(),
        new.len(),
        "incremental checksum over unequal runs"
    );
    !fold(u64::from(!checksum) + u64::from(!data(old)) + u64::from(data(new)))
}

/// The addresses of the IP pseudo-header that TCP, UDP and ICMPv6 checksums cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    /// IPv4 source and destination (RFC 768/793).
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// IPv6 source and destination (RFC 8200 §8.1).
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
    },
}

impl PseudoHeader {
    /// The sum of the pseudo-header for an upper-layer packet of `protocol` and `length`
    /// bytes (header plus payload).
    pub fn sum(&self, protocol: IpProtocol, length: u32) -> u16 {
        let proto = u64::from(u8::from(protocol));
        match self {
            PseudoHeader::V4 { src, dst } => fold(
                u64::from(data(&src.octets()))
                    + u64::from(data(&dst.octets()))
                    + proto
                    + u64::from(length & 0xffff),
            ),
            PseudoHeader::V6 { src, dst } => fold(
                u64::from(data(&src.octets()))
                    + u64::from(data(&dst.octets()))
                    + u64::from(length >> 16)
                    + u64::from(length & 0xffff)
                    + proto,
            ),
        }
    }

    /// The checksum of an upper-layer packet `segment` (its checksum field zeroed) under
    /// this pseudo-header.
    pub fn checksum(&self, protocol: IpProtocol, segment: &[u8]) -> u16 {
        let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
        finish(combine(&[self.sum(protocol, len), data(segment)]))
    }

    /// Whether `segment` (checksum field included) verifies under this pseudo-header.
    pub fn verify(&self, protocol: IpProtocol, segment: &[u8]) -> bool {
        let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
        combine(&[self.sum(protocol, len), data(segment)]) == 0xffff
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(data(&bytes), 0xddf2);
        // Any split at an even offset sums the same.
        assert_eq!(combine(&[data(&bytes[..2]), data(&bytes[2..])]), 0xddf2);
        assert_eq!(combine(&[data(&bytes[..6]), data(&bytes[6..])]), 0xddf2);
    }

    #[test]
    fn odd_lengths_pad_right() {
        assert_eq!(data(&[0xab]), 0xab00);
        assert_eq!(data(&[0x12, 0x34, 0xab]), 0x12 * 256 + 0x34 + 0xab00);
        assert_eq!(data(&[1, 2, 3, 4, 5]), 0x0102 + 0x0304 + 0x0500);
        assert_eq!(data(&[]), 0);
    }

    #[test]
    fn ipv4_header_example() {
        // A UDP datagram's IPv4 header with its checksum b861.
        let mut hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(data(&hdr), 0xffff);
        hdr[10] = 0;
        hdr[11] = 0;
        assert_eq!(finish(data(&hdr)), 0xb861);
    }

    #[test]
    fn eqn3_keeps_positive_zero() {
        // Data 00ff 5555 sums to 5654; 5555 becomes ff00 and the data now sums to ffff,
        // whose checksum computed from scratch is 0000. Eqn. 3 agrees (the older
        // HC - ~m - m' form of RFC 1141 would answer ffff).
        let mut words = [0x00, 0xff, 0x55, 0x55];
        let before = finish(data(&words));
        assert_eq!(before, 0xa9ab);
        words[2..].copy_from_slice(&[0xff, 0x00]);
        assert_eq!(finish(data(&words)), 0x0000);
        assert_eq!(update_u16(before, 0x5555, 0xff00), 0x0000);
    }

    #[test]
    fn pseudo_header_v4_known() {
        let ph = PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(198, 51, 100, 2),
        };
        // c000 + 0201 + c633 + 6402 + 0011 + 0010
        let expect = fold(0xc000 + 0x0201 + 0xc633 + 0x6402 + 0x11 + 0x10);
        assert_eq!(ph.sum(IpProtocol::Udp, 16), expect);
    }

    #[test]
    fn udp_zero_rule() {
        assert_eq!(udp_nonzero(0), 0xffff);
        assert_eq!(udp_nonzero(0x1234), 0x1234);
    }

    proptest! {
        #[test]
        fn incremental_matches_recompute(
            mut bytes in proptest::collection::vec(any::<u8>(), 2..64),
            at in any::<prop::sample::Index>(),
            new in any::<u16>(),
        ) {
            if bytes.len() % 2 == 1 { bytes.push(0); }
            let words = bytes.len() / 2;
            let i = at.index(words) * 2;
            let before = finish(data(&bytes));
            let old = u16::from_be_bytes([bytes[i], bytes[i + 1]]);
            bytes[i..i + 2].copy_from_slice(&new.to_be_bytes());
            let scratch = finish(data(&bytes));
            let inc = update_u16(before, old, new);
            // Equal, except for all-zero data: from scratch its sum is +0 (checksum ffff),
            // while the update lands on -0 (checksum 0000). Both verify.
            if data(&bytes) == 0 {
                prop_assert_eq!((inc, scratch), (0x0000, 0xffff));
            } else {
                prop_assert_eq!(inc, scratch);
            }
            // The updated checksum always verifies.
            if data(&bytes) != 0 {
                prop_assert_eq!(combine(&[data(&bytes), inc]), 0xffff);
            }
        }

        #[test]
        fn incremental_u32_and_bytes(
            mut bytes in proptest::collection::vec(any::<u8>(), 8..64),
            new32 in any::<u32>(),
            new_run in any::<[u8; 6]>(),
        ) {
            bytes.truncate(bytes.len() & !1);
            let before = finish(data(&bytes));
            let old32 = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            bytes[..4].copy_from_slice(&new32.to_be_bytes());
            let c1 = update_u32(before, old32, new32);
            prop_assert_eq!(combine(&[data(&bytes), c1]), 0xffff);

            let old_run: [u8; 6] = [bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]];
            bytes[2..8].copy_from_slice(&new_run);
            let c2 = update_bytes(c1, &old_run, &new_run);
            prop_assert_eq!(combine(&[data(&bytes), c2]), 0xffff);
        }
    }
}
