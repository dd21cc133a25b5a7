//! The agent driven in memory: a fake controller speaks to it through the codec, frames go
//! in and come out, time is stepped by hand. No sockets, no sleeps.

use std::time::Duration;

use flowlab_datapath::counters::PortCounters;
use flowlab_openflow::model::error_code::{
    BadRequestCode, ErrorCode, FlowModFailedCode, HelloFailedCode,
};
use flowlab_openflow::model::multipart::{MultipartReplyBody, MultipartRequestBody};
use flowlab_openflow::model::{
    Action, FlowMod, FlowModCommand, Hello, Instruction, Match, Message, MultipartRequest,
    OxmField, OxmId, PacketOut, PortNo, RoleMsg, NO_BUFFER,
};

use crate::agent::{
    Agent, AgentConfig, AgentFailMode, ConnId, FrameOutputs, Origin, PortCounterSource, VersionSet,
};

struct NoCounters;
impl PortCounterSource for NoCounters {
    fn port_counters(&self, _port: u32) -> Option<PortCounters> {
        Some(PortCounters::default())
    }
}

struct Harness {
    agent: Agent,
    out: FrameOutputs,
    now: Duration,
    xid: u32,
}

const T0: Duration = Duration::from_secs(100);

impl Harness {
    fn new(fail_mode: AgentFailMode) -> Harness {
        let mut agent = Agent::new(AgentConfig {
            datapath_id: 0x42,
            fail_mode,
            n_tables: 4,
            ..AgentConfig::default()
        });
        for p in 1..=3 {
            agent.add_port(p, &format!("p{p}"), T0);
        }
        Harness {
            agent,
            out: FrameOutputs::default(),
            now: T0,
            xid: 1,
        }
    }

    /// A connection that said hello with `version`; its hello reply is drained.
    fn connect(&mut self, origin: Origin, version: u8) -> ConnId {
        let id = self.agent.open(origin, self.now);
        let hello = if version == 4 {
            Hello::with_versions(&[4])
        } else {
            Hello::default()
        };
        self.send(id, version, &Message::Hello(hello));
        let got = self.recv(id);
        assert!(
            matches!(got.first(), Some((_, Message::Hello(_)))),
            "{got:?}"
        );
        assert_eq!(self.agent.version(id), Some(version));
        id
    }

    fn send(&mut self, id: ConnId, version: u8, msg: &Message) {
        let mut buf = Vec::new();
        self.xid += 1;
        flowlab_openflow::encode(version, self.xid, msg, &mut buf).unwrap();
        self.agent
            .receive(id, &buf, self.now, &NoCounters, &mut self.out);
    }

    /// Everything the agent queued for `id`, decoded.
    fn recv(&mut self, id: ConnId) -> Vec<(u32, Message)> {
        let bytes = self.agent.pending(id).to_vec();
        self.agent.consume(id, bytes.len());
        let mut out = Vec::new();
        let mut at = 0;
        while at + 8 <= bytes.len() {
            let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
            let (h, m) = flowlab_openflow::decode(&bytes[at..at + len]).unwrap();
            out.push((h.xid, m));
            at += len;
        }
        out
    }

    fn frame(&mut self, in_port: u32, bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
        self.out.clear();
        let mut f = bytes.to_vec();
        self.agent.frame(in_port, &mut f, self.now, &mut self.out);
        let mut v: Vec<(u32, Vec<u8>)> = self
            .out
            .frames
            .iter()
            .map(|(p, r)| (*p, self.out.arena[r.clone()].to_vec()))
            .collect();
        v.extend(
            self.out
                .normal
                .iter()
                .map(|(p, r)| (1000 + *p, self.out.arena[r.clone()].to_vec())),
        );
        v
    }
}

fn udp_frame(dst_last: u8) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, dst_last]);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&46u16.to_be_bytes());
    f[22] = 64;
    f[23] = 17;
    f[26..30].copy_from_slice(&[198, 51, 100, 1]);
    f[30..34].copy_from_slice(&[198, 51, 100, 2]);
    f[34..36].copy_from_slice(&5000u16.to_be_bytes());
    f[36..38].copy_from_slice(&53u16.to_be_bytes());
    f[38..40].copy_from_slice(&26u16.to_be_bytes());
    f
}

