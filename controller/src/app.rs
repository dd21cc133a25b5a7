//! Apps, their handlers, and the vocabulary they speak to switches with.
//!
//! An app implements [`App`]: it names itself, says which events it handles and at what
//! priority ([`App::register`]), and handles them ([`App::handle`]), returning
//! [`Disposition::Continue`] to let lower-priority handlers see the event too or
//! [`Disposition::Stop`] to end its dispatch, as in NOX. Handlers run in descending
//! priority; equal priorities run in the order the apps were given.
//!
//! Apps never build raw OpenFlow messages for the common cases: a [`Ctx`] offers
//! [`install`](Ctx::install) (a [`Flow`]: match, actions, priority, timeouts),
//! [`delete`](Ctx::delete), [`output`](Ctx::output) and [`flood`](Ctx::flood) (release a
//! packet-in's packet), [`install_and_release`](Ctx::install_and_release) (one flow mod
//! carrying the buffered packet when the switch buffers, else a flow mod and a
//! packet-out), [`barrier`](Ctx::barrier) and [`stats`](Ctx::stats) (requests whose
//! replies come back to the app that sent them), and [`post`](Ctx::post) for app events.
//! [`Ctx::send`] remains for anything else. Every helper encodes in the switch's own
//! version, so an app works unchanged over OpenFlow 1.0 and 1.3.

use std::time::Duration;

use flowlab_openflow::model::multipart::{MultipartRequest, MultipartRequestBody};
use flowlab_openflow::model::{
    Action, FlowMod, FlowModCommand, Instruction, Match, Message, PacketOut, PortNo, NO_BUFFER,
    TABLE_ALL,
};

use crate::controller::Switches;
use crate::event::{AppEvent, Event, EventKind, PacketInEvent};
use crate::netview::NetworkView;
use crate::switch_conn::SendError;
use crate::view::{DatapathId, SwitchView};

/// What a handler lets happen next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Lower-priority handlers see the event too.
    Continue,
    /// The event's dispatch ends here.
    Stop,
}

/// A controller application.
pub trait App: Send {
    /// The app's name (as given to `--apps`).
    fn name(&self) -> &'static str;

    /// Registers the app's handlers: `r.on(kind, priority)` per event kind it handles.
    fn register(&self, r: &mut Registrar);

    /// Handles one event. Called for the kinds registered, and also for the replies to
    /// the app's own requests (statistics, barriers) and the errors its messages caused,
    /// which go to the app that sent the request alone.
    fn handle(&mut self, event: &Event<'_>, ctx: &mut Ctx<'_>) -> Disposition;

    /// Periodic work, called on every controller tick (about once a second).
    fn tick(&mut self, _ctx: &mut Ctx<'_>) {}
}

/// Collects an app's handler registrations.
#[derive(Debug, Default)]
pub struct Registrar {
    pub(crate) entries: Vec<(EventKind, i32)>,
}

impl Registrar {
    /// Handle `kind` at `priority` (higher runs first).
    pub fn on(&mut self, kind: EventKind, priority: i32) -> &mut Registrar {
        self.entries.push((kind, priority));
        self
    }
}

/// A flow to install: match, actions and the flow-mod fields apps set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The match.
    pub match_: Match,
    /// The actions (applied; none drops).
    pub actions: Vec<Action>,
    /// The priority.
    pub priority: u16,
    /// Seconds without a packet before the flow expires (0: never).
    pub idle_timeout: u16,
    /// Seconds before the flow expires whatever happens (0: never).
    pub hard_timeout: u16,
    /// An opaque value for the app.
    pub cookie: u64,
    /// The table (1.3; 1.0 has one).
    pub table_id: u8,
    /// A buffered packet to run through the flow once installed, or [`NO_BUFFER`].
    pub buffer_id: u32,
    /// Ask the switch for a flow-removed message when the flow goes.
    pub notify_removed: bool,
}

