//! Events: what handlers are called with.
//!
//! Two sources, one type. OpenFlow events come from switches (join and leave, port
//! status, packet-in, flow removed, statistics, barrier and error replies) and borrow
//! the received bytes where they can: a packet-in is a [`PacketInView`] over the message
//! as read, so dispatching one copies nothing. App events ([`AppEvent`]: hosts, links, names, scans)
//! are posted by apps through [`Ctx::post`](crate::app::Ctx::post) and dispatched after
//! the event being handled, in the order posted, to whoever registered for their kind.

use std::net::Ipv4Addr;

use flowlab_openflow::model::multipart::MultipartReplyBody;
use flowlab_openflow::model::{ErrorMsg, FlowRemoved, Port, PortNo};

use crate::packet_in::PacketInView;
use crate::view::DatapathId;

/// The kinds of events, which handlers register for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A switch completed its handshake (its `FEATURES_REPLY` arrived).
    SwitchJoin,
    /// A joined switch's connection is gone.
    SwitchLeave,
    /// A port was added, removed or changed.
    PortStatus,
    /// A packet-in.
    PacketIn,
    /// A flow entry was removed (timeout or delete) on a switch.
    FlowRemoved,
    /// A reply to a statistics (multipart) request.
    StatsReply,
    /// A barrier reply.
    BarrierReply,
    /// An `OFPT_ERROR` from a switch.
    Error,
    /// A host was seen for the first time (posted by an app).
    HostJoin,
    /// A host was seen at another place (posted by an app).
    HostMove,
    /// A host is gone (posted by an app).
    HostLeave,
    /// A link between two switch ports was found (posted by an app).
    LinkUp,
    /// A link is gone (posted by an app).
    LinkDown,
    /// A host's IPv4 address was learned or changed (posted by an app).
    HostAddress,
    /// A name was bound to an address (posted by an app).
    NameBound,
    /// A host contacted too many unknown destinations (posted by an app).
    ScanSuspected,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 16] = [
        EventKind::SwitchJoin,
        EventKind::SwitchLeave,
        EventKind::PortStatus,
        EventKind::PacketIn,
        EventKind::FlowRemoved,
        EventKind::StatsReply,
        EventKind::BarrierReply,
        EventKind::Error,
        EventKind::HostJoin,
        EventKind::HostMove,
        EventKind::HostLeave,
        EventKind::LinkUp,
        EventKind::LinkDown,
        EventKind::HostAddress,
        EventKind::NameBound,
        EventKind::ScanSuspected,
    ];

    /// The number of kinds.
    pub const COUNT: usize = EventKind::ALL.len();

    /// The position in [`EventKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A switch joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchJoin {
    /// The switch.
    pub dpid: DatapathId,
    /// The negotiated wire version.
    pub version: u8,
}

/// A switch left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchLeave {
    /// The switch.
    pub dpid: DatapathId,
}

/// Why a port status event was sent (`OFPPR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortReason {
    /// The port was added (also for ports first learned from a `PORT_DESC` reply).
    Add,
    /// The port was removed.
    Delete,
    /// Some attribute of the port changed.
    Modify,
    /// Another number.
    Unknown(u8),
}

impl PortReason {
    /// From the wire number.
    pub fn from_u8(v: u8) -> PortReason {
        match v {
            0 => PortReason::Add,
            1 => PortReason::Delete,
            2 => PortReason::Modify,
            other => PortReason::Unknown(other),
        }
    }
}

/// A port status event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortStatusEvent<'a> {
    /// The switch.
    pub dpid: DatapathId,
    /// What happened.
    pub reason: PortReason,
    /// The port (as it was, for a delete).
    pub port: &'a Port,
}

/// A packet-in event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketInEvent<'a> {
    /// The switch.
    pub dpid: DatapathId,
    /// The message, read in place.
    pub packet: PacketInView<'a>,
}

impl<'a> PacketInEvent<'a> {
    /// The input port.
    pub fn in_port(&self) -> PortNo {
        self.packet.in_port()
    }

    /// The frame (or its first bytes).
    pub fn data(&self) -> &'a [u8] {
        self.packet.data()
    }
}

/// A flow removed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowRemovedEvent<'a> {
    /// The switch.
    pub dpid: DatapathId,
    /// The message.
    pub removed: &'a FlowRemoved,
}

/// One message of a statistics reply (a long reply comes as several, `more` set on all
/// but the last; they are not reassembled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsReplyEvent<'a> {
    /// The switch.
    pub dpid: DatapathId,
    /// The request's transaction id.
    pub xid: u32,
    /// More messages of this reply follow.
    pub more: bool,
    /// The reply.
    pub body: &'a MultipartReplyBody,
}

/// A barrier reply: everything sent to the switch before the barrier request has been
/// carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierReplyEvent {
    /// The switch.
    pub dpid: DatapathId,
    /// The request's transaction id.
    pub xid: u32,
}

