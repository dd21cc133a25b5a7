//! [`MicroflowCache`]: an exact-match cache from a whole flow key to a table's answer.

use core::fmt;

use super::entry::FlowHandle;
use super::hash::{hash_words, random_seed};
use crate::counters::MicroflowCounters;
use crate::key::FlowKey;

/// Entries per set: the cache is 4-way set-associative.
const WAYS: usize = 4;

/// The capacity [`MicroflowCache::default`] gives.
pub const DEFAULT_MICROFLOW_CAPACITY: usize = 4096;

/// Slot index that stands for "the table matched nothing".
const NO_ENTRY: u32 = u32::MAX;

/// What a probe compares first: the key's full hash and the table generation of the answer.
#[derive(Clone, Copy, Debug)]
struct Tag {
    hash: u64,
    /// The table generation the answer was computed at; 0 marks an empty way.
    generation: u64,
}

/// The tags of one set, in one cache line: a probe reads this line, and touches an answer
/// (160 bytes of key) only when a tag agrees.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct TagSet([Tag; WAYS]);

impl TagSet {
    const EMPTY: TagSet = TagSet(
        [Tag {
            hash: 0,
            generation: 0,
        }; WAYS],
    );
}

/// One cached answer.
#[derive(Clone, Copy)]
struct Answer {
    /// The exact flow key.
    key: FlowKey,
    /// The winning entry's slot, or [`NO_ENTRY`].
    index: u32,
    /// The winning entry's slot generation.
    entry_generation: u32,
}

/// The outcome of a probe.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Probe {
    /// The cache knows the answer: the winning entry, or `None` for a table miss.
    Hit(Option<FlowHandle>),
    /// Not cached; the key's hash, to hand back to [`MicroflowCache::store`].
    Miss(u64),
}

/// An exact-match cache in front of a [`FlowTable`](super::FlowTable): full flow key →
/// the entry the table's lookup chose (or the fact that it chose none).
///
/// Fixed capacity (a power of two), 4-way set-associative: a key's hash picks a set of four
/// ways, whose tags (hash and generation) share one cache line. Each answer records the
/// table generation it was computed at, and counts only while the table is still at that
/// generation, so any change to the table invalidates the whole cache at once without
/// touching it. A cache belongs to the last table it was used with: using it with another
/// table empties it first.
///
/// The hash is keyed by a random seed drawn when the cache is built, so guests cannot aim
/// their flows at one set. Replacement: an empty or stale way if the set has one, otherwise
/// the way a cache-wide rotating counter points at, which behaves like random replacement
/// and so avoids the systematic misses that FIFO or LRU suffer when more keys cycle through
/// a set than it has ways.
pub struct MicroflowCache {
    tags: Box<[TagSet]>,
    /// `WAYS` answers per set.
    answers: Box<[Answer]>,
    set_mask: usize,
    seed: u64,
    /// Id of the table whose answers the cache holds.
    owner: u64,
    /// Rotates through the ways to pick victims in full sets.
    victim: usize,
    counters: MicroflowCounters,
}

impl MicroflowCache {
    /// A cache of at least `capacity` entries (rounded up to a power of two, at least 4),
    /// with a random hash seed.
    pub fn new(capacity: usize) -> Self {
        Self::with_seed(capacity, random_seed())
    }

    /// A cache with a chosen hash seed (for reproducible tests and benchmarks; a datapath
    /// facing guests uses [`MicroflowCache::new`]).
    pub fn with_seed(capacity: usize, seed: u64) -> Self {
        let capacity = capacity.max(WAYS).next_power_of_two();
        let empty = Answer {
            key: FlowKey::default(),
            index: NO_ENTRY,
            entry_generation: 0,
        };
        MicroflowCache {
            tags: vec![TagSet::EMPTY; capacity / WAYS].into_boxed_slice(),
            answers: vec![empty; capacity].into_boxed_slice(),
            set_mask: capacity / WAYS - 1,
            seed,
            owner: 0,
            victim: 0,
            counters: MicroflowCounters::default(),
        }
    }

    /// How many answers the cache holds at most.
    pub fn capacity(&self) -> usize {
        self.answers.len()
    }

    /// Hit and miss counts.
    pub fn counters(&self) -> &MicroflowCounters {
        &self.counters
    }

    /// Forgets every answer (counters are kept).
    pub fn clear(&mut self) {
        self.tags.fill(TagSet::EMPTY);
    }

    /// How many ways hold an answer valid at table generation `generation`.
    #[cfg(test)]
    pub(crate) fn live(&self, generation: u64) -> usize {
        self.tags
            .iter()
            .flat_map(|s| s.0.iter())
            .filter(|t| t.generation == generation)
            .count()
    }

    /// Looks `key` up for table `owner` at its generation `generation` (never 0).
    #[inline]
    pub(crate) fn probe(&mut self, owner: u64, generation: u64, key: &FlowKey) -> Probe {
        if self.owner != owner {
            self.clear();
            self.owner = owner;
        }
        let hash = hash_words(self.seed, key.words());
        let set = hash as usize & self.set_mask;
        let tags = &self.tags[set].0;
        for (way, tag) in tags.iter().enumerate() {
            if tag.hash == hash && tag.generation == generation {
                let a = &self.answers[set * WAYS + way];
                if a.key.words() == key.words() {
                    self.counters.add_hit();
                    let answer = (a.index != NO_ENTRY).then_some(FlowHandle {
                        index: a.index,
                        generation: a.entry_generation,
                    });
                    return Probe::Hit(answer);
                }
            }
        }
        self.counters.add_miss();
        Probe::Miss(hash)
    }