impl Flow {
    /// A flow on `match_` with no actions (drop), priority 0x8000, no timeouts.
    pub fn new(match_: Match) -> Flow {
        Flow {
            match_,
            actions: Vec::new(),
            priority: 0x8000,
            idle_timeout: 0,
            hard_timeout: 0,
            cookie: 0,
            table_id: 0,
            buffer_id: NO_BUFFER,
            notify_removed: false,
        }
    }

    /// Adds an output to `port`.
    pub fn output(mut self, port: PortNo) -> Flow {
        self.actions.push(Action::output(port));
        self
    }

    /// Sets the actions.
    pub fn actions(mut self, actions: Vec<Action>) -> Flow {
        self.actions = actions;
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: u16) -> Flow {
        self.priority = priority;
        self
    }

    /// Sets the idle timeout in seconds.
    pub fn idle_timeout(mut self, secs: u16) -> Flow {
        self.idle_timeout = secs;
        self
    }

    /// Sets the hard timeout in seconds.
    pub fn hard_timeout(mut self, secs: u16) -> Flow {
        self.hard_timeout = secs;
        self
    }

    /// Sets the cookie.
    pub fn cookie(mut self, cookie: u64) -> Flow {
        self.cookie = cookie;
        self
    }

    /// Sets the table.
    pub fn table(mut self, table_id: u8) -> Flow {
        self.table_id = table_id;
        self
    }

    /// Asks for a flow-removed message when the flow goes.
    pub fn notify_removed(mut self) -> Flow {
        self.notify_removed = true;
        self
    }

    /// The flow mod that adds this flow.
    pub fn into_flow_mod(self) -> FlowMod {
        FlowMod {
            cookie: self.cookie,
            table_id: self.table_id,
            command: FlowModCommand::Add,
            idle_timeout: self.idle_timeout,
            hard_timeout: self.hard_timeout,
            priority: self.priority,
            buffer_id: self.buffer_id,
            flags: if self.notify_removed {
                // OFPFF_SEND_FLOW_REM: bit 0 in both versions.
                flowlab_openflow::v13::flow_mod_flags::SEND_FLOW_REM
            } else {
                0
            },
            match_: self.match_,
            instructions: if self.actions.is_empty() {
                Vec::new()
            } else {
                vec![Instruction::ApplyActions(self.actions)]
            },
            ..FlowMod::default()
        }
    }
}

/// Reused buffers for the hot path.
#[derive(Debug)]
pub(crate) struct Scratch {
    packet_out: Message,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            packet_out: Message::PacketOut(empty_packet_out()),
        }
    }
}

fn empty_packet_out() -> PacketOut {
    PacketOut {
        buffer_id: NO_BUFFER,
        in_port: PortNo::CONTROLLER,
        actions: Vec::with_capacity(4),
        data: Vec::with_capacity(2048),
    }
}

impl Scratch {
    /// The reusable packet-out, emptied.
    fn packet_out(&mut self) -> &mut PacketOut {
        if !matches!(self.packet_out, Message::PacketOut(_)) {
            self.packet_out = Message::PacketOut(empty_packet_out());
        }
        match &mut self.packet_out {
            Message::PacketOut(p) => {
                p.actions.clear();
                p.data.clear();
                p
            }
            _ => unreachable!("set just above"),
        }
    }
}

