//! `routing`: shortest paths over the discovered topology, and flooding that cannot loop.
//!
//! # Paths
//!
//! A packet-in whose destination MAC is a host of the network view is routed: a
//! breadth-first search over the view's links (directed, each direction a link of its
//! own) from the packet's switch to the host's switch, neighbours taken in link order
//! (source port, then far end), so equal-cost paths always resolve the same way. Every
//! switch of the path gets one flow (the path's *hop*) with output to the next switch,
//! the last one to the host's port.
//!
//! # Pair paths and microflow paths, and where they lie among the other apps' flows
//!
//! A hop matches `(in_port, eth_src, eth_dst)` (`match_in_port = false` drops the port):
//! a *pair path*, one per ordered pair of hosts, at `flow_priority` (10). A packet-in
//! that a flow's explicit output to the controller sent (reason `OFPR_ACTION`; a
//! table-miss entry's say `OFPR_NO_MATCH`) was sent on purpose, by an app that wants to
//! see each flow of some kind — the `acl` app's checks — and gets a *microflow path*
//! instead: the hops also match the EtherType and, for IPv4, the addresses, protocol and
//! TCP/UDP ports (not for later fragments), at `microflow_priority` (0xa000), so the
//! path carries exactly the microflow that was checked and nothing else.
//! `granularity = "l4"` makes every path a microflow path (each new microflow then comes
//! to the controller, which suits `scan_detect`, at the cost of a packet-in per
//! connection).
//!
//! The priorities are a contract with the `acl` and `scan_detect` apps, whose flows use
//! fixed priorities:
//!
//! ```text
//!  0xf000           scan_detect's blocks          drop a scanner, whatever its paths
//!  0x9000..=0xefff  microflow paths (0xa000)      one microflow the ACL checked
//!  0x8000..=0x8fff  the ACL's rules               deny flows, holes to the controller
//!  0x7000, 0x7001   the ACL's default-deny floor, and its pass flows to the controller
//!  1..=0x6fff       pair paths (10)               never above any ACL flow
//!  0                the table-miss entry
//! ```
//!
//! So no pair path can carry what the policy denies, not even one set up before the
//! policy changed (the floor and the deny flows lie above it), and a microflow path can
//! only have been set up for a microflow the policy allowed. The configuration refuses
//! priorities outside their range ([`PAIR_PRIORITIES`], [`MICROFLOW_PRIORITIES`]); a
//! configuration built in code with one is logged and given the default. When the ACL's
//! policy changes, the ACL deletes every microflow path (by cookie, see below) on every
//! switch, and routing forgets them as the flow-removed messages arrive.
//!
//! # Installing a path
//!
//! The packet must never overtake its flows: released at the first switch before the
//! second has its flow, it would reach the controller again on a link port (and be
//! dropped, see below). OpenFlow orders messages within one connection only, so the
//! hops are installed from the last switch back, each followed by a barrier request,
//! and the first switch gets its flow, together with the packet (and any further
//! packet-ins of the same path that arrived meanwhile, up to 16; beyond that they are
//! dropped, their switch buffers released, and counted), only once every barrier has
//! been answered. A switch that never answers delays this by at most two seconds (then
//! the first hop is installed anyway). A one-switch path needs no barrier: one flow mod
//! carrying the switch's buffer, or a flow mod and a packet-out.
//!
//! Packets of a path that were already on their way when its first hop got its flow
//! reach the controller too, at the path's first switch and port. Within a second of
//! the path's completion such a packet is simply released through the first hop (one
//! packet-out, nothing installed); later, the first hop's flow is evidently gone (a
//! flow-removed message still on its way, a switch that dropped it) and the path is set
//! up again.
//!
//! # Keeping the records true
//!
//! Each path is recorded: its key (source MAC, destination MAC and, for a microflow
//! path, the microflow), and per hop the switch, input port and match. Its flows carry a
//! cookie naming the path ([`COOKIE_TAG`] in the top 16 bits, [`MICROFLOW_COOKIE`] for a
//! microflow path, the path's number below) and always ask for a flow-removed message,
//! so the record lives exactly as long as the flows: when one hop goes — idled out,
//! deleted by another app (the ACL's cookie-masked delete), evicted — the rest of the
//! path is deleted and the record goes. A flow mod of the path that a switch refuses
//! (an error naming its xid, say a full table) would leave the other hops as a black
//! hole: the path is torn down at once. A path is also torn down (its hops deleted by
//! strict match on every switch, then forgotten) when a link it crosses goes down in
//! either direction, when a port it leaves by loses its link, when one of its switches
//! leaves, when its source or destination host leaves, and when one of them moves: then
//! every path from the host that does not start at its new place, and every path to it
//! that does not end there, goes (the path the moving host's own packet just set up, at
//! its new place, stays). Held packets of a path torn down before it was ready are
//! dropped, their buffers released, and counted. The next packet-in routes around
//! whatever changed. A destination with no path (partitioned network) is dropped and
//! counted. A switch that joins (OpenFlow 1.3) first loses any flow carrying routing's
//! cookie: leftovers of an earlier connection or controller that no record describes.
//!
//! # Packet-ins on link ports are never acted on
//!
//! A frame reaching the controller on a port that carries a link came from another
//! switch: it is a copy the controller itself produced (a flood, or a path whose next
//! flow is missing). Acting on it could send it round again, so routing drops it. Only
//! frames entering the network at an edge port are routed or flooded.
//!
//! # Flooding: controller-driven, at the edge only
//!
//! Broadcast, multicast and unknown destinations are flooded without ever sending the
//! frame across a link: the controller sends it, with one packet-out per switch, out of
//! every *edge* port of every switch (a port that is up, not reserved, not marked
//! `no_flood` and carries no known link), except the port it came in by. The ingress
//! switch's packet-out releases the switch's buffer when there is one. No flow is
//! installed for a flood. Nothing crosses a link, so no topology — a ring, a partly
//! discovered mesh, a link that flaps — can make a flood loop, and no spanning tree has
//! to be computed or kept consistent. The price is one packet-out per switch per flood
//! instead of one, which at lab scale is nothing. Frames to IEEE 802.1D link-local
//! groups (`01:80:c2:00:00:0x`) and LLDP frames are never flooded (bridges must not
//! forward them). A buffered packet-in whose data is cut short can only be flooded at
//! its own switch (the rest of the frame is in that switch's buffer); that is counted.
//!
//! ## Before discovery has finished
//!
//! A port that is really a link but not yet known as one would be taken for an edge. Two
//! rules keep that harmless:
//!
//! * a port is flooded only once it has been up for `flood_settle_s` seconds (counted
//!   from the switch's join, or from the port's last `PORT_STATUS` that found it up), by
//!   which time discovery has normally found its link;
//! * a flood sent out of a port that is really a link comes back as a packet-in with the
//!   same bytes at another place. Every flood remembers a hash of its frame and where it
//!   entered; the same frame entering somewhere else within `flood_echo_ms` is such a
//!   copy and is dropped, and the same frame at the same place within `flood_repeat_ms`
//!   is dropped too (a loop through something the controller cannot see). A host's
//!   genuine retransmission (an ARP request repeated after a second) enters where the
//!   original did, after the short window, and is flooded again. So even a wholly
//!   undiscovered ring cannot make the controller flood in circles.
//!
//! The times are bounded by the configuration (a day, an hour) and added saturating, so
//! no value can overflow the clock.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use flowlab_datapath::key::FlowKey;
use flowlab_openflow::model::port::{config as port_config, state as port_state};
use flowlab_openflow::model::{
    Action, FlowMod, FlowModCommand, Match, Message, OxmField, OxmId, PacketOut, Port, PortNo,
    TABLE_ALL,
};
use serde::{Deserialize, Deserializer};

use crate::app::{App, Ctx, Disposition, Flow, Registrar};
use crate::apps::{acl, scan_detect};
use crate::event::{
    AppEvent, Event, EventKind, FlowRemovedEvent, Link, Location, PacketInEvent, PortReason,
};
use crate::netview::{Mac, NetworkView};
use crate::switch_conn::OFP13;
use crate::view::{DatapathId, SwitchView};

/// The top 16 bits of the cookie of every flow routing installs ("RT").
pub const COOKIE_TAG: u64 = 0x5254;

/// The mask selecting [`COOKIE_TAG`] in a cookie.
pub const COOKIE_MASK: u64 = 0xffff << 48;

/// The cookie bit (below [`COOKIE_TAG`]) set on the flows of microflow paths, so that
/// they can be deleted apart from pair paths (the `acl` app does on a policy change).
pub const MICROFLOW_COOKIE: u64 = 1 << 47;

/// The cookie bits that number the path.
const PATH_ID_MASK: u64 = MICROFLOW_COOKIE - 1;

/// Default priority of pair path flows: below every flow of the ACL.
pub const L2_FLOW_PRIORITY: u16 = 10;

/// Default priority of microflow path flows: above the ACL's rule band (such a path
/// carries exactly one microflow, which the policy allowed), below `scan_detect`'s blocks.
pub const L4_FLOW_PRIORITY: u16 = 0xa000;

/// The priorities `flow_priority` may take: above the table-miss entry, below the ACL's
/// default-deny floor ([`acl::FLOOR_PRIORITY`]).
pub const PAIR_PRIORITIES: RangeInclusive<u16> = 1..=acl::FLOOR_PRIORITY - 1;

/// The priorities `microflow_priority` may take: above the ACL's rule band
/// ([`acl::BAND_TOP`]), below `scan_detect`'s blocks ([`scan_detect::BLOCK_PRIORITY`]).
pub const MICROFLOW_PRIORITIES: RangeInclusive<u16> =
    acl::BAND_TOP + 1..=scan_detect::BLOCK_PRIORITY - 1;

// The defaults lie in their ranges.
const _: () = assert!(
    *PAIR_PRIORITIES.start() <= L2_FLOW_PRIORITY
        && L2_FLOW_PRIORITY <= *PAIR_PRIORITIES.end()
        && *MICROFLOW_PRIORITIES.start() <= L4_FLOW_PRIORITY
        && L4_FLOW_PRIORITY <= *MICROFLOW_PRIORITIES.end()
);

/// The largest `flood_settle_s` (a day).
pub const MAX_FLOOD_SETTLE_S: u64 = 86_400;

/// The largest `flood_repeat_ms` and `flood_echo_ms` (an hour).
pub const MAX_FLOOD_WINDOW_MS: u64 = 3_600_000;

/// `OFPR_ACTION`: the packet-in was sent by a flow's explicit output to the controller
/// (a table-miss entry's packet-ins say `OFPR_NO_MATCH`).
const REASON_ACTION: u8 = 1;

const ETH_TYPE_IPV4: u16 = 0x0800;
const ETH_TYPE_LLDP: u16 = 0x88cc;

/// What the path flows of table-miss packet-ins match besides the two MAC addresses
/// (packet-ins sent by an explicit controller action always get microflow paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// `(in_port,) eth_src, eth_dst`: one path per pair of hosts.
    #[default]
    L2,
    /// Also the EtherType and, for IPv4, addresses, protocol and TCP/UDP ports: one path
    /// per microflow, each set up through the controller (and so through the ACL).
    L4,
}