fn flow(table: u8, priority: u16, m: Match, actions: Vec<Action>) -> Message {
    Message::FlowMod(FlowMod {
        table_id: table,
        priority,
        match_: m,
        instructions: vec![Instruction::ApplyActions(actions)],
        ..FlowMod::default()
    })
}

#[test]
fn hello_negotiates_and_features_describe_the_switch() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c = h.connect(Origin::Passive, 4);
    h.send(c, 4, &Message::FeaturesRequest);
    match &h.recv(c)[..] {
        [(_, Message::FeaturesReply(f))] => {
            assert_eq!(f.datapath_id, 0x42);
            assert_eq!(f.n_tables, 4);
            assert_eq!(f.n_buffers, 0);
        }
        other => panic!("{other:?}"),
    }
    let c10 = h.connect(Origin::Passive, 1);
    h.send(c10, 1, &Message::FeaturesRequest);
    match &h.recv(c10)[..] {
        [(_, Message::FeaturesReply(f))] => {
            assert_eq!(f.n_tables, 1, "1.0 controllers see table 0 only");
            assert_eq!(f.ports.len(), 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_shared_version_gets_an_actionable_error_and_a_close() {
    let mut out = FrameOutputs::default();
    let mut a = Agent::new(AgentConfig {
        versions: VersionSet {
            of10: true,
            of13: false,
        },
        ..AgentConfig::default()
    });
    let id = a.open(Origin::Passive, T0);
    let ours = a.pending(id).to_vec();
    a.consume(id, ours.len());
    assert_eq!(ours[0], 1, "a 1.0-only switch says hello as 1.0");
    let mut buf = Vec::new();
    flowlab_openflow::encode(4, 7, &Message::Hello(Hello::with_versions(&[4])), &mut buf).unwrap();
    a.receive(id, &buf, T0, &NoCounters, &mut out);
    let reply = a.pending(id).to_vec();
    let (_, m) = flowlab_openflow::decode(&reply).unwrap();
    match m {
        Message::Error(e) => {
            assert_eq!(
                e.code,
                ErrorCode::HelloFailed(HelloFailedCode::Incompatible)
            );
            let text = String::from_utf8_lossy(&e.data);
            assert!(text.contains("1.0") && text.contains("1.3"), "{text}");
            assert!(text.contains("--protocols"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(a.close_requested(id).is_some());
}

#[test]
fn echo_barrier_and_unknown_versions() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c = h.connect(Origin::Passive, 4);
    h.send(c, 4, &Message::EchoRequest(b"ping".to_vec()));
    h.send(c, 4, &Message::BarrierRequest);
    let got = h.recv(c);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, Message::EchoReply(b"ping".to_vec()));
    assert_eq!(got[1].1, Message::BarrierReply);
    assert_eq!(got[1].0, h.xid, "the reply carries the request's xid");
    // A 1.0 message on a 1.3 connection.
    h.send(c, 1, &Message::BarrierRequest);
    match &h.recv(c)[..] {
        [(_, Message::Error(e))] => {
            assert_eq!(e.code, ErrorCode::BadRequest(BadRequestCode::BadVersion))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn flows_forward_and_count_and_misses_follow_the_version() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c13 = h.connect(Origin::Passive, 4);
    let c10 = h.connect(Origin::Passive, 1);
    // A miss: a packet-in for the 1.0 connection only.
    assert!(h.frame(1, &udp_frame(2)).is_empty());
    assert!(
        h.recv(c13).is_empty(),
        "1.3 drops a miss without a table-miss entry"
    );
    match &h.recv(c10)[..] {
        [(_, Message::PacketIn(p))] => {
            assert_eq!(p.reason, 0);
            assert_eq!(p.in_port(), Some(PortNo(1)));
            assert_eq!(p.buffer_id, NO_BUFFER);
            assert_eq!(usize::from(p.total_len), 60);
        }
        other => panic!("{other:?}"),
    }
    // A flow in table 0 going to table 1, which outputs.
    let m = Match::new()
        .with(OxmField::in_port(PortNo(1)))
        .with(OxmField::eth_type(0x0800));
    h.send(
        c13,
        4,
        &Message::FlowMod(FlowMod {
            priority: 10,
            match_: m,
            instructions: vec![Instruction::GotoTable(1)],
            ..FlowMod::default()
        }),
    );
    h.send(
        c13,
        4,
        &flow(1, 5, Match::new(), vec![Action::output(PortNo(3))]),
    );
    assert!(h.recv(c13).is_empty(), "no errors");
    let out = h.frame(1, &udp_frame(2));
    assert_eq!(out, vec![(3, udp_frame(2))]);
    // Flow stats echo what was sent, and the counters rose.
    h.send(
        c13,
        4,
        &Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::Flow(
                flowlab_openflow::model::multipart::FlowStatsRequest {
                    table_id: 0xff,
                    out_port: PortNo::ANY,
                    out_group: 0xffff_ffff,
                    cookie: 0,
                    cookie_mask: 0,
                    match_: Match::new(),
                },
            ),
        }),
    );
    match &h.recv(c13)[..] {
        [(_, Message::MultipartReply(r))] => match &r.body {
            MultipartReplyBody::Flow(stats) => {
                assert_eq!(stats.len(), 2);
                let t1 = stats.iter().find(|s| s.table_id == 1).unwrap();
                assert_eq!(t1.packet_count, 1);
                assert_eq!(t1.byte_count, 60);
                assert_eq!(
                    t1.instructions,
                    vec![Instruction::ApplyActions(vec![Action::output(PortNo(3))])]
                );
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn table_miss_entry_sends_packet_ins_to_13_controllers() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c = h.connect(Origin::Controller(0), 4);
    h.send(
        c,
        4,
        &flow(
            0,
            0,
            Match::new(),
            vec![Action::Output {
                port: PortNo::CONTROLLER,
                max_len: 20,
            }],
        ),
    );
    assert!(h.frame(2, &udp_frame(9)).is_empty());
    match &h.recv(c)[..] {
        [(_, Message::PacketIn(p))] => {
            assert_eq!(p.reason, 0, "a table-miss entry reports NO_MATCH");
            assert_eq!(p.data, udp_frame(9)[..20].to_vec(), "max_len honoured");
            assert_eq!(usize::from(p.total_len), 60);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.agent.stats().packet_ins, 1);
}

#[test]
fn packet_out_and_flood_respect_port_config() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c = h.connect(Origin::Passive, 4);
    h.out.clear();
    h.send(
        c,
        4,
        &Message::PacketOut(PacketOut {
            buffer_id: NO_BUFFER,
            in_port: PortNo::CONTROLLER,
            actions: vec![Action::output(PortNo::FLOOD)],
            data: udp_frame(7),
        }),
    );
    let mut ports: Vec<u32> = h.out.frames.iter().map(|(p, _)| *p).collect();
    ports.sort_unstable();
    assert_eq!(ports, vec![1, 2, 3]);
    // NO_FWD on port 2 (port mod needs the port's address).
    let hw = h.agent.port_descs()[1].hw_addr;
    h.send(
        c,
        4,
        &Message::PortMod(flowlab_openflow::model::PortMod {
            port_no: PortNo(2),
            hw_addr: hw,
            config: flowlab_openflow::model::port::config::NO_FWD,
            mask: flowlab_openflow::model::port::config::NO_FWD,
            advertise: 0,
        }),
    );
    let status = h.recv(c);
    assert!(
        matches!(&status[..], [(_, Message::PortStatus(s))] if s.reason == 2),
        "{status:?}"
    );
    h.send(
        c,
        4,
        &flow(0, 1, Match::new(), vec![Action::output(PortNo::ALL)]),
    );
    let mut ports: Vec<u32> = h.frame(1, &udp_frame(7)).iter().map(|x| x.0).collect();
    ports.sort_unstable();
    assert_eq!(ports, vec![3], "not back to 1, not to the NO_FWD port");
}

#[test]
fn slaves_cannot_modify_and_masters_demote_each_other() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let a = h.connect(Origin::Controller(0), 4);
    let b = h.connect(Origin::Controller(1), 4);
    h.send(
        a,
        4,
        &Message::RoleRequest(RoleMsg {
            role: 2,
            generation_id: 5,
        }),
    );
    h.recv(a);
    h.send(
        b,
        4,
        &Message::RoleRequest(RoleMsg {
            role: 2,
            generation_id: 6,
        }),
    );
    h.recv(b);
    assert_eq!(h.agent.role(a), Some(crate::conn::Role::Slave));
    h.send(a, 4, &flow(0, 1, Match::new(), vec![]));
    match &h.recv(a)[..] {
        [(_, Message::Error(e))] => {
            assert_eq!(e.code, ErrorCode::BadRequest(BadRequestCode::IsSlave))
        }
        other => panic!("{other:?}"),
    }
    // A stale generation id is refused.
    h.send(
        a,
        4,
        &Message::RoleRequest(RoleMsg {
            role: 2,
            generation_id: 4,
        }),
    );
    assert!(matches!(&h.recv(a)[..], [(_, Message::Error(_))]));
}

#[test]
fn standalone_learns_only_while_no_controller_is_connected() {
    let mut h = Harness::new(AgentFailMode::Standalone);
    let out = h.frame(1, &udp_frame(2));
    assert_eq!(out, vec![(1001, udp_frame(2))], "to the learning switch");
    let c = h.connect(Origin::Controller(0), 4);
    assert!(
        h.frame(1, &udp_frame(2)).is_empty(),
        "a connected controller owns misses"
    );
    h.agent.close(c, h.now);
    assert_eq!(h.frame(1, &udp_frame(2)).len(), 1);
    let mut s = Harness::new(AgentFailMode::Secure);
    assert!(s.frame(1, &udp_frame(2)).is_empty(), "secure never learns");
}

#[test]
fn overlap_and_bad_table_errors() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c = h.connect(Origin::Passive, 4);
    h.send(
        c,
        4,
        &flow(0, 5, Match::new().with(OxmField::eth_type(0x0800)), vec![]),
    );
    let mut m = FlowMod {
        priority: 5,
        flags: 2, // CHECK_OVERLAP
        match_: Match::new().with(OxmField::from_uint(OxmId::InPort, 1)),
        ..FlowMod::default()
    };
    h.send(c, 4, &Message::FlowMod(m.clone()));
    match &h.recv(c)[..] {
        [(_, Message::Error(e))] => {
            assert_eq!(e.code, ErrorCode::FlowModFailed(FlowModFailedCode::Overlap))
        }
        other => panic!("{other:?}"),
    }
    m.flags = 0;
    m.table_id = 9;
    h.send(c, 4, &Message::FlowMod(m.clone()));
    assert!(matches!(&h.recv(c)[..], [(_, Message::Error(_))]));
    m.table_id = 0;
    m.command = FlowModCommand::Delete;
    h.send(c, 4, &Message::FlowMod(m));
    assert!(h.recv(c).is_empty());
}

#[test]
fn silent_peers_are_probed_then_dropped() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c = h.connect(Origin::Controller(0), 4);
    h.now += Duration::from_secs(6);
    h.agent.tick(h.now, &mut h.out);
    assert!(matches!(&h.recv(c)[..], [(_, Message::EchoRequest(_))]));
    h.now += Duration::from_secs(6);
    h.agent.tick(h.now, &mut h.out);
    assert!(h.agent.close_requested(c).is_some());
}

#[test]
fn garbage_never_panics() {
    let mut h = Harness::new(AgentFailMode::Secure);
    let c = h.connect(Origin::Passive, 4);
    let mut seed = 0x1234_5678u32;
    for _ in 0..2000 {
        let mut bytes = vec![4u8, 0, 0, 0, 0, 0, 0, 0];
        for b in bytes.iter_mut().skip(1) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (seed >> 16) as u8;
        }
        let len = 8 + (seed % 40) as usize;
        bytes[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        bytes.resize(len, 0xa5);
        h.agent.receive(c, &bytes, h.now, &NoCounters, &mut h.out);
        let n = h.agent.pending(c).len();
        h.agent.consume(c, n);
    }
}
