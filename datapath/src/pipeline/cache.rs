//! [`PathCache`]: the pipeline's microflow cache, from a packet's *input* flow key to the
//! flow it matched in each table it visited (see the module documentation of
//! [`pipeline`](super) for why the input key is enough, and when a path is not cached).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::classifier::FlowHandle;
use crate::counters::MicroflowCounters;
use crate::key::{FlowKey, FrameLayout, FLOW_KEY_WORDS};

/// Tables a cached path may visit; longer paths are not cached.
pub(crate) const MAX_PATH: usize = 8;

/// Words of a cache key: the flow key and one word describing the frame's layout.
const KEY_WORDS: usize = FLOW_KEY_WORDS + 1;

/// Entries per set.
const WAYS: usize = 4;

/// One table visit: the table and the flow it matched (`None`: a miss, the path's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) table: u8,
    pub(crate) flow: Option<FlowHandle>,
}

/// The tables a packet visited, in order, and what matched in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Path {
    len: u8,
    steps: [Step; MAX_PATH],
}

impl Path {
    /// No step.
    pub(crate) const EMPTY: Path = Path {
        len: 0,
        steps: [Step {
            table: 0,
            flow: None,
        }; MAX_PATH],
    };

    /// Appends a step; false when the path is full.
    #[inline]
    pub(crate) fn push(&mut self, step: Step) -> bool {
        match self.steps.get_mut(usize::from(self.len)) {
            Some(s) => {
                *s = step;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Step `i`.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<Step> {
        self.steps[..usize::from(self.len)].get(i).copied()
    }
}

/// A cache key: the packet's flow key words (metadata and tunnel id included) and its
/// layout word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheKey([u64; KEY_WORDS]);

impl CacheKey {
    /// The key of a packet with flow key `key` and layout `layout`.
    #[inline]
    pub(crate) fn new(key: &FlowKey, layout: &FrameLayout) -> Self {
        let mut w = [0u64; KEY_WORDS];
        w[..FLOW_KEY_WORDS].copy_from_slice(key.words());
        w[FLOW_KEY_WORDS] = layout_word(layout);
        CacheKey(w)
    }

    /// Whether this is the key of `key` with layout word `layout`.
    #[inline]
    fn is(&self, key: &FlowKey, layout: u64) -> bool {
        self.0[FLOW_KEY_WORDS] == layout && self.0[..FLOW_KEY_WORDS] == key.words()[..]
    }
}

/// Every field of a layout in one word.
#[inline]
pub(crate) fn layout_word(l: &FrameLayout) -> u64 {
    u64::from(l.vlan_tags)
        | u64::from(l.l3_offset) << 8
        | (l.l3 as u64) << 24
        | u64::from(l.l4_offset) << 32
        | (l.l4 as u64) << 48
        | u64::from(l.l4_complete) << 56
        | u64::from(l.truncated) << 57
}

/// An odd constant with well-spread bits.
const MUL_A: u64 = 0x9e37_79b9_7f4a_7c15;
/// A second one, for the final mix.
const MUL_B: u64 = 0xd6e8_feb8_6659_fd93;

#[inline(always)]
fn folded_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A keyed multiply-fold hash of words, four lanes wide (so the multiplies of the lanes
/// overlap), then `extra` folded in.
#[inline]
pub(crate) fn hash_words(seed: u64, words: &[u64], extra: u64) -> u64 {
    let mut lanes = [
        seed,
        seed ^ 0x2d35_8dcc_aa6c_78a5,
        seed ^ 0x8ebc_6af0_9c88_c6e3,
        seed ^ 0x5899_65cc_7537_4cc3,
    ];
    let mut quads = words.chunks_exact(4);
    for q in &mut quads {
        for (lane, w) in lanes.iter_mut().zip(q) {
            *lane = folded_mul(*lane ^ w, MUL_A);
        }
    }
    for (lane, w) in lanes.iter_mut().zip(quads.remainder()) {
        *lane = folded_mul(*lane ^ w, MUL_A);
    }
    let a = folded_mul(lanes[0] ^ lanes[1].rotate_left(32), MUL_B);
    let b = folded_mul(lanes[2] ^ lanes[3].rotate_left(32), MUL_B);
    folded_mul(a ^ b.rotate_left(17) ^ extra, MUL_A)
}

/// Tag of one way: the key's hash and the pipeline generation of the entry (0: empty).
#[derive(Debug, Clone, Copy, Default)]
struct Tag {
    hash: u64,
    generation: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: CacheKey,
    path: Path,
}

/// A probe's outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Probe {
    /// Cached: the entry, for [`PathCache::step`].
    Hit(usize),
    /// Not cached: the key's hash, for [`PathCache::store`].
    Miss(u64),
}

/// A fixed-size 4-way set-associative map from [`CacheKey`] to [`Path`], valid for one
/// pipeline generation at a time: any change to a flow table (or group or meter table)
/// moves the generation on, and every entry goes stale at once. Capacity 0 disables it.
#[derive(Debug)]
pub(crate) struct PathCache {
    tags: Box<[[Tag; WAYS]]>,
    entries: Box<[Entry]>,
    set_mask: usize,
    seed: u64,
    victim: usize,
    counters: MicroflowCounters,
}

impl PathCache {
    /// A cache of at least `capacity` entries (a power of two), or a disabled one for 0.
    pub(crate) fn new(capacity: usize) -> Self {
        let seed = RandomState::new().hash_one(0x7069_7065_6c69_6e65_u64);
        let capacity = if capacity == 0 {
            0
        } else {
            capacity.max(WAYS).next_power_of_two()
        };
        let empty = Entry {
            key: CacheKey([0; KEY_WORDS]),
            path: Path::EMPTY,
        };
        PathCache {
            tags: vec![[Tag::default(); WAYS]; capacity / WAYS].into_boxed_slice(),
            entries: vec![empty; capacity].into_boxed_slice(),
            set_mask: (capacity / WAYS).saturating_sub(1),
            seed,
            victim: 0,
            counters: MicroflowCounters::default(),
        }
    }

    /// Whether the cache holds anything at all (capacity above 0).
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        !self.tags.is_empty()
    }

    /// Hit and miss counts.
    pub(crate) fn counters(&self) -> MicroflowCounters {
        self.counters
    }

    /// Looks up the packet with flow key `key` and layout word `layout` at pipeline
    /// generation `generation` (never 0).
    #[inline]
    pub(crate) fn probe(&mut self, generation: u64, key: &FlowKey, layout: u64) -> Probe {
        let hash = hash_words(self.seed, key.words(), layout);
        let set = hash as usize & self.set_mask;
        if let Some(tags) = self.tags.get(set) {
            for (way, tag) in tags.iter().enumerate() {
                if tag.hash == hash && tag.generation == generation {
                    let i = set * WAYS + way;
                    if self.entries[i].key.is(key, layout) {
                        self.counters.add_hit();
                        return Probe::Hit(i);
                    }
                }
            }
        }
        self.counters.add_miss();
        Probe::Miss(hash)
    }

    /// Step `i` of the path in entry `entry` (from a hit of the current generation).
    #[inline]
    pub(crate) fn step(&self, entry: usize, i: usize) -> Option<Step> {
        self.entries.get(entry)?.path.get(i)
    }

    /// Stores `path` for `key`, whose probe returned `Miss(hash)`.
    #[inline]
    pub(crate) fn store(&mut self, hash: u64, generation: u64, key: &CacheKey, path: &Path) {
        let set = hash as usize & self.set_mask;
        let Some(tags) = self.tags.get_mut(set) else {
            return;
        };
        let way = match tags.iter().position(|t| t.generation != generation) {
            Some(way) => way,
            None => {
                self.victim = self.victim.wrapping_add(1);
                self.victim % WAYS
            }
        };
        tags[way] = Tag { hash, generation };
        self.entries[set * WAYS + way] = Entry {
            key: *key,
            path: *path,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(port: u32) -> FlowKey {
        FlowKey {
            in_port: port,
            ..FlowKey::default()
        }
    }

    fn probe(c: &mut PathCache, generation: u64, port: u32) -> Probe {
        c.probe(generation, &key(port), 0)
    }

    fn store(c: &mut PathCache, hash: u64, generation: u64, port: u32, path: &Path) {
        c.store(
            hash,
            generation,
            &CacheKey::new(&key(port), &FrameLayout::default()),
            path,
        );
    }

    #[test]
    fn store_probe_and_generations() {
        let mut c = PathCache::new(16);
        let mut p = Path::EMPTY;
        assert!(p.push(Step {
            table: 0,
            flow: None
        }));
        let Probe::Miss(h) = probe(&mut c, 1, 1) else {
            panic!("empty cache hit")
        };
        store(&mut c, h, 1, 1, &p);
        let Probe::Hit(e) = probe(&mut c, 1, 1) else {
            panic!("stored key missed")
        };
        assert_eq!(c.step(e, 0), p.get(0));
        assert_eq!(c.step(e, 1), None);
        assert!(matches!(probe(&mut c, 1, 2), Probe::Miss(_)));
        // A new generation makes it stale.
        assert!(matches!(probe(&mut c, 2, 1), Probe::Miss(_)));
        // So does another layout.
        assert!(matches!(c.probe(1, &key(1), 5), Probe::Miss(_)));
        assert_eq!(c.counters().hits, 1);
        assert_eq!(c.counters().misses, 4);
        // The layout is part of the key.
        let k = FlowKey::default();
        let l = FrameLayout {
            truncated: true,
            ..FrameLayout::default()
        };
        assert_ne!(
            CacheKey::new(&k, &l),
            CacheKey::new(&k, &FrameLayout::default())
        );
    }

    #[test]
    fn disabled_cache_never_hits() {
        let mut c = PathCache::new(0);
        assert!(!c.enabled());
        let Probe::Miss(h) = probe(&mut c, 1, 1) else {
            panic!("hit")
        };
        store(&mut c, h, 1, 1, &Path::EMPTY);
        assert!(matches!(probe(&mut c, 1, 1), Probe::Miss(_)));
    }

    #[test]
    fn path_is_bounded() {
        let mut p = Path::EMPTY;
        let s = Step {
            table: 1,
            flow: None,
        };
        for _ in 0..MAX_PATH {
            assert!(p.push(s));
        }
        assert!(!p.push(s));
        assert_eq!(p.get(MAX_PATH - 1), Some(s));
        assert_eq!(p.get(MAX_PATH), None);
    }
}
