//! The classifier: OpenFlow flow tables, searched by tuple space search behind an
//! exact-match microflow cache.
//!
//! # What it is
//!
//! A [`FlowTable`] holds OpenFlow flow entries, `<match, priority : counters, payload>`.
//! A [`Match`] is a value and a mask over the [`FlowKey`] (a mask bit of 1 means "this bit
//! must equal the value's bit"); the payload `A` is whatever the caller executes on a hit
//! (an action list today, an instruction list once the OpenFlow pipeline exists). Looking a
//! key up returns the entry with the highest priority among those whose match accepts the
//! key, or nothing (a table miss). The table also does what OpenFlow's flow_mod asks of it
//! — add, strict and non-strict modify and delete, the overlap check — and keeps counters
//! and timeouts. It never reads a clock: every operation that needs the time takes `now`,
//! a [`Duration`] since an epoch of the caller's choosing.
//!
//! # Tuple space search
//!
//! Scanning every entry per packet costs time proportional to the table. Real tables,
//! however, use few distinct masks: thousands of entries, but perhaps a dozen shapes
//! ("in_port + eth_dst", "ipv4_dst/24", "ip_proto + tp_dst", ...). Tuple space search
//! exploits that. Entries are grouped by mask into `Subtable`s; in a subtable every entry
//! has the same mask, so "does the key match this entry" becomes "is `key & mask` equal to
//! the entry's value", which a hash map answers in one probe. A lookup masks the key once
//! per subtable and probes each map. The cost depends on the number of distinct masks, not
//! on the number of entries. Two details keep each probe cheap: a subtable precomputes the
//! list of key words its mask touches (a port/MAC mask touches 1 or 2 of the key's 20
//! words), so masking, hashing and comparing cover only those words; and a lookup builds
//! its masked key in a stack buffer, so the lookup path never allocates.
//!
//! # Ordering subtables, and stopping early
//!
//! A hit in one subtable is not the answer yet: another subtable may hold a better entry
//! for the same key. But each subtable knows the best entry it holds (its highest priority
//! — more exactly its best *rank*, see below), and the table keeps its subtables sorted by
//! that, best first. The lookup visits subtables in that order and stops as soon as the next
//! subtable's best possible entry ranks below the best hit found so far: that subtable
//! cannot improve the answer, and neither can any after it, since they are sorted. Tables
//! whose high-priority entries sit in a few subtables (the usual shape: a handful of
//! specific overrides above broad defaults) are answered after a few probes; a miss still
//! visits every subtable. Subtables are re-sorted when an add or a removal changes a
//! subtable's best rank; an emptied subtable is dropped.
//!
//! # Ties between equal priorities
//!
//! OpenFlow leaves the choice between overlapping entries of equal priority undefined.
//! flowlab defines it: **among the matching entries of the highest priority, the one
//! inserted earliest wins.** Every add draws a sequence number from a counter of the table
//! that only increases; an entry's rank is `(priority descending, sequence ascending)`,
//! unique within the table, and lookups return the matching entry of smallest rank. An add
//! that replaces an identical entry (same match and priority) creates a new entry, so it
//! takes a new sequence number and goes behind equal-priority entries added meanwhile; a
//! modify changes the payload in place and keeps the number. The rule is independent of
//! hash seeds, of subtable order and of slab reuse, so every run and every replica answers
//! alike. Sorting subtables by best rank rather than by bare priority keeps the early stop
//! exact under this rule: a subtable whose best entry has the same priority as the hit so
//! far, but a later sequence number, is skipped too. Within a subtable, entries sharing one
//! masked key (they differ only by priority) sit in one bucket in rank order, and the
//! bucket's first member answers the probe.
//!
//! # The microflow cache
//!
//! In front of the subtables sits an optional [`MicroflowCache`]: a fixed-size, 4-way
//! set-associative map from a *whole* flow key to the table's answer for it, which is one
//! hash over the key's words and one key comparison on a hit. Traffic is mostly long
//! runs of packets of the same few connections, so most packets hit it. It stores
//! [`FlowHandle`]s, not payloads, and negative answers (a table miss) as well. Each answer
//! is tagged with the table's *generation*, a number the table increments on every change
//! (add, modify, delete, expiry). A cached answer counts only while the table is still at
//! its generation, so a flow_mod invalidates the whole cache in O(1) without touching it;
//! the cache refills on the following misses. A cache also remembers which table it last
//! served (every table gets a process-unique id) and empties itself when used with another.
//! The cache's hash, like the subtables', is keyed by a random seed drawn from the standard
//! library's [`RandomState`](std::collections::hash_map::RandomState) when it is built:
//! frames come from untrusted guests, which must not be able to aim their flows at one
//! hash chain or one cache set.
//!
//! # Handles
//!
//! Entries live in a slab; a [`FlowHandle`] is a slot index plus the slot's generation,
//! which moves on whenever the slot is freed. A handle to a removed entry stops resolving
//! instead of finding the entry that reused its slot; cached handles are safe twice over,
//! since any removal also moves the table generation.
//!
//! # Costs
//!
//! With `S` subtables and `n` entries: a cache hit costs one hash of the 20 key words and
//! one key comparison; a classifier lookup costs at most `S` probes, each hashing and
//! comparing only the mask's words, fewer when the early stop applies. Add, strict delete
//! and strict modify cost `O(S + log n)` (finding the subtable by mask, a hash probe, the
//! subtable's rank set). Non-strict delete, modify and selection visit only the subtables
//! whose mask covers the request's mask, and every entry in those. [`FlowTable::expire`]
//! visits every entry. No operation on the lookup path allocates.
//!
//! # Left for later
//!
//! - Staged lookup: probing a subtable in stages (metadata, L2, L3, L4), each with its own
//!   hash, so that most misses end after the first stage instead of hashing every word.
//! - Prefix tries over the IP address fields, to skip subtables whose prefix length cannot
//!   match and, once there is a megaflow cache, to wildcard fewer address bits.
//! - A megaflow cache over the whole multi-table pipeline, and batched lookups that
//!   prefetch each packet's probes.
//! - Readers on other threads (versioned entries, as Open vSwitch does for its classifier).
//!
//! # Threads
//!
//! A table is owned by the one datapath thread that looks packets up in it; every method
//! that counts or changes anything takes `&mut self`, and there are no locks or atomics on
//! any path (one atomic increment hands out table ids at construction). The control plane
//! sends flow_mods and statistics requests over a channel that the datapath thread drains
//! between batches, so a batch of packets is always classified against one table
//! generation. `FlowTable<A>` is `Send` when `A` is, to be moved to its thread.

