//! Behaviour tests of the whole pipeline, and the property test that holds the microflow
//! cache to an uncached pipeline.

use core::time::Duration;

use etherparse::{PacketBuilder, VlanId};
use proptest::prelude::*;

use super::*;
use crate::actions::{apply, OutputPort};
use crate::classifier::{FlowFlags, Match};
use crate::key::{FlowKey, VLAN_PRESENT};
use crate::wire::{EtherType, EthernetAddress};

const T0: Duration = Duration::ZERO;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn mac(n: u8) -> [u8; 6] {
    [2, 0, 0, 0, 0, n]
}

/// An Ethernet/IPv4/UDP frame.
fn udp(src: u8, dst: u8, vlan: Option<u16>, ip_dst: [u8; 4], dport: u16, ttl: u8) -> Vec<u8> {
    let mut v = Vec::new();
    let payload = [0x5a; 18];
    let base = PacketBuilder::ethernet2(mac(src), mac(dst));
    match vlan {
        Some(vid) => base
            .single_vlan(VlanId::try_new(vid).unwrap())
            .ipv4([192, 0, 2, src], ip_dst, ttl)
            .udp(40000, dport)
            .write(&mut v, &payload),
        None => base
            .ipv4([192, 0, 2, src], ip_dst, ttl)
            .udp(40000, dport)
            .write(&mut v, &payload),
    }
    .unwrap();
    v
}

/// A UDP frame with a DSCP.
fn udp_dscp(dscp: u8) -> Vec<u8> {
    let mut f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    let mut layout = crate::key::extract(&f, 1, &mut FlowKey::default());
    apply(
        &[Action::SetIpDscp(dscp)],
        &mut f,
        &mut layout,
        &mut crate::actions::OutputList::new(),
    )
    .unwrap();
    f
}

/// An Ethernet/ARP request.
fn arp(src: [u8; 6], spa: [u8; 4], tpa: [u8; 4]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&[0xff; 6]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&spa);
    v.extend_from_slice(&[0; 6]);
    v.extend_from_slice(&tpa);
    v
}

fn key_of(frame: &[u8]) -> FlowKey {
    FlowKey::from_frame(frame, 1).0
}

fn pipeline(n_tables: u8, miss: TableMiss) -> Pipeline {
    Pipeline::new(PipelineConfig {
        miss,
        ..PipelineConfig::with_tables(n_tables)
    })
}

fn add(p: &mut Pipeline, table: u8, m: Match, priority: u16, ins: Instructions) {
    p.flow_mod(&FlowMod::add(table, m, priority, ins), T0)
        .unwrap_or_else(|e| panic!("add to table {table}: {e}"));
}

/// What one packet produced, with bytes resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    frame: Vec<u8>,
    outputs: Vec<(OutputPort, Option<u32>, Vec<u8>)>,
    packet_ins: Vec<(PacketIn, Vec<u8>)>,
}

impl Seen {
    fn ports(&self) -> Vec<OutputPort> {
        self.outputs.iter().map(|o| o.0).collect()
    }
}

fn resolve(out: &PipelineOutput, frame: Vec<u8>) -> Seen {
    Seen {
        outputs: out
            .iter(&frame)
            .map(|(o, b)| (o.port, o.queue, b.to_vec()))
            .collect(),
        packet_ins: out
            .packet_ins()
            .iter()
            .map(|p| (*p, out.frame(p.frame, &frame).to_vec()))
            .collect(),
        frame,
    }
}

fn run_at(p: &mut Pipeline, frame: &[u8], in_port: u32, now: Duration) -> Seen {
    let mut f = frame.to_vec();
    let mut out = PipelineOutput::new();
    p.process(&mut f, in_port, now, &mut out);
    resolve(&out, f)
}

fn run(p: &mut Pipeline, frame: &[u8], in_port: u32) -> Seen {
    run_at(p, frame, in_port, T0)
}

fn flow_packets(p: &Pipeline, table: u8) -> Vec<(u16, u64)> {
    let req = FlowStatsRequest {
        table_id: table,
        ..FlowStatsRequest::default()
    };
    p.flow_stats(&req, T0)
        .unwrap()
        .iter()
        .map(|s| (s.priority, s.packet_count))
        .collect()
}

// ---- tables, instructions, action set ----

