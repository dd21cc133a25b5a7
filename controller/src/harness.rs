//! A deterministic harness: the controller and its apps wired to in-memory switches,
//! stepped without sockets, threads or sleeps.
//!
//! Two kinds of switch take part. [`Harness::add_switch`] adds the real switch agent of
//! flowlab-hub ([`Agent`], sans-IO like the controller) with its pipeline, so flows the
//! apps install really forward frames, expire on their timeouts and come back as
//! flow-removed messages. [`Harness::add_fake`] adds a [`FakeSwitch`], which answers only
//! what cbench's emulated switches answer (hello, features, echo) and records everything
//! else, for the cases a real agent cannot show: a switch that buffers packets, or one
//! that leaves `PORT_DESC` unanswered.
//!
//! Agents can be wired together: [`Harness::wire`] joins a port of one switch to a port
//! of another, so a frame sent out of one end arrives at the other, as on a cable; this
//! is how topology discovery, routing and flooding are tested on triangles and rings.
//! [`Harness::cut`] and [`Harness::mend`] take a cable's link down and up on both ends
//! (each switch reports a `PORT_STATUS`), and [`Harness::cut_silently`] breaks a cable
//! without telling either switch, which only a link timeout can notice.
//!
//! [`Harness::run`] moves bytes between the switches and the controller, and frames along
//! the cables, until nothing moves. A forwarding loop never stops moving, so `run` panics
//! after [`MAX_ROUNDS`] rounds or [`MAX_WIRE_FRAMES`] frames on the cables in one run:
//! a test that floods in a topology with loops fails instead of hanging. Time moves
//! only in [`Harness::advance`], which ticks every switch and the controller at the new
//! time and runs again.

use std::time::Duration;

use flowlab_datapath::counters::PortCounters;
use flowlab_ofagent::agent::PortCounterSource;
use flowlab_ofagent::agent::{Agent, AgentConfig, ConnId as AgentConnId, FrameOutputs, Origin};
use flowlab_openflow::model::{
    Match, Message, OxmField, PacketIn, Port, PortNo, SwitchFeatures, NO_BUFFER,
};
use flowlab_openflow::{Framer, Hello};

use crate::controller::{ConnId, Controller};
use crate::switch_conn::OFP13;

/// Rounds of [`Harness::run`] before it gives up on a conversation that never ends.
pub const MAX_ROUNDS: usize = 10_000;

/// Frames carried by the cables in one [`Harness::run`] before it declares a storm.
pub const MAX_WIRE_FRAMES: usize = 100_000;

/// One end of a cable: (switch index, port number).
pub type End = (usize, u32);

#[derive(Debug, Clone, Copy)]
struct Wire {
    a: End,
    b: End,
    /// Carries frames (false after `cut` or `cut_silently`).
    up: bool,
}

struct NoCounters;

impl PortCounterSource for NoCounters {
    fn port_counters(&self, _port: u32) -> Option<PortCounters> {
        Some(PortCounters::default())
    }
}

/// A switch that answers hello, features and echo requests and nothing else, as cbench's
/// emulated switches do. Everything else it receives is kept in
/// [`FakeSwitch::received`].
#[derive(Debug)]
pub struct FakeSwitch {
    version: u8,
    dpid: u64,
    n_buffers: u32,
    ports: Vec<Port>,
    framer: Framer,
    output: Vec<u8>,
    xid: u32,
    /// Messages received and not answered, in order.
    pub received: Vec<Message>,
}

impl FakeSwitch {
    /// A switch speaking only `version`, with `n_buffers` packet buffers and ports
    /// `1..=n_ports` (listed in the 1.0 features reply; a 1.3 fake lists none anywhere).
    pub fn new(version: u8, dpid: u64, n_buffers: u32, n_ports: u32) -> FakeSwitch {
        let ports = (1..=n_ports)
            .map(|n| Port {
                port_no: PortNo(n),
                name: format!("fake{n}"),
                ..Port::default()
            })
            .collect();
        let mut s = FakeSwitch {
            version,
            dpid,
            n_buffers,
            ports,
            framer: Framer::new(),
            output: Vec::new(),
            xid: 0,
            received: Vec::new(),
        };
        let hello = if version >= OFP13 {
            Hello::with_versions(&[version])
        } else {
            Hello::default()
        };
        s.send(0, &Message::Hello(hello));
        s
    }

    fn send(&mut self, xid: u32, m: &Message) {
        // Only messages every version can carry are sent.
        let _ = flowlab_openflow::encode(self.version, xid, m, &mut self.output);
    }

