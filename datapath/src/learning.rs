//! The MAC table of the learning switch.
//!
//! Source addresses come from untrusted guests, so the table is built to survive them:
//!
//! * **Keyed hashing.** The map uses std's `RandomState` (SipHash-1-3 with a per-process
//!   random key): a guest cannot pick addresses that collide into one bucket.
//! * **A size limit with eviction.** The table holds at most `limit` entries. When it is
//!   full, a new address evicts one entry chosen by a clock ("second chance") hand over the
//!   slot array: entries refreshed since the hand last passed get another round, the first
//!   one that was not is evicted. That is O(1) amortised per insert and approximates LRU,
//!   so a flood of random source addresses recycles its own entries instead of pushing out
//!   the addresses that keep talking.
//! * **Aging.** An entry not refreshed for `aging` is dead: lookups ignore it at once and
//!   [`MacTable::age`] (run every couple of seconds) frees it. The default, 100 s, is
//!   uml_switch's `GC_EXPIRE`.
//! * **Port removal purges.** [`MacTable::purge_port`] drops every address learned on a
//!   port (uml_switch dropped only the last one).
//!
//! Group addresses (multicast, broadcast) are never learned. Time is passed in as
//! milliseconds since any fixed origin; the table never reads a clock.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::HashMap;

/// uml_switch's `GC_EXPIRE`: 100 seconds.
pub const DEFAULT_AGING_MS: u64 = 100_000;
/// Default size limit.
pub const DEFAULT_LIMIT: usize = 8192;

/// A MAC address as 48 bits in a u64 (first byte most significant).
#[inline]
pub fn mac_to_u64(mac: &[u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]])
}

/// The six bytes of a MAC held in a u64.
#[inline]
pub fn u64_to_mac(v: u64) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// True for a group (multicast or broadcast) address.
#[inline]
pub fn is_group(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

/// What [`MacTable::learn`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learned {
    /// A new address (possibly evicting another).
    New,
    /// A known address seen on another port.
    Moved {
        /// The port it was on.
        from: u32,
    },
    /// A known address seen again on its port.
    Refreshed,
    /// A group address: not learned.
    Ignored,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    mac: u64,
    port: u32,
    last_seen_ms: u64,
    referenced: bool,
    used: bool,
}

/// One entry as listed by [`MacTable::entries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MacEntry {
    /// The address.
    pub mac: [u8; 6],
    /// The port it was learned on.
    pub port: u32,
    /// Milliseconds since it was last seen.
    pub age_ms: u64,
}

/// A bounded, aging MAC → port table.
#[derive(Debug)]
pub struct MacTable {
    map: HashMap<u64, u32, RandomState>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    hand: usize,
    limit: usize,
    aging_ms: u64,
    evictions: u64,
}

impl MacTable {
    /// A table of at most `limit` entries (at least 1) that forgets addresses after `aging_ms`.
    pub fn new(limit: usize, aging_ms: u64) -> Self {
        let limit = limit.max(1);
        MacTable {
            map: HashMap::with_capacity_and_hasher(limit.min(1 << 16), RandomState::new()),
            slots: Vec::new(),
            free: Vec::new(),
            hand: 0,
            limit,
            aging_ms,
            evictions: 0,
        }
    }

    /// Learns `mac` on `port` at `now_ms`.
    #[inline]
    pub fn learn(&mut self, mac: &[u8; 6], port: u32, now_ms: u64) -> Learned {
        if is_group(mac) {
            return Learned::Ignored;
        }
        let key = mac_to_u64(mac);
        if let Some(&i) = self.map.get(&key) {
            let s = &mut self.slots[i as usize];
            let alive = now_ms.saturating_sub(s.last_seen_ms) <= self.aging_ms;
            s.last_seen_ms = now_ms;
            s.referenced = true;
            if s.port == port {
                return if alive {
                    Learned::Refreshed
                } else {
                    Learned::New
                };
            }
            let from = s.port;
            s.port = port;
            return if alive {
                Learned::Moved { from }
            } else {
                Learned::New
            };
        }
        if self.map.len() >= self.limit {
            self.evict_one();
        }
        let slot = Slot {
            mac: key,
            port,
            last_seen_ms: now_ms,
            referenced: false,
            used: true,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        Learned::New
    }

    /// The port `mac` was learned on, unless unknown or aged out.
    #[inline]
    pub fn lookup(&self, mac: &[u8; 6], now_ms: u64) -> Option<u32> {
        let i = *self.map.get(&mac_to_u64(mac))?;
        let s = &self.slots[i as usize];
        (now_ms.saturating_sub(s.last_seen_ms) <= self.aging_ms).then_some(s.port)
    }

    /// Frees every entry older than the aging time; returns how many.
    pub fn age(&mut self, now_ms: u64) -> usize {
        let aging = self.aging_ms;
        self.remove_where(|s| now_ms.saturating_sub(s.last_seen_ms) > aging)
    }

    /// Forgets every address learned on `port`; returns how many.
    pub fn purge_port(&mut self, port: u32) -> usize {
        self.remove_where(|s| s.port == port)
    }

    /// Live entries, in no particular order.
    pub fn entries(&self, now_ms: u64) -> Vec<MacEntry> {
        self.slots
            .iter()
            .filter(|s| s.used && now_ms.saturating_sub(s.last_seen_ms) <= self.aging_ms)
            .map(|s| MacEntry {
                mac: u64_to_mac(s.mac),
                port: s.port,
                age_ms: now_ms.saturating_sub(s.last_seen_ms),
            })
            .collect()
    }

    /// Entries held (including aged ones not yet freed).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The size limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The aging time in milliseconds.
    pub fn aging_ms(&self) -> u64 {
        self.aging_ms
    }

    /// Entries evicted because the table was full.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    fn evict_one(&mut self) {
        let n = self.slots.len();
        if n == 0 {
            return;
        }
        // Two full turns always find a victim: the first clears every reference bit.
        for _ in 0..2 * n {
            let i = self.hand % n;
            self.hand = (i + 1) % n;
            let s = &mut self.slots[i];
            if !s.used {
                continue;
            }
            if s.referenced {
                s.referenced = false;
                continue;
            }
            s.used = false;
            let mac = s.mac;
            self.map.remove(&mac);
            self.free.push(i as u32);
            self.evictions += 1;
            return;
        }
    }