#[test]
fn multi_table_goto_with_metadata() {
    let mut p = pipeline(4, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall().in_port(1),
        10,
        Instructions::new()
            .with_write_metadata(0xab00, 0xff00)
            .with_goto_table(1),
    );
    add(
        &mut p,
        1,
        Match::catchall().metadata_masked(0xab00, 0xff00),
        10,
        Instructions::apply(vec![Action::SetEthDst(EthernetAddress(mac(9)))])
            .with_write_metadata(0x0001, 0x00ff)
            .with_goto_table(3),
    );
    // Table 3 sees the rewritten destination and both metadata writes.
    add(
        &mut p,
        3,
        Match::catchall().eth_dst(mac(9)).metadata(0xab01),
        10,
        Instructions::apply(vec![Action::Output(3)]),
    );
    add(
        &mut p,
        3,
        Match::catchall(),
        0,
        Instructions::apply(vec![Action::Output(4)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    let s = run(&mut p, &f, 1);
    assert_eq!(s.ports(), [OutputPort::Port(3)]);
    assert_eq!(key_of(&s.outputs[0].2).eth_dst, mac(9));
    assert_eq!(s.outputs[0].2, s.frame);
    // From another port: table 0 misses, dropped (OpenFlow 1.3).
    assert!(run(&mut p, &f, 2).outputs.is_empty());
    let stats = p.table_stats();
    assert_eq!(
        stats
            .iter()
            .map(|t| (t.lookup_count, t.matched_count))
            .collect::<Vec<_>>(),
        [(2, 1), (1, 1), (0, 0), (1, 1)]
    );
    assert_eq!(stats[3].active_count, 2);
}

#[test]
fn action_set_runs_in_spec_order_and_writes_replace() {
    let mut p = pipeline(2, TableMiss::Drop);
    // Written out of order: output first, then the VLAN push and VID set.
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::new()
            .with_write_actions(vec![
                Action::Output(2),
                Action::SetVlanVid(7),
                Action::PushVlan(EtherType::Vlan),
                Action::SetQueue(4),
            ])
            .with_goto_table(1),
    );
    // Table 1 replaces the output and the VID.
    add(
        &mut p,
        1,
        Match::catchall(),
        1,
        Instructions::new().with_write_actions(vec![Action::Output(3), Action::SetVlanVid(9)]),
    );
    let s = run(&mut p, &udp(1, 2, None, [198, 51, 100, 1], 53, 64), 1);
    assert_eq!(s.outputs.len(), 1, "{s:?}");
    let (port, queue, bytes) = &s.outputs[0];
    assert_eq!((*port, *queue), (OutputPort::Port(3), Some(4)));
    let (k, l) = FlowKey::from_frame(bytes, 1);
    assert_eq!((k.vlan_vid, l.vlan_tags), (9 | VLAN_PRESENT, 1));
}

#[test]
fn group_beats_output_in_action_set() {
    let mut p = pipeline(1, TableMiss::Drop);
    p.group_mod(
        &GroupMod {
            command: GroupModCommand::Add,
            group_type: GroupType::Indirect,
            group_id: 5,
            buckets: vec![Bucket::new(vec![Action::Output(8)])],
        },
        T0,
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::new().with_write_actions(vec![Action::Output(2), Action::Group(5)]),
    );
    let s = run(&mut p, &udp(1, 2, None, [198, 51, 100, 1], 53, 64), 1);
    assert_eq!(s.ports(), [OutputPort::Port(8)]);
}

#[test]
fn clear_actions_empties_the_set() {
    let mut p = pipeline(3, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::new()
            .with_write_actions(vec![Action::Output(2)])
            .with_goto_table(1),
    );
    add(
        &mut p,
        1,
        Match::catchall().in_port(1),
        1,
        Instructions::new().with_clear_actions().with_goto_table(2),
    );
    add(
        &mut p,
        1,
        Match::catchall(),
        0,
        Instructions::new().with_goto_table(2),
    );
    add(&mut p, 2, Match::catchall(), 0, Instructions::new());
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    assert!(run(&mut p, &f, 1).outputs.is_empty());
    assert_eq!(run(&mut p, &f, 2).ports(), [OutputPort::Port(2)]);
    // Clear then write in one flow: the write survives.
    add(
        &mut p,
        1,
        Match::catchall().in_port(3),
        1,
        Instructions::new()
            .with_clear_actions()
            .with_write_actions(vec![Action::Output(6)])
            .with_goto_table(2),
    );
    assert_eq!(run(&mut p, &f, 3).ports(), [OutputPort::Port(6)]);
}

#[test]
fn table_miss_modes() {
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    // OpenFlow 1.0: to the controller with miss_send_len.
    let mut p = pipeline(2, TableMiss::Controller);
    p.set_miss_send_len(200);
    let s = run(&mut p, &f, 7);
    assert!(s.outputs.is_empty());
    let (pin, bytes) = &s.packet_ins[0];
    assert_eq!(
        (
            pin.reason,
            pin.table_id,
            pin.cookie,
            pin.max_len,
            pin.in_port
        ),
        (PacketInReason::NoMatch, 0, u64::MAX, 200, 7)
    );
    assert_eq!(bytes, &f);
    // A miss in table 1: apply-actions of table 0 stand, the action set does not run.
    add(
        &mut p,
        0,
        Match::catchall(),
        5,
        Instructions::apply(vec![Action::Output(2)])
            .with_write_actions(vec![Action::Output(3)])
            .with_write_metadata(7, u64::MAX)
            .with_goto_table(1),
    );
    let s = run(&mut p, &f, 7);
    assert_eq!(s.ports(), [OutputPort::Port(2)]);
    assert_eq!(s.packet_ins.len(), 1);
    assert_eq!(
        (s.packet_ins[0].0.table_id, s.packet_ins[0].0.metadata),
        (1, 7)
    );
    // OpenFlow 1.3: dropped.
    p.set_table_miss(TableMiss::Drop);
    let s = run(&mut p, &f, 7);
    assert_eq!(s.ports(), [OutputPort::Port(2)]);
    assert!(s.packet_ins.is_empty());
    // A table-miss flow is an ordinary flow, reported as NoMatch; other flows as Action.
    add(
        &mut p,
        1,
        Match::catchall(),
        0,
        Instructions::apply(vec![Action::Controller { max_len: NO_BUFFER }]),
    );
    p.flow_mod(
        &FlowMod::add(
            1,
            Match::catchall().in_port(9),
            1,
            Instructions::apply(vec![Action::Controller { max_len: 64 }]),
        )
        .with_cookie(0x77, 0),
        T0,
    )
    .unwrap();
    let pin = run(&mut p, &f, 7).packet_ins[0].0;
    assert_eq!(
        (pin.reason, pin.table_id, pin.max_len),
        (PacketInReason::NoMatch, 1, NO_BUFFER)
    );
    let pin = run(&mut p, &f, 9).packet_ins[0].0;
    assert_eq!(
        (pin.reason, pin.cookie, pin.max_len),
        (PacketInReason::Action, 0x77, 64)
    );
}

#[test]
fn outputs_see_the_frame_of_their_time() {
    let mut p = pipeline(2, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![
            Action::Output(1),
            Action::Controller { max_len: 100 },
            Action::SetVlanVid(5),
            Action::Output(2),
        ])
        .with_goto_table(1),
    );
    add(
        &mut p,
        1,
        Match::catchall().vlan_vid(5 | VLAN_PRESENT),
        1,
        Instructions::apply(vec![Action::Output(3), Action::SetTpDst(99)])
            .with_write_actions(vec![Action::Output(4)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    let mut frame = f.clone();
    let mut out = PipelineOutput::new();
    p.process(&mut frame, 1, T0, &mut out);
    let s = resolve(&out, frame);
    let vids: Vec<_> = s.outputs.iter().map(|o| key_of(&o.2).vlan_vid).collect();
    let dports: Vec<_> = s.outputs.iter().map(|o| key_of(&o.2).tp_dst).collect();
    assert_eq!(
        s.ports(),
        [1, 2, 3, 4].map(OutputPort::Port),
        "outputs in action order"
    );
    assert_eq!(vids, [0, 0x1005, 0x1005, 0x1005]);
    assert_eq!(dports, [53, 53, 53, 99]);
    assert_eq!(s.outputs[0].2, f);
    assert_eq!(s.packet_ins[0].1, f, "the packet-in saw the original too");
    // Two copies: before SetVlanVid, before SetTpDst; the last output is the frame itself.
    assert_eq!(out.copies(), 2);
    assert_eq!(out.outputs()[3].frame, FrameRef::Packet);

    // Rewrites before every output: nothing is copied.
    let mut p = pipeline(1, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![
            Action::SetVlanVid(5),
            Action::Output(1),
            Action::Flood,
        ]),
    );
    let mut frame = f.clone();
    p.process(&mut frame, 1, T0, &mut out);
    assert_eq!((out.outputs().len(), out.copies()), (2, 0));
    assert!(out.outputs().iter().all(|o| o.frame == FrameRef::Packet));
}

// ---- groups ----

fn group(
    p: &mut Pipeline,
    id: u32,
    ty: GroupType,
    buckets: Vec<Bucket>,
) -> Result<(), PipelineError> {
    p.group_mod(
        &GroupMod {
            command: GroupModCommand::Add,
            group_type: ty,
            group_id: id,
            buckets,
        },
        T0,
    )
    .map(|_| ())
}

#[test]
fn group_all_gives_each_bucket_its_own_copy() {
    let mut p = pipeline(1, TableMiss::Drop);
    group(
        &mut p,
        1,
        GroupType::All,
        vec![
            Bucket::new(vec![Action::SetVlanVid(10), Action::Output(1)]),
            Bucket::new(vec![Action::Output(2)]),
            Bucket::new(vec![Action::SetTpDst(7), Action::Output(3)]),
        ],
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![
            Action::Group(1),
            Action::SetIpTtl(9),
            Action::Output(4),
        ]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    let s = run(&mut p, &f, 9);
    assert_eq!(s.ports(), [1, 2, 3, 4].map(OutputPort::Port));
    let k: Vec<_> = s.outputs.iter().map(|o| key_of(&o.2)).collect();
    assert_eq!((k[0].vlan_vid, k[0].tp_dst, k[0].ip_ttl), (0x100a, 53, 64));
    assert_eq!(s.outputs[1].2, f, "bucket 2 shares the unmodified frame");
    assert_eq!((k[2].vlan_vid, k[2].tp_dst, k[2].ip_ttl), (0, 7, 64));
    assert_eq!((k[3].vlan_vid, k[3].tp_dst, k[3].ip_ttl), (0, 53, 9));
    let st = p.group_stats(1, secs(3));
    assert_eq!(st[0].counts.packets, 1);
    assert_eq!(
        st[0].buckets.iter().map(|b| b.packets).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    assert_eq!((st[0].ref_count, st[0].duration), (1, secs(3)));
}

#[test]
fn group_select_spreads_by_weight_and_sticks() {
    let mut p = pipeline(1, TableMiss::Drop);
    group(
        &mut p,
        1,
        GroupType::Select,
        vec![
            Bucket::new(vec![Action::Output(1)]).with_weight(1),
            Bucket::new(vec![Action::Output(2)]).with_weight(2),
            Bucket::new(vec![Action::Output(3)]).with_weight(5),
            Bucket::new(vec![Action::Output(4)]).with_weight(0),
        ],
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Group(1)]),
    );
    // Random MACs, random ARP traffic, as os-ken's tester sends.
    let mut rng = 0x1234_5678_9abc_def1_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut counts = [0u32; 5];
    let n = 8000;
    for _ in 0..n {
        let r = next().to_be_bytes();
        let f = arp(
            [2, r[0], r[1], r[2], r[3], r[4]],
            [10, 0, r[5], 1],
            [10, 0, r[6], r[7]],
        );
        let s = run(&mut p, &f, 9);
        assert_eq!(s.outputs.len(), 1);
        let OutputPort::Port(port) = s.outputs[0].0 else {
            panic!("{s:?}")
        };
        counts[port as usize] += 1;
        // The same flow takes the same bucket again.
        assert_eq!(run(&mut p, &f, 9).ports(), s.ports());
    }
    assert_eq!(counts[4], 0, "weight 0 is never chosen");
    for (port, weight) in [(1, 1.0), (2, 2.0), (3, 5.0)] {
        let share = f64::from(counts[port]) / f64::from(n);
        let want = weight / 8.0;
        assert!(
            (share - want).abs() < 0.03,
            "port {port}: {share} vs {want}"
        );
    }
    // A dead watched bucket is skipped.
    let mut p2 = pipeline(1, TableMiss::Drop);
    group(
        &mut p2,
        1,
        GroupType::Select,
        vec![
            Bucket::new(vec![Action::Output(1)])
                .with_weight(1)
                .with_watch_port(1),
            Bucket::new(vec![Action::Output(2)]).with_weight(1),
        ],
    )
    .unwrap();
    add(
        &mut p2,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Group(1)]),
    );
    for i in 0..50 {
        let f = arp(mac(i), [10, 0, 0, i], [10, 0, 1, 1]);
        assert_eq!(run(&mut p2, &f, 9).ports(), [OutputPort::Port(2)]);
    }
}

#[test]
fn group_indirect_and_chaining() {
    let mut p = pipeline(1, TableMiss::Drop);
    group(
        &mut p,
        2,
        GroupType::Indirect,
        vec![Bucket::new(vec![
            Action::SetEthDst(EthernetAddress(mac(0x22))),
            Action::Output(7),
        ])],
    )
    .unwrap();
    group(
        &mut p,
        1,
        GroupType::All,
        vec![
            Bucket::new(vec![Action::Group(2)]),
            Bucket::new(vec![Action::Output(8)]),
        ],
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Group(1)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    let s = run(&mut p, &f, 9);
    assert_eq!(s.ports(), [OutputPort::Port(7), OutputPort::Port(8)]);
    assert_eq!(key_of(&s.outputs[0].2).eth_dst, mac(0x22));
    assert_eq!(s.outputs[1].2, f);
    assert_eq!(s.frame, f, "apply-actions groups leave the packet alone");
    assert_eq!(
        p.group_stats(2, T0)[0].ref_count,
        1,
        "referenced by group 1"
    );
}

#[test]
fn fast_failover_follows_liveness() {
    let mut p = pipeline(1, TableMiss::Drop);
    group(
        &mut p,
        9,
        GroupType::FastFailover,
        vec![Bucket::new(vec![Action::Output(30)]).with_watch_port(3)],
    )
    .unwrap();
    group(
        &mut p,
        1,
        GroupType::FastFailover,
        vec![
            Bucket::new(vec![Action::Output(1)]).with_watch_port(1),
            Bucket::new(vec![Action::Output(2)]).with_watch_port(2),
            Bucket::new(vec![Action::Output(3)]).with_watch_group(9),
        ],
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::new().with_write_actions(vec![Action::Group(1)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    assert!(run(&mut p, &f, 9).outputs.is_empty(), "every port down");
    p.set_port_live(3, true);
    assert_eq!(
        run(&mut p, &f, 9).ports(),
        [OutputPort::Port(3)],
        "via the watched group"
    );
    p.set_port_live(2, true);
    assert_eq!(run(&mut p, &f, 9).ports(), [OutputPort::Port(2)]);
    p.set_port_live(1, true);
    assert!(p.port_live(1));
    assert_eq!(run(&mut p, &f, 9).ports(), [OutputPort::Port(1)]);
    p.set_port_live(1, false);
    assert_eq!(run(&mut p, &f, 9).ports(), [OutputPort::Port(2)]);
}

#[test]
fn group_mod_errors() {
    let mut p = pipeline(2, TableMiss::Drop);
    let out = |n| Bucket::new(vec![Action::Output(n)]);
    group(&mut p, 1, GroupType::All, vec![out(1)]).unwrap();
    assert_eq!(
        group(&mut p, 1, GroupType::All, vec![out(1)]),
        Err(PipelineError::GroupExists { group_id: 1 })
    );
    for (ty, buckets) in [
        (GroupType::Indirect, vec![out(1), out(2)]),
        (GroupType::Indirect, vec![]),
        (GroupType::All, vec![out(1).with_weight(3)]),
        (GroupType::FastFailover, vec![out(1)]),
    ] {
        assert_eq!(
            group(&mut p, 2, ty, buckets),
            Err(PipelineError::InvalidGroup { group_id: 2 })
        );
    }
    assert_eq!(
        group(&mut p, GROUP_ALL, GroupType::All, vec![]),
        Err(PipelineError::InvalidGroup {
            group_id: GROUP_ALL
        })
    );
    assert_eq!(
        group(&mut p, 2, GroupType::All, vec![out(1).with_watch_port(1)]),
        Err(PipelineError::WatchUnsupported)
    );
    assert_eq!(
        group(
            &mut p,
            2,
            GroupType::FastFailover,
            vec![out(1).with_watch_group(77)]
        ),
        Err(PipelineError::BadWatch { group_id: 77 })
    );
    assert_eq!(
        group(
            &mut p,
            2,
            GroupType::All,
            vec![Bucket::new(vec![Action::Group(77)])]
        ),
        Err(PipelineError::BadOutGroup { group_id: 77 })
    );
    assert_eq!(
        group(
            &mut p,
            2,
            GroupType::All,
            vec![Bucket::new(vec![Action::Group(2)])]
        ),
        Err(PipelineError::GroupLoop { group_id: 2 })
    );
    assert_eq!(
        group(
            &mut p,
            2,
            GroupType::All,
            vec![Bucket::new(vec![Action::Table])]
        ),
        Err(PipelineError::BadOutPort { port: PORT_TABLE })
    );
    // A loop through another group, made by a modify.
    group(
        &mut p,
        2,
        GroupType::All,
        vec![Bucket::new(vec![Action::Group(1)])],
    )
    .unwrap();
    let modify = |buckets| GroupMod {
        command: GroupModCommand::Modify,
        group_type: GroupType::All,
        group_id: 1,
        buckets,
    };
    assert_eq!(
        p.group_mod(&modify(vec![Bucket::new(vec![Action::Group(2)])]), T0),
        Err(PipelineError::GroupLoop { group_id: 1 })
    );
    assert_eq!(
        p.group_mod(
            &GroupMod {
                group_id: 3,
                ..modify(vec![])
            },
            T0
        ),
        Err(PipelineError::UnknownGroup { group_id: 3 })
    );
    p.group_mod(&modify(vec![out(5), out(6)]), T0).unwrap();
    assert_eq!(p.group_desc()[0].buckets, vec![out(5), out(6)]);
    // Group 1 is chained from group 2.
    let delete = |id| GroupMod {
        command: GroupModCommand::Delete,
        group_type: GroupType::All,
        group_id: id,
        buckets: vec![],
    };
    assert_eq!(
        p.group_mod(&delete(1), T0),
        Err(PipelineError::ChainedGroup { group_id: 1 })
    );
    assert_eq!(
        p.group_mod(&delete(99), T0),
        Ok(vec![]),
        "deleting nothing is fine"
    );
    // Flows must name existing groups.
    assert_eq!(
        p.flow_mod(
            &FlowMod::add(
                0,
                Match::catchall(),
                1,
                Instructions::apply(vec![Action::Group(4)])
            ),
            T0
        ),
        Err(PipelineError::BadOutGroup { group_id: 4 })
    );
    assert_eq!(
        p.flow_mod(
            &FlowMod::add(
                0,
                Match::catchall(),
                1,
                Instructions::new().with_write_actions(vec![Action::Table])
            ),
            T0
        ),
        Err(PipelineError::BadOutPort { port: PORT_TABLE })
    );
    // Limits.
    let mut small = Pipeline::new(PipelineConfig {
        max_groups: 1,
        max_buckets: 2,
        ..PipelineConfig::with_tables(1)
    });
    assert_eq!(
        group(&mut small, 1, GroupType::All, vec![out(1), out(2), out(3)]),
        Err(PipelineError::OutOfBuckets)
    );
    group(&mut small, 1, GroupType::All, vec![out(1)]).unwrap();
    assert_eq!(
        group(&mut small, 2, GroupType::All, vec![out(1)]),
        Err(PipelineError::OutOfGroups)
    );
}

#[test]
fn group_delete_removes_the_flows_that_use_it() {
    let mut p = pipeline(2, TableMiss::Drop);
    group(
        &mut p,
        1,
        GroupType::All,
        vec![Bucket::new(vec![Action::Output(1)])],
    )
    .unwrap();
    group(
        &mut p,
        2,
        GroupType::All,
        vec![Bucket::new(vec![Action::Output(2)])],
    )
    .unwrap();
    p.flow_mod(
        &FlowMod::add(
            0,
            Match::catchall().in_port(1),
            5,
            Instructions::apply(vec![Action::Group(1)]),
        )
        .with_flags(FlowFlags::SEND_FLOW_REM)
        .with_cookie(0xc1, 0),
        T0,
    )
    .unwrap();
    add(
        &mut p,
        1,
        Match::catchall(),
        5,
        Instructions::new().with_write_actions(vec![Action::Group(1)]),
    );
    add(
        &mut p,
        0,
        Match::catchall().in_port(2),
        5,
        Instructions::apply(vec![Action::Group(2)]),
    );
    add(
        &mut p,
        0,
        Match::catchall().in_port(3),
        5,
        Instructions::apply(vec![Action::Output(3)]),
    );
    assert_eq!(p.group_stats(1, T0)[0].ref_count, 2);
    let removed = p
        .group_mod(
            &GroupMod {
                command: GroupModCommand::Delete,
                group_type: GroupType::All,
                group_id: 1,
                buckets: vec![],
            },
            secs(4),
        )
        .unwrap();
    let mut what: Vec<_> = removed
        .iter()
        .map(|r| (r.table_id, r.reason, r.send_flow_rem, r.cookie, r.duration))
        .collect();
    what.sort_by_key(|w| w.0);
    assert_eq!(
        what,
        [
            (0, FlowRemovedReason::GroupDelete, true, 0xc1, secs(4)),
            (1, FlowRemovedReason::GroupDelete, false, 0, secs(4)),
        ]
    );
    assert_eq!(p.table_stats()[0].active_count, 2);
    assert!(p.group_stats(1, T0).is_empty());
    // Delete all: every group and every flow using one.
    let removed = p
        .group_mod(
            &GroupMod {
                command: GroupModCommand::Delete,
                group_type: GroupType::All,
                group_id: GROUP_ALL,
                buckets: vec![],
            },
            T0,
        )
        .unwrap();
    assert_eq!(removed.len(), 1);
    assert!(p.group_desc().is_empty());
    assert_eq!(p.table_stats()[0].active_count, 1);
}

#[test]
fn group_features_values() {
    let p = pipeline(1, TableMiss::Drop);
    let f = p.group_features();
    assert_eq!(f.types, 0b1111);
    assert_eq!(f.capabilities, 0b1111);
    assert_eq!(f.max_groups, [65_536; 4]);
    assert_eq!(f.actions[0] & 1, 1, "output");
    assert_ne!(f.actions[0] & 1 << 22, 0, "group");
    assert_ne!(f.actions[0] & 1 << 25, 0, "set_field");
}

// ---- meters ----

fn meter_mod(id: u32, flags: MeterFlags, bands: Vec<Band>) -> MeterMod {
    MeterMod {
        command: MeterModCommand::Add,
        flags,
        meter_id: id,
        bands,
    }
}

fn drop_band(rate: u32, burst_size: u32) -> Band {
    Band {
        kind: BandKind::Drop,
        rate,
        burst_size,
    }
}

#[test]
fn meter_drops_above_its_rate() {
    let mut p = pipeline(2, TableMiss::Drop);
    p.meter_mod(
        &meter_mod(1, MeterFlags::PKTPS, vec![drop_band(100, 0)]),
        T0,
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::new().with_meter(1).with_goto_table(1),
    );
    add(
        &mut p,
        1,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Output(2)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    // 200 packets a second for 5 s of fake time.
    let mut passed = 0;
    for i in 0..1000u32 {
        let now = Duration::from_millis(5) * i;
        if !run_at(&mut p, &f, 1, now).outputs.is_empty() {
            passed += 1;
        }
    }
    assert!((500..=512).contains(&passed), "{passed} passed");
    let st = &p.meter_stats(1, secs(5)).unwrap()[0];
    assert_eq!((st.flow_count, st.input.packets), (1, 1000));
    assert_eq!(st.bands[0].packets, 1000 - passed);
    assert_eq!(st.bands[0].bytes, (1000 - passed) * f.len() as u64);
    assert_eq!(st.duration, secs(5));
    // Dropped packets never reached table 1.
    assert_eq!(p.table_stats()[1].lookup_count, passed);
}

#[test]
fn meter_config_is_echoed_exactly() {
    let mut p = pipeline(1, TableMiss::Drop);
    let bands = vec![
        drop_band(5000, 123),
        Band {
            kind: BandKind::DscpRemark { prec_level: 2 },
            rate: 1000,
            burst_size: 0,
        },
    ];
    let flags = MeterFlags::KBPS | MeterFlags::STATS;
    p.meter_mod(&meter_mod(7, flags, bands.clone()), T0)
        .unwrap();
    p.meter_mod(
        &meter_mod(
            3,
            MeterFlags::PKTPS | MeterFlags::BURST,
            vec![drop_band(9, 9)],
        ),
        T0,
    )
    .unwrap();
    let cfg = p.meter_config(METER_ALL).unwrap();
    assert_eq!(cfg.iter().map(|c| c.meter_id).collect::<Vec<_>>(), [3, 7]);
    assert_eq!((cfg[1].flags, &cfg[1].bands), (flags, &bands));
    assert_eq!(p.meter_config(7).unwrap().len(), 1);
    assert_eq!(
        p.meter_config(8),
        Err(PipelineError::UnknownMeter { meter_id: 8 })
    );
    assert_eq!(
        p.meter_stats(8, T0),
        Err(PipelineError::UnknownMeter { meter_id: 8 })
    );
    // Modify replaces the configuration, keeping the meter.
    let m = MeterMod {
        command: MeterModCommand::Modify,
        ..meter_mod(7, MeterFlags::PKTPS, vec![drop_band(1, 0)])
    };
    p.meter_mod(&m, T0).unwrap();
    assert_eq!(p.meter_config(7).unwrap()[0].bands, vec![drop_band(1, 0)]);
    let feat = p.meter_features();
    assert_eq!((feat.band_types, feat.capabilities), (0b110, 0b1111));
    assert_eq!((feat.max_meter, feat.max_bands), (65_536, 8));
}

#[test]
fn meter_dscp_remark_raises_drop_precedence() {
    let mut p = pipeline(1, TableMiss::Drop);
    let remark = Band {
        kind: BandKind::DscpRemark { prec_level: 1 },
        rate: 100,
        burst_size: 0,
    };
    p.meter_mod(&meter_mod(1, MeterFlags::PKTPS, vec![remark]), T0)
        .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Output(2)]).with_meter(1),
    );
    let f = udp_dscp(10); // AF11
    let mut dscps = std::collections::BTreeMap::new();
    for i in 0..400u32 {
        let s = run_at(&mut p, &f, 1, Duration::from_millis(5) * i);
        assert_eq!(s.outputs.len(), 1, "remark never drops");
        *dscps.entry(key_of(&s.outputs[0].2).ip_dscp).or_insert(0) += 1;
    }
    let af11 = dscps[&10];
    let af12 = dscps[&12];
    assert_eq!(af11 + af12, 400);
    assert!((200..=212).contains(&af11), "{dscps:?}");
}

#[test]
fn meter_mod_errors_and_delete() {
    let mut p = pipeline(1, TableMiss::Drop);
    let band = vec![drop_band(10, 0)];
    let m = |id, flags| meter_mod(id, flags, band.clone());
    assert_eq!(
        p.meter_mod(&m(0, MeterFlags::KBPS), T0),
        Err(PipelineError::InvalidMeter { meter_id: 0 })
    );
    assert_eq!(
        p.meter_mod(&m(METER_MAX + 1, MeterFlags::KBPS), T0),
        Err(PipelineError::InvalidMeter {
            meter_id: METER_MAX + 1
        })
    );
    assert_eq!(
        p.meter_mod(&m(1, MeterFlags::KBPS | MeterFlags::PKTPS), T0),
        Err(PipelineError::BadMeterFlags { flags: 3 })
    );
    assert_eq!(
        p.meter_mod(&m(1, MeterFlags(0x10)), T0),
        Err(PipelineError::BadMeterFlags { flags: 0x10 })
    );
    assert_eq!(
        p.meter_mod(&meter_mod(1, MeterFlags::KBPS, vec![drop_band(0, 0)]), T0),
        Err(PipelineError::BadRate)
    );
    let other = Band {
        kind: BandKind::Other(0xffff),
        rate: 1,
        burst_size: 0,
    };
    assert_eq!(
        p.meter_mod(&meter_mod(1, MeterFlags::KBPS, vec![other]), T0),
        Err(PipelineError::BadBand { band_type: 0xffff })
    );
    assert_eq!(
        p.meter_mod(
            &meter_mod(1, MeterFlags::KBPS, vec![drop_band(1, 0); 9]),
            T0
        ),
        Err(PipelineError::OutOfBands)
    );
    assert_eq!(
        p.meter_mod(
            &MeterMod {
                command: MeterModCommand::Modify,
                ..m(1, MeterFlags::KBPS)
            },
            T0
        ),
        Err(PipelineError::UnknownMeter { meter_id: 1 })
    );
    assert_eq!(
        p.flow_mod(
            &FlowMod::add(0, Match::catchall(), 1, Instructions::new().with_meter(1)),
            T0
        ),
        Err(PipelineError::UnknownMeter { meter_id: 1 })
    );
    p.meter_mod(&m(1, MeterFlags::KBPS), T0).unwrap();
    assert_eq!(
        p.meter_mod(&m(1, MeterFlags::KBPS), T0),
        Err(PipelineError::MeterExists { meter_id: 1 })
    );
    p.meter_mod(&m(2, MeterFlags::KBPS), T0).unwrap();
    p.flow_mod(
        &FlowMod::add(
            0,
            Match::catchall().in_port(1),
            1,
            Instructions::new().with_meter(1),
        )
        .with_flags(FlowFlags::SEND_FLOW_REM),
        T0,
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall().in_port(2),
        1,
        Instructions::new().with_meter(2),
    );
    add(
        &mut p,
        0,
        Match::catchall().in_port(3),
        1,
        Instructions::new(),
    );
    let delete = |id| MeterMod {
        command: MeterModCommand::Delete,
        ..m(id, MeterFlags::KBPS)
    };
    let removed = p.meter_mod(&delete(1), T0).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        (removed[0].reason, removed[0].send_flow_rem),
        (FlowRemovedReason::MeterDelete, true)
    );
    assert_eq!(p.meter_mod(&delete(1), T0), Ok(vec![]));
    assert_eq!(p.meter_mod(&delete(METER_ALL), T0).unwrap().len(), 1);
    assert_eq!(p.table_stats()[0].active_count, 1);
    let mut small = Pipeline::new(PipelineConfig {
        max_meters: 1,
        ..PipelineConfig::with_tables(1)
    });
    small.meter_mod(&m(1, MeterFlags::KBPS), T0).unwrap();
    assert_eq!(
        small.meter_mod(&m(2, MeterFlags::KBPS), T0),
        Err(PipelineError::OutOfMeters)
    );
}

// ---- flow_mod semantics ----

#[test]
fn add_replaces_identical_flows_keeping_counts_unless_reset() {
    let mut p = pipeline(1, TableMiss::Drop);
    let m = Match::catchall().in_port(1);
    add(
        &mut p,
        0,
        m,
        5,
        Instructions::apply(vec![Action::Output(1)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    run(&mut p, &f, 1);
    run(&mut p, &f, 1);
    let r = p
        .flow_mod(
            &FlowMod::add(0, m, 5, Instructions::apply(vec![Action::Output(2)])),
            secs(1),
        )
        .unwrap();
    assert_eq!(r, FlowModResult::Added { replaced: true });
    assert_eq!(flow_packets(&p, 0), [(5, 2)]);
    assert_eq!(run(&mut p, &f, 1).ports(), [OutputPort::Port(2)]);
    let r = p
        .flow_mod(
            &FlowMod::add(0, m, 5, Instructions::new()).with_flags(FlowFlags::RESET_COUNTS),
            secs(1),
        )
        .unwrap();
    assert_eq!(r, FlowModResult::Added { replaced: true });
    assert_eq!(flow_packets(&p, 0), [(5, 0)]);
    assert_eq!(p.table_stats()[0].active_count, 1);
    assert_eq!(
        p.flow_mod(&FlowMod::add(0, m, 6, Instructions::new()), T0)
            .unwrap(),
        FlowModResult::Added { replaced: false }
    );
}

#[test]
fn modify_changes_instructions_only() {
    let mut p = pipeline(2, TableMiss::Drop);
    p.flow_mod(
        &FlowMod::add(
            0,
            Match::catchall().in_port(1).eth_type(0x0800),
            5,
            Instructions::apply(vec![Action::Output(1)]),
        )
        .with_cookie(0xaa, 0)
        .with_timeouts(secs(30), secs(60))
        .with_flags(FlowFlags::SEND_FLOW_REM),
        T0,
    )
    .unwrap();
    add(
        &mut p,
        0,
        Match::catchall().in_port(2),
        5,
        Instructions::apply(vec![Action::Output(1)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    run(&mut p, &f, 1);
    // Non-strict modify of everything at least as specific as in_port=1.
    let modify = FlowMod::new(FlowModCommand::Modify, 0, Match::catchall().in_port(1), 0)
        .with_instructions(Instructions::apply(vec![Action::Output(9)]))
        .with_cookie(0x1234, 0);
    assert_eq!(
        p.flow_mod(&modify, T0).unwrap(),
        FlowModResult::Modified { count: 1 }
    );
    assert_eq!(run(&mut p, &f, 1).ports(), [OutputPort::Port(9)]);
    assert_eq!(run(&mut p, &f, 2).ports(), [OutputPort::Port(1)]);
    let st = p
        .flow_stats(
            &FlowStatsRequest {
                flow_match: Match::catchall().in_port(1),
                ..FlowStatsRequest::default()
            },
            T0,
        )
        .unwrap();
    assert_eq!(
        (
            st[0].cookie,
            st[0].idle_timeout,
            st[0].hard_timeout,
            st[0].flags,
            st[0].packet_count
        ),
        (0xaa, secs(30), secs(60), FlowFlags::SEND_FLOW_REM, 2)
    );
    // RESET_COUNTS clears them; strict needs the exact match and priority.
    let strict = FlowMod {
        command: FlowModCommand::ModifyStrict,
        flags: FlowFlags::RESET_COUNTS,
        ..modify.clone()
    };
    assert_eq!(
        p.flow_mod(&strict, T0).unwrap(),
        FlowModResult::Modified { count: 0 }
    );
    let strict = FlowMod {
        flow_match: Match::catchall().in_port(1).eth_type(0x0800),
        priority: 5,
        ..strict
    };
    assert_eq!(
        p.flow_mod(&strict, T0).unwrap(),
        FlowModResult::Modified { count: 1 }
    );
    assert_eq!(flow_packets(&p, 0).iter().map(|x| x.1).sum::<u64>(), 1);
    // A cookie filter that matches nothing modifies nothing.
    let filtered = modify.clone().with_cookie(0xbb, u64::MAX);
    assert_eq!(
        p.flow_mod(&filtered, T0).unwrap(),
        FlowModResult::Modified { count: 0 }
    );
    // A modify must pass the checks of the table it lands in.
    let bad = FlowMod {
        instructions: Instructions::new().with_goto_table(0),
        ..modify.clone()
    };
    assert_eq!(
        p.flow_mod(&bad, T0),
        Err(PipelineError::BadGotoTable {
            table_id: 0,
            goto: 0
        })
    );
    // Modify of nothing: nothing (1.3) or an add (1.0).
    let none = FlowMod::new(FlowModCommand::Modify, 1, Match::catchall().in_port(5), 3)
        .with_instructions(Instructions::apply(vec![Action::Output(4)]));
    assert_eq!(
        p.flow_mod(&none, T0).unwrap(),
        FlowModResult::Modified { count: 0 }
    );
    assert_eq!(p.table_stats()[1].active_count, 0);
    let adds = FlowMod {
        modify_adds: true,
        ..none
    };
    assert_eq!(
        p.flow_mod(&adds, T0).unwrap(),
        FlowModResult::Added { replaced: false }
    );
    assert_eq!(p.table_stats()[1].active_count, 1);
    // Every table at once.
    let all = FlowMod::new(FlowModCommand::Modify, TABLE_ALL, Match::catchall(), 0)
        .with_instructions(Instructions::apply(vec![Action::Output(7)]));
    assert_eq!(
        p.flow_mod(&all, T0).unwrap(),
        FlowModResult::Modified { count: 3 }
    );
}

#[test]
fn delete_strict_and_non_strict_with_filters() {
    let mut p = pipeline(3, TableMiss::Drop);
    group(&mut p, 4, GroupType::All, vec![]).unwrap();
    let base = Match::catchall().eth_type(0x0800);
    let flows = [
        (0, base, 10, 0x100, vec![Action::Output(1)]),
        (0, base.ipv4_dst(1), 10, 0x101, vec![Action::Output(2)]),
        (0, base.ipv4_dst(1), 20, 0x200, vec![Action::Group(4)]),
        (
            1,
            base.ipv4_dst(2),
            10,
            0x102,
            vec![Action::Output(2), Action::Controller { max_len: 1 }],
        ),
        (2, Match::catchall(), 0, 0x300, vec![]),
    ];
    let load = |p: &mut Pipeline| {
        for (t, m, prio, cookie, acts) in &flows {
            p.flow_mod(
                &FlowMod::add(*t, *m, *prio, Instructions::apply(acts.clone()))
                    .with_cookie(*cookie, 0)
                    .with_flags(FlowFlags::SEND_FLOW_REM),
                T0,
            )
            .unwrap();
        }
    };
    let cookies = |r: FlowModResult| -> Vec<u64> {
        let FlowModResult::Deleted { removed } = r else {
            panic!("{r:?}")
        };
        assert!(removed
            .iter()
            .all(|f| f.reason == FlowRemovedReason::Delete && f.send_flow_rem));
        removed.iter().map(|f| f.cookie).collect()
    };
    load(&mut p);
    // Strict: exactly match and priority.
    let strict = FlowMod::new(FlowModCommand::DeleteStrict, 0, base.ipv4_dst(1), 10);
    assert_eq!(cookies(p.flow_mod(&strict, T0).unwrap()), [0x101]);
    assert_eq!(cookies(p.flow_mod(&strict, T0).unwrap()), Vec::<u64>::new());
    // Non-strict: everything at least as specific, any priority, this table only.
    assert_eq!(
        cookies(p.flow_mod(&FlowMod::delete(0, base), T0).unwrap()),
        [0x200, 0x100]
    );
    assert_eq!(p.table_stats()[1].active_count, 1);

    let mut p = pipeline(3, TableMiss::Drop);
    group(&mut p, 4, GroupType::All, vec![]).unwrap();
    load(&mut p);
    // out_port filter, every table.
    let by_port = FlowMod::delete(TABLE_ALL, Match::catchall()).with_out(2, GROUP_ANY);
    assert_eq!(cookies(p.flow_mod(&by_port, T0).unwrap()), [0x101, 0x102]);
    let by_ctl = FlowMod::delete(TABLE_ALL, Match::catchall()).with_out(PORT_CONTROLLER, GROUP_ANY);
    assert_eq!(cookies(p.flow_mod(&by_ctl, T0).unwrap()), Vec::<u64>::new());
    // out_group filter.
    let by_group = FlowMod::delete(TABLE_ALL, Match::catchall()).with_out(PORT_ANY, 4);
    assert_eq!(cookies(p.flow_mod(&by_group, T0).unwrap()), [0x200]);
    // Cookie mask: cookies 0x1xx.
    let by_cookie = FlowMod::delete(TABLE_ALL, Match::catchall()).with_cookie(0x100, 0xf00);
    assert_eq!(cookies(p.flow_mod(&by_cookie, T0).unwrap()), [0x100]);
    assert_eq!(
        cookies(
            p.flow_mod(&FlowMod::delete(TABLE_ALL, Match::catchall()), T0)
                .unwrap()
        ),
        [0x300]
    );
    assert_eq!(
        p.flow_mod(&FlowMod::delete(3, Match::catchall()), T0),
        Err(PipelineError::BadTableId { table_id: 3 })
    );
}

#[test]
fn flow_mod_checks() {
    let mut p = Pipeline::new(PipelineConfig {
        max_entries: 2,
        ..PipelineConfig::with_tables(3)
    });
    let ins = Instructions::new();
    for (t, goto) in [(1, 1), (1, 0), (2, 3), (0, 200)] {
        assert_eq!(
            p.flow_mod(
                &FlowMod::add(t, Match::catchall(), 1, ins.clone().with_goto_table(goto)),
                T0
            ),
            Err(PipelineError::BadGotoTable { table_id: t, goto })
        );
    }
    for t in [3, TABLE_ALL] {
        assert_eq!(
            p.flow_mod(&FlowMod::add(t, Match::catchall(), 1, ins.clone()), T0),
            Err(PipelineError::BadTableId { table_id: t })
        );
    }
    assert_eq!(
        p.flow_mod(
            &FlowMod::add(0, Match::catchall(), 1, ins.clone())
                .with_flags(FlowFlags::from_bits(1 << 7)),
            T0
        ),
        Err(PipelineError::BadFlowFlags { flags: 1 << 7 })
    );
    // Overlap: only with CHECK_OVERLAP, only at the same priority.
    add(&mut p, 0, Match::catchall().in_port(1), 5, ins.clone());
    let overlapping = FlowMod::add(0, Match::catchall().eth_type(0x0800), 5, ins.clone())
        .with_flags(FlowFlags::CHECK_OVERLAP);
    assert_eq!(p.flow_mod(&overlapping, T0), Err(PipelineError::Overlap));
    let other_priority = FlowMod {
        priority: 6,
        ..overlapping.clone()
    };
    p.flow_mod(&other_priority, T0).unwrap();
    // Full table; replacing still works.
    assert_eq!(
        p.flow_mod(
            &FlowMod::add(0, Match::catchall().in_port(2), 5, ins.clone()),
            T0
        ),
        Err(PipelineError::TableFull { table_id: 0 })
    );
    assert!(p
        .flow_mod(&FlowMod::add(0, Match::catchall().in_port(1), 5, ins), T0)
        .is_ok());
}

#[test]
fn expiry_idle_and_hard() {
    let mut p = pipeline(2, TableMiss::Drop);
    p.flow_mod(
        &FlowMod::add(
            0,
            Match::catchall().in_port(1),
            1,
            Instructions::apply(vec![Action::Output(2)]),
        )
        .with_timeouts(secs(10), Duration::ZERO)
        .with_flags(FlowFlags::SEND_FLOW_REM)
        .with_cookie(1, 0),
        T0,
    )
    .unwrap();
    p.flow_mod(
        &FlowMod::add(1, Match::catchall(), 1, Instructions::new())
            .with_timeouts(Duration::ZERO, secs(15))
            .with_cookie(2, 0),
        T0,
    )
    .unwrap();
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    run_at(&mut p, &f, 1, secs(8));
    assert!(p.expire(secs(12)).is_empty(), "the hit at 8 s keeps it");
    let gone = p.expire(secs(15));
    assert_eq!(gone.len(), 1);
    assert_eq!(
        (
            gone[0].table_id,
            gone[0].reason,
            gone[0].cookie,
            gone[0].duration
        ),
        (1, FlowRemovedReason::HardTimeout, 2, secs(15))
    );
    let gone = p.expire(secs(18));
    assert_eq!(
        (
            gone[0].reason,
            gone[0].send_flow_rem,
            gone[0].packet_count,
            gone[0].byte_count
        ),
        (FlowRemovedReason::IdleTimeout, true, 1, f.len() as u64)
    );
    assert_eq!(gone[0].idle_timeout, secs(10));
    assert!(
        run(&mut p, &f, 1).outputs.is_empty(),
        "expired flows are gone from the cache too"
    );
}

#[test]
fn flow_and_aggregate_stats() {
    let mut p = pipeline(2, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall().in_port(1),
        2,
        Instructions::apply(vec![Action::Output(3)]).with_goto_table(1),
    );
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Output(4)]),
    );
    add(
        &mut p,
        1,
        Match::catchall().in_port(1).eth_type(0x0800),
        2,
        Instructions::new(),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    for port in [1, 1, 2] {
        run(&mut p, &f, port);
    }
    let all = p.flow_stats(&FlowStatsRequest::default(), T0).unwrap();
    assert_eq!(
        all.iter()
            .map(|s| (s.table_id, s.priority, s.packet_count))
            .collect::<Vec<_>>(),
        [(0, 2, 2), (0, 1, 1), (1, 2, 2)]
    );
    assert_eq!(all[0].instructions.goto_table, Some(1));
    let req = FlowStatsRequest {
        flow_match: Match::catchall().in_port(1),
        ..FlowStatsRequest::default()
    };
    let a = p.aggregate_stats(&req).unwrap();
    assert_eq!(
        (a.flow_count, a.packet_count, a.byte_count),
        (2, 4, 4 * f.len() as u64)
    );
    let req = FlowStatsRequest {
        out_port: 4,
        ..FlowStatsRequest::default()
    };
    assert_eq!(p.aggregate_stats(&req).unwrap().flow_count, 1);
    assert_eq!(
        p.flow_stats(
            &FlowStatsRequest {
                table_id: 9,
                ..FlowStatsRequest::default()
            },
            T0
        ),
        Err(PipelineError::BadTableId { table_id: 9 })
    );
}

// ---- packet-out, TTL ----

#[test]
fn packet_out_actions_and_table() {
    let mut p = pipeline(1, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall().in_port(5),
        1,
        Instructions::apply(vec![Action::SetTpDst(1), Action::Output(6)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    let mut out = PipelineOutput::new();
    // Output, then resubmission to the pipeline (which rewrites), then output again.
    let mut frame = f.clone();
    p.packet_out(
        &mut frame,
        5,
        &[Action::Output(1), Action::Table, Action::Output(2)],
        T0,
        &mut out,
    )
    .unwrap();
    let s = resolve(&out, frame);
    assert_eq!(s.ports(), [1, 6, 2].map(OutputPort::Port));
    assert_eq!(key_of(&s.outputs[1].2).tp_dst, 1);
    assert_eq!(s.outputs[0].2, f);
    assert_eq!(
        s.outputs[2].2, f,
        "the packet-out's own frame is unchanged by the walk"
    );
    // Table last: the walk works on the frame itself; the earlier output keeps its bytes.
    let mut frame = f.clone();
    p.packet_out(
        &mut frame,
        5,
        &[Action::Output(1), Action::Table],
        T0,
        &mut out,
    )
    .unwrap();
    let s = resolve(&out, frame);
    assert_eq!(s.ports(), [1, 6].map(OutputPort::Port));
    assert_eq!(s.outputs[0].2, f);
    assert_eq!(key_of(&s.frame).tp_dst, 1);
    assert_eq!(
        p.packet_out(&mut f.clone(), 5, &[Action::Group(3)], T0, &mut out),
        Err(PipelineError::BadOutGroup { group_id: 3 })
    );
    // Controller output from a packet-out.
    p.packet_out(
        &mut f.clone(),
        PORT_CONTROLLER,
        &[Action::Controller { max_len: 9 }],
        T0,
        &mut out,
    )
    .unwrap();
    let pin = out.packet_ins()[0];
    assert_eq!(
        (pin.reason, pin.table_id, pin.in_port),
        (PacketInReason::Action, 0xff, PORT_CONTROLLER)
    );
    assert_eq!(p.table_stats()[0].lookup_count, 2);
}

#[test]
fn invalid_ttl() {
    let mut p = pipeline(2, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Output(1), Action::DecIpTtl, Action::Output(2)])
            .with_write_actions(vec![Action::Output(3)]),
    );
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 1);
    let s = run(&mut p, &f, 9);
    assert_eq!(s.ports(), [OutputPort::Port(1)], "stops at the decrement");
    assert!(s.packet_ins.is_empty());
    p.set_invalid_ttl_to_controller(true);
    let s = run(&mut p, &f, 9);
    assert_eq!(s.packet_ins[0].0.reason, PacketInReason::InvalidTtl);
    assert_eq!(s.packet_ins[0].1, f);
    // A good TTL goes through.
    assert_eq!(
        run(&mut p, &udp(1, 2, None, [198, 51, 100, 1], 53, 9), 9).ports(),
        [1, 2, 3].map(OutputPort::Port)
    );
}

// ---- the cache ----

fn three_tables(p: &mut Pipeline) {
    add(
        p,
        0,
        Match::catchall().in_port(1),
        1,
        Instructions::new()
            .with_write_metadata(1, 1)
            .with_goto_table(1),
    );
    add(
        p,
        1,
        Match::catchall().metadata(1),
        1,
        Instructions::new().with_goto_table(2),
    );
    add(
        p,
        2,
        Match::catchall().eth_type(0x0800),
        1,
        Instructions::apply(vec![Action::Output(2)]),
    );
}

#[test]
fn cache_hits_skip_lookups_and_count() {
    let mut p = pipeline(3, TableMiss::Drop);
    three_tables(&mut p);
    let f = udp(1, 2, None, [198, 51, 100, 1], 53, 64);
    for _ in 0..10 {
        assert_eq!(run(&mut p, &f, 1).ports(), [OutputPort::Port(2)]);
    }
    let c = p.cache_counters();
    assert_eq!((c.hits, c.misses), (9, 1));
    // Counters move on cache hits as on misses.
    assert_eq!(
        p.table_stats()
            .iter()
            .map(|t| t.matched_count)
            .collect::<Vec<_>>(),
        [10, 10, 10]
    );
    assert_eq!(flow_packets(&p, 2), [(1, 10)]);
    // A flow_mod invalidates: the new, better flow wins at once.
    add(
        &mut p,
        2,
        Match::catchall().eth_type(0x0800).ip_proto(17),
        2,
        Instructions::apply(vec![Action::Output(5)]),
    );
    assert_eq!(run(&mut p, &f, 1).ports(), [OutputPort::Port(5)]);
    assert_eq!(p.cache_counters().misses, 2);
}

#[test]
fn popping_an_inner_tag_is_not_cached_on_the_outer_key() {
    // Two frames with the same outer tag but different inner tags have the same input key;
    // after a pop, table 1 must see each frame's own inner tag.
    let mut p = pipeline(2, TableMiss::Drop);
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::PopVlan]).with_goto_table(1),
    );
    for vid in [10u16, 20] {
        add(
            &mut p,
            1,
            Match::catchall().vlan_vid(vid | VLAN_PRESENT),
            1,
            Instructions::apply(vec![Action::Output(u32::from(vid))]),
        );
    }
    let qinq = |inner: u16| {
        let mut v = Vec::new();
        PacketBuilder::ethernet2(mac(1), mac(2))
            .double_vlan(VlanId::try_new(5).unwrap(), VlanId::try_new(inner).unwrap())
            .ipv4([192, 0, 2, 1], [198, 51, 100, 1], 64)
            .udp(1, 2)
            .write(&mut v, &[])
            .unwrap();
        v
    };
    assert_eq!(key_of(&qinq(10)), key_of(&qinq(20)));
    for _ in 0..3 {
        assert_eq!(run(&mut p, &qinq(10), 1).ports(), [OutputPort::Port(10)]);
        assert_eq!(run(&mut p, &qinq(20), 1).ports(), [OutputPort::Port(20)]);
    }
    assert_eq!(p.cache_counters().hits, 0);
}

// The property test: a cached and an uncached pipeline, fed the same random flows,
// frames and flow_mods, produce the same outputs, packet-ins, frames and counters.

#[derive(Debug, Clone)]
enum Op {
    Packet(Vec<u8>, u32),
    /// A few frames, round robin, a few rounds.
    Burst(Vec<Vec<u8>>, u32),
    Add(u8, Match, u16, Instructions),
    Delete(u8, Match),
}

fn frame_strategy() -> impl Strategy<Value = Vec<u8>> {
    (
        (0u8..2, 0u8..2, 0usize..4, 2u16..4),
        (
            0u8..2,
            0u16..2,
            prop::sample::select(vec![1u8, 64]),
            0u8..7,
            0usize..40,
        ),
    )
        .prop_map(|((src, dst, vlan, inner), (ip, port, ttl, kind, cut))| {
            if kind == 0 {
                return arp(mac(src), [10, 0, 0, src], [10, 0, 0, dst]);
            }
            let mut v = Vec::new();
            let base = PacketBuilder::ethernet2(mac(src), mac(dst));
            let dst_ip = [198, 51, 100, ip];
            let payload = [0u8; 4];
            let tcp = kind == 1;
            macro_rules! l4 {
                ($b:expr) => {{
                    let b = $b.ipv4([192, 0, 2, 1], dst_ip, ttl);
                    if tcp {
                        b.tcp(1000, 50 + port, 1, 100).write(&mut v, &payload)
                    } else {
                        b.udp(1000, 50 + port).write(&mut v, &payload)
                    }
                }};
            }
            match vlan {
                0 => l4!(base),
                1 => l4!(base.single_vlan(VlanId::try_new(1).unwrap())),
                2 => l4!(base.single_vlan(VlanId::try_new(2).unwrap())),
                _ => {
                    l4!(base
                        .double_vlan(VlanId::try_new(1).unwrap(), VlanId::try_new(inner).unwrap()))
                }
            }
            .unwrap();
            if kind == 6 {
                // Cut short somewhere in the headers.
                v.truncate(14 + cut);
            }
            v
        })
}

fn match_strategy() -> impl Strategy<Value = Match> {
    let w = 0.3;
    (
        prop::option::weighted(w, 1u32..3),
        prop::option::weighted(w, 0u8..2),
        prop::option::weighted(
            0.5,
            prop::sample::select(vec![
                0u16,
                1 | VLAN_PRESENT,
                2 | VLAN_PRESENT,
                3 | VLAN_PRESENT,
            ]),
        ),
        prop::option::weighted(w, 0u8..2),
        prop::option::weighted(w, 50u16..52),
        prop::option::weighted(w, 0u64..4),
    )
        .prop_map(|(port, dst, vid, ip, tp, meta)| {
            let mut m = Match::catchall();
            if let Some(p) = port {
                m = m.in_port(p);
            }
            if let Some(d) = dst {
                m = m.eth_dst(mac(d));
            }
            if let Some(v) = vid {
                m = m.vlan_vid(v);
            }
            if let Some(i) = ip {
                m = m.eth_type(0x0800).ipv4_dst(0xc633_6400 | u32::from(i));
            }
            if let Some(t) = tp {
                m = m.tp_dst(t);
            }
            if let Some(md) = meta {
                m = m.metadata_masked(md, 3);
            }
            m
        })
}

fn action_strategy() -> impl Strategy<Value = Action> {
    prop_oneof![
        (1u32..5).prop_map(Action::Output),
        Just(Action::Controller { max_len: 64 }),
        (1u16..4).prop_map(Action::SetVlanVid),
        Just(Action::PopVlan),
        Just(Action::PushVlan(EtherType::Vlan)),
        (0u8..3).prop_map(|i| Action::SetIpv4Dst(core::net::Ipv4Addr::new(198, 51, 100, i))),
        (50u16..53).prop_map(Action::SetTpDst),
        Just(Action::DecIpTtl),
        (0u8..3).prop_map(|d| Action::SetEthDst(EthernetAddress(mac(d)))),
        Just(Action::Group(1)),
        Just(Action::Group(2)),
        (0u32..2).prop_map(Action::SetQueue),
    ]
}

fn instructions_strategy(table: u8) -> impl Strategy<Value = Instructions> {
    (
        prop::option::weighted(0.8, prop::collection::vec(action_strategy(), 0..4)),
        prop::bool::weighted(0.2),
        prop::option::of(prop::collection::vec(action_strategy(), 0..3)),
        prop::option::of(0u64..4),
        prop::option::weighted(0.8, 0u8..3),
    )
        .prop_map(move |(apply, clear, write, meta, goto)| Instructions {
            meter: None,
            apply_actions: apply,
            clear_actions: clear,
            write_actions: write,
            write_metadata: meta.map(|m| (m, 3)),
            goto_table: goto.filter(|g| *g > table),
        })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (frame_strategy(), 1u32..3).prop_map(|(f, p)| Op::Packet(f, p)),
        2 => (prop::collection::vec(frame_strategy(), 2..4), 1u32..3).prop_map(|(f, p)| Op::Burst(f, p)),
        // Frames with equal flow keys that differ below the key (the inner VLAN tag).
        2 => (0u8..2, 0u16..2, 1u32..3).prop_map(|(ip, port, p)| {
            let qinq = |inner: u16| {
                let mut v = Vec::new();
                PacketBuilder::ethernet2(mac(0), mac(1))
                    .double_vlan(VlanId::try_new(1).unwrap(), VlanId::try_new(inner).unwrap())
                    .ipv4([192, 0, 2, 1], [198, 51, 100, ip], 64)
                    .udp(1000, 50 + port)
                    .write(&mut v, &[0; 4])
                    .unwrap();
                v
            };
            Op::Burst(vec![qinq(2), qinq(3)], p)
        }),
        3 => (0u8..3).prop_flat_map(|t| (Just(t), match_strategy(), 0u16..4, instructions_strategy(t)))
            .prop_map(|(t, m, prio, ins)| Op::Add(t, m, prio, ins)),
        1 => (0u8..3, match_strategy()).prop_map(|(t, m)| Op::Delete(t, m)),
    ]
}

fn twin(cache_capacity: usize) -> Pipeline {
    let mut p = Pipeline::new(PipelineConfig {
        cache_capacity,
        miss: TableMiss::Controller,
        invalid_ttl_to_controller: true,
        ..PipelineConfig::with_tables(3)
    });
    group(
        &mut p,
        1,
        GroupType::All,
        vec![
            Bucket::new(vec![Action::SetVlanVid(3), Action::Output(7)]),
            Bucket::new(vec![Action::Output(8)]),
        ],
    )
    .unwrap();
    group(
        &mut p,
        2,
        GroupType::Select,
        vec![
            Bucket::new(vec![Action::Output(9)]).with_weight(1),
            Bucket::new(vec![Action::DecIpTtl, Action::Output(10)]).with_weight(1),
        ],
    )
    .unwrap();
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn cached_and_uncached_pipelines_agree(ops in prop::collection::vec(op_strategy(), 1..80)) {
        let mut cached = twin(16);
        let mut plain = twin(0);
        for (i, op) in ops.iter().enumerate() {
            let now = Duration::from_millis(i as u64);
            match op {
                Op::Packet(f, port) => {
                    // Each packet twice, so the second meets a warm cache.
                    for _ in 0..2 {
                        let a = run_at(&mut cached, f, *port, now);
                        let b = run_at(&mut plain, f, *port, now);
                        prop_assert_eq!(a, b);
                    }
                }
                Op::Burst(frames, port) => {
                    for _ in 0..3 {
                        for f in frames {
                            let a = run_at(&mut cached, f, *port, now);
                            let b = run_at(&mut plain, f, *port, now);
                            prop_assert_eq!(a, b);
                        }
                    }
                }
                Op::Add(t, m, prio, ins) => {
                    let fm = FlowMod::add(*t, *m, *prio, ins.clone());
                    prop_assert_eq!(cached.flow_mod(&fm, now), plain.flow_mod(&fm, now));
                }
                Op::Delete(t, m) => {
                    let fm = FlowMod::delete(*t, *m);
                    prop_assert_eq!(cached.flow_mod(&fm, now), plain.flow_mod(&fm, now));
                }
            }
        }
        prop_assert_eq!(cached.table_stats(), plain.table_stats());
        let req = FlowStatsRequest::default();
        prop_assert_eq!(cached.flow_stats(&req, T0), plain.flow_stats(&req, T0));
        prop_assert_eq!(cached.group_stats(GROUP_ALL, T0), plain.group_stats(GROUP_ALL, T0));
        prop_assert_eq!(plain.cache_counters().hits, 0);
    }
}

#[test]
fn fan_out_is_bounded() {
    // Ten chained All groups of four buckets each: 4^10 paths, cut at the bucket budget.
    let mut p = pipeline(1, TableMiss::Drop);
    group(
        &mut p,
        0,
        GroupType::All,
        vec![Bucket::new(vec![Action::Output(1)])],
    )
    .unwrap();
    for g in 1..=10 {
        group(
            &mut p,
            g,
            GroupType::All,
            vec![Bucket::new(vec![Action::Group(g - 1)]); 4],
        )
        .unwrap();
    }
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Group(10)]),
    );
    let s = run(&mut p, &udp(1, 2, None, [198, 51, 100, 1], 53, 64), 1);
    assert!(!s.outputs.is_empty());
    assert!(s.outputs.len() < 4096, "{}", s.outputs.len());
}

