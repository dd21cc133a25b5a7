//! The classifier against a trivial linear-scan oracle, on random rules, keys and requests.
//!
//! Masks come from a pool of about twenty shapes over a handful of fields, and values from
//! small domains, so that rules overlap, tie, replace each other and actually match keys.
//! Two tables run the same requests: one looked up directly, one through a small microflow
//! cache (small, so sets fill and evict). After every request both must agree with the
//! oracle: on the winning entry, on what a delete removed, on counters and on expiry.

use core::cmp::Reverse;
use core::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::counters::FlowCounters;

/// The payload: a unique id per add, or per modify.
type Id = u32;

const PORTS: [u32; 3] = [1, 2, 3];
const ETH_TYPES: [u16; 2] = [0x0800, 0x86dd];
const PROTOS: [u8; 2] = [6, 17];
const IP_SRCS: [u32; 4] = [0x0a00_0001, 0x0a00_0002, 0x0a00_0101, 0x0b00_0001];
const IP_DSTS: [u32; 3] = [0x0a00_0001, 0x0a00_0009, 0xc000_0201];
const TP_SRCS: [u16; 2] = [1000, 2000];
const TP_DSTS: [u16; 3] = [22, 80, 443];
const MACS: [[u8; 6]; 2] = [[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]];
const VIDS: [u16; 2] = [0, 0x1001];
const TTLS: [u8; 2] = [1, 64];

/// The mask pool: 21 shapes.
fn masks() -> Vec<FlowKey> {
    let c = Match::catchall;
    [
        c(),
        c().in_port(0),
        c().eth_type(0),
        c().in_port(0).eth_type(0),
        c().eth_type(0).ip_proto(0),
        c().eth_type(0).ip_proto(0).tp_dst(0),
        c().ip_proto(0).tp_src(0),
        c().ipv4_src_prefix(0, 8),
        c().ipv4_src_prefix(0, 16),
        c().ipv4_src_prefix(0, 24),
        c().ipv4_src_prefix(0, 32),
        c().ipv4_dst_prefix(0, 24),
        c().ipv4_dst_prefix(0, 32).tp_dst(0),
        c().eth_dst(MACS[0]),
        c().eth_dst(MACS[0]).vlan_vid(0),
        c().in_port(0).eth_dst(MACS[0]),
        c().tp_dst(0),
        c().vlan_vid(0),
        c().ipv4_src_prefix(0, 16).ipv4_dst_prefix(0, 24),
        c().in_port(0).ip_proto(0).ipv4_src(0).tp_dst(0),
        c().tp_dst_masked(0, 0x00ff),
    ]
    .iter()
    .map(|m| *m.mask())
    .collect()
}

/// A key with every field from its small domain.
fn key() -> impl Strategy<Value = FlowKey> {
    (
        (
            0..PORTS.len(),
            0..ETH_TYPES.len(),
            0..PROTOS.len(),
            0..IP_SRCS.len(),
        ),
        (
            0..IP_DSTS.len(),
            0..TP_SRCS.len(),
            0..TP_DSTS.len(),
            0..MACS.len(),
        ),
        (0..VIDS.len(), 0..TTLS.len()),
    )
        .prop_map(|((p, e, pr, s), (d, ts, td, mac), (v, ttl))| FlowKey {
            in_port: PORTS[p],
            eth_type: ETH_TYPES[e],
            ip_proto: PROTOS[pr],
            ipv4_src: IP_SRCS[s],
            ipv4_dst: IP_DSTS[d],
            tp_src: TP_SRCS[ts],
            tp_dst: TP_DSTS[td],
            eth_dst: MACS[mac],
            vlan_vid: VIDS[v],
            ip_ttl: TTLS[ttl],
            ..FlowKey::default()
        })
}

/// A match: a mask from the pool over a key from the domains.
fn flow_match() -> impl Strategy<Value = Match> {
    let pool = masks();
    (0..pool.len(), key()).prop_map(move |(m, k)| Match::new(k, pool[m]))
}