    fn receive(&mut self, bytes: &[u8]) {
        self.framer.extend(bytes);
        let mut msgs = Vec::new();
        while let Some(Ok(frame)) = self.framer.next_frame() {
            if let Ok((h, m)) = flowlab_openflow::decode(frame) {
                msgs.push((h.xid, m));
            }
        }
        for (xid, m) in msgs {
            match m {
                Message::Hello(_) => {}
                Message::FeaturesRequest => {
                    let ports = if self.version >= OFP13 {
                        Vec::new()
                    } else {
                        self.ports.clone()
                    };
                    let f = SwitchFeatures {
                        datapath_id: self.dpid,
                        n_buffers: self.n_buffers,
                        n_tables: 1,
                        ports,
                        ..SwitchFeatures::default()
                    };
                    self.send(xid, &Message::FeaturesReply(f));
                }
                Message::EchoRequest(d) => self.send(xid, &Message::EchoReply(d)),
                other => self.received.push(other),
            }
        }
    }

    /// Sends a packet-in of `data` from `in_port`, in `buffer_id` (or [`NO_BUFFER`]).
    pub fn packet_in(&mut self, in_port: u32, buffer_id: u32, data: &[u8]) {
        self.xid += 1;
        let pi = PacketIn {
            buffer_id,
            total_len: data.len() as u16,
            reason: 0,
            table_id: 0,
            cookie: 0,
            match_: Match::new().with(OxmField::in_port(PortNo(in_port))),
            data: data.to_vec(),
        };
        let xid = self.xid;
        self.send(xid, &Message::PacketIn(pi));
    }

    /// Forgets what was received.
    pub fn take_received(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.received)
    }
}

/// A real switch agent and what its ports sent.
#[derive(Debug)]
struct AgentSwitch {
    agent: Agent,
    conn: AgentConnId,
    delivered: Vec<(u32, Vec<u8>)>,
}

#[derive(Debug)]
enum Node {
    Agent(Box<AgentSwitch>),
    Fake(FakeSwitch),
}

#[derive(Debug)]
struct Attached {
    node: Node,
    /// The controller's connection, None once disconnected.
    ctl: Option<ConnId>,
}

/// The controller and in-memory switches. See the module documentation.
#[derive(Debug)]
pub struct Harness {
    controller: Controller,
    switches: Vec<Attached>,
    now: Duration,
    out: FrameOutputs,
    buf: Vec<u8>,
    wires: Vec<Wire>,
    wire_frames: u64,
}

/// Where the clock starts.
pub const T0: Duration = Duration::from_secs(1000);

impl Harness {
    /// A harness around `controller`, at time [`T0`].
    pub fn new(controller: Controller) -> Harness {
        Harness {
            controller,
            switches: Vec::new(),
            now: T0,
            out: FrameOutputs::default(),
            buf: Vec::new(),
            wires: Vec::new(),
            wire_frames: 0,
        }
    }

    /// Joins port `a.1` of switch `a.0` to port `b.1` of switch `b.0` with a cable
    /// (both must be agents). Frames sent out of either end arrive at the other.
    pub fn wire(&mut self, a: End, b: End) {
        self.wires.push(Wire { a, b, up: true });
    }

    fn wire_index(&self, a: End, b: End) -> Option<usize> {
        self.wires
            .iter()
            .position(|w| (w.a == a && w.b == b) || (w.a == b && w.b == a))
    }

    /// Takes the cable between `a` and `b` down: both ports lose their link (each switch
    /// sends a `PORT_STATUS`), and nothing crosses it. Then runs.
    pub fn cut(&mut self, a: End, b: End) {
        self.set_wire(a, b, false, true);
    }

    /// Breaks the cable between `a` and `b` without either switch noticing (no port
    /// status): only a link timeout can tell. Then runs.
    pub fn cut_silently(&mut self, a: End, b: End) {
        self.set_wire(a, b, false, false);
    }

    /// Brings the cable between `a` and `b` back up (and both links). Then runs.
    pub fn mend(&mut self, a: End, b: End) {
        self.set_wire(a, b, true, true);
    }

    fn set_wire(&mut self, a: End, b: End, up: bool, tell: bool) {
        let i = self
            .wire_index(a, b)
            .unwrap_or_else(|| panic!("no cable between {a:?} and {b:?}"));
        self.wires[i].up = up;
        if tell {
            for (sw, port) in [a, b] {
                if let Some(Node::Agent(ag)) = self.switches.get_mut(sw).map(|s| &mut s.node) {
                    ag.agent.set_link(port, up);
                }
            }
        }
        self.run();
    }

