//! One emulated switch, sans IO: it answers what a controller asks during the handshake
//! and afterwards, writes packet_ins on request, and counts what comes back.
//!
//! Like cbench's fake switch it answers HELLO, FEATURES_REQUEST (a unique datapath id and
//! `ports` ports), GET_CONFIG and ECHO, ignores SET_CONFIG, flow_mods and packet_outs
//! (they are only counted: flow_mods that add a flow as flow setups), and never asks
//! anything itself. Beyond cbench it also answers BARRIER, ROLE, GET_ASYNC,
//! QUEUE_GET_CONFIG and statistics (multipart) requests, PORT_DESC included, with minimal
//! replies, so that controllers that wait on one of them proceed (os-ken in OpenFlow 1.3
//! waits for the port description). With `cbench_replies` it answers only what cbench
//! does (features, echo, get_config, desc statistics), to check that a controller never
//! waits on anything else. The driver owns the socket: it feeds whole messages to
//! [`FakeSwitch::handle`] and sends what the switch appended to its output buffer.
//!
//! ## The traffic
//!
//! A learning switch installs a flow only when it knows the destination, and learns only
//! from new sources. So each switch has `macs` source hosts (cycled, on ports 2..=P) and a
//! few destination hosts (`dst_macs`, on port 1) that are taught to the controller before
//! the measurement (the learn phase: one broadcast from each, as cbench's gratuitous ARP).
//! Forward packets go from the next source to the next destination: the controller learns
//! the source and answers with a flow setup. Every [`REVERSE_EVERY`]-th packet goes back,
//! from a destination host to the source just sent: it keeps the destinations fresh in a
//! controller's bounded MAC table (which a cycle through 100,000 sources would otherwise
//! evict), and its destination is known because a controller handles one connection's
//! messages in order.
//!
//! ## Round trips (latency mode)
//!
//! Every packet_in carries a new buffer id. A flow_mod or packet_out naming the buffer id
//! of the packet_in in flight, or naming no buffer, completes the round trip; one naming an
//! older buffer is the second answer to an earlier packet (flow_mod *and* packet_out) and
//! is only counted.

use std::time::{Duration, Instant};

use flowlab_openflow::multipart::{
    AggregateStats, DescStats, MultipartReplyBody, MultipartRequestBody, TableStats,
};
use flowlab_openflow::{
    decode, encode, v10, v13, AsyncConfig, Hello, Message, MultipartReply, MultipartRequest, Port,
    PortNo, QueueGetConfigReply, RoleMsg, SwitchConfig, SwitchFeatures, NO_BUFFER,
};

use super::intervals::Tally;
use super::wire::{self, PacketInTemplate, Response};

/// Every this many packets, one goes from a destination host back to a source.
pub const REVERSE_EVERY: u64 = 16;

/// The broadcast address.
const BROADCAST: [u8; 6] = [0xff; 6];

/// What one emulated switch looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwitchSetup {
    /// Index of the switch in the run (0-based); part of every MAC address.
    pub index: u16,
    /// Datapath id.
    pub dpid: u64,
    /// OpenFlow 1.3 instead of 1.0.
    pub of13: bool,
    /// Ports (at least 2): port 1 holds the destination hosts.
    pub ports: u16,
    /// Distinct source MAC addresses (at most 2^24).
    pub macs: u32,
    /// Distinct destination MAC addresses (at least 1).
    pub dst_macs: u16,
    /// Answer only what cbench answers: no barrier, port-desc, role, async or other
    /// statistics replies.
    pub cbench_replies: bool,
}

/// Which frames the switch sends: source and destination hosts and their ports.
#[derive(Clone, Debug)]
pub struct TrafficPattern {
    switch: u16,
    macs: u32,
    dst_macs: u16,
    ports: u16,
    sent: u64,
    forward: u64,
    last_src: u32,
}