#[derive(Clone, Debug)]
enum Op {
    Insert {
        m: Match,
        priority: u16,
        idle: u64,
        hard: u64,
        keep_counts: bool,
        check_overlap: bool,
    },
    DeleteStrict {
        m: Match,
        priority: u16,
    },
    /// Strict delete of the n-th live entry (modulo), so strict deletes do hit.
    DeleteExisting(usize),
    Delete(Match),
    ModifyStrict {
        m: Match,
        priority: u16,
    },
    Modify(Match),
    Lookup {
        key: FlowKey,
        bytes: u64,
        times: u8,
    },
    /// Look up again the n-th (modulo) key looked up so far, so that cached answers are
    /// asked for again after the table changed.
    Again {
        n: usize,
        bytes: u64,
    },
    /// Let time pass, then expire.
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (flow_match(), 0..4u16, prop_oneof![3 => Just(0u64), 1 => 1..20u64],
              prop_oneof![3 => Just(0u64), 1 => 1..40u64], any::<bool>(),
              prop::bool::weighted(0.15))
            .prop_map(|(m, priority, idle, hard, keep_counts, check_overlap)| Op::Insert {
                m, priority, idle, hard, keep_counts, check_overlap,
            }),
        1 => (flow_match(), 0..4u16).prop_map(|(m, priority)| Op::DeleteStrict { m, priority }),
        1 => any::<usize>().prop_map(Op::DeleteExisting),
        1 => flow_match().prop_map(Op::Delete),
        1 => (flow_match(), 0..4u16).prop_map(|(m, priority)| Op::ModifyStrict { m, priority }),
        1 => flow_match().prop_map(Op::Modify),
        12 => (key(), 40..1500u64, 1..4u8).prop_map(|(key, bytes, times)| Op::Lookup {
            key, bytes, times,
        }),
        6 => (any::<usize>(), 40..1500u64).prop_map(|(n, bytes)| Op::Again { n, bytes }),
        1 => (1..8u64).prop_map(Op::Tick),
    ]
}

/// One entry of the oracle.
#[derive(Clone, Debug)]
struct Rule {
    m: Match,
    priority: u16,
    seq: u64,
    id: Id,
    idle: Duration,
    hard: Duration,
    counters: FlowCounters,
}

impl Rule {
    fn rank(&self) -> (Reverse<u16>, u64) {
        (Reverse(self.priority), self.seq)
    }
}

/// The linear classifier: every rule in a vector, every lookup a scan.
#[derive(Default, Debug)]
struct Oracle {
    rules: Vec<Rule>,
    next_seq: u64,
}

impl Oracle {
    /// The winner: highest priority, then lowest sequence number.
    fn lookup(&self, key: &FlowKey) -> Option<usize> {
        (0..self.rules.len())
            .filter(|&i| self.rules[i].m.matches(key))
            .min_by_key(|&i| self.rules[i].rank())
    }

    fn strict(&self, m: &Match, priority: u16) -> Option<usize> {
        self.rules
            .iter()
            .position(|r| r.m == *m && r.priority == priority)
    }

    /// Removes the rules `pick` chooses; returns their ids in rank order.
    fn remove_where(&mut self, mut pick: impl FnMut(&Rule) -> bool) -> Vec<Id> {
        let mut gone: Vec<Rule> = Vec::new();
        self.rules.retain(|r| {
            if pick(r) {
                gone.push(r.clone());
                false
            } else {
                true
            }
        });
        gone.sort_by_key(Rule::rank);
        gone.into_iter().map(|r| r.id).collect()
    }
}

/// Two tables and the oracle, run in step.
struct Harness {
    plain: FlowTable<Id>,
    cached: FlowTable<Id>,
    cache: MicroflowCache,
    oracle: Oracle,
    now: Duration,
    next_id: Id,
    /// Keys looked up so far.
    seen: Vec<FlowKey>,
}

impl Harness {
    fn new(seed: u64) -> Self {
        Harness {
            plain: FlowTable::with_seed(seed),
            cached: FlowTable::with_seed(seed.rotate_left(17) ^ 0x55),
            cache: MicroflowCache::with_seed(16, seed ^ 0xaa),
            oracle: Oracle::default(),
            now: Duration::from_secs(1000),
            next_id: 0,
            seen: Vec::new(),
        }
    }

    fn id(&mut self) -> Id {
        self.next_id += 1;
        self.next_id
    }