/// What a handler can do: read the view, talk to switches, post events.
pub struct Ctx<'a> {
    pub(crate) switches: &'a mut Switches,
    pub(crate) network: &'a mut NetworkView,
    pub(crate) posted: &'a mut Vec<AppEvent>,
    pub(crate) scratch: &'a mut Scratch,
    pub(crate) owner: u8,
    pub(crate) now: Duration,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("owner", &self.owner)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl Ctx<'_> {
    /// The controller's clock (the time the driver passed in).
    pub fn now(&self) -> Duration {
        self.now
    }

    /// A joined switch.
    pub fn switch(&self, dpid: DatapathId) -> Option<&SwitchView> {
        self.switches.view(dpid)
    }

    /// Every joined switch.
    pub fn switches(&self) -> impl Iterator<Item = &SwitchView> + '_ {
        self.switches.views()
    }

    /// The network view (links, hosts, names).
    pub fn network(&self) -> &NetworkView {
        self.network
    }

    /// The network view, to write. Its methods write only on change, and each change
    /// posts its event (see [`crate::netview`]).
    pub fn network_mut(&mut self) -> &mut NetworkView {
        self.network
    }

    /// Posts an app event; it is dispatched after the current event.
    pub fn post(&mut self, event: AppEvent) {
        self.posted.push(event);
    }

    /// Sends any message; returns its xid. Errors it causes come back to this app.
    pub fn send(&mut self, dpid: DatapathId, msg: &Message) -> Result<u32, SendError> {
        let owner = self.owner;
        self.switches.with_conn(dpid, |c| c.send(owner, msg))
    }

    /// Sends a request whose reply comes back to this app (and is tracked until its last
    /// part arrives, see [`Ctx::is_outstanding`]).
    pub fn request(&mut self, dpid: DatapathId, msg: &Message) -> Result<u32, SendError> {
        let (owner, now) = (self.owner, self.now);
        self.switches
            .with_conn(dpid, |c| c.request(owner, msg, now))
    }

    /// Whether the request `xid` to `dpid` still awaits its reply.
    pub fn is_outstanding(&self, dpid: DatapathId, xid: u32) -> bool {
        self.switches.is_outstanding(dpid, xid)
    }

    /// Installs `flow`.
    pub fn install(&mut self, dpid: DatapathId, flow: Flow) -> Result<u32, SendError> {
        self.send(dpid, &Message::FlowMod(flow.into_flow_mod()))
    }

    /// Installs `flow` on the packet-in's switch and releases the packet through it: one
    /// flow mod naming the buffer when the switch buffered the packet, else the flow mod
    /// and a packet-out with the flow's actions.
    pub fn install_and_release(
        &mut self,
        pi: &PacketInEvent<'_>,
        mut flow: Flow,
    ) -> Result<u32, SendError> {
        if pi.packet.is_buffered() {
            flow.buffer_id = pi.packet.buffer_id();
            return self.install(pi.dpid, flow);
        }
        flow.buffer_id = NO_BUFFER;
        let po = self.scratch.packet_out();
        po.actions.extend_from_slice(&flow.actions);
        let xid = self.install(pi.dpid, flow)?;
        self.release(pi)?;
        Ok(xid)
    }

    /// Deletes every flow matching `match_` (non-strict, all tables).
    pub fn delete(&mut self, dpid: DatapathId, match_: Match) -> Result<u32, SendError> {
        self.send(
            dpid,
            &Message::FlowMod(FlowMod {
                command: FlowModCommand::Delete,
                // 1.0 has one table and no table field; the codec accepts this there.
                table_id: TABLE_ALL,
                match_,
                ..FlowMod::default()
            }),
        )
    }

    /// Deletes the flow with exactly this match and priority.
    pub fn delete_strict(
        &mut self,
        dpid: DatapathId,
        match_: Match,
        priority: u16,
        table_id: u8,
    ) -> Result<u32, SendError> {
        self.send(
            dpid,
            &Message::FlowMod(FlowMod {
                command: FlowModCommand::DeleteStrict,
                table_id,
                priority,
                match_,
                ..FlowMod::default()
            }),
        )
    }

    /// Releases a packet-in's packet to `port` (by its buffer when buffered, else with
    /// its data).
    pub fn output(&mut self, pi: &PacketInEvent<'_>, port: PortNo) -> Result<u32, SendError> {
        let po = self.scratch.packet_out();
        po.actions.push(Action::output(port));
        self.release(pi)
    }

    /// Floods a packet-in's packet (every port but its input port).
    pub fn flood(&mut self, pi: &PacketInEvent<'_>) -> Result<u32, SendError> {
        self.output(pi, PortNo::FLOOD)
    }

    /// Sends the packet-out in the scratch buffer (its actions already set) for `pi`.
    fn release(&mut self, pi: &PacketInEvent<'_>) -> Result<u32, SendError> {
        let owner = self.owner;
        let Ctx {
            switches, scratch, ..
        } = self;
        {
            let Message::PacketOut(po) = &mut scratch.packet_out else {
                unreachable!("Scratch::packet_out was called first")
            };
            po.in_port = pi.in_port();
            po.buffer_id = pi.packet.buffer_id();
            if !pi.packet.is_buffered() {
                po.data.extend_from_slice(pi.data());
            }
        }
        let msg = &scratch.packet_out;
        switches.with_conn(pi.dpid, |c| c.send(owner, msg))
    }

    /// Sends a new packet (not from a packet-in) out with `actions`.
    pub fn packet_out(
        &mut self,
        dpid: DatapathId,
        in_port: PortNo,
        actions: &[Action],
        data: &[u8],
    ) -> Result<u32, SendError> {
        let po = self.scratch.packet_out();
        po.in_port = in_port;
        po.buffer_id = NO_BUFFER;
        po.actions.extend_from_slice(actions);
        po.data.extend_from_slice(data);
        let owner = self.owner;
        let msg = &self.scratch.packet_out;
        self.switches.with_conn(dpid, |c| c.send(owner, msg))
    }

    /// Sends a barrier request; the reply comes back to this app as
    /// [`Event::BarrierReply`] with the returned xid.
    pub fn barrier(&mut self, dpid: DatapathId) -> Result<u32, SendError> {
        self.request(dpid, &Message::BarrierRequest)
    }

    /// Sends a statistics request; the reply comes back to this app as
    /// [`Event::StatsReply`] with the returned xid.
    pub fn stats(
        &mut self,
        dpid: DatapathId,
        body: MultipartRequestBody,
    ) -> Result<u32, SendError> {
        self.request(
            dpid,
            &Message::MultipartRequest(MultipartRequest { flags: 0, body }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlab_openflow::model::OxmField;

    #[test]
    fn flows_become_flow_mods() {
        let m = Match::new().with(OxmField::eth_dst([2, 0, 0, 0, 0, 1]));
        let fm = Flow::new(m.clone())
            .output(PortNo(3))
            .priority(7)
            .idle_timeout(10)
            .hard_timeout(30)
            .cookie(9)
            .table(2)
            .notify_removed()
            .into_flow_mod();
        assert_eq!(fm.command, FlowModCommand::Add);
        assert_eq!(fm.match_, m);
        assert_eq!((fm.priority, fm.idle_timeout, fm.hard_timeout), (7, 10, 30));
        assert_eq!((fm.cookie, fm.table_id, fm.flags), (9, 2, 1));
        assert_eq!(fm.buffer_id, NO_BUFFER);
        assert_eq!(
            fm.instructions,
            vec![Instruction::ApplyActions(vec![Action::output(PortNo(3))])]
        );
        let drop = Flow::new(Match::new()).into_flow_mod();
        assert!(drop.instructions.is_empty(), "no actions: drop");
        assert_eq!(drop.flags, 0);
    }

    #[test]
    fn scratch_packet_outs_come_back_empty() {
        let mut s = Scratch::default();
        let p = s.packet_out();
        p.actions.push(Action::output(PortNo(1)));
        p.data.extend_from_slice(&[1, 2, 3]);
        let p = s.packet_out();
        assert!(p.actions.is_empty() && p.data.is_empty());
        s.packet_out = Message::BarrierRequest;
        assert!(s.packet_out().data.is_empty());
    }
}
