//! `topology`: LLDP link discovery (NOX's `discovery`): writes the links of the network
//! view.
//!
//! Every switch gets one flow when it joins: LLDP (EtherType 0x88cc) to the controller,
//! whole frames, at the highest priority, so probes come back whatever other apps
//! install. The app then sends a probe out of every port of every switch: an LLDP frame
//! from the port's own MAC address whose chassis ID is `dpid:<16 hex digits>` and whose
//! port ID is the port number in decimal (both subtype 7, locally assigned). A probe
//! that comes back as a packet-in from switch B's port q, saying it left switch A's
//! port p, is the link A:p → B:q; each cable is two links, one per direction. Every
//! LLDP packet-in stops here: probes are never flooded and no other app sees them.
//!
//! # When probes go out
//!
//! Each switch has its own round: all its ports, every `interval_ms`, on the controller
//! tick (about once a second; a round due between ticks goes out on the next one, and
//! the next round is scheduled from when this one was due, so the average rate holds).
//! Switches that join at different times fall into different ticks, which spreads the
//! probes. A switch is probed at once when it joins, and a port when it is added or its
//! link comes up, so a new or mended cable is found without waiting for a round.
//!
//! # When links go
//!
//! A port that goes down (link down, administratively down, or deleted) takes its links
//! with it at once. A link whose cable broke silently is noticed by time: it goes when
//! it has not been confirmed for `timeout_ms` *and* a probe sent out of its source after
//! its last confirmation did not come back. The second condition keeps a stalled clock
//! (a long pause between ticks, or a harness that jumps time) from dropping every link
//! at once: a link is only declared gone after it was actually asked about and did not
//! answer. Links of a switch that leaves are dropped by the core.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use flowlab_datapath::wire::lldp::{chassis_subtype, port_subtype};
use flowlab_datapath::wire::{ethernet, EthernetAddress, LldpId, LldpRepr};
use flowlab_openflow::model::port::{config as port_config, state as port_state};
use flowlab_openflow::model::{Action, Match, OxmField, Port, PortNo};
use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Flow, Registrar};
use crate::event::{Event, EventKind, Link, Location, PacketInEvent, PortReason};
use crate::view::DatapathId;

/// The LLDP EtherType.
pub const ETH_TYPE_LLDP: u16 = 0x88cc;

/// The priority of the flow sending LLDP to the controller (the highest there is).
pub const LLDP_FLOW_PRIORITY: u16 = 0xffff;

/// The cookie of that flow, so it can be told from other apps' flows.
pub const LLDP_FLOW_COOKIE: u64 = 0x6c6c_6470_0000_0001;

/// What a probe's chassis ID starts with, before the datapath id's 16 hex digits.
pub const CHASSIS_PREFIX: &[u8] = b"dpid:";

/// The longest probe frame: chassis `dpid:` + 16 digits, port up to 10 digits, `:` and
/// the 16-digit tag.
const PROBE_FRAME_MAX: usize = 96;

/// The key that signs this controller's probes.
///
/// A probe's port ID is `PORT:TAG`, TAG a keyed hash (SipHash with keys drawn at random
/// when the app starts) of the datapath id and port. A host cannot forge a probe that
/// claims some other switch port, so it cannot add links to the view by sending LLDP
/// into its own port. What it can do is send back the probe its own port sent it: that
/// claims the link from its port to itself, and links from a port to itself are refused.
#[derive(Debug, Clone)]
pub struct ProbeKey(std::collections::hash_map::RandomState);

impl ProbeKey {
    /// A fresh random key.
    pub fn random() -> ProbeKey {
        ProbeKey(std::collections::hash_map::RandomState::new())
    }

    /// The tag of the probe from `dpid`'s port `port`.
    pub fn tag(&self, dpid: DatapathId, port: PortNo) -> u64 {
        use std::hash::BuildHasher;
        self.0.hash_one((dpid.0, port.0))
    }
}

/// `[topology]` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopologyConfig {
    /// Milliseconds between two rounds of probes on a switch (rounds go out on the
    /// controller tick, so values below the tick period mean one round per tick).
    pub interval_ms: u64,
    /// Milliseconds without confirmation before a link is dropped (default:
    /// `3 * interval_ms + 500`).
    pub timeout_ms: Option<u64>,
    /// Handler priority (packet-ins, port status, joins); above every app that could
    /// act on an LLDP frame.
    pub priority: i32,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        TopologyConfig {
            interval_ms: 1000,
            timeout_ms: None,
            priority: 1000,
        }
    }
}

impl TopologyConfig {
    /// The time between two rounds (at least a millisecond).
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.max(1))
    }

    /// The link timeout.
    pub fn timeout(&self) -> Duration {
        match self.timeout_ms {
            Some(ms) => Duration::from_millis(ms),
            None => 3 * self.interval() + Duration::from_millis(500),
        }
    }
}