mod entry;
mod flow_match;
mod hash;
mod microflow;
mod subtable;

#[cfg(test)]
mod oracle_tests;

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

pub use entry::{FlowEntry, FlowFlags, FlowHandle, NewFlow, RemovalReason};
pub use flow_match::Match;
pub use microflow::{MicroflowCache, DEFAULT_MICROFLOW_CAPACITY};

use crate::counters::{FlowCounters, TableCounters};
use crate::key::FlowKey;
use entry::Rank;
use hash::random_seed;
use microflow::Probe;
use subtable::{Member, Subtable};

/// The entry limit [`FlowTable::new`] sets.
pub const DEFAULT_MAX_ENTRIES: usize = 1 << 20;

/// Why a table refused an add.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
pub enum ClassifierError {
    /// The table already holds its maximum number of entries (OpenFlow `TABLE_FULL`).
    #[error("flow table full ({max} entries)")]
    TableFull {
        /// The table's limit.
        max: usize,
    },
    /// `CHECK_OVERLAP` was set and an entry of the same priority overlaps the new match
    /// (OpenFlow `OVERLAP`).
    #[error("flow overlaps an entry of the same priority")]
    Overlap,
}

/// What an add did.
#[derive(Debug)]
pub struct Inserted<A> {
    /// The new entry.
    pub handle: FlowHandle,
    /// The entry with the identical match and priority that the add replaced, if any.
    pub replaced: Option<FlowEntry<A>>,
}

/// Hands out process-unique table ids, so a [`MicroflowCache`] can tell tables apart.
static NEXT_TABLE_ID: AtomicU64 = AtomicU64::new(1);

/// A slab slot.
#[derive(Debug)]
struct Slot<A> {
    /// Moves on every time the slot is freed.
    generation: u32,
    entry: Option<FlowEntry<A>>,
}

/// An OpenFlow flow table: priority-ordered wildcard entries over [`FlowKey`], searched by
/// tuple space search. See the [module documentation](self) for the design.
#[derive(Debug)]
pub struct FlowTable<A> {
    /// Sorted by best rank, best first.
    subtables: Vec<Subtable>,
    slots: Vec<Slot<A>>,
    free: Vec<u32>,
    len: usize,
    max_entries: usize,
    next_seq: u64,
    generation: u64,
    id: u64,
    seed: u64,
    counters: TableCounters,
}

impl<A> Default for FlowTable<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A> FlowTable<A> {
    /// An empty table with a random hash seed and [`DEFAULT_MAX_ENTRIES`].
    pub fn new() -> Self {
        Self::with_seed(random_seed())
    }

    /// An empty table with a chosen hash seed (for reproducible tests and benchmarks; a
    /// datapath facing guests uses [`FlowTable::new`]).
    pub fn with_seed(seed: u64) -> Self {
        FlowTable {
            subtables: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            max_entries: DEFAULT_MAX_ENTRIES,
            next_seq: 0,
            generation: 1,
            id: NEXT_TABLE_ID.fetch_add(1, Ordering::Relaxed),
            seed,
            counters: TableCounters::default(),
        }
    }

    /// Sets the entry limit (at most `u32::MAX - 1`).
    #[must_use]
    pub fn with_max_entries(mut self, max: usize) -> Self {
        self.max_entries = max.min(u32::MAX as usize - 1);
        self
    }

    /// The entry limit.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of distinct masks (subtables).
    pub fn subtable_count(&self) -> usize {
        self.subtables.len()
    }

    /// The generation: increases with every change to the table's entries.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Lookup and match counts.
    pub fn counters(&self) -> &TableCounters {
        &self.counters
    }

    /// The entry behind `handle`, if it is still in the table.
    #[inline]
    pub fn get(&self, handle: FlowHandle) -> Option<&FlowEntry<A>> {
        let slot = self.slots.get(handle.index as usize)?;
        if slot.generation == handle.generation {
            slot.entry.as_ref()
        } else {
            None
        }
    }

