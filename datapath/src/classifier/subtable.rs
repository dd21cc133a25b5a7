//! [`Subtable`]: every entry of a table that shares one mask, in one hash map.

use std::collections::{BTreeSet, HashMap};

use super::entry::Rank;
use super::hash::SeededState;
use crate::key::{FlowKey, FLOW_KEY_WORDS};

/// An entry as a subtable sees it: its rank and its slot in the table's slab.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Member {
    /// The entry's rank (priority, then insertion order).
    pub(crate) rank: Rank,
    /// The entry's slot in the table.
    pub(crate) index: u32,
}

/// The entries of one subtable that share one masked key, best rank first. They differ only
/// by priority (an identical match and priority is replaced, never duplicated).
#[derive(Clone, Debug)]
struct Bucket {
    /// The best member, inline so a hit costs no second pointer chase.
    head: Member,
    /// The others, best first; usually empty (no allocation).
    tail: Vec<Member>,
}

impl Bucket {
    fn insert(&mut self, m: Member) {
        if m.rank < self.head.rank {
            let old = core::mem::replace(&mut self.head, m);
            self.tail.insert(0, old);
        } else {
            let at = self.tail.partition_point(|t| t.rank < m.rank);
            self.tail.insert(at, m);
        }
    }

    /// Removes the member in slot `index`; returns whether the bucket is now empty.
    fn remove(&mut self, index: u32) -> bool {
        if self.head.index == index {
            if self.tail.is_empty() {
                return true;
            }
            self.head = self.tail.remove(0);
        } else if let Some(at) = self.tail.iter().position(|t| t.index == index) {
            self.tail.remove(at);
        }
        false
    }

    fn iter(&self) -> impl Iterator<Item = Member> + '_ {
        core::iter::once(self.head).chain(self.tail.iter().copied())
    }
}

/// A masked key packed down to the words its subtable's mask touches.
pub(crate) type Packed = [u64; FLOW_KEY_WORDS];

/// All entries of a table with one mask: a hash map from the masked key (only the words the
/// mask touches) to the entries with that masked key, plus the ranks of all its entries so
/// the table can order subtables by their best one.
///
/// Fields are laid out hot first: a lookup reads `best`, the word lists and the map.
#[derive(Clone, Debug)]
#[repr(C)]
pub(crate) struct Subtable {
    /// The best rank of any entry here (the first of `ranks`, cached for the lookup loop).
    best: Rank,
    /// How many words of the mask are non-zero.
    n_words: u8,
    /// Indexes of the mask's non-zero words, ascending; the first `n_words` are used.
    word_index: [u8; FLOW_KEY_WORDS],
    /// Masked key (packed) → entries.
    map: HashMap<Box<[u64]>, Bucket, SeededState>,
    /// The mask's non-zero words, in the order of `word_index`.
    mask_words: [u64; FLOW_KEY_WORDS],
    /// The full mask.
    mask: FlowKey,
    /// Ranks of every entry here; never empty while the subtable exists.
    ranks: BTreeSet<Rank>,
}

impl Subtable {
    /// A subtable for `mask` holding one first entry under `key` (masked with `mask`).
    pub(crate) fn new(mask: &FlowKey, seed: u64, key: &FlowKey, first: Member) -> Self {
        let mut word_index = [0u8; FLOW_KEY_WORDS];
        let mut mask_words = [0u64; FLOW_KEY_WORDS];
        let mut n = 0;
        for (i, &w) in mask.words().iter().enumerate() {
            if w != 0 {
                word_index[n] = i as u8;
                mask_words[n] = w;
                n += 1;
            }
        }
        let mut sub = Subtable {
            best: first.rank,
            n_words: n as u8,
            word_index,
            map: HashMap::with_hasher(SeededState::new(seed)),
            mask_words,
            mask: *mask,
            ranks: BTreeSet::new(),
        };
        sub.insert(key, first);
        sub
    }

    /// The mask of every entry here.
    #[inline]
    pub(crate) fn mask(&self) -> &FlowKey {
        &self.mask
    }

    /// The best rank of any entry here.
    #[inline]
    pub(crate) fn best(&self) -> Rank {
        self.best
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ranks.len()
    }