/// `[routing]` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingConfig {
    /// Handler priority for packet-ins (below `topology` and `hosts`, below `acl`).
    pub priority: i32,
    /// Idle timeout of path flows, in seconds (0: none).
    pub idle_timeout: u16,
    /// Hard timeout of path flows, in seconds (0: none).
    pub hard_timeout: u16,
    /// What the paths of table-miss packet-ins match.
    pub granularity: Granularity,
    /// Priority of `l2` path flows (in [`PAIR_PRIORITIES`]).
    #[serde(deserialize_with = "de_flow_priority")]
    pub flow_priority: u16,
    /// Priority of microflow path flows (in [`MICROFLOW_PRIORITIES`]).
    #[serde(deserialize_with = "de_microflow_priority")]
    pub microflow_priority: u16,
    /// Path flows match the input port too.
    pub match_in_port: bool,
    /// Seconds a port must have been up before floods use it (at most
    /// [`MAX_FLOOD_SETTLE_S`]).
    #[serde(deserialize_with = "de_flood_settle_s")]
    pub flood_settle_s: u64,
    /// The same frame entering at the same port within this many milliseconds of a
    /// flood is not flooded again (at most [`MAX_FLOOD_WINDOW_MS`]).
    #[serde(deserialize_with = "de_flood_window_ms")]
    pub flood_repeat_ms: u64,
    /// The same frame entering at another port within this many milliseconds of a flood
    /// is a copy of it and is dropped (at most [`MAX_FLOOD_WINDOW_MS`]).
    #[serde(deserialize_with = "de_flood_window_ms")]
    pub flood_echo_ms: u64,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            priority: 500,
            idle_timeout: 30,
            hard_timeout: 0,
            granularity: Granularity::L2,
            flow_priority: L2_FLOW_PRIORITY,
            microflow_priority: L4_FLOW_PRIORITY,
            match_in_port: true,
            flood_settle_s: 3,
            flood_repeat_ms: 500,
            flood_echo_ms: 5000,
        }
    }
}

fn check_flow_priority(p: u16) -> Result<(), String> {
    if PAIR_PRIORITIES.contains(&p) {
        return Ok(());
    }
    Err(format!(
        "flow_priority {p} is out of range: pair paths must lie above the table-miss entry \
         and below the acl's default-deny floor at {} (use {} to {})",
        acl::FLOOR_PRIORITY,
        PAIR_PRIORITIES.start(),
        PAIR_PRIORITIES.end()
    ))
}

fn check_microflow_priority(p: u16) -> Result<(), String> {
    if MICROFLOW_PRIORITIES.contains(&p) {
        return Ok(());
    }
    Err(format!(
        "microflow_priority {p} is out of range: microflow paths must lie above the acl's \
         rule band (up to {}) and below scan_detect's blocks at {} (use {} to {})",
        acl::BAND_TOP,
        scan_detect::BLOCK_PRIORITY,
        MICROFLOW_PRIORITIES.start(),
        MICROFLOW_PRIORITIES.end()
    ))
}

fn check_at_most(name: &str, v: u64, max: u64) -> Result<(), String> {
    if v <= max {
        Ok(())
    } else {
        Err(format!("{name} {v} is out of range (at most {max})"))
    }
}

fn de_checked<'de, D, T>(d: D, check: impl FnOnce(T) -> Result<(), String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Copy,
{
    let v = T::deserialize(d)?;
    check(v).map_err(serde::de::Error::custom)?;
    Ok(v)
}

fn de_flow_priority<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    de_checked(d, check_flow_priority)
}

fn de_microflow_priority<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    de_checked(d, check_microflow_priority)
}

fn de_flood_settle_s<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    de_checked(d, |v| {
        check_at_most("flood_settle_s", v, MAX_FLOOD_SETTLE_S)
    })
}

fn de_flood_window_ms<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    de_checked(d, |v| {
        check_at_most("flood window (ms)", v, MAX_FLOOD_WINDOW_MS)
    })
}

impl RoutingConfig {
    /// Checks the ranges the TOML reader enforces (a configuration built in code may
    /// break them): priorities in [`PAIR_PRIORITIES`] and [`MICROFLOW_PRIORITIES`],
    /// times at most [`MAX_FLOOD_SETTLE_S`] and [`MAX_FLOOD_WINDOW_MS`].
    pub fn validate(&self) -> Result<(), String> {
        check_flow_priority(self.flow_priority)?;
        check_microflow_priority(self.microflow_priority)?;
        check_at_most("flood_settle_s", self.flood_settle_s, MAX_FLOOD_SETTLE_S)?;
        check_at_most("flood_repeat_ms", self.flood_repeat_ms, MAX_FLOOD_WINDOW_MS)?;
        check_at_most("flood_echo_ms", self.flood_echo_ms, MAX_FLOOD_WINDOW_MS)
    }
}

/// Counters of the routing app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoutingStats {
    /// Packet-ins routed along a new path (installed and released).
    pub routed: u64,
    /// Packet-ins of a path just completed, released through its first hop (they were
    /// on their way while it was set up).
    pub released: u64,
    /// Packet-ins flooded.
    pub flooded: u64,
    /// Packet-ins not flooded because the same frame was just flooded.
    pub flood_suppressed: u64,
    /// Floods served at the ingress switch only (the packet-in's data was cut short).
    pub flood_truncated: u64,
    /// Packet-ins ignored because they arrived on a link port.
    pub link_port_ignored: u64,
    /// Packet-ins dropped: no path to the destination's switch.
    pub unreachable: u64,
    /// Packet-ins dropped otherwise (runt frames, destination behind the input port,
    /// link-local groups, LLDP).
    pub dropped: u64,
    /// Packets held for a path being set up that were dropped (more than 16 waiting, or
    /// the path torn down first); their switch buffers were released.
    pub held_dropped: u64,
    /// Paths installed.
    pub paths_installed: u64,
    /// Paths torn down (link, port, host or switch change, a hop removed, or refused).
    pub paths_removed: u64,
    /// Paths torn down because a switch refused one of their flow mods.
    pub paths_refused: u64,
}

/// One switch of an installed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathHop {
    /// The switch.
    pub dpid: DatapathId,
    /// Where packets of the path enter the switch.
    pub in_port: PortNo,
    /// The flow's match.
    pub match_: Match,
    /// Where the flow sends packets.
    pub out_port: PortNo,
}

/// An installed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPath {
    /// The source host.
    pub src: Mac,
    /// The destination host.
    pub dst: Mac,
    /// The hops, first switch first.
    pub hops: Vec<PathHop>,
    /// The flows' priority.
    pub priority: u16,
}

impl InstalledPath {
    /// Whether the path sends packets out of `at`.
    pub fn leaves_by(&self, at: Location) -> bool {
        self.hops
            .iter()
            .any(|h| h.dpid == at.dpid && h.out_port == at.port)
    }

    /// Whether the path crosses `link` in either direction.
    pub fn crosses(&self, link: &Link) -> bool {
        self.leaves_by(link.src) || self.leaves_by(link.dst)
    }

    /// The switches of the path, first first.
    pub fn switches(&self) -> Vec<DatapathId> {
        self.hops.iter().map(|h| h.dpid).collect()
    }

    /// Where the path's packets enter the network (its source host's place).
    pub fn ingress(&self) -> Option<Location> {
        self.hops.first().map(|h| Location {
            dpid: h.dpid,
            port: h.in_port,
        })
    }

    /// Where the path's packets leave the network (its destination host's place).
    pub fn egress(&self) -> Option<Location> {
        self.hops.last().map(|h| Location {
            dpid: h.dpid,
            port: h.out_port,
        })
    }
}

/// What routing shares with whoever holds [`Routing::shared`]: counters and the installed
/// paths (by path number).
#[derive(Debug, Default)]
pub struct RoutingState {
    /// The counters.
    pub stats: RoutingStats,
    /// The installed paths.
    pub paths: BTreeMap<u64, InstalledPath>,
}

/// A handle on the routing app's state that stays valid after the app is boxed into a
/// controller.
pub type SharedRouting = Arc<Mutex<RoutingState>>;

/// What decides which path a packet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PathKey {
    src: Mac,
    dst: Mac,
    micro: Option<Microflow>,
}

/// The header fields of an `l4` path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Microflow {
    eth_type: u16,
    ipv4: Option<Ipv4Flow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Ipv4Flow {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    /// TCP or UDP (source, destination) ports.
    ports: Option<(u16, u16)>,
}

impl Microflow {
    fn of(frame: &[u8]) -> Microflow {
        let (key, _) = FlowKey::from_frame(frame, 0);
        let ipv4 = (key.eth_type == ETH_TYPE_IPV4 && frame.len() >= 34).then(|| Ipv4Flow {
            src: Ipv4Addr::from(key.ipv4_src),
            dst: Ipv4Addr::from(key.ipv4_dst),
            proto: key.ip_proto,
            // Later fragments carry no ports: they get a path of their own without them.
            ports: (matches!(key.ip_proto, 6 | 17) && key.ip_frag & 2 == 0)
                .then_some((key.tp_src, key.tp_dst)),
        });
        Microflow {
            eth_type: key.eth_type,
            ipv4,
        }
    }

    fn add_to(&self, m: &mut Match) {
        m.set(OxmField::eth_type(self.eth_type));
        if let Some(ip) = self.ipv4 {
            m.set(OxmField::ipv4_src(ip.src));
            m.set(OxmField::ipv4_dst(ip.dst));
            m.set(OxmField::ip_proto(ip.proto));
            if let Some((s, d)) = ip.ports {
                let (fs, fd) = if ip.proto == 6 {
                    (OxmId::TcpSrc, OxmId::TcpDst)
                } else {
                    (OxmId::UdpSrc, OxmId::UdpDst)
                };
                m.set(OxmField::from_uint(fs, u64::from(s)));
                m.set(OxmField::from_uint(fd, u64::from(d)));
            }
        }
    }
}

/// The links as a graph, rebuilt when the view's links change.
#[derive(Debug, Default)]
struct Graph {
    /// The view's link sequence number it was built at (None: never built).
    seq: Option<u64>,
    /// Per switch: (out port, far switch, far port), in link order.
    adj: BTreeMap<DatapathId, Vec<(PortNo, DatapathId, PortNo)>>,
}

impl Graph {
    fn refresh(&mut self, net: &NetworkView) {
        if self.seq == Some(net.link_seq()) {
            return;
        }
        self.adj.clear();
        for (l, _) in net.links() {
            self.adj
                .entry(l.src.dpid)
                .or_default()
                .push((l.src.port, l.dst.dpid, l.dst.port));
        }
        self.seq = Some(net.link_seq());
    }

    /// The shortest path from `from` to `to`, one step per link crossed (empty when
    /// `from == to`), through switches `joined` accepts; None when there is none.
    fn path(
        &self,
        from: DatapathId,
        to: DatapathId,
        joined: impl Fn(DatapathId) -> bool,
    ) -> Option<Vec<Step>> {
        if from == to {
            return Some(Vec::new());
        }
        let mut parent: HashMap<DatapathId, Step> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(s) = queue.pop_front() {
            for &(out, next, next_in) in self.adj.get(&s).map_or(&[][..], Vec::as_slice) {
                if next == from || parent.contains_key(&next) || !joined(next) {
                    continue;
                }
                let step = Step {
                    from: s,
                    out,
                    to: next,
                    to_port: next_in,
                };
                parent.insert(next, step);
                if next == to {
                    let mut steps = vec![step];
                    while let Some(p) = parent.get(&steps[steps.len() - 1].from) {
                        steps.push(*p);
                    }
                    steps.reverse();
                    return Some(steps);
                }
                queue.push_back(next);
            }
        }
        None
    }
}