/// One frame to send: input port, source and destination MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameSpec {
    /// Port the frame arrives on.
    pub in_port: u16,
    /// Ethernet source.
    pub src: [u8; 6],
    /// Ethernet destination.
    pub dst: [u8; 6],
}

impl TrafficPattern {
    /// The pattern of a switch.
    pub fn new(s: &SwitchSetup) -> TrafficPattern {
        TrafficPattern {
            switch: s.index,
            macs: s.macs.max(1),
            dst_macs: s.dst_macs.max(1),
            ports: s.ports.max(2),
            sent: 0,
            forward: 0,
            last_src: 0,
        }
    }

    /// Source host `k`'s MAC: 02:SS:SS:KK:KK:KK.
    pub fn src_mac(&self, k: u32) -> [u8; 6] {
        let s = self.switch.to_be_bytes();
        let k = k.to_be_bytes();
        [0x02, s[0], s[1], k[1], k[2], k[3]]
    }

    /// Destination host `j`'s MAC: 06:SS:SS:00:JJ:JJ.
    pub fn dst_mac(&self, j: u16) -> [u8; 6] {
        let s = self.switch.to_be_bytes();
        let j = j.to_be_bytes();
        [0x06, s[0], s[1], 0, j[0], j[1]]
    }

    /// The port of source host `k`: 2..=ports, never the destinations' port 1.
    pub fn src_port(&self, k: u32) -> u16 {
        2 + (k % u32::from(self.ports - 1)) as u16
    }

    /// The learn-phase frame of destination host `j`: a broadcast from it on port 1.
    pub fn learn(&self, j: u16) -> FrameSpec {
        FrameSpec {
            in_port: 1,
            src: self.dst_mac(j),
            dst: BROADCAST,
        }
    }

    /// The next frame of the measurement.
    pub fn next_frame(&mut self) -> FrameSpec {
        let n = self.sent;
        self.sent += 1;
        if n % REVERSE_EVERY == REVERSE_EVERY - 1 {
            let j = ((n / REVERSE_EVERY) % u64::from(self.dst_macs)) as u16;
            return FrameSpec {
                in_port: 1,
                src: self.dst_mac(j),
                dst: self.src_mac(self.last_src),
            };
        }
        let f = self.forward;
        self.forward += 1;
        let k = (f % u64::from(self.macs)) as u32;
        let j = (f % u64::from(self.dst_macs)) as u16;
        self.last_src = k;
        FrameSpec {
            in_port: self.src_port(k),
            src: self.src_mac(k),
            dst: self.dst_mac(j),
        }
    }
}

/// Where the switch is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwitchState {
    /// Waiting for the controller's hello and features request.
    Handshake,
    /// The features request was answered: ready for packet_ins.
    Ready,
    /// The controller cannot talk to this switch (version, closed connection).
    Failed(String),
}

/// One emulated switch.
#[derive(Debug)]
pub struct FakeSwitch {
    setup: SwitchSetup,
    version: u8,
    template: PacketInTemplate,
    pattern: TrafficPattern,
    state: SwitchState,
    next_buffer: u32,
    next_xid: u32,
    in_flight: Option<(u32, Instant)>,
    first_error: Option<String>,
    /// What happened since the driver last took it.
    pub tally: Tally,
}

impl FakeSwitch {
    /// A switch in the handshake state.
    pub fn new(setup: SwitchSetup) -> FakeSwitch {
        FakeSwitch {
            version: wire::version(setup.of13),
            template: PacketInTemplate::new(setup.of13, setup.index),
            pattern: TrafficPattern::new(&setup),
            setup,
            state: SwitchState::Handshake,
            next_buffer: 1,
            next_xid: 1,
            in_flight: None,
            first_error: None,
            tally: Tally::default(),
        }
    }

    /// The state.
    pub fn state(&self) -> &SwitchState {
        &self.state
    }