    /// Masks `key` with this subtable's mask and packs the touched words into `buf`; returns
    /// the packed slice.
    #[inline(always)]
    pub(crate) fn pack<'b>(&self, key: &FlowKey, buf: &'b mut Packed) -> &'b [u64] {
        let n = usize::from(self.n_words);
        let words = key.words();
        for j in 0..n {
            buf[j] = words[usize::from(self.word_index[j])] & self.mask_words[j];
        }
        &buf[..n]
    }

    /// The best entry whose masked key equals `key`'s, if any. No allocation.
    #[inline]
    pub(crate) fn find(&self, key: &FlowKey) -> Option<Member> {
        let mut buf = [0u64; FLOW_KEY_WORDS];
        let packed = self.pack(key, &mut buf);
        self.map.get(packed).map(|b| b.head)
    }

    /// The entry with exactly this (already masked) key and `priority`, if any.
    pub(crate) fn find_strict(&self, key: &FlowKey, priority: u16) -> Option<Member> {
        let mut buf = [0u64; FLOW_KEY_WORDS];
        let packed = self.pack(key, &mut buf);
        self.map
            .get(packed)?
            .iter()
            .find(|m| m.rank.priority() == priority)
    }

    /// Adds an entry whose value is `key` (masked with this subtable's mask).
    pub(crate) fn insert(&mut self, key: &FlowKey, m: Member) {
        let mut buf = [0u64; FLOW_KEY_WORDS];
        let packed = self.pack(key, &mut buf);
        match self.map.get_mut(packed) {
            Some(bucket) => bucket.insert(m),
            None => {
                self.map.insert(
                    packed.into(),
                    Bucket {
                        head: m,
                        tail: Vec::new(),
                    },
                );
            }
        }
        self.ranks.insert(m.rank);
        self.best = self.best.min(m.rank);
    }

    /// Removes the entry `m` whose value is `key`; returns whether the subtable is now empty.
    pub(crate) fn remove(&mut self, key: &FlowKey, m: Member) -> bool {
        let mut buf = [0u64; FLOW_KEY_WORDS];
        let packed = self.pack(key, &mut buf);
        if let Some(bucket) = self.map.get_mut(packed) {
            if bucket.remove(m.index) {
                self.map.remove(packed);
            }
        }
        self.ranks.remove(&m.rank);
        match self.ranks.first() {
            Some(&best) => {
                self.best = best;
                false
            }
            None => true,
        }
    }

    /// Every entry here, in no particular order.
    pub(crate) fn members(&self) -> impl Iterator<Item = Member> + '_ {
        self.map.values().flat_map(Bucket::iter)
    }

    /// Entries whose masked key equals `key`'s (masked with this subtable's mask), best first.
    #[cfg(test)]
    pub(crate) fn bucket(&self, key: &FlowKey) -> impl Iterator<Item = Member> + '_ {
        let mut buf = [0u64; FLOW_KEY_WORDS];
        let packed = self.pack(key, &mut buf);
        self.map.get(packed).into_iter().flat_map(Bucket::iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(priority: u16, seq: u64) -> Member {
        Member {
            rank: Rank::new(priority, seq),
            index: seq as u32,
        }
    }

    #[test]
    fn packs_only_the_masked_words() {
        let mask = FlowKey {
            in_port: u32::MAX,
            tp_dst: 0xff00,
            ..FlowKey::default()
        };
        let key = FlowKey {
            in_port: 3,
            tp_dst: 0x1234,
            ip_ttl: 9,
            ..FlowKey::default()
        };
        let sub = Subtable::new(&mask, 1, &key, member(1, 0));
        assert_eq!(sub.n_words, 2);
        let mut buf = [0; FLOW_KEY_WORDS];
        let packed = sub.pack(&key, &mut buf).to_vec();
        let expect = FlowKey {
            in_port: 3,
            tp_dst: 0x1200,
            ..FlowKey::default()
        };
        let nonzero: Vec<u64> = expect.words().iter().copied().filter(|&w| w != 0).collect();
        assert_eq!(packed, nonzero);
    }

    #[test]
    fn buckets_keep_rank_order() {
        let mask = FlowKey::default();
        let key = FlowKey::default();
        let mut sub = Subtable::new(&mask, 1, &key, member(5, 0));
        sub.insert(&key, member(7, 1));
        sub.insert(&key, member(6, 2));
        sub.insert(&key, member(1, 3));
        assert_eq!(sub.len(), 4);
        assert_eq!(sub.find(&key), Some(member(7, 1)));
        assert_eq!(sub.best(), Rank::new(7, 1));
        let order: Vec<_> = sub.bucket(&key).map(|m| m.rank.priority()).collect();
        assert_eq!(order, [7, 6, 5, 1]);
        assert_eq!(sub.find_strict(&key, 6), Some(member(6, 2)));
        assert_eq!(sub.find_strict(&key, 2), None);
        assert!(!sub.remove(&key, member(7, 1)));
        assert_eq!(sub.best(), Rank::new(6, 2));
        assert!(!sub.remove(&key, member(5, 0)));
        assert!(!sub.remove(&key, member(6, 2)));
        assert_eq!(sub.find(&key), Some(member(1, 3)));
        assert_eq!(sub.members().count(), 1);
        assert!(sub.remove(&key, member(1, 3)));
    }

    #[test]
    fn distinct_masked_keys() {
        let mask = FlowKey {
            in_port: u32::MAX,
            ..FlowKey::default()
        };
        let a = FlowKey {
            in_port: 1,
            ..FlowKey::default()
        };
        let mut b = a;
        b.in_port = 2;
        let mut sub = Subtable::new(&mask, 9, &a, member(1, 0));
        sub.insert(&b, member(1, 1));
        assert_eq!(sub.find(&a).map(|m| m.index), Some(0));
        assert_eq!(sub.find(&b).map(|m| m.index), Some(1));
        let mut c = a;
        c.in_port = 3;
        assert_eq!(sub.find(&c), None);
        // Fields outside the mask do not matter.
        let mut a2 = a;
        a2.tp_src = 99;
        assert_eq!(sub.find(&a2).map(|m| m.index), Some(0));
        assert!(!sub.remove(&a, member(1, 0)));
        assert_eq!(sub.find(&a), None);
        assert_eq!(sub.best(), Rank::new(1, 1));
    }
}