/// One link a path crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    from: DatapathId,
    out: PortNo,
    to: DatapathId,
    to_port: PortNo,
}

/// Where and when a flooded frame entered.
#[derive(Debug, Clone, Copy)]
struct Flooded {
    at: Location,
    when: Duration,
}

/// A packet held until its path is ready.
#[derive(Debug)]
struct Held {
    in_port: PortNo,
    buffer_id: u32,
    /// Whether the switch holds the packet in a buffer (which a drop must release).
    buffered: bool,
    /// The frame, when not buffered.
    data: Vec<u8>,
}

impl Held {
    fn of(pi: &PacketInEvent<'_>) -> Held {
        Held {
            in_port: pi.in_port(),
            buffer_id: pi.packet.buffer_id(),
            buffered: pi.packet.is_buffered(),
            data: if pi.packet.is_buffered() {
                Vec::new()
            } else {
                pi.data().to_vec()
            },
        }
    }
}

/// A path whose downstream switches have not all confirmed their flows yet.
#[derive(Debug)]
struct Pending {
    /// The first switch.
    dpid: DatapathId,
    /// Its flow.
    flow: Flow,
    /// The packets to release through it.
    held: Vec<Held>,
    /// Barrier replies still awaited.
    waiting: usize,
    /// When the path was set up.
    since: Duration,
}

/// What routing keeps about a path besides its shared record.
#[derive(Debug)]
struct PathInfo {
    key: PathKey,
    /// Where the path starts (its first switch and the port packets enter by).
    ingress: Location,
    /// Where the first switch sends them.
    first_out: PortNo,
    /// When the first switch got its flow (None: the path is pending).
    ready: Option<Duration>,
    /// The path's flow mods a switch may still refuse: (switch, xid).
    xids: Vec<(DatapathId, u32)>,
}

/// Packets held per pending path at most (more are dropped).
const MAX_HELD: usize = 16;

/// How long a path waits for barrier replies before its first switch is set up anyway.
const BARRIER_WAIT: Duration = Duration::from_secs(2);

/// How long after a path's completion a packet-in at its first switch is taken for a
/// packet that was on its way meanwhile (and released through the first hop).
const IN_FLIGHT: Duration = Duration::from_secs(1);

/// Entries of the flood memory beyond which it is cleared outright.
const FLOOD_MEMORY_MAX: usize = 1 << 16;

/// The routing app. See the module documentation.
#[derive(Debug)]
pub struct Routing {
    config: RoutingConfig,
    shared: SharedRouting,
    next_path: u64,
    by_key: HashMap<PathKey, u64>,
    /// Each path's key, start and outstanding flow mods, by path number.
    info: HashMap<u64, PathInfo>,
    /// Flow mods a switch may still refuse: (switch, xid) → path.
    flow_xids: HashMap<(DatapathId, u32), u64>,
    graph: Graph,
    /// When each switch joined.
    joined: HashMap<DatapathId, Duration>,
    /// Ports whose status came in a `PORT_STATUS`: up, and since when.
    port_since: HashMap<Location, (bool, Duration)>,
    /// Recent floods by frame hash.
    flooded: HashMap<u64, Flooded>,
    /// Paths whose first switch waits for the others' barrier replies.
    pending: HashMap<u64, Pending>,
    /// Outstanding barriers: (switch, xid) → path.
    barriers: HashMap<(DatapathId, u32), u64>,
}