    fn remove_where(&mut self, mut dead: impl FnMut(&Slot) -> bool) -> usize {
        let mut removed = 0;
        for (i, s) in self.slots.iter_mut().enumerate() {
            if s.used && dead(s) {
                s.used = false;
                if let Entry::Occupied(e) = self.map.entry(s.mac) {
                    e.remove();
                }
                self.free.push(i as u32);
                removed += 1;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u32) -> [u8; 6] {
        let b = n.to_be_bytes();
        [0x02, 0, b[0], b[1], b[2], b[3]]
    }

    #[test]
    fn learns_moves_and_ignores_groups() {
        let mut t = MacTable::new(16, DEFAULT_AGING_MS);
        assert_eq!(t.learn(&mac(1), 1, 0), Learned::New);
        assert_eq!(t.learn(&mac(1), 1, 10), Learned::Refreshed);
        assert_eq!(t.learn(&mac(1), 2, 20), Learned::Moved { from: 1 });
        assert_eq!(t.lookup(&mac(1), 30), Some(2));
        assert_eq!(t.learn(&[0xff; 6], 1, 0), Learned::Ignored);
        assert_eq!(t.learn(&[0x01, 0, 0x5e, 0, 0, 1], 1, 0), Learned::Ignored);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn ages_out() {
        let mut t = MacTable::new(16, 100_000);
        t.learn(&mac(1), 1, 0);
        t.learn(&mac(2), 1, 50_000);
        assert_eq!(t.lookup(&mac(1), 100_000), Some(1));
        assert_eq!(t.lookup(&mac(1), 100_001), None, "dead at once for lookups");
        assert_eq!(t.age(100_001), 1);
        assert_eq!(t.len(), 1);
        assert_eq!(t.learn(&mac(1), 3, 100_002), Learned::New);
    }

    #[test]
    fn purge_port_removes_every_mac_of_the_port() {
        let mut t = MacTable::new(64, DEFAULT_AGING_MS);
        for i in 0..10 {
            t.learn(&mac(i), 1 + i % 2, 0);
        }
        assert_eq!(t.purge_port(1), 5);
        assert!(t.entries(0).iter().all(|e| e.port == 2));
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn limit_evicts_unreferenced_first() {
        let mut t = MacTable::new(4, DEFAULT_AGING_MS);
        for i in 0..4 {
            t.learn(&mac(i), 1, 0);
        }
        // mac(0) keeps talking: its reference bit protects it.
        t.learn(&mac(0), 1, 1);
        for i in 100..200 {
            t.learn(&mac(i), 2, 2);
            t.learn(&mac(0), 1, 2);
            assert!(t.len() <= 4);
        }
        assert_eq!(t.lookup(&mac(0), 3), Some(1));
        assert!(t.evictions() >= 96);
    }

    #[test]
    fn random_churn_stays_bounded_and_consistent() {
        let mut t = MacTable::new(32, 1000);
        let mut x = 12345u32;
        for step in 0..20_000u64 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let m = mac(x % 200);
            match x % 7 {
                0 => {
                    t.purge_port(x % 5);
                }
                1 => {
                    t.age(step);
                }
                _ => {
                    t.learn(&m, x % 5, step);
                }
            }
            assert!(t.len() <= 32);
            assert_eq!(t.len() + t.free.len(), t.slots.len());
        }
    }
}