/// The app's counters, shared (take a handle with [`Topology::counters`] before the app
/// is handed to the controller).
#[derive(Debug, Default)]
pub struct TopologyCounters {
    /// Probes sent.
    pub probes_sent: AtomicU64,
    /// Own probes received (each confirms a link).
    pub probes_received: AtomicU64,
    /// LLDP frames that are not our probes, or name a switch that is not joined.
    pub foreign: AtomicU64,
    /// LLDP frames that do not parse.
    pub malformed: AtomicU64,
}

impl TopologyCounters {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counters: (sent, received, foreign, malformed).
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.probes_sent.load(Ordering::Relaxed),
            self.probes_received.load(Ordering::Relaxed),
            self.foreign.load(Ordering::Relaxed),
            self.malformed.load(Ordering::Relaxed),
        )
    }
}

/// The `topology` app. See the module documentation.
#[derive(Debug)]
pub struct Topology {
    config: TopologyConfig,
    /// When each joined switch's next round is due.
    next_round: BTreeMap<DatapathId, Duration>,
    /// When a probe last left each port (absent: the port is down or never probed).
    last_probe: HashMap<Location, Duration>,
    /// Reused: the probes one tick sends (switch, port, the port's MAC address).
    due: Vec<(DatapathId, PortNo, [u8; 6])>,
    counters: Arc<TopologyCounters>,
    key: ProbeKey,
}

/// Whether `port` numbers a physical port (below `OFPP_MAX`; LOCAL, CONTROLLER and the
/// other reserved numbers are not).
fn is_physical(port: PortNo) -> bool {
    port.0 < PortNo::MAX.0
}

/// Whether probes go out of `port`: a physical port whose link is up and that is not
/// administratively down.
fn probes_go_out(port: &Port) -> bool {
    is_physical(port.port_no)
        && port.state & port_state::LINK_DOWN == 0
        && port.config & port_config::PORT_DOWN == 0
}

/// Writes the probe from `dpid`'s port `port`, signed with `key`, into `buf`; returns
/// its length.
pub fn probe_frame(
    dpid: DatapathId,
    port: PortNo,
    hw_addr: [u8; 6],
    ttl: u16,
    key: &ProbeKey,
    buf: &mut [u8],
) -> Option<usize> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut chassis = [0u8; 21];
    chassis[..5].copy_from_slice(CHASSIS_PREFIX);
    for (i, c) in chassis[5..].iter_mut().enumerate() {
        *c = HEX[((dpid.0 >> (60 - 4 * i)) & 0xf) as usize];
    }
    // PORT:TAG, the port in decimal and the tag in 16 hex digits.
    let mut digits = [0u8; 27];
    let tag = key.tag(dpid, port);
    for (i, c) in digits[11..].iter_mut().enumerate() {
        *c = HEX[((tag >> (60 - 4 * i)) & 0xf) as usize];
    }
    digits[10] = b':';
    let mut n = port.0;
    let mut at = 10;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    LldpRepr {
        chassis_id: LldpId {
            subtype: chassis_subtype::LOCALLY_ASSIGNED,
            id: &chassis,
        },
        port_id: LldpId {
            subtype: port_subtype::LOCALLY_ASSIGNED,
            id: &digits[at..],
        },
        ttl,
    }
    .emit_frame(EthernetAddress(hw_addr), buf)
    .ok()
}

/// Where an LLDPDU says it was sent from, if it is one of our probes signed with `key`.
pub fn probe_source(lldp: &LldpRepr<'_>, key: &ProbeKey) -> Option<Location> {
    let (at, tag) = probe_claim(lldp)?;
    (key.tag(at.dpid, at.port) == tag).then_some(at)
}

/// Where an LLDPDU in our probes' format claims it was sent from, and its tag (not
/// checked: see [`probe_source`]).
pub fn probe_claim(lldp: &LldpRepr<'_>) -> Option<(Location, u64)> {
    if lldp.chassis_id.subtype != chassis_subtype::LOCALLY_ASSIGNED
        || lldp.port_id.subtype != port_subtype::LOCALLY_ASSIGNED
    {
        return None;
    }
    let hex = lldp.chassis_id.id.strip_prefix(CHASSIS_PREFIX)?;
    if hex.len() != 16 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let dpid = u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    let (digits, tag) = lldp
        .port_id
        .id
        .split_at_checked(lldp.port_id.id.iter().position(|&b| b == b':')?)?;
    let tag = &tag[1..];
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if tag.len() != 16 || !tag.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let port = std::str::from_utf8(digits).ok()?.parse::<u32>().ok()?;
    let tag = u64::from_str_radix(std::str::from_utf8(tag).ok()?, 16).ok()?;
    if !is_physical(PortNo(port)) {
        return None;
    }
    Some((
        Location {
            dpid: DatapathId(dpid),
            port: PortNo(port),
        },
        tag,
    ))
}