    /// Marks the switch failed (e.g. the connection closed).
    pub fn fail(&mut self, why: String) {
        if !matches!(self.state, SwitchState::Failed(_)) {
            self.state = SwitchState::Failed(why);
        }
    }

    /// The text of the first OFPT_ERROR the controller sent, if any.
    pub fn first_error(&self) -> Option<&str> {
        self.first_error.as_deref()
    }

    /// Appends the switch's HELLO (sent first on a new connection).
    pub fn hello(&mut self, out: &mut Vec<u8>) {
        let hello = if self.setup.of13 {
            Hello::with_versions(&[v13::VERSION])
        } else {
            Hello::default()
        };
        self.send(out, 0, &Message::Hello(hello));
    }

    fn send(&mut self, out: &mut Vec<u8>, xid: u32, msg: &Message) {
        // The model values built here always encode; a failure would be a bug in this
        // file, which the tests exercise for every reply.
        if let Err(e) = encode(self.version, xid, msg, out) {
            self.fail(format!("cannot encode a reply: {e}"));
        }
    }

    fn take_buffer_id(&mut self) -> u32 {
        let id = self.next_buffer;
        self.next_buffer = self.next_buffer.wrapping_add(1);
        if self.next_buffer == NO_BUFFER {
            self.next_buffer = 1;
        }
        id
    }