    fn tables(&mut self) -> [&mut FlowTable<Id>; 2] {
        [&mut self.plain, &mut self.cached]
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now;
        match *op {
            Op::Insert {
                m,
                priority,
                idle,
                hard,
                keep_counts,
                check_overlap,
            } => {
                let id = self.id();
                let mut flow = NewFlow::new(m, priority, id)
                    .with_idle_timeout(Duration::from_secs(idle))
                    .with_hard_timeout(Duration::from_secs(hard));
                flow.keep_counts = keep_counts;
                if check_overlap {
                    flow.flags = FlowFlags::CHECK_OVERLAP;
                }
                // Oracle.
                let overlap = check_overlap
                    && self
                        .oracle
                        .rules
                        .iter()
                        .any(|r| r.priority == priority && r.m.overlaps(&m));
                let expect = if overlap {
                    Err(ClassifierError::Overlap)
                } else {
                    let old = self
                        .oracle
                        .strict(&m, priority)
                        .map(|i| self.oracle.rules.remove(i));
                    let mut counters = FlowCounters::new(now);
                    if let (Some(o), true) = (&old, keep_counts) {
                        counters.packets = o.counters.packets;
                        counters.bytes = o.counters.bytes;
                    }
                    self.oracle.rules.push(Rule {
                        m,
                        priority,
                        seq: self.oracle.next_seq,
                        id,
                        idle: flow.idle_timeout,
                        hard: flow.hard_timeout,
                        counters,
                    });
                    self.oracle.next_seq += 1;
                    Ok(old.map(|o| o.id))
                };
                for t in self.tables() {
                    let got = t
                        .insert(flow.clone(), now)
                        .map(|ins| ins.replaced.map(|e| *e.actions()));
                    prop_assert_eq!(got, expect);
                }
            }
            Op::DeleteStrict { m, priority } => self.delete_strict(&m, priority)?,
            Op::DeleteExisting(n) => {
                if !self.oracle.rules.is_empty() {
                    let r = &self.oracle.rules[n % self.oracle.rules.len()];
                    let (m, p) = (r.m, r.priority);
                    self.delete_strict(&m, p)?;
                }
            }
            Op::Delete(m) => {
                let expect = self.oracle.remove_where(|r| r.m.is_subset_of(&m));
                for t in self.tables() {
                    let got: Vec<Id> = t
                        .delete(&m, |_| true)
                        .iter()
                        .map(|e| *e.actions())
                        .collect();
                    prop_assert_eq!(&got, &expect);
                }
            }
            Op::ModifyStrict { m, priority } => {
                let id = self.id();
                let expect = match self.oracle.strict(&m, priority) {
                    Some(i) => {
                        self.oracle.rules[i].id = id;
                        true
                    }
                    None => false,
                };
                for t in self.tables() {
                    prop_assert_eq!(
                        t.modify_strict(
                            &m,
                            priority,
                            |_| true,
                            |e| {
                                e.set_actions(id);
                            }
                        ),
                        expect
                    );
                }
            }
            Op::Modify(m) => {
                let id = self.id();
                let mut expect = 0;
                for r in &mut self.oracle.rules {
                    if r.m.is_subset_of(&m) {
                        r.id = id;
                        expect += 1;
                    }
                }
                for t in self.tables() {
                    prop_assert_eq!(
                        t.modify(
                            &m,
                            |_| true,
                            |e| {
                                e.set_actions(id);
                            }
                        ),
                        expect
                    );
                }
            }
            Op::Again { n, bytes } => {
                if !self.seen.is_empty() {
                    let key = self.seen[n % self.seen.len()];
                    self.apply(&Op::Lookup {
                        key,
                        bytes,
                        times: 1,
                    })?;
                }
            }
            Op::Lookup { key, bytes, times } => {
                self.seen.push(key);
                for _ in 0..times {
                    let want = self.oracle.lookup(&key);
                    if let Some(i) = want {
                        self.oracle.rules[i].counters.add_packet(bytes, now);
                    }
                    let want = want.map(|i| self.oracle.rules[i].clone());
                    let want_id = want.as_ref().map(|r| r.id);
                    // The uncounted search first, on both tables.
                    for t in self.tables() {
                        let got = t.classify(&key).map(|h| *t.actions(h).unwrap());
                        prop_assert_eq!(got, want_id);
                    }
                    let h1 = self.plain.lookup(&key, bytes, now);
                    let h2 = self.cached.lookup_cached(&mut self.cache, &key, bytes, now);
                    for (t, h) in [(&self.plain, h1), (&self.cached, h2)] {
                        let got = h.map(|h| t.get(h).unwrap());
                        prop_assert_eq!(got.map(|e| *e.actions()), want_id);
                        if let (Some(e), Some(r)) = (got, &want) {
                            prop_assert_eq!(e.counters(), &r.counters);
                            prop_assert_eq!(e.priority(), r.priority);
                        }
                    }
                }
            }
            Op::Tick(secs) => {
                self.now += Duration::from_secs(secs);
                let now = self.now;
                let expect = self.oracle.remove_where(|r| {
                    (!r.hard.is_zero() && r.counters.duration(now) >= r.hard)
                        || (!r.idle.is_zero() && r.counters.idle_for(now) >= r.idle)
                });
                for t in self.tables() {
                    let got: Vec<Id> = t.expire(now).iter().map(|(e, _)| *e.actions()).collect();
                    prop_assert_eq!(&got, &expect);
                }
            }
        }
        self.check_contents()
    }