    /// Adds port `port` to agent `sw` (the switch sends a `PORT_STATUS` add). Then runs.
    pub fn add_port(&mut self, sw: usize, port: u32) {
        if let Some(Node::Agent(a)) = self.switches.get_mut(sw).map(|s| &mut s.node) {
            a.agent.add_port(port, &format!("p{port}"), self.now);
        }
        self.run();
    }

    /// Removes port `port` from agent `sw` (the switch sends a `PORT_STATUS` delete).
    /// Then runs.
    pub fn remove_port(&mut self, sw: usize, port: u32) {
        if let Some(Node::Agent(a)) = self.switches.get_mut(sw).map(|s| &mut s.node) {
            a.agent.remove_port(port, self.now);
        }
        self.run();
    }

    /// Frames the cables have carried so far.
    pub fn wire_frames(&self) -> u64 {
        self.wire_frames
    }

    /// The controller.
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The controller, to change.
    pub fn controller_mut(&mut self) -> &mut Controller {
        &mut self.controller
    }

    /// The current time.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Adds a flowlab-hub switch agent with ports `ports`, connects it and runs until the
    /// handshake is done. Returns the switch's index.
    pub fn add_switch(&mut self, config: AgentConfig, ports: &[u32]) -> usize {
        let mut agent = Agent::new(config);
        for &p in ports {
            agent.add_port(p, &format!("p{p}"), self.now);
        }
        let conn = agent.open(Origin::Controller(0), self.now);
        let ctl = self.controller.open(self.now);
        self.switches.push(Attached {
            node: Node::Agent(Box::new(AgentSwitch {
                agent,
                conn,
                delivered: Vec::new(),
            })),
            ctl: Some(ctl),
        });
        self.run();
        self.switches.len() - 1
    }

    /// Adds a fake switch, connects it and runs. Returns its index.
    pub fn add_fake(&mut self, fake: FakeSwitch) -> usize {
        let ctl = self.controller.open(self.now);
        self.switches.push(Attached {
            node: Node::Fake(fake),
            ctl: Some(ctl),
        });
        self.run();
        self.switches.len() - 1
    }

    /// The agent of switch `sw` (None for a fake).
    pub fn agent(&self, sw: usize) -> Option<&Agent> {
        match &self.switches.get(sw)?.node {
            Node::Agent(a) => Some(&a.agent),
            Node::Fake(_) => None,
        }
    }

    /// The fake switch `sw` (None for an agent).
    pub fn fake(&mut self, sw: usize) -> Option<&mut FakeSwitch> {
        match &mut self.switches.get_mut(sw)?.node {
            Node::Fake(f) => Some(f),
            Node::Agent(_) => None,
        }
    }

    /// Flows in table 0 of switch `sw`'s pipeline (0 for a fake).
    pub fn flow_count(&self, sw: usize) -> usize {
        self.agent(sw)
            .and_then(|a| a.pipeline().table_counters(0))
            .map_or(0, |(_, n)| n)
    }

    /// Frames switch `sw` sent out of its ports since the last call: (port, frame).
    /// Frames sent out of cabled ports are not here: they went down the cable.
    pub fn take_delivered(&mut self, sw: usize) -> Vec<(u32, Vec<u8>)> {
        match self.switches.get_mut(sw).map(|s| &mut s.node) {
            Some(Node::Agent(a)) => std::mem::take(&mut a.delivered),
            _ => Vec::new(),
        }
    }

    /// A frame arrives on port `port` of switch `sw`; then everything runs.
    pub fn frame(&mut self, sw: usize, port: u32, frame: &[u8]) {
        if let Some(Node::Agent(a)) = self.switches.get_mut(sw).map(|s| &mut s.node) {
            self.out.clear();
            let mut f = frame.to_vec();
            a.agent.frame(port, &mut f, self.now, &mut self.out);
            record(&self.out, &mut a.delivered);
        }
        self.run();
    }