fn is_group(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

/// IEEE 802.1D reserved link-local group addresses, which bridges never forward.
fn is_link_local(mac: &[u8; 6]) -> bool {
    mac[..5] == [0x01, 0x80, 0xc2, 0x00, 0x00] && mac[5] <= 0x0f
}

fn frame_hash(frame: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    frame.hash(&mut h);
    h.finish()
}

/// Releases a switch's buffer without sending the packet anywhere.
fn release_buffer(ctx: &mut Ctx<'_>, dpid: DatapathId, buffer_id: u32, in_port: PortNo) {
    let po = PacketOut {
        buffer_id,
        in_port,
        actions: Vec::new(),
        data: Vec::new(),
    };
    let _ = ctx.send(dpid, &Message::PacketOut(po));
}

impl Routing {
    /// The app with `config`. A configuration read from TOML is valid; one built in
    /// code with a priority out of its range (see [`RoutingConfig::validate`]) is logged
    /// and that priority replaced by its default.
    pub fn new(mut config: RoutingConfig) -> Routing {
        if let Err(e) = check_flow_priority(config.flow_priority) {
            eprintln!("flowlab-controller: routing: {e}; using {L2_FLOW_PRIORITY}");
            config.flow_priority = L2_FLOW_PRIORITY;
        }
        if let Err(e) = check_microflow_priority(config.microflow_priority) {
            eprintln!("flowlab-controller: routing: {e}; using {L4_FLOW_PRIORITY}");
            config.microflow_priority = L4_FLOW_PRIORITY;
        }
        Routing {
            config,
            shared: SharedRouting::default(),
            next_path: 1,
            by_key: HashMap::new(),
            info: HashMap::new(),
            flow_xids: HashMap::new(),
            graph: Graph::default(),
            joined: HashMap::new(),
            port_since: HashMap::new(),
            flooded: HashMap::new(),
            pending: HashMap::new(),
            barriers: HashMap::new(),
        }
    }

    /// A handle on the counters and installed paths.
    pub fn shared(&self) -> SharedRouting {
        self.shared.clone()
    }

    /// The configuration in force.
    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    fn state(&self) -> MutexGuard<'_, RoutingState> {
        // A test that panicked while holding it poisons it; the data is still good.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, f: impl FnOnce(&mut RoutingStats)) {
        f(&mut self.state().stats);
    }

    fn packet_in(&mut self, pi: &PacketInEvent<'_>, ctx: &mut Ctx<'_>) {
        let here = Location {
            dpid: pi.dpid,
            port: pi.in_port(),
        };
        if ctx.network().is_link_port(here) {
            self.count(|s| s.link_port_ignored += 1);
            return;
        }
        let (Some(dst), Some(src), Some(eth_type)) = (
            pi.packet.eth_dst(),
            pi.packet.eth_src(),
            pi.packet.eth_type(),
        ) else {
            self.count(|s| s.dropped += 1);
            return;
        };
        if is_group(&src) || is_link_local(&dst) || eth_type == ETH_TYPE_LLDP {
            self.count(|s| s.dropped += 1);
            return;
        }
        if is_group(&dst) {
            self.flood(pi, here, ctx);
            return;
        }
        let Some(host) = ctx.network().host(Mac(dst)).map(|h| h.location) else {
            self.flood(pi, here, ctx);
            return;
        };
        if host == here {
            self.count(|s| s.dropped += 1);
            return;
        }
        let per_flow =
            self.config.granularity == Granularity::L4 || pi.packet.reason() == REASON_ACTION;
        let key = PathKey {
            src: Mac(src),
            dst: Mac(dst),
            micro: per_flow.then(|| Microflow::of(pi.data())),
        };
        // A path for the same packets from the same place: being set up, the packet
        // waits with the first; just completed, it was on its way meanwhile.
        if let Some(&id) = self.by_key.get(&key) {
            if let Some(info) = self.info.get(&id).filter(|i| i.ingress == here) {
                match info.ready {
                    None => {
                        self.hold(id, pi, ctx);
                        return;
                    }
                    Some(t) if ctx.now() < t.saturating_add(IN_FLIGHT) => {
                        let _ = ctx.output(pi, info.first_out);
                        self.count(|s| s.released += 1);
                        return;
                    }
                    // The first hop's flow is gone: the path is set up again.
                    Some(_) => {}
                }
            }
        }
        self.graph.refresh(ctx.network());
        let switches = &*ctx;
        let steps = self
            .graph
            .path(pi.dpid, host.dpid, |d| switches.switch(d).is_some());
        let Some(steps) = steps else {
            self.count(|s| s.unreachable += 1);
            return;
        };
        self.install_path(pi, key, &steps, host.port, ctx);
    }

    /// Holds the packet-in's packet for pending path `id` (or drops it when too many
    /// wait already).
    fn hold(&mut self, id: u64, pi: &PacketInEvent<'_>, ctx: &mut Ctx<'_>) {
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        if p.held.len() < MAX_HELD {
            p.held.push(Held::of(pi));
            return;
        }
        if pi.packet.is_buffered() {
            release_buffer(ctx, pi.dpid, pi.packet.buffer_id(), pi.in_port());
        }
        self.count(|s| s.held_dropped += 1);
    }

    /// Drops the packets a pending path held, releasing their buffers.
    fn drop_held(&self, p: Pending, ctx: &mut Ctx<'_>) {
        for h in &p.held {
            if h.buffered {
                release_buffer(ctx, p.dpid, h.buffer_id, h.in_port);
            }
        }
        let n = p.held.len() as u64;
        if n > 0 {
            self.count(|s| s.held_dropped += n);
        }
    }

    /// Forgets everything about path `id` but its shared record (dropping its held
    /// packets).
    fn forget(&mut self, id: u64, ctx: &mut Ctx<'_>) {
        if let Some(info) = self.info.remove(&id) {
            if self.by_key.get(&info.key) == Some(&id) {
                self.by_key.remove(&info.key);
            }
            for x in &info.xids {
                self.flow_xids.remove(x);
            }
        }
        if let Some(p) = self.pending.remove(&id) {
            self.barriers.retain(|_, v| *v != id);
            self.drop_held(p, ctx);
        }
    }

    fn install_path(
        &mut self,
        pi: &PacketInEvent<'_>,
        key: PathKey,
        steps: &[Step],
        host_port: PortNo,
        ctx: &mut Ctx<'_>,
    ) {
        // Per switch: (switch, in port, out port).
        let mut legs = Vec::with_capacity(steps.len() + 1);
        let (mut dpid, mut in_port) = (pi.dpid, pi.in_port());
        for s in steps {
            legs.push((s.from, in_port, s.out));
            (dpid, in_port) = (s.to, s.to_port);
        }
        legs.push((dpid, in_port, host_port));

        let id = self.next_path;
        self.next_path = if self.next_path >= PATH_ID_MASK {
            1
        } else {
            self.next_path + 1
        };
        let priority = if key.micro.is_some() {
            self.config.microflow_priority
        } else {
            self.config.flow_priority
        };
        let hops: Vec<PathHop> = legs
            .iter()
            .map(|&(dpid, in_port, out_port)| {
                let mut m = Match::new();
                if self.config.match_in_port {
                    m.set(OxmField::in_port(in_port));
                }
                m.set(OxmField::eth_src(key.src.0));
                m.set(OxmField::eth_dst(key.dst.0));
                if let Some(micro) = &key.micro {
                    micro.add_to(&mut m);
                }
                PathHop {
                    dpid,
                    in_port,
                    match_: m,
                    out_port,
                }
            })
            .collect();

        // A path with the same key is replaced: its hops the new path does not
        // overwrite are deleted.
        if let Some(old) = self.by_key.get(&key).copied() {
            self.forget(old, ctx);
            let old = self.state().paths.remove(&old);
            if let Some(old) = old {
                for h in &old.hops {
                    let kept = old.priority == priority
                        && hops
                            .iter()
                            .any(|n| n.dpid == h.dpid && n.match_ == h.match_);
                    if !kept {
                        let _ = ctx.delete_strict(h.dpid, h.match_.clone(), old.priority, 0);
                    }
                }
            }
        }

        // The last switch first, each followed by a barrier; the first switch gets its
        // flow, and the packet, once every other switch has answered.
        let mut waiting = 0;
        let mut xids = Vec::with_capacity(hops.len());
        for h in hops.iter().skip(1).rev() {
            if let Ok(xid) = ctx.install(h.dpid, self.flow_for(id, h, priority, &key)) {
                xids.push((h.dpid, xid));
                if let Ok(b) = ctx.barrier(h.dpid) {
                    self.barriers.insert((h.dpid, b), id);
                    waiting += 1;
                }
            }
        }
        let first = self.flow_for(id, &hops[0], priority, &key);
        let now = ctx.now();
        let ready = if waiting == 0 {
            if let Ok(xid) = ctx.install_and_release(pi, first) {
                xids.push((pi.dpid, xid));
            }
            Some(now)
        } else {
            self.pending.insert(
                id,
                Pending {
                    dpid: pi.dpid,
                    flow: first,
                    held: vec![Held::of(pi)],
                    waiting,
                    since: now,
                },
            );
            None
        };
        for &x in &xids {
            self.flow_xids.insert(x, id);
        }
        self.by_key.insert(key, id);
        self.info.insert(
            id,
            PathInfo {
                key,
                ingress: Location {
                    dpid: pi.dpid,
                    port: pi.in_port(),
                },
                first_out: hops[0].out_port,
                ready,
                xids,
            },
        );
        let mut st = self.state();
        st.stats.routed += 1;
        st.stats.paths_installed += 1;
        st.paths.insert(
            id,
            InstalledPath {
                src: key.src,
                dst: key.dst,
                hops,
                priority,
            },
        );
    }

    /// The flow of hop `h` of path `id`. Every path flow asks for a flow-removed
    /// message, whoever removes it.
    fn flow_for(&self, id: u64, h: &PathHop, priority: u16, key: &PathKey) -> Flow {
        let micro = if key.micro.is_some() {
            MICROFLOW_COOKIE
        } else {
            0
        };
        Flow::new(h.match_.clone())
            .output(h.out_port)
            .priority(priority)
            .idle_timeout(self.config.idle_timeout)
            .hard_timeout(self.config.hard_timeout)
            .cookie((COOKIE_TAG << 48) | micro | (id & PATH_ID_MASK))
            .notify_removed()
    }

    /// A barrier of path `id` to `dpid` was answered: the flow mod before it was
    /// accepted.
    fn accepted(&mut self, id: u64, dpid: DatapathId) {
        let Some(info) = self.info.get_mut(&id) else {
            return;
        };
        let flow_xids = &mut self.flow_xids;
        info.xids.retain(|x| {
            if x.0 == dpid {
                flow_xids.remove(x);
                false
            } else {
                true
            }
        });
    }

    /// A barrier of path `id` was answered (or given up on): when it was the last, the
    /// first switch gets its flow and the held packets.
    fn barrier_done(&mut self, id: u64, all: bool, ctx: &mut Ctx<'_>) {
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        p.waiting = if all { 0 } else { p.waiting.saturating_sub(1) };
        if p.waiting > 0 {
            return;
        }
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        self.barriers.retain(|_, v| *v != id);
        let actions = p.flow.actions.clone();
        let installed = ctx.install(p.dpid, p.flow);
        let now = ctx.now();
        if let Some(info) = self.info.get_mut(&id) {
            info.ready = Some(now);
            if let Ok(xid) = installed {
                info.xids.push((p.dpid, xid));
                self.flow_xids.insert((p.dpid, xid), id);
            }
        }
        for h in p.held {
            let po = PacketOut {
                buffer_id: h.buffer_id,
                in_port: h.in_port,
                actions: actions.clone(),
                data: h.data,
            };
            let _ = ctx.send(p.dpid, &Message::PacketOut(po));
        }
    }

    /// Whether floods may use `port` of `sw` now.
    fn floodable(&self, sw: &SwitchView, port: PortNo, net: &NetworkView, now: Duration) -> bool {
        if port.0 == 0 || port.is_reserved() {
            return false;
        }
        let Some(p) = sw.port(port) else {
            return false;
        };
        if p.config & (port_config::PORT_DOWN | port_config::NO_FLOOD) != 0
            || p.state & port_state::LINK_DOWN != 0
        {
            return false;
        }
        let at = Location {
            dpid: sw.dpid,
            port,
        };
        if net.is_link_port(at) {
            return false;
        }
        let joined = self.joined.get(&sw.dpid).copied().unwrap_or_default();
        let since = match self.port_since.get(&at) {
            Some(&(false, _)) => return false,
            Some(&(true, t)) => t.max(joined),
            None => joined,
        };
        now >= since.saturating_add(Duration::from_secs(self.config.flood_settle_s))
    }

    fn flood(&mut self, pi: &PacketInEvent<'_>, here: Location, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let data = pi.data();
        let hash = frame_hash(data);
        if let Some(f) = self.flooded.get(&hash) {
            let window = if f.at == here {
                self.config.flood_repeat_ms
            } else {
                self.config.flood_echo_ms
            };
            if now < f.when.saturating_add(Duration::from_millis(window)) {
                self.count(|s| s.flood_suppressed += 1);
                // A buffered packet is released to nowhere, so the buffer is freed.
                if pi.packet.is_buffered() {
                    let _ = ctx.send(pi.dpid, &Message::PacketOut(self.ingress_out(pi, vec![])));
                }
                return;
            }
        }
        if self.flooded.len() >= FLOOD_MEMORY_MAX {
            self.flooded.clear();
        }
        self.flooded.insert(
            hash,
            Flooded {
                at: here,
                when: now,
            },
        );

        let net = ctx.network();
        let mut targets: Vec<(DatapathId, Vec<Action>)> = ctx
            .switches()
            .map(|sw| {
                let actions = sw
                    .ports
                    .keys()
                    .filter(|&&p| {
                        !(sw.dpid == here.dpid && p == here.port) && self.floodable(sw, p, net, now)
                    })
                    .map(|&p| Action::output(p))
                    .collect();
                (sw.dpid, actions)
            })
            .collect();
        targets.sort_by_key(|t| t.0);
        let whole = data.len() >= usize::from(pi.packet.total_len());
        let mut truncated = false;
        for (dpid, actions) in targets {
            if dpid == pi.dpid {
                if !actions.is_empty() || pi.packet.is_buffered() {
                    let _ = ctx.send(dpid, &Message::PacketOut(self.ingress_out(pi, actions)));
                }
            } else if !actions.is_empty() {
                if whole {
                    let _ = ctx.packet_out(dpid, PortNo::CONTROLLER, &actions, data);
                } else {
                    truncated = true;
                }
            }
        }
        let mut st = self.state();
        st.stats.flooded += 1;
        if truncated {
            st.stats.flood_truncated += 1;
        }
    }

    /// The packet-out releasing a packet-in at its own switch with `actions`.
    fn ingress_out(&self, pi: &PacketInEvent<'_>, actions: Vec<Action>) -> PacketOut {
        PacketOut {
            buffer_id: pi.packet.buffer_id(),
            in_port: pi.in_port(),
            actions,
            data: if pi.packet.is_buffered() {
                Vec::new()
            } else {
                pi.data().to_vec()
            },
        }
    }

    /// Deletes every hop of the paths `pick` selects and forgets them.
    fn tear_down(&mut self, ctx: &mut Ctx<'_>, pick: impl Fn(u64, &InstalledPath) -> bool) {
        let gone: Vec<(u64, InstalledPath)> = {
            let mut st = self.state();
            let ids: Vec<u64> = st
                .paths
                .iter()
                .filter(|(&id, p)| pick(id, p))
                .map(|(&id, _)| id)
                .collect();
            let gone: Vec<(u64, InstalledPath)> = ids
                .into_iter()
                .filter_map(|id| st.paths.remove(&id).map(|p| (id, p)))
                .collect();
            st.stats.paths_removed += gone.len() as u64;
            gone
        };
        for (id, p) in gone {
            self.forget(id, ctx);
            for h in p.hops {
                // A switch that is gone is the only failure; its flows went with it.
                let _ = ctx.delete_strict(h.dpid, h.match_, p.priority, 0);
            }
        }
    }

    /// A flow of routing's was removed (expired, or deleted by anyone): its path goes.
    fn flow_removed(&mut self, fr: &FlowRemovedEvent<'_>, ctx: &mut Ctx<'_>) {
        let cookie = fr.removed.cookie;
        if cookie & COOKIE_MASK != COOKIE_TAG << 48 {
            return;
        }
        let id = cookie & PATH_ID_MASK;
        let micro = cookie & MICROFLOW_COOKIE != 0;
        let (dpid, priority) = (fr.dpid, fr.removed.priority);
        // The flow must be one of the path's (a leftover of an earlier controller can
        // carry the same number).
        let micro_priority = self.config.microflow_priority;
        self.tear_down(ctx, |i, p| {
            i == id
                && p.priority == priority
                && (p.priority == micro_priority) == micro
                && p.hops.iter().any(|h| h.dpid == dpid)
        });
    }

    /// A switch joined: flows with routing's cookie that it kept (1.3) belong to no
    /// path this app knows of, and go.
    fn switch_joined(&mut self, dpid: DatapathId, version: u8, ctx: &mut Ctx<'_>) {
        self.joined.insert(dpid, ctx.now());
        self.port_since.retain(|at, _| at.dpid != dpid);
        if version >= OFP13 {
            let clear = FlowMod {
                command: FlowModCommand::Delete,
                table_id: TABLE_ALL,
                cookie: COOKIE_TAG << 48,
                cookie_mask: COOKIE_MASK,
                ..FlowMod::default()
            };
            let _ = ctx.send(dpid, &Message::FlowMod(clear));
        }
    }

    fn port_status(
        &mut self,
        dpid: DatapathId,
        reason: PortReason,
        port: &Port,
        ctx: &mut Ctx<'_>,
    ) {
        let at = Location {
            dpid,
            port: port.port_no,
        };
        let up = reason != PortReason::Delete
            && port.state & port_state::LINK_DOWN == 0
            && port.config & port_config::PORT_DOWN == 0;
        let now = ctx.now();
        match self.port_since.get(&at) {
            Some(&(was_up, _)) if was_up == up => {}
            _ => {
                self.port_since.insert(at, (up, now));
            }
        }
        if !up {
            self.tear_down(ctx, |_, p| p.leaves_by(at));
        }
    }
}