impl Topology {
    /// The app with `config`.
    pub fn new(config: TopologyConfig) -> Topology {
        Topology {
            config,
            next_round: BTreeMap::new(),
            last_probe: HashMap::new(),
            due: Vec::new(),
            counters: Arc::default(),
            key: ProbeKey::random(),
        }
    }

    /// A handle on the app's counters.
    pub fn counters(&self) -> Arc<TopologyCounters> {
        self.counters.clone()
    }

    /// The TTL probes carry: the link timeout in whole seconds (at least 1).
    fn ttl(&self) -> u16 {
        let ms = self.config.timeout().as_millis().div_ceil(1000);
        u16::try_from(ms.max(1)).unwrap_or(u16::MAX)
    }

    fn probe(&mut self, ctx: &mut Ctx<'_>, dpid: DatapathId, port: PortNo, hw_addr: [u8; 6]) {
        let mut buf = [0u8; PROBE_FRAME_MAX];
        let Some(len) = probe_frame(dpid, port, hw_addr, self.ttl(), &self.key, &mut buf) else {
            return;
        };
        let actions = [Action::output(port)];
        // Fails only for a switch that left meanwhile.
        if ctx
            .packet_out(dpid, PortNo::CONTROLLER, &actions, &buf[..len])
            .is_ok()
        {
            self.last_probe.insert(Location { dpid, port }, ctx.now());
            TopologyCounters::bump(&self.counters.probes_sent);
        }
    }

    /// Probes every port of `dpid` now.
    fn probe_switch(&mut self, ctx: &mut Ctx<'_>, dpid: DatapathId) {
        self.due.clear();
        if let Some(view) = ctx.switch(dpid) {
            self.due.extend(
                view.ports
                    .values()
                    .filter(|p| probes_go_out(p))
                    .map(|p| (dpid, p.port_no, p.hw_addr)),
            );
        }
        self.send_due(ctx);
    }

    fn send_due(&mut self, ctx: &mut Ctx<'_>) {
        let due = std::mem::take(&mut self.due);
        for &(dpid, port, hw) in &due {
            self.probe(ctx, dpid, port, hw);
        }
        self.due = due;
    }

    fn join(&mut self, ctx: &mut Ctx<'_>, dpid: DatapathId) {
        let flow = Flow::new(Match::new().with(OxmField::eth_type(ETH_TYPE_LLDP)))
            .output(PortNo::CONTROLLER)
            .priority(LLDP_FLOW_PRIORITY)
            .cookie(LLDP_FLOW_COOKIE)
            .table(0);
        // Fails only for a switch that left meanwhile.
        let _ = ctx.install(dpid, flow);
        self.probe_switch(ctx, dpid);
        self.next_round
            .insert(dpid, ctx.now() + self.config.interval());
    }

    fn leave(&mut self, dpid: DatapathId) {
        self.next_round.remove(&dpid);
        self.last_probe.retain(|at, _| at.dpid != dpid);
    }

    fn port_status(
        &mut self,
        ctx: &mut Ctx<'_>,
        dpid: DatapathId,
        reason: PortReason,
        port: &Port,
    ) {
        if !is_physical(port.port_no) {
            return;
        }
        let at = Location {
            dpid,
            port: port.port_no,
        };
        if reason == PortReason::Delete || !probes_go_out(port) {
            let now = ctx.now();
            ctx.network_mut().port_gone(at, now);
            self.last_probe.remove(&at);
            return;
        }
        // Added, or changed while up: probe it now unless it was up and probed already
        // (a change of speed, say, says nothing about the cable).
        if reason == PortReason::Add || !self.last_probe.contains_key(&at) {
            self.probe(ctx, dpid, port.port_no, port.hw_addr);
        }
    }

    fn packet_in(&mut self, ctx: &mut Ctx<'_>, pi: &PacketInEvent<'_>) {
        let lldp = pi
            .data()
            .get(ethernet::HEADER_LEN..)
            .and_then(|payload| LldpRepr::parse(payload).ok());
        let Some(lldp) = lldp else {
            TopologyCounters::bump(&self.counters.malformed);
            return;
        };
        let in_port = pi.in_port();
        let dst = Location {
            dpid: pi.dpid,
            port: in_port,
        };
        match probe_source(&lldp, &self.key) {
            // A probe back at the port it left from was echoed by whatever is there.
            Some(src) if ctx.switch(src.dpid).is_some() && is_physical(in_port) && src != dst => {
                let link = Link { src, dst };
                let now = ctx.now();
                ctx.network_mut().link_seen(link, now);
                TopologyCounters::bump(&self.counters.probes_received);
            }
            _ => TopologyCounters::bump(&self.counters.foreign),
        }
    }

