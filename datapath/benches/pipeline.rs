//! Pipeline cost per packet: a cached hit through one table against a cached hit through
//! three (goto 0 → 1 → 2, with a metadata write on the way), and the same three tables
//! without the cache. The cache skips every classifier lookup; what remains per table is
//! counting the hit and running the flow's instructions, so three tables should cost well
//! under three times one (target: at most 1.5×).
//!
//! Each table holds a few hundred flows over several masks, so an uncached lookup is a
//! real tuple space search. Packets cycle over 1,024 UDP frames that all hit.

use core::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use etherparse::PacketBuilder;
use flowlab_datapath::actions::Action;
use flowlab_datapath::classifier::Match;
use flowlab_datapath::pipeline::{
    FlowMod, Instructions, Pipeline, PipelineConfig, PipelineOutput, TableMiss,
};

/// Frames each benchmark cycles through (a power of two).
const WORKING_SET: usize = 1024;

fn mac(n: u32) -> [u8; 6] {
    let b = n.to_be_bytes();
    [2, 0, b[0], b[1], b[2], b[3]]
}

/// Frame `i`: from one of 8 MACs to one of 16, to 198.51.100.(i % 200), from port
/// 10000 + i.
fn frame(i: usize) -> (Vec<u8>, u32) {
    let i32 = i as u32;
    let mut v = Vec::new();
    PacketBuilder::ethernet2(mac(i32 % 8), mac(100 + i32 % 16))
        .ipv4([192, 0, 2, 1], [198, 51, 100, (i % 200) as u8], 64)
        .udp(10_000 + i as u16, 53)
        .write(&mut v, &[0u8; 64])
        .expect("frame");
    (v, 1 + i32 % 4)
}

fn add(p: &mut Pipeline, table: u8, m: Match, priority: u16, ins: Instructions) {
    p.flow_mod(&FlowMod::add(table, m, priority, ins), Duration::ZERO)
        .expect("flow_mod");
}

/// Filler flows that never match the frames, over a few masks, so the lookups search.
fn filler(p: &mut Pipeline, table: u8) {
    for n in 0..100u32 {
        let c = Match::catchall;
        add(
            p,
            table,
            c().eth_src(mac(5000 + n)),
            50,
            Instructions::new(),
        );
        add(
            p,
            table,
            c().eth_type(0x0800).ipv4_src(0x0a00_0000 | n),
            40,
            Instructions::new(),
        );
        add(
            p,
            table,
            c().eth_type(0x0800).ip_proto(6).tp_dst(n as u16),
            30,
            Instructions::new(),
        );
    }
}

/// One table: every frame hits an ipv4_dst flow that outputs.
fn one_table(cache: usize) -> Pipeline {
    let mut p = Pipeline::new(PipelineConfig {
        cache_capacity: cache,
        miss: TableMiss::Drop,
        ..PipelineConfig::with_tables(1)
    });
    filler(&mut p, 0);
    for d in 0..200u32 {
        add(
            &mut p,
            0,
            Match::catchall().eth_type(0x0800).ipv4_dst(0xc633_6400 | d),
            10,
            Instructions::apply(vec![Action::Output(d % 4 + 1)]),
        );
    }
    p
}

/// Three tables: in_port (write metadata, goto 1), eth_dst (goto 2), ipv4_dst (output).
fn three_tables(cache: usize) -> Pipeline {
    let mut p = Pipeline::new(PipelineConfig {
        cache_capacity: cache,
        miss: TableMiss::Drop,
        ..PipelineConfig::with_tables(3)
    });
    for t in 0..3 {
        filler(&mut p, t);
    }
    for port in 1..=4u32 {
        add(
            &mut p,
            0,
            Match::catchall().in_port(port),
            10,
            Instructions::new()
                .with_write_metadata(u64::from(port), 0xff)
                .with_goto_table(1),
        );
    }
    for d in 0..16u32 {
        add(
            &mut p,
            1,
            Match::catchall().eth_dst(mac(100 + d)),
            10,
            Instructions::new().with_goto_table(2),
        );
    }
    for d in 0..200u32 {
        add(
            &mut p,
            2,
            Match::catchall().eth_type(0x0800).ipv4_dst(0xc633_6400 | d),
            10,
            Instructions::apply(vec![Action::Output(d % 4 + 1)]),
        );
    }
    p
}

fn pipeline(c: &mut Criterion) {
    let frames: Vec<(Vec<u8>, u32)> = (0..WORKING_SET).map(frame).collect();
    let mut group = c.benchmark_group("pipeline");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    let now = Duration::from_secs(1);
    for (name, mut p) in [
        ("1_table_cached", one_table(4096)),
        ("3_tables_cached", three_tables(4096)),
        ("1_table_uncached", one_table(0)),
        ("3_tables_uncached", three_tables(0)),
    ] {
        let mut out = PipelineOutput::new();
        let mut bufs = frames.clone();
        // Every frame goes out once: the tables are right.
        for (f, port) in &mut bufs {
            p.process(f, *port, now, &mut out);
            assert_eq!(out.outputs().len(), 1, "{name}");
        }
        group.bench_function(name, |b| {
            let mut i = 0usize;
            b.iter(|| {
                let (f, port) = &mut bufs[i & (WORKING_SET - 1)];
                i = i.wrapping_add(1);
                p.process(black_box(f), *port, now, &mut out);
                black_box(out.outputs().len())
            });
        });
        let c = p.cache_counters();
        // (A benchmark filtered out leaves only the check run's misses.)
        if c.hits + c.misses > WORKING_SET as u64 {
            let rate = c.hits as f64 / (c.hits + c.misses) as f64;
            eprintln!("{name}: cache hit rate {:.2}%", 100.0 * rate);
            assert!(rate > 0.95, "the cache mostly missed: {c:?}");
        }
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
