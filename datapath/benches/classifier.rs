//! Classifier lookup cost: hits and misses at 1,000 and 10,000 rules over 20 distinct
//! masks, through the tuple space search alone and with the microflow cache in front.
//!
//! Rules draw their values from wide domains (random addresses, ports, MACs) and their
//! priorities uniformly from 0..1000, so every subtable's best priority is high and the
//! early stop rarely helps: a hit costs close to a probe per subtable, as a miss does.
//! Lookups cycle over 1,024 keys, a working set the default 4,096-entry cache holds.

use core::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flowlab_datapath::classifier::{FlowTable, Match, MicroflowCache, NewFlow};
use flowlab_datapath::key::FlowKey;

/// Keys each benchmark cycles through (a power of two).
const WORKING_SET: usize = 1024;

/// A small deterministic generator (xorshift64*), so every run builds the same tables.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn mac(&mut self) -> [u8; 6] {
        let b = self.next().to_be_bytes();
        [b[0] & 0xfe, b[1], b[2], b[3], b[4], b[5]]
    }
}

/// A random IPv4 TCP or UDP key.
fn random_key(rng: &mut Rng) -> FlowKey {
    FlowKey {
        in_port: (rng.next() % 64) as u32 + 1,
        eth_src: rng.mac(),
        eth_dst: rng.mac(),
        eth_type: 0x0800,
        vlan_vid: if rng.next() & 1 == 0 {
            0
        } else {
            0x1000 | (rng.next() % 8) as u16
        },
        ip_proto: if rng.next() & 1 == 0 { 6 } else { 17 },
        ipv4_src: rng.next() as u32,
        ipv4_dst: rng.next() as u32,
        ip_ttl: 64,
        tp_src: rng.next() as u16,
        tp_dst: rng.next() as u16,
        ..FlowKey::default()
    }
}

/// Twenty masks, each with enough entropy to hold hundreds of distinct rules.
fn masks() -> Vec<FlowKey> {
    let c = Match::catchall;
    let mac = [0xff; 6];
    [
        c().eth_dst(mac),
        c().eth_src(mac),
        c().in_port(0).eth_dst(mac),
        c().eth_dst(mac).vlan_vid(0),
        c().ipv4_dst(0),
        c().ipv4_dst_prefix(0, 24),
        c().ipv4_dst_prefix(0, 16),
        c().ipv4_src(0),
        c().ipv4_src_prefix(0, 24),
        c().ipv4_src_prefix(0, 16).ipv4_dst_prefix(0, 16),
        c().ip_proto(0).tp_dst(0),
        c().ip_proto(0).tp_src(0),
        c().ipv4_dst(0).tp_dst(0),
        c().ipv4_src(0).tp_src(0),
        c().ipv4_src(0).ipv4_dst(0).ip_proto(0).tp_src(0).tp_dst(0),
        c().in_port(0).ipv4_src_prefix(0, 24),
        c().eth_src(mac).ipv4_src(0),
        c().tp_src(0).tp_dst(0),
        c().eth_type(0).ipv4_dst_prefix(0, 20),
        c().in_port(0).eth_src(mac).vlan_vid(0),
    ]
    .iter()
    .map(|m| *m.mask())
    .collect()
}

/// A table of `n` rules, keys that hit them and keys that miss everything.
fn setup(n: usize) -> (FlowTable<u32>, Vec<FlowKey>, Vec<FlowKey>) {
    let mut rng = Rng(0x5eed_f10b_1ab0_0001);
    let pool = masks();
    let mut table = FlowTable::with_seed(rng.next());
    let mut rules = Vec::with_capacity(n);
    while table.len() < n {
        let i = table.len();
        let m = Match::new(random_key(&mut rng), pool[i % pool.len()]);
        let priority = (rng.next() % 1000) as u16;
        table
            .insert(NewFlow::new(m, priority, i as u32), Duration::ZERO)
            .expect("insert");
        rules.push(m);
    }
    assert_eq!(table.subtable_count(), pool.len());
    // Hits: a rule's value with random bits wherever its mask does not care.
    let hits: Vec<FlowKey> = (0..WORKING_SET)
        .map(|_| {
            let m = rules[(rng.next() % rules.len() as u64) as usize];
            let mut k = random_key(&mut rng);
            for ((w, v), mw) in k
                .words_mut()
                .iter_mut()
                .zip(m.key().words())
                .zip(m.mask().words())
            {
                *w = (*w & !mw) | v;
            }
            k
        })
        .collect();
    // Misses: random keys that no rule matches.
    let mut misses = Vec::with_capacity(WORKING_SET);
    while misses.len() < WORKING_SET {
        let k = random_key(&mut rng);
        if !rules.iter().any(|m| m.matches(&k)) {
            misses.push(k);
        }
    }
    assert!(hits.iter().all(|k| table.classify(k).is_some()));
    assert!(misses.iter().all(|k| table.classify(k).is_none()));
    (table, hits, misses)
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("classifier_lookup");
    group.throughput(Throughput::Elements(1));
    let now = Duration::from_secs(1);
    for n in [1_000usize, 10_000] {
        let (mut table, hits, misses) = setup(n);
        for (what, keys) in [("hit", &hits), ("miss", &misses)] {
            group.bench_with_input(
                BenchmarkId::new(format!("{what}/tss"), n),
                keys,
                |b, keys| {
                    let mut i = 0usize;
                    b.iter(|| {
                        let k = &keys[i & (WORKING_SET - 1)];
                        i = i.wrapping_add(1);
                        black_box(table.lookup(black_box(k), 64, now))
                    });
                },
            );
            let mut cache = MicroflowCache::with_seed(4096, 0xcace);
            group.bench_with_input(
                BenchmarkId::new(format!("{what}/microflow"), n),
                keys,
                |b, keys| {
                    let mut i = 0usize;
                    b.iter(|| {
                        let k = &keys[i & (WORKING_SET - 1)];
                        i = i.wrapping_add(1);
                        black_box(table.lookup_cached(&mut cache, black_box(k), 64, now))
                    });
                },
            );
            let c = cache.counters();
            let rate = c.hits as f64 / (c.hits + c.misses) as f64;
            eprintln!(
                "microflow cache, {what} keys, {n} rules: hit rate {:.2}%",
                100.0 * rate
            );
            assert!(rate > 0.8, "the cache mostly missed: {c:?}");
        }
    }
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
