//! `l2_learning`: a learning switch per datapath, in flows.
//!
//! Each switch has its own MAC table (MAC → port), learned from the source address of
//! every packet-in. A packet to a known unicast destination gets a flow on exactly
//! (`in_port`, `eth_src`, `eth_dst`) with an idle timeout, and the packet is released
//! through it: by one flow mod naming the switch's buffer when the switch buffered the
//! packet (as cbench's switches do, so a packet-in costs exactly one flow mod), else by
//! the flow mod and a packet-out. A packet to an unknown or group destination is flooded
//! with one packet-out and installs nothing, so the answer's flow comes with the reply.
//! A packet whose destination sits behind its own input port is dropped.
//!
//! The table forgets a switch when it leaves and a port's MACs when the port goes away
//! or loses its link. A host that moves is relearned from its next packet; flows towards
//! its old port die by their idle timeout.

use std::collections::HashMap;

use flowlab_openflow::model::port::state as port_state;
use flowlab_openflow::model::{Match, OxmField, PortNo};
use serde::Deserialize;

use crate::app::{App, Ctx, Disposition, Flow, Registrar};
use crate::event::{Event, EventKind, PacketInEvent, PortReason};
use crate::view::DatapathId;

/// `[l2_learning]` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct L2LearningConfig {
    /// Handler priority for packet-ins.
    pub priority: i32,
    /// Priority of the flows installed.
    pub flow_priority: u16,
    /// Idle timeout of the flows, in seconds (0: none).
    pub idle_timeout: u16,
    /// Hard timeout of the flows, in seconds (0: none).
    pub hard_timeout: u16,
    /// Match the input port too (else only the two addresses).
    pub match_in_port: bool,
    /// Ask for flow-removed messages.
    pub flow_removed: bool,
}

impl Default for L2LearningConfig {
    fn default() -> Self {
        L2LearningConfig {
            priority: 100,
            flow_priority: 1,
            idle_timeout: 60,
            hard_timeout: 0,
            match_in_port: true,
            flow_removed: false,
        }
    }
}

/// The learning switch app.
#[derive(Debug, Clone)]
pub struct L2Learning {
    config: L2LearningConfig,
    tables: HashMap<DatapathId, HashMap<[u8; 6], PortNo>>,
}

fn is_group(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

impl L2Learning {
    /// A learning switch with these options.
    pub fn new(config: L2LearningConfig) -> L2Learning {
        L2Learning {
            config,
            tables: HashMap::new(),
        }
    }

    /// Where `mac` was last seen on `dpid`.
    pub fn lookup(&self, dpid: DatapathId, mac: [u8; 6]) -> Option<PortNo> {
        self.tables.get(&dpid)?.get(&mac).copied()
    }

    fn packet_in(&mut self, pi: &PacketInEvent<'_>, ctx: &mut Ctx<'_>) {
        let (Some(dst), Some(src)) = (pi.packet.eth_dst(), pi.packet.eth_src()) else {
            return;
        };
        let in_port = pi.in_port();
        let table = self.tables.entry(pi.dpid).or_default();
        if !is_group(&src) {
            table.insert(src, in_port);
        }
        let out = if is_group(&dst) {
            None
        } else {
            table.get(&dst).copied()
        };
        // A switch that left meanwhile is the only send failure; nothing to do about it.
        match out {
            None => {
                let _ = ctx.flood(pi);
            }
            Some(out) if out == in_port => {}
            Some(out) => {
                let mut m = Match::new();
                if self.config.match_in_port {
                    m.set(OxmField::in_port(in_port));
                }
                m.set(OxmField::eth_src(src));
                m.set(OxmField::eth_dst(dst));
                let mut flow = Flow::new(m)
                    .output(out)
                    .priority(self.config.flow_priority)
                    .idle_timeout(self.config.idle_timeout)
                    .hard_timeout(self.config.hard_timeout);
                if self.config.flow_removed {
                    flow = flow.notify_removed();
                }
                let _ = ctx.install_and_release(pi, flow);
            }
        }
    }

    fn forget_port(&mut self, dpid: DatapathId, port: PortNo) {
        if let Some(t) = self.tables.get_mut(&dpid) {
            t.retain(|_, p| *p != port);
        }
    }
}

impl App for L2Learning {
    fn name(&self) -> &'static str {
        "l2_learning"
    }

    fn register(&self, r: &mut Registrar) {
        r.on(EventKind::PacketIn, self.config.priority)
            .on(EventKind::SwitchLeave, 0)
            .on(EventKind::PortStatus, 0);
    }

    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition {
        match event {
            Event::PacketIn(pi) => {
                self.packet_in(pi, ctx);
                return Disposition::Stop;
            }
            Event::SwitchLeave(l) => {
                self.tables.remove(&l.dpid);
            }
            Event::PortStatus(ps) => {
                let down = ps.port.state & port_state::LINK_DOWN != 0;
                if ps.reason == PortReason::Delete || down {
                    self.forget_port(ps.dpid, ps.port.port_no);
                }
            }
            _ => {}
        }
        Disposition::Continue
    }
}