    /// Moves the clock forward by `d`, ticks every switch and the controller, and runs.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        for s in &mut self.switches {
            if let Node::Agent(a) = &mut s.node {
                self.out.clear();
                a.agent.tick(self.now, &mut self.out);
                record(&self.out, &mut a.delivered);
            }
        }
        self.controller.tick(self.now);
        self.run();
    }

    /// Drops switch `sw`'s connection on both sides.
    pub fn disconnect(&mut self, sw: usize) {
        let Some(s) = self.switches.get_mut(sw) else {
            return;
        };
        if let Some(ctl) = s.ctl.take() {
            self.controller.close(ctl, self.now);
        }
        if let Node::Agent(a) = &mut s.node {
            a.agent.close(a.conn, self.now);
        }
        self.run();
    }

    /// Moves bytes both ways until no side has anything to send; returns the rounds
    /// taken. Panics after [`MAX_ROUNDS`] (a conversation that never ends is a bug).
    pub fn run(&mut self) -> usize {
        let mut carried = 0usize;
        for round in 0..MAX_ROUNDS {
            let mut moved = self.carry(&mut carried);
            for s in &mut self.switches {
                let Some(ctl) = s.ctl else { continue };
                // Switch to controller.
                match &mut s.node {
                    Node::Agent(a) => {
                        let n = a.agent.pending(a.conn).len();
                        if n > 0 {
                            self.buf.clear();
                            self.buf.extend_from_slice(a.agent.pending(a.conn));
                            a.agent.consume(a.conn, n);
                            self.controller.receive(ctl, &self.buf, self.now);
                            moved = true;
                        }
                    }
                    Node::Fake(f) => {
                        if !f.output.is_empty() {
                            std::mem::swap(&mut f.output, &mut self.buf);
                            f.output.clear();
                            self.controller.receive(ctl, &self.buf, self.now);
                            moved = true;
                        }
                    }
                }
                // Controller to switch.
                self.controller.take_pending(ctl, &mut self.buf);
                if !self.buf.is_empty() {
                    moved = true;
                    match &mut s.node {
                        Node::Agent(a) => {
                            self.out.clear();
                            a.agent.receive(
                                a.conn,
                                &self.buf,
                                self.now,
                                &NoCounters,
                                &mut self.out,
                            );
                            record(&self.out, &mut a.delivered);
                        }
                        Node::Fake(f) => f.receive(&self.buf),
                    }
                }
            }
            if !moved {
                return round;
            }
        }
        panic!(
            "the switches and the controller still talk after {MAX_ROUNDS} rounds: \
             a forwarding loop, or a conversation that never ends"
        );
    }

    /// Moves frames sent out of cabled ports to the other ends; true if any moved.
    fn carry(&mut self, carried: &mut usize) -> bool {
        if self.wires.is_empty() {
            return false;
        }
        let mut in_flight: Vec<(End, Vec<u8>)> = Vec::new();
        for (i, s) in self.switches.iter_mut().enumerate() {
            let Node::Agent(a) = &mut s.node else {
                continue;
            };
            if a.delivered.is_empty() {
                continue;
            }
            let wires = &self.wires;
            a.delivered.retain_mut(|(port, frame)| {
                let here = (i, *port);
                let Some(w) = wires.iter().find(|w| w.a == here || w.b == here) else {
                    return true;
                };
                if w.up {
                    let there = if w.a == here { w.b } else { w.a };
                    in_flight.push((there, std::mem::take(frame)));
                }
                false
            });
        }
        if in_flight.is_empty() {
            return false;
        }
        *carried += in_flight.len();
        self.wire_frames += in_flight.len() as u64;
        assert!(
            *carried <= MAX_WIRE_FRAMES,
            "more than {MAX_WIRE_FRAMES} frames on the cables in one run: a forwarding loop"
        );
        for ((sw, port), mut frame) in in_flight {
            if let Some(Node::Agent(a)) = self.switches.get_mut(sw).map(|s| &mut s.node) {
                self.out.clear();
                a.agent.frame(port, &mut frame, self.now, &mut self.out);
                record(&self.out, &mut a.delivered);
            }
        }
        true
    }
}

fn record(out: &FrameOutputs, delivered: &mut Vec<(u32, Vec<u8>)>) {
    for (port, r) in &out.frames {
        if let Some(b) = out.arena.get(r.clone()) {
            delivered.push((*port, b.to_vec()));
        }
    }
}

/// A default agent configuration with this datapath id, speaking only `version`.
pub fn agent_config(dpid: u64, version: u8) -> AgentConfig {
    AgentConfig {
        datapath_id: dpid,
        versions: flowlab_ofagent::agent::VersionSet {
            of10: version == crate::switch_conn::OFP10,
            of13: version == OFP13,
        },
        n_tables: 4,
        ..AgentConfig::default()
    }
}