/// An error from a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorEvent<'a> {
    /// The switch.
    pub dpid: DatapathId,
    /// The transaction id of the message that failed.
    pub xid: u32,
    /// The error (its data is usually the failed message's first bytes).
    pub error: &'a ErrorMsg,
}

/// Where a host is attached: a switch port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The switch.
    pub dpid: DatapathId,
    /// The port.
    pub port: PortNo,
}

/// A host as apps post it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Host {
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its IPv4 address, if known.
    pub ipv4: Option<Ipv4Addr>,
    /// Where it is attached.
    pub location: Location,
}

/// A unidirectional link between two switch ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    /// The sending end.
    pub src: Location,
    /// The receiving end.
    pub dst: Location,
}

/// Events apps post for other apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppEvent {
    /// A host was seen for the first time.
    HostJoin(Host),
    /// A host was seen at a new location.
    HostMove {
        /// The host, at its new location.
        host: Host,
        /// Where it was.
        from: Location,
    },
    /// A host is gone.
    HostLeave(Host),
    /// A link was found.
    LinkUp(Link),
    /// A link is gone.
    LinkDown(Link),
    /// A host's IPv4 address was learned or changed.
    HostAddress(Host),
    /// A name (lower-case, no trailing dot) was bound to an address.
    NameBound {
        /// The name.
        name: String,
        /// The address.
        ipv4: Ipv4Addr,
    },
    /// A host contacted more distinct unknown destinations than allowed.
    ScanSuspected {
        /// The host's MAC address.
        mac: [u8; 6],
        /// Its IPv4 address.
        ipv4: Ipv4Addr,
        /// The distinct unknown destinations it contacted within the window.
        destinations: u32,
    },
}

impl AppEvent {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            AppEvent::HostJoin(_) => EventKind::HostJoin,
            AppEvent::HostMove { .. } => EventKind::HostMove,
            AppEvent::HostLeave(_) => EventKind::HostLeave,
            AppEvent::LinkUp(_) => EventKind::LinkUp,
            AppEvent::LinkDown(_) => EventKind::LinkDown,
            AppEvent::HostAddress(_) => EventKind::HostAddress,
            AppEvent::NameBound { .. } => EventKind::NameBound,
            AppEvent::ScanSuspected { .. } => EventKind::ScanSuspected,
        }
    }
}

/// One event, as handlers get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A switch joined.
    SwitchJoin(SwitchJoin),
    /// A switch left.
    SwitchLeave(SwitchLeave),
    /// A port changed.
    PortStatus(PortStatusEvent<'a>),
    /// A packet-in.
    PacketIn(PacketInEvent<'a>),
    /// A flow was removed.
    FlowRemoved(FlowRemovedEvent<'a>),
    /// A statistics reply.
    StatsReply(StatsReplyEvent<'a>),
    /// A barrier reply.
    BarrierReply(BarrierReplyEvent),
    /// An error from a switch.
    Error(ErrorEvent<'a>),
    /// An event posted by an app.
    App(&'a AppEvent),
}

impl Event<'_> {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::SwitchJoin(_) => EventKind::SwitchJoin,
            Event::SwitchLeave(_) => EventKind::SwitchLeave,
            Event::PortStatus(_) => EventKind::PortStatus,
            Event::PacketIn(_) => EventKind::PacketIn,
            Event::FlowRemoved(_) => EventKind::FlowRemoved,
            Event::StatsReply(_) => EventKind::StatsReply,
            Event::BarrierReply(_) => EventKind::BarrierReply,
            Event::Error(_) => EventKind::Error,
            Event::App(e) => e.kind(),
        }
    }

    /// The switch an OpenFlow event is about (None for app events).
    pub fn dpid(&self) -> Option<DatapathId> {
        match self {
            Event::SwitchJoin(e) => Some(e.dpid),
            Event::SwitchLeave(e) => Some(e.dpid),
            Event::PortStatus(e) => Some(e.dpid),
            Event::PacketIn(e) => Some(e.dpid),
            Event::FlowRemoved(e) => Some(e.dpid),
            Event::StatsReply(e) => Some(e.dpid),
            Event::BarrierReply(e) => Some(e.dpid),
            Event::Error(e) => Some(e.dpid),
            Event::App(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_index_their_position() {
        for (i, k) in EventKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        let link = Link {
            src: Location {
                dpid: DatapathId(1),
                port: PortNo(1),
            },
            dst: Location {
                dpid: DatapathId(2),
                port: PortNo(3),
            },
        };
        let e = AppEvent::LinkDown(link);
        assert_eq!(Event::App(&e).kind(), EventKind::LinkDown);
        assert_eq!(Event::App(&e).dpid(), None);
        assert_eq!(PortReason::from_u8(2), PortReason::Modify);
        assert_eq!(PortReason::from_u8(9), PortReason::Unknown(9));
    }
}
