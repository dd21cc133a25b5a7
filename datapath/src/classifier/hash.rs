//! The keyed hash over flow-key words, shared by the subtables and the microflow cache.
//!
//! Frames come from untrusted guests, so a fixed hash function would let a guest pick flow
//! keys that all land in one hash chain. Every table and cache therefore draws a random
//! 64-bit seed from the standard library's [`RandomState`] (itself seeded by the operating
//! system) when it is built, and the hash mixes that seed in before the first word.
//!
//! The mixing step is a folded multiply: the full 128-bit product of two 64-bit values,
//! with its high half xored into its low half. One multiply per word spreads every input
//! bit over the whole result, which both the SwissTable control bytes (top bits) and the
//! bucket index (low bits) rely on. It is not a cryptographic hash; it only has to make
//! collisions expensive to aim without the seed, and be cheap: a 20-word key costs ten
//! multiplies on each of two independent lanes.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// An odd constant with well-spread bits (the 64-bit golden ratio).
const MUL_A: u64 = 0x9e37_79b9_7f4a_7c15;
/// A second odd constant with well-spread bits, for the final mix.
const MUL_B: u64 = 0xd6e8_feb8_6659_fd93;
/// Offsets the second lane's starting state from the first's.
const LANE_B: u64 = 0x2d35_8dcc_aa6c_78a5;

/// The full product of `a` and `b`, high half folded onto the low half.
#[inline(always)]
fn folded_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A fresh random seed from the standard library's per-process random keys.
pub(crate) fn random_seed() -> u64 {
    // Each `RandomState::new()` carries distinct keys, so hashing a constant with it yields
    // a fresh unpredictable value.
    RandomState::new().hash_one(0x666c_6f77_6c61_6200_u64)
}

/// Hashes a whole flow key (as its words) with `seed`: two lanes over the even and the odd
/// words, so the multiplies of the two lanes can overlap in the pipeline.
#[inline]
pub(crate) fn hash_words(seed: u64, words: &[u64]) -> u64 {
    let mut a = seed;
    let mut b = seed ^ LANE_B;
    let mut pairs = words.chunks_exact(2);
    for pair in &mut pairs {
        a = folded_mul(a ^ pair[0], MUL_A);
        b = folded_mul(b ^ pair[1], MUL_A);
    }
    if let [last] = pairs.remainder() {
        a = folded_mul(a ^ *last, MUL_A);
    }
    folded_mul(a ^ b.rotate_left(32), MUL_B)
}

/// A [`Hasher`] over words for the subtables' hash maps, keyed by a seed.
///
/// The maps are keyed by `[u64]` slices; `Hash` for a slice writes its length, then its
/// bytes in one call, which this hasher reads back as native-endian words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WordHasher {
    state: u64,
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_ne_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            // The length tag keeps "ab" and "ab\0" apart.
            self.write_u64(u64::from_ne_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u64(&mut self, w: u64) {
        self.state = folded_mul(self.state ^ w, MUL_A);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        folded_mul(self.state, MUL_B)
    }
}

/// Builds [`WordHasher`]s that all start from one seed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeededState {
    seed: u64,
}

impl SeededState {
    /// A builder for hashers keyed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SeededState { seed }
    }
}

impl BuildHasher for SeededState {
    type Hasher = WordHasher;

    #[inline]
    fn build_hasher(&self) -> WordHasher {
        WordHasher { state: self.seed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn seeds_differ() {
        assert_ne!(random_seed(), random_seed());
    }

    #[test]
    fn seed_changes_the_hash() {
        let w = [1u64, 2, 3, 4, 5];
        assert_eq!(hash_words(7, &w), hash_words(7, &w));
        assert_ne!(hash_words(7, &w), hash_words(8, &w));
        let s = SeededState::new(7);
        assert_eq!(s.hash_one(&w[..]), s.hash_one(&w[..]));
        assert_ne!(s.hash_one(&w[..]), SeededState::new(8).hash_one(&w[..]));
    }

    #[test]
    fn word_order_and_position_matter() {
        assert_ne!(hash_words(1, &[1, 2]), hash_words(1, &[2, 1]));
        assert_ne!(hash_words(1, &[0, 1, 0, 0]), hash_words(1, &[0, 0, 0, 1]));
        let s = SeededState::new(1);
        assert_ne!(s.hash_one(&[1u64, 2][..]), s.hash_one(&[2u64, 1][..]));
        assert_ne!(s.hash_one(&[0u64][..]), s.hash_one(&[0u64, 0][..]));
    }

    #[test]
    fn low_bits_spread_for_sequential_keys() {
        // Keys that differ in one small field (a port number) must fill the low bits that
        // pick a cache set.
        let seed = random_seed();
        let mut sets = HashSet::new();
        let mut tops = HashSet::new();
        for port in 0u64..4096 {
            let mut w = [0u64; 20];
            w[2] = port;
            let h = hash_words(seed, &w);
            sets.insert(h & 1023);
            tops.insert(h >> 57);
            let g = SeededState::new(seed).hash_one(&w[2..3]);
            tops.insert(g >> 57);
        }
        assert!(sets.len() > 950, "only {} of 1024 sets used", sets.len());
        assert_eq!(tops.len(), 128);
    }
}