impl App for Routing {
    fn name(&self) -> &'static str {
        "routing"
    }

    fn register(&self, r: &mut Registrar) {
        r.on(EventKind::PacketIn, self.config.priority)
            .on(EventKind::SwitchJoin, 0)
            .on(EventKind::SwitchLeave, 0)
            .on(EventKind::PortStatus, 0)
            .on(EventKind::FlowRemoved, 0)
            .on(EventKind::LinkDown, 0)
            .on(EventKind::HostMove, 0)
            .on(EventKind::HostLeave, 0);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        match event {
            Event::PacketIn(pi) => {
                self.packet_in(pi, ctx);
                return Disposition::Stop;
            }
            Event::SwitchJoin(j) => self.switch_joined(j.dpid, j.version, ctx),
            Event::SwitchLeave(l) => {
                let dpid = l.dpid;
                self.joined.remove(&dpid);
                self.port_since.retain(|at, _| at.dpid != dpid);
                self.tear_down(ctx, |_, p| p.hops.iter().any(|h| h.dpid == dpid));
            }
            Event::PortStatus(ps) => self.port_status(ps.dpid, ps.reason, ps.port, ctx),
            Event::FlowRemoved(fr) => self.flow_removed(fr, ctx),
            Event::BarrierReply(b) => {
                if let Some(id) = self.barriers.remove(&(b.dpid, b.xid)) {
                    self.accepted(id, b.dpid);
                    self.barrier_done(id, false, ctx);
                }
            }
            // Errors come back to the app whose message caused them (no registration).
            Event::Error(e) => {
                if let Some(&id) = self.flow_xids.get(&(e.dpid, e.xid)) {
                    self.count(|s| s.paths_refused += 1);
                    self.tear_down(ctx, |i, _| i == id);
                }
            }
            Event::App(AppEvent::LinkDown(link)) => {
                let link = *link;
                self.tear_down(ctx, |_, p| p.crosses(&link));
            }
            Event::App(AppEvent::HostMove { host, .. }) => {
                // The event comes after the packet-in that revealed the move was
                // handled, and that packet-in may have set up a path from the new place
                // already: only paths that do not fit the new place go.
                let (mac, now_at) = (Mac(host.mac), host.location);
                self.tear_down(ctx, |_, p| {
                    (p.src == mac && p.ingress() != Some(now_at))
                        || (p.dst == mac && p.egress() != Some(now_at))
                });
            }
            Event::App(AppEvent::HostLeave(host)) => {
                let mac = Mac(host.mac);
                self.tear_down(ctx, |_, p| p.src == mac || p.dst == mac);
            }
            _ => {}
        }
        Disposition::Continue
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now();
        let keep =
            Duration::from_millis(self.config.flood_echo_ms.max(self.config.flood_repeat_ms));
        self.flooded
            .retain(|_, f| now < f.when.saturating_add(keep));
        let late: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| now >= p.since.saturating_add(BARRIER_WAIT))
            .map(|(&id, _)| id)
            .collect();
        for id in late {
            self.barrier_done(id, true, ctx);
        }
    }
}

/// Test helpers shared by the routing, acl and scan_detect tests: frames, a view seeder,
/// and topologies of real switch agents.
#[cfg(test)]
pub(crate) mod testutil {
    use std::net::Ipv4Addr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use flowlab_openflow::model::PortNo;

    use crate::app::{App, Ctx, Disposition, Registrar};
    use crate::controller::Controller;
    use crate::event::{Event, EventKind, Link, Location};
    use crate::harness::{agent_config, Harness};
    use crate::netview::Mac;
    use crate::switch_conn::{ConnConfig, OFP13};
    use crate::view::DatapathId;

    /// A host's MAC address.
    pub fn mac(n: u8) -> [u8; 6] {
        [2, 0, 0, 0, 0, n]
    }