/// `NO_BUFFER`, for tests that build packet-ins.
pub const UNBUFFERED: u32 = NO_BUFFER;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use flowlab_openflow::model::{FlowMod, FlowModCommand, Instruction};

    use crate::app::{App, Ctx, Disposition, Registrar};
    use crate::apps;
    use crate::config::Config;
    use crate::event::{Event, EventKind};
    use crate::switch_conn::{ConnConfig, OFP10};
    use crate::view::DatapathId;

    fn mac(n: u8) -> [u8; 6] {
        [2, 0, 0, 0, 0, n]
    }

    fn frame(dst: [u8; 6], src: [u8; 6], tag: u8) -> Vec<u8> {
        let mut f = vec![tag; 60];
        f[0..6].copy_from_slice(&dst);
        f[6..12].copy_from_slice(&src);
        f[12..14].copy_from_slice(&[0x88, 0xb5]);
        f
    }

    fn controller(app_names: &str, config: &Config) -> Controller {
        let apps = apps::build(&apps::parse_list(app_names), config).unwrap();
        Controller::new(config.controller.conn_config().unwrap(), apps).unwrap()
    }

    fn ports_of(d: &[(u32, Vec<u8>)]) -> Vec<u32> {
        let mut p: Vec<u32> = d.iter().map(|(p, _)| *p).collect();
        p.sort_unstable();
        p
    }

    /// Records events of some kinds.
    struct Recorder {
        kinds: Vec<EventKind>,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl App for Recorder {
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn register(&self, r: &mut Registrar) {
            for &k in &self.kinds {
                r.on(k, 1000);
            }
        }
        fn handle(&mut self, event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
            let line = match event {
                Event::FlowRemoved(f) => format!(
                    "FlowRemoved {} reason={} idle={}",
                    f.dpid, f.removed.reason, f.removed.idle_timeout
                ),
                Event::PortStatus(p) => format!("PortStatus {} {:?}", p.port.port_no.0, p.reason),
                other => format!("{:?}", other.kind()),
            };
            self.log.lock().unwrap().push(line);
            Disposition::Continue
        }
    }

    #[test]
    fn l2_learning_installs_flows_so_the_switch_forwards_without_the_controller() {
        for version in [OFP10, OFP13] {
            let mut h = Harness::new(controller("l2_learning", &Config::default()));
            let sw = h.add_switch(agent_config(0x11, version), &[1, 2, 3]);
            let view = h.controller().switch(DatapathId(0x11)).unwrap();
            assert_eq!(view.version, version);
            assert!(view.ports_known);
            assert_eq!(view.ports.len(), 3, "v{version}");
            let base_flows = h.flow_count(sw);
            let pins = |h: &Harness| h.agent(sw).unwrap().stats().packet_ins;

            // A to B, B unknown: flooded by a packet-out, nothing installed.
            h.frame(sw, 1, &frame(mac(2), mac(1), 1));
            assert_eq!(pins(&h), 1);
            assert_eq!(ports_of(&h.take_delivered(sw)), [2, 3], "v{version}");
            assert_eq!(h.flow_count(sw), base_flows);
            // B to A, A known: a flow B->A, and the packet reaches A only.
            h.frame(sw, 2, &frame(mac(1), mac(2), 2));
            assert_eq!(pins(&h), 2);
            assert_eq!(h.take_delivered(sw), [(1, frame(mac(1), mac(2), 2))]);
            assert_eq!(h.flow_count(sw), base_flows + 1);
            // A to B again: now B is known, a flow A->B.
            h.frame(sw, 1, &frame(mac(2), mac(1), 3));
            assert_eq!(pins(&h), 3);
            assert_eq!(h.take_delivered(sw), [(2, frame(mac(2), mac(1), 3))]);
            assert_eq!(h.flow_count(sw), base_flows + 2);
            // Both directions now forward in the switch, with no packet-in.
            h.frame(sw, 1, &frame(mac(2), mac(1), 4));
            h.frame(sw, 2, &frame(mac(1), mac(2), 5));
            assert_eq!(pins(&h), 3, "v{version}: the flows forward");
            assert_eq!(
                h.take_delivered(sw),
                [(2, frame(mac(2), mac(1), 4)), (1, frame(mac(1), mac(2), 5))]
            );
            // A third host is flooded to (and is learned on port 3).
            h.frame(sw, 3, &frame(mac(1), mac(3), 6));
            assert_eq!(h.take_delivered(sw), [(1, frame(mac(1), mac(3), 6))]);
        }
    }

    #[test]
    fn hub_floods_every_packet_in_and_installs_nothing() {
        for version in [OFP10, OFP13] {
            let mut h = Harness::new(controller("hub", &Config::default()));
            let sw = h.add_switch(agent_config(1, version), &[1, 2, 3, 4]);
            let base = h.flow_count(sw);
            for i in 0..3u8 {
                h.frame(sw, 2, &frame(mac(9), mac(1), i));
                let d = h.take_delivered(sw);
                assert_eq!(ports_of(&d), [1, 3, 4], "v{version}");
                assert!(d.iter().all(|(_, f)| *f == frame(mac(9), mac(1), i)));
            }
            assert_eq!(h.agent(sw).unwrap().stats().packet_ins, 3);
            assert_eq!(h.flow_count(sw), base);
        }
    }

    #[test]
    fn the_higher_priority_app_answers_and_stops_the_other() {
        // Defaults: l2_learning (100) before hub (0): a learned destination gets a flow,
        // and the hub never floods it as well.
        let mut h = Harness::new(controller("hub,l2_learning", &Config::default()));
        assert_eq!(
            h.controller().handlers(EventKind::PacketIn),
            [("l2_learning", 100), ("hub", 0)]
        );
        let sw = h.add_switch(agent_config(1, OFP13), &[1, 2, 3]);
        let base = h.flow_count(sw);
        h.frame(sw, 1, &frame(mac(2), mac(1), 1));
        h.frame(sw, 2, &frame(mac(1), mac(2), 2));
        assert_eq!(
            h.take_delivered(sw).len(),
            3,
            "one flood (2 ports), one unicast"
        );
        assert_eq!(h.flow_count(sw), base + 1);
        // With the hub raised above l2_learning, the hub answers and stops: no flows.
        let mut config = Config::default();
        config.hub.priority = 200;
        let mut h = Harness::new(controller("hub,l2_learning", &config));
        let sw = h.add_switch(agent_config(1, OFP13), &[1, 2, 3]);
        let base = h.flow_count(sw);
        h.frame(sw, 1, &frame(mac(2), mac(1), 1));
        h.frame(sw, 2, &frame(mac(1), mac(2), 2));
        assert_eq!(ports_of(&h.take_delivered(sw)), [1, 2, 3, 3]);
        assert_eq!(h.flow_count(sw), base);
    }

    #[test]
    fn a_cbench_switch_joins_and_gets_one_message_per_packet_in() {
        let mut h = Harness::new(controller("l2_learning", &Config::default()));
        let sw = h.add_fake(FakeSwitch::new(OFP10, 0xcb, 256, 4));
        let view = h.controller().switch(DatapathId(0xcb)).unwrap();
        assert_eq!((view.n_buffers, view.ports.len()), (256, 4));
        assert!(view.desc.is_none(), "the desc request stays unanswered");
        let f = h.fake(sw).unwrap();
        let handshake = f.take_received();
        assert!(
            matches!(handshake[0], Message::SetConfig(_)),
            "{handshake:?}"
        );
        // An unknown destination: exactly one packet-out, flooding the buffer.
        f.packet_in(1, 7, &frame(mac(2), mac(1), 1));
        h.run();
        match &h.fake(sw).unwrap().take_received()[..] {
            [Message::PacketOut(po)] => {
                assert_eq!(po.buffer_id, 7);
                assert!(po.data.is_empty(), "a buffered packet is released by id");
                assert_eq!(po.in_port, PortNo(1));
                assert_eq!(
                    po.actions,
                    [flowlab_openflow::Action::output(PortNo::FLOOD)]
                );
            }
            other => panic!("{other:?}"),
        }
        // A known destination: exactly one flow mod, carrying the buffer.
        h.fake(sw)
            .unwrap()
            .packet_in(2, 8, &frame(mac(1), mac(2), 2));
        h.run();
        match &h.fake(sw).unwrap().take_received()[..] {
            [Message::FlowMod(fm)] => {
                assert_eq!(fm.buffer_id, 8);
                assert_eq!(fm.command, FlowModCommand::Add);
                assert_eq!(fm.idle_timeout, 60);
                assert_eq!(fm.match_.in_port(), Some(PortNo(2)));
                assert_eq!(
                    fm.instructions,
                    [Instruction::ApplyActions(vec![
                        flowlab_openflow::Action::output(PortNo(1))
                    ])]
                );
            }
            other => panic!("{other:?}"),
        }
        // Unbuffered: the flow mod and a packet-out with the frame.
        h.fake(sw)
            .unwrap()
            .packet_in(2, UNBUFFERED, &frame(mac(1), mac(2), 3));
        h.run();
        match &h.fake(sw).unwrap().take_received()[..] {
            [Message::FlowMod(FlowMod { buffer_id, .. }), Message::PacketOut(po)] => {
                assert_eq!(*buffer_id, NO_BUFFER);
                assert_eq!(po.data, frame(mac(1), mac(2), 3));
                assert_eq!(po.actions, [flowlab_openflow::Action::output(PortNo(1))]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_switch_answering_no_port_desc_still_joins_and_is_served() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            kinds: vec![EventKind::SwitchJoin, EventKind::PortStatus],
            log: log.clone(),
        };
        let apps: Vec<Box<dyn App>> = vec![
            Box::new(recorder),
            Box::new(apps::hub::Hub::new(Default::default())),
        ];
        let mut h = Harness::new(Controller::new(ConnConfig::default(), apps).unwrap());
        let sw = h.add_fake(FakeSwitch::new(OFP13, 0x13, 0, 0));
        let view = h.controller().switch(DatapathId(0x13)).unwrap();
        assert!(!view.ports_known);
        assert_eq!(*log.lock().unwrap(), ["SwitchJoin"]);
        let got = h.fake(sw).unwrap().take_received();
        assert!(got
            .iter()
            .any(|m| matches!(m, Message::MultipartRequest(_))));
        assert!(got.iter().any(|m| matches!(m, Message::SetAsync(_))));
        h.fake(sw)
            .unwrap()
            .packet_in(3, UNBUFFERED, &frame(mac(2), mac(1), 1));
        h.run();
        match &h.fake(sw).unwrap().take_received()[..] {
            [Message::PacketOut(po)] => assert_eq!(po.data, frame(mac(2), mac(1), 1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn idle_flows_expire_and_come_back_as_flow_removed_events() {
        let mut config = Config::default();
        config.l2_learning.idle_timeout = 5;
        config.l2_learning.flow_removed = true;
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut apps = apps::build(&["l2_learning".into()], &config).unwrap();
        apps.push(Box::new(Recorder {
            kinds: vec![EventKind::FlowRemoved],
            log: log.clone(),
        }));
        let mut h = Harness::new(Controller::new(ConnConfig::default(), apps).unwrap());
        let sw = h.add_switch(agent_config(0x42, OFP13), &[1, 2]);
        let base = h.flow_count(sw);
        h.frame(sw, 1, &frame(mac(2), mac(1), 1));
        h.frame(sw, 2, &frame(mac(1), mac(2), 2));
        h.frame(sw, 1, &frame(mac(2), mac(1), 3));
        assert_eq!(h.flow_count(sw), base + 2);
        // Traffic on A->B only keeps that flow alive.
        h.advance(Duration::from_secs(3));
        h.frame(sw, 1, &frame(mac(2), mac(1), 4));
        h.advance(Duration::from_secs(3));
        assert_eq!(h.flow_count(sw), base + 1, "B->A idled out");
        assert_eq!(
            *log.lock().unwrap(),
            ["FlowRemoved 0000000000000042 reason=0 idle=5"]
        );
        h.advance(Duration::from_secs(6));
        assert_eq!(h.flow_count(sw), base);
        assert_eq!(log.lock().unwrap().len(), 2);
        // The switch is still there (keepalive went through the harness), and a packet
        // now goes to the controller again.
        assert!(h.controller().switch(DatapathId(0x42)).is_some());
        let pins = h.agent(sw).unwrap().stats().packet_ins;
        h.frame(sw, 1, &frame(mac(2), mac(1), 5));
        assert_eq!(h.agent(sw).unwrap().stats().packet_ins, pins + 1);
        assert_eq!(h.flow_count(sw), base + 1, "B is still known: reinstalled");
    }

    #[test]
    fn ports_and_departures_reach_the_apps() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let apps: Vec<Box<dyn App>> = vec![Box::new(Recorder {
            kinds: vec![
                EventKind::SwitchJoin,
                EventKind::SwitchLeave,
                EventKind::PortStatus,
            ],
            log: log.clone(),
        })];
        let mut h = Harness::new(Controller::new(ConnConfig::default(), apps).unwrap());
        let sw = h.add_switch(agent_config(7, OFP13), &[1, 2]);
        assert_eq!(
            *log.lock().unwrap(),
            ["SwitchJoin", "PortStatus 1 Add", "PortStatus 2 Add"],
            "1.3 ports arrive with the PORT_DESC reply, after the join"
        );
        h.disconnect(sw);
        assert_eq!(log.lock().unwrap().last().unwrap(), "SwitchLeave");
        assert!(h.controller().switches().is_empty());
    }

    #[test]
    fn helpers_install_delete_and_barrier_against_a_real_switch() {
        /// On join: install two flows and a barrier; on the barrier's reply, delete one
        /// flow (by its destination) and send another barrier.
        struct Helpers {
            log: Arc<Mutex<Vec<String>>>,
            first: Option<u32>,
        }
        impl App for Helpers {
            fn name(&self) -> &'static str {
                "helpers"
            }
            fn register(&self, r: &mut Registrar) {
                r.on(EventKind::SwitchJoin, 0);
            }
            fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
                match event {
                    Event::SwitchJoin(j) => {
                        for (n, port) in [(1u8, 1u32), (2, 2)] {
                            let m = Match::new().with(OxmField::eth_dst(mac(n)));
                            let flow = crate::app::Flow::new(m).output(PortNo(port)).priority(10);
                            ctx.install(j.dpid, flow).unwrap();
                        }
                        let x = ctx.barrier(j.dpid).unwrap();
                        assert!(ctx.is_outstanding(j.dpid, x));
                        self.first = Some(x);
                    }
                    Event::BarrierReply(b) => {
                        assert!(!ctx.is_outstanding(b.dpid, b.xid));
                        self.log.lock().unwrap().push(format!("barrier {}", b.xid));
                        if Some(b.xid) == self.first {
                            let m = Match::new().with(OxmField::eth_dst(mac(1)));
                            ctx.delete(b.dpid, m).unwrap();
                            ctx.barrier(b.dpid).unwrap();
                        }
                    }
                    _ => {}
                }
                Disposition::Continue
            }
        }
        for version in [OFP10, OFP13] {
            let log = Arc::new(Mutex::new(Vec::new()));
            let apps: Vec<Box<dyn App>> = vec![Box::new(Helpers {
                log: log.clone(),
                first: None,
            })];
            let mut h = Harness::new(Controller::new(ConnConfig::default(), apps).unwrap());
            let sw = h.add_switch(agent_config(3, version), &[1, 2]);
            assert_eq!(
                log.lock().unwrap().len(),
                2,
                "v{version}: both barriers answered"
            );
            let table_miss = usize::from(version == OFP13);
            assert_eq!(h.flow_count(sw), table_miss + 1, "v{version}");
            // The flow left forwards to port 2 with no packet-in.
            h.frame(sw, 1, &frame(mac(2), mac(1), 1));
            assert_eq!(h.take_delivered(sw), [(2, frame(mac(2), mac(1), 1))]);
            assert_eq!(h.agent(sw).unwrap().stats().packet_ins, 0);
        }
    }

    #[test]
    fn a_silent_switch_is_dropped_by_keepalive() {
        let mut h = Harness::new(controller("hub", &Config::default()));
        let sw = h.add_fake(FakeSwitch::new(OFP10, 5, 0, 1));
        let ctl = h.controller().conn_of(DatapathId(5)).unwrap();
        // The fake answers echoes: it stays.
        for _ in 0..4 {
            h.advance(Duration::from_secs(5));
        }
        assert!(h.controller().close_requested(ctl).is_none());
        // Cut the fake off (it stops reading and writing): it is declared dead.
        h.switches[sw].ctl = None;
        h.advance(Duration::from_secs(5));
        h.advance(Duration::from_secs(5));
        assert!(h
            .controller()
            .close_requested(ctl)
            .unwrap()
            .contains("dead"));
    }

    #[test]
    fn cables_carry_frames_between_switches_and_cuts_stop_them() {
        let config = Config::default();
        let mut h = Harness::new(controller("l2_learning", &config));
        let a = h.add_switch(agent_config(1, OFP13), &[1, 2]);
        let b = h.add_switch(agent_config(2, OFP13), &[1, 2]);
        h.wire((a, 2), (b, 2));
        h.frame(a, 1, &frame([0xff; 6], mac(1), 1));
        assert_eq!(
            ports_of(&h.take_delivered(b)),
            [1],
            "flooded across the cable"
        );
        assert!(
            h.take_delivered(a).is_empty(),
            "port 2's copy went down the cable"
        );
        assert_eq!(h.wire_frames(), 1);
        h.cut((a, 2), (b, 2));
        h.frame(a, 1, &frame([0xff; 6], mac(1), 2));
        assert!(
            h.take_delivered(b).is_empty(),
            "a cut cable carries nothing"
        );
        h.mend((b, 2), (a, 2));
        h.frame(a, 1, &frame([0xff; 6], mac(1), 3));
        assert_eq!(ports_of(&h.take_delivered(b)), [1]);
    }

    #[test]
    #[should_panic(expected = "forwarding loop")]
    fn flooding_around_a_triangle_is_caught_as_a_loop() {
        let config = Config::default();
        let mut h = Harness::new(controller("hub", &config));
        let s: Vec<usize> = (1..=3)
            .map(|d| h.add_switch(agent_config(d, OFP13), &[1, 2, 3]))
            .collect();
        h.wire((s[0], 2), (s[1], 3));
        h.wire((s[1], 2), (s[2], 3));
        h.wire((s[2], 2), (s[0], 3));
        h.frame(s[0], 1, &frame([0xff; 6], mac(1), 1));
    }
}