    /// Records the table's answer for `key` (whose probe returned `Miss(hash)`) at table
    /// generation `generation`.
    #[inline]
    pub(crate) fn store(
        &mut self,
        hash: u64,
        generation: u64,
        key: &FlowKey,
        answer: Option<FlowHandle>,
    ) {
        let (index, entry_generation) = answer.map_or((NO_ENTRY, 0), |h| (h.index, h.generation));
        let set = hash as usize & self.set_mask;
        let tags = &mut self.tags[set].0;
        let way = match tags.iter().position(|t| t.generation != generation) {
            Some(way) => way,
            None => {
                self.victim = self.victim.wrapping_add(1);
                self.victim % WAYS
            }
        };
        tags[way] = Tag { hash, generation };
        self.answers[set * WAYS + way] = Answer {
            key: *key,
            index,
            entry_generation,
        };
    }
}

impl Default for MicroflowCache {
    /// A cache of [`DEFAULT_MICROFLOW_CAPACITY`] entries with a random seed.
    fn default() -> Self {
        Self::new(DEFAULT_MICROFLOW_CAPACITY)
    }
}

impl fmt::Debug for MicroflowCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The seed is left out on purpose: it is what keeps guests from aiming collisions.
        f.debug_struct("MicroflowCache")
            .field("capacity", &self.capacity())
            .field("owner", &self.owner)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
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

    fn handle(index: u32) -> Option<FlowHandle> {
        Some(FlowHandle {
            index,
            generation: 7,
        })
    }

    #[test]
    fn capacity_rounds_up() {
        assert_eq!(MicroflowCache::new(0).capacity(), 4);
        assert_eq!(MicroflowCache::new(3).capacity(), 4);
        assert_eq!(MicroflowCache::new(5).capacity(), 8);
        assert_eq!(MicroflowCache::new(4096).capacity(), 4096);
        assert_eq!(
            MicroflowCache::default().capacity(),
            DEFAULT_MICROFLOW_CAPACITY
        );
    }

    #[test]
    fn stores_and_finds_positive_and_negative_answers() {
        let mut c = MicroflowCache::with_seed(16, 1);
        let Probe::Miss(h1) = c.probe(1, 5, &key(1)) else {
            panic!("empty cache hit")
        };
        c.store(h1, 5, &key(1), handle(3));
        let Probe::Miss(h2) = c.probe(1, 5, &key(2)) else {
            panic!("hit for another key")
        };
        c.store(h2, 5, &key(2), None);
        assert!(matches!(c.probe(1, 5, &key(1)), Probe::Hit(h) if h == handle(3)));
        assert!(matches!(c.probe(1, 5, &key(2)), Probe::Hit(None)));
        assert_eq!(c.counters().hits, 2);
        assert_eq!(c.counters().misses, 2);
        assert_eq!(c.live(5), 2);
    }

    #[test]
    fn a_new_generation_invalidates_everything() {
        let mut c = MicroflowCache::with_seed(16, 1);
        let Probe::Miss(h) = c.probe(1, 5, &key(1)) else {
            panic!()
        };
        c.store(h, 5, &key(1), handle(3));
        assert!(matches!(c.probe(1, 6, &key(1)), Probe::Miss(_)));
        assert_eq!(c.live(6), 0);
    }

    #[test]
    fn another_table_empties_the_cache() {
        let mut c = MicroflowCache::with_seed(16, 1);
        let Probe::Miss(h) = c.probe(1, 5, &key(1)) else {
            panic!()
        };
        c.store(h, 5, &key(1), handle(3));
        // Same generation number, different table: must not answer.
        assert!(matches!(c.probe(2, 5, &key(1)), Probe::Miss(_)));
        assert_eq!(c.live(5), 0);
    }

    #[test]
    fn full_sets_evict_one_way() {
        // A cache of one set: every key lands in it.
        let mut c = MicroflowCache::with_seed(4, 9);
        let fill = |c: &mut MicroflowCache, port: u32, generation: u64| {
            let Probe::Miss(h) = c.probe(1, generation, &key(port)) else {
                panic!("unexpected hit for {port}")
            };
            c.store(h, generation, &key(port), handle(port));
        };
        for port in 1..=4 {
            fill(&mut c, port, 1);
        }
        for port in 1..=4 {
            assert!(matches!(c.probe(1, 1, &key(port)), Probe::Hit(h) if h == handle(port)));
        }
        fill(&mut c, 5, 1);
        assert_eq!(c.live(1), 4);
        assert!(matches!(c.probe(1, 1, &key(5)), Probe::Hit(h) if h == handle(5)));
        let kept = (1..=4)
            .filter(|&p| matches!(c.probe(1, 1, &key(p)), Probe::Hit(_)))
            .count();
        assert_eq!(kept, 3);
        // After a table change, stale ways are reused before any live answer is evicted.
        fill(&mut c, 6, 2);
        fill(&mut c, 7, 2);
        assert_eq!(c.live(2), 2);
        assert!(matches!(c.probe(1, 2, &key(6)), Probe::Hit(_)));
        c.clear();
        assert_eq!(c.live(2), 0);
        assert!(format!("{c:?}").starts_with("MicroflowCache { capacity: 4"));
    }
}