    /// A host's address in 198.51.100.0/24.
    pub fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, 51, 100, n)
    }

    /// A location.
    pub fn at(dpid: u64, port: u32) -> Location {
        Location {
            dpid: DatapathId(dpid),
            port: PortNo(port),
        }
    }

    fn ethernet(dst: [u8; 6], src: [u8; 6], eth_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(64);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&src);
        f.extend_from_slice(&eth_type.to_be_bytes());
        f.extend_from_slice(payload);
        if f.len() < 60 {
            f.resize(60, 0);
        }
        f
    }

    /// An ARP request from `src` (at `sip`) for `tip`, broadcast.
    pub fn arp_request(src: [u8; 6], sip: Ipv4Addr, tip: Ipv4Addr) -> Vec<u8> {
        let mut p = vec![0, 1, 8, 0, 6, 4, 0, 1];
        p.extend_from_slice(&src);
        p.extend_from_slice(&sip.octets());
        p.extend_from_slice(&[0; 6]);
        p.extend_from_slice(&tip.octets());
        ethernet([0xff; 6], src, 0x0806, &p)
    }

    /// An ARP reply from `src` (at `sip`) to `dst` (at `dip`).
    pub fn arp_reply(dst: [u8; 6], src: [u8; 6], sip: Ipv4Addr, dip: Ipv4Addr) -> Vec<u8> {
        let mut p = vec![0, 1, 8, 0, 6, 4, 0, 2];
        p.extend_from_slice(&src);
        p.extend_from_slice(&sip.octets());
        p.extend_from_slice(&dst);
        p.extend_from_slice(&dip.octets());
        ethernet(dst, src, 0x0806, &p)
    }

    /// Whether a frame is LLDP (topology's probes leave every port).
    pub fn is_lldp(frame: &[u8]) -> bool {
        frame.get(12..14) == Some(&[0x88, 0xcc][..])
    }

    /// An IPv4 packet with protocol `proto` and `l4` after a 20-byte header.
    pub fn ipv4(
        dst: [u8; 6],
        src: [u8; 6],
        sip: Ipv4Addr,
        dip: Ipv4Addr,
        proto: u8,
        l4: &[u8],
    ) -> Vec<u8> {
        let total = 20 + l4.len() as u16;
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0]);
        h.extend_from_slice(&sip.octets());
        h.extend_from_slice(&dip.octets());
        let sum = checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h.extend_from_slice(l4);
        ethernet(dst, src, 0x0800, &h)
    }

    fn checksum(b: &[u8]) -> u16 {
        let mut s: u32 = b
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    /// An ICMP echo request; `seq` makes frames distinct.
    pub fn ping(dst: [u8; 6], src: [u8; 6], sip: Ipv4Addr, dip: Ipv4Addr, seq: u16) -> Vec<u8> {
        let mut icmp = vec![8, 0, 0, 0, 0, 1];
        icmp.extend_from_slice(&seq.to_be_bytes());
        ipv4(dst, src, sip, dip, 1, &icmp)
    }

    /// A TCP segment with `flags` (0x02: SYN).
    pub fn tcp(
        dst: [u8; 6],
        src: [u8; 6],
        sip: Ipv4Addr,
        dip: Ipv4Addr,
        ports: (u16, u16),
        flags: u8,
    ) -> Vec<u8> {
        let mut t = Vec::with_capacity(20);
        t.extend_from_slice(&ports.0.to_be_bytes());
        t.extend_from_slice(&ports.1.to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        ipv4(dst, src, sip, dip, 6, &t)
    }

    /// A UDP datagram.
    pub fn udp(
        dst: [u8; 6],
        src: [u8; 6],
        sip: Ipv4Addr,
        dip: Ipv4Addr,
        ports: (u16, u16),
    ) -> Vec<u8> {
        let mut u = Vec::with_capacity(12);
        u.extend_from_slice(&ports.0.to_be_bytes());
        u.extend_from_slice(&ports.1.to_be_bytes());
        u.extend_from_slice(&[0, 12, 0, 0, b'h', b'i', b'!', b'!']);
        ipv4(dst, src, sip, dip, 17, &u)
    }

    /// A DNS response from a server at `sip` (port 53) to `dip`, answering `name` with
    /// `addr` (checksums valid, as the hosts app requires).
    pub fn dns_answer(
        dst: [u8; 6],
        src: [u8; 6],
        sip: Ipv4Addr,
        dip: Ipv4Addr,
        name: &str,
        addr: Ipv4Addr,
    ) -> Vec<u8> {
        let mut q = Vec::new();
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&[0, 1, 0, 1]);
        let mut dns = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        dns.extend_from_slice(&q);
        dns.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        dns.extend_from_slice(&addr.octets());
        let len = 8 + dns.len() as u16;
        let mut u = Vec::new();
        u.extend_from_slice(&53u16.to_be_bytes());
        u.extend_from_slice(&33000u16.to_be_bytes());
        u.extend_from_slice(&len.to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(&dns);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&sip.octets());
        pseudo.extend_from_slice(&dip.octets());
        pseudo.extend_from_slice(&[0, 17]);
        pseudo.extend_from_slice(&len.to_be_bytes());
        pseudo.extend_from_slice(&u);
        let sum = match checksum(&pseudo) {
            0 => 0xffff,
            x => x,
        };
        u[6..8].copy_from_slice(&sum.to_be_bytes());
        ipv4(dst, src, sip, dip, 17, &u)
    }

    /// A host the seeder writes into the view.
    #[derive(Debug, Clone)]
    pub struct SeedHost {
        /// Its MAC.
        pub mac: [u8; 6],
        /// Where it is.
        pub at: Location,
        /// Its address.
        pub ipv4: Option<Ipv4Addr>,
        /// A name bound to its address.
        pub name: Option<String>,
    }

    /// What the seeder writes on every tick (and what it removes).
    #[derive(Debug, Default)]
    pub struct Plan {
        /// Links to keep in the view.
        pub links: Vec<Link>,
        /// Links to remove (once).
        pub gone: Vec<Link>,
        /// Hosts to keep in the view.
        pub hosts: Vec<SeedHost>,
    }

    impl Plan {
        /// Adds a link in both directions.
        pub fn cable(&mut self, a: Location, b: Location) {
            self.links.push(Link { src: a, dst: b });
            self.links.push(Link { src: b, dst: a });
        }

        /// Removes a link in both directions.
        pub fn uncable(&mut self, a: Location, b: Location) {
            for l in [Link { src: a, dst: b }, Link { src: b, dst: a }] {
                self.links.retain(|x| *x != l);
                self.gone.push(l);
            }
        }

        /// Adds host `n` (MAC [`mac`]`(n)`, address [`ip`]`(n)`).
        pub fn host(&mut self, n: u8, at: Location, name: Option<&str>) {
            self.host_at(n, ip(n), at, name);
        }

        /// Adds host `n` with address `ipv4`.
        pub fn host_at(&mut self, n: u8, ipv4: Ipv4Addr, at: Location, name: Option<&str>) {
            self.hosts.push(SeedHost {
                mac: mac(n),
                at,
                ipv4: Some(ipv4),
                name: name.map(String::from),
            });
        }
    }

    /// A shared plan.
    pub type SharedPlan = Arc<Mutex<Plan>>;

    /// Writes its plan into the network view on every tick, as topology and hosts would.
    #[derive(Debug)]
    pub struct Seeder(pub SharedPlan);

    impl App for Seeder {
        fn name(&self) -> &'static str {
            "seeder"
        }
        fn register(&self, r: &mut Registrar) {
            r.on(EventKind::SwitchJoin, 0);
        }
        fn handle(&mut self, _event: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
            Disposition::Continue
        }
        fn tick(&mut self, ctx: &mut Ctx<'_>) {
            let now = ctx.now();
            let mut plan = self.0.lock().unwrap();
            for l in std::mem::take(&mut plan.gone) {
                ctx.network_mut().link_gone(l, now);
            }
            for l in plan.links.clone() {
                ctx.network_mut().link_seen(l, now);
            }
            for h in plan.hosts.clone() {
                ctx.network_mut().host_seen(Mac(h.mac), h.at, now);
                if let Some(a) = h.ipv4 {
                    ctx.network_mut().bind_ipv4(Mac(h.mac), a, now);
                    if let Some(n) = &h.name {
                        ctx.network_mut().bind_name(n, a, now);
                    }
                }
            }
        }
    }

    /// A harness running `apps` after a seeder with `plan`.
    pub fn harness(plan: &SharedPlan, mut apps: Vec<Box<dyn App>>) -> Harness {
        apps.insert(0, Box::new(Seeder(plan.clone())));
        Harness::new(Controller::new(ConnConfig::default(), apps).unwrap())
    }

    /// Adds `n` 1.3 switches (datapath ids 1..=n) with ports 1..=3; returns their indices.
    pub fn switches(h: &mut Harness, n: u64) -> Vec<usize> {
        (1..=n)
            .map(|d| h.add_switch(agent_config(d, OFP13), &[1, 2, 3]))
            .collect()
    }

    /// Advances the clock `secs` seconds, one second at a time.
    pub fn settle(h: &mut Harness, secs: u64) {
        for _ in 0..secs {
            h.advance(Duration::from_secs(1));
        }
    }

    /// The ports frames were delivered to, sorted.
    pub fn ports(d: &[(u32, Vec<u8>)]) -> Vec<u32> {
        let mut p: Vec<u32> = d.iter().map(|(p, _)| *p).collect();
        p.sort_unstable();
        p
    }

    /// Packet-ins switch `sw` has sent.
    pub fn packet_ins(h: &Harness, sw: usize) -> u64 {
        h.agent(sw).unwrap().stats().packet_ins
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use crate::harness::Harness;

    struct Rig {
        h: Harness,
        plan: SharedPlan,
        routing: SharedRouting,
        sw: Vec<usize>,
    }

    impl Rig {
        fn stats(&self) -> RoutingStats {
            self.routing.lock().unwrap().stats
        }
        fn paths(&self) -> Vec<InstalledPath> {
            self.routing
                .lock()
                .unwrap()
                .paths
                .values()
                .cloned()
                .collect()
        }
        fn flows(&self) -> Vec<usize> {
            // Minus the table-miss entry of each 1.3 switch.
            self.sw.iter().map(|&s| self.h.flow_count(s) - 1).collect()
        }
        fn delivered(&mut self) -> Vec<(usize, u32)> {
            let mut out = Vec::new();
            for &s in &self.sw {
                for (p, _) in self.h.take_delivered(s) {
                    out.push((s, p));
                }
            }
            out.sort_unstable();
            out
        }
        fn errors(&self) -> u64 {
            self.sw
                .iter()
                .map(|&s| self.h.agent(s).unwrap().stats().errors_sent)
                .sum()
        }
    }

    /// `n` switches with ports 1..=3, `cables` between them (cabled and in the view when
    /// `discovered`), host k at port 1 of switch k, then settled.
    fn rig(n: u64, cables: &[Cable], config: RoutingConfig, discovered: bool) -> Rig {
        let plan = SharedPlan::default();
        let r = Routing::new(config);
        let routing = r.shared();
        let mut h = harness(&plan, vec![Box::new(r)]);
        let sw = switches(&mut h, n);
        {
            let mut p = plan.lock().unwrap();
            for &(a, b) in cables {
                h.wire((a.0 as usize - 1, a.1), (b.0 as usize - 1, b.1));
                if discovered {
                    p.cable(at(a.0, a.1), at(b.0, b.1));
                }
            }
            for k in 1..=n {
                p.host(k as u8, at(k, 1), None);
            }
        }
        settle(&mut h, 4);
        let mut rig = Rig {
            h,
            plan,
            routing,
            sw,
        };
        rig.delivered();
        rig
    }

    /// A cable between (switch, port) and (switch, port).
    type Cable = ((u64, u32), (u64, u32));

    const LINE: [Cable; 2] = [((1, 2), (2, 3)), ((2, 2), (3, 3))];
    const TRIANGLE: [Cable; 3] = [((1, 2), (2, 3)), ((2, 2), (3, 3)), ((3, 2), (1, 3))];

    #[test]
    fn a_line_routes_both_ways_with_flows_on_the_path_only() {
        let mut r = rig(3, &LINE, RoutingConfig::default(), true);
        assert_eq!(r.h.controller().network().link_count(), 4);
        let f = ping(mac(3), mac(1), ip(1), ip(3), 1);
        r.h.frame(r.sw[0], 1, &f);
        assert_eq!(r.delivered(), [(r.sw[2], 1)], "h3 gets it, once");
        assert_eq!(r.flows(), [1, 1, 1]);
        let paths = r.paths();
        assert_eq!(paths.len(), 1);
        assert_eq!(
            paths[0].switches(),
            [DatapathId(1), DatapathId(2), DatapathId(3)]
        );
        assert_eq!(
            paths[0]
                .hops
                .iter()
                .map(|h| h.out_port.0)
                .collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert_eq!(paths[0].hops[1].match_.in_port(), Some(PortNo(3)));
        // The next packet never reaches the controller.
        let pins: Vec<u64> = r.sw.iter().map(|&s| packet_ins(&r.h, s)).collect();
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 2));
        assert_eq!(r.delivered(), [(r.sw[2], 1)]);
        let after: Vec<u64> = r.sw.iter().map(|&s| packet_ins(&r.h, s)).collect();
        assert_eq!(pins, after);
        // The way back, and a path between neighbours: flows only where they run.
        r.h.frame(r.sw[2], 1, &ping(mac(1), mac(3), ip(3), ip(1), 3));
        assert_eq!(r.delivered(), [(r.sw[0], 1)]);
        r.h.frame(r.sw[1], 1, &ping(mac(3), mac(2), ip(2), ip(3), 4));
        assert_eq!(r.delivered(), [(r.sw[2], 1)]);
        assert_eq!(r.flows(), [2, 3, 3]);
        assert_eq!(r.stats().routed, 3);
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn a_broadcast_reaches_every_edge_port_once_and_installs_nothing() {
        for (cables, edges) in [
            // Line: s1 edge 3; s2 edge 1; s3 edges 1, 2.
            (&LINE[..], vec![(0, 3), (1, 1), (2, 1), (2, 2)]),
            // Triangle: only port 1 of each switch is an edge.
            (&TRIANGLE[..], vec![(1, 1), (2, 1)]),
        ] {
            let mut r = rig(3, cables, RoutingConfig::default(), true);
            let before = r.flows();
            let wire_before = r.h.wire_frames();
            r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(9)));
            assert_eq!(r.delivered(), edges);
            assert_eq!(r.h.wire_frames(), wire_before, "nothing crossed a link");
            assert_eq!(r.flows(), before);
            assert_eq!(r.stats().flooded, 1);
            // An unknown unicast destination is flooded the same way.
            r.h.frame(r.sw[0], 1, &ping(mac(99), mac(1), ip(1), ip(99), 1));
            assert_eq!(r.delivered(), edges);
        }
    }

    #[test]
    fn an_undiscovered_ring_cannot_make_a_flood_loop() {
        // No link is known: every port looks like an edge. Copies that cross the cables
        // come back as packet-ins elsewhere and are recognised.
        let config = RoutingConfig {
            flood_settle_s: 0,
            ..RoutingConfig::default()
        };
        let mut r = rig(3, &TRIANGLE, config, false);
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(9)));
        assert_eq!(r.delivered(), [(1, 1), (2, 1)], "each host once");
        let s = r.stats();
        assert_eq!(s.flooded, 1);
        assert_eq!(s.flood_suppressed, 6, "one copy per cable end");
        // A genuine retransmission a second later is flooded again; one at once is not.
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(9)));
        assert_eq!(r.delivered(), []);
        r.h.advance(Duration::from_secs(1));
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(9)));
        assert_eq!(r.delivered(), [(1, 1), (2, 1)]);
    }

    #[test]
    fn ports_are_flooded_only_once_settled() {
        let plan = SharedPlan::default();
        let mut h = harness(
            &plan,
            vec![Box::new(Routing::new(RoutingConfig::default()))],
        );
        let sw = switches(&mut h, 2);
        h.frame(sw[0], 1, &arp_request(mac(1), ip(1), ip(9)));
        assert!(h.take_delivered(sw[0]).is_empty() && h.take_delivered(sw[1]).is_empty());
        settle(&mut h, 3);
        h.frame(sw[0], 1, &arp_request(mac(1), ip(1), ip(8)));
        assert_eq!(ports(&h.take_delivered(sw[0])), [2, 3]);
        assert_eq!(ports(&h.take_delivered(sw[1])), [1, 2, 3]);
    }

    #[test]
    fn packet_ins_on_link_ports_are_ignored() {
        let mut r = rig(3, &LINE, RoutingConfig::default(), true);
        // A frame arriving at s2's port 3 (the link from s1) with no flow for it.
        let f = ping(mac(3), mac(1), ip(1), ip(3), 1);
        r.h.frame(r.sw[1], 3, &f);
        assert_eq!(r.delivered(), []);
        assert_eq!(r.stats().link_port_ignored, 1);
        assert_eq!(r.flows(), [0, 0, 0]);
    }

    #[test]
    fn a_cut_link_tears_its_paths_down_and_traffic_goes_around() {
        let mut r = rig(3, &TRIANGLE, RoutingConfig::default(), true);
        r.h.frame(r.sw[0], 1, &ping(mac(2), mac(1), ip(1), ip(2), 1));
        r.h.frame(r.sw[1], 1, &ping(mac(1), mac(2), ip(2), ip(1), 2));
        assert_eq!(r.delivered(), [(r.sw[0], 1), (r.sw[1], 1)]);
        assert_eq!(r.flows(), [2, 2, 0], "the direct link, both ways");
        // The cable goes: both ports report link down, both paths go.
        r.h.cut((r.sw[0], 2), (r.sw[1], 3));
        assert_eq!(r.flows(), [0, 0, 0]);
        assert!(r.paths().is_empty());
        assert_eq!(r.stats().paths_removed, 2);
        // Topology notices (here: the seeder forgets the link); the next packet goes
        // round by s3.
        r.plan.lock().unwrap().uncable(at(1, 2), at(2, 3));
        r.h.advance(Duration::from_secs(1));
        r.h.frame(r.sw[0], 1, &ping(mac(2), mac(1), ip(1), ip(2), 3));
        assert_eq!(r.delivered(), [(r.sw[1], 1)]);
        assert_eq!(
            r.paths()[0].switches(),
            [DatapathId(1), DatapathId(3), DatapathId(2)]
        );
        assert_eq!(r.flows(), [1, 1, 1]);
    }

    #[test]
    fn a_link_down_event_alone_tears_paths_down() {
        let mut r = rig(3, &LINE, RoutingConfig::default(), true);
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 1));
        r.h.frame(r.sw[0], 1, &ping(mac(2), mac(1), ip(1), ip(2), 2));
        assert_eq!(r.paths().len(), 2);
        // The s2-s3 link vanishes from the view (a silent cut a link timeout found).
        r.h.cut_silently((r.sw[1], 2), (r.sw[2], 3));
        r.plan.lock().unwrap().uncable(at(2, 2), at(3, 3));
        r.h.advance(Duration::from_secs(1));
        let paths = r.paths();
        assert_eq!(paths.len(), 1, "only the path to h2 is left");
        assert_eq!(paths[0].dst, Mac(mac(2)));
        assert_eq!(r.flows(), [1, 1, 0]);
        // h3 is now unreachable: dropped and counted, nothing installed.
        r.delivered();
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 3));
        assert_eq!(r.delivered(), []);
        assert_eq!(r.stats().unreachable, 1);
        assert_eq!(r.flows(), [1, 1, 0]);
    }

    #[test]
    fn a_moving_host_takes_its_paths_along() {
        let mut r = rig(3, &LINE, RoutingConfig::default(), true);
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 1));
        assert_eq!(r.delivered(), [(r.sw[2], 1)]);
        assert_eq!(r.flows(), [1, 1, 1]);
        r.plan.lock().unwrap().hosts[2].at = at(2, 1);
        r.h.advance(Duration::from_secs(1));
        assert!(r.paths().is_empty());
        assert_eq!(r.flows(), [0, 0, 0]);
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 2));
        assert_eq!(r.delivered(), [(r.sw[1], 1)]);
    }

    #[test]
    fn idle_paths_expire_and_are_forgotten() {
        let config = RoutingConfig {
            idle_timeout: 5,
            ..RoutingConfig::default()
        };
        let mut r = rig(3, &LINE, config, true);
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 1));
        assert_eq!(r.paths().len(), 1);
        settle(&mut r.h, 7);
        assert!(r.paths().is_empty());
        assert_eq!(r.flows(), [0, 0, 0]);
    }

    #[test]
    fn l4_paths_carry_one_microflow_each() {
        let config = RoutingConfig {
            granularity: Granularity::L4,
            ..RoutingConfig::default()
        };
        let mut r = rig(2, &LINE[..1], config, true);
        r.h.frame(
            r.sw[0],
            1,
            &tcp(mac(2), mac(1), ip(1), ip(2), (4000, 22), 2),
        );
        r.h.frame(
            r.sw[0],
            1,
            &tcp(mac(2), mac(1), ip(1), ip(2), (4000, 22), 0x10),
        );
        r.h.frame(r.sw[0], 1, &udp(mac(2), mac(1), ip(1), ip(2), (4000, 53)));
        assert_eq!(r.delivered(), [(r.sw[1], 1), (r.sw[1], 1), (r.sw[1], 1)]);
        assert_eq!(r.paths().len(), 2, "tcp and udp");
        assert_eq!(r.flows(), [2, 2]);
        assert_eq!(packet_ins(&r.h, r.sw[0]), 2);
        let p = &r.paths()[0];
        assert_eq!(p.priority, L4_FLOW_PRIORITY);
        assert!(p.hops[0].match_.contains(OxmId::TcpDst));
        assert_eq!(r.errors(), 0);
    }

    #[test]
    fn link_local_and_runt_frames_are_dropped() {
        let mut r = rig(2, &LINE[..1], RoutingConfig::default(), true);
        let mut stp = ping(mac(2), mac(1), ip(1), ip(2), 1);
        stp[..6].copy_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0]);
        r.h.frame(r.sw[0], 1, &stp);
        assert_eq!(r.delivered(), []);
        assert_eq!(r.stats().dropped, 1);
    }

    #[test]
    fn priorities_that_would_cross_the_acl_or_scan_blocks_are_refused() {
        let parse = |t: &str| toml::from_str::<RoutingConfig>(t);
        for bad in [
            "flow_priority = 0",
            "flow_priority = 28672", // the ACL's floor
            "flow_priority = 36000", // inside the rule band
            "microflow_priority = 20",
            "microflow_priority = 34000", // inside the rule band
            "microflow_priority = 61440", // scan_detect's blocks
        ] {
            let e = parse(bad).unwrap_err().to_string();
            let key = bad.split(' ').next().unwrap();
            assert!(e.contains(key) && e.contains("out of range"), "{bad}: {e}");
        }
        for good in [
            "flow_priority = 1",
            "flow_priority = 28671",
            "microflow_priority = 36864",
            "microflow_priority = 61439",
        ] {
            assert!(parse(good).is_ok(), "{good}");
        }
        // Through the whole configuration, the error names the key.
        let e = crate::config::Config::from_toml("[routing]\nflow_priority = 30000\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("flow_priority") && e.contains("acl"), "{e}");
        // The defaults respect the contract.
        let d = RoutingConfig::default();
        assert!(d.validate().is_ok());
        assert!(d.flow_priority < acl::FLOOR_PRIORITY);
        assert!(acl::BAND_TOP < d.microflow_priority);
        assert!(d.microflow_priority < scan_detect::BLOCK_PRIORITY);
        // Built in code, a bad priority is replaced by its default.
        let r = Routing::new(RoutingConfig {
            flow_priority: 0x8000,
            microflow_priority: 5,
            ..RoutingConfig::default()
        });
        assert_eq!(r.config().flow_priority, L2_FLOW_PRIORITY);
        assert_eq!(r.config().microflow_priority, L4_FLOW_PRIORITY);
    }

    #[test]
    fn flood_times_are_bounded_and_never_overflow() {
        for bad in [
            "flood_settle_s = 18446744073709551615",
            "flood_settle_s = 86401",
            "flood_repeat_ms = 3600001",
            "flood_echo_ms = 18446744073709551615",
        ] {
            assert!(toml::from_str::<RoutingConfig>(bad).is_err(), "{bad}");
        }
        assert!(toml::from_str::<RoutingConfig>("flood_settle_s = 86400").is_ok());
        // Built in code, huge times cannot overflow the clock: the ports never settle.
        let config = RoutingConfig {
            flood_settle_s: u64::MAX,
            flood_repeat_ms: u64::MAX,
            flood_echo_ms: u64::MAX,
            ..RoutingConfig::default()
        };
        assert!(config.validate().is_err());
        let mut r = rig(3, &LINE, config, true);
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(9)));
        assert_eq!(r.delivered(), []);
        r.h.advance(Duration::from_secs(1));
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(9)));
        assert_eq!(r.stats().flood_suppressed, 1);
    }

    #[test]
    fn a_refused_flow_mod_tears_its_path_down() {
        // s3's table holds one entry, the table-miss entry: it refuses the path's flow.
        let plan = SharedPlan::default();
        let r = Routing::new(RoutingConfig::default());
        let routing = r.shared();
        let mut h = harness(&plan, vec![Box::new(r)]);
        let sw: Vec<usize> = (1..=3)
            .map(|d| {
                let mut c = crate::harness::agent_config(d, crate::switch_conn::OFP13);
                if d == 3 {
                    c.max_entries = 1;
                }
                h.add_switch(c, &[1, 2, 3])
            })
            .collect();
        {
            let mut p = plan.lock().unwrap();
            for &(a, b) in &LINE {
                h.wire((a.0 as usize - 1, a.1), (b.0 as usize - 1, b.1));
                p.cable(at(a.0, a.1), at(b.0, b.1));
            }
            for k in 1..=3 {
                p.host(k as u8, at(k, 1), None);
            }
        }
        settle(&mut h, 4);
        let mut r = Rig {
            h,
            plan,
            routing,
            sw,
        };
        r.delivered();
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 1));
        assert_eq!(r.delivered(), []);
        assert_eq!(r.errors(), 1, "s3 refused the flow");
        // No half path is left behind to swallow the next packets.
        assert_eq!(r.flows(), [0, 0, 0]);
        assert!(r.paths().is_empty());
        let st = r.stats();
        assert_eq!((st.paths_refused, st.paths_removed), (1, 1));
        assert_eq!(st.held_dropped, 1, "the packet that waited for the path");
        // A path elsewhere is unaffected.
        r.h.frame(r.sw[0], 1, &ping(mac(2), mac(1), ip(1), ip(2), 2));
        assert_eq!(r.delivered(), [(r.sw[1], 1)]);
        assert_eq!(r.flows(), [1, 1, 0]);
    }

    #[test]
    fn a_host_move_keeps_the_path_its_own_packet_set_up() {
        use crate::apps::hosts::{Hosts, HostsConfig};
        let plan = SharedPlan::default();
        let r = Routing::new(RoutingConfig::default());
        let routing = r.shared();
        let mut h = harness(
            &plan,
            vec![Box::new(Hosts::new(HostsConfig::default())), Box::new(r)],
        );
        let sw = switches(&mut h, 3);
        {
            let mut p = plan.lock().unwrap();
            for &(a, b) in &LINE {
                h.wire((a.0 as usize - 1, a.1), (b.0 as usize - 1, b.1));
                p.cable(at(a.0, a.1), at(b.0, b.1));
            }
        }
        settle(&mut h, 4);
        let mut r = Rig {
            h,
            plan,
            routing,
            sw,
        };
        // h1 (s1:1) asks for h3, h3 (s3:1) answers: a path from s3:1 to h1.
        r.h.frame(r.sw[0], 1, &arp_request(mac(1), ip(1), ip(3)));
        r.h.frame(r.sw[2], 1, &arp_reply(mac(1), mac(3), ip(3), ip(1)));
        assert_eq!(r.paths()[0].ingress(), Some(at(3, 1)));
        r.delivered();
        // h3 turns up at s2:1 and pings h1: the hosts app sees the move before routing
        // sees the packet, and the move is dispatched after routing set up the path.
        r.h.frame(r.sw[1], 1, &ping(mac(1), mac(3), ip(3), ip(1), 1));
        assert_eq!(r.delivered(), [(r.sw[0], 1)]);
        let paths = r.paths();
        assert_eq!(paths.len(), 1, "the old path went, the new one stayed");
        assert_eq!(paths[0].ingress(), Some(at(2, 1)));
        assert_eq!(paths[0].switches(), [DatapathId(2), DatapathId(1)]);
        assert_eq!(r.flows(), [1, 1, 0]);
        // The next ping rides it without the controller.
        let pins = packet_ins(&r.h, r.sw[1]);
        r.h.frame(r.sw[1], 1, &ping(mac(1), mac(3), ip(3), ip(1), 2));
        assert_eq!(r.delivered(), [(r.sw[0], 1)]);
        assert_eq!(packet_ins(&r.h, r.sw[1]), pins);
    }

    /// Fake 1.3 switches (they never answer barriers) with datapath ids 1..=n and
    /// `buffers` packet buffers, `cables` in the view, host k at port 1 of switch k and
    /// `extra` hosts; routing alone.
    fn fakes(
        n: u64,
        cables: &[Cable],
        extra: &[(u8, Location)],
    ) -> (Harness, Vec<usize>, SharedRouting) {
        use crate::harness::FakeSwitch;
        let plan = SharedPlan::default();
        let r = Routing::new(RoutingConfig::default());
        let routing = r.shared();
        let mut h = harness(&plan, vec![Box::new(r)]);
        let sw: Vec<usize> = (1..=n)
            .map(|d| h.add_fake(FakeSwitch::new(crate::switch_conn::OFP13, d, 256, 3)))
            .collect();
        {
            let mut p = plan.lock().unwrap();
            for &(a, b) in cables {
                p.cable(at(a.0, a.1), at(b.0, b.1));
            }
            for k in 1..=n {
                p.host(k as u8, at(k, 1), None);
            }
            for &(k, loc) in extra {
                p.host(k, loc, None);
            }
        }
        settle(&mut h, 4);
        for &s in &sw {
            h.fake(s).unwrap().take_received();
        }
        (h, sw, routing)
    }

    /// The buffers of the packet-outs without actions (drops) among `got`.
    fn released_buffers(got: &[Message]) -> Vec<u32> {
        got.iter()
            .filter_map(|m| match m {
                Message::PacketOut(p) if p.actions.is_empty() => Some(p.buffer_id),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn held_packets_beyond_the_limit_or_of_a_torn_down_path_are_released() {
        let (mut h, sw, routing) = fakes(2, &LINE[..1], &[]);
        // Twenty buffered packets of one path, whose downstream switch never answers.
        for b in 0..20u32 {
            let f = ping(mac(2), mac(1), ip(1), ip(2), b as u16);
            h.fake(sw[0]).unwrap().packet_in(1, 100 + b, &f);
            h.run();
        }
        assert_eq!(routing.lock().unwrap().stats.routed, 1);
        let got = h.fake(sw[0]).unwrap().take_received();
        assert_eq!(
            released_buffers(&got),
            (116..120).collect::<Vec<u32>>(),
            "the four beyond the sixteen held: {got:?}"
        );
        assert_eq!(routing.lock().unwrap().stats.held_dropped, 4);
        // The downstream switch goes: the path is torn down before it was ready, and the
        // sixteen held buffers are released too.
        h.disconnect(sw[1]);
        let got = h.fake(sw[0]).unwrap().take_received();
        assert_eq!(released_buffers(&got), (100..116).collect::<Vec<u32>>());
        let st = routing.lock().unwrap().stats;
        assert_eq!((st.held_dropped, st.paths_removed), (20, 1));
        assert!(routing.lock().unwrap().paths.is_empty());
    }

    #[test]
    fn packets_in_flight_are_released_through_the_first_hop() {
        use crate::harness::UNBUFFERED;
        // h1 and h2 on the same switch: a one-switch path, ready at once.
        let (mut h, sw, routing) = fakes(1, &[], &[(2, at(1, 2))]);
        let f = |seq| ping(mac(2), mac(1), ip(1), ip(2), seq);
        h.fake(sw[0]).unwrap().packet_in(1, UNBUFFERED, &f(1));
        h.run();
        let got = h.fake(sw[0]).unwrap().take_received();
        assert!(
            matches!(&got[..], [Message::FlowMod(_), Message::PacketOut(_)]),
            "{got:?}"
        );
        // A packet that was on its way meanwhile: released, nothing installed again.
        h.fake(sw[0]).unwrap().packet_in(1, UNBUFFERED, &f(2));
        h.run();
        let got = h.fake(sw[0]).unwrap().take_received();
        match &got[..] {
            [Message::PacketOut(p)] => assert_eq!(p.actions, [Action::output(PortNo(2))]),
            other => panic!("one packet-out expected: {other:?}"),
        }
        let st = routing.lock().unwrap().stats;
        assert_eq!((st.released, st.paths_installed), (1, 1));
        // Much later the flow is evidently gone: the path is set up again.
        h.advance(Duration::from_secs(2));
        h.fake(sw[0]).unwrap().packet_in(1, UNBUFFERED, &f(3));
        h.run();
        let got = h.fake(sw[0]).unwrap().take_received();
        assert!(
            matches!(&got[..], [Message::FlowMod(_), Message::PacketOut(_)]),
            "{got:?}"
        );
        let st = routing.lock().unwrap().stats;
        assert_eq!((st.released, st.paths_installed), (1, 2));
        assert_eq!(routing.lock().unwrap().paths.len(), 1);
    }

    /// Sends its message to its switch on the next tick.
    struct Sender(Arc<Mutex<Option<(DatapathId, Message)>>>);

    impl App for Sender {
        fn name(&self) -> &'static str {
            "sender"
        }
        fn register(&self, _r: &mut Registrar) {}
        fn handle(&mut self, _e: &Event<'_>, _ctx: &mut Ctx<'_>) -> Disposition {
            Disposition::Continue
        }
        fn tick(&mut self, ctx: &mut Ctx<'_>) {
            if let Some((dpid, m)) = self.0.lock().unwrap().take() {
                ctx.send(dpid, &m).unwrap();
            }
        }
    }

    #[test]
    fn a_path_whose_flow_someone_else_deleted_is_forgotten() {
        let plan = SharedPlan::default();
        // No timeouts: the flows still ask for flow-removed messages.
        let r = Routing::new(RoutingConfig {
            idle_timeout: 0,
            ..RoutingConfig::default()
        });
        let routing = r.shared();
        let outbox = Arc::new(Mutex::new(None));
        let mut h = harness(&plan, vec![Box::new(Sender(outbox.clone())), Box::new(r)]);
        let sw = switches(&mut h, 3);
        {
            let mut p = plan.lock().unwrap();
            for &(a, b) in &LINE {
                h.wire((a.0 as usize - 1, a.1), (b.0 as usize - 1, b.1));
                p.cable(at(a.0, a.1), at(b.0, b.1));
            }
            for k in 1..=3 {
                p.host(k as u8, at(k, 1), None);
            }
        }
        settle(&mut h, 4);
        let mut r = Rig {
            h,
            plan,
            routing,
            sw,
        };
        r.delivered();
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 1));
        assert_eq!(r.paths().len(), 1);
        // Another app deletes the middle hop (by cookie): the flow-removed message makes
        // routing delete the rest and forget the path.
        let del = FlowMod {
            command: FlowModCommand::Delete,
            table_id: TABLE_ALL,
            cookie: COOKIE_TAG << 48,
            cookie_mask: COOKIE_MASK,
            ..FlowMod::default()
        };
        *outbox.lock().unwrap() = Some((DatapathId(2), Message::FlowMod(del)));
        r.h.advance(Duration::from_secs(1));
        assert!(r.paths().is_empty());
        assert_eq!(r.flows(), [0, 0, 0]);
        r.delivered();
        r.h.frame(r.sw[0], 1, &ping(mac(3), mac(1), ip(1), ip(3), 2));
        assert_eq!(r.delivered(), [(r.sw[2], 1)]);
    }

    #[test]
    fn options_parse_with_defaults() {
        let c: RoutingConfig = toml::from_str("granularity = \"l4\"\nidle_timeout = 9").unwrap();
        assert_eq!(c.granularity, Granularity::L4);
        assert_eq!(c.idle_timeout, 9);
        assert!(toml::from_str::<RoutingConfig>("granularity = \"l3\"").is_err());
        assert!(toml::from_str::<RoutingConfig>("idle = 3").is_err());
    }

    /// The real discovery: topology, hosts and routing, on agents of `version`.
    struct Lab {
        h: Harness,
        routing: SharedRouting,
        sw: Vec<usize>,
        base: Vec<usize>,
    }

    impl Lab {
        fn new(version: u8, cables: &[Cable]) -> Lab {
            use crate::apps::{hosts, topology};
            let config = crate::config::Config::default();
            let r = Routing::new(config.routing.clone());
            let routing = r.shared();
            let apps: Vec<Box<dyn App>> = vec![
                Box::new(topology::Topology::new(config.topology.clone())),
                Box::new(hosts::Hosts::new(config.hosts.clone())),
                Box::new(r),
            ];
            let mut h = Harness::new(
                crate::controller::Controller::new(config.controller.conn_config().unwrap(), apps)
                    .unwrap(),
            );
            let sw: Vec<usize> = (1..=3)
                .map(|d| h.add_switch(crate::harness::agent_config(d, version), &[1, 2, 3]))
                .collect();
            for &(a, b) in cables {
                h.wire((a.0 as usize - 1, a.1), (b.0 as usize - 1, b.1));
            }
            settle(&mut h, 5);
            let base = sw.iter().map(|&s| h.flow_count(s)).collect();
            let mut lab = Lab {
                h,
                routing,
                sw,
                base,
            };
            lab.delivered();
            lab
        }

        /// Where frames came out (LLDP probes left out).
        fn delivered(&mut self) -> Vec<(usize, u32)> {
            let mut out = Vec::new();
            for &s in &self.sw {
                for (p, f) in self.h.take_delivered(s) {
                    if !is_lldp(&f) {
                        out.push((s, p));
                    }
                }
            }
            out.sort_unstable();
            out
        }

        fn send(&mut self, sw: usize, frame: &[u8]) -> Vec<(usize, u32)> {
            self.h.frame(self.sw[sw], 1, frame);
            self.delivered()
        }

        /// Flows beyond those after discovery.
        fn flows(&self) -> Vec<usize> {
            self.sw
                .iter()
                .zip(&self.base)
                .map(|(&s, b)| self.h.flow_count(s) - b)
                .collect()
        }
    }

    #[test]
    fn end_to_end_on_a_line_for_both_versions() {
        for version in [crate::switch_conn::OFP10, crate::switch_conn::OFP13] {
            let mut lab = Lab::new(version, &LINE);
            assert_eq!(lab.h.controller().network().link_count(), 4, "v{version}");
            // h1 asks for h3: every edge port once; hosts learns h1.
            let ask = arp_request(mac(1), ip(1), ip(3));
            assert_eq!(
                lab.send(0, &ask),
                [(0, 3), (1, 1), (2, 1), (2, 2)],
                "v{version}"
            );
            // h3 answers: routed to h1 alone; hosts learns h3.
            let answer = arp_reply(mac(1), mac(3), ip(3), ip(1));
            assert_eq!(lab.send(2, &answer), [(0, 1)], "v{version}");
            assert_eq!(lab.h.controller().network().host_count(), 2);
            // Pings both ways, each delivered once, flows on the path only.
            for seq in 0..3 {
                assert_eq!(
                    lab.send(0, &ping(mac(3), mac(1), ip(1), ip(3), seq)),
                    [(2, 1)]
                );
                assert_eq!(
                    lab.send(2, &ping(mac(1), mac(3), ip(3), ip(1), seq)),
                    [(0, 1)]
                );
            }
            assert_eq!(lab.flows(), [2, 2, 2], "v{version}");
            let st = lab.routing.lock().unwrap().stats;
            assert_eq!(st.paths_installed, 2, "v{version}: {st:?}");
            assert_eq!(st.link_port_ignored, 0);
        }
    }

    #[test]
    fn end_to_end_on_a_triangle_a_cut_reroutes() {
        let mut lab = Lab::new(crate::switch_conn::OFP13, &TRIANGLE);
        assert_eq!(lab.h.controller().network().link_count(), 6);
        let ask = arp_request(mac(1), ip(1), ip(2));
        assert_eq!(
            lab.send(0, &ask),
            [(1, 1), (2, 1)],
            "no loop, each edge once"
        );
        let answer = arp_reply(mac(1), mac(2), ip(2), ip(1));
        assert_eq!(lab.send(1, &answer), [(0, 1)]);
        assert_eq!(
            lab.send(0, &ping(mac(2), mac(1), ip(1), ip(2), 1)),
            [(1, 1)]
        );
        assert_eq!(
            lab.flows(),
            [2, 2, 0],
            "the direct link both ways; s3 has nothing"
        );
        // The direct cable goes: topology drops its links, routing its paths.
        lab.h.cut((lab.sw[0], 2), (lab.sw[1], 3));
        assert_eq!(lab.h.controller().network().link_count(), 4);
        assert_eq!(lab.flows(), [0, 0, 0]);
        assert!(lab.routing.lock().unwrap().paths.is_empty());
        // The next packets go round by s3, once each.
        assert_eq!(
            lab.send(0, &ping(mac(2), mac(1), ip(1), ip(2), 2)),
            [(1, 1)]
        );
        assert_eq!(
            lab.send(1, &ping(mac(1), mac(2), ip(2), ip(1), 2)),
            [(0, 1)]
        );
        assert_eq!(lab.flows(), [2, 2, 2]);
        let paths: Vec<Vec<DatapathId>> = lab
            .routing
            .lock()
            .unwrap()
            .paths
            .values()
            .map(InstalledPath::switches)
            .collect();
        assert_eq!(
            paths,
            [
                vec![DatapathId(1), DatapathId(3), DatapathId(2)],
                vec![DatapathId(2), DatapathId(3), DatapathId(1)]
            ]
        );
        // Mended, the ARP broadcast still reaches each edge once.
        lab.h.mend((lab.sw[0], 2), (lab.sw[1], 3));
        settle(&mut lab.h, 4);
        lab.delivered();
        assert_eq!(lab.h.controller().network().link_count(), 6);
        assert_eq!(lab.send(0, &ask), [(1, 1), (2, 1)]);
    }
}