    /// The entry behind `handle`, to change its payload, cookie, flags or counters.
    #[inline]
    pub fn get_mut(&mut self, handle: FlowHandle) -> Option<&mut FlowEntry<A>> {
        let slot = self.slots.get_mut(handle.index as usize)?;
        if slot.generation == handle.generation {
            slot.entry.as_mut()
        } else {
            None
        }
    }

    /// The payload of the entry behind `handle`.
    #[inline]
    pub fn actions(&self, handle: FlowHandle) -> Option<&A> {
        self.get(handle).map(FlowEntry::actions)
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (FlowHandle, &FlowEntry<A>)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            let e = s.entry.as_ref()?;
            Some((self.handle_at(i as u32), e))
        })
    }

    /// The entries whose match is at least as specific as `m` (OpenFlow's non-strict
    /// selection, as in flow statistics), in no particular order.
    pub fn select<'a>(
        &'a self,
        m: &'a Match,
    ) -> impl Iterator<Item = (FlowHandle, &'a FlowEntry<A>)> + 'a {
        self.subtables
            .iter()
            .filter(move |s| covers(s.mask(), m.mask()))
            .flat_map(Subtable::members)
            .filter_map(move |mem| {
                let e = self.slots[mem.index as usize].entry.as_ref()?;
                e.flow_match
                    .is_subset_of(m)
                    .then(|| (self.handle_at(mem.index), e))
            })
    }

    /// The entry with exactly match `m` and `priority` (OpenFlow's strict selection).
    pub fn find_strict(&self, m: &Match, priority: u16) -> Option<FlowHandle> {
        let sub = self.subtable_of(m.mask())?;
        let mem = self.subtables[sub].find_strict(m.key(), priority)?;
        Some(self.handle_at(mem.index))
    }

    /// Whether an entry of `priority` overlaps `m` (some packet would match both); an entry
    /// with the identical match counts.
    pub fn has_overlap(&self, m: &Match, priority: u16) -> bool {
        self.subtables
            .iter()
            .filter(|s| s.best().priority() >= priority)
            .flat_map(Subtable::members)
            .filter(|mem| mem.rank.priority() == priority)
            .any(|mem| {
                self.slots[mem.index as usize]
                    .entry
                    .as_ref()
                    .is_some_and(|e| e.flow_match.overlaps(m))
            })
    }

    /// Adds an entry at `now` (OpenFlow's add). An entry with the identical match and
    /// priority is replaced and returned; the new entry takes a new sequence number and, if
    /// [`NewFlow::keep_counts`], the old entry's packet and byte counts.
    pub fn insert(
        &mut self,
        flow: NewFlow<A>,
        now: Duration,
    ) -> Result<Inserted<A>, ClassifierError> {
        if flow.flags.contains(FlowFlags::CHECK_OVERLAP)
            && self.has_overlap(&flow.flow_match, flow.priority)
        {
            return Err(ClassifierError::Overlap);
        }
        let existing = self.find_strict(&flow.flow_match, flow.priority);
        if existing.is_none() && self.len >= self.max_entries {
            return Err(ClassifierError::TableFull {
                max: self.max_entries,
            });
        }
        let replaced = existing.map(|h| self.remove_index(h.index));
        let mut counters = FlowCounters::new(now);
        if let (Some(old), true) = (&replaced, flow.keep_counts) {
            counters.packets = old.counters.packets;
            counters.bytes = old.counters.bytes;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = FlowEntry {
            flow_match: flow.flow_match,
            priority: flow.priority,
            seq,
            cookie: flow.cookie,
            idle_timeout: flow.idle_timeout,
            hard_timeout: flow.hard_timeout,
            flags: flow.flags,
            counters,
            actions: flow.actions,
        };
        let handle = self.insert_entry(entry);
        self.bump();
        Ok(Inserted { handle, replaced })
    }

    /// The tuple space search alone: the winning entry for `key`, without touching any
    /// counter. For a packet, use [`FlowTable::lookup`] or [`FlowTable::lookup_cached`].
    #[inline]
    pub fn classify(&self, key: &FlowKey) -> Option<FlowHandle> {
        self.search(key).map(|i| self.handle_at(i))
    }

    /// Looks up a packet of `bytes` bytes with flow key `key` at `now`: counts the lookup in
    /// the table's counters and the hit in the winning entry's, and returns that entry.
    #[inline]
    pub fn lookup(&mut self, key: &FlowKey, bytes: u64, now: Duration) -> Option<FlowHandle> {
        let found = self.search(key);
        self.counters.add_lookup(found.is_some());
        found.map(|i| self.hit_index(i, bytes, now))
    }

    /// [`FlowTable::lookup`] with `cache` in front: a key the cache has seen since the
    /// table's last change costs one cache probe; any other goes through the classifier and
    /// its answer is cached.
    #[inline]
    pub fn lookup_cached(
        &mut self,
        cache: &mut MicroflowCache,
        key: &FlowKey,
        bytes: u64,
        now: Duration,
    ) -> Option<FlowHandle> {
        let found = match cache.probe(self.id, self.generation, key) {
            Probe::Hit(answer) => answer.map(|h| {
                debug_assert!(self.get(h).is_some(), "cached handle outlived its entry");
                h.index
            }),
            Probe::Miss(hash) => {
                let found = self.search(key);
                cache.store(hash, self.generation, key, found.map(|i| self.handle_at(i)));
                found
            }
        };
        self.counters.add_lookup(found.is_some());
        found.map(|i| self.hit_index(i, bytes, now))
    }

    /// Counts a packet of `bytes` bytes on the entry behind `handle` at `now` (for callers
    /// that [`classify`](FlowTable::classify) first); returns whether the entry exists.
    pub fn record_hit(&mut self, handle: FlowHandle, bytes: u64, now: Duration) -> bool {
        match self.get_mut(handle) {
            Some(e) => {
                e.counters.add_packet(bytes, now);
                true
            }
            None => false,
        }
    }

    /// Removes the entry behind `handle`.
    pub fn remove(&mut self, handle: FlowHandle) -> Option<FlowEntry<A>> {
        self.get(handle)?;
        let e = self.remove_index(handle.index);
        self.bump();
        Some(e)
    }

    /// Removes the entry with exactly match `m` and `priority`, if `filter` accepts it
    /// (OpenFlow's strict delete; the filter carries the cookie and out-port conditions).
    pub fn delete_strict(
        &mut self,
        m: &Match,
        priority: u16,
        filter: impl FnOnce(&FlowEntry<A>) -> bool,
    ) -> Option<FlowEntry<A>> {
        let h = self.find_strict(m, priority)?;
        if !filter(self.get(h)?) {
            return None;
        }
        self.remove(h)
    }

    /// Removes every entry whose match is at least as specific as `m` and that `filter`
    /// accepts, whatever its priority (OpenFlow's non-strict delete). Returns them in rank
    /// order (highest priority first, then insertion order).
    pub fn delete(
        &mut self,
        m: &Match,
        mut filter: impl FnMut(&FlowEntry<A>) -> bool,
    ) -> Vec<FlowEntry<A>> {
        let chosen = self.select_indices(m, |e| filter(e));
        let removed: Vec<_> = chosen.into_iter().map(|i| self.remove_index(i)).collect();
        if !removed.is_empty() {
            self.bump();
        }
        removed
    }

    /// Applies `update` to the entry with exactly match `m` and `priority`, if `filter`
    /// accepts it (OpenFlow's strict modify). Returns whether an entry was modified.
    pub fn modify_strict(
        &mut self,
        m: &Match,
        priority: u16,
        filter: impl FnOnce(&FlowEntry<A>) -> bool,
        update: impl FnOnce(&mut FlowEntry<A>),
    ) -> bool {
        let Some(h) = self.find_strict(m, priority) else {
            return false;
        };
        let Some(e) = self.get_mut(h) else {
            return false;
        };
        if !filter(e) {
            return false;
        }
        update(e);
        self.bump();
        true
    }

    /// Applies `update` to every entry whose match is at least as specific as `m` and that
    /// `filter` accepts (OpenFlow's non-strict modify), in rank order. Returns how many
    /// entries were modified. (OpenFlow 1.0 then adds the flow when none was; that is the
    /// caller's decision.)
    pub fn modify(
        &mut self,
        m: &Match,
        mut filter: impl FnMut(&FlowEntry<A>) -> bool,
        mut update: impl FnMut(&mut FlowEntry<A>),
    ) -> usize {
        let chosen = self.select_indices(m, |e| filter(e));
        for &i in &chosen {
            if let Some(e) = self.slots[i as usize].entry.as_mut() {
                update(e);
            }
        }
        if !chosen.is_empty() {
            self.bump();
        }
        chosen.len()
    }

    /// Removes the entries whose idle or hard timeout has run out at `now`, with the reason
    /// (the hard timeout is checked first).
    pub fn expire(&mut self, now: Duration) -> Vec<(FlowEntry<A>, RemovalReason)> {
        let mut expired: Vec<(u32, RemovalReason)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i as u32, s.entry.as_ref()?.expiry(now)?)))
            .collect();
        expired.sort_by_key(|&(i, _)| self.rank_at(i));
        let removed: Vec<_> = expired
            .into_iter()
            .map(|(i, why)| (self.remove_index(i), why))
            .collect();
        if !removed.is_empty() {
            self.bump();
        }
        removed
    }

    // ---- internals ----

    /// Marks a change: every cached answer becomes stale.
    #[inline]
    fn bump(&mut self) {
        self.generation += 1;
    }

    /// The handle of the live entry in slot `index`.
    #[inline]
    fn handle_at(&self, index: u32) -> FlowHandle {
        FlowHandle {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    /// The rank of the live entry in slot `index`.
    fn rank_at(&self, index: u32) -> Option<Rank> {
        self.slots[index as usize]
            .entry
            .as_ref()
            .map(FlowEntry::rank)
    }

    /// Counts a hit on the live entry in slot `index`; returns its handle.
    #[inline]
    fn hit_index(&mut self, index: u32, bytes: u64, now: Duration) -> FlowHandle {
        let slot = &mut self.slots[index as usize];
        if let Some(e) = slot.entry.as_mut() {
            e.counters.add_packet(bytes, now);
        }
        FlowHandle {
            index,
            generation: slot.generation,
        }
    }

    /// The tuple space search: the slot of the best matching entry.
    #[inline]
    fn search(&self, key: &FlowKey) -> Option<u32> {
        let mut best: Option<Member> = None;
        for sub in &self.subtables {
            if let Some(b) = best {
                if sub.best() > b.rank {
                    // Sorted by best rank: no later subtable can do better either.
                    break;
                }
            }
            if let Some(m) = sub.find(key) {
                match best {
                    Some(b) if b.rank < m.rank => {}
                    _ => best = Some(m),
                }
            }
        }
        best.map(|m| m.index)
    }

    /// Position of the subtable with exactly `mask`.
    fn subtable_of(&self, mask: &FlowKey) -> Option<usize> {
        self.subtables
            .iter()
            .position(|s| s.mask().words() == mask.words())
    }

    /// Slots of the entries at least as specific as `m` that `filter` accepts, in rank order.
    fn select_indices(&self, m: &Match, mut filter: impl FnMut(&FlowEntry<A>) -> bool) -> Vec<u32> {
        let mut chosen: Vec<(Rank, u32)> = self
            .select(m)
            .filter(|(_, e)| filter(e))
            .map(|(h, e)| (e.rank(), h.index))
            .collect();
        chosen.sort_unstable();
        chosen.into_iter().map(|(_, i)| i).collect()
    }

    /// Puts `entry` into a free slot and its subtable.
    fn insert_entry(&mut self, entry: FlowEntry<A>) -> FlowHandle {
        let rank = entry.rank();
        let mask = *entry.flow_match.mask();
        let key = *entry.flow_match.key();
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize].entry = Some(entry);
                i
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    entry: Some(entry),
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.len += 1;
        let member = Member { rank, index };
        match self.subtable_of(&mask) {
            Some(p) => self.subtables[p].insert(&key, member),
            None => self
                .subtables
                .push(Subtable::new(&mask, self.seed, &key, member)),
        }
        self.resort();
        self.handle_at(index)
    }

    /// Takes the live entry in slot `index` out of its subtable and the slab. Does not bump
    /// the generation (callers do, once per request).
    fn remove_index(&mut self, index: u32) -> FlowEntry<A> {
        let slot = &mut self.slots[index as usize];
        let entry = slot
            .entry
            .take()
            .expect("remove_index called on an empty slot");
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        let member = Member {
            rank: entry.rank(),
            index,
        };
        if let Some(p) = self.subtable_of(entry.flow_match.mask()) {
            if self.subtables[p].remove(entry.flow_match.key(), member) {
                self.subtables.remove(p);
            }
        }
        self.resort();
        entry
    }

    /// Restores the subtable order (best rank first); ranks are unique, so the order is too.
    fn resort(&mut self) {
        self.subtables.sort_unstable_by_key(Subtable::best);
    }
}