    fn delete_strict(&mut self, m: &Match, priority: u16) -> Result<(), TestCaseError> {
        let expect = self
            .oracle
            .strict(m, priority)
            .map(|i| self.oracle.rules.remove(i).id);
        for t in self.tables() {
            let got = t.delete_strict(m, priority, |_| true).map(|e| *e.actions());
            prop_assert_eq!(got, expect);
        }
        Ok(())
    }

    /// Both tables hold exactly the oracle's rules, with the same payloads and counters.
    fn check_contents(&mut self) -> Result<(), TestCaseError> {
        for t in [&self.plain, &self.cached] {
            prop_assert_eq!(t.len(), self.oracle.rules.len());
            for r in &self.oracle.rules {
                let h = t.find_strict(&r.m, r.priority);
                prop_assert!(h.is_some(), "missing rule {:?}", r);
                let e = t.get(h.unwrap()).unwrap();
                prop_assert_eq!(*e.actions(), r.id);
                prop_assert_eq!(e.counters(), &r.counters);
                prop_assert_eq!(e.sequence(), r.seq);
            }
            let masks: std::collections::HashSet<_> =
                self.oracle.rules.iter().map(|r| *r.m.mask()).collect();
            prop_assert_eq!(t.subtable_count(), masks.len());
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    /// Random request sequences: both tables agree with the oracle after every request.
    #[test]
    fn classifier_agrees_with_linear_scan(
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..250),
    ) {
        let mut h = Harness::new(seed);
        for op in &ops {
            h.apply(op)?;
        }
        // The table counters saw every lookup the oracle did.
        let c1 = *h.plain.counters();
        let c2 = *h.cached.counters();
        prop_assert_eq!(c1, c2);
    }

    /// Many rules at once, then many keys: the winner always equals the oracle's.
    #[test]
    fn bulk_lookups_agree(
        seed in any::<u64>(),
        rules in prop::collection::vec((flow_match(), 0..6u16), 0..300),
        keys in prop::collection::vec(key(), 1..300),
    ) {
        let mut t: FlowTable<Id> = FlowTable::with_seed(seed);
        let mut cache = MicroflowCache::with_seed(64, seed);
        let mut oracle = Oracle::default();
        for (n, (m, p)) in rules.into_iter().enumerate() {
            let id = n as Id;
            t.insert(NewFlow::new(m, p, id), Duration::ZERO).unwrap();
            if let Some(i) = oracle.strict(&m, p) {
                oracle.rules.remove(i);
            }
            oracle.rules.push(Rule {
                m, priority: p, seq: oracle.next_seq, id,
                idle: Duration::ZERO, hard: Duration::ZERO,
                counters: FlowCounters::new(Duration::ZERO),
            });
            oracle.next_seq += 1;
        }
        for k in &keys {
            let want = oracle.lookup(k).map(|i| oracle.rules[i].id);
            prop_assert_eq!(t.classify(k).map(|h| *t.actions(h).unwrap()), want);
            let got = t.lookup_cached(&mut cache, k, 64, Duration::ZERO);
            prop_assert_eq!(got.map(|h| *t.actions(h).unwrap()), want);
        }
    }
}

#[test]
fn mask_pool_is_distinct() {
    let pool = masks();
    let distinct: std::collections::HashSet<_> = pool.iter().collect();
    assert_eq!(distinct.len(), pool.len());
    assert!(pool.len() >= 20);
}