    fn push(&mut self, out: &mut Vec<u8>, f: FrameSpec) -> u32 {
        let id = self.take_buffer_id();
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1);
        self.template.push(out, xid, id, f.in_port, f.src, f.dst);
        self.tally.packet_ins += 1;
        id
    }

    /// Appends the learn-phase packet_ins: one broadcast from each destination host.
    pub fn push_learn(&mut self, out: &mut Vec<u8>) {
        for j in 0..self.setup.dst_macs.max(1) {
            let f = self.pattern.learn(j);
            self.push(out, f);
        }
    }

    /// Appends the next packet_in of the measurement; with `now`, it becomes the round
    /// trip in flight (latency mode).
    pub fn push_packet_in(&mut self, out: &mut Vec<u8>, now: Option<Instant>) {
        let f = self.pattern.next_frame();
        let id = self.push(out, f);
        if let Some(t) = now {
            self.in_flight = Some((id, t));
        }
    }

    /// Appends up to `bytes` bytes of packet_ins (at least one).
    pub fn push_batch(&mut self, out: &mut Vec<u8>, bytes: usize) {
        let n = (bytes / self.template.len()).max(1);
        out.reserve(n * self.template.len());
        for _ in 0..n {
            self.push_packet_in(out, None);
        }
    }

    /// Drops the round trip in flight if it is older than `timeout`; returns whether it
    /// did (the caller then sends the next one).
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> bool {
        match self.in_flight {
            Some((_, t)) if now.saturating_duration_since(t) >= timeout => {
                self.in_flight = None;
                self.tally.timeouts += 1;
                true
            }
            _ => false,
        }
    }

    /// Handles one whole message from the controller; appends any reply to `out`. Returns
    /// true if it completed the round trip in flight.
    pub fn handle(&mut self, msg: &[u8], now: Instant, out: &mut Vec<u8>) -> bool {
        let r = wire::classify(msg);
        match r {
            Response::FlowMod(_) => self.tally.flow_mods += 1,
            Response::PacketOut(_) => self.tally.packet_outs += 1,
            Response::Other(_) => {
                self.tally.other += 1;
                self.handle_other(msg, out);
                return false;
            }
        }
        let Some((id, sent)) = self.in_flight else {
            return false;
        };
        match r.buffer_id() {
            Some(b) if b != id && b != NO_BUFFER => false,
            _ => {
                self.in_flight = None;
                self.tally.rtts += 1;
                self.tally.rtt_ns += now.saturating_duration_since(sent).as_nanos() as u64;
                true
            }
        }
    }

    fn ports(&self) -> Vec<Port> {
        let s = self.setup.index.to_be_bytes();
        (1..=self.setup.ports.max(2))
            .map(|p| {
                let pb = p.to_be_bytes();
                Port {
                    port_no: PortNo(u32::from(p)),
                    hw_addr: [0x0a, s[0], s[1], 0, pb[0], pb[1]],
                    name: format!("s{}-eth{p}", self.setup.index),
                    config: 0,
                    state: 0,
                    curr: 1 << 5,
                    advertised: 1 << 5,
                    supported: 1 << 5,
                    peer: 0,
                    curr_speed: if self.setup.of13 { 1_000_000 } else { 0 },
                    max_speed: if self.setup.of13 { 1_000_000 } else { 0 },
                }
            })
            .collect()
    }

    fn features(&self) -> SwitchFeatures {
        let (capabilities, actions, n_tables) = if self.setup.of13 {
            (
                v13::capabilities::FLOW_STATS
                    | v13::capabilities::TABLE_STATS
                    | v13::capabilities::PORT_STATS,
                0,
                254,
            )
        } else {
            (
                v10::capabilities::FLOW_STATS
                    | v10::capabilities::TABLE_STATS
                    | v10::capabilities::PORT_STATS,
                0xfff,
                1,
            )
        };
        SwitchFeatures {
            datapath_id: self.setup.dpid,
            n_buffers: 256,
            n_tables,
            auxiliary_id: 0,
            capabilities,
            actions,
            ports: if self.setup.of13 {
                Vec::new()
            } else {
                self.ports()
            },
        }
    }

    fn multipart_reply(&self, body: &MultipartRequestBody) -> Option<MultipartReplyBody> {
        use MultipartReplyBody as R;
        use MultipartRequestBody as Q;
        Some(match body {
            Q::Desc => R::Desc(DescStats {
                mfr_desc: "flowlab".into(),
                hw_desc: "flowlab-bench emulated switch".into(),
                sw_desc: env!("CARGO_PKG_VERSION").into(),
                serial_num: String::new(),
                dp_desc: format!("switch {}", self.setup.index),
            }),
            Q::Flow(_) => R::Flow(Vec::new()),
            Q::Aggregate(_) => R::Aggregate(AggregateStats::default()),
            Q::Table => R::Table(vec![TableStats {
                name: "classifier".into(),
                wildcards: 0x003f_ffff,
                max_entries: 1_000_000,
                ..TableStats::default()
            }]),
            Q::PortStats(_) => R::PortStats(Vec::new()),
            Q::Queue { .. } => R::Queue(Vec::new()),
            Q::Group(_) => R::Group(Vec::new()),
            Q::GroupDesc => R::GroupDesc(Vec::new()),
            Q::GroupFeatures => R::GroupFeatures(Default::default()),
            Q::Meter(_) => R::Meter(Vec::new()),
            Q::MeterConfig(_) => R::MeterConfig(Vec::new()),
            Q::MeterFeatures => R::MeterFeatures(Default::default()),
            Q::TableFeatures(_) => R::TableFeatures(Vec::new()),
            Q::PortDesc => R::PortDesc(self.ports()),
            Q::Experimenter { .. } => return None,
        })
    }

    fn handle_other(&mut self, msg: &[u8], out: &mut Vec<u8>) {
        let Ok((h, m)) = decode(msg) else {
            return;
        };
        if self.setup.cbench_replies
            && !matches!(
                &m,
                Message::Hello(_)
                    | Message::EchoRequest(_)
                    | Message::FeaturesRequest
                    | Message::GetConfigRequest
                    | Message::Error(_)
                    | Message::MultipartRequest(MultipartRequest {
                        body: MultipartRequestBody::Desc,
                        ..
                    })
            )
        {
            return;
        }
        let reply = match m {
            Message::Hello(hello) => {
                let theirs = hello.versions().unwrap_or_else(|| vec![h.version]);
                let ok = theirs.contains(&self.version) || h.version >= self.version;
                if !ok {
                    self.fail(format!(
                        "the controller offers OpenFlow version(s) {theirs:?}, the switches speak {}",
                        self.version
                    ));
                }
                None
            }
            Message::EchoRequest(data) => Some(Message::EchoReply(data)),
            Message::FeaturesRequest => {
                if self.state == SwitchState::Handshake {
                    self.state = SwitchState::Ready;
                }
                Some(Message::FeaturesReply(self.features()))
            }
            Message::GetConfigRequest => Some(Message::GetConfigReply(SwitchConfig {
                flags: 0,
                miss_send_len: 128,
            })),
            Message::BarrierRequest => Some(Message::BarrierReply),
            Message::MultipartRequest(q) => self
                .multipart_reply(&q.body)
                .map(|body| Message::MultipartReply(MultipartReply { flags: 0, body })),
            Message::RoleRequest(r) => Some(Message::RoleReply(RoleMsg {
                role: if r.role == 0 { 1 } else { r.role },
                generation_id: r.generation_id,
            })),
            Message::GetAsyncRequest => Some(Message::GetAsyncReply(AsyncConfig::default())),
            Message::QueueGetConfigRequest(port) => {
                Some(Message::QueueGetConfigReply(QueueGetConfigReply {
                    port,
                    queues: Vec::new(),
                }))
            }
            Message::Error(e) => {
                self.tally.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(format!("{:?}", e.code));
                }
                None
            }
            _ => None,
        };
        if let Some(r) = reply {
            self.send(out, h.xid, &r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlab_openflow::PacketIn;

    fn setup(of13: bool) -> SwitchSetup {
        SwitchSetup {
            index: 3,
            dpid: 0x42,
            of13,
            ports: 4,
            macs: 5,
            dst_macs: 2,
            cbench_replies: false,
        }
    }

    fn decode_all(mut buf: &[u8]) -> Vec<(u32, Message)> {
        let mut v = Vec::new();
        while !buf.is_empty() {
            let n = flowlab_openflow::frame_len(buf).unwrap().unwrap();
            let (h, m) = decode(&buf[..n]).unwrap();
            v.push((h.xid, m));
            buf = &buf[n..];
        }
        v
    }

    fn msg(of13: bool, xid: u32, m: Message) -> Vec<u8> {
        let mut out = Vec::new();
        encode(wire::version(of13), xid, &m, &mut out).unwrap();
        out
    }

    #[test]
    fn pattern_learns_sources_and_sends_to_known_destinations() {
        let s = setup(false);
        let mut p = TrafficPattern::new(&s);
        let frames: Vec<FrameSpec> = (0..64).map(|_| p.next_frame()).collect();
        let mut learned = std::collections::HashMap::new();
        for j in 0..s.dst_macs {
            let f = p.learn(j);
            assert_eq!(f.dst, BROADCAST);
            learned.insert(f.src, f.in_port);
        }
        for (n, f) in frames.iter().enumerate() {
            // Every destination was learned before, on another port than the input.
            let port = learned.get(&f.dst).copied();
            assert!(port.is_some(), "frame {n}: unknown destination {:?}", f.dst);
            assert_ne!(port, Some(f.in_port), "frame {n}");
            learned.insert(f.src, f.in_port);
            assert_eq!(f.src[1..3], [0, 3]);
        }
        let reverse = frames.iter().filter(|f| f.in_port == 1).count();
        assert_eq!(reverse, 64 / REVERSE_EVERY as usize);
        // Sources cycle through `macs` addresses, destinations through `dst_macs`.
        let srcs: std::collections::HashSet<_> = frames
            .iter()
            .filter(|f| f.in_port != 1)
            .map(|f| f.src)
            .collect();
        assert_eq!(srcs.len(), 5);
        let dsts: std::collections::HashSet<_> = frames
            .iter()
            .filter(|f| f.in_port != 1)
            .map(|f| f.dst)
            .collect();
        assert_eq!(dsts.len(), 2);
        assert!(frames.iter().all(|f| (1..=4).contains(&f.in_port)));
    }

    #[test]
    fn handshake_answers_like_a_switch() {
        for of13 in [false, true] {
            let mut sw = FakeSwitch::new(setup(of13));
            let mut out = Vec::new();
            sw.hello(&mut out);
            let hello = decode_all(&out);
            assert!(matches!(hello[0].1, Message::Hello(_)));
            out.clear();

            let now = Instant::now();
            let v = if of13 { v13::VERSION } else { v10::VERSION };
            let their_hello = msg(of13, 1, Message::Hello(Hello::with_versions(&[1, v])));
            assert!(!sw.handle(&their_hello, now, &mut out));
            assert!(out.is_empty());
            assert_eq!(sw.state(), &SwitchState::Handshake);

            for (xid, m) in [
                (7, Message::FeaturesRequest),
                (8, Message::GetConfigRequest),
                (9, Message::EchoRequest(vec![1, 2, 3])),
                (10, Message::BarrierRequest),
                (
                    11,
                    Message::MultipartRequest(MultipartRequest {
                        flags: 0,
                        body: MultipartRequestBody::Desc,
                    }),
                ),
                (
                    12,
                    Message::SetConfig(SwitchConfig {
                        flags: 0,
                        miss_send_len: 0xffff,
                    }),
                ),
            ] {
                sw.handle(&msg(of13, xid, m), now, &mut out);
            }
            if of13 {
                sw.handle(
                    &msg(
                        of13,
                        13,
                        Message::MultipartRequest(MultipartRequest {
                            flags: 0,
                            body: MultipartRequestBody::PortDesc,
                        }),
                    ),
                    now,
                    &mut out,
                );
            }
            assert_eq!(sw.state(), &SwitchState::Ready);
            let replies = decode_all(&out);
            let Message::FeaturesReply(f) = &replies[0].1 else {
                panic!("{:?}", replies[0])
            };
            assert_eq!(replies[0].0, 7);
            assert_eq!(f.datapath_id, 0x42);
            assert_eq!(f.ports.len(), if of13 { 0 } else { 4 });
            assert!(matches!(replies[1], (8, Message::GetConfigReply(_))));
            assert_eq!(replies[2], (9, Message::EchoReply(vec![1, 2, 3])));
            assert_eq!(replies[3], (10, Message::BarrierReply));
            assert!(matches!(
                &replies[4],
                (
                    11,
                    Message::MultipartReply(MultipartReply {
                        body: MultipartReplyBody::Desc(_),
                        ..
                    })
                )
            ));
            if of13 {
                let Message::MultipartReply(MultipartReply {
                    body: MultipartReplyBody::PortDesc(p),
                    ..
                }) = &replies[5].1
                else {
                    panic!("{:?}", replies[5])
                };
                assert_eq!(p.len(), 4);
            }
            assert_eq!(replies.len(), if of13 { 6 } else { 5 });
            assert_eq!(sw.tally.other, if of13 { 8 } else { 7 });
        }
    }

    #[test]
    fn cbench_replies_answer_only_what_cbench_answers() {
        let mut sw = FakeSwitch::new(SwitchSetup {
            cbench_replies: true,
            ..setup(true)
        });
        let now = Instant::now();
        let mut out = Vec::new();
        for (xid, m) in [
            (1, Message::BarrierRequest),
            (
                2,
                Message::MultipartRequest(MultipartRequest {
                    flags: 0,
                    body: MultipartRequestBody::PortDesc,
                }),
            ),
            (3, Message::GetAsyncRequest),
        ] {
            sw.handle(&msg(true, xid, m), now, &mut out);
        }
        assert!(out.is_empty());
        sw.handle(&msg(true, 4, Message::FeaturesRequest), now, &mut out);
        sw.handle(&msg(true, 5, Message::EchoRequest(vec![])), now, &mut out);
        let replies = decode_all(&out);
        assert!(matches!(replies[0], (4, Message::FeaturesReply(_))));
        assert_eq!(replies[1], (5, Message::EchoReply(vec![])));
        assert_eq!(replies.len(), 2);
    }

    #[test]
    fn refuses_a_controller_without_its_version() {
        let mut sw = FakeSwitch::new(setup(true));
        let mut out = Vec::new();
        let h = msg(false, 1, Message::Hello(Hello::default()));
        sw.handle(&h, Instant::now(), &mut out);
        assert!(matches!(sw.state(), SwitchState::Failed(_)));
    }

    #[test]
    fn round_trips_complete_on_their_own_buffer_or_no_buffer() {
        let mut sw = FakeSwitch::new(setup(false));
        let mut out = Vec::new();
        let t0 = Instant::now();
        sw.push_packet_in(&mut out, Some(t0));
        let sent = decode_all(&out);
        let Message::PacketIn(PacketIn { buffer_id, .. }) = sent[0].1 else {
            panic!()
        };
        assert!(sw.in_flight.is_some());
        let mut fm = wire::FlowModTemplate::new(false);
        let mut resp = Vec::new();
        // A stale answer (an older buffer) is counted but completes nothing.
        fm.push(&mut resp, 1, buffer_id.wrapping_sub(1));
        let t1 = t0 + Duration::from_micros(50);
        assert!(!sw.handle(&resp, t1, &mut Vec::new()));
        assert!(sw.in_flight.is_some());
        resp.clear();
        fm.push(&mut resp, 2, buffer_id);
        assert!(sw.handle(&resp, t1, &mut Vec::new()));
        assert!(sw.in_flight.is_none());
        assert_eq!(sw.tally.flow_mods, 2);
        assert_eq!(sw.tally.rtts, 1);
        assert_eq!(sw.tally.rtt_ns, 50_000);
        // The packet_out for the same buffer arrives after: counted, nothing in flight.
        let po = msg(
            false,
            3,
            Message::PacketOut(flowlab_openflow::PacketOut {
                buffer_id,
                in_port: PortNo(2),
                actions: vec![],
                data: vec![],
            }),
        );
        assert!(!sw.handle(&po, t1, &mut Vec::new()));
        assert_eq!(sw.tally.packet_outs, 1);
        // No buffer: completes.
        sw.push_packet_in(&mut out, Some(t1));
        resp.clear();
        fm = wire::FlowModTemplate::new(false);
        fm.push(&mut resp, 4, NO_BUFFER);
        assert!(sw.handle(&resp, t1, &mut Vec::new()));
        // Timeouts.
        sw.push_packet_in(&mut out, Some(t1));
        assert!(!sw.expire(t1 + Duration::from_millis(5), Duration::from_millis(10)));
        assert!(sw.expire(t1 + Duration::from_millis(10), Duration::from_millis(10)));
        assert_eq!(sw.tally.timeouts, 1);
        assert_eq!(sw.tally.packet_ins, 3);
    }

    #[test]
    fn batches_fill_the_requested_bytes() {
        let mut sw = FakeSwitch::new(setup(true));
        let mut out = Vec::new();
        sw.push_batch(&mut out, 10_000);
        let msgs = decode_all(&out);
        assert_eq!(msgs.len() as u64, sw.tally.packet_ins);
        assert!(out.len() <= 10_000 && out.len() + sw.template.len() > 10_000);
        let ids: Vec<u32> = msgs
            .iter()
            .map(|(_, m)| match m {
                Message::PacketIn(p) => p.buffer_id,
                _ => panic!(),
            })
            .collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        sw.push_learn(&mut out);
        assert_eq!(sw.tally.packet_ins, msgs.len() as u64 + 2);
    }
}