/// Whether `outer` has every bit of `inner` set: a subtable with mask `outer` can hold
/// entries at least as specific as a match with mask `inner`.
fn covers(outer: &FlowKey, inner: &FlowKey) -> bool {
    outer
        .words()
        .iter()
        .zip(inner.words())
        .all(|(o, i)| i & !o == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Duration = Duration::ZERO;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn tcp(port: u32, dst: u32, dport: u16) -> FlowKey {
        FlowKey {
            in_port: port,
            eth_type: 0x0800,
            ip_proto: 6,
            ipv4_src: 0x0a00_0001,
            ipv4_dst: dst,
            tp_src: 33000,
            tp_dst: dport,
            ..FlowKey::default()
        }
    }

    fn add(t: &mut FlowTable<&'static str>, m: Match, prio: u16, name: &'static str) -> FlowHandle {
        t.insert(NewFlow::new(m, prio, name), T0).unwrap().handle
    }

    fn winner(t: &FlowTable<&'static str>, k: &FlowKey) -> Option<&'static str> {
        t.classify(k).and_then(|h| t.actions(h).copied())
    }

    #[test]
    fn empty_table_misses() {
        let mut t: FlowTable<()> = FlowTable::new();
        assert!(t.is_empty());
        assert_eq!(t.lookup(&tcp(1, 2, 3), 60, T0), None);
        assert_eq!(t.counters().lookups, 1);
        assert_eq!(t.counters().matches, 0);
    }

    #[test]
    fn highest_priority_wins() {
        let mut t = FlowTable::with_seed(1);
        add(&mut t, Match::catchall(), 0, "default");
        add(&mut t, Match::catchall().eth_type(0x0800), 10, "ip");
        add(
            &mut t,
            Match::catchall().eth_type(0x0800).tp_dst(80),
            20,
            "web",
        );
        add(&mut t, Match::catchall().in_port(9), 30, "port9");
        assert_eq!(t.subtable_count(), 4);
        assert_eq!(winner(&t, &tcp(1, 5, 80)), Some("web"));
        assert_eq!(winner(&t, &tcp(1, 5, 22)), Some("ip"));
        assert_eq!(winner(&t, &tcp(9, 5, 80)), Some("port9"));
        assert_eq!(winner(&t, &FlowKey::default()), Some("default"));
    }

    #[test]
    fn ties_go_to_the_earliest_insert() {
        let mut t = FlowTable::with_seed(1);
        add(&mut t, Match::catchall().tp_dst(80), 5, "first");
        add(&mut t, Match::catchall().in_port(1), 5, "second");
        add(&mut t, Match::catchall().eth_type(0x0800), 5, "third");
        assert_eq!(winner(&t, &tcp(1, 0, 80)), Some("first"));
        assert_eq!(winner(&t, &tcp(1, 0, 81)), Some("second"));
        assert_eq!(winner(&t, &tcp(2, 0, 81)), Some("third"));
        // Re-adding "first" makes it a new entry, now the latest.
        add(&mut t, Match::catchall().tp_dst(80), 5, "first again");
        assert_eq!(winner(&t, &tcp(1, 0, 80)), Some("second"));
        assert_eq!(winner(&t, &tcp(2, 0, 80)), Some("third"));
        assert_eq!(winner(&t, &tcp(2, 1, 80)), Some("third"));
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn same_masked_key_different_priorities() {
        let mut t = FlowTable::with_seed(1);
        let m = Match::catchall().in_port(1);
        add(&mut t, m, 1, "low");
        add(&mut t, m, 3, "high");
        add(&mut t, m, 2, "mid");
        assert_eq!(t.subtable_count(), 1);
        assert_eq!(winner(&t, &tcp(1, 0, 0)), Some("high"));
        t.delete_strict(&m, 3, |_| true).unwrap();
        assert_eq!(winner(&t, &tcp(1, 0, 0)), Some("mid"));
        assert!(t.delete_strict(&m, 3, |_| true).is_none());
        assert_eq!(
            t.delete_strict(&m, 1, |_| true).map(|e| e.actions),
            Some("low")
        );
        assert_eq!(winner(&t, &tcp(1, 0, 0)), Some("mid"));
    }

    #[test]
    fn add_replaces_identical_and_resets_counts_unless_kept() {
        let mut t = FlowTable::with_seed(1);
        let m = Match::catchall().in_port(1);
        t.insert(NewFlow::new(m, 7, "a"), secs(1)).unwrap();
        t.lookup(&tcp(1, 0, 0), 100, secs(2)).unwrap();
        t.lookup(&tcp(1, 0, 0), 100, secs(3)).unwrap();
        let r = t.insert(NewFlow::new(m, 7, "b"), secs(4)).unwrap();
        let old = r.replaced.unwrap();
        assert_eq!((old.actions, old.counters().packets), ("a", 2));
        let e = t.get(r.handle).unwrap();
        assert_eq!(
            (e.actions, e.counters().packets, e.counters().created),
            ("b", 0, secs(4))
        );
        t.lookup(&tcp(1, 0, 0), 50, secs(5)).unwrap();
        let r = t
            .insert(NewFlow::new(m, 7, "c").keeping_counts(), secs(6))
            .unwrap();
        let e = t.get(r.handle).unwrap();
        assert_eq!((e.counters().packets, e.counters().bytes), (1, 50));
        assert_eq!(e.duration(secs(9)), secs(3));
        assert_eq!(t.len(), 1);
        // The old handles no longer resolve.
        assert!(t
            .get(FlowHandle {
                index: r.handle.index,
                generation: r.handle.generation.wrapping_sub(1)
            })
            .is_none());
    }

    #[test]
    fn check_overlap() {
        let mut t = FlowTable::with_seed(1);
        add(&mut t, Match::catchall().in_port(1), 5, "a");
        let f = |m: Match, p| NewFlow::new(m, p, "x").with_flags(FlowFlags::CHECK_OVERLAP);
        assert_eq!(
            t.insert(f(Match::catchall().tp_dst(80), 5), T0)
                .unwrap_err(),
            ClassifierError::Overlap
        );
        assert_eq!(
            t.insert(f(Match::catchall().in_port(1), 5), T0)
                .unwrap_err(),
            ClassifierError::Overlap
        );
        // Other priority, or disjoint: accepted.
        t.insert(f(Match::catchall().tp_dst(80), 6), T0).unwrap();
        t.insert(f(Match::catchall().in_port(2), 5), T0).unwrap();
        assert!(t.has_overlap(&Match::catchall(), 5));
        assert!(!t.has_overlap(&Match::catchall(), 4));
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn table_full() {
        let mut t = FlowTable::with_seed(1).with_max_entries(2);
        add(&mut t, Match::catchall().in_port(1), 1, "a");
        add(&mut t, Match::catchall().in_port(2), 1, "b");
        let err = t
            .insert(NewFlow::new(Match::catchall().in_port(3), 1, "c"), T0)
            .unwrap_err();
        assert_eq!(err, ClassifierError::TableFull { max: 2 });
        assert_eq!(err.to_string(), "flow table full (2 entries)");
        // Replacing an existing entry needs no room.
        add(&mut t, Match::catchall().in_port(2), 1, "b2");
        assert_eq!(t.len(), 2);
        assert_eq!(t.max_entries(), 2);
    }

    #[test]
    fn non_strict_delete_takes_more_specific_entries_of_any_priority() {
        let mut t = FlowTable::with_seed(1);
        let ip = Match::catchall().eth_type(0x0800);
        add(&mut t, ip, 1, "ip");
        add(&mut t, ip.tp_dst(80), 9, "web");
        add(&mut t, ip.ipv4_dst_prefix(0x0a00_0000, 8), 4, "ten");
        add(&mut t, Match::catchall().in_port(1), 9, "port");
        add(&mut t, Match::catchall(), 0, "all");
        let gone: Vec<_> = t
            .delete(&ip, |_| true)
            .into_iter()
            .map(|e| e.actions)
            .collect();
        assert_eq!(gone, ["web", "ten", "ip"]);
        assert_eq!(t.len(), 2);
        assert_eq!(winner(&t, &tcp(2, 0x0a00_0001, 80)), Some("all"));
        // A filter (say, on the cookie) narrows the selection.
        let gone = t.delete(&Match::catchall(), |e| e.actions == "port");
        assert_eq!(gone.len(), 1);
        let gone = t.delete(&Match::catchall(), |_| true);
        assert_eq!(gone.len(), 1);
        assert!(t.is_empty());
        assert_eq!(t.subtable_count(), 0);
    }

    #[test]
    fn strict_delete_needs_the_exact_match() {
        let mut t = FlowTable::with_seed(1);
        add(&mut t, Match::catchall().in_port(1).tp_dst(80), 5, "a");
        assert!(t
            .delete_strict(&Match::catchall().in_port(1), 5, |_| true)
            .is_none());
        assert!(t
            .delete_strict(&Match::catchall().in_port(1).tp_dst(80), 4, |_| true)
            .is_none());
        assert!(t
            .delete_strict(&Match::catchall().in_port(1).tp_dst(80), 5, |_| false)
            .is_none());
        assert!(t
            .delete_strict(&Match::catchall().in_port(1).tp_dst(80), 5, |_| true)
            .is_some());
        assert!(t.is_empty());
    }

    #[test]
    fn modify_keeps_rank_and_handle() {
        let mut t = FlowTable::with_seed(1);
        let h = add(&mut t, Match::catchall().in_port(1), 5, "a");
        add(&mut t, Match::catchall().tp_dst(80), 5, "b");
        let g = t.generation();
        assert!(t.modify_strict(
            &Match::catchall().in_port(1),
            5,
            |_| true,
            |e| {
                e.set_actions("a2");
            }
        ));
        assert!(t.generation() > g);
        assert_eq!(t.actions(h), Some(&"a2"));
        assert_eq!(winner(&t, &tcp(1, 0, 80)), Some("a2"));
        assert!(!t.modify_strict(&Match::catchall().in_port(1), 6, |_| true, |_| {}));
        let n = t.modify(
            &Match::catchall(),
            |e| e.priority() == 5,
            |e| {
                e.set_cookie(0xc0);
            },
        );
        assert_eq!(n, 2);
        assert!(t.iter().all(|(_, e)| e.cookie() == 0xc0));
        assert_eq!(t.modify(&Match::catchall().in_port(3), |_| true, |_| {}), 0);
    }

    #[test]
    fn select_and_find_strict() {
        let mut t = FlowTable::with_seed(1);
        let a = add(&mut t, Match::catchall().in_port(1), 5, "a");
        add(&mut t, Match::catchall().in_port(1).tp_dst(80), 6, "b");
        add(&mut t, Match::catchall().in_port(2), 5, "c");
        assert_eq!(t.find_strict(&Match::catchall().in_port(1), 5), Some(a));
        assert_eq!(t.find_strict(&Match::catchall().in_port(1), 6), None);
        let m = Match::catchall().in_port(1);
        let mut names: Vec<_> = t.select(&m).map(|(_, e)| e.actions).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(t.select(&Match::catchall()).count(), 3);
        assert_eq!(t.iter().count(), 3);
    }

    #[test]
    fn handles_go_stale_after_removal() {
        let mut t = FlowTable::with_seed(1);
        let h = add(&mut t, Match::catchall().in_port(1), 5, "a");
        assert_eq!(t.remove(h).map(|e| e.actions), Some("a"));
        assert!(t.get(h).is_none());
        assert!(t.remove(h).is_none());
        assert!(!t.record_hit(h, 1, T0));
        // The slot is reused under a new generation.
        let h2 = add(&mut t, Match::catchall().in_port(2), 5, "b");
        assert_eq!(h2.index, h.index);
        assert_ne!(h2, h);
        assert!(t.get(h).is_none());
        assert!(t.record_hit(h2, 1, T0));
        assert_eq!(t.get(h2).unwrap().counters().packets, 1);
    }

    #[test]
    fn lookup_counts_table_and_flow() {
        let mut t = FlowTable::with_seed(1);
        let h = add(&mut t, Match::catchall().in_port(1), 5, "a");
        assert_eq!(t.lookup(&tcp(1, 0, 0), 100, secs(3)), Some(h));
        assert_eq!(t.lookup(&tcp(2, 0, 0), 100, secs(3)), None);
        assert_eq!(t.lookup(&tcp(1, 0, 0), 60, secs(4)), Some(h));
        let c = t.get(h).unwrap().counters();
        assert_eq!((c.packets, c.bytes, c.last_hit), (2, 160, secs(4)));
        assert_eq!(
            *t.counters(),
            TableCounters {
                lookups: 3,
                matches: 2
            }
        );
        // classify counts nothing.
        assert_eq!(t.classify(&tcp(1, 0, 0)), Some(h));
        assert_eq!(t.counters().lookups, 3);
    }

    #[test]
    fn microflow_cache_follows_table_changes() {
        let mut t = FlowTable::with_seed(1);
        let mut cache = MicroflowCache::with_seed(64, 2);
        let k = tcp(1, 0, 80);
        let low = add(&mut t, Match::catchall().in_port(1), 1, "low");
        assert_eq!(t.lookup_cached(&mut cache, &k, 10, T0), Some(low));
        assert_eq!(t.lookup_cached(&mut cache, &k, 10, T0), Some(low));
        assert_eq!(cache.counters().hits, 1);
        // A better entry: the cached answer must not survive.
        let high = add(&mut t, Match::catchall().tp_dst(80), 2, "high");
        assert_eq!(t.lookup_cached(&mut cache, &k, 10, T0), Some(high));
        // Deleting it: back to the low one.
        t.remove(high).unwrap();
        assert_eq!(t.lookup_cached(&mut cache, &k, 10, T0), Some(low));
        // A cached miss, then an entry that matches.
        let other = tcp(7, 0, 22);
        assert_eq!(t.lookup_cached(&mut cache, &other, 10, T0), None);
        assert_eq!(t.lookup_cached(&mut cache, &other, 10, T0), None);
        let seven = add(&mut t, Match::catchall().in_port(7), 1, "seven");
        assert_eq!(t.lookup_cached(&mut cache, &other, 10, T0), Some(seven));
        assert_eq!(t.get(low).unwrap().counters().packets, 3);
        assert_eq!(t.counters().lookups, 7);
        assert_eq!(t.counters().matches, 5);
        // The same cache used with another table does not leak answers.
        let mut u: FlowTable<&'static str> = FlowTable::with_seed(1);
        assert_eq!(u.generation(), 1);
        assert_eq!(u.lookup_cached(&mut cache, &k, 10, T0), None);
        assert_eq!(t.lookup_cached(&mut cache, &k, 10, T0), Some(low));
    }

    #[test]
    fn expire_idle_and_hard() {
        let mut t = FlowTable::with_seed(1);
        let idle = t
            .insert(
                NewFlow::new(Match::catchall().in_port(1), 1, "idle").with_idle_timeout(secs(10)),
                secs(100),
            )
            .unwrap()
            .handle;
        t.insert(
            NewFlow::new(Match::catchall().in_port(2), 1, "hard").with_hard_timeout(secs(30)),
            secs(100),
        )
        .unwrap();
        t.insert(
            NewFlow::new(Match::catchall().in_port(3), 1, "forever"),
            secs(100),
        )
        .unwrap();
        assert!(t.expire(secs(105)).is_empty());
        t.lookup(&tcp(1, 0, 0), 60, secs(108)).unwrap();
        t.lookup(&tcp(2, 0, 0), 60, secs(108)).unwrap();
        assert!(t.expire(secs(117)).is_empty());
        let g = t.generation();
        let out: Vec<_> = t
            .expire(secs(118))
            .into_iter()
            .map(|(e, r)| (e.actions, r))
            .collect();
        assert_eq!(out, [("idle", RemovalReason::IdleTimeout)]);
        assert!(t.generation() > g);
        assert!(t.get(idle).is_none());
        let out: Vec<_> = t
            .expire(secs(130))
            .into_iter()
            .map(|(e, r)| (e.actions, r))
            .collect();
        assert_eq!(out, [("hard", RemovalReason::HardTimeout)]);
        assert!(t.expire(secs(1_000_000)).is_empty());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn early_stop_skips_worse_subtables() {
        // Many subtables of low priority, one high: the search should find the high entry
        // and every answer must still be right.
        let mut t = FlowTable::with_seed(3);
        for p in 0..16u16 {
            add(&mut t, Match::catchall().tp_dst_masked(p, 1 << p), 1, "low");
        }
        add(&mut t, Match::catchall().in_port(1), 100, "high");
        assert_eq!(t.subtable_count(), 17);
        assert_eq!(winner(&t, &tcp(1, 0, 0)), Some("high"));
        assert_eq!(winner(&t, &tcp(2, 0, 0)), Some("low"));
        assert_eq!(t.subtables[0].best().priority(), 100);
    }

    #[test]
    fn subtables_stay_sorted() {
        let mut t = FlowTable::with_seed(5);
        let hs: Vec<_> = (0..40u16)
            .map(|i| {
                add(
                    &mut t,
                    Match::catchall().tp_src_masked(i, 1 << (i % 16)),
                    i % 7,
                    "x",
                )
            })
            .collect();
        for (n, h) in hs.into_iter().enumerate() {
            if n % 3 == 0 {
                t.remove(h).unwrap();
            }
            let bests: Vec<_> = t.subtables.iter().map(Subtable::best).collect();
            assert!(bests.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn table_is_send() {
        fn send<T: Send>() {}
        send::<FlowTable<Vec<u8>>>();
        send::<MicroflowCache>();
    }
}