#[test]
fn meter_remarks_the_excess_exactly() {
    // The os-ken meter cases: 200 packets/s of DSCP 18 (AF21) through a 100 packets/s
    // dscp_remark band with prec_level 1: half leave as AF22 (20), half as they came.
    let mut p = pipeline(1, TableMiss::Drop);
    let band = Band {
        kind: BandKind::DscpRemark { prec_level: 1 },
        rate: 100,
        burst_size: 0,
    };
    p.meter_mod(&meter_mod(1, MeterFlags::PKTPS, vec![band]), T0)
        .unwrap();
    add(
        &mut p,
        0,
        Match::catchall(),
        1,
        Instructions::apply(vec![Action::Output(2)]).with_meter(1),
    );
    let f = udp_dscp(18);
    let (mut remarked, mut kept) = (0u32, 0u32);
    for i in 0..1000u32 {
        let now = Duration::from_millis(5) * i;
        let seen = run_at(&mut p, &f, 1, now);
        assert_eq!(seen.outputs.len(), 1, "a remark band never drops");
        match seen.outputs[0].2[15] >> 2 {
            20 => remarked += 1,
            18 => kept += 1,
            other => panic!("dscp {other}"),
        }
    }
    assert!(
        (500..=512).contains(&kept),
        "{kept} kept, {remarked} remarked"
    );
    assert_eq!(remarked + kept, 1000);
}