    /// Drops the links that timed out (see the module documentation).
    fn expire(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let timeout = self.config.timeout();
        let gone: Vec<Link> = ctx
            .network()
            .links()
            .filter(|(l, info)| {
                let answered =
                    matches!(self.last_probe.get(&l.src), Some(&sent) if sent <= info.last_seen);
                now.saturating_sub(info.last_seen) >= timeout && !answered
            })
            .map(|(l, _)| *l)
            .collect();
        for l in gone {
            ctx.network_mut().link_gone(l, now);
        }
    }
}

impl App for Topology {
    fn name(&self) -> &'static str {
        "topology"
    }

    fn register(&self, r: &mut Registrar) {
        let p = self.config.priority;
        r.on(EventKind::PacketIn, p)
            .on(EventKind::SwitchJoin, p)
            .on(EventKind::SwitchLeave, p)
            .on(EventKind::PortStatus, p);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        match event {
            Event::PacketIn(pi) if pi.packet.eth_type() == Some(ETH_TYPE_LLDP) => {
                self.packet_in(ctx, pi);
                return Disposition::Stop;
            }
            Event::SwitchJoin(j) => self.join(ctx, j.dpid),
            Event::SwitchLeave(l) => self.leave(l.dpid),
            Event::PortStatus(ps) => self.port_status(ctx, ps.dpid, ps.reason, ps.port),
            _ => {}
        }
        Disposition::Continue
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        self.expire(ctx);
        let now = ctx.now();
        let interval = self.config.interval();
        self.due.clear();
        for view in ctx.switches() {
            let next = self.next_round.entry(view.dpid).or_insert(now);
            if now < *next {
                continue;
            }
            *next += interval;
            if *next <= now {
                // Far behind (a stalled clock): start afresh rather than catch up.
                *next = now + interval;
            }
            self.due.extend(
                view.ports
                    .values()
                    .filter(|p| probes_go_out(p))
                    .map(|p| (view.dpid, p.port_no, p.hw_addr)),
            );
        }
        self.send_due(ctx);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    use flowlab_datapath::wire::{EtherType, EthernetFrame};
    use flowlab_openflow::model::{Instruction, Message};

    use crate::apps;
    use crate::config::Config;
    use crate::controller::Controller;
    use crate::event::AppEvent;
    use crate::harness::{agent_config, FakeSwitch, Harness, UNBUFFERED};
    use crate::switch_conn::{OFP10, OFP13};

    pub(crate) const SEC: Duration = Duration::from_secs(1);

    pub(crate) fn at(dpid: u64, port: u32) -> Location {
        Location {
            dpid: DatapathId(dpid),
            port: PortNo(port),
        }
    }

    pub(crate) fn link(a: (u64, u32), b: (u64, u32)) -> Link {
        Link {
            src: at(a.0, a.1),
            dst: at(b.0, b.1),
        }
    }

    /// A controller running the named apps, then `extra`.
    pub(crate) fn controller(names: &str, config: &Config, extra: Vec<Box<dyn App>>) -> Controller {
        let mut list = apps::build(&apps::parse_list(names), config).unwrap();
        list.extend(extra);
        Controller::new(config.controller.conn_config().unwrap(), list).unwrap()
    }

    /// Switches 1, 2, 3 (indices 0, 1, 2) with ports 1 (for hosts), 2 and 3; a cable
    /// from port 2 of each to port 3 of the next.
    pub(crate) fn triangle(h: &mut Harness, version: u8) -> [usize; 3] {
        let s = [1, 2, 3].map(|d| h.add_switch(agent_config(d, version), &[1, 2, 3]));
        for i in 0..3 {
            h.wire((s[i], 2), (s[(i + 1) % 3], 3));
        }
        s
    }

    /// The six links of [`triangle`].
    pub(crate) fn triangle_links() -> BTreeSet<Link> {
        let mut v = BTreeSet::new();
        for d in 1..=3u64 {
            let next = d % 3 + 1;
            v.insert(link((d, 2), (next, 3)));
            v.insert(link((next, 3), (d, 2)));
        }
        v
    }

    pub(crate) fn links(h: &Harness) -> BTreeSet<Link> {
        h.controller().network().links().map(|(l, _)| *l).collect()
    }

    /// The events of the view's changes after `since`.
    pub(crate) fn changes(h: &Harness, since: u64) -> Vec<AppEvent> {
        let (c, lost) = h.controller().network().changes_since(since);
        assert!(!lost);
        c.into_iter().map(|c| c.event.clone()).collect()
    }

    pub(crate) fn advance(h: &mut Harness, secs: u64) {
        for _ in 0..secs {
            h.advance(SEC);
        }
    }

    /// Records the EtherType of every packet-in it sees, at `priority`.
    pub(crate) struct PacketRecorder {
        pub(crate) priority: i32,
        pub(crate) seen: Arc<Mutex<Vec<u16>>>,
    }

    impl App for PacketRecorder {
        fn name(&self) -> &'static str {
            "packet_recorder"
        }
        fn register(&self, r: &mut Registrar) {
            r.on(EventKind::PacketIn, self.priority);
        }
        fn handle(&mut self, event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
            if let Event::PacketIn(pi) = event {
                let t = pi.packet.eth_type().unwrap_or(0);
                self.seen.lock().unwrap().push(t);
            }
            Disposition::Continue
        }
    }

    /// Where a probe frame says it left from.
    fn source_of(frame: &[u8]) -> Option<Location> {
        let f = EthernetFrame::new_checked(frame).ok()?;
        if f.ethertype() != EtherType::Lldp {
            return None;
        }
        probe_claim(&LldpRepr::parse(f.payload()).ok()?).map(|(at, _)| at)
    }

    /// A probe in our format, signed with a key no running app has (so: forged).
    fn probe(dpid: u64, port: u32, hw: [u8; 6]) -> Vec<u8> {
        let mut buf = [0u8; PROBE_FRAME_MAX];
        let key = ProbeKey::random();
        let n = probe_frame(DatapathId(dpid), PortNo(port), hw, 4, &key, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    fn discovered_triangle(version: u8, config: &Config) -> (Harness, [usize; 3]) {
        let mut h = Harness::new(controller("topology,hosts", config, Vec::new()));
        let s = triangle(&mut h, version);
        advance(&mut h, 2);
        assert_eq!(links(&h), triangle_links(), "v{version}");
        (h, s)
    }

    #[test]
    fn probes_say_where_they_left_from_and_nothing_else_does() {
        let key = ProbeKey::random();
        let mut buf = [0u8; PROBE_FRAME_MAX];
        let n = probe_frame(
            DatapathId(0x0123_4567_89ab_cdef),
            PortNo(4_000_000),
            [2, 0, 0, 0, 0, 9],
            4,
            &key,
            &mut buf,
        )
        .unwrap();
        let f = &buf[..n];
        let eth = EthernetFrame::new_checked(f).unwrap();
        assert_eq!(eth.dst_addr().0, [0x01, 0x80, 0xc2, 0, 0, 0x0e]);
        assert_eq!(eth.src_addr().0, [2, 0, 0, 0, 0, 9]);
        let lldp = LldpRepr::parse(eth.payload()).unwrap();
        assert_eq!(lldp.chassis_id.subtype, 7);
        assert_eq!(lldp.chassis_id.id, b"dpid:0123456789abcdef");
        assert_eq!(lldp.port_id.subtype, 7);
        let tag = key.tag(DatapathId(0x0123_4567_89ab_cdef), PortNo(4_000_000));
        assert_eq!(lldp.port_id.id, format!("4000000:{tag:016x}").as_bytes());
        let here = at(0x0123_4567_89ab_cdef, 4_000_000);
        assert_eq!(probe_source(&lldp, &key), Some(here));
        assert_eq!(
            probe_source(&lldp, &ProbeKey::random()),
            None,
            "another key"
        );
        assert_eq!(source_of(f), Some(here));
        assert_eq!(source_of(&probe(5, 0, [0; 6])), Some(at(5, 0)));
        let id = |chassis: &'static [u8], port: &'static [u8]| LldpRepr {
            chassis_id: LldpId {
                subtype: 7,
                id: chassis,
            },
            port_id: LldpId {
                subtype: 7,
                id: port,
            },
            ttl: 1,
        };
        for (c, p) in [
            (&b"dpid:0123456789abcdeg"[..], &b"1:0000000000000000"[..]),
            (b"dpid:+123456789abcdef", b"1:0000000000000000"),
            (b"dpid:0123456789abcde", b"1:0000000000000000"),
            (b"DPID:0123456789abcdef", b"1:0000000000000000"),
            (b"dpid:0123456789abcdef", b"x1:0000000000000000"),
            (b"dpid:0123456789abcdef", b"+1:0000000000000000"),
            (b"dpid:0123456789abcdef", b"1"),
            (b"dpid:0123456789abcdef", b"1:"),
            (b"dpid:0123456789abcdef", b"1:000000000000000"),
            (b"dpid:0123456789abcdef", b"1:000000000000000g"),
            (b"dpid:0123456789abcdef", b"4294967040:0000000000000000"), // OFPP_MAX
            (b"dpid:0123456789abcdef", b"99999999999:0000000000000000"),
        ] {
            assert_eq!(probe_claim(&id(c, p)), None, "{c:?} {p:?}");
        }
        let claim = probe_claim(&id(
            b"dpid:0123456789ABCDEF",
            b"4294967039:00000000000000ff",
        ));
        assert_eq!(
            claim,
            Some((at(0x0123_4567_89ab_cdef, 4_294_967_039), 0xff))
        );
        let mut mac_chassis = id(b"dpid:0123456789abcdef", b"1:0000000000000000");
        mac_chassis.chassis_id.subtype = chassis_subtype::MAC_ADDRESS;
        assert_eq!(probe_claim(&mac_chassis), None);
    }

    #[test]
    fn forged_and_echoed_probes_add_no_link() {
        let mut h = Harness::new(controller("topology", &Config::default(), Vec::new()));
        let a = h.add_switch(agent_config(1, OFP13), &[1, 2]);
        let b = h.add_switch(agent_config(2, OFP13), &[1, 2]);
        h.wire((a, 2), (b, 2));
        advance(&mut h, 2);
        assert_eq!(links(&h).len(), 2);
        // A host at 2:1 forges a probe from 1:1: wrong tag.
        h.frame(b, 1, &probe(1, 1, [2, 0, 0, 0, 0, 1]));
        // A host at 1:1 sends back the real probe its port sent it.
        let echoed = h
            .take_delivered(a)
            .into_iter()
            .find(|(port, f)| *port == 1 && f.get(12..14) == Some(&[0x88, 0xcc][..]))
            .map(|(_, f)| f)
            .expect("the probe out of 1:1");
        h.frame(a, 1, &echoed);
        advance(&mut h, 1);
        assert_eq!(links(&h).len(), 2, "{:?}", links(&h));
    }

    #[test]
    fn a_joining_switch_gets_the_lldp_flow_then_a_probe_per_port() {
        let mut h = Harness::new(controller("topology,hub", &Config::default(), Vec::new()));
        let sw = h.add_fake(FakeSwitch::new(OFP10, 0xcb, 0, 2));
        let got = h.fake(sw).unwrap().take_received();
        let flows: Vec<_> = got
            .iter()
            .filter_map(|m| match m {
                Message::FlowMod(f) => Some(f),
                _ => None,
            })
            .collect();
        assert_eq!(flows.len(), 1, "{got:?}");
        let f = flows[0];
        assert_eq!(f.priority, 0xffff);
        assert_eq!(
            f.match_,
            Match::new().with(OxmField::eth_type(ETH_TYPE_LLDP))
        );
        assert_eq!(
            f.instructions,
            [Instruction::ApplyActions(vec![Action::Output {
                port: PortNo::CONTROLLER,
                max_len: 0xffff
            }])]
        );
        let outs: Vec<_> = got
            .iter()
            .filter_map(|m| match m {
                Message::PacketOut(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(outs.len(), 2);
        for (po, port) in outs.iter().zip([1u32, 2]) {
            assert_eq!(po.in_port, PortNo::CONTROLLER);
            assert_eq!(po.actions, [Action::output(PortNo(port))]);
            assert_eq!(source_of(&po.data), Some(at(0xcb, port)));
        }
        // A probe from port 2 back in at port 1 (a loop cable) is a link, and stops:
        // the hub floods nothing.
        let fake = h.fake(sw).unwrap();
        fake.packet_in(1, UNBUFFERED, &outs[1].data.clone());
        h.run();
        assert!(h
            .controller()
            .network()
            .has_link(&link((0xcb, 2), (0xcb, 1))));
        assert!(
            h.fake(sw).unwrap().take_received().is_empty(),
            "not flooded"
        );
        // Hub still floods other frames (so it was there to flood the LLDP).
        let mut frame = vec![0u8; 60];
        frame[0..6].copy_from_slice(&[0xff; 6]);
        frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        h.fake(sw).unwrap().packet_in(1, UNBUFFERED, &frame);
        h.run();
        assert_eq!(h.fake(sw).unwrap().take_received().len(), 1);
    }

    #[test]
    fn a_triangle_is_found_in_both_versions_and_stays_quiet() {
        for version in [OFP10, OFP13] {
            let (mut h, s) = discovered_triangle(version, &Config::default());
            let ups = changes(&h, 0)
                .iter()
                .filter(|e| matches!(e, AppEvent::LinkUp(_)))
                .count();
            assert_eq!(ups, 6, "v{version}");
            // The LLDP flow is there (with 1.3's table-miss entry).
            let table_miss = usize::from(version == OFP13);
            for sw in s {
                assert_eq!(h.flow_count(sw), table_miss + 1, "v{version}");
            }
            // Rounds go on; links are only refreshed.
            let seq = h.controller().network().seq();
            advance(&mut h, 10);
            assert_eq!(h.controller().network().seq(), seq, "v{version}");
            assert_eq!(links(&h), triangle_links());
            let last = h
                .controller()
                .network()
                .links()
                .map(|(_, i)| i.last_seen)
                .min();
            assert_eq!(last, Some(h.now()), "confirmed on every round");
        }
    }

    #[test]
    fn a_cut_cable_takes_both_links_down_at_once_and_mending_brings_them_back() {
        for version in [OFP10, OFP13] {
            let (mut h, s) = discovered_triangle(version, &Config::default());
            let seq = h.controller().network().seq();
            h.cut((s[0], 2), (s[1], 3));
            let mut downs = changes(&h, seq);
            downs.sort_by_key(|e| format!("{e:?}"));
            assert_eq!(
                downs,
                [
                    AppEvent::LinkDown(link((1, 2), (2, 3))),
                    AppEvent::LinkDown(link((2, 3), (1, 2)))
                ],
                "v{version}"
            );
            assert_eq!(links(&h).len(), 4);
            // Rounds do not bring it back while the cable is cut.
            advance(&mut h, 3);
            assert_eq!(links(&h).len(), 4);
            let seq = h.controller().network().seq();
            h.mend((s[0], 2), (s[1], 3));
            assert_eq!(links(&h), triangle_links(), "at once, no round needed");
            assert_eq!(changes(&h, seq).len(), 2);
        }
    }

    #[test]
    fn a_silent_cut_is_noticed_only_after_the_timeout() {
        let (mut h, s) = discovered_triangle(OFP13, &Config::default());
        let seq = h.controller().network().seq();
        h.cut_silently((s[1], 2), (s[2], 3));
        // Default timeout: 3 * 1000 + 500 ms.
        advance(&mut h, 3);
        assert_eq!(links(&h), triangle_links());
        assert_eq!(h.controller().network().seq(), seq);
        advance(&mut h, 1);
        let mut expect = triangle_links();
        expect.remove(&link((2, 2), (3, 3)));
        expect.remove(&link((3, 3), (2, 2)));
        assert_eq!(links(&h), expect);
        // Mending a silent cut changes no port: the next round finds it.
        h.mend((s[1], 2), (s[2], 3));
        assert_eq!(links(&h), expect);
        advance(&mut h, 1);
        assert_eq!(links(&h), triangle_links());
    }

    #[test]
    fn a_stalled_clock_drops_no_link_that_still_answers() {
        let (mut h, _) = discovered_triangle(OFP13, &Config::default());
        let seq = h.controller().network().seq();
        h.advance(Duration::from_secs(60));
        advance(&mut h, 2);
        assert_eq!(h.controller().network().seq(), seq);
    }

    #[test]
    fn rounds_follow_the_interval_and_the_timeout_follows_it() {
        let config = Config::from_toml("[topology]\ninterval_ms = 1500\n").unwrap();
        assert_eq!(config.topology.timeout(), Duration::from_millis(5000));
        let topo = Topology::new(config.topology.clone());
        let counters = topo.counters();
        let mut h = Harness::new(controller("", &config, vec![Box::new(topo)]));
        let s = triangle(&mut h, OFP13);
        let joined = counters.snapshot().0;
        assert_eq!(joined, 9, "every port probed on join");
        advance(&mut h, 6);
        assert_eq!(counters.snapshot().0 - joined, 4 * 9, "a round every 1.5 s");
        assert_eq!(links(&h), triangle_links());
        // A silent cut is noticed after 5 s without confirmation.
        h.cut_silently((s[0], 2), (s[1], 3));
        advance(&mut h, 4);
        assert_eq!(links(&h).len(), 6);
        advance(&mut h, 2);
        assert_eq!(links(&h).len(), 4);
        let c =
            Config::from_toml("[topology]\ninterval_ms = 2000\ntimeout_ms = 900\npriority = 7\n")
                .unwrap()
                .topology;
        assert_eq!(
            (c.interval(), c.timeout()),
            (2 * SEC, Duration::from_millis(900))
        );
        assert_eq!(c.priority, 7);
        assert!(Config::from_toml("[topology]\ninterval = 5\n").is_err());
    }

    #[test]
    fn a_leaving_switch_takes_its_links_and_is_no_longer_probed() {
        let topo = Topology::new(TopologyConfig::default());
        let counters = topo.counters();
        let mut h = Harness::new(controller(
            "hosts",
            &Config::default(),
            vec![Box::new(topo)],
        ));
        let s = triangle(&mut h, OFP13);
        advance(&mut h, 2);
        assert_eq!(links(&h).len(), 6);
        h.disconnect(s[2]);
        let expect: BTreeSet<Link> = [link((1, 2), (2, 3)), link((2, 3), (1, 2))].into();
        assert_eq!(links(&h), expect);
        let sent = counters.snapshot().0;
        let seq = h.controller().network().seq();
        advance(&mut h, 5);
        assert_eq!(
            counters.snapshot().0 - sent,
            5 * 6,
            "two switches, three ports"
        );
        assert_eq!(h.controller().network().seq(), seq, "nothing flaps");
    }

    #[test]
    fn ports_that_go_or_come_change_their_links_at_once() {
        let (mut h, s) = discovered_triangle(OFP13, &Config::default());
        h.remove_port(s[0], 2);
        let mut expect = triangle_links();
        expect.remove(&link((1, 2), (2, 3)));
        expect.remove(&link((2, 3), (1, 2)));
        assert_eq!(links(&h), expect);
        h.add_port(s[0], 2);
        expect.insert(link((1, 2), (2, 3)));
        assert_eq!(links(&h), expect, "the new port's probe went out at once");
        advance(&mut h, 1);
        assert_eq!(links(&h), triangle_links());
    }

    #[test]
    fn lldp_never_reaches_other_apps_and_is_never_flooded() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = PacketRecorder {
            priority: 500,
            seen: seen.clone(),
        };
        let topo = Topology::new(TopologyConfig::default());
        let counters = topo.counters();
        let mut h = Harness::new(controller(
            "hub",
            &Config::default(),
            vec![Box::new(topo), Box::new(recorder)],
        ));
        // A line (the hub would loop on a triangle): 1:2 -- 2:2, hosts on ports 1 and 3.
        let a = h.add_switch(agent_config(1, OFP13), &[1, 2, 3]);
        let b = h.add_switch(agent_config(2, OFP10), &[1, 2, 3]);
        h.wire((a, 2), (b, 2));
        advance(&mut h, 2);
        assert_eq!(links(&h).len(), 2);
        // Host traffic is flooded by the hub across the link.
        let mut frame = vec![7u8; 60];
        frame[0..6].copy_from_slice(&[0xff; 6]);
        frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        frame[12..14].copy_from_slice(&[0x88, 0xb5]);
        h.frame(a, 1, &frame);
        // Foreign LLDP at an edge port, and our own probes' copies.
        let mut foreign = probe(1, 1, [2, 0, 0, 0, 0, 1]);
        foreign[14 + 2] = chassis_subtype::MAC_ADDRESS;
        h.frame(a, 3, &foreign);
        h.frame(b, 3, &probe(77, 1, [2, 0, 0, 0, 0, 2]));
        advance(&mut h, 3);
        let types = seen.lock().unwrap().clone();
        assert!(types.contains(&0x88b5), "the recorder works: {types:?}");
        assert!(!types.contains(&ETH_TYPE_LLDP), "{types:?}");
        let (_, received, foreign_n, malformed) = counters.snapshot();
        assert!(received >= 2 * 5, "{received}");
        assert_eq!((foreign_n, malformed), (2, 0));
        // Every LLDP frame that left a port is that port's own probe: none was flooded.
        for (sw, dpid) in [(a, 1u64), (b, 2)] {
            let out = h.take_delivered(sw);
            assert!(out.iter().any(|(_, f)| f == &frame), "the hub flooded");
            let mut probes = 0;
            for (port, f) in &out {
                if f.get(12..14) == Some(&[0x88, 0xcc][..]) {
                    assert_eq!(source_of(f), Some(at(dpid, *port)));
                    probes += 1;
                }
            }
            assert!(probes >= 2 * 5, "{probes}");
        }
    }

    #[test]
    fn broken_or_foreign_lldp_changes_nothing() {
        let topo = Topology::new(TopologyConfig::default());
        let counters = topo.counters();
        let mut h = Harness::new(controller(
            "hosts",
            &Config::default(),
            vec![Box::new(topo)],
        ));
        let s = triangle(&mut h, OFP13);
        advance(&mut h, 2);
        let seq = h.controller().network().seq();
        let (_, _, f0, m0) = counters.snapshot();
        let good = probe(2, 1, [2, 0, 0, 0, 0, 0x22]);
        let mut sent = 0;
        for cut in 14..good.len() {
            if LldpRepr::parse(&good[14..cut]).is_err() {
                h.frame(s[0], 1, &good[..cut]);
                sent += 1;
            }
        }
        assert!(sent > 20);
        // Garbage after the LLDP EtherType, from a fixed xorshift stream.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..300usize {
            let mut f = good.clone();
            f.truncate(14 + i % 50);
            for b in f[14..].iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            if i % 3 == 0 && f.len() > 16 {
                f[14] = 0x02; // a chassis TLV header, so the walk goes deeper
            }
            h.frame(s[0], 1, &f);
            sent += 1;
        }
        // Well-formed, but not ours or not from a joined switch.
        h.frame(s[0], 1, &probe(99, 1, [2, 0, 0, 0, 0, 0x99]));
        let mut other = good.clone();
        other[14 + 2] = chassis_subtype::MAC_ADDRESS;
        h.frame(s[0], 1, &other);
        sent += 2;
        let (_, _, f1, m1) = counters.snapshot();
        assert_eq!((f1 - f0) + (m1 - m0), sent);
        assert!(m1 - m0 >= 20 && f1 - f0 >= 2);
        assert_eq!(h.controller().network().seq(), seq, "no view change");
        assert_eq!(links(&h), triangle_links());
    }
}
